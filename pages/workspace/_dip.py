"""Workspace · DRG tab · the DIP section (按病种分值付费), shown beside the DRG groups when the
warehouse holds DIP cases: the department's packets (cases, score, estimated payment at the latest
point value, cost, margin, high- and low-ratio cases), the point-value sensitivity in words, a
packet's cases, the payment schemes side by side, the reader's departments, and the point-value
trend. A version 1 warehouse gets one plain sentence instead. Imported once by pages/workspace/drg.py,
which registers these callbacks; the parts are drawn by components/dip.py.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html, no_update

from components.dip import (
    CASE_COLS,
    DEPT_COLS,
    PACKET_COLS,
    case_rows,
    cases_grid,
    departments_grid,
    export_frame,
    packet_rows,
    packets_grid,
    rates_line,
    sensitivity_text,
    settlement_line,
    split_table,
    summary_line,
    trend_figure,
)
from components.i18n import t
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.dip import (
    HIGH_RATIO,
    LOW_RATIO,
    department_table,
    has_dip,
    latest_point_values,
    packet_cases,
    packet_table,
    point_values,
    scheme_split,
    sensitivity,
    settlement_effect,
)
from data_layer.scope import Scope
from data_layer.sources import Filters

from .._common import current_scope, warehouse
from .._kit import READERS, Ask, Export, department_scope, export_callback, page_callback, safe
from ._frame import Start, resolve_period, section, warm_section

PAGE = "dip"  # the export buttons' page key (the DRG groups' are "drg")
GRAPH = {"displayModeBar": False}


def dip_sections(start: Start) -> list[Any]:
    """The DIP sections of the DRG tab, or the sentence saying this warehouse has no DIP."""
    lang = start.lang
    if not has_dip(warehouse()):
        return [section("dip", lang, html.P(t("ws.dip.unavailable", lang), className="note", id="ws-dip-unavailable"),
                        title=t("ws.dip.title", lang))]
    note = t("ws.dip.note", lang, high=f"{HIGH_RATIO:g}", low=f"{LOW_RATIO:g}")
    return [
        section("dip", lang, html.P(note, className="note"), html.P(id="ws-dip-rates", className="note"),
                html.P(id="ws-dip-summary", className="ws-dip-summary"), html.Div(id="ws-dip-sense"),
                html.P(t("ws.dip.packets_note", lang), className="note"), html.Div(id="ws-dip-packets"),
                exports=((PAGE, "packets"),), title=t("ws.dip.title", lang)),
        section("dip-cases", lang,
                html.Div([html.Label(t("ws.dip.pick", lang), htmlFor="ws-dip-packet", className="form-label me-2"),
                          dcc.Dropdown(id="ws-dip-packet", clearable=False, className="dw-select ws-drg-pick"),
                          html.Span(t("ws.dip.pick_note", lang), className="note ms-2")], className="ws-drg-pickrow"),
                html.Div(id="ws-dip-cases"), exports=((PAGE, "cases"),), title=t("ws.dip.cases_section", lang)),
        section("dip-depts", lang, html.H3(t("ws.dip.split", lang), className="h6"), html.Div(id="ws-dip-split"),
                html.H3(t("ws.dip.departments", lang), className="h6 mt-2"), html.Div(id="ws-dip-depts"),
                exports=((PAGE, "departments"),), title=t("ws.dip.side", lang)),
        section("dip-trend", lang, dcc.Graph(id="ws-dip-trend", config=GRAPH, className="dw-graph"),
                html.P(id="ws-dip-settle", className="note"), title=t("ws.dip.trend", lang)),
    ]


def _name(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


def _mine(dept: str) -> Filters:
    return Filters(department=(dept,))


def packets(ask: Ask) -> tuple:
    """The department's packets and the picker's options (the browser keeps the packet picked while
    it is offered, else takes the first: assets/ws-pick.js)."""
    lang, per = ask.lang, ask.period
    wh = warehouse()
    pk = packet_table(wh, ask.scope, per, _mine(ask.dept))
    rates = rates_line(latest_point_values(wh, ask.scope, per.end), lang)
    if pk.empty:
        return rates, t("ws.dip.none", lang), None, None, []
    grid = safe(lambda: packets_grid(pk, lang), lang, "dip packets")
    sense = safe(lambda: sensitivity_text(sensitivity(wh, ask.scope, per, filters=_mine(ask.dept)), lang), lang,
                 "dip sensitivity")
    options = [{"label": n, "value": c} for c, n in zip(pk["dip_code"], _name(pk, lang), strict=True)]
    return rates, summary_line(pk, lang), sense, grid, options


def pick_row(_ask: Ask, cell: Any) -> Any:
    """A click on a packet's row opens its cases (the total row opens nothing)."""
    code = cell.get("rowId") if isinstance(cell, dict) and cell.get("rowPinned") is None else None
    return code if isinstance(code, str) and 0 < len(code) <= 32 else no_update


def _known(scope: Scope, dept: str, per: Period, code: Any, lang: str) -> pd.Series:
    """The packet's row, or a clear message when the department has no DIP case of it."""
    pk = packet_table(warehouse(), scope, per, _mine(dept))
    row = pk[pk["dip_code"] == code] if isinstance(code, str) else pk.iloc[0:0]
    if row.empty:
        raise UserError(t("ws.dip.unknown_packet", lang))
    return row.iloc[0]


def cases(ask: Ask, code: Any) -> Any:
    lang = ask.lang
    if not code:
        return html.P(t("ws.dip.pick_note", lang), className="note")
    pk = packet_table(warehouse(), ask.scope, ask.period, _mine(ask.dept))
    if not isinstance(code, str) or code not in set(pk["dip_code"]):  # a stale or forged packet
        return html.P(t("ws.dip.unknown_packet", lang), className="note")
    row = pk[pk["dip_code"] == code].iloc[0]

    def build() -> Any:
        got = packet_cases(warehouse(), ask.scope, ask.period, str(code), _mine(ask.dept))
        name = row["name_zh" if lang == "zh" else "name_en"]
        return [html.H3(t("ws.dip.cases_title", lang, name=name), className="h6"),
                html.P(t("ws.dip.cases_count", lang, total=f"{got.attrs['total']:,}", high=int(row["high_ratio"]),
                         low=int(row["low_ratio"]), ref=f"{row['ref_charge_per_case']:,.0f}"),
                       className="note", id="ws-dip-cases-count"),
                cases_grid(got, lang)]

    return safe(build, lang, "dip cases")


def around(ask: Ask) -> tuple:
    """The department's payment schemes side by side, the point-value trend and what settling at it did."""
    lang, per, wh = ask.lang, ask.period, warehouse()
    split = safe(lambda: split_table(scheme_split(wh, ask.scope, per, _mine(ask.dept)), lang), lang, "dip split")
    trend = trend_figure(point_values(wh, ask.scope), lang)
    settle = settlement_line(settlement_effect(wh, ask.scope, _mine(ask.dept)), lang)
    return split, trend, settle


def departments(ask: Ask) -> Any:
    """The reader's departments side by side (the whole scope, not only the department picked)."""
    return safe(lambda: departments_grid(department_table(warehouse(), ask.scope, ask.period), ask.lang), ask.lang,
                "dip departments")


# ---------------------------------------------------------------------------------------------- export


def _export_packets(ask: Ask, _code: Any) -> Export:
    per, lang = ask.period, ask.lang
    rows = packet_rows(packet_table(warehouse(), ask.scope, per, _mine(ask.dept)), lang)
    df, kinds = export_frame(rows, PACKET_COLS, lang)
    return Export(df, f"{ask.dept}-dip-packets-{per.start}-{per.end}", f"workspace dip {ask.dept} packets",
                  title=t("ws.dip.export_packets", lang), kinds=kinds)


def _export_departments(ask: Ask, _code: Any) -> Export:
    per, lang = ask.period, ask.lang
    depts = department_table(warehouse(), ask.scope, per)
    df, kinds = export_frame(depts.assign(name=_name(depts, lang)), DEPT_COLS, lang)
    return Export(df, f"dip-departments-{per.start}-{per.end}", "workspace dip departments",
                  title=t("ws.dip.export_departments", lang), kinds=kinds, whole_scope=True)


def _export_cases(ask: Ask, code: Any) -> Export:
    per, lang = ask.period, ask.lang
    _known(ask.scope, ask.dept, per, code, lang)
    got = packet_cases(warehouse(), ask.scope, per, str(code), _mine(ask.dept))
    df, kinds = export_frame(case_rows(got, lang), CASE_COLS, lang)
    return Export(df, f"{ask.dept}-dip-{code}-cases-{per.start}-{per.end}", f"workspace dip {ask.dept} cases",
                  title=t("ws.dip.cases_title", lang, name=str(code)), kinds=kinds)


def _opening(dept: str, period: str) -> list[tuple]:
    """The department and period, as the DIP sections' callbacks are asked when the page opens
    (the warm-up; nothing when the warehouse holds no DIP case)."""
    return [(dept, period)] if has_dip(warehouse()) else []


def _opening_cases(dept: str, period: str) -> list[tuple]:
    """The cases' callback as the page opens: the department's first packet, which the browser picks
    from the packets' options."""
    if not has_dip(warehouse()):
        return []
    try:
        pk = packet_table(warehouse(), department_scope(current_scope(), dept), resolve_period(period), _mine(dept))
    except UserError:
        return []
    return [(dept, period, str(pk["dip_code"].iloc[0]))] if len(pk) else []


def register() -> None:
    """Declare this section's callbacks and exports. pages/workspace/drg.py calls it each time Dash
    loads that page (once for every app made in a process), as a page declares its own callbacks."""
    warm = page_callback(Output("ws-dip-rates", "children"), Output("ws-dip-summary", "children"),
                         Output("ws-dip-sense", "children"), Output("ws-dip-packets", "children"),
                         Output("ws-dip-packet", "options"), Input("ws-dept", "value"), Input("ws-period", "value"),
                         roles=READERS, dept="ws-dept", period="ws-period", cached=True, by_department=True)(packets)
    warm_section("dip packets", warm, _opening)
    clientside_callback(ClientsideFunction("workspace", "keep"), Output("ws-dip-packet", "value"),
                        Input("ws-dip-packet", "options"), State("ws-dip-packet", "value"))  # assets/ws-pick.js
    page_callback(Output("ws-dip-packet", "value", allow_duplicate=True), Input("ws-dip-packets-table", "cellClicked"),
                  State("ws-dept", "value"), roles=READERS, dept="ws-dept", prevent_initial_call=True)(pick_row)
    warm = page_callback(Output("ws-dip-cases", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
                         Input("ws-dip-packet", "value"), roles=READERS, dept="ws-dept", period="ws-period",
                         cached=True, by_department=True)(cases)
    warm_section("dip cases", warm, _opening_cases)
    warm = page_callback(Output("ws-dip-split", "children"), Output("ws-dip-trend", "figure"),
                         Output("ws-dip-settle", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
                         roles=READERS, dept="ws-dept", period="ws-period", cached=True, by_department=True)(around)
    warm_section("dip around", warm, _opening)
    warm = page_callback(Output("ws-dip-depts", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
                         roles=READERS, dept="ws-dept", period="ws-period", cached=True, whole_scope=True)(departments)
    warm_section("dip departments", warm, _opening, every_department=False)
    export_callback(PAGE, {"packets": _export_packets, "departments": _export_departments, "cases": _export_cases},
                    State("ws-dip-packet", "value"), roles=READERS)
