"""Campus operations screen (院区运营大屏): the whole hospital or one campus on a wall.

Today so far against the same time yesterday and last week, with the hourly curve (or the latest
complete day, saying so); the bed census (inpatients, open beds, occupancy, beds available or
extra beds, intensive care, the fullest and emptiest departments); month- and year-to-date
volumes against the same days last year; occupancy, average stay and CMI; the revenue mix;
medical vs surgical divisions; the monthly trend with the month in progress drawn as incomplete;
and the most severe open alerts with counts by level. One callback refreshes every panel; each
panel that fails says why in its place and the others still draw. The wall's "now" is read once,
in the callback, and passed down.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html
from flask import current_app

from appdb.alerts import list_alerts
from components.i18n import t
from components.wall import (
    WallQuery,
    campus_color,
    empty_figure,
    graph,
    next_url,
    panel,
    scale_of,
    wall_frame,
)
from components.wall_campus import (
    TodayRow,
    alert_ticker,
    beds_headline,
    campus_beds_table,
    clinics_opened,
    day_table,
    division_figure,
    icu_line,
    intraday_figure,
    month_day,
    rank_figure,
    render_divisions,
    render_efficiency,
    render_mix,
    render_volumes,
    today_table,
    trend_figure,
)
from data_layer.periods import Period, add_months, to_date
from data_layer.queries.beds import census_by_department
from data_layer.queries.kpis import compare, compare_periods, indicator_values
from data_layer.queries.live import (
    DAILY_CODES,
    LIVE_TICK_SECONDS,
    WEEK,
    current_figures,
    day_and_week_before,
    day_curves,
    figures_at,
    latest_day,
)
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS, Indicator, Level
from data_layer.scope import Scope
from shell.access import PermissionDenied
from shell.warmup import target, wall_ticks

from ._common import current_lang, warehouse
from ._kit import LEADERS, Ask, page_callback, safe, safe_figure
from ._wall import all_campuses, open_screen, settings, subtitle, user_campuses, view_scope

ROLES = LEADERS
dash.register_page(__name__, cache_layout=True, path="/wall/campus", name="Campus operations", order=1, allowed_roles=ROLES,
                   landing_for=ROLES, nav_label={"zh": "院区运营大屏", "en": "Campus screen"})

VOLUMES = ("outpatient_visits", "emergency_visits", "discharges", "surgeries", "revenue_total")
EFFICIENCY = ("bed_occupancy", "alos", "cmi")
MIX = ("drug_share", "material_share", "service_revenue_share")
DIVISION = ("discharges", "revenue_total", "alos", "cmi", "margin")
# The panels' year-to-date figures and monthly trends are asked for together, so each source is
# read once for all of them (compare() and indicator_values() keep the answer for the others).
YTD = tuple(dict.fromkeys(VOLUMES + EFFICIENCY + MIX))
TRENDS = ("revenue_total", "discharges")
TREND_MONTHS = 12
FLOWS = ("outpatient_visits_today", "emergency_visits_today", "admissions_today", "discharges_today",
         "surgeries_today")
RANK_N = 5  # departments shown at each end of the occupancy ranking
CURVE_LOOKS = {"day": 0, "day_before": 1, "week_before": 7}  # the intraday chart's days, in days back
TICKER_ITEMS = 12
OUTPUTS = ("cw-live", "cw-beds", "cw-volumes", "cw-efficiency", "cw-division", "cw-alerts")
GRAPHS = ("cw-intraday", "cw-bed-rank", "cw-mix", "cw-trend-revenue", "cw-trend-discharges", "cw-division-trend")


def layout(**query: str) -> Any:
    lang = current_lang()
    opened = open_screen(__name__, "/wall/campus", query, lang,
                         unused={"period": t("addr.shown.wall_periods", lang), "division": t("wall.whole_hospital", lang)})
    if not isinstance(opened, tuple):
        return opened
    wq, campuses = opened
    return screen_layout(wq, campuses, lang)


def screen_layout(wq: WallQuery, campuses: list[str], lang: str) -> html.Div:
    conf = settings()
    body = [
        panel(t("wall.today", lang), html.Div(id="cw-live", className="live-box"), panel_id="cw-live-panel",
              extra="area-live"),
        panel(t("cw.intraday_panel", lang), graph("cw-intraday"), extra="area-intraday"),
        panel(t("cw.beds_title", lang), html.Div(id="cw-beds"), graph("cw-bed-rank"), extra="area-beds"),
        panel(t("wall.volumes", lang), html.Div(id="cw-volumes"), extra="area-volumes"),
        panel(t("wall.efficiency", lang), html.Div(id="cw-efficiency", className="eff-grid"),
              graph("cw-mix"), extra="area-efficiency"),
        panel(t("wall.trend", lang), html.Div([graph("cw-trend-revenue"), graph("cw-trend-discharges")],
                                               className="trend-pair"), extra="area-trend"),
        panel(t("wall.division", lang), html.Div(id="cw-division"), graph("cw-division-trend"), extra="area-division"),
        html.Section(html.Div(id="cw-alerts", className="ticker"), className="wall-ticker area-alerts",
                     **{"aria-live": "polite"}),
    ]
    filters = None
    if len(campuses) > 1:
        names = all_campuses()
        options = [{"label": t("wall.whole_hospital", lang), "value": ""}] + [
            {"label": names[c][0 if lang == "zh" else 1], "value": c} for c in campuses]
        filters = dcc.Dropdown(id="cw-campus", options=options, value=wq.campus or "", clearable=False,
                               className="wall-select")
    return wall_frame("campus", t("wall.campus_title", lang), subtitle(wq.campus, campuses, lang), body, wq, lang,
                      conf.wall_refresh_seconds, next_url("/wall/campus", wq, campuses),
                      {"campus": wq.campus}, filters)


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("cw-campus", "value"), roles=ROLES,
               prevent_initial_call=True)
def pick_campus(_ask: Ask, campus: str | None) -> str:
    """At a desk: another campus is another URL, so it can be bookmarked."""
    if campus and campus not in user_campuses():
        raise PermissionDenied(f"campus {campus} is outside the user's scope")
    return f"?campus={campus}" if campus else ""


def live_tick() -> int:
    """The live feed's current tick: the screen's answer is kept no longer than the live rows are
    (LIVE_TICK_SECONDS), so live figures and the alert ticker stay as fresh as before."""
    import time

    return int(time.time()) // LIVE_TICK_SECONDS


@page_callback([Output(o, "children") for o in OUTPUTS] + [Output(g, "figure") for g in GRAPHS],
               Input("wall-tick", "data"), State("wall-params", "data"), roles=ROLES, cached=True,
               key_args=lambda tick, params: (scale_of(tick), params, live_tick()), ttl=2 * LIVE_TICK_SECONDS,
               live=True)
def refresh(ask: Ask, tick: Any, params: Any) -> list[Any]:
    """Every panel of the screen, re-read from the warehouse (cached until meta_load changes)."""
    campus = (params or {}).get("campus") if isinstance(params, dict) else None
    if campus is not None and (not isinstance(campus, str) or campus not in all_campuses()):
        raise PermissionDenied(f"unknown campus {campus!r}")
    return panels(view_scope(campus), campus, ask.lang, scale_of(tick), datetime.now())


target("wall/campus", refresh, ROLES, lambda c: [(tick, {"campus": None, "lang": c.lang}) for tick in wall_ticks()])


def panels(scope: Scope, campus: str | None, lang: str, scale: float, now: datetime) -> list[Any]:
    """The screen's panels for `scope` as they stand at `now` (passed in: tests and the docs'
    screenshots fix it; the callback gives the clock)."""
    wh = warehouse()
    through = wh.freshness().data_through
    if through is None:
        note = html.Div(t("fresh.none", lang), className="wall-note")
        return [note] * len(OUTPUTS) + [empty_figure(t("fresh.none", lang), scale)] * len(GRAPHS)
    ytd = Period(through.replace(month=1, day=1), through)
    mtd = Period(through.replace(day=1), through)
    campuses = [campus] if campus else user_campuses()
    every = list(all_campuses())
    cur = safe(lambda: current_figures(wh, scope, campuses, now, timedelta(minutes=settings().live_max_age_minutes)),
               lang, "live figures")
    # the panels read independently (those sharing a read wait for the first: Warehouse.remember),
    # so their statements run side by side where the backend allows (Warehouse.gather)
    return wh.gather([
        lambda: safe(lambda: live_panel(scope, cur, through, now, lang), lang, "live"),
        lambda: safe(lambda: beds_panel(scope, cur, campuses, every, through, lang), lang, "beds"),
        lambda: safe(lambda: volumes_table(scope, mtd, ytd, lang), lang, "volumes"),
        lambda: safe(lambda: efficiency_tiles(scope, mtd, ytd, lang), lang, "efficiency"),
        lambda: safe(lambda: division_table(scope, ytd, lang), lang, "division"),
        lambda: safe(lambda: alert_ticker_panel(scope, lang), lang, "alerts"),
        lambda: safe_figure(lambda: intraday(scope, cur, through, now, lang, scale), lang, "intraday", scale),
        lambda: safe_figure(lambda: rank_figure(census_by_department(wh, scope, through), lang, scale, RANK_N), lang,
                            "bed ranking", scale),
        lambda: safe_figure(lambda: mix_figure(scope, mtd, ytd, lang, scale), lang, "mix", scale),
        lambda: safe_figure(lambda: monthly_trend(scope, through, "revenue_total", lang, scale), lang, "trend", scale),
        lambda: safe_figure(lambda: monthly_trend(scope, through, "discharges", lang, scale), lang, "trend", scale),
        lambda: safe_figure(lambda: division_trend(scope, through, lang, scale), lang, "division trend", scale),
    ])


def _indicator(metric: str) -> Indicator:
    """The registry indicator whose rule judges a live flow's change."""
    return INDICATORS[DAILY_CODES[metric]]


def live_panel(scope: Scope, cur: Any, through: date, now: datetime, lang: str) -> list[Any]:
    """Today so far against the same time yesterday and last week and the latest whole day; with
    no live feed, the latest complete day against the same weekday a week earlier, saying so."""
    if not hasattr(cur, "source"):  # the live figures failed: their note stands in
        return [cur]
    if cur.source == "none":
        return [html.Div(t("fresh.none", lang), className="wall-note")]
    wh = warehouse()
    day_totals = latest_day(wh, scope, through).groupby("metric_code")["value"].sum()
    if cur.source == "live":
        at = cur.as_of  # the time of the snapshots shown: yesterday and last week at that same minute
        yesterday = figures_at(wh, scope, at - timedelta(days=1))
        last_week = figures_at(wh, scope, at - timedelta(days=7))
        rows = [TodayRow(m, cur.values.get(m), yesterday.get(m), last_week.get(m),
                         float(day_totals[m]) if m in day_totals.index else None, _indicator(m)) for m in FLOWS]
        parts: list[Any] = [today_table(rows, lang, f"{at:%H:%M}", through)]
        early = [r for r in rows if r.early]
        if any(r.metric == "outpatient_visits_today" for r in early):
            # yesterday's curve from the intraday chart's read (a feed early in the day is today's:
            # the day before its snapshots is the chart's day before)
            every = curves_of(scope, now)
            opened = clinics_opened(every[every["day"] == (at - timedelta(days=1)).date()])
            parts.append(html.Div(t("cw.opens_at", lang, at=opened) if opened else
                                  t("cw.early_day", lang, at=f"{at:%H:%M}"), className="live-note early-note",
                                  id="cw-early-note"))
        parts.append(html.Div(t("wall.live_at", lang, at=f"{cur.as_of:%H:%M:%S}"), className="live-note live-on",
                              id="cw-live-source"))
        return parts
    week = day_and_week_before(wh, scope, through)[1]  # read with the day itself
    if week is None:  # before the data: the reason
        week = latest_day(wh, scope, through - WEEK)
    week_before = week.groupby("metric_code")["value"].sum()
    text = t("wall.no_live", lang, day=cur.as_of)
    if cur.silent_since is not None:
        text += " " + t("wall.live_silent", lang, at=f"{cur.silent_since:%m-%d %H:%M}")
    return [day_table(cur.values, week_before.to_dict(), FLOWS, through, lang, {m: _indicator(m) for m in FLOWS}),
            html.Div("⚠ " + text, className="live-note live-off", id="cw-live-source")]


def intraday(scope: Scope, cur: Any, through: date, now: datetime, lang: str, scale: float) -> dict:
    """Cumulative outpatient visits by hour: today to `now` against yesterday and the same day last
    week; without a live feed today, the latest complete day against the day before and a week
    before (named by their dates), as far as the feed's history goes."""
    live = hasattr(cur, "source") and cur.source == "live"
    anchor = now if live else datetime.combine(through, datetime.max.time())
    every = curves_of(scope, anchor)
    visits = every[every["metric_code"] == "outpatient_visits_today"]
    curves = []
    for look, day in curve_days(anchor).items():
        name = t({"day": "cw.curve.today", "day_before": "cw.curve.yesterday", "week_before": "cw.curve.last_week"}[look],
                 lang) if live else month_day(day, lang)
        curves.append((look, name, visits[visits["day"] == day]))
    return intraday_figure(curves, lang, scale)


def curve_days(anchor: datetime) -> dict[str, date]:
    """The days the intraday chart sets side by side: the day of `anchor`, the day before and the
    same weekday a week before."""
    return {look: (anchor - timedelta(days=back)).date() for look, back in CURVE_LOOKS.items()}


def curves_of(scope: Scope, anchor: datetime) -> pd.DataFrame:
    """The hourly curves of curve_days(anchor), the day of `anchor` up to it and the others whole,
    in one read shared by the intraday chart and the note on when yesterday's clinics opened."""
    return day_curves(warehouse(), scope, tuple(curve_days(anchor).values()), anchor)


def beds_panel(scope: Scope, cur: Any, campuses: list[str], every: list[str], through: date, lang: str) -> list[Any]:
    """Inpatients, open beds, occupancy and beds available or extra (加床) from one census: live
    inpatients over the latest ward day's open beds, or that day's midnight census; per campus,
    and the intensive care units."""
    wh = warehouse()
    by_dept = census_by_department(wh, scope, through)
    names = all_campuses()
    live = hasattr(cur, "source") and cur.source == "live"
    if live:
        per = cur.by_campus.pivot_table(index="campus_id", columns="metric_code", values="value", aggfunc="sum")
        rows = [(c, *names[c], float(per.loc[c, "inpatients_now"]),
                 float(per.loc[c, "inpatients_now"] + per.loc[c, "beds_available"])) for c in campuses if c in per.index]
    else:
        camp = by_dept.groupby("campus_id")[["occupied", "open_beds"]].sum()
        rows = [(c, *names[c], float(camp.loc[c, "occupied"]), float(camp.loc[c, "open_beds"]))
                for c in campuses if c in camp.index]
    table = pd.DataFrame(rows, columns=["campus_id", "campus_zh", "campus_en", "inpatients", "open_beds"])
    parts: list[Any] = [beds_headline(float(table["inpatients"].sum()), float(table["open_beds"].sum()), lang)]
    if len(table) > 1:
        parts.append(campus_beds_table(table, lang, {c: campus_color(c, every) for c in campuses}))
    parts.append(icu_line(by_dept, through, lang))
    source = "cw.census_source_live" if live else "cw.census_source_day"
    parts.append(html.Div(t(source, lang, day=month_day(through, lang)), className="live-note muted"))
    parts.append(html.Div(t("cw.rank_title", lang, day=month_day(through, lang), n=RANK_N), className="sub-title"))
    return parts


def on_last_year(scope: Scope, codes: tuple[str, ...], period: Period, level: Level = Level.hospital) -> pd.DataFrame:
    """compare() against the same days a year earlier only: the screen shows no month-on-month change."""
    return compare(warehouse(), scope, codes, period, level, with_previous=False)


def so_far(scope: Scope, mtd: Period, ytd: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month and the year to date against the same days a year earlier, every panel's
    indicators, indexed by indicator: one read for the volumes, efficiency and mix panels."""
    month, year = compare_periods(warehouse(), scope, YTD, (mtd, ytd), with_previous=False)
    return month.set_index("indicator"), year.set_index("indicator")


def volumes_table(scope: Scope, mtd: Period, ytd: Period, lang: str) -> Any:
    month, year = so_far(scope, mtd, ytd)
    return render_volumes({"mtd": month, "ytd": year}, VOLUMES, mtd, ytd, lang)


def efficiency_tiles(scope: Scope, mtd: Period, ytd: Period, lang: str) -> list[Any]:
    return render_efficiency(so_far(scope, mtd, ytd)[1], EFFICIENCY, lang)


def mix_figure(scope: Scope, mtd: Period, ytd: Period, lang: str, scale: float) -> dict:
    """Revenue mix, this year to date against the same days last year, as 100% bars."""
    return render_mix(so_far(scope, mtd, ytd)[1], lang, scale)


def division_table(scope: Scope, ytd: Period, lang: str) -> Any:
    return render_divisions(on_last_year(scope, DIVISION, ytd, Level.division), DIVISION, lang)


def _partial_label(through: date, lang: str) -> str | None:
    """'截至12月1日' / 'to Dec 1' when the month of `through` is incomplete, else None."""
    return t("cw.to_date", lang, md=month_day(through, lang)) if to_date(through.replace(day=1), through) else None


def division_trend(scope: Scope, through: date, lang: str, scale: float) -> dict:
    """Monthly revenue of each division over the last 12 months: one line each, told apart by
    dash and marker as well as colour; the month in progress dotted and labelled 'to date'."""
    first = add_months(through.replace(day=1), -(TREND_MONTHS - 1))
    df = indicator_values(warehouse(), scope, ("revenue_total",), Period(first, through), Level.division, grain="month")
    if df.empty:
        return empty_figure(t("wall.no_divisions", lang), scale)
    series = []
    for key, grp in df.sort_values("period_start").groupby("key", sort=True):
        series.append((grp["name_zh" if lang == "zh" else "name_en"].iloc[0] or key,
                       grp["period_start"].astype(str).str[2:7].str.replace("-", "/").tolist(),
                       (grp["value"] / 10_000).tolist()))
    title = f"{INDICATORS['revenue_total'].name(lang)}（{t('unit.wan_yuan', lang)}）" if lang == "zh" else \
        f"{INDICATORS['revenue_total'].name(lang)} ({t('unit.wan_yuan', lang)})"
    return division_figure(series, _partial_label(through, lang), title, scale)


def monthly_trend(scope: Scope, through: date, code: str, lang: str, scale: float) -> dict:
    """The last 12 months (bars) against the same months a year earlier (line). A month in
    progress is hatched, labelled 'to date', and set against the same days a year earlier."""
    wh = warehouse()
    first = add_months(through.replace(day=1), -(2 * TREND_MONTHS - 1))
    df = indicator_values(wh, scope, TRENDS, Period(first, through), grain="month")
    df = df[df["indicator"] == code]
    ind = INDICATORS[code]
    if df.empty:
        return empty_figure(t("wall.no_data", lang), scale)
    series = df.assign(month=df["period_start"].astype(str).str[:7]).set_index("month")["value"]
    months = [f"{add_months(through.replace(day=1), -k):%Y-%m}" for k in range(TREND_MONTHS - 1, -1, -1)]
    last_year = [f"{add_months(date.fromisoformat(m + '-01'), -12):%Y-%m}" for m in months]
    now_vals = [series.get(m) for m in months]
    ly_vals = [series.get(m) for m in last_year]
    partial = to_date(through.replace(day=1), through)
    if partial is not None:  # like for like: the same days a year earlier (both trends' in one read)
        got = indicator_values(wh, scope, TRENDS, partial.year_ago())
        got = got[got["indicator"] == code]
        ly_vals[-1] = float(got["value"].iloc[0]) if not got.empty else None
    divisor = 10_000 if ind.unit == "yuan" else 1
    unit = t("unit.wan_yuan", lang) if divisor != 1 else t("unit.cases", lang)
    title = f"{ind.name(lang)}（{unit}）" if lang == "zh" else f"{ind.name(lang)} ({unit})"
    return trend_figure([m[2:].replace("-", "/") for m in months],
                        [v / divisor if v is not None else None for v in now_vals],
                        [v / divisor if v is not None else None for v in ly_vals],
                        _partial_label(through, lang), title, lang, scale)


def alert_ticker_panel(scope: Scope, lang: str) -> list[Any]:
    """The most severe open alerts whatever their colour, each with its suggested action, after
    the counts by level."""
    db = current_app.extensions["hospdash"].appdb
    df = list_alerts(db, scope, statuses=["new", "acknowledged"], limit=5000)
    if df.empty:
        return alert_ticker(df, {}, lang, TICKER_ITEMS)
    deps = departments(warehouse(), scope)
    names = dict(zip(deps["dept_id"], deps["name_zh" if lang == "zh" else "name_en"], strict=True))
    return alert_ticker(df, names, lang, TICKER_ITEMS)
