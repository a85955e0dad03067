"""The department workspace's tables, cards and figures (科室工作台): pure functions from frames
to components. Every table has a card form for a phone (CSS shows one or the other at 700 px),
figures keep short month labels and their titles outside the plot so nothing is cut on a phone,
and every colour comes from the shared palette (components/palette.py)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from data_layer.registry import INDICATORS, UNITS, Indicator

from .format import format_change, format_deviation, format_indicator, format_points
from .i18n import t
from .palette import DESK, WARN_ICON, judge_change, out_of_range_note, status_class, trend_class

STATUS_ICON = {"on_track": "●", "at_risk": "▲", "off_track": "✖"}
TARGET_COLUMNS = ("target", "actual", "expected", "deviation", "projection")
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def month_label(month: date, lang: str) -> str:
    """A short month label that fits a phone's axis: 3月 / Mar (the year is in the title)."""
    return t(f"dw.month.{month.month}", lang)


def change_text(ind: Indicator, rel: float, diff: float, lang: str) -> str:
    """A change as the page shows it: percentage points for a ratio, a relative change otherwise."""
    if rel != rel and diff != diff:
        return "—"
    return format_points(diff, lang) if ind.unit == "ratio" else format_change(rel)


def change_span(label: str, ind: Indicator, rel: float, diff: float, value: float, lang: str) -> html.Span:
    """"YoY +1.2%" coloured by the one rule for good and bad (zero at the shown precision is neutral)."""
    change = diff if ind.unit == "ratio" else rel
    return html.Span(f"{label} {change_text(ind, rel, diff, lang)}", className=trend_class(judge_change(ind, change, value)))


# ------------------------------------------------------------------------------ targets
def target_cells(r: Any, lang: str) -> dict[str, str]:
    ind = INDICATORS[r.indicator]

    def fmt(v: float) -> str:
        return format_indicator(v, ind.unit, lang)

    if ind.unit == "ratio":
        dev = format_points(r.deviation, lang)
    elif r.deviation_rel == r.deviation_rel:
        dev = f"{fmt(r.deviation)} ({r.deviation_rel:+.1%})"
    else:
        dev = fmt(r.deviation)
    return {"target": fmt(r.target), "actual": fmt(r.actual), "expected": fmt(r.expected), "deviation": dev,
            "projection": fmt(r.projection)}


def status_span(status: str, lang: str) -> html.Span:
    return html.Span(f"{STATUS_ICON[status]} {t(f'dw.status.{status}', lang)}", className=f"status {status_class(status)}")


def why_button(code: str, lang: str) -> html.Button:
    return html.Button(t("dw.why", lang), id={"type": "dw-why", "index": code}, n_clicks=0,
                       className="btn btn-sm btn-link dw-why", title=t("dw.why_title", lang))


def target_options(df: pd.DataFrame, lang: str) -> list[dict[str, str]]:
    return [{"label": f"{STATUS_ICON[r.status]} {INDICATORS[r.indicator].name(lang)}", "value": r.indicator}
            for r in df.itertuples()]


def first_target(df: pd.DataFrame) -> str:
    """The target to open first: the first off track, else at risk, else the first."""
    for status in ("off_track", "at_risk"):
        hit = df[df["status"] == status]
        if not hit.empty:
            return str(hit["indicator"].iloc[0])
    return str(df["indicator"].iloc[0])


def pace_figure(months: pd.DataFrame, ind: Indicator, through: date, lang: str) -> go.Figure:
    """A sum: the cumulative actual month by month against the target's pace (paced on the same
    basis as the targets table). A level: each month's level against the target. The month in
    progress is drawn paler and named "to date"."""
    level = months["basis"].iloc[0] == "level"
    labels = [month_label(m, lang) for m in months["month"]]
    partial = through.day != (pd.Timestamp(through) + pd.offsets.MonthEnd(0)).day
    y = (months["value"] if level else months["cumulative"]).tolist()
    done = len(labels) - 1 if partial else len(labels)
    fig = go.Figure()
    name = t("dw.monthly" if level else "dw.cumulative", lang)
    fig.add_bar(x=labels[:done], y=y[:done], name=name, marker_color=DESK.good,
                hovertext=[format_indicator(v, ind.unit, lang) for v in y[:done]], hoverinfo="text+x")
    if partial and labels:  # the month in progress: paler, and named "to date" in the legend
        fig.add_bar(x=labels[done:], y=y[done:], name=t("dw.month_to_date", lang, month=labels[-1]),
                    marker={"color": DESK.good_strong, "pattern": {"shape": "/", "fgcolor": DESK.good}},
                    hovertext=[format_indicator(v, ind.unit, lang) for v in y[done:]], hoverinfo="text+x")
    fig.add_scatter(x=labels, y=months["expected"], name=t("dw.target_line" if level else "dw.pace", lang),
                    mode="lines+markers", line={"color": DESK.bad, "dash": "dash", "width": 3},
                    marker={"symbol": "diamond"},
                    hovertext=[format_indicator(v, ind.unit, lang) for v in months["expected"]], hoverinfo="text+x")
    fig.update_xaxes(tickfont={"size": 10 if len(labels) > 9 else 12})
    fig.update_xaxes(type="category", tickangle=0, categoryorder="array", categoryarray=labels)
    if ind.unit == "ratio":
        fig.update_yaxes(tickformat=".0%")
    elif lang == "zh" and float(pd.Series(y).abs().max() or 0) >= 1e4:
        _wan_ticks(fig, pd.concat([pd.Series(y), months["expected"]]))
    else:
        fig.update_yaxes(tickformat="~s" if lang == "en" and float(pd.Series(y).abs().max() or 0) >= 1e6 else ",")
    fig.update_layout(margin={"l": 8, "r": 8, "t": 8, "b": 8}, height=280, bargap=0.25, barmode="overlay",
                      legend={"orientation": "h", "y": -0.12, "x": 0}, separators=".,")
    return fig


def _wan_ticks(fig: go.Figure, values: pd.Series) -> None:
    """Chinese axes count in 万 (10,000), not "10k"."""
    top = float(values.max()) if len(values) else 0.0
    if not top or top != top:
        return
    step = _nice(top / 4)
    ticks = [step * i for i in range(0, int(top // step) + 2)]
    fig.update_yaxes(tickvals=ticks, ticktext=[format_indicator(v, "count", "zh") for v in ticks])


def _nice(x: float) -> float:
    import math

    exp = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if x <= m * exp:
            return m * exp
    return 10 * exp


# ------------------------------------------------------------------------------ drill
def drill_panel(ind: Indicator, row: Any, months: pd.DataFrame, groups: pd.DataFrame, doctors: pd.DataFrame,
                dept: str, lang: str, figure: go.Figure) -> list[Any]:
    """What drives a target: its status in words, the chart, the months that opened the gap, the
    medical groups and doctors that moved most in the bad direction against last year, and a link
    into the revenue drill-down for the same department."""
    cells = target_cells(row, lang)
    summary = t("dw.drill_summary", lang, indicator=ind.name(lang), actual=cells["actual"],
                expected=cells["expected"], deviation=cells["deviation"], status=t(f"dw.status.{row.status}", lang))
    parts: list[Any] = [
        html.H3(f"{ind.name(lang)} · {t('dw.pace_title' if row.basis != 'level' else 'dw.level_title', lang)}",
                className="dw-subtitle", id="dw-pace-title"),
        html.P([status_span(row.status, lang), " ", summary], className="dw-drill-summary"),
        dcc.Graph(figure=figure, config=GRAPH_CONFIG, className="dw-graph", id="dw-pace"),
        html.H4(t("dw.drill_months", lang), className="dw-subtitle"),
        _months_view(ind, months, lang),
    ]
    for key, frame in (("groups", groups), ("doctors", doctors)):
        parts.append(html.H4(t(f"dw.drill_{key}", lang), className="dw-subtitle"))
        parts.append(_drivers_view(ind, frame, lang) if not frame.empty else
                     html.P(t("dw.drill_not_split", lang), className="note"))
    parts.append(html.P(dcc.Link(t("dw.drill_revenue", lang), href="/workspace/revenue?" + urlencode({"dept": dept,
                                                                                                     "period": "ytd"}),
                                 id="dw-drill-link"), className="note"))
    return parts


def _months_view(ind: Indicator, months: pd.DataFrame, lang: str) -> html.Div:
    level = months["basis"].iloc[0] == "level"
    keys = ("month", "value", "year_ago", "expected", "gap")
    head = html.Thead(html.Tr([html.Th(t(f"dw.m.{k}" if not (level and k == "expected") else "dw.m.target", lang))
                               for k in keys]))
    body = []
    for r in months.itertuples():
        gap_verdict = judge_change(ind, r.gap, None, scale=100.0 if ind.unit == "ratio" else 1.0,
                                   decimals=1 if ind.unit == "ratio" else 0)
        shown = {"month": month_label(r.month, lang), "value": format_indicator(r.value, ind.unit, lang),
                 "year_ago": format_indicator(r.year_ago, ind.unit, lang),
                 "expected": format_indicator(r.expected, ind.unit, lang),
                 "gap": _signed(r.gap, ind, lang)}
        body.append(html.Tr([html.Td(shown["month"])] +
                            [html.Td(shown[k], className="num" + (f" {trend_class(gap_verdict)}" if k == "gap" else ""))
                             for k in keys[1:]]))
    note = t("dw.m.note_level" if level else "dw.m.note_sum", lang)
    return html.Div([html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table dw-compact",
                                         id="dw-drill-months"), className="table-scroll"),
                     html.P(note, className="note")])


def _signed(v: float, ind: Indicator, lang: str) -> str:
    if v != v:
        return "—"
    if ind.unit == "ratio":
        return format_points(v, lang)
    text = format_indicator(abs(v), ind.unit, lang)
    return ("+" if v > 0 else "−" if v < 0 else "") + text


def _drivers_view(ind: Indicator, frame: pd.DataFrame, lang: str) -> html.Ul:
    name = "name_zh" if lang == "zh" else "name_en"
    items = []
    for r in frame.itertuples():
        verdict = judge_change(ind, r.change, r.value, scale=100.0 if ind.unit == "ratio" else 1.0,
                               decimals=1 if ind.unit == "ratio" else 0)
        items.append(html.Li([
            html.Span(getattr(r, name), className="dw-driver-name"),
            html.Span(format_indicator(r.value, ind.unit, lang), className="num"),
            html.Span(f"{t('home.yoy', lang)} {_signed(r.change, ind, lang)}", className=f"num {trend_class(verdict)}"),
        ], className="dw-driver"))
    return html.Ul(items, className="dw-drivers")


def warn_marks(ind: Indicator, value: float, lang: str) -> tuple[str, str]:
    """(text suffix, title) for a value outside the healthy range: " ⚠" and the range in words."""
    note = out_of_range_note(ind, value, lang)
    return (f" {WARN_ICON}", note) if note else ("", "")


def targets_export_frame(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The targets table as exported: headers, indicator names, pacing basis and status in the
    reader's language (no codes), numbers left as numbers for the workbook to format."""
    return pd.DataFrame({
        t("dw.t.indicator", lang): [INDICATORS[c].name(lang) for c in df["indicator"]],
        t("dw.t.target", lang): df["target"],
        t("dw.t.actual", lang): df["actual"],
        t("dw.x.basis", lang): [t(f"dw.basis.{b}", lang, share=f"{e:.0%}") for b, e in zip(df["basis"], df["elapsed"],
                                                                                          strict=True)],
        t("dw.t.expected", lang): df["expected"],
        t("dw.t.deviation", lang): df["deviation"],
        t("dw.x.deviation_rel", lang): df["deviation_rel"],
        t("dw.t.projection", lang): df["projection"],
        t("dw.t.status", lang): [t(f"dw.status.{s}", lang) for s in df["status"]],
    })


# ------------------------------------------------------------------------------ sections
def overview_cards(rows: pd.DataFrame, codes: Sequence[str], start: date, end: date, short_days: int,
                   lang: str) -> list[Any]:
    """The period's figures as cards, each with its change against last year and the period before;
    notes on the period, a period too short to judge, and the cost figures' closed months."""
    by = rows.set_index("indicator")
    cards = []
    for code in codes:
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
    notes = [html.P(t("dw.period", lang, start=start, end=end), className="note")]
    days = (end - start).days + 1
    if days < short_days:  # the 1st of a month: a day or two of data swing by tens of percent
        notes.insert(0, html.P(t("dw.short_period", lang, days=days), className="alert alert-info py-1 px-2 mb-1"))
    monthly = rows[rows["indicator"].map(lambda c: INDICATORS[c].monthly)]
    windows = monthly.dropna(subset=["window_end"])
    if not windows.empty:
        notes.append(html.P(t("home.cost_window", lang, start=windows["window_start"].iloc[0],
                              end=windows["window_end"].iloc[0]), className="note"))
    return [html.Div(cards, className="stat-grid"), *notes]


def census_figure(census: pd.DataFrame, lang: str) -> go.Figure:
    """Each ward's daily census over the last months, a line a ward."""
    name = "name_zh" if lang == "zh" else "name_en"
    fig = go.Figure()
    for _ward, g in census.groupby("ward_id", sort=True):
        fig.add_scatter(x=g["day"].astype(str), y=g["census"], mode="lines", name=g[name].iloc[0])
    fig.update_xaxes(tickformat="%m-%d", nticks=6)
    fig.update_layout(height=280, margin={"l": 8, "r": 8, "t": 8, "b": 8}, legend={"orientation": "h", "y": -0.15})
    return fig


def group_margin_figure(groups: pd.DataFrame, lang: str) -> go.Figure:
    """The medical groups' DRG margin in 万元, worst first; a loss hatched and in the bad colour."""
    name = "name_zh" if lang == "zh" else "name_en"
    ranked = groups.sort_values("drg_margin", kind="stable")
    margin_ind = INDICATORS["drg_margin"]
    verdicts = [judge_change(margin_ind, v, None, scale=1e-4, decimals=1) for v in ranked["drg_margin"]]
    # the amount beside the name, not on the bar, where the loss hatching would hide it
    labels = [f"{n}  {v / 10_000:+,.1f}" for n, v in zip(ranked[name], ranked["drg_margin"], strict=True)]
    fig = go.Figure(go.Bar(y=labels, x=ranked["drg_margin"] / 10_000, orientation="h",
                           marker={"color": [DESK.color(v) for v in verdicts],
                                   "pattern": {"shape": ["x" if v == "bad" else "" for v in verdicts]}}))
    fig.update_layout(height=max(160, 40 * len(ranked) + 40), margin={"l": 8, "r": 8, "t": 8, "b": 8})
    fig.update_yaxes(automargin=True)
    return fig


def alerts_list(df: pd.DataFrame, lang: str) -> html.Ul:
    """The department's alerts, newest first: level, indicator, deviation, date and status."""
    items = []
    for r in df.itertuples():
        ind = INDICATORS.get(r.indicator)
        items.append(html.Li([html.Span(t(f"level.{r.level}", lang), className=f"badge lvl-badge lvl-{r.level}"), " ",
                              f"{ind.name(lang) if ind else r.indicator} "
                              + format_deviation(r.observed, r.expected, r.deviation, ind.unit if ind else "", lang,
                                                 kind=r.kind)
                              + f" · {r.period_end} · ",
                              html.Span(t(f"status.{r.status}", lang), className="text-muted")]))
    return html.Ul(items, className="dw-alerts")


def discipline_export_frame(df: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, list[str]]:
    """The discipline table as exported (headers in the reader's language, a unit column) and the
    value columns' headers (each row in its indicator's unit)."""
    heads = {"indicator": t("dw.t.indicator", lang), "value": t("dw.this", lang),
             "hospital": t("dw.hospital", lang), "year_ago": t("dw.last_year", lang)}
    out = df.assign(indicator=[INDICATORS[c].name(lang) for c in df["indicator"]],
                    unit=[UNITS[INDICATORS[c].unit][0 if lang == "zh" else 1] for c in df["indicator"]])
    out = out[["indicator", "unit", "value", "hospital", "year_ago"]].rename(columns={**heads,
                                                                                   "unit": t("export.unit", lang)})
    return out, [heads[k] for k in ("value", "hospital", "year_ago")]


def indicator_export_frame(df: pd.DataFrame, codes: Sequence[str], key: str, label: str, lang: str) -> pd.DataFrame:
    """Wards or groups as exported: the code, the name in the reader's language, one column an indicator."""
    name = "name_zh" if lang == "zh" else "name_en"
    return df.assign(name=df[name])[[key, "name", *codes]].rename(
        columns={**{c: INDICATORS[c].name(lang) for c in codes}, "name": label, key: t(f"export.{key}", lang)})
