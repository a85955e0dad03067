"""The warm-up (shell/warmup.py): a load triggers it, it fills the result cache under the keys the
pages' own requests use, and a warmed screen then answers without reading the warehouse (counted
statements, not timed). Workers sharing a Redis cache warm a load once between them."""
from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from bench.dashclient import post_callback
from data_layer.engine import make_engine
from data_layer.schema import meta_load

from .conftest import USERS, login

WAIT = 300  # seconds: the warm-up of the small warehouse takes a few; a loaded CI machine, more
DATA = re.compile(r"\b(fact_\w+|dim_\w+|agg_(?!meta)\w+)")  # the warehouse's data (not the freshness check)
LIVE = re.compile(r"\bfact_live_snapshot\b")
TICK = {"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1.0}}


def _v(i: str, prop: str, value) -> dict:
    return {"id": i, "property": prop, "value": value}


# (user, first output, inputs, states): what each page asks for when it opens, as the browser sends it
SCREENS = [
    ("lead1", "cw-live.children", [TICK], [_v("wall-params", "data", {"campus": None, "lang": "zh"})]),
    ("lead1", "drg-kpis.children", [TICK, _v("drg-period", "value", "ytd"), _v("drg-campus", "value", None),
                                    _v("drg-division", "value", None), _v("drg-sort", "data", None)],
     [_v("drg-wall", "data", True), _v("drg-group", "data", None)]),
    ("lead1", "drg-dip-tiles.children", [TICK, _v("drg-period", "value", "ytd"), _v("drg-campus", "value", None),
                                         _v("drg-division", "value", None)], []),
    ("lead1", "pf-bars.figure", [TICK, _v("pf-period", "value", "ytd"), _v("pf-campus", "value", None),
                                 _v("pf-division", "value", None), _v("pf-sort", "data", None)],
     [_v("pf-wall", "data", False)]),
    ("lead1", "ap-left.children", [TICK], [_v("wall-params", "data", {"campus": None, "lang": "zh"})]),
    ("lead2", "cw-live.children", [TICK], [_v("wall-params", "data", {"campus": None, "lang": "zh"})]),
    *[("dir1", f"dw-{s}.children", [_v("dw-dept", "value", "D001"), _v("dw-period", "value", "ytd")], [])
      for s in ("overview", "targets", "costs", "wards", "groups", "discipline", "appraisal")],
    # the director's next clicks: every other period of the page's picker (the warm-up's second pass)
    *[("dir1", f"dw-{s}.children", [_v("dw-dept", "value", "D001"), _v("dw-period", "value", p)], [])
      for p in ("mtd", "last-month", "last-quarter", "last-year") for s in ("overview", "costs", "discipline")],
    ("asst1", "po-table.children", [_v("ws-period", "value", "ytd")], [_v("ws-dept", "value", None)]),
    *[("lead1", "_pages_content.children", [_v("_pages_location", "pathname", path), _v("_pages_location", "search", "")],
       []) for path in ("/wall/campus", "/wall/drg", "/profit", "/wall/appraisal")],
]


def _app(tmp_path: Path, sqlite_url: str, **extra: str):
    from app import create_app

    from .conftest import PASSWORD, STRONG_KEY

    copy = tmp_path / "warehouse.sqlite"  # its own file: the test writes a new load into it
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), copy)
    env = {"WAREHOUSE_URL": f"sqlite:///{copy}", "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
           "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}", "WARMUP": "true", **extra}
    srv = create_app(env)
    db = srv.extensions["hospdash"].appdb
    for name, (role, kind, ids) in USERS.items():
        if db.get_by_username(name) is None:
            db.create_user(name, name, PASSWORD, role, kind, ids)
    return srv, f"sqlite:///{copy}"


def _clients(server) -> dict:
    clients = {}
    for name in ("lead1", "lead2", "dir1", "asst1"):
        client = server.test_client()
        assert login(client, name).status_code == 302
        client.set_cookie("lang", "zh")
        clients[name] = client
    return clients


def _workspace_screens(server) -> list[tuple]:
    """The assistant's workspace sections that share their answer by department, as each page opens
    on each of asst1's departments in each named period (the warm-up's second pass warms them all),
    and one asked by the director of D001, who shares the assistant's answers about it."""
    from data_layer.periods import PERIODS
    from pages.workspace import budget, costs

    conf = server.extensions["hospdash"].settings
    high, low, sat = f"{conf.drg_outlier_high:g}", f"{conf.drg_outlier_low:g}", f"{conf.equipment_saturation:g}"
    opening = [("wc-composition.children", []), ("wc-summary.children", [_v("wc-tol", "value", costs.TOL_START)]),
               ("ws-drg-groups.children", [_v("ws-drg-high", "value", high), _v("ws-drg-low", "value", low),
                                           _v("ws-drg-basis", "value", "charge")]),
               ("ws-eq-devices.children", [_v("ws-eq-sat", "value", sat)]),
               ("wb-window.children", [_v("wb-tol", "value", budget.TOL_START)]),
               ("wb-pace.children", [_v("wb-item", "value", budget.ALL_ITEMS)])]  # (this warehouse has no DIP)
    screens = [("asst1", out, [_v("ws-dept", "value", d), _v("ws-period", "value", p), *extra], [])
               for d in USERS["asst1"][2] for p in PERIODS for out, extra in opening]
    revenue = [("asst1", "wsr-crumbs.children",
                [_v("wsr-state", "data", {"period": p, "stream": "all", "dept": d, "by": "group", "ward": None,
                                          "group": None, "doctor": None})], [])
               for d in USERS["asst1"][2] for p in PERIODS]
    return [*screens, *revenue, *_month_screens(server), ("dir1", "wc-composition.children",
                                 [_v("ws-dept", "value", "D001"), _v("ws-period", "value", "last-year")], [])]


def _month_screens(server) -> list[tuple]:
    """Two sections of asst1's departments in the newest month and the one before (the period
    picker's months: the warm-up's third pass)."""
    through = server.extensions["hospdash"].warehouse.freshness().data_through
    before = (through.replace(day=1) - timedelta(days=1))
    return [("asst1", out, [_v("ws-dept", "value", d), _v("ws-period", "value", f"{m:%Y-%m}"), *extra], [])
            for d in USERS["asst1"][2] for m in (through, before)
            for out, extra in (("wc-composition.children", []), ("wb-pace.children", [_v("wb-item", "value", "__all__")]))]


def _reads(server, clients: dict, empty: bool = False, screens: list[tuple] = SCREENS) -> dict[str, list[str]]:
    """The warehouse statements each screen's first answer runs (by the screen's first output);
    `empty`: with the result cache emptied before each."""
    wh = server.extensions["hospdash"].warehouse
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_a) -> None:
        seen.append(statement)

    event.listen(wh.engine, "before_cursor_execute", note)
    out = {}
    try:
        for user, output, inputs, states in screens:
            if empty:
                wh.cache.clear()
            seen.clear()
            status, _body = post_callback(server, clients[user], output, inputs, states, raw=True)
            assert status == 200, (user, output, status)
            out[_name(user, output, inputs)] = [s for s in seen if DATA.search(s)]
    finally:
        event.remove(wh.engine, "before_cursor_execute", note)
    return out


def _name(user: str, output: str, inputs: list[dict]) -> str:
    return f"{user} {output} {' '.join(str(i['value']) for i in inputs)}"


def _cold(reads: dict[str, list[str]]) -> dict[str, int]:
    """Per screen, the statements that read the warehouse's data, apart from the live feed (read
    at most every 15 seconds by design: a wall's 'today so far')."""
    return {k: len([s for s in v if not LIVE.search(s)]) for k, v in reads.items()}


def test_a_load_triggers_the_warm_up_and_every_warmed_screen_answers_from_the_cache(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server, url = _app(tmp_path, sqlite_url)
    state = server.extensions["hospdash"]
    warmer = state.warmer
    assert warmer is not None and warmer.runs == 0
    clients = _clients(server)  # the first requests start the process's warm-up threads
    assert warmer.finished.wait(WAIT), "the first read of the warehouse did not start a warm-up"
    first = warmer.last
    assert first is not None and first.errors == 0 and not first.stopped, first
    assert {"wall/campus", "wall/drg", "wall/drg dip", "profit", "wall/appraisal", "department/overview",
            "department/discipline", "workspace/portfolio", "workspace/costs model", "workspace/drg detail", "workspace/revenue",
            "layout /wall/campus", "layout /profit"} <= set(first.targets), \
        first.targets
    assert first.statements > 0
    # every screen a leader, a director and an assistant open first reads nothing from the warehouse now
    assert _cold(_reads(server, clients)) == {_name(u, o, i): 0 for u, o, i, _s in SCREENS}
    # nor does any workspace section an assistant opens, on any of their departments, in any period
    workspace = _workspace_screens(server)
    assert _cold(_reads(server, clients, screens=workspace)) == {_name(u, o, i): 0 for u, o, i, _s in workspace}
    assert _month_built(server, clients, monkeypatch) == []  # the third pass warmed the months
    # the next morning the warm-up's answers are still kept, whole: nothing is built again (the
    # campus wall, whose live panels are kept one live tick, apart); a day after, they are built again
    assert _rebuilt(server, clients, hours=9) == []
    assert len(_rebuilt(server, clients, hours=25)) == len(STEADY)

    # a new load: the next check of meta_load sees it and the screens are warmed again, for the new load
    warmer.finished.clear()
    monkeypatch.setattr("data_layer.warehouse.FRESHNESS_TTL", 0.0)
    writer = make_engine(url)
    with writer.begin() as conn:
        conn.execute(insert(meta_load).values(loaded_at=datetime(2026, 11, 23, 2, 0),
                                              data_through=date.fromisoformat(first.stamp.split("|")[1]),
                                              source="test: a new nightly load"))
    writer.dispose()
    stamp = state.warehouse.freshness().stamp
    assert stamp != first.stamp
    assert warmer.finished.wait(WAIT), "a new load did not start a warm-up"
    second = warmer.last
    assert second.stamp == stamp and second.errors == 0 and second.entries == first.entries
    monkeypatch.setattr("data_layer.warehouse.FRESHNESS_TTL", 30.0)
    assert _cold(_reads(server, clients)) == {_name(u, o, i): 0 for u, o, i, _s in SCREENS}


STEADY = [s for s in SCREENS if s[1] != "cw-live.children"]  # (the campus wall's answer is live)


def _rebuilt(server, clients: dict, hours: float) -> list[str]:
    """The screens among STEADY whose answer or layout is built (not read whole from the cache) when
    asked `hours` after now (the in-process cache's clock moved on)."""
    import data_layer.lru as lru
    import pages._kit as kit
    import shell.layout as layout

    real = lru.time.monotonic
    built: list[str] = []
    out = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lru, "time", type("Later", (), {"monotonic": staticmethod(lambda: real() + hours * 3600)}))
        for module in (kit, layout):
            mp.setattr(module, "sent", lambda value, sent=module.sent: built.append("built") or sent(value))
        for user, output, inputs, states in STEADY:
            built.clear()
            status, _body = post_callback(server, clients[user], output, inputs, states, raw=True)
            assert status == 200, (user, output, status)
            if built:
                out.append(_name(user, output, inputs))
    return out


def _month_built(server, clients: dict, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The departments whose cost composition is computed (not read from the cache) when asst1 asks
    for D002's in a month three months back (its statements may have been read for a named period:
    the section's body is counted, not statements)."""
    import pages.workspace.costs as costs

    built: list[str] = []
    body = costs._composition
    monkeypatch.setattr(costs, "_composition", lambda *a: built.append(a[1]) or body(*a))
    through = server.extensions["hospdash"].warehouse.freshness().data_through
    month = f"{through.replace(day=1) - timedelta(days=70):%Y-%m}"  # no named period is this month alone
    _reads(server, clients, screens=[("asst1", "wc-composition.children",
                                      [_v("ws-dept", "value", "D002"), _v("ws-period", "value", month)], [])])
    monkeypatch.setattr(costs, "_composition", body)
    return built


def test_without_the_months_pass_the_months_stay_cold(tmp_path: Path, sqlite_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """WARMUP_MONTHS=false: the warm-up leaves the period picker's months out (the named periods
    are still warm)."""
    server, _url = _app(tmp_path, sqlite_url, WARMUP_MONTHS="false")
    warmer = server.extensions["hospdash"].warmer
    clients = _clients(server)
    assert warmer.finished.wait(WAIT) and warmer.last.errors == 0
    named = [s for s in _workspace_screens(server) if not any(i["value"][:2] == "20" for i in s[2]
                                                                if isinstance(i["value"], str))]
    assert set(_cold(_reads(server, clients, screens=named)).values()) == {0}
    assert _month_built(server, clients, monkeypatch) == ["D002"]  # computed when asked


def test_without_the_warm_up_the_same_screens_read_the_warehouse(tmp_path: Path, sqlite_url: str) -> None:
    """The counter above can fail: the same requests on an app without the warm-up read the data."""
    server, _url = _app(tmp_path, sqlite_url, WARMUP="false")
    assert server.extensions["hospdash"].warmer is None
    clients = _clients(server)
    cold = _cold(_reads(server, clients, empty=True))
    assert all(n > 0 for n in cold.values()), cold
    cold = _cold(_reads(server, clients, empty=True, screens=_workspace_screens(server)))
    assert all(n > 0 for n in cold.values()), cold


def test_the_warm_up_stops_before_it_fills_the_cache_and_the_landing_pages_stay(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-process cache too small for the whole warm-up (CACHE_MB): the warm-up stops once it
    has filled FILL_LIMIT of it, and what it warmed first (every landing page) is still there:
    without the limit its later passes drop them to make room (checked below too)."""
    from shell import warmup

    sizes = {}
    for name, limit in (("whole", warmup.FILL_LIMIT), ("limited", warmup.FILL_LIMIT), ("unlimited", 10.0)):
        folder = tmp_path / name
        folder.mkdir()
        server, _url = _app(folder, sqlite_url, WARMUP_MONTHS="false")  # (two passes are enough to show it)
        cache = server.extensions["hospdash"].warehouse.cache
        if name != "whole":
            first_pass, second_pass = sizes["whole"].passes[0][1], sizes["whole"].passes[1][1]
            # limited: room for the first pass and a little of the second within the limit;
            # unlimited: room for the first pass only, and the warm-up goes on
            cache.budget = (int((first_pass + (second_pass - first_pass) // 4) / warmup.FILL_LIMIT)
                            if name == "limited" else first_pass)
        monkeypatch.setattr(warmup, "FILL_LIMIT", limit)
        warmer = server.extensions["hospdash"].warmer
        clients = _clients(server)
        assert warmer.finished.wait(WAIT)
        sizes[name] = report = warmer.last
        assert report.errors == 0 and not report.stopped
        if name == "whole":
            assert not report.full and report.written <= cache.budget and len(report.passes) == 2
            continue
        first = [s for s in SCREENS if not (s[0] == "dir1" and s[2][1]["value"] != "ytd")]  # the first pass's
        reads = _cold(_reads(server, clients, screens=first))
        if name == "limited":
            assert report.full and report.entries < sizes["whole"].entries
            assert report.written < limit * cache.budget + 1_000_000  # it stopped at the limit (one answer over at most)
            assert reads == {_name(u, o, i): 0 for u, o, i, _s in first}
        else:  # the whole warm-up into that: the landing pages it warmed first are gone
            assert not report.full and report.entries == sizes["whole"].entries
            assert sum(1 for n in reads.values() if n) > len(reads) // 2, reads
