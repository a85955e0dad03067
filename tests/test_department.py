"""The department workspace: ward and group figures against the demo's own tables, the cost
breakdown, every section through the real callback, scope, and a phone-width browser."""
from __future__ import annotations

import importlib
from datetime import date
from typing import Any

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import select

from data_layer.periods import Period
from data_layer.queries.department import cost_breakdown, group_table, target_drivers, target_months, ward_table
from data_layer.queries.kpis import indicator_values
from data_layer.queries.pace import elapsed, pace_basis, pace_curve, target_pace
from data_layer.queries.targets import target_progress
from data_layer.registry import INDICATORS, Level
from data_layer.schema import dim_doctor, dim_medical_group, fact_target_annual
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import texts
from .helpers import decode_array, find, read_table_workbook, serve, sign_in_browser
from .test_leadership_screens import _call, _signed_in

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))


def _days(frame: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_datetime(frame[col]).dt.date


def test_ward_figures_match_the_ward_days_and_cases(wh: Warehouse, demo_data) -> None:
    wards = demo_data.tables["dim_ward"]
    dept = wards["dept_id"].value_counts().index[0]
    got = ward_table(wh, Scope.hospital(), dept, YTD).set_index("ward_id")
    daily = demo_data.tables["fact_ward_daily"]
    daily = daily[(_days(daily, "date") >= YTD.start) & (_days(daily, "date") <= YTD.end)]
    cases = demo_data.tables["fact_inpatient_case"]
    cases = cases[(_days(cases, "discharge_date") >= YTD.start) & (_days(cases, "discharge_date") <= YTD.end)]
    for ward_id in wards[wards["dept_id"] == dept]["ward_id"]:
        d = daily[daily["ward_id"] == ward_id]
        c = cases[cases["ward_id"] == ward_id]
        row = got.loc[ward_id]
        assert row["bed_days"] == d["occupied_beds"].sum()
        assert row["bed_occupancy"] == pytest.approx(d["occupied_beds"].sum() / d["open_beds"].sum())
        assert row["admissions"] == d["admissions"].sum()
        assert row["discharges"] == len(c)
        assert row["alos"] == pytest.approx(c["los_days"].sum() / len(c))


def test_group_figures_match_the_cases(wh: Warehouse, demo_data) -> None:
    groups = demo_data.tables["dim_medical_group"]
    dept = groups["dept_id"].value_counts().index[0]
    got = group_table(wh, Scope.hospital(), dept, YTD).set_index("group_id")
    cases = demo_data.tables["fact_inpatient_case"]
    cases = cases[(_days(cases, "discharge_date") >= YTD.start) & (_days(cases, "discharge_date") <= YTD.end)]
    for group_id in groups[groups["dept_id"] == dept]["group_id"]:
        c = cases[cases["group_id"] == group_id]
        if c.empty:
            continue
        row = got.loc[group_id]
        assert row["discharges"] == len(c)
        assert row["alos"] == pytest.approx(c["los_days"].sum() / len(c))
        grouped = c[c["drg_code"].notna()]
        assert row["drg_margin"] == pytest.approx((grouped["drg_payment"] - grouped["cost_total"]).sum())
    assert list(got["discharges"]) == sorted(got["discharges"], reverse=True)  # the busiest first


def test_cost_breakdown_adds_up_to_full_cost(wh: Warehouse) -> None:
    df = cost_breakdown(wh, Scope.hospital(), "D001", YTD)
    full = indicator_values(wh, Scope.hospital(), ("full_cost", "direct_cost"), YTD, Level.department,
                            Filters(department=("D001",))).set_index("indicator")["value"]
    assert df["total"].sum() == pytest.approx(full["full_cost"]) and df["direct"].sum() == pytest.approx(full["direct_cost"])
    assert df.attrs["window"] == (date(2026, 1, 1), date(2026, 10, 31))
    nothing = cost_breakdown(wh, Scope.hospital(), "D001", Period(date(2026, 11, 1), date(2026, 11, 21)))
    assert nothing.attrs["window"] is None and nothing.to_numpy().sum() == 0  # no closed month: nothing, not zero cost


SECTIONS = ("dw-overview", "dw-targets", "dw-costs", "dw-wards", "dw-groups", "dw-discipline", "dw-appraisal", "dw-alerts")


def _sections(server: Flask, client, dept: str, period: str) -> dict[str, Any]:
    """Every section's callback, as the browser asks for them together: {section id: children}."""
    out = {}
    for k in SECTIONS:
        status, got = _call(server, client, f"{k}.children", [{"id": "dw-dept", "property": "value", "value": dept},
                                                             {"id": "dw-period", "property": "value", "value": period}])
        assert status == 200, k
        out[k] = got[f"{k}.children"]
    return out


def test_every_section_draws_for_the_director(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    out = _sections(server, client, "D001", "ytd")
    text = {k: texts(out[k]) for k in SECTIONS}
    assert "Discharges" in text["dw-overview"] and "vs previous" in text["dw-overview"]
    assert "Annual target" in text["dw-targets"] and "paced by working days" in text["dw-targets"]
    assert "Direct" in text["dw-costs"] and "Total" in text["dw-costs"]
    assert "Occupancy" in text["dw-wards"] or "occupancy" in text["dw-wards"]
    assert "team" in text["dw-groups"]
    assert "Hospital" in text["dw-discipline"] and "low-risk" in text["dw-discipline"]
    # the demo grades its groups by risk (contract version 2): low-risk mortality is a row, not a caveat
    assert "no risk grading" not in text["dw-discipline"]
    assert "can be shown" not in " ".join(text.values())  # no panel failed


def test_a_director_cannot_reach_another_department(server: Flask, as_user) -> None:
    client = _signed_in(server, "dir1")
    status, _ = _call(server, client, "dw-overview.children",
                      [{"id": "dw-dept", "property": "value", "value": "D002"},
                       {"id": "dw-period", "property": "value", "value": "ytd"}])
    assert status == 403
    page = importlib.import_module("pages.department")
    with as_user("dir1"):
        assert "Not allowed" in texts(page.layout(dept="D002"))
        assert "Annual targets" in texts(page.layout())  # their own, by default
    entries = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_department")
    assert entries and entries[0]["username"] == "dir1"
    status, _ = _call(server, client, "dw-overview.children",
                      [{"id": "dw-dept", "property": "value", "value": "D001"},
                       {"id": "dw-period", "property": "value", "value": "always"}])
    assert status == 200  # a forged period is a message, not a crash


def test_a_department_without_targets_wards_or_groups_says_so(server: Flask, wh: Warehouse) -> None:
    from data_layer.queries.structure import departments

    deps = departments(wh, Scope.hospital())
    plain = deps[deps["kind"] == "clinical"]["dept_id"]
    goals = wh.frame(select(fact_target_annual.c.dept_id).where(fact_target_annual.c.year == 2026))
    without = [d for d in plain if d not in set(goals["dept_id"])]
    client = _signed_in(server, "lead1")
    if without:
        out = _sections(server, client, without[0], "ytd")
        assert "No annual targets" in texts(out["dw-targets"])
    # a period before any cost month: the cost section says so
    out = _sections(server, client, "D001", "mtd")
    assert "No closed month" in texts(out["dw-costs"])


def test_export_is_excel_scoped_and_audited(server: Flask) -> None:
    import base64
    import json

    client = _signed_in(server, "dir1")
    key = next(k for k in server.extensions["dash"].callback_map if k.startswith("dw-download.data"))
    body = {"output": key, "outputs": {"id": "dw-download", "property": "data"},
            "inputs": [[{"id": {"fmt": "xlsx", "table": "groups", "type": "dw-export"}, "property": "n_clicks",
                          "value": 1}]],
            "state": [{"id": "dw-dept", "property": "value", "value": "D001"},
                      {"id": "dw-period", "property": "value", "value": "ytd"}],
            "changedPropIds": ['{"fmt":"xlsx","table":"groups","type":"dw-export"}.n_clicks']}
    headers = {"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value}
    resp = client.post("/_dash-update-component", data=json.dumps(body), headers=headers)
    assert resp.status_code == 200
    payload = resp.get_json()["response"]["dw-download"]["data"]
    frame = read_table_workbook(base64.b64decode(payload["content"]))
    assert "Discharges" in frame.columns and frame["Group code"].str.startswith("G").all()
    body["state"][0]["value"] = "D002"
    assert client.post("/_dash-update-component", data=json.dumps(body), headers=headers).status_code == 403


THROUGH = date(2026, 11, 21)


def test_pace_line_and_targets_table_use_one_pacing_rule(wh: Warehouse) -> None:
    """The chart's pace at the data date is the table's "expected by now", for volumes (working
    days), other sums (calendar days), monthly sums (closed months) and levels (the target)."""
    progress = target_progress(wh, Scope.hospital(), "D001", THROUGH)
    assert {"workdays", "days", "months", "level"} <= set(progress["basis"])
    for r in progress.itertuples():
        assert r.basis == pace_basis(INDICATORS[r.indicator])
        curve = pace_curve(wh, Scope.hospital(), r.indicator, r.target, THROUGH)
        assert list(curve["month"]) == [date(2026, m, 1) for m in range(1, 12)]
        assert curve["expected"].iloc[-1] == pytest.approx(r.expected), r.indicator
        assert curve["expected"].is_monotonic_increasing or r.basis == "level"
    # a volume paces by working days: Chinese New Year's February is slower than its calendar share
    visits = progress[progress["indicator"] == "outpatient_visits"].iloc[0]
    curve = pace_curve(wh, Scope.hospital(), "outpatient_visits", visits.target, THROUGH).set_index("month")
    feb = curve.loc[date(2026, 2, 1), "elapsed"] - curve.loc[date(2026, 1, 1), "elapsed"]
    share = elapsed(wh, date(2026, 2, 28), None)
    assert feb == pytest.approx(share.workdays - elapsed(wh, date(2026, 1, 31), None).workdays)
    assert feb < 28 / 365


@pytest.mark.parametrize("day", [date(2026, 2, 1), date(2026, 10, 8), date(2026, 11, 21)])
def test_chart_and_table_pace_a_target_alike_where_calendar_and_working_days_differ(wh: Warehouse, day: date) -> None:
    """The department page's pace line (target_months, drawn by pace_figure) and its targets table
    (target_progress) expect the same by a day on which the calendar and working days disagree
    (the 1st of a month, the day after the National Day holiday): a volume by working days, revenue
    by calendar days, both through data_layer.queries.pace.target_pace. Before issue 6's rework the chart
    paced every target by calendar days."""
    progress = target_progress(wh, Scope.hospital(), "D001", day).set_index("indicator")
    share = elapsed(wh, day, wh.freshness().months_closed_through)
    assert share.workdays != pytest.approx(share.days, abs=1e-3)
    for code in ("outpatient_visits", "discharges", "revenue_total", "balance", "level4_surgery_share"):
        if code not in progress.index:
            continue
        row = progress.loc[code]
        chart = target_months(wh, Scope.hospital(), "D001", code, row["target"], day)["expected"].iloc[-1]
        assert chart == pytest.approx(row["expected"]), code
        assert row["expected"] == pytest.approx(target_pace(INDICATORS[code], row["target"], share).expected)
    visits = progress.loc["outpatient_visits"]
    assert visits["expected"] == pytest.approx(visits["target"] * share.workdays)
    assert visits["expected"] != pytest.approx(visits["target"] * share.days, rel=1e-3)
    revenue = progress.loc["revenue_total"]
    assert revenue["expected"] == pytest.approx(revenue["target"] * share.days)


def test_target_months_add_up_to_the_year_to_date(wh: Warehouse) -> None:
    progress = target_progress(wh, Scope.hospital(), "D001", THROUGH).set_index("indicator")
    for code in ("discharges", "revenue_total", "level4_surgery_share"):
        row = progress.loc[code]
        months = target_months(wh, Scope.hospital(), "D001", code, row["target"], THROUGH)
        if row["basis"] == "level":
            assert (months["expected"] == row["target"]).all()
        else:
            assert months["value"].sum() == pytest.approx(row["actual"])
            assert months["gap"].iloc[-1] == pytest.approx(row["deviation"])


def test_target_drivers_stay_in_the_department_worst_first(wh: Warehouse) -> None:
    groups = target_drivers(wh, Scope.hospital(), "D001", "discharges", THROUGH, Level.group)
    own = set(wh.frame(select(dim_medical_group.c.group_id).where(dim_medical_group.c.dept_id == "D001"))["group_id"])
    assert not groups.empty and set(groups["key"]) <= own
    assert list(groups["change"]) == sorted(groups["change"])  # higher is better: the biggest fall first
    doctors = target_drivers(wh, Scope.hospital(), "D001", "alos", THROUGH, Level.doctor)
    mine = set(wh.frame(select(dim_doctor.c.doctor_id).where(dim_doctor.c.dept_id == "D001"))["doctor_id"])
    assert 0 < len(doctors) <= 10 and set(doctors["key"]) <= mine
    assert list(doctors["change"].dropna()) == sorted(doctors["change"].dropna(), reverse=True)  # lower is better
    # cost is kept by department: no split by group
    assert target_drivers(wh, Scope.hospital(), "D001", "balance", THROUGH, Level.group).empty


def _detail(server: Flask, client, code: Any, dept: str) -> tuple[int, Any]:
    status, got = _call(server, client, "dw-target-detail.children",
                        [{"id": "dw-target-pick", "property": "value", "value": code}],
                        [{"id": "dw-dept", "property": "value", "value": dept}])
    return status, got.get("dw-target-detail.children")


def test_target_drill_shows_months_groups_doctors_and_any_target_in_the_chart(server: Flask, wh: Warehouse) -> None:
    client = _signed_in(server, "dir1")
    out = _sections(server, client, "D001", "ytd")
    assert "Why?" in texts(out["dw-targets"]) and "Chart and causes" in texts(out["dw-targets"])
    progress = target_progress(wh, Scope.hospital(), "D001", wh.freshness().data_through)
    for code in ("discharges", "level4_surgery_share", "balance"):
        status, detail = _detail(server, client, code, "D001")
        assert status == 200
        text = texts(detail)
        assert INDICATORS[code].name("en") in text and "Month by month" in text and "Medical groups" in text
        graph = find(detail, "dw-pace")
        bars = [tr for tr in graph["props"]["figure"]["data"] if tr["type"] == "bar"]
        line = next(tr for tr in graph["props"]["figure"]["data"] if tr["type"] == "scatter")
        row = progress[progress["indicator"] == code].iloc[0]
        assert decode_array(line["y"])[-1] == pytest.approx(row["expected"])  # the table's pace
        assert sum(len(decode_array(b["x"])) for b in bars) == wh.freshness().data_through.month
        if code == "balance":
            assert "cannot be split" in text  # cost is kept by department
        else:
            names = set(wh.frame(select(dim_medical_group.c.name_en).where(dim_medical_group.c.dept_id == "D001"))
                        ["name_en"])
            assert any(n in text for n in names)
        link = find(detail, "dw-drill-link")
        assert link["props"]["href"] == "/workspace/revenue?dept=D001&period=ytd"
    # the revenue drill-down the link opens is one the director may open, for the same department
    assert client.get("/workspace/revenue?dept=D001&period=ytd").status_code == 200
    # Chinese: month labels and the panel in Chinese
    zh = _signed_in(server, "dir1")
    zh.set_cookie("lang", "zh")
    status, detail = _detail(server, zh, "discharges", "D001")
    assert status == 200 and "逐月" in texts(detail) and "Month" not in texts(detail)


def _why(server: Flask, client, cell: Any, card: str | None) -> tuple[int, Any]:
    why = {"id": {"type": "dw-why", "index": card or "c-x"}, "property": "n_clicks", "value": 1 if card else None}
    status, got = _call(server, client, "dw-target-pick.value",
                        [{"id": "dw-targets-table", "property": "cellClicked", "value": cell}, why])
    return status, got.get("dw-target-pick.value")


def test_a_row_click_or_a_cards_why_picks_that_target(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    # a click on a row of the targets grid: its row id is the indicator
    status, got = _why(server, client, {"rowId": "discharges", "colId": "name", "value": "Discharges"}, None)
    assert status == 200 and got == "discharges"
    # a card's Why? on a phone
    status, got = _why(server, client, None, "c-surgeries")
    assert status == 200 and got == "surgeries"
    for cell, card in (({"rowId": "nonsense"}, None), (None, "c-nonsense"), ("x", None)):
        status, got = _why(server, client, cell, card)
        assert status == 204 or got in (None, "")


def test_target_drill_for_a_director_cannot_reach_another_department(server: Flask) -> None:
    client = _signed_in(server, "dir1")
    status, _ = _detail(server, client, "discharges", "D002")
    assert status == 403  # a forged department: refused before any query
    entries = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_callback")
    assert any(e["username"] == "dir1" and "D002" in (e.get("detail") or "") for e in entries)
    status, detail = _detail(server, client, "not_an_indicator", "D001")
    assert status == 200 and "no such annual target" in texts(detail)  # a forged target: a message
    status, _ = _detail(server, client, {"$ne": 1}, "D001")
    assert status == 400  # not even a code: refused at the callback boundary (shell/inputs.py)


def _login(dash_duo, width: int, height: int) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 800})
    sign_in_browser(dash_duo, "dir1")


CLIPPED = """
const out = [];
for (const el of document.querySelectorAll('#department-page *')) {
  const cs = getComputedStyle(el);
  if (el.clientWidth === 0 || cs.display === 'none') continue;
  // text cut by its box: an element that clips (overflow or ellipsis) and holds more than it shows
  if (el.scrollWidth > el.clientWidth + 1 && (cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis'))
    out.push(el.tagName + '#' + el.id + '.' + el.className + ': ' + (el.innerText || '').slice(0, 30));
}
// a figure's axis labels inside its drawing
for (const svg of document.querySelectorAll('#department-page .main-svg')) {
  const box = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll('.xtick text, .ytick text, .legendtext')) {
    const r = t.getBoundingClientRect();
    if (r.width && (r.left < box.left - 1 || r.right > box.right + 1)) out.push('label ' + t.textContent);
  }
}
return out;
"""


def _check_layout(dash_duo) -> None:
    # the layout width, not innerWidth: in phone emulation innerWidth grows to a page wider than the screen
    width, inner = dash_duo.driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth]")
    assert width <= inner, f"the page is {width}px wide on a {inner}px screen"
    assert dash_duo.driver.execute_script(CLIPPED) == []


@pytest.mark.browser
def test_phone_width_reads_well_and_drills(dash_duo, server) -> None:
    """At 390 px: no sideways scroll, nothing cut, targets as cards, and a card's "Why?" opens its drill."""
    serve(dash_duo, server)
    _login(dash_duo, 390, 844)
    dash_duo.wait_for_element("#dw-targets-cards", timeout=30)
    dash_duo.wait_for_element("#dw-groups-table-cards", timeout=30)
    dash_duo.wait_for_element("#dw-pace", timeout=30)
    dash_duo.wait_for_element("#dw-census .xtick", timeout=30)
    assert not dash_duo.find_element("#dw-targets-table").is_displayed()  # the wide table gives way to cards
    assert dash_duo.find_element("#dw-targets-cards").is_displayed()
    _check_layout(dash_duo)
    why = dash_duo.find_element("#dw-targets-cards .dw-card:nth-child(2) .dw-why")
    second = dash_duo.find_element("#dw-targets-cards .dw-card:nth-child(2) .dw-card-title").text
    dash_duo.driver.execute_script("arguments[0].click()", why)
    dash_duo.wait_for_contains_text("#dw-pace-title", second, timeout=30)
    _check_layout(dash_duo)
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_tablet_width_has_no_sideways_scroll(dash_duo, server) -> None:
    serve(dash_duo, server)
    _login(dash_duo, 768, 1024)
    dash_duo.wait_for_element("#dw-targets-cards", timeout=30)
    dash_duo.wait_for_element("#dw-pace", timeout=30)
    dash_duo.wait_for_element("#dw-group-margin .ytick", timeout=30)
    _check_layout(dash_duo)
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_the_targets_grid_fits_a_desk_screen_in_english(dash_duo, server) -> None:
    """At 1920 px the director's targets show every column, the Why? included, without a sideways
    scroll, and the indicators' English names whole (the headers wrap between words instead)."""
    serve(dash_duo, server)
    _login(dash_duo, 1920, 1080)
    dash_duo.wait_for_element("#dw-targets-table .ag-center-cols-container [col-id='why']", timeout=30)
    wide, room = dash_duo.driver.execute_script(
        "const v = document.querySelector('#dw-targets-table .ag-center-cols-viewport');"
        "return [v.scrollWidth, v.clientWidth]")
    assert wide <= room + 1, (wide, room)
    cut = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(\"#dw-targets-table .ag-pinned-left-cols-container [col-id='name']\")]"
        ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)")
    assert cut == []
    assert dash_duo.get_logs() == []


def test_targets_export_speaks_the_readers_language(server: Flask) -> None:
    import base64

    client = _signed_in(server, "dir1")
    client.set_cookie("lang", "zh")
    status, got = _call(server, client, "dw-download.data",
                        [{"id": {"type": "dw-export", "table": "targets", "fmt": "xlsx"}, "property": "n_clicks", "value": 1}],
                        [{"id": "dw-dept", "property": "value", "value": "D001"},
                         {"id": "dw-period", "property": "value", "value": "ytd"}])
    assert status == 200
    frame = read_table_workbook(base64.b64decode(got["dw-download.data"]["content"]))
    assert list(frame.columns[:4]) == ["指标", "单位", "年度目标", "本年累计"] and "状态" in frame.columns
    assert set(frame["状态"]) <= {"正常", "有风险", "落后"} and "出院人次" in set(frame["指标"])
    assert not frame.astype(str).apply(lambda c: c.str.contains("on_track|off_track|workdays")).any().any()


def test_overview_change_shown_as_zero_is_grey_whatever_the_direction() -> None:
    from components.department import change_span

    margin, alos = INDICATORS["margin"], INDICATORS["alos"]
    # a margin that moved by 0.04 points shows "0.0 pp": neither red nor green (it was red before)
    span = change_span("YoY", margin, -0.002, 0.0004, 0.18, "en")
    assert span.children == "YoY 0.0 pp" and span.className == "trend-neutral"
    assert change_span("YoY", margin, 0.01, 0.002, 0.18, "en").className == "trend-good"
    assert change_span("YoY", alos, 0.0004, 0.003, 9.0, "en").className == "trend-neutral"  # +0.0%
    assert change_span("YoY", alos, 0.02, 0.2, 9.0, "en").className == "trend-bad"


def test_the_page_layout_is_kept_and_follows_the_data_quality_mark(server: Flask, monkeypatch) -> None:
    """A director opening their page again gets the kept layout (nothing built, nothing read from the
    warehouse), yet the data-quality mark beside the stamp, which changes without a load, shows and
    goes at once; a refused department is refused and audited every time."""
    import json

    from sqlalchemy import event

    import appdb.quality

    page = importlib.import_module("pages.department")
    state = server.extensions["hospdash"]
    built: list[str] = []
    mine = page._my_departments
    monkeypatch.setattr(page, "_my_departments", lambda: built.append("layout") or mine())
    client = _signed_in(server, "dir1")
    ask = [{"id": "_pages_location", "property": "pathname", "value": "/department"},
           {"id": "_pages_location", "property": "search", "value": "?dept=D001&period=last-month"}]

    def open_page() -> str:
        status, out = _call(server, client, "_pages_content.children", ask)
        assert status == 200
        return json.dumps(out["_pages_content.children"], ensure_ascii=False)

    first = open_page()
    assert built == ["layout"] and "dw-title" in first and '"dq-mark"' not in first
    seen: list[str] = []
    event.listen(state.warehouse.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    assert open_page() == first and built == ["layout"] and seen == []  # kept
    red = appdb.quality.red_tables
    monkeypatch.setattr(appdb.quality, "red_tables", lambda *a: {"fact_inpatient_case"})
    assert '"dq-mark"' in open_page() and built == ["layout"] * 2  # a new run's red finding shows at once
    monkeypatch.setattr(appdb.quality, "red_tables", red)
    assert open_page() == first
    # another department: refused, and audited on every open (a refusal is never kept)
    ask[1]["value"] = "?dept=D002"
    for _ in range(2):
        assert "Not allowed" in open_page()
    entries = state.appdb.audit_entries(action="forbidden_department", username="dir1")
    assert len(entries) == 2
