"""The rows behind an alert: cases, doctor-days, ward-days, device-days, budget lines or monthly
energy costs, within the scope. Names come in both languages (`<x>_zh`, `<x>_en`) beside codes."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Float, cast, desc, func, select

from ..periods import Period
from ..schema import (
    dim_budget_item,
    dim_department,
    dim_doctor,
    dim_drg,
    dim_equipment,
    dim_ward,
    fact_budget_monthly,
    fact_dept_cost_monthly,
    fact_equipment_daily,
    fact_inpatient_case,
    fact_outpatient_daily,
    fact_ward_daily,
)
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

ip, op = fact_inpatient_case.c, fact_outpatient_daily.c
CASE_ORDER = {"material_share": ip.charge_material, "drug_share": ip.charge_drug, "alos": ip.los_days,
              "time_index": ip.los_days, "charge_per_discharge": ip.charge_total,
              "drug_charge_per_discharge": ip.charge_drug, "material_charge_per_discharge": ip.charge_material}
MAX_ROWS = 500


@memoized
def alert_rows(wh: Warehouse, scope: Scope, dept_id: str, indicator: str, period: Period,
               entity_type: str | None = None, entity_id: str | None = None) -> pd.DataFrame:
    """Up to 500 rows behind an indicator's value for one department and period, biggest first."""
    if indicator in CASE_ORDER:
        order = CASE_ORDER[indicator]
        stmt = (select(ip.case_id, ip.discharge_date, ip.admit_date, ip.los_days, ip.drg_code,
                       dim_drg.c.name_zh.label("drg_zh"), dim_drg.c.name_en.label("drg_en"), ip.group_id,
                       ip.doctor_id, ip.charge_total, ip.charge_drug, ip.charge_material, ip.drg_payment, ip.cost_total)
                .select_from(fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id)
                             .outerjoin(dim_drg, ip.drg_code == dim_drg.c.drg_code))
                .where(ip.dept_id == dept_id, ip.discharge_date.between(period.start, period.end)))
        if entity_type == "drg" and entity_id:
            stmt = stmt.where(ip.drg_code == entity_id)
        elif entity_type == "group" and entity_id:  # a medical group's alert: its own cases
            stmt = stmt.where(ip.group_id == entity_id)
        stmt = stmt.order_by(desc(order), ip.case_id).limit(MAX_ROWS)
    elif indicator in ("outpatient_visits", "charge_per_visit"):
        stmt = (select(op.date, dim_doctor.c.name.label("doctor"), func.sum(op.visits).label("visits"),
                       func.sum(op.emergency_visits).label("emergency_visits"),
                       func.sum(op.revenue_total).label("revenue_total"), func.sum(op.revenue_drug).label("revenue_drug"))
                .select_from(fact_outpatient_daily.join(dim_department, op.dept_id == dim_department.c.dept_id)
                             .outerjoin(dim_doctor, op.doctor_id == dim_doctor.c.doctor_id))
                .where(op.dept_id == dept_id, op.date.between(period.start, period.end))
                .group_by(op.date, op.doctor_id, dim_doctor.c.name).order_by(op.date, op.doctor_id).limit(MAX_ROWS))
    elif indicator == "bed_occupancy":  # the standing rule: every ward-day of the month
        wd, w = fact_ward_daily.c, dim_ward.c
        occupancy = cast(wd.occupied_beds, Float) / func.nullif(wd.open_beds, 0)
        stmt = (select(wd.date, w.name_zh.label("ward_zh"), w.name_en.label("ward_en"), wd.open_beds, wd.occupied_beds,
                       occupancy.label("occupancy"), wd.admissions, wd.discharges)
                .select_from(fact_ward_daily.join(dim_ward, wd.ward_id == w.ward_id)
                             .join(dim_department, w.dept_id == dim_department.c.dept_id))
                .where(w.dept_id == dept_id, wd.date.between(period.start, period.end))
                .order_by(wd.date, w.ward_id).limit(MAX_ROWS))
    elif indicator in ("energy_cost", "energy_per_10k_revenue"):
        cm = fact_dept_cost_monthly.c
        stmt = (select(cm.month_start, cm.allocation_stage, func.sum(cm.amount).label("amount"))
                .select_from(fact_dept_cost_monthly.join(dim_department, cm.dept_id == dim_department.c.dept_id))
                .where(cm.dept_id == dept_id, cm.cost_category == "energy",
                       cm.month_start.between(period.start.replace(day=1), period.end))
                .group_by(cm.month_start, cm.allocation_stage).order_by(cm.month_start, cm.allocation_stage)
                .limit(MAX_ROWS))
    elif indicator == "equipment_utilization" and entity_id:
        eq = fact_equipment_daily.c
        stmt = (select(eq.date, eq.equipment_id, dim_equipment.c.name_zh.label("equipment_zh"),
                       dim_equipment.c.name_en.label("equipment_en"), eq.exams, eq.hours_used, eq.revenue)
                .select_from(fact_equipment_daily.join(dim_equipment, eq.equipment_id == dim_equipment.c.equipment_id)
                             .join(dim_department, dim_equipment.c.dept_id == dim_department.c.dept_id))
                .where(eq.equipment_id == entity_id, eq.date.between(period.start, period.end))
                .order_by(eq.date).limit(MAX_ROWS))
    elif indicator == "budget_execution":
        bm = fact_budget_monthly.c
        stmt = (select(bm.month_start, bm.item_code, dim_budget_item.c.name_zh.label("item_zh"),
                       dim_budget_item.c.name_en.label("item_en"), bm.budget_amount, bm.executed_amount)
                .select_from(fact_budget_monthly.join(dim_department, bm.dept_id == dim_department.c.dept_id)
                             .join(dim_budget_item, bm.item_code == dim_budget_item.c.item_code))
                .where(bm.dept_id == dept_id, bm.month_start.between(period.start.replace(month=1, day=1),
                                                                              period.end))
                .order_by(bm.item_code, bm.month_start).limit(MAX_ROWS))
        if entity_id:
            stmt = stmt.where(bm.item_code == entity_id)
    else:
        return pd.DataFrame()
    return wh.frame(scoped(stmt, scope))
