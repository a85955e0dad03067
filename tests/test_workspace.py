"""The workspace as a whole: every section opens for the data roles within their scope, refuses
the administrator and any department outside the scope (audited), shrugs off a malformed
address, keeps the department and period in its tabs, and assistants land on the portfolio."""
from __future__ import annotations

import importlib

import pytest
from flask import Flask

from pages.workspace._frame import SECTIONS

from .conftest import texts
from .helpers import sign_in_browser, signed_in

MODULES = {"portfolio": "pages.workspace.portfolio", "revenue": "pages.workspace.revenue", "costs": "pages.workspace.costs",
           "drg": "pages.workspace.drg", "budget": "pages.workspace.budget", "equipment": "pages.workspace.equipment",
           "projects": "pages.workspace.projects", "reports": "pages.workspace.reports",
           "appraisal": "pages.workspace.appraisal"}


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


# ---- the portfolio grid ------------------------------------------------------------------------------

def _portfolio_grid(server: Flask, user: str, lang: str = "en") -> dict:
    from .helpers import grid_props, post_callback

    status, out = post_callback(server, signed_in(server, user, lang), "po-table.children",
                                [{"id": "ws-period", "property": "value", "value": "ytd"}],
                                [{"id": "ws-dept", "property": "value", "value": "D001"}])
    assert status == 200
    return grid_props(out["po-table.children"])


def test_the_portfolio_is_a_grid_of_the_departments_in_scope(server: Flask, wh) -> None:
    """One row per department of the scope, the department pinned, a column per indicator keeping
    its raw value (it sorts by it), the cell's score as its colour and the shown lines beside it."""
    from data_layer.queries.portfolio import PORTFOLIO, portfolio
    from data_layer.scope import Scope

    grid = _portfolio_grid(server, "asst1")
    assert grid["id"] == "po-grid" and [r["dept_id"] for r in grid["rowData"]] == ["D001", "D002", "D003"]
    defs = {d["field"]: d for d in grid["columnDefs"]}
    assert defs["name"]["pinned"] == "left" and defs["revenue"]["sortable"] is False
    # the open alerts beside the name, pinned with it: in view however far the indicators scroll
    assert [d["field"] for d in grid["columnDefs"][:2]] == ["name", "alerts"] and defs["alerts"]["pinned"] == "left"
    assert all(d["sortable"] for d in grid["columnDefs"] if d["field"] != "revenue")
    codes = [d["field"] for d in grid["columnDefs"] if d.get("cellRenderer") == "PfCell"]
    assert codes and set(codes) <= set(PORTFOLIO)
    from datetime import date

    from data_layer.periods import Period
    from pages.workspace._frame import resolve_period  # noqa: F401 - the workspace's period rule

    per = Period(date(2026, 1, 1), date(2026, 11, 21))
    pf = portfolio(wh, Scope.departments(["D001", "D002", "D003"]), per).set_index(["dept_id", "indicator"])
    row = grid["rowData"][0]
    for c in codes:
        want = pf.loc[("D001", c)]
        assert row[c] == pytest.approx(float(want["value"])) and row[f"{c}__score"] == int(want["score"])
        assert f"pf-s{int(want['score'])}" in defs[c]["cellClassRules"] or int(want["score"]) == 0
    assert "D004" not in str(grid["rowData"])
    zh = _portfolio_grid(server, "asst1", "zh")
    assert zh["columnDefs"][0]["headerName"] == "科室" and zh["rowData"][0]["revenue"] == "收入分析"


def test_the_portfolio_is_kept_and_follows_the_open_alerts(server: Flask, monkeypatch) -> None:
    """The grid is kept in the result cache (asked again, it is neither built nor read from the
    warehouse), yet a new open alert shows at once, and one closed goes: the alerts change without a load."""
    from datetime import date

    from sqlalchemy import event

    import pages.workspace.portfolio as page
    from appdb.alerts import list_alerts, save_scan, transition
    from data_layer.alerts.detect import Alert
    from data_layer.scope import Scope

    state = server.extensions["hospdash"]
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_a) -> None:
        seen.append(statement)

    def alerts_of_d002() -> int:
        return next(r["alerts"] for r in _portfolio_grid(server, "asst1")["rowData"] if r["dept_id"] == "D002")

    built: list[str] = []
    grid = page.portfolio_grid
    monkeypatch.setattr(page, "portfolio_grid", lambda *a: built.append("grid") or grid(*a))
    before = alerts_of_d002()
    built.clear()
    event.listen(state.warehouse.engine, "before_cursor_execute", note)
    try:
        assert alerts_of_d002() == before and seen == [] and built == [], (seen, built)  # kept
    finally:
        event.remove(state.warehouse.engine, "before_cursor_execute", note)
    fired = Alert(kind="test_kept_portfolio", level="red", dept_id="D002", indicator="revenue",
                  period_start=date(2026, 11, 1), period_end=date(2026, 11, 21), observed=2.0, expected=1.0,
                  band_low=0.5, band_high=1.5, deviation=1.0, method="a test's alert")
    save_scan(state.appdb, [fired], {"D002": None})
    try:
        assert alerts_of_d002() == before + 1
    finally:
        mine = list_alerts(state.appdb, Scope.hospital(), dept_ids=["D002"], limit=10_000)
        row = mine[mine["problem_key"] == fired.key].iloc[0]
        transition(state.appdb, Scope.hospital(), int(row["id"]), "dismissed", "asst1", int(row["version"]),
                   reason="a test's alert")
    assert alerts_of_d002() == before


@pytest.mark.parametrize("col, where", [("name", "/department?dept=D002"), ("bed_occupancy", "/department?dept=D002"),
                                        ("revenue", "/workspace/revenue?dept=D002")])
def test_a_click_on_a_portfolio_row_goes_where_its_links_went(server: Flask, col: str, where: str) -> None:
    from .helpers import post_callback

    status, out = post_callback(server, signed_in(server, "asst1"), "_pages_location.href",
                                [{"id": "po-grid", "property": "cellClicked",
                                  "value": {"rowId": "D002", "colId": col, "rowIndex": 1, "value": "x"}}])
    assert status == 200 and out["_pages_location.href"] == where
    status, out = post_callback(server, signed_in(server, "asst1"), "_pages_location.href",
                                [{"id": "po-grid", "property": "cellClicked", "value": {"rowId": {"x": 1}}}])
    assert status in (200, 204) and "/department" not in str(out)


@pytest.mark.browser
def test_browser_the_portfolio_grid_draws_its_rows_and_a_click_opens_the_department(dash_duo, server) -> None:
    from .helpers import serve

    serve(dash_duo, server)
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element("#po-grid .ag-pinned-left-cols-container .ag-row", timeout=30)
    rows = dash_duo.find_elements("#po-grid .ag-pinned-left-cols-container .ag-row")
    assert len(rows) == 3
    cells = dash_duo.find_elements("#po-grid .ag-center-cols-container .ag-row[row-id='D002'] .ag-cell.pf-cell")
    assert cells and all(c.text.strip() for c in cells)  # value and changes drawn by the renderer
    assert dash_duo.find_elements("#po-grid .ag-cell[class*='pf-s']")  # score colours
    dash_duo.find_element("#po-grid .ag-pinned-left-cols-container .ag-row[row-id='D002'] .ag-cell").click()
    dash_duo.wait_for_element("#dw-dept", timeout=30)
    assert "/department?dept=D002" in dash_duo.driver.current_url
    dash_duo.driver.get(dash_duo.server.url + "/workspace")
    dash_duo.wait_for_element("#po-grid .ag-center-cols-container .ag-row[row-id='D001'] .ag-cell[col-id='revenue']",
                              timeout=30).click()
    dash_duo.wait_for_element("#wsr-level-title", timeout=30)
    assert "/workspace/revenue?" in dash_duo.driver.current_url and "dept=D001" in dash_duo.driver.current_url
    assert [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"] == []
