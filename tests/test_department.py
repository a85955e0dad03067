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
from data_layer.queries.department import cost_breakdown, group_table, ward_table
from data_layer.queries.kpis import indicator_values
from data_layer.registry import Level
from data_layer.schema import fact_target_annual
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import PASSWORD, texts
from .helpers import read_table_workbook, serve
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


SECTIONS = ("dw-overview", "dw-targets", "dw-costs", "dw-wards", "dw-groups", "dw-discipline", "dw-alerts")


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
            "inputs": [[{"id": {"table": "groups", "type": "dw-export"}, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "dw-dept", "property": "value", "value": "D001"},
                      {"id": "dw-period", "property": "value", "value": "ytd"}],
            "changedPropIds": ['{"table":"groups","type":"dw-export"}.n_clicks']}
    headers = {"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value}
    resp = client.post("/_dash-update-component", data=json.dumps(body), headers=headers)
    assert resp.status_code == 200
    payload = resp.get_json()["response"]["dw-download"]["data"]
    frame = read_table_workbook(base64.b64decode(payload["content"]))
    assert "Discharges" in frame.columns and frame["Group code"].str.startswith("G").all()
    body["state"][0]["value"] = "D002"
    assert client.post("/_dash-update-component", data=json.dumps(body), headers=headers).status_code == 403


@pytest.mark.browser
def test_phone_width_has_no_sideways_scroll(dash_duo, server) -> None:
    serve(dash_duo, server)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    dash_duo.driver.get(dash_duo.server.url + "/login")
    dash_duo.wait_for_element("#login-form", timeout=10)
    dash_duo.find_element("#username").send_keys("dir1")
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_element("#dw-targets-table", timeout=30)
    dash_duo.wait_for_element("#dw-groups-table", timeout=30)
    width, inner = dash_duo.driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner, f"the page is {width}px wide on a {inner}px phone"
    assert dash_duo.get_logs() == []
