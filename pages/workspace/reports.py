"""Monthly operations reports (月度运营分析报告): generate a department's report for a month,
edit its problem → cause → suggestion findings, publish it, print it on A4, export it to
Excel; published reports are kept and listed.

The address names the report (`?dept=D001&report=12`), so a published report can be linked.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, clientside_callback, dash_table, dcc, html, no_update
from flask import current_app
from flask_login import current_user
from plotly.subplots import make_subplots

from appdb.reports import FIELDS, MAX_TEXT, create_draft, get_report, list_reports, month_alerts, publish, save_findings
from appdb.store import CodedError
from components import exports
from components.exports import unit_kind
from components.format import format_change, format_deviation, format_indicator, format_points
from components.i18n import CATALOG, t
from components.palette import change_class
from data_layer.alerts.actions import suggested_action
from data_layer.errors import UserError
from data_layer.periods import add_months, month_end
from data_layer.queries.portfolio import history_score
from data_layer.queries.report import TREND, generate, month_period
from data_layer.registry import INDICATORS, UNITS
from shell.access import PermissionDenied, audit, secured
from shell.inputs import Ref

from .._common import current_lang, current_scope, export_heading, send_table, warehouse
from ._frame import (
    ROLES,
    Start,
    begin,
    check_department,
    export_request,
    frame,
    section,
    section_page,
    valid_period_key,
)

dash.register_page(__name__, **section_page("reports", inputs={"report-meta.data": Ref}))

TABLES = ("list",)
PALETTE = ("#0b5cad", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")


def _db():
    return current_app.extensions["hospdash"].appdb


def report_months() -> list[date]:
    """Whole months with data, newest first."""
    fresh = warehouse().freshness()
    if fresh.data_through is None or fresh.first_date is None:
        return []
    last = fresh.data_through.replace(day=1)
    if month_end(last) > fresh.data_through:
        last = add_months(last, -1)
    first = fresh.first_date.replace(day=1) if fresh.first_date.day == 1 else add_months(fresh.first_date.replace(day=1), 1)
    out, m = [], last
    while m >= first and len(out) < 36:
        out.append(m)
        m = add_months(m, -1)
    return out


def _month_label(m: date | str, lang: str) -> str:
    d = date.fromisoformat(str(m)[:10])
    return f"{d.year}年{d.month}月" if lang == "zh" else d.strftime("%B %Y")


def layout(dept: str | None = None, period: str | None = None, report: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    months = report_months()
    controls = html.Div([
        dcc.Dropdown(id="report-month", options=[{"label": _month_label(m, lang), "value": m.isoformat()} for m in months],
                     value=months[0].isoformat() if months else None, clearable=False, className="dw-select"),
        html.Button(t("ws.rp.generate", lang), id="report-generate", className="btn btn-primary btn-sm ms-2"),
        html.Span(id="report-status", className="ms-3", role="status"),
    ], className="report-controls d-flex align-items-center flex-wrap")
    doc: Any = html.P(t("ws.rp.pick", lang), className="note")
    if report is not None:
        doc = _open(report, start)
    return frame("reports", start, [
        section("rp_make", lang, controls, html.P(t("ws.rp.make_note", lang), className="note"),
                title=t("ws.rp.make", lang)),
        html.Div(doc, id="report-doc"),
        section("rp_list", lang, _list(start), exports=(("reports", "list"),), title=t("ws.rp.list", lang)),
    ], period_picker=False)


def _open(report: str, start: Start) -> Any:
    lang = start.lang
    try:
        rid = int(report)
    except (TypeError, ValueError):
        return html.Div(t("ws.rp.missing", lang), className="alert alert-warning")
    r = get_report(_db(), current_scope(), rid)
    if r is None:
        audit("forbidden_report", "/workspace/reports", f"report={str(report)[:32]}")
        return html.Div(t("ws.rp.missing", lang), className="alert alert-warning")
    if r["dept_id"] != start.dept:
        return html.Div(t("ws.rp.missing", lang), className="alert alert-warning")
    return render(r, lang, start.dept_name(r["dept_id"]))


def _list(start: Start) -> Any:
    lang = start.lang
    df = list_reports(_db(), current_scope(), dept_ids=[start.dept])
    if df.empty:
        return html.P(t("ws.rp.none", lang), className="note")
    head = html.Thead(html.Tr([html.Th(t(f"ws.rp.col.{c}", lang)) for c in
                               ("month", "revision", "status", "created", "published", "")]))
    body = []
    for r in df.itertuples():
        q = urlencode({"dept": r.dept_id, "period": start.period, "report": r.id})
        body.append(html.Tr([html.Td(_month_label(r.month, lang)), html.Td(r.revision, className="num"),
                             html.Td(t(f"ws.rp.status.{r.status}", lang)),
                             html.Td(f"{r.created_by or ''} {str(r.created_at)[:16]}"),
                             html.Td(f"{r.published_by or ''} {str(r.published_at)[:16]}" if r.published_at else "—"),
                             html.Td(dcc.Link(t("ws.rp.open", lang), href=f"/workspace/reports?{q}"))],
                            id={"type": "report-row", "index": int(r.id)}))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="report-list"),
                    className="table-scroll")


# ------------------------------------------------------------------------------------------- document
def _ind_value(v: Any, code: str, lang: str) -> str:
    return format_indicator(v, INDICATORS[code].unit, lang) if v is not None else "—"


def _chg(rel: Any, diff: Any, code: str, lang: str) -> str:
    if INDICATORS[code].unit == "ratio":
        return format_points(diff, lang) if diff is not None else "—"
    return format_change(rel) if rel is not None else "—"


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _yoy_class(k: dict) -> str:
    """The class of a key indicator's year-on-year change: the one rule, with the value deciding
    when it lies outside the healthy range (as on the department page)."""
    ind = INDICATORS[k["indicator"]]
    change = k["yoy_diff"] if ind.unit == "ratio" else k["yoy"]
    return change_class(ind, None if change is None else float(change), _nan(k.get("value")))


def _key_table(content: dict, lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(f"ws.rp.k.{c}", lang)) for c in
                               ("indicator", "value", "previous", "mom", "year_ago", "yoy", "hospital")]))
    rows = []
    for k in content["key"]:
        code = k["indicator"]
        cls = _yoy_class(k)
        rows.append(html.Tr([html.Td(INDICATORS[code].name(lang)), html.Td(_ind_value(k["value"], code, lang), className="num"),
                             html.Td(_ind_value(k["previous"], code, lang), className="num"),
                             html.Td(_chg(k["mom"], k["mom_diff"], code, lang), className="num"),
                             html.Td(_ind_value(k["year_ago"], code, lang), className="num"),
                             html.Td(_chg(k["yoy"], k["yoy_diff"], code, lang), className=f"num {cls}"),
                             html.Td(_ind_value(k["hospital"], code, lang), className="num")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm dw-table", id="report-key")


def trend_figure(content: dict, lang: str) -> go.Figure:
    """Small multiples of the 13-month trend, sized for an A4 page."""
    codes = [c for c in TREND if content["trend"].get(c)]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[INDICATORS[c].name(lang) for c in codes],
                        horizontal_spacing=0.08, vertical_spacing=0.2)
    for i, code in enumerate(codes):
        pts = content["trend"][code]
        unit = INDICATORS[code].unit
        ys = [(v * 100 if unit == "ratio" else v / 10_000 if unit == "yuan" else v) if v is not None else None
              for _, v in pts]
        fig.add_scatter(x=[m for m, _ in pts], y=ys, mode="lines+markers", line={"color": PALETTE[i % 6], "width": 2},
                        marker={"size": 4}, showlegend=False, row=i // 3 + 1, col=i % 3 + 1)
    fig.update_xaxes(type="category", tickangle=-45, tickfont={"size": 9}, nticks=7)
    fig.update_yaxes(tickfont={"size": 9})
    fig.update_annotations(font={"size": 12})
    fig.update_layout(width=680, height=380, autosize=False, margin={"l": 40, "r": 10, "t": 30, "b": 50},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig


def _structure_table(content: dict, lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(f"ws.rp.s.{c}", lang)) for c in
                               ("component", "inpatient", "outpatient", "amount", "share", "share_year_ago", "change")]))
    rows = []
    for r in content["structure"]:
        change = (r["share"] - r["share_year_ago"]) if r["share"] is not None and r["share_year_ago"] is not None else None
        rows.append(html.Tr([html.Td(t(f"ws.rp.comp.{r['component']}", lang)),
                             *[html.Td(format_indicator(r[c], "yuan", lang), className="num")
                               for c in ("inpatient", "outpatient", "amount")],
                             html.Td(format_indicator(r["share"], "ratio", lang), className="num"),
                             html.Td(format_indicator(r["share_year_ago"], "ratio", lang), className="num"),
                             html.Td(format_points(change, lang) if change is not None else "—", className="num")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm dw-table", id="report-structure")


def _cost_table(content: dict, lang: str) -> Any:
    costs = content["costs"]
    if not costs["closed"]:
        return html.P(t("ws.rp.cost_open", lang), className="note")
    head = html.Thead(html.Tr([html.Th(t(f"ws.rp.c.{c}", lang)) for c in
                               ("category", "direct", "allocated", "total", "year_ago", "change")]))
    rows = []
    for r in costs["rows"]:
        ago = r["year_ago"]
        rel = (r["total"] - ago) / ago if ago else None
        rows.append(html.Tr([html.Td(t(f"dw.cat.{r['category']}", lang)),
                             *[html.Td(format_indicator(r[c], "yuan", lang), className="num")
                               for c in ("direct", "allocated", "total")],
                             html.Td(format_indicator(ago, "yuan", lang), className="num"),
                             html.Td(format_change(rel) if rel is not None else "—", className="num")]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm dw-table", id="report-costs")


def _targets_table(content: dict, lang: str) -> Any:
    if not content["targets"]:
        return html.P(t("dw.no_targets", lang), className="note")
    head = html.Thead(html.Tr([html.Th(t(f"dw.t.{c}", lang)) for c in
                               ("indicator", "target", "actual", "expected", "projection", "status")]))
    rows = [html.Tr([html.Td(INDICATORS[r["indicator"]].name(lang)),
                     *[html.Td(_ind_value(r[c], r["indicator"], lang), className="num")
                       for c in ("target", "actual", "expected", "projection")],
                     html.Td(t(f"dw.status.{r['status']}", lang), className=f"status status-{r['status']}")])
            for r in content["targets"] if r["indicator"] in INDICATORS]
    return html.Table([head, html.Tbody(rows)], className="table table-sm dw-table", id="report-targets")


def _alerts_block(content: dict, lang: str) -> Any:
    items = content.get("alerts") or []
    if not items:
        return html.P(t("ws.rp.no_alerts", lang), className="note", id="report-alerts")
    out = []
    for a in items:
        ind = INDICATORS.get(a["indicator"])
        name = ind.name(lang) if ind else a["indicator"]
        unit = ind.unit if ind else ""
        notes = a["notes"]
        out.append(html.Li([
            html.Span(t(f"level.{a['level']}", lang), className=f"badge lvl-badge lvl-{a['level']} me-1"),
            html.B(name), f" ({_entity(a, lang)})" if a.get("entity_id") else "",
            f" · {a['period_start']} – {a['period_end']} · ",
            t("ws.rp.observed", lang, observed=format_indicator(a["observed"], unit, lang),
              expected=format_indicator(a["expected"], unit, lang),
              deviation=format_deviation(a["observed"], a["expected"], a["deviation"], unit, lang, kind=a.get("kind"))),
            f" · {t('status.' + a['status'], lang)}",
            html.Div(f"{t('ws.rp.cause', lang)}: {'；'.join(notes['cause']) or t('ws.rp.not_recorded', lang)}",
                     className="report-note"),
            html.Div(f"{t('ws.rp.action', lang)}: "
                     f"{'；'.join(notes['action'] + notes['suggestion']) or t('ws.rp.not_recorded', lang)}",
                     className="report-note"),
        ]))
    return html.Ul(out, className="report-alerts", id="report-alerts")


def _entity(a: dict, lang: str) -> str:
    key = f"driver.{a.get('entity_type')}"
    return f"{t(key, lang) if key in CATALOG else a.get('entity_type')} {a['entity_id']}"


def _findings(report: dict, lang: str) -> Any:
    editable = report["status"] == "draft"
    columns = [{"name": t(f"ws.rp.f.{f}", lang), "id": f} for f in FIELDS]
    table = dash_table.DataTable(
        id="report-findings", columns=columns, data=report["findings"] or [], editable=editable,
        row_deletable=editable, style_table={"overflowX": "auto"},
        style_cell={"whiteSpace": "pre-line", "height": "auto", "textAlign": "left", "fontFamily": "inherit",
                    "fontSize": "0.9rem", "minWidth": "160px", "maxWidth": "420px", "verticalAlign": "top"},
        style_header={"fontWeight": 600, "backgroundColor": "#f3f6fa"})
    if not editable:
        return table
    return html.Div([
        table,
        html.Div([html.Button(t("ws.rp.add_row", lang), id="report-add-row", className="btn btn-sm btn-outline-secondary"),
                  html.Button(t("ws.rp.save", lang), id="report-save", className="btn btn-sm btn-primary ms-2"),
                  html.Button(t("ws.rp.publish", lang), id="report-publish", className="btn btn-sm btn-success ms-2")],
                 className="report-actions mt-2"),
        html.P(t("ws.rp.findings_note", lang), className="note"),
    ])


def render(report: dict, lang: str, dept_name: str) -> html.Article:
    """The report as a document: the same on screen and on paper."""
    c = report["content"]
    status = t(f"ws.rp.status.{report['status']}", lang)
    if report["status"] == "published":
        status += f" · {report['published_by'] or ''} {str(report['published_at'])[:16]}"
    meta = t("ws.rp.meta", lang, revision=report["revision"], status=status, through=c["data_through"],
             previous=c["previous"], year_ago=c["year_ago"])
    h = lambda n, key: html.H3(f"{n}. {t(key, lang)}")  # noqa: E731
    return html.Article([
        html.Div([html.Button(t("ws.rp.print", lang), id="report-print", className="btn btn-sm btn-outline-secondary"),
                  html.Button(t("export.xlsx", lang), id="report-export", className="btn btn-sm btn-outline-secondary ms-2")],
                 className="report-tools"),
        html.H2(t("ws.rp.title", lang, dept=dept_name, month=_month_label(c["month"], lang)), id="report-title"),
        html.P(meta, className="report-meta"),
        dcc.Store(id="report-meta", data={"id": report["id"], "version": report["version"]}),
        html.Section([h(1, "ws.rp.sec.key"), _key_table(c, lang),
                      html.P(t("ws.rp.hospital_note", lang), className="note")], className="report-section"),
        html.Section([h(2, "ws.rp.sec.trend"),
                      dcc.Graph(figure=trend_figure(c, lang), config={"displayModeBar": False, "staticPlot": True},
                                id="report-trend", className="report-graph")], className="report-section"),
        html.Section([h(3, "ws.rp.sec.structure"), _structure_table(c, lang), html.H4(t("ws.rp.sec.costs", lang)),
                      _cost_table(c, lang)], className="report-section"),
        html.Section([h(4, "ws.rp.sec.targets"), _targets_table(c, lang)], className="report-section"),
        html.Section([h(5, "ws.rp.sec.alerts"), _alerts_block(c, lang)], className="report-section"),
        html.Section([h(6, "ws.rp.sec.findings"), _findings(report, lang)], className="report-section report-findings"),
    ], className="report-doc", id="report-document", lang="zh-CN" if lang == "zh" else "en")


# ------------------------------------------------------------------------------------------- actions
def default_findings(content: dict, alerts: list[dict], lang: str) -> list[dict[str, str]]:
    """A first draft of the findings: each alert of the month (with its recorded cause and
    action), then the key figures that moved most the wrong way on last year."""
    rows = []
    for a in alerts:
        ind = INDICATORS.get(a["indicator"])
        unit = ind.unit if ind else ""
        name = ind.name(lang) if ind else a["indicator"]
        if a.get("entity_id"):
            name += f" ({_entity(a, lang)})"
        problem = t("ws.rp.auto_problem", lang, indicator=name,
                    observed=format_indicator(a["observed"], unit, lang),
                    expected=format_indicator(a["expected"], unit, lang),
                    deviation=format_deviation(a["observed"], a["expected"], a["deviation"], unit, lang, kind=a.get("kind")))
        rows.append({"problem": problem, "cause": "；".join(a["notes"]["cause"]),
                     "suggestion": "；".join(a["notes"]["suggestion"] + a["notes"]["action"])
                     or suggested_action(a["action_key"], lang)})
    named = {a["indicator"] for a in alerts}
    for k in content["key"]:
        if k["indicator"] in named or k["yoy"] is None:
            continue
        if history_score(k["indicator"], k["yoy"], _nan(k["yoy_diff"]), _nan(k.get("value"))) <= -2:
            code = k["indicator"]
            rows.append({"problem": t("ws.rp.auto_trend", lang, indicator=INDICATORS[code].name(lang),
                                      change=_chg(k["yoy"], k["yoy_diff"], code, lang)), "cause": "", "suggestion": ""})
    return [{k: _cut(v) for k, v in row.items()} for row in rows[:12]]


def _cut(text: str) -> str:
    """A drafted cell within the length a finding may have (several long alert notes joined can pass it)."""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


@callback(Output("_pages_location", "search", allow_duplicate=True), Output("report-status", "children"),
          Input("report-generate", "n_clicks"), State("ws-dept", "value"), State("report-month", "value"),
          State("ws-period", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, dept, _m, _p: [dept])
def make(n: Any, dept: Any, month: Any, period: Any = "ytd") -> Any:
    lang = current_lang()
    if not n:
        return no_update, no_update
    dept = check_department(dept)
    try:
        m = date.fromisoformat(str(month))
    except ValueError:
        return no_update, _msg(t("ws.rp.bad_month", lang))
    if m not in report_months():
        return no_update, _msg(t("ws.rp.bad_month", lang))
    scope = current_scope()
    content = generate(warehouse(), scope, dept, m)
    alerts = month_alerts(_db(), scope, dept, m)
    content["alerts"] = alerts
    campus = current_app.extensions["hospdash"].campus_of(dept)
    try:
        r = create_draft(_db(), scope, dept, campus, m, content, default_findings(content, alerts, lang),
                         current_user.username)
    except CodedError as exc:
        return no_update, _msg(t(f"ws.rp.err.{exc.code}", lang))
    audit("report_generate", f"report {r['id']}", f"{dept} {m:%Y-%m} revision {r['revision']}")
    period = period if valid_period_key(period) else "ytd"
    return "?" + urlencode({"dept": dept, "period": period, "report": r["id"]}), _msg(t("ws.rp.generated", lang), ok=True)


def _msg(text: str, ok: bool = False) -> html.Span:
    return html.Span(text, className="text-success" if ok else "text-danger fw-semibold")


@callback(Output("report-findings", "data"), Input("report-add-row", "n_clicks"), State("report-findings", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def add_row(n: Any, rows: Any) -> Any:
    if not n:
        return no_update
    rows = rows if isinstance(rows, list) else []
    return rows + [dict.fromkeys(FIELDS, "")]


def _report_of(meta: Any) -> tuple[int, int]:
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), int) or not isinstance(meta.get("version"), int):
        raise UserError(t("wall.bad_filter", current_lang()))
    return meta["id"], meta["version"]


def _guard(rid: int) -> dict:
    """The report if the user may see it (its department is re-checked); 403 otherwise."""
    r = get_report(_db(), current_scope(), rid)
    if r is None:
        raise PermissionDenied(f"report {rid} is outside the user's scope")
    check_department(r["dept_id"])
    return r


@callback(Output("report-status", "children", allow_duplicate=True), Output("report-meta", "data"),
          Input("report-save", "n_clicks"), State("report-findings", "data"), State("report-meta", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def save(n: Any, rows: Any, meta: Any) -> Any:
    lang = current_lang()
    if not n:
        return no_update, no_update
    rid, version = _report_of(meta)
    _guard(rid)
    try:
        r = save_findings(_db(), current_scope(), rid, rows, version)
    except CodedError as exc:
        return _msg(t(f"ws.rp.err.{exc.code}", lang)), no_update
    audit("report_save", f"report {rid}", f"{len(r['findings'])} findings")
    return _msg(t("ws.rp.saved", lang, n=len(r["findings"])), ok=True), {"id": rid, "version": r["version"]}


@callback(Output("_pages_location", "search", allow_duplicate=True), Output("report-status", "children",
                                                                           allow_duplicate=True),
          Input("report-publish", "n_clicks"), State("report-findings", "data"), State("report-meta", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def publish_report(n: Any, rows: Any, meta: Any) -> Any:
    lang = current_lang()
    if not n:
        return no_update, no_update
    rid, version = _report_of(meta)
    r = _guard(rid)
    try:
        r = publish(_db(), current_scope(), rid, rows, version, current_user.username)
    except CodedError as exc:
        return no_update, _msg(t(f"ws.rp.err.{exc.code}", lang))
    audit("report_publish", f"report {rid}", f"{r['dept_id']} {r['month']} revision {r['revision']}")
    return "?" + urlencode({"dept": r["dept_id"], "report": rid}), _msg(t("ws.rp.published", lang), ok=True)


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output("report-print", "title"), Input("report-print", "n_clicks"), prevent_initial_call=True)


def workbook(report: dict, lang: str, head: exports.Heading) -> bytes:
    """The report as an Excel workbook: one sheet per section under the report's heading, figures
    in their indicator's format, each sheet set up to print on A4."""
    c = report["content"]
    unit = lambda code: UNITS[INDICATORS[code].unit][0 if lang == "zh" else 1]  # noqa: E731
    kind = lambda code: unit_kind(INDICATORS[code].unit)  # noqa: E731
    k = lambda key: t(f"ws.rp.k.{key}", lang)  # noqa: E731
    key = pd.DataFrame([{k("indicator"): INDICATORS[r["indicator"]].name(lang), t("export.unit", lang): unit(r["indicator"]),
                         k("value"): r["value"], k("previous"): r["previous"],
                         k("mom"): r["mom_diff"] if INDICATORS[r["indicator"]].unit == "ratio" else r["mom"],
                         k("year_ago"): r["year_ago"],
                         k("yoy"): r["yoy_diff"] if INDICATORS[r["indicator"]].unit == "ratio" else r["yoy"],
                         k("hospital"): r["hospital"]} for r in c["key"]],
                       columns=[k("indicator"), t("export.unit", lang), *(k(x) for x in ("value", "previous", "mom",
                                                                                         "year_ago", "yoy", "hospital"))])
    structure = pd.DataFrame([{t("ws.rp.s.component", lang): t(f"ws.rp.comp.{r['component']}", lang),
                               **{t(f"ws.rp.s.{x}", lang): r[x] for x in ("inpatient", "outpatient", "amount", "share",
                                                                         "share_year_ago")}} for r in c["structure"]])
    costs = pd.DataFrame([{t("ws.rp.c.category", lang): t(f"dw.cat.{r['category']}", lang),
                           **{t(f"ws.rp.c.{x}", lang): r[x] for x in ("direct", "allocated", "total", "year_ago")}}
                          for r in c["costs"]["rows"]])
    target_cols = [t(f"dw.t.{x}", lang) for x in ("indicator", "target", "actual", "expected", "projection", "status")]
    targets = pd.DataFrame([[INDICATORS[r["indicator"]].name(lang), r["target"], r["actual"], r["expected"],
                             r["projection"], t(f"dw.status.{r['status']}", lang)] for r in c["targets"]],
                           columns=target_cols)
    alert_cols = [t("ws.rp.a.level", lang), t("ws.rp.k.indicator", lang), t("ws.rp.a.period", lang),
                  t("ws.rp.a.observed", lang), t("ws.rp.a.expected", lang), t("ws.rp.a.status", lang),
                  t("ws.rp.cause", lang), t("ws.rp.action", lang)]
    listed = c.get("alerts") or []
    alerts = pd.DataFrame([[t(f"level.{a['level']}", lang),
                            INDICATORS[a["indicator"]].name(lang) if a["indicator"] in INDICATORS else a["indicator"],
                            f"{a['period_start']} – {a['period_end']}", a["observed"], a["expected"],
                            t(f"status.{a['status']}", lang), "；".join(a["notes"]["cause"]),
                            "；".join(a["notes"]["action"] + a["notes"]["suggestion"])]
                           for a in listed], columns=alert_cols)
    findings = pd.DataFrame(report["findings"] or [], columns=list(FIELDS)).rename(
        columns={f: t(f"ws.rp.f.{f}", lang) for f in FIELDS})
    by_row = exports.BY_ROW
    specs = {  # sheet: (frame, kinds by header, each row's kind)
        "key": (key, {k(x): by_row for x in ("value", "previous", "year_ago", "hospital")}
                | {k("mom"): "percent", k("yoy"): "percent"}, [kind(r["indicator"]) for r in c["key"]]),
        "structure": (structure, {t(f"ws.rp.s.{x}", lang): "money" for x in ("inpatient", "outpatient", "amount")}
                      | {t(f"ws.rp.s.{x}", lang): "percent" for x in ("share", "share_year_ago")}, []),
        "costs": (costs, {t(f"ws.rp.c.{x}", lang): "money" for x in ("direct", "allocated", "total", "year_ago")}, []),
        "targets": (targets, dict.fromkeys(target_cols[1:5], by_row), [kind(r["indicator"]) for r in c["targets"]]),
        "alerts": (alerts, dict.fromkeys(alert_cols[3:5], by_row),
                   [kind(a["indicator"]) if a["indicator"] in INDICATORS else "ratio" for a in listed]),
        "findings": (findings, {}, []),
    }
    sheets = [exports.Sheet(t(f"ws.rp.sheet.{name}", lang),
                            (exports.Block(df, exports.columns_of(df, kinds), row_kinds=tuple(rows),
                                           empty_note=t("export.no_rows", lang)),))
              for name, (df, kinds, rows) in specs.items()]
    return exports.workbook(head, sheets)


@callback(Output("ws-download", "data", allow_duplicate=True), Input("report-export", "n_clicks"),
          State("report-meta", "data"), prevent_initial_call=True)
@secured(roles=ROLES)
def export_report(n: Any, meta: Any) -> Any:
    if not n:
        return no_update
    rid, _version = _report_of(meta)
    r = _guard(rid)
    lang = current_lang()
    name = r["dept_id"]
    deps = current_app.extensions["hospdash"].warehouse
    try:
        from data_layer.queries.structure import departments

        d = departments(deps, current_scope())
        hit = d[d["dept_id"] == r["dept_id"]]
        if not hit.empty:
            name = hit.iloc[0]["name_zh" if lang == "zh" else "name_en"]
    except UserError:
        pass  # the warehouse is away: the department code stands in for its name
    meta = t("ws.rp.meta", lang, revision=r["revision"], status=t(f"ws.rp.status.{r['status']}", lang),
             through=r["content"]["data_through"], previous=r["content"]["previous"], year_ago=r["content"]["year_ago"])
    head = export_heading(t("ws.rp.title", lang, dept=name, month=_month_label(r["content"]["month"], lang)),
                          month_period(pd.Timestamp(r["month"]).date()), r["dept_id"], extra=(meta,))
    data = workbook(r, lang, head)
    audit("export", f"report {rid}", f"{r['dept_id']} {r['month']} revision {r['revision']}, xlsx")
    return dcc.send_bytes(data, f"report-{r['dept_id']}-{str(r['month'])[:7]}-r{r['revision']}.xlsx")


@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": "reports", "table": ALL, "fmt": ALL}, "n_clicks"),
          State("ws-dept", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, dept: [dept])
def export_list(clicks: list, dept: Any) -> Any:
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    _table, fmt = req
    lang = current_lang()
    dept = check_department(dept)
    df = list_reports(_db(), current_scope(), dept_ids=[dept])
    out = pd.DataFrame({t("ws.pf.col.dept_id", lang): df["dept_id"], t("ws.rp.col.month", lang): df["month"].astype(str),
                        t("ws.rp.col.revision", lang): df["revision"],
                        t("ws.rp.col.status", lang): df["status"].map(lambda s: t(f"ws.rp.status.{s}", lang)),
                        t("ws.rp.col.created", lang): df["created_by"], t("ws.rp.col.published", lang): df["published_at"]})
    return send_table(out, f"reports-{dept}", fmt, f"workspace reports list {dept}", title=t("ws.rp.list", lang),
                      kinds={t("ws.rp.col.revision", lang): "integer", t("ws.rp.col.published", lang): "datetime"},
                      dept=dept)
