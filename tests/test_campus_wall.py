"""The campus wall a president can trust (issue 13): beds available and extra beds from the same
census as occupancy, today against the same time yesterday and last week (and what it says at
night), the month in progress drawn and compared as incomplete (on the 1st of a month), the ticker
after a fresh install, and a demo hospital whose census looks like a tertiary hospital's. Expected
values are computed here from the generated tables, independently of the query layer."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask

from data_layer.demo import generate, write_warehouse
from data_layer.engine import make_engine
from data_layer.periods import Period
from data_layer.queries.beds import census_by_campus, census_by_department, is_icu
from data_layer.queries.kpis import compare
from data_layer.queries.live import day_curve, day_curves, figures_at
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import NOW, PASSWORD, STRONG_KEY, THROUGH, texts
from .helpers import decode_array, post_callback, signed_in

TICK = [{"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}}]
STATE = [{"id": "wall-params", "property": "data", "value": {"campus": None, "lang": "en"}}]


def _dates(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col).dt.date


def _ward_day(tables: dict, day: date) -> pd.DataFrame:
    wd = tables["fact_ward_daily"]
    wd = wd[_dates(wd["date"]) == day].merge(tables["dim_ward"][["ward_id", "dept_id"]], on="ward_id")
    return wd.merge(tables["dim_department"][["dept_id", "campus_id", "name_zh", "name_en"]], on="dept_id")


def _snapshots(tables: dict) -> pd.DataFrame:
    snap = tables["fact_live_snapshot"].copy()
    snap["captured_at"] = pd.to_datetime(snap["captured_at"])
    return snap


def _as_of(snap: pd.DataFrame, at: datetime) -> pd.Series:
    """The newest snapshot of each campus and metric on at's day up to at, added over campuses."""
    day = snap[(snap["captured_at"] >= datetime.combine(at.date(), datetime.min.time())) & (snap["captured_at"] <= at)]
    newest = day.sort_values("captured_at").groupby(["campus_id", "metric_code"]).tail(1)
    return newest.groupby("metric_code")["value"].sum()


# ------------------------------------------------------------------ queries
def test_census_by_department_is_the_ward_facts_of_the_day(wh: Warehouse, demo_data) -> None:
    got = census_by_department(wh, Scope.hospital(), THROUGH).set_index("dept_id")
    wd = _ward_day(demo_data.tables, THROUGH)
    expected = wd.groupby("dept_id")[["open_beds", "occupied_beds"]].sum()
    assert sorted(got.index) == sorted(expected.index)
    assert (got["open_beds"] == expected["open_beds"]).all() and (got["occupied"] == expected["occupied_beds"]).all()
    # available and extra beds are the same balance seen from either side, and never both
    diff = expected["open_beds"] - expected["occupied_beds"]
    assert (got["available"] == diff.clip(lower=0)).all() and (got["extra"] == (-diff).clip(lower=0)).all()
    assert (got["occupancy"] == expected["occupied_beds"] / expected["open_beds"]).all()
    campus = census_by_campus(got.reset_index()).set_index("campus_id")
    by_campus = wd.groupby("campus_id")[["open_beds", "occupied_beds"]].sum()
    assert (campus["occupied"] == by_campus["occupied_beds"]).all()
    # a campus leader sees their campus only
    assert set(census_by_department(wh, Scope.campuses(["C2"]), THROUGH)["campus_id"]) == {"C2"}


def test_intensive_care_is_known_by_name_and_pulmonary_critical_care_is_not() -> None:
    assert is_icu("重症医学科", "Critical Care Medicine")
    assert is_icu("重症医学科（东院）", "Critical Care Medicine (East)")
    assert is_icu("急诊重症监护室", "Emergency ICU")
    assert not is_icu("呼吸与危重症医学科", "Respiratory & Critical Care")
    assert not is_icu("急诊科", "Emergency Medicine")


def test_figures_at_a_time_are_the_newest_snapshots_of_that_day(wh: Warehouse, demo_data) -> None:
    snap = _snapshots(demo_data.tables)
    for at in (NOW, NOW - timedelta(days=1), NOW - timedelta(days=7), datetime(2026, 11, 21, 3, 7)):
        got = figures_at(wh, Scope.hospital(), at)
        expected = _as_of(snap, at)
        assert got.keys() == set(expected.index), at
        for metric, value in expected.items():
            assert got[metric] == pytest.approx(value), (at, metric)
    assert figures_at(wh, Scope.departments(["D001"]), NOW) == {}  # live figures are campus-wide


def test_the_hourly_curve_takes_the_newest_row_of_each_hour(wh: Warehouse, demo_data) -> None:
    day = NOW.date() - timedelta(days=1)
    curve = day_curve(wh, Scope.hospital(), day, datetime.combine(day, datetime.max.time()))
    snap = _snapshots(demo_data.tables)
    snap = snap[_dates(snap["captured_at"]) == day].assign(hour=lambda f: f["captured_at"].dt.hour)
    newest = snap.sort_values("captured_at").groupby(["campus_id", "metric_code", "hour"]).tail(1)
    expected = newest.groupby(["metric_code", "hour"])["value"].sum()
    op = curve[curve["metric_code"] == "outpatient_visits_today"]
    assert len(op) == 24
    assert op["value"].tolist() == pytest.approx(expected["outpatient_visits_today"].tolist())
    assert op["hours"].iloc[-1] == pytest.approx(23.75)
    today = day_curve(wh, Scope.hospital(), NOW.date(), NOW)
    assert today["hours"].max() <= 10.5  # nothing after "now"


def test_three_days_read_at_once_are_each_days_own_curve(wh: Warehouse) -> None:
    """The campus screen reads today, yesterday and a week ago in one statement (day_curves): each
    day's rows are exactly that day's own curve, today up to "now" and the others whole."""
    days = (NOW.date(), NOW.date() - timedelta(days=1), NOW.date() - timedelta(days=7))
    every = day_curves(wh, Scope.hospital(), days, NOW)
    assert list(dict.fromkeys(every["day"])) == list(days)
    for day in days:
        alone = day_curve(wh, Scope.hospital(), day, NOW)
        mine = every[every["day"] == day].drop(columns="day").reset_index(drop=True)
        assert len(alone) > 0
        pd.testing.assert_frame_equal(mine, alone)
    with pytest.raises(ValueError, match="four weeks"):
        day_curves(wh, Scope.hospital(), (NOW.date(), NOW.date() - timedelta(days=40)), NOW)


# ------------------------------------------------------------------ the demo generator
def test_the_demo_census_is_that_of_a_tertiary_hospital(demo_data) -> None:
    t = demo_data.tables
    wd = t["fact_ward_daily"].assign(day=lambda f: _dates(f["date"]))
    year = wd[wd["day"] > THROUGH - timedelta(days=365)]
    occupancy = year["occupied_beds"].sum() / year["open_beds"].sum()
    assert 0.85 <= occupancy <= 1.05
    by_dept = year.merge(t["dim_ward"][["ward_id", "dept_id"]], on="ward_id").groupby("dept_id")[
        ["occupied_beds", "open_beds"]].sum()
    assert (by_dept["occupied_beds"] > by_dept["open_beds"]).any()  # some departments run extra beds (加床)
    # the dimension tables carry the open beds of the last day with facts
    last = wd[wd["day"] == THROUGH].set_index("ward_id")["open_beds"]
    assert (t["dim_ward"].set_index("ward_id")["open_beds"] == last).all()
    per_dept = t["dim_ward"].groupby("dept_id")["open_beds"].sum()
    depts = t["dim_department"].set_index("dept_id")
    assert (depts.loc[per_dept.index, "open_beds"] == per_dept).all()
    assert (depts.drop(per_dept.index)["open_beds"] == 0).all()


def test_the_demo_feed_keeps_a_week_of_history_that_ends_at_the_daily_facts(demo_data) -> None:
    snap = _snapshots(demo_data.tables)
    days = sorted(set(_dates(snap["captured_at"])))
    assert days == [NOW.date() - timedelta(days=k) for k in range(8, -1, -1)]  # today and eight days before
    assert snap["captured_at"].max() == NOW
    op = demo_data.tables["fact_outpatient_daily"]
    for day in days[:-1]:
        facts = op[_dates(op["date"]) == day].groupby("campus_id")["visits"].sum()
        end = snap[(snap["captured_at"] == datetime.combine(day, datetime.min.time()) + timedelta(hours=23, minutes=45))
                   & (snap["metric_code"] == "outpatient_visits_today")].set_index("campus_id")["value"]
        assert (end.reindex(facts.index) == facts).all(), day


# ------------------------------------------------------------------ the page, at a fixed "now"
def _panels(as_user, now: datetime, lang: str = "en") -> dict:
    from pages.wall_campus import GRAPHS, OUTPUTS, panels

    with as_user("lead1", lang):
        out = panels(Scope.hospital(), None, lang, 1.0, now)
    return dict(zip(OUTPUTS + GRAPHS, out, strict=True))


def test_at_night_today_is_set_against_yesterday_and_says_it_is_too_early(server: Flask, as_user, wh, demo_data) -> None:
    night = datetime(2026, 11, 22, 3, 10)  # the newest snapshot is 03:00: compared at 03:00 yesterday
    out = _panels(as_user, night)
    live = texts(out["cw-live"])
    snap = _snapshots(demo_data.tables)
    yesterday = _as_of(snap, datetime(2026, 11, 21, 3, 0))
    assert "Today to 03:00" in live and "too early" in live
    assert "Clinics opened at 07:45 yesterday" in live  # the first rise of yesterday's curve
    assert f"{yesterday['emergency_visits_today']:,.0f}" in live
    facts = demo_data.tables["fact_outpatient_daily"]
    whole_day = facts[_dates(facts["date"]) == THROUGH]["visits"].sum()
    assert f"{whole_day:,.0f}" in live  # yesterday's whole day, from the daily facts
    fig = out["cw-intraday"]
    names = [tr["name"] for tr in fig["data"] if tr.get("name")]  # a plain figure (components/charts.plain)
    assert names == ["Same day last week", "Yesterday", "Today"]
    today = next(tr for tr in fig["data"] if tr.get("name") == "Today")
    tonight = _as_of(snap, datetime(2026, 11, 22, 3, 0))  # before the clinics open: the night's emergencies only
    assert max(today["x"]) <= 3.0 and max(today["y"]) == tonight["emergency_visits_today"] < 0.01 * whole_day
    zh = texts(_panels(as_user, night, "zh")["cw-live"])
    assert "今日至03:00" in zh and "尚早" in zh and "too early" not in zh


def test_a_feed_that_lags_is_compared_at_its_own_minute(server: Flask, as_user, demo_data) -> None:
    late = datetime(2026, 11, 22, 10, 55)  # the feed's newest rows are from 10:30, still fresh
    live = texts(_panels(as_user, late)["cw-live"])
    assert "Today to 10:30" in live
    snap = _snapshots(demo_data.tables)
    at_1030, at_1055 = _as_of(snap, datetime(2026, 11, 21, 10, 30)), _as_of(snap, datetime(2026, 11, 21, 10, 55))
    assert at_1030["outpatient_visits_today"] != at_1055["outpatient_visits_today"]
    assert f"{at_1030['outpatient_visits_today']:,.0f}" in live


def test_beds_available_and_occupancy_come_from_one_census(server: Flask, as_user, demo_data) -> None:
    out = _panels(as_user, NOW)
    beds = texts(out["cw-beds"])
    wd = _ward_day(demo_data.tables, THROUGH)
    open_beds = wd["open_beds"].sum()
    inpatients = _as_of(_snapshots(demo_data.tables), NOW)["inpatients_now"]
    assert f"{open_beds:,.0f}" in beds and f"{inpatients:,.0f}" in beds
    assert f"{inpatients / open_beds:.1%}" in beds
    if inpatients > open_beds:
        assert f"{inpatients - open_beds:,.0f} extra beds" in beds
    else:
        assert f"{open_beds - inpatients:,.0f} free" in beds
    depts = demo_data.tables["dim_department"]
    icu = [is_icu(z, e) for z, e in zip(depts["name_zh"], depts["name_en"], strict=True)]
    icu_wards = wd[wd["dept_id"].isin(depts.loc[icu, "dept_id"])]
    if icu_wards.empty:
        assert "No department is recognised as intensive care (ICU)." in beds
    else:
        assert f"{icu_wards['occupied_beds'].sum():,} / {icu_wards['open_beds'].sum():,}" in beds
    rank = out["cw-bed-rank"]
    occ = wd.groupby("name_en")[["occupied_beds", "open_beds"]].sum()
    occ = (occ["occupied_beds"] / occ["open_beds"]).sort_values(ascending=False)
    assert list(rank["data"][0]["y"])[-1] == occ.index[0]  # the fullest department on top
    assert list(rank["data"][0]["x"])[-1] == pytest.approx(occ.iloc[0])


def test_more_inpatients_than_open_beds_reads_as_extra_beds_never_zero() -> None:
    from components.wall_campus import bed_balance

    assert texts(bed_balance(3175, 3305, "en")) == "130 extra beds"
    assert texts(bed_balance(3175, 3305, "zh")) == "加床 130"
    assert texts(bed_balance(100, 100, "zh")) == "空床 0"
    assert texts(bed_balance(100, 91, "en")) == "9 free"


def test_the_ticker_after_a_fresh_install_shows_the_scanned_alerts(server: Flask) -> None:
    from app import ensure_demo_alerts

    stored = ensure_demo_alerts(server)
    assert stored and stored > 0
    assert ensure_demo_alerts(server) is None  # once: a second start does not scan again
    client = signed_in(server, "lead1")
    status, out = post_callback(server, client, "cw-alerts.children", TICK, STATE)
    assert status == 200
    ticker = texts(out["cw-alerts.children"])
    assert ticker.startswith("Open alerts:") and "→" in ticker
    assert "no open" not in ticker.lower()


# ------------------------------------------------------------------ the 1st of a month
DAY_ONE = date(2026, 12, 1)


@pytest.fixture(scope="module")
def day_one(tmp_path_factory: pytest.TempPathFactory):
    """A small demo hospital whose data runs through 1 December, seen at 02:30 on the 2nd."""
    data = generate(scale=0.05, years=2, seed=7, through=DAY_ONE, now=datetime(2026, 12, 2, 2, 30))
    url = f"duckdb:///{tmp_path_factory.mktemp('day1') / 'day1.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, data.tables, progress=False)
    engine.dispose()
    return url, data


@pytest.fixture
def day_one_server(day_one, tmp_path: Path):
    from app import create_app

    url, _data = day_one
    srv = create_app({"WAREHOUSE_URL": url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
                      "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"})
    srv.extensions["hospdash"].appdb.create_user("lead1", "lead1", PASSWORD, "leader", "hospital", ())
    return srv


def test_on_the_first_of_a_month_the_month_is_drawn_and_compared_as_one_day(day_one, day_one_server: Flask) -> None:
    url, data = day_one
    client = signed_in(day_one_server, "lead1")
    status, out = post_callback(day_one_server, client, "cw-live.children", TICK, STATE)
    assert status == 200
    bars, line, partial = out["cw-trend-discharges.figure"]["data"][:3]
    # last year's line joins whole months only; the month in progress has a marker of its own
    assert list(line["x"])[-1] == "26/11" and list(partial["x"]) == ["26/12"] and partial["mode"] == "markers"
    assert bars["x"][-1] == "26/12" and bars["text"][-1] == "to Dec 1"
    assert bars["marker"]["pattern"]["shape"][-1] == "/"
    ip = data.tables["fact_inpatient_case"]
    discharged = _dates(ip["discharge_date"])
    assert decode_array(bars["y"])[-1] == (discharged == DAY_ONE).sum()
    # against 1 December 2025 only, never the whole of last December
    assert decode_array(partial["y"])[-1] == (discharged == date(2025, 12, 1)).sum()
    assert decode_array(partial["y"])[-1] < ((discharged >= date(2025, 12, 1)) & (discharged <= date(2025, 12, 31))).sum()
    volumes = texts(out["cw-volumes.children"])
    assert "(1 d)" in volumes and "Only 1 d into the month" in volumes
    wh = Warehouse(url)
    try:
        row = compare(wh, Scope.hospital(), ("discharges",), Period(DAY_ONE, DAY_ONE)).iloc[0]
    finally:
        wh.engine.dispose()
    yoy = (discharged == DAY_ONE).sum() / (discharged == date(2025, 12, 1)).sum() - 1
    assert row["yoy"] == pytest.approx(yoy) and f"{yoy:+.1%}" in volumes
    division = out["cw-division-trend.figure"]["data"]
    assert any("to Dec 1" in (tr.get("text") or [""])[-1] for tr in division)
    for tr in division:  # no line runs into the month in progress
        assert "26/12" not in list(tr["x"]) or (list(tr["x"]) == ["26/12"] and "lines" not in tr["mode"])
