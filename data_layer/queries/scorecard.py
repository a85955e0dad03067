"""The national appraisal scorecard (国考): each appraisal indicator the warehouse can give, this
year to date against last year and the published medians (fact_benchmark), its 24-month trend,
and the departments that pull the figure down most. Indicators the warehouse cannot give are
listed with the reason (data_layer.scorecard).

Every figure comes from the registry (indicator_values), so the scorecard, the workspace and the
drill-downs agree; a director's scope gives the same scorecard for their departments.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, desc, func, or_, select, true

from ..errors import UserError
from ..periods import Period, add_months, month_end
from ..registry import INDICATORS, BinOp, Expr, Indicator, K, Level
from ..schema import dim_department, dim_drg, fact_benchmark, fact_inpatient_case
from ..scope import Scope, scoped
from ..scorecard import GROUPS, ITEMS, REASONS
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .kpis import _values_of_periods, indicator_values, unavailable

# indicators of resources a hospital holds centrally (pharmacists sit in the pharmacy, not in the clinical
# departments): a figure for some departments would read as a shortfall it is not
HOSPITAL_ONLY = {"pharmacists_per_100_beds": ("药师集中在药学部，科室范围不计此指标", "pharmacists work in the pharmacy, "
                                              "not in the clinical departments: no figure for a group of departments")}
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
    name_en, code, unit, higher_is_better, available, reason (a key of REASONS, "contract_v2" for an
    indicator this warehouse lacks the version 2 fields of, "hospital_only" for one of HOSPITAL_ONLY in a
    scope of departments, "" when available), reason_zh, reason_en,
    note_zh, note_en, ytd, last_year, national_median, provincial_median, peer_median, target, benchmark_year,
    source, status (against the national median, else the provincial one)."""
    ytd, last = year_to_date(wh)
    codes = tuple(i.code for i in ITEMS if i.code is not None)
    lacking = set(unavailable(wh, codes))
    central = set() if scope.covers_whole_campuses else set(HOSPITAL_ONLY)
    usable = tuple(c for c in codes if c not in lacking | central)
    now = _hospital_values(wh, scope, usable, ytd)
    before = _hospital_values(wh, scope, usable, last)
    refs = benchmarks(wh, scope, ytd.end.year)
    ref = {(r.indicator_code, r.benchmark): (r.value, r.year, r.source) for r in refs.itertuples()}
    rows = []
    for item in ITEMS:
        ind = INDICATORS.get(item.code) if item.code else None
        available = item.code is not None and item.code not in lacking | central
        if item.code is None:
            reason = REASONS[item.reason or ""]
        elif item.code in central:
            reason = HOSPITAL_ONLY[item.code]
        elif not available:
            reason = ("本数据仓库缺少所需字段（数据仓库接口第2版：" + "、".join(sorted(ind.requires)) + "）",
                      "this warehouse lacks the fields it needs (contract version 2: "
                      + ", ".join(sorted(ind.requires)) + ")")
        else:
            reason = ("", "")
        row = {"group": item.group, "group_zh": GROUPS[item.group][0], "group_en": GROUPS[item.group][1],
               "name_zh": item.name_zh, "name_en": item.name_en, "code": item.code,
               "unit": ind.unit if ind else None, "higher_is_better": ind.higher_is_better if ind else None,
               "available": available,
               "reason": "" if available else item.reason or ("hospital_only" if item.code in central else "contract_v2"),
               "reason_zh": reason[0], "reason_en": reason[1],
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
    return trends(wh, scope, (code,), months)[code]


@memoized
def trends(wh: Warehouse, scope: Scope, codes: tuple[str, ...], months: int = TREND_MONTHS) -> dict[str, pd.DataFrame]:
    """`trend` of several indicators, read together (one pass of the registry's statements for all
    of them, as the scorecard's screen needs 20-odd): {code: month_start, value}."""
    fresh = wh.freshness()
    if fresh.data_through is None or fresh.first_date is None:
        raise UserError("the warehouse holds no data yet")
    through = fresh.data_through
    last = through if through == month_end(through) else add_months(through.replace(day=1), -1)
    last = last.replace(day=1)
    first = max(add_months(last, -(months - 1)), fresh.first_date.replace(day=1))
    months_all = [add_months(last, -k) for k in range(months - 1, -1, -1)]
    given = tuple(c for c in dict.fromkeys(codes) if not unavailable(wh, (c,))) if first <= last else ()
    period = Period(first, month_end(last), "custom")
    try:
        df = indicator_values(wh, scope, given, period, Level.hospital, grain="month") if given else None
        frames = [df] if df is not None else []
    except UserError:  # one indicator the period does not suit: read the others one by one
        frames = []
        for c in given:
            try:
                frames.append(indicator_values(wh, scope, (c,), period, Level.hospital, grain="month"))
            except UserError:
                continue
    got: dict[str, dict] = {c: {} for c in codes}
    for df in frames:
        for r in df.itertuples():
            got[r.indicator][pd.Timestamp(r.period_start).date()] = float(r.value)
    return {c: pd.DataFrame({"month_start": months_all, "value": [got[c].get(m, np.nan) for m in months_all]})
            for c in codes}


def volume_expr(code: str) -> Expr | None:
    """The indicator's own denominator (what a department's figure is an average over: discharges for
    the stay, operations for the complication rate, elective operations for the day-surgery share,
    full cost for the personnel share …); None for a sum (a balance) that has none. A constant factor
    (× 100, × 10,000) is looked through."""
    expr = INDICATORS[code].formula
    while isinstance(expr, BinOp):
        if expr.op == "/":
            return expr.right
        if expr.op == "*" and isinstance(expr.right, K):
            expr = expr.left
        elif expr.op == "*" and isinstance(expr.left, K):
            expr = expr.right
        else:
            return None
    return None


def _volumes(wh: Warehouse, scope: Scope, code: str, period: Period, level: Level,
             filters: Filters) -> dict[str, float]:
    """Each member's denominator of the indicator over the period (see volume_expr), computed in the
    database like the indicator itself."""
    expr = volume_expr(code)
    if expr is None:
        return {}
    ind = INDICATORS[code]
    volume = Indicator(f"{code}__volume", ind.name_zh, ind.name_en, "count", None, ind.dimension, expr)
    got = _values_of_periods(wh, scope, [volume], (period,), level, filters, None)[0]
    if isinstance(got, UserError):
        raise got
    return {str(r.key): float(r.value) for r in got.itertuples()}


BREAKDOWN_COLS = ["key", "name_zh", "name_en", "value", "volume", "weight", "gap", "drag"]
CLINICAL = Filters(kind=("clinical",))


@memoized
def breakdown(wh: Warehouse, scope: Scope, code: str, period: Period, by: str = "department",
              dept: str | None = None) -> pd.DataFrame:
    """The indicator over the period for each clinical department of the scope (by="department") or
    each DRG group (by="drg", of one department when `dept` is given): key, name_zh, name_en, value,
    volume (the member's own denominator: volume_expr), weight (its share of the volume), gap (its
    value against the reference, positive on the adverse side) and drag = gap × weight, the largest
    drag first.

    The reference is the volume-weighted mean of the members' own figures, which is the scope's
    figure for a ratio of sums (Σ drag = 0); for a growth (次均费用增幅) it is close to it. An
    indicator without a denominator (a balance) is judged against zero: its drag is the amount on
    the adverse side. No better direction: gap and drag are empty. Empty when the warehouse cannot
    give the indicator; UserError for a DRG breakdown of an indicator not built from cases."""
    ind = INDICATORS[code]
    if by not in ("department", "drg"):
        raise UserError(f"breakdown by {by!r}: use department or drg")
    if unavailable(wh, (code,)):
        return pd.DataFrame(columns=BREAKDOWN_COLS)
    if by == "drg":
        if Level.drg not in ind.levels:
            raise UserError(f"indicator {code} is not built from inpatient cases: no breakdown by DRG group")
        level, filters = Level.drg, Filters(department=(dept,)) if dept else Filters()
    else:
        level, filters = Level.department, CLINICAL
    try:
        df = indicator_values(wh, scope, (code,), period, level, filters)
    except UserError:  # a period outside the data
        return pd.DataFrame(columns=BREAKDOWN_COLS)
    df = df[df["indicator"] == code].dropna(subset=["value"])
    if df.empty:
        return pd.DataFrame(columns=BREAKDOWN_COLS)
    out = df[["key", "name_zh", "name_en"]].astype({"key": str}).reset_index(drop=True)
    out["value"] = df["value"].astype(float).to_numpy()
    additive = volume_expr(code) is None
    if additive:
        out["volume"] = np.nan
        out["weight"] = np.nan
    else:
        vols = _volumes(wh, scope, code, period, level, filters)
        out["volume"] = [vols.get(k, np.nan) for k in out["key"]]
        out = out[out["volume"] > 0].reset_index(drop=True)
        total = out["volume"].sum()
        out["weight"] = out["volume"] / total if total else np.nan
    if ind.higher_is_better is None or out.empty:
        out["gap"] = np.nan
        out["drag"] = np.nan
        return out[BREAKDOWN_COLS].sort_values("value", ascending=False, kind="stable").reset_index(drop=True)
    sign = 1.0 if ind.higher_is_better else -1.0
    reference = 0.0 if additive else float((out["value"] * out["weight"]).sum())
    out["gap"] = (reference - out["value"]) * sign  # positive: worse than the reference
    out["drag"] = out["gap"] if additive else out["gap"] * out["weight"]
    out = out.sort_values(["drag", "key"], ascending=[False, True], kind="stable")
    return out[BREAKDOWN_COLS].reset_index(drop=True)


@memoized
def drags(wh: Warehouse, scope: Scope, code: str, limit: int = 5) -> pd.DataFrame:
    """The clinical departments that pull the scope's figure (this year to date) the wrong way most:
    key, name_zh, name_en, value, weight (their share of the indicator's own denominator), gap
    (their value against the scope's, in the adverse direction) and drag = gap × weight; the
    largest drags first, only departments on the adverse side (breakdown). An indicator without a
    denominator (the balance): the departments with the largest adverse amounts (losses). Empty for
    an indicator without a better direction."""
    cols = ["key", "name_zh", "name_en", "value", "weight", "gap", "drag"]
    ind = INDICATORS[code]
    if ind.higher_is_better is None or Level.department not in ind.levels or unavailable(wh, (code,)):
        return pd.DataFrame(columns=cols)
    ytd, _ = year_to_date(wh)
    out = breakdown(wh, scope, code, ytd, "department")
    out = out[out["gap"] > 0].head(limit)
    return out[cols].reset_index(drop=True)


# ---- the cases behind a figure ------------------------------------------------------------------
ip = fact_inpatient_case.c
_op = ip.surgery_level > 0
_yes = lambda col: case((col.is_(True), 1.0), else_=0.0)  # noqa: E731
# an inpatient indicator's cases: (which cases it averages over, each case's part of the numerator,
# whether it needs the DRG dimension); the same conditions as its measures (data_layer/registry.py)
CASE_RULES: dict[str, tuple[Any, Any, bool]] = {
    "surgery_share": (true(), case((_op, 1.0), else_=0.0), False),
    "level4_surgery_share": (_op, case((ip.surgery_level == 4, 1.0), else_=0.0), False),
    "minimally_invasive_share": (and_(_op, ip.is_minimally_invasive.is_not(None)), _yes(ip.is_minimally_invasive),
                                 False),
    "day_surgery_share": (or_(ip.is_day_surgery.is_(True), ip.is_elective.is_(True)), _yes(ip.is_day_surgery),
                          False),
    "surgical_complication_rate": (and_(_op, ip.has_surgical_complication.is_not(None)),
                                   _yes(ip.has_surgical_complication), False),
    "low_risk_mortality": (dim_drg.c.risk_level == "low", case((ip.discharge_status == "died", 1.0), else_=0.0),
                           True),
    "preop_days": (and_(_op, ip.preop_days.is_not(None)), ip.preop_days, False),
    "readmission_31d_rate": (true(), _yes(ip.is_unplanned_readmission_31d), False),
    "alos": (true(), ip.los_days, False),
    "fund_share_inpatient": (true(), ip.fund_payment, False),
    "charge_per_discharge_growth": (true(), ip.charge_total, False),
    "drug_per_discharge_growth": (true(), ip.charge_drug, False),
}
CASE_COLS = ["case_id", "discharge_date", "dept_id", "dept_zh", "dept_en", "drg_code", "drg_zh", "drg_en",
             "los_days", "charge_total", "cost_total", "contribution"]
CASE_CAP = 5_000


def _case_select(wh: Warehouse, scope: Scope, code: str, period: Period, dept: str | None, drg: str | None,
                 *cols: Any) -> Any:
    cond, _value, _needs_drg = CASE_RULES[code]
    d = dim_department.c
    frm = fact_inpatient_case.join(dim_department, ip.dept_id == d.dept_id).outerjoin(
        dim_drg, ip.drg_code == dim_drg.c.drg_code)
    where = [ip.discharge_date >= period.start, ip.discharge_date <= period.end, cond, d.kind == "clinical"]
    if dept:
        where.append(ip.dept_id == dept)
    if drg:
        where.append(ip.drg_code == drg)
    return scoped(select(*cols).select_from(frm).where(and_(*where)), scope)


@memoized
def item_cases(wh: Warehouse, scope: Scope, code: str, period: Period, dept: str | None = None,
               drg: str | None = None, limit: int = CASE_CAP) -> pd.DataFrame:
    """The inpatient cases behind an indicator's figure over the period (those it averages over), of
    one department and one DRG group when given: case_id, discharge_date, dept_id, dept_zh, dept_en,
    drg_code, drg_zh, drg_en, los_days, charge_total, cost_total and contribution (the case's part of
    the numerator: 1 or 0 for a rate, its days for a stay, its charge for a growth), the cases on the
    adverse side first, at most `limit`. UserError for an indicator not built from cases; empty when
    the warehouse cannot give it."""
    if code not in CASE_RULES:
        raise UserError(f"indicator {code} is not built from inpatient cases")
    if unavailable(wh, (code,)):
        return pd.DataFrame(columns=CASE_COLS)
    _cond, value, _ = CASE_RULES[code]
    d = dim_department.c
    contribution = value.label("contribution")
    hib = INDICATORS[code].higher_is_better
    order = contribution if hib else desc(contribution)
    stmt = _case_select(wh, scope, code, period, dept, drg, ip.case_id, ip.discharge_date, ip.dept_id,
                        d.name_zh.label("dept_zh"), d.name_en.label("dept_en"), ip.drg_code,
                        dim_drg.c.name_zh.label("drg_zh"), dim_drg.c.name_en.label("drg_en"), ip.los_days,
                        ip.charge_total, ip.cost_total, contribution)
    df = wh.frame(stmt.order_by(order, ip.case_id).limit(limit))
    for c in ("los_days", "charge_total", "cost_total", "contribution"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["case_id"] = df["case_id"].astype(str)
    return df[CASE_COLS].reset_index(drop=True)


@memoized
def item_case_count(wh: Warehouse, scope: Scope, code: str, period: Period, dept: str | None = None,
                    drg: str | None = None) -> int:
    """How many cases lie behind the figure (item_cases' rows before its cap)."""
    if code not in CASE_RULES or unavailable(wh, (code,)):
        return 0
    return int(wh.scalar(_case_select(wh, scope, code, period, dept, drg, func.count())) or 0)
