"""Improvement projects (改善项目) in the application database.

A project names one or more departments, the indicators it means to move, a start date and the
lengths of the before and after windows. A user sees a project only when every one of its
departments lies in their scope. Every change bumps the version: an edit made on a stale copy is
refused (StaleEdit), never lost. Bad input raises FieldErrors (field -> code) and saves nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update

from data_layer.inputs import InputProblem, calendar_date, number
from data_layer.queries.before_after import MAX_DAYS, MAX_INDICATORS, MIN_DAYS, SUPPORTED
from data_layer.scope import Scope, scope_filter_lists
from data_layer.stats import FieldErrors

from .schema import PROJECT_STATUSES, projects
from .store import AppDB, CodedError, StaleEdit

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
FIELDS = ("title", "dept_ids", "indicators", "start_date", "before_days", "after_days", "description", "status")


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _ids(text: str | None) -> list[str]:
    return [i for i in str(text or "").split(",") if i]


def _visible(scope: Scope):
    """Every department of the project lies in the scope (campus scopes read campus_ids), in SQL."""
    return scope_filter_lists(scope, projects.c.dept_ids, projects.c.campus_ids)


def _days(raw: Any) -> int | str:
    """A window length in days (MIN_DAYS to MAX_DAYS), or the error code."""
    try:
        return int(number(raw, MIN_DAYS, MAX_DAYS, whole=True))
    except InputProblem as problem:
        if problem.code == "out_of_range":
            return "too_small" if float(str(problem.params["value"]).replace(",", "")) < MIN_DAYS else "too_large"
        return {"missing": "days_missing"}.get(problem.code, "not_integer")


def validate(values: Mapping[str, Any], scope: Scope, campus_of: Mapping[str, str | None],
             first: date | None, through: date | None) -> dict[str, Any]:
    """The project's fields, checked and normalised; FieldErrors naming every bad field.

    campus_of: department id -> campus id of every department the warehouse knows (an id not in
    it is unknown); first/through: the data range (the start date must leave data on one side)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    title = str(values.get("title") or "").strip()
    if not title:
        errors["title"] = "missing"
    elif len(title) > TITLE_MAX:
        errors["title"] = "too_long"
    out["title"] = title
    raw_depts = values.get("dept_ids") or []
    depts = sorted({str(d).strip() for d in (raw_depts.split(",") if isinstance(raw_depts, str) else raw_depts)
                    if str(d).strip()})
    if not depts:
        errors["dept_ids"] = "missing"
    elif any(d not in campus_of or not scope.allows_department(d, campus_of[d]) for d in depts):
        errors["dept_ids"] = "outside_scope"
    out["dept_ids"] = depts
    raw_inds = values.get("indicators") or []
    inds = list(dict.fromkeys(str(i).strip() for i in (raw_inds.split(",") if isinstance(raw_inds, str) else raw_inds)
                              if str(i).strip()))
    if not inds:
        errors["indicators"] = "missing"
    elif any(i not in SUPPORTED for i in inds):
        errors["indicators"] = "unsupported"
    elif len(inds) > MAX_INDICATORS:
        errors["indicators"] = "too_many"
    out["indicators"] = inds
    start: date | None = None
    try:
        start = calendar_date(values.get("start_date"))
    except InputProblem as problem:
        errors["start_date"] = "bad_date" if problem.code == "not_date" else "missing"
    if start is not None and first is not None and through is not None and not (first < start <= through.replace(
            year=through.year + 1)):
        errors["start_date"] = "out_of_range"
    out["start_date"] = start
    for name in ("before_days", "after_days"):
        got = _days(values.get(name))
        if isinstance(got, str):
            errors[name] = got
        out[name] = got
    description = str(values.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = "too_long"
    out["description"] = description or None
    status = values.get("status") or "active"
    if status not in PROJECT_STATUSES:
        errors["status"] = "bad_status"
    out["status"] = status
    if errors:
        raise FieldErrors(errors)
    out["campus_ids"] = sorted({str(campus_of[d]) for d in depts if campus_of.get(d)})
    return out


def _row_values(v: dict[str, Any]) -> dict[str, Any]:
    return {"title": v["title"], "dept_ids": ",".join(v["dept_ids"]), "campus_ids": ",".join(v["campus_ids"]),
            "indicators": ",".join(v["indicators"]), "start_date": v["start_date"], "before_days": v["before_days"],
            "after_days": v["after_days"], "description": v["description"], "status": v["status"]}


def _out(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["dept_list"] = _ids(d["dept_ids"])
    d["indicator_list"] = _ids(d["indicators"])
    return d


def create_project(db: AppDB, scope: Scope, values: Mapping[str, Any], username: str,
                   campus_of: Mapping[str, str | None], first: date | None, through: date | None) -> dict[str, Any]:
    v = validate(values, scope, campus_of, first, through)
    now = _now()
    with db.engine.begin() as conn:
        new_id = conn.execute(insert(projects).values(**_row_values(v), created_by=username, created_at=now,
                                                      updated_at=now, version=1)).inserted_primary_key[0]
    got = get_project(db, scope, int(new_id))
    assert got is not None
    return got


def project_exists(db: AppDB, project_id: int) -> bool:
    """Whether the id names a project at all (to tell a forged id from one outside the scope)."""
    with db.engine.connect() as conn:
        return conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is not None


def get_project(db: AppDB, scope: Scope, project_id: int) -> dict[str, Any] | None:
    """The project, or None when it does not exist or one of its departments lies outside the scope."""
    with db.engine.connect() as conn:
        row = conn.execute(select(projects).where(projects.c.id == project_id, _visible(scope))).first()
    if row is None:
        return None
    return _out(row)


def list_projects(db: AppDB, scope: Scope, limit: int = 500) -> pd.DataFrame:
    """The projects the scope sees (every department in scope, filtered by the database), newest first."""
    stmt = (select(projects).where(_visible(scope))
            .order_by(projects.c.created_at.desc(), projects.c.id.desc()).limit(limit))
    with db.engine.connect() as conn:
        rows = [_out(r) for r in conn.execute(stmt)]
    cols = [c.name for c in projects.columns] + ["dept_list", "indicator_list"]
    return pd.DataFrame(rows, columns=cols)


def update_project(db: AppDB, scope: Scope, project_id: int, values: Mapping[str, Any], username: str,
                   expected_version: int, campus_of: Mapping[str, str | None], first: date | None,
                   through: date | None) -> dict[str, Any]:
    """Change a project; refuses one outside the scope, bad fields and stale edits."""
    if get_project(db, scope, project_id) is None:
        raise CodedError("project_missing", f"no project {project_id} in your scope")
    v = validate(values, scope, campus_of, first, through)
    with db.engine.begin() as conn:
        done = conn.execute(update(projects).where(projects.c.id == project_id, projects.c.version == expected_version)
                            .values(**_row_values(v), updated_at=_now(), version=projects.c.version + 1)).rowcount
        if not done:
            raise StaleEdit("project")
    got = get_project(db, scope, project_id)
    assert got is not None
    return got
