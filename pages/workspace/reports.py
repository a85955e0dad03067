"""Monthly operations reports (月度运营分析报告): generate a department's report for a month,
edit its problem → cause → suggestion findings, publish it, print it on A4, export it to
Excel or PDF, send it to the department's subscribers; published reports are kept and listed.

The address names the report (`?dept=D001&report=12`), so a published report can be linked (the
link in the message that carries a report to its subscribers).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
from dash import Input, Output, State, clientside_callback, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.notify import queue_report, report_deliveries
from appdb.reports import FIELDS, MAX_TEXT, create_draft, get_report, list_reports, month_alerts, publish, save_findings
from appdb.store import CodedError
from components import exports
from components.alerts import alert_value
from components.format import alert_kind, format_deviation
from components.i18n import t
from components.notify import report_deliveries_list
from components.reports import change_text, document, entity, has_entity, month_label, report_list
from data_layer.alerts.actions import suggested_action
from data_layer.errors import UserError
from data_layer.periods import add_months, month_end
from data_layer.queries.portfolio import history_score
from data_layer.queries.report import generate, month_period
from data_layer.registry import INDICATORS
from shell.access import PermissionDenied, audit
from shell.inputs import Ref
from shell.report_pdf import render_report_pdf

from .._common import current_scope, warehouse
from .._kit import READERS, Ask, Export, check_department, export_callback, page_callback
from ._frame import Start, begin, frame, section, section_page, valid_period_key

dash.register_page(__name__, **section_page("reports", inputs={"report-meta.data": Ref}))

REPORT_BUTTON = {"type": "report-export", "table": "report", "fmt": "xlsx"}


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


def layout(dept: str | None = None, period: str | None = None, report: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    months = report_months()
    controls = html.Div([
        dcc.Dropdown(id="report-month", options=[{"label": month_label(m, lang), "value": m.isoformat()} for m in months],
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
    if r["status"] != "published":
        return render(r, lang, start.dept_name(r["dept_id"]))
    return html.Div([render(r, lang, start.dept_name(r["dept_id"])),
                     html.Div(_sent(rid, lang), id="report-sent", className="report-sent d-print-none")])


def _sent(report_id: int, lang: str) -> Any:
    """Who the report was sent to and how it went (appdb/notify.py's delivery records)."""
    return report_deliveries_list(report_deliveries(_db(), report_id), lang)


def _list(start: Start) -> Any:
    return report_list(list_reports(_db(), current_scope(), dept_ids=[start.dept]), start.lang)


# ------------------------------------------------------------------------------------------- document
def render(report: dict, lang: str, dept_name: str) -> html.Article:
    """The report as a document: the same on screen and on paper."""
    published = report["status"] == "published"

    def tools() -> list[Any]:
        pdf = html.Button(t("ws.rp.pdf", lang), id="report-pdf", disabled=not published,
                          title=None if published else t("ws.rp.pdf_draft", lang),
                          className="btn btn-sm btn-outline-secondary ms-2")
        send = html.Button(t("notify.report.send", lang), id="report-send", disabled=not published,
                           title=t("notify.report.send_help" if published else "notify.report.send_draft", lang),
                           className="btn btn-sm btn-outline-primary ms-2")
        return [html.Button(t("ws.rp.print", lang), id="report-print", className="btn btn-sm btn-outline-secondary"),
                html.Button(t("export.xlsx", lang), id=REPORT_BUTTON, className="btn btn-sm btn-outline-secondary ms-2"),
                pdf, send, *([] if published else [html.Span(t("ws.rp.pdf_draft", lang), className="note ms-2 mb-0")])]

    return document(report, lang, dept_name, FIELDS, tools, MAX_TEXT)


# ------------------------------------------------------------------------------------------- actions
def default_findings(content: dict, alerts: list[dict], lang: str) -> list[dict[str, str]]:
    """A first draft of the findings: each alert of the month (with its recorded cause and
    action), then the key figures that moved most the wrong way on last year."""
    rows = []
    for a in alerts:
        ind = INDICATORS.get(a["indicator"])
        unit = ind.unit if ind else ""
        name = ind.name(lang) if ind else a["indicator"]
        if has_entity(a):
            name += f" ({entity(a, lang)})"
        problem = t("ws.rp.auto_problem", lang, indicator=name,
                    observed=alert_value(a["observed"], alert_kind(a), unit, lang),
                    expected=alert_value(a["expected"], alert_kind(a), unit, lang),
                    deviation=format_deviation(a["observed"], a["expected"], a["deviation"], unit, lang,
                                               kind=alert_kind(a)))
        rows.append({"problem": problem, "cause": "；".join(a["notes"]["cause"]),
                     "suggestion": "；".join(a["notes"]["suggestion"] + a["notes"]["action"])
                     or suggested_action(a["action_key"], lang)})
    named = {a["indicator"] for a in alerts}
    nan = lambda v: float("nan") if v is None else float(v)  # noqa: E731
    for k in content["key"]:
        if k["indicator"] in named or k["yoy"] is None:
            continue
        if history_score(k["indicator"], k["yoy"], nan(k["yoy_diff"]), nan(k.get("value"))) <= -2:
            code = k["indicator"]
            rows.append({"problem": t("ws.rp.auto_trend", lang, indicator=INDICATORS[code].name(lang),
                                      change=change_text(k["yoy"], k["yoy_diff"], code, lang)), "cause": "", "suggestion": ""})
    return [{k: _cut(v) for k, v in row.items()} for row in rows[:12]]


def _cut(text: str) -> str:
    """A drafted cell within the length a finding may have (several long alert notes joined can pass it)."""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Output("report-status", "children"),
               Input("report-generate", "n_clicks"), State("ws-dept", "value"), State("report-month", "value"),
               State("ws-period", "value"), roles=READERS, dept="ws-dept", prevent_initial_call=True)
def make(ask: Ask, n: Any, month: Any, period: Any = "ytd") -> Any:
    lang, dept, scope = ask.lang, ask.dept, ask.scope
    if not n:
        return no_update, no_update
    try:
        m = date.fromisoformat(str(month))
    except ValueError:
        return no_update, _msg(t("ws.rp.bad_month", lang))
    if m not in report_months():
        return no_update, _msg(t("ws.rp.bad_month", lang))
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


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("report-list", "cellClicked"),
               State("ws-dept", "value"), State("ws-period", "value"), roles=READERS, dept="ws-dept",
               prevent_initial_call=True)
def open_row(ask: Ask, cell: Any, period: Any) -> Any:
    """A click on a row of the list opens that report (the address names it, as a link would)."""
    rid = cell.get("rowId") if isinstance(cell, dict) else None
    if not isinstance(rid, str | int) or not str(rid).isdigit() or len(str(rid)) > 12:
        return no_update
    period = period if valid_period_key(period) else "ytd"
    return "?" + urlencode({"dept": ask.dept, "period": period, "report": int(rid)})


@page_callback(Output("report-findings", "rowData"), Input("report-add-row", "n_clicks"),
               State("report-findings", "rowData"), roles=READERS, prevent_initial_call=True)
def add_row(_ask: Ask, n: Any, rows: Any) -> Any:
    if not n:
        return no_update
    rows = rows if isinstance(rows, list) else []
    return rows + [dict.fromkeys(FIELDS, "")]


@page_callback(Output("report-findings", "rowData", allow_duplicate=True),
               Output("report-findings", "selectedRows"), Input("report-delete-rows", "n_clicks"),
               State("report-findings", "rowData"), State("report-findings", "selectedRows"),
               roles=READERS, prevent_initial_call=True)
def delete_rows(_ask: Ask, n: Any, rows: Any, selected: Any) -> Any:
    """The findings without the ticked rows (each ticked row once: two blank rows alike, one
    ticked, leave one)."""
    if not n or not isinstance(rows, list) or not isinstance(selected, list) or not selected:
        return no_update, no_update
    gone = [r for r in selected if isinstance(r, dict)]
    kept = []
    for row in rows:
        if row in gone:
            gone.remove(row)
        else:
            kept.append(row)
    return kept, []


def _report_of(meta: Any, lang: str) -> tuple[int, int]:
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), int) or not isinstance(meta.get("version"), int):
        raise UserError(t("wall.bad_filter", lang))
    return meta["id"], meta["version"]


def _guard(rid: int, ask: Ask) -> dict:
    """The report if the reader may see it: the store reads it within the scope, and its own
    department (not a picker's) is checked as a page callback's is; 403 otherwise."""
    r = get_report(_db(), ask.scope, rid)
    if r is None:
        raise PermissionDenied(f"report {rid} is outside the user's scope")
    check_department(r["dept_id"])
    return r


@page_callback(Output("report-status", "children", allow_duplicate=True), Output("report-meta", "data"),
               Input("report-save", "n_clicks"), State("report-findings", "rowData"), State("report-meta", "data"),
               roles=READERS, prevent_initial_call=True)
def save(ask: Ask, n: Any, rows: Any, meta: Any) -> Any:
    lang = ask.lang
    if not n:
        return no_update, no_update
    rid, version = _report_of(meta, lang)
    _guard(rid, ask)
    try:
        r = save_findings(_db(), ask.scope, rid, rows, version)
    except CodedError as exc:
        return _msg(t(f"ws.rp.err.{exc.code}", lang)), no_update
    audit("report_save", f"report {rid}", f"{len(r['findings'])} findings")
    return _msg(t("ws.rp.saved", lang, n=len(r["findings"])), ok=True), {"id": rid, "version": r["version"]}


@page_callback(Output("_pages_location", "search", allow_duplicate=True),
               Output("report-status", "children", allow_duplicate=True),
               Input("report-publish", "n_clicks"), State("report-findings", "rowData"), State("report-meta", "data"),
               roles=READERS, prevent_initial_call=True)
def publish_report(ask: Ask, n: Any, rows: Any, meta: Any) -> Any:
    lang = ask.lang
    if not n:
        return no_update, no_update
    rid, version = _report_of(meta, lang)
    _guard(rid, ask)
    try:
        r = publish(_db(), ask.scope, rid, rows, version, current_user.username)
    except CodedError as exc:
        return no_update, _msg(t(f"ws.rp.err.{exc.code}", lang))
    audit("report_publish", f"report {rid}", f"{r['dept_id']} {r['month']} revision {r['revision']}")
    return "?" + urlencode({"dept": r["dept_id"], "report": rid}), _msg(t("ws.rp.published", lang), ok=True)


@page_callback(Output("ws-download", "data", allow_duplicate=True), Input("report-pdf", "n_clicks"),
               State("report-meta", "data"), roles=READERS, prevent_initial_call=True)
def download_pdf(ask: Ask, n: Any, meta: Any) -> Any:
    """The published report as a PDF printed on the server (shell/report_pdf.py), audited as an
    export; a draft, or a server without Chromium, is answered with a message."""
    if not n:
        return no_update
    rid, _version = _report_of(meta, ask.lang)
    r = _guard(rid, ask)
    pdf = render_report_pdf(rid, ask.lang, appdb=_db(), scope=ask.scope, warehouse=warehouse())
    audit("export", f"report {rid}", f"{r['dept_id']} {r['month']} revision {r['revision']}, pdf")
    return dcc.send_bytes(pdf.data, pdf.filename)


@page_callback(Output("report-status", "children", allow_duplicate=True), Output("report-sent", "children"),
               Input("report-send", "n_clicks"), State("report-meta", "data"), roles=READERS, prevent_initial_call=True)
def send_to_subscribers(ask: Ask, n: Any, meta: Any) -> Any:
    """Queue the published report for its department's subscribers (appdb/notify.queue_report) and
    answer at once with how many: the delivery job (`python -m appdb notify retry`, every few
    minutes) renders the PDF and sends it. A draft is refused with a message; a report outside the
    scope is refused by the kit (403, audited)."""
    lang = ask.lang
    if not n:
        return no_update, no_update
    rid, _version = _report_of(meta, lang)
    r = _guard(rid, ask)
    if r["status"] != "published":
        return _msg(t("notify.report.send_draft", lang)), no_update
    q = queue_report(_db(), rid, datetime.now().replace(microsecond=0))
    audit("report_send", f"report {rid}", f"{r['dept_id']} {r['month']} revision {r['revision']}: "
          f"{q.recipients} recipients, {q.deliveries} deliveries queued, {q.already} had it already")
    if q.recipients:
        text = t("notify.report.queued_already" if q.already else "notify.report.queued", lang, n=q.recipients,
                 m=q.already)
    else:
        text = t("notify.report.nobody_new" if q.already else "notify.report.nobody", lang, m=q.already)
    return _msg(text, ok=q.recipients > 0), _sent(rid, lang)


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output("report-print", "title"), Input("report-print", "n_clicks"), prevent_initial_call=True)


# ------------------------------------------------------------------------------------------- exports
def _dept_name(dept: str, lang: str) -> str:
    """The department's name, or its code while the warehouse is away (a saved report still exports)."""
    try:
        from data_layer.queries.structure import departments

        d = departments(warehouse(), current_scope())
        hit = d[d["dept_id"] == dept]
        if not hit.empty:
            return str(hit.iloc[0]["name_zh" if lang == "zh" else "name_en"])
    except UserError:
        pass
    return dept


def _export_report(ask: Ask, meta: Any) -> Export:
    """The open report as a workbook of one sheet per section (components/exports.report_sheets)."""
    lang = ask.lang
    rid, _version = _report_of(meta, lang)
    r = _guard(rid, ask)
    c = r["content"]
    line = t("ws.rp.meta", lang, revision=r["revision"], status=t(f"ws.rp.status.{r['status']}", lang),
             through=c["data_through"], previous=c["previous"], year_ago=c["year_ago"])
    return Export(pd.DataFrame(), f"report-{r['dept_id']}-{str(r['month'])[:7]}-r{r['revision']}", f"report {rid}",
                  title=t("ws.rp.title", lang, dept=_dept_name(r["dept_id"], lang), month=month_label(c["month"], lang)),
                  period=month_period(pd.Timestamp(r["month"]).date()), dept=r["dept_id"],
                  sheets=exports.report_sheets(r, lang, FIELDS), heading_lines=(line,),
                  detail=f"{r['dept_id']} {r['month']} revision {r['revision']}, xlsx")


def _export_list(ask: Ask) -> Export:
    lang, dept = ask.lang, ask.dept
    df = list_reports(_db(), ask.scope, dept_ids=[dept])
    out = pd.DataFrame({t("ws.pf.col.dept_id", lang): df["dept_id"], t("ws.rp.col.month", lang): df["month"].astype(str),
                        t("ws.rp.col.revision", lang): df["revision"],
                        t("ws.rp.col.status", lang): df["status"].map(lambda s: t(f"ws.rp.status.{s}", lang)),
                        t("ws.rp.col.created", lang): df["created_by"], t("ws.rp.col.published", lang): df["published_at"]})
    return Export(out, f"reports-{dept}", f"workspace reports list {dept}", title=t("ws.rp.list", lang),
                  kinds={t("ws.rp.col.revision", lang): "integer", t("ws.rp.col.published", lang): "datetime"})


export_callback("reports", {"list": _export_list}, roles=READERS, period=None)
export_callback("reports", {"report": _export_report}, State("report-meta", "data"), button_type="report-export",
                roles=READERS, dept=None, period=None)
