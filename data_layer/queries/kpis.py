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
    result = values_of_periods(wh, scope, codes, (period,), level, filters, grain)[0]
    if isinstance(result, UserError):
        raise result
    return result


def values_of_periods(wh: Warehouse, scope: Scope, codes: tuple[str, ...], periods: tuple[Period, ...],
                       level: Level, filters: Filters, grain: Grain | None) -> list[pd.DataFrame | UserError]:
    """`indicator_values` for several periods at once: each source is read in one round trip for
    all the periods (a UNION ALL of one aggregate per period), so a comparison of three periods
    costs one query per source, not three. A period outside the data gives its UserError in
    its place."""
    indicators = parse_indicators(list(codes))
    _check_request(indicators, level, grain)
    fresh = wh.freshness()
    ctx = MeasureContext(level=level, closed_total=scope.covers_whole_campuses)

    plans: list[tuple[Window, Window, dict[str, list[tuple[str, Window]]]] | UserError] = []
    requests: dict[tuple[str, Window], set[str]] = defaultdict(set)  # (source, window) -> measures
    for period in periods:
        try:
            check_within(period, fresh.first_date, fresh.data_through)
        except UserError as exc:
            plans.append(exc)
            continue
        plain: Window = (period.start, period.end)
        mwin = monthly_window(period, fresh.months_closed_through)
        plan: dict[str, list[tuple[str, Window]]] = {}
        for ind in indicators:
            window = mwin if ind.monthly else plain
            plan[ind.code] = []
            for m in ind.measures:
                src = MEASURES[m].source
                w = None if SOURCES[src].date_col is None else window
                requests[(src, w)].add(m)
                plan[ind.code].append((src, w))
        plans.append((plain, mwin, plan))

    frames = _fetch(wh, scope, level, filters, grain, ctx, requests)
    names = None
    out: list[pd.DataFrame | UserError] = []
    for item in plans:
        if isinstance(item, UserError):
            out.append(item)
            continue
        plain, mwin, plan = item
        df = _assemble(indicators, plan, frames, plain, mwin, grain)
        if not df.empty:
            if names is None:
                names = level_names(wh, scope, level)
            df = df.merge(names, on="key", how="left")
            df["name_zh"] = df["name_zh"].fillna(df["key"])
            df["name_en"] = df["name_en"].fillna(df["key"])
            sort = ["indicator", "key", *(["period_start"] if grain else [])]
            df = df.sort_values(sort, kind="stable")
        cols = ["key", "name_zh", "name_en", *(["period_start"] if grain else []), "indicator", "value",
                "window_start", "window_end"]
        out.append(df.reindex(columns=cols).reset_index(drop=True) if not df.empty else pd.DataFrame(columns=cols))
    return out


def _fetch(wh: Warehouse, scope: Scope, level: Level, filters: Filters, grain: Grain | None, ctx: MeasureContext,
           requests: dict[tuple[str, Window], set[str]]) -> dict[tuple[str, Window], pd.DataFrame]:
    """Every requested (source, window) as a frame of key [, period_start] and measures; one
    round trip per source."""
    from sqlalchemy import Integer, literal, union_all

    by_source: dict[str, list[Window]] = defaultdict(list)
    for (src, window) in requests:
        by_source[src].append(window)
    frames: dict[tuple[str, Window], pd.DataFrame] = {}
    for src, windows in by_source.items():
        source = SOURCES[src]
        measures = sorted(set().union(*(requests[(src, w)] for w in windows)))
        live = [w for w in windows if not (w is None and source.date_col is not None)]
        for w in windows:
            if w is None and source.date_col is not None:  # no whole closed month: nothing to read
                frames[(src, w)] = pd.DataFrame(columns=["key", *measures])
        if not live:
            continue
        needs = frozenset().union(*(MEASURES[m].needs for m in measures))
        src_grain = grain if source.date_col is not None else None
        selects = [build_select(source, level, [literal(i, Integer).label("w_index"),
                                                *[MEASURES[m].sql(ctx).label(m) for m in measures]],
                                needs=needs, scope_clause=scope.clause(), filters=filters, window=w, grain=src_grain)
                   for i, w in enumerate(live)]
        df = wh.frame(selects[0] if len(selects) == 1 else union_all(*selects))
        for m in measures:
            df[m] = pd.to_numeric(df[m], errors="coerce").astype(float)
        if level == Level.hospital:
            df["key"] = "all"
        start = _grain_start(df, src_grain)
        if start is not None:
            df["period_start"] = start
        df = df.drop(columns=[c for c in df.columns if c.startswith("g_")])
        index = pd.to_numeric(df["w_index"]).astype(int) if len(df) else df["w_index"]
        for i, w in enumerate(live):
            part = df[index == i].drop(columns=["w_index"]).reset_index(drop=True)
            frames[(src, w)] = part
    return frames


def _assemble(indicators: list[Indicator], plan: dict[str, list[tuple[str, Window]]],
              frames: dict[tuple[str, Window], pd.DataFrame], plain: Window, mwin: Window,
              grain: Grain | None) -> pd.DataFrame:
    """The indicators' values for one period from the fetched measures.

    The measures of every source are joined once per kind of window (the period's days; its
    closed months), with a column per source saying where it has members; an indicator takes
    the rows where one of its own dated sources has a member, as if joined alone."""
    on = ["key"] + (["period_start"] if grain else [])
    wides: dict[bool, tuple[pd.DataFrame, dict[tuple[str, Window], str]] | None] = {}
    for monthly in (False, True):
        if monthly and mwin is None:
            continue
        reqs = [r for ind in indicators if ind.monthly == monthly for r in plan[ind.code]]
        if reqs:
            wides[monthly] = _wide(frames, list(dict.fromkeys(reqs)), on)
    out = []
    for ind in indicators:
        if ind.monthly and mwin is None:
            continue  # no whole closed month in the period: no figure, rather than a misleading zero
        dated = [r for r in dict.fromkeys(plan[ind.code]) if SOURCES[r[0]].date_col is not None]
        wide = wides.get(ind.monthly)
        if not dated or wide is None:  # attributes only: join them alone
            reqs = tuple(sorted(dict.fromkeys(plan[ind.code]), key=lambda r: r[0]))
            merged = _join(frames, reqs, on)
        else:
            frame, present = wide
            mask = frame[[present[r] for r in dated]].any(axis=1)
            merged = frame[mask] if not mask.all() else frame
        if merged is None or merged.empty:
            continue
        missing = [m for m in ind.measures if m not in merged.columns]
        if missing:
            merged = merged.assign(**dict.fromkeys(missing, 0.0))
        win = mwin if ind.monthly else plain
        rows = merged[on].copy()
        rows["indicator"] = ind.code
        rows["value"] = ind.evaluate(merged).astype(float).replace([np.inf, -np.inf], np.nan).to_numpy()
        rows["window_start"] = win[0] if win else None
        rows["window_end"] = win[1] if win else None
        out.append(rows)
    if not out:
        return pd.DataFrame()
    result = pd.concat(out, ignore_index=True)
    result["key"] = result["key"].astype(str)
    return result


def _wide(frames: dict[tuple[str, Window], pd.DataFrame], reqs: list[tuple[str, Window]],
          on: list[str]) -> tuple[pd.DataFrame, dict[tuple[str, Window], str]] | None:
    """Every dated (source, window) outer-joined on the key [and period], undated attributes
    added where they apply, missing measures as zero, and a presence column per dated source;
    None when no dated source has a member."""
    dated = sorted((r for r in reqs if SOURCES[r[0]].date_col is not None), key=lambda r: r[0])
    undated = sorted((r for r in reqs if SOURCES[r[0]].date_col is None), key=lambda r: r[0])
    merged: pd.DataFrame | None = None
    present: dict[tuple[str, Window], str] = {}
    for i, req in enumerate(dated):
        flag = f"_present_{i}"
        present[req] = flag
        df = frames[req].assign(**{flag: True})
        merged = df if merged is None else merged.merge(df, on=[c for c in on if c in df.columns and c in merged.columns],
                                                        how="outer")
    if merged is None:
        return None
    merged = merged.dropna(subset=["key"])
    if merged.empty:
        return None
    for req in undated:  # attributes (floor area, device value) never add members
        merged = merged.merge(frames[req], on="key", how="left")
    flags = list(present.values())
    merged[flags] = merged[flags].fillna(False).astype(bool)
    measures = [c for c in merged.columns if c not in on and c != "key" and c not in flags]
    merged[measures] = merged[measures].fillna(0.0)
    return merged.reset_index(drop=True), present


def _join(frames: dict[tuple[str, Window], pd.DataFrame], reqs: tuple[tuple[str, Window], ...],
          on: list[str]) -> pd.DataFrame | None:
    """The measures of several (source, window) frames side by side: every member of any dated
    source (outer join), attributes of undated sources added where they apply, missing measures
    as zero; None when no source has a member."""
    merged: pd.DataFrame | None = None
    for req in reqs:
        df = frames[req]
        if SOURCES[req[0]].date_col is None:  # attributes (floor area, device value) never add members
            part = df
            merged = part if merged is None else merged.merge(part, on="key", how="left")
            continue
        merged = df if merged is None else merged.merge(df, on=[c for c in on if c in df.columns and c in merged.columns],
                                                        how="outer")
    assert merged is not None
    merged = merged.dropna(subset=["key"])
    if merged.empty:
        return None
    measures = [c for c in merged.columns if c not in on and c != "key"]
    merged[measures] = merged[measures].fillna(0.0)
    return merged


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
    now, before, last_year = values_of_periods(wh, scope, codes, (current, prev, ago), level, filters, None)
    if isinstance(now, UserError):
        raise now
    cols = ["key", "indicator"]

    def other(df: pd.DataFrame | UserError, name: str) -> pd.DataFrame:
        if isinstance(df, UserError):  # a comparison period before the data starts
            return pd.DataFrame(columns=[*cols, name])
        return df[[*cols, "value"]].rename(columns={"value": name})

    out = now.merge(other(before, "previous"), on=cols, how="left").merge(other(last_year, "year_ago"), on=cols,
                                                                              how="left")
    for name, base in (("mom", "previous"), ("yoy", "year_ago")):
        b = pd.to_numeric(out[base], errors="coerce").astype(float)
        v = out["value"].astype(float)
        out[f"{name}_diff"] = v - b
        out[name] = (v - b) / b.abs().where(b != 0, np.nan)
    out["period"] = current.label
    out["previous_period"] = prev.label
    out["year_ago_period"] = ago.label
    return out
