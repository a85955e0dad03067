"""The warm-up: after each load, the screens people open first are computed into the result cache
before anyone asks, so a wall, a director or an assistant opening the app never pays the cold
price.

What is warmed (`TARGETS`, registered by the pages next to their callbacks): every wall screen
(campus, DRG, profit, appraisal: at the wall's scale and twice it for a 4K screen, on the wall
and at a desk), each director's landing page (every section of the first department of their
scope) and each assistant's portfolio, for the default period, for every active user's scope in
their language; then, in a second pass, the director's page for each other period of its picker
(so the whole page a director works in is warm, whichever period they pick), each assistant's
portfolio in the other named periods and the workspace sections that show one department
(shared by everyone who may see it: pages/_kit.py, `by_department`) for every department of each
assistant's scope in every named period; in a third pass the same for each month the workspace's
period picker offers (WARMUP_MONTHS=false leaves that pass out). Each callback is
called as its user would call it (the page kit checks the role and the scope and keys the answer
as for a request: shell/../pages/_kit.py), so the keys are exactly those of the requests that
follow; users sharing a scope and language are warmed once.

When it runs:
- a watcher thread in each process (started on the first request, so after gunicorn forks)
  re-reads `meta_load` every FRESHNESS_TTL seconds; the warehouse tells the warm-up when the
  newest load changes or its summary tables are built (`Warehouse.on_new_data`), and once when
  the process first reads it;
- one warm-up per load per cache: with Redis the workers share the cache, and the first to claim
  the load (an atomic `add` of a marker) warms it for all; with the in-process cache each worker
  warms its own;
- in the background at the lowest priority: one thread at the OS's lowest CPU priority (nice
  19), one callback at a time, each waiting (up to YIELD_SECONDS) while requests are being
  served; a newer load stops a warm-up that is no longer current.

`python -m bench` times `run(server)` (docs/performance.md); `WARMUP=false` turns it off.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask
from sqlalchemy import event

log = logging.getLogger("hospdash")

YIELD_SECONDS = 2.0  # the longest a step waits for the requests being served to finish
CLAIM_SECONDS = 15 * 60  # a claimed warm-up not finished by then may be taken over
# the share of the result cache's size (the in-process cache's CACHE_MB, Redis's maxmemory) the
# warm-up may fill: it stops there, so that what it warmed first (the landing pages) is not dropped
# to make room for what it warms last, and the users' own answers still fit
FILL_LIMIT = 0.6
WALL_SCALES = (1.0, 2.0)  # a 1920-pixel wall and a 4K one (the browser's tick: root font / 20)
_WARMING: contextvars.ContextVar[bool] = contextvars.ContextVar("hospdash_warming", default=False)


@dataclass(frozen=True)
class Target:
    """One callback to warm: `fn` is the page kit's callback (it takes the callback's inputs and
    states in order); `args(ctx)` the argument tuples the page sends when it opens for the user in
    `ctx`; only for users of `roles`."""

    name: str
    fn: Callable[..., Any]
    roles: tuple[str, ...]
    args: Callable[[WarmContext], Iterable[tuple]]
    # the argument sets of the page's next clicks (the other periods of its picker): warmed after
    # every user's first ones, so a warm-up cut short by a newer load has done the landing pages
    more: Callable[[WarmContext], Iterable[tuple]] | None = None
    # the clicks after those (the picker's single months), in a third pass
    last: Callable[[WarmContext], Iterable[tuple]] | None = None


@dataclass(frozen=True)
class WarmContext:
    user: Any  # appdb.store.User
    scope: Any  # data_layer.scope.Scope
    lang: str


TARGETS: list[Target] = []


def target(name: str, fn: Callable[..., Any], roles: Sequence[str], args: Callable[[WarmContext], Iterable[tuple]],
           more: Callable[[WarmContext], Iterable[tuple]] | None = None,
           last: Callable[[WarmContext], Iterable[tuple]] | None = None) -> None:
    """Register a callback for the warm-up (pages call this next to the callback): `args` what the
    page asks when it opens, `more` what its next clicks ask (warmed in a second pass), `last` the
    clicks after those (a third pass)."""
    TARGETS[:] = [t for t in TARGETS if t.name != name]  # a page module imported again replaces its own
    TARGETS.append(Target(name, fn, tuple(roles), args, more, last))


def wall_ticks() -> list[dict[str, Any]]:
    """The refresh ticks a wall screen's first answer is asked with, one per warmed scale."""
    return [{"n": 1, "scale": s} for s in WALL_SCALES]


@dataclass
class WarmupReport:
    stamp: str = ""
    seconds: float = 0.0
    entries: int = 0  # callbacks answered (each user scope, language and input set once)
    statements: int = 0  # statements the warehouse ran for them
    errors: int = 0
    stopped: bool = False  # a newer load made this warm-up obsolete
    full: bool = False  # it stopped at FILL_LIMIT of the cache's size
    written: int = 0  # bytes it put in the cache
    # at the end of each pass: (answers, bytes written, seconds) since the warm-up began
    passes: list[tuple[int, int, float]] = field(default_factory=list)
    targets: dict[str, int] = field(default_factory=dict)  # entries per target


class Activity:
    """The requests being served now, so the warm-up can step aside for them."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def enter(self) -> None:
        with self._lock:
            self._n += 1

    def leave(self) -> None:
        with self._lock:
            self._n = max(0, self._n - 1)
            if self._n == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._lock:
            if self._n:
                self._idle.wait_for(lambda: self._n == 0, timeout=timeout)


def _users(server: Flask) -> list[Any]:
    order = {"leader": 0, "director": 1, "assistant": 2}
    users = [u for u in server.extensions["hospdash"].appdb.list_users() if u.is_active and u.role in order]
    return sorted(users, key=lambda u: (order[u.role], u.username))


def capacity_said(cache: Any) -> int | None:
    """The cache's capacity (data_layer/warehouse.cache_capacity), with a warning in the journal for
    a Redis that has no memory cap: what each load's warm-up keeps stays a day there, so without a
    cap Redis grows with every load."""
    from data_layer.warehouse import cache_capacity

    capacity = cache_capacity(cache)
    if capacity is None and getattr(cache, "_write_client", None) is not None:
        log.warning("the shared cache (Redis) has no memory cap: what each load's warm-up keeps stays a day, "
                    "so Redis grows with every load; set maxmemory and maxmemory-policy allkeys-lru "
                    "(docs/deployment.md)")
    return capacity


def run(server: Flask, *, activity: Activity | None = None, current: Callable[[], bool] | None = None) -> WarmupReport:
    """Warm every target for every active user, now, in this thread; the report says what it did.
    `activity`: step aside for requests being served; `current()`: False once a newer load makes
    the work obsolete (it stops); it also stops once it has filled FILL_LIMIT of the cache."""
    wh = server.extensions["hospdash"].warehouse
    report = WarmupReport()
    t0 = time.perf_counter()
    counted = [0]

    def count(*_a: Any) -> None:
        if _WARMING.get():
            counted[0] += 1

    from data_layer.cache_codec import counting_writes
    from data_layer.warehouse import SERIAL

    capacity = capacity_said(wh.cache)
    event.listen(wh.engine, "before_cursor_execute", count)
    token = _WARMING.set(True)
    serial = SERIAL.set(True)  # one statement at a time: the side-by-side slots are the requests'
    try:
        with counting_writes() as written:
            def go_on() -> bool:
                """Whether to warm one more answer: not once a newer load came, nor once the warm-up
                has filled FILL_LIMIT of the cache."""
                if current is not None and not current():
                    report.stopped = True
                elif capacity and written[0] >= FILL_LIMIT * capacity:
                    report.full = True
                return not (report.stopped or report.full)

            try:
                report.stamp = wh.freshness().stamp
                _warm_passes(server, report, activity, go_on, written)
            finally:
                report.written = written[0]
        return report
    finally:
        SERIAL.reset(serial)
        _WARMING.reset(token)
        event.remove(wh.engine, "before_cursor_execute", count)
        report.statements = counted[0]
        report.seconds = time.perf_counter() - t0


def _warm_passes(server: Flask, report: WarmupReport, activity: Activity | None, go_on: Callable[[], bool],
                 written: list[int]) -> None:
    """First every user's landing pages, then the other states of those pages (Target.more), then
    the states after those (Target.last), until `go_on()` says stop. `written`: the bytes put in
    the cache so far (for report.passes)."""
    from flask_login import login_user

    from shell.access import scope_of
    from shell.auth import SessionUser

    t0 = time.perf_counter()
    done: set[tuple] = set()
    users = _users(server)
    passes = [[*_layout_targets(), *TARGETS], [replace(t, args=t.more) for t in TARGETS if t.more]]
    if server.extensions["hospdash"].settings.warmup_months:
        passes.append([replace(t, args=t.last) for t in TARGETS if t.last])
    for targets in passes:
        for user in users:
            if not any(user.role in t.roles for t in targets):
                continue
            scope = scope_of(SessionUser(user))
            lang = user.lang or "zh"
            ctx = WarmContext(user, scope, lang)
            with server.test_request_context("/_dash-update-component", method="POST",
                                             headers={"Accept-Language": lang, "Cookie": f"lang={lang}"}):
                login_user(SessionUser(user))  # as this user's own requests: role, scope, language
                for tgt in targets:
                    if user.role not in tgt.roles:
                        continue
                    if not _warm_target(tgt, ctx, done, report, activity, go_on):
                        return
        report.passes.append((report.entries, written[0], time.perf_counter() - t0))


def _layout_targets() -> list[Target]:
    """The layouts kept in the cache (pages registered with cache_layout=True: shell/layout.py), as
    opened at a desk and on a wall (`?kiosk=1`)."""
    import dash

    from .access import ROLES

    return [Target(f"layout {page['path']}", functools.partial(_open_layout, page["layout"]),
                   tuple(page.get("allowed_roles", ROLES)), lambda _c: [((),), ((("kiosk", "1"),),)])
            for page in dash.page_registry.values() if page.get("cache_layout") and page.get("warm_layout", True)]


def _open_layout(layout: Callable[..., Any], query: tuple[tuple[str, str], ...]) -> Any:
    return layout(**dict(query))


def _warm_target(tgt: Target, ctx: WarmContext, done: set[tuple], report: WarmupReport, activity: Activity | None,
                 go_on: Callable[[], bool]) -> bool:
    """Call one target for one user (in their request context) with each of its argument sets not
    yet warmed for the same role, scope and language; False when the work stops (`go_on()`: a newer
    load, or the cache full)."""
    from data_layer.errors import UserError

    user = ctx.user
    try:
        arg_sets = list(tgt.args(ctx))
    except Exception as exc:  # noqa: BLE001 - a target that cannot say its inputs is skipped
        log.warning("warm-up: %s has no inputs for %s: %s", tgt.name, user.username, exc)
        report.errors += 1
        return True
    kept_under = getattr(tgt.fn, "answer_scope", None)  # the page kit's: an answer shared by department
    for args in arg_sets:
        scope = kept_under(ctx.scope, args) if kept_under is not None else ctx.scope
        key = (tgt.name, user.role, scope.key, ctx.lang, repr(args))
        if key in done:
            continue
        done.add(key)
        if not go_on():
            return False
        if activity is not None:
            activity.wait_idle(YIELD_SECONDS)
        try:
            tgt.fn(*args)
            report.entries += 1
            report.targets[tgt.name] = report.targets.get(tgt.name, 0) + 1
        except UserError as exc:  # the warehouse is away or the period is empty: nothing to keep
            log.info("warm-up: %s for %s: %s", tgt.name, user.username, exc)
            report.errors += 1
        except Exception:  # noqa: BLE001 - the warm-up must never take a worker down
            log.exception("warm-up: %s for %s failed", tgt.name, user.username)
            report.errors += 1
    return True


class Warmer:
    """The process's warm-up: a watcher thread that re-reads the freshness stamp, and a worker
    thread that warms each new load once (see the module's docstring)."""

    def __init__(self, server: Flask):
        self.server = server
        self.activity = Activity()
        self._wanted: str | None = None  # the load (stamp and summary state) to warm next
        self._wake = threading.Condition()
        self._started_in: int | None = None
        self.last: WarmupReport | None = None
        self.finished = threading.Event()  # set after each warm-up (tests wait on it)
        self.runs = 0

    # -- hooks -----------------------------------------------------------------------------
    def on_new_data(self, fresh: Any) -> None:
        """Warehouse.on_new_data: a new load (or its summaries) is there: warm it."""
        if fresh.data_through is None:
            return
        with self._wake:  # the worker thread, started by this process's first request, takes it up
            self._wanted = f"{fresh.stamp}|{int(bool(fresh.summarized))}"
            self._wake.notify_all()

    def start(self) -> None:
        """Start this process's threads (once per process: after a fork, again). Only from a
        request: `python app.py` reads the warehouse while it creates the demo's accounts, before
        it serves, and a warm-up started then would find no account to warm for."""
        if self._started_in == os.getpid():
            return
        self._started_in = os.getpid()
        self.finished.clear()
        threading.Thread(target=self._work, name="hospdash-warmup", daemon=True).start()
        threading.Thread(target=self._watch, name="hospdash-warmup-watch", daemon=True).start()

    # -- threads ---------------------------------------------------------------------------
    def _watch(self) -> None:
        from data_layer.warehouse import FRESHNESS_TTL

        while True:
            try:
                self.server.extensions["hospdash"].warehouse.freshness()  # tells on_new_data of a change
            except Exception as exc:  # noqa: BLE001 - the warehouse away: the banner says so; try again later
                log.debug("warm-up watcher: %s", exc)
            time.sleep(FRESHNESS_TTL)

    def _work(self) -> None:
        with contextlib.suppress(AttributeError, OSError):  # another OS: the pauses still apply
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread only (Linux)
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._wanted is not None)
                wanted, self._wanted = self._wanted, None
            try:
                self._warm(wanted)
            except Exception:  # noqa: BLE001
                log.exception("warm-up failed")
            finally:
                self.finished.set()

    def _warm(self, wanted: str) -> None:
        state = self.server.extensions["hospdash"]
        cache = state.warehouse.cache
        done, claim = f"warmup:done:{wanted}", f"warmup:claim:{wanted}"
        try:
            if cache.get(done) is not None or not cache.add(claim, os.getpid(), timeout=CLAIM_SECONDS):
                return  # warmed, or being warmed, by this or another worker sharing the cache
        except Exception as exc:  # noqa: BLE001 - a cache that is down: warm this process's way
            log.warning("warm-up: cache not reachable (%s)", exc)

        def current() -> bool:
            with self._wake:
                return self._wanted is None or self._wanted == wanted

        report = run(self.server, activity=self.activity, current=current)
        self.last = report
        self.runs += 1
        if not report.stopped:
            with contextlib.suppress(Exception):  # a cache that is down: the next load warms again
                cache.set(done, report.seconds, timeout=0)
        log.info("warm-up of load %s: %d answers (%.0f MB), %d statements, %d errors in %.1f s%s", report.stamp,
                 report.entries, report.written / 2**20, report.statements, report.errors, report.seconds,
                 " (stopped: a newer load arrived)" if report.stopped else "")
        if report.full:
            log.warning("warm-up of load %s stopped at %d answers: it had filled %.0f%% of the result cache "
                        "(CACHE_MB, or Redis's maxmemory: docs/deployment.md); the rest is computed when asked",
                        report.stamp, report.entries, FILL_LIMIT * 100)


def init_warmup(server: Flask) -> Warmer | None:
    """Give the app its warm-up (unless WARMUP=false): the warehouse tells it of new loads, and
    every request is counted so the warm-up can step aside."""
    from flask import request

    state = server.extensions["hospdash"]
    if not state.settings.warmup:
        return None
    warmer = Warmer(server)
    state.warmer = warmer

    @server.before_request
    def _enter() -> None:
        request.environ["hospdash.counted"] = True
        warmer.activity.enter()
        warmer.start()  # the first request of this process (after the fork) starts its threads

    @server.teardown_request
    def _leave(_exc: BaseException | None) -> None:
        if request.environ.pop("hospdash.counted", False):
            warmer.activity.leave()

    return warmer
