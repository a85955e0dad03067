"""The DRG detail page's parts (pages/workspace/drg.py): the groups grid with its total row, a
group's cost structure (figure and a small block of figures) and its cases grid, and the column
definitions the page's exports share. Margins and the stay and charge ratios are coloured by
the one rule (components.palette.change_class). Pure: frames in, components out.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.format import format_amount, format_cell
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import change_class, grid_class
from components.reports import class_field, text_field, with_cells
from data_layer.registry import INDICATORS

PARTS = ("personnel", "drug", "material", "equipment", "overhead")  # data_layer.queries.drg.COST_PARTS
PART_COLOURS = {"personnel": "#0b5cad", "drug": "#56b4e9", "material": "#009e73", "equipment": "#e69f00",
                "overhead": "#999999"}
# groups table: (frame column, catalog key, kind)
GROUP_COLS = (("drg_code", "code", "text"), ("name", "name", "text"), ("cases", "cases", "int"),
              ("weight", "weight", "index"), ("drg_payment", "payment", "yuan"), ("drg_cost", "cost", "yuan"),
              ("drg_margin", "margin", "yuan"), ("drg_margin_per_case", "margin_per_case", "yuan"),
              ("alos", "alos", "days"), ("ref_los_days", "ref_los", "days"), ("los_ratio", "los_ratio", "index"),
              ("charge_per_discharge", "charge", "yuan"), ("ref_charge_per_case", "ref_charge", "yuan"),
              ("charge_ratio", "charge_ratio", "index"), ("high_outliers", "high", "int"),
              ("low_outliers", "low", "int"))
STRUCTURE_COLS = (("payment_per_case", "payment_per_case"), ("cost_per_case", "cost_per_case"),
                  *((f"cost_{p}_per_case", p) for p in PARTS))
CASE_COLS = (("case_id", "case_id", "text"), ("discharge_date", "discharge", "text"), ("los_days", "los", "int"),
             ("doctor", "doctor", "text"), ("charge_total", "charge_total", "yuan"),
             ("drg_payment", "payment", "yuan"), ("cost_total", "cost", "yuan"), ("margin", "margin", "yuan"),
             ("ratio", "ratio", "index"), ("outlier", "outlier", "text"))
GRID_KIND = {"text": "text", "int": "integer", "yuan": "money", "index": "ratio", "days": "days", "date": "date"}
# a group's stay and charge against its reference, read as the registry's consumption indices
RATIO_INDICATORS = {"los_ratio": "time_index", "charge_ratio": "cost_index"}
MARGINS = ("drg_margin", "drg_margin_per_case")
FLAGGED = ("high_outliers", "low_outliers")
GROUP_ROWS = 12  # groups in view before the grid scrolls


def margin_class(margin: float) -> str:
    """A margin judged by the one rule as a difference from break-even (DRG margin: higher is
    better); one that rounds to 0 yuan is neutral."""
    return change_class(INDICATORS["drg_margin_per_case"], margin, scale=1, decimals=0)


def ratio_class(col: str, ratio: float) -> str:
    """A stay or charge ratio judged as its index's difference from 1 (lower is better), at the
    three decimals the table shows."""
    return change_class(INDICATORS[RATIO_INDICATORS[col]], ratio - 1, scale=1, decimals=3)


def _grid_class(css: str) -> str:
    """The grid's class of a trend-<verdict> class (hd-good, hd-bad; nothing for neutral)."""
    return grid_class(css.removeprefix("trend-"))  # type: ignore[arg-type]


def _num(v: Any, kind: str, lang: str) -> str:
    """A cell of the DRG tables as the page writes it; weights and ratios read as indices."""
    return format_cell(v, kind if kind in ("text", "int", "yuan", "days") else "index", lang)


def groups_grid(df: pd.DataFrame, lang: str) -> Any:
    """The department's groups, sortable and filterable, the code pinned, a total row under
    them; a click on a row opens that group. Cells show what the page always showed (amounts in
    万/亿 in Chinese, indices with three decimals) and keep their numbers."""
    if df.empty:
        return html.P(t("ws.drg.none", lang), className="note")
    rows = df[[c for c, _k, _t in GROUP_COLS]].copy()
    numeric = [c for c, _k, kind in GROUP_COLS if kind != "text"]
    for col, _key, kind in GROUP_COLS:
        if kind != "text":
            rows[text_field(col)] = [_num(v, kind, lang) for v in rows[col]]
    for col in MARGINS:
        rows[class_field(col)] = [_grid_class(margin_class(v)) for v in rows[col]]
    for col in RATIO_INDICATORS:
        rows[class_field(col)] = [_grid_class(ratio_class(col, v)) for v in rows[col]]
    for col in FLAGGED:
        rows[class_field(col)] = ["ws-drg-flag" if v else "" for v in rows[col]]
    classed = (*MARGINS, *RATIO_INDICATORS, *FLAGGED)
    cols = [Column(c, t(f"ws.drg.c.{k}", lang), GRID_KIND[kind], pinned=c == "drg_code",
                   width=110 if c == "drg_code" else (220 if c == "name" else None)) for c, k, kind in GROUP_COLS]
    total = rows[["cases", "drg_payment", "drg_cost", "drg_margin", "high_outliers", "low_outliers"]].sum()
    foot: dict[str, Any] = {"drg_code": t("dw.stage.total", lang), **{c: float(total[c]) for c in total.index}}
    foot["drg_margin_per_case"] = float(total["drg_margin"] / total["cases"]) if total["cases"] else None
    for col in list(foot):
        kind = dict((c, k) for c, _key, k in GROUP_COLS)[col]
        if kind != "text":
            foot[text_field(col)] = _num(foot[col], kind, lang)
    hidden = tuple(text_field(c) for c in numeric) + tuple(class_field(c) for c in classed)
    grid = data_grid(rows, cols, lang, "ws-drg-groups-table", row_id="drg_code", total=foot, hidden=hidden,
                     visible_rows=GROUP_ROWS, selectable=True, class_name="ws-drg-groups-grid")
    for spec in grid.columnDefs:
        if spec["field"] == "name":
            spec["tooltipField"] = "name"  # a long group name is cut in its column: the whole on hover
    return with_cells(grid, numeric, classed)


def structure_figure(g: pd.Series, lang: str) -> go.Figure:
    """Cost per case stacked by component next to the payment per case."""
    fig = go.Figure()
    cost_label, pay_label = t("ws.drg.cost_bar", lang), t("ws.drg.payment_bar", lang)
    for p in PARTS:
        v = float(g[f"cost_{p}_per_case"])
        fig.add_bar(x=[cost_label], y=[v], name=t(f"ws.drg.part.{p}", lang), marker_color=PART_COLOURS[p],
                    text=[format_amount(v, lang)], textposition="inside")
    pay = float(g["payment_per_case"])
    fig.add_bar(x=[pay_label], y=[pay], name=pay_label, marker={"color": "#cc79a7", "pattern": {"shape": "/"}},
                text=[format_amount(pay, lang)], textposition="inside")
    fig.update_layout(barmode="stack", title=t("ws.drg.structure", lang, code=g["drg_code"]), height=340,
                      margin={"l": 50, "r": 10, "t": 40, "b": 30}, legend={"orientation": "h", "y": -0.15},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig


def structure_table(g: pd.Series, lang: str) -> html.Div:
    """The group's payment and cost per case by component (a small block beside the figure)."""
    rows = [html.Tr([html.Th(t(f"ws.drg.c.{key}", lang)), html.Td(format_amount(g[col], lang), className="num")])
            for col, key in STRUCTURE_COLS]
    rows.append(html.Tr([html.Th(t("ws.drg.c.margin_per_case", lang)),
                         html.Td(format_amount(g["drg_margin_per_case"], lang),
                                 className="num " + margin_class(g["drg_margin_per_case"]))]))
    return html.Div(html.Table(html.Tbody(rows), className="table table-sm dw-table", id="ws-drg-structure-table"),
                    className="table-scroll")


def cases_grid(cases: pd.DataFrame, lang: str) -> Any:
    """The group's cases in a virtualised grid (all of them: the grid draws only the rows in
    view), outliers first and marked by row colour and label."""
    if cases.empty:
        return html.P(t("ws.drg.none", lang), className="note")
    df = cases.assign(flag=cases["outlier"].fillna(""),
                      outlier=[t(f"ws.drg.outlier.{f}", lang) if f else "" for f in cases["outlier"].fillna("")])
    cols = [Column(col, t(f"ws.drg.c.{key}", lang), "date" if col == "discharge_date" else GRID_KIND[kind],
                   pinned=col == "case_id", compact=GRID_KIND[kind] == "money",
                   width=130 if col == "case_id" else None) for col, key, kind in CASE_COLS]
    return data_grid(df, cols, lang, "ws-drg-cases-table", row_id="case_id", hidden=("flag",),
                     class_name="ws-drg-cases", row_classes={"ws-drg-high": "params.data.flag === 'high'",
                                                              "ws-drg-low": "params.data.flag === 'low'"})
