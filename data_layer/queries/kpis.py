"""Indicator values at any level and period, with their comparison periods.

One SQL query per (source, date window) computes every measure the requested
indicators need; the registry's formulas then combine those few aggregated rows.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BindParameter, Integer, Select, bindparam, func, literal, select, union_all

from ..arrays import divide, driver_floats
from ..errors import UserError
from ..lru import Lru
from ..periods import Grain, Period, add_months, as_date, check_within, month_end, shift_year
from ..registry import INDICATORS, MEASURES, Indicator, Level, MeasureContext, parse_indicators
from ..scope import Scope, scope_ids, scoped
from ..sources import SOURCES, Filters, Source, build_select
from ..summaries import monthly_summary_for, split_window, summary_for
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


def _grain_start(columns: dict[str, Sequence], grain: Grain | None) -> list[date | None] | None:
    """Each row's period start, from a statement's grain columns (`columns`: name -> values)."""
    if grain is None:
        return None
    if grain == "day":
        return [as_date(d) for d in columns["g_date"]]
    if grain == "month":
        return [as_date(d) for d in columns["g_month_start"]]
    if grain == "week":
        return [date.fromisocalendar(int(y), int(w), 1) for y, w in zip(columns["g_iso_year"], columns["g_iso_week"],
                                                                         strict=True)]
    if grain == "quarter":
        return [date(int(y), 3 * int(q) - 2, 1) for y, q in zip(columns["g_year"], columns["g_quarter"], strict=True)]
    return [date(int(y), 1, 1) for y in columns["g_year"]]


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
    its place.

    An indicator that needs a part of contract version 2 the warehouse does not hold
    (`Warehouse.capabilities`) has no rows: `unavailable(wh, codes)` names it, and a page says
    "not available in this warehouse" instead of showing a zero. A growth indicator
    (`Indicator.growth_of`) is its formula over the period against the same days a year earlier."""
    indicators = parse_indicators(list(codes))
    _check_request(indicators, level, grain)
    lacking = set(unavailable(wh, codes))
    indicators = [i for i in indicators if i.code not in lacking]
    growth = [i.code for i in indicators if i.growth_of is not None]
    out = _values_of_periods(wh, scope, indicators, periods, level, filters, grain)
    if not growth:
        return out
    through = wh.freshness().data_through
    before = _values_of_periods(wh, scope, [INDICATORS[c] for c in growth],
                                tuple(comparison_periods(p, through)[2] for p in periods), level, filters, grain)
    return [_growth(now, then, set(growth), grain) if isinstance(now, pd.DataFrame) else now
            for now, then in zip(out, before, strict=True)]


def _a_year_on(d: date, grain: Grain) -> date | None:
    """The period start a year after `d`: the same ISO week for weeks (None for a 53rd week)."""
    if grain == "week":
        iso = d.isocalendar()
        try:
            return date.fromisocalendar(iso[0] + 1, iso[1], 1)
        except ValueError:
            return None
    return shift_year(d, 1)


def _growth(now: pd.DataFrame, then: pd.DataFrame | UserError, codes: set[str], grain: Grain | None) -> pd.DataFrame:
    """The growth rows of `now` (each holding its formula's value) as the change against `then`
    (the same formula a year earlier): value / value a year earlier − 1; no figure without one."""
    rows = now["indicator"].isin(codes)
    if not rows.any():
        return now
    by_period = grain is not None
    keys = ["indicator", "key", *(["period_start"] if by_period else [])]
    prev = pd.Series(dtype=float)
    if isinstance(then, pd.DataFrame) and len(then):
        t = then.copy()
        if by_period:
            t["period_start"] = [_a_year_on(pd.Timestamp(d).date(), grain) for d in t["period_start"]]
            t = t.dropna(subset=["period_start"])
        prev = t.set_index(keys)["value"].astype(float)
        prev = prev[~prev.index.duplicated()]
    idx = pd.MultiIndex.from_frame(now.loc[rows, keys]) if len(keys) > 1 else now.loc[rows, keys[0]]
    base = prev.reindex(idx).to_numpy(dtype=float) if len(prev) else np.full(int(rows.sum()), np.nan)
    cur = now.loc[rows, "value"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        now.loc[rows, "value"] = np.where(base > 0, cur / np.where(base > 0, base, 1.0) - 1, np.nan)
    return now


def unavailable(wh: Warehouse, codes: tuple[str, ...] | list[str]) -> list[str]:
    """The indicators among `codes` this warehouse cannot give: they need a part of contract
    version 2 (a column or table) that it does not hold."""
    needing = [INDICATORS[c] for c in codes if c in INDICATORS and INDICATORS[c].requires]
    if not needing:
        return []
    caps = wh.capabilities()
    return [i.code for i in needing if not caps.has(*i.requires)]


def _values_of_periods(wh: Warehouse, scope: Scope, indicators: list, periods: tuple[Period, ...],
                       level: Level, filters: Filters, grain: Grain | None) -> list[pd.DataFrame | UserError]:
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
    names: dict[str, tuple[str, str]] | None = None
    cols = ["key", "name_zh", "name_en", *(["period_start"] if grain else []), "indicator", "value",
            "window_start", "window_end"]
    out: list[pd.DataFrame | UserError] = []
    for item in plans:
        if isinstance(item, UserError):
            out.append(item)
            continue
        plain, mwin, plan = item
        got = _assemble(indicators, plan, frames, plain, mwin, grain is not None)
        if not got["key"]:
            out.append(pd.DataFrame(columns=cols))
            continue
        if names is None:
            named = level_names(wh, scope, level)
            names = dict(zip(named["key"], zip(named["name_zh"], named["name_en"], strict=True), strict=True))
        got["name_zh"] = [names[k][0] if k in names else k for k in got["key"]]
        got["name_en"] = [names[k][1] if k in names else k for k in got["key"]]
        out.append(pd.DataFrame({c: got[c] for c in cols}))  # in order of indicator, member and period (_assemble)
    return out


class _Block:
    """The measures of one (source, window): one row per member (key [, period start])."""

    __slots__ = ("rows", "cols")

    def __init__(self, rows: list[tuple], cols: dict[str, np.ndarray]):
        self.rows = rows  # (key,) or (key, period_start)
        self.cols = cols


def _fetch(wh: Warehouse, scope: Scope, level: Level, filters: Filters, grain: Grain | None, ctx: MeasureContext,
           requests: dict[tuple[str, Window], set[str]]) -> dict[tuple[str, Window], _Block]:
    """Every requested (source, window) as a block of members and measures; one round trip per
    source (two where the summaries answer only some of its measures: _summary_split), the
    sources' round trips side by side (Warehouse.gather). Members without a key (a case with no
    doctor, at the doctor level) belong to no one."""
    by_source: dict[str, list[Window]] = defaultdict(list)
    for (src, window) in requests:
        by_source[src].append(window)
    summarized = wh.use_summaries and wh.freshness().summarized
    frames: dict[tuple[str, Window], _Block] = {}
    asked: list[tuple[str, list[Window], list[str], Grain | None, Select]] = []
    for src, windows in by_source.items():
        source = SOURCES[src]
        measures = sorted(set().union(*(requests[(src, w)] for w in windows)))
        live = [w for w in windows if not (w is None and source.date_col is not None)]
        for w in windows:
            if w is None and source.date_col is not None:  # no whole closed month: nothing to read
                frames[(src, w)] = _Block([], {m: np.empty(0) for m in measures})
        if not live:
            continue
        src_grain = grain if source.date_col is not None else None
        for subset in _summary_split(src, level, filters, measures, summarized):
            asked.append((src, live, subset, src_grain,
                          _prepared(scope, level, filters, ctx, source, src_grain, live, subset, summarized, grain)))
    # the sources' statements are independent: run side by side where the backend allows
    # plain columns rather than a DataFrame per statement: about a millisecond less for each
    got = wh.gather([functools.partial(wh.rows, *prepared) for *_, prepared in asked])
    for (src, live, measures, src_grain, _), (names, fetched) in zip(asked, got, strict=True):
        columns = dict(zip(names, zip(*fetched, strict=True) if fetched else [()] * len(names), strict=True))
        if level == Level.hospital:
            keys = ["all"] * len(fetched)
        else:
            keys = [None if k is None or k != k else str(k) for k in columns["key"]]
        start = _grain_start(columns, src_grain)
        rows = [(k,) for k in keys] if start is None else list(zip(keys, start, strict=True))
        values = {m: driver_floats(columns[m]) for m in measures}
        index = driver_floats(columns["w_index"]).astype(int)
        has_key = np.array([k is not None for k in keys], dtype=bool)
        for i, w in enumerate(live):
            take = np.flatnonzero((index == i) & has_key)
            block = _Block([rows[j] for j in take], {m: v[take] for m, v in values.items()})
            frames[(src, w)] = _merged(frames[(src, w)], block) if (src, w) in frames else block
    return frames


def _merged(a: _Block, b: _Block) -> _Block:
    """One block from two reads of the same source and window (different measures, the same
    members: both read the same facts), every member once."""
    rows = list(dict.fromkeys([*a.rows, *b.rows]))
    at = {r: i for i, r in enumerate(rows)}
    cols: dict[str, np.ndarray] = {}
    for block in (a, b):
        where = np.array([at[r] for r in block.rows], dtype=int)
        for m, v in block.cols.items():
            col = cols.setdefault(m, np.full(len(rows), np.nan))
            col[where] = v
    return _Block(rows, cols)


def _summary_split(src: str, level: Level, filters: Filters, measures: list[str], summarized: bool) -> list[list[str]]:
    """The measures of one source in the reads they need: all together, or, where the summaries
    answer some and not others (a contract version 2 measure the summaries do not keep, among
    those they do), the summarized ones apart from the rest, so that one measure does not send
    every other to the facts."""
    if not summarized or summary_for(src, level, filters, measures) is not None:
        return [measures]
    kept = [m for m in measures if summary_for(src, level, filters, [m]) is not None]
    rest = [m for m in measures if m not in kept]
    return [kept, rest] if kept and rest else [measures]


# One segment of a source's statement: (w_index, read from the monthly summary, has a date window).
Segment = tuple[int, bool, bool]
STATEMENT_SHAPES = 128  # statements a process keeps built, each for one shape of request (_prepared)
_STATEMENTS = Lru(STATEMENT_SHAPES)


def _segments(live: list[Window], by_month: bool) -> list[tuple[Segment, Window]]:
    """The parts of a source's statement for the windows in `live`, each with its dates: a window
    as it is, or, where a monthly summary answers (`by_month`), its whole months apart from the
    days before and after them."""
    out: list[tuple[Segment, Window]] = []
    for i, w in enumerate(live):
        months, edges = split_window(*w) if by_month and w is not None else (None, [w])
        if months is not None:
            out.append(((i, True, True), months))
        out += [((i, False, e is not None), e) for e in edges]
    return out


def _prepared(scope: Scope, level: Level, filters: Filters, ctx: MeasureContext, source: Source,
              src_grain: Grain | None, live: list[Window], measures: list[str], summarized: bool,
              grain: Grain | None) -> tuple[Select, dict[str, Any]]:
    """The statement for `measures` of `source` over the windows in `live`, and the values to run
    it with. The statement depends on the request's shape only (the kind of scope, level, source,
    measures, grain, which filters are set and how the windows split), never on its dates, the
    scope's ids or the filters' ids, which are bound parameters: built once per shape and process
    (among the STATEMENT_SHAPES most recently used), so that another period, another department,
    ward or group, or the same answer after a new load costs neither the building (about a
    millisecond a part) nor SQLAlchemy's cache key and compilation (both memoized on the
    statement)."""
    by_month = summarized and monthly_summary_for(source.name, level, filters, measures, grain) is not None
    segments = _segments(live, by_month)
    shape = tuple(seg for seg, _ in segments)
    ids, params = scope_ids(scope)
    binds, values = filters.binds()
    params.update(values)
    fshape = filters.shape()
    key = (scope.kind, ids is not None, level, fshape, ctx, source.name, src_grain, shape, tuple(measures),
           summarized, grain)
    stmt = _STATEMENTS.get_or_make(key, lambda: _source_statement(scope, ids, level, fshape, binds, ctx, source,
                                                                  src_grain, shape, measures, summarized, grain))
    for k, (_seg, w) in enumerate(segments):
        if w is not None:
            params[f"w{k}_from"], params[f"w{k}_to"] = w
    return stmt, params


def _source_statement(scope: Scope, ids: BindParameter | None, level: Level, filters: Filters,
                      binds: dict[str, BindParameter], ctx: MeasureContext, source: Source, src_grain: Grain | None,
                      shape: tuple[Segment, ...], measures: list[str], summarized: bool, grain: Grain | None) -> Select:
    """One statement for `measures` of `source` over the segments of `shape` (a UNION ALL, tagged
    by w_index), from the summaries where they answer and from the facts otherwise; segment k's
    dates are the bound parameters w{k}_from and w{k}_to, the scope's ids `ids` (scope_ids), the
    filters' ids `binds` (Filters.binds; `filters` is their shape)."""
    src = source.name
    needs = frozenset().union(*(MEASURES[m].needs for m in measures))
    daily = summary_for(src, level, filters, measures) if summarized else None
    monthly = monthly_summary_for(src, level, filters, measures, grain) if summarized else None

    def part(src_: Source, i: int, w: tuple | None, sums: list, needs: frozenset[str] = frozenset()) -> Select:
        return scoped(build_select(src_, level, [literal(i, Integer).label("w_index"), *sums], needs=needs,
                                   filters=filters, window=w, grain=src_grain, binds=binds), scope, ids)

    facts = [MEASURES[m].sql(ctx).label(m) for m in measures]
    # the days a monthly summary does not cover: from the per-department, per-day summary, or the facts
    edge_source, edge_sums, edge_needs = ((daily, [daily.measure(m).label(m) for m in measures], frozenset())
                                          if daily is not None else (source, facts, needs))
    selects: list[Select] = []
    for k, (i, from_months, dated) in enumerate(shape):
        w = (bindparam(f"w{k}_from"), bindparam(f"w{k}_to")) if dated else None
        if from_months:  # whole months from a monthly summary
            selects.append(part(monthly, i, w, [monthly.measure(m).label(m) for m in measures]))
        else:
            selects.append(part(edge_source, i, w, edge_sums, edge_needs))
    stmt = selects[0] if len(selects) == 1 else union_all(*selects)
    if any(from_months for _i, from_months, _d in shape):  # add the parts of each window up again (sums)
        parts = stmt.subquery()
        by = [c for c in parts.c if c.name not in measures]
        stmt = select(*by, *[func.sum(parts.c[m]).label(m) for m in measures]).group_by(*by)
    return stmt


def _assemble(indicators: list[Indicator], plan: dict[str, list[tuple[str, Window]]],
              frames: dict[tuple[str, Window], _Block], plain: Window, mwin: Window,
              by_period: bool) -> dict[str, list]:
    """The indicators' values for one period from the fetched measures, as columns (key,
    [period_start], indicator, value, window_start, window_end).

    The measures of every source are joined once per kind of window (the period's days; its
    closed months), with a flag per source saying where it has members; an indicator takes
    the rows where one of its own dated sources has a member, as if joined alone."""
    wides: dict[bool, _Joined | None] = {}
    for monthly in (False, True):
        if monthly and mwin is None:
            continue
        reqs = [r for ind in indicators if ind.monthly == monthly for r in plan[ind.code]]
        if reqs:
            wides[monthly] = _join(frames, list(dict.fromkeys(reqs)))
    out: dict[str, list] = {c: [] for c in ("key", "period_start", "indicator", "value", "window_start", "window_end")}
    for ind in sorted(indicators, key=lambda i: i.code):  # listed by indicator, then member
        if ind.monthly and mwin is None:
            continue  # no whole closed month in the period: no figure, rather than a misleading zero
        dated = [r for r in dict.fromkeys(plan[ind.code]) if SOURCES[r[0]].date_col is not None]
        wide = wides.get(ind.monthly)
        if not dated or wide is None:  # attributes only: join them alone
            merged = _join(frames, sorted(dict.fromkeys(plan[ind.code]), key=lambda r: r[0]), ordered=True)
            rows, cols = (merged.rows, merged.cols) if merged is not None else ([], {})
        else:
            take = np.logical_or.reduce([wide.present[r] for r in dated])
            if take.all():
                rows, cols = wide.rows, wide.cols
            else:
                pick = np.flatnonzero(take)
                rows, cols = [wide.rows[j] for j in pick], {m: v[pick] for m, v in wide.cols.items()}
        if by_period and any(len(r) == 1 for r in rows):
            # attributes without a dated member have no period to stand in: no figure per period
            keep = [i for i, r in enumerate(rows) if len(r) > 1]
            rows, cols = [rows[i] for i in keep], {m: v[keep] for m, v in cols.items()}
        if not rows:
            continue
        n = len(rows)
        zeros = np.zeros(n)
        values = ind.evaluate({m: cols.get(m, zeros) for m in ind.measures}, n)
        values[np.isinf(values)] = np.nan
        win = mwin if ind.monthly else plain
        out["key"] += [r[0] for r in rows]
        if by_period:
            out["period_start"] += [r[1] for r in rows]
        out["indicator"] += [ind.code] * n
        out["value"].append(values)
        out["window_start"] += [win[0] if win else None] * n
        out["window_end"] += [win[1] if win else None] * n
    out["value"] = np.concatenate(out["value"]) if out["value"] else np.empty(0)
    return out


class _Joined(_Block):
    """Several blocks side by side, with a flag per dated block marking its members."""

    __slots__ = ("present",)

    def __init__(self, rows: list[tuple], cols: dict[str, np.ndarray], present: dict[tuple[str, Window], np.ndarray]):
        super().__init__(rows, cols)
        self.present = present


def _join(frames: dict[tuple[str, Window], _Block], reqs: list[tuple[str, Window]],
          ordered: bool = False) -> _Joined | None:
    """The measures of several (source, window) blocks side by side: every member of a dated
    source (an outer join), attributes of undated sources (floor area, device value) added where
    they apply but never adding members, missing measures as zero; None when there is no member.
    `ordered`: take the blocks in the given order, so that attributes met before any dated
    source give the members (an indicator of attributes alone); otherwise dated sources first."""
    if not ordered:
        reqs = (sorted((r for r in reqs if SOURCES[r[0]].date_col is not None), key=lambda r: r[0])
                + sorted((r for r in reqs if SOURCES[r[0]].date_col is None), key=lambda r: r[0]))
    members: dict[tuple, int] = {}
    joined: list[tuple[tuple[str, Window], _Block, bool]] = []  # (request, block, adds members)
    for req in reqs:
        block = frames[req]
        adds = SOURCES[req[0]].date_col is not None or not joined
        joined.append((req, block, adds))
        if adds:
            for row in block.rows:
                members.setdefault(row, len(members))
    if not members:
        return None
    # in order of member (and period start), as the values are listed: no table is sorted afterwards
    rows = sorted(members, key=_member_order)
    members = {row: i for i, row in enumerate(rows)}
    n = len(rows)
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_key[row[0]].append(i)
    cols: dict[str, np.ndarray] = {}
    present: dict[tuple[str, Window], np.ndarray] = {}
    for req, block, adds in joined:
        if adds:
            at = np.fromiter((members[r] for r in block.rows), dtype=int, count=len(block.rows))
            src = np.arange(len(block.rows))
        else:  # an attribute applies to every row of its key (each period of a department)
            pairs = [(i, j) for j, row in enumerate(block.rows) for i in by_key.get(row[0], ())]
            at = np.fromiter((i for i, _ in pairs), dtype=int, count=len(pairs))
            src = np.fromiter((j for _, j in pairs), dtype=int, count=len(pairs))
        if SOURCES[req[0]].date_col is not None:
            flag = np.zeros(n, dtype=bool)
            flag[at] = True
            present[req] = flag
        for m, v in block.cols.items():
            col = cols.setdefault(m, np.full(n, np.nan))
            col[at] = v[src]
    for col in cols.values():
        col[np.isnan(col)] = 0.0
    return _Joined(rows, cols, present)


def _member_order(row: tuple) -> tuple:
    """A member's place: by key, then period start, one without a period start last."""
    return tuple((v is None, v if v is not None else "") for v in row)


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
    with_previous: bool = True,
) -> pd.DataFrame:
    """Values for the period with month-on-month and year-on-year comparisons.

    Columns: key, name_zh, name_en, indicator, value, previous, year_ago, mom, yoy
    (mom and yoy are relative changes; for ratio indicators read them with the
    absolute differences mom_diff and yoy_diff). `with_previous=False` reads the year-ago
    comparison only (a third less to read, for the pages that show no month-on-month change):
    previous, mom and mom_diff are then empty (NaN).
    """
    return compare_periods.uncached(wh, scope, codes, (period,), level, filters, with_previous)[0]


@memoized
def compare_periods(
    wh: Warehouse,
    scope: Scope,
    codes: tuple[str, ...],
    periods: tuple[Period, ...],
    level: Level = Level.hospital,
    filters: Filters = Filters(),
    with_previous: bool = True,
) -> list[pd.DataFrame]:
    """`compare` for each of `periods`, every window of every period read at once (one statement
    per source, not one per period: the month and the year to date of a screen in one read)."""
    fresh = wh.freshness()
    windows = [comparison_periods(p, fresh.data_through) for p in periods]
    asked = tuple(w for current, prev, ago in windows for w in ((current, prev, ago) if with_previous
                                                               else (current, ago)))
    got = iter(values_of_periods(wh, scope, codes, asked, level, filters, None))
    out = []
    for current, prev, ago in windows:
        now, before = next(got), next(got) if with_previous else None
        out.append(_compared(now, before, next(got), current, prev, ago))
    return out


def _compared(now: pd.DataFrame | UserError, before: pd.DataFrame | UserError | None,
              last_year: pd.DataFrame | UserError, current: Period, prev: Period, ago: Period) -> pd.DataFrame:
    """One period's values beside its previous period's (`before`, None when not asked for) and the
    same days a year earlier: compare's columns."""
    if isinstance(now, UserError):
        raise now
    pairs = list(zip(now["key"], now["indicator"], strict=True))

    def beside(df: pd.DataFrame | UserError | None) -> np.ndarray:
        """`df`'s value for each row of `now` (NaN where it has none, or was not asked for, or its
        period lies before the data): a lookup rather than a pandas merge per comparison."""
        if df is None or isinstance(df, UserError) or df.empty:
            return np.full(len(pairs), np.nan)
        found = dict(zip(zip(df["key"], df["indicator"], strict=True), driver_floats(df["value"].to_numpy()),
                         strict=True))
        return np.array([found.get(k, np.nan) for k in pairs], dtype=float)

    value = now["value"].to_numpy(dtype=float, na_value=np.nan)
    new: dict[str, Any] = {"previous": beside(before), "year_ago": beside(last_year)}
    for name, base in (("mom", new["previous"]), ("yoy", new["year_ago"])):
        new[f"{name}_diff"] = value - base
        new[name] = divide(value - base, np.abs(base))
    new["period"] = current.label
    new["previous_period"] = prev.label
    new["year_ago_period"] = ago.label
    out = now.reset_index(drop=True)
    return pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)
