"""Payment by DIP (按病种分值付费, Diagnosis-Intervention Packet), contract version 2: what one point
is worth month by month (the pooling region's estimates and the year's final settlement), and the
points, payment and cost of the DIP cases by department, packet, fund and month.

A warehouse without the DIP parts of the contract (`Warehouse.capabilities`) gives empty frames:
the pages say "not available in this warehouse".
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Double, cast, func, select

from ..periods import Period
from ..schema import dim_date, dim_department, dim_dip, fact_dip_point_value, fact_inpatient_case
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

ip, pv = fact_inpatient_case.c, fact_dip_point_value.c
CASE_PARTS = ("fact_inpatient_case.payment_scheme", "fact_inpatient_case.dip_code", "dim_dip")
POINT_COLS = ["year", "month", "insurance_type", "point_value", "hospital_coefficient", "is_final"]
POINTS_COLS = ["dept_id", "dip_code", "insurance_type", "month_start", "cases", "points", "payment", "cost"]


def has_dip(wh: Warehouse) -> bool:
    """The warehouse holds DIP cases with their packets."""
    return wh.capabilities().has(*CASE_PARTS)


@memoized
def point_values(wh: Warehouse, scope: Scope) -> pd.DataFrame:
    """Every point value row (the region's figures: the same for every scope): year, month (NaN for
    the final settlement), insurance_type, point_value, hospital_coefficient, is_final."""
    if not wh.capabilities().has("fact_dip_point_value"):
        return pd.DataFrame(columns=POINT_COLS)
    df = wh.frame(select(*[pv[c].label(c) for c in POINT_COLS]).order_by(pv.year, pv.month, pv.insurance_type))
    for c in ("point_value", "hospital_coefficient"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["year"] = pd.to_numeric(df["year"]).astype(int)
    df["month"] = pd.to_numeric(df["month"], errors="coerce")
    df["is_final"] = df["is_final"].astype(bool)
    return df


@memoized
def dip_points(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """The DIP cases discharged in the period, by department, packet, fund and month: cases, points
    (Σ packet score), payment (Σ drg_payment, the estimate at load time) and cost (Σ cost_total)."""
    if not has_dip(wh):
        return pd.DataFrame(columns=POINTS_COLS)
    stmt = scoped(
        select(ip.dept_id.label("dept_id"), ip.dip_code.label("dip_code"), ip.insurance_type.label("insurance_type"),
               dim_date.c.month_start.label("month_start"), func.count().label("cases"),
               func.sum(cast(dim_dip.c.score, Double)).label("points"), func.sum(ip.drg_payment).label("payment"),
               func.sum(ip.cost_total).label("cost"))
        .select_from(fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id)
                     .join(dim_dip, ip.dip_code == dim_dip.c.dip_code)
                     .join(dim_date, dim_date.c.date == ip.discharge_date))
        .where(ip.payment_scheme == "dip", ip.discharge_date.between(period.start, period.end)), scope,
    ).group_by(ip.dept_id, ip.dip_code, ip.insurance_type, dim_date.c.month_start)
    df = wh.frame(stmt)
    if df.empty:
        return pd.DataFrame(columns=POINTS_COLS)
    for c in ("cases", "points", "payment", "cost"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["month_start"] = pd.to_datetime(df["month_start"]).dt.date
    return df[POINTS_COLS].sort_values(["dept_id", "dip_code", "insurance_type", "month_start"]).reset_index(drop=True)


@memoized
def packet_names(wh: Warehouse, scope: Scope) -> pd.DataFrame:
    """dip_code, name_zh, name_en, score, is_core of every packet in force (empty without dim_dip)."""
    cols = ["dip_code", "name_zh", "name_en", "score", "is_core"]
    if not wh.capabilities().has("dim_dip"):
        return pd.DataFrame(columns=cols)
    d = dim_dip.c
    df = wh.frame(select(*[d[c].label(c) for c in cols]).order_by(d.dip_code))
    df["score"] = pd.to_numeric(df["score"]).astype(float)
    df["is_core"] = df["is_core"].astype(bool)
    return df
