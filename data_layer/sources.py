"""Sources: a fact table with the dimensions it joins, its period column and level keys.

Every source joins dim_department, so the scope condition (on dim_department, ANDed in by
data_layer.scope.scoped) is applied the same way to every query.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, FromClause, Select, and_, bindparam, select

from .errors import UserError
from .periods import Grain
from .registry import SOURCE_LEVELS, Level
from .schema import (
    dim_date,
    dim_department,
    dim_dip,
    dim_doctor,
    dim_drg,
    dim_equipment,
    dim_ward,
    fact_budget_monthly,
    fact_dept_cost_monthly,
    fact_equipment_daily,
    fact_inpatient_case,
    fact_outpatient_daily,
    fact_staff_monthly,
    fact_ward_daily,
)

dept = dim_department.c
SHAPE_MARK = "\x00filter"  # stands for a filter's ids in Filters.shape(); never an id


@dataclass(frozen=True)
class Filters:
    """Optional restrictions by id at any level (ANDed with the scope)."""

    campus: tuple[str, ...] = ()
    division: tuple[str, ...] = ()
    department: tuple[str, ...] = ()
    ward: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    doctor: tuple[str, ...] = ()
    drg: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()  # department kinds: clinical, medtech, support, admin
    service_line: tuple[str, ...] = ()
    # payment schemes of inpatient cases (contract version 2: drg, dip, fee_for_service): only for
    # inpatient figures, and only on a warehouse that has fact_inpatient_case.payment_scheme
    scheme: tuple[str, ...] = ()

    def by_level(self) -> dict[Level, tuple[str, ...]]:
        return {lv: getattr(self, lv.value) for lv in Level if lv != Level.hospital and getattr(self, lv.value)}

    def shape(self) -> Filters:
        """What a statement built once for many requests depends on: which filters are set, each
        id list replaced by one mark (build_select with `binds` reads no value of it)."""
        return Filters(**{f.name: (SHAPE_MARK,) if getattr(self, f.name) else () for f in fields(self)})

    def binds(self) -> tuple[dict[str, BindParameter], dict[str, list[str]]]:
        """For a statement built from `shape()`: a parameter per set filter (`f_<name>`, with no
        value of its own, so a statement run without the caller's ids fails), and the values to
        run it with for these filters."""
        names = [f.name for f in fields(self) if getattr(self, f.name)]
        return ({n: bindparam(f"f_{n}", expanding=True, required=True) for n in names},
                {f"f_{n}": list(getattr(self, n)) for n in names})


@dataclass(frozen=True)
class Source:
    name: str
    date_col: ColumnElement | None  # the period column; None: no period (dimension-only)
    monthly: bool

    def from_clause(self, needs: frozenset[str]) -> FromClause:
        return _FROM[self.name](needs)

    def key(self, level: Level) -> ColumnElement | None:
        if level not in SOURCE_LEVELS[self.name]:
            return None
        return _KEYS[self.name].get(level)

    def scheme_column(self) -> ColumnElement | None:
        """The column a payment-scheme filter applies to (inpatient cases only), or None."""
        return fact_inpatient_case.c.payment_scheme if self.name == "inpatient" else None


def _ip_from(needs: frozenset[str]) -> FromClause:
    f = fact_inpatient_case.join(dim_department, fact_inpatient_case.c.dept_id == dept.dept_id)
    if "drg" in needs:
        f = f.outerjoin(dim_drg, fact_inpatient_case.c.drg_code == dim_drg.c.drg_code)
    if "dip" in needs:  # contract version 2: the DIP packet of a DIP case
        f = f.outerjoin(dim_dip, fact_inpatient_case.c.dip_code == dim_dip.c.dip_code)
    return f


def _op_from(needs: frozenset[str]) -> FromClause:
    f = fact_outpatient_daily.join(dim_department, fact_outpatient_daily.c.dept_id == dept.dept_id)
    if "doctor" in needs:
        f = f.outerjoin(dim_doctor, fact_outpatient_daily.c.doctor_id == dim_doctor.c.doctor_id)
    return f


_FROM = {
    "inpatient": _ip_from,
    "outpatient": _op_from,
    "ward": lambda _n: fact_ward_daily.join(dim_ward, fact_ward_daily.c.ward_id == dim_ward.c.ward_id).join(
        dim_department, dim_ward.c.dept_id == dept.dept_id),
    "cost": lambda _n: fact_dept_cost_monthly.join(dim_department, fact_dept_cost_monthly.c.dept_id == dept.dept_id),
    "staff": lambda _n: fact_staff_monthly.join(dim_department, fact_staff_monthly.c.dept_id == dept.dept_id),
    "budget": lambda _n: fact_budget_monthly.join(dim_department, fact_budget_monthly.c.dept_id == dept.dept_id),
    "equipment": lambda _n: fact_equipment_daily.join(
        dim_equipment, fact_equipment_daily.c.equipment_id == dim_equipment.c.equipment_id).join(
        dim_department, dim_equipment.c.dept_id == dept.dept_id),
    # every working day on or after a device's purchase: the denominator of utilization
    "capacity": lambda _n: dim_date.join(
        dim_equipment, and_(dim_date.c.date >= dim_equipment.c.purchase_date, dim_date.c.is_workday.is_(True))).join(
        dim_department, dim_equipment.c.dept_id == dept.dept_id),
    "department": lambda _n: dim_department,
    "fleet": lambda _n: dim_equipment.join(dim_department, dim_equipment.c.dept_id == dept.dept_id),
}

_DEPT_KEYS = {Level.campus: dept.campus_id, Level.division: dept.division, Level.department: dept.dept_id}
_KEYS: dict[str, dict[Level, ColumnElement]] = {
    "inpatient": {**_DEPT_KEYS, Level.ward: fact_inpatient_case.c.ward_id, Level.group: fact_inpatient_case.c.group_id,
                  Level.doctor: fact_inpatient_case.c.doctor_id, Level.drg: fact_inpatient_case.c.drg_code},
    "outpatient": {**_DEPT_KEYS, Level.doctor: fact_outpatient_daily.c.doctor_id, Level.group: dim_doctor.c.group_id},
    "ward": {**_DEPT_KEYS, Level.ward: fact_ward_daily.c.ward_id},
    **{name: dict(_DEPT_KEYS) for name in ("cost", "staff", "budget", "equipment", "capacity", "department", "fleet")},
}

SOURCES: dict[str, Source] = {
    "inpatient": Source("inpatient", fact_inpatient_case.c.discharge_date, False),
    "outpatient": Source("outpatient", fact_outpatient_daily.c.date, False),
    "ward": Source("ward", fact_ward_daily.c.date, False),
    "cost": Source("cost", fact_dept_cost_monthly.c.month_start, True),
    "staff": Source("staff", fact_staff_monthly.c.month_start, True),
    "budget": Source("budget", fact_budget_monthly.c.month_start, True),
    "equipment": Source("equipment", fact_equipment_daily.c.date, False),
    "capacity": Source("capacity", dim_date.c.date, False),
    "department": Source("department", None, False),
    "fleet": Source("fleet", None, False),
}

GRAIN_KEYS: dict[str, tuple[ColumnElement, ...]] = {
    "day": (dim_date.c.date,),
    "week": (dim_date.c.iso_year, dim_date.c.iso_week),
    "month": (dim_date.c.month_start,),
    "quarter": (dim_date.c.year, dim_date.c.quarter),
    "year": (dim_date.c.year,),
}


def build_select(
    source: Source,
    level: Level,
    aggregates: Sequence[ColumnElement],
    *,
    needs: frozenset[str],
    filters: Filters,
    window: tuple[date, date] | tuple[ColumnElement, ColumnElement] | None,  # dates, or parameters for them
    grain: Grain | None,
    binds: dict[str, BindParameter] | None = None,
) -> Select:
    """SELECT level key [, grain keys], aggregates FROM source WHERE filters AND period GROUP BY keys.
    Without the scope: the caller ANDs it in with data_layer.scope.scoped (the source joins dim_department).
    `binds` (Filters.binds): the filters' ids as those parameters rather than as values."""

    def ids_of(name: str, ids: tuple[str, ...]) -> Any:
        return binds[name] if binds is not None else list(ids)

    need = set(needs)
    if level == Level.group and source.name == "outpatient":
        need.add("doctor")
    filt = filters.by_level()
    if Level.group in filt and source.name == "outpatient":
        need.add("doctor")
    from_ = source.from_clause(frozenset(need))
    keys: list[ColumnElement] = []
    if level != Level.hospital:
        k = source.key(level)
        if k is None:
            raise UserError(f"{source.name} figures cannot be grouped by {level.value}")
        keys.append(k.label("key"))
    if grain is not None:
        if source.date_col is None:
            raise UserError(f"{source.name} figures have no period to group by")
        if source.name != "capacity":
            from_ = from_.join(dim_date, dim_date.c.date == source.date_col)
        keys += [c.label(f"g_{c.name}") for c in GRAIN_KEYS[grain]]
    conds: list[ColumnElement[bool]] = []
    if level == Level.division:
        conds.append(dept.division.is_not(None))
    for lv, ids in filt.items():
        k = source.key(lv)
        if k is None:
            raise UserError(f"{source.name} figures cannot be filtered by {lv.value}")
        conds.append(k.in_(ids_of(lv.value, ids)))
    if filters.kind:
        conds.append(dept.kind.in_(ids_of("kind", filters.kind)))
    if filters.service_line:
        conds.append(dept.service_line.in_(ids_of("service_line", filters.service_line)))
    if filters.scheme:
        scheme = source.scheme_column()
        if scheme is None:
            raise UserError(f"{source.name} figures cannot be filtered by payment scheme")
        conds.append(scheme.in_(ids_of("scheme", filters.scheme)))
    if window is not None and source.date_col is not None:
        conds.append(source.date_col.between(window[0], window[1]))
    stmt = select(*keys, *aggregates).select_from(from_).where(*conds)
    if keys:
        stmt = stmt.group_by(*[k.element if hasattr(k, "element") else k for k in keys])
    return stmt
