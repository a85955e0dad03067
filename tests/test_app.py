"""The Flask app: factory, entry points, landing page, and clear errors when the warehouse is away."""
from __future__ import annotations

import importlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask import Flask

from app import create_app

from .conftest import PASSWORD, login, texts

ROOT = Path(__file__).resolve().parents[1]




def test_factory_returns_a_flask_server_with_dash(server: Flask) -> None:
    client = server.test_client()
    assert login(client, "lead1").status_code == 302
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and "_pages_content" in layout.get_data(as_text=True)
    assert client.get("/_dash-dependencies").status_code == 200


def test_bootstrap_and_theme_css_are_served_locally(server: Flask) -> None:
    client = server.test_client()
    css = client.get("/vendor/bootstrap.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and len(css.data) > 100_000
    assert client.get("/assets/style.css").status_code == 200
    assert "cdn" not in client.get("/login").get_data(as_text=True).lower()


@pytest.mark.parametrize(("lang", "title", "label", "points"), [
    ("zh-CN,zh;q=0.9", "医院运营决策驾驶舱", "出院人次", "个百分点"),
    ("en-US,en;q=0.9", "Hospital Operations Dashboard", "Discharges", " pp"),
])
def test_landing_page_shows_the_hospital_in_the_browser_language(as_user, lang: str, title: str,
                                                                 label: str, points: str) -> None:
    home = importlib.import_module("pages.home")

    with as_user("lead1", lang):
        text = texts(home.layout())
    assert title in text and label in text
    assert "2026-11-21" in text  # data freshness
    assert points in text  # ratios change in percentage points


def test_landing_page_numbers_are_the_query_layers(server: Flask, as_user) -> None:
    home = importlib.import_module("pages.home")
    from data_layer.periods import Period
    from data_layer.queries.kpis import compare
    from data_layer.scope import Scope

    wh = server.extensions["hospdash"].warehouse
    fresh = wh.freshness()
    ytd = Period(fresh.data_through.replace(month=1, day=1), fresh.data_through)
    discharges = compare(wh, Scope.hospital(), ("discharges",), ytd)["value"].iloc[0]
    with as_user("lead1"):
        text = texts(home.layout())
    assert f"{discharges:,.0f}" in text and discharges > 1000


def _signed_in_layout(env: dict[str, str], module: str, lang: str = "en") -> str:
    from flask_login import login_user

    from shell.auth import SessionUser

    srv = create_app(env)
    db = srv.extensions["hospdash"].appdb
    user = db.create_user("lead9", "lead9", "Passw0rd-long-2026", "leader", "hospital", ())
    with srv.test_request_context("/", headers={"Accept-Language": lang}):
        login_user(SessionUser(user))
        return texts(importlib.import_module(module).layout())


def test_a_missing_warehouse_gives_a_clear_banner_not_a_traceback(tmp_path: Path, app_env: dict[str, str]) -> None:
    text = _signed_in_layout({**app_env, "WAREHOUSE_URL": f"duckdb:///{tmp_path / 'gone.duckdb'}"}, "pages.home")
    assert "cannot be reached" in text and "does not exist" not in text  # the detail is for the log
    assert "Traceback" not in text


def test_an_unreachable_server_gives_a_clear_banner(app_env: dict[str, str]) -> None:
    text = _signed_in_layout({**app_env, "WAREHOUSE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "pages.home", "zh-CN")
    assert "数据仓库暂时无法访问" in text and "Traceback" not in text


def test_unknown_path_shows_the_not_found_page(as_user) -> None:
    not_found = importlib.import_module("pages.not_found_404")
    with as_user("dir1"):
        assert "Page not found" in texts(not_found.layout())


def test_the_not_found_page_names_the_address_asked_for(server) -> None:
    from .helpers import post_callback, signed_in

    for lang, words in (("en", "There is no page at /workspace/nowhere."), ("zh", "找不到地址 /workspace/nowhere。")):
        client = signed_in(server, "dir1", lang)
        status, out = post_callback(server, client, "_pages_content.children",
                                    [{"id": "_pages_location", "property": "pathname", "value": "/workspace/nowhere"},
                                     {"id": "_pages_location", "property": "search", "value": ""}])
        assert status == 200 and words in str(out), out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTUP_SECONDS = 120  # a few seconds on an idle machine; far more while other suites share its cores


def _serve_and_get(cmd: list[str], env: dict[str, str], port: int, log: Path) -> None:
    """Start a server process, wait until it answers /healthz (as tests/test_deploy.py does), and check it
    serves the app. Its output goes to `log`: a pipe nobody reads could fill up and stall the server."""
    from appdb.store import AppDB

    db = AppDB(env["APP_DB_URL"])
    db.migrate()
    if db.get_by_username("lead1") is None:
        db.create_user("lead1", "lead1", PASSWORD, "leader", "hospital", ())
    db.engine.dispose()
    base = f"http://127.0.0.1:{port}"
    what = " ".join(Path(c).name for c in cmd[:3])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{what} exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
            try:  # a worker still starting holds the connection open: a read timeout means "not yet"
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not answer /healthz in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}",
                            pytrace=False)
            time.sleep(0.25)
        assert requests.get(f"{base}/_dash-layout", timeout=10).status_code == 401
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{base}/login", timeout=10).text).group(1)
        s.post(f"{base}/login", data={"username": "lead1", "password": PASSWORD, "csrf_token": token}, timeout=20)
        r = s.get(f"{base}/_dash-layout", timeout=10)
        assert r.status_code == 200 and "_pages_content" in r.text
        page = s.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "dash" in page.text.lower()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_gunicorn_serves_the_same_app(app_env: dict[str, str], tmp_path: Path) -> None:
    """`gunicorn app:server` from the command line, over DuckDB and a SQLite application database
    (tests/test_deploy.py covers deploy/gunicorn.conf.py over PostgreSQL and Redis)."""
    port = _free_port()
    _serve_and_get([sys.executable, "-m", "gunicorn", "app:server", "-b", f"127.0.0.1:{port}", "-w", "2",
                    "--timeout", "60"], app_env, port, tmp_path / "gunicorn.log")


def test_python_app_py_serves(app_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    _serve_and_get([sys.executable, "app.py"], {**app_env, "PORT": str(port)}, port, tmp_path / "app.log")


def test_importing_app_does_no_work() -> None:
    """`import app` reads no settings and opens nothing; `app.server` is built on first access."""
    code = ("import os, app; os.environ['WAREHOUSE_URL']='not a url'; "
            "print('server' in vars(app))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


def test_the_warehouse_banner_comes_and_goes_by_itself(tmp_path: Path, app_env: dict[str, str], demo_data) -> None:
    """While the warehouse is away the shell says so; when it returns the banner clears itself."""
    from flask_login import login_user

    from data_layer.demo import write_warehouse
    from data_layer.engine import make_engine
    from shell.auth import SessionUser
    from shell.layout import _banner, shell_layout

    path = tmp_path / "later.duckdb"
    srv = create_app({**app_env, "WAREHOUSE_URL": f"duckdb:///{path}"})
    user = srv.extensions["hospdash"].appdb.create_user("lead9", "l", PASSWORD, "leader", "hospital", ())
    with srv.test_request_context("/", headers={"Accept-Language": "en"}):
        login_user(SessionUser(user))
        shell = shell_layout()
        banner = next(c for c in shell.children if getattr(c, "id", None) == "warehouse-banner")
        assert banner.hidden is False and "cannot be reached" in texts(banner)
        engine = make_engine(f"duckdb:///{path}")
        write_warehouse(engine, demo_data.tables, progress=False)
        engine.dispose()
        assert _banner("en") == {"children": None, "hidden": True}


def test_two_apps_in_one_process_each_serve_all_their_callbacks_once(app_env: dict[str, str]) -> None:
    """Dash hands the callbacks pages register with `dash.callback` to an app on its first request.
    An app created before another and not asked yet must still serve every callback, once, and so
    must the second (create_app runs that first-request setup at once, by public means)."""
    first = create_app(app_env)
    second = create_app(app_env)  # the same application database: one user serves both
    first.extensions["hospdash"].appdb.create_user("lead1", "lead1", PASSWORD, "leader", "hospital", ())
    served = []
    for server in (first, second):
        assert len(server.extensions["dash"].callback_map) > 50  # owned from creation, before any request
        client = server.test_client()
        assert login(client, "lead1").status_code == 302
        outputs = [cb["output"] for cb in client.get("/_dash-dependencies").get_json()]
        assert len(outputs) == len(set(outputs)) > 50
        served.append({re.sub("@[0-9a-f]{64}", "", o) for o in outputs})  # allow_duplicate's hash aside
    assert served[0] == served[1]
