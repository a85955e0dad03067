"""Scope: the departments a caller may see. Every query requires one."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, false, true

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

    @property
    def key(self) -> str:
        """A stable text form, for cache keys and logs."""
        return f"{self.kind}:{','.join(sorted(self.ids))}"

    @property
    def covers_whole_campuses(self) -> bool:
        """True when the scope is closed under cost allocation (whole hospital or campuses)."""
        return self.kind in ("hospital", "campus")

    def clause(self) -> ColumnElement[bool]:
        """A condition on dim_department that keeps only what the scope allows."""
        if self.kind == "hospital":
            return true()
        if not self.ids:
            return false()
        if self.kind == "campus":
            return dim_department.c.campus_id.in_(sorted(self.ids))
        return dim_department.c.dept_id.in_(sorted(self.ids))

    def allows_department(self, dept_id: str, campus_id: str | None) -> bool:
        if self.kind == "hospital":
            return True
        if self.kind == "campus":
            return campus_id in self.ids
        return dept_id in self.ids
