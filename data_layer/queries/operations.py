"""Equipment and budget rows by device and budget item, within the scope."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from ..periods import Period
from ..schema import dim_budget_item, dim_department, dim_equipment, fact_budget_monthly, fact_equipment_daily
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

eq, dev, bm = fact_equipment_daily.c, dim_equipment.c, fact_budget_monthly.c


@memoized
def device_daily(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """date, equipment_id, dept_id, exams, hours_used, revenue for each device-day."""
    stmt = scoped(select(eq.date, eq.equipment_id, dev.dept_id, eq.exams, eq.hours_used, eq.revenue)
                  .select_from(fact_equipment_daily.join(dim_equipment, eq.equipment_id == dev.equipment_id)
                               .join(dim_department, dev.dept_id == dim_department.c.dept_id))
                  .where(eq.date.between(period.start, period.end)), scope).order_by(eq.equipment_id, eq.date)
    df = wh.frame(stmt)
    df["date"] = pd.to_datetime(df["date"]).dt.date
    for c in ("exams", "hours_used", "revenue"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    return df


@memoized
def budget_monthly(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """month_start, dept_id, item_code, category, budget_amount, executed_amount per department, item, month."""
    item = dim_budget_item.c
    stmt = (scoped(select(bm.month_start, bm.dept_id, bm.item_code, item.category,
                          func.sum(bm.budget_amount).label("budget_amount"),
                          func.sum(bm.executed_amount).label("executed_amount"))
                   .select_from(fact_budget_monthly.join(dim_department, bm.dept_id == dim_department.c.dept_id)
                                .join(dim_budget_item, bm.item_code == item.item_code))
                   .where(bm.month_start.between(period.start, period.end)), scope)
            .group_by(bm.month_start, bm.dept_id, bm.item_code, item.category)
            .order_by(bm.month_start, bm.dept_id, bm.item_code))
    df = wh.frame(stmt)
    df["month_start"] = pd.to_datetime(df["month_start"]).dt.date
    for c in ("budget_amount", "executed_amount"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    return df
