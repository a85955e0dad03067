"""Alerts in the application database: the detector's findings and their workflow.

new → acknowledged → resolved, or new/acknowledged → dismissed (expected, with a reason).
Every change bumps a version: an edit made on a stale copy is refused, never lost.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, insert, select, update

from data_layer.alerts.actions import action_key
from data_layer.alerts.detect import LEVELS, Alert
from data_layer.scope import Scope, scope_filter

from .schema import alert_notes, alerts
from .store import AppDB, CodedError, StaleEdit

TRANSITIONS = {"new": {"acknowledged", "dismissed"}, "acknowledged": {"resolved", "dismissed"}, "resolved": set(),
               "dismissed": set()}
NOTE_KINDS = ("problem", "cause", "suggestion", "action")
GROW_GAP = timedelta(days=35)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def save_scan(db: AppDB, found: list[Alert], campus_of: Mapping[str, str | None],
              added_ids: list[int] | None = None, *, history: bool = False) -> tuple[int, int]:
    """Store a scan's alerts: a problem already open grows; a new one is added. Returns (added, grown);
    `added_ids`, when given, receives the new alerts' ids (for their delivery, appdb/notify.py).
    `history`: a scan over past dates; a new alert is dated first seen the day after its period, when
    the nightly scan of the time would have seen it (so digests and escalations leave it alone)."""
    added = grown = 0
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    now = _now()
    with db.engine.begin() as conn:
        for a in found:
            open_row = conn.execute(select(alerts).where(
                alerts.c.problem_key == a.key, alerts.c.status.in_(("new", "acknowledged")),
                alerts.c.period_end >= a.period_start - GROW_GAP, alerts.c.period_start <= a.period_end + GROW_GAP)
                .order_by(alerts.c.id.desc()).limit(1)).first()
            values = {"observed": a.observed, "expected": a.expected, "band_low": _finite(a.band_low),
                      "band_high": _finite(a.band_high), "deviation": a.deviation, "method": a.method,
                      "drivers": json.dumps(a.drivers, ensure_ascii=False, default=str),
                      "consequences": json.dumps(a.consequences, ensure_ascii=False, default=str),
                      "adjusted": json.dumps(a.adjusted, ensure_ascii=False, default=str) if a.adjusted else None,
                      "last_seen": now,
                      "updated_at": now}
            if open_row is not None:
                m = open_row._mapping
                same = m["period_start"] <= a.period_start and m["period_end"] >= a.period_end
                level = a.level if rank[a.level] > rank[m["level"]] else m["level"]
                conn.execute(update(alerts).where(alerts.c.id == m["id"]).values(
                    **values, level=level, period_start=min(m["period_start"], a.period_start),
                    period_end=max(m["period_end"], a.period_end),
                    occurrences=m["occurrences"] + (0 if same else a.occurrences), version=m["version"] + 1))
                grown += 0 if same else 1
                continue
            if conn.execute(select(alerts.c.id).where(alerts.c.problem_key == a.key,
                                                      alerts.c.period_start == a.period_start)).first():
                continue  # this very finding was closed already: do not raise it again
            new = conn.execute(insert(alerts).values(
                **values, problem_key=a.key, kind=a.kind, level=a.level, dept_id=a.dept_id,
                campus_id=campus_of.get(a.dept_id), indicator=a.indicator, entity_type=a.entity_type,
                entity_id=a.entity_id, period_start=a.period_start, period_end=a.period_end,
                action_key=action_key(a.indicator, a.deviation), occurrences=a.occurrences, status="new", owner=None,
                reason=None, version=1,
                first_seen=min(now, datetime.combine(a.period_end + timedelta(days=1), datetime.min.time()))
                if history else now))
            if added_ids is not None:
                added_ids.append(int(new.inserted_primary_key[0]))
            added += 1
    return added, grown


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else float(x)


def _scope_clause(scope: Scope):
    return scope_filter(scope, alerts.c.dept_id, alerts.c.campus_id)


def list_alerts(db: AppDB, scope: Scope, *, levels: list[str] | None = None, dept_ids: list[str] | None = None,
                indicators: list[str] | None = None, statuses: list[str] | None = None,
                since: date | None = None, until: date | None = None, limit: int = 500) -> pd.DataFrame:
    """Alerts the scope may see, newest problems first, filtered."""
    conds = [_scope_clause(scope)]
    if levels:
        conds.append(alerts.c.level.in_(levels))
    if dept_ids:
        conds.append(alerts.c.dept_id.in_(dept_ids))
    if indicators:
        conds.append(alerts.c.indicator.in_(indicators))
    if statuses:
        conds.append(alerts.c.status.in_(statuses))
    if since:
        conds.append(alerts.c.period_end >= since)
    if until:
        conds.append(alerts.c.period_start <= until)
    stmt = select(alerts).where(and_(*conds)).order_by(alerts.c.period_end.desc(), alerts.c.id.desc()).limit(limit)
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=[c.name for c in alerts.columns])


def get_alert(db: AppDB, scope: Scope, alert_id: int) -> dict[str, Any] | None:
    """One alert with its notes, or None when it does not exist or lies outside the scope."""
    with db.engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id, _scope_clause(scope))).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["drivers"] = json.loads(out["drivers"] or "[]")
    out["consequences"] = json.loads(out["consequences"] or "[]")
    out["adjusted"] = json.loads(out["adjusted"]) if out["adjusted"] else None
    out["notes"] = notes_of(db, [alert_id])[alert_id]
    return out


def transition(db: AppDB, scope: Scope, alert_id: int, to: str, username: str, expected_version: int,
               *, owner: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Move an alert along the workflow; refuses illegal moves and stale edits."""
    current = get_alert(db, scope, alert_id)
    if current is None:
        raise CodedError("alert_missing", f"no alert {alert_id} in your scope")
    if to not in TRANSITIONS[current["status"]]:
        raise CodedError("bad_transition", f"an alert that is {current['status']} cannot become {to}")
    if to == "dismissed" and not (reason or "").strip():
        raise CodedError("reason_required", "say why the alert is expected before dismissing it")
    values: dict[str, Any] = {"status": to, "updated_at": _now(), "version": alerts.c.version + 1}
    if owner is not None:
        values["owner"] = owner or None
    elif to == "acknowledged" and not current["owner"]:
        values["owner"] = username
    if reason:
        values["reason"] = reason.strip()
    with db.engine.begin() as conn:
        done = conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.version == expected_version)
                            .values(**values)).rowcount
        if not done:
            raise StaleEdit("alert")
        conn.execute(insert(alert_notes).values(alert_id=alert_id, at=_now(), username=username, kind="status",
                                                text=f"{current['status']} → {to}" + (f": {reason}" if reason else "")))
    result = get_alert(db, scope, alert_id)
    assert result is not None
    return result


def add_note(db: AppDB, scope: Scope, alert_id: int, kind: str, text: str, username: str,
             expected_version: int) -> dict[str, Any]:
    """Record problem, cause, suggestion or action taken; bumps the version like any edit."""
    if kind not in NOTE_KINDS:
        raise CodedError("bad_note_kind", f"a note is one of {', '.join(NOTE_KINDS)}")
    if not text.strip():
        raise CodedError("empty_note", "the note is empty")
    if get_alert(db, scope, alert_id) is None:
        raise CodedError("alert_missing", f"no alert {alert_id} in your scope")
    with db.engine.begin() as conn:
        done = conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.version == expected_version)
                            .values(version=alerts.c.version + 1, updated_at=_now())).rowcount
        if not done:
            raise StaleEdit("alert")
        conn.execute(insert(alert_notes).values(alert_id=alert_id, at=_now(), username=username, kind=kind,
                                                text=text.strip()[:4000]))
    result = get_alert(db, scope, alert_id)
    assert result is not None
    return result


def open_counts(db: AppDB, scope: Scope) -> dict[str, int]:
    """Open alerts per level in the scope (for headers and screens)."""
    by_dept = open_counts_by_department(db, scope)
    return {lv: sum(c[lv] for c in by_dept.values()) for lv in LEVELS}


def open_counts_by_department(db: AppDB, scope: Scope, dept_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Open (new or acknowledged) alerts per department and level in the scope, counted by the
    database: {dept_id: {level: n}}, every level present."""
    conds = [_scope_clause(scope), alerts.c.status.in_(("new", "acknowledged"))]
    if dept_ids is not None:
        conds.append(alerts.c.dept_id.in_(dept_ids))
    stmt = (select(alerts.c.dept_id, alerts.c.level, func.count().label("n")).where(and_(*conds))
            .group_by(alerts.c.dept_id, alerts.c.level))
    out: dict[str, dict[str, int]] = {d: dict.fromkeys(LEVELS, 0) for d in dept_ids or []}
    with db.engine.connect() as conn:
        for dept, level, n in conn.execute(stmt):
            out.setdefault(dept, dict.fromkeys(LEVELS, 0))[level] = int(n)
    return out


def notes_of(db: AppDB, alert_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The notes of several alerts in one query, oldest first: {alert_id: [note, …]}."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in alert_ids}
    if not alert_ids:
        return out
    with db.engine.connect() as conn:
        for n in conn.execute(select(alert_notes).where(alert_notes.c.alert_id.in_(alert_ids))
                              .order_by(alert_notes.c.alert_id, alert_notes.c.at, alert_notes.c.id)):
            out[n._mapping["alert_id"]].append(dict(n._mapping))
    return out

