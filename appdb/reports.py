"""Monthly operations reports in the application database.

A report is generated as a draft (the warehouse sections frozen as JSON, plus the month's
alerts); the assistant edits its problem → cause → suggestion findings and publishes it.
A published report never changes: it is kept and listed; a later correction is a new
revision of the same department and month. Every edit carries the version it was made on,
so an edit made on a stale copy is refused, never lost.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from data_layer.scope import Scope, scope_filter

from .alerts import list_alerts, notes_of
from .schema import reports
from .store import AppDB, CodedError, StaleEdit

MAX_FINDINGS = 30
MAX_TEXT = 2000
FIELDS = ("problem", "cause", "suggestion")


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _scope_clause(scope: Scope):
    return scope_filter(scope, reports.c.dept_id, reports.c.campus_id)


def clean_findings(findings: Any) -> list[dict[str, str]]:
    """Rows of {problem, cause, suggestion} as text; blank rows dropped. A row with a cause or a
    suggestion but no problem, too many rows or too long a text is refused (CodedError)."""
    if findings is None:
        return []
    if not isinstance(findings, list):
        raise CodedError("findings_invalid", "the findings must be a list of rows")
    out = []
    for i, row in enumerate(findings, 1):
        if not isinstance(row, dict):
            raise CodedError("findings_invalid", "the findings must be a list of rows")
        cells = {k: str(row.get(k) or "").strip() for k in FIELDS}
        if not any(cells.values()):
            continue
        if not cells["problem"]:
            raise CodedError("finding_without_problem", f"row {i} has no problem: name the problem first")
        if any(len(v) > MAX_TEXT for v in cells.values()):
            raise CodedError("finding_too_long", f"row {i} is longer than {MAX_TEXT} characters")
        out.append(cells)
    if len(out) > MAX_FINDINGS:
        raise CodedError("too_many_findings", f"a report holds at most {MAX_FINDINGS} findings")
    return out


def _row(r: Any) -> dict[str, Any]:
    out = dict(r._mapping)
    out["content"] = json.loads(out["content"])
    out["findings"] = json.loads(out["findings"])
    return out


def create_draft(db: AppDB, scope: Scope, dept_id: str, campus_id: str | None, month: date, content: dict[str, Any],
                 findings: list[dict[str, str]], username: str) -> dict[str, Any]:
    """A new draft for the department and month; when a draft exists already it is regenerated
    (new content, the findings kept unless it has none), when only published ones exist the
    draft is their next revision."""
    if not scope.allows_department(dept_id, campus_id):
        raise CodedError("report_missing", f"department {dept_id} is outside your scope")
    month = month.replace(day=1)
    try:
        report_id = _write_draft(db, dept_id, campus_id, month, content, findings, username)
    except IntegrityError:  # another request created this draft first: regenerate that one
        report_id = _write_draft(db, dept_id, campus_id, month, content, findings, username)
    result = get_report(db, scope, int(report_id))
    assert result is not None
    return result


def _write_draft(db: AppDB, dept_id: str, campus_id: str | None, month: date, content: dict[str, Any],
                 findings: list[dict[str, str]], username: str) -> int:
    """Regenerate the month's draft, or insert it as the next revision; its id. Two requests
    inserting at once: one of them meets the unique (department, month, revision) index."""
    now = _now()
    with db.engine.begin() as conn:
        draft = conn.execute(select(reports).where(reports.c.dept_id == dept_id, reports.c.month == month,
                                                   reports.c.status == "draft")).first()
        if draft is not None:
            kept = json.loads(draft._mapping["findings"]) or clean_findings(findings)
            conn.execute(update(reports).where(reports.c.id == draft._mapping["id"]).values(
                content=json.dumps(content, ensure_ascii=False), findings=json.dumps(kept, ensure_ascii=False),
                data_stamp=str(content.get("data_stamp", ""))[:80], updated_at=now, version=reports.c.version + 1))
            report_id = draft._mapping["id"]
        else:
            last = conn.execute(select(func.max(reports.c.revision)).where(reports.c.dept_id == dept_id,
                                                                           reports.c.month == month)).scalar()
            report_id = conn.execute(insert(reports).values(
                dept_id=dept_id, campus_id=campus_id, month=month, revision=(last or 0) + 1, status="draft",
                content=json.dumps(content, ensure_ascii=False),
                findings=json.dumps(clean_findings(findings), ensure_ascii=False),
                data_stamp=str(content.get("data_stamp", ""))[:80], created_by=username, created_at=now,
                updated_at=now, published_by=None, published_at=None, version=1)).inserted_primary_key[0]
    return int(report_id)


def get_report(db: AppDB, scope: Scope, report_id: int) -> dict[str, Any] | None:
    """One report, or None when it does not exist or lies outside the scope."""
    with db.engine.connect() as conn:
        r = conn.execute(select(reports).where(reports.c.id == report_id, _scope_clause(scope))).first()
    return _row(r) if r is not None else None


def list_reports(db: AppDB, scope: Scope, dept_ids: list[str] | None = None, status: str | None = None,
                 limit: int = 500) -> pd.DataFrame:
    """Reports in the scope, newest month first (without their content)."""
    conds = [_scope_clause(scope)]
    if dept_ids:
        conds.append(reports.c.dept_id.in_(dept_ids))
    if status:
        conds.append(reports.c.status == status)
    cols = [c for c in reports.columns if c.name not in ("content", "findings")]
    stmt = (select(*cols).where(and_(*conds))
            .order_by(reports.c.month.desc(), reports.c.dept_id, reports.c.revision.desc()).limit(limit))
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=[c.name for c in cols])


def _editable(db: AppDB, scope: Scope, report_id: int) -> dict[str, Any]:
    current = get_report(db, scope, report_id)
    if current is None:
        raise CodedError("report_missing", f"no report {report_id} in your scope")
    if current["status"] != "draft":
        raise CodedError("report_published", "a published report cannot be changed: generate a new revision")
    return current


def save_findings(db: AppDB, scope: Scope, report_id: int, findings: Any, expected_version: int) -> dict[str, Any]:
    _editable(db, scope, report_id)
    rows = clean_findings(findings)
    with db.engine.begin() as conn:
        done = conn.execute(update(reports).where(reports.c.id == report_id, reports.c.version == expected_version,
                                                  reports.c.status == "draft")
                            .values(findings=json.dumps(rows, ensure_ascii=False), updated_at=_now(),
                                    version=reports.c.version + 1)).rowcount
    if not done:
        raise StaleEdit("report")
    result = get_report(db, scope, report_id)
    assert result is not None
    return result


def publish(db: AppDB, scope: Scope, report_id: int, findings: Any, expected_version: int,
            username: str) -> dict[str, Any]:
    """Save the findings and publish, in one step; a report needs at least one finding."""
    _editable(db, scope, report_id)
    rows = clean_findings(findings)
    if not rows:
        raise CodedError("findings_required", "write at least one problem, its cause and a suggestion before publishing")
    now = _now()
    with db.engine.begin() as conn:
        done = conn.execute(update(reports).where(reports.c.id == report_id, reports.c.version == expected_version,
                                                  reports.c.status == "draft")
                            .values(findings=json.dumps(rows, ensure_ascii=False), status="published",
                                    published_by=username, published_at=now, updated_at=now,
                                    version=reports.c.version + 1)).rowcount
    if not done:
        raise StaleEdit("report")
    result = get_report(db, scope, report_id)
    assert result is not None
    return result


def _text(v: Any) -> str | None:
    """A text cell of a frame, or None where it is missing (pandas gives NaN for a missing string)."""
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


def month_alerts(db: AppDB, scope: Scope, dept_id: str, month: date) -> list[dict[str, Any]]:
    """The department's alerts whose period touches the month, with the notes recorded on them
    (problem, cause, suggestion, action taken), oldest problem first; JSON-ready."""
    from data_layer.periods import month_end

    first = month.replace(day=1)
    found = list_alerts(db, scope, dept_ids=[dept_id], since=first, until=month_end(first), limit=200)
    found = found.sort_values(["period_start", "id"])
    notes = notes_of(db, [int(i) for i in found["id"]])
    out = []
    for a in found.itertuples():
        kinds = {k: [n["text"] for n in notes[int(a.id)] if n["kind"] == k]
                 for k in ("problem", "cause", "suggestion", "action")}
        out.append({"id": int(a.id), "level": a.level, "kind": a.kind, "indicator": a.indicator, "status": a.status,
                    "entity_type": _text(a.entity_type), "entity_id": _text(a.entity_id),
                    "period_start": str(a.period_start), "period_end": str(a.period_end),
                    "observed": float(a.observed), "expected": float(a.expected), "deviation": float(a.deviation),
                    "action_key": a.action_key, "owner": a.owner, "reason": a.reason, "notes": kinds})
    return out
