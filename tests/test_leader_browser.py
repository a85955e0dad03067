"""The leader's screens in headless Chromium at 1920×1080 and 3840×2160: the wall tables show
whole rows only and fill their panel (the rest page by itself), and a desk's navigation and
pickers grow with a 4K screen instead of staying at their 1080p pixel size."""
from __future__ import annotations

import pytest

from .helpers import serve
from .test_wall_browser import _drawn, _sign_in, _viewport

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (3840, 2160)]
TABLES = {"/profit": "pf-rows", "/wall/drg": "drg-rows"}

# the rows of a wall table that lie (even partly) in view, and which of them are cut
ROWS_IN_VIEW = """
const box = document.getElementById(arguments[0]);
if (!box) return null;
const b = box.getBoundingClientRect();
const rows = Array.from(box.querySelectorAll(':scope > .rt-row'));
const seen = rows.map(r => r.getBoundingClientRect())
  .filter(r => r.left < b.right - 1 && r.right > b.left + 1 && r.top < b.bottom - 1 && r.bottom > b.top + 1);
return {total: rows.length, shown: seen.length, height: b.height,
        used: seen.reduce((s, r) => s + r.height, 0), tallest: Math.max(0, ...seen.map(r => r.height)),
        cut: seen.filter(r => r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5).length};
"""


@pytest.fixture
def wall(dash_duo, server):
    serve(dash_duo, server)
    _sign_in(dash_duo)
    return dash_duo


@pytest.mark.parametrize("size", SIZES, ids=["1080p", "4k"])
def test_wall_tables_show_whole_rows_that_fill_the_panel(wall, size) -> None:
    _viewport(wall, *size)
    for path, rows_id in TABLES.items():
        wall.driver.get(f"{wall.server.url}{path}?kiosk=1")
        _drawn(wall, 2)
        wall.wait_for_element(f"#{rows_id} > .rt-row", timeout=30)
        got = wall.driver.execute_script(ROWS_IN_VIEW, rows_id)
        assert got["cut"] == 0, f"{path} at {size}: {got}"
        assert got["shown"] >= 5, f"{path} at {size}: {got}"
        # the panel is filled: what is left below the last whole row is less than the tallest row
        assert got["height"] - got["used"] < got["tallest"] + 2, f"{path} at {size}: {got}"
        if got["total"] > got["shown"]:  # the rest are on further pages, and the wall says so
            page = rows_id.replace("-rows", "-page")
            wall.wait_for_contains_text(f"#{page}", "1", timeout=10)
            assert "/" in wall.find_element(f"#{page}").text or "of" in wall.find_element(f"#{page}").text
        assert wall.get_logs() == [], f"console errors on {path}"


FONT = "return parseFloat(getComputedStyle(document.querySelector(arguments[0])).fontSize)"


def test_desk_chrome_grows_on_a_4k_screen(wall) -> None:
    sizes = {}
    for width, height in SIZES:
        _viewport(wall, width, height)
        wall.driver.get(f"{wall.server.url}/wall/drg")  # a desk: the navigation and the pickers show
        _drawn(wall, 2)
        wall.wait_for_element("#drg-period", timeout=20)
        sizes[width] = {sel: wall.driver.execute_script(FONT, sel)
                        for sel in ("#app-navbar .nav-link", "#user-badge", "#drg-period", ".export-buttons .btn")}
        wall.driver.get(f"{wall.server.url}/")  # a plain desk page
        wall.wait_for_element("#freshness", timeout=20)
        sizes[width]["overview nav"] = wall.driver.execute_script(FONT, "#app-navbar .nav-link")
    for what, small in sizes[1920].items():
        big = sizes[3840][what]
        assert small >= 12, f"{what} is {small}px at 1080p"
        assert big >= 1.6 * small and big >= 22, f"{what}: {small}px at 1080p but {big}px at 4K"


PHONE_ROWS = {"/profit": "#pf-table .ag-center-cols-container .ag-row",  # the desk's grid (the wall's rank table)
              "/wall/drg": "#drg-rows > .rt-row",
              "/wall/appraisal": ".ap-table tbody tr"}  # no figures: its trends are small bars
PHONE_FIGURES = {"/profit": 2, "/wall/drg": 2, "/wall/appraisal": 0}
PHONE_CELLS = {"/profit": "#pf-table .ag-cell", "/wall/drg": ".rank-table .rt-cell", "/wall/appraisal": ".ap-table td.ap-ytd"}


@pytest.mark.parametrize("path", list(PHONE_ROWS))
def test_the_screens_read_on_a_phone(wall, path) -> None:
    """At 390 px a desk's DRG screen, profit view and national appraisal screen become one column
    that scrolls down, in a readable type, with nothing wider than the phone (a grid scrolls
    sideways inside itself)."""
    _viewport(wall, 390, 844)
    wall.driver.get(f"{wall.server.url}{path}")
    _drawn(wall, PHONE_FIGURES[path])
    wall.wait_for_element(PHONE_ROWS[path], timeout=30)
    width, inner, root = wall.driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, parseFloat(getComputedStyle(d).fontSize)]")
    assert width <= inner, f"{path} is {width} px wide on a {inner} px phone"
    assert root >= 16
    panels = wall.driver.execute_script(
        "return Array.from(document.querySelectorAll('.wall-panel')).map(p => p.getBoundingClientRect().width)")
    assert panels and all(w > 0.9 * 390 - 40 for w in panels), panels  # one column, full width
    assert wall.driver.execute_script(FONT, PHONE_CELLS[path]) >= 12


def test_a_desk_picks_a_group_by_its_row_and_sorts_by_a_header(wall) -> None:
    _viewport(wall, 1920, 1080)
    wall.driver.get(f"{wall.server.url}/wall/drg")
    _drawn(wall, 2)
    wall.wait_for_element("#drg-rows > .rt-row.rt-selected", timeout=30)
    rows = wall.driver.find_elements("css selector", "#drg-rows > .rt-row")
    third = rows[2]
    code = third.find_element("css selector", ".rt-cell").text
    third.click()
    wall.wait_for_contains_text("#drg-detail-title", code, timeout=20)
    wall.wait_for_element("#drg-rows > .rt-row.rt-selected", timeout=10)
    marked = wall.driver.find_elements("css selector", "#drg-rows > .rt-row.rt-selected")
    assert [m.find_element("css selector", ".rt-cell").text for m in marked] == [code]  # the mark follows
    header = wall.driver.find_element("css selector", "button.rt-head[id*='\"cases\"']")
    header.click()  # the largest number of cases first
    wall.wait_for_contains_text("button.rt-head[id*='\"cases\"']", "▼", timeout=20)
    cases = [int(r.find_elements("css selector", ".rt-cell")[2].text.replace(",", ""))
             for r in wall.driver.find_elements("css selector", "#drg-rows > .rt-row")]
    assert cases == sorted(cases, reverse=True) and len(cases) > 20
    assert wall.get_logs() == []


# the headers of the page's grids whose text is cut ("Reve…"): grid, text, pixels needed, pixels shown
CUT_HEADERS = """
const out = [];
for (const grid of document.querySelectorAll('.ag-root-wrapper')) {
  for (const t of grid.querySelectorAll('.ag-header-cell .ag-header-cell-text')) {
    if (t.scrollWidth > t.clientWidth + 1) out.push([t.textContent, t.scrollWidth, t.clientWidth]);
  }
}
return out;
"""


def test_the_profit_desks_grid_shows_every_header_whole(wall) -> None:
    _viewport(wall, 1920, 1080)
    wall.driver.get(f"{wall.server.url}/profit")
    wall.wait_for_element("#pf-table .ag-header-cell-text", timeout=30)
    wall.wait_for_no_elements("[data-dash-is-loading]", timeout=20)
    assert wall.driver.execute_script(CUT_HEADERS) == []
