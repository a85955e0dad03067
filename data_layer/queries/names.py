"""Display names for the members of each level, within the caller's scope."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from ..registry import Level
from ..schema import dim_campus, dim_department, dim_doctor, dim_drg, dim_medical_group, dim_ward
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

DIVISIONS = {"medical": ("内科系统", "Medical division"), "surgical": ("外科系统", "Surgical division")}
SCOPE_TOTALS = {"hospital": ("全院", "Whole hospital"), "campus": ("院区合计", "Campus total"),
                "departments": ("所辖科室合计", "Departments in scope")}

dept = dim_department.c


@memoized
def level_names(wh: Warehouse, scope: Scope, level: Level) -> pd.DataFrame:
    """key, name_zh, name_en for every member of `level` the scope may see."""
    cols = ["key", "name_zh", "name_en"]
    if level == Level.hospital:
        zh, en = SCOPE_TOTALS[scope.kind]
        return pd.DataFrame([("all", zh, en)], columns=cols)
    if level == Level.division:
        return pd.DataFrame([(k, zh, en) for k, (zh, en) in DIVISIONS.items()], columns=cols)
    if level == Level.drg:
        stmt = select(dim_drg.c.drg_code, dim_drg.c.name_zh, dim_drg.c.name_en)
    elif level == Level.campus:
        stmt = scoped(select(dim_campus.c.campus_id, dim_campus.c.name_zh, dim_campus.c.name_en), scope)
    elif level == Level.department:
        stmt = scoped(select(dept.dept_id, dept.name_zh, dept.name_en), scope)
    elif level == Level.ward:
        stmt = scoped(select(dim_ward.c.ward_id, dim_ward.c.name_zh, dim_ward.c.name_en).select_from(
            dim_ward.join(dim_department, dim_ward.c.dept_id == dept.dept_id)), scope)
    elif level == Level.group:
        g = dim_medical_group.c
        stmt = scoped(select(g.group_id, g.name_zh, g.name_en).select_from(
            dim_medical_group.join(dim_department, g.dept_id == dept.dept_id)), scope)
    else:
        d = dim_doctor.c
        stmt = scoped(select(d.doctor_id, d.name, d.name.label("name_en")).select_from(
            dim_doctor.join(dim_department, d.dept_id == dept.dept_id)), scope)
    df = wh.frame(stmt)
    df.columns = cols
    df["key"] = df["key"].astype(str)
    return df
