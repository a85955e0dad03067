"""Data quality, every day: each check finds the defect the demo injected (`demo --defects`) and is
quiet on the demo without defects; the nightly command records a run (and what it could not check
on a warehouse that is away or half loaded) and raises data-quality alerts; the page shows each
reader the findings of their scope in both languages; the mark beside the freshness stamp."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from data_layer.demo import generate, write_truth, write_warehouse
from data_layer.demo.defects import restate
from data_layer.engine import make_engine
from data_layer.quality import CHECKS, run_quality

from .conftest import SMALL, texts
from .helpers import post_callback, signed_in

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none"


@pytest.fixture(scope="module")
def defects_data():
    return generate(**SMALL, defects=True)


def _warehouse(data, folder: Path, backend: str = "duckdb") -> tuple[str, Path]:
    url = f"{backend}:///{folder / ('defects.' + backend)}"
    engine = make_engine(url)
    write_warehouse(engine, data.tables, progress=False)
    engine.dispose()
    truth = folder / "defects.anomalies.json"
    write_truth(truth, data.anomalies, data.params, data.defects)
    return url, truth


@pytest.fixture
def defects_url(defects_data, tmp_path: Path) -> tuple[str, Path]:
    return _warehouse(defects_data, tmp_path)


def _found(result, defect: dict) -> list:
    return [f for f in result.findings if f.check == defect["check"] and f.table == defect["table"]
            and (defect.get("dept_id") is None or f.dept_id == defect["dept_id"])]


def test_the_demo_without_defects_is_quiet(duck_url: str, sqlite_url: str) -> None:
    for url in (duck_url, sqlite_url):
        engine = make_engine(url, read_only=True)
        result = run_quality(engine)
        engine.dispose()
        assert result.findings == [], [(f.check, f.table, f.dept_id, f.examples[:1]) for f in result.findings]
        assert set(result.checked) == set(CHECKS), set(CHECKS) - set(result.checked)
        # what the contract cannot tell is said, not silently skipped
        assert {n.check for n in result.not_checked} == {"ambiguous_group", "missing_main_diagnosis"}


@pytest.mark.parametrize("backend", ["duckdb", "sqlite"])
def test_each_injected_defect_is_found(defects_data, tmp_path: Path, backend: str) -> None:
    url, truth = _warehouse(defects_data, tmp_path, backend)
    engine = make_engine(url)
    first = run_quality(engine)
    injected = {d["defect"]: d for d in defects_data.defects}
    assert set(injected) == {"late_table", "short_load", "missing_doctors", "unbalanced_components", "restatement"}
    late = _found(first, injected["late_table"])
    assert len(late) == 1 and late[0].level == "red" and late[0].detail["last"] == injected["late_table"]["last"]
    short = _found(first, injected["short_load"])
    assert short and short[0].level == "red" and short[0].detail["rows"] == injected["short_load"]["rows_after"]
    missing = _found(first, injected["missing_doctors"])
    assert len(missing) == 1 and missing[0].count >= injected["missing_doctors"]["cases"]
    unbalanced = [f for f in first.findings if f.check == "component_sums"]
    assert {f.dept_id for f in unbalanced} == set(injected["unbalanced_components"]["dept_ids"])
    assert sum(f.count for f in unbalanced) == injected["unbalanced_components"]["cases"]
    shown = {e["case_id"] for f in unbalanced for e in f.examples}
    assert shown == set(injected["unbalanced_components"]["case_ids"])
    # nothing else: every finding is one of the defects
    assert {f.check for f in first.findings} == {"freshness_table", "short_load", "missing_doctor", "component_sums"}
    assert not [f for f in first.findings if f.check == "restatement"]  # a first run has nothing to compare with
    # the restated closed month: found by the next run, against the first run's fingerprints
    done = restate(engine, truth)
    assert done["rows"] > 0 and json.loads(truth.read_text())["defects"][-1]["applied"] is True
    second = run_quality(engine, first.fingerprints)
    engine.dispose()
    restated = _found(second, injected["restatement"])
    assert len(restated) == 1 and [e["month"] for e in restated[0].examples] == [injected["restatement"]["month"]]
    assert restated[0].examples[0]["sum_now"] > restated[0].examples[0]["sum_before"]


def test_a_half_loaded_warehouse_says_what_it_could_not_check(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "half.sqlite"
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), path)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE fact_outpatient_daily"))
        conn.execute(text("DELETE FROM meta_load"))
    result = run_quality(engine)
    engine.dispose()
    assert [f.check for f in result.findings if f.level == "red"] == ["freshness_load"]
    missing = {n.check: n.reason for n in result.not_checked}
    assert missing["outpatient_gap"] == "table missing: fact_outpatient_daily"
    assert missing["component_sums"] == "table missing: fact_outpatient_daily"
    assert "missing_doctor" in result.checked and result.through is not None  # the rest still ran


# ---------------------------------------------------------------------------------- the command
def _appdb(tmp_path: Path):
    from appdb.store import AppDB

    db = AppDB(f"sqlite:///{tmp_path / 'app.sqlite'}")
    db.migrate()
    return db


def test_the_command_records_a_run_and_raises_alerts(defects_url, tmp_path: Path, capsys) -> None:
    from appdb.cli import main
    from appdb.quality import latest_run, list_findings, quality_alerts
    from data_layer.scope import Scope

    url, truth = defects_url
    app = f"sqlite:///{tmp_path / 'app.sqlite'}"
    assert main(["--url", app, "quality", "--warehouse", url]) == 1  # red findings: a non-zero exit for the timer
    db = _appdb(tmp_path)
    run = latest_run(db)
    assert run["status"] == "complete" and run["n_red"] >= 4 and str(run["through"]) == "2026-11-21"
    findings = list_findings(db, Scope.hospital())
    assert {"freshness_table", "short_load", "missing_doctor", "component_sums"} <= set(findings["check_code"])
    raised = quality_alerts(db, Scope.hospital())
    assert len(raised) == int((findings["level"].isin(["red", "orange"])).sum())
    assert set(raised["owner"]) == {"role:admin"}  # the IT centre by default
    assert findings["alert_id"].notna().all()
    # an administrator hands them to a user; the restated month raises a new alert, owned so
    db.create_user("it1", "IT 1", "Passw0rd-long-2026", "admin", "none", [])
    assert main(["--url", app, "quality", "--set-owner", "it1"]) == 0
    engine = make_engine(url)
    restate(engine, truth)
    engine.dispose()
    assert main(["--url", app, "quality", "--warehouse", url]) == 1
    second = list_findings(db, Scope.hospital())
    assert "restatement" in set(second["check_code"])
    new = quality_alerts(db, Scope.hospital())
    assert set(new.loc[new["indicator"] == "restatement", "owner"]) == {"it1"}
    assert len(new) == len(raised) + 1  # the same problems grew, the restatement is new
    out = capsys.readouterr().out
    assert "recorded run 2" in out and "Traceback" not in out


def test_an_unreachable_warehouse_is_recorded_as_not_checked(tmp_path: Path, capsys) -> None:
    from appdb.cli import main
    from appdb.quality import latest_run

    app = f"sqlite:///{tmp_path / 'app.sqlite'}"
    assert main(["--url", app, "quality", "--warehouse", UNREACHABLE]) == 4
    run = latest_run(_appdb(tmp_path))
    assert run["status"] == "unreachable" and run["through"] is None and run["n_red"] == 0
    assert {n["check"] for n in run["not_checked"]} == set(CHECKS)
    assert all(n["reason"].startswith("warehouse not reachable") for n in run["not_checked"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "recorded run 1 (unreachable)" in captured.out


def test_the_data_layer_command_reports_without_recording(defects_url, capsys) -> None:
    from data_layer.cli import main

    assert main(["quality", "--url", defects_url[0]]) == 1
    out = capsys.readouterr().out
    assert "missing_doctor" in out and "not recorded" in out


# ------------------------------------------------------------------------------------- the page
@pytest.fixture
def quality_server(server, defects_url):
    """The app over the small demo, its application database holding a run over the defects warehouse."""
    from appdb.quality import record_run
    from data_layer.queries.structure import departments
    from data_layer.scope import Scope

    db = server.extensions["hospdash"].appdb
    wh = server.extensions["hospdash"].warehouse
    deps = departments(wh, Scope.hospital())
    engine = make_engine(defects_url[0], read_only=True)
    from datetime import datetime

    record_run(db, run_quality(engine), dict(zip(deps["dept_id"], deps["campus_id"], strict=True)), datetime.now())
    engine.dispose()
    return server


def _page(server, user: str, lang: str, path: str = "/data-quality"):
    client = signed_in(server, user, lang)
    status, out = post_callback(server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": path},
                                 {"id": "_pages_location", "property": "search", "value": ""}])
    assert status == 200
    return out["_pages_content.children"]


def _grid_rows(layout, grid_id: str) -> list[dict]:
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == grid_id:
                found.extend(node["props"]["rowData"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(layout)
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_shows_each_reader_their_scope(quality_server, lang: str) -> None:
    words = {"en": ("Data quality", "Cases without a doctor", "Table behind the load", "Cardiology"),
             "zh": ("数据质量监控", "病例缺主管医生", "数据表停更", "心血管内科")}[lang]
    hospital = {}
    for user in ("lead1", "admin1"):
        layout = _page(quality_server, user, lang)
        shown = texts(layout) + json.dumps(layout, ensure_ascii=False)
        for w in words:
            assert w in shown, (user, w)
        hospital[user] = _grid_rows(layout, "dq-findings")
        assert len(hospital[user]) >= 10  # the hospital's findings, its own (late table, short load) among them
    assert hospital["lead1"] == hospital["admin1"]
    admin = json.dumps(_page(quality_server, "admin1", lang), ensure_ascii=False)
    assert '"dq-owner"' in admin and '"dq-owner"' not in json.dumps(_page(quality_server, "lead1", lang))
    # an assistant sees his departments' findings only: not D004's missing doctors, not the hospital's own
    mine = _grid_rows(_page(quality_server, "asst1", lang), "dq-findings")
    assert mine and len(mine) < len(hospital["lead1"])
    assert {r["dept"] for r in mine} <= {"en": {"Spine Surgery", "Gastroenterology", "Neurology"},
                                         "zh": {"脊柱外科", "消化内科", "神经内科"}}[lang]
    assert not any(r["check"] in ("Cases without a doctor", "病例缺主管医生") for r in mine)
    # a director may not open it
    assert "dq-page" not in json.dumps(_page(quality_server, "dir1", lang))


def test_the_page_before_any_run_says_so(server) -> None:
    layout = _page(server, "lead1", "zh")
    assert "尚无数据质量检查记录" in texts(layout)


def test_a_fresh_demo_starts_with_a_data_quality_run(server) -> None:
    """`python app.py` on a fresh demo checks the data once, as the nightly job would after a
    load: the page opens with that run (a clean demo: nothing found, no mark), and a second start
    does not run it again."""
    from app import ensure_demo_quality

    assert ensure_demo_quality(server) == "complete"
    assert ensure_demo_quality(server) is None
    layout = _page(server, "lead1", "zh")
    assert "尚无数据质量检查记录" not in texts(layout)
    assert '"dq-mark"' not in json.dumps(_page(server, "lead1", "en", "/"))


def test_the_mark_beside_the_freshness_stamp(quality_server, server) -> None:
    """Red findings on tables the overview reads (the outpatient short load, the unbalanced cases):
    the mark beside its stamp, for the leader; the equipment section shows it for the late device table."""
    layout = _page(quality_server, "lead1", "en", "/")
    assert '"dq-mark"' in json.dumps(layout)
    assert "data quality" in texts(layout)
    zh = _page(quality_server, "asst1", "zh", "/")
    assert '"dq-mark"' in json.dumps(zh) and "数据质量" in texts(zh)


def test_no_mark_without_red(server) -> None:
    assert '"dq-mark"' not in json.dumps(_page(server, "lead1", "en", "/"))


def test_the_alerts_page_lists_data_quality_alerts(quality_server) -> None:
    from appdb.alerts import list_alerts
    from data_layer.scope import Scope

    db = quality_server.extensions["hospdash"].appdb
    alerts = list_alerts(db, Scope.hospital())
    assert (alerts["kind"] == "data_quality").any()
    client = signed_in(quality_server, "lead1", "zh")
    status, out = post_callback(quality_server, client, "al-list.children",
                                [{"id": "al-level", "property": "value", "value": None},
                                 {"id": "al-dept", "property": "value", "value": None},
                                 {"id": "al-indicator", "property": "value", "value": None},
                                 {"id": "al-status", "property": "value", "value": ["new", "acknowledged"]},
                                 {"id": "al-dates", "property": "start_date", "value": None},
                                 {"id": "al-dates", "property": "end_date", "value": None},
                                 {"id": "al-refresh", "property": "data", "value": 0}])
    assert status == 200 and "病例缺主管医生" in json.dumps(out, ensure_ascii=False)
    alert_id = int(alerts.loc[alerts["kind"] == "data_quality", "id"].iloc[0])
    status, out = post_callback(quality_server, client, "al-detail.children",
                                [{"id": "al-selected", "property": "data", "value": alert_id}])
    assert status == 200 and "数据质量检查" in json.dumps(out, ensure_ascii=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_with_findings_speaks_one_language(quality_server, lang: str) -> None:
    """The language test's rule (tests/test_language.py) on the page holding the defects' findings:
    its visible text (headers, titles, the trend's subplot titles, the not-checked list) holds no
    word of the other language and no identifier."""
    from .test_language import _leaks, _visible

    for user in ("admin1", "lead1", "asst1"):
        found: list[str] = []
        _visible(_page(quality_server, user, lang), found)
        assert not _leaks(found, lang), (user, _leaks(found, lang))


def test_the_wall_stamp_carries_the_mark(quality_server, server) -> None:
    client = signed_in(quality_server, "lead1", "zh")
    status, out = post_callback(quality_server, client, "wall-fresh.children",
                                [{"id": "wall-tick", "property": "data", "value": {"scale": 1}}])
    assert status == 200 and "⚠ 数据质量" in out["wall-fresh.children"]


@pytest.mark.parametrize("backend", ["postgresql", "mariadb", "v1"])
def test_the_checks_run_on_every_backend_and_a_version_1_warehouse(request, backend: str) -> None:
    url = request.getfixturevalue({"postgresql": "postgres_url", "mariadb": "mariadb_url", "v1": "v1_url"}[backend])
    engine = make_engine(url, read_only=True)
    result = run_quality(engine)
    engine.dispose()
    assert result.findings == [], [(f.check, f.table, f.dept_id) for f in result.findings]
    assert set(result.checked) == set(CHECKS) and str(result.through) == "2026-11-21"


def test_an_administrator_chooses_the_owner(quality_server) -> None:
    from appdb.quality import alert_owner

    db = quality_server.extensions["hospdash"].appdb
    click = [{"id": "dq-owner-save", "property": "n_clicks", "value": 1}]
    status, out = post_callback(quality_server, signed_in(quality_server, "admin1", "zh"), "dq-owner-msg.children",
                                click, [{"id": "dq-owner", "property": "value", "value": "role:leader"}])
    assert status == 200 and "院领导" in json.dumps(out, ensure_ascii=False) and alert_owner(db) == "role:leader"
    status, _ = post_callback(quality_server, signed_in(quality_server, "admin1", "en"), "dq-owner-msg.children",
                              click, [{"id": "dq-owner", "property": "value", "value": "nobody-here"}])
    assert status == 200 and alert_owner(db) == "role:leader"  # refused: no such user
    status, _ = post_callback(quality_server, signed_in(quality_server, "lead1", "en"), "dq-owner-msg.children",
                              click, [{"id": "dq-owner", "property": "value", "value": "role:assistant"}])
    assert status == 403 and alert_owner(db) == "role:leader"
