"""Workspace · DRG detail (DRG病组明细): the department's DRG groups for the period with cases,
weight, margin (DRG payment − case cost) per case and in total, cost structure against payment,
stay and charge against the group's regional reference, and high- and low-cost outlier cases
(高倍率 / 低倍率病例); a group opens its cost structure chart and its cases, outliers first.

Outlier thresholds default to the settings DRG_OUTLIER_HIGH / DRG_OUTLIER_LOW and can be changed
on the page (LOW < 1 < HIGH); outliers are measured on the case's total charge by default (as the
national DRG payment rules do) or on its cost.
"""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html, no_update
from flask import current_app

from components.drg import CASE_COLS, GROUP_COLS, PARTS, STRUCTURE_COLS, cases_grid, groups_grid, structure_figure
from components.drg import structure_table as structure_block
from components.exports import cell_kind
from components.format import format_amount
from components.i18n import t
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.dip import has_dip
from data_layer.queries.drg import COST_PARTS
from data_layer.queries.drg_detail import BASES, check_thresholds, group_cases, group_table
from data_layer.scope import Scope
from data_layer.stats import FieldErrors
from shell.inputs import Code

from .._common import current_scope, warehouse
from .._kit import READERS, Ask, Export, department_scope, export_callback, page_callback, safe
from . import _dip
from ._dip import dip_sections
from ._frame import Start, begin, frame, resolve_period, section, section_page, warm_section

dash.register_page(__name__, **section_page("drg", inputs={"ws-drg-basis.value": Code}))
_dip.register()  # the DIP section's callbacks, declared with this page's
PAGE = "drg"
CASES_SHOWN = 100_000  # every case of a group (the grid draws only the rows in view)
assert tuple(c.removeprefix("cost_") for c in COST_PARTS) == PARTS  # the components' parts are the query's


def _settings() -> Any:
    return current_app.extensions["hospdash"].settings


def layout(dept: str | None = None, period: str | None = None, **_q: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    high, low = _start_thresholds()
    field = lambda key, value: html.Div([  # noqa: E731
        html.Label(t(f"ws.drg.{key}", lang), htmlFor=f"ws-drg-{key}", className="form-label"),
        dcc.Input(id=f"ws-drg-{key}", type="text", inputMode="decimal", value=value, debounce=True,
                  className="form-control form-control-sm"),
        html.Div(id=f"ws-drg-{key}-err", className="invalid-feedback d-block")], className="ws-drg-field")
    controls = html.Div([
        field("high", high), field("low", low),
        html.Div([html.Label(t("ws.drg.basis", lang), className="form-label"),
                  dcc.RadioItems(id="ws-drg-basis", value="charge", inline=True, inputClassName="me-1",
                                 labelClassName="me-3",
                                 options=[{"label": t(f"ws.drg.basis.{b}", lang), "value": b} for b in BASES])],
                 className="ws-drg-field"),
    ], className="ws-drg-controls")
    return frame(PAGE, start, [
        section("drg-controls", lang, controls, html.P(id="ws-drg-rule", className="note"),
                title=t("ws.drg.controls", lang)),
        section("drg-groups", lang, html.P(t("ws.drg.groups_note", lang), className="note"),
                html.P(t("ws.dip.drg_paid_only", lang), className="note") if has_dip(warehouse()) else None,
                html.Div(id="ws-drg-groups"), exports=((PAGE, "groups"),), title=t("ws.drg.groups", lang)),
        section("drg-detail", lang,
                html.Div([html.Label(t("ws.drg.pick", lang), htmlFor="ws-drg-group", className="form-label me-2"),
                          dcc.Dropdown(id="ws-drg-group", clearable=False, className="dw-select ws-drg-pick"),
                          html.Span(t("ws.drg.pick_note", lang), className="note ms-2")],
                         className="ws-drg-pickrow"),
                html.Div(id="ws-drg-detail"), exports=((PAGE, "cases"),), title=t("ws.drg.detail", lang)),
        *dip_sections(start),  # beside the DRG groups when the warehouse holds DIP cases
    ])


def _start_thresholds() -> tuple[str, str]:
    """The outlier thresholds the page opens with, as its fields hold them (the hospital's settings)."""
    conf = _settings()
    return f"{conf.drg_outlier_high:g}", f"{conf.drg_outlier_low:g}"


def _thresholds(high: Any, low: Any, lang: str) -> tuple[tuple[float, float] | None, str, str]:
    """((high, low) or None, message at the high field, message at the low field): the declared
    form data_layer.queries.drg_detail.Thresholds."""
    try:
        return check_thresholds(high, low), "", ""
    except FieldErrors as exc:
        msg = {k: t(f"ws.drg.err.{v}", lang) for k, v in exc.errors.items()}
        return None, msg.get("high", ""), msg.get("low", "")


def _basis(basis: Any, lang: str) -> str:
    if basis not in BASES:
        raise UserError(t("wall.bad_filter", lang))
    return basis


def _name(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


@page_callback(Output("ws-drg-groups", "children"), Output("ws-drg-group", "options"),
               Output("ws-drg-high-err", "children"), Output("ws-drg-low-err", "children"),
               Output("ws-drg-high", "className"), Output("ws-drg-low", "className"), Output("ws-drg-rule", "children"),
               Input("ws-dept", "value"), Input("ws-period", "value"), Input("ws-drg-high", "value"),
               Input("ws-drg-low", "value"), Input("ws-drg-basis", "value"),
               roles=READERS, dept="ws-dept", period="ws-period", cached=True, by_department=True)
def groups(ask: Ask, high: Any, low: Any, basis: Any) -> tuple:
    """The department's groups, and the picker's options (the browser keeps the group picked while
    it is offered, else takes the first: assets/ws-pick.js)."""
    lang, dept, per = ask.lang, ask.dept, ask.period
    basis = _basis(basis, lang)
    ok, high_msg, low_msg = _thresholds(high, low, lang)
    cls = lambda m: "form-control form-control-sm" + (" is-invalid" if m else "")  # noqa: E731
    if ok is None:
        return (no_update, no_update, high_msg, low_msg, cls(high_msg), cls(low_msg),
                t("ws.drg.thresholds_kept", lang))
    hi, lo = ok
    conf = _settings()
    rule = t("ws.drg.controls_note", lang, basis=t(f"ws.drg.basis_word.{basis}", lang), high=f"{hi:g}", low=f"{lo:g}",
             dhigh=f"{conf.drg_outlier_high:g}", dlow=f"{conf.drg_outlier_low:g}")
    read: dict[str, pd.DataFrame] = {}

    def build() -> Any:
        df = group_table(warehouse(), ask.scope, dept, per, hi, lo, basis)
        read["df"] = df
        return [groups_grid(df.assign(name=_name(df, lang)), lang),
                html.P(t("dw.period", lang, start=per.start, end=per.end), className="note")]

    table = safe(build, lang, "drg groups")  # a warehouse error is a note in place of the table
    df = read.get("df")
    options = [] if df is None else [{"label": f"{r.drg_code} {n}", "value": r.drg_code}
                                     for r, n in zip(df.itertuples(), _name(df, lang), strict=True)]
    return table, options, "", "", cls(""), cls(""), rule


clientside_callback(ClientsideFunction("workspace", "keep"), Output("ws-drg-group", "value"),
                    Input("ws-drg-group", "options"), State("ws-drg-group", "value"))


@page_callback(Output("ws-drg-group", "value", allow_duplicate=True), Input("ws-drg-groups-table", "cellClicked"),
               State("ws-dept", "value"), roles=READERS, dept="ws-dept", prevent_initial_call=True)
def pick_row(_ask: Ask, cell: Any) -> Any:
    """A click on a group's row in the grid opens that group (the total row opens nothing)."""
    code = cell.get("rowId") if isinstance(cell, dict) and cell.get("rowPinned") is None else None
    return code if isinstance(code, str) and 0 < len(code) <= 16 else no_update


@page_callback(Output("ws-drg-detail", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
               Input("ws-drg-group", "value"), Input("ws-drg-high", "value"), Input("ws-drg-low", "value"),
               Input("ws-drg-basis", "value"), roles=READERS, dept="ws-dept", period="ws-period", cached=True,
               by_department=True)
def detail(ask: Ask, code: Any, high: Any, low: Any, basis: Any) -> Any:
    lang = ask.lang
    basis = _basis(basis, lang)
    ok, _h, _l = _thresholds(high, low, lang)
    if ok is None:
        return no_update
    if not code:
        return html.P(t("ws.drg.pick_note", lang), className="note")
    return safe(lambda: _detail(ask.scope, ask.dept, ask.period, str(code), ok, basis, lang), lang, "drg detail")


def _known_group(scope: Scope, dept: str, per: Period, code: str, hi: float, lo: float, basis: str,
                 lang: str) -> pd.Series:
    """The group's row, or a clear message when the department has no case of it (a forged or stale code)."""
    df = group_table(warehouse(), scope, dept, per, hi, lo, basis)
    row = df[df["drg_code"] == code]
    if row.empty:
        raise UserError(t("ws.drg.unknown_group", lang, code=code[:16]))
    return row.iloc[0]


def _detail(scope: Scope, dept: str, per: Period, code: str, thresholds: tuple[float, float], basis: str,
            lang: str) -> Any:
    hi, lo = thresholds
    g = _known_group(scope, dept, per, code, hi, lo, basis, lang)
    cases = group_cases(warehouse(), scope, dept, per, code, hi, lo, basis, limit=CASES_SHOWN)
    return [html.Div([dcc.Graph(figure=structure_figure(g, lang), config={"displayModeBar": False},
                                className="dw-graph", id="ws-drg-structure"),
                      structure_block(g, lang)], className="ws-drg-detail-grid"),
            html.H3(t("ws.drg.cases_title", lang, code=code), className="h6 mt-3"),
            html.P(t("ws.drg.cases_count", lang, total=f"{cases.attrs['total']:,}", high=int(g["high_outliers"]),
                     low=int(g["low_outliers"]), basis=t(f"ws.drg.basis_word.{basis}", lang),
                     avg=format_amount(cases.attrs["average"], lang)), className="note", id="ws-drg-cases-count"),
            cases_grid(cases, lang)]


# ---------------------------------------------------------------------------------------------- export
def groups_frame(scope: Scope, dept: str, per: Period, hi: float, lo: float, basis: str, lang: str) -> pd.DataFrame:
    df = group_table(warehouse(), scope, dept, per, hi, lo, basis)
    df = df.assign(name=_name(df, lang))
    cols = [c for c, _k, _t in GROUP_COLS] + [c for c, _k in STRUCTURE_COLS]
    names = {c: t(f"ws.drg.c.{k}", lang) for c, k, _t in GROUP_COLS} | {c: t(f"ws.drg.c.{k}", lang)
                                                                       for c, k in STRUCTURE_COLS}
    return df[cols].rename(columns=names)


def cases_frame(scope: Scope, dept: str, per: Period, code: Any, hi: float, lo: float, basis: str,
                lang: str) -> pd.DataFrame:
    if not isinstance(code, str) or not code:
        raise UserError(t("ws.drg.pick_note", lang))
    _known_group(scope, dept, per, code, hi, lo, basis, lang)
    df = group_cases(warehouse(), scope, dept, per, code, hi, lo, basis, limit=100_000)
    df = df.assign(outlier=df["outlier"].map(lambda f: t(f"ws.drg.outlier.{f}", lang) if f else ""))
    return df[[c for c, _k, _t in CASE_COLS]].rename(columns={c: t(f"ws.drg.c.{k}", lang) for c, k, _t in CASE_COLS})


def _checked(ask: Ask, high: Any, low: Any, basis: Any) -> tuple[float, float, str]:
    ok, high_msg, low_msg = _thresholds(high, low, ask.lang)
    if ok is None:  # the page shows the message at its field
        raise UserError(high_msg or low_msg)
    return ok[0], ok[1], _basis(basis, ask.lang)


def _kinds(specs: tuple, lang: str) -> dict[str, Any]:
    return {t(f"ws.drg.c.{k}", lang): cell_kind(kind) for _c, k, kind in specs} | {t("ws.drg.c.discharge", lang): "date"}


def _export_groups(ask: Ask, high: Any, low: Any, basis: Any, _code: Any) -> Export:
    hi, lo, basis = _checked(ask, high, low, basis)
    per, lang = ask.period, ask.lang
    df = groups_frame(ask.scope, ask.dept, per, hi, lo, basis, lang)
    specs = GROUP_COLS + tuple((c, k, "yuan") for c, k in STRUCTURE_COLS)
    return Export(df, f"{ask.dept}-drg-groups-{per.start}-{per.end}", f"workspace drg {ask.dept} groups",
                  title=t("ws.drg.groups", lang), kinds=_kinds(specs, lang))


def _export_cases(ask: Ask, high: Any, low: Any, basis: Any, code: Any) -> Export:
    hi, lo, basis = _checked(ask, high, low, basis)
    per, lang = ask.period, ask.lang
    df = cases_frame(ask.scope, ask.dept, per, code, hi, lo, basis, lang)
    return Export(df, f"{ask.dept}-drg-{code}-cases-{per.start}-{per.end}", f"workspace drg {ask.dept} cases",
                  title=t("ws.drg.cases_title", lang, code=code), kinds=_kinds(CASE_COLS, lang))


def _opening_groups(dept: str, period: str) -> list[tuple]:
    """What the groups' callback is asked as the page opens (the warm-up)."""
    return [(dept, period, *_start_thresholds(), "charge")]


def _opening_detail(dept: str, period: str) -> list[tuple]:
    """What the detail's callback is asked as the page opens: the first group, which the browser
    picks from the groups' options (none when the department has no group then)."""
    high, low = _start_thresholds()
    ok, _h, _l = _thresholds(high, low, "en")
    if ok is None:
        return []
    try:
        df = group_table(warehouse(), department_scope(current_scope(), dept), dept, resolve_period(period), *ok,
                         "charge")
    except UserError:  # an empty period: the page says so and asks for no group
        return []
    return [(dept, period, str(df["drg_code"].iloc[0]), high, low, "charge")] if len(df) else []


warm_section("drg groups", groups, _opening_groups)
warm_section("drg detail", detail, _opening_detail)

export_callback(PAGE, {"groups": _export_groups, "cases": _export_cases}, State("ws-drg-high", "value"),
                State("ws-drg-low", "value"), State("ws-drg-basis", "value"), State("ws-drg-group", "value"),
                roles=READERS)
