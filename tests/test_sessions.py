"""Sessions that end on the server (issue 14, item 1) and public paths that match whole route
segments (item 8a). The sessions run against an application database on SQLite, PostgreSQL and
MariaDB; ages are set by moving the session's times back in that database."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from appdb.schema import sessions

from .conftest import MARIA_ADMIN, PASSWORD, PG_ADMIN, USERS, csrf_token, login, server_database, texts
from .helpers import click

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
COOKIES = ("hospdash_session", "_csrf_token", "hospdash_kiosk", "lang")
CALLBACK = {"output": "home-dept-view.children", "outputs": {"id": "home-dept-view", "property": "children"},
            "inputs": [{"id": "home-dept-select", "property": "value", "value": "D001"}], "state": [],
            "changedPropIds": ["home-dept-select.value"]}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty application database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    admin_url, what = {"postgresql": (PG_ADMIN, "PostgreSQL at 127.0.0.1:5432"),
                       "mariadb": (MARIA_ADMIN, "MariaDB at 127.0.0.1:3306")}[request.param]
    with server_database(admin_url, what) as url:
        yield url


@pytest.fixture
def srv(app_env: dict[str, str], app_db_url: str):
    """The app on the backend's application database, with the users of conftest.USERS."""
    from app import create_app

    server = create_app({**app_env, "APP_DB_URL": app_db_url})
    db = server.extensions["hospdash"].appdb
    for name, (role, kind, ids) in USERS.items():
        db.create_user(name, name, PASSWORD, role, kind, ids)
    yield server
    db.engine.dispose()


def _signed_in(server: Flask, username: str, user_agent: str | None = None):
    client = server.test_client()
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert login(client, username).status_code == 302
    client.get("/")  # sets the CSRF cookie the renderer sends back
    return client


def _copy(server: Flask, client):
    """A fresh client (another browser) holding copies of `client`'s cookies."""
    other = server.test_client()
    for name in COOKIES:
        if cookie := client.get_cookie(name):
            other.set_cookie(name, cookie.value)
    return other


def _callback(client):
    cookie = client.get_cookie("_csrf_token")
    return client.post("/_dash-update-component", data=json.dumps(CALLBACK),
                       headers={"Content-Type": "application/json", "X-CSRFToken": cookie.value if cookie else ""})


def _refused(client) -> bool:
    """True when the client's cookies, replayed as they are, are signed out: 401 for a callback
    and an XHR, the login page for a page."""
    saved = {name: c.value for name in COOKIES if (c := client.get_cookie(name))}

    def replay():
        for name, value in saved.items():
            client.set_cookie(name, value)
        return client

    callback = _callback(replay())
    xhr = replay().get("/department", headers={"X-Requested-With": "XMLHttpRequest"})
    page = replay().get("/department", headers={"Accept": "text/html"})
    return (callback.status_code == 401 and xhr.status_code == 401 and page.status_code == 302
            and page.headers["Location"].startswith("/login?next="))


def _rows(server: Flask, username: str) -> list:
    db = server.extensions["hospdash"].appdb
    with db.engine.connect() as conn:
        return conn.execute(select(sessions).where(sessions.c.user_id == db.get_by_username(username).id)
                            .order_by(sessions.c.id)).fetchall()


def _age(server: Flask, username: str, **back: timedelta) -> None:
    """Move the user's session times back: _age(srv, "dir1", last_seen_at=timedelta(minutes=31))."""
    db = server.extensions["hospdash"].appdb
    now = datetime.now().replace(microsecond=0)
    with db.engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.user_id == db.get_by_username(username).id)
                     .values(**{col: now - delta for col, delta in back.items()}))


def test_a_signed_in_request_reads_its_session_and_user_in_one_round(srv: Flask) -> None:
    """Every signed-in request checks the browser's session and loads its user: both in one
    connection of the pool (one transaction), not two; a revoked session is still refused."""
    from sqlalchemy import event

    client = _signed_in(srv, "dir1")
    db = srv.extensions["hospdash"].appdb
    seen: list[tuple[int, str]] = []

    def note(conn, _cursor, statement, *_a) -> None:
        if "sessions" in statement or "users" in statement:
            seen.append((id(conn), statement.split()[0].upper()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert _callback(client).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len({c for c, _ in seen}) == 1 and [s for _, s in seen].count("SELECT") == 2, seen
    with db.engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.user_id == db.get_by_username("dir1").id)
                     .values(revoked_at=datetime.now(), revoked_reason="logout"))
    assert _refused(client)


# ---------------------------------------------------------------- sign-out
def test_a_cookie_copied_before_sign_out_is_refused_afterwards(srv: Flask) -> None:
    owner = _signed_in(srv, "dir1")
    thief = _copy(srv, owner)
    assert _callback(thief).status_code == 200  # the copy works while the session is open
    assert owner.post("/logout", data={"csrf_token": owner.get_cookie("_csrf_token").value}).status_code == 302
    assert _refused(thief)
    assert _rows(srv, "dir1")[-1].revoked_reason == "logout"


def test_a_late_request_of_an_ended_page_does_not_spoil_the_sign_in_form(srv: Flask) -> None:
    """Found in the browser: after the session ended, the page went to the sign-in form while one of its
    callbacks was still on its way; that callback's 401 answer wrote its stale session cookie over the
    form's, the form's CSRF token no longer matched, and signing in again answered 400."""
    page = _signed_in(srv, "dir1")
    late = _copy(srv, page)  # the callback request that left before the session ended, with the old cookie
    db = srv.extensions["hospdash"].appdb
    db.end_user_sessions(db.get_by_username("dir1").id, "admin")
    form = page.get("/login")
    assert form.status_code == 200
    refused = _callback(late)
    assert refused.status_code == 401
    assert not [h for h in refused.headers.getlist("Set-Cookie") if h.startswith("hospdash_session=")]
    token = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    again = page.post("/login", data={"username": "dir1", "password": PASSWORD, "csrf_token": token})
    assert again.status_code == 302


def test_answers_to_a_signed_in_page_leave_the_session_cookie_alone(srv: Flask) -> None:
    """Found in CI: a callback admitted just before the session ended was answered after the sign-in form
    had loaded, and its answer (200) refreshed the old session cookie over the form's: signing in again
    answered 400. Only a change of the session (a sign-in, a sign-out) writes the cookie now, and the login
    page names its icon, so it sends no request of its own that could be refused and redirected."""
    page = _signed_in(srv, "dir1")
    for answer in (_callback(page), page.get("/department", headers={"Accept": "text/html"}), page.get("/")):
        assert answer.status_code in (200, 302)
        assert not [h for h in answer.headers.getlist("Set-Cookie") if h.startswith("hospdash_session=")]
    form = srv.test_client().get("/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/x-icon" href="/_favicon.ico">' in form
    assert srv.test_client().get("/_favicon.ico").status_code == 200


def test_an_ended_sessions_cookie_opens_nothing_on_the_public_views(srv: Flask) -> None:
    owner = _signed_in(srv, "dir1")
    saved = {name: c.value for name in COOKIES if (c := owner.get_cookie(name))}
    owner.post("/logout", data={"csrf_token": saved["_csrf_token"]})

    def thief():
        client = srv.test_client()
        for name, value in saved.items():
            client.set_cookie(name, value)
        return client

    assert thief().get("/login").status_code == 200  # the sign-in form, not a redirect into the app
    assert thief().post("/lang/en", data={"csrf_token": saved["_csrf_token"], "next": "/"}).status_code == 302
    assert srv.extensions["hospdash"].appdb.get_by_username("dir1").lang is None  # not saved for the user


# ---------------------------------------------------------------- limits
def test_an_idle_session_ends_on_the_server_and_replays_do_not_revive_it(srv: Flask) -> None:
    client = _signed_in(srv, "dir1")
    copy = _copy(srv, client)
    _age(srv, "dir1", last_seen_at=timedelta(seconds=30))
    seen = _rows(srv, "dir1")[-1].last_seen_at
    assert _callback(client).status_code == 200
    assert _rows(srv, "dir1")[-1].last_seen_at == seen  # activity is written at most once a minute
    _age(srv, "dir1", last_seen_at=timedelta(minutes=29))
    assert _callback(client).status_code == 200  # within the limit: the request counts as activity
    assert datetime.now() - _rows(srv, "dir1")[-1].last_seen_at < timedelta(minutes=1)
    _age(srv, "dir1", last_seen_at=timedelta(minutes=31))
    assert _refused(copy)  # the cookie itself is fresh (re-signed on every answer); the server says no
    assert _rows(srv, "dir1")[-1].revoked_reason == "idle"
    _age(srv, "dir1", last_seen_at=timedelta(0))
    assert _refused(client)  # ended is ended


def test_the_absolute_limit_holds_even_with_activity(srv: Flask) -> None:
    client = _signed_in(srv, "lead1")
    _age(srv, "lead1", created_at=timedelta(hours=11, minutes=59), last_seen_at=timedelta(0))
    assert _callback(client).status_code == 200
    _age(srv, "lead1", created_at=timedelta(hours=12, minutes=1), last_seen_at=timedelta(0))
    assert _refused(client)
    assert _rows(srv, "lead1")[-1].revoked_reason == "expired"


def test_records_of_long_ended_sessions_are_deleted_at_a_later_sign_in(srv: Flask) -> None:
    _signed_in(srv, "dir1")
    _age(srv, "dir1", created_at=timedelta(days=43), last_seen_at=timedelta(days=43))  # 12 h + 30 days ago, and more
    _signed_in(srv, "asst1")
    assert _rows(srv, "dir1") == []
    assert len(_rows(srv, "asst1")) == 1


def test_the_limits_are_settings(app_env: dict[str, str]) -> None:
    from app import create_app
    from data_layer.errors import UserError
    from shell.settings import load_settings

    server = create_app({**app_env, "SESSION_IDLE_MINUTES": "5", "SESSION_MAX_HOURS": "2"})
    limits = server.extensions["hospdash"].appdb.session_limits
    assert (limits.idle, limits.absolute) == (timedelta(minutes=5), timedelta(hours=2))
    assert server.permanent_session_lifetime == timedelta(hours=2)  # the cookie lasts the absolute limit
    server.extensions["hospdash"].appdb.create_user("dir1", "d", PASSWORD, "director", "departments", ["D001"])
    client = _signed_in(server, "dir1")
    _age(server, "dir1", last_seen_at=timedelta(minutes=6))
    assert _refused(client)
    with pytest.raises(UserError, match="SESSION_IDLE_MINUTES must be between"):
        load_settings({**app_env, "SESSION_IDLE_MINUTES": "0"}, env_file=None)


# ---------------------------------------------------------------- revocation
def _press_sign_out_everywhere(client, user_id: int, press: bool = True):
    body = {"output": "..admin-sessions.children...admin-sessions-message.children..",
            "outputs": [{"id": "admin-sessions", "property": "children"},
                        {"id": "admin-sessions-message", "property": "children"}],
            "inputs": [{"id": "admin-user", "property": "value", "value": user_id},
                       {"id": "admin-refresh", "property": "data", "value": 0},
                       {"id": "admin-end-sessions", "property": "n_clicks", "value": 1 if press else None}],
            "state": [], "changedPropIds": ["admin-end-sessions.n_clicks" if press else "admin-user.value"]}
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json",
                                "X-CSRFToken": client.get_cookie("_csrf_token").value})


@pytest.mark.parametrize(("change", "reason"), [("password", "password"), ("role", "user_changed"),
                                                ("scope", "user_changed"), ("deactivate", "deactivated"),
                                                ("cli_password", "password"), ("everywhere", "admin")])
def test_user_changes_and_sign_out_everywhere_end_every_session(srv: Flask, change: str, reason: str) -> None:
    from appdb.cli import main

    db = srv.extensions["hospdash"].appdb
    desk, phone = _signed_in(srv, "asst1"), _signed_in(srv, "asst1", FIREFOX)
    bystander = _signed_in(srv, "dir1")
    user = db.get_by_username("asst1")
    if change == "password":
        db.set_password(user.id, "Another-pass-2026")
    elif change == "role":
        db.update_role_scope(user.id, "director", "departments", ["D001"])
    elif change == "scope":
        db.update_role_scope(user.id, "assistant", "departments", ["D001"])
    elif change == "deactivate":
        db.set_active(user.id, False)
    elif change == "cli_password":
        import io
        import sys

        stdin, sys.stdin = sys.stdin, io.StringIO("Another-pass-2026\n")
        try:
            assert main(["--url", db.url, "set-password", "asst1", "--password-stdin"]) == 0
        finally:
            sys.stdin = stdin
    else:
        admin = _signed_in(srv, "admin1")
        admin.set_cookie("lang", "en")
        resp = _press_sign_out_everywhere(admin, user.id)
        assert resp.status_code == 200
        assert "Ended 2 session(s) of asst1" in texts(resp.get_json()["response"]["admin-sessions-message"]["children"])
        entry = db.audit_entries(action="sessions_ended")[0]
        assert (entry["username"], entry["target"]) == ("admin1", "asst1")
    assert _refused(desk) and _refused(phone)
    assert {r.revoked_reason for r in _rows(srv, "asst1")} == {reason}
    assert _callback(bystander).status_code == 200  # another user's session is untouched


# ---------------------------------------------------------------- the admin's list
def shown(component) -> str:
    """The text a reader sees in a component tree, a grid's headers and cells included."""
    if isinstance(component, list):
        return " ".join(shown(c) for c in component)
    if isinstance(component, dict) and isinstance(component.get("props"), dict):
        props = component["props"]
        if "rowData" in props:
            heads = " ".join(c.get("headerName", "") for c in props.get("columnDefs") or [])
            return heads + " " + " ".join(str(v) for row in props["rowData"] for v in row.values())
        return shown(props.get("children"))
    return texts(component)


def test_the_admin_page_lists_a_users_open_sessions(server: Flask) -> None:
    db = server.extensions["hospdash"].appdb
    _signed_in(server, "dir1", FIREFOX)
    second = _signed_in(server, "dir1")
    lead = db.get_by_username("lead1")
    kid, token = db.issue_kiosk(lead.id, "command centre, east wall", "admin1")
    assert server.test_client().get(f"/kiosk/{token}").status_code == 302
    admin = _signed_in(server, "admin1")
    admin.set_cookie("lang", "en")
    listed = shown(_press_sign_out_everywhere(admin, db.get_by_username("dir1").id, press=False)
                   .get_json()["response"]["admin-sessions"]["children"])
    assert "Signed in" in listed and "Firefox 120 · Windows" in listed and listed.count("127.0.0.1") == 2
    second.post("/logout", data={"csrf_token": second.get_cookie("_csrf_token").value})
    listed = shown(_press_sign_out_everywhere(admin, db.get_by_username("dir1").id, press=False)
                   .get_json()["response"]["admin-sessions"]["children"])
    assert listed.count("127.0.0.1") == 1
    admin.set_cookie("lang", "zh")
    wall = shown(_press_sign_out_everywhere(admin, lead.id, press=False).get_json()["response"]["admin-sessions"]
                 ["children"])
    assert "登录时间" in wall and "command centre, east wall" in wall
    nobody = shown(_press_sign_out_everywhere(admin, db.get_by_username("asst1").id, press=False)
                   .get_json()["response"]["admin-sessions"]["children"])
    assert "该用户当前没有有效会话" in nobody


def test_only_an_administrator_may_list_or_end_sessions(server: Flask) -> None:
    victim = _signed_in(server, "dir1")
    leader = _signed_in(server, "lead1")
    resp = _press_sign_out_everywhere(leader, server.extensions["hospdash"].appdb.get_by_username("dir1").id)
    assert resp.status_code == 403 and _callback(victim).status_code == 200


# ---------------------------------------------------------------- kiosk walls
def test_a_kiosk_wall_signs_in_again_when_its_session_ends_and_out_at_once_when_revoked(server: Flask) -> None:
    db = server.extensions["hospdash"].appdb
    kid, token = db.issue_kiosk(db.get_by_username("lead1").id, "east wall", "admin1")
    wall = server.test_client()
    assert wall.get(f"/kiosk/{token}").status_code == 302
    assert wall.get("/_dash-layout").status_code == 200
    _age(server, "lead1", created_at=timedelta(hours=13))  # past the absolute limit: the kiosk cookie signs it in
    assert wall.get("/_dash-layout").status_code == 200
    rows = _rows(server, "lead1")
    assert [r.revoked_reason for r in rows] == ["expired", None] and rows[-1].kiosk_id == kid
    assert db.revoke_kiosk(kid)
    assert wall.get("/_dash-layout").status_code == 401  # at the next request, not within a minute
    assert wall.get_cookie("hospdash_kiosk") is None
    assert _rows(server, "lead1")[-1].revoked_reason == "kiosk_revoked"
    assert db.audit_entries(action="kiosk_ended", username="lead1")


# ---------------------------------------------------------------- public paths (item 8a)
@pytest.mark.parametrize("path", ["/loginX", "/healthzX", "/kioskX", "/langX", "/login/", "/login/x", "/healthz/x",
                                  "/lang/en", "/kiosk/a/b", "/assetsX/style.css", "/vendorX/bootstrap.min.css",
                                  "/favicon.ico"])
def test_paths_that_only_begin_like_a_public_one_are_not_public(server: Flask, path: str) -> None:
    resp = server.test_client().get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    xhr = server.test_client().get(path, headers={"X-Requested-With": "XMLHttpRequest"})
    assert xhr.status_code == 401


@pytest.mark.parametrize("path", ["/login", "/healthz", "/assets/style.css", "/vendor/bootstrap.min.css",
                                  "/_favicon.ico"])
def test_public_paths_stay_public(server: Flask, path: str) -> None:
    assert server.test_client().get(path).status_code == 200


def test_a_stranger_may_still_switch_language_and_open_a_kiosk_address(server: Flask) -> None:
    client = server.test_client()
    assert client.post("/lang/en", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert client.get("/kiosk/not-a-token").status_code == 403


# ---------------------------------------------------------------- in the browser
@pytest.mark.browser
def test_the_admin_sees_and_ends_a_users_sessions_in_the_browser(dash_duo, server: Flask) -> None:
    from selenium.webdriver.common.keys import Keys

    from .helpers import serve
    from .test_browser import _sign_in

    victim = _signed_in(server, "dir1", FIREFOX)
    serve(dash_duo, server)
    _sign_in(dash_duo, "admin1")
    dash_duo.wait_for_element("#admin-sessions .note", timeout=20)  # no user picked yet
    dash_duo.find_element("#admin-user").click()
    search = dash_duo.wait_for_element("input[type=search]", timeout=10)
    search.send_keys("dir1")
    search.send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#admin-sessions", "Firefox 120 · Windows", timeout=20)
    click(dash_duo, "#admin-end-sessions")  # below the fold
    dash_duo.wait_for_element("#admin-sessions-message .alert-success", timeout=20)
    assert _callback(victim).status_code == 401


@pytest.mark.browser
def test_an_open_page_whose_session_ended_goes_to_the_login_page_at_its_next_click(dash_duo, server: Flask) -> None:
    """Sign out everywhere while the page is open: the next menu click lands on the login page with
    `next` set to the page clicked to, no script error (Dash never reads the 401), and signing in
    again returns to that page."""
    from urllib.parse import parse_qs, urlsplit

    from selenium.webdriver.support.ui import WebDriverWait

    from .helpers import serve
    from .test_browser import _fill_sign_in, _sign_in

    serve(dash_duo, server)
    d = dash_duo.driver
    _sign_in(dash_duo, "dir1")
    dash_duo.wait_for_element("#app-navbar", timeout=30)
    dash_duo.wait_for_no_elements("[data-dash-is-loading]", timeout=30)
    db = server.extensions["hospdash"].appdb
    here = urlsplit(d.current_url)
    assert db.end_user_sessions(db.get_by_username("dir1").id, "admin") == 1
    # read the link and click it in one script; the page may already be leaving (a request of its own met the
    # 401 first), and then there is no link to click and `next` is the page it was on
    clicked = d.execute_script(
        "const a = Array.from(document.querySelectorAll('.nav-links a')).pop(); if (a) { a.click(); return a.href; }"
        " return null;")
    target = urlsplit(clicked) if clicked else here
    WebDriverWait(d, 20).until(lambda _d: urlsplit(_d.current_url).path == "/login")
    dash_duo.wait_for_element("#login-form", timeout=10)
    came_from = parse_qs(urlsplit(d.current_url).query)["next"][0]
    assert came_from in {u.path + (f"?{u.query}" if u.query else "") for u in (target, here)}, came_from
    target = urlsplit(came_from)
    # Chromium logs the 401 answer itself; nothing else (Dash used to fail on it: "body stream already read")
    assert [e for e in dash_duo.get_logs() if not (e["source"] == "network" and "401" in e["message"])] == []
    _fill_sign_in(dash_duo, "dir1")  # the form carries `next`: signing in again returns to that page
    WebDriverWait(d, 20).until(lambda _d: urlsplit(_d.current_url).path == target.path)




@pytest.mark.browser
def test_a_click_on_a_users_row_picks_the_user_in_the_browser(dash_duo, server: Flask) -> None:
    """The users grid draws every user; a click on a row picks that user as the dropdown does
    (the form fills in, the sessions list follows)."""
    from .helpers import serve
    from .test_browser import _settled, _sign_in

    _signed_in(server, "dir1", FIREFOX)
    serve(dash_duo, server)
    _sign_in(dash_duo, "admin1")
    dash_duo.wait_for_element("#admin-users-table .ag-row", timeout=20)
    _settled(dash_duo)
    shown = dash_duo.driver.execute_script(
        "return document.querySelectorAll('#admin-users-table .ag-center-cols-container .ag-row').length")
    assert shown == len(server.extensions["hospdash"].appdb.list_users())
    rows = dash_duo.find_elements("#admin-users-table .ag-pinned-left-cols-container .ag-cell[col-id='username']")
    cell = next(c for c in rows if c.text == "dir1")
    cell.click()
    dash_duo.wait_for_contains_text("#admin-sessions", "Firefox 120 · Windows", timeout=20)
    assert dash_duo.find_element("#admin-username").get_attribute("value") == "dir1"
    assert dash_duo.get_logs() == []
