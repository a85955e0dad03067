"""Data-quality runs in the application database: each run's findings, what it could not check and
its per-month fingerprints (the next run's restatement check compares them), and the data-quality
alerts its red and orange findings raise through the alert workflow (appdb/alerts.py), owned by the
user or role an administrator chooses (default: the administrators, the IT centre)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, insert, select, update

from data_layer.alerts.detect import Alert
from data_layer.quality import CHECKS, QualityResult
from data_layer.scope import Scope, scope_filter

from .alerts import save_scan
from .schema import ROLES, alerts, quality_findings, quality_runs, quality_settings
from .store import AppDB, CodedError

ALERT_KIND = "data_quality"
ALERT_LEVELS = ("orange", "red")  # findings at these levels raise an alert
OWNER_KEY = "alert_owner"
DEFAULT_OWNER = "role:admin"  # the administrators: the IT centre
TREND_RUNS = 30
HOSPITAL = ""  # the alert's department of a finding about the whole hospital (only a hospital scope sees it)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


def alert_owner(db: AppDB) -> str:
    """Who owns the data-quality alerts: "role:<role>" or a username."""
    with db.engine.connect() as conn:
        v = conn.execute(select(quality_settings.c.value).where(quality_settings.c.key == OWNER_KEY)).scalar()
    return v or DEFAULT_OWNER


def set_alert_owner(db: AppDB, owner: str, by: str | None) -> str:
    """Choose the owner: "role:admin" (or another role) or an existing user's name."""
    owner = (owner or "").strip()
    if owner.startswith("role:"):
        if owner[5:] not in ROLES:
            raise CodedError("bad_owner", f"no role {owner[5:]!r}: one of {', '.join(ROLES)}")
    elif db.get_by_username(owner) is None:
        raise CodedError("bad_owner", f"no user {owner!r}")
    now = _now()
    with db.engine.begin() as conn:
        done = conn.execute(update(quality_settings).where(quality_settings.c.key == OWNER_KEY)
                            .values(value=owner, updated_at=now, updated_by=by)).rowcount
        if not done:
            conn.execute(insert(quality_settings).values(key=OWNER_KEY, value=owner, updated_at=now, updated_by=by))
    return owner


def previous_fingerprints(db: AppDB) -> dict[str, list[float]]:
    """The newest run's per-month fingerprints that has any (an unreachable run has none)."""
    with db.engine.connect() as conn:
        raw = conn.execute(select(quality_runs.c.fingerprints).where(quality_runs.c.fingerprints != "{}")
                           .order_by(quality_runs.c.id.desc()).limit(1)).scalar()
    return json.loads(raw) if raw else {}


def _alert_of(f: Any, through: date) -> Alert:
    return Alert(ALERT_KIND, f.level, f.dept_id or HOSPITAL, f.check, through, through, float(f.count), 0.0, None,
                 None, 0.0, f"data quality: {f.check} on {f.table} ({f.count:,})", entity_type="table",
                 entity_id=f.table)


def record_run(db: AppDB, result: QualityResult, campus_of: Mapping[str, str | None], started_at: datetime) -> dict[str, Any]:
    """Store a run and its findings; raise (or grow) an alert for each red or orange finding, owned
    by the chosen owner. Returns the run's id, counts and the alerts added."""
    counts = result.counts()
    structural = ("ambiguous_group", "missing_main_diagnosis")  # not checkable on the contract, every night
    status = "unreachable" if result.through is None and not result.checked else \
        "partial" if any(n.check not in structural for n in result.not_checked) else "complete"
    with db.engine.begin() as conn:
        run_id = int(conn.execute(insert(quality_runs).values(
            started_at=started_at, finished_at=_now(), through=result.through, status=status,
            backend=result.backend or "-", n_red=counts["red"], n_orange=counts["orange"],
            n_yellow=counts["yellow"], checked=_json(result.checked),
            not_checked=_json([vars(n) for n in result.not_checked]),
            fingerprints=_json(result.fingerprints))).inserted_primary_key[0])
    added_ids: list[int] = []
    raised = [f for f in result.findings if f.level in ALERT_LEVELS]
    added, grown = (save_scan(db, [_alert_of(f, result.through) for f in raised], campus_of, added_ids)
                    if raised and result.through else (0, 0))
    owner = alert_owner(db)
    with db.engine.begin() as conn:
        if added_ids:
            conn.execute(update(alerts).where(alerts.c.id.in_(added_ids), alerts.c.owner.is_(None)).values(owner=owner))
        for f in result.findings:
            alert_id = None
            if f.level in ALERT_LEVELS and result.through:
                a = _alert_of(f, result.through)
                alert_id = conn.execute(select(alerts.c.id).where(alerts.c.problem_key == a.key)
                                        .order_by(alerts.c.id.desc()).limit(1)).scalar()
            conn.execute(insert(quality_findings).values(
                run_id=run_id, check_code=f.check, level=f.level, count=f.count, table_name=f.table,
                dept_id=f.dept_id, campus_id=campus_of.get(f.dept_id) if f.dept_id else None,
                examples=_json(f.examples), detail=_json(f.detail), alert_id=alert_id))
    return {"run_id": run_id, "status": status, **counts, "alerts_added": added, "alerts_grown": grown,
            "alert_ids": added_ids, "owner": owner}


def _run_row(conn, run_id: int | None = None) -> dict[str, Any] | None:  # noqa: ANN001
    stmt = select(quality_runs)
    stmt = stmt.where(quality_runs.c.id == run_id) if run_id else stmt.order_by(quality_runs.c.id.desc()).limit(1)
    row = conn.execute(stmt).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out.pop("fingerprints", None)
    out["checked"] = json.loads(out["checked"] or "[]")
    out["not_checked"] = json.loads(out["not_checked"] or "[]")
    return out


def latest_run(db: AppDB) -> dict[str, Any] | None:
    """The newest run (no findings: they are scoped, list_findings reads them), or None."""
    with db.engine.connect() as conn:
        return _run_row(conn)


def _clause(scope: Scope):  # noqa: ANN202
    return scope_filter(scope, quality_findings.c.dept_id, quality_findings.c.campus_id)


def list_findings(db: AppDB, scope: Scope, run_id: int | None = None) -> pd.DataFrame:
    """The findings of a run (default: the newest) that the scope may see: a department's findings
    to the scopes holding it, the whole hospital's to a hospital scope only."""
    cols = [c.name for c in quality_findings.columns]
    with db.engine.connect() as conn:
        run = _run_row(conn, run_id)
        if run is None:
            return pd.DataFrame(columns=cols)
        rows = [dict(r._mapping) for r in conn.execute(
            select(quality_findings).where(quality_findings.c.run_id == run["id"], _clause(scope))
            .order_by(quality_findings.c.id))]
    for r in rows:
        r["examples"] = json.loads(r["examples"] or "[]")
        r["detail"] = json.loads(r["detail"] or "{}")
    return pd.DataFrame(rows, columns=cols)


def trend(db: AppDB, scope: Scope, runs: int = TREND_RUNS) -> pd.DataFrame:
    """Per check and run, over the last `runs` runs: the findings' count summed, in the scope
    (check_code, run_id, through, started_at, count, findings). A run without a finding of a check has no row."""
    with db.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(quality_runs.c.id).order_by(quality_runs.c.id.desc()).limit(runs))]
        if not ids:
            return pd.DataFrame(columns=["check_code", "run_id", "through", "started_at", "count", "findings"])
        f, r = quality_findings.c, quality_runs.c
        stmt = (select(f.check_code, f.run_id, r.through, r.started_at, func.sum(f.count).label("count"),
                       func.count().label("findings"))
                .select_from(quality_findings.join(quality_runs, r.id == f.run_id))
                .where(f.run_id.in_(ids), _clause(scope))
                .group_by(f.check_code, f.run_id, r.through, r.started_at).order_by(f.run_id))
        res = conn.execute(stmt)
        return pd.DataFrame(res.fetchall(), columns=list(res.keys()))


def runs(db: AppDB, limit: int = TREND_RUNS) -> pd.DataFrame:
    """The last runs, newest last: id, started_at, through, status (figures are scoped: trend())."""
    with db.engine.connect() as conn:
        res = conn.execute(select(quality_runs.c.id, quality_runs.c.started_at, quality_runs.c.through,
                                  quality_runs.c.status).order_by(quality_runs.c.id.desc()).limit(limit))
        df = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
    return df.iloc[::-1].reset_index(drop=True)


def red_tables(db: AppDB, scope: Scope) -> set[str]:
    """The tables the newest run found something red about, in the scope (a finding about the whole
    hospital counts for every scope: the figures every reader sees come from the same table)."""
    with db.engine.connect() as conn:
        run = conn.execute(select(quality_runs.c.id).order_by(quality_runs.c.id.desc()).limit(1)).scalar()
        if run is None:
            return set()
        f = quality_findings.c
        rows = conn.execute(select(f.table_name).where(
            f.run_id == run, f.level == "red", (f.dept_id.is_(None)) | _clause(scope)).distinct())
        return {r[0] for r in rows}


def quality_alerts(db: AppDB, scope: Scope, limit: int = 200) -> pd.DataFrame:
    """The open data-quality alerts in the scope, newest first."""
    cols = ["id", "level", "dept_id", "indicator", "entity_id", "period_end", "status", "owner", "occurrences"]
    with db.engine.connect() as conn:
        res = conn.execute(select(*[alerts.c[c] for c in cols]).where(and_(
            alerts.c.kind == ALERT_KIND, alerts.c.status.in_(("new", "acknowledged")),
            scope_filter(scope, alerts.c.dept_id, alerts.c.campus_id)))
            .order_by(alerts.c.period_end.desc(), alerts.c.id.desc()).limit(limit))
        return pd.DataFrame(res.fetchall(), columns=cols)


def known_check(code: str) -> bool:
    return code in CHECKS
