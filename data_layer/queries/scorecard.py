"""The national appraisal scorecard (国考): each appraisal indicator the warehouse can give, this
year to date against last year and the published medians (fact_benchmark), its 24-month trend,
and the departments that pull the figure down most. Indicators the warehouse cannot give are
listed with the reason (data_layer.scorecard).

Every figure comes from the registry (indicator_values), so the scorecard, the workspace and the
drill-downs agree; a director's scope gives the same scorecard for their departments.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select

from ..errors import UserError
from ..periods import Period, add_months, month_end
from ..registry import INDICATORS, Level
from ..schema import fact_benchmark
from ..scope import Scope
from ..scorecard import GROUPS, ITEMS, REASONS
from ..warehouse import Warehouse, memoized
from .kpis import indicator_values, unavailable

BENCHMARKS = ("national_median", "provincial_median", "peer_median", "target")
LEVEL_BAND = 0.02  # within 2% of the reference value (relative) reads as level with it
TREND_MONTHS = 24


def year_to_date(wh: Warehouse) -> tuple[Period, Period]:
    """(this year to date, last year) as of the last day with data."""
    through = wh.freshness().data_through
    if through is None:
        raise UserError("the warehouse holds no data yet")
    return (Period(date(through.year, 1, 1), through, "custom"),
            Period(date(through.year - 1, 1, 1), date(through.year - 1, 12, 31), "year"))


@memoized
def benchmarks(wh: Warehouse, scope: Scope, year: int) -> pd.DataFrame:
    """The reference values for `year` (the latest year on or before it that has one, per
    indicator and kind): indicator_code, benchmark, value, year, source. Reference values are
    public figures about other hospitals: the same for every scope. Empty when the warehouse has
    no fact_benchmark (contract version 1) or no rows."""
    cols = ["indicator_code", "benchmark", "value", "year", "source"]
    if not wh.capabilities().has("fact_benchmark"):
        return pd.DataFrame(columns=cols)
    b = fact_benchmark.c
    df = wh.frame(select(b.indicator_code, b.benchmark, b.value, b.year, b.source).where(b.year <= year))
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["value"] = pd.to_numeric(df["value"]).astype(float)
    df["year"] = pd.to_numeric(df["year"]).astype(int)
    latest = df.sort_values("year").groupby(["indicator_code", "benchmark"], as_index=False).last()
    return latest[cols].reset_index(drop=True)


def status(value: float, reference: float, higher_is_better: bool | None) -> str:
    """better, worse or level against a reference value; none when either is missing or the
    indicator has no better direction."""
    if higher_is_better is None or value != value or reference != reference:
        return "none"
    band = abs(reference) * LEVEL_BAND
    if abs(value - reference) <= band:
        return "level"
    return "better" if (value > reference) == higher_is_better else "worse"


@memoized
def scorecard(wh: Warehouse, scope: Scope) -> pd.DataFrame:
    """One row per appraisal item in the appraisal's order: group, group_zh, group_en, name_zh,
    name_en, code, unit, higher_is_better, available, reason_zh, reason_en, note_zh, note_en,
    ytd, last_year, national_median, provincial_median, peer_median, target, benchmark_year,
    source, status (against the national median, else the provincial one)."""
    ytd, last = year_to_date(wh)
    codes = tuple(i.code for i in ITEMS if i.code is not None)
    lacking = set(unavailable(wh, codes))
    usable = tuple(c for c in codes if c not in lacking)
    now = _hospital_values(wh, scope, usable, ytd)
    before = _hospital_values(wh, scope, usable, last)
    refs = benchmarks(wh, scope, ytd.end.year)
    ref = {(r.indicator_code, r.benchmark): (r.value, r.year, r.source) for r in refs.itertuples()}
    rows = []
    for item in ITEMS:
        ind = INDICATORS.get(item.code) if item.code else None
        available = item.code is not None and item.code not in lacking
        if item.code is None:
            reason = REASONS[item.reason or ""]
        elif not available:
            reason = ("本数据仓库缺少所需字段（数据仓库接口第2版：" + "、".join(sorted(ind.requires)) + "）",
                      "this warehouse lacks the fields it needs (contract version 2: "
                      + ", ".join(sorted(ind.requires)) + ")")
        else:
            reason = ("", "")
        row = {"group": item.group, "group_zh": GROUPS[item.group][0], "group_en": GROUPS[item.group][1],
               "name_zh": item.name_zh, "name_en": item.name_en, "code": item.code,
               "unit": ind.unit if ind else None, "higher_is_better": ind.higher_is_better if ind else None,
               "available": available, "reason_zh": reason[0], "reason_en": reason[1],
               "note_zh": item.note_zh, "note_en": item.note_en,
               "ytd": now.get(item.code, np.nan) if available else np.nan,
               "last_year": before.get(item.code, np.nan) if available else np.nan}
        years, sources = [], []
        for kind in BENCHMARKS:
            value, year, source = ref.get((item.code, kind), (np.nan, None, None))
            row[kind] = value if available else np.nan
            if year is not None:
                years.append(year)
                sources.append(source)
        row["benchmark_year"] = max(years) if years and available else None
        row["source"] = "; ".join(sorted(set(sources))) if sources and available else ""
        reference = row["national_median"] if row["national_median"] == row["national_median"] \
            else row["provincial_median"]
        row["status"] = status(row["ytd"], reference, row["higher_is_better"]) if available else "none"
        rows.append(row)
    return pd.DataFrame(rows)


def _hospital_values(wh: Warehouse, scope: Scope, codes: tuple[str, ...], period: Period) -> dict[str, float]:
    """The scope's value of each indicator over the period (nothing for a period without data)."""
    if not codes:
        return {}
    try:
        df = indicator_values(wh, scope, codes, period, Level.hospital)
    except UserError:  # the period lies outside the data (last year of a young warehouse)
        return {}
    return {r.indicator: float(r.value) for r in df.itertuples()}


@memoized
def trend(wh: Warehouse, scope: Scope, code: str, months: int = TREND_MONTHS) -> pd.DataFrame:
    """The indicator month by month over the last `months` whole months with data: month_start,
    value (NaN for a month before the data starts or without a figure)."""
    fresh = wh.freshness()
    if fresh.data_through is None or fresh.first_date is None:
        raise UserError("the warehouse holds no data yet")
    through = fresh.data_through
    last = through if through == month_end(through) else add_months(through.replace(day=1), -1)
    last = last.replace(day=1)
    first = max(add_months(last, -(months - 1)), fresh.first_date.replace(day=1))
    months_all = [add_months(last, -k) for k in range(months - 1, -1, -1)]
    if unavailable(wh, (code,)) or first > last:
        return pd.DataFrame({"month_start": months_all, "value": np.nan})
    try:
        df = indicator_values(wh, scope, (code,), Period(first, month_end(last), "custom"), Level.hospital,
                              grain="month")
    except UserError:
        df = pd.DataFrame(columns=["period_start", "value"])
    got = {pd.Timestamp(r.period_start).date(): float(r.value) for r in df.itertuples()}
    return pd.DataFrame({"month_start": months_all, "value": [got.get(m, np.nan) for m in months_all]})


def weight_code(code: str) -> str:
    """The volume a department's share of the hospital's figure is weighed by."""
    sources = INDICATORS[code].sources
    if sources <= {"inpatient"}:
        return "discharges"
    if sources <= {"outpatient"}:
        return "outpatient_visits"
    return "revenue_total"


@memoized
def drags(wh: Warehouse, scope: Scope, code: str, limit: int = 5) -> pd.DataFrame:
    """The departments that pull the scope's figure (this year to date) the wrong way most: key,
    name_zh, name_en, value, weight (their share of the volume), gap (their value against the
    scope's, in the adverse direction) and drag = gap × weight; the largest drags first, only
    departments on the adverse side. Empty for an indicator without a better direction."""
    ind = INDICATORS[code]
    cols = ["key", "name_zh", "name_en", "value", "weight", "gap", "drag"]
    if ind.higher_is_better is None or Level.department not in ind.levels or unavailable(wh, (code,)):
        return pd.DataFrame(columns=cols)
    ytd, _ = year_to_date(wh)
    whole = _hospital_values(wh, scope, (code,), ytd).get(code, np.nan)
    w = weight_code(code)
    if w not in INDICATORS or Level.department not in INDICATORS[w].levels:
        return pd.DataFrame(columns=cols)
    df = indicator_values(wh, scope, (code, w), ytd, Level.department)
    if df.empty or whole != whole:
        return pd.DataFrame(columns=cols)
    wide = df.pivot_table(index=["key", "name_zh", "name_en"], columns="indicator", values="value").reset_index()
    if code not in wide or w not in wide:
        return pd.DataFrame(columns=cols)
    wide = wide.dropna(subset=[code])
    total = wide[w].clip(lower=0).sum()
    if not total:
        return pd.DataFrame(columns=cols)
    sign = 1.0 if ind.higher_is_better else -1.0
    out = pd.DataFrame({"key": wide["key"], "name_zh": wide["name_zh"], "name_en": wide["name_en"],
                        "value": wide[code].astype(float), "weight": wide[w].clip(lower=0) / total})
    out["gap"] = (whole - out["value"]) * sign  # positive: worse than the scope as a whole
    out["drag"] = out["gap"] * out["weight"]
    out = out[out["gap"] > 0].sort_values("drag", ascending=False).head(limit)
    return out[cols].reset_index(drop=True)
