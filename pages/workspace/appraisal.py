"""Workspace · national appraisal (国考指标): the scorecard of the leadership screen for the reader's
scope (a director: his departments), this year to date against last year and the published medians,
and a drill-down from any of its cells to the clinical departments behind the figure, then a
department's DRG groups, then the cases (data_layer/queries/scorecard.py: breakdown, item_cases).

The drill-down lives in the address (`?period=ytd&item=alos&dept=D001&drg=IB23`) so it survives a
reload and can be shared: the kit checks the department against the scope and resolves the period;
an unknown indicator, or a DRG group the department has no cases of, is named in a note or a
message and the level above is shown.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from components import scorecard as view
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import DESK, grid_class
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.drill_path import clean_id, valid_period_key
from data_layer.queries.scorecard import (
    CASE_CAP,
    CASE_RULES,
    breakdown,
    drags,
    item_case_count,
    item_cases,
    scorecard,
    trend,
)
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from data_layer.scorecard import ITEMS

from .._address import check_choice
from .._common import warehouse
from .._kit import READERS, Ask, Export, export_callback, page_callback, safe
from ._frame import Start, begin, frame, period_options, section, section_page

dash.register_page(__name__, **section_page("appraisal"))
CODES = {i.code: i for i in ITEMS if i.code is not None}
LEVEL_GRID = {"type": "ws-ap-level", "index": "desk"}
PATH = "/workspace/appraisal"


def _state(period: str, item: str | None, dept: str | None, drg: str | None) -> dict[str, Any]:
    return {"period": period, "item": item, "dept": dept if item else None, "drg": drg if item and dept else None}


def _place(state: Any) -> tuple[Any, Any]:
    """The department (None: the whole scope) and the period key of the stored state, for the kit."""
    if not isinstance(state, dict):
        return None, None
    return clean_id(state.get("dept")), state.get("period")


def _query(state: dict[str, Any]) -> str:
    return "?" + urlencode({k: v for k, v in state.items() if v})


def layout(dept: str | None = None, period: str | None = None, item: str | None = None, drg: str | None = None,
           **_q: str) -> Any:
    start = begin(__name__, dept or None, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    names = {c: i.name(lang) for c, i in CODES.items()}
    code, note = check_choice("item", item, names, lang, default=None, shown=t("ws.ap.top", lang))
    state = _state(start.period, code, dept or None, clean_id(drg))
    controls = html.Label([t("ws.revenue.period", lang),
                           dcc.Dropdown(id="ws-ap-period", options=period_options(lang, start.period),
                                        value=start.period, clearable=False, className="dw-select")],
                          className="wsr-control")
    return frame("appraisal", start, notes=(note,), dept_picker=False, period_picker=False,
                 subtitle=t(f"ws.ap.scope.{_scope_kind()}", lang), body=[
                     dcc.Store(id="ws-ap-state", data=state),
                     section("appraisal", lang, html.Div(id="ws-ap-card"), exports=(("appraisal", "scorecard"),)),
                     html.Div(controls, className="wsr-controls"),
                     html.Nav(id="ws-ap-crumbs", className="ap-crumbs", **{"aria-label": t("ws.ap.crumbs", lang)}),
                     section("appraisal-drill", lang, html.Div(id="ws-ap-drill"), exports=(("appraisal", "level"),),
                             title=t("ws.ap.drill_title", lang)),
                 ])


def _scope_kind() -> str:
    from .._common import current_scope

    kind = current_scope().kind
    return kind if kind in ("hospital", "campus") else "departments"


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("ws-ap-period", "value"),
               State("ws-ap-state", "data"), roles=READERS, place=lambda _p, state: _place(state),
               prevent_initial_call=True)
def pick_period(_ask: Ask, period: Any, state: Any) -> Any:
    """Another period keeps the drill-down where it is."""
    if not valid_period_key(period) or not isinstance(state, dict) or period == state.get("period"):
        return no_update
    return _query({**state, "period": period})


@page_callback(Output("_pages_location", "search", allow_duplicate=True),
               Input({**view.GRID_ID, "index": ALL}, "cellClicked"), Input({**LEVEL_GRID, "index": ALL}, "cellClicked"),
               State("ws-ap-state", "data"), roles=READERS, place=lambda _c, _l, state: _place(state),
               prevent_initial_call=True)
def drill(_ask: Ask, card_cells: Any, level_cells: Any, state: Any) -> Any:
    """A scorecard cell opens its indicator's departments (the last year's cell: last year's); a row
    of the departments opens the department's DRG groups, a group's row its cases."""
    trig = ctx.triggered_id
    if not isinstance(state, dict) or not isinstance(trig, dict):
        return no_update
    card_cell = next((c for c in card_cells or [] if isinstance(c, dict)), None)
    level_cell = next((c for c in level_cells or [] if isinstance(c, dict)), None)
    if trig.get("type") == view.GRID_ID["type"] and card_cell is not None:
        code = card_cell.get("rowId")
        if code not in CODES:
            return no_update
        period = "last-year" if card_cell.get("colId") == "last_text" else (
            "ytd" if card_cell.get("colId") == "ytd_text" else state.get("period") or "ytd")
        return _query(_state(period, code, None, None))
    key = clean_id(level_cell.get("rowId")) if isinstance(level_cell, dict) else None
    if key is None or not state.get("item"):
        return no_update
    if not state.get("dept"):
        return _query(_state(state["period"], state["item"], key, None))
    if not state.get("drg"):
        return _query(_state(state["period"], state["item"], state["dept"], key))
    return no_update


@page_callback(Output("ws-ap-card", "children"), Input("ws-ap-state", "data"), roles=READERS,
               place=_place, cached=True, key_args=lambda _state: ())
def card(ask: Ask, _state_: Any) -> Any:
    """The scorecard of the reader's scope (it does not follow the drill-down or the period)."""
    def build() -> Any:
        wh, lang = warehouse(), ask.lang
        sc = scorecard(wh, ask.scope)
        shown = sc[sc["available"].astype(bool)]
        pulls = {c: drags(wh, ask.scope, c, 3) for c in shown["code"]}
        parts = [html.P(t("ws.ap.scope_note", lang, scope=t(f"ws.ap.scope.{_scope_kind()}", lang)), className="note"),
                 view.desk_grid(view.desk_frame(sc, pulls, lang), lang), view.cannot_give(sc, lang),
                 html.P([t("ap.status_note", lang), " ", t("ap.drags_note", lang)], className="note")]
        if sc["national_median"].isna().all() and sc["provincial_median"].isna().all():
            parts.insert(0, html.Div(t("ap.no_benchmarks", lang), className="alert alert-info", id="ws-ap-no-bench"))
        return parts
    return safe(build, ask.lang, "appraisal scorecard")


@page_callback(Output("ws-ap-crumbs", "children"), Output("ws-ap-drill", "children"), Input("ws-ap-state", "data"),
               roles=READERS, place=_place, cached=True)
def render(ask: Ask, state: Any) -> tuple:
    lang = ask.lang
    if not isinstance(state, dict) or state.get("item") not in CODES:
        return None, html.P(t("ws.ap.drill_hint", lang), className="note")
    try:
        return _crumbs(ask, state), _drill(ask, state)
    except UserError as exc:
        return _crumbs(ask, state), html.Div(str(exc), className="alert alert-warning", role="alert", id="ws-ap-error")


def _name(ask: Ask, code: str) -> str:
    return CODES[code].name(ask.lang)


def _period_text(per: Period) -> str:
    return f"{per.start} – {per.end}"


def _drill(ask: Ask, state: dict[str, Any]) -> Any:
    wh, lang, code, dept = warehouse(), ask.lang, state["item"], ask.dept
    row = scorecard(wh, ask.scope).set_index("name_en").loc[CODES[code].name_en]
    if not row["available"]:
        return html.Div(t("ws.ap.not_available", lang, reason=row["reason_zh" if lang == "zh" else "reason_en"]),
                        className="alert alert-info", id="ws-ap-unavailable")
    place = Scope.departments((dept,)) if dept else ask.scope
    parts: list[Any] = [html.H3(t("ws.ap.trend", lang, name=_name(ask, code)), className="h6"),
                        dcc.Graph(figure=_trend_figure(trend(wh, place, code), code, row, lang),
                                  config={"displayModeBar": False}, className="ap-trend-graph")]
    per, name = ask.period, _name(ask, code)
    if not dept:
        df = breakdown(wh, ask.scope, code, per, "department")
        parts += [html.H3(t("ws.ap.departments", lang, name=name, period=_period_text(per)), className="h6"),
                  _level_grid(df, code, "department", lang), html.P(t("ws.ap.drill_hint", lang), className="note")]
        return parts
    dept_name = _dept_name(ask, dept)
    if Level.drg not in INDICATORS[code].levels or code not in CASE_RULES:
        return [*parts, html.Div(t("ws.ap.no_drg", lang), className="alert alert-info", id="ws-ap-no-drg")]
    groups = breakdown(wh, ask.scope, code, per, "drg", dept)
    drg = state.get("drg")
    if drg and drg not in set(groups["key"]):
        parts.append(html.Div(t("ws.ap.bad_drg", lang, drg=str(drg)[:20], dept=dept_name), className="alert alert-warning",
                              id="ws-ap-bad-drg"))
        drg = None
    if not drg:
        return [*parts, html.H3(t("ws.ap.groups", lang, name=name, dept=dept_name, period=_period_text(per)), className="h6"),
                _level_grid(groups, code, "drg", lang), html.P(t("ws.ap.drill_hint", lang), className="note")]
    cases = item_cases(wh, ask.scope, code, per, dept, drg)
    n = item_case_count(wh, ask.scope, code, per, dept, drg)
    return [*parts, html.H3(t("ws.ap.cases", lang, name=name, period=_period_text(per)), className="h6"),
            html.P(t("ws.ap.cases_count", lang, n=n, shown=min(n, CASE_CAP)), className="note"),
            _cases_grid(cases, code, lang)]


def _dept_name(ask: Ask, dept: str) -> str:
    from data_layer.queries.structure import departments

    deps = departments(warehouse(), ask.scope)
    row = deps[deps["dept_id"] == dept]
    return str(row.iloc[0][ask.name_col]) if not row.empty else dept


def _value_kind(code: str) -> tuple[str, int | None]:
    unit = INDICATORS[code].unit
    if unit == "ratio":
        return "percent", 2
    if unit == "yuan":
        return "money", None
    return "ratio", 2


def _level_columns(code: str, by: str, lang: str) -> list[Column]:
    kind, decimals = _value_kind(code)
    return [Column("name", t(f"ws.ap.col.{'department' if by == 'department' else 'drg'}", lang), pinned=True),
            Column("value", t("ws.ap.col.value", lang), kind, decimals=decimals),  # type: ignore[arg-type]
            Column("volume", t("ws.ap.col.volume", lang), "integer"),
            Column("weight", t("ws.ap.col.weight", lang), "percent"),
            Column("gap", t("ws.ap.col.gap", lang), kind, decimals=decimals),  # type: ignore[arg-type]
            Column("drag", t("ws.ap.col.drag", lang), "ratio", decimals=4)]


def _level_grid(df: pd.DataFrame, code: str, by: str, lang: str) -> Any:
    if df.empty:
        return html.P(t("ws.ap.none", lang), className="note")
    col = "name_zh" if lang == "zh" else "name_en"
    shown = df.assign(name=[f"{k} {n}" if by == "drg" else n for k, n in zip(df["key"], df[col], strict=True)])
    grid = data_grid(shown, _level_columns(code, by, lang), lang, LEVEL_GRID, row_id="key", visible_rows=12)
    for spec in grid.columnDefs:
        if spec["field"] in ("gap", "drag"):
            spec["cellClassRules"] = {grid_class("bad"): "params.value !== null && params.value > 0",
                                      grid_class("good"): "params.value !== null && params.value < 0"}
    return grid


def _cases_grid(df: pd.DataFrame, code: str, lang: str) -> Any:
    if df.empty:
        return html.P(t("ws.ap.none", lang), className="note")
    zh = lang == "zh"
    shown = df.assign(dept=df["dept_zh" if zh else "dept_en"],
                      drg=[f"{c} {n}" if isinstance(c, str) else "—" for c, n in zip(df["drg_code"],
                                                                                      df["drg_zh" if zh else "drg_en"],
                                                                                      strict=True)])
    flag = INDICATORS[code].unit == "ratio"
    cols = [Column("case_id", t("ws.ap.col.case_id", lang), pinned=True),
            Column("discharge_date", t("ws.ap.col.discharge_date", lang), "date"),
            Column("dept", t("ws.ap.col.department", lang)), Column("drg", t("ws.ap.col.drg", lang)),
            Column("los_days", t("ws.ap.col.los_days", lang), "integer"),
            Column("charge_total", t("ws.ap.col.charge_total", lang), "money"),
            Column("contribution", t("ws.ap.col.contribution", lang), "integer" if flag else "ratio")]
    return data_grid(shown, cols, lang, "ws-ap-cases", row_id="case_id", visible_rows=14)


def _trend_figure(tr: pd.DataFrame, code: str, row: Any, lang: str) -> go.Figure:
    ind = INDICATORS[code]
    scale = 100.0 if ind.unit == "ratio" else 1.0
    fig = go.Figure(go.Scatter(x=[str(m)[:7] for m in tr["month_start"]], y=tr["value"] * scale, mode="lines+markers",
                               name=t("ap.col.ytd", lang), line={"color": DESK.neutral}))
    if row["national_median"] == row["national_median"]:
        fig.add_hline(y=float(row["national_median"]) * scale, line={"dash": "dash", "color": DESK.good},
                      annotation_text=t("ap.col.national", lang), annotation_position="top left")
    fig.update_layout(margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=240, showlegend=False,
                      yaxis={"ticksuffix": "%" if ind.unit == "ratio" else ""}, template="plotly_white")
    return fig


def _crumbs(ask: Ask, state: dict[str, Any]) -> Any:
    """Scorecard › indicator › department › DRG group, each a link back to its level."""
    code, dept, drg = state.get("item"), ask.dept, state.get("drg")
    period = state.get("period") or "ytd"
    parts = [(t("ws.ap.top", ask.lang), _query(_state(period, None, None, None)))]
    if code in CODES:
        parts.append((_name(ask, code), _query(_state(period, code, None, None))))
        if dept:
            parts.append((_dept_name(ask, dept), _query(_state(period, code, dept, None))))
            if drg:
                parts.append((str(drg)[:20], _query(_state(period, code, dept, drg))))
    out: list[Any] = []
    for i, (label, q) in enumerate(parts):
        if i:
            out.append(html.Span("›", className="sep"))
        out.append(dcc.Link(label, href=PATH + q) if i < len(parts) - 1 else html.Strong(label))
    return out


# ---- export ---------------------------------------------------------------------------------------
def _export_card(ask: Ask, _state_: Any) -> Export:
    wh, lang = warehouse(), ask.lang
    sc = scorecard(wh, ask.scope)
    pulls = {c: drags(wh, ask.scope, c, 3) for c in sc.loc[sc["available"].astype(bool), "code"]}
    df = view.desk_frame(sc, pulls, lang)
    cols = {c: t(f"ap.col.{k}", lang) for c, k in (("group_name", "group"), ("name", "name"), ("ytd_text", "ytd"),
                                                   ("last_text", "last_year"), ("national_text", "national"),
                                                   ("provincial_text", "provincial"), ("direction", "direction"),
                                                   ("status_text", "status"), ("drags", "drags"), ("source", "source"))}
    return Export(df[list(cols)].rename(columns=cols), "appraisal-scorecard", "appraisal scorecard",
                  title=t("ws.appraisal", lang), dated=False, dept=None)


def _export_level(ask: Ask, state: Any) -> Export:
    if not isinstance(state, dict) or state.get("item") not in CODES:
        raise UserError(t("ws.ap.drill_hint", ask.lang))
    code, dept = state["item"], ask.dept
    by = "drg" if dept else "department"
    if by == "drg" and code not in CASE_RULES:
        raise UserError(t("ws.ap.no_drg", ask.lang))
    df = breakdown(warehouse(), ask.scope, code, ask.period, by, dept)
    cols = {c.id: c.header for c in _level_columns(code, by, ask.lang)}
    col = "name_zh" if ask.lang == "zh" else "name_en"
    out = df.assign(name=df[col])[["key", *cols]].rename(columns=cols)
    return Export(out, f"appraisal-{code}-{dept or 'departments'}-{ask.period.start}-{ask.period.end}",
                  f"appraisal {code} by {by}", title=_name(ask, code), period=ask.period, dept=dept)


export_callback("appraisal", {"scorecard": _export_card, "level": _export_level}, State("ws-ap-state", "data"),
                roles=READERS, dept=None, period=None, place=_place)
