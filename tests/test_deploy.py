"""The production set-up, end to end: gunicorn (deploy/gunicorn.conf.py, two workers) serving the
app over the small demo warehouse on PostgreSQL, with the application database on another
PostgreSQL database and the result cache in Redis; users made with `python -m appdb`; every
role's smoke test through real HTTP; the Redis cache shared by the workers; the load test's
quick mode against the same server. Needs the PostgreSQL and Redis servers on this machine:
fails in CI, skips elsewhere, when one is not reachable."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from .conftest import PASSWORD, PG_ADMIN, STRONG_KEY, server_unavailable

pytestmark = [pytest.mark.backend, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
CONF = ROOT / "deploy" / "gunicorn.conf.py"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
PREFIX = "hospdash:"  # the key prefix of data_layer.warehouse.make_cache
CLAIM = "hospdash-test-deploy:claim"

# username -> (role, scope kind, scope ids), made with `python -m appdb create`
ACCOUNTS = {
    "ops.admin": ("admin", "none", ""),
    "ops.leader": ("leader", "hospital", ""),
    "ops.director": ("director", "departments", "D001"),
    "ops.assistant": ("assistant", "departments", "D001,D002,D003"),
}
LANDING = {"ops.admin": "/admin", "ops.leader": "/wall/campus", "ops.director": "/department",
           "ops.assistant": "/workspace"}
# pages each role may open / may not (Dash answers every page address with its shell; the page
# itself is the router callback's answer: the page, or the 403 panel `#forbidden` in the shell)
MAY = {"ops.admin": ["/admin"],
       "ops.leader": ["/wall/campus", "/wall/drg", "/profit", "/department", "/alerts"],
       "ops.director": ["/department?dept=D001&period=ytd", "/", "/alerts"],
       "ops.assistant": ["/workspace", "/workspace/costs?dept=D002&period=ytd", "/alerts"]}
MAY_NOT = {"ops.admin": ["/wall/campus", "/department", "/workspace"],
           "ops.leader": ["/admin"],
           "ops.director": ["/admin", "/wall/campus", "/wall/drg"],
           "ops.assistant": ["/admin", "/wall/campus", "/profit"]}
STARTUP_SECONDS = 45


# ------------------------------------------------------------------ servers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_db() -> Iterator[tuple[str, Any]]:
    """A Redis database number nobody else is using (claimed with a marker key), as a CACHE_URL;
    the app's keys in it are deleted afterwards."""
    try:
        import redis

        probe = redis.Redis.from_url(f"{REDIS_URL}/0", socket_connect_timeout=2)
        probe.ping()
        probe.close()
    except Exception as exc:
        server_unavailable(f"Redis at {REDIS_URL}", exc)
    token = uuid.uuid4().hex
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}", socket_connect_timeout=2)
        if client.dbsize() == 0 and client.set(CLAIM, token, nx=True, ex=600):
            break
        client.close()
    else:
        pytest.skip("no empty Redis database (1-15) to run the deployment test in")
    try:
        yield f"{REDIS_URL}/{number}", client
    finally:
        keys = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i:i + 500])
        if client.get(CLAIM) == token.encode():
            client.delete(CLAIM)
        client.close()


@pytest.fixture(scope="module")
def app_db_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the application database; dropped afterwards."""
    name = f"hospdash_appdb_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))  # a generated name, never input
    except Exception as exc:
        server_unavailable("PostgreSQL at 127.0.0.1:5432", exc)
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                              "AND pid <> pg_backend_pid()"))
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="module")
def live(redis_db: tuple[str, Any], app_db_url: str, postgres_url: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """gunicorn with deploy/gunicorn.conf.py and two workers on a free port; killed afterwards."""
    folder = tmp_path_factory.mktemp("deploy")
    cache_url, redis_client = redis_db
    env = {**os.environ, "WAREHOUSE_URL": postgres_url, "APP_DB_URL": app_db_url, "CACHE_URL": cache_url,
           "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(folder / "data"), "BEHIND_PROXY": "false",
           "SECURE_COOKIES": "false"}
    # the deployment's first steps, as docs/deployment.md gives them: migrate, then the accounts
    done = subprocess.run([sys.executable, "-m", "appdb", "migrate"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for username, (role, kind, ids) in ACCOUNTS.items():
        args = [sys.executable, "-m", "appdb", "create", username, "--name", username, "--role", role,
                "--scope", kind, "--password-stdin"] + (["--ids", ids] if ids else [])
        done = subprocess.run(args, cwd=ROOT, env=env, input=PASSWORD + "\n", capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and f"created {username}" in done.stdout, done.stderr
    port = _free_port()
    access = folder / "access.log"
    log = folder / "gunicorn.log"
    genv = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "4",
            "GUNICORN_ACCESSLOG": str(access)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(GUNICORN), "-c", str(CONF)], cwd=folder, env=genv, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}",
                            pytrace=False)
            time.sleep(0.25)
        yield {"base": base, "pid": proc.pid, "access": access, "log": log, "redis": redis_client,
               "app_db_url": app_db_url, "env": env, "folder": folder}
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# ------------------------------------------------------------------ HTTP helpers
def _login(base: str, username: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    page = s.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = s.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": token},
                  allow_redirects=False, timeout=20)
    return s, resp


_DEPS: dict[str, list[dict]] = {}


def _deps(base: str, s: requests.Session) -> list[dict]:
    if base not in _DEPS:
        _DEPS[base] = s.get(f"{base}/_dash-dependencies", timeout=10).json()
    return _DEPS[base]


def _callback(base: str, s: requests.Session, first_output: str, inputs: list[dict],
              state: list[dict] | None = None) -> tuple[int, dict[str, Any]]:
    """Post the callback whose outputs include `first_output` (id.property) and whose inputs are
    `inputs`, as the renderer does (body from /_dash-dependencies, CSRF header from the cookie)."""
    wanted = {f"{i['id']}.{i['property']}" for i in inputs}
    spec = next(d for d in _deps(base, s)
                if first_output in [o.split("@")[0] for o in d["output"].strip(".").split("...")]
                and wanted == {f"{i['id']}.{i['property']}" for i in d["inputs"]})
    key = spec["output"]
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": inputs,
            "state": state or [],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs if i.get("value") is not None]}
    resp = s.post(f"{base}/_dash-update-component", data=json.dumps(body), timeout=60,
                  headers={"Content-Type": "application/json", "X-CSRFToken": s.cookies.get("_csrf_token", "")})
    if resp.status_code != 200:
        return resp.status_code, {}
    got = resp.json()["response"]
    return 200, {f"{i}.{p.split('@')[0]}": v for i, props in got.items() for p, v in props.items()}


def _open(base: str, s: requests.Session, address: str) -> tuple[int, str]:
    """Open a page as the browser does: the shell for the address, then the router callback."""
    path, _, query = address.partition("?")
    assert s.get(f"{base}{address}", timeout=20).status_code == 200
    status, out = _callback(base, s, "_pages_content.children",
                            [{"id": "_pages_location", "property": "pathname", "value": path},
                             {"id": "_pages_location", "property": "search", "value": f"?{query}" if query else ""}])
    return status, json.dumps(out.get("_pages_content.children"), ensure_ascii=False)


def _has_data(value: Any) -> bool:
    """A figure with at least one trace holding values, a table with rows, or rendered content."""
    if isinstance(value, dict) and "data" in value and isinstance(value["data"], list):
        return any(any(t.get(k) is not None for k in ("x", "y", "values", "z", "labels")) for t in value["data"])
    if isinstance(value, list):
        return len(value) > 0
    return bool(value)


# ------------------------------------------------------------------ the tests
def test_gunicorn_runs_the_app_with_several_workers(live: dict[str, Any]) -> None:
    assert requests.get(f"{live['base']}/healthz", timeout=5).json()["status"] == "ok"
    import psutil

    deadline = time.monotonic() + 15
    while len(workers := psutil.Process(live["pid"]).children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # the master starts its workers one after another
    assert len(workers) >= 2, f"expected 2 workers under the gunicorn master, found {workers}"


def test_a_stranger_is_sent_to_login(live: dict[str, Any]) -> None:
    base = live["base"]
    resp = requests.get(f"{base}/department", allow_redirects=False, timeout=10, headers={"Accept": "text/html"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    assert requests.get(f"{base}/_dash-layout", timeout=10).status_code == 401


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_each_role_signs_in_and_lands_on_its_page(live: dict[str, Any], username: str) -> None:
    s, resp = _login(live["base"], username)
    assert resp.status_code == 302 and resp.headers["Location"] == LANDING[username]
    cookie = next(c for c in resp.raw.headers.getlist("Set-Cookie") if c.startswith("hospdash_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie  # a signed cookie: any worker or machine reads it
    assert s.get(live["base"] + LANDING[username], timeout=20).status_code == 200


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_each_role_opens_its_pages_and_is_refused_the_others(live: dict[str, Any], username: str) -> None:
    base = live["base"]
    s, _ = _login(base, username)
    for address in MAY[username]:
        status, page = _open(base, s, address)
        assert status == 200 and '"forbidden"' not in page, f"{username} could not open {address}"
    for address in MAY_NOT[username]:
        status, page = _open(base, s, address)
        assert status == 200 and '"forbidden"' in page, f"{username} was not refused {address}"


TICK = {"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}}


def _landing_callback(base: str, s: requests.Session, username: str) -> dict[str, Any]:
    """The main data callback of each role's landing page, with the inputs the page starts with."""
    if username == "ops.leader":
        status, out = _callback(base, s, "cw-live.children", [TICK],
                                [{"id": "wall-params", "property": "data", "value": {"campus": None, "lang": "en"}}])
        assert status == 200
        assert _has_data(out["cw-trend-revenue.figure"]) and _has_data(out["cw-volumes.children"])
        return out
    if username == "ops.director":
        status, out = _callback(base, s, "dw-overview.children",
                                [{"id": "dw-dept", "property": "value", "value": "D001"},
                                 {"id": "dw-period", "property": "value", "value": "ytd"}])
        assert status == 200 and "stat-card" in json.dumps(out["dw-overview.children"])
        return out
    if username == "ops.assistant":
        status, out = _callback(base, s, "po-table.children",
                                [{"id": "ws-period", "property": "value", "value": "ytd"}],
                                [{"id": "ws-dept", "property": "value", "value": "D001"}])
        assert status == 200 and _has_data(out["po-table.children"])
        assert "D004" not in json.dumps(out)  # only the assistant's departments
        return out
    status, out = _callback(base, s, "audit-table.children", [
        {"id": "audit-action", "property": "value", "value": "login"},
        {"id": "audit-user", "property": "value", "value": None},
        {"id": "audit-dates", "property": "start_date", "value": None},
        {"id": "audit-dates", "property": "end_date", "value": None},
        {"id": "admin-refresh", "property": "data", "value": 0}])
    assert status == 200 and "ops.admin" in json.dumps(out, ensure_ascii=False)
    return out


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_the_landing_page_callback_answers_with_data(live: dict[str, Any], username: str) -> None:
    s, _ = _login(live["base"], username)
    s.get(live["base"] + LANDING[username], timeout=20)
    _landing_callback(live["base"], s, username)


def test_callbacks_refuse_the_wrong_role_and_a_foreign_department(live: dict[str, Any]) -> None:
    base = live["base"]
    s, _ = _login(base, "ops.director")
    status, _ = _callback(base, s, "cw-live.children", [TICK],
                          [{"id": "wall-params", "property": "data", "value": {"campus": None}}])
    assert status == 403  # the campus screen is the leaders'
    status, _ = _callback(base, s, "dw-overview.children", [{"id": "dw-dept", "property": "value", "value": "D002"},
                                                            {"id": "dw-period", "property": "value", "value": "ytd"}])
    assert status == 403  # not the director's department
    headers = {"Content-Type": "application/json"}  # no CSRF header: refused
    body = {"output": "po-table.children", "outputs": {"id": "po-table", "property": "children"},
            "inputs": [{"id": "ws-period", "property": "value", "value": "ytd"}], "state": [], "changedPropIds": []}
    assert s.post(f"{base}/_dash-update-component", data=json.dumps(body), headers=headers,
                  timeout=20).status_code == 400


def test_logout_ends_the_session(live: dict[str, Any]) -> None:
    base = live["base"]
    s, _ = _login(base, "ops.director")
    assert s.get(f"{base}/_dash-layout", timeout=20).status_code == 200
    resp = s.post(f"{base}/logout", data={"csrf_token": s.cookies.get("_csrf_token")}, allow_redirects=False,
                  timeout=20)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert s.get(f"{base}/_dash-layout", timeout=20).status_code == 401


def _pids_for(access_log: Path, marker: str) -> set[str]:
    return {m.group(1) for line in access_log.read_text().splitlines() if marker in line
            for m in [re.search(r"pid=<?(\d+)>?", line)] if m}


def test_the_workers_share_the_redis_cache(live: dict[str, Any]) -> None:
    """One worker computes a figure and stores it in Redis; the other worker then answers the
    same callback from Redis without recomputing it (the keys' expiry is not renewed)."""
    base, client = live["base"], live["redis"]
    s, _ = _login(base, "ops.leader")
    inputs = [TICK, {"id": "pf-period", "property": "value", "value": "last-quarter"},
              {"id": "pf-campus", "property": "value", "value": None},
              {"id": "pf-division", "property": "value", "value": None},
              {"id": "pf-sort", "property": "data", "value": None}]
    before = set(client.scan_iter(match=f"{PREFIX}q:*"))
    desk = [{"id": "pf-wall", "property": "data", "value": False}]
    assert _callback(base, s, "pf-bars.figure", inputs, desk)[0] == 200
    fresh = set(client.scan_iter(match=f"{PREFIX}q:*")) - before
    assert fresh, "the first request stored no query result in Redis"
    assert client.exists(f"{PREFIX}freshness")
    ttl = {k: client.ttl(k) for k in fresh}
    time.sleep(2.2)
    served_by: set[str] = set()
    for _round in range(6):  # parallel fresh connections land on both workers
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda _i: _callback(base, _fresh_session(s), "pf-bars.figure", inputs, desk)[0],
                                     range(6)))
        assert statuses == [200] * 6
        time.sleep(0.3)  # the access log is written after the response
        served_by = _pids_for(live["access"], "POST /_dash-update-component")
        if len(served_by) >= 2:
            break
    assert len(served_by) >= 2, f"all callbacks went to one worker: {served_by}"
    for key, before_ttl in ttl.items():
        now = client.ttl(key)
        assert 0 < now <= before_ttl - 2, f"{key!r} was recomputed (expiry renewed) instead of read from Redis"


def _fresh_session(s: requests.Session) -> requests.Session:
    """The same signed-in browser on a new connection (so the request may reach another worker)."""
    t = requests.Session()
    t.cookies.update(s.cookies)
    t.headers["Connection"] = "close"
    return t


@pytest.mark.parametrize("extra", [[], ["--replay", "25"]], ids=["plain", "replay"])
def test_the_load_test_runs_in_quick_mode(live: dict[str, Any], extra: list[str]) -> None:
    """It runs without errors; with --replay the measured window (20 s) replays clicks of the first
    pass (25 s), and says it made no more of them."""
    out = live["folder"] / f"load{'-'.join(extra)}.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--quick", "--url", live["base"],
                           "--app-db", live["app_db_url"], "--out", str(out), *extra],
                          cwd=ROOT, env=live["env"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    table = out.read_text()
    assert "| users |" in table and "requests/s" in table
    row = next(line for line in table.splitlines() if re.match(r"\|\s*\d+\s*\|", line))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[2]) > 0, f"no requests were made: {row}"  # requests
    assert cells[-1] == "0", f"the load test saw errors: {row}\n{done.stdout[-2000:]}"
    if extra:
        measured, first = map(int, re.search(r"(\d+) clicks measured, (\d+) in the first pass", table).groups())
        assert 0 < measured <= first, table


def test_the_load_test_counts_the_page_parts_the_server_logged_as_failed(tmp_path: Path) -> None:
    """A failed page part answers 200 with a note: the load test reads the server's log for them
    (only what was written during its run) and counts them as errors."""
    from bench.load import Result, count_failed_parts

    log = tmp_path / "gunicorn.log"
    log.write_text("page part dip tiles failed\nTraceback (most recent call last):\n", encoding="utf-8")
    offset = log.stat().st_size
    with open(log, "a", encoding="utf-8") as f:
        f.write("[INFO] Booting worker\npage part dip sensitivity failed\nTraceback (most recent call last):\n"
                "KeyError: 'cut'\npage part dip sensitivity failed\nTraceback\npage figure pace failed\n"
                "warm-up: department/costs for load.director.001 failed\nwarm-up: 12 answers in 3.0 s\n")
    res = Result(users=1, cache="redis", seconds=1, requests=1, rps=1, clicks_per_s=1, p50=1, p95=1, max=1, errors=1,
                 by_kind={}, error_kinds={"callback: 500": 1})
    count_failed_parts(res, log, offset)
    assert res.errors == 5
    assert res.error_kinds == {"callback: 500": 1, "server: page part dip sensitivity failed": 2,
                               "server: page figure pace failed": 1,
                               "server: warm-up: department/costs for load.director.001 failed": 1}


@pytest.mark.parametrize("args", [["--url", "http://127.0.0.1:9"], ["--cache", "in-process"], ["--soak", "60"]])
def test_the_load_test_refuses_to_wait_for_a_warm_up_it_cannot_see(args: list[str], capsys) -> None:
    """--after-warmup reads the warm-up's marker in the Redis of a gunicorn it starts: elsewhere it is
    refused at once with a message, before any account is made."""
    from bench.load import main

    with pytest.raises(SystemExit) as stop:
        main(["--warehouse", "duckdb:///nowhere.duckdb", "--app-db", "sqlite:///nowhere.sqlite",
              "--redis", "redis://127.0.0.1:6379/14", "--after-warmup", *args])
    assert stop.value.code == 2 and "--after-warmup" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--replay", "-5"], ["--settle", "-1"], ["--replay", "60", "--settle", "30"]])
def test_the_load_test_refuses_clicking_it_cannot_measure(args: list[str], capsys) -> None:
    """A negative replay or settle time, or both at once, is refused with a message rather than ignored."""
    from bench.load import main

    with pytest.raises(SystemExit) as stop:
        main(["--warehouse", "duckdb:///nowhere.duckdb", "--app-db", "sqlite:///nowhere.sqlite", *args])
    assert stop.value.code == 2 and ("--replay" in capsys.readouterr().err)


BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"


def test_the_load_test_reads_the_cpu_the_server_and_itself_spent() -> None:
    """The server's CPU is its master's and workers' own, with a worker that ended (recycled) still
    counted once the master has waited for it; the load generator's is its own process's."""
    from bench.load import CPU_PARTS, cpu_meter

    master = (
        "import subprocess, sys, time\n"
        "sys.stdin.readline()\n"  # the first reading is taken
        f"subprocess.run([sys.executable, '-c', {BURN.format(s=0.4)!r}])\n"  # a worker that ended
        f"alive = subprocess.Popen([sys.executable, '-c', {(BURN.format(s=0.3) + 'time.sleep(60)')!r}])\n"
        f"{BURN.format(s=0.2)}"
        "time.sleep(0.5)\nprint('done', flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", master], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        meter = cpu_meter(proc.pid)
        before = meter()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        exec(BURN.format(s=0.3))  # the load generator's own work
        assert proc.stdout.readline().strip() == "done"
        after = meter()
    finally:
        for child in __import__("psutil").Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
        proc.wait()
    spent = {part: after[part] - before[part] for part in after}
    assert set(spent) == set(CPU_PARTS)
    assert 0.9 <= spent["server"] < 3, spent  # 0.4 + 0.3 + 0.2 s, and two interpreters starting
    assert spent["load generator"] >= 0.3, spent
    assert spent["PostgreSQL"] >= 0 and spent["Redis"] >= 0


def test_the_load_test_says_what_the_users_ask_and_the_cores_it_takes() -> None:
    """200 users thinking 2-8 s (5 s on average) click 40 times a second; at 5 requests a click they
    ask 200 requests/s, and a server spending 10 ms of CPU a request needs 2 cores for that."""
    from bench.load import Result, demand, table

    res = Result(users=200, cache="redis", seconds=60, requests=6000, rps=100, clicks_per_s=20, p50=1, p95=1,
                 max=1, errors=0, by_kind={}, error_kinds={}, think=(2.0, 8.0),
                 cpu={"server": 60.0, "PostgreSQL": 12.0, "Redis": 1.2, "load generator": 18.0})
    rate, cores = demand(res)
    assert rate == pytest.approx(200)
    assert cores == pytest.approx({"server": 2.0, "PostgreSQL": 0.4, "Redis": 0.04, "load generator": 0.6})
    from dataclasses import replace

    assert demand(replace(res, think=(0.0, 0.0))) is None  # no think time: no rate to speak of
    row = next(line for line in table([res], {}).splitlines() if line.startswith("| 200 | redis | 10.0 |"))
    assert row == "| 200 | redis | 10.0 | 2.0 | 0.2 | 3.0 | 1.52 | 200 | 2.44; 0.60 |"


def test_the_load_test_runs_the_pick_the_browser_makes() -> None:
    """A picker whose value the browser sets (assets/ws-pick.js) feeds a server callback: the load
    test runs that step as the browser does, without a request, so the DRG detail and DIP cases are
    still asked; other browser-side callbacks are skipped."""
    from bench.load import Browser, Recorder

    keep = {"output": "ws-drg-group.value", "clientside_function": {"namespace": "workspace", "function_name": "keep"},
            "inputs": [{"id": "ws-drg-group", "property": "options"}],
            "state": [{"id": "ws-drg-group", "property": "value"}]}
    clock = dict(keep, clientside_function={"namespace": "wall", "function_name": "clock"})
    b = Browser("http://127.0.0.1:9", Recorder())  # nothing listens there: a request would fail and be counted
    b.page = {"ws-drg-group": {"options": [{"value": "ES23"}, {"value": "FR11"}], "value": None}}
    assert b._usable(keep, b._components()) and not b._usable(clock, b._components())
    assert b._fire(keep, ["ws-drg-group.options"]) == {"ws-drg-group.value": "ES23"}
    b.page["ws-drg-group"]["value"] = "FR11"
    assert b._fire(keep, ["ws-drg-group.options"]) == {}  # kept: no update
    b.page["ws-drg-group"]["options"] = []
    assert b._fire(keep, ["ws-drg-group.options"]) == {"ws-drg-group.value": None}
    assert b.rec.samples == []
