"""The warehouse handle: engine, result cache and the data-freshness stamp."""
from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

import pandas as pd
from cachelib import BaseCache, NullCache
from sqlalchemy import Engine, Select, func, literal, select

from .cache_codec import Codec, Extension, code_stamp
from .engine import make_engine, redact, translate_errors
from .errors import UserError
from .lru import Lru
from .periods import as_date, as_datetime
from .schema import fact_dept_cost_monthly, fact_inpatient_case, fact_outpatient_daily, meta_load
from .scope import Scope

log = logging.getLogger(__name__)
R = TypeVar("R")

FRESHNESS_TTL = 30.0  # seconds between checks of meta_load
RESULT_TTL = 24 * 3600
HERE_SIZE = 64  # results a process keeps decoded beside the shared cache (Warehouse.here)
LOCAL_MB = 512  # the in-process cache's size by default (CACHE_MB), in megabytes of encoded results
LOCAL_ENTRIES = 500_000  # and its most entries, however small
# Statements one answer may run at once (Warehouse.gather), by backend. A server runs them side by
# side on its own cores; DuckDB already spreads one query over every core and SQLite's file takes
# one reader at a time in practice, so there they run one after another. WAREHOUSE_CONCURRENCY
# overrides it (1: never concurrent).
CONCURRENCY = {"postgresql": 4, "mysql": 4, "mariadb": 4, "clickhouse": 4, "duckdb": 1, "sqlite": 1}
_GATHERING: contextvars.ContextVar[bool] = contextvars.ContextVar("hospdash_gathering", default=False)
# the freshness each warehouse gave in the current request (one_freshness): a request keys its
# answers by one stamp and reads it from the shared cache once, not once for every key
_FRESH: contextvars.ContextVar[dict[int, Freshness] | None] = contextvars.ContextVar("hospdash_fresh", default=None)
# set by the warm-up (shell/warmup.py): its statements run one at a time, never on the spare slots
SERIAL: contextvars.ContextVar[bool] = contextvars.ContextVar("hospdash_serial", default=False)


@dataclass(frozen=True)
class Unkept:
    """What a compute gives `Warehouse.remember` for it to return `value` without keeping it (an
    answer that turned out to show something its key does not hold: pages/_kit.kept_answer)."""

    value: Any


@dataclass(frozen=True)
class Freshness:
    """The newest meta_load row and the data range it implies."""

    loaded_at: datetime | None
    data_through: date | None
    first_date: date | None  # first day with facts
    months_closed_through: date | None  # last day of the newest month with monthly cost facts
    summarized: bool = False  # the summary tables were built from this load (data_layer/summaries.py)

    @property
    def stamp(self) -> str:
        return f"{self.loaded_at.isoformat() if self.loaded_at else '-'}|{self.data_through or '-'}"


@dataclass(frozen=True)
class Capabilities:
    """The version 2 parts of the contract a warehouse has: "table.column" for a column that holds
    a value somewhere, "table" for a table with rows (Warehouse.capabilities)."""

    have: frozenset[str]

    def has(self, *names: str) -> bool:
        return all(n in self.have for n in names)

    def lacking(self, names: frozenset[str] | set[str] | tuple[str, ...]) -> list[str]:
        return sorted(n for n in names if n not in self.have)


class LocalCache(BaseCache):
    """The in-process result cache (the default): encoded results up to `budget` bytes; one more
    that would not fit drops the least recently used first. (cachelib's SimpleCache, which this
    replaces, dropped the oldest written, read or not, and sorted every entry to find it on each
    write once full: the warm-up's later passes dropped the landing pages it had warmed first.)"""

    def __init__(self, budget: int, serializer: Codec, default_timeout: int = RESULT_TTL,
                 entries: int = LOCAL_ENTRIES):
        super().__init__(default_timeout)
        self.serializer = serializer
        self._lru = Lru(entries, budget=budget, weigh=len)

    @property
    def budget(self) -> int:
        """Bytes it holds at most (a new budget applies from the next write)."""
        return int(self._lru.budget)

    @budget.setter
    def budget(self, value: int) -> None:
        self._lru.budget = value

    def _ttl(self, timeout: int | None) -> float | None:
        seconds = self._normalize_timeout(timeout)
        return seconds if seconds > 0 else None  # 0: until dropped

    def get(self, key: str) -> Any:
        raw = self._lru.get(key)
        return None if raw is None else self.serializer.loads(raw)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self._lru.put(key, self.serializer.dumps(value), self._ttl(timeout))
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return self._lru.put_new(key, self.serializer.dumps(value), self._ttl(timeout))

    def delete(self, key: str) -> bool:
        return self._lru.pop(key)

    def has(self, key: str) -> bool:
        return self._lru.get(key) is not None

    def clear(self) -> bool:
        self._lru.clear()
        return True

    @property
    def used(self) -> int:
        """Bytes held now."""
        return self._lru.weight

    def __len__(self) -> int:
        return len(self._lru)


def make_cache(url: str | None, extensions: Sequence[Extension] = (), local_mb: float = LOCAL_MB) -> BaseCache:
    """An in-process cache (default, `local_mb` megabytes), a Redis cache (redis://…), or none
    ('null'). Both hold tagged JSON (data_layer/cache_codec.py, with `extensions` for further
    types), never pickles: an entry Redis holds that the codec cannot read is a miss. The in-process
    cache stores the same JSON as Redis, so what a value keeps through the cache (a frame's dtypes
    and attrs; a value the codec cannot hold is not cached) is the same in the embedded default, in
    the tests and on a Redis deployment."""
    if not url or url in ("simple", "memory", "local"):
        return LocalCache(int(local_mb * 2**20), Codec(extensions))
    if url in ("null", "none", "off"):
        return NullCache()
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from cachelib import RedisCache

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        cache = RedisCache(host=client, key_prefix="hospdash:", default_timeout=RESULT_TTL)
        cache.serializer = Codec(extensions)  # type: ignore[assignment]  # the serializer cachelib calls
        return cache
    raise UserError(f"unsupported CACHE_URL {url!r}: leave it empty (in-process), or use redis://host:port/db")


def cache_capacity(cache: BaseCache) -> int | None:
    """How many bytes of results `cache` holds before it drops some: the in-process cache's budget,
    Redis's `maxmemory`; None when unbounded or not known (a Redis that does not say)."""
    if isinstance(cache, LocalCache):
        return cache.budget
    client = getattr(cache, "_write_client", None)
    if client is None:
        return None
    try:
        limit = int(client.info("memory").get("maxmemory") or 0)
    except Exception as exc:  # noqa: BLE001 - a Redis that refuses INFO: not known
        log.debug("cache capacity: %s", exc)
        return None
    return limit or None


class Warehouse:
    """A read-only warehouse with its result cache. Create one per app (or command)."""

    def __init__(self, url: str, cache: BaseCache | None = None, *, read_only: bool = True,
                 engine: Engine | None = None, use_summaries: bool = True, concurrency: int | None = None,
                 key_salt: str = ""):
        self.url = url
        self.key_salt = key_salt  # part of every cache key: the settings pages show (shell/settings.SHOWN)
        self.use_summaries = use_summaries  # read the summary tables when they are current
        self.engine = engine or make_engine(url, read_only=read_only)
        self.cache = cache if cache is not None else make_cache(None)
        backend = self.engine.dialect.name
        self.concurrency = max(1, concurrency if concurrency is not None else CONCURRENCY.get(backend, 1))
        # the process's spare connections for side-by-side statements, shared by every request: a lone
        # request gets them all, a busy process (every slot taken) runs each answer's statements in turn
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._flights: dict[str, list] = {}  # key -> [lock, callers]: one computation per key at a time
        self._flights_lock = threading.Lock()
        self._here = Lru(HERE_SIZE)  # see `here`
        self.on_new_data: list[Callable[[Freshness], None]] = []  # called when a new load (or its summaries) appears

    @property
    def display_url(self) -> str:
        return redact(self.url)

    def frame(self, stmt: Select, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run a SELECT (with values for its bound parameters, if any) and return its rows;
        database errors become WarehouseError."""
        names, rows = self.rows(stmt, params)
        return pd.DataFrame(rows, columns=names)

    def rows(self, stmt: Select, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run a SELECT (with values for its bound parameters, if any) and return its column names
        and rows as plain tuples (pandas probes each Row's attributes, which SQLAlchemy answers by
        raising), for code that builds its own arrays rather than a DataFrame; database errors
        become WarehouseError."""
        with translate_errors(self.url), self.engine.connect() as conn:
            result = conn.execute(stmt, params)
            return list(result.keys()), [tuple(r) for r in result.fetchall()]

    def scalar(self, stmt: Select) -> Any:
        with translate_errors(self.url), self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def freshness(self) -> Freshness:
        """The freshness stamp, re-read from meta_load at most every FRESHNESS_TTL seconds; within
        one request (one_freshness), the one it first gave."""
        seen = _FRESH.get()
        if seen is not None and (mine := seen.get(id(self))) is not None:
            return mine
        fresh = self._freshness()
        if seen is not None:
            seen[id(self)] = fresh
        return fresh

    def _freshness(self) -> Freshness:
        entry = self._safe_get("freshness")
        if entry is not None and time.time() - entry[0] < FRESHNESS_TTL:
            return entry[1]
        with translate_errors(self.url), self.engine.connect() as conn:
            row = conn.execute(select(meta_load.c.loaded_at, meta_load.c.data_through)
                               .order_by(meta_load.c.loaded_at.desc()).limit(1)).first()
        loaded_at, through = (row[0], row[1]) if row else (None, None)
        previous = entry[1] if entry is not None else None
        if previous is not None and previous.loaded_at == loaded_at and previous.data_through == through:
            fresh = previous
            if not fresh.summarized and self.use_summaries:  # summaries are built after the load they follow
                fresh = replace(fresh, summarized=self._summarized())
        else:
            fresh = self._data_range(loaded_at, through)
        self._safe_set("freshness", (time.time(), fresh), timeout=0)
        if previous is None or previous.stamp != fresh.stamp or previous.summarized != fresh.summarized:
            for listener in list(self.on_new_data):
                try:
                    listener(fresh)
                except Exception:  # noqa: BLE001 - a listener (the warm-up) must never fail a page
                    log.exception("new-data listener failed")
        return fresh

    def _data_range(self, loaded_at: datetime | None, through: date | None) -> Freshness:
        from .periods import month_end

        with translate_errors(self.url), self.engine.connect() as conn:
            first_ip = conn.execute(select(func.min(fact_inpatient_case.c.discharge_date))).scalar()
            first_op = conn.execute(select(func.min(fact_outpatient_daily.c.date))).scalar()
            last_month = conn.execute(select(func.max(fact_dept_cost_monthly.c.month_start))).scalar()
        firsts = [as_date(d) for d in (first_ip, first_op) if d is not None]
        lm = as_date(last_month)
        return Freshness(as_datetime(loaded_at), as_date(through), min(firsts) if firsts else None,
                         month_end(lm) if lm else None, self.use_summaries and self._summarized())

    def _summarized(self) -> bool:
        from .summaries import summaries_current

        try:
            with self.engine.connect() as conn:
                return summaries_current(conn)
        except Exception as exc:  # noqa: BLE001 - without summaries the facts answer, more slowly
            log.info("summary tables not checked: %s", exc)
            return False

    def capabilities(self) -> Capabilities:
        """What of contract version 2 this warehouse can give: its version 2 columns that exist and
        hold a value, and its version 2 tables that exist and have rows. Read once per load."""
        return Capabilities(frozenset(self.remember(("capabilities",), self._capabilities)))

    def _capabilities(self) -> list[str]:
        from sqlalchemy import inspect

        from .schema import V2_COLUMNS, V2_TABLES, metadata

        with translate_errors(self.url):
            insp = inspect(self.engine)
            existing = set(insp.get_table_names()) | set(insp.get_view_names())  # views: a mapped warehouse
            have: list[str] = []
            with self.engine.connect() as conn:
                # "holds a value somewhere": the first row found ends each look (a count read every row)
                for name in sorted(V2_TABLES & existing):
                    if conn.execute(select(literal(1)).select_from(metadata.tables[name]).limit(1)).first():
                        have.append(name)
                for name, cols in V2_COLUMNS.items():
                    if name not in existing:
                        continue
                    present = {c["name"] for c in insp.get_columns(name)}
                    table = metadata.tables[name]
                    mine = [c for c in cols if c in present]
                    if not mine:
                        continue
                    found = conn.execute(select(*[
                        select(literal(1)).select_from(table).where(table.c[c].is_not(None)).limit(1)
                        .scalar_subquery() for c in mine])).one()
                    have += [f"{name}.{c}" for c, n in zip(mine, found, strict=True) if n]
        return sorted(have)

    def remember(self, parts: tuple, compute: Callable[[], Any], ttl: int | None = None, here: bool = False) -> Any:
        """A result kept in the cache under `parts`, the freshness stamp (so a new load replaces
        it), the code's (an upgrade too: cache_codec.code_stamp) and `key_salt` (the settings the
        pages show), for `ttl` seconds at most; `compute()` when it is not there (a compute
        returning `Unkept(value)`: `value`, not kept).
        DataFrames come back as copies, so a caller may change what it gets. `here`: the process
        also keeps the result as it was read (see `here`), for a small one that nearly every
        request asks for."""
        key = self._key(parts)
        hit = self._here.get(key) if here else None
        if hit is None:
            hit = self._safe_get(key)
            if hit is None:
                hit = self._compute_once(key, compute, ttl)
                if isinstance(hit, Unkept):
                    return hit.value
            if here:
                self._here.put(key, hit, ttl or RESULT_TTL)
        return hit.copy() if isinstance(hit, pd.DataFrame) else hit

    def here(self, parts: tuple, compute: Callable[[], Any]) -> Any:
        """A value derived from cached results (a lookup table, say), kept in this process only
        under `parts` and the freshness stamp, among the HERE_SIZE most recently used: no shared
        cache round trip and no decoding. What it returns is shared: the caller must not change it."""
        return self._here.get_or_make("h:" + self._key(parts), compute, RESULT_TTL)

    def _key(self, parts: tuple) -> str:
        return "q:" + hashlib.sha256(repr((*parts, self.freshness().stamp, code_stamp(), self.key_salt)).encode()
                                     ).hexdigest()

    def lookup(self, parts: tuple) -> Any:
        """The result kept under `parts` (as `remember` keys it), or None."""
        return self._safe_get(self._key(parts))

    def keep(self, parts: tuple, value: Any, ttl: int | None = None) -> None:
        """Keep `value` under `parts` (as `remember` would), for `ttl` seconds at most."""
        self._safe_set(self._key(parts), value, timeout=ttl)

    def _compute_once(self, key: str, compute: Callable[[], Any], ttl: int | None) -> Any:
        """compute() and keep it, once for every caller in this process asking for `key` at the same
        time (two panels of one screen, two viewers of one wall, the warm-up and a viewer): the
        others wait for the first and read its result."""
        with self._flights_lock:
            flight = self._flights.setdefault(key, [threading.RLock(), 0])
            flight[1] += 1
        try:
            with flight[0]:
                hit = self._safe_get(key)
                if hit is None:
                    hit = compute()
                    if not isinstance(hit, Unkept):
                        self._safe_set(key, hit, timeout=ttl)
                return hit
        finally:
            with self._flights_lock:
                flight[1] -= 1
                if flight[1] == 0:
                    self._flights.pop(key, None)

    def gather(self, thunks: Sequence[Callable[[], R]]) -> list[R]:
        """Each thunk's result, in order, run side by side (each on its own connection from the pool,
        with the caller's context: its request, its user) on as many of the process's `concurrency`
        spare slots as are free now, without waiting for one: a request alone in its process gets
        them all, and under load, when the machine's cores are busy anyway, statements run in turn
        rather than crowding the database. Serial where the backend gains nothing (CONCURRENCY), for
        a single thunk, inside a thunk already gathered, and in the warm-up (which must not take
        the slots from requests). The first exception raised is raised again once every thunk
        has finished."""
        if self.concurrency <= 1 or len(thunks) <= 1 or _GATHERING.get() or SERIAL.get():
            return [f() for f in thunks]
        got = 0
        while got < min(self.concurrency, len(thunks)) and self._slots.acquire(blocking=False):
            got += 1
        if got == 0:
            return [f() for f in thunks]

        def run(f: Callable[[], R]) -> R:
            _GATHERING.set(True)
            return f()

        try:
            with ThreadPoolExecutor(max_workers=got, thread_name_prefix="hospdash-gather") as pool:
                futures = [pool.submit(contextvars.copy_context().run, run, f) for f in thunks]
        finally:
            for _ in range(got):
                self._slots.release()
        return [f.result() for f in futures]

    def _safe_get(self, key: str) -> Any:
        try:
            return self.cache.get(key)
        except Exception as exc:  # a cache that is down must not take the app down
            log.warning("cache read failed: %s", exc)
            return None

    def _safe_set(self, key: str, value: Any, timeout: int | None = None) -> None:
        try:
            self.cache.set(key, value, timeout=timeout)
        except Exception as exc:
            log.warning("cache write failed: %s", exc)


@contextlib.contextmanager
def one_freshness() -> Iterator[None]:
    """Within the block (a request: app.py wraps each in it), each warehouse's freshness is read once and
    the same stamp keys every answer; the threads of Warehouse.gather share it (they run in copies
    of the caller's context). A load that lands meanwhile is seen by the next request."""
    token = _FRESH.set({})
    try:
        yield
    finally:
        _FRESH.reset(token)


def memoized(fn: Callable[..., R] | None = None, *, ttl: int | None = None, here: bool = False) -> Any:
    """Cache a query function's result, keyed by function, scope, parameters and freshness.

    The wrapped function takes (wh: Warehouse, scope: Scope, ...): the scope is required.
    `@memoized(ttl=SECONDS)` keeps a result for that long at most (for figures that change
    without a new meta_load row, such as the live feed); plain `@memoized` until evicted.
    `@memoized(here=True)`: each process also keeps the result decoded (Warehouse.remember),
    for a small table nearly every request reads (the departments).
    """
    if fn is None:
        return lambda f: memoized(f, ttl=ttl, here=here)

    @functools.wraps(fn)
    def wrapper(wh: Warehouse, scope: Scope, *args: Any, **kwargs: Any) -> R:
        if not isinstance(scope, Scope):
            raise TypeError(f"{fn.__name__} needs a Scope, got {type(scope).__name__}")
        return wh.remember((fn.__module__, fn.__qualname__, scope.key, args, sorted(kwargs.items())),
                           lambda: fn(wh, scope, *args, **kwargs), ttl, here)

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper

