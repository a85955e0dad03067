"""DRG detail of one department (DRG病组明细): per group cases, weight, margin, cost structure
(成本结构) against payment, stay and charge against the regional reference, and high- and
low-cost outlier cases (高倍率 / 低倍率病例) with their list.

On a warehouse that also holds DIP cases, every figure here is of the department's DRG-paid cases
(drg.drg_only); its DIP packets are in queries/dip.py.

Outliers: a case is a high outlier when its basis value (charge_total by default, as the national
DRG payment rules do; cost_total on request) exceeds HIGH × the average of that value over the
group's cases in the department for the period, a low outlier when it is below LOW × that average.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationInfo, field_validator
from sqlalchemy import Double, and_, case, cast, func, literal, select

from ..inputs import FormProblems, InputProblem, read_form
from ..periods import Period
from ..schema import dim_date, dim_department, dim_doctor, dim_drg, fact_inpatient_case
from ..scope import Scope, scoped
from ..sources import Filters
from ..stats import FieldErrors
from ..warehouse import Warehouse, memoized
from .drg import COST_PARTS, drg_groups, drg_only, scheme_conds

ip, drg = fact_inpatient_case.c, dim_drg.c
BASES = {"charge": ip.charge_total, "cost": ip.cost_total}  # what outliers are measured on
HIGH_MAX = 100.0
CASE_LIMIT = 200  # cases listed for one group; the total is always given


class Thresholds(BaseModel):
    """The outlier thresholds typed on the DRG page: LOW < 1 < HIGH ≤ HIGH_MAX, neither negative.
    Each rule is an InputProblem of its own code (missing, not_a_number, negative,
    high_not_above_one, low_not_below_one, too_large; catalog keys ws.drg.err.<code>)."""

    high: float
    low: float

    @field_validator("high", "low", mode="before")
    @classmethod
    def _threshold(cls, raw: Any, info: ValidationInfo) -> float:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise InputProblem("missing")
        if isinstance(raw, bool):
            raise InputProblem("not_a_number")
        try:
            x = float(raw)
        except (TypeError, ValueError):
            raise InputProblem("not_a_number") from None
        if not math.isfinite(x):
            raise InputProblem("not_a_number")
        if x < 0:
            raise InputProblem("negative")
        if info.field_name == "high" and x <= 1:
            raise InputProblem("high_not_above_one")
        if info.field_name == "high" and x > HIGH_MAX:
            raise InputProblem("too_large")
        if info.field_name == "low" and x >= 1:
            raise InputProblem("low_not_below_one")
        return x


def check_thresholds(high: Any, low: Any) -> tuple[float, float]:
    """(high, low) read by the declared Thresholds form; FieldErrors naming each bad field (field ->
    code) otherwise."""
    try:
        form = read_form(Thresholds, {"high": high, "low": low})
    except FormProblems as exc:
        raise FieldErrors({k: p.code for k, p in exc.problems.items()}) from None
    return form.high, form.low


def _basis(basis: str):
    if basis not in BASES:
        raise ValueError(f"unknown outlier basis {basis!r}")
    return cast(BASES[basis], Double)


def _in_dept(dept: str, period: Period, filters: Filters = Filters()) -> list:
    return [ip.dept_id == dept, ip.drg_code.is_not(None),
            ip.discharge_date.between(period.start, period.end), *scheme_conds(filters)]


def _from():
    return fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id)


@memoized
def group_table(wh: Warehouse, scope: Scope, dept: str, period: Period, high: float, low: float,
                basis: str = "charge") -> pd.DataFrame:
    """One row per DRG group of the department with cases in the period: the registry's figures
    (cases, weight, charge/payment/cost/margin, ALOS, indices, via drg_groups), the regional
    references, the cost components per case and the outlier counts; loss-makers first."""
    only = drg_only(wh, Filters(department=(dept,)))
    base = drg_groups(wh, scope, period, only)
    if base.empty:
        return pd.DataFrame(columns=["drg_code", "name_zh", "name_en", "cases", "weight", "drg_payment", "drg_cost",
                                     "drg_margin", "drg_margin_per_case", "alos", "ref_los_days",
                                     "charge_per_discharge", "ref_charge_per_case", "high_outliers", "low_outliers"])
    value = _basis(basis)
    avg = scoped(select(ip.drg_code.label("code"), func.avg(value).label("avg_value"))
                 .select_from(_from()).where(*_in_dept(dept, period, only)), scope).group_by(ip.drg_code).subquery()
    parts = [func.sum(cast(getattr(ip, c), Double)).label(c) for c in COST_PARTS]
    stmt = scoped(select(ip.drg_code, drg.ref_los_days, drg.ref_charge_per_case, *parts,
                         func.sum(case((value > literal(high) * avg.c.avg_value, 1), else_=0)).label("high_outliers"),
                         func.sum(case((value < literal(low) * avg.c.avg_value, 1), else_=0)).label("low_outliers"))
                  .select_from(_from().join(dim_drg, ip.drg_code == drg.drg_code).join(avg, avg.c.code == ip.drg_code))
                  .where(*_in_dept(dept, period, only)), scope).group_by(ip.drg_code, drg.ref_los_days,
                                                                          drg.ref_charge_per_case)
    extra = wh.frame(stmt)
    for c in extra.columns.drop("drg_code"):
        extra[c] = pd.to_numeric(extra[c]).astype(float)
    out = base.merge(extra, on="drg_code", how="left")
    for c in COST_PARTS:
        out[f"{c}_per_case"] = out[c] / out["cases"]
    out["los_ratio"] = out["alos"] / out["ref_los_days"]
    out["charge_ratio"] = out["charge_per_discharge"] / out["ref_charge_per_case"]
    out["high_outliers"] = out["high_outliers"].fillna(0).astype(int)
    out["low_outliers"] = out["low_outliers"].fillna(0).astype(int)
    return out.sort_values(["drg_margin", "drg_code"], kind="stable").reset_index(drop=True)


@memoized
def stay_spread(wh: Warehouse, scope: Scope, dept: str, period: Period) -> pd.DataFrame:
    """Per DRG group of the department and discharge month: the cases, their mean stay and the
    standard deviation of single stays (days, over the month's cases; 0 for a single case), and the
    same two on the log scale (`mean_log`, `sd_log`: the natural log of each stay, a stay under a
    day counted as one). The alert detector judges a group's month against it: a mean over few
    cases varies by that spread divided by the square root of the cases, however steady the past
    monthly means were. Stays are skewed (a few long ones), so a creep over several months is
    judged on their logs, whose means follow the normal curve closely even over a dozen cases."""
    los = cast(ip.los_days, Double)  # the database sums the moments; SQLite has no stddev_samp to do more
    log = func.ln(case((ip.los_days < 1, literal(1.0, Double)), else_=los))
    stmt = scoped(select(ip.drg_code.label("drg_code"), dim_date.c.month_start.label("month_start"),
                         func.count().label("cases"),
                         func.avg(los).label("mean_los"), func.avg(los * los).label("mean_sq"),
                         func.avg(log).label("mean_log"), func.avg(log * log).label("mean_log_sq"))
                  .select_from(_from().join(dim_date, dim_date.c.date == ip.discharge_date))
                  .where(*_in_dept(dept, period)), scope).group_by(ip.drg_code, dim_date.c.month_start)
    out = wh.frame(stmt)
    for c in ("cases", "mean_los", "mean_sq", "mean_log", "mean_log_sq"):
        out[c] = pd.to_numeric(out[c]).astype(float)
    n = out["cases"]
    for mean, sq, sd in (("mean_los", "mean_sq", "sd_los"), ("mean_log", "mean_log_sq", "sd_log")):
        variance = (out[sq] - out[mean] ** 2).clip(lower=0.0) * n / (n - 1).where(n > 1)
        out[sd] = variance.fillna(0.0) ** 0.5
    out["month_start"] = pd.to_datetime(out["month_start"]).dt.date
    return (out.drop(columns=["mean_sq", "mean_log_sq"]).sort_values(["drg_code", "month_start"])
            .reset_index(drop=True))


@memoized
def group_cases(wh: Warehouse, scope: Scope, dept: str, period: Period, drg_code: str, high: float, low: float,
                basis: str = "charge", limit: int = CASE_LIMIT) -> pd.DataFrame:
    """The group's cases in the department: outliers first (high, then low), then by the basis
    value, at most `limit` rows; attrs: total (all cases), average (the group's average of the basis)."""
    value = _basis(basis)
    conds = [*_in_dept(dept, period, drg_only(wh)), ip.drg_code == drg_code]
    avg_q = scoped(select(func.count().label("n"), func.avg(value).label("avg_value")).select_from(_from()).where(*conds),
                   scope)
    head = wh.frame(avg_q).iloc[0]
    total = int(head["n"] or 0)
    average = float(head["avg_value"]) if total else float("nan")
    cols = ["case_id", "discharge_date", "los_days", "doctor", "charge_total", "drg_payment", "cost_total", "margin",
            "ratio", "outlier"]
    if not total:
        out = pd.DataFrame(columns=cols)
        out.attrs.update(total=0, average=average)
        return out
    avg = scoped(select(func.avg(value)).select_from(_from()).where(*conds), scope).scalar_subquery()
    flag = case((value > literal(high) * avg, "high"), (value < literal(low) * avg, "low"), else_="")
    rank = case((value > literal(high) * avg, 0), (value < literal(low) * avg, 1), else_=2)
    stmt = scoped(select(ip.case_id, ip.discharge_date, ip.los_days, dim_doctor.c.name.label("doctor"),
                         ip.charge_total, ip.drg_payment, ip.cost_total, flag.label("outlier"))
                  .select_from(_from().outerjoin(dim_doctor, and_(ip.doctor_id == dim_doctor.c.doctor_id)))
                  .where(*conds), scope).order_by(rank, value.desc(), ip.case_id).limit(limit)
    out = wh.frame(stmt)
    out["discharge_date"] = pd.to_datetime(out["discharge_date"]).dt.date
    for c in ("los_days", "charge_total", "drg_payment", "cost_total"):
        out[c] = pd.to_numeric(out[c]).astype(float)
    out["margin"] = out["drg_payment"] - out["cost_total"]
    out["ratio"] = out["charge_total" if basis == "charge" else "cost_total"] / average
    out = out[cols]
    out.attrs.update(total=total, average=average)
    return out
