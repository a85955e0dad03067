"""Campus operations screen (院区运营大屏): the whole hospital or one campus on a wall.

Today's live figures (or the latest complete day, saying so), month- and year-to-date volumes
against last year, occupancy, average stay and CMI, the revenue mix, medical vs surgical
divisions, the monthly trend against last year and the open red and orange alerts with their
suggested actions. One callback refreshes every panel; each panel that fails says why in its
place and the others still draw.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from flask import current_app

from appdb.alerts import list_alerts
from components.format import format_change, format_indicator, format_points
from components.i18n import t
from components.wall import (
    GOOD,
    LAST_YEAR,
    NEUTRAL,
    WallQuery,
    campus_color,
    change_badge,
    empty_figure,
    graph,
    next_url,
    panel,
    scale_of,
    style,
    wall_frame,
)
from data_layer.alerts.actions import suggested_action
from data_layer.periods import Period, add_months
from data_layer.queries.kpis import compare, indicator_values
from data_layer.queries.live import LIVE_METRICS, LIVE_TICK_SECONDS, current_figures
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from shell.access import PermissionDenied, secured

from ._common import cached_answer, current_lang, warehouse
from ._wall import all_campuses, open_screen, safe, safe_figure, settings, subtitle, user_campuses, view_scope

ROLES = ("leader",)
dash.register_page(__name__, path="/wall/campus", name="Campus operations", order=1, allowed_roles=ROLES,
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
OUTPUTS = ("cw-live", "cw-volumes", "cw-efficiency", "cw-division", "cw-alerts")
GRAPHS = ("cw-mix", "cw-trend-revenue", "cw-trend-discharges", "cw-division-trend")


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
        panel(t("wall.today", lang), html.Div(id="cw-live", className="live-grid"), panel_id="cw-live-panel",
              extra="area-live"),
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


@callback(Output("_pages_location", "search", allow_duplicate=True), Input("cw-campus", "value"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def pick_campus(campus: str | None) -> str:
    """At a desk: another campus is another URL, so it can be bookmarked."""
    if campus and campus not in user_campuses():
        raise PermissionDenied(f"campus {campus} is outside the user's scope")
    return f"?campus={campus}" if campus else ""


def live_tick() -> int:
    """The live feed's current tick: the screen's answer is kept no longer than the live rows are
    (LIVE_TICK_SECONDS), so live figures and the alert ticker stay as fresh as before."""
    import time

    return int(time.time()) // LIVE_TICK_SECONDS


@callback([Output(o, "children") for o in OUTPUTS] + [Output(g, "figure") for g in GRAPHS],
          Input("wall-tick", "data"), State("wall-params", "data"))
@secured(roles=ROLES)
@cached_answer(key_args=lambda tick, params: (scale_of(tick), params, live_tick()), ttl=2 * LIVE_TICK_SECONDS)
def refresh(tick: Any, params: Any) -> list[Any]:
    """Every panel of the screen, re-read from the warehouse (cached until meta_load changes)."""
    lang = current_lang()
    campus = (params or {}).get("campus") if isinstance(params, dict) else None
    if campus is not None and (not isinstance(campus, str) or campus not in all_campuses()):
        raise PermissionDenied(f"unknown campus {campus!r}")
    scope = view_scope(campus)
    scale = scale_of(tick)
    wh = warehouse()
    through = wh.freshness().data_through
    if through is None:
        note = html.Div(t("fresh.none", lang), className="wall-note")
        return [note] * len(OUTPUTS) + [empty_figure(t("fresh.none", lang), scale)] * len(GRAPHS)
    ytd = Period(through.replace(month=1, day=1), through)
    mtd = Period(through.replace(day=1), through)
    campuses = [campus] if campus else user_campuses()
    every = list(all_campuses())
    names = all_campuses()
    out = [
        safe(lambda: live_panel(scope, campuses, every, names, lang), lang, "live"),
        safe(lambda: volumes_table(scope, mtd, ytd, lang), lang, "volumes"),
        safe(lambda: efficiency_tiles(scope, ytd, lang), lang, "efficiency"),
        safe(lambda: division_table(scope, ytd, lang), lang, "division"),
        safe(lambda: alert_ticker(scope, lang), lang, "alerts"),
        safe_figure(lambda: mix_figure(scope, ytd, lang, scale), lang, "mix", scale),
        safe_figure(lambda: trend_figure(scope, through, "revenue_total", lang, scale), lang, "trend", scale),
        safe_figure(lambda: trend_figure(scope, through, "discharges", lang, scale), lang, "trend", scale),
        safe_figure(lambda: division_trend(scope, through, lang, scale), lang, "division trend", scale),
    ]
    return out


def live_panel(scope: Scope, campuses: list[str], every: list[str], names: dict, lang: str) -> list[Any]:
    """Seven figures of today, each with its campuses' shares in their colours."""
    conf = settings()
    cur = current_figures(warehouse(), scope, campuses, datetime.now(),
                          timedelta(minutes=conf.live_max_age_minutes))
    if cur.source == "none":
        return [html.Div(t("fresh.none", lang), className="wall-note")]
    tiles = []
    per = cur.by_campus
    for metric in LIVE_METRICS:
        chips = []
        if len(campuses) > 1 and not per.empty:
            for c in campuses:
                v = per[(per["campus_id"] == c) & (per["metric_code"] == metric)]["value"]
                chips.append(html.Span([html.I(className="dot", style={"background": campus_color(c, every)}),
                                        f"{v.sum():,.0f}"], className="chip", title=names[c][0 if lang == "zh" else 1]))
        tiles.append(html.Div([
            html.Div(t(f"live.{metric}", lang), className="tile-label"),
            html.Div(f"{cur.values.get(metric, float('nan')):,.0f}", className="tile-value",
                     id={"type": "live-value", "index": metric}),
            html.Div(chips, className="chips") if chips else None,
        ], className="tile"))
    if cur.source == "live":
        note = html.Div(t("wall.live_at", lang, at=f"{cur.as_of:%H:%M:%S}"), className="live-note live-on",
                        id="cw-live-source")
    else:
        text = t("wall.no_live", lang, day=cur.as_of)
        if cur.silent_since is not None:
            text += " " + t("wall.live_silent", lang, at=f"{cur.silent_since:%m-%d %H:%M}")
        note = html.Div("⚠ " + text, className="live-note live-off", id="cw-live-source")
    return [*tiles, note]


def _change_text(row: Any, lang: str) -> tuple[float | None, str]:
    ind = INDICATORS[row.indicator]
    if row.yoy != row.yoy:
        return None, t("home.no_yoy", lang)
    if ind.unit == "ratio":
        return row.yoy_diff, format_points(row.yoy_diff, lang)
    return row.yoy, format_change(row.yoy)


def volumes_table(scope: Scope, mtd: Period, ytd: Period, lang: str) -> html.Table:
    wh = warehouse()
    frames = {"mtd": compare(wh, scope, VOLUMES, mtd).set_index("indicator"),
              "ytd": compare(wh, scope, YTD, ytd).set_index("indicator")}
    head = [html.Tr([html.Th(""), html.Th(t("wall.mtd", lang, start=f"{mtd.start:%m-%d}", end=f"{mtd.end:%m-%d}"),
                                          colSpan=2),
                     html.Th(t("wall.ytd", lang, end=f"{ytd.end:%m-%d}"), colSpan=2)]),
            html.Tr([html.Th("")] + [html.Th(t(k, lang)) for k in ("wall.value", "wall.yoy_short") * 2])]
    rows = []
    for code in VOLUMES:
        ind = INDICATORS[code]
        label = t(f"wall.short.{code}", lang) + (" (yuan)" if lang == "en" and ind.unit == "yuan" else "")
        cells = [html.Th(label, className="row-label")]
        for k in ("mtd", "ytd"):
            frame = frames[k]
            if code not in frame.index:
                cells += [html.Td("—"), html.Td("")]
                continue
            row = frame.loc[code]
            change, text = _change_text(_Row(code, row), lang)
            text_value = format_indicator(row["value"], ind.unit, lang)
            if lang == "en" and ind.unit == "yuan":  # the row label carries the unit; the cell stays narrow
                text_value = text_value.removesuffix(" yuan")
            cells += [html.Td(text_value, className="num"),
                      html.Td(change_badge(change, ind.higher_is_better, text))]
        rows.append(html.Tr(cells))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table", id="cw-volumes-table")


class _Row:
    """A compare() row seen with attribute access, indicator code included."""

    def __init__(self, code: str, row: Any):
        self.indicator, self.yoy, self.yoy_diff = code, float(row["yoy"]), float(row["yoy_diff"])


def efficiency_tiles(scope: Scope, ytd: Period, lang: str) -> list[Any]:
    frame = compare(warehouse(), scope, YTD, ytd).set_index("indicator")
    tiles = []
    for code in EFFICIENCY:
        ind = INDICATORS[code]
        if code not in frame.index:
            tiles.append(html.Div([html.Div(ind.name(lang), className="tile-label"), html.Div("—", className="tile-value")],
                                  className="tile"))
            continue
        row = frame.loc[code]
        change, text = _change_text(_Row(code, row), lang)
        tiles.append(html.Div([
            html.Div(ind.name(lang), className="tile-label"),
            html.Div(format_indicator(row["value"], ind.unit, lang), className="tile-value"),
            change_badge(change, ind.higher_is_better, t("wall.yoy_short", lang) + " " + text),
        ], className="tile"))
    return tiles


def mix_figure(scope: Scope, ytd: Period, lang: str, scale: float) -> go.Figure:
    """Revenue mix, this year to date against the same days last year, as 100% bars."""
    frame = compare(warehouse(), scope, YTD, ytd).set_index("indicator")
    if frame.empty:
        return empty_figure(t("wall.no_revenue", lang), scale)
    parts = [("drug_share", "#E69F00"), ("material_share", "#CC79A7"), ("service_revenue_share", "#56B4E9")]
    years = [t("wall.last_year", lang), t("wall.this_year", lang)]  # categories run upwards
    fig = go.Figure()
    for code, color in parts:
        vals = [frame.loc[code, "year_ago"], frame.loc[code, "value"]] if code in frame.index else [None, None]
        fig.add_bar(y=years, x=vals, orientation="h", name=t(f"wall.short.{code}", lang), marker_color=color,
                    text=[f"{v:.0%}" if v == v and v is not None else "" for v in vals], textposition="inside",
                    insidetextanchor="middle", textfont={"size": round(15 * scale)})
    other = [1 - sum(float(frame.loc[c, col]) for c, _ in parts if c in frame.index) for col in ("year_ago", "value")]
    fig.add_bar(y=years, x=other, orientation="h", name=t("wall.short.exam_lab_share", lang), marker_color=NEUTRAL,
                text=[f"{v:.0%}" if v == v else "" for v in other], textposition="inside", insidetextanchor="middle",
                textfont={"size": round(15 * scale)})
    fig.update_layout(barmode="stack", bargap=0.4)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], showgrid=False, visible=False)
    return style(fig, scale, margin=(8, 8, 4, 4))


def division_table(scope: Scope, ytd: Period, lang: str) -> Any:
    frame = compare(warehouse(), scope, DIVISION, ytd, Level.division)
    if frame.empty:
        return html.Div(t("wall.no_divisions", lang), className="wall-note")
    head = html.Tr([html.Th("")] + [html.Th(t(f"wall.short.{c}", lang)) for c in DIVISION])
    rows = []
    for key, grp in frame.groupby("key", sort=True):
        by = grp.set_index("indicator")
        name = grp["name_zh" if lang == "zh" else "name_en"].iloc[0]
        cells = [html.Th(name or key, className="row-label")]
        for code in DIVISION:
            ind = INDICATORS[code]
            if code not in by.index:
                cells.append(html.Td("—"))
                continue
            change, text = _change_text(_Row(code, by.loc[code]), lang)
            cells.append(html.Td([html.Div(format_indicator(by.loc[code, "value"], ind.unit, lang), className="num"),
                                  change_badge(change, ind.higher_is_better, text)]))
        rows.append(html.Tr(cells))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table division", id="cw-division-table")


def division_trend(scope: Scope, through: date, lang: str, scale: float) -> go.Figure:
    """Monthly revenue of each division over the last 12 months: one line each, told apart by
    dash and marker as well as colour."""
    first = add_months(through.replace(day=1), -(TREND_MONTHS - 1))
    df = indicator_values(warehouse(), scope, ("revenue_total",), Period(first, through), Level.division, grain="month")
    if df.empty:
        return empty_figure(t("wall.no_divisions", lang), scale)
    fig = go.Figure()
    looks = [("#56B4E9", "solid", "circle"), ("#E69F00", "dash", "square"), ("#CC79A7", "dot", "diamond")]
    for i, (key, grp) in enumerate(df.sort_values("period_start").groupby("key", sort=True)):
        color, dash_style, symbol = looks[i % len(looks)]
        fig.add_scatter(x=grp["period_start"].astype(str).str[2:7].str.replace("-", "/"), y=grp["value"] / 10_000,
                        name=grp["name_zh" if lang == "zh" else "name_en"].iloc[0] or key, mode="lines+markers",
                        line={"color": color, "dash": dash_style, "width": round(3 * scale)},
                        marker={"symbol": symbol, "size": round(7 * scale)})
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
    title = f"{INDICATORS['revenue_total'].name(lang)}（{t('unit.wan_yuan', lang)}）" if lang == "zh" else \
        f"{INDICATORS['revenue_total'].name(lang)} ({t('unit.wan_yuan', lang)})"
    return style(fig, scale, title=title, margin=(8, 8, 6, 4))


def trend_figure(scope: Scope, through: date, code: str, lang: str, scale: float) -> go.Figure:
    """The last 12 months (bars, the current month marked as so far) against the same months a
    year earlier (line)."""
    first = add_months(through.replace(day=1), -(2 * TREND_MONTHS - 1))
    df = indicator_values(warehouse(), scope, TRENDS, Period(first, through), grain="month")
    df = df[df["indicator"] == code]
    ind = INDICATORS[code]
    if df.empty:
        return empty_figure(t("wall.no_data", lang), scale)
    series = df.assign(month=df["period_start"].astype(str).str[:7]).set_index("month")["value"]
    months = [f"{add_months(through.replace(day=1), -k):%Y-%m}" for k in range(TREND_MONTHS - 1, -1, -1)]
    last_year = [f"{add_months(date.fromisoformat(m + '-01'), -12):%Y-%m}" for m in months]
    now_vals = [series.get(m) for m in months]
    ly_vals = [series.get(m) for m in last_year]
    divisor = 10_000 if ind.unit == "yuan" else 1
    labels = [m[2:].replace("-", "/") for m in months]
    colors = [GOOD] * (len(months) - 1) + ["rgba(86,180,233,.45)"]  # the month so far, paler
    fig = go.Figure()
    fig.add_bar(x=labels, y=[v / divisor if v is not None else None for v in now_vals], name=t("wall.this_year", lang),
                marker_color=colors)
    fig.add_scatter(x=labels, y=[v / divisor if v is not None else None for v in ly_vals], name=t("wall.last_year", lang),
                    mode="lines+markers", line={"color": LAST_YEAR, "dash": "dash", "width": round(3 * scale)},
                    marker={"symbol": "diamond", "size": round(8 * scale)})
    unit = t("unit.wan_yuan", lang) if divisor != 1 else t("unit.cases", lang)
    title = f"{ind.name(lang)}（{unit}）" if lang == "zh" else f"{ind.name(lang)} ({unit})"
    fig.update_layout(bargap=0.25)
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
    return style(fig, scale, title=title, margin=(8, 8, 6, 4))


def alert_ticker(scope: Scope, lang: str) -> list[Any]:
    """Open red and orange alerts, red first, each with its suggested action."""
    db = current_app.extensions["hospdash"].appdb
    df = list_alerts(db, scope, levels=["red", "orange"], statuses=["new", "acknowledged"], limit=40)
    if df.empty:
        return [html.Span(t("wall.no_alerts", lang), className="ticker-empty")]
    names = dict(zip(*(departments(warehouse(), scope)[c] for c in ("dept_id", "name_zh" if lang == "zh" else "name_en")),
                     strict=True))
    df = df.assign(rank=df["level"].map({"red": 0, "orange": 1})).sort_values(["rank", "period_end"],
                                                                               ascending=[True, False], kind="stable")
    items = []
    for r in df.itertuples():
        ind = INDICATORS.get(r.indicator)
        what = ind.name(lang) if ind else r.indicator
        items.append(html.Span([
            html.B(("● " if r.level == "red" else "▲ ") + t(f"level.{r.level}", lang), className=f"lvl lvl-{r.level}"),
            f" {names.get(r.dept_id, r.dept_id)} · {what} {r.deviation * 100:+.0f}% → ",
            html.Span(suggested_action(r.action_key, lang), className="ticker-action"),
        ], className="ticker-item"))
    count = html.Span(t("wall.alert_count", lang, n=len(df)), className="ticker-count")
    track = html.Div(items + items, className="ticker-track", style={"animationDuration": f"{max(30, 12 * len(items))}s"})
    return [count, html.Div(track, className="ticker-window")]

