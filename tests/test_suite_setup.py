"""The suite's own set-up: passwords outside the suite are hashed at full cost, inside it at the
low test cost (tests/conftest.py); tests sharing an outside resource are grouped on one worker."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PASSWORD, TEST_PASSWORD_METHOD

ROOT = Path(__file__).resolve().parents[1]


def _stored_hash(db) -> str:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return conn.execute(text("SELECT password_hash FROM users")).scalar()


def test_production_hashes_passwords_at_full_scrypt_cost(tmp_path: Path) -> None:
    """A process outside the suite (nothing patched) stores werkzeug's full-cost scrypt hash."""
    code = ("import sys; from sqlalchemy import text; from appdb.store import AppDB; db = AppDB(sys.argv[1]); "
            "db.migrate(); db.create_user('u.one', 'U', sys.argv[2], 'admin', 'none'); "
            "conn = db.engine.connect(); print(conn.execute(text('SELECT password_hash FROM users')).scalar())")
    done = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 'a.sqlite'}", PASSWORD], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("scrypt:32768:8:1$"), done.stdout


def test_the_suite_hashes_at_the_low_test_cost_and_still_checks(tmp_path: Path) -> None:
    from appdb.store import AppDB

    db = AppDB(f"sqlite:///{tmp_path / 'a.sqlite'}")
    db.migrate()
    db.create_user("u.one", "U", PASSWORD, "admin", "none")
    assert _stored_hash(db).startswith(TEST_PASSWORD_METHOD + "$")
    assert db.authenticate("u.one", PASSWORD, "127.0.0.1")[1] == "ok"
    assert db.authenticate("u.one", PASSWORD + "x", "127.0.0.1")[1] == "bad_password"
    db.engine.dispose()


@pytest.mark.parametrize(("nodeid", "group"), [
    ("tests/test_deploy.py::test_a_stranger_is_sent_to_login", "redis"),
    ("tests/test_cache.py::test_results_are_shared_through_redis", "redis"),
    ("tests/test_clickhouse.py", "clickhouse"),
])
def test_tests_sharing_an_outside_resource_share_a_worker(request: pytest.FixtureRequest, nodeid: str,
                                                          group: str) -> None:
    items = [i for i in request.session.items if i.nodeid.startswith(nodeid)]
    if not items:
        pytest.skip(f"{nodeid} is not collected in this run")
    for item in items:
        assert [m.args[0] for m in item.iter_markers("xdist_group")] == [group], item.nodeid
