"""The real pages in headless Chromium: sign-in in both languages, the switch, the 403 page."""
from __future__ import annotations

import contextlib
import time

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import PASSWORD
from .helpers import serve

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(dash_duo, server):
    serve(dash_duo, server)
    return dash_duo


def _sign_in(duo, username: str, password: str = PASSWORD) -> None:
    duo.driver.get(duo.server.url + "/login")
    duo.wait_for_element("#login-form", timeout=10)
    _fill_sign_in(duo, username, password)


def _fill_sign_in(duo, username: str, password: str = PASSWORD) -> None:
    """Fill in and send the sign-in form already open (keeping its `next`)."""
    duo.find_element("#username").send_keys(username)
    duo.find_element("#password").send_keys(password)
    duo.find_element("#login-submit").click()


def _settled(duo) -> None:
    """Wait until no callback is running, so a click is not lost to the page still laying itself out."""
    duo.wait_for_no_elements("[data-dash-is-loading]", timeout=20)
    duo.driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")


def _switch_login_language(duo) -> None:
    duo.driver.get(duo.server.url + "/login")
    before = duo.wait_for_element("#login-submit", timeout=10).text
    # the old page stays until the new one arrives: wait for the other language, not just for a form
    _click_until(duo, "#login-lang", lambda d: _text_or_none(d, "#login-submit") not in (None, before))


def _click_until(duo, selector: str, arrived, timeout: float = 20) -> None:
    """Click and wait for what the click brings. Headless Chromium now and then drops a click that lands
    while the page is still laying itself out; the button is still there then, and a user would press
    it again, so the test does too (once the old page is gone the button is gone with it)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(NoSuchElementException, StaleElementReferenceException):  # already on its way
            duo.driver.find_element(By.CSS_SELECTOR, selector).click()
        try:
            WebDriverWait(duo.driver, min(5, max(0.1, deadline - time.monotonic()))).until(arrived)
            return
        except TimeoutException:
            if time.monotonic() >= deadline:
                raise


def _text_or_none(driver, selector: str) -> str | None:
    try:
        return driver.find_element(By.CSS_SELECTOR, selector).text
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def test_sign_in_in_english_lands_on_the_campus_screen(browser) -> None:
    browser.driver.get(browser.server.url + "/login")
    if "Sign in" not in browser.find_element("#login-submit").text:
        _switch_login_language(browser)
    assert browser.find_element("#login-submit").text == "Sign in"
    _sign_in(browser, "lead1")  # a leader lands on the campus operations screen
    browser.wait_for_contains_text("#wall-fresh", "2026-11-21", timeout=20)
    assert "Campus operations" in browser.find_element(".wall-title").text
    browser.find_element("a.nav-link[href='/']").click()  # the overview is one click away
    browser.wait_for_element("#freshness", timeout=20)
    assert "2026-11-21" in browser.find_element("#freshness").text
    assert "Hospital leader" in browser.find_element("#user-badge").text
    assert len(browser.find_elements(".stat-card")) >= 16
    assert browser.get_logs() == [], "browser console has errors"


def test_sign_in_in_chinese_and_switch_language(browser) -> None:
    browser.driver.get(browser.server.url + "/login")
    if browser.find_element("#login-submit").text != "登录":
        _switch_login_language(browser)
    assert browser.find_element("#login-submit").text == "登录"
    _sign_in(browser, "asst1")
    browser.wait_for_element("#freshness", timeout=20)
    assert "数据截至" in browser.find_element("#freshness").text
    assert "专科运营助理" in browser.find_element("#user-badge").text
    page = browser.driver.current_url
    browser.find_element("#lang-switch").click()  # to English, remembered for the user
    browser.wait_for_text_to_equal("#logout", "Sign out", timeout=20)
    browser.wait_for_contains_text("#freshness", "Data through", timeout=20)
    assert browser.driver.current_url == page  # the switch keeps the user on the page they were on
    _settled(browser)
    _click_until(browser, "#logout", lambda d: d.find_elements(By.CSS_SELECTOR, "#login-form"))
    browser.driver.delete_all_cookies()  # a new browser: the saved preference must come from the user
    _sign_in(browser, "asst1")
    browser.wait_for_element("#freshness", timeout=20)
    assert "Data through" in browser.find_element("#freshness").text


def test_a_wrong_password_says_so(browser) -> None:
    _sign_in(browser, "dir1", "not-the-password-1")
    err = browser.wait_for_element("#login-error", timeout=10)
    assert "incorrect" in err.text or "不正确" in err.text


def test_forbidden_page_shows_403_inside_the_shell(browser, server) -> None:
    _sign_in(browser, "dir1")
    browser.wait_for_element("#freshness", timeout=20)
    browser.driver.get(browser.server.url + "/admin")
    browser.wait_for_element("#forbidden", timeout=20)
    assert browser.find_element("#app-navbar")  # still inside the shell
    links = [a.get_attribute("href") for a in browser.driver.find_elements(By.CSS_SELECTOR, ".nav-links a")]
    assert not any(h.endswith("/admin") for h in links)
    audit = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_page")
    assert audit and audit[0]["username"] == "dir1" and audit[0]["target"] == "/admin"


# How many lines each cell of a table's column takes (its text's line boxes).
CELL_LINES = """
return Array.from(document.querySelectorAll(arguments[0])).map(td => {
  const r = document.createRange(); r.selectNodeContents(td);
  return [td.innerText, new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size];
});
"""


TEXT_LINES = """
return Array.from(document.querySelectorAll(arguments[0])).map(cell => {
  const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), tops = new Set();
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const r = document.createRange(); r.selectNodeContents(n);
    Array.from(r.getClientRects()).forEach(x => tops.add(Math.round(x.top)));
  }
  return [cell.innerText, tops.size];
});
"""


def test_the_admin_page_has_no_sideways_scroll_on_a_phone(browser, server) -> None:
    """At 390 px the users, kiosk-login and audit tables scroll inside their own box, not the page,
    and the users table's names and roles stay on one line."""
    db = server.extensions["hospdash"].appdb
    db.create_user("assistant.cardiac", "心血管专科运营助理", PASSWORD, "assistant", "departments", ("D001",))
    db.issue_kiosk(db.get_by_username("lead1").id, "Campus 2 lobby wall, east entrance", "admin1")
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    _sign_in(browser, "admin1")
    for table in ("#admin-users-table", "#kiosk-list", "#audit-log-table"):
        browser.wait_for_element(table, timeout=20)
    _settled(browser)
    # the layout width, not innerWidth: a phone's innerWidth grows to a page wider than its screen
    width, inner = browser.driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth]")
    assert inner == 390 and width <= inner, f"the admin page is {width} px wide on a {inner} px phone"
    for column in ("display_name", "role"):  # grid cells: one line each
        lines = browser.driver.execute_script(TEXT_LINES, f"#admin-users-table .ag-cell[col-id='{column}']")
        assert lines and all(n == 1 for _, n in lines), lines
    assert browser.get_logs() == []
