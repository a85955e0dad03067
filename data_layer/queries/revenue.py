"""Revenue drill-down (收入分析): the clinical departments in scope → department → ward (病区) or
medical group (医疗组) → doctor → the rows (inpatient cases, outpatient doctor-days), for a revenue
stream (all, outpatient 门急诊, inpatient 住院, bed 床位), with the revenue structure.

Attribution follows the warehouse contract: a case belongs to the period of its discharge_date and
to its own ward, medical group and doctor; an outpatient doctor-day to its date and to the group of
its doctor (dim_doctor.group_id). Rows without a group or doctor form an explicit "unassigned"
member (key UNASSIGNED), so every level adds up to the level above it. Wards have no outpatient
revenue (outpatient facts carry a doctor, not a ward): the ward branch counts inpatient revenue only.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, and_, desc, func, select

from ..arrays import divide, driver_floats
from ..errors import UserError
from ..periods import Period
from ..schema import (
    UNASSIGNED,  # noqa: F401 - importable from here as before
    dim_department,
    dim_doctor,
    dim_drg,
    dim_medical_group,
    dim_ward,
    fact_inpatient_case,
    fact_outpatient_daily,
)
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

ip, op, dept_c = fact_inpatient_case.c, fact_outpatient_daily.c, dim_department.c

STREAMS = ("all", "outpatient", "inpatient", "bed")
BRANCHES = ("group", "ward")
# revenue structure (收入结构): drugs, materials, exams, lab, treatment, surgery, nursing, beds, other
PARTS = ("drug", "material", "exam", "lab", "treatment", "surgery", "nursing", "bed", "other")
OP_PARTS = ("drug", "material", "exam", "lab", "treatment", "other")
ROW_CAP = 5_000  # rows sent to the screen's grid (virtualised), biggest first
EXPORT_CAP = 100_000  # rows in an export
VOLUMES = ("cases", "bed_days", "visits")
NUMERIC = (*VOLUMES, "ip_total", *(f"ip_{p}" for p in PARTS), "op_total", *(f"op_{p}" for p in OP_PARTS))


@dataclass(frozen=True)
class DrillPath:
    """Where the drill-down stands: no department (all my departments), a department, a ward or a
    group within it (by = the branch), a doctor within that ward or group."""

    dept: str | None = None
    by: str = "group"
    ward: str | None = None
    group: str | None = None
    doctor: str | None = None

    def __post_init__(self) -> None:
        if self.by not in BRANCHES:
            raise UserError("unknown branch")
        if self.ward is not None and self.group is not None:
            raise UserError("a ward and a group at once")
        if self.ward is not None and self.by != "ward" or self.group is not None and self.by != "group":
            raise UserError("branch and id do not match")
        if (self.ward or self.group or self.doctor) and not self.dept:
            raise UserError("no department")
        if self.doctor is not None and self.ward is None and self.group is None:
            raise UserError("a doctor needs a ward or a group")
        if self.ward == UNASSIGNED:
            raise UserError("every case has a ward")

    @property
    def level(self) -> str:
        """What the level below lists: department, ward, group, doctor, or rows."""
        if self.dept is None:
            return "department"
        if self.ward is None and self.group is None:
            return self.by
        return "doctor" if self.doctor is None else "rows"

    @property
    def ward_branch(self) -> bool:
        return self.dept is not None and self.by == "ward"

    def sources(self, stream: str) -> tuple[bool, bool]:
        """(inpatient?, outpatient?) facts this stream reads at this place."""
        if stream not in STREAMS:
            raise UserError("unknown stream")
        return stream != "outpatient", stream in ("all", "outpatient") and not self.ward_branch


def _eq(col: ColumnElement, value: str) -> ColumnElement[bool]:
    return col.is_(None) if value == UNASSIGNED else col == value


def _ip_where(period: Period, path: DrillPath) -> list[ColumnElement[bool]]:
    conds = [dept_c.kind == "clinical", ip.discharge_date.between(period.start, period.end)]
    if path.dept is not None:
        conds.append(ip.dept_id == path.dept)
    if path.ward is not None:
        conds.append(ip.ward_id == path.ward)
    if path.group is not None:
        conds.append(_eq(ip.group_id, path.group))
    if path.doctor is not None:
        conds.append(_eq(ip.doctor_id, path.doctor))
    return conds


def _op_where(period: Period, path: DrillPath) -> list[ColumnElement[bool]]:
    conds = [dept_c.kind == "clinical", op.date.between(period.start, period.end)]
    if path.dept is not None:
        conds.append(op.dept_id == path.dept)
    if path.group is not None:  # outpatient revenue follows the doctor's medical group
        conds.append(_eq(dim_doctor.c.group_id, path.group))
    if path.doctor is not None:
        conds.append(_eq(op.doctor_id, path.doctor))
    return conds


_IP_FROM = fact_inpatient_case.join(dim_department, ip.dept_id == dept_c.dept_id)
_OP_FROM = fact_outpatient_daily.join(dim_department, op.dept_id == dept_c.dept_id).outerjoin(
    dim_doctor, op.doctor_id == dim_doctor.c.doctor_id)
_IP_KEY = {"department": ip.dept_id, "ward": ip.ward_id, "group": ip.group_id, "doctor": ip.doctor_id}
_OP_KEY = {"department": op.dept_id, "group": dim_doctor.c.group_id, "doctor": op.doctor_id}


def _numeric(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """`cols` as floats, missing ones 0, set at once (column by column, pandas' checks took a
    drill-down's Python time)."""
    values = {c: np.nan_to_num(df[c].to_numpy(dtype=float, na_value=np.nan) if pd.api.types.is_numeric_dtype(df[c])
                               else driver_floats(df[c].to_numpy(dtype=object)), nan=0.0) for c in cols}
    return pd.concat([df.drop(columns=cols), pd.DataFrame(values, index=df.index)], axis=1)[list(df.columns)]


@memoized
def members(wh: Warehouse, scope: Scope, period: Period, stream: str, path: DrillPath) -> pd.DataFrame:
    """One row per member of the level below `path` (departments, wards, groups or doctors):
    key, cases, bed_days (Σ los_days), visits, ip_total and ip_<part>, op_total and op_<part>;
    key UNASSIGNED for cases or doctor-days without a group or doctor. Not for the rows level."""
    level = path.level
    if level == "rows":
        raise UserError("the rows level has no members")
    use_ip, use_op = path.sources(stream)
    stmts = []
    if use_ip:
        key = _IP_KEY[level]
        stmts.append(scoped(select(key.label("key"), func.count().label("cases"), func.sum(ip.los_days).label("bed_days"),
                                   func.sum(ip.charge_total).label("ip_total"),
                                   *[func.sum(getattr(ip, f"charge_{p}")).label(f"ip_{p}") for p in PARTS])
                            .select_from(_IP_FROM).where(and_(*_ip_where(period, path))), scope).group_by(key))
    if use_op:
        key = _OP_KEY[level]
        stmts.append(scoped(select(key.label("key"), func.sum(op.visits).label("visits"),
                                   func.sum(op.revenue_total).label("op_total"),
                                   *[func.sum(getattr(op, f"revenue_{p}")).label(f"op_{p}") for p in OP_PARTS])
                            .select_from(_OP_FROM).where(and_(*_op_where(period, path))), scope).group_by(key))
    # the sources side by side, their members joined on the key (one without a key: UNASSIGNED), a
    # measure a member lacks 0; on the rows, not by a pandas merge (most of a drill-down's Python)
    got: dict[str, dict[str, float]] = {}
    for names, rows in wh.gather([functools.partial(wh.rows, stmt) for stmt in stmts]):
        for row in rows:
            k = row[0]
            values = got.setdefault(UNASSIGNED if k is None or k != k else str(k), {})
            for name, v in zip(names[1:], row[1:], strict=True):
                values[name] = 0.0 if v is None else float(v)
    keys = sorted(got)
    out = {c: np.array([got[k].get(c, 0.0) for k in keys], dtype=float) for c in NUMERIC}
    return pd.DataFrame({"key": keys if keys else np.array([], dtype=object), **out}, columns=["key", *NUMERIC])


def combine(df: pd.DataFrame, stream: str) -> pd.DataFrame:
    """The stream's revenue by part (PARTS), its total, and the normalised figures:
    per_case = inpatient revenue of the stream / cases, per_bed_day = the same / Σ los_days,
    per_visit = outpatient revenue / visits (NaN where the denominator is 0). Computed on numpy
    arrays and added to the frame at once (column by column, pandas took most of a drill-down's
    Python time)."""
    def col(name: str) -> np.ndarray:
        return df[name].to_numpy(dtype=float, na_value=np.nan)

    nan_if_no_cases = 0.0 * col("cases")  # NaN where the member's case count is unknown, as before
    zeros = np.zeros(len(df))
    new: dict[str, np.ndarray] = {}
    for p in PARTS:
        ip_part = col(f"ip_{p}") if stream in ("all", "inpatient") or (stream == "bed" and p == "bed") else zeros
        op_part = col(f"op_{p}") if stream in ("all", "outpatient") and p in OP_PARTS else zeros
        new[p] = ip_part + op_part
        new[f"ipx_{p}"] = ip_part + nan_if_no_cases  # the inpatient portion, for per-case figures
        new[f"opx_{p}"] = op_part + nan_if_no_cases
    ip_value = 0.0 * col("ip_total") if stream == "outpatient" else col("ip_bed") if stream == "bed" else col("ip_total")
    op_value = col("op_total") if stream in ("all", "outpatient") else 0.0 * col("op_total")
    new["ip_value"] = ip_value
    new["op_value"] = op_value
    new["total"] = ip_value + op_value
    new["per_case"] = divide(ip_value, col("cases"))
    new["per_bed_day"] = divide(ip_value, col("bed_days"))
    new["per_visit"] = divide(op_value, col("visits"))
    out = df.copy()
    for name in [c for c in new if c in out.columns]:  # a column already there keeps its place
        out[name] = new.pop(name)
    return pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)



def ratio(num: pd.Series | float, den: pd.Series | float) -> pd.Series | float:
    if isinstance(den, pd.Series):
        return (num / den.where(den != 0)).astype(float)
    return float(num) / den if den else float("nan")


def totals(df: pd.DataFrame) -> pd.Series:
    """Σ over the members of a `members` frame (the place's own figures)."""
    return df[list(NUMERIC)].sum() if not df.empty else pd.Series(0.0, index=list(NUMERIC))


@memoized
def names(wh: Warehouse, scope: Scope, level: str, dept_id: str | None) -> pd.DataFrame:
    """key, name_zh, name_en (and title for doctors) of the members a level may list, in scope."""
    if level == "department":
        stmt = select(dept_c.dept_id.label("key"), dept_c.name_zh, dept_c.name_en).where(dept_c.kind == "clinical")
    elif level == "ward":
        w = dim_ward.c
        stmt = (select(w.ward_id.label("key"), w.name_zh, w.name_en)
                .select_from(dim_ward.join(dim_department, w.dept_id == dept_c.dept_id))
                .where(w.dept_id == dept_id))
    elif level == "group":
        g = dim_medical_group.c
        stmt = (select(g.group_id.label("key"), g.name_zh, g.name_en)
                .select_from(dim_medical_group.join(dim_department, g.dept_id == dept_c.dept_id))
                .where(g.dept_id == dept_id))
    elif level == "doctor":
        d = dim_doctor.c
        stmt = (select(d.doctor_id.label("key"), d.name.label("name_zh"), d.name.label("name_en"), d.group_id, d.title)
                .select_from(dim_doctor.join(dim_department, d.dept_id == dept_c.dept_id))
                .where(d.dept_id == dept_id))
    else:
        raise UserError("unknown level")
    df = wh.frame(scoped(stmt, scope))
    df["key"] = df["key"].astype(str)
    return df


def check_path(wh: Warehouse, scope: Scope, path: DrillPath) -> str | None:
    """None when every id of the path belongs to its department within the scope; otherwise
    which one does not ('ward', 'group' or 'doctor'). The department itself is checked by the page."""
    if path.dept is None:
        return None
    for level, value in (("ward", path.ward), ("group", path.group), ("doctor", path.doctor)):
        if value is None or value == UNASSIGNED:
            continue
        if value not in set(names(wh, scope, level, path.dept)["key"]):
            return level
    return None


_CASE_COLS = (ip.case_id, ip.admit_date, ip.discharge_date, ip.los_days, ip.ward_id, ip.group_id, ip.doctor_id,
              ip.drg_code, dim_drg.c.name_zh.label("drg_zh"), dim_drg.c.name_en.label("drg_en"), ip.charge_total,
              *[getattr(ip, f"charge_{p}") for p in PARTS], ip.drg_payment, ip.cost_total)


@memoized
def case_rows(wh: Warehouse, scope: Scope, period: Period, stream: str, path: DrillPath,
              limit: int = ROW_CAP) -> pd.DataFrame:
    """The inpatient cases behind a place (usually a doctor), the biggest (by the stream's value:
    charge_bed for the bed stream, charge_total otherwise) first, at most `limit`."""
    use_ip, _ = path.sources(stream)
    if not use_ip:
        return pd.DataFrame(columns=[c.name for c in _CASE_COLS])
    order = ip.charge_bed if stream == "bed" else ip.charge_total
    stmt = scoped(select(*_CASE_COLS)
                  .select_from(_IP_FROM.outerjoin(dim_drg, ip.drg_code == dim_drg.c.drg_code))
                  .where(and_(*_ip_where(period, path))), scope).order_by(desc(order), ip.case_id).limit(limit)
    df = wh.frame(stmt)
    df = _numeric(df, ["los_days", "charge_total", *[f"charge_{p}" for p in PARTS], "drg_payment", "cost_total"])
    df["los_days"] = df["los_days"].astype(int)
    df["case_id"] = df["case_id"].astype(str)
    return df


@memoized
def day_rows(wh: Warehouse, scope: Scope, period: Period, stream: str, path: DrillPath,
             limit: int = ROW_CAP) -> pd.DataFrame:
    """The outpatient doctor-days behind a place, the biggest revenue first, at most `limit`."""
    cols = ["date", "dept_id", "doctor_id", "visits", "emergency_visits", "revenue_total",
            *[f"revenue_{p}" for p in OP_PARTS]]
    _, use_op = path.sources(stream)
    if not use_op:
        return pd.DataFrame(columns=cols)
    stmt = (scoped(select(op.date, op.dept_id, op.doctor_id, op.visits, op.emergency_visits, op.revenue_total,
                          *[getattr(op, f"revenue_{p}") for p in OP_PARTS])
                   .select_from(_OP_FROM).where(and_(*_op_where(period, path))), scope)
            .order_by(desc(op.revenue_total), op.date, op.dept_id).limit(limit))
    df = wh.frame(stmt)
    df = _numeric(df, cols[3:])
    for c in ("visits", "emergency_visits"):
        df[c] = df[c].astype(int)
    return df


@memoized
def row_counts(wh: Warehouse, scope: Scope, period: Period, stream: str, path: DrillPath) -> tuple[int, int]:
    """(cases, doctor-days) behind a place in all, whatever the cap."""
    use_ip, use_op = path.sources(stream)
    n_ip = wh.scalar(scoped(select(func.count()).select_from(_IP_FROM).where(and_(*_ip_where(period, path))),
                            scope)) if use_ip else 0
    n_op = wh.scalar(scoped(select(func.count()).select_from(_OP_FROM).where(and_(*_op_where(period, path))),
                            scope)) if use_op else 0
    return int(n_ip or 0), int(n_op or 0)


COST_PARTS = ("personnel", "drug", "material", "equipment", "overhead")
_DETAIL_MONEY = ("charge_total", *(f"charge_{p}" for p in PARTS), "drg_payment", "cost_total",
                 *(f"cost_{p}" for p in COST_PARTS))


@memoized
def case_detail(wh: Warehouse, scope: Scope, period: Period, path: DrillPath, case_id: str) -> pd.DataFrame:
    """One inpatient case behind a place (the page's drill path and period, within the scope), with
    its department, ward, medical group, doctor and DRG group (name, weight, reference stay and
    charge); an empty frame when the case is not behind that place or not in the scope."""
    ward, grp, doc, drg = dim_ward.c, dim_medical_group.c, dim_doctor.c, dim_drg.c
    stmt = (select(ip.case_id, ip.dept_id, dept_c.name_zh.label("dept_zh"), dept_c.name_en.label("dept_en"),
                   ip.ward_id, ward.name_zh.label("ward_zh"), ward.name_en.label("ward_en"),
                   ip.group_id, grp.name_zh.label("group_zh"), grp.name_en.label("group_en"),
                   ip.doctor_id, doc.name.label("doctor_name"), doc.title.label("doctor_title"),
                   ip.admit_date, ip.discharge_date, ip.los_days, ip.insurance_type, ip.surgery_level,
                   ip.is_day_surgery, ip.discharge_status, ip.drg_code, drg.name_zh.label("drg_zh"),
                   drg.name_en.label("drg_en"), drg.weight.label("drg_weight"), drg.is_surgical.label("drg_surgical"),
                   drg.ref_los_days, drg.ref_charge_per_case,
                   *(getattr(ip, c) for c in _DETAIL_MONEY))
            .select_from(_IP_FROM.outerjoin(dim_ward, ip.ward_id == ward.ward_id)
                         .outerjoin(dim_medical_group, ip.group_id == grp.group_id)
                         .outerjoin(dim_doctor, ip.doctor_id == doc.doctor_id)
                         .outerjoin(dim_drg, ip.drg_code == drg.drg_code))
            .where(and_(*_ip_where(period, path)), ip.case_id == case_id))
    df = wh.frame(scoped(stmt, scope))
    return _numeric(df, [*_DETAIL_MONEY, "los_days", "drg_weight", "ref_los_days", "ref_charge_per_case"]) \
        if not df.empty else df


@memoized
def drg_peers(wh: Warehouse, scope: Scope, period: Period, dept_id: str, drg_code: str) -> pd.DataFrame:
    """The averages of the department's cases of one DRG group in the period (within the scope):
    cases, and the mean stay, charge and cost components and payment — what a case of the group
    is compared with."""
    stmt = (select(func.count().label("cases"), func.avg(ip.los_days).label("los_days"),
                   *(func.avg(getattr(ip, c)).label(c) for c in _DETAIL_MONEY))
            .select_from(_IP_FROM)
            .where(dept_c.kind == "clinical", ip.dept_id == dept_id, ip.drg_code == drg_code,
                   ip.discharge_date.between(period.start, period.end)))
    df = wh.frame(scoped(stmt, scope))
    return _numeric(df, ["cases", "los_days", *_DETAIL_MONEY])


def busiest_doctors(wh: Warehouse, scope: Scope, period: Period, limit: int = 1) -> pd.DataFrame:
    """dept_id, group_id, doctor_id, cases: the doctors with the most discharges in the period within
    the scope (the drill-down's heaviest page), the most first."""
    stmt = (scoped(select(ip.dept_id, ip.group_id, ip.doctor_id, func.count().label("cases"))
                   .select_from(_IP_FROM), scope)
            .where(dept_c.kind == "clinical", ip.discharge_date.between(period.start, period.end),
                   ip.doctor_id.is_not(None), ip.group_id.is_not(None))
            .group_by(ip.dept_id, ip.group_id, ip.doctor_id)
            .order_by(desc(func.count()), ip.doctor_id).limit(limit))
    return wh.frame(stmt)
