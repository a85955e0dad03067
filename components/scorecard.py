"""The national appraisal scorecard (国考) as the leadership wall, the workspace and the department
page show it: figures in their registry unit, the status against the benchmark in the palette's
good and bad colours (never the colour alone: a word goes with it), a 24-month sparkline drawn in
plain HTML (one bar per month, scaled by rem like every wall), the departments that pull a figure
down, and the indicators the warehouse cannot give grouped by their reason. Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import html

from data_layer.registry import INDICATORS

from .format import MINUS, format_indicator, format_money
from .grid import Column, data_grid
from .i18n import t
from .palette import benchmark_class, benchmark_verdict, grid_class

GRID_ID = {"type": "ap-grid", "index": "desk"}  # a pattern id: its callback listens before the grid is drawn
STATUS_MARK = {"better": "▲", "level": "●", "worse": "▼", "none": ""}  # the marks go with the words


def value_text(value: Any, code: str | None, lang: str, *, wall: bool = False) -> str:
    """A scorecard figure in its registry unit; a growth signed; a small rate (mortality) to two
    decimals of a per cent, so 0.25% and 0.03% do not both read 0.3% and 0.0%."""
    if code is None or value is None or value != value:
        return "—"
    ind = INDICATORS[code]
    v = float(value)
    if ind.growth_of is not None:
        return f"{v * 100:+.1f}%".replace("-", MINUS)
    if ind.unit == "ratio" and abs(v) < 0.05:
        return f"{v * 100:.2f}%"
    if ind.unit == "yuan":
        return format_money(v, lang, unit=True) if wall else format_indicator(v, ind.unit, lang, wall_money=True)
    if ind.unit == "index":
        return f"{v:.2f}"
    return format_indicator(v, ind.unit, lang)


def direction_mark(higher_is_better: Any) -> str:
    if higher_is_better is None or higher_is_better != higher_is_better:
        return "↕"
    return "↑" if higher_is_better else "↓"


def direction_text(higher_is_better: Any, lang: str) -> str:
    key = "none" if higher_is_better is None or higher_is_better != higher_is_better else \
        ("up" if higher_is_better else "down")
    return t(f"ap.direction.{key}", lang)


def status_chip(status: str, lang: str) -> html.Span:
    """Better / level / worse against the benchmark: a mark, a word and the palette's colour."""
    status = status if status in STATUS_MARK else "none"
    text = f"{STATUS_MARK[status]} {t(f'ap.status.{status}', lang)}".strip()
    return html.Span(text, className=f"ap-status ap-status-{status} {benchmark_class(status)}")


def sparkline(values: Sequence[float], status: str, reference: float | None = None) -> html.Div:
    """One bar per month (empty where there is no figure), the latest in the status colour; a thin
    line marks the reference value when it lies within the bars' range."""
    vals = np.asarray(list(values), dtype=float)
    known = vals[~np.isnan(vals)]
    if known.size == 0:
        return html.Div("—", className="ap-spark ap-spark-empty")
    lo, hi = float(known.min()), float(known.max())
    ref = reference if reference is not None and reference == reference else None
    span = hi - lo or max(abs(hi), 1e-9)
    base = lo - 0.25 * span  # the shortest bar keeps a quarter of the height: a change reads as a change
    top = hi + 0.05 * span

    def height(v: float) -> float:
        return max(4.0, min(100.0, (v - base) / (top - base) * 100))

    last = int(np.flatnonzero(~np.isnan(vals))[-1])
    bars = [html.I(className="ap-bar ap-bar-none") if v != v else
            html.I(className=f"ap-bar{' ap-bar-last ' + benchmark_class(status) if i == last else ''}",
                   style={"height": f"{height(v):.0f}%"}) for i, v in enumerate(vals)]
    if ref is not None and base <= ref <= top:
        bars.append(html.B(className="ap-spark-ref", style={"bottom": f"{height(ref):.0f}%"}))
    return html.Div(bars, className="ap-spark")


def drag_names(df: pd.DataFrame | None, lang: str, n: int = 2) -> str:
    """The departments pulling the figure down most, by name."""
    if df is None or df.empty:
        return "—"
    col = "name_zh" if lang == "zh" else "name_en"
    return ("、" if lang == "zh" else ", ").join(str(x) for x in df[col].head(n))


def _median_cell(row: Any, kind: str, lang: str) -> html.Td:
    return html.Td(value_text(row[kind], row["code"], lang, wall=True), className="num ap-ref")


def wall_group(group: str, rows: pd.DataFrame, trends: Mapping[str, Sequence[float]],
               drags: Mapping[str, pd.DataFrame], lang: str) -> html.Table:
    """One appraisal group on the wall: per indicator this year, last year, the national and the
    provincial medians, the status, the 24-month trend and who pulls it down."""
    head = html.Thead(html.Tr([html.Th(t("ap.col.name", lang), className="row-label"),
                               *[html.Th(t(f"ap.col.{c}", lang)) for c in ("ytd", "last_year", "national", "provincial")],
                               html.Th(t("ap.col.status", lang)), html.Th(t("ap.col.trend", lang)),
                               html.Th(t("ap.col.drags", lang), className="row-label")]))
    body = []
    for r in rows.itertuples(index=False):
        row = r._asdict()
        code, status = row["code"], row["status"]
        name = html.Td([html.Span(row["name_zh" if lang == "zh" else "name_en"], className="ap-name"),
                        html.Span("\u00a0" + direction_mark(row["higher_is_better"]), className="ap-dir",
                                  title=direction_text(row["higher_is_better"], lang))], className="row-label ap-name-cell")
        body.append(html.Tr([
            name,
            html.Td(value_text(row["ytd"], code, lang, wall=True), className=f"num ap-ytd {benchmark_class(status)}"),
            html.Td(value_text(row["last_year"], code, lang, wall=True), className="num ap-last"),
            _median_cell(row, "national_median", lang), _median_cell(row, "provincial_median", lang),
            html.Td(status_chip(status, lang)),
            html.Td(sparkline(trends.get(code, ()), status, row["national_median"]), className="ap-trend"),
            html.Td(html.Span(drag_names(drags.get(code), lang), className="ap-drags-text"), className="ap-drags row-label",
                    title=drag_names(drags.get(code), lang, 5)),
        ], id={"type": "ap-row", "index": code}))
    return html.Table([head, html.Tbody(body)], className="wall-table ap-table", **{"data-group": group})


def cannot_give(card: pd.DataFrame, lang: str, *, wall: bool = False) -> html.Div | None:
    """The indicators the warehouse cannot give, grouped by their reason: the reason in a few words
    (its whole text in the hover), then the indicators' names."""
    gone = card[~card["available"].astype(bool)]
    if gone.empty:
        return None
    col = "name_zh" if lang == "zh" else "name_en"
    sep = "、" if lang == "zh" else ", "
    parts = []
    for reason, rows in gone.groupby("reason", sort=False):
        full = rows["reason_zh" if lang == "zh" else "reason_en"].iloc[0]
        parts.append(html.Span([html.B(t(f"ap.reason.{reason}", lang), title=full, className="ap-reason"),
                                " ", sep.join(rows[col])], className="ap-cannot-item", title=full))
    return html.Div([html.Span(t("ap.cannot", lang, n=len(gone)), className="ap-cannot-title"), *parts],
                    className="ap-cannot" + (" on-wall" if wall else ""), id="ap-cannot")


# ---- the desk -----------------------------------------------------------------------------------
DESK_COLS = ("group_name", "name", "ytd_text", "last_text", "national_text", "provincial_text", "direction",
             "status_text", "drags", "source")


def desk_frame(card: pd.DataFrame, drags: Mapping[str, pd.DataFrame], lang: str) -> pd.DataFrame:
    """The scorecard's indicators the warehouse gives, as the workspace's grid shows them."""
    zh = lang == "zh"
    df = card[card["available"].astype(bool)].copy()
    df["group_name"] = df["group_zh" if zh else "group_en"]
    df["name"] = df["name_zh" if zh else "name_en"]
    for col, src in (("ytd_text", "ytd"), ("last_text", "last_year"), ("national_text", "national_median"),
                     ("provincial_text", "provincial_median")):
        df[col] = [value_text(v, c, lang) for v, c in zip(df[src], df["code"], strict=True)]
    df["direction"] = [f"{direction_mark(h)} {direction_text(h, lang)}" for h in df["higher_is_better"]]
    df["status_text"] = [f"{STATUS_MARK.get(s, '')} {t(f'ap.status.{s}', lang)}".strip() for s in df["status"]]
    df["verdict"] = [benchmark_verdict(s) for s in df["status"]]
    df["drags"] = [drag_names(drags.get(c), lang, 3) for c in df["code"]]
    return df.reset_index(drop=True)


def desk_grid(df: pd.DataFrame, lang: str) -> dag.AgGrid:
    """Every indicator in a row; a click on a cell drills to its departments (the last year's cell:
    for last year)."""
    cols = [Column("group_name", t("ap.col.group", lang)), Column("name", t("ap.col.name", lang), pinned=True),
            *[Column(c, t(f"ap.col.{k}", lang)) for c, k in (("ytd_text", "ytd"), ("last_text", "last_year"),
                                                             ("national_text", "national"),
                                                             ("provincial_text", "provincial"))],
            Column("direction", t("ap.col.direction", lang)), Column("status_text", t("ap.col.status", lang)),
            Column("drags", t("ap.col.drags", lang)), Column("source", t("ap.col.source", lang))]
    grid = data_grid(df, cols, lang, GRID_ID, row_id="code", hidden=("verdict",), visible_rows=24,
                     class_name="ap-grid")
    rules = {grid_class(v): f"params.data && params.data.verdict === '{v}'" for v in ("good", "bad")}
    for spec in grid.columnDefs:
        if spec["field"] in ("ytd_text", "status_text"):
            spec["cellClassRules"] = rules
        if spec["field"] == "source":
            spec["tooltipField"] = "source"
    return grid


def compact_table(card: pd.DataFrame, lang: str) -> html.Div:
    """The department page's short form: each indicator its warehouse gives, this year against the
    national median, with the status."""
    df = card[card["available"].astype(bool) & card["ytd"].notna()]
    rows = [html.Tr([html.Td(r["name_zh" if lang == "zh" else "name_en"]),
                     html.Td(value_text(r["ytd"], r["code"], lang), className=f"num {benchmark_class(r['status'])}"),
                     html.Td(value_text(r["national_median"], r["code"], lang), className="num"),
                     html.Td(status_chip(r["status"], lang))]) for _, r in df.iterrows()]
    head = html.Thead(html.Tr([html.Th(t("ap.col.name", lang)), html.Th(t("ap.col.ytd", lang), className="num"),
                               html.Th(t("ap.col.national", lang), className="num"),
                               html.Th(t("ap.col.status", lang))]))
    return html.Div(html.Table([head, html.Tbody(rows)], className="table table-sm ap-compact"),
                    className="ap-compact-wrap")
