"""The workspace as a whole: every section opens for the data roles within their scope, refuses
the administrator and any department outside the scope (audited), shrugs off a malformed
address, keeps the department and period in its tabs, and assistants land on the portfolio."""
from __future__ import annotations

import importlib

import pytest
from flask import Flask

from pages.workspace._frame import SECTIONS

from .conftest import texts
from .helpers import signed_in

MODULES = {"portfolio": "pages.workspace.portfolio", "revenue": "pages.workspace.revenue", "costs": "pages.workspace.costs",
           "drg": "pages.workspace.drg", "budget": "pages.workspace.budget", "equipment": "pages.workspace.equipment",
           "projects": "pages.workspace.projects", "reports": "pages.workspace.reports"}


def test_every_section_has_a_page(server: Flask) -> None:
    assert set(MODULES) == {s for s, _ in SECTIONS}
    import dash

    paths = {p["path"] for p in dash.page_registry.values()}
    assert {path for _, path in SECTIONS} <= paths


@pytest.mark.parametrize("section", list(MODULES))
def test_each_section_opens_for_an_assistant_and_refuses_the_admin(server: Flask, as_user, section: str) -> None:
    module = importlib.import_module(MODULES[section])
    with as_user("asst1"):
        page = texts(module.layout(dept="D002", period="last-month"))
    assert "Not allowed" not in page
    assert "My departments" in page and "Monthly reports" in page  # the tab bar
    with as_user("admin1"):
        assert "Not allowed" in texts(module.layout())


@pytest.mark.parametrize("section", list(MODULES))
def test_a_department_outside_the_scope_is_refused_and_audited(server: Flask, as_user, section: str) -> None:
    module = importlib.import_module(MODULES[section])
    with as_user("asst1"):
        page = texts(module.layout(dept="D004"))
    assert "Not allowed" in page
    refused = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_department", username="asst1")
    assert refused and "D004" in refused[0]["detail"]


@pytest.mark.parametrize("section", list(MODULES))
def test_a_malformed_address_gets_a_page_not_a_traceback(server: Flask, as_user, section: str) -> None:
    module = importlib.import_module(MODULES[section])
    with as_user("dir1"):
        for query in ({"dept": "D001", "period": "'; drop table x"}, {"dept": "x" * 500}, {"period": "2026-13"},
                      {"dept": "", "period": ""}):
            page = texts(module.layout(**query))
            assert "Traceback" not in page


def test_tabs_keep_the_department_and_period(server: Flask, as_user) -> None:
    from pages.workspace.budget import layout

    with as_user("asst1"):
        page = layout(dept="D003", period="2026-10")
    import json
    import re

    from plotly.utils import PlotlyJSONEncoder

    hrefs = re.findall(r'"href": "(/workspace[^"]*)"', json.dumps(page, cls=PlotlyJSONEncoder))
    assert len([h for h in hrefs if "dept=D003&period=2026-10" in h]) == len(SECTIONS)


def test_assistants_land_on_the_portfolio_and_the_menu_shows_it_once(server: Flask) -> None:
    client = server.test_client()
    from .conftest import login

    resp = login(client, "asst1")
    assert resp.headers["Location"].endswith("/workspace")
    client = signed_in(server, "dir1")
    from shell.access import landing_path

    with server.test_request_context("/"):
        assert landing_path("director") == "/department" and landing_path("assistant") == "/workspace"
    import dash

    nav = [p for p in dash.page_registry.values() if p["path"].startswith("/workspace") and p.get("nav") is not False]
    assert [p["path"] for p in nav] == ["/workspace"]


def test_picking_keeps_a_sections_parameters_only_within_the_department() -> None:
    from dash import no_update

    from pages.workspace._frame import merge_query

    assert merge_query("?dept=D001&period=ytd&report=7", "D001", "ytd") is no_update
    assert merge_query("?dept=D001&period=ytd&report=7", "D001", "2026-10") == "?dept=D001&period=2026-10&report=7"
    assert merge_query("?dept=D001&period=ytd&report=7", "D002", "ytd") == "?dept=D002&period=ytd"
    assert merge_query("", "D002", "mtd") == "?dept=D002&period=mtd"
    assert merge_query(None, "D002", "mtd") == "?dept=D002&period=mtd"
