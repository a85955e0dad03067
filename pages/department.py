"""Department workspace (科室工作台): how is my department doing this period and this year, are we
on pace for our targets, which ward or medical group is behind, where does our money go.

A director lands here; a leader or an assistant opens it for any department in their scope
(`/department?dept=D001`), for instance from the department profit view. One column on a phone.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import current_app

from appdb.alerts import list_alerts
from components.department import (
    GRAPH_CONFIG,
    alerts_list,
    census_figure,
    discipline_export_frame,
    drill_panel,
    first_target,
    group_margin_figure,
    indicator_export_frame,
    overview_cards,
    pace_figure,
    target_options,
    targets_export_frame,
)
from components.department_grids import costs_grid, discipline_grid, indicator_grid, targets_grid
from components.exports import BY_ROW, unit_kind
from components.i18n import t
from components.notes import address_notes
from components.overview import freshness_line
from components.palette import STATUS_VERDICT
from components.scorecard import cannot_give, compact_table
from data_layer.errors import UserError
from data_layer.periods import PERIODS, Period, add_months, parse_period
from data_layer.queries.department import (
    CATEGORIES,
    GROUP_CODES,
    STAGES,
    WARD_CODES,
    cost_breakdown,
    group_table,
    target_drivers,
    target_months,
    ward_census,
    ward_table,
)
from data_layer.queries.kpis import compare, indicator_values
from data_layer.queries.scorecard import scorecard
from data_layer.queries.structure import departments
from data_layer.queries.targets import target_progress
from data_layer.registry import INDICATORS, UNITS, Level
from data_layer.scope import Scope
from data_layer.sources import Filters
from shell.access import PermissionDenied, audit, page_denied
from shell.warmup import target

from ._address import check_period, department_names, department_refusal
from ._common import current_lang, current_scope, forbidden_panel, quality_red, warehouse, warehouse_error_panel
from ._kit import READERS, Ask, Export, check_department, export_buttons, export_callback, page_callback, safe

ROLES = READERS
dash.register_page(__name__, path="/department", name="Department", order=5, allowed_roles=ROLES,
                   landing_for=("director",), nav_label={"zh": "科室工作台", "en": "Department"},
                   # the layout is kept like the answers, keyed also by the data-quality mark it shows;
                   # a director's first open builds it (the warm-up warms the sections, not this)
                   cache_layout=lambda: (quality_red("department"),), warm_layout=False)

WORKLOAD = ("outpatient_visits", "emergency_visits", "admissions", "discharges", "bed_days", "surgeries",
            "level4_surgeries", "day_surgeries")
FINANCE = ("revenue_total", "full_cost", "balance", "margin")
DISCIPLINE = ("cmi", "high_weight_share", "level4_surgery_share", "time_index", "cost_index", "mortality")
RISK_PART = "dim_drg.risk_level"  # the mortality risk grading of the groups (contract version 2)
TABLES = ("targets", "wards", "groups", "costs", "discipline")
SHORT_PERIOD_DAYS = 7  # below this, the overview warns that its changes rest on very few days
ON_PAGE = {"dept": "dw-dept", "period": "dw-period"}  # the page's pickers, for the kit


def _my_departments() -> pd.DataFrame:
    deps = departments(warehouse(), current_scope())
    return deps[deps["kind"] == "clinical"]


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    try:
        mine = _my_departments()
    except UserError as exc:
        return html.Main(warehouse_error_panel(str(exc), lang), className="container page")
    if mine.empty:
        return html.Main(html.Div(t("dw.no_departments", lang), className="alert alert-warning"),
                         className="container page")
    dept = dept or mine["dept_id"].iloc[0]
    try:
        allowed = bool(check_department(dept))
    except PermissionDenied:
        allowed = False
    refused = department_refusal(str(dept), allowed, set(mine["dept_id"]), department_names(lang), lang, "/department")
    if refused is not None:
        if not allowed:
            audit("forbidden_department", "/department", f"dept={str(dept)[:64]}")
        return refused
    name = "name_zh" if lang == "zh" else "name_en"
    period, period_note = check_period(period, PERIODS, lang)
    picker = dcc.Dropdown(id="dw-dept", options=[{"label": r[name], "value": r["dept_id"]} for _, r in mine.iterrows()],
                          value=dept, clearable=False, className="dw-select") if len(mine) > 1 else \
        dcc.Dropdown(id="dw-dept", options=[{"label": mine.iloc[0][name], "value": dept}], value=dept,
                     clearable=False, className="d-none")
    row = mine[mine["dept_id"] == dept].iloc[0]
    title = row[name]
    campus = row["campus_zh" if lang == "zh" else "campus_en"]
    export = lambda table: export_buttons("department", table, lang, button_type="dw-export")  # noqa: E731
    section = lambda key, *children, table=None: html.Section(  # noqa: E731
        [html.H2([t(f"dw.{key}", lang), export(table) if table else None]), *children], className="dw-section",
        id=f"dw-{key}")
    return html.Main([
        html.Header([html.Div([html.H1(title, id="dw-title"), html.Span(campus, className="lead ms-2")],
                              className="dw-heading"),
                     html.Div([picker, dcc.Dropdown(id="dw-period", value=period, clearable=False, className="dw-select",
                                                    options=[{"label": t(f"period.{p}", lang), "value": p}
                                                             for p in PERIODS])], className="dw-pickers")],
                    className="page-header dw-header"),
        html.Div(freshness_line(warehouse().freshness(), lang, quality_red("department"))),
        address_notes([period_note] if period_note else [], lang),
        section("overview", html.Div(id="dw-overview")),
        section("targets", html.Div(id="dw-targets"), table="targets"),
        section("costs", html.Div(id="dw-costs"), table="costs"),
        section("wards", html.Div(id="dw-wards"), table="wards"),
        section("groups", html.Div(id="dw-groups"), table="groups"),
        section("discipline", html.Div(id="dw-discipline"), table="discipline"),
        section("appraisal", html.Div(id="dw-appraisal")),
        section("alerts", html.Div(id="dw-alerts")),
        dcc.Download(id="dw-download"),
    ], className="container-fluid page dw-page", id="department-page")


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("dw-dept", "value"),
               Input("dw-period", "value"), roles=ROLES, dept="dw-dept", prevent_initial_call=True)
def pick(ask: Ask, period: Any) -> str:
    """Another department or period is another address, so it can be bookmarked and shared."""
    return "?" + urlencode({"dept": ask.dept, "period": period if period in PERIODS else "ytd"})


def period_of(key: Any) -> Period:
    """The page's period rule: a named period (PERIODS) up to the warehouse's data date."""
    if key not in PERIODS:
        raise UserError(t("wall.bad_filter", current_lang()))
    through = warehouse().freshness().data_through
    if through is None:
        raise UserError(t("fresh.none", current_lang()))
    return parse_period(key, through)


def _section(name: str, build, cached: bool = True) -> None:
    """One callback per section, so each draws as soon as it is ready (the browser asks for
    them together) and a slow one holds up no other. Warehouse sections keep their answer in
    the result cache; the alerts section reads the application database every time."""
    def draw(ask: Ask) -> Any:
        return safe(lambda: build(ask.scope, ask.dept, ask.period, ask.lang), ask.lang, name)

    draw.__name__ = draw.__qualname__ = f"section_{name}"
    fn = page_callback(Output(f"dw-{name}", "children"), Input("dw-dept", "value"), Input("dw-period", "value"),
                       roles=ROLES, period_of=period_of, cached=cached, **ON_PAGE)(draw)
    if cached:  # what the page shows first: the first department of the scope, the year to date; then its other periods
        target(f"department/{name}", fn, ("director",), _landing(("ytd",)),
               more=_landing(tuple(p for p in PERIODS if p != "ytd")))


def _landing(periods: tuple[str, ...]) -> Any:
    """The warm-up's arguments for a section: the landing department of the user's scope in `periods`."""
    return lambda c: [(d, p) for d in _landing_department(c.scope) for p in periods]


def _landing_department(scope: Scope) -> list[str]:
    """The department a director's page opens on (layout(): the first clinical one of the scope)."""
    deps = departments(warehouse(), scope)
    ids = deps.loc[deps["kind"] == "clinical", "dept_id"]
    return [str(ids.iloc[0])] if len(ids) else []


def _overview(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    rows = compare(warehouse(), scope, WORKLOAD + FINANCE, per, Level.department, Filters(department=(dept,)))
    if rows.empty:
        return html.P(t("home.no_data", lang), className="note")
    return overview_cards(rows, WORKLOAD + FINANCE, per.start, per.end, SHORT_PERIOD_DAYS, lang)


def _appraisal(_scope: Scope, dept: str, _per: Period, lang: str) -> Any:
    """The national appraisal's indicators for the department, year to date (the kit checked it)."""
    card = scorecard(warehouse(), Scope.departments((dept,)))
    link = dcc.Link(t("dw.appraisal_drill", lang), href="/workspace/appraisal?" + urlencode({"dept": dept}))
    return [html.P([t("dw.appraisal_note", lang), " ", link], className="note"), compact_table(card, lang),
            cannot_give(card, lang)]


def target_frame(scope: Scope, dept: str) -> pd.DataFrame:
    through = warehouse().freshness().data_through
    return target_progress(warehouse(), scope, dept, through)


def _targets(scope: Scope, dept: str, lang: str) -> Any:
    df = target_frame(scope, dept)
    if df.empty:
        return html.P(t("dw.no_targets", lang), className="note")
    return [targets_grid(df, lang), html.P(t("dw.targets_note", lang), className="note"),
            html.Div([html.Label(t("dw.pick_target", lang), htmlFor="dw-target-pick", className="dw-pick-label"),
                      dcc.Dropdown(id="dw-target-pick", options=target_options(df, lang), value=first_target(df),
                                   clearable=False, searchable=False, className="dw-select dw-target-select")],
                     className="dw-pick", id="dw-drill"),
            dcc.Loading(html.Div(id="dw-target-detail"), type="dot")]


@page_callback(Output("dw-target-pick", "value"), Input("dw-targets-table", "cellClicked"),
               Input({"type": "dw-why", "index": ALL}, "n_clicks"), roles=ROLES, prevent_initial_call=True)
def why(ask: Ask, cell: Any, clicks: list) -> Any:
    """A click on a target's row (a card's "why?" on a phone) opens it in the chart and the drill below."""
    if ctx.triggered_id == "dw-targets-table":
        code = cell.get("rowId") if isinstance(cell, dict) else None
    elif isinstance(ctx.triggered_id, dict) and any(clicks or []):
        code = str(ctx.triggered_id.get("index", ""))[2:]  # "c-…" from a card
    else:
        return no_update
    return code if isinstance(code, str) and code in INDICATORS else no_update


@page_callback(Output("dw-target-detail", "children"), Input("dw-target-pick", "value"), State("dw-dept", "value"),
               roles=ROLES, dept="dw-dept", cached=True)
def target_detail(ask: Ask, code: Any) -> Any:
    """The picked target's chart and what drives it: months, medical groups, doctors (the user's scope)."""
    return safe(lambda: _drill(ask.scope, ask.dept, code, ask.lang), ask.lang, "target drill")


def _drill(scope: Scope, dept: str, code: Any, lang: str) -> Any:
    df = target_frame(scope, dept)
    if not isinstance(code, str) or code not in set(df["indicator"]):
        raise UserError(t("dw.no_such_target", lang))
    row = next(df[df["indicator"] == code].itertuples())
    through = warehouse().freshness().data_through
    months = target_months(warehouse(), scope, dept, code, float(row.target), through)
    groups = target_drivers(warehouse(), scope, dept, code, through, Level.group)
    doctors = target_drivers(warehouse(), scope, dept, code, through, Level.doctor)
    ind = INDICATORS[code]
    return drill_panel(ind, row, months, groups, doctors, dept, lang, pace_figure(months, ind, through, lang))


def cost_frame(scope: Scope, dept: str, per: Period, lang: str) -> pd.DataFrame:
    df = cost_breakdown(warehouse(), scope, dept, per)
    out = df.rename(index={c: t(f"dw.cat.{c}", lang) for c in CATEGORIES},
                    columns={s: t(f"dw.stage.{s}", lang) for s in (*STAGES, "total")})
    out.attrs = df.attrs
    return out


def _costs(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    df = cost_frame(scope, dept, per, lang)
    if df.attrs.get("window") is None:
        return html.P(t("profit.none", lang, start=per.start, end=per.end), className="note")
    start, end = df.attrs["window"]
    return [costs_grid(df, lang), html.P(t("home.cost_window", lang, start=start, end=end), className="note")]


def _wards(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    wards = ward_table(warehouse(), scope, dept, per)
    if wards.empty:
        return html.P(t("dw.no_wards", lang), className="note")
    through = warehouse().freshness().data_through
    census = ward_census(warehouse(), scope, dept, Period(add_months(through, -3), through))
    return [indicator_grid(wards, WARD_CODES, "ward_id", t("dw.ward", lang), lang, "dw-wards-table"),
            html.P(t("dw.ward_note", lang), className="note"),
            html.H3(t("dw.census", lang), className="dw-subtitle"),
            dcc.Graph(figure=census_figure(census, lang), config=GRAPH_CONFIG, className="dw-graph", id="dw-census")]


def _groups(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    groups = group_table(warehouse(), scope, dept, per)
    if groups.empty:
        return html.P(t("dw.no_groups", lang), className="note")
    return [indicator_grid(groups, GROUP_CODES, "group_id", t("dw.group", lang), lang, "dw-groups-table"),
            html.H3(t("dw.group_margin", lang), className="dw-subtitle"),
            dcc.Graph(figure=group_margin_figure(groups, lang), config=GRAPH_CONFIG, className="dw-graph",
                      id="dw-group-margin")]


def _risk_graded() -> bool:
    """The warehouse grades its DRG groups by mortality risk (contract version 2)."""
    return warehouse().capabilities().has(RISK_PART)


def discipline_frame(scope: Scope, dept: str, per: Period) -> pd.DataFrame:
    """The department's discipline indicators with the hospital's value and last year's; with the
    groups' risk grading, low-risk-group mortality beside mortality."""
    wh = warehouse()
    codes = DISCIPLINE + (("low_risk_mortality",) if _risk_graded() else ())
    mine = compare(wh, scope, codes, per, Level.department, Filters(department=(dept,))).set_index("indicator")
    hospital = indicator_values(wh, Scope.hospital(), codes, per).set_index("indicator")["value"]
    rows = [(c, mine.loc[c, "value"] if c in mine.index else float("nan"), float(hospital.get(c, float("nan"))),
             mine.loc[c, "year_ago"] if c in mine.index else float("nan")) for c in codes]
    return pd.DataFrame(rows, columns=["indicator", "value", "hospital", "year_ago"])


def _discipline(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    grid = discipline_grid(discipline_frame(scope, dept, per), lang)
    return grid if _risk_graded() else [grid, html.P(t("dw.mortality_note", lang), className="note")]


def _alerts(scope: Scope, dept: str, lang: str) -> Any:
    df = list_alerts(current_app.extensions["hospdash"].appdb, scope, dept_ids=[dept], limit=50)
    if df.empty:
        return html.P(t("dw.no_alerts", lang), className="note")
    return [alerts_list(df, lang), dcc.Link(t("dw.all_alerts", lang), href="/alerts")]


# ------------------------------------------------------------------------------ exports
def _export(ask: Ask, table: str, df: pd.DataFrame, **how: Any) -> Export:
    per = ask.period
    return Export(df, f"{ask.dept}-{table}-{per.start}-{per.end}", f"department {ask.dept} {table}",
                  title=t(f"dw.{table}", ask.lang), **how)


def _export_targets(ask: Ask) -> Export:
    """One indicator a row, each in its own unit; year to date whatever the period picked."""
    tf = target_frame(ask.scope, ask.dept)
    df = targets_export_frame(tf, ask.lang)
    df.insert(1, t("export.unit", ask.lang), [UNITS[INDICATORS[c].unit][0 if ask.lang == "zh" else 1]
                                              for c in tf["indicator"]])
    kinds: dict[str, Any] = {t(f"dw.t.{k}", ask.lang): BY_ROW
                             for k in ("target", "actual", "expected", "deviation", "projection")}
    kinds[t("dw.x.deviation_rel", ask.lang)] = "percent"
    return _export(ask, "targets", df, kinds=kinds, dated=False,
                   row_kinds=[unit_kind(INDICATORS[c].unit) for c in tf["indicator"]],
                   verdicts={t("dw.t.status", ask.lang): [STATUS_VERDICT.get(s, "neutral") for s in tf["status"]]})


def _export_discipline(ask: Ask) -> Export:
    df = discipline_frame(ask.scope, ask.dept, ask.period)
    out, values = discipline_export_frame(df, ask.lang)
    return _export(ask, "discipline", out, kinds=dict.fromkeys(values, BY_ROW),
                   row_kinds=[unit_kind(INDICATORS[c].unit) for c in df["indicator"]])


def _export_units(table: str) -> Any:
    codes, key = (WARD_CODES, "ward_id") if table == "wards" else (GROUP_CODES, "group_id")

    def build(ask: Ask) -> Export:
        w = (ward_table if table == "wards" else group_table)(warehouse(), ask.scope, ask.dept, ask.period)
        df = indicator_export_frame(w, codes, key, t("dw.ward" if table == "wards" else "dw.group", ask.lang), ask.lang)
        return _export(ask, table, df, kinds={INDICATORS[c].name(ask.lang): unit_kind(INDICATORS[c].unit)
                                              for c in codes})
    return build


def _export_costs(ask: Ask) -> Export:
    df = cost_frame(ask.scope, ask.dept, ask.period, ask.lang).reset_index(names=t("dw.category", ask.lang))
    return _export(ask, "costs", df, kinds=dict.fromkeys(df.columns[1:], "money"))


export_callback("department", {"targets": _export_targets, "discipline": _export_discipline,
                               "wards": _export_units("wards"), "groups": _export_units("groups"),
                               "costs": _export_costs},
                output=Output("dw-download", "data"), button_type="dw-export", roles=ROLES, period_of=period_of,
                **ON_PAGE)

for _name, _build in (("overview", _overview), ("targets", lambda sc, d, _p, lang: _targets(sc, d, lang)),
                      ("costs", _costs), ("wards", _wards), ("groups", _groups), ("discipline", _discipline),
                      ("appraisal", _appraisal)):
    _section(_name, _build)
_section("alerts", lambda sc, d, _p, lang: _alerts(sc, d, lang), cached=False)
