"""Engines for warehouse URLs, with errors turned into one clear line."""
from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    NoSuchTableError,
    OperationalError,
    ProgrammingError,
)

from .errors import WarehouseError
from .inputs import clean_text

# Drivers we ship (requirements.txt) for each backend, for the "install a driver" hint.
_DRIVER_HINTS = {
    "duckdb": "duckdb-engine",
    "sqlite": "(built in)",
    "postgresql": "psycopg[binary] (use postgresql+psycopg://)",
    "mysql": "pymysql (use mysql+pymysql://)",
    "mariadb": "pymysql (use mariadb+pymysql://)",
    "clickhouse": "clickhouse-sqlalchemy (in requirements.txt; use clickhouse+native://)",
}
STATEMENT_TIMEOUT_MS = 60_000
_DEFAULT_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, filling in the driver this project ships when none is named."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise WarehouseError(
            f"cannot parse database URL {redact(str(url))!r}: expected e.g. "
            "duckdb:///data/warehouse.duckdb or postgresql://user@host/dbname"
        ) from None
    if "+" not in parsed.drivername and parsed.drivername in _DEFAULT_DRIVERS:
        parsed = parsed.set(drivername=f"{parsed.drivername}+{_DEFAULT_DRIVERS[parsed.drivername]}")
    return parsed


_PASSWORD = re.compile(r"(://[^:/@?#]+:)[^/?#]*@")  # user:password@ (greedy: a password may hold an unencoded @)
_SECRET_PARAM = re.compile(r"([?&][^=&#]*(?:pass|pwd|secret|token|key|auth|credential)[^=&#]*=)[^&#]*", re.IGNORECASE)


def redact(url: str | URL) -> str:
    """The URL with any secret hidden, for messages and logs: the password, and every query parameter
    whose name says it holds one (?password=…, ?sslkey=…)."""
    text = url.render_as_string(hide_password=True) if isinstance(url, URL) else str(url)
    return _SECRET_PARAM.sub(r"\1***", _PASSWORD.sub(r"\1***@", text))


def backend_name(url: str | URL) -> str:
    """'duckdb', 'sqlite', 'postgresql', 'mysql' or 'mariadb'."""
    return parse_url(url).get_backend_name()


def _mysql_limits(dbapi_conn, _record) -> None:
    """Read-only sessions on MariaDB or MySQL: a time limit on every statement (MariaDB:
    max_statement_time in seconds; MySQL: max_execution_time in milliseconds, SELECT only) and
    no writes. A server that refuses a setting keeps its default."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute("SELECT VERSION()")
        mariadb = "mariadb" in str(cur.fetchone()[0]).lower()
        limit = (f"SET SESSION max_statement_time = {STATEMENT_TIMEOUT_MS // 1000}" if mariadb
                 else f"SET SESSION max_execution_time = {STATEMENT_TIMEOUT_MS}")
        for stmt in (limit, "SET SESSION TRANSACTION READ ONLY"):
            with contextlib.suppress(Exception):  # an old server without the variable
                cur.execute(stmt)
    finally:
        cur.close()


def _sqlite_math(dbapi_conn, _record) -> None:
    """SQLite built without its math functions (SQLITE_ENABLE_MATH_FUNCTIONS) gets `ln` from Python:
    the alert detector reads a DRG group's stays on a log scale (drg_detail.stay_spread)."""
    try:
        dbapi_conn.execute("SELECT ln(1)")
    except Exception:  # noqa: BLE001 - sqlite3.OperationalError: no such function
        dbapi_conn.create_function("ln", 1, lambda x: math.log(x) if x is not None and x > 0 else None,
                                   deterministic=True)


def _storable(params: Any) -> Any:
    """Bound parameters with every string cleaned (data_layer.inputs.clean_text): a department id
    with a NUL byte matches nothing instead of making PostgreSQL refuse the query."""
    if isinstance(params, str):
        return clean_text(params)
    if isinstance(params, dict):
        return {k: _storable(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return type(params)(_storable(v) for v in params)
    return params


def _clean_parameters(_conn, _cursor, statement, parameters, _context, _executemany):  # noqa: ANN001, ANN202
    return statement, _storable(parameters)


def make_engine(url: str | URL, *, read_only: bool = False, echo: bool = False) -> Engine:
    """An engine for `url`; a file URL must exist when read-only."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict = {"echo": echo, "future": True}
    if backend in ("duckdb", "sqlite"):
        db = parsed.database
        if db and db != ":memory:":
            path = Path(db)
            if read_only and not path.exists():
                raise WarehouseError(
                    f"warehouse file {path} does not exist: build one with "
                    f"`python -m data_layer demo --out {redact(parsed)}` or set WAREHOUSE_URL"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        if backend == "duckdb" and read_only:
            kwargs["connect_args"] = {"read_only": True}
    else:
        kwargs.update(pool_pre_ping=True, pool_recycle=1800)
        if backend == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": 5}
            if read_only:  # a runaway query must not hold a page (or a worker) for ever; no writes at all
                own = parsed.query.get("options")  # e.g. -csearch_path=contract (a mapped warehouse, map apply)
                kwargs["connect_args"]["options"] = ((f"{own} " if isinstance(own, str) and own else "")
                                                     + f"-c statement_timeout={STATEMENT_TIMEOUT_MS} "
                                                     "-c default_transaction_read_only=on")
        elif backend in ("mysql", "mariadb"):
            kwargs["connect_args"] = {"connect_timeout": 5, "charset": "utf8mb4"}
        elif backend == "clickhouse":  # compatibility layer and per-query settings: data_layer/clickhouse.py
            from . import clickhouse

            parsed = parsed.update_query_dict({**clickhouse.QUERY_SETTINGS, **parsed.query})
            if read_only:
                parsed = parsed.update_query_dict({"max_execution_time": str(STATEMENT_TIMEOUT_MS // 1000)})
    try:
        engine = create_engine(parsed, **kwargs)
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_math)
        if read_only and backend in ("mysql", "mariadb"):
            event.listen(engine, "connect", _mysql_limits)
        if read_only:  # the warehouse: filter values come from addresses and callbacks
            event.listen(engine, "before_cursor_execute", _clean_parameters, retval=True)
    except NoSuchModuleError:
        hint = _DRIVER_HINTS.get(backend, "its SQLAlchemy dialect")
        raise WarehouseError(
            f"no SQLAlchemy driver for {parsed.drivername!r}: install {hint}"
        ) from None
    except (ImportError, ModuleNotFoundError) as exc:
        raise WarehouseError(f"the driver for {parsed.drivername!r} is not installed ({exc})") from None
    except ArgumentError as exc:
        raise WarehouseError(f"invalid database URL {redact(parsed)!r}: {exc}") from None
    return engine



def describe_db_error(exc: BaseException, url: str | URL | None = None) -> str:
    """One line that says what went wrong talking to a database and what to do."""
    where = f" at {redact(url)}" if url is not None else ""
    if isinstance(exc, NoSuchTableError):
        return f"the warehouse{where} has no table {exc}: run `python -m data_layer validate`"
    if isinstance(exc, DBAPIError):
        raw = str(exc.orig) if exc.orig is not None else str(exc)
        first = raw.strip().splitlines()[0] if raw.strip() else type(exc).__name__
        low = raw.lower()
        if _looks_like_missing_table(low):
            return (
                f"the warehouse{where} lacks a table or column the dashboard reads ({first}): "
                "run `python -m data_layer validate --url URL` for the full report"
            )
        if "statement timeout" in low or "canceling statement" in low or "max_statement_time" in low:
            return f"the warehouse{where} did not answer in time ({first}): try a shorter period or try again later"
        if isinstance(exc, OperationalError) or "connect" in low:
            return f"cannot reach the database{where}: {first}. Check that the server runs and the URL is right"
        if isinstance(exc, ProgrammingError):
            return f"the database{where} rejected a query: {first}"
        return f"database error{where}: {first}"
    return f"{type(exc).__name__}: {exc}"


def _looks_like_missing_table(low: str) -> bool:
    return any(
        s in low
        for s in (
            "no such table",
            "does not exist",
            "doesn't exist",
            "table with name",
            "no such column",
            "unknown column",
            "referenced column",
            "catalog error",
        )
    )


@contextmanager
def translate_errors(url: str | URL | None = None) -> Iterator[None]:
    """Re-raise database errors as WarehouseError with a clear message."""
    try:
        yield
    except WarehouseError:
        raise
    except (DBAPIError, NoSuchTableError) as exc:
        raise WarehouseError(describe_db_error(exc, url)) from exc


def analyze(engine: Engine, names: Iterable[str]) -> None:
    """Refresh the planner's statistics after a load, as a warehouse's loading job should
    (docs/data-dictionary.md): a server that has never analyzed a freshly copied table plans
    joins for one row and may repeat an aggregate once per device or department."""
    backend = engine.dialect.name
    quote = engine.dialect.identifier_preparer.quote_identifier  # a table name cannot be a bound parameter
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in names:
                conn.execute(text("ANALYZE " + quote(name)))
    elif backend in ("mysql", "mariadb"):
        with engine.begin() as conn:
            conn.execute(text("ANALYZE TABLE " + ", ".join(quote(n) for n in names)))
    elif backend in ("sqlite", "duckdb"):
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
