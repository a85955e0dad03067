"""Access rules through the real Flask app: nothing without login, roles, scopes, sessions,
throttling, safe redirects, CSRF, and the audit log."""
from __future__ import annotations

import importlib
import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from appdb.schema import login_events
from appdb.store import ACCOUNT_ALERT_FAILURES, ADDRESS_MAX_FAILURES, LOCK_WINDOW, MAX_FAILURES

from .conftest import PASSWORD, login, texts

PAGES = ["/", "/admin", "/alerts", "/404", "/no-such-page", "/?x=1"]
DASH_GET = ["/_dash-layout", "/_dash-dependencies", "/_reload-hash"]
PUBLIC = ["/login", "/assets/style.css", "/vendor/bootstrap.min.css", "/healthz"]




def _dash_post(client, output: str, inputs: list[dict], state: list[dict] | None = None, token: bool = True):
    """A /_dash-update-component request as the renderer sends it."""
    if output.startswith(".."):  # several outputs: ..a.children...b.data..
        parts = [p for p in output.strip(".").split("...")]
        outputs: dict | list = [{"id": p.split(".")[0], "property": p.split(".")[1]} for p in parts]
    else:
        comp, prop = output.split(".")
        outputs = {"id": comp, "property": prop}
    body = {"output": output, "outputs": outputs, "inputs": inputs, "state": state or [],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs]}
    headers = {"Content-Type": "application/json"}
    if token:
        cookie = client.get_cookie("_csrf_token")
        headers["X-CSRFToken"] = cookie.value if cookie else ""
    return client.post("/_dash-update-component", data=json.dumps(body), headers=headers)


def _signed_in(server: Flask, username: str):
    client = server.test_client()
    assert login(client, username).status_code == 302
    client.get("/")  # sets the CSRF cookie the renderer uses
    return client


# ----------------------------------------------------------------- strangers
@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_stranger_to_login(server: Flask, path: str) -> None:
    resp = server.test_client().get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", DASH_GET + ["/download/report.xlsx"])
def test_dash_endpoints_and_downloads_answer_a_stranger_401(server: Flask, path: str) -> None:
    resp = server.test_client().get(path)
    assert resp.status_code == 401 and resp.get_json()["error"] == "login required"


def test_callbacks_answer_a_stranger_401(server: Flask) -> None:
    resp = _dash_post(server.test_client(), "home-dept-view.children",
                      [{"id": "home-dept-select", "property": "value", "value": "D001"}], token=False)
    assert resp.status_code == 401


@pytest.mark.parametrize("path", PUBLIC)
def test_only_login_and_static_assets_are_public(server: Flask, path: str) -> None:
    assert server.test_client().get(path).status_code == 200


def test_an_xhr_to_a_page_gets_json_not_a_redirect(server: Flask) -> None:
    resp = server.test_client().get("/", headers={"X-Requested-With": "XMLHttpRequest"})
    assert resp.status_code == 401 and resp.is_json


# ---------------------------------------------------------- roles and pages
@pytest.mark.parametrize(("username", "landing"), [("admin1", "/admin"), ("lead1", "/wall/campus"), ("lead2", "/wall/campus"),
                                                   ("dir1", "/department"), ("asst1", "/workspace")])
def test_each_role_lands_where_it_should(server: Flask, username: str, landing: str) -> None:
    resp = login(server.test_client(), username)
    assert resp.status_code == 302 and resp.headers["Location"] == landing


@pytest.mark.parametrize(("username", "module", "allowed"), [
    ("admin1", "pages.admin", True), ("admin1", "pages.home", False),
    ("dir1", "pages.admin", False), ("asst1", "pages.admin", False), ("lead1", "pages.admin", False),
    ("dir1", "pages.home", True), ("lead2", "pages.home", True),
])
def test_page_layouts_refuse_the_wrong_role_and_audit_it(server: Flask, as_user, username: str, module: str,
                                                         allowed: bool) -> None:
    with as_user(username):
        text = texts(importlib.import_module(module).layout())
    assert ("Not allowed" in text) != allowed
    refusals = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_page", username=username)
    assert bool(refusals) != allowed


def test_navigation_shows_only_what_the_role_may_open(server: Flask, as_user) -> None:
    from shell.layout import shell_layout

    with as_user("dir1"):
        nav = texts(shell_layout().children[0])
    assert "Overview" in nav and "Users" not in nav
    with as_user("admin1"):
        nav = texts(shell_layout().children[0])
    assert "Users" in nav and "Overview" not in nav


# ----------------------------------------------------------------- scopes
def test_a_director_gets_their_own_department(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    resp = _dash_post(client, "home-dept-view.children",
                      [{"id": "home-dept-select", "property": "value", "value": "D001"}])
    assert resp.status_code == 200 and "stat-card" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("username", "dept"), [("dir1", "D002"), ("asst1", "D009"), ("lead2", "D001"),
                                                ("admin1", "D001")])
def test_a_forged_callback_for_another_department_is_refused_and_leaks_nothing(server: Flask, username: str,
                                                                               dept: str) -> None:
    client = _signed_in(server, username)
    resp = _dash_post(client, "home-dept-view.children",
                      [{"id": "home-dept-select", "property": "value", "value": dept}])
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert "stat-card" not in body and "value" not in body.lower().replace("values", "")
    entries = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_callback", username=username)
    assert entries


def test_admin_callbacks_refuse_other_roles(server: Flask) -> None:
    client = _signed_in(server, "lead1")
    resp = _dash_post(client, "audit-table.children", [
        {"id": "audit-action", "property": "value", "value": None},
        {"id": "audit-user", "property": "value", "value": None},
        {"id": "audit-dates", "property": "start_date", "value": None},
        {"id": "audit-dates", "property": "end_date", "value": None},
        {"id": "admin-refresh", "property": "data", "value": 0}])
    assert resp.status_code == 403


def test_the_admin_sees_the_audit_log_filtered(server: Flask) -> None:
    client = _signed_in(server, "admin1")
    resp = _dash_post(client, "audit-table.children", [
        {"id": "audit-action", "property": "value", "value": "login"},
        {"id": "audit-user", "property": "value", "value": "admin1"},
        {"id": "audit-dates", "property": "start_date", "value": None},
        {"id": "audit-dates", "property": "end_date", "value": None},
        {"id": "admin-refresh", "property": "data", "value": 0}])
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert "admin1" in text and "role=admin" in text


# ------------------------------------------------------- sessions and CSRF
def test_login_without_csrf_token_is_refused(server: Flask) -> None:
    client = server.test_client()
    resp = client.post("/login", data={"username": "dir1", "password": PASSWORD})
    assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)


def test_a_callback_without_csrf_header_is_refused(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    resp = _dash_post(client, "home-dept-view.children",
                      [{"id": "home-dept-select", "property": "value", "value": "D001"}], token=False)
    assert resp.status_code == 400


def test_the_sign_in_answer_carries_the_new_sessions_csrf_token(server: Flask) -> None:
    """A client that calls back straight after signing in (no page load between) is not refused as expired:
    the sign-in's redirect sets the CSRF cookie of the new session."""
    client = server.test_client()
    assert login(client, "dir1").status_code == 302
    resp = _dash_post(client, "home-dept-view.children",
                      [{"id": "home-dept-select", "property": "value", "value": "D001"}])
    assert resp.status_code == 200


def test_session_cookie_is_httponly_and_samesite(server: Flask) -> None:
    resp = login(server.test_client(), "dir1")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("hospdash_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert server.permanent_session_lifetime.total_seconds() == 12 * 3600  # the cookie lives as long as a session can


def test_cookies_are_secure_behind_https(app_env: dict[str, str]) -> None:
    from app import create_app

    srv = create_app({**app_env, "SECURE_COOKIES": "true"})
    srv.extensions["hospdash"].appdb.create_user("dir9", "d", PASSWORD, "director", "departments", ["D001"])
    resp = login(srv.test_client(), "dir9")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("hospdash_session="))
    assert "Secure" in cookie


def test_logout_ends_the_session_and_is_audited(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    cookie = client.get_cookie("_csrf_token").value
    resp = client.post("/logout", data={"csrf_token": cookie})
    assert resp.status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    assert server.extensions["hospdash"].appdb.audit_entries(action="logout", username="dir1")


def test_deactivating_or_changing_a_user_ends_their_session(server: Flask) -> None:
    db = server.extensions["hospdash"].appdb
    client = _signed_in(server, "asst1")
    user = db.get_by_username("asst1")
    db.update_role_scope(user.id, "assistant", "departments", ["D001"], expected_version=user.version)
    assert client.get("/_dash-layout").status_code == 401
    client = _signed_in(server, "dir1")
    db.set_active(db.get_by_username("dir1").id, False)
    assert client.get("/_dash-layout").status_code == 401
    assert login(server.test_client(), "dir1").status_code == 401


# ------------------------------------------------------ throttling, redirects
def test_repeated_failures_lock_the_account_with_a_clear_message(server: Flask) -> None:
    client = server.test_client()
    for _ in range(MAX_FAILURES):
        assert login(client, "dir1", "wrong-password-1").status_code == 401
    resp = login(client, "dir1")  # even the right password waits
    assert resp.status_code == 429
    assert "Try again in 15 min." in resp.get_data(as_text=True) or "15 分钟" in resp.get_data(as_text=True)
    failures = server.extensions["hospdash"].appdb.audit_entries(action="login_failed", username="dir1")
    assert len(failures) == MAX_FAILURES + 1


def _client_at(server: Flask, ip: str, lang: str = "en"):
    """A browser in `lang` whose requests come from `ip`."""
    client = server.test_client()
    client.environ_base.update(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=lang)
    return client


def _age_login_events(server: Flask, by: timedelta) -> None:
    """Move every recorded sign-in attempt `by` into the past, as if that much time had gone by."""
    db = server.extensions["hospdash"].appdb
    with db.engine.begin() as conn:
        for row in conn.execute(select(login_events.c.id, login_events.c.at)).fetchall():
            conn.execute(update(login_events).where(login_events.c.id == row.id).values(at=row.at - by))


def test_an_attacker_at_another_address_cannot_lock_the_owner_out(server: Flask) -> None:
    attacker = _client_at(server, "203.0.113.66")
    codes = [login(attacker, "dir1", "wrong-password-1").status_code for _ in range(MAX_FAILURES + 2)]
    assert codes == [401] * MAX_FAILURES + [429, 429]
    assert login(_client_at(server, "10.20.30.40"), "dir1").status_code == 302


def test_the_owner_gets_in_while_many_addresses_fail_their_account(server: Flask) -> None:
    for i in range(ACCOUNT_ALERT_FAILURES):  # four tries from each address: none locks
        assert login(_client_at(server, f"198.51.100.{i // 4}"), "dir1", "wrong-password-1").status_code == 401
    assert login(_client_at(server, "10.20.30.40"), "dir1").status_code == 302
    assert server.extensions["hospdash"].appdb.audit_entries(action="login_throttled", username="dir1")


@pytest.mark.parametrize(("names", "victim"), [
    (["dir1"] * MAX_FAILURES, "dir1"),  # one name from one address: that pair is locked
    (["dir1", "lead1", "lead2", "asst1", "nobody"] * (ADDRESS_MAX_FAILURES // 5), "admin1"),  # the address is
], ids=["pair", "address"])
def test_a_lock_holds_even_for_the_right_password_and_ends_on_time_whatever_is_tried(
        server: Flask, names: list[str], victim: str) -> None:
    attacker = _client_at(server, "203.0.113.66")
    assert [login(attacker, n, "wrong-password-1").status_code for n in names] == [401] * len(names)
    locked = login(attacker, victim)
    assert locked.status_code == 429 and "Try again in 15 min." in locked.get_data(as_text=True)
    assert 14 * 60 <= int(locked.headers["Retry-After"]) <= 15 * 60
    _age_login_events(server, LOCK_WINDOW - timedelta(minutes=1))
    for name in names[:MAX_FAILURES]:  # tries during the lock: refused, not counted, the lock not extended
        again = login(attacker, name, "wrong-password-1")
        assert again.status_code == 429 and "Try again in 1 min." in again.get_data(as_text=True)
    in_chinese = login(_client_at(server, "203.0.113.66", "zh"), victim)
    assert in_chinese.status_code == 429 and "请 1 分钟后再试" in in_chinese.get_data(as_text=True)
    _age_login_events(server, timedelta(minutes=2))
    assert login(attacker, victim).status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                    "http:/evil.example", "evil.example", "/%0d%0aSet-Cookie:x=1"])
def test_next_never_leaves_the_site(server: Flask, target: str) -> None:
    resp = login(server.test_client(), "lead1", next_url=target)
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_next_returns_to_the_page_asked_for(server: Flask) -> None:
    assert login(server.test_client(), "admin1", next_url="/admin?tab=audit").headers["Location"] == "/admin?tab=audit"


def test_login_audit_and_history(server: Flask) -> None:
    login(server.test_client(), "lead1", "wrong-password-1")
    login(server.test_client(), "lead1")
    db = server.extensions["hospdash"].appdb
    assert db.audit_entries(action="login", username="lead1")
    assert [e["success"] for e in db.logins("lead1")][:2] == [True, False]


# ---------------------------------------------------------------- language
def test_login_page_follows_the_browser_language(server: Flask) -> None:
    zh = server.test_client().get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    en = server.test_client().get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "登录" in zh and 'lang="zh-CN"' in zh
    assert "Sign in" in en and 'lang="en"' in en


def test_language_choice_is_remembered_for_the_user(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    resp = client.post("/lang/en", data={"csrf_token": client.get_cookie("_csrf_token").value, "next": "/"})
    assert resp.status_code == 302
    assert server.extensions["hospdash"].appdb.get_by_username("dir1").lang == "en"


def test_language_switch_returns_to_the_page_it_was_pressed_on(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    token = client.get_cookie("_csrf_token").value
    back = client.post("/lang/en", data={"csrf_token": token},
                       headers={"Referer": "http://localhost/department?dept=D001&period=2026-10"})
    assert back.status_code == 302 and back.headers["Location"] == "/department?dept=D001&period=2026-10"
    foreign = client.post("/lang/zh", data={"csrf_token": token},
                          headers={"Referer": "http://evil.example/department"})
    assert foreign.headers["Location"] == "/"  # another site's page is never a destination
    nothing = client.post("/lang/zh", data={"csrf_token": token})
    assert nothing.headers["Location"] == "/"


# ------------------------------------------------------------ demo accounts
def test_demo_accounts_are_refused_on_a_warehouse_the_generator_did_not_build(tmp_path, demo_data,
                                                                             app_env) -> None:
    from sqlalchemy import text

    from app import create_app
    from data_layer.demo import write_warehouse
    from data_layer.engine import make_engine

    url = f"sqlite:///{tmp_path / 'real.sqlite'}"
    engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False)
    with engine.begin() as conn:
        conn.execute(text("UPDATE meta_load SET source = 'HIS nightly ETL'"))
    engine.dispose()
    srv = create_app({**app_env, "WAREHOUSE_URL": url})
    db = srv.extensions["hospdash"].appdb
    db.create_user("demo.dir", "demo", PASSWORD, "director", "departments", ["D001"], is_demo=True)
    db.create_user("real.dir", "real", PASSWORD, "director", "departments", ["D001"])
    resp = login(srv.test_client(), "demo.dir")
    assert resp.status_code == 403 and "演示账号只能用于演示数据仓库" in resp.get_data(as_text=True)
    assert login(srv.test_client(), "real.dir").status_code == 302


def test_demo_accounts_cover_every_role_and_are_written_once(server: Flask, tmp_path) -> None:
    from appdb.demo_users import FILE, ensure_demo_users
    from appdb.store import AppDB
    from data_layer.queries.structure import departments
    from data_layer.scope import Scope

    db = AppDB(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    db.migrate()
    deps = departments(server.extensions["hospdash"].warehouse, Scope.hospital())
    created = ensure_demo_users(db, deps, tmp_path)
    roles = {r for _, _, r in created}
    assert roles == {"admin", "leader", "director", "assistant"}
    assert sum(1 for _, _, r in created if r == "director") == (deps["kind"] == "clinical").sum()
    for u in db.list_users():
        if u.role == "assistant":
            assert 1 <= len(u.scope_ids) <= 9
        # a display name is typed in one language, as a hospital would ("骨科专科运营助理", not "运营助理 orthopedics")
        assert not any(c.isascii() and c.isalpha() for c in u.display_name), u.display_name
    path = tmp_path / FILE
    assert path.stat().st_mode & 0o077 == 0
    text = path.read_text(encoding="utf-8")
    assert created[0][1] in text
    token = text.split("kiosk\t/kiosk/")[1].strip()  # the demo wall's address signs in as the leader
    assert db.kiosk_login(token)[1].username == "leader"
    assert ensure_demo_users(db, deps, tmp_path) == []  # never again


def test_callback_errors_show_an_error_id_not_a_traceback(server: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    home = importlib.import_module("pages.home")

    def boom(*_a, **_k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(home, "compare", boom)
    client = _signed_in(server, "dir1")
    resp = _dash_post(client, "home-dept-view.children",
                      [{"id": "home-dept-select", "property": "value", "value": "D001"}])
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    assert resp.status_code == 200 and "错误编号" in body
    assert "secret internal detail" not in body and "Traceback" not in body


ACT_OUTPUT = "..admin-message.children...admin-refresh.data...admin-user.options...admin-user.value.."


def _act(client, trigger: str, **form):
    values = {"admin-user": "__new__", "admin-username": "", "admin-name": "", "admin-role": "assistant",
              "admin-scope-kind": "departments", "admin-scope-ids": [], "admin-password": "", "admin-version": None,
              "admin-refresh": 0, **form}
    props = {"admin-user": "value", "admin-username": "value", "admin-name": "value", "admin-role": "value",
             "admin-scope-kind": "value", "admin-scope-ids": "value", "admin-password": "value",
             "admin-version": "data", "admin-refresh": "data"}
    body = {"output": ACT_OUTPUT,
            "outputs": [{"id": "admin-message", "property": "children"}, {"id": "admin-refresh", "property": "data"},
                        {"id": "admin-user", "property": "options"}, {"id": "admin-user", "property": "value"}],
            "inputs": [{"id": b, "property": "n_clicks", "value": 1 if b == trigger else None}
                       for b in ("admin-save", "admin-reset", "admin-toggle")],
            "state": [{"id": k, "property": p, "value": values[k]} for k, p in props.items()],
            "changedPropIds": [f"{trigger}.n_clicks"]}
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value})


def test_the_admin_creates_edits_resets_and_deactivates_users(server: Flask) -> None:
    db = server.extensions["hospdash"].appdb
    client = _signed_in(server, "admin1")
    weak = _act(client, "admin-save", **{"admin-username": "wang.fang", "admin-password": "short",
                                         "admin-scope-ids": ["D001"]})
    assert "10" in json.dumps(weak.get_json(), ensure_ascii=False)  # the policy, in words
    assert db.get_by_username("wang.fang") is None
    made = _act(client, "admin-save", **{"admin-username": "wang.fang", "admin-name": "王芳",
                                         "admin-scope-ids": ["D001", "D002"], "admin-password": PASSWORD})
    assert made.status_code == 200
    user = db.get_by_username("wang.fang")
    assert user.scope_ids == ("D001", "D002") and user.role == "assistant"
    edit = _act(client, "admin-save", **{"admin-user": user.id, "admin-role": "director", "admin-name": "王芳",
                                         "admin-scope-ids": ["D003"], "admin-version": user.version})
    assert edit.status_code == 200 and db.get(user.id).role == "director"
    stale = _act(client, "admin-save", **{"admin-user": user.id, "admin-role": "assistant",
                                          "admin-scope-ids": ["D009"], "admin-version": user.version})
    assert "已被他人修改" in json.dumps(stale.get_json(), ensure_ascii=False)
    assert db.get(user.id).scope_ids == ("D003",)
    fresh = db.get(user.id)
    _act(client, "admin-reset", **{"admin-user": user.id, "admin-password": "Brand-new-pass-9",
                                   "admin-version": fresh.version})
    assert login(server.test_client(), "wang.fang", "Brand-new-pass-9").status_code == 302
    _act(client, "admin-toggle", **{"admin-user": user.id, "admin-version": db.get(user.id).version})
    assert not db.get(user.id).is_active
    actions = [e["action"] for e in db.audit_entries(username="admin1")]
    assert {"user_created", "user_changed", "password_reset", "user_deactivated"} <= set(actions)


def test_a_role_cannot_take_a_foreign_kind_of_scope_through_the_form(server: Flask) -> None:
    client = _signed_in(server, "admin1")
    resp = _act(client, "admin-save", **{"admin-username": "bad.scope", "admin-role": "director",
                                         "admin-scope-kind": "hospital", "admin-password": PASSWORD})
    assert resp.status_code == 200 and server.extensions["hospdash"].appdb.get_by_username("bad.scope") is None


@pytest.mark.parametrize(("name", "password", "reason"), [
    ("林晓明", "Password123", "密码是最常见的密码之一"),
    ("Lin Xiaoming", "qwerty12345", "密码是最常见的密码之一"),
    ("Lin Xiaoming", "Xiaoming-2026!", "密码不能包含用户的姓名"),
    ("Lin Xiaoming", "Sunshine2026!", "常见单词或常见密码加上数字或符号"),
])
def test_the_admin_page_says_why_a_password_is_refused(server: Flask, name: str, password: str, reason: str) -> None:
    client = _signed_in(server, "admin1")
    refused = _act(client, "admin-save", **{"admin-username": "lin.xm", "admin-name": name,
                                            "admin-password": password, "admin-scope-ids": ["D001"]})
    assert reason in json.dumps(refused.get_json(), ensure_ascii=False)
    assert server.extensions["hospdash"].appdb.get_by_username("lin.xm") is None


def test_head_requests_for_the_sign_in_page_are_not_sign_in_attempts(server: Flask) -> None:
    """A monitor probing with HEAD /login must neither fill the audit log nor count towards a lock."""
    probe = _client_at(server, "203.0.113.77")
    for _ in range(ADDRESS_MAX_FAILURES + 2):
        assert probe.head("/login").status_code == 200
    db = server.extensions["hospdash"].appdb
    assert not [e for e in db.audit_entries(action="login_failed") if e["ip"] == "203.0.113.77"]
    assert login(probe, "dir1").status_code == 302


def test_the_user_form_names_every_field_that_does_not_fit(server: Flask) -> None:
    """The declared form (pages/_admin_form.UserForm) checks every field at once and says which."""
    client = _signed_in(server, "admin1")
    client.set_cookie("lang", "en")
    resp = _act(client, "admin-save", **{"admin-username": "x", "admin-password": "short", "admin-scope-ids": []})
    body = json.dumps(resp.get_json(), ensure_ascii=False)
    assert resp.status_code == 200 and "admin-problems" in body
    for said in ("User name", "3 to 64", "at least one campus or department", "at least 10 characters"):
        assert said in body, said
    assert server.extensions["hospdash"].appdb.get_by_username("x") is None
    reset = _act(client, "admin-reset", **{"admin-password": "Brand-new-pass-9"})  # no user picked
    assert "Pick an existing user first" in json.dumps(reset.get_json(), ensure_ascii=False)


def test_a_click_on_a_row_of_the_users_grid_picks_the_user(server: Flask) -> None:
    user = server.extensions["hospdash"].appdb.get_by_username("dir1")
    key = next(k for k in server.extensions["dash"].callback_map if k.startswith("admin-user.value@"))
    for client, status in ((_signed_in(server, "admin1"), 200), (_signed_in(server, "lead1"), 403)):
        body = {"output": key, "outputs": {"id": "admin-user", "property": "value"},
                "inputs": [{"id": "admin-users-table", "property": "cellClicked",
                            "value": {"rowId": str(user.id), "colId": "username", "value": "dir1"}}],
                "changedPropIds": ["admin-users-table.cellClicked"]}
        resp = client.post("/_dash-update-component", data=json.dumps(body), headers={
            "Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value})
        assert resp.status_code == status
        if status == 200:
            assert resp.get_json()["response"]["admin-user"]["value"] == user.id
