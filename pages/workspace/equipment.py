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
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.appraisals import NAME_MAX, DuplicateAppraisal, get_appraisal, list_appraisals, save_appraisal
from components import exports
from components.appraisal import Row, input_rows, result_rows
from components.exports import cell_kind
from components.format import format_cell, format_indicator
from components.i18n import t
from components.palette import DESK, trend_class
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
from data_layer.stats import LIMITS, Appraisal, FieldErrors, appraise
from shell.access import PermissionDenied, audit, secured
from shell.inputs import Count

from .._common import cached_answer, current_lang, current_scope, export_heading, send_table, warehouse
from .._kit import safe
from ._frame import (
    PATHS,
    ROLES,
    Start,
    begin,
    check_department,
    export_request,
    frame,
    resolve_period,
    section,
    section_page,
)

dash.register_page(__name__, **section_page("equipment", inputs={"ws-eq-saved-rev.data": Count}))
PAGE = "equipment"
TABLES = ("devices", "existing", "appraisals")
NUMERIC = tuple(LIMITS)  # price, exams_per_day, charge_per_exam, maintenance_per_year, staff_cost_per_year, …
DEFAULTS = {"service_life_years": "6", "residual_rate": "5", "discount_rate": "5"}  # prefilled, the user may change
HINTS = ("service_life_years", "residual_rate", "discount_rate")
FIELDS = ("device_name", "category", *NUMERIC)
SAT_MAX = 2.0
DEVICE_COLS = (("equipment_id", "id", "text"), ("name", "name", "text"), ("category", "category", "text"),
               ("purchase_date", "purchase_date", "text"), ("purchase_price", "price", "yuan"),
               ("daily_capacity", "capacity_day", "capacity"), ("working_days", "working_days", "int"),
               ("capacity", "capacity", "int"), ("exams", "exams", "int"), ("hours_used", "hours", "hours"),
               ("utilization", "utilization", "ratio"), ("status", "status", "text"), ("revenue", "revenue", "yuan"),
               ("revenue_per_10k_value", "per10k", "int"))
SAVED_COLS = (("id", "no"), ("created_at", "created"), ("device_name", "name"), ("category", "category"),
              ("price", "price"), ("annual_net", "net"), ("payback_years", "payback"), ("npv", "npv"), ("irr", "irr"),
              ("created_by", "by"))


def _settings() -> Any:
    return current_app.extensions["hospdash"].settings


def _db():
    return current_app.extensions["hospdash"].appdb


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _fmt(v: Any, kind: str, lang: str) -> str:
    """A cell of the device tables; utilization and shares read as percentages; a daily capacity keeps
    its decimal when it has one (1.4 patient-days a working day for a round-the-clock ventilator)."""
    if kind == "capacity" and not _missing(v) and not float(v).is_integer():
        return f"{float(v):,.1f}"
    return format_cell(v, kind if kind in ("text", "int", "yuan", "hours") else "int" if kind == "capacity"
                       else "ratio", lang)


# --------------------------------------------------------------------------------------------- layout
def _operators() -> set[str]:
    """Departments in scope that operate devices (mostly medical-technical: radiology, endoscopy …)."""
    return set(device_departments(warehouse(), current_scope()))


def layout(dept: str | None = None, period: str | None = None, **_q: str) -> Any:
    start = begin(__name__, dept, period, also=_operators)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    conf = _settings()
    sat = html.Div([
        html.Label(t("ws.eq.saturation", lang), htmlFor="ws-eq-sat", className="form-label"),
        dcc.Input(id="ws-eq-sat", type="text", inputMode="decimal", value=f"{conf.equipment_saturation:g}",
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
def _saturation(raw: Any) -> float | None:
    try:
        x = float(raw)
    except (TypeError, ValueError):
        return None
    return x if 0 < x <= SAT_MAX else None


@callback(Output("ws-eq-devices", "children"), Output("ws-eq-sat-err", "children"), Output("ws-eq-sat", "className"),
          Output("ws-eq-rule", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
          Input("ws-eq-sat", "value"))
@secured(roles=ROLES, departments=lambda dept, *_a: [dept])
@cached_answer()
def devices(dept: Any, period: Any, sat: Any) -> tuple:
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    level = _saturation(sat)
    if level is None:
        return no_update, t("ws.eq.err.sat", lang), "form-control form-control-sm is-invalid", no_update
    rule = t("ws.eq.saturation_note", lang, sat=f"{level:.0%}", default=f"{_settings().equipment_saturation:.0%}")
    scope = current_scope()
    return (safe(lambda: _devices(scope, dept, per, level, lang), lang, "devices"), "", "form-control form-control-sm",
            rule)


def _named(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


def _category(code: Any, lang: str) -> str:
    """A category in the reader's language (直线加速器, never LINAC, on a Chinese page)."""
    return t(f"ws.eq.cat.{code}", lang) if code in CATEGORIES else str(code)


def _device_rows(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    return df.assign(name=_named(df, lang), category=df["category"].map(lambda c: _category(c, lang)),
                     status=df["saturated"].map(lambda s: t("ws.eq.saturated" if s else "ws.eq.unsaturated", lang)))


def _devices(scope: Scope, dept: str, per: Period, level: float, lang: str) -> Any:
    df = device_table(warehouse(), scope, dept, per, level)
    if df.empty:
        return html.P(t("ws.eq.none", lang), className="note")
    df = _device_rows(df, lang)
    overall = df["exams"].sum() / df["capacity"].sum() if df["capacity"].sum() else float("nan")
    value = df["purchase_price"].sum()
    cards = [("devices", f"{len(df)}"), ("saturated", f"{int(df['saturated'].sum())}"),
             ("unsaturated", f"{int((~df['saturated']).sum())}"),
             ("utilization", format_indicator(overall, "ratio", lang)),
             ("revenue", format_indicator(df["revenue"].sum(), "yuan", lang)),
             ("per10k", f"{df['revenue'].sum() / value * 10_000:,.0f}" if value else "—")]
    grid = html.Div([html.Div([html.Div(t(f"ws.eq.card.{k}", lang), className="stat-label"),
                               html.Div(v, className="stat-value")], className="stat-card", id=f"ws-eq-card-{k}")
                     for k, v in cards], className="stat-grid")
    return [grid, _device_table(df, lang, "ws-eq-devices-table"),
            html.P(t("dw.period", lang, start=per.start, end=per.end), className="note"),
            dcc.Graph(figure=_utilization_figure(df, level, lang), config={"displayModeBar": False},
                      className="dw-graph", id="ws-eq-chart")]


def _device_table(df: pd.DataFrame, lang: str, table_id: str) -> html.Div:
    head = html.Thead(html.Tr([html.Th(t(f"ws.eq.c.{k}", lang)) for _c, k, _t in DEVICE_COLS]))
    body = []
    for r in df.to_dict("records"):
        cells = []
        for col, _k, kind in DEVICE_COLS:
            if col == "status":
                cells.append(html.Td(html.Span(r["status"], className="badge " + (
                    "ws-eq-badge-sat" if r["saturated"] else "ws-eq-badge-unsat"))))
                continue
            # the asset number (资产编号) is the hospital's own tag, shown as it is written
            cells.append(html.Td(_fmt(r[col], kind, lang), className="num" if kind != "text" else
                                 ("verbatim" if col == "equipment_id" else "")))
        body.append(html.Tr(cells, className="ws-eq-saturated" if r["saturated"] else None))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id=table_id),
                    className="table-scroll")


def _bar_labels(df: pd.DataFrame) -> list[str]:
    """Each device by its name; the asset number is added only where two devices share a name."""
    counts = df["name"].value_counts()
    return [f"{n}（{i}）" if counts[n] > 1 else str(n) for i, n in zip(df["equipment_id"], df["name"], strict=True)]


def _utilization_figure(df: pd.DataFrame, level: float, lang: str) -> go.Figure:
    ranked = df.sort_values("utilization", kind="stable")
    fig = go.Figure(go.Bar(
        y=_bar_labels(ranked), x=ranked["utilization"],
        orientation="h", marker={"color": [DESK.warn if s else DESK.neutral for s in ranked["saturated"]]},
        text=[format_indicator(v, "ratio", lang) for v in ranked["utilization"]], textposition="auto"))
    fig.add_vline(x=level, line={"color": "#e69f00", "dash": "dash", "width": 2})
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(automargin=True)
    fig.update_layout(title=t("ws.eq.chart", lang), height=max(220, 32 * len(ranked) + 90),
                      margin={"l": 10, "r": 10, "t": 40, "b": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig


# ------------------------------------------------------------------------------------------ appraisal
def field_errors(values: dict[str, Any]) -> tuple[dict[str, str], Appraisal | None]:
    """(error codes by field, the appraisal when every field is valid)."""
    codes: dict[str, str] = {}
    name = values.get("device_name")
    if not isinstance(name, str) or not name.strip():
        codes["device_name"] = "missing"
    elif len(name.strip()) > NAME_MAX:
        codes["device_name"] = "too_long"
    cat = values.get("category")
    if cat in (None, ""):
        codes["category"] = "missing"
    elif cat not in CATEGORIES:
        codes["category"] = "unknown_category"
    result = None
    try:
        result = appraise({k: values.get(k) for k in NUMERIC})
    except FieldErrors as exc:
        codes.update(exc.errors)
    return codes, None if codes else result


def _message(field: str, code: str, lang: str) -> str:
    low, high = LIMITS.get(field, (0, 0))
    return t(f"ws.eq.err.{code}", lang, low=f"{low:,g}", high=f"{high:,g}", n=NAME_MAX)


@callback(Output("ws-eq-result", "children"), Output("ws-eq-form-msg", "children"), Output("ws-eq-saved-rev", "data"),
          *[Output(f"ws-eq-e-{f}", "children") for f in FIELDS],
          *[Output(f"ws-eq-f-{f}", "className") for f in FIELDS],
          Input("ws-eq-calc", "n_clicks"), Input("ws-eq-save", "n_clicks"),
          State("ws-dept", "value"), State("ws-eq-sat", "value"), State("ws-eq-saved-rev", "data"),
          *[State(f"ws-eq-f-{f}", "value") for f in FIELDS], State("ws-eq-f-note", "value"),
          prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, _s, dept, *_a: [dept])
def appraisal(_calc: Any, _save: Any, dept: Any, sat: Any, rev: Any, *values: Any) -> tuple:
    """Check every field, compute; on Save also store it (all or nothing) and refresh the list."""
    lang = current_lang()
    dept = check_department(dept)
    form = dict(zip(FIELDS, values[:len(FIELDS)], strict=True))
    note = values[len(FIELDS)]
    codes, result = field_errors(form)
    msgs = [(_message(f, codes[f], lang) if f in codes else "") for f in FIELDS]
    classes = [("ws-eq-select" if f == "category" else "form-control form-control-sm") + (" is-invalid" if f in codes
                                                                                        else "") for f in FIELDS]
    if result is None:
        return (no_update, html.Span(t("ws.eq.err.form", lang, n=len(codes)), className="text-danger"), no_update,
                *msgs, *classes)
    level = _saturation(sat) or _settings().equipment_saturation
    through = warehouse().freshness().data_through
    scope = current_scope()
    existing = category_devices(warehouse(), scope, dept, form["category"], through, level) if through else None
    panel = _result_panel(result, form["category"], existing, lang)
    saving = ctx.triggered_id == "ws-eq-save"
    if not saving:
        return panel, "", no_update, *msgs, *classes
    inputs = {k: float(form[k]) for k in NUMERIC}
    kept = [] if existing is None else _existing_records(existing)
    try:
        new_id = save_appraisal(_db(), scope, dept_id=dept,
                                campus_id=current_app.extensions["hospdash"].campus_of(dept),
                                device_name=form["device_name"], category=form["category"], inputs=inputs,
                                result=result, existing=kept, username=current_user.username, note=note)
    except DuplicateAppraisal as dup:
        same = dup.existing
        return (panel, html.Span(t("ws.eq.err.duplicate", lang, id=same["id"], at=f"{same['created_at']:%Y-%m-%d %H:%M}",
                                   by=_author(same["created_by"])), className="text-danger", id="ws-eq-duplicate"),
                no_update, *msgs, *classes)
    audit("appraisal_saved", PATHS[PAGE], f"dept={dept} id={new_id}")
    return (panel, html.Span(t("ws.eq.saved_ok", lang, id=new_id), className="text-success", id="ws-eq-saved-ok"),
            (rev or 0) + 1, *msgs, *classes)


def _existing_records(existing: pd.DataFrame) -> list[dict[str, Any]]:
    per = existing.attrs.get("period")
    cols = ["equipment_id", "name_zh", "name_en", "category", "purchase_date", "daily_capacity", "working_days",
            "capacity", "exams", "hours_used", "utilization", "revenue", "saturated"]
    rows = existing[cols].astype(object).where(existing[cols].notna(), None).to_dict("records")
    for r in rows:
        r["purchase_date"] = str(r["purchase_date"])
        r["saturated"] = bool(r["saturated"])
        r["period"] = f"{per.start}/{per.end}" if per else None
    return rows


def _author(username: Any) -> str:
    """A saved appraisal's author as people know them (display name and user name)."""
    if not username:
        return "—"
    user = _db().get_by_username(str(username))
    return f"{user.display_name} ({username})" if user is not None and user.display_name != username else str(username)


def _result_cards(result: Appraisal, lang: str) -> html.Div:
    return html.Div([html.Div([html.Div(r.label, className="stat-label"),
                               html.Div(r.text, className="stat-value " + trend_class("bad" if r.bad else "neutral"),
                                        id=f"ws-eq-r-{r.key}")], className="stat-card")
                     for r in result_rows(result, lang)], className="stat-grid")


def _verdicts(result: Appraisal, lang: str) -> list[Any]:
    """What the figures mean for the request, in words: never pays back, not within its life, below
    the discount rate, more exams needed than expected."""
    out: list[Any] = []
    if result.payback_years is None:
        out.append(t("ws.eq.never_note", lang))
    elif not result.pays_back_within_life:
        out.append(t("ws.eq.beyond_life_note", lang, life=result.service_life_years))
    elif result.npv < 0:
        out.append(t("ws.eq.npv_negative_note", lang, rate=f"{result.discount_rate:.1%}"))
    be = result.breakeven_per_day
    if be is None:
        out.append(t("ws.eq.breakeven_none_note", lang))
    elif be > result.exams_per_day:
        out.append(t("ws.eq.breakeven_note", lang, be=f"{be:,.1f}", n=f"{result.exams_per_day:,g}"))
    return [html.P(m, className="alert alert-warning py-1", id=f"ws-eq-verdict-{i}") for i, m in enumerate(out)]


def _result_panel(result: Appraisal, category: str, existing: pd.DataFrame | None, lang: str) -> list[Any]:
    out: list[Any] = [_result_cards(result, lang), *_verdicts(result, lang)]
    cat = t(f"ws.eq.cat.{category}", lang)
    if existing is None or existing.empty:
        out.append(html.P(t("ws.eq.existing_none", lang, category=cat), className="note", id="ws-eq-existing-none"))
        return out
    per = existing.attrs["period"]
    overall = existing["exams"].sum() / existing["capacity"].sum() if existing["capacity"].sum() else float("nan")
    out += [html.H3(t("ws.eq.existing", lang, category=cat, start=per.start, end=per.end), className="h6 mt-3"),
            _device_table(_device_rows(existing, lang), lang, "ws-eq-existing-table"),
            html.P(t("ws.eq.existing_avg", lang, u=format_indicator(overall, "ratio", lang)), className="note")]
    return out


# -------------------------------------------------------------------------------------------- saved
@callback(Output("ws-eq-saved", "children"), Input("ws-dept", "value"), Input("ws-eq-saved-rev", "data"))
@secured(roles=ROLES, departments=lambda dept, _r: [dept])
def saved(dept: Any, _rev: Any) -> Any:
    lang = current_lang()
    dept = check_department(dept)
    scope = current_scope()
    return safe(lambda: _saved(scope, dept, lang), lang, "appraisals")


def recomputed(inputs: dict[str, Any]) -> Appraisal | None:
    """The figures of saved inputs (NPV, IRR … of appraisals saved before those inputs existed: None)."""
    try:
        return appraise(inputs)
    except FieldErrors:
        return None


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
    head = html.Thead(html.Tr([html.Th(t(f"ws.eq.c.{k}", lang)) for _c, k in SAVED_COLS] +
                              [html.Th(t("ws.eq.c.actions", lang))]))
    body = []
    for r in df.to_dict("records"):
        body.append(html.Tr([
            html.Td(r["id"], className="num"), html.Td(f"{r['created_at']:%Y-%m-%d %H:%M}"), html.Td(r["device_name"]),
            html.Td(t(f"ws.eq.cat.{r['category']}", lang) if r["category"] in CATEGORIES else r["category"]),
            html.Td(_fmt(r["price"], "yuan", lang), className="num"),
            html.Td(_fmt(r["annual_net"], "yuan", lang), className="num"),
            html.Td(t("ws.eq.never", lang) if _missing(r["payback_years"]) else f"{r['payback_years']:.2f}",
                    className="num"),
            html.Td(_fmt(r["npv"], "yuan", lang), className="num"),
            html.Td(t("ws.eq.irr_none_short", lang) if r["never"] else _fmt(r["irr"], "ratio", lang), className="num"),
            html.Td(r["created_by"] or ""),
            html.Td([html.Button(t("ws.eq.report_xlsx", lang), id={"type": "ws-eq-report", "index": int(r["id"])},
                                 n_clicks=0, className="btn btn-sm btn-outline-secondary"),
                     html.Button(t("ws.eq.report_view", lang), id={"type": "ws-eq-view", "index": int(r["id"])},
                                 n_clicks=0, className="btn btn-sm btn-outline-secondary ms-1")]),
        ]))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="ws-eq-saved-table"),
                    className="table-scroll")


def _owned(appraisal_id: Any, dept: str) -> dict[str, Any]:
    """The appraisal when it belongs to the page's department and the user's scope; 403 otherwise."""
    if not isinstance(appraisal_id, int) or isinstance(appraisal_id, bool):
        raise PermissionDenied("no appraisal")
    found = get_appraisal(_db(), current_scope(), appraisal_id)
    if found is None or found["dept_id"] != dept:
        raise PermissionDenied(f"appraisal {appraisal_id} is not in department {dept} within the user's scope")
    return found


def _report_rows(a: dict[str, Any], lang: str) -> tuple[list[Row], list[Row]]:
    """(inputs, results) of a saved appraisal; results recomputed from its inputs, or the stored
    figures of an appraisal saved before depreciation, NPV and IRR were asked for."""
    inputs = [Row("device_name", t("ws.eq.f.device_name", lang), a["device_name"], a["device_name"], None),
              Row("category", t("ws.eq.f.category", lang), _category(a["category"], lang),
                  _category(a["category"], lang), None)]
    inputs += input_rows({k: a["inputs"].get(k) for k in NUMERIC}, lang)
    if a.get("note"):
        inputs.append(Row("note", t("ws.eq.f.note", lang), a["note"], a["note"], None))
    figures = recomputed(a["inputs"])
    if figures is not None:
        return inputs, result_rows(figures, lang)
    old = Appraisal(a["annual_exams"], a["annual_revenue"], a["annual_cost"], a["annual_net"], a["payback_years"])
    return inputs, result_rows(old, lang)[:5]


EXISTING_REPORT = (("equipment_id", "id"), ("name", "name"), ("purchase_date", "purchase_date"),
                   ("daily_capacity", "capacity_day"), ("exams", "exams"), ("utilization", "utilization"),
                   ("status", "status"))


def _existing_report_rows(a: dict[str, Any], lang: str) -> list[list[Any]]:
    rows = []
    for d in a["existing"]:
        rows.append([d["equipment_id"], d["name_zh" if lang == "zh" else "name_en"], d["purchase_date"],
                     d["daily_capacity"], d["exams"], d["utilization"],
                     t("ws.eq.saturated" if d["saturated"] else "ws.eq.unsaturated", lang)])
    return rows


def report_workbook(a: dict[str, Any], lang: str, head: exports.Heading) -> bytes:
    """The appraisal as one printable page: inputs, results, existing devices; fit to one A4 page.
    A figure's format follows its field's name (exports.field_kind), so a new field has one."""
    item, value = t("ws.eq.report_item", lang), t("ws.eq.report_value", lang)

    def block(title: str, rows: list[Row]) -> exports.Block:
        df = pd.DataFrame([(r.label, r.value) for r in rows], columns=[item, value])
        kinds = tuple(exports.field_kind(r.key, r.value) for r in rows)
        return exports.Block(df, (exports.Column(item, item), exports.Column(value, value, exports.BY_ROW)), title,
                             row_kinds=kinds)

    inputs, results = _report_rows(a, lang)
    heads = [t(f"ws.eq.c.{k}", lang) for _c, k in EXISTING_REPORT]
    existing = pd.DataFrame(_existing_report_rows(a, lang), columns=heads)
    kinds = ("text", "text", "date", "integer", "integer", "percent", "text")
    none = t("ws.eq.existing_none", lang, category=_category(a["category"], lang))
    sheet = exports.Sheet(f"{t('ws.eq.report_title', lang)}-{a['id']}", (
        block(t("ws.eq.report_inputs", lang), inputs), block(t("ws.eq.report_results", lang), results),
        exports.Block(existing, tuple(exports.Column(h, h, k) for h, k in zip(heads, kinds, strict=True)),
                      t("ws.eq.report_existing", lang), empty_note=none)),
        notes=(t("ws.eq.formula", lang),), landscape=False, one_page=True)
    return exports.workbook(head, [sheet])


def _dept_name(dept: str, lang: str) -> str:
    deps = departments(warehouse(), current_scope())
    row = deps[deps["dept_id"] == dept]
    return str(row.iloc[0]["name_zh" if lang == "zh" else "name_en"]) if not row.empty else dept


@callback(Output("ws-download", "data", allow_duplicate=True), Input({"type": "ws-eq-report", "index": ALL}, "n_clicks"),
          State("ws-dept", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, dept: [dept])
def report(clicks: list | None, dept: Any) -> Any:
    """One saved appraisal as a one-page Excel report; audited."""
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return no_update
    lang = current_lang()
    dept = check_department(dept)
    a = _owned(ctx.triggered_id.get("index"), dept)
    head = export_heading(t("ws.eq.report_title", lang), dept=dept,
                          extra=(t("ws.eq.report_meta", lang, dept=_dept_name(dept, lang), id=a["id"],
                                   at=f"{a['created_at']:%Y-%m-%d %H:%M}", by=a["created_by"] or ""),))
    data = report_workbook(a, lang, head)
    audit("export", f"workspace equipment appraisal {a['id']}", f"dept={dept}, one-page xlsx")
    return dcc.send_bytes(data, f"{dept}-appraisal-{a['id']}.xlsx")


@callback(Output("ws-eq-report-view", "children"), Input({"type": "ws-eq-view", "index": ALL}, "n_clicks"),
          State("ws-dept", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, dept: [dept])
def view(clicks: list | None, dept: Any) -> Any:
    """The print-friendly view of one saved appraisal (the print stylesheet shows only it)."""
    dept = check_department(dept)
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return no_update
    lang = current_lang()
    a = _owned(ctx.triggered_id.get("index"), dept)
    inputs, results = _report_rows(a, lang)

    def kv(rows: list[Row]) -> html.Table:
        return html.Table(html.Tbody([html.Tr([html.Th(r.label), html.Td(
            r.text, className="num" if r.number_format else "", id=f"ws-eq-report-{r.key}")]) for r in rows]),
            className="table table-sm dw-table")

    existing = _existing_report_rows(a, lang)
    ex_table = html.Table([html.Thead(html.Tr([html.Th(t(f"ws.eq.c.{k}", lang)) for _c, k in EXISTING_REPORT])),
                           html.Tbody([html.Tr([html.Td(r[0]), html.Td(r[1]), html.Td(r[2]),
                                                html.Td(_fmt(r[3], "int", lang), className="num"),
                                                html.Td(_fmt(r[4], "int", lang), className="num"),
                                                html.Td(_fmt(r[5], "ratio", lang), className="num"), html.Td(r[6])])
                                       for r in existing])], className="table table-sm dw-table") if existing else \
        html.P(t("ws.eq.existing_none", lang, category=_category(a["category"], lang)), className="note")
    return html.Article([
        html.Div([html.Button(t("ws.eq.print", lang), id="ws-eq-print", n_clicks=0, className="btn btn-sm btn-primary"),
                  html.Button(t("ws.eq.close", lang), id="ws-eq-close", n_clicks=0,
                              className="btn btn-sm btn-outline-secondary ms-2")], className="ws-eq-noprint mb-2"),
        html.H2(t("ws.eq.report_title", lang)),
        html.P(t("ws.eq.report_meta", lang, dept=_dept_name(dept, lang), id=a["id"],
                 at=f"{a['created_at']:%Y-%m-%d %H:%M}", by=a["created_by"] or "")),
        html.Div([html.Div([html.H3(t("ws.eq.report_inputs", lang), className="h6"), kv(inputs)]),
                  html.Div([html.H3(t("ws.eq.report_results", lang), className="h6"), kv(results)])],
                 className="ws-eq-report-grid"),
        html.H3(t("ws.eq.report_existing", lang), className="h6"), ex_table,
        html.P(t("ws.eq.formula", lang), className="note"),
    ], className="ws-eq-report", id="ws-eq-report")


clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                    Output("ws-eq-print-done", "children"), Input("ws-eq-print", "n_clicks"), prevent_initial_call=True)


@callback(Output("ws-eq-report-view", "children", allow_duplicate=True), Input("ws-eq-close", "n_clicks"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def close_view(n: Any) -> Any:
    return None if n else no_update


# --------------------------------------------------------------------------------------------- export
@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": PAGE, "table": ALL, "fmt": ALL}, "n_clicks"),
          State("ws-dept", "value"), State("ws-period", "value"), State("ws-eq-sat", "value"),
          State("ws-eq-f-category", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _c, dept, *_a: [dept])
def export(clicks: list | None, dept: Any, period: Any, sat: Any, category: Any) -> Any:
    """Devices, the existing devices of the chosen category, or the saved appraisals; audited, scoped."""
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    table, fmt = req
    lang = current_lang()
    dept = check_department(dept)
    scope = current_scope()
    level = _saturation(sat) or _settings().equipment_saturation
    heads = {c: t(f"ws.eq.c.{k}", lang) for c, k, _t in DEVICE_COLS}
    if table == "devices":
        per = resolve_period(period)
        df = _device_rows(device_table(warehouse(), scope, dept, per, level), lang)
        df = df[[c for c, _k, _t in DEVICE_COLS]].rename(columns=heads)
        stem = f"{dept}-equipment-{per.start}-{per.end}"
        title = t("ws.eq.devices", lang)
    elif table == "existing":
        if category not in CATEGORIES:
            raise UserError(t("ws.eq.err.unknown_category", lang))
        through = warehouse().freshness().data_through or date.today()
        found = category_devices(warehouse(), scope, dept, category, through, level)
        per = found.attrs["period"]
        df = _device_rows(found, lang)[[c for c, _k, _t in DEVICE_COLS]].rename(columns=heads)
        stem = f"{dept}-equipment-{category}-last-12-months"
        title = t("ws.eq.existing", lang, category=t(f"ws.eq.cat.{category}", lang), start=per.start, end=per.end)
    else:
        raw = saved_frame(scope, dept)
        df = raw[["id", "created_at", "device_name", "category", "price", "annual_exams", "annual_revenue",
                  "annual_cost", "annual_net", "payback_years", "npv", "irr", "created_by", "note"]]
        df = df.assign(category=df["category"].map(lambda c: _category(c, lang)))
        names = {"id": t("ws.eq.c.no", lang), "created_at": t("ws.eq.c.created", lang),
                 "device_name": t("ws.eq.c.name", lang), "category": t("ws.eq.c.category", lang),
                 "price": t("ws.eq.c.price", lang), "annual_exams": t("ws.eq.r.annual_exams", lang),
                 "annual_revenue": t("ws.eq.r.annual_revenue", lang),
                 "annual_cost": t("ws.eq.r.annual_cost", lang), "annual_net": t("ws.eq.r.annual_net", lang),
                 "payback_years": t("ws.eq.c.payback", lang), "npv": t("ws.eq.c.npv", lang),
                 "irr": t("ws.eq.c.irr", lang), "created_by": t("ws.eq.c.by", lang),
                 "note": t("ws.eq.f.note", lang)}
        df = df.rename(columns=names)
        stem, title = f"{dept}-appraisals", t("ws.eq.saved", lang)
    if table == "appraisals":  # a figure's format follows its field's name, so a new field has one
        kinds = {h: exports.field_kind(c, 0.0) for c, h in names.items() if pd.api.types.is_numeric_dtype(raw[c])}
        kinds |= {names["id"]: "integer", names["created_at"]: "datetime"}
    else:
        kinds = {heads[c]: cell_kind(k) for c, _k, k in DEVICE_COLS} | {heads["purchase_date"]: "date"}
    return send_table(df, stem, fmt, f"workspace equipment {dept} {table}", title=title,
                      kinds=kinds, period=None if table == "appraisals" else per, dept=dept)
