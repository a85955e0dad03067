"""Outages that say so without leaking: the application database or the warehouse away, against
real drivers talking to a closed port (nothing listens on 127.0.0.1:1)."""
from __future__ import annotations

import json

import pytest
from flask import Flask

from appdb.store import AppDB

from .conftest import PASSWORD, csrf_token
from .helpers import post_callback, signed_in

# Names that must never reach a user: the account, the password and the database name.
APP_DOWN = "postgresql+psycopg://appacct_secret:pw_secret@127.0.0.1:1/appdb_secret"
WH_DOWN = "postgresql+psycopg://whacct_secret:pw_secret@127.0.0.1:1/whdb_secret"
SECRETS = ("127.0.0.1", "secret", "port 1", ":1/")


def _no_leak(body: str) -> None:
    assert not [s for s in SECRETS if s in body], body[:500]


def _app_db_goes_away(server: Flask) -> None:
    """The app was built and signed into while its database answered; now the database is away."""
    server.extensions["hospdash"].appdb = AppDB(APP_DOWN)
    server.extensions["hospdash"].health_answer = None


def test_a_signed_in_page_request_gets_the_outage_banner_not_a_500(server: Flask) -> None:
    client = signed_in(server, "dir1")
    _app_db_goes_away(server)
    resp = client.get("/department/D001")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert 'id="app-db-banner"' in body and "temporarily unavailable" in body
    assert 'href="/department/D001"' in body  # Try again: the same page
    _no_leak(body)


def test_the_outage_page_gets_its_styles_and_scripts(server: Flask) -> None:
    """The outage page links the app's style sheet: static files do not need the application database."""
    client = signed_in(server, "dir1")
    _app_db_goes_away(server)
    for path in ("/assets/style.css", "/vendor/bootstrap.min.css", "/assets/outage.js"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        assert "temporarily unavailable" not in resp.get_data(as_text=True)


def test_a_chinese_reader_gets_the_outage_banner_in_chinese(server: Flask) -> None:
    client = signed_in(server, "dir1", lang="zh")
    _app_db_goes_away(server)
    body = client.get("/").get_data(as_text=True)
    assert "应用数据库暂时无法访问" in body and "temporarily" not in body


def test_a_dash_request_gets_a_503_json_with_a_plain_message(server: Flask) -> None:
    client = signed_in(server, "dir1")
    _app_db_goes_away(server)
    status, raw = post_callback(server, client, "warehouse-banner.children",
                                [{"id": "warehouse-check", "property": "n_intervals", "value": 1}], raw=True)
    assert status == 503
    answer = json.loads(raw)
    assert answer["error"] == "unavailable" and "temporarily unavailable" in answer["message"]
    _no_leak(raw.decode())


def test_a_callback_that_meets_the_outage_answers_503_json(server: Flask) -> None:
    """The user was loaded, then the database went away before the callback read it."""
    client = signed_in(server, "admin1")
    server.before_request_funcs.setdefault(None, []).append(lambda: _app_db_goes_away(server))
    status, raw = post_callback(server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/admin"},
                                 {"id": "_pages_location", "property": "search", "value": ""}], raw=True)
    assert status == 503 and json.loads(raw)["error"] == "unavailable"
    _no_leak(raw.decode())


def test_the_shell_layout_request_gets_a_503_json(server: Flask) -> None:
    client = signed_in(server, "lead1")
    _app_db_goes_away(server)
    resp = client.get("/_dash-layout")
    assert resp.status_code == 503 and resp.get_json()["error"] == "unavailable"


@pytest.mark.parametrize(("lang", "said"), [("en", "Sign-in is temporarily unavailable"), ("zh-CN", "登录暂时无法使用")])
def test_a_login_post_answers_temporarily_unavailable(server: Flask, lang: str, said: str) -> None:
    client = server.test_client()
    token = csrf_token(client)
    _app_db_goes_away(server)
    resp = client.post("/login", data={"username": "dir1", "password": PASSWORD, "csrf_token": token},
                       headers={"Accept-Language": lang})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert said in body and 'id="login-form"' in body
    _no_leak(body)


def test_healthz_is_ok_when_both_databases_answer(server: Flask) -> None:
    resp = server.test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "app_db": {"ok": True}, "warehouse": {"ok": True}}


def test_healthz_fails_naming_the_app_database(server: Flask) -> None:
    _app_db_goes_away(server)
    resp = server.test_client().get("/healthz")
    assert resp.status_code == 503
    answer = resp.get_json()
    assert answer["status"] == "degraded" and answer["app_db"]["ok"] is False and answer["warehouse"]["ok"] is True
    _no_leak(resp.get_data(as_text=True))


def test_healthz_reuses_its_answer_for_a_few_seconds(server: Flask) -> None:
    from shell.outage import HEALTH_TTL, health

    state = server.extensions["hospdash"]
    assert health(state, now=1000.0)["status"] == "ok"
    state.appdb = AppDB(APP_DOWN)
    assert health(state, now=1000.0 + HEALTH_TTL / 2)["status"] == "ok"  # cached: no query
    assert health(state, now=1000.0 + HEALTH_TTL + 1)["app_db"]["ok"] is False


@pytest.fixture
def wh_down_server(app_env: dict[str, str]) -> Flask:
    from app import create_app

    srv = create_app({**app_env, "WAREHOUSE_URL": WH_DOWN})
    srv.extensions["hospdash"].appdb.create_user("dir1", "dir1", PASSWORD, "director", "departments", ("D001",))
    srv.extensions["hospdash"].appdb.create_user("admin1", "admin1", PASSWORD, "admin", "none")
    srv.extensions["hospdash"].appdb.create_user("lead1", "lead1", PASSWORD, "leader", "hospital")
    return srv


def test_the_warehouse_banner_names_no_host_account_or_database(wh_down_server: Flask, caplog) -> None:
    client = signed_in(wh_down_server, "dir1")
    layout = client.get("/_dash-layout", headers={"X-Requested-With": "XMLHttpRequest"})
    assert layout.status_code == 200
    text = layout.get_data(as_text=True)
    assert "The data warehouse cannot be reached" in text
    _no_leak(text)
    assert "whdb_secret" in caplog.text  # the address is in the server log


@pytest.mark.parametrize(("user", "path"), [("lead1", "/"), ("lead1", "/wall/campus"), ("dir1", "/department"),
                                            ("dir1", "/workspace/revenue")])
def test_pages_say_the_warehouse_is_away_without_its_address(wh_down_server: Flask, user: str, path: str) -> None:
    client = signed_in(wh_down_server, user)
    status, out = post_callback(wh_down_server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": path},
                                 {"id": "_pages_location", "property": "search", "value": ""}])
    assert status == 200
    text = json.dumps(out)
    assert "cannot be reached" in text
    _no_leak(text)


def test_the_admin_page_shows_the_warehouse_address(wh_down_server: Flask) -> None:
    client = signed_in(wh_down_server, "admin1")
    status, out = post_callback(wh_down_server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/admin"},
                                 {"id": "_pages_location", "property": "search", "value": ""}])
    assert status == 200
    text = json.dumps(out)
    assert "admin-status" in text and "whdb_secret" in text and "pw_secret" not in text


def test_healthz_fails_naming_the_warehouse(wh_down_server: Flask) -> None:
    resp = wh_down_server.test_client().get("/healthz")
    assert resp.status_code == 503
    answer = resp.get_json()
    assert answer["app_db"] == {"ok": True} and answer["warehouse"]["ok"] is False
    _no_leak(resp.get_data(as_text=True))


@pytest.mark.browser
def test_an_open_page_shows_the_outage_banner_and_drops_it_when_the_database_returns(dash_duo, server) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    from .helpers import serve
    from .test_browser import _sign_in

    serve(dash_duo, server)
    d = dash_duo.driver
    _sign_in(dash_duo, "dir1")
    dash_duo.wait_for_element("#app-navbar", timeout=30)
    dash_duo.wait_for_no_elements("[data-dash-is-loading]", timeout=30)
    state = server.extensions["hospdash"]
    working = state.appdb
    state.appdb = AppDB(APP_DOWN)
    links = d.find_elements("css selector", ".nav-links a")
    links[-1].click()
    banner = dash_duo.wait_for_element("#app-db-banner", timeout=20)
    WebDriverWait(d, 20).until(lambda _d: banner.is_displayed() and "temporarily unavailable" in banner.text)
    _no_leak(d.page_source)
    state.appdb = working
    d.find_elements("css selector", ".nav-links a")[0].click()
    WebDriverWait(d, 20).until(lambda _d: not d.find_element("id", "app-db-banner").is_displayed())


def test_starting_without_the_application_database_says_why(app_env: dict[str, str]) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, **app_env, "APP_DB_URL": APP_DOWN, "PORT": "8066"}
    done = subprocess.run([sys.executable, str(root / "app.py")], env=env, cwd=root, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stdout.startswith("error: cannot reach the database at") and "Traceback" not in done.stderr
