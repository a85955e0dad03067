"""The warehouse contract (version 2) as SQLAlchemy Core tables.

Defined once; the demo generator writes these tables, the validator checks a
warehouse against them and every query selects from them.

Version 2 is additive (payment by DIP, the columns of the national appraisal, reference values):
its columns and tables carry `info={"version": 2}`, every one may be NULL or empty, and a version 1
warehouse, which lacks them, stays valid. What a warehouse has is read once per load
(`Warehouse.capabilities`); an indicator over a version 2 column it lacks is "not available in this
warehouse", never a zero.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

CONTRACT_VERSION = 2
V2 = {"version": 2}  # the info of a version 2 column or table

metadata = MetaData()

Money = Numeric(14, 2)
Num = Numeric(14, 4)
Id = String(64)
Text = String(255)


def _names() -> list[Column]:
    return [Column("name_zh", Text, nullable=False), Column("name_en", Text, nullable=False)]


dim_date = Table(
    "dim_date",
    metadata,
    Column("date", Date, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("quarter", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("iso_year", Integer, nullable=False),
    Column("iso_week", Integer, nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("is_workday", Boolean, nullable=False),
    Column("holiday_name", Text, nullable=True),
)

dim_campus = Table(
    "dim_campus",
    metadata,
    Column("campus_id", Id, primary_key=True),
    *_names(),
    Column("opened_on", Date, nullable=False),
)

dim_department = Table(
    "dim_department",
    metadata,
    Column("dept_id", Id, primary_key=True),
    *_names(),
    Column("campus_id", Id, ForeignKey("dim_campus.campus_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("division", String(16), nullable=True),
    Column("service_line", String(32), nullable=True),
    Column("open_beds", Integer, nullable=False),
    Column("floor_area_m2", Num, nullable=False),
)

dim_ward = Table(
    "dim_ward",
    metadata,
    Column("ward_id", Id, primary_key=True),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    *_names(),
    Column("open_beds", Integer, nullable=False),
)

dim_medical_group = Table(
    "dim_medical_group",
    metadata,
    Column("group_id", Id, primary_key=True),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    *_names(),
    # use_alter breaks the doctor <-> group cycle for table sorting
    Column("leader_doctor_id", Id, ForeignKey("dim_doctor.doctor_id", use_alter=True), nullable=True),
)

dim_doctor = Table(
    "dim_doctor",
    metadata,
    Column("doctor_id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("group_id", Id, ForeignKey("dim_medical_group.group_id"), nullable=True),
    Column("title", String(32), nullable=False),
)

dim_drg = Table(
    "dim_drg",
    metadata,
    Column("drg_code", Id, primary_key=True),
    Column("adrg_code", String(8), nullable=False),
    Column("mdc_code", String(4), nullable=False),
    *_names(),
    Column("weight", Num, nullable=False),
    Column("is_surgical", Boolean, nullable=False),
    Column("ref_los_days", Num, nullable=False),
    Column("ref_charge_per_case", Money, nullable=False),
    Column("risk_level", String(16), nullable=True, info=V2),  # low, mid_low, mid_high, high (低风险组 = low)
)

dim_dip = Table(  # the DIP packets in force (按病种分值付费, Diagnosis-Intervention Packet)
    "dim_dip",
    metadata,
    Column("dip_code", Id, primary_key=True),
    *_names(),
    Column("score", Num, nullable=False),  # 病种分值
    Column("is_core", Boolean, nullable=False),  # core (核心病种) or comprehensive (综合病种) packet
    Column("ref_los_days", Num, nullable=True),
    Column("ref_charge_per_case", Money, nullable=True),
    info=V2,
)

dim_equipment = Table(
    "dim_equipment",
    metadata,
    Column("equipment_id", Id, primary_key=True),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    *_names(),
    Column("category", String(16), nullable=False),
    Column("purchase_date", Date, nullable=False),
    Column("purchase_price", Money, nullable=False),
    Column("annual_maintenance_cost", Money, nullable=False),
    Column("daily_capacity", Num, nullable=False),
    Column("service_life_years", Integer, nullable=False),
)

dim_budget_item = Table(
    "dim_budget_item",
    metadata,
    Column("item_code", Id, primary_key=True),
    *_names(),
    Column("category", String(32), nullable=False),
)

_CASE_CHARGES = (
    "charge_drug", "charge_material", "charge_exam", "charge_lab", "charge_treatment",
    "charge_surgery", "charge_nursing", "charge_bed", "charge_other",
)
_CASE_COSTS = ("cost_personnel", "cost_drug", "cost_material", "cost_equipment", "cost_overhead")
_OUTPATIENT_REVENUES = (
    "revenue_drug", "revenue_material", "revenue_exam", "revenue_lab", "revenue_treatment",
    "revenue_other",
)
# The parts of a case's charges and costs and of outpatient revenue, by their column suffix.
CHARGE_PARTS = tuple(c.removeprefix("charge_") for c in _CASE_CHARGES)
CASE_COST_PARTS = tuple(c.removeprefix("cost_") for c in _CASE_COSTS)
OUTPATIENT_PARTS = tuple(c.removeprefix("revenue_") for c in _OUTPATIENT_REVENUES)
UNASSIGNED = "_none"  # the key of a drill-down's "unassigned" (未分配) member: a case with no group, or no doctor

fact_inpatient_case = Table(
    "fact_inpatient_case",
    metadata,
    Column("case_id", Id, primary_key=True),
    Column("campus_id", Id, ForeignKey("dim_campus.campus_id"), nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("ward_id", Id, ForeignKey("dim_ward.ward_id"), nullable=False),
    Column("group_id", Id, ForeignKey("dim_medical_group.group_id"), nullable=True),
    Column("doctor_id", Id, ForeignKey("dim_doctor.doctor_id"), nullable=True),
    Column("admit_date", Date, nullable=False),
    Column("discharge_date", Date, nullable=False),
    Column("los_days", Integer, nullable=False),
    Column("drg_code", Id, ForeignKey("dim_drg.drg_code"), nullable=True),
    Column("insurance_type", String(16), nullable=False),
    Column("surgery_level", Integer, nullable=False),
    Column("is_day_surgery", Boolean, nullable=False),
    Column("discharge_status", String(16), nullable=False),
    Column("charge_total", Money, nullable=False),
    *[Column(c, Money, nullable=False) for c in _CASE_CHARGES],
    Column("drg_payment", Money, nullable=False),
    Column("cost_total", Money, nullable=False),
    *[Column(c, Money, nullable=False) for c in _CASE_COSTS],
    # version 2: payment reform and the national appraisal (国考)
    Column("payment_scheme", String(16), nullable=True, info=V2),  # drg, dip, fee_for_service
    Column("dip_code", Id, ForeignKey("dim_dip.dip_code"), nullable=True, info=V2),
    Column("is_elective", Boolean, nullable=True, info=V2),  # 择期手术
    Column("is_minimally_invasive", Boolean, nullable=True, info=V2),  # 微创手术
    Column("preop_days", Integer, nullable=True, info=V2),  # 术前等待
    Column("is_unplanned_readmission_31d", Boolean, nullable=True, info=V2),  # 非预期再住院
    Column("has_surgical_complication", Boolean, nullable=True, info=V2),
    Column("fund_payment", Money, nullable=True, info=V2),  # 医保基金支付
)

fact_outpatient_daily = Table(
    "fact_outpatient_daily",
    metadata,
    Column("date", Date, ForeignKey("dim_date.date"), nullable=False),
    Column("campus_id", Id, ForeignKey("dim_campus.campus_id"), nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("doctor_id", Id, ForeignKey("dim_doctor.doctor_id"), nullable=True),
    Column("visits", Integer, nullable=False),
    Column("emergency_visits", Integer, nullable=False),
    Column("revenue_total", Money, nullable=False),
    *[Column(c, Money, nullable=False) for c in _OUTPATIENT_REVENUES],
    Column("revenue_fund", Money, nullable=True, info=V2),  # the insurance fund's part of revenue_total
)

fact_ward_daily = Table(
    "fact_ward_daily",
    metadata,
    Column("date", Date, ForeignKey("dim_date.date"), primary_key=True),
    Column("ward_id", Id, ForeignKey("dim_ward.ward_id"), primary_key=True),
    Column("open_beds", Integer, nullable=False),
    Column("occupied_beds", Integer, nullable=False),
    Column("admissions", Integer, nullable=False),
    Column("discharges", Integer, nullable=False),
)

fact_dept_cost_monthly = Table(
    "fact_dept_cost_monthly",
    metadata,
    Column("month_start", Date, nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("cost_category", String(16), nullable=False),
    Column("allocation_stage", String(16), nullable=False),
    Column("amount", Money, nullable=False),
)

fact_equipment_daily = Table(
    "fact_equipment_daily",
    metadata,
    Column("date", Date, ForeignKey("dim_date.date"), primary_key=True),
    Column("equipment_id", Id, ForeignKey("dim_equipment.equipment_id"), primary_key=True),
    Column("exams", Integer, nullable=False),
    Column("hours_used", Num, nullable=False),
    Column("revenue", Money, nullable=False),
)

fact_budget_monthly = Table(
    "fact_budget_monthly",
    metadata,
    Column("month_start", Date, nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("item_code", Id, ForeignKey("dim_budget_item.item_code"), nullable=False),
    Column("budget_amount", Money, nullable=False),
    Column("executed_amount", Money, nullable=False),
)

fact_target_annual = Table(
    "fact_target_annual",
    metadata,
    Column("year", Integer, nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("indicator_code", String(64), nullable=False),
    Column("target_value", Num, nullable=False),
)

fact_staff_monthly = Table(
    "fact_staff_monthly",
    metadata,
    Column("month_start", Date, nullable=False),
    Column("dept_id", Id, ForeignKey("dim_department.dept_id"), nullable=False),
    Column("staff_category", String(16), nullable=False),
    Column("employment_type", String(16), nullable=False),
    Column("fte", Num, nullable=False),
    Column("payroll_cost", Money, nullable=False),
)

fact_live_snapshot = Table(
    "fact_live_snapshot",
    metadata,
    Column("captured_at", DateTime, nullable=False),
    Column("campus_id", Id, ForeignKey("dim_campus.campus_id"), nullable=False),
    Column("metric_code", String(32), nullable=False),
    Column("value", Num, nullable=False),
)

fact_dip_point_value = Table(  # what one DIP point is worth (点值)
    "fact_dip_point_value",
    metadata,
    Column("year", Integer, nullable=False),
    Column("month", Integer, nullable=True),  # 1-12: the region's monthly estimate; NULL: the final settlement
    Column("insurance_type", String(16), nullable=False),
    Column("point_value", Num, nullable=False),  # yuan per point
    Column("hospital_coefficient", Num, nullable=False),  # 医院系数
    Column("is_final", Boolean, nullable=False),
    info=V2,
)

fact_benchmark = Table(  # reference values: national and provincial medians, peers, targets
    "fact_benchmark",
    metadata,
    Column("indicator_code", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("benchmark", String(32), nullable=False),
    Column("value", Numeric(20, 8), nullable=False),  # rates such as a mortality of 0.0003 keep their digits
    Column("source", Text, nullable=False),
    info=V2,
)

meta_load = Table(
    "meta_load",
    metadata,
    Column("loaded_at", DateTime, nullable=False),
    Column("data_through", Date, nullable=False),
    Column("source", Text, nullable=False),
)

TABLES: dict[str, Table] = dict(metadata.tables)
V2_TABLES = frozenset(t.name for t in metadata.sorted_tables if t.info.get("version") == 2)
# version 2 columns of version 1 tables: table -> its version 2 columns
V2_COLUMNS: dict[str, tuple[str, ...]] = {
    t.name: tuple(c.name for c in t.columns if c.info.get("version") == 2)
    for t in metadata.sorted_tables if t.name not in V2_TABLES and any(c.info.get("version") == 2 for c in t.columns)
}


def version1_columns(table: Table) -> list[Column]:
    """The table's columns in contract version 1 (a version 2 table has none)."""
    if table.name in V2_TABLES:
        return []
    return [c for c in table.columns if c.info.get("version") != 2]

# Load order: dimensions first, facts after (no FK constraints are created, but this
# keeps a half-finished load recognisable).
TABLE_ORDER = (
    "dim_date", "dim_campus", "dim_department", "dim_ward", "dim_doctor", "dim_medical_group", "dim_drg",
    "dim_dip", "dim_equipment", "dim_budget_item", "fact_inpatient_case", "fact_outpatient_daily", "fact_ward_daily",
    "fact_dept_cost_monthly", "fact_equipment_daily", "fact_budget_monthly", "fact_target_annual",
    "fact_staff_monthly", "fact_live_snapshot", "fact_dip_point_value", "fact_benchmark", "meta_load",
)

# Indexes that the queries lean on; the loader (data_layer/load.py) creates them after loading.
Index("ix_case_discharge", fact_inpatient_case.c.discharge_date)
Index("ix_case_dept", fact_inpatient_case.c.dept_id, fact_inpatient_case.c.discharge_date)
Index("ix_outpatient_date", fact_outpatient_daily.c.date)
Index("ix_outpatient_dept", fact_outpatient_daily.c.dept_id, fact_outpatient_daily.c.date)
Index("ix_ward_daily_date", fact_ward_daily.c.date)
Index("ix_equipment_daily_date", fact_equipment_daily.c.date)
Index("ix_cost_month", fact_dept_cost_monthly.c.month_start, fact_dept_cost_monthly.c.dept_id)
Index("ix_budget_month", fact_budget_monthly.c.month_start, fact_budget_monthly.c.dept_id)
Index("ix_staff_month", fact_staff_monthly.c.month_start, fact_staff_monthly.c.dept_id)
Index("ix_live_captured", fact_live_snapshot.c.captured_at)

# Allowed values of the coded columns: (table, column) -> allowed set.
ALLOWED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("dim_department", "kind"): frozenset({"clinical", "medtech", "support", "admin"}),
    ("dim_department", "division"): frozenset({"medical", "surgical"}),
    ("dim_department", "service_line"): frozenset(
        {"orthopedics", "digestive", "neuro", "cardiac", "ent_eye_oral", "women_children",
         "rehabilitation", "other"}
    ),
    ("dim_doctor", "title"): frozenset({"chief", "associate_chief", "attending", "resident"}),
    ("dim_equipment", "category"): frozenset(
        {"CT", "MRI", "DSA", "PET_CT", "LINAC", "DR", "ULTRASOUND", "ENDOSCOPY", "OTHER"}
    ),
    ("dim_budget_item", "category"): frozenset(
        {"personnel", "drugs_materials", "equipment", "operations", "research", "infrastructure"}
    ),
    ("fact_inpatient_case", "insurance_type"): frozenset(
        {"employee", "resident", "self_pay", "commercial", "other"}
    ),
    ("fact_inpatient_case", "discharge_status"): frozenset(
        {"home", "transfer", "died", "against_advice"}
    ),
    ("fact_dept_cost_monthly", "cost_category"): frozenset(
        {"personnel", "drug", "material", "depreciation", "amortization", "risk_fund", "energy",
         "other"}
    ),
    ("fact_dept_cost_monthly", "allocation_stage"): frozenset({"direct", "admin", "support", "medtech"}),
    ("fact_staff_monthly", "staff_category"): frozenset(
        {"doctor", "nurse", "technician", "pharmacist", "admin", "other"}
    ),
    ("fact_staff_monthly", "employment_type"): frozenset(
        {"established", "contract", "dispatched", "rehired", "trainee"}
    ),
    ("fact_inpatient_case", "payment_scheme"): frozenset({"drg", "dip", "fee_for_service"}),
    ("dim_drg", "risk_level"): frozenset({"low", "mid_low", "mid_high", "high"}),
    ("fact_dip_point_value", "insurance_type"): frozenset({"employee", "resident", "self_pay", "commercial", "other"}),
    ("fact_benchmark", "benchmark"): frozenset({"national_median", "provincial_median", "peer_median", "target"}),
    ("fact_live_snapshot", "metric_code"): frozenset(
        {"outpatient_visits_today", "emergency_visits_today", "inpatients_now", "admissions_today",
         "discharges_today", "surgeries_today", "beds_available"}
    ),
}

# Component columns that must add up to a total within 0.01: table -> (total, parts).
COMPONENT_SUMS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "fact_inpatient_case": [("charge_total", _CASE_CHARGES), ("cost_total", _CASE_COSTS)],
    "fact_outpatient_daily": [("revenue_total", _OUTPATIENT_REVENUES)],
}

# Date columns of facts that dim_date must cover, and month columns that must be month starts.
FACT_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "fact_inpatient_case": ("admit_date", "discharge_date"),
    "fact_outpatient_daily": ("date",),
    "fact_ward_daily": ("date",),
    "fact_equipment_daily": ("date",),
}
FACT_MONTH_COLUMNS: dict[str, str] = {
    "fact_dept_cost_monthly": "month_start",
    "fact_budget_monthly": "month_start",
    "fact_staff_monthly": "month_start",
}


def complete(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every contract table, with every column: a frame or column the source did not give (a
    version 2 table or column of a version 1 source) is there, empty or NULL."""
    out = dict(tables)
    for name in TABLE_ORDER:
        cols = [c.name for c in metadata.tables[name].columns]
        df = out.get(name)
        if df is None:
            out[name] = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
            continue
        missing = [c for c in cols if c not in df.columns]
        if missing:
            out[name] = df.assign(**{c: None for c in missing})
    return out
