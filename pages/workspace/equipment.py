"""Workspace · equipment (设备效益): per device of the department exams, hours used, utilization
against capacity over working days, saturated or not, revenue and revenue per 10,000 yuan of
device value; and the purchase appraisal (设备购置论证) of a new device request: annual revenue,
cost, net benefit, static payback, straight-line depreciation, NPV and IRR at a discount rate the
user sets, and the break-even exams per working day, next to the department's existing devices
of the kind. Appraisals are saved (application database, scoped like alerts; an identical one is
refused, naming the earlier), listed, exported as a one-page Excel report (fit to one A4 page)
and shown as a print-friendly view.

Besides the clinical departments, the department picker offers the departments in the user's
scope that operate devices (imaging, ultrasound, endoscopy …), since most large equipment sits there.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, clientside_callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.appraisals import NAME_MAX, DuplicateAppraisal, get_appraisal, list_appraisals, save_appraisal
from components import exports
from components.appraisal import category_name, existing_records, recomputed
from components.equipment import DEVICE_COLUMNS, device_rows, devices_panel, report_view, result_panel, saved_grid
from components.exports import cell_kind
from components.i18n import t
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.equipment import (
    CATEGORIES,
    category_devices,
    device_departments,
    device_table,
    workdays_last_full_year,
)
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from shell.access import PermissionDenied, audit
from shell.inputs import Count

from .._common import current_scope, export_heading, warehouse
from .._kit import READERS, Ask, Export, export_callback, page_callback, safe
from ._appraisal_form import FIELDS, NUMERIC, message, read_appraisal, saturation
from ._frame import PATHS, Start, begin, frame, section, section_page, warm_section

dash.register_page(__name__, **section_page("equipment", inputs={"ws-eq-saved-rev.data": Count}))
PAGE = "equipment"
DEFAULTS = {"service_life_years": "6", "residual_rate": "5", "discount_rate": "5"}  # prefilled, the user may change
HINTS = ("service_life_years", "residual_rate", "discount_rate")
# the exports' cell kinds of the device columns (components/exports.cell_kind), as the tables had them
DEVICE_KINDS = (("equipment_id", "id", "text"), ("name", "name", "text"), ("category", "category", "text"),
                ("purchase_date", "purchase_date", "text"), ("purchase_price", "price", "yuan"),
                ("daily_capacity", "capacity_day", "capacity"), ("working_days", "working_days", "int"),
                ("capacity", "capacity", "int"), ("exams", "exams", "int"), ("hours_used", "hours", "hours"),
                ("utilization", "utilization", "ratio"), ("status", "status", "text"), ("revenue", "revenue", "yuan"),
                ("revenue_per_10k_value", "per10k", "int"))


def _settings() -> Any:
    return current_app.extensions["hospdash"].settings


def _db():
    return current_app.extensions["hospdash"].appdb


# --------------------------------------------------------------------------------------------- layout
def _operators() -> set[str]:
    """Departments in scope that operate devices (mostly medical-technical: radiology, endoscopy …)."""
    return set(device_departments(warehouse(), current_scope()))


def layout(dept: str | None = None, period: str | None = None, **_q: str) -> Any:
    start = begin(__name__, dept, period, also=_operators)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    sat = html.Div([
        html.Label(t("ws.eq.saturation", lang), htmlFor="ws-eq-sat", className="form-label"),
        dcc.Input(id="ws-eq-sat", type="text", inputMode="decimal", value=_start_saturation(),
                  debounce=True, className="form-control form-control-sm"),
        html.Div(id="ws-eq-sat-err", className="invalid-feedback d-block")], className="ws-eq-field ws-eq-sat")
    return frame(PAGE, start, [
        section("eq-devices", lang, sat, html.P(id="ws-eq-rule", className="note"), html.Div(id="ws-eq-devices"),
                exports=((PAGE, "devices"),), title=t("ws.eq.devices", lang)),
        section("eq-appraisal", lang, html.P(t("ws.eq.appraisal_note", lang), className="note"), _form(lang),
                html.Div(id="ws-eq-result", className="ws-eq-result"), exports=((PAGE, "existing"),),
                title=t("ws.eq.appraisal", lang)),
        section("eq-saved", lang, html.Div(id="ws-eq-saved"), exports=((PAGE, "appraisals"),),
                title=t("ws.eq.saved", lang)),
        html.Div(id="ws-eq-report-view", className="ws-eq-report-view"),
        dcc.Store(id="ws-eq-saved-rev", data=0),
        html.Span(id="ws-eq-print-done", className="d-none"),
    ])


def _form(lang: str) -> html.Div:
    year_days = safe(lambda: workdays_last_full_year(warehouse(), current_scope()), lang, "working days")
    days_default, hint = "", None
    if isinstance(year_days, tuple):
        days_default = str(year_days[1])
        hint = html.Small(t("ws.eq.days_hint", lang, year=year_days[0], days=year_days[1]), className="text-muted")

    def field(name: str, control: Any, extra: Any = None) -> html.Div:
        return html.Div([html.Label(t(f"ws.eq.f.{name}", lang), htmlFor=f"ws-eq-f-{name}", className="form-label"),
                         control, extra, html.Div(id=f"ws-eq-e-{name}", className="invalid-feedback d-block")],
                        className="ws-eq-field")

    def number(name: str, value: str = "") -> html.Div:
        extra = hint if name == "working_days" else html.Small(t(f"ws.eq.hint.{name}", lang), className="text-muted") \
            if name in HINTS else None
        return field(name, dcc.Input(id=f"ws-eq-f-{name}", type="text", inputMode="decimal", value=value,
                                     className="form-control form-control-sm"), extra)

    return html.Div([
        html.Div([
            field("device_name", dcc.Input(id="ws-eq-f-device_name", type="text", maxLength=NAME_MAX,
                                           className="form-control form-control-sm")),
            field("category", dcc.Dropdown(id="ws-eq-f-category", placeholder=t("ws.eq.choose_category", lang),
                                           options=[{"label": t(f"ws.eq.cat.{c}", lang), "value": c}
                                                    for c in CATEGORIES], className="ws-eq-select")),
            *[number(n, days_default if n == "working_days" else DEFAULTS.get(n, "")) for n in NUMERIC],
            field("note", dcc.Textarea(id="ws-eq-f-note", className="form-control form-control-sm", rows=1,
                                       maxLength=2000)),
        ], className="ws-eq-form"),
        html.Div([html.Button(t("ws.eq.calculate", lang), id="ws-eq-calc", n_clicks=0,
                              className="btn btn-sm btn-outline-primary"),
                  html.Button(t("ws.eq.save", lang), id="ws-eq-save", n_clicks=0, className="btn btn-sm btn-primary ms-2"),
                  html.Span(id="ws-eq-form-msg", className="ms-3", role="status")], className="ws-eq-buttons"),
        html.P(t("ws.eq.formula", lang), className="note"),
    ])


# ------------------------------------------------------------------------------------------- devices
@page_callback(Output("ws-eq-devices", "children"), Output("ws-eq-sat-err", "children"),
               Output("ws-eq-sat", "className"), Output("ws-eq-rule", "children"), Input("ws-dept", "value"),
               Input("ws-period", "value"), Input("ws-eq-sat", "value"), roles=READERS, dept="ws-dept",
               period="ws-period", cached=True, by_department=True)
def devices(ask: Ask, sat: Any) -> tuple:
    lang = ask.lang
    level = saturation(sat)
    if level is None:
        return no_update, t("ws.eq.err.sat", lang), "form-control form-control-sm is-invalid", no_update
    rule = t("ws.eq.saturation_note", lang, sat=f"{level:.0%}", default=f"{_settings().equipment_saturation:.0%}")
    return (safe(lambda: _devices(ask.scope, ask.dept, ask.period, level, lang), lang, "devices"), "",
            "form-control form-control-sm", rule)


def _start_saturation() -> str:
    """The saturation the page opens with, as its field holds it (the hospital's setting)."""
    return f"{_settings().equipment_saturation:g}"


warm_section("equipment devices", devices, lambda d, p: [(d, p, _start_saturation())])


def _devices(scope: Scope, dept: str, per: Period, level: float, lang: str) -> Any:
    df = device_table(warehouse(), scope, dept, per, level)
    if df.empty:
        return html.P(t("ws.eq.none", lang), className="note")
    return devices_panel(df, per.start, per.end, level, lang)


# ------------------------------------------------------------------------------------------ appraisal
@page_callback(Output("ws-eq-result", "children"), Output("ws-eq-form-msg", "children"),
               Output("ws-eq-saved-rev", "data"),
               *[Output(f"ws-eq-e-{f}", "children") for f in FIELDS],
               *[Output(f"ws-eq-f-{f}", "className") for f in FIELDS],
               Input("ws-eq-calc", "n_clicks"), Input("ws-eq-save", "n_clicks"),
               State("ws-dept", "value"), State("ws-eq-sat", "value"), State("ws-eq-saved-rev", "data"),
               *[State(f"ws-eq-f-{f}", "value") for f in FIELDS], State("ws-eq-f-note", "value"),
               roles=READERS, dept="ws-dept", prevent_initial_call=True)
def appraisal(ask: Ask, _calc: Any, _save: Any, sat: Any, rev: Any, *values: Any) -> tuple:
    """Check every field (the declared form), compute; on Save also store it (all or nothing) and refresh the list."""
    lang, dept = ask.lang, ask.dept
    raw = dict(zip(FIELDS, values[:len(FIELDS)], strict=True))
    note = values[len(FIELDS)]
    form, problems = read_appraisal(raw)
    msgs = [(message(problems[f], lang) if f in problems else "") for f in FIELDS]
    classes = [("ws-eq-select" if f == "category" else "form-control form-control-sm") + (" is-invalid" if f in problems
                                                                                        else "") for f in FIELDS]
    result = recomputed(form.figures()) if form is not None else None
    if form is None or result is None:
        return (no_update, html.Span(t("ws.eq.err.form", lang, n=len(problems)), className="text-danger"), no_update,
                *msgs, *classes)
    level = saturation(sat) or _settings().equipment_saturation
    through = warehouse().freshness().data_through
    existing = category_devices(warehouse(), ask.scope, dept, form.category, through, level) if through else None
    panel = result_panel(result, form.category, existing, lang)
    if ctx.triggered_id != "ws-eq-save":
        return panel, "", no_update, *msgs, *classes
    kept = [] if existing is None else existing_records(existing)
    try:
        new_id = save_appraisal(_db(), ask.scope, dept_id=dept,
                                campus_id=current_app.extensions["hospdash"].campus_of(dept),
                                device_name=form.device_name, category=form.category, inputs=form.figures(),
                                result=result, existing=kept, username=current_user.username, note=note)
    except DuplicateAppraisal as dup:
        same = dup.existing
        return (panel, html.Span(t("ws.eq.err.duplicate", lang, id=same["id"], at=f"{same['created_at']:%Y-%m-%d %H:%M}",
                                   by=_author(same["created_by"])), className="text-danger", id="ws-eq-duplicate"),
                no_update, *msgs, *classes)
    audit("appraisal_saved", PATHS[PAGE], f"dept={dept} id={new_id}")
    return (panel, html.Span(t("ws.eq.saved_ok", lang, id=new_id), className="text-success", id="ws-eq-saved-ok"),
            (rev or 0) + 1, *msgs, *classes)


def _author(username: Any) -> str:
    """A saved appraisal's author as people know them (display name and user name)."""
    if not username:
        return "—"
    user = _db().get_by_username(str(username))
    return f"{user.display_name} ({username})" if user is not None and user.display_name != username else str(username)


# -------------------------------------------------------------------------------------------- saved
@page_callback(Output("ws-eq-saved", "children"), Input("ws-dept", "value"), Input("ws-eq-saved-rev", "data"),
               roles=READERS, dept="ws-dept")
def saved(ask: Ask, _rev: Any) -> Any:
    return safe(lambda: _saved(ask.scope, ask.dept, ask.lang), ask.lang, "appraisals")


def saved_frame(scope: Scope, dept: str) -> pd.DataFrame:
    df = list_appraisals(_db(), scope, dept)
    inputs = [json.loads(i or "{}") for i in df["inputs"]]
    figures = [recomputed(i) for i in inputs]
    df["price"] = [i.get("price") for i in inputs]
    df["npv"] = [f.npv if f else None for f in figures]
    df["irr"] = [f.irr if f else None for f in figures]
    df["never"] = [f is not None and f.irr is None for f in figures]
    return df


def _saved(scope: Scope, dept: str, lang: str) -> Any:
    df = saved_frame(scope, dept)
    if df.empty:
        return html.P(t("ws.eq.saved_none", lang), className="note")
    return saved_grid(df, lang)


def _owned(appraisal_id: Any, dept: str) -> dict[str, Any]:
    """The appraisal when it belongs to the page's department and the user's scope; 403 otherwise.
    A grid names its row by text ("12"), a button by number."""
    if isinstance(appraisal_id, str) and appraisal_id.isdigit() and len(appraisal_id) < 10:
        appraisal_id = int(appraisal_id)
    if not isinstance(appraisal_id, int) or isinstance(appraisal_id, bool):
        raise PermissionDenied("no appraisal")
    found = get_appraisal(_db(), current_scope(), appraisal_id)
    if found is None or found["dept_id"] != dept:
        raise PermissionDenied(f"appraisal {appraisal_id} is not in department {dept} within the user's scope")
    return found


def _dept_name(dept: str, lang: str) -> str:
    deps = departments(warehouse(), current_scope())
    row = deps[deps["dept_id"] == dept]
    return str(row.iloc[0]["name_zh" if lang == "zh" else "name_en"]) if not row.empty else dept


@page_callback(Output("ws-download", "data", allow_duplicate=True), Input({"type": "ws-eq-report", "index": ALL}, "n_clicks"),
               State("ws-dept", "value"), roles=READERS, dept="ws-dept", prevent_initial_call=True)
def report(ask: Ask, clicks: list | None) -> Any:
    """One saved appraisal as a one-page Excel report; audited."""
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return no_update
    lang, dept = ask.lang, ask.dept
    a = _owned(ctx.triggered_id.get("index"), dept)
    head = export_heading(t("ws.eq.report_title", lang), dept=dept,
                          extra=(t("ws.eq.report_meta", lang, dept=_dept_name(dept, lang), id=a["id"],
                                   at=f"{a['created_at']:%Y-%m-%d %H:%M}", by=a["created_by"] or ""),))
    data = exports.appraisal_workbook(a, lang, head)
    audit("export", f"workspace equipment appraisal {a['id']}", f"dept={dept}, one-page xlsx")
    return dcc.send_bytes(data, f"{dept}-appraisal-{a['id']}.xlsx")


@page_callback(Output("ws-eq-report-view", "children"), Input("ws-eq-saved-grid", "cellClicked"),
               State("ws-dept", "value"), roles=READERS, dept="ws-dept", prevent_initial_call=True)
def view(ask: Ask, cell: Any) -> Any:
    """A click on a saved appraisal opens its print-friendly view (the print stylesheet shows only it)."""
    if not isinstance(cell, dict) or cell.get("rowId") is None:
        return no_update
    a = _owned(cell.get("rowId"), ask.dept)
    return report_view(a, _dept_name(ask.dept, ask.lang), ask.lang)


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output("ws-eq-print-done", "children"), Input("ws-eq-print", "n_clicks"), prevent_initial_call=True)


@page_callback(Output("ws-eq-report-view", "children", allow_duplicate=True), Input("ws-eq-close", "n_clicks"),
               roles=READERS, prevent_initial_call=True)
def close_view(_ask: Ask, n: Any) -> Any:
    return None if n else no_update


# --------------------------------------------------------------------------------------------- export
def _level(sat: Any) -> float:
    return saturation(sat) or _settings().equipment_saturation


def _device_export(ask: Ask, df: pd.DataFrame, table: str, stem: str, title: str, per: Period) -> Export:
    heads = {c: t(f"ws.eq.c.{k}", ask.lang) for c, k, _t in DEVICE_COLUMNS}
    out = device_rows(df, ask.lang)[[c for c, _k, _t in DEVICE_COLUMNS]].rename(columns=heads)
    kinds = {heads[c]: cell_kind(k) for c, _k, k in DEVICE_KINDS} | {heads["purchase_date"]: "date"}
    return Export(out, stem, f"workspace equipment {ask.dept} {table}", title=title, kinds=kinds, period=per)


def _export_devices(ask: Ask, sat: Any, _category: Any) -> Export:
    per = ask.period
    df = device_table(warehouse(), ask.scope, ask.dept, per, _level(sat))
    return _device_export(ask, df, "devices", f"{ask.dept}-equipment-{per.start}-{per.end}",
                          t("ws.eq.devices", ask.lang), per)


def _export_existing(ask: Ask, sat: Any, category: Any) -> Export:
    if category not in CATEGORIES:
        raise UserError(t("ws.eq.err.unknown_category", ask.lang))
    through = warehouse().freshness().data_through or date.today()
    found = category_devices(warehouse(), ask.scope, ask.dept, category, through, _level(sat))
    per = found.attrs["period"]
    title = t("ws.eq.existing", ask.lang, category=category_name(category, ask.lang), start=per.start, end=per.end)
    return _device_export(ask, found, "existing", f"{ask.dept}-equipment-{category}-last-12-months", title, per)


SAVED_EXPORT = {"id": "ws.eq.c.no", "created_at": "ws.eq.c.created", "device_name": "ws.eq.c.name",
                "category": "ws.eq.c.category", "price": "ws.eq.c.price", "annual_exams": "ws.eq.r.annual_exams",
                "annual_revenue": "ws.eq.r.annual_revenue", "annual_cost": "ws.eq.r.annual_cost",
                "annual_net": "ws.eq.r.annual_net", "payback_years": "ws.eq.c.payback", "npv": "ws.eq.c.npv",
                "irr": "ws.eq.c.irr", "created_by": "ws.eq.c.by", "note": "ws.eq.f.note"}


def _export_appraisals(ask: Ask, _sat: Any, _category: Any) -> Export:
    lang = ask.lang
    raw = saved_frame(ask.scope, ask.dept)
    names = {c: t(k, lang) for c, k in SAVED_EXPORT.items()}
    df = raw[list(SAVED_EXPORT)]
    df = df.assign(category=df["category"].map(lambda c: category_name(c, lang))).rename(columns=names)
    # a figure's format follows its field's name, so a new field has one
    kinds = {h: exports.field_kind(c, 0.0) for c, h in names.items() if pd.api.types.is_numeric_dtype(raw[c])}
    kinds |= {names["id"]: "integer", names["created_at"]: "datetime"}
    return Export(df, f"{ask.dept}-appraisals", f"workspace equipment {ask.dept} appraisals",
                  title=t("ws.eq.saved", lang), kinds=kinds, dated=False)


export_callback(PAGE, {"devices": _export_devices, "existing": _export_existing, "appraisals": _export_appraisals},
                State("ws-eq-sat", "value"), State("ws-eq-f-category", "value"), roles=READERS)
