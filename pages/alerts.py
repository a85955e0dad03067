"""Alerts: the list in the user's scope, an alert's series, drivers and rows, and its workflow."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.alerts import NOTE_KINDS, add_note, get_alert, list_alerts, save_scan, transition
from appdb.schema import ALERT_STATUSES
from appdb.store import CodedError
from components import exports
from components.controls import localize_controls
from components.format import COUNTED_ALERTS, format_cell, format_deviation, format_indicator
from components.i18n import CATALOG, t
from components.palette import DESK
from data_layer.alerts.actions import suggested_action
from data_layer.alerts.detect import LEVELS, scan
from data_layer.errors import UserError
from data_layer.periods import Period, add_months
from data_layer.queries.drill import alert_rows
from data_layer.queries.kpis import indicator_values
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS, Level
from data_layer.sources import Filters
from shell.access import PermissionDenied, audit, page_denied, secured
from shell.inputs import Code, Codes, Count, RowId

from ._common import current_lang, current_scope, export_heading, forbidden_panel, warehouse, with_names

ROLES = ("leader", "director", "assistant")
dash.register_page(__name__, path="/alerts", name="Alerts", order=50, allowed_roles=ROLES,
                   nav_label={"zh": "运营预警", "en": "Alerts"},
                   inputs={"al-level.value": Codes, "al-dept.value": Codes, "al-indicator.value": Codes,
                           "al-status.value": Codes, "al-note-kind.value": Code, "al-selected.data": RowId,
                           "al-version.data": Count, "al-refresh.data": Count, "al-open#index": RowId})


def _db():
    return current_app.extensions["hospdash"].appdb


def _dept_names(lang: str) -> dict[str, str]:
    deps = departments(warehouse(), current_scope())
    return dict(zip(deps["dept_id"], deps["name_zh" if lang == "zh" else "name_en"], strict=True))


def layout(**_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    try:
        names = _dept_names(lang)
    except UserError:
        names = {}
    opt = lambda items: [{"label": label, "value": value} for value, label in items]  # noqa: E731
    filters = html.Div([
        dcc.Dropdown(id="al-level", multi=True, placeholder=t("alerts.level", lang),
                     options=opt((lv, t(f"level.{lv}", lang)) for lv in reversed(LEVELS))),
        dcc.Dropdown(id="al-dept", multi=True, placeholder=t("alerts.department", lang), options=opt(names.items())),
        dcc.Dropdown(id="al-indicator", multi=True, placeholder=t("alerts.indicator", lang),
                     options=opt((c, i.name(lang)) for c, i in INDICATORS.items())),
        dcc.Dropdown(id="al-status", multi=True, value=["new", "acknowledged"], placeholder=t("alerts.status", lang),
                     options=opt((s, t(f"status.{s}", lang)) for s in ALERT_STATUSES)),
        dcc.DatePickerRange(id="al-dates", display_format="YYYY-MM-DD", clearable=True,
                            start_date_placeholder_text=t("audit.from", lang),
                            end_date_placeholder_text=t("audit.to", lang)),
    ], className="alert-filters")
    scan_button = html.Button(t("alerts.scan", lang), id="al-scan", className="btn btn-outline-primary btn-sm") \
        if current_user.role == "assistant" else None
    return html.Main([
        html.Div([html.H1(t("alerts.title", lang)), scan_button, html.Span(id="al-scan-msg", className="ms-2")],
                 className="d-flex align-items-center gap-2"),
        filters,
        dcc.Store(id="al-selected"), dcc.Store(id="al-version"), dcc.Store(id="al-refresh", data=0),
        html.Div([html.Div(id="al-list", className="alert-list"),
                  html.Div(html.P(t("alerts.pick", lang), className="note"), id="al-detail", className="alert-detail")],
                 className="alerts-grid"),
        dcc.Download(id="al-download"),
    ], className="container-fluid page")


@callback(Output("al-list", "children"), Input("al-level", "value"), Input("al-dept", "value"),
          Input("al-indicator", "value"), Input("al-status", "value"), Input("al-dates", "start_date"),
          Input("al-dates", "end_date"), Input("al-refresh", "data"))
@secured(roles=ROLES, departments=lambda _lv, depts, *_: depts or [])
def alert_list(levels, depts, indicators, statuses, start, end, _n) -> Any:
    lang = current_lang()
    if any(lv not in LEVELS for lv in levels or []) or any(s not in ALERT_STATUSES for s in statuses or []) \
            or any(i not in INDICATORS for i in indicators or []):
        raise UserError(t("audit.bad_filter", lang))
    try:
        since = date.fromisoformat(start[:10]) if start else None
        until = date.fromisoformat(end[:10]) if end else None
    except ValueError:
        raise UserError(t("audit.bad_filter", lang)) from None
    df = list_alerts(_db(), current_scope(), levels=levels, dept_ids=depts, indicators=indicators, statuses=statuses,
                     since=since, until=until)
    if df.empty:
        return html.P(t("alerts.none", lang), className="note")
    names = _dept_names(lang)
    df = df.assign(rank=df["level"].map({lv: -i for i, lv in enumerate(LEVELS)})).sort_values(
        ["rank", "period_end"], ascending=[True, False], kind="stable")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("alerts.level", "alerts.department", "alerts.indicator",
                                                             "alerts.period", "alerts.deviation", "alerts.status")]))
    rows = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        period = _period_text(r.period_start, r.period_end)
        entity = f" · {r.entity_id}" if isinstance(r.entity_id, str) and r.entity_id else ""
        rows.append(html.Tr([
            html.Td(html.Span(t(f"level.{r.level}", lang), className=f"badge lvl-badge lvl-{r.level}")),
            html.Td(names.get(r.dept_id, r.dept_id)),
            html.Td(html.Button(ind.name(lang) + entity,
                                id={"type": "al-open", "index": int(r.id)}, className="btn btn-link btn-sm p-0")),
            html.Td(period), html.Td(format_deviation(r.observed, r.expected, r.deviation, ind.unit, lang, kind=r.kind)),
            html.Td(t(f"status.{r.status}", lang)),
        ]))
    return html.Table([head, html.Tbody(rows)], className="table table-sm table-hover", id="alerts-table")


def _period_text(start: date, end: date) -> str:
    """2026-10 for a whole month, else the two days."""
    from data_layer.periods import month_end

    if start.day == 1 and end == month_end(start):
        return f"{start:%Y-%m}"
    return f"{start} – {end}" if start != end else f"{start}"


@callback(Output("al-selected", "data"), Input({"type": "al-open", "index": ALL}, "n_clicks"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def pick(clicks: list[int | None]) -> Any:
    if not any(clicks) or not isinstance(ctx.triggered_id, dict):
        return no_update
    alert_id = int(ctx.triggered_id["index"])
    if get_alert(_db(), current_scope(), alert_id) is None:
        raise PermissionDenied(f"alert {alert_id} is outside the user's scope")
    return alert_id


def _series_figure(alert: dict, lang: str) -> go.Figure:
    wh = warehouse()
    scope = current_scope()
    f = Filters(department=(alert["dept_id"],))
    if alert["kind"] in ("volume_drop",):
        period = Period(alert["period_start"] - timedelta(days=60), min(alert["period_end"] + timedelta(days=21),
                                                                       wh.freshness().data_through), "custom")
        grain = "day"
    else:
        period = Period(add_months(alert["period_start"], -14), alert["period_end"], "custom")
        grain = "month"
    level, filters = Level.department, f
    if alert["entity_type"] == "drg":
        level, filters = Level.drg, Filters(department=(alert["dept_id"],), drg=(alert["entity_id"],))
    code = alert["indicator"] if alert["indicator"] != "equipment_utilization" else "equipment_exams"
    try:
        df = indicator_values(wh, scope, (code,), period, level, filters, grain)
    except UserError:
        df = pd.DataFrame(columns=["period_start", "value"])
    fig = go.Figure(go.Scatter(x=df["period_start"], y=df["value"], mode="lines+markers", name=INDICATORS[code].name(lang),
                               line={"color": DESK.neutral}))
    if alert["band_low"] is not None and alert["band_high"] is not None and code == alert["indicator"]:
        fig.add_hrect(y0=alert["band_low"], y1=alert["band_high"], fillcolor=DESK.good, opacity=0.1, line_width=0,
                      annotation_text=t("alerts.band", lang), annotation_position="top left")
        fig.add_hline(y=alert["expected"], line_dash="dot", line_color=DESK.good)
    fig.add_vrect(x0=alert["period_start"], x1=alert["period_end"], fillcolor=DESK.bad, opacity=0.08, line_width=0)
    fig.update_layout(height=280, margin={"l": 40, "r": 10, "t": 30, "b": 30}, template="hospdash",
                      title={"text": t("alerts.series", lang), "font": {"size": 14}}, showlegend=False,
                      font={"family": "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"})
    if INDICATORS[code].unit == "ratio":  # the plotted series' unit (an idle device plots its exams, a count)
        fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(tickformat="%m-%d" if grain == "day" else "%Y-%m")  # numeric dates read the same in both languages
    return fig


ROW_KINDS = {  # the kind of each column of an alert's rows (data_layer.queries.drill.alert_rows)
    **dict.fromkeys(("discharge_date", "admit_date", "date", "month_start"), "date"),
    **dict.fromkeys(("los_days", "visits", "emergency_visits", "exams", "open_beds", "occupied_beds", "admissions",
                     "discharges"), "integer"),
    **dict.fromkeys(("charge_total", "charge_drug", "charge_material", "drg_payment", "cost_total", "revenue_total",
                     "revenue_drug", "revenue", "budget_amount", "executed_amount", "amount"), "money"),
    "occupancy": "percent", "hours_used": "days",
}


def _localised(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Drill-down rows with the reader's language: names instead of group and doctor ids, one name
    column for each pair of Chinese and English names (beside its code), translated headers."""
    for base in ("drg", "ward", "equipment", "item"):
        if {f"{base}_zh", f"{base}_en"} <= set(rows.columns):
            at = list(rows.columns).index(f"{base}_zh")
            named = rows[f"{base}_zh" if lang == "zh" else f"{base}_en"]
            rows = rows.drop(columns=[f"{base}_zh", f"{base}_en"])
            rows.insert(min(at, len(rows.columns)), f"{base}_name", named)
    if "allocation_stage" in rows.columns:
        rows = rows.assign(allocation_stage=rows["allocation_stage"].map(lambda s: t(f"dw.stage.{s}", lang)
                                                                          if f"dw.stage.{s}" in CATALOG else s))
    rows = with_names(rows, lang)
    return rows.rename(columns={c: t(f"col.{c}", lang) for c in rows.columns if f"col.{c}" in CATALOG})


SCREEN_KINDS = {"integer": "int", "money": "yuan", "percent": "ratio", "days": "days"}  # export kind -> format_cell


def _cell(value: Any, kind: str, lang: str) -> str:
    """A row's cell on screen: figures as the page formats them, dates as dates."""
    if kind == "text" and hasattr(value, "strftime"):
        return f"{value:%Y-%m-%d}"
    return format_cell(value, kind, lang)


def _row_kinds(lang: str) -> dict[str, str]:
    return {t(f"col.{c}", lang): kind for c, kind in ROW_KINDS.items() if f"col.{c}" in CATALOG}
STATUS_NOTE = re.compile(r"^(?P<old>[a-z]+) → (?P<new>[a-z]+)(?:: (?P<reason>.*))?$", re.S)


def _note_text(note: dict, lang: str) -> str:
    """A note as the reader reads it: a status change (stored as "new → acknowledged: reason")
    names both statuses in the reader's language."""
    m = STATUS_NOTE.match(note["text"] or "") if note["kind"] == "status" else None
    if m is None or m["old"] not in ALERT_STATUSES or m["new"] not in ALERT_STATUSES:
        return note["text"]
    text = f"{t('status.' + m['old'], lang)} → {t('status.' + m['new'], lang)}"
    return text + (f"{'：' if lang == 'zh' else ': '}{m['reason']}" if m["reason"] else "")


def _alert_value(value: Any, kind: str, unit: str, lang: str) -> str:
    """An alert's observed or expected value: in the indicator's unit, or a count (an idle device's exams)."""
    return format_cell(value, "int", lang) if kind in COUNTED_ALERTS else format_indicator(value, unit, lang)


def _person(username: str | None) -> str:
    """A user as people know them: the display name, with the login name only when there is none."""
    if not username:
        return "—"
    user = _db().get_by_username(username)
    return user.display_name if user is not None and user.display_name else username


def _detail(alert: dict, lang: str) -> html.Div:
    ind = INDICATORS[alert["indicator"]]
    names = _dept_names(lang)
    drivers = [html.Li(f"{d.get('name_zh' if lang == 'zh' else 'name_en') or d['id']} ({t('driver.' + d['type'], lang)}) · "
                       f"{d.get('contribution', 0) * 100:.0f}%") for d in alert["drivers"]]
    notes = [html.Li([html.Strong(f"{t('note.' + n['kind'], lang)} "),
                      f"{_note_text(n, lang)} — {n['username'] or ''}, {str(n['at'])[:16]}"]) for n in alert["notes"]]
    period = Period(alert["period_start"], alert["period_end"], "custom")
    rows = _localised(alert_rows(warehouse(), current_scope(), alert["dept_id"], alert["indicator"], period,
                                 alert["entity_type"], alert["entity_id"]), lang)
    kinds = [SCREEN_KINDS.get(_row_kinds(lang).get(c, "text"), "text") for c in rows.columns]
    table = html.Table([html.Thead(html.Tr([html.Th(c) for c in rows.columns])),
                        html.Tbody([html.Tr([html.Td(_cell(v, k, lang), className="num" if k != "text" else None)
                                             for v, k in zip(r, kinds, strict=True)])
                                    for r in rows.head(30).itertuples(index=False)])],
                       className="table table-sm drill") if not rows.empty else None
    status = alert["status"]
    return html.Div([
        html.H2([html.Span(t(f"level.{alert['level']}", lang), className=f"badge lvl-badge lvl-{alert['level']} me-2"),
                 f"{names.get(alert['dept_id'], alert['dept_id'])} · {ind.name(lang)}"]),
        html.P([f"{_period_text(alert['period_start'], alert['period_end'])} · ",
                t("alerts.occurrences", lang, n=alert["occurrences"]), " · ", t(f"status.{status}", lang),
                f" · {t('alerts.owner', lang)}{'：' if lang == 'zh' else ': '}{_person(alert['owner'])}"],
               className="note"),
        html.P([html.Strong(f"{t('alerts.observed', lang)} "), _alert_value(alert["observed"], alert["kind"], ind.unit, lang),
                html.Strong(f"  {t('alerts.expected', lang)} "), _alert_value(alert["expected"], alert["kind"], ind.unit, lang),
                html.Strong(f"  {t('alerts.deviation', lang)} "),
                format_deviation(alert["observed"], alert["expected"], alert["deviation"], ind.unit, lang, 1,
                                 kind=alert["kind"])]),
        html.P([html.Strong(f"{t('alerts.method', lang)}: "), t(f"method.{alert['kind']}", lang)], className="note"),
        html.Div([html.Strong(f"{t('alerts.action', lang)}: "), suggested_action(alert["action_key"], lang)],
                 className="alert alert-info py-2", id="al-action"),
        dcc.Graph(figure=_series_figure(alert, lang), config={"displayModeBar": False}),
        html.H3(t("alerts.drivers", lang)), html.Ul(drivers or [html.Li("—")], id="al-drivers"),
        html.Div([html.H3(t("alerts.rows", lang), className="d-inline me-2"),
                  html.Button(t("alerts.export", lang), id="al-export", className="btn btn-outline-secondary btn-sm")]),
        html.Div(table, className="drill-wrap"),
        html.H3(t("alerts.notes", lang)), html.Ul(notes or [html.Li("—")], id="al-notes"),
        html.Div([
            dcc.Dropdown(id="al-note-kind", value="cause", clearable=False, className="note-kind",
                         options=[{"label": t(f"note.{k}", lang), "value": k} for k in NOTE_KINDS]),
            dcc.Textarea(id="al-note-text", className="form-control", style={"height": "60px"}, maxLength=4000),
            html.Button(t("alerts.add_note", lang), id="al-note-add", className="btn btn-outline-primary btn-sm mt-1"),
        ]),
        html.Div([
            dcc.Input(id="al-reason", placeholder=t("alerts.reason", lang), className="form-control mb-1", maxLength=500),
            html.Button(t("alerts.acknowledge", lang), id="al-ack", className="btn btn-primary btn-sm me-1",
                        disabled=status != "new"),
            html.Button(t("alerts.resolve", lang), id="al-resolve", className="btn btn-success btn-sm me-1",
                        disabled=status != "acknowledged"),
            html.Button(t("alerts.dismiss", lang), id="al-dismiss", className="btn btn-outline-secondary btn-sm",
                        disabled=status not in ("new", "acknowledged")),
        ], className="mt-3"),
        html.Div(id="al-msg", role="status", className="mt-2"),
    ])


@callback(Output("al-detail", "children"), Output("al-version", "data"), Input("al-selected", "data"))
@secured(roles=ROLES)
def show(alert_id: int | None) -> tuple:
    lang = current_lang()
    if alert_id is None:
        return html.P(t("alerts.pick", lang), className="note"), None
    alert = get_alert(_db(), current_scope(), int(alert_id))
    if alert is None:
        raise PermissionDenied(f"alert {alert_id} is outside the user's scope")
    return localize_controls(_detail(alert, lang), lang), alert["version"]


@callback(Output("al-selected", "data", allow_duplicate=True), Output("al-msg", "children"),
          Output("al-refresh", "data"),
          Input("al-ack", "n_clicks"), Input("al-resolve", "n_clicks"), Input("al-dismiss", "n_clicks"),
          Input("al-note-add", "n_clicks"),
          State("al-selected", "data"), State("al-version", "data"), State("al-reason", "value"),
          State("al-note-kind", "value"), State("al-note-text", "value"), State("al-refresh", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def act(_a, _r, _d, _n, alert_id, version, reason, note_kind, note_text, refresh) -> tuple:
    lang = current_lang()
    if alert_id is None or not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update, no_update, no_update  # a detail just drawn (buttons never clicked) checks nothing
    db, scope, user = _db(), current_scope(), current_user.username
    try:
        if ctx.triggered_id == "al-note-add":
            add_note(db, scope, int(alert_id), note_kind or "", note_text or "", user, int(version))
            audit("alert_note", str(alert_id), note_kind)
        else:
            to = {"al-ack": "acknowledged", "al-resolve": "resolved", "al-dismiss": "dismissed"}[ctx.triggered_id]
            transition(db, scope, int(alert_id), to, user, int(version), reason=reason)
            audit("alert_" + to, str(alert_id), reason)
    except CodedError as exc:
        return no_update, html.Div(t(f"alerts.err.{exc.code}", lang), className="alert alert-warning py-2"), no_update
    return int(alert_id), html.Div(t("alerts.saved", lang), className="alert alert-success py-2"), (refresh or 0) + 1


@callback(Output("al-scan-msg", "children"), Output("al-refresh", "data", allow_duplicate=True),
          Input("al-scan", "n_clicks"), State("al-refresh", "data"), prevent_initial_call=True)
@secured(roles=("assistant",))
def run_scan(_n: int, refresh: int) -> tuple:
    """An assistant scans their own departments now (the nightly job scans everything)."""
    lang = current_lang()
    wh, scope = warehouse(), current_scope()
    result = scan(wh, scope)
    deps = departments(wh, scope)
    added, grown = save_scan(_db(), result.alerts, dict(zip(deps["dept_id"], deps["campus_id"], strict=True)))
    audit("alerts_scan", current_user.username, f"{len(result.alerts)} findings, {added} new")
    return t("alerts.scanned", lang, found=len(result.alerts), added=added, grown=grown), (refresh or 0) + 1


@callback(Output("al-download", "data"), Input("al-export", "n_clicks"), State("al-selected", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def export(_n: int, alert_id: int | None) -> Any:
    if alert_id is None:
        return no_update
    alert = get_alert(_db(), current_scope(), int(alert_id))
    if alert is None:
        raise PermissionDenied(f"alert {alert_id} is outside the user's scope")
    lang = current_lang()
    period = Period(alert["period_start"], alert["period_end"], "custom")
    rows = _localised(alert_rows(warehouse(), current_scope(), alert["dept_id"], alert["indicator"], period,
                                 alert["entity_type"], alert["entity_id"]), lang)
    ind = INDICATORS[alert["indicator"]]
    level, method = t("level." + alert["level"], lang), t("method." + alert["kind"], lang)
    facts = (f"{level} · {method} · "
             f"{t('alerts.observed', lang)} {format_indicator(alert['observed'], ind.unit, lang)} · "
             f"{t('alerts.expected', lang)} {format_indicator(alert['expected'], ind.unit, lang)}")
    head = export_heading(t("alerts.export_title", lang, dept=_dept_names(lang).get(alert["dept_id"], alert["dept_id"]),
                            indicator=ind.name(lang)), period, alert["dept_id"], extra=(facts,))
    data = exports.table_workbook(head, rows, exports.columns_of(rows, _row_kinds(lang)), t("alerts.rows", lang), lang,
                                  empty_note=t("export.no_rows", lang))
    audit("export", f"alert {alert_id}", f"{len(rows)} rows")
    return dcc.send_bytes(data, f"alert-{alert_id}-{alert['dept_id']}-{alert['indicator']}.xlsx")
