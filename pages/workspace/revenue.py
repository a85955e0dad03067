"""Revenue drill-down (收入分析): from all the user's clinical departments down to a department, then a
ward (病区) or a medical group (医疗组), then a doctor, then the rows (inpatient cases, outpatient
doctor-days), for all medical revenue or one stream (outpatient 门急诊, inpatient 住院, bed 床位), with
the revenue structure and its change on last year (同比) and on the previous period (环比),
normalised per case, per bed-day and per visit.

The whole drill path lives in the address (`?period=ytd&stream=inpatient&dept=D001&by=group&
group=G0001&doctor=DR00012`): it can be bookmarked, the back button works, and every level keeps
the period and the stream. Each id is re-checked against the department and the user's scope.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import g

from components.format import format_amount, format_change, format_points
from components.i18n import t
from components.palette import judge_change, trend_class
from components.revenue import CASES_GRID, LEVEL_GRID, TOTAL_ROW, case_grid, column_label, day_grid, level_grid
from components.revenue import case_detail as case_detail_view
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.kpis import comparison_periods
from data_layer.queries.revenue import (
    EXPORT_CAP,
    OP_PARTS,
    PARTS,
    STREAMS,
    UNASSIGNED,
    DrillPath,
    case_detail,
    case_rows,
    check_path,
    combine,
    day_rows,
    drg_peers,
    members,
    names,
    ratio,
    row_counts,
    totals,
)
from data_layer.registry import INDICATORS
from data_layer.scope import Scope
from shell.access import secured
from shell.outage import plain_message

from .._address import check_choice
from .._common import cached_answer, current_lang, current_scope, send_table, warehouse, with_names
from .._kit import safe
from ._frame import (
    ROLES,
    Start,
    begin,
    check_department,
    export_request,
    frame,
    period_options,
    resolve_period,
    section,
    section_page,
    valid_period_key,
)

dash.register_page(__name__, **section_page("revenue"))

TABLES = ("structure", "level", "cases", "days")
KEYS = ("period", "stream", "dept", "by", "ward", "group", "doctor")
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999", "#000000")
BAR_CAP = 30
HIDDEN = {"display": "none"}
CASES_GRID_ALL = {**CASES_GRID, "index": ALL}
LEVEL_GRID_ALL = {**LEVEL_GRID, "index": ALL}  # the case grid, when it is on the page


# ---- the address ---------------------------------------------------------------------------------

def _id(value: Any) -> str | None:
    """An id from the address: a short string or nothing (anything else is dropped)."""
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def clean_state(period: Any = None, stream: Any = None, dept: Any = None, by: Any = None, ward: Any = None,
                group: Any = None, doctor: Any = None) -> dict[str, Any]:
    """The drill state from the address, with defaults for a missing period, stream or branch."""
    return {"period": period if valid_period_key(period) else "ytd", "stream": stream if stream in STREAMS else "all",
            "dept": _id(dept), "by": "ward" if by == "ward" or _id(ward) else "group", "ward": _id(ward),
            "group": _id(group), "doctor": _id(doctor)}


def address(state: dict[str, Any]) -> str:
    """The query string of a drill state (only the parts that are set)."""
    q = {k: state.get(k) for k in KEYS if state.get(k)}
    if not q.get("dept"):
        q.pop("by", None)
    return "?" + urlencode(q)


def up_to(state: dict[str, Any], level: str) -> dict[str, Any]:
    """The state cut back to a level: top (all departments), dept, branch member (ward/group), doctor."""
    keep = {"top": ("period", "stream"), "dept": ("period", "stream", "dept", "by"),
            "member": ("period", "stream", "dept", "by", "ward", "group"), "doctor": KEYS}[level]
    return {k: (state.get(k) if k in keep else None) for k in KEYS}


def down(state: dict[str, Any], level: str, key: str) -> dict[str, Any]:
    """The state one level below, at member `key` of `level`."""
    nxt = dict(state)
    nxt[{"department": "dept", "ward": "ward", "group": "group", "doctor": "doctor"}[level]] = key
    if level == "ward":
        nxt["by"] = "ward"
    return nxt


def drill_path(state: dict[str, Any]) -> DrillPath:
    return DrillPath(state.get("dept"), state.get("by") or "group", state.get("ward"), state.get("group"),
                     state.get("doctor"))


def _state_dept(state: Any) -> list[str | None]:
    return [state.get("dept")] if isinstance(state, dict) else []


def resolve(state: Any) -> tuple[DrillPath, str, Period]:
    """Check a drill state from the browser: the department in scope (PermissionDenied otherwise),
    the period, the stream, and that every id belongs to the department (UserError otherwise)."""
    lang = current_lang()
    if not isinstance(state, dict):
        raise UserError(t("wall.bad_filter", lang))
    s = clean_state(**{k: state.get(k) for k in KEYS})
    if s["stream"] != state.get("stream") or s["period"] != state.get("period"):
        raise UserError(t("wall.bad_filter", lang))
    if s["dept"] is not None:
        check_department(s["dept"])
    per = resolve_period(s["period"])
    try:
        path = drill_path(s)
    except UserError:
        raise UserError(t("ws.revenue.bad_path", lang)) from None
    bad = check_path(warehouse(), current_scope(), path)
    if bad is not None:
        what = t(f"ws.revenue.{bad}", lang)
        raise UserError(t("ws.revenue.bad_id", lang, what=what.lower() if lang == "en" else what, id=getattr(path, bad),
                          dept=_dept_name(path.dept, lang)))
    return path, s["stream"], per


def _dept_name(dept: str | None, lang: str) -> str:
    if dept is None:
        return t("ws.revenue.all_depts", lang)
    df = names(warehouse(), current_scope(), "department", None)
    row = df[df["key"] == dept]
    return str(row.iloc[0]["name_zh" if lang == "zh" else "name_en"]) if not row.empty else dept


def member_name(scope: Scope, level: str, dept: str | None, key: str, lang: str) -> str:
    if key == UNASSIGNED:
        return t("ws.revenue.unassigned", lang)
    df = names(warehouse(), scope, level, dept)
    row = df[df["key"] == key]
    return str(row.iloc[0]["name_zh" if lang == "zh" else "name_en"]) if not row.empty else key


# ---- the page ------------------------------------------------------------------------------------

def layout(dept: str | None = None, period: str | None = None, stream: str | None = None, by: str | None = None,
           ward: str | None = None, group: str | None = None, doctor: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept or None, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    state = clean_state(start.period, stream, dept or None, by, ward, group, doctor)
    notes = (check_choice("stream", stream, {s: t(f"ws.revenue.stream.{s}", lang) for s in STREAMS}, lang,
                          default="all", shown=t("ws.revenue.stream.all", lang))[1],
             check_choice("by", by, {b: t(f"ws.revenue.by.{b}", lang) for b in ("group", "ward")}, lang,
                          default=state["by"], shown=t(f"ws.revenue.by.{state['by']}", lang))[1])
    controls = html.Div([
        html.Label([t("ws.revenue.period", lang),
                    dcc.Dropdown(id="wsr-period", options=period_options(lang, state["period"]), value=state["period"],
                                 clearable=False, className="dw-select")], className="wsr-control"),
        html.Label([t("ws.revenue.stream", lang),
                    dcc.RadioItems(id="wsr-stream", value=state["stream"], inline=True, className="wsr-radio",
                                   options=[{"label": t(f"ws.revenue.stream.{s}", lang), "value": s} for s in STREAMS])],
                   className="wsr-control"),
        html.Label([t("ws.revenue.by", lang),
                    dcc.RadioItems(id="wsr-by", value=state["by"], inline=True, className="wsr-radio",
                                   options=[{"label": t(f"ws.revenue.by.{b}", lang), "value": b} for b in ("group", "ward")])],
                   className="wsr-control", style=None if state["dept"] else HIDDEN),
    ], className="wsr-controls")
    subtitle = start.dept_name(state["dept"]) if state["dept"] else t("ws.revenue.all_depts", lang)
    return frame("revenue", start, notes=notes, body=[
        dcc.Store(id="wsr-state", data=state),
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
                exports=(("revenue", "cases"),),
                title=t("ws.revenue.cases_section", lang)),
        section("revenue-days", lang, html.Div(id="wsr-days"), exports=(("revenue", "days"),),
                title=t("ws.revenue.days_section", lang)),
    ], dept_picker=False, period_picker=False, subtitle=subtitle)


@callback(Output("_pages_location", "search", allow_duplicate=True), Input("wsr-period", "value"),
          Input("wsr-stream", "value"), Input("wsr-by", "value"), State("wsr-state", "data"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _p, _s, _b, state: _state_dept(state))
def pick(period: Any, stream: Any, by: Any, state: Any) -> Any:
    """Another period or stream keeps the drill path; another branch goes back to the department."""
    if not isinstance(state, dict):
        return no_update
    nxt = clean_state(**{k: state.get(k) for k in KEYS})
    nxt["period"] = period if valid_period_key(period) else nxt["period"]
    nxt["stream"] = stream if stream in STREAMS else nxt["stream"]
    if by in ("group", "ward") and by != nxt["by"]:
        nxt = {**up_to(nxt, "dept"), "by": by}
    return address(nxt)


@callback(Output("_pages_location", "search", allow_duplicate=True),
          Input(LEVEL_GRID_ALL, "cellClicked"), Input({"type": "wsr-bars", "index": ALL}, "clickData"),
          State("wsr-state", "data"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, _d, state: _state_dept(state))
def drill(cells: list, bars: list, state: Any) -> Any:
    """A click on a row or a bar goes one level down (the next page checks the id again)."""
    trig = ctx.triggered_id
    if not isinstance(state, dict) or not isinstance(trig, dict):
        return no_update
    if trig.get("type") == LEVEL_GRID["type"]:
        cell = next((c for c in cells or [] if isinstance(c, dict)), None)
        key = cell.get("rowId") if cell else None
        if key == TOTAL_ROW:
            return no_update
    else:
        data = next((b for b in bars or [] if b), None)
        points = data.get("points") if isinstance(data, dict) else None
        key = points[0].get("customdata") if points and isinstance(points[0], dict) else None
        if isinstance(key, list):
            key = key[0] if key else None
    s = clean_state(**{k: state.get(k) for k in KEYS})
    try:
        level = drill_path(s).level
    except UserError:
        return no_update
    if _id(key) is None or level == "rows":
        return no_update
    return address(down(s, level, key))


@callback(Output("wsr-crumbs", "children"), Output("wsr-message", "children"), Output("wsr-summary", "children"),
          Output("wsr-structure", "children"), Output("wsr-level", "children"), Output("wsr-cases", "children"),
          Output("wsr-days", "children"), Output("ws-sec-revenue-level", "style"), Output("ws-sec-revenue-cases", "style"),
          Output("ws-sec-revenue-days", "style"),
          Input("wsr-state", "data"))
@secured(roles=ROLES, departments=lambda state: _state_dept(state))
@cached_answer()
def render(state: Any) -> tuple:
    lang = current_lang()
    crumbs = _crumbs(state, lang)
    try:
        path, stream, per = resolve(state)
    except UserError as exc:
        msg = html.Div(plain_message(exc, lang), className="alert alert-warning", role="alert", id="wsr-error")
        return crumbs, msg, None, None, None, None, None, HIDDEN, HIDDEN, HIDDEN
    scope = current_scope()
    notes = []
    if path.ward_branch:
        notes.append(html.Div(t("ws.revenue.ward_note", lang), className="alert alert-info wsr-ward-note",
                              id="wsr-ward-note"))
    if path.ward_branch and stream == "outpatient":
        notes = [html.Div(t("ws.revenue.ward_no_outpatient", lang), className="alert alert-warning",
                          id="wsr-ward-note")]
        return crumbs, notes, None, None, None, None, None, HIDDEN, HIDDEN, HIDDEN
    rows_level = path.level == "rows"
    use_ip, use_op = path.sources(stream)
    show_cases, show_days = rows_level and use_ip, rows_level and use_op
    return (crumbs, notes,
            safe(lambda: _summary(scope, path, stream, per, lang), lang, "revenue summary"),
            safe(lambda: _structure(scope, path, stream, per, lang), lang, "revenue structure"),
            None if rows_level else safe(lambda: _level(scope, path, stream, per, lang), lang, "revenue level"),
            safe(lambda: _cases(scope, path, stream, per, lang), lang, "revenue cases") if show_cases else None,
            safe(lambda: _days(scope, path, stream, per, lang), lang, "revenue days") if show_days else None,
            HIDDEN if rows_level else None, None if show_cases else HIDDEN, None if show_days else HIDDEN)


def _crumbs(state: Any, lang: str) -> Any:
    """All my departments › department › ward or group › doctor; every crumb but the last is a link."""
    if not isinstance(state, dict):
        return None
    s = clean_state(**{k: state.get(k) for k in KEYS})
    scope = current_scope()
    parts: list[tuple[str, str]] = [("top", t("ws.revenue.all_depts", lang))]
    try:
        if s["dept"]:
            check_department(s["dept"])
            parts.append(("dept", _dept_name(s["dept"], lang)))
            member, level = (s["ward"], "ward") if s["ward"] else (s["group"], "group")
            if member:
                parts.append(("member", f"{t(f'ws.revenue.{level}', lang)}：{member_name(scope, level, s['dept'], member, lang)}"
                              if lang == "zh" else
                              f"{t(f'ws.revenue.{level}', lang)}: {member_name(scope, level, s['dept'], member, lang)}"))
                if s["doctor"]:
                    parts.append(("doctor", member_name(scope, "doctor", s["dept"], s["doctor"], lang)))
    except Exception:  # noqa: BLE001 - a crumb never breaks the page; the checks answer below
        parts = parts[:1]
    items = []
    for i, (level, label) in enumerate(parts):
        last = i == len(parts) - 1
        item = html.Span(label, className="wsr-crumb current", **{"aria-current": "page"}) if last else \
            dcc.Link(label, href="/workspace/revenue" + address(up_to(s, level)), className="wsr-crumb",
                     id=f"wsr-crumb-{level}")
        items.append(html.Li(item))
    return html.Ol(items, className="wsr-crumb-list")


# ---- figures -------------------------------------------------------------------------------------

def _periods(per: Period) -> tuple[Period, Period, Period]:
    return comparison_periods(per, warehouse().freshness().data_through)


def place_totals(scope: Scope, path: DrillPath, stream: str, per: Period) -> dict[str, pd.Series]:
    """The place's own figures (Σ over the level below, or the rows) for this period, the previous one and
    a year ago, each combined for the stream."""
    memo = g.setdefault("wsr_place_totals", {})  # the summary, structure and level sections share them
    if (scope.key, path, stream, per) in memo:
        return memo[(scope.key, path, stream, per)]
    target = path if path.level != "rows" else DrillPath(path.dept, path.by, path.ward, path.group)
    out = {}
    for name, p in zip(("this", "previous", "year_ago"), _periods(per), strict=True):
        df = members(warehouse(), scope, p, stream, target)
        if path.level == "rows":
            df = df[df["key"] == path.doctor]
        out[name] = combine(totals(df).to_frame().T.reset_index(drop=True), stream).iloc[0]
    memo[(scope.key, path, stream, per)] = out
    return out


def _change(value: float, base: float) -> float:
    return (value - base) / abs(base) if base == base and base else float("nan")


# each card's registry indicator, whose rule (data_layer.verdict) colours its changes; None: not judged
CARD_INDICATORS: dict[str, str | None] = {
    "total": "revenue_total", "op_value": "outpatient_revenue", "ip_value": "inpatient_revenue", "cases": "discharges",
    "bed_days": "bed_days", "per_case": "charge_per_discharge", "per_bed_day": None, "visits": "outpatient_visits",
    "per_visit": "charge_per_visit"}


def _trend(change: float, col: str, value: float | None = None) -> str:
    """The class colouring a card's change: the one rule for the card's indicator."""
    code = CARD_INDICATORS.get(col)
    return trend_class(judge_change(INDICATORS[code], change, value) if code else "neutral")


def _money(v: float, lang: str) -> str:
    return format_amount(v, lang, "元" if lang == "zh" else "yuan")


def _count(v: float, lang: str) -> str:
    return format_amount(v, lang) if v == v else "—"


def _summary(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str) -> Any:
    tot = place_totals(scope, path, stream, per)
    use_ip, use_op = path.sources(stream)
    cards: list[tuple[str, str, str]] = [("total", "money", "ws.revenue.total")]
    if stream == "all" and use_op:
        cards += [("op_value", "money", "ws.revenue.op_total"), ("ip_value", "money", "ws.revenue.ip_total")]
    if use_ip:
        cards += [("cases", "count", "ws.revenue.cases"), ("bed_days", "count", "ws.revenue.bed_days"),
                  ("per_case", "money", "ws.revenue.per_case"), ("per_bed_day", "money", "ws.revenue.per_bed_day")]
    if use_op:
        cards += [("visits", "count", "ws.revenue.visits"), ("per_visit", "money", "ws.revenue.per_visit")]
    now, prev, ago = tot["this"], tot["previous"], tot["year_ago"]
    out = []
    for col, kind, label in cards:
        v = float(now[col])
        yoy, mom = _change(v, float(ago[col])), _change(v, float(prev[col]))
        out.append(html.Div([
            html.Div(t(label, lang), className="stat-label"),
            html.Div(_money(v, lang) if kind == "money" else _count(v, lang), className="stat-value",
                     id=f"wsr-card-{col}"),
            html.Div([html.Span(f"{t('ws.revenue.yoy', lang)} {format_change(yoy)}", className=_trend(yoy, col, v)), " · ",
                      html.Span(f"{t('ws.revenue.mom', lang)} {format_change(mom)}", className=_trend(mom, col, v))],
                     className="stat-change"),
        ], className="stat-card"))
    cur, prv, yago = _periods(per)
    notes = [html.P(t("ws.revenue.period_note", lang, start=cur.start, end=cur.end,
                      prev=f"{prv.start}—{prv.end}", ago=f"{yago.start}—{yago.end}"), className="note")]
    if use_ip:
        notes.append(html.P(t("ws.revenue.bedday_note", lang), className="note"))
    return [html.Div(out, className="stat-grid"), *notes]


def structure_frame(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str | None = None) -> pd.DataFrame:
    """Per revenue item: this period, previous, a year ago, share, share change, YoY, MoM, and the amount per case,
    per bed-day (inpatient portion) and per visit (outpatient portion)."""
    tot = place_totals(scope, path, stream, per)
    now, prev, ago = tot["this"], tot["previous"], tot["year_ago"]
    rows = []
    for p in _parts(stream):
        v, pv, av = float(now[p]), float(prev[p]), float(ago[p])
        share = ratio(v, float(now["total"]))
        share_ago = ratio(av, float(ago["total"]))
        rows.append({"part": p, "this": v, "previous": pv, "year_ago": av, "share": share,
                     "share_yoy": share - share_ago, "yoy": _change(v, av), "mom": _change(v, pv),
                     "per_case": ratio(float(now[f"ipx_{p}"]), float(now["cases"])),
                     "per_bed_day": ratio(float(now[f"ipx_{p}"]), float(now["bed_days"])),
                     "per_visit": ratio(float(now[f"opx_{p}"]), float(now["visits"]))})
    df = pd.DataFrame(rows)
    if lang is not None:
        df["part"] = [t(f"ws.revenue.part.{p}", lang) for p in df["part"]]
    return df


def _parts(stream: str) -> tuple[str, ...]:
    return {"outpatient": OP_PARTS, "bed": ("bed",)}.get(stream, PARTS)


def _structure(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str) -> Any:
    df = structure_frame(scope, path, stream, per)
    use_ip, use_op = path.sources(stream)
    cols = ["this", "share", "share_yoy", "yoy", "mom"] + (["per_case", "per_bed_day"] if use_ip else []) + \
        (["per_visit"] if use_op else [])
    heads = {"this": "ws.revenue.total", "share": "ws.revenue.share", "share_yoy": "ws.revenue.share_yoy",
             "yoy": "ws.revenue.yoy", "mom": "ws.revenue.mom", "per_case": "ws.revenue.per_case",
             "per_bed_day": "ws.revenue.per_bed_day", "per_visit": "ws.revenue.per_visit"}
    head = html.Thead(html.Tr([html.Th(t("ws.revenue.part", lang))] + [html.Th(t(heads[c], lang)) for c in cols]))

    def cell(c: str, v: float) -> html.Td:
        if c == "share":
            text = f"{v * 100:.1f}%" if v == v else "—"
        elif c == "share_yoy":
            text = format_points(v, lang)
        elif c in ("yoy", "mom"):
            text = format_change(v)
        else:
            text = _money(v, lang)
        return html.Td(text, className="num")

    body = [html.Tr([html.Th(t(f"ws.revenue.part.{r['part']}", lang))] + [cell(c, r[c]) for c in cols])
            for _, r in df.iterrows()]
    total = df["this"].sum()
    tot = place_totals(scope, path, stream, per)
    body.append(html.Tr([html.Th(t("ws.revenue.sum", lang))] + [
        html.Td(html.B(_money(total, lang)), className="num", id="wsr-structure-total"),
        html.Td("100.0%" if total else "—", className="num"), html.Td("", className="num"),
        html.Td(format_change(_change(total, float(tot["year_ago"]["total"]))), className="num"),
        html.Td(format_change(_change(total, float(tot["previous"]["total"]))), className="num"),
        *[html.Td(_money(float(tot["this"][c]), lang), className="num") for c in cols[5:]]], className="wsr-total"))
    table = html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="wsr-structure-table"),
                     className="table-scroll")
    return html.Div([table, dcc.Graph(figure=_structure_figure(df, tot, lang), config={"displayModeBar": False},
                                      className="dw-graph", id="wsr-structure-chart")], className="wsr-structure-grid")


def _structure_figure(df: pd.DataFrame, tot: dict[str, pd.Series], lang: str) -> go.Figure:
    """100% stacked bars: the structure this period, the previous period and a year ago."""
    labels = [t("ws.revenue.this", lang), t("ws.revenue.previous", lang), t("ws.revenue.year_ago", lang)]
    fig = go.Figure()
    for i, r in df.reset_index(drop=True).iterrows():
        shares = [ratio(r[c], float(tot[k]["total"])) for c, k in (("this", "this"), ("previous", "previous"),
                                                                   ("year_ago", "year_ago"))]
        fig.add_bar(y=labels, x=[s * 100 if s == s else 0 for s in shares], orientation="h",
                    name=t(f"ws.revenue.part.{r['part']}", lang), marker_color=COLOURS[int(i) % len(COLOURS)],
                    hovertemplate="%{y}: %{x:.1f}%<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="stack", title=t("ws.revenue.structure_chart", lang), height=280, bargap=0.3,
                      margin={"l": 10, "r": 10, "t": 40, "b": 30},
                      legend={"orientation": "h", "y": -0.25, "traceorder": "normal"},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def level_frame(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str) -> pd.DataFrame:
    """One row per member of the level below: key, name, the stream's revenue and its parts, share,
    YoY, MoM, volumes and the normalised figures; the biggest first, "unassigned" last."""
    cur, prv, ago = _periods(per)
    now = combine(members(warehouse(), scope, cur, stream, path), stream)
    before = combine(members(warehouse(), scope, prv, stream, path), stream)[["key", "total"]]
    year = combine(members(warehouse(), scope, ago, stream, path), stream)[["key", "total"]]
    df = now.merge(before.rename(columns={"total": "previous"}), on="key", how="left") \
        .merge(year.rename(columns={"total": "year_ago"}), on="key", how="left")
    grand = df["total"].sum()
    df["share"] = df["total"] / grand if grand else float("nan")
    df["yoy"] = [_change(v, b) for v, b in zip(df["total"], df["year_ago"].fillna(float("nan")), strict=True)]
    df["mom"] = [_change(v, b) for v, b in zip(df["total"], df["previous"].fillna(float("nan")), strict=True)]
    df["drug_share"] = ratio(df["drug"], df["total"])
    df["material_share"] = ratio(df["material"], df["total"])
    df["name"] = [member_name(scope, path.level, path.dept, k, lang) for k in df["key"]]
    df["_last"] = df["key"] == UNASSIGNED
    df = df.sort_values(["_last", "total", "key"], ascending=[True, False, True], kind="stable")
    return df.drop(columns="_last").reset_index(drop=True)


def _level_columns(path: DrillPath, stream: str) -> list[str]:
    use_ip, use_op = path.sources(stream)
    cols = ["total", "share", "yoy", "mom"]
    if stream == "all" and use_op:
        cols += ["op_value", "ip_value"]
    if use_op:
        cols += ["visits", "per_visit"]
    if use_ip:
        cols += ["cases", "bed_days", "per_case", "per_bed_day"]
    if stream != "bed":
        cols += ["drug_share"] + (["material_share"] if stream != "outpatient" else [])
    return cols


LEVEL_HEADS = {"total": "ws.revenue.total", "share": "ws.revenue.share", "yoy": "ws.revenue.yoy",
               "mom": "ws.revenue.mom", "op_value": "ws.revenue.op_total", "ip_value": "ws.revenue.ip_total",
               "visits": "ws.revenue.visits", "per_visit": "ws.revenue.per_visit", "cases": "ws.revenue.cases",
               "bed_days": "ws.revenue.bed_days", "per_case": "ws.revenue.per_case",
               "per_bed_day": "ws.revenue.per_bed_day", "drug_share": "ws.revenue.drug_share",
               "material_share": "ws.revenue.material_share"}


def _level(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str) -> Any:
    df = level_frame(scope, path, stream, per, lang)
    level = path.level
    if df.empty:
        return html.P(t("ws.revenue.no_members", lang), className="note")
    cols = _level_columns(path, stream)
    sums = df[["total", "op_value", "ip_value", "visits", "cases", "bed_days", "drug", "material"]].sum()
    tot_row = {"total": sums["total"], "share": 1.0 if sums["total"] else float("nan"),
               "yoy": _change(sums["total"], df["year_ago"].fillna(0).sum()),
               "mom": _change(sums["total"], df["previous"].fillna(0).sum()),
               "op_value": sums["op_value"], "ip_value": sums["ip_value"], "visits": sums["visits"],
               "per_visit": ratio(sums["op_value"], sums["visits"]), "cases": sums["cases"], "bed_days": sums["bed_days"],
               "per_case": ratio(sums["ip_value"], sums["cases"]), "per_bed_day": ratio(sums["ip_value"], sums["bed_days"]),
               "drug_share": ratio(sums["drug"], sums["total"]), "material_share": ratio(sums["material"], sums["total"])}
    table = level_grid(df, cols, {c: t(LEVEL_HEADS[c], lang) for c in cols},
                       t(f"ws.revenue.{'department' if level == 'department' else level}", lang),
                       {"name": t("ws.revenue.sum", lang), **{c: tot_row[c] for c in cols}}, lang)
    title = html.H3(t(f"ws.revenue.level.{level}", lang), className="wsr-level-title", id="wsr-level-title")
    notes = [html.P(t("ws.revenue.click_hint", lang), className="note")]
    if (df["key"] == UNASSIGNED).any():
        notes.append(html.P(t("ws.revenue.unassigned_note", lang), className="note"))
    return html.Div([title, html.Div([table, _level_figure(df, level, lang)], className="wsr-level-grid"), *notes])


def _level_figure(df: pd.DataFrame, level: str, lang: str) -> Any:
    top = df.sort_values("total", ascending=False, kind="stable").head(BAR_CAP).iloc[::-1]
    fig = go.Figure(go.Bar(y=top["name"], x=top["total"] / 10_000, orientation="h", customdata=top["key"],
                           marker_color=["#999999" if k == UNASSIGNED else "#0072b2" for k in top["key"]],
                           text=[f"{v / 10_000:,.1f}" for v in top["total"]], textposition="auto",
                           hovertemplate="%{y}: %{x:,.1f}<extra></extra>"))
    what = t(f"ws.revenue.{level}", lang)
    fig.update_layout(title=t("ws.revenue.bars", lang, what=what), height=max(200, 30 * len(top) + 80), bargap=0.35,
                      margin={"l": 10, "r": 10, "t": 40, "b": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(automargin=True, type="category")
    parts: list[Any] = [dcc.Graph(figure=fig, config={"displayModeBar": False}, className="dw-graph wsr-bars",
                                  id={"type": "wsr-bars", "index": 0})]
    if len(df) > BAR_CAP:
        parts.append(html.P(t("ws.revenue.bars_capped", lang, n=BAR_CAP), className="note"))
    return html.Div(parts)


def _count_note(n: int, shown: int, lang: str) -> html.P:
    text = t("ws.revenue.capped", lang, n=f"{n:,}", shown=f"{shown:,}", cap=f"{EXPORT_CAP:,}") if n > shown else \
        t("ws.revenue.all_shown", lang, n=f"{n:,}")
    return html.P(text, className="note wsr-count", id=f"wsr-count-{'x' if n > shown else 'all'}")


def _cases(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str) -> Any:
    """The doctor's inpatient cases in a virtualised grid, biggest first, with the full count."""
    cur = _periods(per)[0]
    n_cases, _ = row_counts(warehouse(), scope, cur, stream, path)
    cases = case_rows(warehouse(), scope, cur, stream, path)
    what = t("ws.revenue.part.bed" if stream == "bed" else "ws.revenue.charge_total", lang)
    return [html.H3(t("ws.revenue.cases_title", lang, what=what), className="wsr-level-title"),
            _count_note(n_cases, len(cases), lang),
            html.P(t("ws.revenue.cases_hint", lang), className="note") if len(cases) else None,
            case_grid(cases, lang) if len(cases) else html.P(t("ws.revenue.no_rows", lang), className="note"),
            html.P(t("ws.revenue.export_capped", lang, cap=f"{EXPORT_CAP:,}"), className="note")]


def _days(scope: Scope, path: DrillPath, stream: str, per: Period, lang: str) -> Any:
    """The doctor's outpatient days in a virtualised grid, biggest revenue first, with the full count."""
    cur = _periods(per)[0]
    _, n_days = row_counts(warehouse(), scope, cur, stream, path)
    days = day_rows(warehouse(), scope, cur, stream, path)
    return [html.H3(t("ws.revenue.days_title", lang), className="wsr-level-title"),
            _count_note(n_days, len(days), lang),
            day_grid(days, lang) if len(days) else html.P(t("ws.revenue.no_rows", lang), className="note"),
            html.P(t("ws.revenue.export_capped", lang, cap=f"{EXPORT_CAP:,}"), className="note")]


@callback(Output("wsr-case-detail", "children"), Input(CASES_GRID_ALL, "selectedRows"), State("wsr-state", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, state: _state_dept(state))
def open_case(selected: list, state: Any) -> Any:
    """Selecting a case (a click on its row, or Space on it from the keyboard) opens its detail: the
    case is looked up again behind the page's drill path, period and scope, so a forged case id
    shows nothing of another place."""
    rows = next((r for r in selected or [] if isinstance(r, list) and r), None)
    case_id = _id(rows[0].get("case_id")) if rows and isinstance(rows[0], dict) else None
    if case_id is None:
        return no_update
    lang = current_lang()
    try:
        path, _stream, per = resolve(state)
    except UserError as exc:
        return html.Div(plain_message(exc, lang), className="alert alert-warning", role="alert")
    if path.level != "rows":
        return no_update
    scope, cur = current_scope(), _periods(per)[0]
    case = case_detail(warehouse(), scope, cur, path, case_id)
    code = case.iloc[0]["drg_code"] if not case.empty else None
    peers = drg_peers(warehouse(), scope, cur, path.dept, code) if isinstance(code, str) and path.dept else None
    return case_detail_view(case, peers, lang)


# ---- export --------------------------------------------------------------------------------------

def export_frame(table: str, path: DrillPath, stream: str, per: Period, lang: str) -> pd.DataFrame:
    """A table of the page for export, with headers in the reader's language, within the user's scope."""
    scope = current_scope()
    if table == "structure":
        df = structure_frame(scope, path, stream, per, lang)
        heads = {"part": "ws.revenue.part", "this": "ws.revenue.this", "previous": "ws.revenue.previous",
                 "year_ago": "ws.revenue.year_ago", "share": "ws.revenue.share", "share_yoy": "ws.revenue.share_yoy",
                 "yoy": "ws.revenue.yoy", "mom": "ws.revenue.mom", "per_case": "ws.revenue.per_case",
                 "per_bed_day": "ws.revenue.per_bed_day", "per_visit": "ws.revenue.per_visit"}
        return df.rename(columns={k: t(v, lang) for k, v in heads.items()})
    if table == "level":
        if path.level == "rows":
            raise UserError(t("ws.revenue.level_hint.rows", lang))
        df = level_frame(scope, path, stream, per, lang)
        cols = ["key", "name", *_level_columns(path, stream), *_parts(stream)]
        heads = {"key": t("ws.revenue.id", lang), "name": t("ws.revenue.name", lang),
                 **{c: t(LEVEL_HEADS[c], lang) for c in LEVEL_HEADS},
                 **{p: t(f"ws.revenue.part.{p}", lang) for p in PARTS}}
        return df[cols].rename(columns=heads)
    cur = _periods(per)[0]
    df = case_rows(warehouse(), scope, cur, stream, path, EXPORT_CAP) if table == "cases" else \
        day_rows(warehouse(), scope, cur, stream, path, EXPORT_CAP)
    if table == "cases":
        df = df.drop(columns=["drg_en" if lang == "zh" else "drg_zh"])
    return with_names(df, lang).rename(columns={c: column_label(c, lang) for c in df.columns})


MONEY_COLUMNS = ("this", "previous", "year_ago", "total", "op_value", "ip_value", "per_visit", "per_case",
                 "per_bed_day", "charge_total", "revenue_total", *PARTS, *[f"charge_{p}" for p in PARTS],
                 *[f"revenue_{p}" for p in PARTS])
PERCENT_COLUMNS = ("share", "share_yoy", "yoy", "mom", "drug_share", "material_share")


def export_kinds(lang: str) -> dict[str, str]:
    """The kind of each exported revenue column, by its header in the reader's language."""
    heads = {"this": "ws.revenue.this", "previous": "ws.revenue.previous", "year_ago": "ws.revenue.year_ago",
             "share_yoy": "ws.revenue.share_yoy", **LEVEL_HEADS}
    label = lambda c: t(heads[c], lang) if c in heads else (  # noqa: E731
        t(f"ws.revenue.part.{c}", lang) if c in PARTS else column_label(c, lang))
    kinds = {label(c): "money" for c in MONEY_COLUMNS} | {label(c): "percent" for c in PERCENT_COLUMNS}
    kinds |= {label(c): "integer" for c in ("visits", "cases", "emergency_visits", "bed_days")}
    return kinds | {label("los_days"): "integer", label("admit_date"): "date", label("discharge_date"): "date",
                    label("date"): "date"}


@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": "revenue", "table": ALL, "fmt": ALL}, "n_clicks"),
          State("wsr-state", "data"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, state: _state_dept(state))
def export(clicks: list, state: Any) -> Any:
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    table, fmt = req
    lang = current_lang()
    path, stream, per = resolve(state)
    df = export_frame(table, path, stream, per, lang)
    place = "-".join(x for x in (path.dept or "all", path.ward or path.group, path.doctor) if x)
    stem = f"revenue-{table}-{stream}-{place}-{per.start}-{per.end}"
    titles = {"structure": "ws.revenue.structure", "level": "ws.revenue.level", "cases": "ws.revenue.cases_section",
              "days": "ws.revenue.days_section"}
    return send_table(df, stem, fmt, f"revenue {table} {stream} {place}", title=t(titles[table], lang),
                      kinds=export_kinds(lang), period=per, dept=path.dept)
