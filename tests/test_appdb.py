"""The application database: migrations, users, password policy, stale edits, the command line."""
from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from appdb.migrate import current_revision, head_revision
from appdb.passwords import common_passwords
from appdb.store import (
    ACCOUNT_ALERT_FAILURES,
    ACCOUNT_DELAY_SECONDS,
    ADDRESS_MAX_FAILURES,
    LOCK_WINDOW,
    MAX_FAILURES,
    AppDB,
    PasswordPolicyError,
    StaleEdit,
    password_problem,
)
from data_layer.errors import UserError

from .conftest import MARIA_ADMIN, PG_ADMIN, server_unavailable

ROOT = Path(__file__).resolve().parents[1]
PW = "Passw0rd-long-2026"
# the newest migration on disk: the head every fresh database must reach
LATEST = max(p.name[:4] for p in (Path(__file__).parents[1] / "appdb/migrations/versions").glob("0*.py"))


def _app_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty application database of this kind: a SQLite file, or a new database on the local server."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    admin_url, what = {"postgresql": (PG_ADMIN, "PostgreSQL at 127.0.0.1:5432"),
                       "mariadb": (MARIA_ADMIN, "MariaDB at 127.0.0.1:3306")}[kind]
    name = f"hospdash_app_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        server_unavailable(what, exc)
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if kind == "postgresql" else "")))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _app_database(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def login_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppDB]:
    """A migrated application database with the director `dir_x` (password PW), on each backend."""
    for url in _app_database(request.param, tmp_path):
        db = AppDB(url)
        db.migrate()
        db.create_user("dir_x", "Director X", PW, "director", "departments", ["D001"])
        yield db
        db.engine.dispose()


def test_migrations_build_an_empty_database_and_rerun_as_a_no_op(app_db_url: str) -> None:
    db = AppDB(app_db_url)
    assert current_revision(db.engine) is None
    head = head_revision(db.engine)
    assert db.migrate() == head == LATEST
    assert {"users", "login_events", "audit_log", "alerts", "alert_notes", "kiosk_tokens", "appraisals", "projects",
            "reports", "sessions", "alembic_version"} <= set(
        inspect(db.engine).get_table_names())
    user = db.create_user("keep.me", "Keep", PW, "leader", "hospital")
    db.audit("login", "keep.me")
    assert db.migrate() == head  # again: nothing lost
    assert db.get(user.id) == user and db.audit_entries()
    db.engine.dispose()


def test_an_upgrade_keeps_the_data_of_the_earlier_schema(app_db_url: str) -> None:
    from alembic import command

    from appdb.migrate import alembic_config

    db = AppDB(app_db_url)
    cfg = alembic_config(db.engine)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert current_revision(db.engine) == "0001"
    user = db.create_user("early.bird", "Early", PW, "director", "departments", ["D001"])
    db.audit("login", "early.bird")
    assert db.migrate() == LATEST
    assert db.get(user.id) == user and db.audit_entries(username="early.bird")
    db.engine.dispose()


@pytest.mark.parametrize(("password", "rule"), [("short1", "too_short"), ("onlyletterslong", "needs_letter_digit"),
                                                ("12345678901", "needs_letter_digit"),
                                                ("zhang.wei2026x", "contains_username"), ("password1", "too_short"),
                                                ("Zhang-2026-abc", "contains_username"),
                                                ("Xiaoming-2026!", "contains_name"), ("xx-linxiaoming-42", "contains_name"),
                                                ("Password123", "common"), ("qwerty12345", "common"),
                                                ("PASSWORD123", "common"), ("woaini1314", "common"),
                                                ("Sunshine2026!", "common_base"), ("2026@hospital", "common_base"),
                                                ("Qwerty123!!x", None), ("Tr4in-Station-Blue", None)])
def test_password_policy(password: str, rule: str | None) -> None:
    assert password_problem(password, "zhang.wei", "Lin Xiaoming") == rule


def test_the_common_password_list_is_a_real_one() -> None:
    listed = common_passwords()
    assert len(listed) >= 10_000
    assert {"password123", "qwerty12345", "trustno1", "iloveyou1", "1qaz2wsx"} <= listed
    assert all(p == p.lower() for p in listed)


def test_a_display_name_in_chinese_is_part_of_the_name_rule(tmp_path: Path) -> None:
    db = AppDB(f"sqlite:///{tmp_path / 'a.sqlite'}")
    db.migrate()
    with pytest.raises(PasswordPolicyError) as refused:
        db.create_user("w.f", "王芳", "王芳-hospital-2026", "director", "departments", ["D001"])
    assert refused.value.code == "contains_name"
    user = db.create_user("w.f", "王芳", PW, "director", "departments", ["D001"])
    with pytest.raises(PasswordPolicyError, match="common password"):
        db.set_password(user.id, "Password123")


def test_passwords_are_hashed_with_scrypt(tmp_path: Path) -> None:
    db = AppDB(f"sqlite:///{tmp_path / 'a.sqlite'}")
    db.migrate()
    db.create_user("u.one", "U", PW, "admin", "none")
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar()
    assert stored.startswith("scrypt:") and PW not in stored


@pytest.mark.parametrize(("role", "kind", "ids", "message"), [
    ("director", "hospital", (), "takes a scope of departments"),
    ("leader", "campus", (), "names at least one id"),
    ("admin", "none", ("D001",), "names no ids"),
    ("boss", "hospital", (), "unknown role"),
])
def test_role_and_scope_must_fit(tmp_path: Path, role: str, kind: str, ids: tuple, message: str) -> None:
    db = AppDB(f"sqlite:///{tmp_path / 'a.sqlite'}")
    db.migrate()
    with pytest.raises(UserError, match=message):
        db.create_user("someone", "S", PW, role, kind, ids)


def test_a_stale_edit_is_refused_and_loses_nothing(tmp_path: Path) -> None:
    db = AppDB(f"sqlite:///{tmp_path / 'a.sqlite'}")
    db.migrate()
    user = db.create_user("zhao", "Z", PW, "assistant", "departments", ["D001"])
    first = db.update_role_scope(user.id, "assistant", "departments", ["D001", "D002"], expected_version=user.version)
    with pytest.raises(StaleEdit, match="someone else changed"):
        db.update_role_scope(user.id, "director", "departments", ["D003"], expected_version=user.version)
    assert db.get(user.id).scope_ids == first.scope_ids == ("D001", "D002")
    with pytest.raises(PasswordPolicyError):
        db.set_password(user.id, "short")


def _cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appdb", "--url", url, *args], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=120)


def test_command_line_manages_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert _cli(url, "create", "li.na", "--name", "李娜", "--role", "director", "--scope", "departments",
                "--ids", "D001", "--password-stdin", stdin=PW + "\n").returncode == 0
    assert _cli(url, "set-role", "li.na", "--role", "assistant", "--scope", "departments",
                "--ids", "D001,D002").returncode == 0
    assert _cli(url, "set-password", "li.na", "--password-stdin", stdin="Another-pass-77\n").returncode == 0
    assert _cli(url, "deactivate", "li.na").returncode == 0
    listing = _cli(url, "list").stdout
    assert "li.na" in listing and "assistant" in listing and "D001,D002" in listing and "inactive" in listing
    bad = _cli(url, "create", "x.y", "--role", "director", "--scope", "departments", "--ids", "D1",
               "--password-stdin", stdin="short\n")
    assert bad.returncode == 2 and bad.stderr.startswith("error: the password needs at least 10 characters")
    missing = _cli(url, "deactivate", "nobody")
    assert missing.returncode == 2 and "no user 'nobody'" in missing.stderr and "Traceback" not in missing.stderr


# ------------------------------------------------------------------ lock-out
T0 = datetime(2026, 11, 22, 9, 0)
ATTACKER, OWNER = "203.0.113.66", "10.20.30.40"


def _fail(db: AppDB, name: str, ip: str, at: datetime) -> str:
    return db.authenticate(name, "wrong-guess-2026", ip, now=at, pause=lambda _s: None)[1]


def test_an_attacker_locks_only_their_own_address_not_the_owner(login_db: AppDB) -> None:
    for i in range(MAX_FAILURES + 3):
        _fail(login_db, "dir_x", ATTACKER, T0 + timedelta(seconds=i))
    at = T0 + timedelta(seconds=20)
    assert login_db.authenticate("dir_x", PW, ATTACKER, now=at)[1] == "locked"  # the right password, wrong place
    user, reason = login_db.authenticate("dir_x", PW, OWNER, now=at)
    assert reason == "ok" and user.username == "dir_x"


def test_attempts_during_a_lock_neither_count_nor_extend_it(login_db: AppDB) -> None:
    for i in range(MAX_FAILURES):
        assert _fail(login_db, "dir_x", ATTACKER, T0 + timedelta(seconds=i)) == "bad_password"
    trigger = T0 + timedelta(seconds=MAX_FAILURES - 1)
    assert login_db.lockout_seconds("dir_x", ATTACKER, trigger) == LOCK_WINDOW.total_seconds()
    for minute in range(15):  # the attacker keeps trying all through the lock
        assert _fail(login_db, "dir_x", ATTACKER, trigger + timedelta(minutes=minute, seconds=30)) == "locked"
    assert login_db.lockout_seconds("dir_x", ATTACKER, trigger + timedelta(minutes=10)) == 5 * 60  # not moved
    reasons = [e["reason"] for e in login_db.logins("dir_x")]
    assert reasons.count("locked") == 15 and reasons.count("bad_password") == MAX_FAILURES
    ends = trigger + LOCK_WINDOW
    assert login_db.lockout_seconds("dir_x", ATTACKER, ends) == 0
    assert login_db.authenticate("dir_x", PW, ATTACKER, now=ends)[1] == "ok"


def test_an_address_trying_many_names_is_locked_for_all_of_them_until_the_cap(login_db: AppDB) -> None:
    names = ["dir_x", "lead_y", "nobody", "asst_z", "admin"]
    for i in range(ADDRESS_MAX_FAILURES):  # two tries a name: no name reaches its own limit
        assert _fail(login_db, names[i % len(names)], ATTACKER, T0 + timedelta(seconds=i)) == "bad_password"
    trigger = T0 + timedelta(seconds=ADDRESS_MAX_FAILURES - 1)
    assert login_db.authenticate("dir_x", PW, ATTACKER, now=trigger)[1] == "locked"
    for minute in range(14):
        assert _fail(login_db, f"other{minute}", ATTACKER, trigger + timedelta(minutes=minute, seconds=5)) == "locked"
    assert login_db.lockout_seconds("anyone", ATTACKER, trigger + timedelta(minutes=14)) == 60
    assert login_db.authenticate("dir_x", PW, OWNER, now=trigger)[1] == "ok"  # other addresses are not affected
    assert login_db.authenticate("dir_x", PW, ATTACKER, now=trigger + LOCK_WINDOW)[1] == "ok"


def test_many_addresses_failing_one_name_slow_wrong_answers_and_are_audited_but_never_lock(login_db: AppDB) -> None:
    waits: list[float] = []
    for i in range(ACCOUNT_ALERT_FAILURES + 2):  # four tries from each of three addresses: no pair locks
        reason = login_db.authenticate("dir_x", "wrong-guess-2026", f"198.51.100.{i // 4}",
                                       now=T0 + timedelta(seconds=i), pause=waits.append)[1]
        assert reason == "bad_password"
    assert waits == [ACCOUNT_DELAY_SECONDS] * 3  # from the ACCOUNT_ALERT_FAILURES-th failure on
    user, reason = login_db.authenticate("dir_x", PW, OWNER, now=T0 + timedelta(seconds=30), pause=waits.append)
    assert reason == "ok" and len(waits) == 3  # the owner's right password is not delayed
    [entry] = login_db.audit_entries(action="login_throttled")  # once, not once per attempt
    assert entry["username"] == "dir_x" and entry["detail"] == "10 failed sign-ins from 3 addresses in 15 minutes"


def test_the_command_line_says_why_a_password_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    common = _cli(url, "create", "x.y", "--role", "director", "--scope", "departments", "--ids", "D1",
                  "--password-stdin", stdin="Password123\n")
    assert common.returncode == 2 and common.stderr.startswith("error: the password is one of the most common")
