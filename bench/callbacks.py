"""Latency of every page's main callbacks, through the real Flask app and the data layer, as a
signed-in user of the page's role, cold (empty result cache) and warm (the same request again),
with the bytes each answer sends; beside each, the SQL floor measured two ways on the same engine:
the callback's own statements (captured during its first cold run) re-run as raw DBAPI calls all
at once, and its main aggregate written by hand as one raw SQL query.

The first cold run of each callback in the benchmark's process is timed apart ("first run") and
left out of the cold figures: it also pays what a worker pays once, not per answer (SQLAlchemy
compiling each statement shape, the database's per-connection catalogue caches for the tables
the callback reads, pooled connections opened). In production a worker pays it on its first cold
answer of that kind after it starts (the worker that runs the warm-up pays it there).

    python -m bench.callbacks --url duckdb:///data/warehouse.duckdb [--runs 5] [--json out.json]

It creates its own application database (SQLite in a temporary folder) and three accounts.
"""
from __future__ import annotations

import argparse
import gc
import json
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select, text

from .dashclient import post_callback

PASSWORD = "Bench-passw0rd-2026"
KEY = secrets.token_urlsafe(48)
OWN_SQL_RUNS = 5  # timed concurrent re-runs of a callback's own statements (after one untimed run)
OWN_SQL_WORKERS = 8  # at most this many statements at once, one connection each


@dataclass(frozen=True)
class Ctx:
    dept: str
    depts: tuple[str, ...]
    equip: str  # a department that operates devices (in the assistant's scope)
    start: date
    end: date

    @property
    def where_period(self) -> str:
        return f"between '{self.start}' and '{self.end}'"


def _v(i: str, prop: str, value: Any) -> dict:
    return {"id": i, "property": prop, "value": value}


@dataclass(frozen=True)
class Scenario:
    name: str
    page: str
    user: str  # leader, director or assistant
    output: str
    inputs: Callable[[Ctx], list[dict]]
    state: Callable[[Ctx], list[dict]] = lambda c: []  # noqa: E731
    raw: Callable[[Ctx], str] = lambda c: ""  # noqa: E731


TICK = [_v("wall-tick", "data", {"n": 1, "scale": 1})]
IP, OP = "fact_inpatient_case", "fact_outpatient_daily"


def _ip_sums(c: Ctx, where: str = "", group: str = "") -> str:
    g = f"{group}, " if group else ""
    return (f"select {g}count(*), sum(charge_total), sum(los_days), sum(drg_payment), sum(cost_total), "
            f"sum(charge_drug), sum(charge_material) from {IP} where discharge_date {c.where_period} {where}"
            + (f" group by {group}" if group else ""))


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("campus screen · refresh", "/wall/campus", "leader", "cw-live.children", lambda c: TICK,
             lambda c: [_v("wall-params", "data", {"campus": None, "lang": "zh"})],
             lambda c: _ip_sums(c, group="campus_id")),
    Scenario("DRG screen · refresh", "/wall/drg", "leader", "drg-kpis.children",
             lambda c: TICK + [_v("drg-period", "value", "ytd"), _v("drg-campus", "value", None),
                               _v("drg-division", "value", None), _v("drg-sort", "data", None)],
             lambda c: [_v("drg-wall", "data", False), _v("drg-group", "data", None)],
             lambda c: _ip_sums(c, "and drg_code is not null", "drg_code")),
    Scenario("profit view · refresh", "/profit", "leader", "pf-bars.figure",
             lambda c: TICK + [_v("pf-period", "value", "ytd"), _v("pf-campus", "value", None),
                               _v("pf-division", "value", None), _v("pf-sort", "data", None)],
             lambda c: [_v("pf-wall", "data", False)],
             lambda c: _ip_sums(c, group="dept_id")),
    *(Scenario(f"department · {section}", "/department", "director", f"dw-{section}.children",
               lambda c: [_v("dw-dept", "value", c.dept), _v("dw-period", "value", "ytd")], lambda c: [],
               lambda c: _ip_sums(c, f"and dept_id = '{c.dept}'"))
      for section in ("overview", "targets", "costs", "wards", "groups", "discipline")),
    Scenario("workspace · portfolio", "/workspace", "assistant", "po-table.children",
             lambda c: [_v("ws-period", "value", "ytd")], lambda c: [_v("ws-dept", "value", c.dept)],
             lambda c: _ip_sums(c, f"and dept_id in ({','.join(repr(d) for d in c.depts)})", "dept_id")),
    Scenario("workspace · revenue drill-down", "/workspace/revenue", "assistant", "wsr-crumbs.children",
             lambda c: [_v("wsr-state", "data", {"period": "ytd", "stream": "all", "dept": c.dept, "by": "group",
                                                 "ward": None, "group": None, "doctor": None})], lambda c: [],
             lambda c: _ip_sums(c, f"and dept_id = '{c.dept}'", "group_id")),
    Scenario("workspace · cost monitoring model", "/workspace/costs", "assistant", "wc-model.children",
             lambda c: [_v("ws-dept", "value", c.dept), _v("ws-period", "value", "ytd"), _v("wc-tol", "value", 10)],
             lambda c: [],
             lambda c: ("select dept_id, cost_category, allocation_stage, sum(amount) from fact_dept_cost_monthly "
                        f"where month_start {c.where_period} group by dept_id, cost_category, allocation_stage")),
    Scenario("workspace · DRG groups", "/workspace/drg", "assistant", "ws-drg-groups.children",
             lambda c: [_v("ws-dept", "value", c.dept), _v("ws-period", "value", "ytd"), _v("ws-drg-high", "value", 2),
                        _v("ws-drg-low", "value", 0.5), _v("ws-drg-basis", "value", "charge")],
             lambda c: [],
             lambda c: _ip_sums(c, f"and dept_id = '{c.dept}'", "drg_code")),
    Scenario("workspace · budget", "/workspace/budget", "assistant", "wb-items.children",
             lambda c: [_v("ws-dept", "value", c.dept), _v("ws-period", "value", "ytd"), _v("wb-tol", "value", 5)],
             lambda c: [],
             lambda c: ("select dept_id, item_code, sum(budget_amount), sum(executed_amount) from fact_budget_monthly "
                        f"where month_start {c.where_period} group by dept_id, item_code")),
    Scenario("workspace · equipment", "/workspace/equipment", "assistant", "ws-eq-devices.children",
             lambda c: [_v("ws-dept", "value", c.equip), _v("ws-period", "value", "ytd"), _v("ws-eq-sat", "value", 0.85)],
             lambda c: [],
             lambda c: ("select equipment_id, sum(exams), sum(hours_used), sum(revenue) from fact_equipment_daily "
                        f"where date {c.where_period} group by equipment_id")),
    Scenario("alerts · list", "/alerts", "assistant", "al-list.children",
             lambda c: [_v("al-level", "value", None), _v("al-dept", "value", None), _v("al-indicator", "value", None),
                        _v("al-status", "value", None), _v("al-dates", "start_date", None),
                        _v("al-dates", "end_date", None), _v("al-refresh", "data", 0)]),
)


@dataclass
class Result:
    name: str
    page: str
    user: str
    cold_ms: list[float] = field(default_factory=list)
    warm_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    own_ms: list[float] = field(default_factory=list)
    first_ms: float = float("nan")  # the first cold run in this process (see the module's note)
    statements: list[tuple[str, Any]] = field(default_factory=list)
    bytes: int = 0
    status: int = 0
    error: str = ""

    @staticmethod
    def _p(xs: list[float], q: float) -> float:
        if not xs:
            return float("nan")
        s = sorted(xs)
        return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]

    def summary(self) -> dict[str, Any]:
        p = self._p
        raw = statistics.median(self.raw_ms) if self.raw_ms else float("nan")
        own = statistics.median(self.own_ms) if self.own_ms else float("nan")
        cold = statistics.median(self.cold_ms) if self.cold_ms else float("nan")
        return {"name": self.name, "page": self.page, "user": self.user, "status": self.status, "error": self.error,
                "cold_p50": cold, "cold_p95": p(self.cold_ms, 0.95), "cold_max": max(self.cold_ms, default=float("nan")),
                "warm_p50": statistics.median(self.warm_ms) if self.warm_ms else float("nan"),
                "warm_p95": p(self.warm_ms, 0.95), "warm_max": max(self.warm_ms, default=float("nan")),
                "raw_p50": raw, "ratio": cold / raw if raw == raw and raw > 0 else float("nan"), "bytes": self.bytes,
                "statements": len(self.statements), "own_sql_p50": own,
                "own_ratio": cold / own if own == own and own > 0 else float("nan"),
                "first_ms": self.first_ms, "cold_ms": list(self.cold_ms), "own_sql_ms": list(self.own_ms),
                "sql": [stmt for stmt, _params in self.statements]}


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) pairs `engine` sends to its database inside the block, as the
    driver receives them, from whichever thread runs them; the listener is removed afterwards."""
    got: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def listen(_conn, _cursor, statement, parameters, _context, executemany) -> None:  # noqa: ANN001
        if not executemany:  # a warehouse is read: a callback never sends many rows at once
            with lock:
                got.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield got
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _run_one(engine: Engine, statement: str, parameters: Any) -> None:
    raw = engine.raw_connection()  # one pooled DBAPI connection per statement
    try:
        cur = raw.cursor()
        try:
            cur.execute(statement, parameters)
            if cur.description is not None:
                cur.fetchall()
        finally:
            cur.close()
    finally:
        raw.close()  # back to the pool, which ends the transaction


def own_sql_ms(engine: Engine, statements: list[tuple[str, Any]], runs: int = OWN_SQL_RUNS) -> list[float]:
    """Milliseconds to run `statements` all at once (a thread and a connection each, at most
    OWN_SQL_WORKERS together) as raw DBAPI calls: the floor a callback's SQL sets when nothing
    else is done. One untimed run first fills the pool, as a serving app's pool is."""
    if not statements:
        return []
    times = []
    with ThreadPoolExecutor(max_workers=min(OWN_SQL_WORKERS, len(statements)), thread_name_prefix="own-sql") as pool:
        for i in range(runs + 1):
            t0 = time.perf_counter()
            for f in [pool.submit(_run_one, engine, s, p) for s, p in statements]:
                f.result()
            if i:
                times.append((time.perf_counter() - t0) * 1000)
    return times


def _accounts(server, depts: list[str], equip: str) -> None:
    db = server.extensions["hospdash"].appdb
    for name, role, kind, ids in (("leader", "leader", "hospital", ()), ("director", "director", "departments", depts[:1]),
                                  ("assistant", "assistant", "departments", [*depts[:3], equip])):
        if db.get_by_username(name) is None:
            db.create_user(name, name, PASSWORD, role, kind, ids)


def _client(server, user: str):
    import re

    client = server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token, "next": ""})
    assert resp.status_code == 302, f"login as {user} failed"
    client.set_cookie("lang", "zh")
    client.get("/")
    return client


def make_server(url: str, cache_url: str | None = None, months: bool = True):
    """The real app on warehouse `url`, with its own application database in a temporary folder
    (`months`: WARMUP_MONTHS, for bench/__main__.measure_warmup)."""
    from app import create_app

    folder = Path(tempfile.mkdtemp(prefix="bench-cb-"))
    env = {"WAREHOUSE_URL": url, "SECRET_KEY": KEY, "DATA_DIR": str(folder), "APP_DB_URL": f"sqlite:///{folder}/app.sqlite",
           "WARMUP": "false",  # cold means cold: no warm-up thread (bench/__main__.py times it on its own)
           "WARMUP_MONTHS": "true" if months else "false"}
    if cache_url:
        env["CACHE_URL"] = cache_url
    return create_app(env)


def run(url: str, runs: int = 5, only: list[str] | None = None, cache_url: str | None = None) -> list[dict[str, Any]]:
    from data_layer.periods import Period
    from data_layer.queries.structure import departments
    from data_layer.schema import dim_equipment
    from data_layer.scope import Scope

    server = make_server(url, cache_url)
    wh = server.extensions["hospdash"].warehouse
    deps = departments(wh, Scope.hospital())
    clinical = sorted(deps[(deps["kind"] == "clinical") & (deps["open_beds"] > 0)]["dept_id"])
    devices = wh.frame(select(dim_equipment.c.dept_id, func.count().label("n")).group_by(dim_equipment.c.dept_id)
                       .order_by(func.count().desc(), dim_equipment.c.dept_id).limit(1))
    equip = str(devices["dept_id"].iloc[0]) if not devices.empty else clinical[0]
    _accounts(server, clinical, equip)
    through = wh.freshness().data_through
    per = Period(through.replace(month=1, day=1), through)
    ctx = Ctx(clinical[0], tuple(clinical[:3]), equip, per.start, per.end)
    clients = {u: _client(server, u) for u in ("leader", "director", "assistant")}
    gc.collect()
    gc.freeze()  # as gunicorn's workers are set up (deploy/gunicorn.conf.py)
    out = []
    for sc in SCENARIOS:
        if only and not any(o in sc.name for o in only):
            continue
        res = Result(sc.name, sc.page, sc.user)
        try:
            for i in range(runs + 1):  # the first run apart: what a worker pays once (the module's note)
                wh.cache.clear()
                with captured(wh.engine) if i == 0 else nullcontext([]) as statements:  # the first one's SQL
                    t0 = time.perf_counter()
                    status, body = post_callback(server, clients[sc.user], sc.output, sc.inputs(ctx), sc.state(ctx),
                                                 raw=True)
                    took = (time.perf_counter() - t0) * 1000
                if i == 0:
                    res.first_ms, res.statements = took, list(statements)
                else:
                    res.cold_ms.append(took)
                res.status, res.bytes = status, len(body)
                for _w in range(3):
                    t0 = time.perf_counter()
                    post_callback(server, clients[sc.user], sc.output, sc.inputs(ctx), sc.state(ctx), raw=True)
                    res.warm_ms.append((time.perf_counter() - t0) * 1000)
                sql = sc.raw(ctx)
                if sql:
                    with wh.engine.connect() as conn:
                        t0 = time.perf_counter()
                        conn.execute(text(sql)).fetchall()
                        res.raw_ms.append((time.perf_counter() - t0) * 1000)
            res.own_ms = own_sql_ms(wh.engine, res.statements)
            if res.status != 200:
                res.error = f"HTTP {res.status}"
        except StopIteration:
            res.error = "no such callback"
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            res.error = f"{type(exc).__name__}: {exc}"[:200]
        out.append(res.summary())
    wh.engine.dispose()
    return out


def ms(v: float) -> str:
    """Milliseconds as the tables show them; — for none."""
    return "—" if v != v else (f"{v:,.0f}" if v >= 10 else f"{v:.1f}")


def times(v: float) -> str:
    return "—" if v != v else f"{v:.1f}×"


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| callback | role | cold p50 | cold p95 | cold max | first run | warm p50 | warm p95 | statements | "
             "own SQL ∥ p50 | cold ÷ own SQL | one aggregate p50 | cold ÷ aggregate | bytes |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["error"]:
            lines.append(f"| {r['name']} | {r['user']} | {r['error']} |" + "  |" * 11)
            continue
        lines.append(f"| {r['name']} | {r['user']} | {ms(r['cold_p50'])} | {ms(r['cold_p95'])} | {ms(r['cold_max'])} | "
                     f"{ms(r.get('first_ms', float('nan')))} | "
                     f"{ms(r['warm_p50'])} | {ms(r['warm_p95'])} | {r.get('statements', '—')} | "
                     f"{ms(r.get('own_sql_p50', float('nan')))} | {times(r.get('own_ratio', float('nan')))} | "
                     f"{ms(r['raw_p50'])} | {times(r['ratio'])} | {r['bytes']:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.callbacks", description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="warehouse URL")
    p.add_argument("--runs", type=int, default=5, help="cold runs per callback (each followed by 3 warm runs)")
    p.add_argument("--only", help="comma-separated parts of scenario names")
    p.add_argument("--cache-url", help="CACHE_URL for the result cache (default in-process)")
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)
    rows = run(args.url, args.runs, args.only.split(",") if args.only else None, args.cache_url)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0 if not any(r["error"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

