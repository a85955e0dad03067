"""Cost composition and the five-dimension cost monitoring model (成本监测模型) of one department.

- Composition (成本构成): the department's full cost by category and allocation tier
  (`department.cost_breakdown`) over the period's closed months, against the same months a
  year earlier.
- Monitoring model (五维成本监测): the registry's 18 `monitor` indicators in five dimensions
  (human resources 人力资源, equipment 设备资源, drugs and consumables 药品耗材, space and beds
  空间与床位, energy 能耗), each set against
  (a) the median of the department-level values of every clinical department of the hospital
      (a benchmark: computed over the whole hospital, but only the median leaves this module),
  (b) the department's own history: the same period a year earlier, and the trailing-year
      baseline (the indicator over the 12 whole months before the period, pooled: ratio of
      sums; pro-rated to the period's length for indicators that accrue with time),
  (c) the department's annual target, when fact_target_annual holds one (pro-rated to the
      period's length for indicators that accrue with time).
- Verdict (研判): the department's value against the median, in the registry's better
  direction: worse by more than the tolerance (default 10%) = over-used (资源超用: more of the
  resource per unit of output, or less output from it, than the median department), better
  by more than the tolerance = under-used (资源低用), otherwise in line (基本持平).
"""
from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..errors import UserError
from ..periods import Period, add_months
from ..registry import MONITOR_DIMENSIONS, Level, monitor_model
from ..scope import Scope
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .department import CATEGORIES, STAGES, cost_breakdown
from .kpis import indicator_values, values_of_periods
from .targets import targets

TOLERANCE = 0.10  # relative gap to the median beyond which a resource is over- or under-used
EPS = 1e-9
MIN_PEERS = 3  # a median of fewer clinical departments is no benchmark
BASELINE_MONTHS = 12
# indicators whose value grows with the length of the period (a flow over a stock): their
# baseline and target are pro-rated to the period's days
ACCRUING = frozenset({"bed_turnover", "revenue_per_fte", "discharges_per_doctor", "energy_per_m2", "revenue_per_m2",
                      "equipment_revenue_per_10k_value"})
VERDICTS = ("over", "in_line", "under")


def monitor_codes() -> tuple[str, ...]:
    return tuple(ind.code for inds in monitor_model().values() for ind in inds)


def shift_year(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


@memoized
def cost_composition(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> pd.DataFrame:
    """Per cost category: the tiers (direct, admin, support, medtech), total, share of the full
    cost, the same months a year earlier (last_year, last_year_share) and the change (yoy, relative;
    share_diff, in points). attrs: window, year_ago_window (None when no month is closed)."""
    now = cost_breakdown(wh, scope, dept_id, period)
    window = now.attrs.get("window")
    out = now.copy()
    out.attrs = {}
    ago_window = None
    if window is not None:
        ago_window = (shift_year(window[0], -1), shift_year(window[1], -1))
        first = wh.freshness().first_date
        if first is not None and ago_window[0] >= first.replace(day=1):
            ago = cost_breakdown(wh, scope, dept_id, Period(*ago_window))
            last = ago["total"] if ago.attrs.get("window") == ago_window else pd.Series(np.nan, index=now.index)
        else:
            last = pd.Series(np.nan, index=now.index)
            ago_window = None
    else:
        last = pd.Series(np.nan, index=now.index)
    total, total_ago = out["total"].sum(), last.sum(min_count=1)
    out["share"] = out["total"] / total if total else np.nan
    out["last_year"] = last.astype(float)
    out["last_year_share"] = last / total_ago if total_ago and total_ago == total_ago else np.nan
    out["yoy"] = (out["total"] - out["last_year"]) / out["last_year"].abs().where(out["last_year"] != 0, np.nan)
    out["share_diff"] = out["share"] - out["last_year_share"]
    out.attrs = {"window": window, "year_ago_window": ago_window}
    return out


def _days(start: object, end: object) -> float:
    if start is None or end is None or (isinstance(start, float) and math.isnan(start)):
        return float("nan")
    return float((pd.Timestamp(end) - pd.Timestamp(start)).days + 1)


def _values(wh: Warehouse, scope: Scope, codes: tuple[str, ...], period: Period, level: Level,
            filters: Filters) -> pd.DataFrame:
    try:
        return indicator_values(wh, scope, codes, period, level, filters)
    except UserError:  # a comparison period before the data starts
        return pd.DataFrame(columns=["key", "indicator", "value", "window_start", "window_end"])


@memoized
def hospital_medians(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """indicator, median, peers: the median over the clinical departments of the whole hospital
    (departments without a value, e.g. no beds or no devices, are left out; fewer than MIN_PEERS
    values give no median). Only the median and the count leave this function."""
    del scope  # a benchmark: always the whole hospital, whoever asks; the caller's scope only keys the cache
    codes = monitor_codes()
    df = _values(wh, Scope.hospital(), codes, period, Level.department, Filters(kind=("clinical",)))
    rows = []
    for code in codes:
        vals = pd.to_numeric(df.loc[df["indicator"] == code, "value"], errors="coerce").astype(float)
        vals = vals[np.isfinite(vals)]
        rows.append((code, float(vals.median()) if len(vals) >= MIN_PEERS else float("nan"), int(len(vals))))
    return pd.DataFrame(rows, columns=["indicator", "median", "peers"])


def baseline_period(period: Period) -> Period:
    """The 12 whole months before the month in which the period starts."""
    m0 = period.start.replace(day=1)
    return Period(add_months(m0, -BASELINE_MONTHS), m0 - timedelta(days=1), "custom")


@memoized
def monitor_table(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> pd.DataFrame:
    """One row per indicator of the model: dimension, indicator, unit, higher_is_better, value,
    window_start, window_end, median, peers, year_ago, baseline, baseline_start, baseline_end,
    target. Empty when the department is outside the scope."""
    cols = ["dimension", "indicator", "unit", "higher_is_better", "value", "window_start", "window_end", "median",
            "peers", "year_ago", "baseline", "baseline_start", "baseline_end", "target"]
    codes = monitor_codes()
    base_per = baseline_period(period)
    first = wh.freshness().first_date
    with_base = first is not None and base_per.start >= first.replace(day=1)
    # the department's own figures for the period, a year earlier and the baseline: one round
    # trip per source for the three periods (the median reads every clinical department once)
    periods = (period, period.year_ago(), *((base_per,) if with_base else ()))
    got = values_of_periods(wh, scope, codes, periods, Level.department, Filters(department=(dept_id,)), None)
    frames = [pd.DataFrame(columns=["key", "indicator", "value", "window_start", "window_end"])
              if isinstance(g, UserError) else g for g in got]
    now = frames[0].set_index("indicator")
    if now.empty:
        return pd.DataFrame(columns=cols)
    medians = hospital_medians(wh, Scope.hospital(), period).set_index("indicator")
    ago = frames[1].set_index("indicator")
    base = frames[2].set_index("indicator") if with_base else pd.DataFrame(columns=["value"])
    year_end = now["window_end"].dropna()
    year = pd.Timestamp(year_end.iloc[0]).year if not year_end.empty else period.end.year
    goals = targets(wh, scope, dept_id, year).set_index("indicator")["target"]
    year_days = float((date(year, 12, 31) - date(year, 1, 1)).days + 1)
    rows = []
    for dim, inds in monitor_model().items():
        for ind in inds:
            code = ind.code
            if code in now.index:
                r = now.loc[code]
                value, ws, we = float(r["value"]), r["window_start"], r["window_end"]
            else:
                value, ws, we = float("nan"), None, None
            span = _days(ws, we)
            known = value == value
            yago = float(ago.loc[code, "value"]) if known and code in ago.index else float("nan")
            bval, bs, be = float("nan"), None, None
            if known and code in base.index:
                b = base.loc[code]
                bs, be = b["window_start"], b["window_end"]
                bval = float(b["value"])
                if code in ACCRUING:
                    bval *= span / _days(bs, be)
            target = float(goals[code]) if code in goals.index else float("nan")
            if code in ACCRUING and target == target:
                target *= span / year_days
            med = medians.loc[code] if code in medians.index else None
            rows.append((dim, code, ind.unit, ind.higher_is_better, value, ws, we,
                         float(med["median"]) if med is not None else float("nan"),
                         int(med["peers"]) if med is not None else 0, yago, bval, bs, be, target))
    out = pd.DataFrame(rows, columns=cols)
    for c in ("value", "median", "year_ago", "baseline", "target"):
        out[c] = out[c].astype(float).replace([np.inf, -np.inf], np.nan)
    return out


def worse_by(value: float, ref: float, higher_is_better: bool | None) -> float:
    """How much worse than `ref` the value is, relative to |ref|, in the indicator's better
    direction (positive = worse); a direction-less indicator reads like a cost (more = worse).
    NaN when either is missing or the reference is zero."""
    if value is None or ref is None or value != value or ref != ref or ref == 0:
        return float("nan")
    rel = (value - ref) / abs(ref)
    return -rel if higher_is_better else rel


def verdict(gap: float, tolerance: float = TOLERANCE) -> str | None:
    """over (worse than the reference by more than the tolerance), under (better by more), in_line;
    None without a reference."""
    if gap != gap:
        return None
    if gap > tolerance + EPS:  # a gap of exactly the tolerance is in line, whatever the float rounding
        return "over"
    if gap < -tolerance - EPS:
        return "under"
    return "in_line"


def assess(table: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """The model table with, for each reference (median, year_ago, baseline, target), the gap
    (`gap_<ref>`, positive = worse) and its verdict (`v_<ref>`); `verdict` is the one against the median."""
    out = table.copy()
    for ref in ("median", "year_ago", "baseline", "target"):
        gaps = [worse_by(v, r, h) for v, r, h in zip(out["value"], out[ref], out["higher_is_better"], strict=True)]
        out[f"gap_{ref}"] = pd.Series(gaps, index=out.index, dtype=float)
        out[f"v_{ref}"] = [verdict(g, tolerance) for g in gaps]
    out["verdict"] = out["v_median"]
    return out


def dimension_summary(assessed: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: indicators, over, in_line, under, unknown (no median), and the dimension's
    verdict: over when more indicators are over- than under-used, under in the opposite case,
    in_line otherwise (None when no indicator has a median)."""
    rows = []
    for dim in MONITOR_DIMENSIONS:
        part = assessed[assessed["dimension"] == dim]
        counts = {v: int((part["verdict"] == v).sum()) for v in VERDICTS}
        unknown = int(part["verdict"].isna().sum())
        judged = counts["over"] + counts["in_line"] + counts["under"]
        overall = None if not judged else ("over" if counts["over"] > counts["under"] else
                                          "under" if counts["under"] > counts["over"] else "in_line")
        rows.append((dim, len(part), counts["over"], counts["in_line"], counts["under"], unknown, overall))
    return pd.DataFrame(rows, columns=["dimension", "indicators", "over", "in_line", "under", "unknown", "verdict"])


__all__ = ["ACCRUING", "CATEGORIES", "MIN_PEERS", "STAGES", "TOLERANCE", "assess", "baseline_period", "cost_composition",
           "dimension_summary", "hospital_medians", "monitor_codes", "monitor_table", "verdict", "worse_by"]
