"""The hospital's structure within a scope: campuses, departments, wards, groups, doctors, devices."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import distinct, func, select

from ..schema import dim_campus, dim_department, dim_doctor, dim_equipment, dim_medical_group, dim_ward
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

dept = dim_department.c


@memoized(here=True)  # read by nearly every request (scope checks, names): kept decoded in each process
def departments(wh: Warehouse, scope: Scope) -> pd.DataFrame:
    """Departments the scope may see, with their campus."""
    stmt = scoped(select(dept.dept_id, dept.name_zh, dept.name_en, dept.campus_id,
                         dim_campus.c.name_zh.label("campus_zh"), dim_campus.c.name_en.label("campus_en"),
                         dept.kind, dept.division, dept.service_line, dept.open_beds, dept.floor_area_m2)
                  .select_from(dim_department.join(dim_campus, dept.campus_id == dim_campus.c.campus_id)),
                  scope).order_by(dept.campus_id, dept.dept_id)
    df = wh.frame(stmt)
    df["open_beds"] = pd.to_numeric(df["open_beds"]).astype(int)
    df["floor_area_m2"] = pd.to_numeric(df["floor_area_m2"]).astype(float)
    return df


def department_campuses(wh: Warehouse, scope: Scope) -> Mapping[str, str | None]:
    """Every department the scope may see -> its campus, kept in each process beside the
    departments it comes from (Warehouse.here). Shared: never changed by a caller. The scope
    checks and the forms that check departments ask it for the whole hospital: a campus scope
    allows a department by its campus, so the campus of one outside the scope must be known too."""
    def build() -> dict[str, str | None]:
        deps = departments(wh, scope)
        return {str(d): None if c is None else str(c) for d, c in zip(deps["dept_id"], deps["campus_id"], strict=True)}
    return wh.here(("department_campuses", scope.key), build)


@memoized
def medical_groups(wh: Warehouse, scope: Scope) -> pd.DataFrame:
    """Medical groups the scope may see: group_id, their department (dept_id, its kind), names."""
    g = dim_medical_group.c
    return wh.frame(scoped(select(g.group_id, g.dept_id, dept.kind, g.name_zh, g.name_en)
                           .select_from(dim_medical_group.join(dim_department, g.dept_id == dept.dept_id)),
                           scope).order_by(g.group_id))


@memoized
def summary(wh: Warehouse, scope: Scope) -> dict[str, int]:
    """Counts of campuses, clinical departments, beds, wards, groups, doctors and devices in scope."""
    with_dept = lambda t, col: scoped(select(func.count()).select_from(  # noqa: E731
        t.join(dim_department, col == dept.dept_id)), scope)
    depts = lambda *cols: scoped(select(*cols).select_from(dim_department), scope)  # noqa: E731
    stmt = select(
        depts(func.count(distinct(dept.campus_id))).scalar_subquery().label("campuses"),
        depts(func.count()).where(dept.kind == "clinical").scalar_subquery().label("clinical_departments"),
        depts(func.coalesce(func.sum(dept.open_beds), 0)).scalar_subquery().label("open_beds"),
        with_dept(dim_ward, dim_ward.c.dept_id).scalar_subquery().label("wards"),
        with_dept(dim_medical_group, dim_medical_group.c.dept_id).scalar_subquery().label("medical_groups"),
        with_dept(dim_doctor, dim_doctor.c.dept_id).scalar_subquery().label("doctors"),
        with_dept(dim_equipment, dim_equipment.c.dept_id).scalar_subquery().label("devices"),
    )
    row = wh.frame(stmt).iloc[0]
    return {k: int(row[k]) for k in row.index}
