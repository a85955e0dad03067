"""Landing-page pieces: freshness line, structure and KPI cards."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from dash import html

from data_layer.periods import Period
from data_layer.registry import INDICATORS, Indicator

from .format import format_change, format_indicator, format_points
from .i18n import t
from .palette import judge_change, trend_class
from .quality import quality_mark

if TYPE_CHECKING:  # a type only: components never reach the warehouse
    from data_layer.warehouse import Freshness

HEADLINE = ("outpatient_visits", "discharges", "surgeries", "revenue_total", "alos", "bed_occupancy", "cmi",
            "drug_share", "material_share", "margin")


def year_to_date(data_through) -> Period:
    return Period(data_through.replace(month=1, day=1), data_through)


def headline_order(rows: pd.DataFrame) -> pd.DataFrame:
    """compare() rows in the HEADLINE order."""
    present = set(rows["indicator"])
    return rows.set_index("indicator").loc[[c for c in HEADLINE if c in present]].reset_index()


def freshness_line(fresh: Freshness, lang: str, quality: bool = False) -> html.P:
    """The data-freshness stamp; `quality`: the latest data-quality run found something red in what
    the page shows, marked beside it (a link to the data-quality page)."""
    mark = [quality_mark(lang)] if quality else []
    if fresh.data_through is None:
        return html.P([t("fresh.none", lang), *mark], className="freshness text-warning")
    loaded = fresh.loaded_at.strftime("%Y-%m-%d %H:%M") if fresh.loaded_at else "—"
    return html.P([f"{t('fresh.through', lang, through=fresh.data_through)} · {t('fresh.loaded', lang, loaded=loaded)}",
                   *mark], className="freshness", id="freshness")


def structure_cards(counts: dict[str, int], lang: str) -> html.Section:
    keys = ("campuses", "clinical_departments", "open_beds", "medical_groups", "doctors", "devices")
    cards = [html.Div([html.Div(f"{counts[k]:,}", className="stat-value"),
                       html.Div(t(f"home.{k}", lang), className="stat-label")], className="stat-card") for k in keys]
    return html.Section([html.H2(t("home.structure", lang)), html.Div(cards, className="stat-grid")])


def _trend_class(ind: Indicator, row: Any) -> str:
    """The shared rule for good and bad (components/palette.py) on the change as it is shown:
    percentage points for a ratio, a relative change otherwise (0.0 at that precision is grey)."""
    change = row.yoy_diff if ind.unit == "ratio" else row.yoy
    return trend_class(judge_change(ind, change, row.value))


def kpi_cards(df: pd.DataFrame, period: Period, lang: str, heading: bool = True) -> html.Section:
    """One card per indicator: value and year-on-year change, coloured by whether it is good."""
    cards = []
    windows = []
    for row in df.itertuples():
        ind = INDICATORS[row.indicator]
        yoy = row.yoy
        # a ratio changes in percentage points; anything else by a relative change
        change = format_points(row.yoy_diff, lang) if ind.unit == "ratio" else format_change(yoy)
        cards.append(html.Div([
            html.Div(ind.name(lang), className="stat-label"),
            html.Div(format_indicator(row.value, ind.unit, lang), className="stat-value"),
            html.Div(f"{t('home.yoy', lang)} {change}" if yoy == yoy else t("home.no_yoy", lang),
                     className=f"stat-change {_trend_class(ind, row)}"),
        ], className="stat-card", id={"type": "kpi-card", "index": ind.code}))
        if ind.monthly and row.window_end is not None:
            windows.append((row.window_start, row.window_end))
    parts = [html.H2(t("home.ytd", lang, start=period.start, end=period.end))] if heading else []
    parts.append(html.Div(cards, className="stat-grid"))
    if windows:
        parts.append(html.P(t("home.cost_window", lang, start=windows[0][0], end=windows[0][1]), className="note"))
    return html.Section(parts)
