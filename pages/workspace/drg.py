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
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app

from components.exports import cell_kind
from components.format import format_amount, format_cell
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import change_class
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.drg import COST_PARTS
from data_layer.queries.drg_detail import BASES, check_thresholds, group_cases, group_table
from data_layer.registry import INDICATORS
from data_layer.scope import Scope
from data_layer.stats import FieldErrors
from shell.access import secured
from shell.inputs import Code

from .._common import cached_answer, current_lang, current_scope, send_table, warehouse
from .._kit import safe
from ._frame import ROLES, Start, begin, check_department, export_request, frame, resolve_period, section, section_page

dash.register_page(__name__, **section_page("drg", inputs={"ws-drg-basis.value": Code}))
PAGE = "drg"
TABLES = ("groups", "cases")
PARTS = tuple(c.removeprefix("cost_") for c in COST_PARTS)
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


GRID_KIND = {"text": "text", "int": "integer", "yuan": "money", "index": "ratio", "date": "date"}


def _settings() -> Any:
    return current_app.extensions["hospdash"].settings


def _num(v: Any, kind: str, lang: str) -> str:
    """A cell of the DRG tables; weights and ratios read as indices."""
    return format_cell(v, kind if kind in ("text", "int", "yuan", "days") else "index", lang)


def layout(dept: str | None = None, period: str | None = None, **_q: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    conf = _settings()
    field = lambda key, value: html.Div([  # noqa: E731
        html.Label(t(f"ws.drg.{key}", lang), htmlFor=f"ws-drg-{key}", className="form-label"),
        dcc.Input(id=f"ws-drg-{key}", type="text", inputMode="decimal", value=f"{value:g}", debounce=True,
                  className="form-control form-control-sm"),
        html.Div(id=f"ws-drg-{key}-err", className="invalid-feedback d-block")], className="ws-drg-field")
    controls = html.Div([
        field("high", conf.drg_outlier_high), field("low", conf.drg_outlier_low),
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
                html.Div(id="ws-drg-groups"), exports=((PAGE, "groups"),), title=t("ws.drg.groups", lang)),
        section("drg-detail", lang,
                html.Div([html.Label(t("ws.drg.pick", lang), htmlFor="ws-drg-group", className="form-label me-2"),
                          dcc.Dropdown(id="ws-drg-group", clearable=False, className="dw-select ws-drg-pick"),
                          html.Span(t("ws.drg.pick_note", lang), className="note ms-2")],
                         className="ws-drg-pickrow"),
                html.Div(id="ws-drg-detail"), exports=((PAGE, "cases"),), title=t("ws.drg.detail", lang)),
    ])


def _thresholds(high: Any, low: Any, lang: str) -> tuple[tuple[float, float] | None, str, str]:
    """((high, low) or None, message at the high field, message at the low field)."""
    try:
        return check_thresholds(high, low), "", ""
    except FieldErrors as exc:
        msg = {k: t(f"ws.drg.err.{v}", lang) for k, v in exc.errors.items()}
        return None, msg.get("high", ""), msg.get("low", "")


def _basis(basis: Any) -> str:
    if basis not in BASES:
        raise UserError(t("wall.bad_filter", current_lang()))
    return basis


def _name(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


@callback(Output("ws-drg-groups", "children"), Output("ws-drg-group", "options"), Output("ws-drg-group", "value"),
          Output("ws-drg-high-err", "children"), Output("ws-drg-low-err", "children"),
          Output("ws-drg-high", "className"), Output("ws-drg-low", "className"), Output("ws-drg-rule", "children"),
          Input("ws-dept", "value"), Input("ws-period", "value"), Input("ws-drg-high", "value"),
          Input("ws-drg-low", "value"), Input("ws-drg-basis", "value"), State("ws-drg-group", "value"))
@secured(roles=ROLES, departments=lambda dept, *_a: [dept])
@cached_answer()
def groups(dept: Any, period: Any, high: Any, low: Any, basis: Any, chosen: Any) -> tuple:
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    basis = _basis(basis)
    ok, high_msg, low_msg = _thresholds(high, low, lang)
    cls = lambda m: "form-control form-control-sm" + (" is-invalid" if m else "")  # noqa: E731
    if ok is None:
        return (no_update, no_update, no_update, high_msg, low_msg, cls(high_msg), cls(low_msg),
                t("ws.drg.thresholds_kept", lang))
    hi, lo = ok
    conf = _settings()
    rule = t("ws.drg.controls_note", lang, basis=t(f"ws.drg.basis_word.{basis}", lang), high=f"{hi:g}", low=f"{lo:g}",
             dhigh=f"{conf.drg_outlier_high:g}", dlow=f"{conf.drg_outlier_low:g}")
    scope = current_scope()
    read: dict[str, pd.DataFrame] = {}

    def build() -> Any:
        read["df"] = group_table(warehouse(), scope, dept, per, hi, lo, basis)
        return _groups_table(read["df"], per, lang)

    table = safe(build, lang, "drg groups")  # a warehouse error is a note in place of the table
    df = read.get("df")
    options = [] if df is None else [{"label": f"{r.drg_code} {n}", "value": r.drg_code}
                                     for r, n in zip(df.itertuples(), _name(df, lang), strict=True)]
    codes = [o["value"] for o in options]
    value = chosen if chosen in codes else (codes[0] if codes else None)
    return table, options, value, "", "", cls(""), cls(""), rule


def _groups_table(df: pd.DataFrame, per: Period, lang: str) -> Any:
    if df.empty:
        return html.P(t("ws.drg.none", lang), className="note")
    df = df.assign(name=_name(df, lang))
    head = html.Thead(html.Tr([html.Th(t(f"ws.drg.c.{key}", lang)) for _c, key, _k in GROUP_COLS]))
    body = []
    for r in df.to_dict("records"):
        cells = []
        for col, _key, kind in GROUP_COLS:
            v = r[col]
            if col == "drg_code":
                cells.append(html.Td(html.Button(v, id={"type": "ws-drg-row", "index": v}, n_clicks=0,
                                                 className="btn btn-link btn-sm p-0 ws-drg-code")))
                continue
            cls = "num" if kind != "text" else ""
            if col in ("drg_margin", "drg_margin_per_case"):
                cls += " " + margin_class(v)
            if col in RATIO_INDICATORS:
                cls += " " + ratio_class(col, v)
            if col in ("high_outliers", "low_outliers") and v:
                cls += " ws-drg-flag"
            cells.append(html.Td(_num(v, kind, lang), className=cls.strip()))
        body.append(html.Tr(cells))
    total = df[["cases", "drg_payment", "drg_cost", "drg_margin", "high_outliers", "low_outliers"]].sum()
    foot = html.Tfoot(html.Tr([html.Th(t("dw.stage.total", lang)), html.Td(""),
                               html.Td(_num(total["cases"], "int", lang), className="num"), html.Td(""),
                               html.Td(_num(total["drg_payment"], "yuan", lang), className="num"),
                               html.Td(_num(total["drg_cost"], "yuan", lang), className="num"),
                               html.Td(_num(total["drg_margin"], "yuan", lang), className="num"),
                               html.Td(_num(total["drg_margin"] / total["cases"], "yuan", lang), className="num"),
                               *[html.Td("") for _ in range(6)],
                               html.Td(_num(total["high_outliers"], "int", lang), className="num"),
                               html.Td(_num(total["low_outliers"], "int", lang), className="num")]))
    return [html.Div(html.Table([head, html.Tbody(body), foot], className="table table-sm dw-table ws-drg-table",
                                id="ws-drg-groups-table"), className="table-scroll"),
            html.P(t("dw.period", lang, start=per.start, end=per.end), className="note")]


@callback(Output("ws-drg-group", "value", allow_duplicate=True), Input({"type": "ws-drg-row", "index": ALL}, "n_clicks"),
          State("ws-dept", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, dept: [dept])
def pick_row(clicks: list | None, dept: Any) -> Any:
    """A click on a group code in the table opens that group."""
    check_department(dept)
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return no_update
    code = ctx.triggered_id.get("index")
    return code if isinstance(code, str) and len(code) <= 16 else no_update


@callback(Output("ws-drg-detail", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
          Input("ws-drg-group", "value"), Input("ws-drg-high", "value"), Input("ws-drg-low", "value"),
          Input("ws-drg-basis", "value"))
@secured(roles=ROLES, departments=lambda dept, *_a: [dept])
@cached_answer()
def detail(dept: Any, period: Any, code: Any, high: Any, low: Any, basis: Any) -> Any:
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    basis = _basis(basis)
    ok, _h, _l = _thresholds(high, low, lang)
    if ok is None:
        return no_update
    if not code:
        return html.P(t("ws.drg.pick_note", lang), className="note")
    scope = current_scope()
    return safe(lambda: _detail(scope, dept, per, str(code), ok, basis, lang), lang, "drg detail")


def _known_group(scope: Scope, dept: str, per: Period, code: str, hi: float, lo: float, basis: str) -> pd.Series:
    """The group's row, or a clear message when the department has no case of it (a forged or stale code)."""
    df = group_table(warehouse(), scope, dept, per, hi, lo, basis)
    row = df[df["drg_code"] == code]
    if row.empty:
        raise UserError(t("ws.drg.unknown_group", current_lang(), code=code[:16]))
    return row.iloc[0]


def _detail(scope: Scope, dept: str, per: Period, code: str, thresholds: tuple[float, float], basis: str,
            lang: str) -> Any:
    hi, lo = thresholds
    g = _known_group(scope, dept, per, code, hi, lo, basis)
    cases = group_cases(warehouse(), scope, dept, per, code, hi, lo, basis)
    return [html.Div([dcc.Graph(figure=_structure_figure(g, lang), config={"displayModeBar": False},
                                className="dw-graph", id="ws-drg-structure"),
                      _structure_table(g, lang)], className="ws-drg-detail-grid"),
            html.H3(t("ws.drg.cases_title", lang, code=code), className="h6 mt-3"),
            html.P(t("ws.drg.cases_count", lang, total=f"{cases.attrs['total']:,}", high=int(g["high_outliers"]),
                     low=int(g["low_outliers"]), shown=len(cases), basis=t(f"ws.drg.basis_word.{basis}", lang),
                     avg=format_amount(cases.attrs["average"], lang)), className="note", id="ws-drg-cases-count"),
            _cases_table(cases, lang)]


def _structure_figure(g: pd.Series, lang: str) -> go.Figure:
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


# a group's stay and charge against its reference, read as the registry's consumption indices
RATIO_INDICATORS = {"los_ratio": "time_index", "charge_ratio": "cost_index"}


def margin_class(margin: float) -> str:
    """A margin judged by the one rule as a difference from break-even (DRG margin: higher is
    better); one that rounds to 0 yuan is neutral."""
    return change_class(INDICATORS["drg_margin_per_case"], margin, scale=1, decimals=0)


def ratio_class(col: str, ratio: float) -> str:
    """A stay or charge ratio judged as its index's difference from 1 (lower is better), at the
    three decimals the table shows."""
    return change_class(INDICATORS[RATIO_INDICATORS[col]], ratio - 1, scale=1, decimals=3)


def _structure_table(g: pd.Series, lang: str) -> html.Div:
    rows = [html.Tr([html.Th(t(f"ws.drg.c.{key}", lang)), html.Td(format_amount(g[col], lang), className="num")])
            for col, key in STRUCTURE_COLS]
    rows.append(html.Tr([html.Th(t("ws.drg.c.margin_per_case", lang)),
                         html.Td(format_amount(g["drg_margin_per_case"], lang),
                                 className="num " + margin_class(g["drg_margin_per_case"]))]))
    return html.Div(html.Table(html.Tbody(rows), className="table table-sm dw-table", id="ws-drg-structure-table"),
                    className="table-scroll")


def _cases_table(cases: pd.DataFrame, lang: str) -> Any:
    """The group's cases in a virtualised grid (up to CASE_LIMIT rows: a hand-built table of that
    size blocked the browser), outliers first and marked by row colour and label."""
    if cases.empty:
        return html.P(t("ws.drg.none", lang), className="note")
    df = cases.assign(flag=cases["outlier"].fillna(""),
                      outlier=[t(f"ws.drg.outlier.{f}", lang) if f else "" for f in cases["outlier"].fillna("")])
    cols = [Column(col, t(f"ws.drg.c.{key}", lang), "date" if col == "discharge_date" else GRID_KIND[kind],
                   pinned=col == "case_id",
                   width=130 if col == "case_id" else None) for col, key, kind in CASE_COLS]
    return data_grid(df, cols, lang, "ws-drg-cases-table", hidden=("flag",), class_name="ws-drg-cases",
                     row_classes={"ws-drg-high": "params.data.flag === 'high'",
                                  "ws-drg-low": "params.data.flag === 'low'"})


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
    _known_group(scope, dept, per, code, hi, lo, basis)
    df = group_cases(warehouse(), scope, dept, per, code, hi, lo, basis, limit=100_000)
    df = df.assign(outlier=df["outlier"].map(lambda f: t(f"ws.drg.outlier.{f}", lang) if f else ""))
    return df[[c for c, _k, _t in CASE_COLS]].rename(columns={c: t(f"ws.drg.c.{k}", lang) for c, k, _t in CASE_COLS})


@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": PAGE, "table": ALL, "fmt": ALL}, "n_clicks"),
          State("ws-dept", "value"), State("ws-period", "value"), State("ws-drg-high", "value"),
          State("ws-drg-low", "value"), State("ws-drg-basis", "value"), State("ws-drg-group", "value"),
          prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, dept, *_a: [dept])
def export(clicks: list | None, dept: Any, period: Any, high: Any, low: Any, basis: Any, code: Any) -> Any:
    """The groups or the chosen group's cases (all of them), in the reader's language; audited."""
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    table, fmt = req
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    basis = _basis(basis)
    ok, _h, _l = _thresholds(high, low, lang)
    if ok is None:
        return no_update
    hi, lo = ok
    scope = current_scope()
    if table == "groups":
        df = groups_frame(scope, dept, per, hi, lo, basis, lang)
        stem = f"{dept}-drg-groups-{per.start}-{per.end}"
    else:
        df = cases_frame(scope, dept, per, code, hi, lo, basis, lang)
        stem = f"{dept}-drg-{code}-cases-{per.start}-{per.end}"
    specs = GROUP_COLS + tuple((c, k, "yuan") for c, k in STRUCTURE_COLS) if table == "groups" else CASE_COLS
    kinds = {t(f"ws.drg.c.{k}", lang): cell_kind(kind) for _c, k, kind in specs} | {t("ws.drg.c.discharge", lang): "date"}
    title = t("ws.drg.groups", lang) if table == "groups" else t("ws.drg.cases_title", lang, code=code)
    return send_table(df, stem, fmt, f"workspace drg {dept} {table}", title=title, kinds=kinds, period=per, dept=dept)
