"""The campus screen's tables and figures (院区运营大屏): today against the same time yesterday
and last week, the hourly curve, the bed census with its ranking, and the monthly trends with an
incomplete month drawn as such. Pure functions: data in, components or figures out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from dash import html

from data_layer.alerts.actions import suggested_action
from data_layer.periods import Period
from data_layer.registry import INDICATORS, Indicator

from .charts import plain, vrule, vspan
from .format import format_change, format_deviation, format_indicator, format_points
from .i18n import t
from .palette import WARN_ICON, judge_value, out_of_range_mark
from .wall import CURRENT, CURRENT_FAINT, LAST_YEAR, MUTED, NEUTRAL, WARN, change_badge, empty_figure, style

EARLY_SHARE = 0.05  # below this share of yesterday's whole day at the same time, the day is too young to compare
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_day(d: date, lang: str) -> str:
    """12月1日 / Dec 1."""
    return f"{d.month}月{d.day}日" if lang == "zh" else f"{MONTHS_EN[d.month - 1]} {d.day}"


def _count(v: float | None) -> str:
    return "—" if v is None or v != v else f"{v:,.0f}"


@dataclass(frozen=True)
class TodayRow:
    """One flow metric of today: so far, at the same time yesterday and last week, and the
    latest whole day; `indicator` is the registry's indicator whose rule judges the change
    (None: not judged)."""

    metric: str
    today: float | None
    yesterday: float | None
    last_week: float | None
    full_day: float | None
    indicator: Indicator | None = None

    @property
    def early(self) -> bool:
        """Too early to compare: yesterday at this time had under EARLY_SHARE of its whole day."""
        if self.yesterday is None or self.full_day is None or self.full_day != self.full_day or self.full_day <= 0:
            return False
        return self.yesterday < EARLY_SHARE * self.full_day


def today_table(rows: Sequence[TodayRow], lang: str, at: str, full_day: date) -> html.Table:
    """Today so far against the same time yesterday (with the change) and last week, and the
    latest whole day; a metric too young to compare says so instead of showing a bare change."""
    head = html.Tr([html.Th("")] + [html.Th(x) for x in (
        t("cw.col.today", lang, at=at), t("cw.col.yesterday", lang), t("cw.col.last_week", lang),
        t("cw.col.full_day", lang, day=month_day(full_day, lang)))])
    body = []
    for r in rows:
        if r.early:
            badge = html.Span(t("cw.too_early", lang), className="chg chg-neutral")
        elif r.today is not None and r.yesterday:
            change = r.today / r.yesterday - 1
            badge = change_badge(change, r.indicator, format_change(change), r.today)
        else:
            badge = None
        body.append(html.Tr([
            html.Th(t(f"cw.flow.{r.metric}", lang), className="row-label"),
            html.Td([html.Span(_count(r.today), className="num today-value", id={"type": "live-value", "index": r.metric}),
                     badge], className="today-cell"),
            html.Td(_count(r.yesterday), className="num dim"),
            html.Td(_count(r.last_week), className="num dim"),
            html.Td(_count(r.full_day), className="num"),
        ], className="early" if r.early else None))
    return html.Table([html.Thead(head), html.Tbody(body)], className="wall-table today-table", id="cw-today-table")


def day_table(values: dict[str, float], week_before: dict[str, float], metrics: Sequence[str], day: date,
              lang: str, indicators: dict[str, Indicator]) -> html.Table:
    """Without a live feed: the latest complete `day` against the same weekday a week earlier;
    `indicators` names each metric's registry indicator, whose rule judges the change."""
    head = html.Tr([html.Th(""), html.Th(t("cw.col.full_day", lang, day=month_day(day, lang))),
                    html.Th(t("cw.col.week_before", lang, day=month_day(day - timedelta(days=7), lang)))])
    body = []
    for m in metrics:
        v, w = values.get(m), week_before.get(m)
        badge = change_badge(v / w - 1, indicators.get(m), format_change(v / w - 1), v) if v is not None and w else None
        body.append(html.Tr([html.Th(t(f"cw.flow.{m}", lang), className="row-label"),
                             html.Td([html.Span(_count(v), className="num today-value",
                                                id={"type": "live-value", "index": m}), badge], className="today-cell"),
                             html.Td(_count(w), className="num dim")]))
    return html.Table([html.Thead(head), html.Tbody(body)], className="wall-table today-table", id="cw-today-table")


def _hour_ticks(lang: str) -> dict:
    return {"tickvals": list(range(0, 25, 3)), "ticktext": [f"{h:02d}:00" for h in range(0, 25, 3)],
            "range": [0, 24]}


def intraday_figure(curves: Sequence[tuple[str, str, pd.DataFrame]], lang: str, scale: float) -> dict:
    """Cumulative counts by hour: the day shown (solid, thick; today, or the latest complete day
    without a live feed), the day before (dashed) and the same weekday a week earlier (dotted).
    `curves`: (look: "day", "day_before" or "week_before"; trace name; frame with hours and value)."""
    if all(df.empty for _, _, df in curves):
        return empty_figure(t("cw.no_curve", lang), scale)
    looks = {"day": (CURRENT, "solid", 4), "day_before": (LAST_YEAR, "dash", 2.5), "week_before": (NEUTRAL, "dot", 2.5)}
    traces = []
    for look, name, df in reversed(list(curves)):  # the day shown drawn last, on top
        if df.empty:
            continue
        color, dash_style, width = looks[look]
        traces.append({"type": "scatter", "x": df["hours"].to_numpy(dtype=float), "y": df["value"].to_numpy(dtype=float),
                       "name": name, "mode": "lines",
                       "line": {"color": color, "dash": dash_style, "width": round(width * scale), "shape": "hv"}})
    shown = next((df for look, _, df in curves if look == "day"), None)
    if shown is not None and not shown.empty:
        hours, value = float(shown["hours"].iloc[-1]), float(shown["value"].iloc[-1])
        traces.append({"type": "scatter", "x": [hours], "y": [value], "mode": "markers+text", "showlegend": False,
                       "marker": {"color": CURRENT, "size": round(10 * scale)}, "text": [f"{value:,.0f}"],
                       "textposition": "top left" if hours > 18 else "top center",
                       "textfont": {"size": round(15 * scale), "color": CURRENT}, "hoverinfo": "skip"})
    return style(plain(traces), scale, margin=(8, 8, 6, 4), layout={"legend": {"traceorder": "reversed"}},
                 xaxes=_hour_ticks(lang), yaxes={"tickformat": ",.0f", "rangemode": "tozero"})


def occupancy_verdict(occupancy: float | None) -> str:
    """Bed occupancy judged by the one rule: "warn" outside the registry's healthy range
    (85%–105%), "neutral" inside it, so 100%–105% with a few extra beds is not an alarm."""
    return judge_value(INDICATORS["bed_occupancy"], occupancy)


def bed_balance(open_beds: float, inpatients: float, lang: str) -> html.Span:
    """Beds available, or the extra beds (加床) in use when inpatients exceed open beds: never a bare 0.
    Extra beds take the warning colour and "⚠" only when occupancy leaves the healthy range."""
    diff = open_beds - inpatients
    if diff != diff:
        return html.Span("—", className="bed-balance")
    if diff < 0:
        text = t("cw.extra_beds", lang, n=f"{-diff:,.0f}")
        if occupancy_verdict(inpatients / open_beds if open_beds else None) == "warn":
            return html.Span(f"{WARN_ICON} {text}", className="bed-balance extra warn")
        return html.Span(text, className="bed-balance extra")
    return html.Span(t("cw.available_n", lang, n=f"{diff:,.0f}"), className="bed-balance free")


def _pct(v: float | None) -> str:
    return "—" if v is None or v != v else f"{v:.1%}"


def beds_headline(inpatients: float, open_beds: float, lang: str) -> html.Div:
    """Inpatients, open beds, occupancy and beds available or extra, from one census."""
    occ = inpatients / open_beds if open_beds and open_beds == open_beds else float("nan")
    cells = [(t("cw.inpatients", lang), _count(inpatients)), (t("cw.open_beds", lang), _count(open_beds)),
             (t("cw.occupancy_now", lang), _pct(occ))]
    tiles = [html.Div([html.Div(label, className="tile-label"), html.Div(value, className="tile-value")],
                      className="tile") for label, value in cells]
    tiles.append(html.Div([html.Div(t("cw.available", lang) + " / " + t("cw.extra_label", lang), className="tile-label"),
                           html.Div(bed_balance(open_beds, inpatients, lang), className="tile-value")],
                          className="tile", id="cw-bed-balance"))
    return html.Div(tiles, className="beds-headline")


def campus_beds_table(rows: pd.DataFrame, lang: str, dots: dict[str, str]) -> html.Table:
    """Per campus: inpatients, open beds, occupancy, beds available or extra beds.
    `rows`: campus_id, campus_zh, campus_en, inpatients, open_beds."""
    head = html.Tr([html.Th(t("cw.campus", lang)), html.Th(t("cw.inpatients", lang)), html.Th(t("cw.open_beds", lang)),
                    html.Th(t("cw.occupancy_now", lang)), html.Th("")])
    body = []
    for r in rows.itertuples():
        occ = r.inpatients / r.open_beds if r.open_beds else float("nan")
        body.append(html.Tr([
            html.Th([html.I(className="dot", style={"background": dots.get(r.campus_id, MUTED)}),
                     r.campus_zh if lang == "zh" else r.campus_en], className="row-label"),
            html.Td(_count(r.inpatients), className="num"), html.Td(_count(r.open_beds), className="num"),
            html.Td(_pct(occ), className="num"), html.Td(bed_balance(r.open_beds, r.inpatients, lang)),
        ]))
    return html.Table([html.Thead(head), html.Tbody(body)], className="wall-table beds-table", id="cw-campus-beds")


def icu_line(by_dept: pd.DataFrame, day: date, lang: str) -> html.Div:
    """The intensive care units' census on the ward figures of `day`."""
    icu = by_dept[by_dept["icu"]]
    if icu.empty:
        return html.Div(t("cw.icu_none", lang), className="icu-line muted")
    occupied, beds = int(icu["occupied"].sum()), int(icu["open_beds"].sum())
    return html.Div([html.Span(t("cw.icu", lang, day=month_day(day, lang)), className="tile-label"),
                     html.Span(f"{occupied:,} / {beds:,}", className="num icu-value"),
                     html.Span(_pct(occupied / beds if beds else float("nan")), className="num"),
                     bed_balance(beds, occupied, lang)], className="icu-line", id="cw-icu")


def rank_figure(by_dept: pd.DataFrame, lang: str, scale: float, n: int) -> dict:
    """The `n` fullest and `n` emptiest inpatient departments by occupancy, fullest on top, with
    the 100% line. A department outside bed occupancy's healthy range (the one rule: 85%–105%)
    takes the warning colour and its bound ("⚠ >105%"); inside it, neutral, extra beds or not."""
    df = by_dept[by_dept["open_beds"] > 0].sort_values(["occupancy", "dept_id"], ascending=[False, True])
    if df.empty:
        return empty_figure(t("cw.rank_none", lang), scale)
    picked = pd.concat([df.head(n), df.tail(n)]).drop_duplicates("dept_id") if len(df) > 2 * n else df
    picked = picked.iloc[::-1]  # plotly draws the first category at the bottom
    names = picked["name_zh" if lang == "zh" else "name_en"].tolist()
    ind = INDICATORS["bed_occupancy"]
    labels = [" · ".join(x for x in (f"{o:.0%}", t("cw.extra_beds", lang, n=int(e)) if e > 0 else "",
                                     out_of_range_mark(ind, o, lang)) if x)
              for o, e in zip(picked["occupancy"], picked["extra"], strict=True)]
    fig = plain([{"type": "bar", "y": names, "x": picked["occupancy"].to_numpy(dtype=float), "orientation": "h",
                   "text": labels, "textposition": "inside", "insidetextanchor": "start",
                   "textfont": {"size": round(12 * scale), "color": "#0b1118"},
                   "marker": {"color": [WARN if occupancy_verdict(o) == "warn" else NEUTRAL for o in picked["occupancy"]]},
                   "customdata": picked[["occupied", "open_beds"]].to_numpy(dtype=float),
                   "hovertemplate": "%{y}: %{customdata[0]} / %{customdata[1]}<extra></extra>"}])
    healthy = INDICATORS["bed_occupancy"].healthy
    shapes = []
    if healthy is not None and healthy.low is not None and healthy.high is not None:  # the range the colours judge by
        shapes.append(vspan(healthy.low, healthy.high, fillcolor=NEUTRAL, opacity=0.14, line={"width": 0}, layer="below"))
    shapes.append(vrule(1, {"color": "#ffffff", "width": max(1, round(1.5 * scale)), "dash": "dot"}))
    return style(fig, scale, legend=False, margin=(4, 8, 4, 4), layout={"bargap": 0.18, "shapes": shapes},
                 xaxes={"tickformat": ".0%", "range": [0, max(1.2, float(picked["occupancy"].max()) * 1.05)]},
                 yaxes={"tickfont": {"size": round(12 * scale)}, "automargin": True})


def trend_figure(labels: list[str], now_vals: list[float | None], ly_vals: list[float | None], partial: str | None,
                 title: str, lang: str, scale: float) -> dict:
    """Monthly bars against the same months a year earlier (dashed line). When the last month is
    incomplete (`partial` is its 'to date' label) its bar is hatched and labelled, and the same days
    a year earlier stand beside it as a hollow marker of their own (never last year's whole month,
    and not joined to the line, which would read as a plunge)."""
    n = len(labels)
    hatched = partial is not None
    traces = [{"type": "bar", "x": list(labels), "y": list(now_vals), "name": t("wall.this_year", lang),
               "marker": {"color": [CURRENT] * (n - 1) + [CURRENT_FAINT if hatched else CURRENT],
                          "line": {"color": CURRENT, "width": [0] * (n - 1) + [round(2 * scale) if hatched else 0]},
                          "pattern": {"shape": [""] * (n - 1) + ["/" if hatched else ""], "fgcolor": CURRENT,
                                      "solidity": 0.35}},
               "text": [""] * (n - 1) + [partial or ""], "textposition": "outside", "cliponaxis": False,
               "constraintext": "none", "textfont": {"size": round(13 * scale), "color": CURRENT}}]
    whole = n - 1 if hatched else n  # the line joins whole months only: a partial one never reads as a plunge
    traces.append({"type": "scatter", "x": list(labels[:whole]), "y": list(ly_vals[:whole]),
                   "name": t("wall.last_year", lang), "mode": "lines+markers", "legendgroup": "ly",
                   "line": {"color": LAST_YEAR, "dash": "dash", "width": round(3 * scale)},
                   "marker": {"symbol": "diamond", "size": round(8 * scale), "line": {"width": round(2 * scale)}}})
    if hatched and n:
        traces.append({"type": "scatter", "x": list(labels[-1:]), "y": list(ly_vals[-1:]), "mode": "markers",
                       "legendgroup": "ly", "showlegend": False, "name": t("wall.last_year", lang),
                       "marker": {"symbol": "diamond-open", "color": LAST_YEAR, "size": round(10 * scale),
                                  "line": {"width": round(2 * scale), "color": LAST_YEAR}}})
    return style(plain(traces), scale, title=title, margin=(8, 8, 6, 4), layout={"bargap": 0.25},
                 yaxes={"tickformat": ",.0f", "rangemode": "tozero"})


def division_figure(series: Sequence[tuple[str, list[str], list[float]]], partial: str | None, title: str,
                    scale: float) -> dict:
    """One line per division over the months; an incomplete last month is a hollow marker of its
    own labelled 'to date', not joined to the line, so it never reads as a plunge."""
    # divisions are categories: light hues apart from the palette's better blue and worse orange
    looks = [("#a0cbe8", "solid", "circle"), ("#d4a6c8", "dash", "square"), ("#b3c3d3", "dot", "diamond")]
    traces = []
    for i, (name, x, y) in enumerate(series):
        color, dash_style, symbol = looks[i % len(looks)]
        whole_x, whole_y = (x[:-1], y[:-1]) if partial else (x, y)
        traces.append({"type": "scatter", "x": list(whole_x), "y": list(whole_y), "name": name, "mode": "lines+markers",
                       "legendgroup": name, "line": {"color": color, "dash": dash_style, "width": round(3 * scale)},
                       "marker": {"symbol": symbol, "size": round(7 * scale)}})
        if partial and x:  # the month in progress: a hollow marker of its own, not joined to the line
            traces.append({"type": "scatter", "x": list(x[-1:]), "y": list(y[-1:]), "mode": "markers+text",
                           "legendgroup": name, "showlegend": False, "name": name,
                           "marker": {"symbol": f"{symbol}-open", "size": round(9 * scale), "color": color,
                                      "line": {"width": round(2 * scale), "color": color}},
                           "text": [partial if i == 0 else ""], "textposition": "top left",
                           "textfont": {"size": round(12 * scale), "color": MUTED}})
    return style(plain(traces), scale, title=title, margin=(8, 8, 6, 4), yaxes={"tickformat": ",.0f", "rangemode": "tozero"})


def _change_text(row: Any, lang: str) -> tuple[float | None, str]:
    ind = INDICATORS[row.indicator]
    if row.yoy != row.yoy:
        return None, t("home.no_yoy", lang)
    if ind.unit == "ratio":
        return row.yoy_diff, format_points(row.yoy_diff, lang)
    return row.yoy, format_change(row.yoy)


def render_volumes(frames: dict[str, pd.DataFrame], codes: Sequence[str], mtd: Period, ytd: Period,
                   lang: str) -> Any:
    """Month and year to date (compare() frames by indicator), each with its change against the
    same days last year; a month under 7 days old carries a warning that its change swings."""
    mtd_head = t("wall.mtd", lang, start=f"{mtd.start:%m-%d}", end=f"{mtd.end:%m-%d}") + t("cw.mtd_days", lang, n=mtd.days)
    head = [html.Tr([html.Th(""), html.Th(mtd_head, colSpan=2),
                     html.Th(t("wall.ytd", lang, end=f"{ytd.end:%m-%d}"), colSpan=2)]),
            html.Tr([html.Th("")] + [html.Th(t(k, lang)) for k in ("wall.value", "wall.yoy_short") * 2])]
    rows = []
    for code in codes:
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
                      html.Td(change_badge(change, ind, text, row["value"]))]
        rows.append(html.Tr(cells))
    table = html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table", id="cw-volumes-table")
    if mtd.days >= 7:
        return table
    return html.Div([table, html.Div(t("cw.short_mtd", lang, n=mtd.days), className="live-note early-note",
                                     id="cw-short-mtd")])


class _Row:
    """A compare() row seen with attribute access, indicator code included."""

    def __init__(self, code: str, row: Any):
        self.indicator, self.yoy, self.yoy_diff = code, float(row["yoy"]), float(row["yoy_diff"])


def render_efficiency(frame: pd.DataFrame, codes: Sequence[str], lang: str) -> list[Any]:
    """A tile per indicator: the year-to-date value and its change against last year."""
    tiles = []
    for code in codes:
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
            change_badge(change, ind, t("wall.yoy_short", lang) + " " + text, row["value"]),
        ], className="tile"))
    return tiles


def _number(v: Any) -> float | None:
    """A figure for a chart: a float, or None for a missing one (NaN, None), as Plotly checks would."""
    return None if v is None or v != v else float(v)


def render_mix(frame: pd.DataFrame, lang: str, scale: float) -> dict:
    """Revenue mix, this year to date against the same days last year, as 100% bars."""
    if frame.empty:
        return empty_figure(t("wall.no_revenue", lang), scale)
    parts = [("drug_share", "#E69F00"), ("material_share", "#CC79A7"), ("service_revenue_share", "#56B4E9")]
    years = [t("wall.last_year", lang), t("wall.this_year", lang)]  # categories run upwards
    traces = []
    for code, color in parts:
        vals = [_number(frame.loc[code, "year_ago"]), _number(frame.loc[code, "value"])] if code in frame.index \
            else [None, None]
        traces.append({"type": "bar", "y": years, "x": vals, "orientation": "h", "name": t(f"wall.short.{code}", lang),
                       "marker": {"color": color}, "text": [f"{v:.0%}" if v is not None else "" for v in vals],
                       "textposition": "inside", "insidetextanchor": "middle", "textfont": {"size": round(15 * scale)}})
    other = [1 - sum(float(frame.loc[c, col]) for c, _ in parts if c in frame.index) for col in ("year_ago", "value")]
    traces.append({"type": "bar", "y": years, "x": [_number(v) for v in other], "orientation": "h",
                   "name": t("wall.short.exam_lab_share", lang), "marker": {"color": NEUTRAL},
                   "text": [f"{v:.0%}" if v == v else "" for v in other], "textposition": "inside",
                   "insidetextanchor": "middle", "textfont": {"size": round(15 * scale)}})
    return style(plain(traces), scale, margin=(8, 8, 4, 4), layout={"barmode": "stack", "bargap": 0.4},
                 xaxes={"tickformat": ".0%", "range": [0, 1], "showgrid": False, "visible": False})


def render_divisions(frame: pd.DataFrame, codes: Sequence[str], lang: str) -> Any:
    """Each division's year-to-date figures with their change against last year."""
    if frame.empty:
        return html.Div(t("wall.no_divisions", lang), className="wall-note")
    head = html.Tr([html.Th("")] + [html.Th(t(f"wall.short.{c}", lang)) for c in codes])
    rows = []
    for key, grp in frame.groupby("key", sort=True):
        by = grp.set_index("indicator")
        name = grp["name_zh" if lang == "zh" else "name_en"].iloc[0]
        cells = [html.Th(name or key, className="row-label")]
        for code in codes:
            ind = INDICATORS[code]
            if code not in by.index:
                cells.append(html.Td("—"))
                continue
            change, text = _change_text(_Row(code, by.loc[code]), lang)
            cells.append(html.Td([html.Div(format_indicator(by.loc[code, "value"], ind.unit, lang), className="num"),
                                  change_badge(change, ind, text, by.loc[code, "value"])]))
        rows.append(html.Tr(cells))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table division", id="cw-division-table")


def alert_counts_text(counts: dict[str, int], lang: str) -> str:
    """Open alerts by level, e.g. 'Open alerts: 0 red · 2 orange · 14 yellow'."""
    return t("cw.alerts_counts", lang, red=counts.get("red", 0), orange=counts.get("orange", 0),
             yellow=counts.get("yellow", 0))


LEVEL_ORDER = ("red", "orange", "yellow")
LEVEL_MARKS = {"red": "● ", "orange": "▲ ", "yellow": "◆ "}


def clinics_opened(curve: pd.DataFrame) -> str | None:
    """When the clinics opened on the day of a live curve, as HH:MM: the first moment its
    outpatient and emergency visits ran ahead of the emergencies alone (those come all night)."""
    wide = curve.pivot_table(index="at", columns="metric_code", values="value", aggfunc="sum").sort_index()
    if "outpatient_visits_today" not in wide.columns:
        return None
    clinics = wide["outpatient_visits_today"] - (wide["emergency_visits_today"] if "emergency_visits_today" in wide.columns
                                                 else 0.0)
    opened = clinics[clinics > max(5.0, 0.002 * float(clinics.max()))]
    return None if opened.empty else f"{opened.index.min():%H:%M}"


def alert_ticker(alerts: pd.DataFrame, names: dict[str, str], lang: str, items_shown: int) -> list[Any]:
    """The ticker of open alerts: the counts by level, then the `items_shown` most severe (red,
    then orange, then yellow; newest first within a level), each with its suggested action.
    `names`: department id -> name in the reader's language."""
    if alerts.empty:
        return [html.Span(t("cw.alerts_none", lang), className="ticker-empty")]
    counts = alerts["level"].value_counts().to_dict()
    rank = {lv: i for i, lv in enumerate(LEVEL_ORDER)}
    df = alerts.assign(rank=alerts["level"].map(rank).fillna(len(rank))).sort_values(
        ["rank", "period_end"], ascending=[True, False], kind="stable").head(items_shown)
    items = []
    for r in df.itertuples():
        ind = INDICATORS.get(r.indicator)
        what = ind.name(lang) if ind else t("wall.no_data", lang)
        items.append(html.Span([
            html.B(LEVEL_MARKS.get(r.level, "") + t(f"level.{r.level}", lang), className=f"lvl lvl-{r.level}"),
            f" {names.get(r.dept_id, '—')} · {what} "
            f"{format_deviation(r.observed, r.expected, r.deviation, ind.unit if ind else '', lang, kind=r.kind)} → ",
            html.Span(suggested_action(r.action_key, lang), className="ticker-action"),
        ], className="ticker-item"))
    count = html.Span(alert_counts_text(counts, lang), className="ticker-count")
    track = html.Div(items + items, className="ticker-track", style={"animationDuration": f"{max(30, 12 * len(items))}s"})
    return [count, html.Div(track, className="ticker-window")]
