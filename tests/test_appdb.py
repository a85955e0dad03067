"""The application database: migrations, users, password policy, stale edits, the command line."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from appdb.migrate import current_revision, head_revision
from appdb.store import AppDB, PasswordPolicyError, StaleEdit, password_problem
from data_layer.errors import UserError

from .conftest import PG_ADMIN, server_unavailable

ROOT = Path(__file__).resolve().parents[1]
PW = "Passw0rd-long-2026"


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    name = f"hospdash_app_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        server_unavailable("PostgreSQL at 127.0.0.1:5432", exc)
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migrations_build_an_empty_database_and_rerun_as_a_no_op(app_db_url: str) -> None:
    db = AppDB(app_db_url)
    assert current_revision(db.engine) is None
    head = head_revision(db.engine)
    assert db.migrate() == head == "0005"
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
    assert db.migrate() == "0005"
    assert db.get(user.id) == user and db.audit_entries(username="early.bird")
    db.engine.dispose()


@pytest.mark.parametrize(("password", "rule"), [("short1", "too_short"), ("onlyletterslong", "needs_letter_digit"),
                                                ("12345678901", "needs_letter_digit"),
                                                ("zhang.wei2026x", "contains_username"), ("password1", "too_short"),
                                                ("Qwerty123!!x", None)])
def test_password_policy(password: str, rule: str | None) -> None:
    assert password_problem(password, "zhang.wei") == rule


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
