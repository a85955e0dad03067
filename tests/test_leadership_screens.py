"""Leadership screens: each figure's data through the real callbacks, wall-mode parsing and
rotation, the live feed and its fallback, the simulator, kiosk logins, and scope."""
from __future__ import annotations

import importlib
import json
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import insert

from appdb.alerts import save_scan
from components.wall import CAMPUS_COLORS, GOOD, LOSS, campus_color, next_url, parse_wall_query, rotation
from data_layer.alerts.detect import scan
from data_layer.demo.live import DayBase, intraday, run_live
from data_layer.engine import make_engine
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.drg import drg_cost_structure, drg_groups, drg_only
from data_layer.queries.kpis import compare, indicator_values
from data_layer.queries.live import LIVE_METRICS, current_figures, latest_day
from data_layer.queries.profit import department_profit
from data_layer.queries.structure import departments
from data_layer.schema import fact_live_snapshot
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import texts
from .helpers import decode_array as _arr
from .helpers import post_callback as _call
from .test_auth import _signed_in as _signed_in_zh


def _signed_in(server: Flask, username: str):
    """A signed-in test client that reads English."""
    client = _signed_in_zh(server, username)
    client.set_cookie("lang", "en")
    return client

THROUGH = date(2026, 11, 21)
YTD = Period(date(2026, 1, 1), THROUGH)


TICK = [{"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}}]
PF_DESK = [{"id": "pf-wall", "property": "data", "value": False}]  # the profit view at a desk


def _filters(prefix: str, period="ytd", campus=None, division=None, sort=None) -> list[dict]:
    """A screen's desk filters and its table's sort, as the refresh callback takes them."""
    return [{"id": f"{prefix}-period", "property": "value", "value": period},
            {"id": f"{prefix}-campus", "property": "value", "value": campus},
            {"id": f"{prefix}-division", "property": "value", "value": division},
            {"id": f"{prefix}-sort", "property": "data", "value": sort}]


def _row_keys(table) -> list[str]:
    """The keys of a rank table's rows (or a desk grid's rows), in order, from the callback's JSON."""
    if isinstance(table, dict) and table.get("type") == "AgGrid":
        return [r["dept_id"] for r in table["props"]["rowData"]]
    return [m.group(1) for m in re.finditer(r'"type": "[a-z]+-row", "index": "([^"]+)"', json.dumps(table))]


def _day(frame):
    """A generated table's date column as datetime.date values."""
    import pandas as pd

    return pd.to_datetime(frame["date"]).dt.date


# ------------------------------------------------------------------ wall mode
def test_wall_query_takes_good_values_and_notes_bad_ones() -> None:
    wq = parse_wall_query({"kiosk": "1", "rotate": "30", "campus": "C2"}, "en", ["C1", "C2"])
    assert (wq.kiosk, wq.rotate, wq.campus, wq.notes) == (True, 30, "C2", ())
    bad = parse_wall_query({"rotate": "fast", "campus": "C9"}, "en", ["C1", "C2"])
    assert bad.rotate is None and bad.campus is None and len(bad.notes) == 2
    assert "rotate=fast" in bad.notes[0] and "C9" in bad.notes[1]
    assert parse_wall_query({"rotate": "2"}, "zh", []).rotate is None  # too fast to read
    assert parse_wall_query({"rotate": "1e9"}, "zh", []).rotate is None


def test_rotation_visits_every_campus_then_the_other_screens() -> None:
    assert rotation(["C2", "C1"]) == [("/wall/campus", None), ("/wall/campus", "C1"), ("/wall/campus", "C2"),
                                      ("/wall/drg", None), ("/profit", None), ("/wall/appraisal", None)]
    assert rotation(["C2"]) == [("/wall/campus", None), ("/wall/drg", None), ("/profit", None), ("/wall/appraisal", None)]
    wq = parse_wall_query({"kiosk": "1", "rotate": "20"}, "en", ["C1", "C2"])
    assert next_url("/wall/campus", wq, ["C1", "C2"]) == "/wall/campus?kiosk=1&rotate=20&campus=C1"
    assert next_url("/profit", wq, ["C1", "C2"]) == "/wall/appraisal?kiosk=1&rotate=20"
    assert next_url("/wall/appraisal", wq, ["C1", "C2"]) == "/wall/campus?kiosk=1&rotate=20"
    assert next_url("/profit", parse_wall_query({}, "en", []), ["C1"]) is None


def test_campus_colours_are_fixed_and_good_is_not_told_by_red_and_green() -> None:
    assert campus_color("C2", ["C3", "C1", "C2"]) == campus_color("C2", ["C1", "C2", "C3"]) == CAMPUS_COLORS[1]
    assert len(set(CAMPUS_COLORS)) == len(CAMPUS_COLORS)
    assert {GOOD, LOSS}.isdisjoint({"#FF0000", "#00FF00", "#008000"})


# ------------------------------------------------------------------ live feed
def test_live_rows_are_used_only_when_every_campus_is_fresh(wh: Warehouse, demo_data) -> None:
    campuses = sorted(demo_data.tables["dim_campus"]["campus_id"])
    # the demo wrote snapshots every 15 minutes up to 10:30 on 2026-11-22
    at_1040 = current_figures(wh, Scope.hospital(), campuses, datetime(2026, 11, 22, 10, 40), timedelta(minutes=30))
    assert at_1040.source == "live" and at_1040.as_of == datetime(2026, 11, 22, 10, 30)
    snap = demo_data.tables["fact_live_snapshot"]
    last = snap[snap["captured_at"] == snap["captured_at"].max()]
    for metric in LIVE_METRICS:
        if metric != "beds_available":
            assert at_1040.values[metric] == pytest.approx(last.loc[last["metric_code"] == metric, "value"].sum())
    # beds available: the open beds of the latest ward day less the live inpatients, the same source
    # as occupancy, negative for extra beds (a feed's own figure stops at 0)
    wd = demo_data.tables["fact_ward_daily"]
    open_beds = wd.loc[_day(wd) == THROUGH, "open_beds"].sum()
    assert at_1040.open_beds == open_beds
    assert at_1040.values["beds_available"] == open_beds - at_1040.values["inpatients_now"]
    later = current_figures(wh, Scope.hospital(), campuses, datetime(2026, 11, 22, 15, 0), timedelta(minutes=30))
    assert later.source == "day" and later.as_of == THROUGH
    assert later.silent_since == datetime(2026, 11, 22, 10, 30)


def test_latest_day_fallback_is_the_daily_facts(wh: Warehouse, demo_data) -> None:
    day = latest_day(wh, Scope.hospital(), THROUGH)
    totals = day.groupby("metric_code")["value"].sum()
    vals = indicator_values(wh, Scope.hospital(), ("outpatient_visits", "discharges", "bed_days"),
                            Period(THROUGH, THROUGH)).set_index("indicator")["value"]
    assert totals["outpatient_visits_today"] == vals["outpatient_visits"]
    assert totals["discharges_today"] == vals["discharges"]
    assert totals["inpatients_now"] == vals["bed_days"]
    wd = demo_data.tables["fact_ward_daily"]
    wd = wd[_day(wd) == THROUGH].merge(demo_data.tables["dim_ward"][["ward_id", "dept_id"]], on="ward_id").merge(
        demo_data.tables["dim_department"][["dept_id", "campus_id"]], on="dept_id")
    beds = wd.groupby("campus_id")["open_beds"].sum()
    per = day[day["metric_code"] == "beds_available"].set_index("campus_id")["value"]
    census = day[day["metric_code"] == "inpatients_now"].set_index("campus_id")["value"]
    assert (census == wd.groupby("campus_id")["occupied_beds"].sum()).all()
    assert (per == beds - census).all()  # negative where extra beds (加床) are in use, never clipped to 0
    # a campus leader's fallback covers their campus only
    c2 = latest_day(wh, Scope.campuses(["C2"]), THROUGH)
    assert set(c2["campus_id"]) == {"C2"}


def test_the_day_and_the_same_day_a_week_before_are_read_together_each_as_itself(wh: Warehouse) -> None:
    """The campus screen without a live feed sets the latest day against the same weekday a week
    earlier: both come from one read per source (day_and_week_before), each the day's own figures."""
    from data_layer.errors import UserError
    from data_layer.queries.live import WEEK, day_and_week_before

    day, week = day_and_week_before.uncached(wh, Scope.hospital(), THROUGH)
    for got, when in ((day, THROUGH), (week, THROUGH - WEEK)):
        totals = got.groupby("metric_code")["value"].sum()
        vals = indicator_values(wh, Scope.hospital(), ("outpatient_visits", "admissions", "surgeries"),
                                Period(when, when)).set_index("indicator")["value"]
        assert totals["outpatient_visits_today"] == vals["outpatient_visits"]
        assert totals["admissions_today"] == vals["admissions"]
        assert totals["surgeries_today"] == vals["surgeries"]
    assert day["value"].tolist() != week["value"].tolist()
    first = wh.freshness().first_date
    assert day_and_week_before.uncached(wh, Scope.hospital(), first)[1] is None  # a week before the data
    with pytest.raises(UserError):
        latest_day(wh, Scope.hospital(), first - WEEK)


def test_intraday_curve_is_plausible() -> None:
    base = DayBase(visits=1000, emergency=96, admissions=50, discharges=48, surgeries=20, census0=300, beds=320)
    night, noon, evening = intraday(3, base), intraday(12, base), intraday(20, base)
    # outpatient and emergency visits (门急诊): at 03:00 only the night's emergencies, all of them by midnight
    assert night["outpatient_visits_today"] == night["emergency_visits_today"] == 12 and night["admissions_today"] == 0
    assert 12 < noon["outpatient_visits_today"] < evening["outpatient_visits_today"] == 904 + 80
    assert intraday(24, base)["outpatient_visits_today"] == 1000
    assert evening["inpatients_now"] == 300 + 50 - 48
    assert evening["beds_available"] == 320 - 302
    hours = [h / 4 for h in range(96)]
    for metric in ("outpatient_visits_today", "emergency_visits_today", "admissions_today", "discharges_today",
                   "surgeries_today"):
        series = [intraday(h, base)[metric] for h in hours]
        assert series == sorted(series), f"{metric} goes down during the day"


def test_live_simulator_appends_snapshots(sqlite_url: str, tmp_path: Path) -> None:
    path = Path(make_engine(sqlite_url).url.database)
    copy = tmp_path / "live.sqlite"
    shutil.copy(path, copy)
    url = f"sqlite:///{copy}"
    start = datetime(2026, 11, 22, 14, 0)
    written = run_live(url, interval=0.01, speed=1, count=2, start=start, say=lambda _m: None)
    wh = Warehouse(url)
    try:
        campuses = sorted(departments(wh, Scope.hospital())["campus_id"].unique())
        assert written == 2 * len(campuses) * len(LIVE_METRICS)
        cur = current_figures(wh, Scope.hospital(), campuses, start + timedelta(minutes=1), timedelta(minutes=30))
        assert cur.source == "live" and cur.as_of >= start
        assert cur.values["outpatient_visits_today"] > 0
    finally:
        wh.engine.dispose()


def test_live_simulator_refuses_duckdb_and_bad_settings(duck_url: str) -> None:
    with pytest.raises(UserError, match="DuckDB"):
        run_live(duck_url, count=1)
    with pytest.raises(UserError, match="positive"):
        run_live(duck_url, interval=0, count=1)


# ------------------------------------------------------------------ campus screen
CAMPUS_OUT = "cw-live.children"
CAMPUS_STATE = [{"id": "wall-params", "property": "data", "value": {"campus": None, "lang": "en"}}]


@pytest.fixture
def alerts_stored(server: Flask):
    state = server.extensions["hospdash"]
    result = scan(state.warehouse, Scope.hospital())
    deps = departments(state.warehouse, Scope.hospital())
    save_scan(state.appdb, result.alerts, dict(zip(deps["dept_id"], deps["campus_id"], strict=True)))
    return result


def test_campus_screen_panels_carry_the_query_layers_numbers(server: Flask, wh: Warehouse, alerts_stored) -> None:
    client = _signed_in(server, "lead1")
    status, out = _call(server, client, CAMPUS_OUT, TICK, CAMPUS_STATE)
    assert status == 200
    live = texts(out["cw-live.children"])
    # the demo's live rows end at 10:30 on 2026-11-22: any later wall clock shows the latest day,
    # and names when the feed went quiet while that is less than a day ago (the rows looked at)
    assert "latest complete day" in live and "2026-11-21" in live
    if datetime.now() - datetime(2026, 11, 22, 10, 30) < timedelta(hours=23):
        assert "silent since" in live
    volumes = texts(out["cw-volumes.children"])
    ytd = compare(wh, Scope.hospital(), ("discharges",), YTD).iloc[0]
    assert f"{ytd['value']:,.0f}" in volumes and f"{ytd['yoy']:+.1%}" in volumes
    division = texts(out["cw-division.children"])
    assert "Medical division" in division and "Surgical division" in division
    ticker = texts(out["cw-alerts.children"])
    n = {lv: sum(a.level == lv for a in alerts_stored.alerts) for lv in ("red", "orange", "yellow")}
    assert f"Open alerts: {n['red']} red · {n['orange']} orange · {n['yellow']} yellow" in ticker and "→" in ticker
    # the revenue trend: 12 months of bars against the same months a year earlier
    trend = out["cw-trend-revenue.figure"]
    bars, line, partial = trend["data"]
    assert len(_arr(bars["x"])) == 12 and bars["x"][-1] == "26/11"
    assert list(line["x"]) == list(bars["x"])[:-1] and list(partial["x"]) == ["26/11"]  # the partial month apart
    monthly = indicator_values(wh, Scope.hospital(), ("revenue_total",), Period(date(2025, 10, 1), THROUGH), grain="month")
    by_month = dict(zip(monthly["period_start"].astype(str).str[:7], monthly["value"], strict=True))
    assert _arr(bars["y"])[0] == pytest.approx(by_month["2025-12"] / 10_000)
    # November 2026 has 21 days of data: hatched, labelled, against 1-21 November 2025, not all of it
    same_days = indicator_values(wh, Scope.hospital(), ("revenue_total",), Period(date(2025, 11, 1), date(2025, 11, 21)))
    assert _arr(partial["y"])[-1] == pytest.approx(same_days["value"].iloc[0] / 10_000)
    assert _arr(line["y"])[-1] < by_month["2025-11"] / 10_000
    assert bars["text"][-1] == "to Nov 21" and bars["marker"]["pattern"]["shape"][-1] == "/"
    mix = out["cw-mix.figure"]
    shares = [_arr(trace["x"])[1] for trace in mix["data"]]  # this year's bar: four parts that make the whole
    assert sum(shares) == pytest.approx(1.0)


def test_campus_screen_for_one_campus_uses_that_campus(server: Flask, wh: Warehouse) -> None:
    client = _signed_in(server, "lead1")
    state = [{"id": "wall-params", "property": "data", "value": {"campus": "C2", "lang": "en"}}]
    status, out = _call(server, client, CAMPUS_OUT, TICK, state)
    assert status == 200
    c2 = compare(wh, Scope.campuses(["C2"]), ("discharges",), YTD).iloc[0]
    assert f"{c2['value']:,.0f}" in texts(out["cw-volumes.children"])


def test_campus_leader_cannot_reach_another_campus(server: Flask, as_user) -> None:
    client = _signed_in(server, "lead2")
    forged = [{"id": "wall-params", "property": "data", "value": {"campus": "C1", "lang": "en"}}]
    status, _ = _call(server, client, CAMPUS_OUT, TICK, forged)
    assert status == 403
    status, _ = _call(server, client, "pf-bars.figure", TICK + _filters("pf")[:1]
                      + [{"id": "pf-campus", "property": "value", "value": "C1"}] + _filters("pf")[2:], PF_DESK)
    assert status == 403
    status, out = _call(server, client, CAMPUS_OUT, TICK, CAMPUS_STATE)  # their own campus: fine
    assert status == 200 and "2026-11-21" in texts(out["cw-live.children"])
    page = importlib.import_module("pages.wall_campus")
    with as_user("lead2"):
        assert "Not allowed" in texts(page.layout(campus="C1"))
        own = texts(page.layout(campus="C2"))
        assert "Campus operations" in own
    audit = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_campus")
    assert audit and audit[0]["username"] == "lead2"


def test_bad_url_values_become_notes_and_the_screen_still_draws(server: Flask, as_user) -> None:
    page = importlib.import_module("pages.wall_campus")
    with as_user("lead1"):
        text = texts(page.layout(campus="C99", rotate="soon", kiosk="1"))
    assert "There is no campus C99" in text and "rotate=soon" in text and "Campus operations" in text


def test_other_roles_may_not_open_the_screens(server: Flask, as_user) -> None:
    for module in ("pages.wall_campus", "pages.wall_drg", "pages.profit"):
        page = importlib.import_module(module)
        with as_user("dir1"):
            assert "Not allowed" in texts(page.layout())
    client = _signed_in(server, "asst1")
    status, _ = _call(server, client, CAMPUS_OUT, TICK, CAMPUS_STATE)
    assert status == 403


# ------------------------------------------------------------------ DRG screen
def test_drg_screen_data(server: Flask, wh: Warehouse) -> None:
    client = _signed_in(server, "lead1")
    state = [{"id": "drg-wall", "property": "data", "value": True}, {"id": "drg-group", "property": "data", "value": None}]
    status, out = _call(server, client, "drg-kpis.children", TICK + _filters("drg"), state)
    assert status == 200
    groups = drg_groups(wh, Scope.hospital(), YTD, drg_only(wh))  # the screen's DRG-paid cases
    losers = groups[groups["drg_margin"] < 0]
    tops = out["drg-tops.data"]
    assert tops == list(losers["drg_code"].head(8)) and out["drg-group.data"] == tops[0]
    assert _row_keys(out["drg-table.children"])[:8] == tops  # a wall lists the top loss-makers first
    quadrant = out["drg-quadrant.figure"]["data"]
    assert sum(len(_arr(t["x"])) for t in quadrant[:2]) == len(groups)
    loss_trace = next(t for t in quadrant if t.get("marker", {}).get("symbol") == "x")
    assert len(_arr(loss_trace["x"])) == len(losers) and all(y < 0 for y in _arr(loss_trace["y"]))
    kpis = texts(out["drg-kpis.children"])
    assert f"{len(losers)} / {len(groups)}" in kpis
    # at a desk every group is listed
    state[0]["value"] = False
    _, desk = _call(server, client, "drg-kpis.children", TICK + _filters("drg"), state)
    assert len(_row_keys(desk["drg-table.children"])) == len(groups)


def test_drg_detail_and_cycle(server: Flask, wh: Warehouse) -> None:
    client = _signed_in(server, "lead1")
    groups = drg_groups(wh, Scope.hospital(), YTD, drg_only(wh))  # the screen's DRG-paid cases
    code = groups["drg_code"].iloc[0]
    status, out = _call(server, client, "drg-detail-title.children",
                        [{"id": "drg-group", "property": "data", "value": code}] + _filters("drg")[:3],
                        [{"id": "wall-tick", "property": "data", "value": {"scale": 1}}])
    assert status == 200 and code in texts(out["drg-detail-title.children"])
    bars = out["drg-structure.figure"]["data"]
    parts = drg_cost_structure(wh, Scope.hospital(), YTD, code, drg_only(wh)).set_index("component")["per_case"]
    cost = sum(_arr(b["x"])[0] for b in bars[:-1])
    assert cost == pytest.approx(parts.drop("payment").sum())
    assert _arr(bars[-1]["x"])[0] == pytest.approx(parts["payment"])
    assert cost == pytest.approx(groups["cost_per_case"].iloc[0])
    _, forged = _call(server, client, "drg-detail-title.children",
                      [{"id": "drg-group", "property": "data", "value": "ZZ99"}] + _filters("drg")[:3],
                      [{"id": "wall-tick", "property": "data", "value": {"scale": 1}}])
    assert "ZZ99 has no cases" in texts(forged["drg-detail-title.children"])
    status, nxt = _call(server, client, "drg-group.data",
                        [{"id": "drg-cycle", "property": "n_intervals", "value": 3}],
                        [{"id": "drg-tops", "property": "data", "value": ["A", "B", "C"]},
                         {"id": "drg-group", "property": "data", "value": "C"}])
    assert status == 200 and nxt["drg-group.data"] == "A"


def test_a_period_without_cases_says_so(server: Flask) -> None:
    client = _signed_in(server, "lead1")
    # a division filter nobody belongs to leaves no cases: the screen says so in place
    status, out = _call(server, client, "drg-kpis.children", TICK + _filters("drg", division="nowhere"),
                        [{"id": "drg-wall", "property": "data", "value": False},
                         {"id": "drg-group", "property": "data", "value": None}])
    assert status == 200 and _row_keys(out["drg-table.children"]) == []
    note = out["drg-quadrant.figure"]["layout"]["annotations"][0]["text"]
    assert note == "No grouped cases in this period."
    status, _ = _call(server, client, "drg-kpis.children", TICK + _filters("drg", period="forever"),
                      [{"id": "drg-wall", "property": "data", "value": False},
                       {"id": "drg-group", "property": "data", "value": None}])
    assert status == 200  # a forged period is a message on the page, not a crash


# ------------------------------------------------------------------ profit view
def test_profit_view_data(server: Flask, wh: Warehouse) -> None:
    client = _signed_in(server, "lead1")
    by_balance = {"col": "balance", "asc": False}
    desk = PF_DESK
    status, out = _call(server, client, "pf-bars.figure", TICK + _filters("pf", sort=by_balance), desk)
    assert status == 200
    closed = Period(date(2026, 1, 1), date(2026, 10, 31))
    expect = department_profit(wh, Scope.hospital(), YTD)
    rows = _row_keys(out["pf-table.children"])
    assert rows == list(expect["dept_id"])  # sorted by balance, the largest first
    assert str(closed.end) in out["pf-window.children"]
    tree = out["pf-treemap.figure"]["data"][0]
    roots = [v for v, p in zip(_arr(tree["values"]), tree["parents"], strict=True) if p == ""]
    assert sum(roots) == pytest.approx(expect["revenue_total"].sum())
    bars = out["pf-bars.figure"]["data"][0]
    assert len(_arr(bars["y"])) == min(24, len(expect))
    hatched = [s for s in bars["marker"]["pattern"]["shape"] if s]
    assert len(hatched) == sum(1 for x in _arr(bars["x"]) if x < 0)
    _, surgical = _call(server, client, "pf-bars.figure", TICK + _filters("pf", division="surgical", sort=by_balance),
                        desk)
    deps = departments(wh, Scope.hospital()).set_index("dept_id")
    assert {deps.loc[d, "division"] for d in _row_keys(surgical["pf-table.children"])} == {"surgical"}


def test_profit_export_is_scoped_and_audited(server: Flask) -> None:
    client = _signed_in(server, "lead2")
    status, out = _call(server, client, "pf-download.data",
                        [{"id": {"type": "pf-export", "table": "departments", "fmt": "csv"}, "property": "n_clicks",
                          "value": 1}],
                        [{"id": "pf-period", "property": "value", "value": "ytd"},
                         {"id": "pf-campus", "property": "value", "value": None},
                         {"id": "pf-division", "property": "value", "value": None}])
    assert status == 200
    import base64

    payload = out["pf-download.data"]
    raw = base64.b64decode(payload["content"]) if payload.get("base64") else payload["content"].encode()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows Chinese
    text = raw.decode("utf-8-sig")
    assert "院区" in text or "Campus" in text
    wh = server.extensions["hospdash"].warehouse
    c2 = set(departments(wh, Scope.campuses(["C2"]))["dept_id"])
    ids = {line.split(",")[0] for line in text.splitlines()[1:]}
    assert ids and ids <= c2
    assert server.extensions["hospdash"].appdb.audit_entries(action="export")[0]["username"] == "lead2"


def test_drg_export_goes_through_the_kit_scoped_and_audited(server: Flask) -> None:
    """The DRG desk's CSV button: every group of the campus leader's campus, audited; a table the
    screen does not offer is refused."""
    client = _signed_in(server, "lead2")
    filters = [{"id": "drg-period", "property": "value", "value": "ytd"},
               {"id": "drg-campus", "property": "value", "value": None},
               {"id": "drg-division", "property": "value", "value": None}]
    status, out = _call(server, client, "drg-download.data",
                        [{"id": {"type": "drg-export", "table": "groups", "fmt": "csv"}, "property": "n_clicks",
                          "value": 1}], filters)
    assert status == 200
    import base64

    payload = out["drg-download.data"]
    raw = base64.b64decode(payload["content"]) if payload.get("base64") else payload["content"].encode()
    lines = raw.decode("utf-8-sig").splitlines()
    wh = server.extensions["hospdash"].warehouse
    groups = drg_groups(wh, Scope.campuses(["C2"]), YTD, drg_only(wh))  # the screen's DRG-paid cases
    assert {line.split(",")[0] for line in lines[1:]} == set(groups["drg_code"])
    assert server.extensions["hospdash"].appdb.audit_entries(action="export")[0]["username"] == "lead2"
    _, forged = _call(server, client, "drg-download.data",
                           [{"id": {"type": "drg-export", "table": "secrets", "fmt": "csv"}, "property": "n_clicks",
                             "value": 1}], filters)
    assert not (forged or {}).get("drg-download.data")  # refused: no file


def test_clicking_a_department_opens_it_in_scope(server: Flask, as_user) -> None:
    client = _signed_in(server, "lead2")
    wh = server.extensions["hospdash"].warehouse
    own = departments(wh, Scope.campuses(["C2"]))["dept_id"].iloc[0]
    other = departments(wh, Scope.campuses(["C1"]))["dept_id"].iloc[0]
    click = lambda dept: [{"id": "pf-bars", "property": "clickData",  # noqa: E731
                           "value": {"points": [{"customdata": [dept]}]}},
                          {"id": "pf-treemap", "property": "clickData", "value": None},
                          {"id": {"type": "pf-grid", "index": "desk"}, "property": "cellClicked", "value": None}]
    status, out = _call(server, client, "_pages_location.href", click(own))
    assert status == 200 and out["_pages_location.href"] == f"/department?dept={own}"
    assert _call(server, client, "_pages_location.href", click(other))[0] == 403
    row = [{"id": "pf-bars", "property": "clickData", "value": None},  # a row of the desk's grid
           {"id": "pf-treemap", "property": "clickData", "value": None},
           {"id": {"type": "pf-grid", "index": "desk"}, "property": "cellClicked",
            "value": {"rowId": own, "colId": "name"}}]
    assert _call(server, client, "_pages_location.href", row)[1]["_pages_location.href"] == f"/department?dept={own}"
    page = importlib.import_module("pages.department")
    with as_user("lead2"):
        assert "Annual targets" in texts(page.layout(dept=own))
        assert "Not allowed" in texts(page.layout(dept=other))


# ------------------------------------------------------------------ kiosk login
def test_kiosk_login_lasts_and_can_be_revoked(server: Flask) -> None:
    state = server.extensions["hospdash"]
    db = state.appdb
    lead = db.get_by_username("lead1")
    with pytest.raises(Exception, match="leader"):
        db.issue_kiosk(db.get_by_username("dir1").id, "x", "admin1")
    kid, token = db.issue_kiosk(lead.id, "command centre", "admin1")
    wall = server.test_client()
    resp = wall.get(f"/kiosk/{token}")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/wall/campus?kiosk=1")
    assert wall.get_cookie("hospdash_kiosk").value == token
    assert wall.get("/wall/campus", headers={"Accept": "text/html"}).status_code == 200
    # the session is gone (a restart, an outage): the kiosk cookie signs the wall in again
    wall.delete_cookie("hospdash_session")
    assert wall.get("/_dash-layout").status_code == 200
    actions = [e["action"] for e in db.audit_entries(username="lead1")]
    assert "kiosk_login" in actions and "kiosk_resume" in actions
    # revoked: the wall is signed out at its next request
    assert db.revoke_kiosk(kid)
    assert wall.get("/_dash-layout").status_code == 401
    assert wall.get_cookie("hospdash_kiosk") is None
    assert server.test_client().get(f"/kiosk/{token}").status_code == 403
    assert server.test_client().get("/kiosk/not-a-token").status_code == 403
    assert db.audit_entries(action="kiosk_refused")


def test_kiosk_command_line(app_env, capsys) -> None:
    from appdb.cli import main
    from appdb.store import AppDB

    url = app_env["APP_DB_URL"]
    db = AppDB(url)
    db.migrate()
    db.create_user("wall1", "Wall", "Passw0rd-long-2026", "leader", "campus", ("C1",))
    assert main(["--url", url, "kiosk", "issue", "wall1", "--label", "east wall", "--base-url", "http://h:8050"]) == 0
    printed = capsys.readouterr().out
    assert "http://h:8050/kiosk/" in printed
    assert main(["--url", url, "kiosk", "list"]) == 0
    assert "east wall" in capsys.readouterr().out
    assert main(["--url", url, "kiosk", "revoke", "1"]) == 0
    assert main(["--url", url, "kiosk", "revoke", "1"]) == 2


def test_stale_data_turns_the_stamp_into_a_warning(server: Flask) -> None:
    from components.wall import freshness_stamp
    from data_layer.warehouse import Freshness

    old = Freshness(datetime(2026, 11, 1, 2, 0), date(2026, 10, 31), date(2025, 1, 1), date(2026, 9, 30))
    text, cls = freshness_stamp(old, 26, "en")
    assert "stale" in cls and "older than 26 hours" in text
    new = Freshness(datetime.now(), date.today(), date(2025, 1, 1), date(2026, 9, 30))
    assert freshness_stamp(new, 26, "zh")[1] == "wall-fresh"


def test_live_rows_reach_the_wall_after_the_warehouse_changes(sqlite_url: str, tmp_path: Path, app_env) -> None:
    """A live row written after the page opened shows at the next refresh."""
    from app import create_app

    copy = tmp_path / "moving.sqlite"
    shutil.copy(make_engine(sqlite_url).url.database, copy)
    srv = create_app({**app_env, "WAREHOUSE_URL": f"sqlite:///{copy}", "DATA_DIR": str(tmp_path / "d2"),
                      "APP_DB_URL": f"sqlite:///{tmp_path / 'app2.sqlite'}"})
    srv.extensions["hospdash"].appdb.create_user("lead9", "L", "Passw0rd-long-2026", "leader", "hospital", ())
    client = srv.test_client()
    from .conftest import login

    login(client, "lead9")
    client.get("/")
    client.set_cookie("lang", "en")
    _, before = _call(srv, client, CAMPUS_OUT, TICK, CAMPUS_STATE)
    assert "latest complete day" in texts(before["cw-live.children"])
    now = datetime.now().replace(microsecond=0)
    engine = make_engine(f"sqlite:///{copy}")
    campuses = sorted(departments(srv.extensions["hospdash"].warehouse, Scope.hospital())["campus_id"].unique())
    with engine.begin() as conn:
        conn.execute(insert(fact_live_snapshot), [{"captured_at": now, "campus_id": c, "metric_code": m,
                                                   "value": 1234.0 if m == "outpatient_visits_today" else 1.0}
                                                  for c in campuses for m in LIVE_METRICS])
    engine.dispose()
    import time as _time

    _time.sleep(0.1)
    from data_layer.queries import live as live_module

    # live rows are re-read every LIVE_TICK_SECONDS (they change without a meta_load row)
    deadline = _time.time() + live_module.LIVE_TICK_SECONDS + 2
    text = ""
    while _time.time() < deadline:
        _, after = _call(srv, client, CAMPUS_OUT, TICK, CAMPUS_STATE)
        text = texts(after["cw-live.children"])
        if "Live" in text:
            break
        _time.sleep(1)
    assert "Live · updated" in text and f"{1234 * len(campuses):,}" in text
    srv.extensions["hospdash"].warehouse.engine.dispose()



def test_an_administrator_issues_and_revokes_kiosk_logins_on_the_page(server: Flask) -> None:
    db = server.extensions["hospdash"].appdb
    client = _signed_in(server, "admin1")
    lead = db.get_by_username("lead2")
    issue = [{"id": "kiosk-issue", "property": "n_clicks", "value": 1}]
    state = [{"id": "kiosk-user", "property": "value", "value": lead.id},
             {"id": "kiosk-label", "property": "value", "value": "east wall"}]
    key = next(k for k in server.extensions["dash"].callback_map if k.startswith("..kiosk-message.children"))
    body = {"output": key, "outputs": [{"id": "kiosk-message", "property": "children"},
                                       {"id": "kiosk-table", "property": "children"}],
            "inputs": [issue[0], []],  # no revoke buttons on the page yet
            "state": state, "changedPropIds": ["kiosk-issue.n_clicks"]}
    resp = client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert resp.status_code == 200
    shown = texts(resp.get_json()["response"]["kiosk-message"]["children"])
    token = shown.split("/kiosk/")[1].strip()
    assert db.kiosk_login(token) is not None
    kid = db.list_kiosks()[-1]["id"]
    revoke_id = {"type": "kiosk-revoke", "index": kid}
    body.update(inputs=[{"id": "kiosk-issue", "property": "n_clicks", "value": 1},
                        [{"id": revoke_id, "property": "n_clicks", "value": 1}]],
                changedPropIds=[json.dumps(revoke_id, separators=(",", ":"), sort_keys=True) + ".n_clicks"])
    resp = client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert resp.status_code == 200 and db.kiosk_login(token) is None
    assert {"kiosk_issued", "kiosk_revoked"} <= {e["action"] for e in db.audit_entries(username="admin1")}
    # a leader may not issue them
    other = _signed_in(server, "lead1")
    resp = other.post("/_dash-update-component", data=json.dumps(body),
                      headers={"Content-Type": "application/json", "X-CSRFToken": other.get_cookie("_csrf_token").value})
    assert resp.status_code == 403


def test_a_kiosk_login_issued_without_a_label_gets_the_default_one(server: Flask) -> None:
    """An administrator who leaves the label empty (the field sends nothing) is not refused."""
    db = server.extensions["hospdash"].appdb
    client = _signed_in(server, "admin1")
    key = next(k for k in server.extensions["dash"].callback_map if k.startswith("..kiosk-message.children"))
    for label in (None, ""):
        body = {"output": key, "outputs": [{"id": "kiosk-message", "property": "children"},
                                           {"id": "kiosk-table", "property": "children"}],
                "inputs": [{"id": "kiosk-issue", "property": "n_clicks", "value": 1}, []],
                "state": [{"id": "kiosk-user", "property": "value", "value": db.get_by_username("lead1").id},
                          {"id": "kiosk-label", "property": "value", "value": label}],
                "changedPropIds": ["kiosk-issue.n_clicks"]}
        resp = client.post("/_dash-update-component", data=json.dumps(body), headers={
            "Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value})
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        assert db.list_kiosks()[-1]["label"] == "wall display"


def test_profit_and_groups_answer_for_a_period_without_closed_months(server: Flask) -> None:
    """Found by the load test: the profit view and the department's groups for month to date
    (no closed month yet) answered with an error banner; now with their figures and a note."""
    client = _signed_in(server, "lead1")
    status, out = _call(server, client, "pf-bars.figure", TICK + _filters("pf", period="mtd"), PF_DESK)
    assert status == 200 and "pf-table.children" in out
    status, out = _call(server, client, "dw-groups.children", [{"id": "dw-dept", "property": "value", "value": "D001"},
                                                              {"id": "dw-period", "property": "value", "value": "mtd"}])
    assert status == 200 and "can be shown" not in texts(out["dw-groups.children"])
