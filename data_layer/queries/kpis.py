"""Indicator values at any level and period, with their comparison periods.

One SQL query per (source, date window) computes every measure the requested
indicators need; the registry's formulas then combine those few aggregated rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..errors import UserError
from ..periods import Grain, Period, add_months, check_within, month_end
from ..registry import MEASURES, Indicator, Level, MeasureContext, parse_indicators
from ..scope import Scope
from ..sources import SOURCES, Filters, build_select
from ..warehouse import Warehouse, memoized
from .names import level_names

Window = tuple[date, date] | None


def monthly_window(period: Period, closed_through: date | None) -> Window:
    """The whole months inside `period` that have monthly facts; None when there are none."""
    first = period.start if period.start.day == 1 else add_months(period.start.replace(day=1), 1)
    last_end = month_end(period.end) if period.end == month_end(period.end) else period.end.replace(day=1) - timedelta(days=1)
    if closed_through is not None:
        last_end = min(last_end, closed_through)
    if closed_through is None or last_end < first:
        return None
    return first, last_end


def _check_request(indicators: Sequence[Indicator], level: Level, grain: Grain | None) -> None:
    for ind in indicators:
        if level not in ind.levels:
            levels = ", ".join(lv.value for lv in Level if lv in ind.levels)
            raise UserError(f"indicator {ind.code} is not available at level {level.value} (available: {levels})")
        if ind.monthly and grain in ("day", "week"):
            raise UserError(f"indicator {ind.code} is built on monthly figures: use grain month, quarter or year")


def _grain_start(frame: pd.DataFrame, grain: Grain | None) -> pd.Series | None:
    if grain is None or frame.empty:
        return None
    if grain == "day":
        return pd.to_datetime(frame["g_date"]).dt.date
    if grain == "month":
        return pd.to_datetime(frame["g_month_start"]).dt.date
    if grain == "week":
        return pd.Series([date.fromisocalendar(int(y), int(w), 1) for y, w in zip(frame["g_iso_year"], frame["g_iso_week"],
                                                                                  strict=True)], index=frame.index)
    if grain == "quarter":
        return pd.Series([date(int(y), 3 * int(q) - 2, 1) for y, q in zip(frame["g_year"], frame["g_quarter"], strict=True)],
                         index=frame.index)
    return pd.Series([date(int(y), 1, 1) for y in frame["g_year"]], index=frame.index)


@memoized
def indicator_values(
    wh: Warehouse,
    scope: Scope,
    codes: tuple[str, ...],
    period: Period,
    level: Level = Level.hospital,
    filters: Filters = Filters(),
    grain: Grain | None = None,
) -> pd.DataFrame:
    """Long table: key, name_zh, name_en, [period_start], indicator, value, window_start, window_end."""
    indicators = parse_indicators(list(codes))
    _check_request(indicators, level, grain)
    fresh = wh.freshness()
    check_within(period, fresh.first_date, fresh.data_through)
    ctx = MeasureContext(level=level, closed_total=scope.covers_whole_campuses)
    plain: Window = (period.start, period.end)
    mwin = monthly_window(period, fresh.months_closed_through)

    # (source, window) -> measures; indicator -> its (source, window) requests
    requests: dict[tuple[str, Window], set[str]] = defaultdict(set)
    plan: dict[str, list[tuple[str, Window]]] = {}
    for ind in indicators:
        window = mwin if ind.monthly else plain
        plan[ind.code] = []
        for m in ind.measures:
            src = MEASURES[m].source
            w = None if SOURCES[src].date_col is None else window
            requests[(src, w)].add(m)
            plan[ind.code].append((src, w))

    frames: dict[tuple[str, Window], pd.DataFrame] = {}
    for (src, window), measures in requests.items():
        source = SOURCES[src]
        if window is None and source.date_col is not None:
            frames[(src, window)] = pd.DataFrame(columns=["key", *sorted(measures)])
            continue
        ms = sorted(measures)
        needs = frozenset().union(*(MEASURES[m].needs for m in ms))
        src_grain = grain if source.date_col is not None else None
        stmt = build_select(source, level, [MEASURES[m].sql(ctx).label(m) for m in ms], needs=needs,
                            scope_clause=scope.clause(), filters=filters, window=window, grain=src_grain)
        df = wh.frame(stmt)
        for m in ms:
            df[m] = pd.to_numeric(df[m], errors="coerce").astype(float)
        if level == Level.hospital:
            df["key"] = "all"
        start = _grain_start(df, src_grain)
        if start is not None:
            df["period_start"] = start
        frames[(src, window)] = df.drop(columns=[c for c in df.columns if c.startswith("g_")])

    on = ["key"] + (["period_start"] if grain else [])
    out = []
    for ind in indicators:
        if ind.monthly and mwin is None:
            continue  # no whole closed month in the period: no figure, rather than a misleading zero
        merged: pd.DataFrame | None = None
        # dated sources first, so undated ones (floor area, device value) join onto their periods
        for req in sorted(dict.fromkeys(plan[ind.code]), key=lambda r: (SOURCES[r[0]].date_col is None, r[0])):
            df = frames[req]
            cols = [c for c in df.columns if c in ind.measures or c in on]
            part = df[cols]
            if SOURCES[req[0]].date_col is None:  # attributes (floor area, device value) never add members
                merged = part if merged is None else merged.merge(part, on="key", how="left")
                continue
            merged = part if merged is None else merged.merge(part, on=[c for c in on if c in part.columns and
                                                                        c in merged.columns], how="outer")
        assert merged is not None
        merged = merged.dropna(subset=["key"])
        if merged.empty:
            continue
        for m in ind.measures:
            if m not in merged.columns:
                merged[m] = np.nan
        merged[list(ind.measures)] = merged[list(ind.measures)].fillna(0.0)
        win = mwin if ind.monthly else plain
        rows = merged[on].copy()
        rows["indicator"] = ind.code
        rows["value"] = ind.evaluate(merged).astype(float).replace([np.inf, -np.inf], np.nan).to_numpy()
        rows["window_start"] = win[0] if win else None
        rows["window_end"] = win[1] if win else None
        out.append(rows)
    cols = ["key", "name_zh", "name_en", *(["period_start"] if grain else []), "indicator", "value",
            "window_start", "window_end"]
    if not out:
        return pd.DataFrame(columns=cols)
    result = pd.concat(out, ignore_index=True)
    result["key"] = result["key"].astype(str)
    names = level_names(wh, scope, level)
    result = result.merge(names, on="key", how="left")
    result["name_zh"] = result["name_zh"].fillna(result["key"])
    result["name_en"] = result["name_en"].fillna(result["key"])
    sort = ["indicator", "key", *(["period_start"] if grain else [])]
    return result.sort_values(sort, kind="stable")[cols].reset_index(drop=True)


def comparison_periods(period: Period, data_through: date | None) -> tuple[Period, Period, Period]:
    """(current, previous, year ago), the current clipped to the last day with data."""
    current = period
    if data_through is not None and period.end > data_through >= period.start:
        current = Period(period.start, data_through, period.kind)
    return current, current.previous(), current.year_ago()


@memoized
def compare(
    wh: Warehouse,
    scope: Scope,
    codes: tuple[str, ...],
    period: Period,
    level: Level = Level.hospital,
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Values for the period with month-on-month and year-on-year comparisons.

    Columns: key, name_zh, name_en, indicator, value, previous, year_ago, mom, yoy
    (mom and yoy are relative changes; for ratio indicators read them with the
    absolute differences mom_diff and yoy_diff).
    """
    fresh = wh.freshness()
    current, prev, ago = comparison_periods(period, fresh.data_through)
    now = indicator_values(wh, scope, codes, current, level, filters)
    cols = ["key", "indicator"]

    def other(p: Period, name: str) -> pd.DataFrame:
        try:
            df = indicator_values(wh, scope, codes, p, level, filters)
        except UserError:  # a comparison period before the data starts
            return pd.DataFrame(columns=[*cols, name])
        return df[[*cols, "value"]].rename(columns={"value": name})

    out = now.merge(other(prev, "previous"), on=cols, how="left").merge(other(ago, "year_ago"), on=cols, how="left")
    for name, base in (("mom", "previous"), ("yoy", "year_ago")):
        b = pd.to_numeric(out[base], errors="coerce").astype(float)
        v = out["value"].astype(float)
        out[f"{name}_diff"] = v - b
        out[name] = (v - b) / b.abs().where(b != 0, np.nan)
    out["period"] = current.label
    out["previous_period"] = prev.label
    out["year_ago_period"] = ago.label
    return out
