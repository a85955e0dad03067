"""One department in depth: cost by category and allocation tier, its wards, its medical groups."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from ..periods import Period
from ..registry import Level
from ..schema import dim_department, fact_dept_cost_monthly
from ..scope import Scope
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .kpis import indicator_values, monthly_window

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
            .where(scope.clause(), c.dept_id == dept_id, c.month_start.between(window[0], window[1]))
            .group_by(c.cost_category, c.allocation_stage))
    df = wh.frame(stmt)
    df["amount"] = pd.to_numeric(df["amount"]).astype(float)
    out = df.pivot_table(index="cost_category", columns="allocation_stage", values="amount", aggfunc="sum")
    out = out.reindex(index=list(CATEGORIES), columns=list(STAGES)).fillna(0.0)
    out["total"] = out.sum(axis=1)
    out.attrs["window"] = window
    return out
