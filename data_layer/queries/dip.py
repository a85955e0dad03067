"""Payment by DIP (按病种分值付费, Diagnosis-Intervention Packet), contract version 2: what one point
is worth month by month (the pooling region's estimates and the year's final settlement), and the
points, payment and cost of the DIP cases by department, packet, fund and month.

A warehouse without the DIP parts of the contract (`Warehouse.capabilities`) gives empty frames:
the pages say "not available in this warehouse".
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Double, and_, case, cast, distinct, func, literal, select

from ..periods import Period
from ..schema import dim_date, dim_department, dim_dip, dim_doctor, fact_dip_point_value, fact_inpatient_case
from ..scope import Scope, scoped
from ..sources import Filters
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


# ------------------------------------------------------------------------------------------ packets
# High- and low-ratio cases (高/低倍率病例): a DIP case whose total charge is above HIGH_RATIO × its
# packet's regional charge per case (dim_dip.ref_charge_per_case), or below LOW_RATIO ×. This is the
# common regional rule; pooling regions set their own thresholds (some 2.5 / 0.4, some by packet score).
HIGH_RATIO = 2.0
LOW_RATIO = 0.5
SENSITIVITY_CUT = 0.05  # the final point value landing this share below the estimate
CASE_LIMIT = 100_000
FIGURES = ["cases", "points", "charge", "payment", "est_payment", "cost", "margin", "margin_per_case",
           "booked_margin", "high_ratio", "low_ratio"]
PACKET_COLS = ["dip_code", "name_zh", "name_en", "is_core", "score", "ref_charge_per_case", *FIGURES]
DEPT_COLS = ["dept_id", "name_zh", "name_en", "packets", *FIGURES]
LATEST_COLS = ["insurance_type", "year", "month", "point_value", "hospital_coefficient", "rate"]
SCHEMES = ("drg", "dip", "fee_for_service")
SPLIT_COLS = ["payment_scheme", "cases", "charge", "revenue", "cost", "margin", "margin_per_case"]
SETTLE_COLS = ["year", "insurance_type", "cases", "points", "estimated", "final_value", "final_coefficient", "final",
               "effect", "effect_share"]


def _filter_conds(filters: Filters) -> list:
    """The campus, division and department restrictions of `filters` (ANDed with the scope)."""
    d = dim_department.c
    conds = []
    if filters.campus:
        conds.append(d.campus_id.in_(list(filters.campus)))
    if filters.division:
        conds.append(d.division.in_(list(filters.division)))
    if filters.department:
        conds.append(d.dept_id.in_(list(filters.department)))
    return conds


def _dip_from():
    return (fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id)
            .join(dim_dip, ip.dip_code == dim_dip.c.dip_code))


def _dip_conds(period: Period, filters: Filters) -> list:
    return [ip.payment_scheme == "dip", ip.discharge_date.between(period.start, period.end), *_filter_conds(filters)]


def _ratio_flags():
    charge, ref = cast(ip.charge_total, Double), cast(dim_dip.c.ref_charge_per_case, Double)
    high = case((and_(ref.is_not(None), charge > literal(HIGH_RATIO) * ref), 1), else_=0)
    low = case((and_(ref.is_not(None), charge < literal(LOW_RATIO) * ref), 1), else_=0)
    return high, low


def latest_rates(points: pd.DataFrame, through: date | None = None) -> pd.DataFrame:
    """Per fund, the latest monthly estimate (not the final settlement) in `points` (point_values'
    answer) at or before the month of `through` (any month when None), with rate = point value ×
    hospital coefficient: what one point is expected to pay."""
    if points.empty:
        return pd.DataFrame(columns=LATEST_COLS)
    est = points[~points["is_final"].astype(bool)].dropna(subset=["month"])
    if through is not None:
        key = est["year"] * 100 + est["month"]
        est = est[key <= through.year * 100 + through.month]
    if est.empty:
        return pd.DataFrame(columns=LATEST_COLS)
    est = est.assign(month=est["month"].astype(int)).sort_values(["insurance_type", "year", "month"])
    out = est.groupby("insurance_type", as_index=False).last()
    out["rate"] = out["point_value"] * out["hospital_coefficient"]
    return out[LATEST_COLS].reset_index(drop=True)


@memoized
def latest_point_values(wh: Warehouse, scope: Scope, through: date | None = None) -> pd.DataFrame:
    """Per insurance fund, the region's latest monthly point-value estimate at or before the month of
    `through` (the latest of all when None): insurance_type, year, month, point_value,
    hospital_coefficient, rate (yuan per point: value × coefficient). The region's figures, the
    same for every scope."""
    return latest_rates(point_values(wh, scope), through)


def _by_fund(wh: Warehouse, scope: Scope, period: Period, filters: Filters, keys: list) -> pd.DataFrame:
    """The period's DIP cases grouped by `keys` and insurance fund, summed in the database."""
    high, low = _ratio_flags()
    stmt = scoped(
        select(*keys, ip.insurance_type.label("insurance_type"), func.count().label("cases"),
               func.sum(cast(dim_dip.c.score, Double)).label("points"),
               func.sum(cast(ip.charge_total, Double)).label("charge"),
               func.sum(cast(ip.drg_payment, Double)).label("payment"),
               func.sum(cast(ip.cost_total, Double)).label("cost"),
               func.sum(high).label("high_ratio"), func.sum(low).label("low_ratio"))
        .select_from(_dip_from()).where(*_dip_conds(period, filters)), scope,
    ).group_by(*[k.element for k in keys], ip.insurance_type)
    df = wh.frame(stmt)
    for c in ("cases", "points", "charge", "payment", "cost", "high_ratio", "low_ratio"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    return df


def _valued(df: pd.DataFrame, rates: pd.DataFrame, key: str) -> pd.DataFrame:
    """Sum the funds of each `key`: est_payment = Σ points × the fund's latest rate (NaN when a fund
    has no point value), margin = est_payment − cost, booked_margin = payment − cost."""
    rate = df["insurance_type"].map(rates.set_index("insurance_type")["rate"]) if not rates.empty else float("nan")
    df = df.assign(est_payment=df["points"] * rate)
    sums = ["cases", "points", "charge", "payment", "cost", "high_ratio", "low_ratio"]
    out = df.groupby(key, as_index=False)[sums].sum()
    est = df.groupby(key)["est_payment"].sum(min_count=1)
    valued = df.groupby(key)["est_payment"].apply(lambda s: s.notna().all())
    out["est_payment"] = out[key].map(est.where(valued))
    out["margin"] = out["est_payment"] - out["cost"]
    out["margin_per_case"] = out["margin"] / out["cases"]
    out["booked_margin"] = out["payment"] - out["cost"]
    for c in ("cases", "high_ratio", "low_ratio"):
        out[c] = out[c].astype(int)
    return out


@memoized
def packet_table(wh: Warehouse, scope: Scope, period: Period, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per DIP packet with DIP cases discharged in the period: cases, score, points (Σ score),
    charge, payment (Σ drg_payment, booked at load time), est_payment (points × the latest point value
    × the hospital coefficient of each case's fund, at or before the period's end), cost, margin
    (est_payment − cost), margin per case, booked_margin (payment − cost), and the high- and
    low-ratio cases (charge above HIGH_RATIO or below LOW_RATIO × the packet's ref_charge_per_case);
    loss-makers first. Empty on a warehouse without DIP."""
    if not has_dip(wh):
        return pd.DataFrame(columns=PACKET_COLS)
    d = dim_dip.c
    keys = [ip.dip_code.label("dip_code")]
    df = _by_fund(wh, scope, period, filters, keys)
    if df.empty:
        return pd.DataFrame(columns=PACKET_COLS)
    out = _valued(df, latest_point_values(wh, scope, period.end), "dip_code")
    info = wh.frame(select(d.dip_code, d.name_zh, d.name_en, d.is_core, d.score, d.ref_charge_per_case)
                    .where(d.dip_code.in_(sorted(out["dip_code"]))))
    info["score"] = pd.to_numeric(info["score"]).astype(float)
    info["ref_charge_per_case"] = pd.to_numeric(info["ref_charge_per_case"]).astype(float)
    info["is_core"] = info["is_core"].astype(bool)
    out = info.merge(out, on="dip_code")
    return out[PACKET_COLS].sort_values(["margin", "dip_code"], kind="stable").reset_index(drop=True)


@memoized
def department_table(wh: Warehouse, scope: Scope, period: Period, filters: Filters = Filters()) -> pd.DataFrame:
    """packet_table's figures per department (with the number of packets it treated); loss-makers first."""
    if not has_dip(wh):
        return pd.DataFrame(columns=DEPT_COLS)
    dd = dim_department.c
    df = _by_fund(wh, scope, period, filters, [ip.dept_id.label("dept_id")])
    if df.empty:
        return pd.DataFrame(columns=DEPT_COLS)
    out = _valued(df, latest_point_values(wh, scope, period.end), "dept_id")
    packets = wh.frame(scoped(select(ip.dept_id.label("dept_id"), func.count(distinct(ip.dip_code)).label("packets"))
                              .select_from(_dip_from()).where(*_dip_conds(period, filters)), scope)
                       .group_by(ip.dept_id))
    names = wh.frame(scoped(select(dd.dept_id, dd.name_zh, dd.name_en).select_from(dim_department), scope))
    out = names.merge(out, on="dept_id").merge(packets, on="dept_id", how="left")
    out["packets"] = pd.to_numeric(out["packets"]).fillna(0).astype(int)
    return out[DEPT_COLS].sort_values(["margin", "dept_id"], kind="stable").reset_index(drop=True)


@memoized
def scheme_split(wh: Warehouse, scope: Scope, period: Period, filters: Filters = Filters()) -> pd.DataFrame:
    """Per payment scheme (drg, dip, fee_for_service, in that order) the cases discharged in the
    period: cases, charge (Σ charge_total), revenue (what the scheme pays: Σ drg_payment for DRG and
    DIP cases, the DIP estimate booked at load time; Σ charge_total for fee-for-service cases, billed
    item by item), cost, margin (revenue − cost) and margin per case. Empty without payment_scheme."""
    if not wh.capabilities().has("fact_inpatient_case.payment_scheme"):
        return pd.DataFrame(columns=SPLIT_COLS)
    revenue = case((ip.payment_scheme == "fee_for_service", cast(ip.charge_total, Double)),
                   else_=cast(ip.drg_payment, Double))
    stmt = scoped(
        select(ip.payment_scheme.label("payment_scheme"), func.count().label("cases"),
               func.sum(cast(ip.charge_total, Double)).label("charge"), func.sum(revenue).label("revenue"),
               func.sum(cast(ip.cost_total, Double)).label("cost"))
        .select_from(fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id))
        .where(ip.payment_scheme.is_not(None), ip.discharge_date.between(period.start, period.end),
               *_filter_conds(filters)), scope,
    ).group_by(ip.payment_scheme)
    df = wh.frame(stmt)
    if df.empty:
        return pd.DataFrame(columns=SPLIT_COLS)
    for c in ("cases", "charge", "revenue", "cost"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["cases"] = df["cases"].astype(int)
    df["margin"] = df["revenue"] - df["cost"]
    df["margin_per_case"] = df["margin"] / df["cases"]
    order = {s: i for i, s in enumerate(SCHEMES)}
    df = df.sort_values("payment_scheme", key=lambda s: s.map(lambda v: order.get(v, len(order))), kind="stable")
    return df[SPLIT_COLS].reset_index(drop=True)


@memoized
def packet_cases(wh: Warehouse, scope: Scope, period: Period, dip_code: str, filters: Filters = Filters(),
                 limit: int = CASE_LIMIT) -> pd.DataFrame:
    """The DIP cases of one packet discharged in the period: high-ratio cases first, then low-ratio,
    then by charge; at most `limit` rows; attrs: total (all the packet's cases)."""
    cols = ["case_id", "dept_id", "dept_zh", "dept_en", "discharge_date", "insurance_type", "los_days", "doctor",
            "charge_total", "ref_charge", "ratio", "flag", "drg_payment", "cost_total", "margin"]
    if not has_dip(wh):
        out = pd.DataFrame(columns=cols)
        out.attrs.update(total=0)
        return out
    conds = [*_dip_conds(period, filters), ip.dip_code == dip_code]
    total = int(wh.scalar(scoped(select(func.count()).select_from(_dip_from()).where(*conds), scope)) or 0)
    high, low = _ratio_flags()
    flag = case((high == 1, "high"), (low == 1, "low"), else_="")
    rank = case((high == 1, 0), (low == 1, 1), else_=2)
    dd = dim_department.c
    stmt = scoped(
        select(ip.case_id, ip.dept_id, dd.name_zh.label("dept_zh"), dd.name_en.label("dept_en"), ip.discharge_date,
               ip.insurance_type, ip.los_days, dim_doctor.c.name.label("doctor"), ip.charge_total,
               dim_dip.c.ref_charge_per_case.label("ref_charge"), flag.label("flag"), ip.drg_payment, ip.cost_total)
        .select_from(_dip_from().outerjoin(dim_doctor, ip.doctor_id == dim_doctor.c.doctor_id))
        .where(*conds), scope,
    ).order_by(rank, ip.charge_total.desc(), ip.case_id).limit(limit)
    out = wh.frame(stmt)
    out["discharge_date"] = pd.to_datetime(out["discharge_date"]).dt.date
    for c in ("los_days", "charge_total", "ref_charge", "drg_payment", "cost_total"):
        out[c] = pd.to_numeric(out[c]).astype(float)
    out["ratio"] = out["charge_total"] / out["ref_charge"]
    out["margin"] = out["drg_payment"] - out["cost_total"]
    out = out[cols].reset_index(drop=True)
    out.attrs.update(total=total)
    return out


@memoized
def sensitivity(wh: Warehouse, scope: Scope, period: Period, cut: float = SENSITIVITY_CUT,
                filters: Filters = Filters()) -> pd.DataFrame:
    """What happens to each packet of packet_table if the final point value lands `cut` (a share)
    below the estimate: margin_cut = est_payment × (1 − cut) − cost, and turns_loss (a margin of
    zero or more that falls below zero); the packets turning loss-making first. attrs: cut, effect
    (the change of the total margin: −cut × Σ est_payment), margin (total at the estimate),
    margin_cut (total after the cut), turning (how many packets turn loss-making)."""
    cols = ["dip_code", "name_zh", "name_en", "cases", "est_payment", "cost", "margin", "margin_cut", "turns_loss"]
    if not 0 <= cut < 1:
        raise ValueError(f"the cut is a share between 0 and 1, not {cut!r}")
    pk = packet_table(wh, scope, period, filters)
    out = pk.assign(margin_cut=pk["est_payment"] * (1 - cut) - pk["cost"])
    out["turns_loss"] = (out["margin"] >= 0) & (out["margin_cut"] < 0)
    out = out.sort_values(["turns_loss", "margin_cut", "dip_code"], ascending=[False, True, True], kind="stable")
    out = out[cols].reset_index(drop=True)
    out.attrs.update(cut=cut, effect=-cut * float(pk["est_payment"].sum()), margin=float(pk["margin"].sum()),
                     margin_cut=float(out["margin_cut"].sum()), turning=int(out["turns_loss"].sum()))
    return out


@memoized
def settlement_effect(wh: Warehouse, scope: Scope, filters: Filters = Filters()) -> pd.DataFrame:
    """Per closed year with a final settlement and per fund: the year's DIP cases and points, what was
    booked at the monthly estimates (Σ drg_payment), what the final point value pays (points × final
    value × final coefficient), the effect on revenue (final − estimated) and its share of the
    estimate. Empty without DIP or before the first final settlement."""
    if not has_dip(wh):
        return pd.DataFrame(columns=SETTLE_COLS)
    pts = point_values(wh, scope)
    final = pts[pts["is_final"]].rename(columns={"point_value": "final_value",
                                                  "hospital_coefficient": "final_coefficient"})
    if final.empty:
        return pd.DataFrame(columns=SETTLE_COLS)
    years = sorted(int(y) for y in final["year"])
    per = Period(date(years[0], 1, 1), date(years[-1], 12, 31))
    stmt = scoped(
        select(dim_date.c.year.label("year"), ip.insurance_type.label("insurance_type"), func.count().label("cases"),
               func.sum(cast(dim_dip.c.score, Double)).label("points"),
               func.sum(cast(ip.drg_payment, Double)).label("estimated"))
        .select_from(_dip_from().join(dim_date, dim_date.c.date == ip.discharge_date))
        .where(*_dip_conds(per, filters), dim_date.c.year.in_(years)), scope,
    ).group_by(dim_date.c.year, ip.insurance_type)
    df = wh.frame(stmt)
    if df.empty:
        return pd.DataFrame(columns=SETTLE_COLS)
    for c in ("cases", "points", "estimated"):
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["year"] = pd.to_numeric(df["year"]).astype(int)
    df["cases"] = df["cases"].astype(int)
    out = df.merge(final[["year", "insurance_type", "final_value", "final_coefficient"]],
                   on=["year", "insurance_type"])
    out["final"] = out["points"] * out["final_value"] * out["final_coefficient"]
    out["effect"] = out["final"] - out["estimated"]
    out["effect_share"] = out["effect"] / out["estimated"]
    return out[SETTLE_COLS].sort_values(["year", "insurance_type"]).reset_index(drop=True)
