"""Annual targets against the year so far: pace, deviation, projection and status.

- A target on a **sum** (visits, discharges, revenue, balance…) is pro-rated to the time elapsed:
  by working days for volumes (the registry's `volume` flag), by calendar days for other daily
  sums, and by closed months for sums built on monthly facts (cost, balance).
- A target on a **level** (average stay, CMI, shares) is not pro-rated: the year-to-date level is
  set against it, and is its own projection.
- The projection of a sum to the year end divides the actual by the share of the year's total
  that the same part of the year held in past years (up to three, the seasonal pattern); with no
  history it uses the elapsed share (the run rate).
- Status respects direction: on track when the projection meets the target, at risk within
  AT_RISK_BAND of it, off track beyond; a target of zero has no relative gap.
"""
from __future__ import annotations

import math
from dataclasses import astuple
from datetime import date

import pandas as pd
from sqlalchemy import select

from ..errors import UserError
from ..periods import Period, month_end
from ..registry import INDICATORS, Level
from ..schema import fact_target_annual
from ..scope import Scope, scoped
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .kpis import indicator_values, values_of_periods
from .pace import Elapsed, elapsed, is_sum, pace_basis, pace_curve, target_pace, working_days  # noqa: F401 - the pacing rule (data_layer/queries/pace.py), importable from here as before

AT_RISK_BAND = 0.05  # within 5% of the target (relative to its size): at risk
HISTORY_YEARS = 3
STATUSES = ("on_track", "at_risk", "off_track")


def assess(target: float, projection: float, higher_is_better: bool | None,
           band: float = AT_RISK_BAND) -> str:
    """on_track / at_risk / off_track for a projection against a target, in the good direction.

    The gap is relative to the target's size, so a negative target (a planned loss) works too;
    a target of zero is met exactly or not at all."""
    if projection is None or math.isnan(projection):
        return "off_track"
    good = higher_is_better is not False
    if target == 0:
        ok = projection >= 0 if good else projection <= 0
        return "on_track" if ok else "off_track"
    gap = (projection - target) / abs(target)
    if higher_is_better is None:
        return "on_track" if abs(gap) <= band else "at_risk"
    gap = gap if good else -gap
    if gap >= 0:
        return "on_track"
    return "at_risk" if gap >= -band else "off_track"


def project(actual: float, seasonal_shares: list[float], elapsed: float) -> float:
    """Year-end projection of a sum: actual over the share of the year it usually represents by
    now (the mean of past years' shares), or over the elapsed share when there is no history."""
    shares = [s for s in seasonal_shares if s is not None and s > 0 and math.isfinite(s)]
    share = sum(shares) / len(shares) if shares else elapsed
    return actual / share if share > 0 else float("nan")


@memoized
def targets(wh: Warehouse, scope: Scope, dept_id: str, year: int) -> pd.DataFrame:
    """The department's annual targets for `year` (indicator, target), registry codes only."""
    t = fact_target_annual.c
    stmt = select(t.indicator_code, t.target_value).where(t.dept_id == dept_id, t.year == year)
    stmt = scoped(stmt, scope)
    df = wh.frame(stmt).rename(columns={"indicator_code": "indicator", "target_value": "target"})
    df["target"] = pd.to_numeric(df["target"]).astype(float)
    return df[df["indicator"].isin(INDICATORS.keys())].reset_index(drop=True)


@memoized
def target_progress(wh: Warehouse, scope: Scope, dept_id: str, through: date) -> pd.DataFrame:
    """One row per target of the department for the year of `through`:
    indicator, target, actual, basis (workdays | days | months | level), elapsed, expected (the
    target pro-rated to `elapsed`; the target itself for a level), deviation (actual - expected),
    deviation_rel, projection, status, history_years (past years in the seasonal pattern)."""
    df = targets_progress(wh, scope, (dept_id,), through)
    return df.drop(columns=["dept_id"]).reset_index(drop=True)


PROGRESS_COLUMNS = ["dept_id", "indicator", "target", "actual", "basis", "elapsed", "expected", "deviation",
                    "deviation_rel", "projection", "status", "history_years"]


@memoized
def targets_progress(wh: Warehouse, scope: Scope, dept_ids: tuple[str, ...], through: date) -> pd.DataFrame:
    """`target_progress` for several departments at once, with a dept_id column: the same few
    queries whatever the number of departments (one per source and period, not per department)."""
    t = fact_target_annual.c
    stmt = scoped(select(t.dept_id, t.indicator_code, t.target_value)
                  .where(t.dept_id.in_(sorted(dept_ids)), t.year == through.year), scope).order_by(
        t.dept_id, t.indicator_code)
    goals = wh.frame(stmt).rename(columns={"indicator_code": "indicator", "target_value": "target"})
    goals = goals[goals["indicator"].isin(INDICATORS.keys())]
    if goals.empty:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    goals["target"] = pd.to_numeric(goals["target"]).astype(float)
    fresh = wh.freshness()
    codes = tuple(sorted(set(goals["indicator"])))
    depts = tuple(sorted(set(goals["dept_id"])))
    filters = Filters(department=depts)
    ytd = Period(date(through.year, 1, 1), through)
    now = _by_member(indicator_values(wh, scope, codes, ytd, Level.department, filters))
    share = elapsed(wh, through, fresh.months_closed_through)
    past = _seasonal_shares(wh, scope, codes, filters, through, fresh.first_date)
    rows = []
    for g in goals.itertuples():
        ind = INDICATORS[g.indicator]
        actual = float(now.get((g.dept_id, g.indicator), float("nan")))
        basis, frac, expected = astuple(target_pace(ind, g.target, share))  # the chart's pace too
        if basis != "level":
            shares = past.get((g.dept_id, g.indicator), [])
            projection = project(actual, shares, frac) if frac > 0 else float("nan")
        else:
            shares, projection = [], actual
        deviation = actual - expected
        rel = deviation / abs(expected) if expected else float("nan")
        rows.append((g.dept_id, g.indicator, g.target, actual, basis, frac, expected, deviation, rel, projection,
                     assess(g.target, projection, ind.higher_is_better), len(shares)))
    out = pd.DataFrame(rows, columns=PROGRESS_COLUMNS)
    order = {c: i for i, c in enumerate(INDICATORS)}  # the registry's order: volumes, efficiency, revenue …
    out["_o"] = out["indicator"].map(order)
    return out.sort_values(["dept_id", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _seasonal_shares(wh: Warehouse, scope: Scope, codes: tuple[str, ...], filters: Filters, through: date,
                     first: date | None) -> dict[tuple[str, str], list[float]]:
    """For each department and sum indicator: in each of the past years with a whole year of data,
    the share of the year's total reached by the same day (or, for monthly facts, the same closed
    month). The years' parts and wholes are read together: one round trip per source."""
    sums = tuple(c for c in codes if is_sum(INDICATORS[c].formula))
    out: dict[tuple[str, str], list[float]] = {}
    years = [through.year - back for back in range(1, HISTORY_YEARS + 1)
             if first is not None and date(through.year - back, 1, 1) >= first]
    if not sums or not years:
        return out
    periods = []
    for y in years:
        periods += [Period(date(y, 1, 1), _same_day(through, y)), Period(date(y, 1, 1), date(y, 12, 31))]
    got = values_of_periods(wh, scope, sums, tuple(periods), Level.department, filters, None)
    for i, _y in enumerate(years):
        part, whole = got[2 * i], got[2 * i + 1]
        if isinstance(part, UserError) or isinstance(whole, UserError) or part.empty or whole.empty:
            continue
        p = _by_member(part)
        for key, whole_value in _by_member(whole).items():
            if key in p and whole_value and math.isfinite(whole_value):
                out.setdefault(key, []).append(p[key] / whole_value)
    return out


def _by_member(values: pd.DataFrame) -> dict[tuple[str, str], float]:
    """indicator_values' rows as (key, indicator) -> value, for lookups one at a time."""
    return {(k, c): float(v) for k, c, v in zip(values["key"], values["indicator"], values["value"], strict=True)}


def _same_day(d: date, year: int) -> date:
    """The same month and day in another year (28 February for 29 February)."""
    return d.replace(year=year) if not (d.month == 2 and d.day == 29) else month_end(date(year, 2, 1))
