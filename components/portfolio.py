"""The workspace portfolio's grid (所辖科室): one row per department, one column per key indicator.

Each indicator cell keeps its raw value (the column sorts and filters by it) and shows, through the
cell renderer in assets/ws-portfolio.js, the value with its score arrows, the change on last year
and on the previous period, the target status and the healthy-range mark; its background is the
score's colour (pf-s2 … pf-s-2) and a dashed frame marks a value outside the healthy range, as the
table before it did. A click on a row opens the department's page; a click in the revenue column
opens its revenue drill-down. Pure: frames in, components out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from dash import html

from components.format import format_change, format_indicator, format_points
from components.grid import SCROLLBAR, Column, data_grid
from components.i18n import t
from components.palette import WARN_ICON, out_of_range_mark, out_of_range_note
from data_layer.registry import INDICATORS

GRID_ID = "po-grid"
SCORE_ICON = {2: "▲▲", 1: "▲", 0: "", -1: "▼", -2: "▼▼"}
SCORES = (2, 1, -1, -2)
ROW_HEIGHT = 92  # value, YoY, MoM, and the target or range line
VISIBLE_ROWS = 8
CELL_WIDTH = 132  # "同比 -2.9个百分点" whole
HEADER_ROOM = 56  # a header of two wrapped lines
REVENUE_COLUMN = "revenue"  # the column whose click opens the revenue drill-down
LEVELS_SHOWN = ("red", "orange", "yellow")


def legend(lang: str) -> html.Div:
    """The colours and marks of the grid's cells."""
    return html.Div([html.Span(t("ws.pf.legend", lang), className="me-2")] + [
        html.Span(f"{SCORE_ICON[s]} {t(f'ws.pf.score.{s}', lang)}".strip(), className=f"pf-cell pf-s{s} pf-key")
        for s in (2, 1, 0, -1, -2)] + [
        html.Span(f"{WARN_ICON} {t('ws.pf.out_of_range', lang)}", className="pf-cell pf-s0 pf-key pf-warn")],
        className="pf-legend")


def _change(value: float, diff: float, unit: str, lang: str) -> str:
    if value != value and diff != diff:
        return "—"
    return format_points(diff, lang) if unit == "ratio" else format_change(value)


def _cell(r: Mapping[str, Any], code: str, lang: str) -> tuple[dict[str, str], int, str]:
    """What an indicator cell shows, its score, and its tooltip."""
    ind = INDICATORS[code]
    score = int(r["score"])
    warn = out_of_range_note(ind, r["value"], lang)
    status = t(f"dw.status.{r['status']}", lang) if r["basis"] == "target" else ""
    shown = {"v": format_indicator(r["value"], ind.unit, lang), "i": SCORE_ICON[score],
             "y": f"{t('home.yoy', lang)} {_change(r['yoy'], r['yoy_diff'], ind.unit, lang)}",
             "m": f"{t('dw.mom', lang)} {_change(r['mom'], r['mom_diff'], ind.unit, lang)}",
             "b": f"{t('ws.pf.target', lang)} {status}" if status else "",
             "r": out_of_range_mark(ind, r["value"], lang) if warn else ""}
    return shown, score, " · ".join(x for x in (t(f"ws.pf.score.{score}", lang), warn) if x)


def portfolio_rows(df: pd.DataFrame, codes: list[str], alerts: dict[str, dict[str, int]],
                   lang: str) -> tuple[pd.DataFrame, list[str]]:
    """One row per department (in the frame's order) and the indicator codes shown (those of `codes`
    the frame has), from the data layer's portfolio frame (one row per department and indicator) and
    the open alerts by level."""
    name = "name_zh" if lang == "zh" else "name_en"
    order = [c for c in codes if c in set(df["indicator"])]
    by: dict[tuple[str, str], dict[str, Any]] = {}  # (department, indicator) -> its row
    first: dict[str, dict[str, Any]] = {}  # department -> its first row (its name)
    for r in df.to_dict("records"):
        by.setdefault((r["dept_id"], r["indicator"]), r)
        first.setdefault(r["dept_id"], r)
    rows = []
    for d, head in first.items():
        counts = alerts.get(d, {})
        row: dict[str, Any] = {"dept_id": d, "name": head[name], REVENUE_COLUMN: t("ws.tab.revenue", lang),
                               "alerts": sum(int(counts.get(lv, 0)) for lv in LEVELS_SHOWN),
                               "alerts__cell": [{"lv": lv, "text": f"{t(f'level.{lv}', lang)} {int(counts[lv])}"}
                                                for lv in LEVELS_SHOWN if counts.get(lv)]}
        for c in order:
            if (d, c) in by:
                shown, score, title = _cell(by[(d, c)], c, lang)
                row |= {c: float(by[(d, c)]["value"]), f"{c}__cell": shown, f"{c}__score": score,
                        f"{c}__title": title}
            else:
                row |= {c: None, f"{c}__cell": {"v": "—"}, f"{c}__score": 0, f"{c}__title": ""}
        rows.append(row)
    return pd.DataFrame(rows), order


def portfolio_grid(df: pd.DataFrame, codes: list[str], alerts: dict[str, dict[str, int]], lang: str) -> Any:
    """The portfolio as a grid: department pinned on the left, its open alerts beside it (in view
    however far the indicators scroll on a narrower screen), the link to the revenue drill-down, and an
    indicator per column (in the order of `codes`); sortable, filterable."""
    rows, codes = portfolio_rows(df, codes, alerts, lang)
    columns = [Column("name", t("ws.pf.department", lang), pinned=True, width=150),
               Column("alerts", t("ws.pf.alerts", lang), "integer", width=130, pinned=True),
               Column(REVENUE_COLUMN, t("ws.tab.revenue", lang), width=110),
               *[Column(c, INDICATORS[c].name(lang), "ratio", width=CELL_WIDTH) for c in codes]]
    hidden = tuple(f"{c}__{part}" for c in codes for part in ("cell", "score", "title")) + ("alerts__cell",)
    grid = data_grid(rows, columns, lang, GRID_ID, row_id="dept_id", hidden=hidden, class_name="pf-grid")
    for spec in grid.columnDefs:
        field = spec["field"]
        spec["wrapHeaderText"] = spec["autoHeaderHeight"] = True
        if field in codes:
            spec.pop("valueFormatter", None)
            spec["minWidth"] = CELL_WIDTH
            spec["cellRenderer"] = "PfCell"
            spec["tooltipField"] = f"{field}__title"
            spec["cellClass"] = "pf-cell"
            spec["cellClassRules"] = {
                **{f"pf-s{s}": f"params.data && params.data['{field}__score'] === {s}" for s in SCORES},
                "pf-warn": f"params.data && !!params.data['{field}__cell'].r"}
        elif field == "alerts":
            spec.pop("valueFormatter", None)
            spec["cellRenderer"] = "PfAlerts"
            spec["cellRendererParams"] = {"none": t("ws.pf.no_alerts", lang)}
        elif field == "name":
            spec["cellClass"] = "pf-go"
        elif field == REVENUE_COLUMN:  # a link, the same words on every row
            spec |= {"cellClass": "pf-go pf-link", "minWidth": 96, "width": 110, "filter": False, "sortable": False}
    grid.dashGridOptions = {**grid.dashGridOptions, "rowHeight": ROW_HEIGHT}
    shown = max(min(len(rows), VISIBLE_ROWS), 2)
    grid.style = {**grid.style, "height": f"{HEADER_ROOM + shown * ROW_HEIGHT + SCROLLBAR + 2}px"}
    return grid
