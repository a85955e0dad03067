"""Odd input never gives a 500: a NUL byte in a login name or a department id (with the
application database and the warehouse on PostgreSQL, which refuses NUL), callback values of
the wrong type or range, 100,000-character and control-character strings, and path traversal."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from appdb.store import AppDB
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import PASSWORD, PG_ADMIN, STRONG_KEY, USERS, login, server_database, texts
from .helpers import post_callback, signed_in

GENERIC = ("error id", "错误编号")  # the last-resort message (shell/layout.py callback_error)


@pytest.fixture
def pg_app_db() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the application database."""
    with server_database(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432") as url:
        yield url


@pytest.fixture
def pg_server(duck_url: str, pg_app_db: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with its application database on PostgreSQL, one user of each role."""
    from app import create_app

    srv = create_app({"WAREHOUSE_URL": duck_url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
                      "APP_DB_URL": pg_app_db})
    db = srv.extensions["hospdash"].appdb
    for name, (role, kind, ids) in USERS.items():
        db.create_user(name, name, PASSWORD, role, kind, ids)
    yield srv
    db.engine.dispose()


def test_a_nul_in_the_login_name_is_a_failed_login_not_a_500(pg_server: Flask) -> None:
    client = pg_server.test_client()
    resp = login(client, "dir\x001")
    assert resp.status_code == 401 and "Traceback" not in resp.get_data(as_text=True)
    db = pg_server.extensions["hospdash"].appdb
    assert db.logins()[0]["username"] == "dir\ufffd1" and not db.logins()[0]["success"]
    assert db.audit_entries(action="login_failed")[0]["username"] == "dir\ufffd1"
    assert login(client, "dir1").status_code == 302  # the real account is not the NUL one, and not locked


def test_a_nul_in_a_department_id_in_the_address_is_refused_with_a_page(pg_server: Flask) -> None:
    client = signed_in(pg_server, "asst1")
    for path in ("/department", "/workspace/costs", "/"):
        status, out = post_callback(pg_server, client, "_pages_content.children",
                                    [{"id": "_pages_location", "property": "pathname", "value": path},
                                     {"id": "_pages_location", "property": "search", "value": "?dept=D0%0001"}])
        assert status == 200, path
        page = texts(out["_pages_content.children"])
        assert not any(g in page for g in GENERIC) and "Traceback" not in page


def test_a_nul_in_a_department_id_sent_to_a_callback_is_refused_with_a_message(pg_server: Flask) -> None:
    client = signed_in(pg_server, "asst1")
    status, body = post_callback(pg_server, client, "home-dept-view.children",
                                 [{"id": "home-dept-select", "property": "value", "value": "D0\x0001"}], raw=True)
    assert status == 400
    assert json.loads(body)["message"].startswith("A value sent was not accepted")


def test_text_written_to_the_application_database_is_cleaned_and_cut_to_its_column(pg_app_db: str) -> None:
    db = AppDB(pg_app_db)
    db.migrate()
    db.audit("a" * 100, "u\x00" * 50, "t\x00" * 300, "detail\x00\x1b[31m", "1.2.3.4\x00" * 20)
    row = db.audit_entries()[0]
    assert row["action"] == "a" * 32 and row["username"] == "u\ufffd" * 32 and len(row["target"]) == 255
    assert row["detail"] == "detail\ufffd\ufffd[31m" and len(row["ip"]) == 64
    user, reason = db.authenticate("x\x00" * 100, "pw\x00", "5.6.7.8")
    assert user is None and reason == "bad_password"
    db.engine.dispose()


def test_a_department_id_with_a_nul_is_simply_not_found_in_a_postgresql_warehouse(postgres_url: str) -> None:
    wh = Warehouse(postgres_url)
    assert departments(wh, Scope.departments(["D0\x0001"])).empty
    assert list(departments(wh, Scope.departments(["D001"]))["dept_id"]) == ["D001"]
    wh.engine.dispose()


# ---------------------------------------------------------------- callbacks of every page module
ODD = [2**64, 99999999999, -(2**63), 1e308, "NaN", [], {}, ["a", ["b"]], {"a": {"b": 1}}, "x" * 100_000,
       "D\x0001", "\x07\x1b[2J", True, "'; drop table users --", [2**64], {"index": 2**64},
       {"dept": "D0\x0001"}, {"id": 99999999999, "version": 1}]
# (page module, a part of the callback's output key, the user): at least one callback per page module
CALLBACKS = [
    ("alerts", "al-list.children", "lead1"), ("alerts", "..al-detail.children", "lead1"),
    ("alerts", "al-selected.data", "lead1"), ("alerts", "al-download.data", "lead1"),
    ("admin", "audit-table.children", "admin1"), ("admin", "..admin-username.value", "admin1"),
    ("admin", "..kiosk-message.children", "admin1"), ("department", "dw-overview.children", "asst1"),
    ("home", "home-dept-view.children", "asst1"), ("profit", "..pf-bars.figure", "lead1"),
    ("wall_drg", "..drg-kpis.children", "lead1"), ("wall_campus", "wc-composition.children", "asst1"),
    ("ws_budget", "..wb-pace.children", "asst1"), ("ws_costs", "..wc-summary.children", "asst1"),
    ("ws_drg", "ws-drg-detail.children", "asst1"), ("ws_equipment", "..ws-eq-result.children", "asst1"),
    ("ws_portfolio", "..wsp-compare.children", "asst1"), ("ws_projects", "..wsp-manual.className", "asst1"),
    ("ws_reports", "..report-status.children", "asst1"), ("ws_revenue", "_pages_location.search", "asst1"),
    ("ws_revenue", "wsr-case-detail.children", "asst1"),
    ("pages", "_pages_content.children", "lead1"),
]


def _body(key: str, spec: dict, values: list, id_part: object = None) -> dict:
    """A renderer's request for the callback `key`, each input and state given `values`."""
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts]
    items = []
    for s, v in zip(spec["inputs"] + spec["state"], values, strict=True):
        sid = json.loads(s["id"]) if s["id"].startswith("{") else s["id"]
        if isinstance(sid, dict):
            sid = {k: (id_part if id_part is not None else 1) if isinstance(w, list) else w for k, w in sid.items()}
        item = {"id": sid, "property": s["property"], "value": v}
        pattern = isinstance(sid, dict) and any(isinstance(w, list) for w in json.loads(s["id"]).values())
        items.append([item] if pattern else item)
    n = len(spec["inputs"])
    first = items[0][0] if isinstance(items[0], list) else items[0]
    first_id = json.dumps(first["id"], sort_keys=True, separators=(",", ":")) if isinstance(first["id"], dict) \
        else first["id"]
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": items[:n],
            "state": items[n:], "changedPropIds": [f"{first_id}.{first['property']}"]}


@pytest.mark.parametrize(("module", "output", "user"), CALLBACKS, ids=[f"{m}:{o}" for m, o, _ in CALLBACKS])
def test_odd_callback_values_get_a_plain_answer_never_a_500_or_the_generic_message(
        pg_server: Flask, caplog: pytest.LogCaptureFixture, module: str, output: str, user: str) -> None:
    server = pg_server
    client = signed_in(server, user)  # the first request also registers Dash's own page callbacks
    dash_app = server.extensions["dash"]
    key = next(k for k, cb in dash_app.callback_map.items() if k.strip(".").startswith(output.strip("."))
               and (output != "_pages_location.search" or cb["inputs"][0]["id"] == "wsr-period"))
    spec = dash_app.callback_map[key]
    headers = {"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value}
    n_args = len(spec["inputs"]) + len(spec["state"])
    bodies = []
    for pos in range(n_args):
        for odd in ODD:
            values: list = [1 if s["property"].startswith("n_") else None for s in spec["inputs"] + spec["state"]]
            values[pos] = odd
            bodies.append((f"argument {pos} = {str(odd)[:30]!r}", _body(key, spec, values)))
    if any(s["id"].startswith("{") for s in spec["inputs"] + spec["state"]):
        for odd in (2**64, 99999999999, "x" * 100_000, "D\x0001", [1]):
            bodies.append((f"id = {str(odd)[:30]!r}", _body(key, spec, [1] * n_args, odd)))
    with caplog.at_level(logging.ERROR, logger="hospdash"):
        for what, body in bodies:
            resp = client.post("/_dash-update-component", data=json.dumps(body), headers=headers)
            got = resp.get_data(as_text=True)
            assert resp.status_code in (200, 204, 400, 403), (what, resp.status_code, got[:300])
            assert not any(g in got for g in GENERIC), (what, got[:300])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_request_for_a_callback_that_runs_in_the_browser_is_refused_not_a_500(server: Flask) -> None:
    dash_app = server.extensions["dash"]
    browser_side = [k for k, cb in dash_app.callback_map.items() if "callback" not in cb]
    assert browser_side, "the app has callbacks that run in the browser"
    client = signed_in(server, "lead1")
    spec = dash_app.callback_map[browser_side[0]]
    body = _body(browser_side[0], spec, [None] * (len(spec["inputs"]) + len(spec["state"])))
    resp = client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json",
                                "X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert resp.status_code == 400


def test_a_refusal_reads_in_the_page_language(server: Flask) -> None:
    client = signed_in(server, "lead1", lang="zh")
    status, body = post_callback(server, client, "al-list.children",
                                 [{"id": i, "property": p, "value": 2**64} for i, p in (
                                     ("al-level", "value"), ("al-dept", "value"), ("al-indicator", "value"),
                                     ("al-status", "value"), ("al-dates", "start_date"), ("al-dates", "end_date"),
                                     ("al-refresh", "data"))], raw=True)
    assert status == 400 and json.loads(body)["message"].startswith("提交的值无效")


# ---------------------------------------------------------------- paths
TRAVERSAL = ["/_dash-component-suites/dash/../../app.py", "/_dash-component-suites/dash/%2e%2e/%2e%2e/app.py",
             "/_dash-component-suites/dash/..%2f..%2fapp.py", "/_dash-component-suites/dash/no-such-file.js",
             "/_dash-component-suites/dash/deps/%00.js", "/department%00", "/assets/../app.py",
             "/" + "a" * 5000]


@pytest.mark.parametrize("path", TRAVERSAL, ids=range(len(TRAVERSAL)))
@pytest.mark.parametrize("signed", [False, True], ids=["stranger", "signed-in"])
def test_path_traversal_and_odd_paths_get_404_and_log_no_error(server: Flask, caplog: pytest.LogCaptureFixture,
                                                               path: str, signed: bool) -> None:
    client = signed_in(server, "lead1") if signed else server.test_client()
    with caplog.at_level(logging.ERROR):
        resp = client.get(path)
    assert resp.status_code == 404
    assert b"Traceback" not in resp.get_data() and b"import" not in resp.get_data()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.browser
def test_a_refused_callback_shows_its_plain_message_on_the_page(dash_duo, server: Flask) -> None:
    """Dash only logs a 400 in the console: the page itself must say the value was refused."""
    from selenium.webdriver.support.ui import WebDriverWait

    from .helpers import serve
    from .test_browser import _sign_in

    serve(dash_duo, server)
    d = dash_duo.driver
    _sign_in(dash_duo, "dir1")
    dash_duo.wait_for_element("#app-navbar", timeout=30)
    dash_duo.wait_for_no_elements("[data-dash-is-loading]", timeout=30)
    # what a too-long note pasted past the field's limit, or a forged request, sends: a value the boundary refuses
    # record every text the banner shows: a page's own answer a moment later may take the banner away again
    d.execute_script("""
        window.__bannerTexts = [];
        new MutationObserver(function () {
            var el = document.getElementById("app-db-banner");
            if (el && !el.hidden && el.textContent) { window.__bannerTexts.push(el.textContent); }
        }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    """)
    d.execute_script("""
        var token = (document.cookie.match(/_csrf_token=([^;]+)/) || [])[1] || "";
        window.fetch("/_dash-update-component", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(token)},
            body: JSON.stringify({output: "_pages_content.children", outputs: {id: "_pages_content",
                property: "children"}, inputs: [{id: "_pages_location", property: "pathname",
                value: "/" + "x".repeat(30000)}], changedPropIds: ["_pages_location.pathname"], state: []})});
    """)
    WebDriverWait(d, 20).until(
        lambda _d: any("not accepted" in text for text in _d.execute_script("return window.__bannerTexts")))
