"""The day-surgery view's parts (pages/day_surgery.py): the figure cards, the monthly share chart,
the department and group grids (components/grid.py), the candidates lists, and the frames the
page's exports write. The share is judged by the registry's day_surgery_share (higher is
better); a loss per case takes the bad colour. Pure: frames in, components out.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.format import format_money, format_points
from components.grid import VISIBLE_ROWS, Column, data_grid
from components.i18n import t
from components.palette import change_class, grid_class
from data_layer.periods import month_end
from data_layer.registry import INDICATORS

SHARE = INDICATORS["day_surgery_share"]
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
CANDIDATES_SHOWN = 10
DEPT_GRID_ID = {"type": "ds-grid", "index": "departments"}
GROUP_GRID_ID = {"type": "ds-grid", "index": "groups"}
TREND_HEIGHT = 300
NAME_WIDTH = 170  # px of the pinned department name, likewise
GROUP_WIDTH = 200  # px of the pinned group name: room for the figures beside it on a 390 px phone


def _count(v: Any, lang: str) -> str:
    return "—" if v is None or v != v else f"{float(v):,.0f}"


def _share(v: Any) -> str:
    return "—" if v is None or v != v else f"{float(v):.1%}"


def _days(v: Any, lang: str, decimals: int = 1) -> str:
    return "—" if v is None or v != v else t("ds.days", lang, value=f"{float(v):,.{decimals}f}")


def _money(v: Any, lang: str) -> str:
    return format_money(v, lang, unit=True)


def cards(now: dict[str, float], year_ago: dict[str, float] | None, lang: str) -> html.Div:
    """The period's figures: day cases, elective operations, share (against the same period last
    year, coloured by the one rule), bed-days freed, mean stay and margin per case of day against
    conventional elective cases, and the candidates with the bed-days they would free."""
    def card(key: str, value: Any, *notes: Any) -> html.Div:
        return html.Div([html.Div(t(f"ds.card.{key}", lang), className="stat-label"),
                         html.Div(value, className="stat-value"),
                         *[html.Div(n, className="stat-change ds-card-note") for n in notes if n]],
                        className="stat-card ds-card", id={"type": "ds-card", "index": key})

    before = (year_ago or {}).get("share", float("nan"))
    if before == before and now["share"] == now["share"]:
        diff = now["share"] - before
        last = html.Span([t("ds.card.last_year", lang, value=_share(before)), " (", format_points(diff, lang), ")"],
                         className=change_class(SHARE, diff))
    else:
        last = html.Span(t("ds.card.last_year_none", lang))
    def pair(day: str, conv: str) -> list[Any]:  # breaks between the two figures, never inside one
        return [html.Span(day, className="ds-nowrap"), " / ", html.Span(conv, className="ds-nowrap")]

    stay = pair(_days(now["day_alos"], lang, 2), _days(now["conv_alos"], lang))
    margin = pair(_money(now["day_margin_per_case"], lang), _money(now["conv_margin_per_case"], lang))
    return html.Div([
        card("day_cases", _count(now["day_cases"], lang)),
        card("elective", _count(now["elective"], lang)),
        card("share", _share(now["share"]), last),
        card("bed_days", _count(now["bed_days_freed"], lang), t("ds.card.bed_days_note", lang)),
        card("stay", stay, t("ds.card.conv_note", lang)),
        card("margin", margin),
        card("candidates", _count(now["candidates"], lang),
             t("ds.card.candidates_note", lang, days=_count(now["candidate_bed_days"], lang))),
    ], className="stat-grid ds-cards")


def trend_figure(trend: pd.DataFrame, start: date, end: date, lang: str) -> go.Figure:
    """The monthly share as a line, the period shown shaded; a month without an elective operation
    leaves a gap."""
    months = [f"{m:%Y-%m}" for m in trend["month_start"]]
    hover = [t("ds.trend_hover", lang, month=m, share=_share(s), day=_count(d, lang), elective=_count(e, lang))
             for m, s, d, e in zip(months, trend["share"], trend["day_cases"], trend["elective"], strict=True)]
    partial = len(months) > 0 and end < month_end(trend["month_start"].iloc[-1])
    if partial:  # the month in progress: its few days swing the share; an open marker and a word say so
        hover[-1] += t("ds.trend_partial", lang, end=end)
    symbols = ["circle"] * (len(months) - 1) + (["circle-open"] if partial else ["circle"])
    fig = go.Figure(go.Scatter(x=months, y=trend["share"], mode="lines+markers", hovertext=hover,
                               marker={"symbol": symbols[:len(months)], "size": 7},
                               hovertemplate="%{hovertext}<extra></extra>", name=t("ds.trend_axis", lang),
                               showlegend=False, connectgaps=False))
    first, last = f"{start:%Y-%m}", f"{end:%Y-%m}"
    shown = [m for m in months if first <= m <= last]
    if shown:
        fig.add_vrect(x0=months.index(shown[0]) - 0.5, x1=months.index(shown[-1]) + 0.5, fillcolor="#8c8c8c",
                      opacity=0.12, line_width=0, layer="below")
        fig.add_annotation(x=months.index(shown[-1]) + 0.5, y=1, yref="paper", xanchor="right", yanchor="bottom",
                           text=t("ds.trend_period", lang), showarrow=False, font={"size": 11})
    top = max(float(trend["share"].max()) if trend["share"].notna().any() else 0.0, 0.05)
    fig.update_yaxes(tickformat=".0%", range=[0, top * 1.15], title={"text": t("ds.trend_axis", lang)})
    fig.update_xaxes(type="category", nticks=8)
    fig.update_layout(height=TREND_HEIGHT, margin={"l": 8, "r": 8, "t": 20, "b": 8})
    return fig


def note_figure(message: str) -> go.Figure:
    """A chart's place when there is nothing to draw: the reason, in words."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=TREND_HEIGHT, margin={"l": 8, "r": 8, "t": 8, "b": 8})
    return fig


def _money_col(col: str, lang: str) -> Column:
    return Column(col, t(f"ds.col.{col}", lang), "money", decimals=0)


def dept_columns(lang: str, campus: bool = True) -> list[Column]:
    """The department grid's columns; `campus` False leaves the campus out (the view has one)."""
    return [Column("name", t("ds.col.name", lang), pinned=True, width=NAME_WIDTH),
            *([Column("campus", t("ds.col.campus", lang))] if campus else []),
            Column("day_cases", t("ds.col.day_cases", lang), "integer"),
            Column("elective", t("ds.col.elective", lang), "integer"),
            Column("share", t("ds.col.share", lang), "percent"),
            Column("bed_days_freed", t("ds.col.bed_days_freed", lang), "days", decimals=0),
            Column("candidates", t("ds.col.candidates", lang), "integer"),
            Column("candidate_bed_days", t("ds.col.candidate_bed_days", lang), "days", decimals=0),
            Column("day_alos", t("ds.col.day_alos", lang), "days", decimals=2),
            _money_col("day_margin_per_case", lang)]


def group_columns(lang: str) -> list[Column]:
    return [Column("group", t("ds.col.group", lang), pinned=True, width=GROUP_WIDTH),
            Column("day_cases", t("ds.col.day_cases", lang), "integer"),
            Column("elective", t("ds.col.elective", lang), "integer"),
            Column("share", t("ds.col.share", lang), "percent"),
            Column("day_alos", t("ds.col.day_alos", lang), "days", decimals=2),
            Column("conv_alos", t("ds.col.conv_alos", lang), "days", decimals=2),
            Column("bed_days_freed", t("ds.col.bed_days_freed", lang), "days", decimals=0),
            *(_money_col(f"{k}_{m}", lang) for m in ("charge", "cost", "margin") for k in ("day", "conv")),
            Column("conventional", t("ds.col.conventional", lang), "integer")]


def named(df: pd.DataFrame, lang: str, *, group: bool = False) -> pd.DataFrame:
    """The frame with its display names in the reader's language: a department's name and campus,
    or a group's "code name"."""
    zh = lang == "zh"
    if group:
        names = df["name_zh" if zh else "name_en"].fillna("")
        return df.assign(group=[f"{c} {n}".strip() for c, n in zip(df["drg_code"], names, strict=True)])
    return df.assign(name=df["name_zh" if zh else "name_en"], campus=df["campus_zh" if zh else "campus_en"])


def _tooltip(grid: dag.AgGrid, field: str) -> dag.AgGrid:
    """A long name wraps onto a second line in its narrow pinned column (and shows whole in its
    tooltip), so the figures keep their room beside it on a phone."""
    for spec in grid.columnDefs:
        if spec["field"] == field:
            spec.update(tooltipField=field, wrapText=True, autoHeight=True, cellClass="hd-text ds-wrap")
    if len(grid.rowData) <= VISIBLE_ROWS:  # rows of two lines: a short grid takes the height its rows need
        grid.dashGridOptions = {**grid.dashGridOptions, "domLayout": "autoHeight"}
        grid.style = {"width": "100%"}
    return grid


def _losses(grid: dag.AgGrid, fields: tuple[str, ...]) -> dag.AgGrid:
    for spec in grid.columnDefs:  # a loss per case: the bad colour (the sign stays)
        if spec["field"] in fields:
            spec["cellClassRules"] = {grid_class("bad"): "params.value !== null && params.value < 0"}
    return grid


def dept_grid(df: pd.DataFrame, lang: str) -> dag.AgGrid:
    """Every department of the view, most day cases first (its campus beside it when the view spans
    several); a click opens the department."""
    several = df["campus_id"].nunique() > 1
    grid = data_grid(named(df, lang), dept_columns(lang, several), lang, DEPT_GRID_ID, row_id="dept_id",
                     class_name="ds-grid")
    return _losses(_tooltip(grid, "name"), ("day_margin_per_case",))


def group_grid(df: pd.DataFrame, lang: str) -> dag.AgGrid:
    """Each group with day surgery in the view: day cases against the same group's conventional
    elective cases."""
    grid = data_grid(named(df, lang, group=True), group_columns(lang), lang, GROUP_GRID_ID, row_id="drg_code",
                     class_name="ds-grid")
    return _losses(_tooltip(grid, "group"), ("day_margin", "conv_margin"))


def candidates_block(depts: pd.DataFrame, groups: pd.DataFrame, lang: str) -> html.Div:
    """Two ranked lists side by side (one above the other on a phone): the departments and the
    groups with the most elective cases still admitted conventionally in day-surgery groups."""
    def ranked(df: pd.DataFrame, title: str, group: bool) -> html.Div:
        if df.empty:
            body: Any = html.P(t("ds.cand.none", lang), className="note")
        else:
            names = df["name_zh" if lang == "zh" else "name_en"].fillna("")
            items = []
            for key, name, r in zip(df["key"], names, df.itertuples(), strict=True):
                label = f"{key} {name}".strip() if group else name
                parts = (t("ds.cand.cases", lang, cases=_count(r.candidates, lang)),
                         t("ds.cand.share", lang, share=_share(r.share)),
                         t("ds.cand.days", lang, days=_count(r.candidate_bed_days, lang)))
                figures: list[Any] = []
                for i, part in enumerate(parts):  # a line breaks between the figures, never inside one
                    figures += ([" · "] if i else []) + [html.Span(part, className="ds-nowrap")]
                items.append(html.Li([html.Span(label, className="ds-cand-name"),
                                      html.Span(figures, className="ds-cand-figures")]))
            body = html.Ol(items, className="ds-cand-list")
        return html.Div([html.H3(title, className="dw-subtitle"), body], className="ds-cand-col")

    return html.Div([ranked(depts, t("ds.cand.departments", lang), False),
                     ranked(groups, t("ds.cand.groups", lang), True)], className="ds-candidates")


def export_frame(df: pd.DataFrame, lang: str, *, group: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The department or group table as the export writes it: the key, every shown column under its
    header, and the kind of each number."""
    cols = group_columns(lang) if group else dept_columns(lang)
    key = "drg_code" if group else "dept_id"
    shown = named(df, lang, group=group)
    if group:
        shown = shown.assign(group=shown["name_zh" if lang == "zh" else "name_en"])
        cols = [Column("group", t("ds.col.group", lang)) if c.id == "group" else c for c in cols]
    heads = {key: t(f"ds.col.{key}", lang), **{c.id: c.header for c in cols}}
    out = shown[[key, *[c.id for c in cols]]].rename(columns=heads)
    kinds: dict[str, Any] = {}
    for c in cols:
        if c.kind == "percent":
            kinds[c.header] = "percent"
        elif c.kind == "integer":
            kinds[c.header] = "integer"
        elif c.kind == "days":
            kinds[c.header] = ("days", c.decimals if c.decimals is not None else 1)
        elif c.kind == "money":
            kinds[c.header] = "money"
    return out, kinds

