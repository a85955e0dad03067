"""The leadership screens in headless Chromium at 1920×1080 and 3840×2160: every figure drawn,
no scrollbar, no console error; rotation advances by itself; a warehouse change reaches the
wall at its next refresh; a kiosk login opens the wall without a password."""
from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from data_layer.engine import make_engine
from data_layer.queries.live import LIVE_METRICS
from data_layer.schema import fact_live_snapshot

from .conftest import PASSWORD
from .helpers import serve, sign_in_browser

pytestmark = pytest.mark.browser

SCREENS = {  # path -> figures it draws
    "/wall/campus": 6,
    "/wall/drg": 2,
    "/profit": 2,
}
SIZES = [(1920, 1080), (3840, 2160)]


def _viewport(duo, width: int, height: int) -> None:
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _sign_in(duo, username: str = "lead1") -> None:
    sign_in_browser(duo, username)
    duo.wait_for_element("#wall-clock", timeout=20)  # a leader lands on the campus screen


def _drawn(duo, count: int, timeout: float = 30) -> float:
    """Wait until `count` figures have data drawn; return the seconds it took."""
    t0 = time.time()
    script = ("return Array.from(document.querySelectorAll('.js-plotly-plot'))"
              ".filter(p => p.data && p.data.length && p.querySelector('.main-svg')).length")
    while time.time() - t0 < timeout:
        if duo.driver.execute_script(script) >= count:
            return time.time() - t0
        time.sleep(0.2)
    raise AssertionError(f"only {duo.driver.execute_script(script)} of {count} figures drawn after {timeout} s")


def _no_scrollbars(duo) -> None:
    w, h, iw, ih = duo.driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.scrollHeight, innerWidth, innerHeight]")
    assert w <= iw and h <= ih, f"page is {w}×{h} in a {iw}×{ih} window"


def _panels_fit(duo) -> None:
    """No panel hides content below its edge (a panel clips rather than scrolls)."""
    cut = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.wall-panel'))"
        ".filter(p => p.scrollHeight > p.clientHeight + 2)"
        ".map(p => (p.querySelector('.wall-panel-title') || {}).textContent + ' ' + p.scrollHeight + '>' + p.clientHeight)")
    assert cut == [], f"panels cut off: {cut}"


@pytest.fixture
def wall(dash_duo, server):
    serve(dash_duo, server)
    _sign_in(dash_duo)
    return dash_duo


@pytest.mark.parametrize("size", SIZES, ids=["1080p", "4k"])
def test_every_screen_draws_without_scrolling(wall, size) -> None:
    _viewport(wall, *size)
    for path, figures in SCREENS.items():
        wall.driver.get(f"{wall.server.url}{path}?kiosk=1")
        wall.wait_for_element("#wall-fresh", timeout=20)
        _drawn(wall, figures)
        wall.wait_for_contains_text("#wall-fresh", "2026-11-21", timeout=20)
        assert not wall.driver.find_elements("css selector", "#app-navbar") or \
            not wall.find_element("#app-navbar").is_displayed(), "kiosk mode shows the navigation"
        _no_scrollbars(wall)
        if path == "/wall/campus":
            _panels_fit(wall)
        assert wall.get_logs() == [], f"console errors on {path}"
    # a desk (no kiosk) keeps the navigation and the filters, and still fits
    wall.driver.get(f"{wall.server.url}/profit")
    _drawn(wall, 2)
    assert wall.find_element("#app-navbar").is_displayed() and wall.find_element("#pf-period").is_displayed()
    _no_scrollbars(wall)


def test_rotation_moves_on_by_itself(wall) -> None:
    _viewport(wall, 1920, 1080)
    wall.driver.get(f"{wall.server.url}/wall/campus?kiosk=1&rotate=10")
    _drawn(wall, 4)
    deadline = time.time() + 25
    while time.time() < deadline and "campus=C1" not in wall.driver.current_url:
        time.sleep(0.5)
    assert "campus=C1" in wall.driver.current_url and "rotate=10" in wall.driver.current_url
    # the page is drawn anew on rotation: read the subtitle afresh until it names the campus
    deadline, text = time.time() + 20, ""
    while time.time() < deadline and not ("Main Campus" in text or "本部院区" in text):
        text = wall.driver.execute_script("const e = document.querySelector('.wall-subtitle'); "
                                          "return e ? e.textContent : ''")
        time.sleep(0.3)
    assert "Main Campus" in text or "本部院区" in text
    assert wall.get_logs() == []


def test_bad_url_values_leave_a_note_and_a_working_screen(wall) -> None:
    wall.driver.get(f"{wall.server.url}/wall/campus?kiosk=1&rotate=abc&campus=C99")
    wall.wait_for_element(".wall-note", timeout=20)
    notes = " ".join(e.text for e in wall.driver.find_elements("css selector", ".wall-note"))
    assert "abc" in notes and "C99" in notes
    _drawn(wall, 4)
    assert wall.get_logs() == []


def test_a_warehouse_change_reaches_the_wall(dash_duo, app_env, sqlite_url: str, tmp_path: Path) -> None:
    """The live figures move at the next refresh without a reload, and the rotation position stays."""
    from app import create_app

    copy = tmp_path / "moving.sqlite"
    shutil.copy(make_engine(sqlite_url).url.database, copy)
    srv = create_app({**app_env, "WAREHOUSE_URL": f"sqlite:///{copy}", "WALL_REFRESH_SECONDS": "5"})
    db = srv.extensions["hospdash"].appdb
    db.create_user("lead1", "lead1", PASSWORD, "leader", "hospital", ())
    serve(dash_duo, srv)
    _sign_in(dash_duo)
    dash_duo.driver.get(f"{dash_duo.server.url}/wall/campus?kiosk=1")
    _drawn(dash_duo, 4)
    dash_duo.wait_for_element("#cw-live-source.live-off", timeout=20)
    marker = dash_duo.driver.execute_script("window.__same_page = 1; return window.__same_page")
    now = datetime.now().replace(microsecond=0)
    engine = make_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(insert(fact_live_snapshot), [
            {"captured_at": now, "campus_id": c, "metric_code": m, "value": 4321.0 if m == "inpatients_now" else 7.0}
            for c in ("C1", "C2", "C3") for m in LIVE_METRICS])
    engine.dispose()
    dash_duo.wait_for_element("#cw-live-source.live-on", timeout=40)
    assert "Outpatient and emergency visits 21" in dash_duo.find_element("#cw-live").text  # 3 campuses × 7 today
    assert "12,963" in dash_duo.find_element("#cw-beds").text  # 3 × 4,321 inpatients now, in the bed census
    assert dash_duo.driver.execute_script("return window.__same_page") == marker, "the page reloaded"
    assert dash_duo.get_logs() == []
    srv.extensions["hospdash"].warehouse.engine.dispose()


def test_a_kiosk_address_opens_the_wall_without_a_password(dash_duo, server) -> None:
    db = server.extensions["hospdash"].appdb
    _kid, token = db.issue_kiosk(db.get_by_username("lead2").id, "east wall", "admin1")
    serve(dash_duo, server)
    dash_duo.driver.get(f"{dash_duo.server.url}/kiosk/{token}")
    dash_duo.wait_for_element("#wall-clock", timeout=20)
    assert "kiosk=1" in dash_duo.driver.current_url
    _drawn(dash_duo, 4)
    assert not dash_duo.driver.find_elements("css selector", "#login-form")
