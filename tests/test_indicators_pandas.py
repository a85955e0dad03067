"""Every indicator, at every level it offers and over several periods, equals a pandas
computation written here from the warehouse contract and the product definitions.

The expected values never touch the registry's formulas, measures or sources: the
registry is read only for the list of codes (and their offered levels), so an indicator
added without a pandas formula below fails `test_every_indicator_has_a_pandas_formula`.
Each formula is a function of `Sums`, which groups the raw rows of `demo_data.tables`
(joined with their dimensions by `merge`) by the level's key over a window of days.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from data_layer.periods import Period, parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope

from .conftest import THROUGH

CLOSED = date(2026, 10, 31)  # the last day of the last month with cost facts in the small warehouse
FIRST = date(2025, 1, 1)
REL, ABS = 1e-9, 1e-6

PERIODS = ["2026-03", "2025-Q4", "2025", "2026-01-01..2026-10-31"]
DAILY_ONLY_PERIODS = ["2026-W10"]  # no whole month: for indicators on daily facts only
MONTHLY_EXTRA_PERIODS = ["2026-02-10..2026-05-20", "2026-09-15..2026-11-21"]  # partial months at both ends
NO_CLOSED_MONTH_PERIODS = ["2026-W10", "2026-11", "2026-03-10..2026-04-20"]
LEVELS = list(Level)
MONTHLY_SOURCES = {"cost", "staff", "budget"}
Window = tuple[date, date] | None


# --------------------------------------------------------------------------- raw rows
def _day(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.normalize()


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None)


class Raw:
    """The contract tables, each fact joined to its department (and other dimensions) by merge,
    with one plain-number column per quantity to sum."""

    def __init__(self, tables: dict[str, pd.DataFrame]):
        t = tables
        dept = t["dim_department"].copy()
        for c in ("dept_id", "campus_id", "division", "kind"):
            dept[c] = _text(dept[c])
        self.dept = dept
        d_attrs = dept[["dept_id", "campus_id", "division", "kind"]].rename(
            columns={"campus_id": "d_campus", "division": "d_division", "kind": "d_kind"})

        drg = t["dim_drg"][["drg_code", "weight", "ref_los_days", "ref_charge_per_case"]].copy()
        drg["drg_code"] = _text(drg["drg_code"])
        ip = t["fact_inpatient_case"].copy()
        for c in ("dept_id", "ward_id", "group_id", "doctor_id", "drg_code"):
            ip[c] = _text(ip[c])
        ip = ip.merge(d_attrs, on="dept_id", how="left").merge(drg, on="drg_code", how="left")
        grouped = ip["drg_code"].notna()
        ip["day"] = _day(ip["discharge_date"])
        ip["cases"] = 1.0
        ip["surg"] = (ip["surgery_level"] > 0).astype(float)
        ip["lvl4"] = (ip["surgery_level"] == 4).astype(float)
        ip["daysurg"] = ip["is_day_surgery"].astype(bool).astype(float)
        ip["died"] = (ip["discharge_status"] == "died").astype(float)
        ip["grouped"] = grouped.astype(float)
        ip["g_payment"] = ip["drg_payment"].where(grouped, 0.0)
        ip["g_cost"] = ip["cost_total"].where(grouped, 0.0)
        ip["g_weight"] = ip["weight"].where(grouped, 0.0)
        ip["g_high"] = (grouped & (ip["weight"] >= 2)).astype(float)
        ip["g_los_ratio"] = (ip["los_days"] / ip["ref_los_days"]).where(grouped, 0.0)
        ip["g_charge_ratio"] = (ip["charge_total"] / ip["ref_charge_per_case"]).where(grouped, 0.0)
        # contract version 2 (a column the data lacks reads as NULL everywhere)
        for c in ("payment_scheme", "dip_code", "is_elective", "is_minimally_invasive", "preop_days",
                  "is_unplanned_readmission_31d", "has_surgical_complication", "fund_payment"):
            if c not in ip.columns:
                ip[c] = None
        risk = t["dim_drg"][["drg_code"]].assign(
            risk_level=t["dim_drg"].get("risk_level", None))
        risk["drg_code"] = _text(risk["drg_code"])
        ip = ip.merge(risk, on="drg_code", how="left")
        dips = t.get("dim_dip", pd.DataFrame(columns=["dip_code", "score"]))[["dip_code", "score"]].copy()
        dips["dip_code"] = _text(dips["dip_code"])
        ip["dip_code"] = _text(ip["dip_code"])
        ip = ip.merge(dips.rename(columns={"score": "dip_score"}), on="dip_code", how="left")
        dip = ip["payment_scheme"] == "dip"
        operated = ip["surgery_level"] > 0

        def known(flag: pd.Series, among: pd.Series | None = None) -> pd.Series:
            """1 where the flag is true, 0 where false, NaN where unknown (or outside `among`)."""
            v = flag.map(lambda x: np.nan if x is None or x != x else float(bool(x)))
            return v if among is None else v.where(among)

        ip["dipc"] = dip.astype(float)
        ip["dip_pay"] = ip["drg_payment"].where(dip, 0.0)
        ip["dip_cost"] = ip["cost_total"].where(dip, 0.0)
        ip["elective"] = known(ip["is_elective"]).where(~ip["is_day_surgery"].astype(bool), 1.0)
        ip["mi"] = known(ip["is_minimally_invasive"], operated)
        wait = pd.to_numeric(ip["preop_days"], errors="coerce").astype(float)
        ip["preop_sum"] = wait.where(operated, np.nan)
        ip["preop_n"] = (operated & wait.notna()).astype(float)
        ip["readm"] = known(ip["is_unplanned_readmission_31d"])
        ip["compl"] = known(ip["has_surgical_complication"], operated)
        low = ip["risk_level"] == "low"
        ip["low_n"] = low.astype(float)
        ip["low_died"] = (low & (ip["discharge_status"] == "died")).astype(float)
        ip["fund"] = pd.to_numeric(ip["fund_payment"], errors="coerce").astype(float)
        self.ip = ip

        doctors = t["dim_doctor"][["doctor_id", "group_id"]].copy()
        for c in doctors.columns:
            doctors[c] = _text(doctors[c])
        op = t["fact_outpatient_daily"].copy()
        for c in ("dept_id", "doctor_id"):
            op[c] = _text(op[c])
        op = op.merge(d_attrs, on="dept_id", how="left").merge(doctors, on="doctor_id", how="left")
        op["day"] = _day(op["date"])
        op["fund"] = pd.to_numeric(op["revenue_fund"], errors="coerce").astype(float) if "revenue_fund" in op \
            else np.nan
        self.op = op

        wards = t["dim_ward"][["ward_id", "dept_id"]].copy()
        for c in wards.columns:
            wards[c] = _text(wards[c])
        wd = t["fact_ward_daily"].copy()
        wd["ward_id"] = _text(wd["ward_id"])
        wd = wd.merge(wards, on="ward_id", how="left").merge(d_attrs, on="dept_id", how="left")
        wd["day"] = _day(wd["date"])
        self.wd = wd

        cost = t["fact_dept_cost_monthly"].copy()
        for c in ("dept_id", "cost_category", "allocation_stage"):
            cost[c] = _text(cost[c])
        cost = cost.merge(d_attrs, on="dept_id", how="left")
        cost["day"] = _day(cost["month_start"])
        self.cost = cost

        staff = t["fact_staff_monthly"].copy()
        for c in ("dept_id", "staff_category"):
            staff[c] = _text(staff[c])
        staff = staff.merge(d_attrs, on="dept_id", how="left")
        staff["day"] = _day(staff["month_start"])
        staff["doctor_fte"] = staff["fte"].where(staff["staff_category"] == "doctor", 0.0)
        staff["nurse_fte"] = staff["fte"].where(staff["staff_category"] == "nurse", 0.0)
        staff["pharmacist_fte"] = staff["fte"].where(staff["staff_category"] == "pharmacist", 0.0)
        self.staff = staff

        budget = t["fact_budget_monthly"].copy()
        budget["dept_id"] = _text(budget["dept_id"])
        budget = budget.merge(d_attrs, on="dept_id", how="left")
        budget["day"] = _day(budget["month_start"])
        self.budget = budget

        dev = t["dim_equipment"].copy()
        for c in ("equipment_id", "dept_id"):
            dev[c] = _text(dev[c])
        dev = dev.merge(d_attrs, on="dept_id", how="left")
        dev["purchase_day"] = _day(dev["purchase_date"])
        self.dev = dev
        eq = t["fact_equipment_daily"].copy()
        eq["equipment_id"] = _text(eq["equipment_id"])
        eq = eq.merge(dev[["equipment_id", "dept_id", "d_campus", "d_division", "d_kind"]], on="equipment_id",
                      how="left")
        eq["day"] = _day(eq["date"])
        self.eq = eq

        cal = t["dim_date"].copy()
        cal["day"] = _day(cal["date"])
        self.workdays = cal.loc[cal["is_workday"].astype(bool), "day"].sort_values().to_numpy()
        self.last_closed = (pd.Timestamp(cost["day"].max()) + pd.offsets.MonthEnd(0)).date()


# key column of each source at each level (None: the source cannot be grouped there)
DEPT_KEYS = {Level.hospital: "_all", Level.campus: "d_campus", Level.division: "d_division",
             Level.department: "dept_id"}
SOURCE_KEYS: dict[str, dict[Level, str]] = {
    "ip": {**DEPT_KEYS, Level.ward: "ward_id", Level.group: "group_id", Level.doctor: "doctor_id",
           Level.drg: "drg_code"},
    "op": {**DEPT_KEYS, Level.group: "group_id", Level.doctor: "doctor_id"},
    "wd": {**DEPT_KEYS, Level.ward: "ward_id"},
    **{s: dict(DEPT_KEYS) for s in ("cost", "staff", "budget", "eq", "capacity", "dept", "fleet")},
}
SOURCE_VALUES = {
    "ip": ["cases", "los_days", "charge_total", "charge_drug", "charge_material", "charge_exam", "charge_lab",
           "charge_bed", "surg", "lvl4", "daysurg", "died", "grouped", "g_payment", "g_cost", "g_weight", "g_high",
           "g_los_ratio", "g_charge_ratio"],
    "op": ["visits", "emergency_visits", "revenue_total", "revenue_drug", "revenue_material", "revenue_exam",
           "revenue_lab"],
    "wd": ["occupied_beds", "open_beds", "admissions"],
    "staff": ["fte", "doctor_fte", "nurse_fte", "pharmacist_fte", "payroll_cost"],
    "budget": ["budget_amount", "executed_amount"],
    "eq": ["exams", "revenue"],
}
# version 2 quantities summed like SQL sums them: no known value in a group gives no figure (NaN), not 0
NULLABLE_VALUES = {
    "ip": ["dipc", "dip_pay", "dip_cost", "elective", "mi", "preop_sum", "preop_n", "readm", "compl", "low_n",
           "low_died", "fund"],
    "op": ["fund"],
}
COST_STAGES = ("direct", "admin", "support", "medtech")
COST_CATEGORIES = ("personnel", "depreciation", "energy")


class Calc:
    """Grouped sums of each source per (level, window), computed once and cached."""

    def __init__(self, raw: Raw):
        self.raw = raw
        self._cache: dict[tuple[str, Level, Window], pd.DataFrame] = {}

    def table(self, source: str, level: Level, window: Window) -> pd.DataFrame:
        k = (source, level, window)
        if k not in self._cache:
            self._cache[k] = self._compute(source, level, window)
        return self._cache[k]

    @staticmethod
    def _in(frame: pd.DataFrame, window: Window) -> pd.DataFrame:
        assert window is not None
        return frame[(frame["day"] >= pd.Timestamp(window[0])) & (frame["day"] <= pd.Timestamp(window[1]))]

    def _grouped(self, frame: pd.DataFrame, source: str, level: Level) -> pd.core.groupby.DataFrameGroupBy:
        key = SOURCE_KEYS[source][level]
        frame = frame.assign(_all="all")
        return frame.groupby(frame[key].astype(object), dropna=True)

    def _compute(self, source: str, level: Level, window: Window) -> pd.DataFrame:
        r = self.raw
        dated = source not in ("dept", "fleet")
        if dated and window is None:  # no whole closed month in the period
            return pd.DataFrame(dtype=float)
        if source in SOURCE_VALUES:
            f = self._in(getattr(r, source), window)
            g = self._grouped(f, source, level)
            out = g[SOURCE_VALUES[source]].sum().astype(float)
            if source in NULLABLE_VALUES:
                out = out.join(g[NULLABLE_VALUES[source]].sum(min_count=1).astype(float))
            if source == "wd":
                out["days_with_rows"] = g["day"].nunique().astype(float)
            if source == "staff":
                out["months_with_rows"] = g["day"].nunique().astype(float)
            return out
        if source == "cost":
            f = self._in(r.cost, window).copy()
            cols = {}
            # full cost by the level's rule: a department all its rows; hospital and campus the direct
            # rows; a division every row of its clinical departments
            if level == Level.department:
                full = pd.Series(True, index=f.index)
            elif level in (Level.hospital, Level.campus):
                full = f["allocation_stage"] == "direct"
            else:
                full = f["d_kind"] == "clinical"
            cols["full"] = f["amount"].where(full, 0.0)
            for c in COST_CATEGORIES:
                cols[f"full_{c}"] = f["amount"].where(full & (f["cost_category"] == c), 0.0)
            for s in COST_STAGES:
                cols[f"stage_{s}"] = f["amount"].where(f["allocation_stage"] == s, 0.0)
            f = f.assign(**cols)
            return self._grouped(f, source, level)[list(cols)].sum().astype(float)
        if source == "capacity":
            start, end = (np.datetime64(pd.Timestamp(d)) for d in window)
            wdays = r.workdays[(r.workdays >= start) & (r.workdays <= end)]
            dev = r.dev.copy()
            dev["n_workdays"] = [int((wdays >= np.datetime64(p)).sum()) for p in dev["purchase_day"]]
            dev = dev[dev["n_workdays"] > 0]  # a device with no working day in the period has no capacity rows
            dev["capacity"] = dev["daily_capacity"] * dev["n_workdays"]
            return self._grouped(dev, source, level)[["capacity"]].sum().astype(float)
        if source == "dept":
            return self._grouped(r.dept.rename(columns={"campus_id": "d_campus", "division": "d_division"}),
                                 source, level)[["floor_area_m2"]].sum().astype(float)
        if source == "fleet":
            return self._grouped(r.dev, source, level)[["purchase_price"]].sum().astype(float)
        raise AssertionError(source)


class Sums:
    """What a formula reads: s(source, column) is that column's sum per key over the window."""

    def __init__(self, calc: Calc | None, level: Level, window: Window):
        self.calc, self.level, self.window = calc, level, window
        self.sources: set[str] = set()

    def __call__(self, source: str, column: str) -> pd.Series:
        self.sources.add(source)
        if self.calc is None:  # recording which sources a formula reads
            return pd.Series(dtype=float)
        df = self.calc.table(source, self.level, self.window)
        if column not in df.columns:
            return pd.Series(dtype=float, index=df.index.astype(object))
        s = df[column].astype(float)
        s.index = s.index.astype(object)
        return s


def add(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.add(b, fill_value=0.0)


def sub(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.sub(b, fill_value=0.0)


def div(n: pd.Series, d: pd.Series) -> pd.Series:
    """A ratio of sums; a key missing in one source counts as 0 there; a zero denominator gives NaN."""
    n, d = n.align(d, join="outer", fill_value=0.0)
    return n / d.where(d != 0)


def per_attribute(n: pd.Series, d: pd.Series) -> pd.Series:
    """A ratio to a department attribute (floor area, device value): the attribute alone adds no member."""
    d = d.reindex(n.index)
    return n / d.where(d != 0)


def revenue(s: Sums) -> pd.Series:  # medical revenue = inpatient charges + outpatient revenue
    return add(s("ip", "charge_total"), s("op", "revenue_total"))


def full_cost(s: Sums, category: str | None = None) -> pd.Series:
    return s("cost", f"full_{category}" if category else "full")


def avg_open_beds(s: Sums) -> pd.Series:
    return div(s("wd", "open_beds"), s("wd", "days_with_rows"))


def avg_fte(s: Sums, column: str) -> pd.Series:
    return div(s("staff", column), s("staff", "months_with_rows"))


F = Callable[[Sums], pd.Series]
FORMULAS: dict[str, F] = {
    # volume
    "outpatient_visits": lambda s: s("op", "visits"),
    "emergency_visits": lambda s: s("op", "emergency_visits"),
    "admissions": lambda s: s("wd", "admissions"),
    "discharges": lambda s: s("ip", "cases"),
    "bed_days": lambda s: s("wd", "occupied_beds"),
    "surgeries": lambda s: s("ip", "surg"),
    "level4_surgeries": lambda s: s("ip", "lvl4"),
    "day_surgeries": lambda s: s("ip", "daysurg"),
    "level4_surgery_share": lambda s: div(s("ip", "lvl4"), s("ip", "surg")),
    "surgery_share": lambda s: div(s("ip", "surg"), s("ip", "cases")),
    "day_surgery_rate": lambda s: div(s("ip", "daysurg"), s("ip", "surg")),
    # efficiency
    "alos": lambda s: div(s("ip", "los_days"), s("ip", "cases")),
    "bed_occupancy": lambda s: div(s("wd", "occupied_beds"), s("wd", "open_beds")),
    "bed_turnover": lambda s: div(s("ip", "cases"), avg_open_beds(s)),
    "mortality": lambda s: div(s("ip", "died"), s("ip", "cases")),
    # revenue
    "revenue_total": revenue,
    "outpatient_revenue": lambda s: s("op", "revenue_total"),
    "outpatient_revenue_share": lambda s: div(s("op", "revenue_total"), revenue(s)),
    "inpatient_revenue": lambda s: s("ip", "charge_total"),
    "bed_revenue": lambda s: s("ip", "charge_bed"),
    "drug_share": lambda s: div(add(s("ip", "charge_drug"), s("op", "revenue_drug")), revenue(s)),
    "material_share": lambda s: div(add(s("ip", "charge_material"), s("op", "revenue_material")), revenue(s)),
    "service_revenue_share": lambda s: div(
        sub(revenue(s), add(add(add(s("ip", "charge_drug"), s("op", "revenue_drug")),
                                add(s("ip", "charge_material"), s("op", "revenue_material"))),
                            add(add(s("ip", "charge_exam"), s("op", "revenue_exam")),
                                add(s("ip", "charge_lab"), s("op", "revenue_lab"))))),
        revenue(s)),
    "charge_per_discharge": lambda s: div(s("ip", "charge_total"), s("ip", "cases")),
    "charge_per_visit": lambda s: div(s("op", "revenue_total"), s("op", "visits")),
    "drug_charge_per_visit": lambda s: div(s("op", "revenue_drug"), s("op", "visits")),
    "material_charge_per_discharge": lambda s: div(s("ip", "charge_material"), s("ip", "cases")),
    "drug_charge_per_discharge": lambda s: div(s("ip", "charge_drug"), s("ip", "cases")),
    "revenue_per_m2": lambda s: per_attribute(revenue(s), s("dept", "floor_area_m2")),
    # DRG
    "cmi": lambda s: div(s("ip", "g_weight"), s("ip", "grouped")),
    "grouped_rate": lambda s: div(s("ip", "grouped"), s("ip", "cases")),
    "time_index": lambda s: div(s("ip", "g_los_ratio"), s("ip", "grouped")),
    "cost_index": lambda s: div(s("ip", "g_charge_ratio"), s("ip", "grouped")),
    "high_weight_share": lambda s: div(s("ip", "g_high"), s("ip", "grouped")),
    "drg_payment": lambda s: s("ip", "g_payment"),
    "drg_cost": lambda s: s("ip", "g_cost"),
    "drg_margin": lambda s: sub(s("ip", "g_payment"), s("ip", "g_cost")),
    "drg_margin_per_case": lambda s: div(sub(s("ip", "g_payment"), s("ip", "g_cost")), s("ip", "grouped")),
    # cost and balance (monthly)
    "full_cost": lambda s: full_cost(s),
    "direct_cost": lambda s: s("cost", "stage_direct"),
    "allocated_cost": lambda s: add(add(s("cost", "stage_admin"), s("cost", "stage_support")),
                                    s("cost", "stage_medtech")),
    "admin_allocated_cost": lambda s: s("cost", "stage_admin"),
    "support_allocated_cost": lambda s: s("cost", "stage_support"),
    "medtech_allocated_cost": lambda s: s("cost", "stage_medtech"),
    "balance": lambda s: sub(revenue(s), full_cost(s)),
    "margin": lambda s: div(sub(revenue(s), full_cost(s)), revenue(s)),
    "personnel_cost_share": lambda s: div(full_cost(s, "personnel"), full_cost(s)),
    "depreciation_share": lambda s: div(full_cost(s, "depreciation"), full_cost(s)),
    "energy_cost": lambda s: full_cost(s, "energy"),
    "energy_per_10k_revenue": lambda s: div(full_cost(s, "energy"), revenue(s)) * 10000,
    "energy_per_m2": lambda s: per_attribute(full_cost(s, "energy"), s("dept", "floor_area_m2")),
    "energy_per_bed_day": lambda s: div(full_cost(s, "energy"), s("wd", "occupied_beds")),
    # staff (monthly)
    "revenue_per_fte": lambda s: div(revenue(s), avg_fte(s, "fte")),
    "nurses_per_bed": lambda s: div(avg_fte(s, "nurse_fte"), avg_open_beds(s)),
    "discharges_per_doctor": lambda s: div(s("ip", "cases"), avg_fte(s, "doctor_fte")),
    "staff_fte": lambda s: avg_fte(s, "fte"),
    "nurses_per_doctor": lambda s: div(s("staff", "nurse_fte"), s("staff", "doctor_fte")),
    "pharmacists_per_100_beds": lambda s: div(avg_fte(s, "pharmacist_fte"), avg_open_beds(s)) * 100,
    "payroll_cost": lambda s: s("staff", "payroll_cost"),
    # equipment
    "equipment_utilization": lambda s: div(s("eq", "exams"), s("capacity", "capacity")),
    "equipment_exams": lambda s: s("eq", "exams"),
    "equipment_revenue": lambda s: s("eq", "revenue"),
    "equipment_revenue_per_10k_value": lambda s: per_attribute(s("eq", "revenue"), s("fleet", "purchase_price")) * 10000,
    # contract version 2: DIP and insurance fund
    "dip_cases": lambda s: s("ip", "dipc"),
    "dip_share": lambda s: div(s("ip", "dipc"), s("ip", "cases")),
    "dip_margin": lambda s: sub(s("ip", "dip_pay"), s("ip", "dip_cost")),
    "dip_margin_per_case": lambda s: div(sub(s("ip", "dip_pay"), s("ip", "dip_cost")), s("ip", "dipc")),
    "fund_share_inpatient": lambda s: div(s("ip", "fund"), s("ip", "charge_total")),
    "fund_share_outpatient": lambda s: div(s("op", "fund"), s("op", "revenue_total")),
    # contract version 2: the national appraisal (国考)
    "day_surgery_share": lambda s: div(s("ip", "daysurg"), s("ip", "elective")),
    "minimally_invasive_share": lambda s: div(s("ip", "mi"), s("ip", "surg")),
    "preop_days": lambda s: div(s("ip", "preop_sum"), s("ip", "preop_n")),
    "readmission_31d_rate": lambda s: div(s("ip", "readm"), s("ip", "cases")),
    "surgical_complication_rate": lambda s: div(s("ip", "compl"), s("ip", "surg")),
    "low_risk_mortality": lambda s: div(s("ip", "low_died"), s("ip", "low_n")),
    # growth against the same days a year earlier: the formula here, the year earlier in `expected`
    "charge_per_visit_growth": lambda s: div(s("op", "revenue_total"), s("op", "visits")),
    "charge_per_discharge_growth": lambda s: div(s("ip", "charge_total"), s("ip", "cases")),
    "drug_per_visit_growth": lambda s: div(s("op", "revenue_drug"), s("op", "visits")),
    "drug_per_discharge_growth": lambda s: div(s("ip", "charge_drug"), s("ip", "cases")),
    "medical_revenue_growth": revenue,
    # budget (monthly)
    "budget_amount": lambda s: s("budget", "budget_amount"),
    "budget_executed": lambda s: s("budget", "executed_amount"),
    "budget_execution": lambda s: div(s("budget", "executed_amount"), s("budget", "budget_amount")),
}


def sources_of(code: str) -> set[str]:
    rec = Sums(None, Level.hospital, None)
    FORMULAS[code](rec)
    return rec.sources


def is_monthly(code: str) -> bool:
    return bool(sources_of(code) & MONTHLY_SOURCES)


def levels_of(code: str) -> set[Level]:
    out = set(Level)
    for src in sources_of(code):
        out &= set(SOURCE_KEYS[src])
    return out


# ----------------------------------------------------------------------------- windows
def whole_closed_months(period: Period, closed: date = CLOSED) -> Window:
    """The whole calendar months inside the period, up to the last closed month."""
    first = period.start if period.start.day == 1 else (pd.Timestamp(period.start) + pd.offsets.MonthBegin(1)).date()
    last = period.end if (period.end + timedelta(days=1)).day == 1 else period.end.replace(day=1) - timedelta(days=1)
    last = min(last, closed)
    return (first, last) if first <= last else None


GROWTH = {"charge_per_visit_growth", "charge_per_discharge_growth", "drug_per_visit_growth",
          "drug_per_discharge_growth", "medical_revenue_growth"}


def _year_earlier(d: date) -> date:
    return d.replace(year=d.year - 1) if not (d.month == 2 and d.day == 29) else d.replace(year=d.year - 1, day=28)


def expected(calc: Calc, code: str, level: Level, period: Period) -> pd.Series:
    window = whole_closed_months(period) if is_monthly(code) else (period.start, period.end)
    s = FORMULAS[code](Sums(calc, level, window))
    if code in GROWTH:  # against the same days a year earlier (the period cut at the last day with data)
        end = min(period.end, THROUGH)
        earlier = (_year_earlier(period.start), _year_earlier(end))
        if period.kind == "week":  # the same ISO week a year earlier: the same weekdays
            iso = period.start.isocalendar()
            first = date.fromisocalendar(iso[0] - 1, iso[1], 1)
            earlier = (first, first + timedelta(days=6))
        then = FORMULAS[code](Sums(calc, level, earlier))
        now, then = s.astype(float), then.astype(float).reindex(s.index)
        s = (now / then.where(then > 0) - 1)
    s = s.astype(float).replace([np.inf, -np.inf], np.nan)
    s.index = s.index.astype(str)
    return s


def actual_series(df: pd.DataFrame, code: str) -> pd.Series:
    df = df[df["indicator"] == code]
    assert not df["key"].duplicated().any(), f"duplicate keys: {df.loc[df['key'].duplicated(), 'key'].tolist()}"
    return pd.Series(pd.to_numeric(df["value"], errors="coerce").astype(float).to_numpy(),
                     index=df["key"].astype(str).to_numpy())


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def mismatches(actual: pd.Series, want: pd.Series) -> list[str]:
    """Keys whose values differ; a key absent on one side counts as NaN there."""
    out = []
    for key in sorted(set(actual.index) | set(want.index)):
        a = float(actual.get(key, np.nan))
        b = float(want.get(key, np.nan))
        if not same(a, b):
            out.append(f"{key}: library {a!r} vs pandas {b!r}")
    return out


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def calc(demo_data) -> Calc:
    return Calc(Raw(demo_data.tables))


def _cases() -> list:
    out = []
    for code, ind in INDICATORS.items():
        if code not in FORMULAS:
            continue
        periods = PERIODS + (MONTHLY_EXTRA_PERIODS if is_monthly(code) else DAILY_ONLY_PERIODS)
        if code in GROWTH:  # a year earlier must lie within the data (which starts in 2025)
            periods = [p for p in periods if parse_period(p).start.year >= 2026]
        for level in LEVELS:
            if level not in ind.levels:
                continue
            for p in periods:
                out.append(pytest.param(code, level, p, id=f"{code}-{level.value}-{p}"))
    return out


# --------------------------------------------------------------------------------- tests
def test_every_indicator_has_a_pandas_formula():
    missing = sorted(set(INDICATORS) - set(FORMULAS))
    assert not missing, f"indicators without an independent pandas formula here: {missing}"
    stale = sorted(set(FORMULAS) - set(INDICATORS))
    assert not stale, f"pandas formulas for indicators the registry no longer has: {stale}"


@pytest.mark.parametrize("code", sorted(FORMULAS))
def test_levels_and_monthly_follow_the_sources(code):
    """An indicator is offered exactly at the levels every fact it reads can be grouped by, and it is
    'monthly' (whole closed months only) exactly when it reads cost, staff or budget facts."""
    if code not in INDICATORS:
        pytest.skip(f"{code} is not in the registry")
    ind = INDICATORS[code]
    assert set(ind.levels) == levels_of(code)
    assert ind.monthly == is_monthly(code)


def test_the_test_data_is_what_this_module_assumes(calc):
    assert calc.raw.last_closed == CLOSED
    assert calc.raw.ip["day"].min().date() == FIRST and calc.raw.ip["day"].max().date() == THROUGH
    # only clinical departments have a division
    assert (calc.raw.dept["division"].notna() == (calc.raw.dept["kind"] == "clinical")).all()


@pytest.mark.parametrize(("code", "level", "period"), _cases())
def test_indicator_equals_pandas(wh, calc, code, level, period):
    p = parse_period(period)
    got = indicator_values(wh, Scope.hospital(), (code,), p, level)
    actual = actual_series(got, code)
    want = expected(calc, code, level, p)
    assert want.notna().any() or level == Level.division and "eq" in sources_of(code), \
        f"the pandas side has no value at all for {code} at {level.value} over {period}"
    bad = mismatches(actual, want)
    assert not bad, f"{code} at {level.value} over {period}: {len(bad)} of {len(want)} keys differ:\n" + \
        "\n".join(bad[:12])
    if is_monthly(code):
        w = whole_closed_months(p)
        assert got.empty or (pd.Timestamp(got["window_start"].iloc[0]).date(),
                             pd.Timestamp(got["window_end"].iloc[0]).date()) == w


MONTHLY_CODES = [c for c in sorted(FORMULAS) if is_monthly(c)]


@pytest.mark.parametrize("level", [Level.hospital, Level.department])
@pytest.mark.parametrize("period", NO_CLOSED_MONTH_PERIODS)
@pytest.mark.parametrize("code", MONTHLY_CODES)
def test_no_whole_closed_month_gives_no_row(wh, code, period, level):
    """A period holding no whole closed month gives no figure for an indicator on monthly facts."""
    p = parse_period(period)
    assert whole_closed_months(p) is None
    got = indicator_values(wh, Scope.hospital(), (code,), p, level)
    assert got.empty, f"{code} at {level.value} over {period}: expected no rows, got\n" + \
        got[["key", "value"]].head(8).to_string()


GRAIN_CODES = ["discharges", "revenue_total", "bed_turnover", "cmi", "time_index", "equipment_utilization",
               "revenue_per_m2", "equipment_revenue_per_10k_value", "balance", "nurses_per_bed", "energy_per_m2",
               "discharges_per_doctor", "budget_execution"]


@pytest.mark.parametrize("level", [Level.hospital, Level.campus, Level.department])
@pytest.mark.parametrize("code", GRAIN_CODES)
def test_month_grain_equals_each_month(wh, calc, code, level):
    """grain='month' over 2025: each month's row equals the pandas value for that month alone."""
    got = indicator_values(wh, Scope.hospital(), (code,), parse_period("2025"), level, grain="month")
    got = got[got["indicator"] == code]
    starts = pd.to_datetime(got["period_start"]).dt.date
    assert set(starts) <= {date(2025, m, 1) for m in range(1, 13)}
    bad = []
    n_values = 0
    for m in range(1, 13):
        month = parse_period(f"2025-{m:02d}")
        rows = got[starts == month.start]
        actual = pd.Series(pd.to_numeric(rows["value"], errors="coerce").astype(float).to_numpy(),
                           index=rows["key"].astype(str).to_numpy())
        assert not actual.index.duplicated().any()
        want = expected(calc, code, level, month)
        n_values += int(want.notna().sum())
        bad += [f"{month.label} {b}" for b in mismatches(actual, want)]
    assert n_values > 0
    assert not bad, f"{code} at {level.value} by month over 2025: {len(bad)} differ:\n" + "\n".join(bad[:12])
