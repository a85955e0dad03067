"""Alerts: storage that grows instead of flooding, the workflow, scope, and the alerts page."""
from __future__ import annotations

import json

import pytest
from flask import Flask

from appdb.alerts import add_note, get_alert, list_alerts, save_scan, transition
from appdb.store import CodedError, StaleEdit
from data_layer.alerts.actions import suggested_action
from data_layer.alerts.detect import scan
from data_layer.queries.structure import departments
from data_layer.scope import Scope

from .test_auth import _dash_post, _signed_in


@pytest.fixture
def stored(server: Flask):
    """The small warehouse scanned once, its alerts stored in the app database."""
    state = server.extensions["hospdash"]
    result = scan(state.warehouse, Scope.hospital())
    deps = departments(state.warehouse, Scope.hospital())
    campus = dict(zip(deps["dept_id"], deps["campus_id"], strict=True))
    added, grown = save_scan(state.appdb, result.alerts, campus)
    return state.appdb, result, campus, added


def test_a_second_scan_adds_nothing_and_a_repeat_grows_the_same_alert(stored) -> None:
    db, result, campus, added = stored
    assert added == len(result.alerts) > 0
    assert save_scan(db, result.alerts, campus) == (0, 0)
    first = result.alerts[0]
    later = type(first)(**{**first.__dict__, "period_start": first.period_end, "period_end": first.period_end,
                           "level": "red"})
    later.period_start = later.period_end = first.period_end.replace(day=28)
    assert save_scan(db, [later], campus) == (0, 0)  # inside the alert already: no growth, same row
    df = list_alerts(db, Scope.hospital(), statuses=["new"], limit=10_000)
    assert len(df) == added and (df["problem_key"] == first.key).sum() == 1


def test_workflow_transitions_and_refusals(stored) -> None:
    db, *_ = stored
    scope = Scope.hospital()
    a = list_alerts(db, scope).iloc[0]
    alert = get_alert(db, scope, int(a["id"]))
    with pytest.raises(CodedError) as err:
        transition(db, scope, alert["id"], "resolved", "asst1", alert["version"])
    assert err.value.code == "bad_transition"
    with pytest.raises(CodedError) as err:
        transition(db, scope, alert["id"], "dismissed", "asst1", alert["version"], reason=" ")
    assert err.value.code == "reason_required"
    acked = transition(db, scope, alert["id"], "acknowledged", "asst1", alert["version"])
    assert acked["status"] == "acknowledged" and acked["owner"] == "asst1"
    with pytest.raises(StaleEdit):  # a second user working from the old copy
        transition(db, scope, alert["id"], "dismissed", "dir1", alert["version"], reason="seasonal")
    noted = add_note(db, scope, alert["id"], "cause", "新耗材集中采购入库", "asst1", acked["version"])
    done = transition(db, scope, alert["id"], "resolved", "asst1", noted["version"])
    assert done["status"] == "resolved"
    assert [n["kind"] for n in done["notes"]] == ["status", "cause", "status"]
    assert "新耗材" in done["notes"][1]["text"]


def test_scopes_see_only_their_alerts(stored) -> None:
    db, result, campus, _ = stored
    dept = result.alerts[0].dept_id
    mine = list_alerts(db, Scope.departments([dept]), limit=10_000)
    assert set(mine["dept_id"]) == {dept}
    other = next(d for d in campus if d != dept)
    assert get_alert(db, Scope.departments([other]), int(mine.iloc[0]["id"])) is None
    assert list_alerts(db, Scope.departments([]), limit=10_000).empty


def test_every_alert_has_a_suggested_action_in_both_languages(stored) -> None:
    db, *_ = stored
    for key in list_alerts(db, Scope.hospital(), limit=10_000)["action_key"]:
        zh, en = suggested_action(key, "zh"), suggested_action(key, "en")
        assert zh and en and zh != en


def test_the_page_lists_only_the_users_alerts(server: Flask, stored) -> None:
    db, result, *_ = stored
    client = _signed_in(server, "dir1")
    resp = _dash_post(client, "al-list.children", [
        {"id": "al-level", "property": "value", "value": None}, {"id": "al-dept", "property": "value", "value": None},
        {"id": "al-indicator", "property": "value", "value": None},
        {"id": "al-status", "property": "value", "value": ["new", "acknowledged"]},
        {"id": "al-dates", "property": "start_date", "value": None},
        {"id": "al-dates", "property": "end_date", "value": None},
        {"id": "al-refresh", "property": "data", "value": 0}])
    assert resp.status_code == 200
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    shown = {int(i) for i in __import__("re").findall(r'"index": (\d+)', body)}
    allowed = set(list_alerts(db, Scope.departments(["D001"]), limit=10_000)["id"].astype(int))
    assert shown <= allowed


def test_a_forged_request_for_another_departments_alert_is_refused(server: Flask, stored) -> None:
    db, *_ = stored
    outside = list_alerts(db, Scope.hospital(), limit=10_000)
    outside = outside[outside["dept_id"] != "D001"].iloc[0]
    client = _signed_in(server, "dir1")
    resp = _dash_post(client, "..al-detail.children...al-version.data..", [{"id": "al-selected", "property": "data",
                                                      "value": int(outside["id"])}])
    assert resp.status_code == 403
    resp = _dash_post(client, "al-list.children", [
        {"id": "al-level", "property": "value", "value": None},
        {"id": "al-dept", "property": "value", "value": [outside["dept_id"]]},
        {"id": "al-indicator", "property": "value", "value": None},
        {"id": "al-status", "property": "value", "value": None},
        {"id": "al-dates", "property": "start_date", "value": None},
        {"id": "al-dates", "property": "end_date", "value": None},
        {"id": "al-refresh", "property": "data", "value": 0}])
    assert resp.status_code == 403


def test_an_alert_opens_with_series_drivers_and_rows(server: Flask, stored) -> None:
    db, *_ = stored
    df = list_alerts(db, Scope.hospital(), limit=10_000)
    row = df[df["indicator"] == "material_share"].iloc[0]
    client = _signed_in(server, "lead1")
    resp = _dash_post(client, "..al-detail.children...al-version.data..", [
        {"id": "al-selected", "property": "data", "value": int(row["id"])}])
    assert resp.status_code == 200
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    assert "Graph" in body and "病例号" in body and "al-drivers" in body


def test_an_assistant_never_sees_another_service_lines_alerts(server: Flask, stored) -> None:
    db, *_ = stored
    client = _signed_in(server, "asst1")  # departments D001-D003
    others = list_alerts(db, Scope.hospital(), limit=10_000)
    others = others[~others["dept_id"].isin(["D001", "D002", "D003"])]
    for alert_id in others["id"].astype(int).head(3):
        resp = _dash_post(client, "..al-detail.children...al-version.data..",
                          [{"id": "al-selected", "property": "data", "value": alert_id}])
        assert resp.status_code == 403
    assert server.extensions["hospdash"].appdb.audit_entries(action="forbidden_callback", username="asst1")


def test_the_nightly_scan_command_stores_alerts_and_the_data_layer_points_to_it(duck_url, tmp_path, capsys) -> None:
    from appdb.cli import main as appdb_cli
    from appdb.store import AppDB
    from data_layer.cli import main as data_cli

    app_db = f"sqlite:///{tmp_path / 'app.db'}"
    assert appdb_cli(["--url", app_db, "alerts", "scan", "--warehouse", duck_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("scanned through ") and " new alerts, 0 grown" in out
    stored = list_alerts(AppDB(app_db), Scope.hospital(), statuses=["new"], limit=10_000)
    assert len(stored) > 0
    assert appdb_cli(["alerts", "scan", "--app-db", app_db, "--warehouse", duck_url]) == 0
    assert "0 new alerts, 0 grown" in capsys.readouterr().out
    assert data_cli(["alerts", "scan", "--url", duck_url]) == 2
    assert "python -m appdb alerts scan" in capsys.readouterr().err
