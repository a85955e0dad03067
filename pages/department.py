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
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app

from appdb.alerts import list_alerts
from components.department import (
    GRAPH_CONFIG,
    change_span,
    drill_panel,
    first_target,
    pace_figure,
    record_view,
    target_options,
    targets_export_frame,
    targets_view,
    warn_marks,
)
from components.exports import BY_ROW, unit_kind
from components.format import format_deviation, format_indicator
from components.i18n import t
from components.notes import address_notes
from components.overview import freshness_line
from components.palette import DESK, STATUS_VERDICT, judge_change, trend_class
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
from data_layer.queries.structure import departments
from data_layer.queries.targets import target_progress
from data_layer.registry import INDICATORS, UNITS, Level
from data_layer.scope import Scope
from data_layer.sources import Filters
from shell.access import PermissionDenied, audit, page_denied, secured

from ._address import check_period, department_names, department_refusal
from ._common import (
    cached_answer,
    current_lang,
    current_scope,
    forbidden_panel,
    send_table,
    warehouse,
    warehouse_error_panel,
)
from ._kit import safe

ROLES = ("leader", "director", "assistant")
dash.register_page(__name__, path="/department", name="Department", order=5, allowed_roles=ROLES,
                   landing_for=("director",), nav_label={"zh": "科室工作台", "en": "Department"})

WORKLOAD = ("outpatient_visits", "emergency_visits", "admissions", "discharges", "bed_days", "surgeries",
            "level4_surgeries", "day_surgeries")
FINANCE = ("revenue_total", "full_cost", "balance", "margin")
DISCIPLINE = ("cmi", "high_weight_share", "level4_surgery_share", "time_index", "cost_index", "mortality")
TABLES = ("targets", "wards", "groups", "costs", "discipline")
SHORT_PERIOD_DAYS = 7  # below this, the overview warns that its changes rest on very few days


def _my_departments() -> pd.DataFrame:
    deps = departments(warehouse(), current_scope())
    return deps[deps["kind"] == "clinical"]


def _check(dept: Any) -> str:
    """The department id if the user may see it; PermissionDenied otherwise (audited by the caller)."""
    if not isinstance(dept, str) or not dept:
        raise PermissionDenied("no department")
    campus = current_app.extensions["hospdash"].campus_of(dept)
    if not current_scope().allows_department(dept, campus):
        raise PermissionDenied(f"department {dept} is outside the user's scope")
    return dept


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
        allowed = bool(_check(dept))
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
    export = lambda table: html.Button(t("export.xlsx", lang), id={"type": "dw-export", "table": table},  # noqa: E731
                                       className="btn btn-sm btn-outline-secondary ms-2")
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
        html.Div(freshness_line(warehouse().freshness(), lang)),
        address_notes([period_note] if period_note else [], lang),
        section("overview", html.Div(id="dw-overview")),
        section("targets", html.Div(id="dw-targets"), table="targets"),
        section("costs", html.Div(id="dw-costs"), table="costs"),
        section("wards", html.Div(id="dw-wards"), table="wards"),
        section("groups", html.Div(id="dw-groups"), table="groups"),
        section("discipline", html.Div(id="dw-discipline"), table="discipline"),
        section("alerts", html.Div(id="dw-alerts")),
        dcc.Download(id="dw-download"),
    ], className="container-fluid page dw-page", id="department-page")


@callback(Output("_pages_location", "search", allow_duplicate=True), Input("dw-dept", "value"), Input("dw-period", "value"),
          prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda dept, _p: [dept])
def pick(dept: Any, period: Any) -> str:
    """Another department or period is another address, so it can be bookmarked and shared."""
    return "?" + urlencode({"dept": dept, "period": period if period in PERIODS else "ytd"})


def _period(key: Any) -> Period:
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
    def draw(dept: Any, period: Any) -> Any:
        lang = current_lang()
        dept = _check(dept)
        per = _period(period)
        scope = current_scope()
        return safe(lambda: build(scope, dept, per, lang), lang, name)

    draw.__name__ = draw.__qualname__ = f"section_{name}"
    body = cached_answer()(draw) if cached else draw
    callback(Output(f"dw-{name}", "children"), Input("dw-dept", "value"), Input("dw-period", "value"))(
        secured(roles=ROLES, departments=lambda dept, _p: [dept])(body))


def _overview(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    rows = compare(warehouse(), scope, WORKLOAD + FINANCE, per, Level.department, Filters(department=(dept,)))
    if rows.empty:
        return html.P(t("home.no_data", lang), className="note")
    by = rows.set_index("indicator")
    cards = []
    for code in WORKLOAD + FINANCE:
        if code not in by.index:
            continue
        ind, r = INDICATORS[code], by.loc[code]
        cards.append(html.Div([
            html.Div(ind.name(lang), className="stat-label"),
            html.Div(format_indicator(r["value"], ind.unit, lang), className="stat-value"),
            html.Div([change_span(t("home.yoy", lang), ind, r["yoy"], r["yoy_diff"], r["value"], lang), " · ",
                      change_span(t("dw.mom", lang), ind, r["mom"], r["mom_diff"], r["value"], lang)],
                     className="stat-change"),
        ], className="stat-card", id={"type": "dw-card", "index": code}))
    notes = [html.P(t("dw.period", lang, start=per.start, end=per.end), className="note")]
    days = (per.end - per.start).days + 1
    if days < SHORT_PERIOD_DAYS:  # the 1st of a month: a day or two of data swing by tens of percent
        notes.insert(0, html.P(t("dw.short_period", lang, days=days), className="alert alert-info py-1 px-2 mb-1"))
    monthly = rows[rows["indicator"].map(lambda c: INDICATORS[c].monthly)]
    windows = monthly.dropna(subset=["window_end"])
    if not windows.empty:
        notes.append(html.P(t("home.cost_window", lang, start=windows["window_start"].iloc[0],
                              end=windows["window_end"].iloc[0]), className="note"))
    return [html.Div(cards, className="stat-grid"), *notes]


def target_frame(scope: Scope, dept: str) -> pd.DataFrame:
    through = warehouse().freshness().data_through
    return target_progress(warehouse(), scope, dept, through)


def _targets(scope: Scope, dept: str, lang: str) -> Any:
    df = target_frame(scope, dept)
    if df.empty:
        return html.P(t("dw.no_targets", lang), className="note")
    return [targets_view(df, lang), html.P(t("dw.targets_note", lang), className="note"),
            html.Div([html.Label(t("dw.pick_target", lang), htmlFor="dw-target-pick", className="dw-pick-label"),
                      dcc.Dropdown(id="dw-target-pick", options=target_options(df, lang), value=first_target(df),
                                   clearable=False, searchable=False, className="dw-select dw-target-select")],
                     className="dw-pick", id="dw-drill"),
            dcc.Loading(html.Div(id="dw-target-detail"), type="dot")]


@callback(Output("dw-target-pick", "value"), Input({"type": "dw-why", "index": ALL}, "n_clicks"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def why(clicks: list) -> Any:
    """A row's "why?" opens that target in the chart and the drill below the table."""
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return no_update
    code = str(ctx.triggered_id.get("index", ""))[2:]  # "t-…" from the table, "c-…" from a card
    return code if code in INDICATORS else no_update


@callback(Output("dw-target-detail", "children"), Input("dw-target-pick", "value"), State("dw-dept", "value"))
@secured(roles=ROLES, departments=lambda _code, dept: [dept])
@cached_answer()
def target_detail(code: Any, dept: Any) -> Any:
    """The picked target's chart and what drives it: months, medical groups, doctors (the user's scope)."""
    lang = current_lang()
    dept = _check(dept)
    return safe(lambda: _drill(current_scope(), dept, code, lang), lang, "target drill")


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
    names = [*df.index, t("dw.stage.total", lang)]
    rows = [[format_indicator(v, "yuan", lang) for v in r] for _, r in df.iterrows()]
    rows.append([format_indicator(v, "yuan", lang) for v in df.sum()])
    start, end = df.attrs["window"]
    return [record_view(names, list(df.columns), rows, t("dw.category", lang), "dw-costs-table"),
            html.P(t("home.cost_window", lang, start=start, end=end), className="note")]


def _named(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


def _table(df: pd.DataFrame, codes: tuple[str, ...], label: str, lang: str, table_id: str) -> html.Div:
    """Rows of a ward or group table; a value outside its indicator's healthy range carries ⚠."""
    rows, classes = [], []
    for _, r in df.iterrows():
        marks = [warn_marks(INDICATORS[c], r[c], lang) for c in codes]
        rows.append([format_indicator(r[c], INDICATORS[c].unit, lang) + m[0] for c, m in zip(codes, marks, strict=True)])
        classes.append([trend_class("warn") if m[0] else "" for m in marks])
    return record_view(list(_named(df, lang)), [INDICATORS[c].name(lang) for c in codes], rows, label, table_id,
                       classes)


def _wards(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    wards = ward_table(warehouse(), scope, dept, per)
    if wards.empty:
        return html.P(t("dw.no_wards", lang), className="note")
    through = warehouse().freshness().data_through
    census = ward_census(warehouse(), scope, dept, Period(add_months(through, -3), through))
    fig = go.Figure()
    for _ward, g in census.groupby("ward_id", sort=True):
        fig.add_scatter(x=g["day"].astype(str), y=g["census"], mode="lines", name=_named(g, lang).iloc[0])
    fig.update_xaxes(tickformat="%m-%d", nticks=6)
    fig.update_layout(height=280, margin={"l": 8, "r": 8, "t": 8, "b": 8}, legend={"orientation": "h", "y": -0.15})
    return [_table(wards, WARD_CODES, t("dw.ward", lang), lang, "dw-wards-table"),
            html.P(t("dw.ward_note", lang), className="note"),
            html.H3(t("dw.census", lang), className="dw-subtitle"),
            dcc.Graph(figure=fig, config=GRAPH_CONFIG, className="dw-graph", id="dw-census")]


def _groups(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    groups = group_table(warehouse(), scope, dept, per)
    if groups.empty:
        return html.P(t("dw.no_groups", lang), className="note")
    ranked = groups.sort_values("drg_margin", kind="stable")
    margin_ind = INDICATORS["drg_margin"]
    verdicts = [judge_change(margin_ind, v, None, scale=1e-4, decimals=1) for v in ranked["drg_margin"]]
    # the amount beside the name, not on the bar, where the loss hatching would hide it
    labels = [f"{n}  {v / 10_000:+,.1f}" for n, v in zip(_named(ranked, lang), ranked["drg_margin"], strict=True)]
    fig = go.Figure(go.Bar(y=labels, x=ranked["drg_margin"] / 10_000, orientation="h",
                           marker={"color": [DESK.color(v) for v in verdicts],
                                   "pattern": {"shape": ["x" if v == "bad" else "" for v in verdicts]}}))
    fig.update_layout(height=max(160, 40 * len(ranked) + 40), margin={"l": 8, "r": 8, "t": 8, "b": 8})
    fig.update_yaxes(automargin=True)
    return [_table(groups, GROUP_CODES, t("dw.group", lang), lang, "dw-groups-table"),
            html.H3(t("dw.group_margin", lang), className="dw-subtitle"),
            dcc.Graph(figure=fig, config=GRAPH_CONFIG, className="dw-graph", id="dw-group-margin")]


def discipline_frame(scope: Scope, dept: str, per: Period) -> pd.DataFrame:
    """The department's discipline indicators with the hospital's value and last year's."""
    wh = warehouse()
    mine = compare(wh, scope, DISCIPLINE, per, Level.department, Filters(department=(dept,))).set_index("indicator")
    hospital = indicator_values(wh, Scope.hospital(), DISCIPLINE, per).set_index("indicator")["value"]
    rows = [(c, mine.loc[c, "value"] if c in mine.index else float("nan"), float(hospital.get(c, float("nan"))),
             mine.loc[c, "year_ago"] if c in mine.index else float("nan")) for c in DISCIPLINE]
    return pd.DataFrame(rows, columns=["indicator", "value", "hospital", "year_ago"])


def _discipline(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    df = discipline_frame(scope, dept, per)
    rows, classes = [], []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        # the department against the hospital, judged at the precision the value is shown with
        step = {"ratio": (100.0, 1), "index": (1.0, 3)}.get(ind.unit, (1.0, 2))
        verdict = judge_change(ind, r.value - r.hospital, r.value, scale=step[0], decimals=step[1])
        arrow = "" if verdict == "neutral" else (" ▲" if r.value > r.hospital else " ▼")  # above/below the hospital
        rows.append([format_indicator(r.value, ind.unit, lang) + arrow,
                     *(format_indicator(v, ind.unit, lang) for v in (r.hospital, r.year_ago))])
        classes.append([trend_class(verdict), "", ""])
    names = [INDICATORS[c].name(lang) for c in df["indicator"]]
    return [record_view(names, [t(k, lang) for k in ("dw.this", "dw.hospital", "dw.last_year")], rows,
                        t("dw.t.indicator", lang), "dw-discipline-table", classes),
            html.P(t("dw.mortality_note", lang), className="note")]


def _alerts(scope: Scope, dept: str, lang: str) -> Any:
    df = list_alerts(current_app.extensions["hospdash"].appdb, scope, dept_ids=[dept], limit=50)
    if df.empty:
        return html.P(t("dw.no_alerts", lang), className="note")
    items = []
    for r in df.itertuples():
        ind = INDICATORS.get(r.indicator)
        items.append(html.Li([html.Span(t(f"level.{r.level}", lang), className=f"badge lvl-badge lvl-{r.level}"), " ",
                              f"{ind.name(lang) if ind else r.indicator} "
                              + format_deviation(r.observed, r.expected, r.deviation, ind.unit if ind else "", lang,
                                                 kind=r.kind)
                              + f" · {r.period_end} · ",
                              html.Span(t(f"status.{r.status}", lang), className="text-muted")]))
    return [html.Ul(items, className="dw-alerts"), dcc.Link(t("dw.all_alerts", lang), href="/alerts")]


@callback(Output("dw-download", "data"), Input({"type": "dw-export", "table": ALL}, "n_clicks"),
          State("dw-dept", "value"), State("dw-period", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, dept, _p: [dept])
def export(clicks: list, dept: Any, period: Any) -> Any:
    """A section's table as Excel, with the names in the reader's language; audited."""
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return no_update
    table = ctx.triggered_id.get("table")
    if table not in TABLES:
        raise UserError(t("wall.bad_filter", current_lang()))
    lang = current_lang()
    dept = _check(dept)
    per = _period(period)
    scope = current_scope()
    name = lambda c: INDICATORS[c].name(lang)  # noqa: E731
    kinds: dict[str, Any] = {}
    rows: list = []
    verdicts: dict[str, list[str]] = {}
    if table == "targets":  # one indicator a row, each in its own unit
        tf = target_frame(scope, dept)
        df = targets_export_frame(tf, lang)
        df.insert(1, t("export.unit", lang), [UNITS[INDICATORS[c].unit][0 if lang == "zh" else 1] for c in tf["indicator"]])
        rows = [unit_kind(INDICATORS[c].unit) for c in tf["indicator"]]
        kinds = {t(f"dw.t.{k}", lang): BY_ROW for k in ("target", "actual", "expected", "deviation", "projection")}
        kinds[t("dw.x.deviation_rel", lang)] = "percent"
        verdicts = {t("dw.t.status", lang): [STATUS_VERDICT.get(s, "neutral") for s in tf["status"]]}
    elif table == "discipline":
        df = discipline_frame(scope, dept, per)
        rows = [unit_kind(INDICATORS[c].unit) for c in df["indicator"]]
        heads = {"indicator": t("dw.t.indicator", lang), "value": t("dw.this", lang),
                 "hospital": t("dw.hospital", lang), "year_ago": t("dw.last_year", lang)}
        df = df.assign(indicator=df["indicator"].map(name),
                       unit=[UNITS[INDICATORS[c].unit][0 if lang == "zh" else 1] for c in df["indicator"]])
        cols = ["indicator", "unit", "value", "hospital", "year_ago"]
        df = df[cols].rename(columns={**heads, "unit": t("export.unit", lang)})
        kinds = {heads[k]: BY_ROW for k in ("value", "hospital", "year_ago")}
    elif table in ("wards", "groups"):
        codes, key = (WARD_CODES, "ward_id") if table == "wards" else (GROUP_CODES, "group_id")
        w = (ward_table if table == "wards" else group_table)(warehouse(), scope, dept, per)
        label = t("dw.ward" if table == "wards" else "dw.group", lang)
        df = w.assign(name=_named(w, lang))[[key, "name", *codes]].rename(columns={**name_map(codes, lang),
                                                                                 "name": label,
                                                                                 key: t(f"export.{key}", lang)})
        kinds = {name(c): unit_kind(INDICATORS[c].unit) for c in codes}
    else:
        df = cost_frame(scope, dept, per, lang).reset_index(names=t("dw.category", lang))
        kinds = {c: "money" for c in df.columns[1:]}
    return send_table(df, f"{dept}-{table}-{per.start}-{per.end}", "xlsx", f"department {dept} {table}",
                      title=t(f"dw.{table}", lang), kinds=kinds, period=None if table == "targets" else per, dept=dept,
                      row_kinds=rows, verdicts=verdicts)


def name_map(codes: tuple[str, ...], lang: str) -> dict[str, str]:
    return {c: INDICATORS[c].name(lang) for c in codes}


for _name, _build in (("overview", _overview), ("targets", lambda sc, d, _p, lang: _targets(sc, d, lang)),
                      ("costs", _costs), ("wards", _wards), ("groups", _groups), ("discipline", _discipline)):
    _section(_name, _build)
_section("alerts", lambda sc, d, _p, lang: _alerts(sc, d, lang), cached=False)
