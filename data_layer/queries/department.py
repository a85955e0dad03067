"""One department in depth: cost by category and allocation tier, its wards, its medical groups, and
what lies behind a target's gap (its months, medical groups and doctors)."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select

from ..periods import Period
from ..registry import INDICATORS, Level
from ..schema import dim_department, fact_dept_cost_monthly
from ..scope import Scope, scoped
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .kpis import compare, indicator_values, monthly_window
from .targets import pace_basis, pace_curve

WARD_CODES = ("bed_occupancy", "alos", "bed_turnover", "admissions", "discharges", "bed_days", "inpatient_revenue")
GROUP_CODES = ("discharges", "cmi", "alos", "charge_per_discharge", "drug_share", "material_share", "drg_margin")
CATEGORIES = ("personnel", "drug", "material", "depreciation", "amortization", "risk_fund", "energy", "other")
STAGES = ("direct", "admin", "support", "medtech")


def _wide(df: pd.DataFrame, codes: tuple[str, ...], key: str) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=[key, "name_zh", "name_en", *codes])
    out = df.pivot_table(index=["key", "name_zh", "name_en"], columns="indicator", values="value")
    # every indicator's column, even one with no value in the period (e.g. a group without discharges)
    return out.reindex(columns=list(codes)).reset_index().rename(columns={"key": key})


@memoized
def ward_table(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> pd.DataFrame:
    """Per ward of the department: occupancy, stay, turnover, admissions, discharges, bed-days and
    inpatient revenue (cost is kept by department, so a ward has no balance of its own)."""
    df = indicator_values(wh, scope, WARD_CODES, period, Level.ward, Filters(department=(dept_id,)))
    return _wide(df, WARD_CODES, "ward_id").sort_values("ward_id").reset_index(drop=True)


@memoized
def ward_census(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> pd.DataFrame:
    """Daily occupied beds per ward: ward_id, name_zh, name_en, day, census."""
    df = indicator_values(wh, scope, ("bed_days",), period, Level.ward, Filters(department=(dept_id,)), grain="day")
    return df.rename(columns={"key": "ward_id", "period_start": "day", "value": "census"})[
        ["ward_id", "name_zh", "name_en", "day", "census"]]


@memoized
def group_table(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> pd.DataFrame:
    """Per medical group: volume, CMI, stay, charge per case, drug and material share, DRG margin;
    the busiest first."""
    df = indicator_values(wh, scope, GROUP_CODES, period, Level.group, Filters(department=(dept_id,)))
    out = _wide(df, GROUP_CODES, "group_id")
    return out.sort_values(["discharges", "group_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


@memoized
def cost_breakdown(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> pd.DataFrame:
    """The department's full cost over the period's closed months, by category (rows) and
    allocation stage (columns direct, admin, support, medtech), with a total column.
    attrs['window'] holds the months covered (None when no month is closed)."""
    window = monthly_window(period, wh.freshness().months_closed_through)
    empty = pd.DataFrame(0.0, index=list(CATEGORIES), columns=[*STAGES, "total"])
    empty.attrs["window"] = window
    if window is None:
        return empty
    c = fact_dept_cost_monthly.c
    stmt = (select(c.cost_category, c.allocation_stage, func.sum(c.amount).label("amount"))
            .select_from(fact_dept_cost_monthly.join(dim_department, c.dept_id == dim_department.c.dept_id))
            .where(c.dept_id == dept_id, c.month_start.between(window[0], window[1]))
            .group_by(c.cost_category, c.allocation_stage))
    df = wh.frame(scoped(stmt, scope))
    df["amount"] = pd.to_numeric(df["amount"]).astype(float)
    out = df.pivot_table(index="cost_category", columns="allocation_stage", values="amount", aggfunc="sum")
    out = out.reindex(index=list(CATEGORIES), columns=list(STAGES)).fillna(0.0)
    out["total"] = out.sum(axis=1)
    out.attrs["window"] = window
    return out


@memoized
def target_months(wh: Warehouse, scope: Scope, dept_id: str, code: str, target: float, through: date) -> pd.DataFrame:
    """A target's year month by month: month (first day), value (the month's figure), year_ago (the
    same month last year, cut at the same day for the month in progress), cumulative (the running
    total for a sum; the month's level for a level), expected (the target's pace on the basis the
    targets table uses: cumulative for a sum, the target for a level) and gap (cumulative − expected),
    so the months that opened a gap stand out."""
    ind = INDICATORS[code]
    pace = pace_curve(wh, scope, code, target, through)
    filters = Filters(department=(dept_id,))
    now = indicator_values(wh, scope, (code,), Period(date(through.year, 1, 1), through), Level.department, filters,
                           grain="month")
    out = pace[["month", "basis", "expected"]].copy()
    out["value"] = _by_month(now, out["month"])
    first = wh.freshness().first_date
    ago_start = date(through.year - 1, 1, 1)
    if first is not None and first <= ago_start:
        ago = indicator_values(wh, scope, (code,), Period(ago_start, _year_before(through)), Level.department, filters,
                               grain="month")
        out["year_ago"] = _by_month(ago, [m.replace(year=m.year - 1) for m in out["month"]])
    else:
        out["year_ago"] = float("nan")
    out["cumulative"] = out["value"].cumsum(skipna=False) if pace_basis(ind) != "level" else out["value"]
    out["gap"] = out["cumulative"] - out["expected"]
    return out[["month", "value", "year_ago", "cumulative", "expected", "gap", "basis"]]


def _by_month(frame: pd.DataFrame, months) -> list[float]:
    if frame.empty:
        return [float("nan")] * len(months)
    got = dict(zip(pd.to_datetime(frame["period_start"]).dt.date, frame["value"].astype(float), strict=True))
    return [got.get(m, float("nan")) for m in months]


def _year_before(d: date) -> date:
    return d.replace(year=d.year - 1) if not (d.month == 2 and d.day == 29) else date(d.year - 1, 2, 28)


DRIVER_LEVELS = (Level.group, Level.doctor)


@memoized
def target_drivers(wh: Warehouse, scope: Scope, dept_id: str, code: str, through: date, level: Level,
                   limit: int = 10) -> pd.DataFrame:
    """The medical groups or doctors of the department behind a target's gap: each one's year to
    date against the same days last year (key, name_zh, name_en, value, year_ago, change), the
    ones that moved the figure most in the bad direction first, at most `limit`. Empty when the
    indicator cannot be split to that level (cost is kept by department)."""
    ind = INDICATORS[code]
    cols = ["key", "name_zh", "name_en", "value", "year_ago", "change"]
    if level not in DRIVER_LEVELS or level not in ind.levels:
        return pd.DataFrame(columns=cols)
    df = compare(wh, scope, (code,), Period(date(through.year, 1, 1), through), level, Filters(department=(dept_id,)))
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.assign(change=df["value"].astype(float) - df["year_ago"].astype(float))
    sign = {True: 1.0, False: -1.0}.get(ind.higher_is_better)  # type: ignore[arg-type]
    order = -df["change"].abs() if sign is None else sign * df["change"]
    df = df.assign(_o=order.fillna(float("inf"))).sort_values(["_o", "key"], kind="stable")
    return df[cols].head(limit).reset_index(drop=True)
