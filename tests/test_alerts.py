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
    grid = resp.get_json()["response"]["al-list"]["children"]
    assert grid["type"] == "AgGrid" and grid["props"]["id"] == "alerts-table"
    shown = {row["id"] for row in grid["props"]["rowData"]}
    allowed = list_alerts(db, Scope.departments(["D001"]), statuses=["new", "acknowledged"], limit=10_000)
    assert shown and shown == set(allowed["id"].astype(int))  # every alert of the scope, no other
    rows = grid["props"]["rowData"]
    assert [r["severity"] for r in rows] == sorted((r["severity"] for r in rows), reverse=True)  # most severe first
    assert all(r["level"] in ("yellow", "orange", "red") and r["level_name"] for r in rows)  # the badge's colour
    assert "hdBadge" in body


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


def _post(client, output: str, inputs: list, state: list, changed: str):
    """A renderer's request for the one-output callback `output` (its inputs may be pattern lists)."""
    comp, prop = output.split(".")
    body = {"output": output, "outputs": {"id": comp, "property": prop}, "inputs": inputs, "state": state,
            "changedPropIds": [changed]}
    return client.post("/_dash-update-component", data=json.dumps(body), headers={
        "Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value})


def _click(client, alert_id: int):
    """A click on an alert's row in the list grid."""
    return _post(client, "al-selected.data", [{"id": "alerts-table", "property": "cellClicked",
                                               "value": {"rowId": str(alert_id), "colId": "dept", "value": "x"}}],
                 [], "alerts-table.cellClicked")


def test_a_click_on_a_row_opens_the_alert_and_a_forged_one_is_refused(server: Flask, stored) -> None:
    db, *_ = stored
    df = list_alerts(db, Scope.hospital(), limit=10_000)
    own, other = df[df["dept_id"] == "D001"].iloc[0], df[df["dept_id"] != "D001"].iloc[0]
    client = _signed_in(server, "dir1")
    resp = _click(client, int(own["id"]))
    assert resp.status_code == 200 and resp.get_json()["response"]["al-selected"]["data"] == int(own["id"])
    assert _click(client, int(other["id"])).status_code == 403
    assert server.extensions["hospdash"].appdb.audit_entries(action="forbidden_callback", username="dir1")


def test_the_alerts_rows_grid_holds_every_row_and_the_export_sends_them(server: Flask, stored) -> None:
    import io

    import openpyxl

    from data_layer.periods import Period
    from data_layer.queries.drill import alert_rows

    db, *_ = stored
    df = list_alerts(db, Scope.hospital(), limit=10_000)
    state = server.extensions["hospdash"]
    counts = {int(r.id): len(alert_rows(state.warehouse, Scope.hospital(), r.dept_id, r.indicator,
                                        Period(r.period_start, r.period_end, "custom"), r.entity_type, r.entity_id))
              for r in df[df["indicator"] == "material_share"].itertuples()}
    alert_id, n = max(counts.items(), key=lambda kv: kv[1])
    assert n > 30  # more than the old table's first 30
    client = _signed_in(server, "lead1")
    resp = _dash_post(client, "..al-detail.children...al-version.data..",
                      [{"id": "al-selected", "property": "data", "value": alert_id}])
    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "al-rows-grid":
                found.append(node["props"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(resp.get_json()["response"]["al-detail"]["children"])
    assert found and len(found[0]["rowData"]) == n
    assert found[0]["columnDefs"][0].get("pinned") == "left"
    button = {"type": "al-export", "table": "rows", "fmt": "xlsx"}
    resp = _post(client, "al-download.data", [[{"id": button, "property": "n_clicks", "value": 1}]],
                 [{"id": "al-selected", "property": "data", "value": alert_id}],
                 json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks")
    assert resp.status_code == 200
    sent = resp.get_json()["response"]["al-download"]["data"]
    assert sent["filename"].startswith(f"alert-{alert_id}-") and sent["filename"].endswith(".xlsx")
    import base64

    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(sent["content"]))).active
    text = " ".join(str(c.value) for row in sheet.iter_rows(max_row=12) for c in row if c.value)
    level = df.set_index("id").loc[alert_id, "level"]
    assert "病例号" in text and {"red": "红", "orange": "橙", "yellow": "黄"}[level] in text  # the facts line


@pytest.mark.browser
def test_the_alert_grid_draws_with_badges_and_a_click_opens_the_alert(dash_duo, server: Flask, stored) -> None:
    from .helpers import click, serve, sign_in_browser
    from .test_browser import _settled

    serve(dash_duo, server)
    sign_in_browser(dash_duo, "dir1")  # signed in before the next address is asked for
    dash_duo.driver.get(dash_duo.server.url + "/alerts")
    dash_duo.wait_for_element("#alerts-table .ag-row .lvl-badge", timeout=30)
    _settled(dash_duo)
    badge = dash_duo.find_element("#alerts-table .lvl-badge")
    assert badge.text and "lvl-" in badge.get_attribute("class")
    assert badge.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    click(dash_duo, "#alerts-table .ag-center-cols-container .ag-row[row-index='0'] [col-id='dept']")
    dash_duo.wait_for_element("#al-drivers", timeout=30)
    dash_duo.wait_for_element("#al-detail #al-rows-grid .ag-row", timeout=30)
    assert dash_duo.get_logs() == []


def test_a_scan_over_past_dates_stores_the_history_once_and_sends_nothing(duck_url, tmp_path, capsys) -> None:
    """`alerts scan --since` (issue 16): each month judged against its own past as the nightly scan of
    the time would have; dated first seen the day after its period; a second run and the next nightly
    scan add nothing; no message goes out for history."""
    from datetime import date, datetime, timedelta

    from appdb.cli import main as appdb_cli
    from appdb.store import AppDB

    app_db = f"sqlite:///{tmp_path / 'app.db'}"
    assert appdb_cli(["--url", app_db, "alerts", "scan", "--warehouse", duck_url, "--since", "2025-08-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("scanned from 2025-08-01 through ") and "no messages sent" in out
    history = list_alerts(AppDB(app_db), Scope.hospital(), limit=10_000)
    assert len(history) > 0 and history["period_start"].min() >= date(2025, 8, 1)
    today = datetime.now()
    for r in history.itertuples():
        seen = min(today, datetime.combine(r.period_end + timedelta(days=1), datetime.min.time()))
        assert abs((r.first_seen - seen).total_seconds()) < 120, r
    rules = history[history["kind"] == "rule"]  # standing conditions describe the present: the last month only
    assert rules["period_start"].nunique() <= 1
    assert appdb_cli(["--url", app_db, "alerts", "scan", "--warehouse", duck_url, "--since", "2025-08-01"]) == 0
    assert "0 new alerts, 0 grown" in capsys.readouterr().out
    assert appdb_cli(["--url", app_db, "alerts", "scan", "--warehouse", duck_url, "--no-notify"]) == 0
    assert "0 new alerts, 0 grown" in capsys.readouterr().out  # the nightly scan finds nothing it had not
    assert appdb_cli(["--url", app_db, "alerts", "scan", "--warehouse", duck_url, "--since", "2031-01-01"]) == 2
    assert "after the day scanned" in capsys.readouterr().err
