"""Scope: the departments a caller may see. Every query requires one.

This module is the one place where a Scope becomes SQL (the scope choke point):
- `scoped(stmt, scope)` ANDs the scope's condition into a warehouse SELECT; every query in
  data_layer.queries gets its scope filter from it, never by writing the condition by hand;
- `scope_filter(scope, dept_col, campus_col)` is the condition itself on any pair of columns
  holding one department id and one campus id (the application database's alerts, appraisals and
  reports use it on their own columns, and `scoped` on dim_department's);
- `scope_filter_lists(scope, dept_ids_col, campus_ids_col)` the same for columns holding
  comma-separated ids (projects): every listed id must lie in the scope;
- `scope_ids(scope)` the parameter standing for the scope's ids in a statement built once for
  every scope of a kind (`scoped(stmt, scope, ids)`), and the caller's ids to run it with.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Join,
    Select,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    true,
)
from sqlalchemy import select as sa_select

from .schema import dim_department

ScopeKind = Literal["hospital", "campus", "departments"]


@dataclass(frozen=True)
class Scope:
    """What a user may see: the whole hospital, whole campuses, or a set of departments."""

    kind: ScopeKind
    ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in ("hospital", "campus", "departments"):
            raise ValueError(f"unknown scope kind {self.kind!r}")
        if self.kind == "hospital" and self.ids:
            raise ValueError("a hospital scope names no ids")
        object.__setattr__(self, "ids", frozenset(str(i) for i in self.ids))

    @classmethod
    def hospital(cls) -> Scope:
        return cls("hospital")

    @classmethod
    def campuses(cls, ids: Iterable[str]) -> Scope:
        return cls("campus", frozenset(ids))

    @classmethod
    def departments(cls, ids: Iterable[str]) -> Scope:
        return cls("departments", frozenset(ids))

    @classmethod
    def stored(cls, kind: str, ids: Iterable[str]) -> Scope:
        """A user's stored scope (users.scope_kind and scope_ids): the hospital, campuses or
        departments; anything else (an administrator's "none") sees no data."""
        if kind == "hospital":
            return cls.hospital()
        if kind == "campus":
            return cls.campuses(ids)
        return cls.departments(ids if kind == "departments" else [])

    @property
    def key(self) -> str:
        """A stable text form, for cache keys and logs."""
        return f"{self.kind}:{','.join(sorted(self.ids))}"

    @property
    def covers_whole_campuses(self) -> bool:
        """True when the scope is closed under cost allocation (whole hospital or campuses)."""
        return self.kind in ("hospital", "campus")

    def allows_department(self, dept_id: str, campus_id: str | None) -> bool:
        if self.kind == "hospital":
            return True
        if self.kind == "campus":
            return campus_id in self.ids
        return dept_id in self.ids


# ------------------------------------------------------------------------------ the choke point
def scope_filter(scope: Scope, dept_col: ColumnElement, campus_col: ColumnElement | None,
                 ids: BindParameter | None = None) -> ColumnElement[bool]:
    """The condition keeping the rows the scope allows, on a department column and a campus
    column of the same row. A campus scope on a table without a campus column keeps nothing.
    `ids`: a parameter standing for the scope's ids (see `scope_ids`), in a statement built once
    for every scope of the same kind and run with each one's ids."""
    if scope.kind == "hospital":
        return true()
    col = campus_col if scope.kind == "campus" else dept_col
    if not scope.ids or col is None:
        return false()
    return col.in_(ids if ids is not None else sorted(scope.ids))


SCOPE_IDS = "scope_ids"


def scope_ids(scope: Scope) -> tuple[BindParameter | None, dict[str, list[str]]]:
    """For a statement built once per kind of scope: the parameter to build it with (None where
    the scope's condition holds no ids: the whole hospital, or no department), and the value to
    run it with for `scope`. The parameter has no value of its own: a statement run without the
    caller's ids fails rather than answer for the scope it was built for."""
    if scope.kind == "hospital" or not scope.ids:
        return None, {}
    return bindparam(SCOPE_IDS, expanding=True, required=True), {SCOPE_IDS: sorted(scope.ids)}


def scope_filter_lists(scope: Scope, dept_ids_col: ColumnElement, campus_ids_col: ColumnElement) -> ColumnElement[bool]:
    """`scope_filter` for a row naming several departments (and their campuses) as
    comma-separated ids: the row is kept when it names at least one and every one lies in the
    scope. In SQL: the number of the scope's ids found in the list equals the list's length."""
    if scope.kind == "hospital":
        return true()
    col = campus_ids_col if scope.kind == "campus" else dept_ids_col
    if not scope.ids:
        return false()
    wrapped = literal(",") + col + literal(",")
    listed = func.length(col) - func.length(func.replace(col, ",", "")) + 1
    found = sum((case((wrapped.contains(f",{i},", autoescape=True), 1), else_=0) for i in sorted(scope.ids)),
                literal(0, Integer))
    return and_(func.length(col) > 0, found == listed)


def _tables(from_: FromClause) -> Iterator[Table]:
    """The tables of a FROM item, through joins; a subquery is its own SELECT and scoped there."""
    if isinstance(from_, Join):
        yield from _tables(from_.left)
        yield from _tables(from_.right)
    elif isinstance(from_, Table):
        yield from_


def _in_scope_departments(scope: Scope, column: str, ids: BindParameter | None = None) -> Select:
    d = dim_department.c
    return sa_select(d[column]).where(scope_filter(scope, d.dept_id, d.campus_id, ids))


def _froms(stmt: Select) -> list[FromClause]:
    """The FROM items of a statement built with select_from (every query of the data layer): its
    explicit FROM and its columns' tables. SQLAlchemy's get_final_froms() gives the same tables
    but compiles the whole statement to find them (about 1 ms a statement, tens per screen); it
    stays the answer for a statement without an explicit FROM, whose tables may come from its
    WHERE clause."""
    explicit = list(stmt._from_obj)  # noqa: SLF001 - select_from's items; no public accessor
    return [*explicit, *stmt.columns_clause_froms] if explicit else list(stmt.get_final_froms())


def scoped(stmt: Select, scope: Scope, ids: BindParameter | None = None) -> Select:
    """`stmt` with the scope's condition ANDed into its WHERE: how every warehouse query applies
    its scope. Which column carries the scope:
    - dim_department, when the statement reads it: its dept_id or campus_id directly;
    - otherwise every table read that has a dept_id column (facts, wards, groups, doctors,
      devices, targets): dept_id IN (the scope's departments, from the department dimension);
    - otherwise every table that has only a campus_id (campuses, live snapshots):
      campus_id IN (the campuses of the scope's departments).
    A statement reading none of these cannot be scoped: ValueError. Subqueries in the FROM are
    SELECTs of their own and are scoped by the query that builds them. `ids`: as scope_filter's."""
    tables = list(dict.fromkeys(t for f in _froms(stmt) for t in _tables(f)))
    if dim_department in tables:
        return stmt.where(scope_filter(scope, dim_department.c.dept_id, dim_department.c.campus_id, ids))
    by_dept = [t for t in tables if "dept_id" in t.c]
    if by_dept:
        return stmt.where(*[t.c.dept_id.in_(_in_scope_departments(scope, "dept_id", ids)) for t in by_dept])
    by_campus = [t for t in tables if "campus_id" in t.c]
    if by_campus:
        return stmt.where(*[t.c.campus_id.in_(_in_scope_departments(scope, "campus_id", ids)) for t in by_campus])
    raise ValueError(f"no table of this statement carries a scope: {[t.name for t in tables]}")
