"""Revenue drill-down (收入分析): from all the user's clinical departments down to a department, then a
ward (病区) or a medical group (医疗组), then a doctor, then the rows (inpatient cases, outpatient
doctor-days), for all medical revenue or one stream (outpatient 门急诊, inpatient 住院, bed 床位), with
the revenue structure and its change on last year (同比) and on the previous period (环比),
normalised per case, per bed-day and per visit.

The whole drill path lives in the address (`?period=ytd&stream=inpatient&dept=D001&by=group&
group=G0001&doctor=DR00012`): it can be bookmarked, the back button works, and every level keeps
the period and the stream. The state is parsed and written by data_layer/queries/drill_path.py,
beside the queries that read it; the page kit checks its department against the scope and resolves
its period, and every id below the department is checked against the department here.
"""
from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from components import revenue as view
from components.i18n import t
from data_layer.errors import UserError
from data_layer.queries.drill_path import DrillState, clean_id
from data_layer.queries.revenue import (
    EXPORT_CAP,
    STREAMS,
    UNASSIGNED,
    DrillPath,
    case_detail,
    case_rows,
    check_path,
    day_rows,
    drg_peers,
    names,
    row_counts,
)
from data_layer.queries.revenue_view import level_frame, level_total, parts_of, periods, place_totals, structure_frame
from shell.outage import plain_message

from .._address import check_choice
from .._common import warehouse, with_names
from .._kit import READERS, Ask, Export, export_callback, page_callback, safe
from ._frame import Start, begin, frame, period_options, section, section_page, warm_section

dash.register_page(__name__, **section_page("revenue"))

HIDDEN = {"display": "none"}
CASES_GRID_ALL = {**view.CASES_GRID, "index": ALL}
LEVEL_GRID_ALL = {**view.LEVEL_GRID, "index": ALL}  # pattern ids: the callbacks listen whether or not they are shown


def _place(state: Any) -> tuple[str | None, Any]:
    """The department (None: all of the reader's) and the period key of a stored drill state."""
    if not isinstance(state, dict):
        return None, None
    return DrillState.parse(state).dept, state.get("period")


def _checked(ask: Ask, state: Any) -> tuple[DrillPath, str]:
    """The path and stream of a drill state whose department the kit has checked: UserError when the
    state is not one the page wrote, or an id does not belong to the department."""
    lang = ask.lang
    if not DrillState.exact(state):
        raise UserError(t("wall.bad_filter", lang))
    s = DrillState.parse(state)
    try:
        path = s.path
    except UserError:
        raise UserError(t("ws.revenue.bad_path", lang)) from None
    bad = check_path(warehouse(), ask.scope, path)
    if bad is not None:
        what = t(f"ws.revenue.{bad}", lang)
        raise UserError(t("ws.revenue.bad_id", lang, what=what.lower() if lang == "en" else what, id=getattr(path, bad),
                          dept=_name(ask, "department", None, path.dept) if path.dept else
                          t("ws.revenue.all_depts", lang)))
    return path, s.stream


def _name(ask: Ask, level: str, dept: str | None, key: str) -> str:
    """A member's name in the reader's language (its key if the scope does not know it)."""
    if key == UNASSIGNED:
        return t("ws.revenue.unassigned", ask.lang)
    df = names(warehouse(), ask.scope, level, dept)
    row = df[df["key"] == key]
    return str(row.iloc[0][ask.name_col]) if not row.empty else key


# ---- the page ------------------------------------------------------------------------------------

def layout(dept: str | None = None, period: str | None = None, stream: str | None = None, by: str | None = None,
           ward: str | None = None, group: str | None = None, doctor: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept or None, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    state = DrillState.parse({"period": start.period, "stream": stream, "dept": dept or None, "by": by, "ward": ward,
                              "group": group, "doctor": doctor})
    notes = (check_choice("stream", stream, {s: t(f"ws.revenue.stream.{s}", lang) for s in STREAMS}, lang,
                          default="all", shown=t("ws.revenue.stream.all", lang))[1],
             check_choice("by", by, {b: t(f"ws.revenue.by.{b}", lang) for b in ("group", "ward")}, lang,
                          default=state.by, shown=t(f"ws.revenue.by.{state.by}", lang))[1])

    def radio(name: str, value: str, choices: tuple[str, ...]) -> dcc.RadioItems:
        return dcc.RadioItems(id=f"wsr-{name}", value=value, inline=True, className="wsr-radio",
                              options=[{"label": t(f"ws.revenue.{name}.{c}", lang), "value": c} for c in choices])

    controls = html.Div([
        html.Label([t("ws.revenue.period", lang),
                    dcc.Dropdown(id="wsr-period", options=period_options(lang, state.period), value=state.period,
                                 clearable=False, className="dw-select")], className="wsr-control"),
        html.Label([t("ws.revenue.stream", lang), radio("stream", state.stream, STREAMS)], className="wsr-control"),
        html.Label([t("ws.revenue.by", lang), radio("by", state.by, ("group", "ward"))],
                   className="wsr-control", style=None if state.dept else HIDDEN),
    ], className="wsr-controls")
    subtitle = start.dept_name(state.dept) if state.dept else t("ws.revenue.all_depts", lang)
    return frame("revenue", start, notes=notes, body=[
        dcc.Store(id="wsr-state", data=state.as_dict()),
        controls,
        html.Nav(id="wsr-crumbs", className="wsr-crumbs", **{"aria-label": t("ws.revenue.crumbs", lang)}),
        html.Div(id="wsr-message"),
        section("revenue-summary", lang, html.Div(id="wsr-summary"), title=t("ws.revenue.summary", lang)),
        section("revenue-structure", lang, html.Div(id="wsr-structure"), exports=(("revenue", "structure"),),
                title=t("ws.revenue.structure", lang)),
        section("revenue-level", lang, html.Div(id="wsr-level"), exports=(("revenue", "level"),),
                title=t("ws.revenue.level", lang)),
        section("revenue-cases", lang, html.Div([html.Div(id="wsr-cases"), html.Div(id="wsr-case-detail",
                                                                                    className="wsr-case-detail")]),
                exports=(("revenue", "cases"),), title=t("ws.revenue.cases_section", lang)),
        section("revenue-days", lang, html.Div(id="wsr-days"), exports=(("revenue", "days"),),
                title=t("ws.revenue.days_section", lang)),
    ], dept_picker=False, period_picker=False, subtitle=subtitle)


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("wsr-period", "value"),
               Input("wsr-stream", "value"), Input("wsr-by", "value"), State("wsr-state", "data"),
               roles=READERS, place=lambda _p, _s, _b, state: _place(state), prevent_initial_call=True)
def pick(_ask: Ask, period: Any, stream: Any, by: Any, state: Any) -> Any:
    """Another period or stream keeps the drill path; another branch goes back to the department."""
    return DrillState.parse(state).with_choice(period, stream, by).query_string()


@page_callback(Output("_pages_location", "search", allow_duplicate=True),
               Input(LEVEL_GRID_ALL, "cellClicked"), Input({"type": "wsr-bars", "index": ALL}, "clickData"),
               State("wsr-state", "data"), roles=READERS, place=lambda _c, _b, state: _place(state),
               prevent_initial_call=True)
def drill(_ask: Ask, cells: list, bars: list, state: Any) -> Any:
    """A click on a row or a bar goes one level down (the next page checks the id again)."""
    trig = ctx.triggered_id
    if not isinstance(trig, dict):
        return no_update
    if trig.get("type") == view.LEVEL_GRID["type"]:
        cell = next((c for c in cells or [] if isinstance(c, dict)), None)
        key = cell.get("rowId") if cell else None
        if key == view.TOTAL_ROW:
            return no_update
    else:
        data = next((b for b in bars or [] if b), None)
        points = data.get("points") if isinstance(data, dict) else None
        key = points[0].get("customdata") if points and isinstance(points[0], dict) else None
        if isinstance(key, list):
            key = key[0] if key else None
    s = DrillState.parse(state)
    try:
        level = s.path.level
    except UserError:
        return no_update
    if clean_id(key) is None or level == "rows":
        return no_update
    return s.down(level, key).query_string()


@page_callback(Output("wsr-crumbs", "children"), Output("wsr-message", "children"), Output("wsr-summary", "children"),
               Output("wsr-structure", "children"), Output("wsr-level", "children"), Output("wsr-cases", "children"),
               Output("wsr-days", "children"), Output("ws-sec-revenue-level", "style"),
               Output("ws-sec-revenue-cases", "style"), Output("ws-sec-revenue-days", "style"),
               Input("wsr-state", "data"), roles=READERS, place=_place, cached=True, by_department=True)
def render(ask: Ask, state: Any) -> tuple:
    lang = ask.lang
    crumbs = _crumbs(ask, state)
    try:
        path, stream = _checked(ask, state)
    except UserError as exc:
        msg = html.Div(plain_message(exc, lang), className="alert alert-warning", role="alert", id="wsr-error")
        return crumbs, msg, None, None, None, None, None, HIDDEN, HIDDEN, HIDDEN
    notes = []
    if path.ward_branch:
        notes.append(html.Div(t("ws.revenue.ward_note", lang), className="alert alert-info wsr-ward-note",
                              id="wsr-ward-note"))
    if path.ward_branch and stream == "outpatient":
        notes = [html.Div(t("ws.revenue.ward_no_outpatient", lang), className="alert alert-warning",
                          id="wsr-ward-note")]
        return crumbs, notes, None, None, None, None, None, HIDDEN, HIDDEN, HIDDEN
    wh, scope, per, sources = warehouse(), ask.scope, ask.period, path.sources(stream)
    rows_level = path.level == "rows"
    show_cases, show_days = rows_level and sources[0], rows_level and sources[1]

    def summary() -> Any:
        return view.summary_cards(place_totals(wh, scope, path, stream, per), sources, stream, periods(wh, per), lang)

    def structure() -> Any:
        return view.structure_section(structure_frame(wh, scope, path, stream, per),
                                      place_totals(wh, scope, path, stream, per), sources, lang)

    def level() -> Any:
        df = level_frame(wh, scope, path, stream, per)
        return view.level_section(df, path.level, view.level_columns(sources, stream),
                                  level_total(df) if not df.empty else {}, lang)

    def cases() -> Any:
        return view.cases_section(_all_cases(ask, path, stream), stream, EXPORT_CAP, lang)

    def days() -> Any:
        return view.days_section(_all_days(ask, path, stream), EXPORT_CAP, lang)

    return (crumbs, notes, safe(summary, lang, "revenue summary"), safe(structure, lang, "revenue structure"),
            None if rows_level else safe(level, lang, "revenue level"),
            safe(cases, lang, "revenue cases") if show_cases else None,
            safe(days, lang, "revenue days") if show_days else None,
            HIDDEN if rows_level else None, None if show_cases else HIDDEN, None if show_days else HIDDEN)


warm_section("revenue", render, lambda d, p: [(DrillState(period=p, dept=d).as_dict(),)])


def _all_cases(ask: Ask, path: DrillPath, stream: str) -> Any:
    """Every inpatient case of the place, biggest first (the grid virtualises them)."""
    cur = periods(warehouse(), ask.period)[0]
    n, _ = row_counts(warehouse(), ask.scope, cur, stream, path)
    return case_rows(warehouse(), ask.scope, cur, stream, path, max(n, 1))


def _all_days(ask: Ask, path: DrillPath, stream: str) -> Any:
    """Every outpatient doctor-day of the place, biggest revenue first."""
    cur = periods(warehouse(), ask.period)[0]
    _, n = row_counts(warehouse(), ask.scope, cur, stream, path)
    return day_rows(warehouse(), ask.scope, cur, stream, path, max(n, 1))


def _crumbs(ask: Ask, state: Any) -> Any:
    """All my departments › department › ward or group › doctor (the kit has checked the department)."""
    if not isinstance(state, dict):
        return None
    s, lang = DrillState.parse(state), ask.lang
    href = lambda cut: "/workspace/revenue" + s.up_to(cut).query_string()  # noqa: E731
    parts = [("top", t("ws.revenue.all_depts", lang), href("top"))]
    try:
        if s.dept:
            parts.append(("dept", _name(ask, "department", None, s.dept), href("dept")))
            member, level = (s.ward, "ward") if s.ward else (s.group, "group")
            if member:
                label = view.member_label(level, _name(ask, level, s.dept, member), lang)
                parts.append(("member", label, href("member")))
                if s.doctor:
                    parts.append(("doctor", _name(ask, "doctor", s.dept, s.doctor), href("doctor")))
    except Exception:  # noqa: BLE001 - a crumb never breaks the page; the checks answer below
        parts = parts[:1]
    return view.crumbs(parts, lang)


@page_callback(Output("wsr-case-detail", "children"), Input(CASES_GRID_ALL, "selectedRows"), State("wsr-state", "data"),
               roles=READERS, place=lambda _c, state: _place(state), prevent_initial_call=True)
def open_case(ask: Ask, selected: list, state: Any) -> Any:
    """Selecting a case (a click on its row, or Space on it from the keyboard) opens its detail: the
    case is looked up again behind the page's drill path, period and scope, so a forged case id
    shows nothing of another place."""
    rows = next((r for r in selected or [] if isinstance(r, list) and r), None)
    case_id = clean_id(rows[0].get("case_id")) if rows and isinstance(rows[0], dict) else None
    if case_id is None:
        return no_update
    try:
        path, _stream = _checked(ask, state)
    except UserError as exc:
        return html.Div(plain_message(exc, ask.lang), className="alert alert-warning", role="alert")
    if path.level != "rows":
        return no_update
    cur = periods(warehouse(), ask.period)[0]
    case = case_detail(warehouse(), ask.scope, cur, path, case_id)
    code = case.iloc[0]["drg_code"] if not case.empty else None
    peers = drg_peers(warehouse(), ask.scope, cur, path.dept, code) if isinstance(code, str) and path.dept else None
    return view.case_detail(case, peers, ask.lang)


# ---- export --------------------------------------------------------------------------------------

TITLES = {"structure": "ws.revenue.structure", "level": "ws.revenue.level", "cases": "ws.revenue.cases_section",
          "days": "ws.revenue.days_section"}


def _export(table: str) -> Any:
    """The builder of one table's export: the table within the reader's scope, headers in the reader's language."""
    def build(ask: Ask, state: Any) -> Export:
        path, stream = _checked(ask, state)
        lang, wh, per = ask.lang, warehouse(), ask.period
        if table == "structure":
            df = view.structure_export(structure_frame(wh, ask.scope, path, stream, per), lang)
        elif table == "level":
            if path.level == "rows":
                raise UserError(t("ws.revenue.level_hint.rows", lang))
            cols = view.level_columns(path.sources(stream), stream)
            df = view.level_export(level_frame(wh, ask.scope, path, stream, per), cols, parts_of(stream), lang)
        else:
            cur = periods(wh, per)[0]
            df = case_rows(wh, ask.scope, cur, stream, path, EXPORT_CAP) if table == "cases" else \
                day_rows(wh, ask.scope, cur, stream, path, EXPORT_CAP)
            if table == "cases":
                df = df.drop(columns=["drg_en" if lang == "zh" else "drg_zh"])
            df = with_names(df, lang).rename(columns={c: view.column_label(c, lang) for c in df.columns})
        place = "-".join(x for x in (path.dept or "all", path.ward or path.group, path.doctor) if x)
        return Export(df, f"revenue-{table}-{stream}-{place}-{per.start}-{per.end}", f"revenue {table} {stream} {place}",
                      title=t(TITLES[table], lang), kinds=view.export_kinds(lang), period=per, dept=path.dept)

    return build


export_callback("revenue", {table: _export(table) for table in TITLES}, State("wsr-state", "data"), roles=READERS,
                dept=None, period=None, place=_place)
