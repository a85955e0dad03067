"""The department workspace's grids (科室工作台): targets, costs, wards, medical groups and
discipline as dash-ag-grid tables on a desk (components/grid.py: sorting, filtering, pinned
header and first column, numbers in the reader's language), with the same records as cards on a
phone (CSS shows one or the other at 900 px). Pure: frames and the language in, components out.

A column holds one unit where it can (wards, groups, costs: numbers that sort as numbers). The
targets and discipline tables hold one indicator a row, each in its own unit: their value cells
are the page's formatted text, and the targets grid adds the relative deviation as a number so
the gaps sort across units."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag
import pandas as pd
from dash import html

from data_layer.registry import INDICATORS

from .department import STATUS_ICON, TARGET_COLUMNS, status_span, target_cells, why_button
from .format import format_indicator
from .grid import Column, data_grid
from .i18n import t
from .palette import STATUS_VERDICT, grid_class, judge_change, out_of_range_note, trend_class
from .widths import fit_width, wrap_headers

# a registry unit -> the grid's kind of number (the kind's decimals match format_indicator)
UNIT_KIND = {"count": "integer", "cases": "integer", "visits": "integer", "bed_days": "integer", "yuan": "money",
             "ratio": "percent", "days": "days", "times": "days", "index": "ratio", "yuan_per_m2": "integer",
             "per_fte": "integer", "fte": "days"}
WARN = "⚠"


def unit_column(code: str, lang: str) -> Column:
    ind = INDICATORS[code]
    kind = UNIT_KIND.get(ind.unit, "ratio")
    return Column(code, ind.name(lang), kind, decimals=3 if ind.unit == "index" else None,
                  compact=kind == "money")


def _flag(grid: dag.AgGrid, col_id: str, flag: str, css: str, suffix: str = "") -> None:
    """Colour the cells of `col_id` whose row carries `flag` (a hidden field) with `css`, and add
    `suffix` to the shown value (the formatter's text, so the cell still sorts as a number)."""
    for spec in grid.columnDefs:
        if spec["field"] != col_id:
            continue
        rules = dict(spec.get("cellClassRules", {}))
        rules[css] = f"params.data && params.data['{flag}']"
        spec["cellClassRules"] = rules
        if suffix:
            fn = spec["valueFormatter"]["function"]
            spec["valueFormatter"] = {"function": f"({fn}) + (params.data && params.data['{flag}'] ? '{suffix}' : '')"}


def with_cards(grid: Any, cards: html.Div) -> html.Div:
    """The grid on a desk, the cards on a phone."""
    return html.Div([html.Div(grid, className="dw-wide dw-grid"), cards])


def record_cards(names: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]], cards_id: str,
                 classes: Sequence[Sequence[str]] | None = None) -> html.Div:
    """Records as cards for a phone: a title, then label/value pairs."""
    classes = classes or [[""] * len(columns) for _ in rows]
    return html.Div([html.Div([html.Div(n, className="dw-card-title"),
                               html.Dl([part for col, v, c in zip(columns, r, cl, strict=True)
                                        for part in (html.Dt(col), html.Dd(v, className=c or None))],
                                       className="dw-card-fields")], className="dw-card")
                     for n, r, cl in zip(names, rows, classes, strict=True)], className="dw-cards", id=cards_id)


# ------------------------------------------------------------------------------ targets
def targets_grid(df: pd.DataFrame, lang: str) -> html.Div:
    """The targets: a grid on a desk (a click on a row opens its chart and causes below), cards
    on a phone (each with its Why?)."""
    rows = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        cells = target_cells(r, lang)
        rows.append({"indicator": r.indicator, "name": ind.name(lang),
                     "basis": t(f"dw.basis.{r.basis}", lang, share=f"{r.elapsed:.0%}"), **cells,
                     "deviation_rel": r.deviation_rel if r.basis != "level" or ind.unit != "ratio" else None,
                     "status": f"{STATUS_ICON[r.status]} {t(f'dw.status.{r.status}', lang)}",
                     "verdict": STATUS_VERDICT[r.status], "why": t("dw.why", lang)})
    frame = pd.DataFrame(rows)
    # the indicator's name as wide as the longest needs (up to 230 px: a longer one reads whole on hover), and
    # the headers wrap between words (wrap_headers): so that every column, the Why? included, fits a desk screen
    # in English too
    cols = [Column("name", t("dw.t.indicator", lang), pinned=True,
                   width=fit_width(frame["name"] if len(frame) else [], t("dw.t.indicator", lang), 230)),
            Column("basis", t("dw.x.basis", lang), width=150),
            *(Column(k, t(f"dw.t.{k}", lang), width=118) for k in TARGET_COLUMNS if k != "deviation"),
            Column("deviation", t("dw.t.deviation", lang), width=150),
            Column("deviation_rel", t("dw.x.deviation_rel", lang), "change"),
            Column("status", t("dw.t.status", lang), width=110),
            Column("why", "", width=80)]
    order = ["name", "basis", "target", "actual", "expected", "deviation", "deviation_rel", "projection", "status", "why"]
    cols = sorted(cols, key=lambda c: order.index(c.id))
    grid = wrap_headers(data_grid(frame, cols, lang, "dw-targets-table", row_id="indicator", hidden=("verdict",),
                                  row_classes={f"dw-row-{v}": f"params.data.verdict === '{v}'"
                                               for v in ("bad", "warn", "good")}))
    for spec in grid.columnDefs:
        if spec["field"] in ("target", "actual", "expected", "deviation", "projection"):
            spec["cellClass"] = "hd-num"
        if spec["field"] in ("name", "basis", "deviation"):  # fixed widths, so that the status stays in view:
            spec["tooltipField"] = spec["field"]  # a long English name or pacing reads whole on hover
        if spec["field"] == "status":
            spec["cellClassRules"] = {f"status-{s}": f"params.data.verdict === '{STATUS_VERDICT[s]}'"
                                      for s in STATUS_ICON}
        if spec["field"] == "why":
            spec.update(sortable=False, filter=False, cellClass="dw-why-cell", headerTooltip=t("dw.why_title", lang))
    cards = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        cells = target_cells(r, lang)
        cards.append(html.Div([
            html.Div([html.Span(ind.name(lang), className="dw-card-title"), status_span(r.status, lang)],
                     className="dw-card-head"),
            html.Small(t(f"dw.basis.{r.basis}", lang, share=f"{r.elapsed:.0%}"), className="text-muted d-block"),
            html.Dl([part for k in TARGET_COLUMNS for part in (html.Dt(t(f"dw.t.{k}", lang)), html.Dd(cells[k]))],
                    className="dw-card-fields"),
            why_button(f"c-{r.indicator}", lang),
        ], className=f"dw-card dw-card-{STATUS_VERDICT[r.status]}"))
    return with_cards(grid, html.Div(cards, className="dw-cards", id="dw-targets-cards"))


# ------------------------------------------------------------------------------ wards and groups
def indicator_grid(df: pd.DataFrame, codes: tuple[str, ...], key: str, label: str, lang: str, grid_id: str) -> html.Div:
    """Wards or medical groups, one indicator a column; a value outside its indicator's healthy
    range carries ⚠ in the warning colour (its range in words on the phone's card)."""
    name = "name_zh" if lang == "zh" else "name_en"
    frame = df.assign(name=df[name])
    flags = []
    for c in codes:
        warn = [bool(out_of_range_note(INDICATORS[c], v, lang)) for v in frame[c]]
        frame[f"{c}__warn"] = warn
        flags.append(f"{c}__warn")
    grid = data_grid(frame, [Column("name", label, pinned=True), *(unit_column(c, lang) for c in codes)],
                     lang, grid_id, row_id=key, hidden=tuple(flags))
    for c in codes:
        _flag(grid, c, f"{c}__warn", grid_class("warn"), f" {WARN}")
    rows, classes = [], []
    for _, r in frame.iterrows():
        rows.append([format_indicator(r[c], INDICATORS[c].unit, lang) + (f" {WARN}" if r[f"{c}__warn"] else "")
                     for c in codes])
        classes.append([trend_class("warn") if r[f"{c}__warn"] else "" for c in codes])
    cards = record_cards(list(frame["name"]), [INDICATORS[c].name(lang) for c in codes], rows, f"{grid_id}-cards",
                         classes)
    return with_cards(grid, cards)


# ------------------------------------------------------------------------------ costs
def costs_grid(df: pd.DataFrame, lang: str) -> html.Div:
    """Cost by category (rows) and tier (columns, already named), with a total row pinned under."""
    label = t("dw.category", lang)
    frame = df.reset_index(names="category")
    money = [c for c in df.columns]
    ids = {c: f"c{i}" for i, c in enumerate(money)}
    frame = frame.rename(columns=ids)
    cols = [Column("category", label, pinned=True, width=130),
            *(Column(ids[c], c, "money", compact=True) for c in money)]
    total = {"category": t("dw.stage.total", lang), **{ids[c]: float(df[c].sum()) for c in money}}
    grid = data_grid(frame, cols, lang, "dw-costs-table", row_id="category", total=total)
    names = [*df.index, total["category"]]
    rows = [[format_indicator(v, "yuan", lang) for v in r] for _, r in df.iterrows()]
    rows.append([format_indicator(v, "yuan", lang) for v in df.sum()])
    return with_cards(grid, record_cards(names, money, rows, "dw-costs-table-cards"))


# ------------------------------------------------------------------------------ discipline
def discipline_grid(df: pd.DataFrame, lang: str) -> html.Div:
    """The department's discipline indicators against the hospital and last year: ▲/▼ and the
    verdict's colour where the department is better or worse than the hospital, judged at the
    precision the value is shown with."""
    rows = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        step = {"ratio": (100.0, 1), "index": (1.0, 3)}.get(ind.unit, (1.0, 2))
        verdict = judge_change(ind, r.value - r.hospital, r.value, scale=step[0], decimals=step[1])
        arrow = "" if verdict == "neutral" else (" ▲" if r.value > r.hospital else " ▼")  # above/below the hospital
        rows.append({"indicator": r.indicator, "name": ind.name(lang),
                     "value": format_indicator(r.value, ind.unit, lang) + arrow,
                     "hospital": format_indicator(r.hospital, ind.unit, lang),
                     "year_ago": format_indicator(r.year_ago, ind.unit, lang), "verdict": verdict})
    frame = pd.DataFrame(rows)
    heads = {"value": t("dw.this", lang), "hospital": t("dw.hospital", lang), "year_ago": t("dw.last_year", lang)}
    grid = data_grid(frame, [Column("name", t("dw.t.indicator", lang), pinned=True),
                             *(Column(k, h) for k, h in heads.items())], lang, "dw-discipline-table",
                     row_id="indicator", hidden=("verdict",))
    for spec in grid.columnDefs:
        if spec["field"] in heads:
            spec["cellClass"] = "hd-num"
        if spec["field"] == "value":
            spec["cellClassRules"] = {f"hd-{v}": f"params.data.verdict === '{v}'" for v in ("good", "bad")}
    cards = record_cards(list(frame["name"]), list(heads.values()),
                         [[r[k] for k in heads] for r in rows], "dw-discipline-table-cards",
                         [[trend_class(r["verdict"]), "", ""] for r in rows])
    return with_cards(grid, cards)
