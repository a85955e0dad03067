"""The indicator registry: every indicator defined once.

A *measure* is one SQL aggregate over one source (a fact table with its
dimensions). An *indicator* is a formula over measures; the database computes
the measures, the formula combines a handful of aggregated numbers. Pages,
targets, alerts, exports, the command line and docs/indicators.md all read this
module, so an indicator means the same everywhere.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Double, and_, case, cast, distinct, func

from .arrays import divide
from .errors import UserError
from .schema import (
    dim_department,
    dim_dip,
    dim_drg,
    dim_equipment,
    fact_budget_monthly,
    fact_dept_cost_monthly,
    fact_equipment_daily,
    fact_inpatient_case,
    fact_outpatient_daily,
    fact_staff_monthly,
    fact_ward_daily,
)


class Level(StrEnum):
    """Where figures are grouped."""

    hospital = "hospital"
    campus = "campus"
    division = "division"
    department = "department"
    ward = "ward"
    group = "group"
    doctor = "doctor"
    drg = "drg"

    @classmethod
    def parse(cls, text: str) -> Level:
        t = (text or "").strip().lower().replace("-", "_")
        t = {"dept": "department", "medical_group": "group", "drg_group": "drg", "whole": "hospital"}.get(t, t)
        try:
            return cls(t)
        except ValueError:
            raise UserError(
                f"unknown level {text!r}: use one of {', '.join(lv.value for lv in cls)}") from None


ALL_LEVELS = frozenset(Level)
DEPT_LEVELS = frozenset({Level.hospital, Level.campus, Level.division, Level.department})


@dataclass(frozen=True)
class MeasureContext:
    """What a measure's SQL may depend on besides its source."""

    level: Level
    closed_total: bool  # the group is closed under cost allocation (whole hospital or campus)


@dataclass(frozen=True)
class Measure:
    code: str
    source: str
    sql: Callable[[MeasureContext], ColumnElement]
    description: str
    needs: frozenset[str] = frozenset()  # extra joins: "drg", "doctor", "dip"
    # contract version 2 parts it reads ("table.column" or "table", Warehouse.capabilities): a
    # warehouse without them cannot give the measure, and the summary tables never hold it
    requires: frozenset[str] = frozenset()


# ----------------------------------------------------------------------- formulas
Columns = Mapping[str, Any]  # measure code -> its values (a numpy array, or a frame's column)


class Expr:
    """A formula over measures that evaluates on columns of measures and renders as text."""

    def evaluate(self, frame: Columns) -> np.ndarray:
        raise NotImplementedError

    def render(self) -> str:
        raise NotImplementedError

    def measures(self) -> frozenset[str]:
        raise NotImplementedError

    def _bin(self, op: str, other: Expr | float, swap: bool = False) -> Expr:
        o = other if isinstance(other, Expr) else K(float(other))
        return BinOp(op, o, self) if swap else BinOp(op, self, o)

    def __add__(self, o):
        return self._bin("+", o)

    def __sub__(self, o):
        return self._bin("-", o)

    def __mul__(self, o):
        return self._bin("*", o)

    def __truediv__(self, o):
        return self._bin("/", o)

    def __rmul__(self, o):
        return self._bin("*", o, swap=True)


@dataclass(frozen=True)
class M(Expr):
    code: str

    def evaluate(self, frame: Columns) -> np.ndarray:
        return np.asarray(frame[self.code], dtype=float)

    def render(self) -> str:
        return self.code

    def measures(self) -> frozenset[str]:
        return frozenset({self.code})


@dataclass(frozen=True)
class K(Expr):
    value: float

    def evaluate(self, frame: Columns) -> np.ndarray:
        return np.float64(self.value)  # broadcast against the measures

    def render(self) -> str:
        return f"{self.value:g}"

    def measures(self) -> frozenset[str]:
        return frozenset()


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


@dataclass(frozen=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr

    def evaluate(self, frame: Columns) -> np.ndarray:
        a, b = self.left.evaluate(frame), self.right.evaluate(frame)
        if self.op == "/":
            return divide(a, b)  # nothing to divide by: no figure
        return _OPS[self.op](a, b)

    def render(self) -> str:
        def wrap(e: Expr) -> str:
            return f"({e.render()})" if isinstance(e, BinOp) and e.op in "+-" else e.render()

        if self.op in "+-":
            right = self.right.render()
            if isinstance(self.right, BinOp) and self.right.op in "+-":
                right = f"({right})"
            return f"{self.left.render()} {self.op} {right}"
        right = f"({self.right.render()})" if self.op == "/" and isinstance(self.right, BinOp) else wrap(self.right)
        return f"{wrap(self.left)} {'×' if self.op == '*' else '/'} {right}"

    def measures(self) -> frozenset[str]:
        return self.left.measures() | self.right.measures()


# ------------------------------------------------------------------------ measures
ip, op, wd, cm = fact_inpatient_case.c, fact_outpatient_daily.c, fact_ward_daily.c, fact_dept_cost_monthly.c
eq, bm, sm = fact_equipment_daily.c, fact_budget_monthly.c, fact_staff_monthly.c
dept = dim_department.c


def _sum(col) -> Callable[[MeasureContext], ColumnElement]:
    return lambda _ctx: func.sum(col)


def _sum_if(cond, value=1) -> Callable[[MeasureContext], ColumnElement]:
    return lambda _ctx: func.sum(case((cond, value), else_=0))


def _cost(category: str | None = None, stage: str | None = None) -> Callable[[MeasureContext], ColumnElement]:
    """Full cost (optionally of one category): all of a department's rows; for a group
    closed under allocation (whole hospital or campus) the direct rows only; for other
    groups of departments the full cost of the clinical departments (the final cost
    objects of the step-down), so that no money is counted twice."""

    def build(ctx: MeasureContext) -> ColumnElement:
        conds = []
        if category is not None:
            conds.append(cm.cost_category == category)
        if stage is not None:
            conds.append(cm.allocation_stage == stage)
        elif ctx.level in (Level.hospital, Level.campus, Level.division):
            conds.append(cm.allocation_stage == "direct" if ctx.closed_total and ctx.level != Level.division
                         else dept.kind == "clinical")
        if not conds:
            return func.sum(cm.amount)
        cond = conds[0]
        for c in conds[1:]:
            cond = cond & c
        return func.sum(case((cond, cm.amount), else_=0))

    return build


def _ratio_sum(num, den) -> Callable[[MeasureContext], ColumnElement]:
    return lambda _ctx: func.sum(cast(num, Double) / cast(den, Double))


_grouped = ip.drg_code.is_not(None)
_operated = ip.surgery_level > 0
_dip = ip.payment_scheme == "dip"


def _known_count(flag, among=None) -> Callable[[MeasureContext], ColumnElement]:
    """Cases where a version 2 flag is true, among the cases where it is known (1 or 0 each, else
    NULL): a warehouse that leaves the flag empty gets no figure, never a zero that looks like data."""
    yes, no = flag.is_(True), flag.is_(False)
    if among is not None:
        yes, no = and_(among, yes), and_(among, no)
    return lambda _ctx: func.sum(case((yes, 1), (no, 0)))


def _v2(*cols) -> frozenset[str]:
    return frozenset(f"{c.table.name}.{c.name}" for c in cols)

MEASURES: dict[str, Measure] = {m.code: m for m in [
    # inpatient cases (period: discharge date)
    Measure("discharges", "inpatient", lambda _c: func.count(ip.case_id), "number of discharged cases"),
    Measure("los_days", "inpatient", _sum(ip.los_days), "Σ los_days"),
    Measure("ip_charge", "inpatient", _sum(ip.charge_total), "Σ charge_total"),
    *[Measure(f"ip_{c}", "inpatient", _sum(getattr(ip, f"charge_{c}")), f"Σ charge_{c}")
      for c in ("drug", "material", "exam", "lab", "treatment", "surgery", "nursing", "bed", "other")],
    Measure("ip_cost", "inpatient", _sum(ip.cost_total), "Σ cost_total"),
    Measure("surgeries", "inpatient", _sum_if(ip.surgery_level > 0), "cases with surgery_level > 0"),
    Measure("level4_surgeries", "inpatient", _sum_if(ip.surgery_level == 4), "cases with surgery_level = 4"),
    Measure("day_surgeries", "inpatient", _sum_if(ip.is_day_surgery.is_(True)), "cases with is_day_surgery"),
    Measure("deaths", "inpatient", _sum_if(ip.discharge_status == "died"), "cases with discharge_status = died"),
    Measure("grouped_cases", "inpatient", lambda _c: func.count(ip.drg_code), "cases with a drg_code"),
    Measure("grouped_payment", "inpatient", _sum_if(_grouped, ip.drg_payment), "Σ drg_payment of grouped cases"),
    Measure("grouped_cost", "inpatient", _sum_if(_grouped, ip.cost_total), "Σ cost_total of grouped cases"),
    Measure("weight_sum", "inpatient", _sum(dim_drg.c.weight), "Σ dim_drg.weight of grouped cases",
            frozenset({"drg"})),
    Measure("high_weight_cases", "inpatient", _sum_if(dim_drg.c.weight >= 2), "grouped cases with weight ≥ 2",
            frozenset({"drg"})),
    Measure("los_ratio_sum", "inpatient", _ratio_sum(ip.los_days, dim_drg.c.ref_los_days),
            "Σ los_days / dim_drg.ref_los_days over grouped cases", frozenset({"drg"})),
    Measure("charge_ratio_sum", "inpatient", _ratio_sum(ip.charge_total, dim_drg.c.ref_charge_per_case),
            "Σ charge_total / dim_drg.ref_charge_per_case over grouped cases", frozenset({"drg"})),
    # contract version 2: payment by DIP and the national appraisal (国考)
    Measure("dip_cases", "inpatient", _sum_if(_dip), "cases with payment_scheme = dip",
            requires=_v2(ip.payment_scheme)),
    Measure("dip_payment", "inpatient", _sum_if(_dip, ip.drg_payment), "Σ drg_payment of DIP cases (the estimate)",
            requires=_v2(ip.payment_scheme)),
    Measure("dip_cost", "inpatient", _sum_if(_dip, ip.cost_total), "Σ cost_total of DIP cases",
            requires=_v2(ip.payment_scheme)),
    Measure("dip_points", "inpatient", _sum_if(_dip, dim_dip.c.score), "Σ dim_dip.score of DIP cases",
            frozenset({"dip"}), requires=_v2(ip.payment_scheme, ip.dip_code) | {"dim_dip"}),
    Measure("elective_operations", "inpatient",
            lambda _c: func.sum(case((ip.is_day_surgery.is_(True), 1), (ip.is_elective.is_(True), 1),
                                     (ip.is_elective.is_(False), 0))),
            "elective cases (is_elective, or a day surgery), among cases where is_elective is known",
            requires=_v2(ip.is_elective)),
    Measure("mi_operations", "inpatient", _known_count(ip.is_minimally_invasive, _operated),
            "cases with surgery_level > 0 and is_minimally_invasive, where known",
            requires=_v2(ip.is_minimally_invasive)),
    Measure("preop_days_sum", "inpatient", _sum_if(and_(_operated, ip.preop_days.is_not(None)), ip.preop_days),
            "Σ preop_days of cases with surgery_level > 0", requires=_v2(ip.preop_days)),
    Measure("preop_cases", "inpatient", _sum_if(and_(_operated, ip.preop_days.is_not(None))),
            "cases with surgery_level > 0 and a known preop_days", requires=_v2(ip.preop_days)),
    Measure("readmissions", "inpatient", _known_count(ip.is_unplanned_readmission_31d),
            "cases with is_unplanned_readmission_31d, where known", requires=_v2(ip.is_unplanned_readmission_31d)),
    Measure("complications", "inpatient", _known_count(ip.has_surgical_complication, _operated),
            "cases with surgery_level > 0 and has_surgical_complication, where known",
            requires=_v2(ip.has_surgical_complication)),
    Measure("low_risk_cases", "inpatient", _sum_if(dim_drg.c.risk_level == "low"),
            "cases in DRG groups with risk_level = low", frozenset({"drg"}), requires=_v2(dim_drg.c.risk_level)),
    Measure("low_risk_deaths", "inpatient", _sum_if(and_(dim_drg.c.risk_level == "low", ip.discharge_status == "died")),
            "deaths in DRG groups with risk_level = low", frozenset({"drg"}), requires=_v2(dim_drg.c.risk_level)),
    Measure("fund_payment", "inpatient", _sum(ip.fund_payment), "Σ fund_payment", requires=_v2(ip.fund_payment)),
    # outpatient (period: date)
    Measure("visits", "outpatient", _sum(op.visits), "Σ visits"),
    Measure("emergency", "outpatient", _sum(op.emergency_visits), "Σ emergency_visits"),
    Measure("op_revenue", "outpatient", _sum(op.revenue_total), "Σ revenue_total"),
    *[Measure(f"op_{c}", "outpatient", _sum(getattr(op, f"revenue_{c}")), f"Σ revenue_{c}")
      for c in ("drug", "material", "exam", "lab", "treatment", "other")],
    Measure("op_fund", "outpatient", _sum(op.revenue_fund), "Σ revenue_fund", requires=_v2(op.revenue_fund)),
    # wards (period: date)
    Measure("occupied_bed_days", "ward", _sum(wd.occupied_beds), "Σ occupied_beds over ward-days"),
    Measure("open_bed_days", "ward", _sum(wd.open_beds), "Σ open_beds over ward-days"),
    Measure("ward_admissions", "ward", _sum(wd.admissions), "Σ admissions"),
    Measure("ward_days", "ward", lambda _c: func.count(distinct(wd.date)), "number of days with ward rows"),
    # department cost after step-down (monthly)
    Measure("full_cost", "cost", _cost(), "Σ amount (see the full-cost rule)"),
    Measure("direct_cost", "cost", _cost(stage="direct"), "Σ amount of direct rows"),
    *[Measure(f"cost_from_{s}", "cost", _cost(stage=s), f"Σ amount allocated from the {s} tier")
      for s in ("admin", "support", "medtech")],
    *[Measure(f"cost_{c}", "cost", _cost(category=c), f"full cost of category {c}")
      for c in ("personnel", "drug", "material", "depreciation", "amortization", "risk_fund", "energy", "other")],
    # staff (monthly)
    Measure("fte_months", "staff", _sum(sm.fte), "Σ fte over months"),
    Measure("doctor_fte_months", "staff", _sum_if(sm.staff_category == "doctor", sm.fte), "Σ fte of doctors"),
    Measure("nurse_fte_months", "staff", _sum_if(sm.staff_category == "nurse", sm.fte), "Σ fte of nurses"),
    Measure("pharmacist_fte_months", "staff", _sum_if(sm.staff_category == "pharmacist", sm.fte),
            "Σ fte of pharmacists"),
    Measure("staff_months", "staff", lambda _c: func.count(distinct(sm.month_start)), "number of months"),
    Measure("payroll", "staff", _sum(sm.payroll_cost), "Σ payroll_cost"),
    # budget (monthly)
    Measure("budget", "budget", _sum(bm.budget_amount), "Σ budget_amount"),
    Measure("executed", "budget", _sum(bm.executed_amount), "Σ executed_amount"),
    # equipment (period: date)
    Measure("exams", "equipment", _sum(eq.exams), "Σ exams"),
    Measure("equipment_hours", "equipment", _sum(eq.hours_used), "Σ hours_used"),
    Measure("equipment_revenue", "equipment", _sum(eq.revenue), "Σ revenue"),
    Measure("capacity", "capacity", _sum(dim_equipment.c.daily_capacity),
            "Σ daily_capacity over working days (dim_date.is_workday) on or after purchase_date"),
    # department attributes (no period)
    Measure("floor_area", "department", _sum(dept.floor_area_m2), "Σ dim_department.floor_area_m2"),
    Measure("equipment_value", "fleet", _sum(dim_equipment.c.purchase_price), "Σ dim_equipment.purchase_price"),
]}


# ---------------------------------------------------------------------- indicators
UNITS: dict[str, tuple[str, str]] = {
    "count": ("人次/例", "count"),
    "cases": ("例", "cases"),
    "visits": ("人次", "visits"),
    "bed_days": ("床日", "bed-days"),
    "yuan": ("元", "yuan"),
    "ratio": ("%", "%"),
    "days": ("天", "days"),
    "index": ("", "index"),
    "times": ("次", "times"),
    "yuan_per_m2": ("元/平方米", "yuan/m²"),
    "fte": ("人", "FTE"),
    "per_fte": ("元/人", "yuan/FTE"),
    "per_bed": ("人/床", "per bed"),
    "per_doctor": ("例/人", "cases/doctor FTE"),
    "yuan_per_10k": ("元/万元", "yuan per 10,000 yuan"),
    "hours": ("小时", "hours"),
}

DIMENSIONS: dict[str, tuple[str, str]] = {
    "volume": ("业务量", "Volume"),
    "efficiency": ("效率", "Efficiency"),
    "revenue": ("收入与结构", "Revenue and mix"),
    "drg": ("DRG与学科能力", "DRG and case mix"),
    "cost": ("成本与收益", "Cost and balance"),
    "equipment": ("设备", "Equipment"),
    "budget": ("预算", "Budget"),
    "staff": ("人力", "Staff"),
    "quality": ("医疗质量", "Medical quality"),
    "payment": ("医保支付", "Insurance payment"),
}

# The five dimensions of the clinical department cost monitoring model.
MONITOR_DIMENSIONS: dict[str, tuple[str, str]] = {
    "human": ("人力资源", "Human resources"),
    "equipment": ("设备资源", "Equipment"),
    "drugs_consumables": ("药品耗材", "Drugs and consumables"),
    "space_beds": ("空间与床位", "Space and beds"),
    "energy": ("能耗", "Energy"),
}


@dataclass(frozen=True)
class HealthyRange:
    """The band a level indicator should stay in (either bound may be open). Outside it, moving
    back toward the band is good and moving further out is bad, whatever the indicator's direction;
    the alert rules flag a value beyond `high` (or below `low`) at `alert_level`."""

    low: float | None = None
    high: float | None = None
    alert_level: str = "yellow"

    def side(self, value: float) -> int:
        """-1 below the band, 1 above it, 0 inside (or a missing value)."""
        if value != value:
            return 0
        if self.low is not None and value < self.low:
            return -1
        if self.high is not None and value > self.high:
            return 1
        return 0


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    unit: str
    higher_is_better: bool | None  # None: neither direction is good in itself
    dimension: str
    formula: Expr
    volume: bool = False  # a count that accrues with working days (targets pace by working days)
    monitor: str | None = None  # dimension of the cost monitoring model, if part of it
    note_en: str = ""
    note_zh: str = ""
    healthy: HealthyRange | None = None  # where national or institutional practice sets one
    # a growth indicator: this indicator's formula over the period against the same period a year
    # earlier, as a fraction (次均费用增幅); the code of the indicator it is the growth of
    growth_of: str | None = None
    measures: frozenset[str] = field(init=False)
    sources: frozenset[str] = field(init=False)
    requires: frozenset[str] = field(init=False)  # contract version 2 parts it needs

    def __post_init__(self) -> None:
        ms = self.formula.measures()
        unknown = ms - MEASURES.keys()
        if unknown:
            raise ValueError(f"indicator {self.code} uses unknown measures {sorted(unknown)}")
        object.__setattr__(self, "measures", ms)
        object.__setattr__(self, "sources", frozenset(MEASURES[m].source for m in ms))
        object.__setattr__(self, "requires", frozenset().union(*(MEASURES[m].requires for m in ms)))
        if self.growth_of is not None and self.monthly:
            raise ValueError(f"growth indicator {self.code}: only indicators of daily facts can be compared "
                             "with the same days a year earlier")

    @property
    def monthly(self) -> bool:
        """Built on month-level facts: only whole months are counted."""
        return bool(self.sources & MONTHLY_SOURCES)

    @property
    def levels(self) -> frozenset[Level]:
        out = frozenset(ALL_LEVELS)
        for s in self.sources:
            out &= SOURCE_LEVELS[s]
        return out

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en

    def evaluate(self, frame: Columns, rows: int) -> np.ndarray:
        """The indicator for `rows` members, from their measures (numpy arrays or a frame's columns)."""
        return np.broadcast_to(np.asarray(self.formula.evaluate(frame), dtype=float), (rows,)).copy()


MONTHLY_SOURCES = frozenset({"cost", "staff", "budget"})
SOURCE_LEVELS: dict[str, frozenset[Level]] = {
    "inpatient": ALL_LEVELS,
    "outpatient": frozenset({*DEPT_LEVELS, Level.group, Level.doctor}),
    "ward": frozenset({*DEPT_LEVELS, Level.ward}),
    "cost": DEPT_LEVELS,
    "staff": DEPT_LEVELS,
    "budget": DEPT_LEVELS,
    "equipment": DEPT_LEVELS,
    "capacity": DEPT_LEVELS,
    "department": DEPT_LEVELS,
    "fleet": DEPT_LEVELS,
}

revenue = M("ip_charge") + M("op_revenue")
drug = M("ip_drug") + M("op_drug")
material = M("ip_material") + M("op_material")
avg_open_beds = M("open_bed_days") / M("ward_days")

_I = Indicator
INDICATORS: dict[str, Indicator] = {i.code: i for i in [
    # volume
    _I("outpatient_visits", "门急诊人次", "Outpatient and emergency visits", "visits", True, "volume", M("visits"), True),
    _I("emergency_visits", "急诊人次", "Emergency visits", "visits", None, "volume", M("emergency"), True),
    _I("admissions", "入院人次", "Admissions", "cases", True, "volume", M("ward_admissions"), True),
    _I("discharges", "出院人次", "Discharges", "cases", True, "volume", M("discharges"), True),
    _I("bed_days", "实际占用总床日数", "Occupied bed-days", "bed_days", True, "volume", M("occupied_bed_days"), True),
    _I("surgeries", "手术例数", "Surgical cases", "cases", True, "volume", M("surgeries"), True),
    _I("level4_surgeries", "四级手术例数", "Level-4 surgical cases", "cases", True, "volume",
       M("level4_surgeries"), True),
    _I("day_surgeries", "日间手术例数", "Day surgeries", "cases", True, "volume", M("day_surgeries"), True),
    _I("surgery_share", "出院患者手术占比", "Share of discharges with an operation", "ratio", True, "drg",
       M("surgeries") / M("discharges")),
    _I("level4_surgery_share", "四级手术占比", "Level-4 surgery share", "ratio", True, "drg",
       M("level4_surgeries") / M("surgeries")),
    _I("day_surgery_rate", "日间手术占手术比例", "Day surgeries per operation", "ratio", True, "efficiency",
       M("day_surgeries") / M("surgeries")),
    # efficiency
    _I("alos", "平均住院日", "Average length of stay", "days", False, "efficiency",
       M("los_days") / M("discharges"), monitor="space_beds"),
    _I("bed_occupancy", "床位使用率", "Bed occupancy", "ratio", True, "efficiency",
       M("occupied_bed_days") / M("open_bed_days"), monitor="space_beds",
       note_en="Above 100% means extra beds (加床). Healthy range 85%–105%: above 105% is an overload that the "
               "alert rules flag, so a rise there counts as worse, not better.",
       note_zh="超过100%表示加床。合理区间85%–105%：超过105%为超负荷，预警规则会提示，此时继续上升视为变差。",
       healthy=HealthyRange(0.85, 1.05, "yellow")),
    _I("bed_turnover", "床位周转次数", "Bed turnover", "times", True, "efficiency",
       M("discharges") / avg_open_beds, monitor="space_beds",
       note_en="Discharges per average open bed over the period.", note_zh="期内出院人次 / 平均开放床位数。"),
    _I("mortality", "住院患者死亡率", "Inpatient mortality", "ratio", False, "drg", M("deaths") / M("discharges")),
    # revenue
    _I("revenue_total", "医疗收入", "Medical revenue", "yuan", True, "revenue", revenue),
    _I("outpatient_revenue", "门急诊收入", "Outpatient revenue", "yuan", True, "revenue", M("op_revenue")),
    _I("outpatient_revenue_share", "门诊收入占医疗收入比例", "Outpatient share of medical revenue", "ratio", None,
       "revenue", M("op_revenue") / revenue),
    _I("inpatient_revenue", "住院收入", "Inpatient revenue", "yuan", True, "revenue", M("ip_charge")),
    _I("bed_revenue", "床位收入", "Bed revenue", "yuan", None, "revenue", M("ip_bed")),
    _I("drug_share", "药占比", "Drug share of medical revenue", "ratio", False, "revenue", drug / revenue,
       monitor="drugs_consumables", healthy=HealthyRange(None, 0.45, "orange"),
       note_en="The hospital's ceiling is 45%; the alert rules flag a department above it.",
       note_zh="本院上限45%，超过时预警规则会提示。"),
    _I("material_share", "耗占比", "Material share of medical revenue", "ratio", False, "revenue",
       material / revenue, monitor="drugs_consumables", healthy=HealthyRange(None, 0.35, "orange"),
       note_en="The hospital's ceiling is 35%; the alert rules flag a department above it.",
       note_zh="本院上限35%，超过时预警规则会提示。"),
    _I("service_revenue_share", "医疗服务收入占比", "Medical-service revenue share", "ratio", True, "revenue",
       (revenue - drug - material - M("ip_exam") - M("op_exam") - M("ip_lab") - M("op_lab")) / revenue),
    _I("charge_per_discharge", "次均住院费用", "Charge per discharge", "yuan", False, "revenue",
       M("ip_charge") / M("discharges")),
    _I("charge_per_visit", "次均门诊费用", "Charge per outpatient visit", "yuan", False, "revenue",
       M("op_revenue") / M("visits")),
    _I("drug_charge_per_visit", "门诊次均药品费用", "Drug charge per outpatient visit", "yuan", False, "revenue",
       M("op_drug") / M("visits"), monitor="drugs_consumables"),
    _I("material_charge_per_discharge", "住院次均卫生材料费用", "Material charge per discharge", "yuan", False,
       "revenue", M("ip_material") / M("discharges"), monitor="drugs_consumables"),
    _I("drug_charge_per_discharge", "住院次均药品费用", "Drug charge per discharge", "yuan", False, "revenue",
       M("ip_drug") / M("discharges")),  # the alerts watch it per medical group; not one of the cost model's 18
    # DRG
    _I("cmi", "病例组合指数", "Case mix index (CMI)", "index", True, "drg", M("weight_sum") / M("grouped_cases")),
    _I("grouped_rate", "入组率", "DRG grouping rate", "ratio", True, "drg", M("grouped_cases") / M("discharges")),
    _I("time_index", "时间消耗指数", "Time consumption index", "index", False, "drg",
       M("los_ratio_sum") / M("grouped_cases"),
       note_en="Σ over groups of cases × (ALOS / ref_los_days) / grouped cases, computed per case.",
       note_zh="按病例计算：Σ(住院日/组参考住院日) / 入组病例数。"),
    _I("cost_index", "费用消耗指数", "Cost consumption index", "index", False, "drg",
       M("charge_ratio_sum") / M("grouped_cases"),
       note_en="Σ over groups of cases × (average charge / ref_charge_per_case) / grouped cases.",
       note_zh="按病例计算：Σ(住院费用/组参考次均费用) / 入组病例数。"),
    _I("high_weight_share", "RW≥2病例占比", "Share of cases with weight ≥ 2", "ratio", True, "drg",
       M("high_weight_cases") / M("grouped_cases")),
    _I("drg_payment", "DRG支付总额", "DRG payment", "yuan", None, "drg", M("grouped_payment")),
    _I("drg_cost", "DRG病例成本", "DRG case cost", "yuan", False, "drg", M("grouped_cost")),
    _I("drg_margin", "DRG结余", "DRG margin", "yuan", True, "drg", M("grouped_payment") - M("grouped_cost")),
    _I("drg_margin_per_case", "DRG例均结余", "DRG margin per case", "yuan", True, "drg",
       (M("grouped_payment") - M("grouped_cost")) / M("grouped_cases")),
    # cost and balance
    _I("full_cost", "科室全成本", "Full cost", "yuan", False, "cost", M("full_cost"),
       note_en="A department: all its rows (direct and allocated). The whole hospital or a campus: direct rows "
               "only. Other groups of departments: the full cost of their clinical departments.",
       note_zh="科室：全部成本行（直接成本与分摊）。全院或院区：仅直接成本。其他科室组合：其中临床科室的全成本之和。"),
    _I("direct_cost", "直接成本", "Direct cost", "yuan", False, "cost", M("direct_cost")),
    _I("allocated_cost", "分摊成本", "Allocated cost", "yuan", False, "cost",
       M("cost_from_admin") + M("cost_from_support") + M("cost_from_medtech")),
    _I("admin_allocated_cost", "行政后勤分摊成本", "Cost allocated from admin departments", "yuan", False, "cost",
       M("cost_from_admin")),
    _I("support_allocated_cost", "辅助科室分摊成本", "Cost allocated from support departments", "yuan", False, "cost",
       M("cost_from_support")),
    _I("medtech_allocated_cost", "医技科室分摊成本", "Cost allocated from medical-technical departments", "yuan", False,
       "cost", M("cost_from_medtech")),
    _I("balance", "收支结余", "Balance (revenue − full cost)", "yuan", True, "cost", revenue - M("full_cost")),
    _I("margin", "结余率", "Margin", "ratio", True, "cost", (revenue - M("full_cost")) / revenue),
    _I("personnel_cost_share", "人员经费占比", "Personnel cost share", "ratio", True, "cost",
       M("cost_personnel") / M("full_cost"), monitor="human",
       note_en="Higher is better in the national assessment of public hospitals (pay reform).",
       note_zh="国家三级公立医院绩效考核导向：占比提高为优。"),
    _I("revenue_per_fte", "人均医疗收入", "Medical revenue per FTE", "per_fte", True, "staff",
       revenue / (M("fte_months") / M("staff_months")), monitor="human"),
    _I("nurses_per_bed", "床护比", "Nurses per bed", "per_bed", True, "staff",
       (M("nurse_fte_months") / M("staff_months")) / avg_open_beds, monitor="human"),
    _I("nurses_per_doctor", "医护比", "Nurses per doctor", "index", True, "staff",
       M("nurse_fte_months") / M("doctor_fte_months"),
       note_en="Nurse FTE per doctor FTE (the appraisal writes it 1 : x).", note_zh="护士与医师的全时当量之比（1:x）。"),
    _I("pharmacists_per_100_beds", "每百张病床药师人数", "Pharmacists per 100 beds", "per_bed", True, "staff",
       (M("pharmacist_fte_months") / M("staff_months")) / avg_open_beds * 100),
    _I("discharges_per_doctor", "医师人均出院人次", "Discharges per doctor FTE", "per_doctor", True, "staff",
       M("discharges") / (M("doctor_fte_months") / M("staff_months")), monitor="human"),
    _I("staff_fte", "平均在岗人数", "Average staff (FTE)", "fte", None, "staff", M("fte_months") / M("staff_months")),
    _I("payroll_cost", "薪酬支出", "Payroll cost", "yuan", None, "staff", M("payroll")),
    _I("depreciation_share", "折旧成本占比", "Depreciation share of full cost", "ratio", False, "cost",
       M("cost_depreciation") / M("full_cost"), monitor="equipment"),
    _I("energy_cost", "能耗成本", "Energy cost", "yuan", False, "cost", M("cost_energy")),
    _I("energy_per_10k_revenue", "万元医疗收入能耗", "Energy cost per 10,000 yuan of medical revenue",
       "yuan_per_10k", False, "cost", M("cost_energy") / revenue * 10000, monitor="energy"),
    _I("energy_per_m2", "单位面积能耗", "Energy cost per m²", "yuan_per_m2", False, "cost",
       M("cost_energy") / M("floor_area"), monitor="energy"),
    _I("energy_per_bed_day", "每床日能耗", "Energy cost per occupied bed-day", "yuan", False, "cost",
       M("cost_energy") / M("occupied_bed_days"), monitor="energy"),
    _I("revenue_per_m2", "单位面积医疗收入", "Medical revenue per m²", "yuan_per_m2", True, "revenue",
       revenue / M("floor_area"), monitor="space_beds"),
    # equipment
    _I("equipment_utilization", "设备使用率", "Equipment utilization", "ratio", True, "equipment",
       M("exams") / M("capacity"), monitor="equipment",
       note_en="Exams / (daily_capacity × working days); above 100% means saturated.",
       note_zh="检查人次 / (日额定能力 × 工作日数)；超过100%为饱和。"),
    _I("equipment_exams", "设备检查人次", "Equipment exams", "count", True, "equipment", M("exams"), True),
    _I("equipment_revenue", "设备收入", "Equipment revenue", "yuan", True, "equipment", M("equipment_revenue")),
    _I("equipment_revenue_per_10k_value", "百元设备收入", "Equipment revenue per 10,000 yuan of device value",
       "yuan_per_10k", True, "equipment", M("equipment_revenue") / M("equipment_value") * 10000,
       monitor="equipment"),
    # contract version 2: payment by DIP (按病种分值付费)
    _I("dip_cases", "DIP病例数", "DIP cases", "cases", None, "payment", M("dip_cases"), True),
    _I("dip_share", "DIP病例占比", "DIP share of discharges", "ratio", None, "payment",
       M("dip_cases") / M("discharges")),
    _I("dip_margin", "DIP结余", "DIP margin", "yuan", True, "payment", M("dip_payment") - M("dip_cost"),
       note_en="Payment estimated at the monthly point value (score × point value × hospital coefficient) less "
               "the cases' cost; the final settlement may differ.",
       note_zh="按月度预估点值计算的支付（分值×点值×医院系数）减病例成本；年终清算可能不同。"),
    _I("dip_margin_per_case", "DIP例均结余", "DIP margin per case", "yuan", True, "payment",
       (M("dip_payment") - M("dip_cost")) / M("dip_cases")),
    _I("fund_share_inpatient", "住院收入医保基金占比", "Insurance fund share of inpatient revenue", "ratio", None,
       "payment", M("fund_payment") / M("ip_charge")),
    _I("fund_share_outpatient", "门诊收入医保基金占比", "Insurance fund share of outpatient revenue", "ratio", None,
       "payment", M("op_fund") / M("op_revenue")),
    # contract version 2: the national appraisal of tertiary public hospitals (国考)
    _I("day_surgery_share", "日间手术占择期手术比例", "Day surgery share of elective operations", "ratio", True,
       "quality", M("day_surgeries") / M("elective_operations"),
       note_en="A day-surgery case counts as elective.", note_zh="日间手术病例计入择期手术。"),
    _I("minimally_invasive_share", "微创手术占比", "Minimally invasive share of operations", "ratio", True, "quality",
       M("mi_operations") / M("surgeries")),
    _I("preop_days", "择期手术患者术前平均住院日", "Average preoperative wait", "days", False, "quality",
       M("preop_days_sum") / M("preop_cases"),
       note_en="Mean over cases with an operation and a known wait.", note_zh="手术病例中术前等待已知者的均值。"),
    _I("readmission_31d_rate", "非预期31天再住院率", "Unplanned 31-day readmission rate", "ratio", False, "quality",
       M("readmissions") / M("discharges"),
       note_en="Counted at the readmission's discharge date.", note_zh="按再入院病例的出院日期计。"),
    _I("surgical_complication_rate", "手术患者并发症发生率", "Surgical complication rate", "ratio", False, "quality",
       M("complications") / M("surgeries")),
    _I("low_risk_mortality", "低风险组病例死亡率", "Mortality in low-risk DRG groups", "ratio", False, "quality",
       M("low_risk_deaths") / M("low_risk_cases")),
    # growth against the same period a year earlier (增幅)
    _I("charge_per_visit_growth", "门诊次均费用增幅", "Growth of charge per outpatient visit", "ratio", False,
       "revenue", M("op_revenue") / M("visits"), growth_of="charge_per_visit"),
    _I("charge_per_discharge_growth", "住院次均费用增幅", "Growth of charge per discharge", "ratio", False, "revenue",
       M("ip_charge") / M("discharges"), growth_of="charge_per_discharge"),
    _I("drug_per_visit_growth", "门诊次均药品费用增幅", "Growth of drug charge per outpatient visit", "ratio", False,
       "revenue", M("op_drug") / M("visits"), growth_of="drug_charge_per_visit"),
    _I("drug_per_discharge_growth", "住院次均药品费用增幅", "Growth of drug charge per discharge", "ratio", False,
       "revenue", M("ip_drug") / M("discharges"), growth_of="drug_charge_per_discharge"),
    _I("medical_revenue_growth", "医疗收入增幅", "Medical revenue growth", "ratio", None, "revenue", revenue,
       growth_of="revenue_total"),
    # budget
    _I("budget_amount", "预算数", "Budget", "yuan", None, "budget", M("budget")),
    _I("budget_executed", "执行数", "Executed", "yuan", None, "budget", M("executed")),
    _I("budget_execution", "预算执行率", "Budget execution", "ratio", None, "budget", M("executed") / M("budget"),
       note_en="Read against the share of the year elapsed; the alert rules flag items ahead of pace.",
       note_zh="需与时间进度对照；超进度项目由预警规则提示。"),
]}


for _ind in INDICATORS.values():  # a growth indicator repeats the formula of the indicator it grows
    if _ind.growth_of is not None and INDICATORS[_ind.growth_of].formula != _ind.formula:
        raise ValueError(f"{_ind.code}: its formula must be that of {_ind.growth_of}")


def get_indicator(code: str) -> Indicator:
    try:
        return INDICATORS[code]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(code, INDICATORS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UserError(f"unknown indicator {code!r}{hint}: `python -m data_layer indicators` lists them") from None


def parse_indicators(text: str | list[str]) -> list[Indicator]:
    codes = [c.strip() for c in (text.split(",") if isinstance(text, str) else text) if c.strip()]
    if not codes:
        raise UserError("name at least one indicator")
    return [get_indicator(c) for c in codes]


def monitor_model() -> dict[str, list[Indicator]]:
    """The five-dimension cost monitoring model: dimension -> its indicators."""
    out: dict[str, list[Indicator]] = {k: [] for k in MONITOR_DIMENSIONS}
    for ind in INDICATORS.values():
        if ind.monitor:
            out[ind.monitor].append(ind)
    return out
