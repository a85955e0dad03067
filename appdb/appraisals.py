"""Equipment purchase appraisals (设备购置论证) in the application database.

An appraisal is saved whole (inputs as checked by data_layer.stats.appraise, the results and the
department's existing devices of the kind at the time) or not at all; it is read back only
within the reader's scope (department or campus), like alerts. The same request saved twice
(same department, device name, category and inputs) is refused with the earlier one named.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, insert, select

from data_layer.scope import Scope, scope_filter
from data_layer.stats import Appraisal

from .schema import appraisals
from .store import AppDB, CodedError

NAME_MAX = 200
NOTE_MAX = 2000


class DuplicateAppraisal(CodedError):
    """An identical appraisal exists already: `existing` is that row (id, created_at, created_by)."""

    def __init__(self, existing: dict[str, Any]):
        self.existing = existing
        super().__init__("duplicate", f"an identical appraisal was saved as #{existing['id']} "
                                      f"on {existing['created_at']:%Y-%m-%d %H:%M} by {existing['created_by']}")


def canonical_inputs(inputs: dict[str, float]) -> str:
    """The inputs as stored and compared: numbers as floats, keys sorted."""
    return json.dumps({k: float(v) for k, v in inputs.items()}, ensure_ascii=False, sort_keys=True)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _scope_clause(scope: Scope):
    return scope_filter(scope, appraisals.c.dept_id, appraisals.c.campus_id)


def save_appraisal(db: AppDB, scope: Scope, *, dept_id: str, campus_id: str | None, device_name: str, category: str,
                   inputs: dict[str, float], result: Appraisal, existing: list[dict[str, Any]], username: str | None,
                   note: str | None = None) -> int:
    """Store one appraisal; refuses a department outside the scope and an identical appraisal of the
    department (DuplicateAppraisal). Returns the new id."""
    if not scope.allows_department(dept_id, campus_id):
        raise CodedError("out_of_scope", f"department {dept_id} is outside your scope")
    name = (device_name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise CodedError("bad_name", "the device needs a name of at most 200 characters")
    row = {"dept_id": dept_id, "campus_id": campus_id, "device_name": name, "category": category,
           "inputs": canonical_inputs(inputs),
           "annual_exams": result.annual_exams, "annual_revenue": result.annual_revenue,
           "annual_cost": result.annual_cost, "annual_net": result.annual_net, "payback_years": result.payback_years,
           "existing": json.dumps(existing, ensure_ascii=False, default=str),
           "note": (note or "").strip()[:NOTE_MAX] or None, "created_by": username, "created_at": _now()}
    with db.engine.begin() as conn:
        same = conn.execute(select(appraisals.c.id, appraisals.c.created_at, appraisals.c.created_by)
                            .where(appraisals.c.dept_id == dept_id, appraisals.c.device_name == name,
                                   appraisals.c.category == category, appraisals.c.inputs == row["inputs"])
                            .order_by(appraisals.c.id).limit(1)).first()
        if same is not None:
            raise DuplicateAppraisal(dict(same._mapping))
        pk = conn.execute(insert(appraisals).values(**row)).inserted_primary_key
    return int(pk[0])


def list_appraisals(db: AppDB, scope: Scope, dept_id: str, limit: int = 200) -> pd.DataFrame:
    """The department's saved appraisals within the scope, newest first."""
    stmt = (select(appraisals).where(and_(_scope_clause(scope), appraisals.c.dept_id == dept_id))
            .order_by(appraisals.c.created_at.desc(), appraisals.c.id.desc()).limit(limit))
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=[c.name for c in appraisals.columns])


def get_appraisal(db: AppDB, scope: Scope, appraisal_id: int) -> dict[str, Any] | None:
    """One appraisal with its inputs and existing devices decoded; None when missing or outside the scope."""
    with db.engine.connect() as conn:
        row = conn.execute(select(appraisals).where(appraisals.c.id == appraisal_id, _scope_clause(scope))).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["inputs"] = json.loads(out["inputs"] or "{}")
    out["existing"] = json.loads(out["existing"] or "[]")
    return out
