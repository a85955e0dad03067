"""The national appraisal scorecard (国考) on its pages: the leadership screen for leaders in both
languages (and refused to everyone else), the workspace section and its drill-down from a scorecard
cell to the departments, DRG groups and cases, each level in the address and within the reader's
scope, the department page's short section, a version 1 warehouse, and the screen in the browser
at 1080p and 4K without a console error or a scrollbar."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask

from components.wall import next_url, parse_wall_query, rotation

from .conftest import PASSWORD, STRONG_KEY, USERS, texts
from .helpers import find, grid_props, serve, sign_in_browser, signed_in
from .helpers import post_callback as call

TICK = [{"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}}]


def _params(campus=None, lang="en") -> list[dict]:
    return [{"id": "wall-params", "property": "data", "value": {"campus": campus, "lang": lang}}]


def _board(server: Flask, user: str, lang: str = "en", campus=None) -> tuple[int, str]:
    status, out = call(server, signed_in(server, user, lang), "ap-left.children", TICK, _params(campus, lang))
    return status, " ".join(texts(out.get(k)) for k in ("ap-left.children", "ap-right.children", "ap-foot.children"))


# ---- the leadership screen ----------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("Medical quality", "Operational efficiency", "Average length of stay", "National median",
            "Not available from the warehouse", "Outpatient satisfaction", "Pulling it down")),
    ("zh", ("医疗质量", "运营效率", "持续发展", "平均住院日", "国家中位数", "数据仓库无法提供", "门诊患者满意度", "拖累科室")),
])
def test_the_screen_shows_the_scorecard_to_a_leader(server: Flask, as_user, lang: str, words) -> None:
    from pages.wall_appraisal import layout

    with as_user("lead1", lang):
        page = texts(layout(kiosk="1"))
    assert "Not allowed" not in page and "不允许" not in page
    status, board = _board(server, "lead1", lang)
    assert status == 200
    for w in words:
        assert w in board, w
    assert ("better" in board or "worse" in board) if lang == "en" else ("优于" in board or "落后" in board)


@pytest.mark.parametrize("user", ["dir1", "asst1", "admin1"])
def test_the_screen_is_refused_to_other_roles(server: Flask, as_user, user: str) -> None:
    from pages.wall_appraisal import layout

    with as_user(user):
        assert "Not allowed" in texts(layout())
    status, _ = _board(server, user)
    assert status == 403


def test_a_campus_leader_sees_their_campus_and_no_other(server: Flask) -> None:
    assert _board(server, "lead2", campus="C2")[0] == 200
    assert _board(server, "lead2", campus="C1")[0] == 403  # a forged campus
    assert _board(server, "lead1", campus="C9")[0] == 403


def test_the_screen_follows_the_profit_view_in_the_rotation() -> None:
    assert rotation(["C1"])[-2:] == [("/profit", None), ("/wall/appraisal", None)]
    wq = parse_wall_query({"kiosk": "1", "rotate": "20"}, "en", ["C1", "C2"])
    assert next_url("/profit", wq, ["C1", "C2"]) == "/wall/appraisal?kiosk=1&rotate=20"
    assert next_url("/wall/appraisal", wq, ["C1", "C2"]) == "/wall/campus?kiosk=1&rotate=20"


# ---- the workspace section ----------------------------------------------------------------------
def _state(item=None, dept=None, drg=None, period="ytd") -> list[dict]:
    return [{"id": "ws-ap-state", "property": "data", "value": {"period": period, "item": item, "dept": dept, "drg": drg}}]


def _drill(server: Flask, user: str, lang: str = "en", **state) -> tuple[int, dict]:
    return call(server, signed_in(server, user, lang), "ws-ap-drill.children", _state(**state))


def test_the_section_shows_the_scorecard_of_the_readers_scope(server: Flask, as_user) -> None:
    from pages.workspace.appraisal import layout

    with as_user("asst1"):
        page = texts(layout())
    assert "National appraisal" in page and "Not allowed" not in page
    client = signed_in(server, "asst1")
    status, out = call(server, client, "ws-ap-card.children", _state())
    assert status == 200
    rows = grid_props(out["ws-ap-card.children"], {"type": "ap-grid", "index": "desk"})["rowData"]
    assert {"alos", "day_surgery_share", "personnel_cost_share"} <= {r["code"] for r in rows}
    names = " ".join(r["drags"] for r in rows)
    assert "Cardiology" not in names  # D004: not one of the assistant's departments
    status, out = call(server, signed_in(server, "dir1", "zh"), "ws-ap-card.children", _state())
    rows = grid_props(out["ws-ap-card.children"], {"type": "ap-grid", "index": "desk"})["rowData"]
    assert status == 200 and {r["drags"] for r in rows} <= {"脊柱外科", "—"}  # a director: his department only
    assert "pharmacists_per_100_beds" not in {r["code"] for r in rows}  # a hospital-wide resource


def test_drill_from_a_cell_to_the_departments_groups_and_cases(server: Flask) -> None:
    client = signed_in(server, "asst1")
    cell = [{"id": {"type": "ap-grid", "index": "desk"}, "property": "cellClicked",
             "value": {"rowId": "alos", "colId": "last_text"}},
            {"id": {"type": "ws-ap-level", "index": "desk"}, "property": "cellClicked", "value": None}]
    status, out = call(server, client, "_pages_location.search", cell, _state())
    assert status == 200 and out["_pages_location.search"] == "?period=last-year&item=alos"
    status, out = _drill(server, "asst1", item="alos")
    keys = [r["key"] for r in grid_props(out["ws-ap-drill.children"], {"type": "ws-ap-level", "index": "desk"})["rowData"]]
    assert status == 200 and set(keys) <= {"D001", "D002", "D003"} and keys
    row = [{"id": {"type": "ap-grid", "index": "desk"}, "property": "cellClicked", "value": None},
           {"id": {"type": "ws-ap-level", "index": "desk"}, "property": "cellClicked", "value": {"rowId": "D001"}}]
    status, out = call(server, client, "_pages_location.search", row, _state(item="alos"))
    assert out["_pages_location.search"] == "?period=ytd&item=alos&dept=D001"
    status, out = _drill(server, "asst1", item="alos", dept="D001")
    groups = grid_props(out["ws-ap-drill.children"], {"type": "ws-ap-level", "index": "desk"})["rowData"]
    assert status == 200 and groups
    drg = groups[0]["key"]
    status, out = _drill(server, "asst1", item="alos", dept="D001", drg=drg)
    cases = grid_props(out["ws-ap-drill.children"], "ws-ap-cases")["rowData"]
    assert status == 200 and cases and {c["dept"] for c in cases} == {"Spine Surgery"}
    status, out = _drill(server, "asst1", item="alos", dept="D001", drg="ZZ99")  # a group without cases here
    assert status == 200 and "ZZ99" in texts(out["ws-ap-drill.children"]) and \
        grid_props(out["ws-ap-drill.children"], {"type": "ws-ap-level", "index": "desk"})["rowData"]
    status, out = _drill(server, "asst1", item="personnel_cost_share", dept="D001")
    assert status == 200 and "not computed from inpatient cases" in texts(out["ws-ap-drill.children"])


def test_the_drill_stays_in_the_scope(server: Flask) -> None:
    assert _drill(server, "asst1", item="alos", dept="D004")[0] == 403  # Cardiology: not the assistant's
    assert _drill(server, "dir1", item="alos", dept="D002")[0] == 403


def test_the_address_carries_the_level_and_a_bad_value_says_so(server: Flask, as_user) -> None:
    from pages.workspace.appraisal import layout

    with as_user("asst1"):
        page = layout(item="alos", dept="D001", drg="IB23", period="ytd")
        state = find(page, "ws-ap-state").data
        assert state == {"period": "ytd", "item": "alos", "dept": "D001", "drg": "IB23"}
        bad = texts(layout(item="no_such_thing"))
        assert "no_such_thing" in bad and find(layout(item="no_such_thing"), "ws-ap-state").data["item"] is None
        assert "Not allowed" in texts(layout(item="alos", dept="D004"))


# ---- the department page ------------------------------------------------------------------------
def test_the_department_page_has_a_short_scorecard(server: Flask) -> None:
    inputs = [{"id": "dw-dept", "property": "value", "value": "D001"},
              {"id": "dw-period", "property": "value", "value": "ytd"}]
    status, out = call(server, signed_in(server, "dir1", "zh"), "dw-appraisal.children", inputs)
    text = texts(out["dw-appraisal.children"])
    assert status == 200 and "平均住院日" in text and "国家中位数" in text and "/workspace/appraisal" in str(out)


# ---- a version 1 warehouse ----------------------------------------------------------------------
@pytest.fixture
def v1_server(v1_url: str, tmp_path: Path) -> Flask:
    from app import create_app

    srv = create_app({"WAREHOUSE_URL": v1_url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
                      "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"})
    for name, (role, kind, ids) in USERS.items():
        srv.extensions["hospdash"].appdb.create_user(name, name, PASSWORD, role, kind, ids)
    return srv


def test_a_version_1_warehouse_shows_what_it_can(v1_server: Flask) -> None:
    status, board = _board(v1_server, "lead1")
    assert status == 200 and "Average length of stay" in board
    assert "not available in this warehouse" in board and "holds no reference values" in board
    assert "error" not in board.lower()
    status, out = call(v1_server, signed_in(v1_server, "asst1"), "ws-ap-card.children", _state())
    assert status == 200 and "holds no reference values" in texts(out["ws-ap-card.children"])
    status, out = _drill(v1_server, "asst1", item="day_surgery_share")
    assert status == 200 and "Not available in this warehouse" in texts(out["ws-ap-drill.children"])


# ---- in the browser -----------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=["1080p", "4k"])
def test_the_screen_in_the_browser(dash_duo, server: Flask, size) -> None:
    serve(dash_duo, server)
    sign_in_browser(dash_duo, "lead1")
    dash_duo.wait_for_element("#wall-clock", timeout=20)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
    dash_duo.driver.get(f"{dash_duo.server.url}/wall/appraisal?kiosk=1")
    dash_duo.wait_for_element(".ap-table", timeout=30)
    dash_duo.wait_for_element("#ap-cannot", timeout=10)
    w, h, iw, ih = dash_duo.driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.scrollHeight, innerWidth, innerHeight]")
    assert w <= iw and h <= ih, f"page is {w}×{h} in a {iw}×{ih} window"
    cut = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.wall-panel')).filter(p => p.scrollHeight > p.clientHeight + 2)"
        ".length")
    assert cut == 0, "a group is cut off"
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def _click(dash_duo, selector: str) -> None:
    """Click the element once the page has settled: the grid below may still be drawing (and
    moving it) when it first appears, so a click that lands on something else is tried again."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

    deadline = time.monotonic() + 30
    while True:
        el = dash_duo.wait_for_element(selector, timeout=30)
        # instant: Bootstrap's reboot makes scrolling smooth, and a click during the glide misses
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", el)
        try:
            el.click()
            return
        except (ElementClickInterceptedException, StaleElementReferenceException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_a_click_on_a_scorecard_cell_drills_down_in_the_browser(dash_duo, server: Flask) -> None:
    serve(dash_duo, server)
    sign_in_browser(dash_duo, "asst1")
    dash_duo.driver.get(f"{dash_duo.server.url}/workspace/appraisal")
    _click(dash_duo, '.ap-grid .ag-row[row-id="alos"] .ag-cell[col-id="ytd_text"]')
    dash_duo.wait_for_element('.ag-row[row-id="D001"]', timeout=30)  # the departments behind the figure
    assert "item=alos" in dash_duo.driver.current_url
    _click(dash_duo, '.ag-row[row-id="D001"] .ag-cell[col-id="value"]')
    # the crumbs already hold a link at the departments' level: wait for the address itself
    deadline = time.monotonic() + 30
    while "dept=D001" not in dash_duo.driver.current_url and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "dept=D001" in dash_duo.driver.current_url
    dash_duo.driver.refresh()  # the level survives a reload
    dash_duo.wait_for_contains_text("#ws-ap-crumbs", "Spine Surgery", timeout=30)
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_scorecard_and_a_drill_level_export_within_the_scope(server: Flask, fmt: str) -> None:
    from .helpers import workspace_export

    client = signed_in(server, "asst1")
    status, df, _ = workspace_export(server, client, "appraisal", "scorecard", fmt, _state())
    assert status == 200 and "Average length of stay" in set(df["Indicator"])
    status, df, name = workspace_export(server, client, "appraisal", "level", fmt, _state(item="alos"))
    assert status == 200 and set(df["key"]) <= {"D001", "D002", "D003"} and "alos" in name
    status, df, _ = workspace_export(server, client, "appraisal", "level", fmt, _state(item="alos", dept="D001"))
    assert status == 200 and len(df) > 3  # the department's DRG groups
    assert workspace_export(server, client, "appraisal", "level", fmt, _state(item="alos", dept="D004"))[0] == 403
