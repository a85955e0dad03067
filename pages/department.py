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
from components.format import format_change, format_indicator, format_points
from components.i18n import t
from components.notes import address_notes
from components.overview import freshness_line
from data_layer.errors import UserError
from data_layer.periods import Period, add_months, month_end, parse_period
from data_layer.queries.department import (
    CATEGORIES,
    GROUP_CODES,
    STAGES,
    WARD_CODES,
    cost_breakdown,
    group_table,
    ward_census,
    ward_table,
)
from data_layer.queries.kpis import compare, indicator_values
from data_layer.queries.structure import departments
from data_layer.queries.targets import target_progress
from data_layer.registry import INDICATORS, Level
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
from ._wall import PERIODS, safe

ROLES = ("leader", "director", "assistant")
dash.register_page(__name__, path="/department", name="Department", order=5, allowed_roles=ROLES,
                   landing_for=("director",), nav_label={"zh": "科室工作台", "en": "Department"})

WORKLOAD = ("outpatient_visits", "emergency_visits", "admissions", "discharges", "bed_days", "surgeries",
            "level4_surgeries", "day_surgeries")
FINANCE = ("revenue_total", "full_cost", "balance", "margin")
DISCIPLINE = ("cmi", "high_weight_share", "level4_surgery_share", "time_index", "cost_index", "mortality")
TABLES = ("targets", "wards", "groups", "costs", "discipline")
STATUS_ICON = {"on_track": "●", "at_risk": "▲", "off_track": "✖"}


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


def _change(value: float, diff: float, unit: str, lang: str) -> str:
    if value != value:
        return "—"
    return format_points(diff, lang) if unit == "ratio" else format_change(value)


def _trend(value: float, better: bool | None) -> str:
    if value != value or better is None or abs(value) < 1e-9:
        return "trend-neutral"
    return "trend-good" if (value > 0) == better else "trend-bad"


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
            html.Div([html.Span(f"{t('home.yoy', lang)} {_change(r['yoy'], r['yoy_diff'], ind.unit, lang)}",
                                className=_trend(r["yoy"], ind.higher_is_better)), " · ",
                      html.Span(f"{t('dw.mom', lang)} {_change(r['mom'], r['mom_diff'], ind.unit, lang)}",
                                className=_trend(r["mom"], ind.higher_is_better))], className="stat-change"),
        ], className="stat-card", id={"type": "dw-card", "index": code}))
    notes = [html.P(t("dw.period", lang, start=per.start, end=per.end), className="note")]
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
    head = html.Thead(html.Tr([html.Th(t(f"dw.t.{k}", lang)) for k in
                               ("indicator", "target", "actual", "expected", "deviation", "projection", "status")]))
    body = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        def fmt(v: float, unit: str = ind.unit) -> str:
            return format_indicator(v, unit, lang)

        dev = format_points(r.deviation, lang) if ind.unit == "ratio" else \
            (f"{fmt(r.deviation)} ({r.deviation_rel:+.1%})" if r.deviation_rel == r.deviation_rel else fmt(r.deviation))
        basis = t(f"dw.basis.{r.basis}", lang, share=f"{r.elapsed:.0%}")
        body.append(html.Tr([
            html.Td([html.Div(ind.name(lang)), html.Small(basis, className="text-muted")]),
            html.Td(fmt(r.target), className="num"), html.Td(fmt(r.actual), className="num"),
            html.Td(fmt(r.expected), className="num"), html.Td(dev, className="num"),
            html.Td(fmt(r.projection), className="num"),
            html.Td(html.Span(f"{STATUS_ICON[r.status]} {t(f'dw.status.{r.status}', lang)}",
                              className=f"status status-{r.status}")),
        ]))
    table = html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="dw-targets-table"),
                     className="table-scroll")
    sums = df[df["basis"] != "level"]
    chart = None
    if not sums.empty:
        chart = dcc.Graph(figure=_pace_figure(scope, dept, sums.iloc[0], lang), config={"displayModeBar": False},
                          className="dw-graph", id="dw-pace")
    return [table, html.P(t("dw.targets_note", lang), className="note"), chart]


def _pace_figure(scope: Scope, dept: str, row: Any, lang: str) -> go.Figure:
    """Cumulative actual month by month against the target's pace (linear in the elapsed share)."""
    through = warehouse().freshness().data_through
    ind = INDICATORS[row["indicator"]]
    series = indicator_values(warehouse(), scope, (ind.code,), Period(through.replace(month=1, day=1), through),
                              Level.department, Filters(department=(dept,)), grain="month")
    series = series.sort_values("period_start")
    months = [str(m)[:7] for m in series["period_start"]]
    cumulative = series["value"].cumsum().tolist()
    ends = [min(month_end(add_months(through.replace(month=1, day=1), i)), through) for i in range(len(months))]
    year_days = (through.replace(month=12, day=31) - through.replace(month=1, day=1)).days + 1
    pace = [row["target"] * ((e - through.replace(month=1, day=1)).days + 1) / year_days for e in ends]
    fig = go.Figure()
    fig.add_bar(x=months, y=cumulative, name=t("dw.cumulative", lang), marker_color="#0b5cad")
    fig.add_scatter(x=months, y=pace, name=t("dw.pace", lang), mode="lines+markers",
                    line={"color": "#e69f00", "dash": "dash", "width": 3}, marker={"symbol": "diamond"})
    fig.update_xaxes(type="category")  # 2026-01 …, the same in both languages
    fig.update_layout(title=f"{ind.name(lang)} · {t('dw.pace_title', lang)}", margin={"l": 40, "r": 10, "t": 40, "b": 30},
                      height=300, legend={"orientation": "h", "y": -0.2}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig


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
    head = html.Thead(html.Tr([html.Th("")] + [html.Th(c) for c in df.columns]))
    body = [html.Tr([html.Th(idx)] + [html.Td(format_indicator(v, "yuan", lang), className="num") for v in r])
            for idx, r in df.iterrows()]
    total = df.sum()
    body.append(html.Tr([html.Th(t("dw.stage.total", lang))] + [html.Td(html.B(format_indicator(v, "yuan", lang)),
                                                                         className="num") for v in total]))
    start, end = df.attrs["window"]
    return [html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="dw-costs-table"),
                     className="table-scroll"),
            html.P(t("home.cost_window", lang, start=start, end=end), className="note")]


def _named(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


def _table(df: pd.DataFrame, codes: tuple[str, ...], label: str, lang: str, table_id: str) -> html.Div:
    head = html.Thead(html.Tr([html.Th(label)] + [html.Th(INDICATORS[c].name(lang)) for c in codes]))
    body = [html.Tr([html.Td(name)] + [html.Td(format_indicator(r[c], INDICATORS[c].unit, lang), className="num")
                                       for c in codes])
            for name, (_, r) in zip(_named(df, lang), df.iterrows(), strict=True)]
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id=table_id),
                    className="table-scroll")


def _wards(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    wards = ward_table(warehouse(), scope, dept, per)
    if wards.empty:
        return html.P(t("dw.no_wards", lang), className="note")
    through = warehouse().freshness().data_through
    census = ward_census(warehouse(), scope, dept, Period(add_months(through, -3), through))
    fig = go.Figure()
    for _ward, g in census.groupby("ward_id", sort=True):
        fig.add_scatter(x=g["day"].astype(str), y=g["census"], mode="lines", name=_named(g, lang).iloc[0])
    fig.update_xaxes(tickformat="%m-%d")
    fig.update_layout(title=t("dw.census", lang), height=280, margin={"l": 40, "r": 10, "t": 40, "b": 30},
                      legend={"orientation": "h", "y": -0.25}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    return [_table(wards, WARD_CODES, t("dw.ward", lang), lang, "dw-wards-table"),
            html.P(t("dw.ward_note", lang), className="note"),
            dcc.Graph(figure=fig, config={"displayModeBar": False}, className="dw-graph", id="dw-census")]


def _groups(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    groups = group_table(warehouse(), scope, dept, per)
    if groups.empty:
        return html.P(t("dw.no_groups", lang), className="note")
    ranked = groups.sort_values("drg_margin", kind="stable")
    fig = go.Figure(go.Bar(y=_named(ranked, lang), x=ranked["drg_margin"] / 10_000, orientation="h",
                           marker={"color": ["#d55e00" if v < 0 else "#0b5cad" for v in ranked["drg_margin"]],
                                   "pattern": {"shape": ["x" if v < 0 else "" for v in ranked["drg_margin"]]}},
                           text=[f"{v / 10_000:+,.1f}" for v in ranked["drg_margin"]], textposition="auto"))
    fig.update_layout(title=t("dw.group_margin", lang), height=max(220, 40 * len(ranked) + 80),
                      margin={"l": 10, "r": 10, "t": 40, "b": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(automargin=True)
    return [_table(groups, GROUP_CODES, t("dw.group", lang), lang, "dw-groups-table"),
            dcc.Graph(figure=fig, config={"displayModeBar": False}, className="dw-graph", id="dw-group-margin")]


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
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("dw.t.indicator", "dw.this", "dw.hospital", "dw.last_year")]))
    body = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        cls = _trend(r.value - r.hospital, ind.higher_is_better) if r.hospital == r.hospital else ""
        body.append(html.Tr([html.Td(ind.name(lang)),
                             html.Td(format_indicator(r.value, ind.unit, lang), className=f"num {cls}"),
                             html.Td(format_indicator(r.hospital, ind.unit, lang), className="num"),
                             html.Td(format_indicator(r.year_ago, ind.unit, lang), className="num")]))
    return [html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="dw-discipline-table"),
                     className="table-scroll"),
            html.P(t("dw.mortality_note", lang), className="note")]


def _alerts(scope: Scope, dept: str, lang: str) -> Any:
    df = list_alerts(current_app.extensions["hospdash"].appdb, scope, dept_ids=[dept], limit=50)
    if df.empty:
        return html.P(t("dw.no_alerts", lang), className="note")
    items = []
    for r in df.itertuples():
        ind = INDICATORS.get(r.indicator)
        items.append(html.Li([html.Span(t(f"level.{r.level}", lang), className=f"badge lvl-badge lvl-{r.level}"), " ",
                              f"{ind.name(lang) if ind else r.indicator} {r.deviation * 100:+.0f}% · {r.period_end} · ",
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
    if table == "targets":
        df = target_frame(scope, dept).assign(indicator=lambda f: f["indicator"].map(name))
    elif table == "wards":
        w = ward_table(warehouse(), scope, dept, per)
        df = w.assign(name=_named(w, lang))[["ward_id", "name", *WARD_CODES]].rename(columns=name_map(WARD_CODES, lang))
    elif table == "groups":
        g = group_table(warehouse(), scope, dept, per)
        df = g.assign(name=_named(g, lang))[["group_id", "name", *GROUP_CODES]].rename(columns=name_map(GROUP_CODES, lang))
    elif table == "costs":
        df = cost_frame(scope, dept, per, lang).reset_index(names=t("dw.category", lang))
    else:
        df = discipline_frame(scope, dept, per).assign(indicator=lambda f: f["indicator"].map(name))
    return send_table(df, f"{dept}-{table}-{per.start}-{per.end}", "xlsx", f"department {dept} {table}")


def name_map(codes: tuple[str, ...], lang: str) -> dict[str, str]:
    return {c: INDICATORS[c].name(lang) for c in codes}


for _name, _build in (("overview", _overview), ("targets", lambda sc, d, _p, lang: _targets(sc, d, lang)),
                      ("costs", _costs), ("wards", _wards), ("groups", _groups), ("discipline", _discipline)):
    _section(_name, _build)
_section("alerts", lambda sc, d, _p, lang: _alerts(sc, d, lang), cached=False)
