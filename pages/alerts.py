"""Alerts: the list in the user's scope, an alert's series, drivers and rows, and its workflow."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.alerts import NOTE_KINDS, add_note, get_alert, list_alerts, save_scan, transition
from appdb.notify import deliveries_of
from appdb.quality import ALERT_KIND as QUALITY_KIND
from appdb.schema import ALERT_STATUSES
from appdb.store import CodedError
from components.alerts import (
    alert_grid,
    alert_value,
    detail,
    export_kinds,
    indicator_of,
    rows_grid,
    series_figure,
    with_headers,
    with_local_names,
)
from components.controls import localize_controls
from components.i18n import t
from components.notes import address_notes
from components.notify import deliveries_list
from data_layer.alerts.actions import suggested_action
from data_layer.alerts.detect import LEVELS, scan
from data_layer.errors import UserError
from data_layer.periods import Period, add_months
from data_layer.queries.drill import alert_rows
from data_layer.queries.kpis import indicator_values
from data_layer.queries.structure import department_campuses, departments
from data_layer.registry import INDICATORS, Level
from data_layer.sources import Filters
from shell.access import PermissionDenied, audit, page_denied
from shell.inputs import Code, Codes, Count, RowId

from ._address import check_record
from ._common import current_lang, current_scope, forbidden_panel, warehouse, with_names
from ._kit import READERS, Ask, Export, export_buttons, export_callback, page_callback

ROLES = READERS
dash.register_page(__name__, path="/alerts", name="Alerts", order=50, allowed_roles=ROLES,
                   nav_label={"zh": "运营预警", "en": "Alerts"},
                   inputs={"al-level.value": Codes, "al-dept.value": Codes, "al-indicator.value": Codes,
                           "al-status.value": Codes, "al-note-kind.value": Code, "al-selected.data": RowId,
                           "al-version.data": Count, "al-refresh.data": Count})


def _db():
    return current_app.extensions["hospdash"].appdb


def _dept_names(lang: str) -> dict[str, str]:
    deps = departments(warehouse(), current_scope())
    return dict(zip(deps["dept_id"], deps["name_zh" if lang == "zh" else "name_en"], strict=True))


def _asked_alert(raw: Any, lang: str) -> tuple[int | None, str | None]:
    """The alert the address opens (`?alert=<id>`, the link in every alert message) and the note when
    the address held something else; an id naming no alert in the reader's scope is audited."""
    def found(alert_id: int) -> bool:
        if get_alert(_db(), current_scope(), alert_id) is not None:
            return True
        audit("forbidden_page", f"/alerts?alert={alert_id}", "alert outside the scope or missing")
        return False

    return check_record("alert", raw, found, lang, shown=t("addr.shown.alert_list", lang))


def layout(alert: Any = None, **_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    opened, alert_note = _asked_alert(alert, lang)
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
        address_notes([alert_note] if alert_note else [], lang),
        filters,
        dcc.Store(id="al-selected", data=opened), dcc.Store(id="al-version"), dcc.Store(id="al-refresh", data=0),
        html.Div([html.Div(id="al-list", className="alert-list"),
                  html.Div(html.P(t("alerts.pick", lang), className="note"), id="al-detail", className="alert-detail")],
                 className="alerts-grid"),
        dcc.Download(id="al-download"),
    ], className="container-fluid page")


@page_callback(Output("al-list", "children"), Input("al-level", "value"), Input("al-dept", "value"),
               Input("al-indicator", "value"), Input("al-status", "value"), Input("al-dates", "start_date"),
               Input("al-dates", "end_date"), Input("al-refresh", "data"), roles=ROLES, depts="al-dept")
def alert_list(ask: Ask, levels, depts, indicators, statuses, start, end, _n) -> Any:
    lang = ask.lang
    if any(lv not in LEVELS for lv in levels or []) or any(s not in ALERT_STATUSES for s in statuses or []) \
            or any(i not in INDICATORS for i in indicators or []):
        raise UserError(t("audit.bad_filter", lang))
    try:
        since = date.fromisoformat(start[:10]) if start else None
        until = date.fromisoformat(end[:10]) if end else None
    except ValueError:
        raise UserError(t("audit.bad_filter", lang)) from None
    df = list_alerts(_db(), ask.scope, levels=levels, dept_ids=depts or None, indicators=indicators,
                     statuses=statuses, since=since, until=until)
    return alert_grid(df, {} if df.empty else _dept_names(lang), LEVELS, lang,
                      _entity_names(df.to_dict("records"), lang))


def _alert(ask: Ask, alert_id: Any) -> dict:
    """The alert if the reader's scope holds it; PermissionDenied (audited) otherwise."""
    alert = get_alert(_db(), ask.scope, int(alert_id))
    if alert is None:
        raise PermissionDenied(f"alert {alert_id} is outside the user's scope")
    return alert


@page_callback(Output("al-selected", "data"), Input("alerts-table", "cellClicked"), prevent_initial_call=True,
               roles=ROLES)
def pick(ask: Ask, cell: dict | None) -> Any:
    """A click on a row of the alert list opens that alert."""
    try:
        alert_id = int((cell or {}).get("rowId"))
    except (TypeError, ValueError):
        return no_update
    if not 0 < alert_id < 2**31:
        return no_update
    return _alert(ask, alert_id)["id"]


def _series(alert: dict, lang: str) -> Any:
    if alert["kind"] == QUALITY_KIND:  # a data-quality alert has no indicator series: its trend is on /data-quality
        return series_figure(pd.DataFrame(columns=["period_start", "value"]), alert, alert["indicator"], "day", lang)
    wh = warehouse()
    if alert["kind"] in ("volume_drop",):
        period = Period(alert["period_start"] - timedelta(days=60), min(alert["period_end"] + timedelta(days=21),
                                                                       wh.freshness().data_through), "custom")
        grain = "day"
    else:
        period = Period(add_months(alert["period_start"], -14), alert["period_end"], "custom")
        grain = "month"
    level, filters = Level.department, Filters(department=(alert["dept_id"],))
    if alert["entity_type"] == "drg":
        level, filters = Level.drg, Filters(department=(alert["dept_id"],), drg=(alert["entity_id"],))
    elif alert["entity_type"] == "group":  # a medical group's alert plots the group's own series
        level, filters = Level.group, Filters(department=(alert["dept_id"],), group=(alert["entity_id"],))
    code = alert["indicator"] if alert["indicator"] != "equipment_utilization" else "equipment_exams"
    try:
        df = indicator_values(wh, current_scope(), (code,), period, level, filters, grain)
    except UserError:
        df = pd.DataFrame(columns=["period_start", "value"])
    return series_figure(df, alert, code, grain, lang)


def _rows(alert: dict, lang: str) -> pd.DataFrame:
    """The rows behind an alert, names in the reader's language (headers still the column ids)."""
    if alert["kind"] == QUALITY_KIND:  # its example rows are on /data-quality
        return pd.DataFrame()
    period = Period(alert["period_start"], alert["period_end"], "custom")
    rows = alert_rows(warehouse(), current_scope(), alert["dept_id"], alert["indicator"], period,
                      alert["entity_type"], alert["entity_id"])
    return with_names(with_local_names(rows, lang), lang)


def _entity_names(records: list[dict], lang: str) -> dict[tuple[str, str], str]:
    """{(type, id): name} of the medical groups and DRG groups these alerts and their knock-ons
    name, in the reader's language and scope (a device or a budget line stays its code)."""
    from data_layer.queries.dip import packet_names
    from data_layer.queries.names import level_names

    found = [x for a in records for x in [a, *(a.get("consequences") if isinstance(a.get("consequences"), list)
                                               else [])]]
    wanted = {(str(x.get("entity_type")), str(x.get("entity_id")))
              for x in found if isinstance(x, dict) and isinstance(x.get("entity_id"), str) and x["entity_id"]}
    wanted |= {(str(d.get("type")), str(d.get("id"))) for a in records if isinstance(a.get("drivers"), list)
               for d in a["drivers"] if isinstance(d, dict) and d.get("type") in ("department", "dip")}
    out: dict[tuple[str, str], str] = {}
    col = "name_zh" if lang == "zh" else "name_en"
    for kind in sorted({k for k, _ in wanted} & {"group", "drg", "department", "dip"}):
        try:
            names = (packet_names(warehouse(), current_scope()).rename(columns={"dip_code": "key"}) if kind == "dip"
                     else level_names(warehouse(), current_scope(), Level(kind))).set_index("key")
        except UserError:
            continue
        out.update({(kind, i): str(names.at[i, col]) for k, i in wanted if k == kind and i in names.index})
    return out


def _person(username: str | None) -> str:
    """A user as people know them: the display name, with the login name only when there is none."""
    if not username:
        return "—"
    user = _db().get_by_username(username)
    return user.display_name if user is not None and user.display_name else username


@page_callback(Output("al-detail", "children"), Output("al-version", "data"), Input("al-selected", "data"),
               roles=ROLES)
def show(ask: Ask, alert_id: int | None) -> tuple:
    lang = ask.lang
    if alert_id is None:
        return html.P(t("alerts.pick", lang), className="note"), None
    alert = _alert(ask, alert_id)
    part = detail(alert, lang, dept_name=_dept_names(lang).get(alert["dept_id"], alert["dept_id"]),
                  owner=_person(alert["owner"]), action=suggested_action(alert["action_key"], lang),
                  figure=_series(alert, lang), rows=rows_grid(_rows(alert, lang), lang),
                  export=export_buttons("alerts", "rows", lang, button_type="al-export"),
                  note_kinds=NOTE_KINDS, statuses=ALERT_STATUSES, names=_entity_names([alert], lang))
    part.children.append(deliveries_list(deliveries_of(_db(), int(alert["id"])), lang))
    return localize_controls(part, lang), alert["version"]


@page_callback(Output("al-selected", "data", allow_duplicate=True), Output("al-msg", "children"),
               Output("al-refresh", "data"),
               Input("al-ack", "n_clicks"), Input("al-resolve", "n_clicks"), Input("al-dismiss", "n_clicks"),
               Input("al-note-add", "n_clicks"),
               State("al-selected", "data"), State("al-version", "data"), State("al-reason", "value"),
               State("al-note-kind", "value"), State("al-note-text", "value"), State("al-refresh", "data"),
               prevent_initial_call=True, roles=ROLES)
def act(ask: Ask, _a, _r, _d, _n, alert_id, version, reason, note_kind, note_text, refresh) -> tuple:
    lang = ask.lang
    if alert_id is None or not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update, no_update, no_update  # a detail just drawn (buttons never clicked) checks nothing
    db, scope, user = _db(), ask.scope, current_user.username
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


@page_callback(Output("al-scan-msg", "children"), Output("al-refresh", "data", allow_duplicate=True),
               Input("al-scan", "n_clicks"), State("al-refresh", "data"), prevent_initial_call=True,
               roles=("assistant",))
def run_scan(ask: Ask, _n: int, refresh: int) -> tuple:
    """An assistant scans their own departments now (the nightly job scans everything)."""
    wh, scope = warehouse(), ask.scope
    result = scan(wh, scope)
    added, grown = save_scan(_db(), result.alerts, department_campuses(wh, scope))
    audit("alerts_scan", current_user.username, f"{len(result.alerts)} findings, {added} new")
    return t("alerts.scanned", ask.lang, found=len(result.alerts), added=added, grown=grown), (refresh or 0) + 1


def _export_rows(ask: Ask, alert_id: int | None) -> Export:
    """The open alert's rows, with a heading naming its level, method, observed and expected values."""
    if alert_id is None:
        raise UserError(t("alerts.pick", ask.lang))
    alert, lang = _alert(ask, alert_id), ask.lang
    rows = with_headers(_rows(alert, lang), lang)
    ind = indicator_of(alert["indicator"])
    facts = (f"{t('level.' + alert['level'], lang)} · {t('method.' + alert['kind'], lang)} · "
             f"{t('alerts.observed', lang)} {alert_value(alert['observed'], alert['kind'], ind.unit, lang)} · "
             f"{t('alerts.expected', lang)} {alert_value(alert['expected'], alert['kind'], ind.unit, lang)}")
    title = t("alerts.export_title", lang, dept=_dept_names(lang).get(alert["dept_id"], alert["dept_id"]),
              indicator=ind.name(lang))
    return Export(rows, f"alert-{alert_id}-{alert['dept_id']}-{alert['indicator']}", f"alert {alert_id}", title=title,
                  kinds=export_kinds(lang), period=Period(alert["period_start"], alert["period_end"], "custom"),
                  dept=alert["dept_id"], lines=(facts,), sheet=t("alerts.rows", lang),
                  empty_note=t("export.no_rows", lang))


export_callback("alerts", {"rows": _export_rows}, State("al-selected", "data"), output=Output("al-download", "data"),
                button_type="al-export", roles=ROLES, dept=None, period=None)
