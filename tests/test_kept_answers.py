"""Kept answers (pages/_kit.kept_answer) last until the next load, so they may show nothing their key
does not hold: an answer whose building read the application database is answered but not kept
(every test checks no page does: tests/conftest.py), one that shows live state says so and is kept
as briefly as it asks, and the wall clock is read only where that is accounted for. An upgrade
never reads what the old code kept (the code's digest is in every key)."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appdb.alerts import list_alerts
from data_layer.cache_codec import code_digest, code_stamp
from data_layer.scope import Scope

from .conftest import UNKEPT

ROOT = Path(__file__).resolve().parents[1]


def _ask(lang: str = "en"):
    from pages._kit import Ask

    return Ask(lang, Scope.hospital(), None, None, None)


@pytest.mark.keeps_unkept
def test_an_answer_built_from_the_application_database_is_answered_but_not_kept(
        server, as_user, _kept_answers_show_only_their_key) -> None:
    from pages._kit import kept_answer

    db = server.extensions["hospdash"].appdb
    built: list[str] = []

    def from_the_app_db() -> list[str]:
        built.append("app")
        return [str(len(list_alerts(db, Scope.hospital(), limit=5)))]

    def from_its_key() -> list[str]:
        built.append("key")
        return ["the same for everyone"]

    with as_user("lead1"):
        for _ in range(2):
            assert kept_answer(_ask(), "test.app", (), from_the_app_db) == ["0"]
            assert kept_answer(_ask(), "test.key", (), from_its_key) == ["the same for everyone"]
            assert kept_answer(_ask(), "test.live", (), from_the_app_db, ttl=30, live=True) == ["0"]
    # built twice when it read the application database; once otherwise, and once when it says it is live
    assert built == ["app", "key", "app", "app"]
    seen = _kept_answers_show_only_their_key.seen
    assert len(seen) == 2 and all("test.app" in s and UNKEPT in s for s in seen), seen


def test_a_kept_answer_lasts_until_the_next_load_not_ten_minutes(server, as_user, monkeypatch) -> None:
    """An answer kept after the night's warm-up is still there in the afternoon; a day is the limit."""
    import data_layer.lru as lru
    from pages._kit import kept_answer

    clock = [0.0]
    real = lru.time.monotonic

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return real() + clock[0]

    monkeypatch.setattr(lru, "time", Clock)
    built: list[int] = []

    def build() -> list[int]:
        built.append(1)
        return [len(built)]

    with as_user("lead1"):
        assert kept_answer(_ask(), "test.day", (), build) == [1]
        clock[0] = 9 * 3600  # from the warm-up at 1 a.m. to 10 a.m.
        assert kept_answer(_ask(), "test.day", (), build) == [1]
        clock[0] = 25 * 3600  # past the day's limit: built again
        assert kept_answer(_ask(), "test.day", (), build) == [2]


def test_the_code_digest_keys_every_result(server, as_user, monkeypatch, tmp_path: Path) -> None:
    """After an upgrade the new code never reads what the old one kept in a shared cache: its digest
    is part of every key, and it changes with any file of the app's packages."""
    import data_layer.warehouse as warehouse

    for package in ("data_layer", "pages"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "a.py").write_text("A = 1\n")
    before = code_digest(tmp_path, ("data_layer", "pages"))
    assert before == code_digest(tmp_path, ("data_layer", "pages"))
    (tmp_path / "pages" / "a.py").write_text("A = 2\n")
    changed = code_digest(tmp_path, ("data_layer", "pages"))
    (tmp_path / "pages" / "b.json").write_text("{}")
    assert len({before, changed, code_digest(tmp_path, ("data_layer", "pages"))}) == 3
    assert len(code_stamp()) == 16

    wh = server.extensions["hospdash"].warehouse
    built: list[str] = []
    with as_user("lead1"):
        assert wh.remember(("test.code",), lambda: built.append("old") or "old") == "old"
        assert wh.remember(("test.code",), lambda: built.append("old") or "old") == "old"
        monkeypatch.setattr(warehouse, "code_stamp", lambda: "an-upgrade")
        assert wh.remember(("test.code",), lambda: built.append("new") or "new") == "new"
    assert built == ["old", "new"]


def test_the_code_stamp_is_the_code_the_process_loaded(tmp_path: Path) -> None:
    """gunicorn forks its workers from a master that loaded the code (and forks again when it
    recycles one): a worker's stamp must be the master's, even once an upgrade has put new files
    on disk, or it would keep the old code's answers under the new code's stamp."""
    from data_layer.cache_codec import OWN_PACKAGES

    for package in OWN_PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))

    def stamp_of(script: str) -> list[str]:
        ran = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.split()

    fresh = "from data_layer.cache_codec import code_stamp; print(code_stamp())"
    [before] = stamp_of(fresh)
    # a master imports the code, an upgrade writes new files, then the master forks a worker
    child, parent = stamp_of("import os; import data_layer.cache_codec as codec\n"
                             "open(os.path.join('pages', 'new.py'), 'w').write('NEW = 1')\n"
                             "pid = os.fork()\n"
                             "if pid == 0:\n    print(codec.code_stamp(), flush=True); os._exit(0)\n"
                             "os.waitpid(pid, 0); print(codec.code_stamp())")
    assert child == parent == before
    [after] = stamp_of(fresh)  # a process started on the new files has the new stamp
    assert after != before


def test_every_setting_is_either_shown_or_not() -> None:
    """A setting a page shows (or computes what it shows with) is part of every cache key; whoever
    adds a setting says which it is."""
    from dataclasses import fields

    from shell.settings import NOT_SHOWN, SHOWN, Settings

    assert not set(SHOWN) & set(NOT_SHOWN)
    assert set(SHOWN) | set(NOT_SHOWN) == {f.name for f in fields(Settings)}


def test_a_changed_setting_is_not_answered_from_what_the_old_value_kept(app_env: dict[str, str]) -> None:
    """Two apps over one shared cache, as before and after a restart that changed a shown setting:
    the equipment page's saturation rule and the walls' kept layouts (their refresh) are built
    anew; a setting not shown (the port) keeps sharing."""
    from app import create_app

    shared = create_app(app_env).extensions["hospdash"].cache

    def warehouse(**extra: str):
        state = create_app({**app_env, **extra}).extensions["hospdash"]
        state.cache = shared  # one cache for every app, as Redis would be
        return state.warehouse

    before, port, saturation, refresh = (warehouse(**extra) for extra in (
        {}, {"PORT": "8123"}, {"EQUIPMENT_SATURATION": "0.7"}, {"WALL_REFRESH_SECONDS": "120"}))
    built: list[str] = []
    assert before.remember(("test.setting",), lambda: built.append("before") or "before") == "before"
    assert port.remember(("test.setting",), lambda: built.append("port") or "port") == "before"
    assert saturation.remember(("test.setting",), lambda: built.append("0.7") or "0.7") == "0.7"
    assert refresh.remember(("test.setting",), lambda: built.append("120") or "120") == "120"
    assert built == ["before", "0.7", "120"]


# Where the app's pages and components read the wall clock, and why none of it is kept for a day:
# (file, function) -> reason. A new reading must be added here, with its reason, by whoever adds it.
CLOCK = {
    ("pages/wall_campus.py", "live_tick"): "the live tick, part of the campus wall's key (live=True, ttl 2 ticks)",
    ("pages/wall_campus.py", "refresh"): "the campus wall's 'now' (live=True: keyed by the live tick)",
    ("pages/workspace/equipment.py", "_export_existing"): "an export (never kept), for an empty warehouse only",
    ("pages/workspace/reports.py", "send_to_subscribers"): "a report's sending time, written to the application database",
    ("pages/workspace/projects.py", "_export_list"): "an export's file name (never kept)",
    ("pages/_common.py", "export_heading"): "an export's heading (never kept)",
    ("components/wall.py", "is_stale"): "the freshness stamp's callback, answered every refresh (never kept)",
}
CLOCK_CALLS = {"now", "today", "time", "utcnow", "monotonic"}


def _clock_readings(path: Path) -> set[tuple[str, str]]:
    """(file, enclosing function) of every datetime.now()/date.today()/time.time()-like call."""
    tree = ast.parse(path.read_text())
    found: set[tuple[str, str]] = set()

    def walk(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                    and child.func.attr in CLOCK_CALLS and isinstance(child.func.value, ast.Name) \
                    and child.func.value.id in ("datetime", "date", "time", "systime"):
                found.add((str(path.relative_to(ROOT)), func))
            walk(child, name)

    walk(tree, "<module>")
    return found


def test_pages_read_the_wall_clock_only_where_it_is_accounted_for() -> None:
    found: set[tuple[str, str]] = set()
    for folder in ("pages", "components"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= _clock_readings(path)
    assert found == set(CLOCK), "a page reads the clock: if an answer kept until the next load shows it, " \
                                "make that answer live (pages/_kit.page_callback); then list it in CLOCK"
