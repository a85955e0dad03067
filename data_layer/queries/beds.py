"""The bed census of one day (床位): open and occupied beds by department and campus, from the
ward-day facts, so that occupancy, beds available and extra beds (加床) come from one source."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from ..schema import dim_campus, dim_department, dim_ward, fact_ward_daily
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized

wd, dept = fact_ward_daily.c, dim_department.c

# Intensive care (重症医学科 / ICU): the contract has no department type for it, so it is known by
# name. "呼吸与危重症医学科" (pulmonary and critical care medicine) is a ward, not an ICU: the
# Chinese name must start with 重症医学 or name an ICU (EICU, NICU, 重症监护…).
_ICU_ZH = re.compile(r"^重症医学|重症监护|ICU", re.IGNORECASE)
_ICU_EN = re.compile(r"^critical care medicine|intensive care|\bICU\b", re.IGNORECASE)


def is_icu(name_zh: str | None, name_en: str | None) -> bool:
    """Whether a department (or ward) is an intensive care unit, by its names."""
    return bool(_ICU_ZH.search(name_zh or "") or _ICU_EN.search(name_en or ""))


@memoized
def census_by_department(wh: Warehouse, scope: Scope, day: date) -> pd.DataFrame:
    """The midnight census of `day` per inpatient department in scope.

    Columns: campus_id, campus_zh, campus_en, dept_id, name_zh, name_en, open_beds, occupied,
    occupancy (occupied / open beds), available (open − occupied, never below 0), extra
    (occupied − open, never below 0: extra beds, 加床), icu (an intensive care unit).
    """
    stmt = (select(dept.campus_id, dim_campus.c.name_zh.label("campus_zh"), dim_campus.c.name_en.label("campus_en"),
                   dept.dept_id, dept.name_zh, dept.name_en,
                   func.sum(wd.open_beds).label("open_beds"), func.sum(wd.occupied_beds).label("occupied"))
            .select_from(fact_ward_daily.join(dim_ward, wd.ward_id == dim_ward.c.ward_id)
                         .join(dim_department, dim_ward.c.dept_id == dept.dept_id)
                         .join(dim_campus, dept.campus_id == dim_campus.c.campus_id))
            .where(wd.date == day)
            .group_by(dept.campus_id, dim_campus.c.name_zh, dim_campus.c.name_en, dept.dept_id, dept.name_zh,
                      dept.name_en)
            .order_by(dept.campus_id, dept.dept_id))
    names, rows = wh.rows(scoped(stmt, scope))
    cols: dict[str, Any] = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    for c in ("open_beds", "occupied"):  # a ward day without beds counted: none
        cols[c] = np.array([0 if v is None else int(v) for v in cols[c]], dtype=np.int64)
    cols["icu"] = [is_icu(z, e) for z, e in zip(cols["name_zh"], cols["name_en"], strict=True)]
    return with_balance(pd.DataFrame(cols, columns=[*names, "icu"]))


def with_balance(df: pd.DataFrame) -> pd.DataFrame:
    """Occupancy, beds available and extra beds from open_beds and occupied (on the arrays: a
    screen computes it for a few hundred departments at a time)."""
    beds, occupied = df["open_beds"].to_numpy(), df["occupied"].to_numpy()
    counted = beds > 0
    out = df.copy()
    out["occupancy"] = np.divide(occupied, beds, out=np.full(len(beds), np.nan), where=counted)
    out["available"] = np.maximum(beds - occupied, 0)
    out["extra"] = np.maximum(occupied - beds, 0)
    return out


def census_by_campus(by_dept: pd.DataFrame) -> pd.DataFrame:
    """census_by_department() added up per campus (beds available and extra beds netted per
    campus: one ward's empty beds take another's extra patient), in the order of the campus."""
    cols = ["campus_id", "campus_zh", "campus_en"]
    sums: dict[tuple, list[int]] = {}
    for *key, beds, occupied in zip(*(by_dept[c] for c in cols), by_dept["open_beds"], by_dept["occupied"],
                                    strict=True):
        if any(k is None or k != k for k in key):  # a campus without a name is left out, as pandas' groupby does
            continue
        got = sums.setdefault(tuple(key), [0, 0])
        got[0] += int(beds)
        got[1] += int(occupied)
    keys = sorted(sums)
    return with_balance(pd.DataFrame({
        **{c: pd.array([k[i] for k in keys], dtype="str") for i, c in enumerate(cols)},
        "open_beds": np.array([sums[k][0] for k in keys], dtype=np.int64),
        "occupied": np.array([sums[k][1] for k in keys], dtype=np.int64)}))
