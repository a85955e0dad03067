"""Two users creating the same monthly draft at once, with real threads against real SQLite,
PostgreSQL and MariaDB application databases: both get the one draft, nobody an error."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, select

from appdb.reports import create_draft
from appdb.schema import reports
from appdb.store import AppDB
from data_layer.scope import Scope

from .conftest import MARIA_ADMIN, PG_ADMIN, server_database

MONTH = date(2026, 10, 1)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def race_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppDB]:
    """A migrated, empty application database on each backend."""
    if request.param == "sqlite":
        db = AppDB(f"sqlite:///{tmp_path / 'app.sqlite'}")
        db.migrate()
        yield db
        db.engine.dispose()
        return
    admin_url, what = {"postgresql": (PG_ADMIN, "PostgreSQL at 127.0.0.1:5432"),
                       "mariadb": (MARIA_ADMIN, "MariaDB at 127.0.0.1:3306")}[request.param]
    with server_database(admin_url, what) as url:
        db = AppDB(url)
        db.migrate()
        try:
            yield db
        finally:
            db.engine.dispose()


def _race(db: AppDB, users: int) -> tuple[list[dict], list[BaseException]]:
    """`users` threads create the D001 draft for MONTH at once: each reads "no draft yet", then
    all insert together (a barrier holds each insert until every thread has read)."""
    barrier = threading.Barrier(users, timeout=20)
    waited: set[int] = set()

    @event.listens_for(db.engine, "before_cursor_execute")
    def together(_conn, _cursor, statement, *_args) -> None:
        me = threading.get_ident()
        if statement.lstrip().upper().startswith("INSERT INTO REPORTS") and me not in waited:
            waited.add(me)
            barrier.wait()

    results: list[dict] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results.append(create_draft(db, Scope.hospital(), "D001", "C1", MONTH, {"data_stamp": f"s{i}"},
                                        [{"problem": f"p{i}", "cause": "", "suggestion": ""}], f"user{i}"))
        except BaseException as exc:  # noqa: BLE001 - the test reports what each thread met
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    event.remove(db.engine, "before_cursor_execute", together)
    return results, errors


def test_racing_users_get_the_one_draft_the_first_created(race_db: AppDB) -> None:
    results, errors = _race(race_db, 2)
    assert errors == []
    assert len(results) == 2 and results[0]["id"] == results[1]["id"]
    with race_db.engine.connect() as conn:
        rows = conn.execute(select(reports.c.id, reports.c.revision, reports.c.status)).fetchall()
    assert [(r.revision, r.status) for r in rows] == [(1, "draft")]
