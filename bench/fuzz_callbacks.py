"""Fuzz run: hostile values posted to every server callback, as every role, under gunicorn.

    python -m bench.fuzz_callbacks [--requests 12000] [--seed 14] [--concurrency 8]
                                   [--app-root PATH] [--label NAME] [--findings FILE] [--port 8076]

What it does:

1. builds a small demo warehouse (DuckDB file) and a throwaway application database on
   PostgreSQL (`--pg`, default the local server), so a NUL byte reaches PostgreSQL;
2. prepares that checkout's demo accounts and alerts (`--app-root`, default this checkout) as
   `python app.py` does on a demo warehouse, then serves it with gunicorn, 2 workers, through
   its deploy/gunicorn.conf.py, its log captured to a file;
3. signs in as the demo admin, leader, a director and an assistant, opens every page as each
   (the load test's browser: router, then the page's initial callbacks) and keeps the values
   the page sends as each callback's baseline;
4. lists every server callback from /_dash-dependencies and posts /_dash-update-component
   bodies (the renderer's shape, CSRF header, realistic changedPropIds) in which one input or
   state value, one key of a dictionary value, a pattern id's wildcard key, or every value at
   once, is replaced by a hostile value (`HOSTILE`); unchanged baselines are the control;
5. counts per category and in total: HTTP statuses, answers carrying the generic error-id
   message (either language), tracebacks and ERROR lines in the server log, worker crashes;
   prints the first examples and writes the failures to `--findings`.

The plan is deterministic for a seed; the run takes a few minutes on a 2-core machine.
Exit status 1 when any request got a 5xx, no answer, or the error-id message, or the log has
a traceback, or a worker crashed.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import requests

from .load import Browser, Recorder, _id_key, _is_pattern, _parse_id, _walk, callback_body, gunicorn

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FINDINGS = Path("/work/briefs/fuzz-findings.md")
ROLES = ("admin", "leader", "director", "assistant")
PAGES = ("/", "/department", "/alerts", "/profit", "/wall/campus", "/wall/drg", "/admin", "/workspace",
         "/workspace/revenue", "/workspace/costs", "/workspace/drg", "/workspace/budget", "/workspace/equipment",
         "/workspace/projects", "/workspace/reports", "/workspace/appraisal", "/notifications", "/day-surgery",
         "/wall/appraisal", "/data-quality")
THROUGH, NOW = date(2026, 11, 21), datetime(2026, 11, 22, 10, 30)
TIMEOUT = 120
LONG = 100_000
MAX_REPLAYS = 200  # failing (callback, input) pairs sent again alone, for their log lines

# (category, kind, value): what replaces a value. Small positive integers are left out on
# purpose: they are real row ids (a user, an alert) and would only repeat valid requests.
HOSTILE: tuple[tuple[str, str, Any], ...] = (
    ("none", "None", None),
    ("wrong type", "list", ["D001", 7]),
    ("wrong type", "empty list", []),
    ("wrong type", "dict", {"id": 0, "value": [None]}),
    ("wrong type", "bool", True),
    ("wrong type", "text for number", "twelve"),
    ("wrong type", "number for text", 12345),
    ("wrong type", "fraction", 0.5),
    ("wrong type", "empty string", ""),
    ("huge number", "2**64", 2**64),
    ("huge number", "-2**63-1", -2**63 - 1),
    ("huge number", "1e308", 1e308),
    ("huge number", "-1e308", -1e308),
    ("huge number", "99999999999", 99999999999),
    ("huge number", "-1", -1),
    ("huge number", "0", 0),
    ("nan-like", "'NaN'", "NaN"),
    ("nan-like", "'Infinity'", "Infinity"),
    ("nan-like", "'-inf'", "-inf"),
    ("nan-like", "'1e999'", "1e999"),
    ("control chars", "NUL", "\x00"),
    ("control chars", "NUL inside", "D001\x00x"),
    ("control chars", "ESC", "\x1b[31mred\x1b[0m"),
    ("control chars", "RLO", "\u202eevil"),
    ("control chars", "CR LF TAB", "a\r\nb\tc"),
    ("control chars", "C0 run", "".join(map(chr, range(32)))),
    ("long string", "100k ASCII", "A" * LONG),
    ("long string", "100k digits", "9" * LONG),
    ("long string", "100k CJK", "医" * LONG),
    ("long string", "100k NUL", "\x00" * LONG),
    ("sql", "OR 1=1", "' OR 1=1 --"),
    ("sql", "DROP TABLE", "1; DROP TABLE users;--"),
    ("sql", "UNION SELECT", "%' UNION SELECT username, password_hash FROM users --"),
    ("sql", "quoted id", "D001' OR '1'='1"),
    ("path", "../../etc/passwd", "../../etc/passwd"),
    ("path", "NUL path", "/etc/passwd\x00.png"),
    ("path", "backslashes", "..\\..\\windows\\win.ini"),
    ("path", "URL", "https://evil.example/x?y=1"),
    ("unicode", "emoji", "\U0001f600\U0001f3e5"),
    ("unicode", "lone surrogate", "\ud800"),
    ("unicode", "BOM, zero width", "\ufeffD\u200b001"),
    ("unicode", "full-width digits", "\uff11\uff12\uff13"),
    ("unicode", "combining marks", "e" + "\u0301" * 50),
    ("unicode", "U+FFFF", "\uffff"),
)
CATEGORIES = tuple(dict.fromkeys(c for c, _, _ in HOSTILE))
CONTROL = "control"
DEFAULT_VALUE = {"n_clicks": 1, "n_intervals": 1}  # a property the renderer counts up
MADE_UP = "x"  # a pattern id's wildcard key where no page showed such a component


# ------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class Case:
    """One request: a role posts a callback with one mutation of its baseline."""
    n: int
    role: str
    output: str  # the callback, as /_dash-dependencies names it
    where: tuple  # ("control",) | ("all",) | ("value"|"key"|"id", part, index[, key])
    hostile: int  # index in HOSTILE; -1 for the control
    lang: str

    @property
    def category(self) -> str:
        return CONTROL if self.hostile < 0 else HOSTILE[self.hostile][0]

    @property
    def kind(self) -> str:
        return CONTROL if self.hostile < 0 else HOSTILE[self.hostile][1]


def server_callbacks(deps: list[dict]) -> list[dict]:
    """The callbacks that run on the server (clientside ones never reach it)."""
    return [d for d in deps if not d.get("clientside_function")]


def default_items(specs: list[dict]) -> list[Any]:
    """Values for a callback's inputs or state when no page showed them: a counted property 1,
    anything else None; a pattern (ALL) input as one concrete component."""
    out: list[Any] = []
    for s in specs:
        cid = _parse_id(s["id"])
        value = DEFAULT_VALUE.get(s["property"])
        if _is_pattern(cid):
            concrete = {k: (MADE_UP if isinstance(v, list) else v) for k, v in cid.items()}
            out.append([{"id": concrete, "property": s["property"], "value": value}])
        else:
            out.append({"id": cid, "property": s["property"], "value": value})
    return out


def default_baseline(spec: dict) -> dict[str, list]:
    return {"inputs": default_items(spec["inputs"]), "state": default_items(spec.get("state", []))}


def made_up(baseline: dict[str, list]) -> bool:
    """Whether a baseline holds a component no page showed (a pattern id with a made-up key)."""
    items = [x for part in baseline.values() for item in part for x in (item if isinstance(item, list) else [item])]
    return any(isinstance(x["id"], dict) and MADE_UP in x["id"].values() for x in items)


def _first(item: Any) -> dict | None:
    """The item a mutation changes: the item, or a pattern input's first component."""
    if isinstance(item, list):
        return item[0] if item else None
    return item


def targets(spec: dict, baseline: dict[str, list]) -> list[tuple]:
    """Every place of a callback a hostile value can go: each value, each key of a dictionary
    value, each wildcard key of a pattern id."""
    out: list[tuple] = []
    for part in ("inputs", "state"):
        for index, item in enumerate(baseline[part]):
            out.append(("value", part, index))
            first = _first(item)
            if first is None:
                continue
            if isinstance(first.get("value"), dict):
                out += [("key", part, index, k) for k in sorted(first["value"])]
            pattern = _parse_id(spec[part][index]["id"])
            if _is_pattern(pattern):
                out += [("id", part, index, k) for k in sorted(pattern) if isinstance(pattern[k], list)]
    return out


REFUSED_SHARE = 0.25  # a role the callback refuses gets a quarter of the requests of one it serves


def plan(deps: list[dict], baselines: dict[tuple[str, str], dict], total: int, seed: int,
         roles: tuple[str, ...] = ROLES, served: set[tuple[str, str]] | None = None) -> list[Case]:
    """At least `total` cases over every (role, callback), every category for each, one control
    each, in a seeded random order. `baselines` by (role, output), else defaults; `served`: the
    (role, output) pairs whose control was answered (the others, refused, get fewer requests)."""
    rng = random.Random(seed)
    specs = server_callbacks(deps)
    pairs = [(role, spec) for role in roles for spec in specs]
    weight = {(r, s["output"]): 1.0 if served is None or (r, s["output"]) in served else REFUSED_SHARE
              for r, s in pairs}
    unit = total / max(1e-9, sum(weight.values()))
    by_category = {c: [i for i, h in enumerate(HOSTILE) if h[0] == c] for c in CATEGORIES}
    cases: list[Case] = []
    for role, spec in pairs:
        base = baselines.get((role, spec["output"])) or default_baseline(spec)
        places = targets(spec, base)
        per = max(len(CATEGORIES) + 2, math.ceil(unit * weight[(role, spec["output"])]))
        picks = [(("control",), -1)]
        for k in range(per - 1):
            hostile = rng.choice(by_category[CATEGORIES[k % len(CATEGORIES)]])
            where = ("all",) if k % 12 == len(CATEGORIES) or not places else rng.choice(places)
            picks.append((where, hostile))
        cases += [Case(0, role, spec["output"], w, h, rng.choice(("zh", "en"))) for w, h in picks]
    rng.shuffle(cases)
    return [Case(n, c.role, c.output, c.where, c.hostile, c.lang) for n, c in enumerate(cases)]


def _set(item: Any, where: tuple, value: Any) -> None:
    first = _first(item)
    if first is None:
        return
    if where[0] == "value":
        first["value"] = value
    elif where[0] == "key":
        first["value"] = {**(first.get("value") or {}), where[3]: value}
    else:  # "id": the concrete id of a pattern input carries the hostile value
        first["id"] = {**first["id"], where[3]: value}


def _changed(items: list[Any], where: tuple) -> list[str]:
    """changedPropIds as the renderer sends them: the mutated input, else the first input."""
    index = where[2] if where[0] != "all" and len(where) > 2 and where[1] == "inputs" else 0
    if not items:
        return []
    first = _first(items[index])
    return [f"{_id_key(first['id'])}.{first['property']}"] if first else []


def build_body(spec: dict, baseline: dict[str, list], case: Case) -> dict[str, Any]:
    """The request body of `case`: the baseline with its mutation applied."""
    parts = copy.deepcopy(baseline)
    if case.where[0] == "all":
        value = HOSTILE[case.hostile][2]
        for part in ("inputs", "state"):
            for item in parts[part]:
                _set(item, ("value",), value)
    elif case.where[0] != "control":
        _set(parts[case.where[1]][case.where[2]], case.where, HOSTILE[case.hostile][2])
    return callback_body(spec, parts["inputs"], parts["state"], _changed(parts["inputs"], case.where))


def describe(case: Case, spec: dict) -> str:
    """Where the hostile value went, as id.property (with the key)."""
    if case.where[0] in ("control", "all"):
        return case.where[0]
    s = spec[case.where[1]][case.where[2]]
    label = f"{s['id']}.{s['property']}"
    if case.where[0] == "key":
        return f"{label}[{case.where[3]!r}]"
    return f"{label} (id key {case.where[3]!r})" if case.where[0] == "id" else label


# ------------------------------------------------------------------ the server
def _pg_database(admin_url: str) -> tuple[str, Any]:
    """A new, empty PostgreSQL database: (its URL, a function that drops it)."""
    from sqlalchemy import create_engine, text

    name = f"hospdash_fuzz_{uuid.uuid4().hex[:10]}"  # generated here, never input
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)  # a name cannot be a bound parameter
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE " + quoted))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)"))
        admin.dispose()

    return admin.url.set(database=name).render_as_string(hide_password=False), drop


def demo_warehouse(folder: Path) -> str:
    """A small demo warehouse file (the tests' size), with its summary tables."""
    from data_layer.demo.build import build_demo
    from data_layer.engine import make_engine
    from data_layer.summaries import summarize

    url = f"duckdb:///{folder / 'warehouse.duckdb'}"
    build_demo(url, scale=0.05, years=2, seed=7, through=THROUGH, now=NOW, progress=False)
    engine = make_engine(url)
    try:
        summarize(engine, if_stale=True)
    finally:
        engine.dispose()
    return url


PREPARE = ("import app; s = app.create_app(); app.ensure_demo_accounts(s); app.ensure_demo_alerts(s); "
           "s.extensions['hospdash'].appdb.engine.dispose()")


def demo_accounts(app_root: Path, env: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The checkout's demo accounts, made as `python app.py` makes them: role -> (username, password)."""
    subprocess.run([sys.executable, "-c", PREPARE], cwd=app_root, env=env, check=True, stdout=subprocess.DEVNULL)
    out: dict[str, tuple[str, str]] = {}
    for line in (Path(env["DATA_DIR"]) / "demo-users.txt").read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) == 3 and cols[2] in ROLES and cols[2] not in out and not line.startswith("#"):
            out[cols[2]] = (cols[0], cols[1])
    missing = set(ROLES) - set(out)
    if missing:
        raise SystemExit(f"no demo account for {', '.join(sorted(missing))}")
    return out


@contextmanager
def served(app_root: Path, log_path: Path, pg: str, port: int) -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """The app of `app_root` under gunicorn (2 workers) on a demo warehouse and a throwaway
    PostgreSQL application database: (address, demo accounts)."""
    folder = Path(tempfile.mkdtemp(prefix="hospdash-fuzz-"))
    app_db, drop = _pg_database(pg)
    try:
        env = {**os.environ, "WAREHOUSE_URL": demo_warehouse(folder), "APP_DB_URL": app_db,
               "SECRET_KEY": secrets.token_urlsafe(48), "DATA_DIR": str(folder / "data")}
        env.pop("CACHE_URL", None)
        accounts = demo_accounts(app_root, env)
        log_path.unlink(missing_ok=True)
        with gunicorn(env, 2, log_path, root=app_root, port=port) as base:
            yield base, accounts
    finally:
        drop()
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ baselines
def _score(body: dict) -> int:
    items = [i for part in ("inputs", "state") for i in body[part]]
    return sum(1 for i in items if (i if isinstance(i, list) else i.get("value") is not None))


def _filled(specs: list[dict], items: list[Any]) -> list[Any]:
    """A page's items, a pattern input no component on the page matched given one made-up component."""
    return [default_items([s])[0] if item == [] else item for s, item in zip(specs, items, strict=True)]


def harvest(base: str, accounts: dict[str, tuple[str, str]], deps: list[dict]) -> dict[tuple[str, str], dict]:
    """Each role's baseline for each callback: the values the page that shows most of its
    inputs sends, opened as that role."""
    best: dict[tuple[str, str], tuple[int, dict]] = {}
    for role, (username, password) in accounts.items():
        b = Browser(base, Recorder(), deps)
        b.login(username, password)
        for path in PAGES:
            try:
                b.open(path)
            except Exception as exc:  # noqa: BLE001 - a page that does not open gives no baseline
                print(f"  {role} {path}: {type(exc).__name__}", flush=True)
                continue
            made: dict[str, dict] = {}  # components the page's callbacks drew (alert rows, buttons …)
            _walk(list(b.page.values()), made)
            b.page.update({k: v for k, v in made.items() if k not in b.page})
            for spec in server_callbacks(deps):
                body = b.body(spec, [])
                score = _score(body)
                if score > best.get((role, spec["output"]), (-1, None))[0]:
                    best[(role, spec["output"])] = (score, {part: _filled(spec.get(part, []), body[part])
                                                            for part in ("inputs", "state")})
    return {k: v for k, (_s, v) in best.items()}


def signed_in(base: str, accounts: dict[str, tuple[str, str]]) -> tuple[dict[str, Any], list[dict]]:
    """One signed-in cookie jar per role, and the callbacks (/_dash-dependencies)."""
    jars, deps = {}, []
    for role, (username, password) in accounts.items():
        b = Browser(base, Recorder(), deps)
        b.login(username, password)
        deps = b.deps
        b.http.cookies.pop("lang", None)  # each request says its language
        jars[role] = b.http.cookies
    return jars, deps


# ------------------------------------------------------------------ the run
def _error_id_pattern() -> re.Pattern[str]:
    """The generic error message (shell/layout.py callback_error) in either language."""
    from components.i18n import CATALOG

    heads = [re.escape(text.split("{error_id}")[0]) for text in CATALOG["error.unexpected"]]
    return re.compile("(?:" + "|".join(heads) + r")\s*([0-9a-fA-F]+)")


ERROR_ID = _error_id_pattern()


@dataclass
class Outcome:
    case: Case
    status: int  # 0: no answer
    error_id: str | None
    snippet: str
    ms: float
    leak: bool = False  # the answer carries a Python traceback


_LEAK = re.compile(r'Traceback \(most recent call last\)|File "[^"]+\.py", line \d+')


def _normalized(resp: requests.Response) -> str:
    try:
        return json.dumps(resp.json(), ensure_ascii=False)
    except ValueError:
        return resp.text


def send(base: str, jars: dict[str, Any], local: threading.local, spec: dict, baseline: dict, case: Case) -> Outcome:
    if not hasattr(local, "http"):
        local.http = {}
    http = local.http.get(case.role)
    if http is None:
        http = local.http[case.role] = requests.Session()
        http.cookies.update(jars[case.role])
    data = json.dumps(build_body(spec, baseline, case))
    start = time.monotonic()
    for attempt in (1, 2):
        try:
            resp = http.post(f"{base}/_dash-update-component", data=data, timeout=TIMEOUT, cookies={"lang": case.lang},
                             headers={"Content-Type": "application/json",
                                      "X-CSRFToken": jars[case.role].get("_csrf_token", "")})
            break
        except requests.RequestException as exc:
            # A kept-alive connection closed by a worker's planned restart (max_requests) before
            # any answer: a browser sends the request again on a new connection, once (as bench/load.py).
            if attempt == 1 and "Connection aborted" in str(exc):
                continue
            return Outcome(case, 0, None, f"{type(exc).__name__}: {exc}"[:300], (time.monotonic() - start) * 1000)
    text = _normalized(resp)
    hit = ERROR_ID.search(text)
    return Outcome(case, resp.status_code, hit.group(1) if hit else None, text[:300], (time.monotonic() - start) * 1000,
                   leak=bool(_LEAK.search(text)))


def run(base: str, deps: list[dict], baselines: dict, jars: dict, cases: list[Case], concurrency: int) -> list[Outcome]:
    specs = {d["output"]: d for d in server_callbacks(deps)}
    local = threading.local()
    done: list[Outcome] = []
    t0 = time.monotonic()

    def one(case: Case) -> Outcome:
        spec = specs[case.output]
        out = send(base, jars, local, spec, baselines.get((case.role, case.output)) or default_baseline(spec), case)
        done.append(out)
        if len(done) % 1000 == 0:
            print(f"  {len(done)} requests, {time.monotonic() - t0:.0f} s", flush=True)
        return out

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, cases))


# ------------------------------------------------------------------ the log
@dataclass
class LogReport:
    tracebacks: list[str] = field(default_factory=list)  # each: the line before | the exception | app frames
    error_lines: int = 0
    by_error_id: dict[str, str] = field(default_factory=dict)  # error id -> message | exception | app frames
    boots: int = 0  # "Booting worker" lines
    autorestarts: int = 0  # max_requests restarts, planned
    crashes: list[str] = field(default_factory=list)


_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)')
_CRASH = re.compile(r"WORKER TIMEOUT|was sent SIG|exited with code|Worker failed to boot|Shutting down: Master")


def _exception(lines: list[str], start: int) -> tuple[str, str]:
    """From a 'Traceback' line: (the exception line, the app's frames in it, innermost last)."""
    frames, i = [], start + 1
    while i < len(lines) and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
        m = _FRAME.match(lines[i])
        if m and m.group(1).endswith(".py") and "/site-packages/" not in m.group(1) and "/lib/python" not in m.group(1):
            frames.append(f"{Path(m.group(1)).parent.name}/{Path(m.group(1)).name}:{m.group(2)} {m.group(3)}")
        i += 1
    return (lines[i] if i < len(lines) else ""), " > ".join(frames[-3:])


def read_log(path: Path, offset: int) -> LogReport:
    """Tracebacks, ERROR lines and worker restarts in the server log after `offset` bytes."""
    rep = LogReport()
    lines = path.read_bytes()[offset:].decode("utf-8", "replace").splitlines()
    pending = None  # an error id whose tracebacks (a chain) follow; its message may span lines
    for i, line in enumerate(lines):
        if re.match(r"\[\d{4}-", line):  # the next log record (gunicorn's and Flask's start with the time)
            pending = None
        if m := re.search(r"callback error ([0-9a-f]+): ", line):
            pending = m.group(1)
            rep.by_error_id[pending] = line[m.end():][:200]
        if re.search(r"\[ERROR\]|\bERROR\b", line):
            rep.error_lines += 1
        if line.startswith("Traceback"):
            exc, frames = _exception(lines, i)
            before = lines[i - 1][:160] if i else ""
            rep.tracebacks.append(f"{before} | {exc[:200]} | {frames}")
            if pending:
                rep.by_error_id[pending] += f" // {before} | {exc[:200]} | {frames}"
        rep.boots += "Booting worker" in line
        rep.autorestarts += "Autorestarting worker" in line
        if _CRASH.search(line):
            rep.crashes.append(line[:200])
    return rep


def replay(base: str, jars: dict, specs: dict[str, dict], baselines: dict, cases: list[Case],
           log_path: Path) -> dict[int, str]:
    """Each case again, alone, with the tracebacks it wrote to the log (a 500 carries no error
    id to find its log lines by): case number -> the log's account."""
    local, out = threading.local(), {}
    for case in cases:
        before = log_path.stat().st_size
        spec = specs[case.output]
        send(base, jars, local, spec, baselines.get((case.role, case.output)) or default_baseline(spec), case)
        time.sleep(0.3)
        out[case.n] = " // ".join(read_log(log_path, before).tracebacks)[:800]
    return out


# ------------------------------------------------------------------ the report
def failed(o: Outcome) -> bool:
    return o.status == 0 or o.status >= 500 or o.error_id is not None or o.leak


def _statuses(rows: list[Outcome]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(Counter(o.status for o in rows).items()))


def summary(outcomes: list[Outcome], log: LogReport) -> tuple[list[str], dict[str, Any]]:
    """Lines to print, and the figures."""
    lines = [f"{'category':14} {'requests':>8}  {'statuses':40} {'error ids':>9} {'failed':>6}"]
    for cat in (CONTROL, *CATEGORIES, "total"):
        rows = [o for o in outcomes if cat in ("total", o.case.category)]
        lines.append(f"{cat:14} {len(rows):8}  {_statuses(rows):40} {sum(1 for o in rows if o.error_id):9} "
                     f"{sum(1 for o in rows if failed(o)):6}")
    statuses = Counter(o.status for o in outcomes)
    figures = {"requests": len(outcomes), "callbacks": len({o.case.output for o in outcomes}),
               "statuses": dict(sorted(statuses.items())), "http_5xx": sum(v for k, v in statuses.items() if k >= 500),
               "no_answer": statuses.get(0, 0), "error_ids": sum(1 for o in outcomes if o.error_id),
               "tracebacks_in_answers": sum(1 for o in outcomes if o.leak),
               "tracebacks": len(log.tracebacks), "error_lines": log.error_lines,
               "worker_restarts": log.boots, "planned_restarts": log.autorestarts,
               "slowest_s": round(max((o.ms for o in outcomes), default=0) / 1000, 1),
               "crashes": len(log.crashes) + max(0, log.boots - log.autorestarts)}
    lines.append(f"answers carrying a traceback: {figures['tracebacks_in_answers']}; no answer: {figures['no_answer']}")
    lines.append(f"server log: {len(log.tracebacks)} tracebacks, {log.error_lines} ERROR lines; workers: "
                 f"{log.boots} booted after the start ({log.autorestarts} planned by max_requests), "
                 f"{figures['crashes']} crashes")
    return lines, figures


def grouped(outcomes: list[Outcome], specs: dict[str, dict]) -> dict[tuple[str, str], list[Outcome]]:
    """Failures by (callback, where the hostile value went), most first."""
    out: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        if failed(o):
            out.setdefault((o.case.output, describe(o.case, specs[o.case.output])), []).append(o)
    return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))


def cause(rows: list[Outcome], log: LogReport, replayed: dict[int, str]) -> str:
    """What the log says about a group of failures: by error id, else the replay's."""
    for o in rows:
        if o.error_id and o.error_id in log.by_error_id:
            return log.by_error_id[o.error_id]
    return next((replayed[o.case.n] for o in rows if replayed.get(o.case.n)), "")


def visible(text: str) -> str:
    """Control, bidirectional and surrogate characters as escapes: a findings file stays text."""
    return "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else ch.encode("unicode_escape",
                   "backslashreplace").decode("ascii") for ch in text)


def _answer(o: Outcome) -> str:
    return "the generic HTML error page" if o.snippet.lstrip().startswith("<!doctype") else o.snippet[:160]


def signature(text: str) -> str:
    """A cause in short: the last exception's type and the innermost app frame of the last
    traceback that has one (a chain ends in the error that escaped)."""
    parts = [t.split(" | ") for t in text.split(" // ") if t.count(" | ") >= 2]
    if not parts:
        return text[:120]
    framed = [p for p in parts if p[2].strip()] or parts
    last = framed[-1]
    return f"{last[1].split(':')[0].strip() or '?'} at {last[2].rsplit(' > ', 1)[-1] or 'Dash (no app frame)'}"


def _outside(text: str) -> bool:
    """A cause outside the pages' callbacks: raised in the shell, in Dash itself (no app frame), or
    by the callbacks' error handler (shell/layout.py) while it handled another error."""
    where = signature(text).rsplit(" at ", 1)[-1]
    return where.startswith(("shell/", "Dash")) or "shell/layout.py" in text


def findings_section(label: str, app_root: Path, outcomes: list[Outcome], log: LogReport, figures: dict,
                     specs: dict[str, dict], replayed: dict[int, str], invented: set[tuple[str, str]]) -> str:
    lines = [f"## Run: {label}", "",
             f"App {app_root}, {datetime.now():%Y-%m-%d %H:%M} UTC: {figures['requests']} requests over "
             f"{figures['callbacks']} callbacks; statuses {figures['statuses']}; {figures['error_ids']} error-id "
             f"answers; {figures['tracebacks_in_answers']} answers carrying a traceback; {figures['tracebacks']} "
             f"tracebacks and {figures['error_lines']} ERROR lines in the log; "
             f"{figures['crashes']} worker crashes.", ""]
    groups = grouped(outcomes, specs)
    causes: dict[str, list[tuple[str, str, int]]] = {}
    for (output, where), rows in groups.items():
        causes.setdefault(signature(cause(rows, log, replayed)), []).append((output, where, len(rows)))
    lines += ["### Distinct causes (exception at the innermost app frame: requests, callback inputs)", ""]
    lines += [f"- {sig}: {sum(n for _, _, n in hits)} requests; "
              + "; ".join(f"`{o[:40]}` `{w[:50]}`" for o, w, _ in hits[:6]) + (" …" if len(hits) > 6 else "")
              for sig, hits in sorted(causes.items(), key=lambda kv: -sum(n for _, _, n in kv[1]))]
    lines += ["", "### Failing callback inputs", ""]
    entries: dict[bool, list[str]] = {False: [], True: []}
    for (output, where), rows in groups.items():
        why = cause(rows, log, replayed)
        kinds = ", ".join(f"{k} x{n}" for k, n in Counter(o.case.kind for o in rows).most_common())
        entries[_outside(why)] += [
            f"- `{output[:110]}` · input `{where[:120]}`: {len(rows)} requests "
            f"(roles {', '.join(sorted({o.case.role for o in rows}))}; statuses {_statuses(rows)}; "
            f"{sum(1 for o in rows if o.error_id)} with the error id)",
            f"  - values: {kinds}"]
        firsts = {o.status: o for o in reversed(rows)}  # the first failure of each status
        entries[_outside(why)] += [f"  - answer {st} ({o.case.kind}, as {o.case.role}): `{_answer(o)}`"
                                   for st, o in sorted(firsts.items())] + [f"  - log: `{why}`"]
    lines += entries[False] or ["No failing callback in the pages' own code."]
    if entries[True]:
        lines += ["", "### Causes outside the pages' callbacks (shell/, the error handler, or Dash itself)", ""]
        lines += entries[True]
    slow = sorted(outcomes, key=lambda o: -o.ms)[:10]
    lines += ["", "### The slowest requests (a value that holds a worker's thread for long is a way to deny service)", ""]
    lines += [f"- {o.ms / 1000:.1f} s, {o.status or 'no answer'}: `{o.case.output[:80]}` · "
              f"`{describe(o.case, specs[o.case.output])[:80]}` · {o.case.kind} as {o.case.role}" for o in slow]
    refused = [o for o in outcomes if o.case.category == CONTROL and o.status not in (200, 204, 403)]
    if refused:
        lines += ["", "### Controls (the page's own values, unchanged) not answered 200, 204 or 403", ""]
        lines += [f"- `{o.case.output[:110]}` as {o.case.role}: {o.status} `{_answer(o)}`"
                  + (" (made-up pattern id: no page showed this role such a component)"
                     if (o.case.role, o.case.output) in invented else "") for o in refused[:40]]
    nulls = Counter((o.case.output, describe(o.case, specs[o.case.output])) for o in outcomes
                    if o.case.kind == "None" and o.status == 400 and o.case.where[0] == "value")
    if nulls:
        lines += ["", "### For a look: an empty value (None) answered 400 (right only where the page never sends one)", ""]
        lines += [f"- `{o[:80]}` · `{w[:80]}` x{n}" for (o, w), n in nulls.most_common(25)]
    if log.crashes:
        lines += ["", "### Worker crashes", ""] + [f"- `{c}`" for c in log.crashes[:20]]
    return "\n".join(visible(line) for line in lines) + "\n"


def write_findings(path: Path, label: str, section: str) -> None:
    """Replace this label's section of the findings file (others stay)."""
    head = ("# Fuzz findings (bench/fuzz_callbacks.py)\n\nWritten by each run, one section per run label: each "
            "failing callback, the input the hostile value went to, the values, the answer and the log's account "
            "(message | exception | app frames, innermost last).\n\n")
    text = path.read_text(encoding="utf-8") if path.exists() else head
    parts = re.split(r"(?m)^(?=## Run: )", text)
    kept = [p for p in parts[1:] if not p.startswith(f"## Run: {label}\n")]
    path.write_text(parts[0] + "".join(kept) + section + "\n", encoding="utf-8")


def examples(groups: dict[tuple[str, str], list[Outcome]], log: LogReport, replayed: dict[int, str],
             limit: int = 12) -> list[str]:
    lines = []
    for (output, where), rows in list(groups.items())[:limit]:
        lines.append(visible(f"  x{len(rows)} {output[:60]} | {where[:60]} | {rows[0].case.kind} | {_statuses(rows)} | "
                             f"{cause(rows, log, replayed)[:200]}"))
    return lines


def probe(base: str, deps: list[dict], baselines: dict, jars: dict, concurrency: int) -> list[Outcome]:
    """Each role's unchanged baseline of each callback once: which callbacks serve which role."""
    controls = [Case(-1 - n, role, d["output"], ("control",), -1, "zh")
                for n, (role, d) in enumerate((r, d) for r in ROLES for d in server_callbacks(deps))]
    return run(base, deps, baselines, jars, controls, concurrency)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fuzz_callbacks", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=12000, help="at least this many fuzzed requests")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight (gunicorn: 2 workers x 4 threads)")
    p.add_argument("--app-root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    p.add_argument("--label", help="the run's name in the findings file (default: the checkout's folder name)")
    p.add_argument("--findings", type=Path, default=FINDINGS, help="markdown file the failures go to")
    p.add_argument("--log", type=Path, help="the server log (default: a file in the temporary folder)")
    p.add_argument("--pg", default=PG, help="PostgreSQL server (any database on it) for the throwaway app database")
    p.add_argument("--port", type=int, default=8076, help="where gunicorn listens (127.0.0.1)")
    args = p.parse_args(argv)
    app_root = args.app_root.resolve()
    label = args.label or app_root.name
    log_path = args.log or Path(tempfile.gettempdir()) / f"hospdash-fuzz-{label}.log"
    t0 = time.monotonic()
    with served(app_root, log_path, args.pg, args.port) as (base, accounts):
        print(f"serving {app_root} at {base}; log {log_path}", flush=True)
        jars, deps = signed_in(base, accounts)
        specs = {d["output"]: d for d in server_callbacks(deps)}
        baselines = harvest(base, accounts, deps)
        print(f"{len(specs)} server callbacks; baselines for {len(baselines)} (role, callback) pairs "
              f"in {time.monotonic() - t0:.0f} s", flush=True)
        offset = log_path.stat().st_size
        t1 = time.monotonic()
        outcomes = probe(base, deps, baselines, jars, args.concurrency)
        served_pairs = {(o.case.role, o.case.output) for o in outcomes if o.status in (200, 204)}
        cases = plan(deps, baselines, args.requests, args.seed, served=served_pairs)
        print(f"{len(served_pairs)} of {len(outcomes)} (role, callback) pairs serve their role; "
              f"posting {len(cases)} requests, {args.concurrency} at a time …", flush=True)
        outcomes += run(base, deps, baselines, jars, cases, args.concurrency)
        seconds = time.monotonic() - t1
        time.sleep(1)  # the last log lines
        log = read_log(log_path, offset)
        groups = grouped(outcomes, specs)
        silent = [next((o for o in rows if not o.error_id), rows[0]).case for rows in groups.values()
                  if all(not o.error_id or o.error_id not in log.by_error_id for o in rows)][:MAX_REPLAYS]
        replayed = replay(base, jars, specs, baselines, silent, log_path)
    lines, figures = summary(outcomes, log)
    print(f"\n{len(outcomes)} requests in {seconds:.0f} s ({len(outcomes) / seconds:.0f}/s), "
          f"{os.cpu_count()} CPUs, seed {args.seed}")
    print("\n".join(lines))
    if groups:
        print(f"{len(groups)} failing (callback, input) pairs; the first (xN callback | input | value | statuses | log):")
        print("\n".join(examples(groups, log, replayed)))
    invented = {(r, o) for r in ROLES for o, spec in specs.items()
                if made_up(baselines.get((r, o)) or default_baseline(spec))}
    write_findings(args.findings, label, findings_section(label, app_root, outcomes, log, figures, specs, replayed,
                                                          invented))
    print(f"findings: {args.findings}")
    print("figures: " + json.dumps(figures))
    bad = sum(figures[k] for k in ("http_5xx", "no_answer", "error_ids", "tracebacks_in_answers", "tracebacks", "crashes"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
