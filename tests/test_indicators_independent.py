"""Every indicator equals an independent pandas computation from the raw rows.

The expected values below are written from the contract and product definitions, not from
the registry's formulas: the registry is read only for the list of codes, so an indicator
added without an independent computation here fails `test_every_indicator_is_covered`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pytest

from data_layer.periods import Period, month_end, parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import THROUGH

CLOSED = date(2026, 10, 31)  # the last month with cost facts in the small warehouse
PERIODS = ["2026-03", "2025-Q4", "2025", "2026-01-01..2026-10-31", "2026-W10", "2026-02-10..2026-05-20"]
LEVELS = [Level.hospital, Level.campus, Level.division, Level.department, Level.ward, Level.group, Level.doctor,
          Level.drg]
MONTHLY = {"full_cost", "direct_cost", "allocated_cost", "balance", "margin", "personnel_cost_share",
           "revenue_per_fte", "nurses_per_bed", "discharges_per_doctor", "staff_fte", "payroll_cost",
           "depreciation_share", "energy_cost", "energy_per_10k_revenue", "energy_per_m2", "energy_per_bed_day",
           "budget_amount", "budget_executed", "budget_execution"}


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s)


@dataclass
class Raw:
    """The raw tables, with each fact's department attributes and a group key per level."""

    ip: pd.DataFrame
    op: pd.DataFrame
    wd: pd.DataFrame
    cost: pd.DataFrame
    staff: pd.DataFrame
    budget: pd.DataFrame
    eq: pd.DataFrame
    cal: pd.DataFrame
    dev: pd.DataFrame
    dept: pd.DataFrame


@pytest.fixture(scope="module")
def raw(demo_data) -> Raw:
    t = demo_data.tables
    dept = t["dim_department"][["dept_id", "campus_id", "division", "kind", "floor_area_m2"]].rename(
        columns={"campus_id": "d_campus"})
    drg = t["dim_drg"][["drg_code", "weight", "ref_los_days", "ref_charge_per_case"]]
    ip = t["fact_inpatient_case"].merge(dept, on="dept_id").merge(drg, on="drg_code", how="left")
    ip["day"] = _ts(ip["discharge_date"])
    docs = t["dim_doctor"][["doctor_id", "group_id"]]
    op = t["fact_outpatient_daily"].merge(dept, on="dept_id").merge(docs, on="doctor_id", how="left")
    op["day"] = _ts(op["date"])
    wd = t["fact_ward_daily"].merge(t["dim_ward"][["ward_id", "dept_id"]], on="ward_id").merge(dept, on="dept_id")
    wd["day"] = _ts(wd["date"])
    cost = t["fact_dept_cost_monthly"].merge(dept, on="dept_id")
    cost["day"] = _ts(cost["month_start"])
    staff = t["fact_staff_monthly"].merge(dept, on="dept_id")
    staff["day"] = _ts(staff["month_start"])
    budget = t["fact_budget_monthly"].merge(dept, on="dept_id")
    budget["day"] = _ts(budget["month_start"])
    dev = t["dim_equipment"].merge(dept, on="dept_id")
    eq = t["fact_equipment_daily"].merge(dev[["equipment_id", "dept_id", "d_campus", "division"]], on="equipment_id")
    eq["day"] = _ts(eq["date"])
    cal = t["dim_date"].assign(day=lambda f: _ts(f["date"]))
    return Raw(ip, op, wd, cost, staff, budget, eq, cal, dev, dept)


KEY_COLUMN = {Level.campus: "d_campus", Level.division: "division", Level.department: "dept_id",
              Level.ward: "ward_id", Level.group: "group_id", Level.doctor: "doctor_id", Level.drg: "drg_code"}


def _window(period: Period, monthly: bool) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if not monthly:
        return pd.Timestamp(period.start), pd.Timestamp(period.end)
    months = pd.date_range(period.start.replace(day=1), period.end, freq="MS")
    whole = [m for m in months if m.date() >= period.start and month_end(m.date()) <= min(period.end, CLOSED)]
    if not whole:
        return None
    return whole[0], pd.Timestamp(month_end(whole[-1].date()))


class Calc:
    """Sums per group for one (level, window), by the definitions in product.md and the contract."""

    def __init__(self, raw: Raw, level: Level, window: tuple[pd.Timestamp, pd.Timestamp]):
        self.raw, self.level, self.lo, self.hi = raw, level, *window

    def _frame(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[(df["day"] >= self.lo) & (df["day"] <= self.hi)]
        if self.level == Level.division:
            out = out[out["division"].notna()]
        return out

    def by(self, df: pd.DataFrame, values: pd.Series | str, how: str = "sum") -> pd.Series:
        f = self._frame(df)
        v = f[values] if isinstance(values, str) else values.loc[f.index]
        key = pd.Series("all", index=f.index) if self.level == Level.hospital else f[KEY_COLUMN[self.level]]
        return getattr(v.groupby(key), how)()

    # -- inpatient
    def ip(self, col: str, where: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.Series:
        df = self.raw.ip
        v = df[col].astype(float) if where is None else df[col].astype(float).where(where(df), 0.0)
        return self.by(df, v)

    def count_ip(self, where: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.Series:
        df = self.raw.ip
        return self.by(df, pd.Series(1.0, index=df.index) if where is None else where(df).astype(float))

    def op(self, col: str) -> pd.Series:
        return self.by(self.raw.op, self.raw.op[col].astype(float))

    def ward(self, col: str) -> pd.Series:
        return self.by(self.raw.wd, self.raw.wd[col].astype(float))

    def ward_days(self) -> pd.Series:
        return self.by(self.raw.wd, self.raw.wd["day"], "nunique").astype(float)

    def cost(self, category: str | None = None, stage: str | None = None) -> pd.Series:
        c = self.raw.cost
        keep = pd.Series(True, index=c.index)
        if category:
            keep &= c["cost_category"] == category
        if stage:
            keep &= c["allocation_stage"] == stage
        elif self.level in (Level.hospital, Level.campus):
            keep &= c["allocation_stage"] == "direct"  # the whole hospital / a campus: direct rows only
        elif self.level == Level.division:
            keep &= c["kind"] == "clinical"
        return self.by(c, c["amount"].where(keep, 0.0))

    def staff(self, category: str | None = None) -> pd.Series:
        s = self.raw.staff
        return self.by(s, s["fte"].where(s["staff_category"] == category, 0.0) if category else s["fte"])

    def staff_months(self) -> pd.Series:
        return self.by(self.raw.staff, self.raw.staff["day"], "nunique").astype(float)

    def capacity(self) -> pd.Series:
        cal = self.raw.cal[(self.raw.cal["day"] >= self.lo) & (self.raw.cal["day"] <= self.hi)
                           & self.raw.cal["is_workday"].astype(bool)]
        dev = self.raw.dev.assign(bought=_ts(self.raw.dev["purchase_date"]))
        dev["workdays"] = [int((cal["day"] >= b).sum()) for b in dev["bought"]]
        v = dev["daily_capacity"].astype(float) * dev["workdays"]
        frame = dev.assign(day=self.lo)  # no period of its own
        return self.by(frame, v)

    def dims(self, df: pd.DataFrame, col: str) -> pd.Series:
        return self.by(df.assign(day=self.lo), df[col].astype(float))


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.align(b, fill_value=0.0)
    return a / b.where(b != 0, np.nan)


def _add(*parts: pd.Series) -> pd.Series:
    out = parts[0]
    for p in parts[1:]:
        out = out.add(p, fill_value=0.0)
    return out


def _revenue(c: Calc) -> pd.Series:
    return _add(c.ip("charge_total"), c.op("revenue_total"))


def _avg_open_beds(c: Calc) -> pd.Series:
    return _div(c.ward("open_beds"), c.ward_days())


grouped = lambda df: df["drg_code"].notna()  # noqa: E731

EXPECTED: dict[str, Callable[[Calc], pd.Series]] = {
    "outpatient_visits": lambda c: c.op("visits"),
    "emergency_visits": lambda c: c.op("emergency_visits"),
    "admissions": lambda c: c.ward("admissions"),
    "discharges": lambda c: c.count_ip(),
    "bed_days": lambda c: c.ward("occupied_beds"),
    "surgeries": lambda c: c.count_ip(lambda d: d["surgery_level"] > 0),
    "level4_surgeries": lambda c: c.count_ip(lambda d: d["surgery_level"] == 4),
    "day_surgeries": lambda c: c.count_ip(lambda d: d["is_day_surgery"].astype(bool)),
    "level4_surgery_share": lambda c: _div(c.count_ip(lambda d: d["surgery_level"] == 4),
                                           c.count_ip(lambda d: d["surgery_level"] > 0)),
    "day_surgery_share": lambda c: _div(c.count_ip(lambda d: d["is_day_surgery"].astype(bool)),
                                        c.count_ip(lambda d: d["surgery_level"] > 0)),
    "alos": lambda c: _div(c.ip("los_days"), c.count_ip()),
    "bed_occupancy": lambda c: _div(c.ward("occupied_beds"), c.ward("open_beds")),
    "bed_turnover": lambda c: _div(c.count_ip(), _avg_open_beds(c)),
    "mortality": lambda c: _div(c.count_ip(lambda d: d["discharge_status"] == "died"), c.count_ip()),
    "revenue_total": _revenue,
    "outpatient_revenue": lambda c: c.op("revenue_total"),
    "inpatient_revenue": lambda c: c.ip("charge_total"),
    "bed_revenue": lambda c: c.ip("charge_bed"),
    "drug_share": lambda c: _div(_add(c.ip("charge_drug"), c.op("revenue_drug")), _revenue(c)),
    "material_share": lambda c: _div(_add(c.ip("charge_material"), c.op("revenue_material")), _revenue(c)),
    "service_revenue_share": lambda c: _div(
        _revenue(c) - _add(c.ip("charge_drug"), c.op("revenue_drug"), c.ip("charge_material"),
                           c.op("revenue_material"), c.ip("charge_exam"), c.op("revenue_exam"), c.ip("charge_lab"),
                           c.op("revenue_lab")).reindex(_revenue(c).index, fill_value=0.0), _revenue(c)),
    "charge_per_discharge": lambda c: _div(c.ip("charge_total"), c.count_ip()),
    "charge_per_visit": lambda c: _div(c.op("revenue_total"), c.op("visits")),
    "drug_charge_per_visit": lambda c: _div(c.op("revenue_drug"), c.op("visits")),
    "material_charge_per_discharge": lambda c: _div(c.ip("charge_material"), c.count_ip()),
    "cmi": lambda c: _div(c.ip("weight", grouped), c.count_ip(grouped)),
    "grouped_rate": lambda c: _div(c.count_ip(grouped), c.count_ip()),
    "time_index": lambda c: _div(c.by(c.raw.ip, (c.raw.ip["los_days"] / c.raw.ip["ref_los_days"]).fillna(0.0)),
                                 c.count_ip(grouped)),
    "cost_index": lambda c: _div(c.by(c.raw.ip, (c.raw.ip["charge_total"] / c.raw.ip["ref_charge_per_case"]).fillna(0.0)),
                                 c.count_ip(grouped)),
    "high_weight_share": lambda c: _div(c.count_ip(lambda d: d["weight"] >= 2), c.count_ip(grouped)),
    "drg_payment": lambda c: c.ip("drg_payment", grouped),
    "drg_cost": lambda c: c.ip("cost_total", grouped),
    "drg_margin": lambda c: c.ip("drg_payment", grouped) - c.ip("cost_total", grouped),
    "drg_margin_per_case": lambda c: _div(c.ip("drg_payment", grouped) - c.ip("cost_total", grouped),
                                          c.count_ip(grouped)),
    "full_cost": lambda c: c.cost(),
    "direct_cost": lambda c: c.cost(stage="direct"),
    "allocated_cost": lambda c: _add(c.cost(stage="admin"), c.cost(stage="support"), c.cost(stage="medtech")),
    "balance": lambda c: _revenue(c).sub(c.cost(), fill_value=0.0),
    "margin": lambda c: _div(_revenue(c).sub(c.cost(), fill_value=0.0), _revenue(c)),
    "personnel_cost_share": lambda c: _div(c.cost("personnel"), c.cost()),
    "revenue_per_fte": lambda c: _div(_revenue(c), _div(c.staff(), c.staff_months())),
    "nurses_per_bed": lambda c: _div(_div(c.staff("nurse"), c.staff_months()), _avg_open_beds(c)),
    "discharges_per_doctor": lambda c: _div(c.count_ip(), _div(c.staff("doctor"), c.staff_months())),
    "staff_fte": lambda c: _div(c.staff(), c.staff_months()),
    "payroll_cost": lambda c: c.by(c.raw.staff, "payroll_cost"),
    "depreciation_share": lambda c: _div(c.cost("depreciation"), c.cost()),
    "energy_cost": lambda c: c.cost("energy"),
    "energy_per_10k_revenue": lambda c: _div(c.cost("energy"), _revenue(c)) * 10000,
    "energy_per_m2": lambda c: _div(c.cost("energy"), c.dims(c.raw.dept, "floor_area_m2")),
    "energy_per_bed_day": lambda c: _div(c.cost("energy"), c.ward("occupied_beds")),
    "revenue_per_m2": lambda c: _div(_revenue(c), c.dims(c.raw.dept, "floor_area_m2")),
    "equipment_utilization": lambda c: _div(c.by(c.raw.eq, "exams"), c.capacity()),
    "equipment_exams": lambda c: c.by(c.raw.eq, "exams"),
    "equipment_revenue": lambda c: c.by(c.raw.eq, "revenue"),
    "equipment_revenue_per_10k_value": lambda c: _div(c.by(c.raw.eq, "revenue"),
                                                      c.dims(c.raw.dev, "purchase_price")) * 10000,
    "budget_amount": lambda c: c.by(c.raw.budget, "budget_amount"),
    "budget_executed": lambda c: c.by(c.raw.budget, "executed_amount"),
    "budget_execution": lambda c: _div(c.by(c.raw.budget, "executed_amount"), c.by(c.raw.budget, "budget_amount")),
}


def test_every_indicator_is_covered() -> None:
    assert set(EXPECTED) == set(INDICATORS)
    assert {c for c, i in INDICATORS.items() if i.monthly} == MONTHLY


CASES = [(code, level, p) for code, ind in INDICATORS.items() for level in LEVELS if level in ind.levels
         for p in PERIODS if not (code in MONTHLY and p == "2026-W10")]


@pytest.fixture(scope="module")
def actual(wh: Warehouse) -> Callable[[Level, str], pd.DataFrame]:
    cache: dict[tuple[Level, str], pd.DataFrame] = {}

    def get(level: Level, text: str) -> pd.DataFrame:
        if (level, text) not in cache:
            period = parse_period(text, THROUGH)
            codes = tuple(c for c, i in INDICATORS.items() if level in i.levels
                          and not (c in MONTHLY and period.kind == "week"))
            cache[(level, text)] = indicator_values(wh, Scope.hospital(), codes, period, level)
        return cache[(level, text)]

    return get


@pytest.mark.parametrize(("code", "level", "period"), CASES, ids=[f"{c}-{lv.value}-{p}" for c, lv, p in CASES])
def test_indicator_equals_pandas(raw: Raw, actual, code: str, level: Level, period: str) -> None:
    p = parse_period(period, THROUGH)
    window = _window(p, code in MONTHLY)
    got = actual(level, period)
    got = got[got["indicator"] == code].set_index("key")["value"].astype(float)
    if window is None:
        assert got.empty
        return
    want = EXPECTED[code](Calc(raw, level, window)).astype(float)
    want.index = want.index.astype(str)
    want = want[want.index.isin(got.index) | want.notna()]
    # members with no row in any of the indicator's sources do not appear in the result
    assert set(got.index) <= set(want.index) | set(got.index[got.isna()])
    common = sorted(set(got.index) & set(want.index))
    if not common:  # e.g. devices at division level: all devices belong to medtech departments here
        assert got.dropna().empty and want.dropna().empty
        return
    a, b = got.loc[common].to_numpy(), want.loc[common].to_numpy()
    assert np.allclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True), pd.DataFrame(
        {"got": a, "want": b}, index=common)[~np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True)].head()


def test_monthly_series_equal_each_month(raw: Raw, wh: Warehouse) -> None:
    period = parse_period("2025", THROUGH)
    codes = ("discharges", "alos", "drug_share", "balance", "equipment_utilization")
    got = indicator_values(wh, Scope.hospital(), codes, period, Level.hospital, grain="month")
    assert len(got) == 12 * len(codes)
    for month in pd.date_range("2025-01-01", "2025-12-01", freq="MS"):
        window = (month, pd.Timestamp(month_end(month.date())))
        for code in codes:
            want = EXPECTED[code](Calc(raw, Level.hospital, window)).iloc[0]
            value = got[(got["indicator"] == code) & (got["period_start"] == month.date())]["value"].iloc[0]
            assert value == pytest.approx(want, rel=1e-9), (code, month)
