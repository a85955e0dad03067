"""Equipment of one department (设备效益): per device exams, hours used, utilization against
capacity over working days, saturation, revenue and revenue per 10,000 yuan of device value;
and what the purchase appraisal needs (working days of a full year, devices of a category).

utilization = Σ exams / (daily_capacity × working days), where working days are the days of
the period with dim_date.is_workday on or after the device's purchase_date (the registry's
`equipment_utilization` uses the same capacity, so per-device and department figures agree).
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Double, and_, case, cast, func, select

from ..periods import Period
from ..schema import dim_date, dim_department, dim_equipment, fact_equipment_daily
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

dev, eq, dd = dim_equipment.c, fact_equipment_daily.c, dim_date.c
CATEGORIES = ("CT", "MRI", "DSA", "PET_CT", "LINAC", "DR", "ULTRASOUND", "ENDOSCOPY", "OTHER")  # the contract's
COLUMNS = ["equipment_id", "name_zh", "name_en", "category", "purchase_date", "purchase_price",
           "annual_maintenance_cost", "daily_capacity", "exams", "hours_used", "revenue", "working_days", "capacity",
           "utilization", "revenue_per_10k_value", "saturated"]


@memoized
def device_table(wh: Warehouse, scope: Scope, dept: str, period: Period, saturation: float) -> pd.DataFrame:
    """One row per device of the department: use in the period, capacity, utilization, whether it
    is saturated (utilization ≥ `saturation`), revenue and revenue per 10,000 yuan of value."""
    joined = dim_equipment.join(dim_department, dev.dept_id == dim_department.c.dept_id)
    use = (select(eq.equipment_id, func.sum(eq.exams).label("exams"), func.sum(cast(eq.hours_used, Double)).label("hours_used"),
                  func.sum(cast(eq.revenue, Double)).label("revenue"))
           .where(eq.date.between(period.start, period.end),
                  eq.equipment_id.in_(select(dev.equipment_id).where(dev.dept_id == dept)))
           .group_by(eq.equipment_id).subquery())
    days = (select(dev.equipment_id.label("eid"), func.count(dd.date).label("working_days"))
            .select_from(dim_equipment.join(dim_date, and_(dd.date >= dev.purchase_date, dd.is_workday.is_(True),
                                                           dd.date.between(period.start, period.end))))
            .where(dev.dept_id == dept).group_by(dev.equipment_id).subquery())
    stmt = scoped(select(dev.equipment_id, dev.name_zh, dev.name_en, dev.category, dev.purchase_date,
                         dev.purchase_price, dev.annual_maintenance_cost, dev.daily_capacity, use.c.exams,
                         use.c.hours_used, use.c.revenue, days.c.working_days)
                  .select_from(joined.outerjoin(use, use.c.equipment_id == dev.equipment_id)
                               .outerjoin(days, days.c.eid == dev.equipment_id))
                  .where(dev.dept_id == dept), scope).order_by(dev.category, dev.equipment_id)
    df = wh.frame(stmt)
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    df["purchase_date"] = pd.to_datetime(df["purchase_date"]).dt.date
    for c in ("purchase_price", "annual_maintenance_cost", "daily_capacity", "exams", "hours_used", "revenue",
              "working_days"):
        df[c] = pd.to_numeric(df[c]).astype(float).fillna(0.0)
    df["capacity"] = df["daily_capacity"] * df["working_days"]
    df["utilization"] = (df["exams"] / df["capacity"]).where(df["capacity"] > 0)
    df["revenue_per_10k_value"] = (df["revenue"] / df["purchase_price"] * 10_000).where(df["purchase_price"] > 0)
    df["saturated"] = df["utilization"] >= saturation
    return df[COLUMNS]


def last_twelve_months(through: date) -> Period:
    """The 12 months up to and including `through` (e.g. 2025-11-22 to 2026-11-21)."""
    try:
        start = through.replace(year=through.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        start = through.replace(year=through.year - 1, day=28) + timedelta(days=1)
    return Period(start, through)


@memoized
def category_devices(wh: Warehouse, scope: Scope, dept: str, category: str, through: date,
                     saturation: float) -> pd.DataFrame:
    """The department's devices of one category with their use over the last 12 months."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown equipment category {category!r}")
    df = device_table(wh, scope, dept, last_twelve_months(through), saturation)
    out = df[df["category"] == category].reset_index(drop=True)
    out.attrs["period"] = last_twelve_months(through)
    return out


@memoized
def workdays_last_full_year(wh: Warehouse, scope: Scope) -> tuple[int, int] | None:
    """(year, working days) of the last calendar year dim_date covers completely, or None."""
    stmt = (select(dd.year, func.min(dd.date).label("first"), func.max(dd.date).label("last"),
                   func.count(dd.date).label("days"),
                   func.sum(case((dd.is_workday.is_(True), 1), else_=0)).label("workdays"))
            .group_by(dd.year).order_by(dd.year.desc()))
    df = wh.frame(stmt)
    for r in df.itertuples():
        first, last = pd.Timestamp(r.first).date(), pd.Timestamp(r.last).date()
        year = int(r.year)
        full = (date(year, 12, 31) - date(year, 1, 1)).days + 1
        if first == date(year, 1, 1) and last == date(year, 12, 31) and int(r.days) == full:
            return year, int(r.workdays)
    return None


@memoized
def device_departments(wh: Warehouse, scope: Scope) -> list[str]:
    """Departments in the scope that operate at least one device (imaging, endoscopy … and any
    clinical department with its own), so the page can offer them besides the clinical ones."""
    stmt = scoped(select(dev.dept_id).select_from(dim_equipment.join(dim_department, dev.dept_id == dim_department.c.dept_id)),
                  scope).group_by(dev.dept_id).order_by(dev.dept_id)
    return [str(d) for d in wh.frame(stmt)["dept_id"]]
