"""The Flask app: factory, entry points, landing page, and clear errors when the warehouse is away."""
from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask import Flask

from app import create_app

ROOT = Path(__file__).resolve().parents[1]


def _texts(component) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_texts(c) for c in component)
    return _texts(getattr(component, "children", None))


@pytest.fixture
def server(app_env: dict[str, str]) -> Flask:
    return create_app(app_env)


def test_factory_returns_a_flask_server_with_dash(server: Flask) -> None:
    client = server.test_client()
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and "_pages_content" in layout.get_data(as_text=True)
    assert client.get("/_dash-dependencies").status_code == 200


def test_bootstrap_and_theme_css_are_served_locally(server: Flask) -> None:
    client = server.test_client()
    css = client.get("/vendor/bootstrap.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and len(css.data) > 100_000
    assert client.get("/assets/style.css").status_code == 200
    assert "cdn" not in client.get("/").get_data(as_text=True).lower()


@pytest.mark.parametrize(("lang", "title", "label", "points"), [
    ("zh-CN,zh;q=0.9", "医院运营决策驾驶舱", "出院人次", "个百分点"),
    ("en-US,en;q=0.9", "Hospital Operations Dashboard", "Discharges", " pp"),
])
def test_landing_page_shows_the_hospital_in_the_browser_language(server: Flask, lang: str, title: str,
                                                                 label: str, points: str) -> None:
    home = importlib.import_module("pages.home")

    with server.test_request_context("/", headers={"Accept-Language": lang}):
        text = _texts(home.layout())
    assert title in text and label in text
    assert "2026-11-21" in text  # data freshness
    assert points in text  # ratios change in percentage points


def test_landing_page_numbers_are_the_query_layers(server: Flask) -> None:
    home = importlib.import_module("pages.home")
    from data_layer.periods import Period
    from data_layer.queries.kpis import compare
    from data_layer.scope import Scope

    wh = server.extensions["hospdash"].warehouse
    fresh = wh.freshness()
    ytd = Period(fresh.data_through.replace(month=1, day=1), fresh.data_through)
    discharges = compare(wh, Scope.hospital(), ("discharges",), ytd)["value"].iloc[0]
    with server.test_request_context("/", headers={"Accept-Language": "en"}):
        text = _texts(home.layout())
    assert f"{discharges:,.0f}" in text and discharges > 1000


def test_a_missing_warehouse_gives_a_clear_banner_not_a_traceback(tmp_path: Path, app_env: dict[str, str]) -> None:
    home = importlib.import_module("pages.home")

    server = create_app({**app_env, "WAREHOUSE_URL": f"duckdb:///{tmp_path / 'gone.duckdb'}"})
    with server.test_request_context("/", headers={"Accept-Language": "en"}):
        text = _texts(home.layout())
    assert "cannot be reached" in text and "does not exist" in text
    assert "Traceback" not in text


def test_an_unreachable_server_gives_a_clear_banner(app_env: dict[str, str]) -> None:
    home = importlib.import_module("pages.home")

    server = create_app({**app_env, "WAREHOUSE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    with server.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        text = _texts(home.layout())
    assert "数据仓库暂时无法访问" in text and "Traceback" not in text


def test_unknown_path_shows_the_not_found_page(server: Flask) -> None:
    not_found = importlib.import_module("pages.not_found_404")

    with server.test_request_context("/nowhere?path=/nowhere", headers={"Accept-Language": "en"}):
        assert "Page not found" in _texts(not_found.layout())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_and_get(cmd: list[str], env: dict[str, str], port: int) -> None:
    """Start a server process, wait for it, and check it serves the app."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=5)
                break
            except requests.ConnectionError:
                if time.time() > deadline or proc.poll() is not None:
                    out = proc.stdout.read().decode() if proc.poll() is not None else ""
                    pytest.fail(f"{cmd[2]} did not start: {out[-2000:]}")
                time.sleep(0.5)
        assert r.status_code == 200 and "_pages_content" in r.text
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "dash" in page.text.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


def test_gunicorn_serves_the_same_app(app_env: dict[str, str]) -> None:
    port = _free_port()
    _serve_and_get([sys.executable, "-m", "gunicorn", "app:server", "-b", f"127.0.0.1:{port}", "-w", "2",
                    "--timeout", "60"], app_env, port)


def test_python_app_py_serves(app_env: dict[str, str]) -> None:
    port = _free_port()
    _serve_and_get([sys.executable, "app.py"], {**app_env, "PORT": str(port)}, port)


def test_importing_app_does_no_work() -> None:
    """`import app` reads no settings and opens nothing; `app.server` is built on first access."""
    code = ("import os, app; os.environ['WAREHOUSE_URL']='not a url'; "
            "print('server' in vars(app))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
