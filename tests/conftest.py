"""Shared fixtures: one small demo warehouse, generated once per session and loaded into
each backend (DuckDB and SQLite files; PostgreSQL and MariaDB on this machine).

The suite runs in parallel (pytest-xdist, `make test`): each worker is its own session, so it
builds its own warehouse files (under its own temporary folder) and its own server databases
(random names); browser tests serve on free ports (tests/helpers.serve). Tests that share
something outside the process are kept on one worker by `pytest_collection_modifyitems` below."""
from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from data_layer.demo import generate, write_truth, write_warehouse
from data_layer.demo.generate import DemoData
from data_layer.engine import make_engine
from data_layer.warehouse import Warehouse

THROUGH = date(2026, 11, 21)
NOW = datetime(2026, 11, 22, 10, 30)
SMALL = {"scale": 0.05, "years": 2, "seed": 7, "through": THROUGH, "now": NOW}

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIA_ADMIN = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The warm-up (shell/warmup.py) computes screens in background threads after an app's first
# request; test apps warm only where a test asks for it (tests/test_warmup.py), so no other test
# shares its warehouse or its statement counts with it.
os.environ.setdefault("WARMUP", "false")


def server_unavailable(what: str, exc: BaseException) -> None:
    """Fail in CI, skip elsewhere, with the same clear message."""
    msg = f"{what} is not reachable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    if IN_CI:
        pytest.fail(f"{msg}; CI needs it running", pytrace=False)
    pytest.skip(msg)


# Tests that share a resource outside the process, or an expensive one, run on one worker, one
# after another (`--dist loadgroup`, pyproject.toml): Redis databases 14 and 15 and the database
# test_deploy claims among 1-15 (test_deploy deletes every hospdash:* key of the one it claims,
# test_cache clears db 15); the two clickhouse-server processes test_clickhouse starts (once, not
# once per worker). Other module-scoped fixtures are cheap enough to build once per worker.
SHARED = {
    "redis": ("test_deploy.py::", "test_cache_codec.py::", "test_cache.py::test_results_are_shared_through_redis",
              "test_local_cache.py::test_redis_says_its_capacity"),  # (sets the server's maxmemory a moment)
    "clickhouse": ("test_clickhouse.py::",),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.split("/")[-1]
        if group := next((g for g, prefixes in SHARED.items() if nodeid.startswith(prefixes)), None):
            item.add_marker(pytest.mark.xdist_group(group))


# Test users hash their passwords at a low scrypt cost (n=2**10 instead of 2**15): the same code
# path, a fortieth of the time (about 0.13 s a hash or a sign-in at the full cost). The full cost
# stays the default; tests/test_suite_setup.py checks that a process outside the suite uses it.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    from appdb import store

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "PASSWORD_METHOD", TEST_PASSWORD_METHOD)
        yield


UNKEPT = "not kept: building it read the application database"


class _Unkept(logging.Handler):
    """Collects the kit's warnings that an answer or a layout was not kept because building it read
    the application database (pages/_kit.kept_answer, shell/layout._kept_layout)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if UNKEPT in record.getMessage():
            self.seen.append(record.getMessage())


@pytest.fixture(autouse=True)
def _kept_answers_show_only_their_key(request: pytest.FixtureRequest) -> Iterator[_Unkept]:
    """Every test, through every page and callback it drives, checks that no kept answer or layout
    read the application database while it was built: what that database holds changes without a
    load, and answers are kept until the next load. A test that builds one on purpose is marked
    keeps_unkept."""
    handler = _Unkept()
    logger = logging.getLogger("hospdash")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
    if handler.seen and request.node.get_closest_marker("keeps_unkept") is None:
        pytest.fail("answers built from the application database, which their keys do not hold:\n"
                    + "\n".join(sorted(set(handler.seen))), pytrace=False)


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    return generate(**SMALL)


def _file_warehouse(demo_data: DemoData, folder: Path, name: str, backend: str) -> str:
    url = f"{backend}:///{folder / name}"
    engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def duck_url(demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("wh")
    url = _file_warehouse(demo_data, folder, "small.duckdb", "duckdb")
    write_truth(folder / "small.anomalies.json", demo_data.anomalies, demo_data.params)
    return url


@pytest.fixture(scope="session")
def v1_url(demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same small hospital as a contract version 1 warehouse: no version 2 table or column."""
    url = f"duckdb:///{tmp_path_factory.mktemp('wh') / 'small-v1.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False, version=1)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_url(demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory) -> str:
    return _file_warehouse(demo_data, tmp_path_factory.mktemp("wh"), "small.sqlite", "sqlite")


@contextmanager
def server_database(admin_url: str, what: str) -> Iterator[str]:
    """A new empty database on a local server, dropped afterwards; skipped (failed in CI) when the server is down."""
    name = f"hospdash_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))  # name is generated above, never input
    except Exception as exc:
        server_unavailable(what, exc)
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def _server_database(admin_url: str, what: str, demo_data: DemoData) -> Iterator[str]:
    with server_database(admin_url, what) as url:
        engine = make_engine(url)
        try:
            write_warehouse(engine, demo_data.tables, progress=False)
            engine.dispose()
            yield url
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_url(demo_data: DemoData) -> Iterator[str]:
    yield from _server_database(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", demo_data)


@pytest.fixture(scope="session")
def mariadb_url(demo_data: DemoData) -> Iterator[str]:
    yield from _server_database(MARIA_ADMIN, "MariaDB at 127.0.0.1:3306", demo_data)


@pytest.fixture(scope="session")
def wh(duck_url: str) -> Warehouse:
    """The small demo warehouse on DuckDB, with a fresh in-process cache."""
    return Warehouse(duck_url)


@pytest.fixture(params=["duckdb", "sqlite", "postgresql", "mariadb"])
def any_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue({"duckdb": "duck_url", "sqlite": "sqlite_url", "postgresql": "postgres_url",
                                    "mariadb": "mariadb_url"}[request.param])


@pytest.fixture(scope="session")
def truth_path(duck_url: str) -> Path:
    return Path(duck_url.removeprefix("duckdb:///")).with_name("small.anomalies.json")


def texts(component) -> str:
    """All text inside a Dash component tree, or its JSON form as a callback returns it."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(texts(c) for c in component)
    if isinstance(component, dict):
        return texts(component.get("props", {}).get("children"))
    return texts(getattr(component, "children", None))


STRONG_KEY = "kT3v9Qx1Lm7Zp2Wc8Rb5Yn4Hd6Fs0Ja-u_EoGiXqVtNwMyKlPzRsC"


@pytest.fixture
def app_env(duck_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for an app over the small DuckDB warehouse, with its own data folder."""
    return {"WAREHOUSE_URL": duck_url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
            "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"}


PASSWORD = "Passw0rd-long-2026"
USERS = {  # username -> (role, scope kind, scope ids)
    "admin1": ("admin", "none", ()),
    "lead1": ("leader", "hospital", ()),
    "lead2": ("leader", "campus", ("C2",)),
    "dir1": ("director", "departments", ("D001",)),
    "asst1": ("assistant", "departments", ("D001", "D002", "D003")),
}


@pytest.fixture
def server(app_env: dict[str, str]):
    """The app over the small warehouse, with one user of each role (password PASSWORD)."""
    from app import create_app

    srv = create_app(app_env)
    db = srv.extensions["hospdash"].appdb
    for name, (role, kind, ids) in USERS.items():
        db.create_user(name, name, PASSWORD, role, kind, ids)
    return srv


def csrf_token(client) -> str:
    import re

    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, username: str, password: str = PASSWORD, next_url: str = ""):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(client),
                                       "next": next_url})


@pytest.fixture
def as_user(server):
    """A context manager: a request context signed in as the named user."""
    from contextlib import contextmanager

    from flask_login import login_user

    from shell.auth import SessionUser

    @contextmanager
    def ctx(username: str, lang: str = "en", path: str = "/"):
        user = server.extensions["hospdash"].appdb.get_by_username(username)
        with server.test_request_context(path, headers={"Accept-Language": lang}):
            login_user(SessionUser(user))
            yield user

    return ctx


def pytest_setup_options():
    """Chromium options for dash_duo: headless, sandbox-free, no background network."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--window-size=1920,1080"):
        options.add_argument(flag)
    return options


def pytest_sessionfinish(session, exitstatus) -> None:
    """Close every engine before the interpreter exits, so DuckDB's bindings do not report
    objects still alive at shutdown after pytest's summary line."""
    import gc

    from sqlalchemy import Engine

    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()
    gc.collect()
