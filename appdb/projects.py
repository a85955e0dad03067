"""Improvement projects (改善项目) in the application database.

A project names one or more departments, the indicators it means to move, a start date and the
lengths of the before and after windows. A user sees a project only when every one of its
departments lies in their scope. Every change bumps the version: an edit made on a stale copy is
refused (StaleEdit), never lost. Bad input raises FieldErrors (field -> code) and saves nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import insert, select, update

from data_layer.inputs import FormProblems, InputProblem, calendar_date, number, read_form
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


# ------------------------------------------------------------------------------ the form
# The project form, declared: each field's type and rule, and the store's code for each way it can
# fail (the page words a code as ws.projects.err.<code>). Rules that depend on more than the form
# (the reader's scope, the warehouse's departments and data range) read the validation context,
# a FormRules.


@dataclass(frozen=True)
class FormRules:
    """What the form is checked against: the reader's scope, department id -> campus id of every
    department the warehouse knows (an id not in it is unknown), and the data's first and last day."""

    scope: Scope
    campus_of: Mapping[str, str | None]
    first: date | None
    through: date | None


def _listed(raw: Any) -> list[str]:
    """A multi-choice's values (a list, or ids separated by commas), stripped, blanks dropped."""
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list | tuple) else []
    return [text for text in (str(i).strip() for i in items) if text]


def _rules(info: ValidationInfo) -> FormRules:
    if not isinstance(info.context, FormRules):
        raise TypeError("the project form is read with its FormRules as context")
    return info.context


def _one_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _window_days(raw: Any) -> int:
    """A window length: a whole number of days from MIN_DAYS to MAX_DAYS."""
    try:
        return int(number(raw, MIN_DAYS, MAX_DAYS, whole=True))
    except InputProblem as problem:
        if problem.code == "out_of_range":
            low = float(str(problem.params["value"]).replace(",", "")) < MIN_DAYS
            raise InputProblem("too_small" if low else "too_large") from None
        raise InputProblem("days_missing" if problem.code == "missing" else "not_integer") from None


def _text(raw: Any) -> str:
    return str(raw or "").strip()


Days = Annotated[int, BeforeValidator(_window_days), Field(ge=MIN_DAYS, le=MAX_DAYS)]


class ProjectForm(BaseModel):
    """A project as the form sends it (read with data_layer.inputs.read_form and a FormRules).

    title: required, at most TITLE_MAX characters (missing, too_long); dept_ids: one or more
    departments, each known and in the scope (missing, outside_scope); indicators: one to
    MAX_INDICATORS with a before/after test (missing, unsupported, too_many); start_date: a real
    day YYYY-MM-DD after the data's first day and at most a year after its last (missing, bad_date,
    out_of_range); before_days, after_days: whole days from MIN_DAYS to MAX_DAYS (days_missing,
    not_integer, too_small, too_large); description: at most DESCRIPTION_MAX characters
    (too_long); status: one of PROJECT_STATUSES, active when not given (bad_status)."""

    model_config = ConfigDict(frozen=True)

    title: str = Field(default="", validate_default=True)
    dept_ids: list[str] = Field(default_factory=list, validate_default=True)
    indicators: list[str] = Field(default_factory=list, validate_default=True)
    start_date: date | None = Field(default=None, validate_default=True)
    before_days: Days = Field(default=None, validate_default=True)
    after_days: Days = Field(default=None, validate_default=True)
    description: str | None = Field(default=None, validate_default=True)
    status: str = Field(default="active", validate_default=True)

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, raw: Any) -> str:
        title = _text(raw)
        if not title:
            raise InputProblem("missing")
        if len(title) > TITLE_MAX:
            raise InputProblem("too_long")
        return title

    @field_validator("dept_ids", mode="before")
    @classmethod
    def _depts(cls, raw: Any, info: ValidationInfo) -> list[str]:
        rules = _rules(info)
        depts = sorted(set(_listed(raw)))
        if not depts:
            raise InputProblem("missing")
        if any(d not in rules.campus_of or not rules.scope.allows_department(d, rules.campus_of[d]) for d in depts):
            raise InputProblem("outside_scope")
        return depts

    @field_validator("indicators", mode="before")
    @classmethod
    def _indicators(cls, raw: Any) -> list[str]:
        inds = list(dict.fromkeys(_listed(raw)))
        if not inds:
            raise InputProblem("missing")
        if any(i not in SUPPORTED for i in inds):
            raise InputProblem("unsupported")
        if len(inds) > MAX_INDICATORS:
            raise InputProblem("too_many")
        return inds

    @field_validator("start_date", mode="before")
    @classmethod
    def _start(cls, raw: Any, info: ValidationInfo) -> date:
        rules = _rules(info)
        try:
            start = calendar_date(raw)
        except InputProblem as problem:
            raise InputProblem("bad_date" if problem.code == "not_date" else "missing") from None
        if rules.first is not None and rules.through is not None and not (
                rules.first < start <= _one_year_on(rules.through)):
            raise InputProblem("out_of_range")
        return start

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, raw: Any) -> str | None:
        text = _text(raw)
        if len(text) > DESCRIPTION_MAX:
            raise InputProblem("too_long")
        return text or None

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, raw: Any) -> str:
        status = raw or "active"
        if not isinstance(status, str) or status not in PROJECT_STATUSES:
            raise InputProblem("bad_status")
        return status


def validate(values: Mapping[str, Any], scope: Scope, campus_of: Mapping[str, str | None],
             first: date | None, through: date | None) -> dict[str, Any]:
    """The project's fields, checked by ProjectForm and normalised; FieldErrors naming every bad
    field with the store's code.

    campus_of: department id -> campus id of every department the warehouse knows (an id not in
    it is unknown); first/through: the data range (the start date must leave data on one side)."""
    try:
        form = read_form(ProjectForm, {f: values.get(f) for f in FIELDS}, FormRules(scope, campus_of, first, through))
    except FormProblems as exc:
        raise FieldErrors({f: p.code for f, p in exc.problems.items()}) from None
    out = form.model_dump()
    out["campus_ids"] = sorted({str(campus_of[d]) for d in form.dept_ids if campus_of.get(d)})
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
