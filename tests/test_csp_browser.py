"""Every page, opened in headless Chromium by a user who may open it, runs under the
Content-Security-Policy with no violation and no console error; the policy is enforced
(an injected inline script does not run); and the largest callback body the pages send
stays far below the request body limit."""
from __future__ import annotations

import time

import dash
import pytest
from flask import request

from shell.access import may_open

from .conftest import PASSWORD
from .helpers import serve

pytestmark = pytest.mark.browser

VISITOR = {"leader": "lead1", "director": "dir1", "assistant": "asst1", "admin": "admin1"}
# Each page opened by one role that may open it: the desk pages by the assistant, the
# department page by its director, the rest by a leader (every page is opened once).
ASSISTANT_PAGES = ("/workspace",)
DIRECTOR_PAGES = ("/department",)


def _opener(path: str, module: str) -> str:
    role = ("assistant" if path.startswith(ASSISTANT_PAGES) else "director" if path.startswith(DIRECTOR_PAGES)
            else "leader")
    return role if may_open(module, role) else "admin"


def _pages_of(role: str) -> list[str]:
    pages = sorted(p["path"] for p in dash.page_registry.values()
                   if p["path"] != "/404" and _opener(p["path"], p["module"]) == role)
    return pages + ["/no/such/page"] if role == "leader" else pages  # the not-found page


def _settle(duo, timeout: float = 40) -> None:
    """Wait until the page's callbacks have answered (nothing loading for a second)."""
    script = "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length"
    t0, quiet = time.time(), 0.0
    duo.wait_for_element("#react-entry-point", timeout=20)
    while time.time() - t0 < timeout and quiet < 1.0:
        time.sleep(0.25)
        quiet = quiet + 0.25 if duo.driver.execute_script(script) == 0 else 0.0


def _problems(duo) -> list[str]:
    return [e["message"] for e in duo.driver.get_log("browser") if e["level"] == "SEVERE"
            or "Content Security Policy" in e["message"]]


def _sign_in(duo, username: str) -> None:
    duo.driver.get(duo.server.url + "/login")
    duo.wait_for_element("#login-form", timeout=10)
    assert _problems(duo) == [], "console errors on /login"
    duo.find_element("#username").send_keys(username)
    duo.find_element("#password").send_keys(PASSWORD)
    duo.find_element("#login-submit").click()
    _settle(duo)


@pytest.mark.parametrize("role", list(VISITOR))
def test_every_page_runs_under_the_policy_without_console_errors(dash_duo, server, role: str) -> None:
    bodies: list[tuple[int, str]] = []
    server.before_request(lambda: bodies.append((request.content_length or 0, request.path)) and None)
    serve(dash_duo, server)
    _sign_in(dash_duo, VISITOR[role])
    paths = _pages_of(role)
    assert paths, f"no page to open as {role}"
    for path in paths:
        dash_duo.driver.get(dash_duo.server.url + path)
        _settle(dash_duo)
        assert _problems(dash_duo) == [], f"console errors on {path} as {role}"
    injected = ("const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
                "document.head.appendChild(s); return window.injected === 1")
    assert dash_duo.driver.execute_script(injected) is False, "an injected inline script ran: no CSP in force"
    assert any("Content Security Policy" in m for m in _problems(dash_duo))
    largest = max(bodies)
    limit = server.config["MAX_CONTENT_LENGTH"]
    print(f"largest request body as {role}: {largest[0]:,} bytes ({largest[1]})")
    assert largest[0] < limit / 8, f"a page sends {largest[0]:,} bytes; the limit is {limit:,}"
