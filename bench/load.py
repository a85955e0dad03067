"""Load test: many signed-in users clicking through the dashboard under gunicorn.

Each simulated user is a thread with its own HTTP session (`requests`), signed in once, that
behaves like a browser running the Dash renderer: opening a page asks the router callback for
the page, then fires the page's initial callbacks with the values in the page (and the
callbacks those feed); changing a dropdown fires the callbacks it is an input of, and follows
a new address when one comes back. Between clicks a user thinks for a random 2-8 s (seeded).

The mix: leaders (20 %) on the wall screens (campus, DRG, profit: refresh ticks and filters),
directors (40 %) on /department (their department, another period, the alerts, the overview),
assistants (40 %) in the /workspace sections (portfolio, revenue, costs, DRG, budget,
equipment; another period or department).

Two ways to run it:

  # start gunicorn itself (deploy/gunicorn.conf.py), once per cache mode and user count:
  python bench/load.py --warehouse postgresql://…/warehouse --app-db postgresql://…/hospdash \\
      --redis redis://127.0.0.1:6379/14 --users 25,50,100,200 --duration 120 --out docs/load-test.md

  # a soak: one Redis leg of 100 users for an hour, memory sampled every minute:
  python bench/load.py --warehouse … --app-db … --redis redis://127.0.0.1:6379/14 --workers 2 \\
      --soak 3600 --soak-users 100 --out docs/load-soak.md

  # against a server that is already running (the accounts go into its application database):
  python bench/load.py --url http://127.0.0.1:8000 --app-db postgresql://…/hospdash --quick

`--settle SECONDS`: the users click that long, unmeasured, before the measured window (a morning's
users filling the cache with what they ask for); by default the window starts at once, from a
cold cache.

`--replay SECONDS`: the users click that long, unmeasured; then each opens its first page again and
the measured window replays the same clicks with the same seeded choices, so that (as long as it
makes no more clicks than the first pass, which the report says) every answer is already cached:
what the server costs at best, when nobody asks anything new.

`--after-warmup` (Redis leg): the users sign in only once the server's warm-up has finished (a
morning after a night's load, when everyone's landing page is in the cache); by default they start
beside it. `--idle SECONDS` then leaves the server idle that long before they sign in (the night
between the warm-up and the morning: what the warm-up kept must still be there).

`--quick`: four users (one leader, one director, two assistants) for 20 s with 1-3 s think time,
only to prove the load test works (tests/test_deploy.py runs it).

Errors: a request that failed or answered other than 200, a callback whose answer raised the app's
error banner, and (in the legs it starts gunicorn for, not the soak) a page part or figure the server logged as
failed (it answers 200 with a note saying so, so only the server's log tells) or a failed warm-up
step.

Memory. When it starts gunicorn itself, after each run (before gunicorn stops) it records each
worker's resident memory (the master's children, RSS) and, on the Redis leg, Redis's
`INFO memory` used_memory (the whole server) and `DBSIZE` of the cache's database. `--soak
SECONDS` runs one Redis leg for that long instead, sampling the same every `--soak-every`
seconds with that interval's p95 and errors, and says whether the growth flattened. gunicorn
recycles a worker after `max_requests` (deploy/gunicorn.conf.py), which would hide a leak: the
soak turns that off (`--max-requests 0`) unless `--soak-recycle` is given.

Accounts `load.<role>.<n>` are created (or their password reset) in the application database
through the store API before the run; each user signs in once and keeps its session, so the
login rate limit and lock-out (5 failures per user or address) never come into play.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PERIODS = ("ytd", "mtd", "last-month", "last-quarter", "last-year")  # pages/_wall.py PERIODS
MIX = (("leader", 0.2), ("director", 0.4), ("assistant", 0.4))
CLIENTSIDE_DEFAULTS = {"wall-tick.data": {"n": 0, "scale": 1}}  # set in the browser by assets/wall.js
NAV_OUTPUTS = ("_pages_location.search", "_pages_location.href", "_pages_location.pathname")
ROUTER = "_pages_content.children"
REQUEST_TIMEOUT = 60
MAX_CASCADE = 12  # callbacks fired for one click at most


# ------------------------------------------------------------------ measurements
def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection error, by name (RemoteDisconnected, ConnectionRefusedError …)."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        exc = exc.__cause__ or exc.__context__
    for arg in getattr(exc, "args", ()):  # urllib3 wraps the socket error in its arguments
        if isinstance(arg, BaseException):
            return _reason(arg)
    return type(exc).__name__


@dataclass(slots=True)
class Sample:
    at: float  # when the response arrived (time.monotonic())
    kind: str
    ms: float
    status: int  # HTTP status; 0 for a failure without a response
    error: str | None = None


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    clicks: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def click(self) -> None:
        with self.lock:
            self.clicks.append(time.monotonic())


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# ------------------------------------------------------------------ a browser, roughly
def _id_key(i: Any) -> str:
    return json.dumps(i, sort_keys=True, separators=(",", ":")) if isinstance(i, dict) else str(i)


@functools.cache  # the generator's own CPU is taken from the server it measures: each id is parsed once
def _parse_id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def _is_pattern(i: Any) -> bool:
    return isinstance(i, dict) and any(isinstance(v, list) for v in i.values())


@functools.cache
def _split_outputs(key: str) -> tuple[tuple[Any, str], ...]:
    """A callback's output key as (id, property-with-@hash) pairs."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    return tuple((_parse_id(p.rsplit(".", 1)[0]), p.rsplit(".", 1)[1]) for p in parts)


def _walk(node: Any, found: dict[str, dict]) -> None:
    """Every component with an id in a layout (as JSON), by id key."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and "type" in node:
            if "id" in props:
                found[_id_key(props["id"])] = props
            for v in props.values():
                _walk(v, found)
        else:
            for v in node.values():
                _walk(v, found)
    elif isinstance(node, list):
        for v in node:
            _walk(v, found)


_NO_UPDATE = object()


def _keep_pick(options: Any, value: Any) -> Any:
    """assets/ws-pick.js, `workspace.keep`: the pick while it is offered, else the first option."""
    values = [o.get("value") for o in options or [] if isinstance(o, dict)]
    if value in values:
        return _NO_UPDATE
    return values[0] if values else None


# the browser-side callbacks a page needs to go on (a pick that feeds a server callback), run here
# as the browser runs them; the others (clocks, printing) ask nothing of the server and are skipped
CLIENTSIDE: dict[tuple[str, str], Callable[..., Any]] = {("workspace", "keep"): _keep_pick}


def _clientside(spec: dict) -> Callable[..., Any] | None:
    fn = spec.get("clientside_function") or {}
    return CLIENTSIDE.get((fn.get("namespace"), fn.get("function_name"))) if isinstance(fn, dict) else None


def callback_body(spec: dict, inputs: list[Any], state: list[Any], changed: list[str]) -> dict[str, Any]:
    """A /_dash-update-component body for the callback `spec` (an entry of /_dash-dependencies)."""
    outputs = [{"id": i, "property": p} for i, p in _split_outputs(spec["output"])]
    return {"output": spec["output"], "outputs": outputs if spec["output"].startswith("..") else outputs[0],
            "inputs": inputs, "state": state, "changedPropIds": changed}


class Browser:
    """One signed-in user's tab: a page's components, and the callbacks that go with them."""

    def __init__(self, base: str, rec: Recorder, deps: list[dict] | None = None):
        self.base = base.rstrip("/")
        self.rec = rec
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy or .netrc lookups on every request (a browser's proxy is set once)
        self.deps = deps or []
        self.shell: dict[str, dict] = {}
        self.page: dict[str, dict] = {}
        self.path = "/"
        self.search = ""
        self.app_errors = 0

    # -- HTTP, measured
    def _request(self, kind: str, method: str, url: str, **kw: Any) -> requests.Response | None:
        start = time.monotonic()
        for attempt in (1, 2):
            try:
                resp = self.http.request(method, self.base + url, timeout=REQUEST_TIMEOUT, **kw)
                break
            except requests.ConnectionError as exc:
                # A kept-alive connection the server closed while this user was thinking: a browser
                # sends the request again on a new connection (nothing was answered), and so do we,
                # once; the time of both attempts counts.
                if attempt == 1 and "Connection aborted" in str(exc):
                    continue
                self.rec.add(Sample(time.monotonic(), kind, (time.monotonic() - start) * 1000, 0,
                                    f"ConnectionError ({_reason(exc)})"))
                return None
            except requests.RequestException as exc:
                self.rec.add(Sample(time.monotonic(), kind, (time.monotonic() - start) * 1000, 0, type(exc).__name__))
                return None
        ok = resp.status_code < 400 or (kind == "login" and resp.status_code == 302)
        self.rec.add(Sample(time.monotonic(), kind, (time.monotonic() - start) * 1000, resp.status_code,
                            None if ok else f"HTTP {resp.status_code}"))
        return resp

    def login(self, username: str, password: str) -> str:
        """Sign in (once); returns the landing address. Raises on failure: a user that cannot
        sign in would only measure the login page."""
        page = self._request("login-page", "GET", "/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text if page is not None else "")
        if match is None:
            raise RuntimeError(f"no login form at {self.base}/login")
        resp = self._request("login", "POST", "/login", allow_redirects=False,
                             data={"username": username, "password": password, "csrf_token": match.group(1)})
        if resp is None or resp.status_code != 302:
            raise RuntimeError(f"{username} could not sign in (HTTP {resp.status_code if resp is not None else '-'})")
        landing = resp.headers["Location"]
        self._request("page", "GET", landing)
        layout = self._request("layout", "GET", "/_dash-layout")
        self.shell = {}
        if layout is not None and layout.ok:
            _walk(layout.json(), self.shell)
        if not self.deps:
            deps = self._request("dependencies", "GET", "/_dash-dependencies")
            self.deps = deps.json() if deps is not None and deps.ok else []
        return landing

    # -- the renderer
    def _components(self) -> dict[str, dict]:
        return {**self.shell, **self.page}

    def _value(self, comps: dict[str, dict], i: Any, prop: str) -> Any:
        key = f"{_id_key(i)}.{prop}"
        if i == "_pages_location":
            return {"pathname": self.path, "search": self.search, "href": self.base + self.path + self.search}.get(prop)
        props = comps.get(_id_key(i))
        value = props.get(prop) if props else None
        return CLIENTSIDE_DEFAULTS.get(key) if value is None and key in CLIENTSIDE_DEFAULTS else value

    def _present(self, comps: dict[str, dict], i: Any, prop: str) -> bool:
        return i == "_pages_location" or _id_key(i) in comps or f"{_id_key(i)}.{prop}" in CLIENTSIDE_DEFAULTS

    def _matches(self, pattern: dict, comps: dict[str, dict]) -> list[dict]:
        out = []
        for key in comps:
            if not key.startswith("{"):
                continue
            cid = json.loads(key)
            if cid.keys() == pattern.keys() and all(isinstance(v, list) or cid[k] == v for k, v in pattern.items()):
                out.append(cid)
        return out

    def _items(self, specs: list[dict], comps: dict[str, dict]) -> list[Any]:
        items: list[Any] = []
        for s in specs:
            i = _parse_id(s["id"])
            if _is_pattern(i):
                items.append([{"id": c, "property": s["property"], "value": self._value(comps, c, s["property"])}
                              for c in self._matches(i, comps)])
            else:
                items.append({"id": i, "property": s["property"], "value": self._value(comps, i, s["property"])})
        return items

    def _usable(self, spec: dict, comps: dict[str, dict]) -> bool:
        if (spec.get("clientside_function") and _clientside(spec) is None) \
                or any(_is_pattern(i) for i, _ in _split_outputs(spec["output"])):
            return False
        if spec["output"].startswith(f"..{ROUTER}"):
            return False
        outs_here = any(self._present(comps, i, p.split("@")[0]) for i, p in _split_outputs(spec["output"]))
        inputs_here = all(_is_pattern(_parse_id(s["id"])) or self._present(comps, _parse_id(s["id"]), s["property"])
                          for s in spec["inputs"])
        return outs_here and inputs_here

    def body(self, spec: dict, changed: list[str]) -> dict[str, Any]:
        """The /_dash-update-component body the renderer sends for `spec` with this page's values."""
        comps = self._components()
        return callback_body(spec, self._items(spec["inputs"], comps), self._items(spec.get("state", []), comps),
                             changed)

    def _fire(self, spec: dict, changed: list[str], kind: str = "callback") -> dict[str, Any] | None:
        body = self.body(spec, changed)
        local = _clientside(spec)
        if local is not None:  # run in the browser: no request
            got = local(*[x["value"] for x in (*body["inputs"], *body["state"])])
            (i, p), = _split_outputs(spec["output"])
            return {} if got is _NO_UPDATE else {f"{_id_key(i)}.{p.split('@')[0]}": got}
        resp = self._request(kind, "POST", "/_dash-update-component", data=json.dumps(body),
                             headers={"Content-Type": "application/json",
                                      "X-CSRFToken": self.http.cookies.get("_csrf_token", "")})
        if resp is None or resp.status_code != 200:
            return None
        got = orjson.loads(resp.content)
        if "app-error" in json.dumps(got.get("sideUpdate") or {}):
            self.app_errors += 1
            self.rec.add(Sample(time.monotonic(), "app-error", 0.0, 200, "error banner"))
        return {f"{_id_key(_parse_id(i) if isinstance(i, str) else i)}.{p.split('@')[0]}": v
                for i, props in (got.get("response") or {}).items() for p, v in props.items()}

    def _apply(self, updates: dict[str, Any]) -> tuple[list[str], str | None]:
        """Store a callback's outputs; returns (changed id.prop, a new address or None)."""
        changed, address = [], None
        for key, value in updates.items():
            cid, prop = key.rsplit(".", 1)
            if key in NAV_OUTPUTS:
                if value:
                    address = value.removeprefix(self.base) if prop == "href" else (
                        self.path + value if prop == "search" else value)
                continue
            target = self.page if cid in self.page or cid not in self.shell else self.shell
            target.setdefault(cid, {})[prop] = value
            changed.append(key)
        return changed, address

    def _cascade(self, queue: list[tuple[dict, list[str]]]) -> str | None:
        """Fire callbacks, then those fed by their outputs, as the renderer would."""
        fired: set[str] = set()
        address = None
        while queue and len(fired) < MAX_CASCADE:
            pending_outputs = {f"{_id_key(i)}.{p.split('@')[0]}" for s, _ in queue for i, p in _split_outputs(s["output"])}
            ready = [(s, c) for s, c in queue
                     if not any(f"{_id_key(_parse_id(x['id']))}.{x['property']}" in pending_outputs
                                for x in s["inputs"])] or queue[:1]
            queue = [q for q in queue if q not in ready]
            for spec, changed in ready:
                if spec["output"] in fired:
                    continue
                fired.add(spec["output"])
                got = self._fire(spec, changed)
                if not got:
                    continue
                new, nav = self._apply(got)
                address = nav or address
                comps = self._components()
                for other in self.deps:
                    if other["output"] in fired or any(other is q for q, _ in queue) or not self._usable(other, comps):
                        continue
                    hit = [f"{x['id']}.{x['property']}" for x in other["inputs"]
                           if f"{_id_key(_parse_id(x['id']))}.{x['property']}" in new]
                    if hit:
                        queue.append((other, hit))
        return address

    def open(self, address: str) -> None:
        """Go to an address inside the app (a link click): router, then the page's callbacks."""
        for _hop in range(3):
            path, _, query = address.partition("?")
            self.path, self.search = path or "/", f"?{query}" if query else ""
            router = next((d for d in self.deps if d["output"].startswith(f"..{ROUTER}")), None)
            if router is None:
                return
            got = self._fire(router, ["_pages_location.pathname"], kind="router")
            self.page = {}
            if not got:
                return
            layout = next((v for k, v in got.items() if k == ROUTER), None)
            _walk(layout, self.page)
            comps = self._components()
            initial = [(d, []) for d in self.deps
                       if not d.get("prevent_initial_call") and self._usable(d, comps)
                       and any(_id_key(i) in self.page for i, _ in _split_outputs(d["output"]))]
            nxt = self._cascade(initial)
            if not nxt or nxt == address:
                return
            address = nxt

    def change(self, cid: str, prop: str, value: Any) -> bool:
        """A user sets a control's value (a dropdown, an input); False when the page has no such control."""
        key = _id_key(cid)
        if key not in self.page and key not in self.shell:
            return False
        (self.page if key in self.page else self.shell)[key][prop] = value
        comps = self._components()
        queue = [(d, [f"{cid}.{prop}"]) for d in self.deps if self._usable(d, comps)
                 and any(x["id"] == cid and x["property"] == prop for x in d["inputs"])]
        address = self._cascade(queue)
        if address:
            self.open(address)
        return True

    def options(self, cid: str) -> list[Any]:
        props = self._components().get(cid) or {}
        return [o.get("value") if isinstance(o, dict) else o for o in props.get("options") or []]

    def value(self, cid: str, prop: str = "value") -> Any:
        return (self._components().get(cid) or {}).get(prop)


# ------------------------------------------------------------------ what each role does
WORKSPACE = ("/workspace", "/workspace/revenue", "/workspace/costs", "/workspace/drg", "/workspace/budget",
             "/workspace/equipment")


@dataclass
class Persona:
    username: str
    role: str
    depts: tuple[str, ...]


def _other(rng: random.Random, choices: list[Any], current: Any) -> Any:
    rest = [c for c in choices if c != current and c not in (None, "")]
    return rng.choice(rest) if rest else None


def act(b: Browser, who: Persona, rng: random.Random, tick: list[int]) -> None:
    """One click of a user of this role."""
    roll = rng.random()
    if who.role == "leader":
        if roll < 0.35 or not b.page:
            b.open(rng.choice(["/wall/campus", "/wall/drg", "/profit"]))
        elif roll < 0.65 and "wall-tick" in b.page:  # the screen's own refresh
            tick[0] += 1
            b.change("wall-tick", "data", {"n": tick[0], "scale": 1})
        else:
            for cid in ("pf-period", "drg-period", "pf-campus", "drg-campus", "cw-campus"):
                if cid in b.page:
                    choices = b.options(cid) or list(PERIODS)
                    b.change(cid, "value", _other(rng, choices, b.value(cid)))
                    break
            else:
                b.open("/wall/drg")
    elif who.role == "director":
        dept = who.depts[0]
        if roll < 0.35 or not b.page:
            b.open(f"/department?dept={dept}&period={rng.choice(PERIODS)}")
        elif roll < 0.75 and "dw-period" in b.page:
            b.change("dw-period", "value", _other(rng, list(PERIODS), b.value("dw-period")))
        elif roll < 0.9:
            b.open("/alerts")
        else:
            b.open("/")
    else:
        if roll < 0.5 or not b.page:
            dept = rng.choice(who.depts)
            b.open(f"{rng.choice(WORKSPACE)}?dept={dept}&period={rng.choice(PERIODS)}")
        elif roll < 0.8 and "ws-period" in b.page:
            b.change("ws-period", "value", _other(rng, b.options("ws-period") or list(PERIODS), b.value("ws-period")))
        elif "ws-dept" in b.page and len(who.depts) > 1:
            b.change("ws-dept", "value", _other(rng, list(who.depts), b.value("ws-dept")))
        else:
            b.open(f"/workspace?dept={who.depts[0]}&period=ytd")


# ------------------------------------------------------------------ accounts
def personas(count: int, depts: list[str], quick: bool = False) -> list[Persona]:
    """`count` users in the role mix; directors get one department each, assistants three."""
    if quick:
        roles = ["leader", "director", "assistant", "assistant"][:max(1, count)]
    else:
        roles = []
        for role, share in MIX:
            roles += [role] * round(count * share)
        roles = (roles + ["assistant"] * count)[:count]
    out, seen = [], {"leader": 0, "director": 0, "assistant": 0}
    for role in roles:
        n = seen[role]
        seen[role] += 1
        if role == "leader":
            ids: tuple[str, ...] = ()
        elif role == "director":
            ids = (depts[n % len(depts)],)
        else:
            ids = tuple(depts[(3 * n + k) % len(depts)] for k in range(3))
        out.append(Persona(f"load.{role}.{n + 1:03d}", role, ids))
    return out


def ensure_accounts(app_db_url: str, people: list[Persona], password: str) -> None:
    """Create the load-test accounts (or reset their password and scope) through the store API."""
    from appdb.store import AppDB

    db = AppDB(app_db_url)
    db.migrate()
    for p in people:
        kind = "hospital" if p.role == "leader" else "departments"
        user = db.get_by_username(p.username)
        if user is None:
            db.create_user(p.username, f"Load test {p.role}", password, p.role, kind, list(p.depts))
        else:
            db.update_role_scope(user.id, p.role, kind, list(p.depts))
            db.set_password(user.id, password)
            if not user.is_active:
                db.set_active(user.id, True)
    db.engine.dispose()


def clinical_departments(warehouse_url: str) -> list[str]:
    from data_layer.queries.structure import departments
    from data_layer.scope import Scope
    from data_layer.warehouse import Warehouse

    wh = Warehouse(warehouse_url)
    try:
        deps = departments(wh, Scope.hospital())
        return sorted(deps.loc[deps["kind"] == "clinical", "dept_id"].astype(str))
    finally:
        wh.engine.dispose()


# ------------------------------------------------------------------ one run
@dataclass
class Result:
    users: int
    cache: str
    seconds: float
    requests: int
    rps: float
    clicks_per_s: float
    p50: float
    p95: float
    max: float
    errors: int
    by_kind: dict[str, tuple[int, float, float]]
    error_kinds: dict[str, int]
    rss_mb: list[float] = field(default_factory=list)  # each gunicorn worker's resident memory after the run
    redis_mb: float | None = None  # Redis used_memory after the run (the Redis leg)
    redis_keys: int | None = None  # DBSIZE of the cache's database after the run
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds in the measured window, by part (cpu_meter)
    think: tuple[float, float] = (0.0, 0.0)  # the users' think time, for the demand (demand())
    first_pass_clicks: int | None = None  # with replay: the clicks of the unmeasured first pass


def run_level(base: str, people: list[Persona], password: str, duration: float, think: tuple[float, float],
              seed: int, cache: str, log: Any = print, every: float | None = None,
              on_sample: Callable[[float, list[Sample]], None] | None = None, settle: float = 0.0,
              meter: Callable[[], dict[str, float]] | None = None, replay: float = 0.0) -> Result:
    """`people` clicking for `duration` seconds after they all signed in (and, with `settle`,
    after they have clicked that many seconds more, unmeasured: a morning's users filling the
    cache with what they ask for); with `every` and `on_sample`, on_sample(seconds since the
    start, the samples of that interval) is called every `every` seconds meanwhile. With `meter`
    (cpu_meter), the CPU each part of the machine spent in the measured window. With `replay`, the
    users click that many seconds unmeasured, then each opens its first page again and the measured
    window replays the same clicks (the same seeded choices): answers already asked for, as long as
    the measured window asks no more clicks than the first pass made."""
    rec = Recorder()
    stop = threading.Event()
    replayed = threading.Event()  # the unmeasured first pass of a replay is over
    ready = threading.Barrier(len(people) + 1)
    again = threading.Barrier(len(people) + 1)  # a replay: everyone is back on their first page
    login_gate = threading.Semaphore(4)  # sign-ins hash passwords: not all at once
    failures: list[str] = []

    def clicks(b: Browser, who: Persona, rng: random.Random, halt: threading.Event) -> None:
        time.sleep(rng.uniform(0, think[1]))  # users do not click in step
        tick = [1]
        while not halt.is_set():
            try:
                act(b, who, rng, tick)
                rec.click()
            except Exception as exc:  # noqa: BLE001 - a client-side surprise counts as an error
                rec.add(Sample(time.monotonic(), "client", 0.0, 0, f"{type(exc).__name__}: {exc}"))
            halt.wait(rng.uniform(*think))

    def user(i: int, who: Persona) -> None:
        b = Browser(base, rec)  # fetches the page, the layout and the dependencies once, as a browser does
        try:
            with login_gate:
                landing = b.login(who.username, password)
            b.open(landing)
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on without this user
            failures.append(f"{who.username}: {exc}")
        failed = lambda: any(f.startswith(who.username + ":") for f in failures)  # noqa: E731
        try:
            ready.wait(timeout=600)
            if replay > 0:
                if not failed():
                    clicks(b, who, random.Random(seed * 1000 + i), replayed)
                    try:
                        b.open(landing)
                    except Exception as exc:  # noqa: BLE001 - counted; everyone must still meet at `again`
                        rec.add(Sample(time.monotonic(), "client", 0.0, 0, f"{type(exc).__name__}: {exc}"))
                again.wait(timeout=600)
        except threading.BrokenBarrierError:
            return
        if not failed():
            clicks(b, who, random.Random(seed * 1000 + i), stop)

    requests.get(f"{base}/healthz", timeout=10).raise_for_status()
    threads = [threading.Thread(target=user, args=(i, p), daemon=True, name=p.username) for i, p in enumerate(people)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    ready.wait(timeout=600)
    log(f"  {len(people)} users signed in in {time.monotonic() - t0:.1f} s"
        + (f"; {len(failures)} could not: {failures[:3]}" if failures else ""))
    if replay > 0:
        log(f"  clicking {replay:.0f} s before the measured window, which replays the same clicks")
        first = time.monotonic()
        time.sleep(replay)
        replayed.set()
        again.wait(timeout=600)
        first_clicks = sum(1 for c in rec.clicks if c >= first)
    if settle > 0:
        log(f"  clicking {settle:.0f} s before the measured window")
        stop.wait(settle)
    cpu_before = meter() if meter else {}
    start = time.monotonic()
    if every and on_sample:
        deadline, seen = start + duration, len(rec.samples)
        while (left := deadline - time.monotonic()) > 0:
            stop.wait(min(every, left))
            with rec.lock:
                fresh, seen = rec.samples[seen:], len(rec.samples)
            on_sample(time.monotonic() - start, fresh)
    else:
        stop.wait(duration)
    stop.set()
    end = time.monotonic()
    cpu_after = meter() if meter else {}
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 5)
    window = [s for s in rec.samples if start <= s.at <= end]
    lat = [s.ms for s in window if s.kind not in ("app-error", "client")]
    errors = [s for s in rec.samples if s.error and s.at >= t0] + [Sample(0, "login", 0, 0, f) for f in failures]
    kinds: dict[str, list[float]] = {}
    for s in window:
        if s.kind not in ("app-error", "client"):
            kinds.setdefault(s.kind, []).append(s.ms)
    error_kinds: dict[str, int] = {}
    for s in errors:
        error_kinds[f"{s.kind}: {s.error}"] = error_kinds.get(f"{s.kind}: {s.error}", 0) + 1
    secs = end - start
    return Result(users=len(people), cache=cache, seconds=secs, requests=len(lat), rps=len(lat) / secs,
                  clicks_per_s=sum(1 for c in rec.clicks if start <= c <= end) / secs,
                  p50=_pct(lat, 0.5), p95=_pct(lat, 0.95), max=max(lat) if lat else float("nan"),
                  errors=len(errors),
                  by_kind={k: (len(v), _pct(v, 0.5), _pct(v, 0.95)) for k, v in sorted(kinds.items())},
                  error_kinds=error_kinds, think=think,
                  cpu={k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after},
                  first_pass_clicks=first_clicks if replay > 0 else None)


# logged with a traceback by pages/_kit.safe and safe_figure (a part or figure answering 200 with a
# note that it failed) and by shell/warmup.py (a screen left cold)
FAILED_PART = re.compile(r"^(page part .+ failed|page figure .+ failed|warm-up: .+ failed|warm-up failed)$", re.M)


def count_failed_parts(res: Result, log_path: Path, offset: int) -> None:
    """Count as errors the page parts and figures the server logged as failed since `offset` of its
    log (and a failed warm-up step): such a part answers 200 with a note saying it failed (no
    traceback reaches the user), so only the log tells the run that a user saw one."""
    with open(log_path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    for what in FAILED_PART.findall(text):
        key = f"server: {what}"
        res.error_kinds[key] = res.error_kinds.get(key, 0) + 1
        res.errors += 1


# ------------------------------------------------------------------ gunicorn
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int | None, log_path: Path, root: Path = ROOT,
             port: int | None = None) -> Iterator[str]:
    """gunicorn with `root`'s deploy/gunicorn.conf.py (serving that checkout) on `port` (default a
    free one); stopped on exit."""
    with gunicorn_process(env, workers, log_path, root, port) as (base, _proc):
        yield base


@contextmanager
def gunicorn_process(env: dict[str, str], workers: int | None, log_path: Path, root: Path = ROOT,
                     port: int | None = None, extra: tuple[str, ...] = ()) -> Iterator[tuple[str, subprocess.Popen]]:
    """As gunicorn(), giving (base URL, the master's process); `extra` command-line settings
    override the configuration file's (e.g. ("--max-requests", "0"))."""
    port = port or _free_port()
    genv = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESSLOG": ""}
    if workers:
        genv["GUNICORN_WORKERS"] = str(workers)
    exe = Path(sys.executable).with_name("gunicorn")
    with open(log_path, "ab") as out:
        proc = subprocess.Popen([str(exe), "-c", str(root / "deploy" / "gunicorn.conf.py"), *extra], env=genv,
                                cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log_path}")
            try:
                if requests.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start in 60 s; see {log_path}")
            time.sleep(0.25)
        yield base, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _describe_warehouse(url: str) -> str:
    """The warehouse's backend and database name, and whether its summary tables are current."""
    from sqlalchemy import make_url

    from data_layer.engine import make_engine
    from data_layer.summaries import summaries_current

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            summarized = summaries_current(conn)
    except Exception:  # noqa: BLE001 - a description, not a check
        summarized = False
    finally:
        engine.dispose()
    u = make_url(url)
    return f"{u.get_backend_name()} {u.database} ({'with' if summarized else 'without'} current summary tables)"


def wait_for_warmup(base: str, url: str, limit: float = 900.0) -> float:
    """Seconds until the server's warm-up of the current load has finished: its `warmup:done:*`
    marker in the Redis database of `url` (shell/warmup.py; any request starts it, and /healthz
    answered already). Gives up with SystemExit after `limit` seconds."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    start = time.monotonic()
    try:
        while not any(True for _ in client.scan_iter(match="hospdash:warmup:done:*", count=1000)):
            if time.monotonic() - start > limit:
                raise SystemExit(f"the warm-up did not finish in {limit:.0f} s")
            requests.get(f"{base}/healthz", timeout=10)  # each worker's first request starts its watcher
            time.sleep(1.0)
    finally:
        client.close()
    return time.monotonic() - start


def clear_redis(url: str) -> int:
    """Delete the app's cache keys (prefix hospdash:) in the Redis database of `url`."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    keys = list(client.scan_iter(match="hospdash:*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i:i + 500])
    client.close()
    return len(keys)


# ------------------------------------------------------------------ memory
def worker_rss(master_pid: int) -> list[tuple[int, float]]:
    """(pid, resident MB) of each gunicorn worker (the master's children), by pid."""
    import psutil

    out = []
    try:
        children = psutil.Process(master_pid).children()
    except psutil.Error:
        return []
    for child in children:
        try:
            out.append((child.pid, child.memory_info().rss / 2**20))
        except psutil.Error:  # a worker being recycled just now
            continue
    return sorted(out)


CPU_PARTS = ("server", "PostgreSQL", "Redis", "load generator")


def _tree_cpu(proc: Any) -> float:
    """CPU seconds (user + system) of a process and its descendants, those that ended included
    (counted in their parent's children times once it has waited for them: a recycled worker,
    a closed database connection)."""
    import psutil

    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:  # it ended just now
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def cpu_meter(master_pid: int) -> Callable[[], dict[str, float]]:
    """A function reading the CPU seconds used so far by each part of this machine the load runs on:
    the server (gunicorn's master and workers), the PostgreSQL and Redis servers running here (each
    server's processes, whoever they serve: on a machine doing nothing else, the app's warehouse,
    application database and cache) and this load generator itself. Differences of two readings
    are what the parts spent in between."""
    import psutil

    def roots(name: str) -> list[Any]:
        found = []
        for p in psutil.process_iter(["name", "ppid"]):
            try:
                if p.info["name"] == name and psutil.Process(p.info["ppid"]).name() != name:
                    found.append(p)
            except psutil.Error:
                continue
        return found

    def read() -> dict[str, float]:
        t = os.times()
        out = {"server": _tree_cpu(psutil.Process(master_pid)), "load generator": t.user + t.system}
        for part, name in (("PostgreSQL", "postgres"), ("Redis", "redis-server")):
            out[part] = sum(_tree_cpu(p) for p in roots(name))
        return out

    return read


def demand(res: Result) -> tuple[float, dict[str, float]] | None:
    """(requests/s the users would ask for if every answer were instant: each clicks once per think
    time on average, with the requests per click measured; CPU cores each part needs to serve that,
    from its CPU per request in the run), or None without a CPU reading."""
    clicks = res.clicks_per_s * res.seconds
    if not res.cpu or not res.requests or not clicks or not sum(res.think):
        return None
    rate = res.users / (sum(res.think) / 2) * res.requests / clicks
    return rate, {part: res.cpu[part] / res.requests * rate for part in CPU_PARTS if part in res.cpu}


def redis_memory(url: str) -> tuple[float, int]:
    """(Redis used_memory in MB for the whole server, keys in the database of `url`)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        return client.info("memory")["used_memory"] / 2**20, int(client.dbsize())
    finally:
        client.close()


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; nan with fewer than two."""
    if len(points) < 2:
        return float("nan")
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else float("nan")


FLAT_SHARE, FLAT_NOISE = 0.5, 0.2  # flattened: last third's slope ≤ half the first third's, or ≤ 0.2 MB/min


def flattened(points: list[tuple[float, float]], what: str) -> str:
    """A one-line verdict on (minute, MB) points: did the growth flatten?"""
    n = len(points)
    if n < 6:
        return f"{what}: too few samples ({n}) to judge"
    first, last = _slope(points[: n // 3]), _slope(points[-(n // 3):])
    ok = last <= FLAT_NOISE or (first > 0 and last <= FLAT_SHARE * first)
    return (f"{what}: {'flattened' if ok else 'still growing'} (first third {first:+.2f} MB/min, "
            f"last third {last:+.2f} MB/min; flattened = last ≤ {FLAT_SHARE:g} × first or ≤ {FLAT_NOISE:g} MB/min)")


@dataclass
class SoakSample:
    minute: float
    rss: list[tuple[int, float]]
    redis_mb: float | None
    keys: int | None
    requests: int
    p95: float
    errors: int


def soak_table(samples: list[SoakSample], meta: dict[str, str]) -> str:
    lines = ["# Load test: soak", ""] + [f"- {k}: {v}" for k, v in meta.items()]
    lines += ["", "| minute | worker RSS MB (pid: MB) | Redis MB | keys | requests | p95 ms | errors |",
              "|---:|---|---:|---:|---:|---:|---:|"]
    for x in samples:
        rss = ", ".join(f"{pid}: {mb:.0f}" for pid, mb in x.rss) or "—"
        lines.append(f"| {x.minute:.1f} | {rss} | {'—' if x.redis_mb is None else f'{x.redis_mb:.1f}'} | "
                     f"{'—' if x.keys is None else x.keys} | {x.requests} | {x.p95:.0f} | {x.errors} |")
    workers = [(x.minute, sum(mb for _, mb in x.rss) / len(x.rss)) for x in samples if x.rss]
    redis_mb = [(x.minute, x.redis_mb) for x in samples if x.redis_mb is not None]
    lines += ["", "- " + flattened(workers, "mean worker RSS"), "- " + flattened(redis_mb, "Redis used_memory")]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ report
def table(results: list[Result], meta: dict[str, str]) -> str:
    lines = ["# Load test", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    # errors stays the last column: tests/test_deploy.py reads it there
    lines += ["", "| users | cache | requests | requests/s | clicks/s | p50 ms | p95 ms | max ms | worker RSS MB | "
                  "Redis MB | Redis keys | errors |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in results:
        rss = " / ".join(f"{mb:.0f}" for mb in r.rss_mb) or "—"
        lines.append(f"| {r.users} | {r.cache} | {r.requests} | {r.rps:.1f} | {r.clicks_per_s:.2f} | {r.p50:.0f} | "
                     f"{r.p95:.0f} | {r.max:.0f} | {rss} | {'—' if r.redis_mb is None else f'{r.redis_mb:.1f}'} | "
                     f"{'—' if r.redis_keys is None else r.redis_keys} | {r.errors} |")
    lines += ["", "Latency by request kind (router: opening a page; callback: a page's data):", "",
              "| users | cache | kind | requests | p50 ms | p95 ms |", "|---:|---|---|---:|---:|---:|"]
    for r in results:
        for kind, (n, p50, p95) in r.by_kind.items():
            lines.append(f"| {r.users} | {r.cache} | {kind} | {n} | {p50:.0f} | {p95:.0f} |")
    replays = [r for r in results if r.first_pass_clicks is not None]
    if replays:
        lines += ["", "Replayed: the measured window asked the first pass's answers again as far as it made no more "
                  "clicks than the first pass (later clicks are new): "
                  + "; ".join(f"{r.users} users, {r.cache}: {round(r.clicks_per_s * r.seconds)} clicks measured, "
                              f"{r.first_pass_clicks} in the first pass" for r in replays) + "."]
    errs = [(r, k, n) for r in results for k, n in r.error_kinds.items()]
    if errs:
        lines += ["", "Errors:", ""] + [f"- {r.users} users, {r.cache}: {k} x {n}" for r, k, n in errs]
    if any(r.cpu for r in results):
        lines += ["", "CPU in the measured window, from the processes' own counters: the server (gunicorn's master "
                  "and workers), the PostgreSQL and Redis servers on this machine, and the load generator, which "
                  "shares the machine. Per request, and in cores busy on average. 'Users ask' is the rate the "
                  "users would ask for if every answer were instant (one click per mean think time, the requests "
                  "per click measured), and 'cores to serve it' what each part would need for it at the same CPU "
                  "per request (all of it at 100 % busy, where waits grow without bound: keep well below). The "
                  "server's CPU is all it did in the window: when the users start beside the warm-up of a load "
                  "(without --after-warmup), the warm-up's too, which weighs most at few users.", "",
                  "| users | cache | " + " | ".join(f"{p} ms/request" for p in CPU_PARTS) + " | cores busy | "
                  "users ask requests/s | cores to serve it (server + PostgreSQL + Redis; load generator) |",
                  "|---:|---|" + "---:|" * len(CPU_PARTS) + "---:|---:|---|"]
        for r in results:
            if not r.cpu:
                continue
            per = " | ".join(f"{1000 * r.cpu.get(p, 0.0) / max(1, r.requests):.1f}" for p in CPU_PARTS)
            need = demand(r)
            asks = "—" if need is None else f"{need[0]:.0f}"
            serve = "—" if need is None else (
                f"{sum(v for k, v in need[1].items() if k != 'load generator'):.2f}; "
                f"{need[1].get('load generator', 0.0):.2f}")
            lines.append(f"| {r.users} | {r.cache} | {per} | {sum(r.cpu.values()) / r.seconds:.2f} | {asks} | {serve} |")
    if any(r.rss_mb for r in results):
        lines += ["", "Memory, read right after each run before gunicorn stops: each worker's resident set (RSS, "
                  "shared pages of the preloaded app counted in every worker); Redis's used_memory (the whole "
                  "server) and the number of keys in the cache's database."]
    return "\n".join(lines) + "\n"


def soak(args: argparse.Namespace, users: int, depts: list[str], password: str, think: tuple[float, float],
         meta: dict[str, str]) -> int:
    """One Redis leg of `users` for args.soak seconds, memory and latency sampled every args.soak_every."""
    extra = () if args.soak_recycle else ("--max-requests", "0")
    meta.update({"measured": f"{args.soak:.0f} s after every user signed in, sampled every {args.soak_every:g} s",
                 "users": str(users), "cache": f"redis ({args.redis})",
                 "server": f"gunicorn -c deploy/gunicorn.conf.py, workers {args.workers or 'from the config'}, "
                           + ("max_requests recycling as configured" if args.soak_recycle
                              else "worker recycling off (--max-requests 0), so that a leak would show")})
    env = {**os.environ, "WAREHOUSE_URL": args.warehouse, "APP_DB_URL": args.app_db, "CACHE_URL": args.redis}
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / "hospdash-load-gunicorn.log"
    samples: list[SoakSample] = []
    clear_redis(args.redis)
    with gunicorn_process(env, args.workers, log_path, extra=extra) as (base, proc):
        def sample(at: float, window: list[Sample]) -> None:
            lat = [s.ms for s in window if s.kind not in ("app-error", "client")]
            redis_mb, keys = redis_memory(args.redis)
            x = SoakSample(at / 60, worker_rss(proc.pid), redis_mb, keys, len(lat), _pct(lat, 0.95),
                           sum(1 for s in window if s.error))
            samples.append(x)
            print(f"  minute {x.minute:5.1f}: RSS MB {', '.join(f'{mb:.0f}' for _, mb in x.rss)}; Redis "
                  f"{redis_mb:.1f} MB, {keys} keys; {x.requests} requests, p95 {x.p95:.0f} ms, {x.errors} errors",
                  flush=True)

        print(f"soak: {users} users, redis cache, {args.soak:.0f} s …", flush=True)
        res = run_level(base, personas(users, depts, quick=args.quick), password, args.soak, think, args.seed,
                        "redis", every=args.soak_every, on_sample=sample)
    clear_redis(args.redis)
    meta["overall"] = f"{res.requests} requests, p50 {res.p50:.0f} ms, p95 {res.p95:.0f} ms, {res.errors} errors"
    report = soak_table(samples, meta)
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/load.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server (default: start gunicorn with deploy/gunicorn.conf.py)")
    p.add_argument("--warehouse", default=os.environ.get("WAREHOUSE_URL"),
                   help="warehouse URL (default: $WAREHOUSE_URL); its departments give the users' scopes")
    p.add_argument("--app-db", default=os.environ.get("APP_DB_URL"),
                   help="application database URL where the accounts are made (default: $APP_DB_URL)")
    p.add_argument("--redis", default=os.environ.get("LOAD_REDIS_URL"),
                   help="redis://host:port/db for the Redis leg (its hospdash:* keys are deleted before each run)")
    p.add_argument("--cache", default="in-process,redis", help="which legs to run when starting gunicorn")
    p.add_argument("--users", default="25,50,100,200", help="user counts, comma-separated")
    p.add_argument("--duration", type=float, default=120.0, help="measured seconds per run (after sign-in)")
    p.add_argument("--settle", type=float, default=0.0,
                   help="seconds the users click before the measured window starts (default 0: from a cold cache)")
    p.add_argument("--replay", type=float, default=0.0, metavar="SECONDS",
                   help="the users click that long unmeasured, then the measured window replays the same clicks "
                        "(every answer already cached: what the server costs at best)")
    p.add_argument("--after-warmup", action="store_true",
                   help="Redis leg: the users sign in only once the server's warm-up of the load has finished "
                        "(a morning after a night's load; default: at once, beside the warm-up)")
    p.add_argument("--idle", type=float, default=0.0, metavar="SECONDS",
                   help="with --after-warmup: the server stands idle that long after its warm-up before the users "
                        "sign in (the night between a load's warm-up and the morning; default 0)")
    p.add_argument("--think", default="2,8", help="think time between clicks, min,max seconds")
    p.add_argument("--workers", type=int, help="gunicorn workers (default: deploy/gunicorn.conf.py's)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--label", default="as configured", help="the cache column with --url")
    p.add_argument("--out", help="write the markdown table here too")
    p.add_argument("--quick", action="store_true", help="4 users for 20 s, 1-3 s think time: proves it works")
    p.add_argument("--soak", type=float, metavar="SECONDS",
                   help="instead of the legs: one Redis leg this long, memory sampled every --soak-every seconds")
    p.add_argument("--soak-users", type=int, default=100, help="users in the soak (with --quick: 4)")
    p.add_argument("--soak-every", type=float, default=60.0, help="seconds between the soak's samples")
    p.add_argument("--soak-recycle", action="store_true",
                   help="keep gunicorn's max_requests worker recycling during the soak (default: off, so a leak shows)")
    args = p.parse_args(argv)
    if args.replay < 0 or args.settle < 0:
        p.error("--replay and --settle are seconds of clicking before the measured window: 0 or more")
    if args.replay and (args.settle or args.soak):
        p.error("--replay measures a replay of the first pass's clicks: not with --settle or --soak")
    if args.soak and (args.url or not args.redis):
        p.error("--soak starts gunicorn itself (no --url) and needs --redis")
    if args.after_warmup and (args.url or args.soak or "redis" not in args.cache.split(",") or not args.redis):
        p.error("--after-warmup waits for the warm-up's marker in Redis: it needs the Redis leg (--cache redis "
                "--redis redis://…) of a gunicorn the load test starts itself (no --url, no --soak)")
    if args.idle < 0 or (args.idle and not args.after_warmup):
        p.error("--idle is the seconds the server stands idle after its warm-up: 0 or more, with --after-warmup")
    if args.after_warmup and os.environ.get("WARMUP", "").strip().lower() in ("false", "0", "no"):  # as shell/settings reads it
        p.error("--after-warmup with WARMUP=false in the environment: the server would never warm up")

    counts = [4] if args.quick else [int(x) for x in args.users.split(",") if x.strip()]
    duration = 20.0 if args.quick else args.duration
    think = (1.0, 3.0) if args.quick else tuple(float(x) for x in args.think.split(","))
    if not args.app_db:
        p.error("--app-db (or APP_DB_URL) is needed: the load-test accounts are made there")
    if not args.warehouse:
        p.error("--warehouse (or WAREHOUSE_URL) is needed: the users' departments come from it")
    depts = clinical_departments(args.warehouse)
    if not depts:
        p.error("the warehouse has no clinical departments")
    password = "Pw-" + secrets.token_urlsafe(12) + "-9"  # not "load": the account names contain it
    if args.soak and not args.quick:
        counts = [args.soak_users]
    everyone = personas(max(counts), depts, quick=args.quick)
    ensure_accounts(args.app_db, everyone, password)
    print(f"{len(everyone)} load-test accounts ready in the application database", flush=True)

    results: list[Result] = []
    warmups: list[str] = []  # with --after-warmup: how long each leg waited for the warm-up
    meta = {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} CPUs",
            "measured": f"{duration:.0f} s per run after every user signed in"
                        + (f" and clicked {args.settle:.0f} s" if args.settle else "")
                        + (f" and clicked {args.replay:.0f} s unmeasured, replaying those clicks" if args.replay else ""),
            "think time": f"{think[0]:g}-{think[1]:g} s (seed {args.seed})",
            "mix": "leaders 20 % (wall screens), directors 40 % (/department), assistants 40 % (/workspace)"}
    if args.warehouse:
        meta["warehouse"] = _describe_warehouse(args.warehouse)
    if args.soak:
        return soak(args, counts[0], depts, password, think, meta)
    if args.url:
        meta["server"] = args.url
        for n in counts:
            people = personas(n, depts, quick=args.quick)
            print(f"{n} users against {args.url} for {duration:.0f} s …", flush=True)
            results.append(run_level(args.url, people, password, duration, think, args.seed, args.label,
                                     settle=args.settle, replay=args.replay))
    else:
        legs = [c.strip() for c in args.cache.split(",") if c.strip()]
        if "redis" in legs and not args.redis:
            p.error("the Redis leg needs --redis redis://host:port/db (or leave it out with --cache in-process)")
        meta["server"] = (f"gunicorn -c deploy/gunicorn.conf.py, workers {args.workers or 'from the config'}, "
                          "restarted (cold cache) for every run")
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / "hospdash-load-gunicorn.log"
        base_env = {**os.environ, "WAREHOUSE_URL": args.warehouse, "APP_DB_URL": args.app_db}
        for leg in legs:
            env = dict(base_env)
            env.pop("CACHE_URL", None)
            if leg == "redis":
                env["CACHE_URL"] = args.redis
            for n in counts:
                if leg == "redis":
                    clear_redis(args.redis)
                offset = log_path.stat().st_size if log_path.exists() else 0
                with gunicorn_process(env, args.workers, log_path) as (base, proc):
                    if args.after_warmup and leg == "redis":
                        took = wait_for_warmup(base, args.redis)
                        print(f"  the warm-up finished {took:.0f} s after gunicorn answered", flush=True)
                        warmups.append(f"{took:.0f} s before the {n} users"
                                       + (f", then {args.idle:.0f} s idle" if args.idle else ""))
                        if args.idle:
                            print(f"  idle {args.idle:.0f} s before the users sign in", flush=True)
                            time.sleep(args.idle)
                    print(f"{n} users, {leg} cache, {duration:.0f} s …", flush=True)
                    res = run_level(base, personas(n, depts, quick=args.quick), password, duration, think,
                                    args.seed, leg, settle=args.settle, meter=cpu_meter(proc.pid),
                                    replay=args.replay)
                    count_failed_parts(res, log_path, offset)
                    res.rss_mb = [mb for _pid, mb in worker_rss(proc.pid)]
                    if leg == "redis":
                        res.redis_mb, res.redis_keys = redis_memory(args.redis)
                    print(f"  p95 {res.p95:.0f} ms, {res.errors} errors; worker RSS MB "
                          f"{' / '.join(f'{mb:.0f}' for mb in res.rss_mb) or '—'}"
                          + (f"; Redis {res.redis_mb:.1f} MB, {res.redis_keys} keys" if leg == "redis" else ""),
                          flush=True)
                    results.append(res)
            if leg == "redis":
                clear_redis(args.redis)  # leave the Redis database as we found it
    if warmups:
        meta["users signed in after the warm-up"] = "; ".join(warmups)
    report = table(results, meta)
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
