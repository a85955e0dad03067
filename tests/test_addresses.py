"""A bad address parameter is never rewritten silently: each page shows a note naming the
parameter, what was wrong and what it shows instead; a refused department says why."""
from __future__ import annotations

import importlib
import re

import pytest
from flask import Flask

from data_layer.queries.structure import departments
from data_layer.scope import Scope

from .conftest import texts
from .helpers import find, post_callback, sign_in_browser, signed_in

WORKSPACE = ("ws_portfolio", "ws_revenue", "ws_costs", "ws_drg", "ws_budget", "ws_equipment", "ws_projects",
             "ws_reports")


def _page(name: str):
    """A page module by its old short name: ws_costs is pages.workspace.costs."""
    return importlib.import_module(f"pages.workspace.{name[3:]}" if name.startswith("ws_") else f"pages.{name}")


def _range(server: Flask) -> tuple[str, str]:
    fresh = server.extensions["hospdash"].warehouse.freshness()
    return f"{fresh.first_date:%b %Y}", f"{fresh.data_through:%b %Y}"


@pytest.mark.parametrize("name", WORKSPACE)
def test_a_workspace_period_outside_the_data_names_the_range_and_keeps_the_department(server: Flask, as_user,
                                                                                    name: str) -> None:
    first, last = _range(server)
    with as_user("asst1"):
        page = _page(name).layout(dept="D002", period="2030-01")
    note = texts(find(page, "address-notes"))
    assert note == (f"The address's period (period=2030-01) lies outside the data (data covers {first} to {last}); "
                    "showing Year to date instead.")
    assert find(page, "ws-dept").value == "D002" and find(page, "ws-period").value == "ytd"
    with as_user("asst1", "zh"):
        zh = texts(find(_page(name).layout(dept="D002", period="garbage"), "address-notes"))
    assert zh.startswith("地址中的统计期间（period=garbage）不是统计期间") and zh.endswith("现显示本年累计。")


def test_a_good_address_has_no_note_and_an_older_month_stays_chosen(server: Flask, as_user) -> None:
    fresh = server.extensions["hospdash"].warehouse.freshness()
    old = f"{fresh.first_date:%Y-%m}"  # inside the data, older than the 13 months the picker lists
    with as_user("asst1"):
        page = _page("ws_budget").layout(dept="D001", period=old)
        assert find(page, "address-notes") is None
        picker = find(page, "ws-period")
        assert picker.value == old and old in {o["value"] for o in picker.options}
        assert find(_page("ws_costs").layout(dept="D001", period="last-month"), "address-notes") is None


def test_the_revenue_drill_down_notes_a_bad_stream_and_direction(server: Flask, as_user) -> None:
    with as_user("asst1"):
        page = _page("ws_revenue").layout(dept="D001", stream="pharmacy", by="doctor")
    note = texts(find(page, "address-notes"))
    assert "revenue stream (stream=pharmacy) is not one of the choices" in note
    assert "drill-down direction (by=doctor) is not one of the choices" in note
    assert find(page, "wsr-state").data["stream"] == "all"


def test_the_department_page_notes_a_bad_period(server: Flask, as_user) -> None:
    with as_user("dir1"):
        page = _page("department").layout(period="x")
    assert texts(find(page, "address-notes")).startswith("The address's period (period=x) is not a period this page "
                                                          "offers (Year to date, Month to date")
    assert find(page, "dw-period").value == "ytd"
    with as_user("dir1"):
        assert find(_page("department").layout(period="last-month"), "address-notes") is None


def test_three_refusals_three_reasons(server: Flask, as_user, wh) -> None:
    """A role that may not open the page, a department outside the scope and one that does not
    exist each say so; a department that exists but is not clinical is not offered, not forbidden."""
    deps = departments(wh, Scope.hospital())
    other = deps[deps["dept_id"] == "D002"].iloc[0]
    support = deps[deps["kind"] != "clinical"].iloc[0]
    with as_user("admin1"):
        role = texts(_page("department").layout())
    with as_user("dir1"):
        scope = _page("department").layout(dept="D002")
        unknown = _page("department").layout(dept="D999")
    with as_user("lead1"):
        not_here = _page("ws_costs").layout(dept=support["dept_id"])
    assert "Your role may not open this page" in role
    assert scope.id == "forbidden" and f"The department “{other['name_en']}” lies outside your scope" in texts(scope)
    assert unknown.id == "refused" and "There is no department with the code “D999”" in texts(unknown)
    assert "role" not in texts(unknown) and "role" not in texts(scope)
    assert not_here.id == "refused" and f"“{support['name_en']}” is not one this page offers" in texts(not_here)
    with as_user("asst1", "zh"):
        assert "地址中的科室编号“D999”不存在" in texts(_page("ws_drg").layout(dept="D999"))


def test_the_campus_wall_notes_a_period_it_does_not_read(server: Flask, as_user) -> None:
    with as_user("lead1"):
        page = _page("wall_campus").layout(period="garbage")
    assert texts(find(page, "address-notes")) == ("The address's period (period=garbage) does not apply to this page; "
                                                   "this page shows today, month to date and year to date.")
    with as_user("lead1", "zh"):
        zh = texts(find(_page("wall_campus").layout(period="garbage"), "address-notes"))
    assert zh == "地址中的统计期间（period=garbage）不适用于此页面，此页面显示今日、本月累计与本年累计。"
    with as_user("lead1"):
        assert find(_page("wall_campus").layout(), "address-notes") is None


@pytest.mark.parametrize("name,prefix", [("profit", "pf"), ("wall_drg", "drg")])
def test_desks_read_their_filters_from_the_address_and_note_bad_ones(server: Flask, as_user, name: str,
                                                                      prefix: str) -> None:
    with as_user("lead1"):
        bad = _page(name).layout(period="garbage", division="zz")
        good = _page(name).layout(period="last-month", division="surgical", campus="C1")
    note = texts(find(bad, "address-notes"))
    assert "period (period=garbage) is not a period this page offers" in note and "Year to date instead" in note
    assert "division (division=zz) is not one of the choices" in note and "all divisions instead" in note
    assert find(bad, f"{prefix}-period").value == "ytd" and find(bad, f"{prefix}-division").value is None
    assert find(good, "address-notes") is None
    assert (find(good, f"{prefix}-period").value, find(good, f"{prefix}-division").value,
            find(good, f"{prefix}-campus").value) == ("last-month", "surgical", "C1")


def test_a_campus_outside_the_scope_says_so(server: Flask, as_user) -> None:
    with as_user("lead2"):
        page = _page("profit").layout(campus="C1")
    assert page.id == "forbidden" and "lies outside your scope" in texts(page)


def test_an_alert_note_is_checked_on_submit_not_when_the_alert_opens(server: Flask) -> None:
    client = signed_in(server, "asst1")
    inputs = [{"id": i, "property": "n_clicks", "value": None} for i in ("al-ack", "al-resolve", "al-dismiss",
                                                                          "al-note-add")]
    state = [{"id": "al-selected", "property": "data", "value": 1}, {"id": "al-version", "property": "data", "value": 1},
             {"id": "al-reason", "property": "value", "value": None},
             {"id": "al-note-kind", "property": "value", "value": "cause"},
             {"id": "al-note-text", "property": "value", "value": None},
             {"id": "al-refresh", "property": "data", "value": 0}]
    status, out = post_callback(server, client, "al-msg.children", inputs, state)
    assert status == 204 or "al-msg.children" not in out
    inputs[3]["value"] = 1
    status, out = post_callback(server, client, "al-msg.children", inputs, state)
    assert status == 200 and "The note is empty" in texts(out["al-msg.children"])


def test_a_status_change_note_reads_in_the_page_language(server: Flask) -> None:
    from appdb.schema import ALERT_STATUSES
    from components.alerts import note_text

    def _note_text(note, lang):
        return note_text(note, ALERT_STATUSES, lang)

    note = {"kind": "status", "text": "new → dismissed: holiday week"}
    assert _note_text(note, "zh") == "新 → 正常波动：holiday week"
    assert _note_text(note, "en") == "new → dismissed: holiday week"
    assert _note_text({"kind": "status", "text": "new → acknowledged"}, "zh") == "新 → 已确认"
    assert _note_text({"kind": "cause", "text": "new → old"}, "zh") == "new → old"  # a person's own words stay


def test_every_audit_action_the_code_writes_has_a_name_in_both_languages() -> None:
    """The admin's audit page names each action; a code written by `audit("...")` anywhere in the
    app without a catalog name would show as a raw code."""
    import pathlib

    from components.i18n import CATALOG

    named = {k.removeprefix("action.") for k in CATALOG if k.startswith("action.")}  # what pages.admin lists
    root = pathlib.Path(__file__).resolve().parents[1]
    written = set()
    for folder in ("pages", "shell", "appdb"):
        for path in (root / folder).rglob("*.py"):
            written |= set(re.findall(r"""audit\(\s*["']([a-z_]+)["']\s*,""", path.read_text(encoding="utf-8")))
    written |= {"alert_" + s for s in ("acknowledged", "resolved", "dismissed")}  # audit("alert_" + to, …)
    assert written and written <= named, sorted(written - named)
    assert all(CATALOG[f"action.{a}"][0] != CATALOG[f"action.{a}"][1] for a in written)


@pytest.mark.browser
def test_a_desk_note_goes_once_the_reader_picks_another_period(dash_duo, server: Flask) -> None:
    """The note says what the address asked for and what is shown instead; after another pick it
    would be wrong, so it is hidden."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .helpers import serve

    serve(dash_duo, server)
    duo = dash_duo
    sign_in_browser(duo, "lead1")
    duo.wait_for_element("#app-navbar", timeout=20)
    duo.driver.get(duo.server.url + "/profit?period=garbage")
    assert "period=garbage" in duo.wait_for_element("#address-notes", timeout=30).text
    duo.wait_for_no_elements("[data-dash-is-loading]", timeout=30)
    duo.find_element("#pf-period").click()
    duo.wait_for_element("[role='option']", timeout=10)
    next(o for o in duo.driver.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text == "Last month").click()
    WebDriverWait(duo.driver, 10).until(lambda d: not d.find_element(By.ID, "address-notes").is_displayed())


def test_an_alerts_owner_is_named_as_people_know_them(server: Flask) -> None:
    """The owner line names the person (their display name), not the login name."""
    from pages.alerts import _person

    db = server.extensions["hospdash"].appdb
    db.create_user("assistant.cardiac", "心血管专科运营助理", "Passw0rd-long-2026", "assistant", "departments", ("D001",))
    with server.app_context():
        assert _person("assistant.cardiac") == "心血管专科运营助理"
        assert _person(None) == "—" and _person("") == "—"
        assert _person("someone.gone") == "someone.gone"  # a deleted account: its login name is all there is


def test_an_alerts_deviation_of_a_rate_is_in_points_not_a_relative_change() -> None:
    """111.7% against 105.0% is +6.7 points; "+6.4%" reads as the rate itself having risen 6.4%."""
    from components.format import format_deviation

    assert format_deviation(1.117, 1.05, 1.117 / 1.05 - 1, "ratio", "en") == "+6.7 pp"
    assert format_deviation(1.054, 1.05, 0.0038, "ratio", "zh") == "+0.4个百分点"  # was "+0%"
    assert format_deviation(12_000, 10_000, 0.2, "yuan", "en") == "+20%"
    assert format_deviation(10_001, 10_000, 0.0001, "yuan", "en") == "0%"
    assert format_deviation(None, None, None, "ratio", "en") == "—"
    # an idle device's alert counts exams (0 against 740 usual), though its indicator is a rate
    assert format_deviation(0.0, 739.5, -1.0, "ratio", "en", kind="device_idle") == "-100%"


def test_an_idle_devices_alert_plots_its_exams_as_counts(server: Flask, as_user) -> None:
    """Its indicator is utilization (a rate) but its series is the device's exams: no per-cent axis."""
    from datetime import date

    from components.alerts import alert_value as _alert_value
    from pages.alerts import _series as _series_figure

    alert = {"indicator": "equipment_utilization", "kind": "device_idle", "dept_id": "D001", "entity_type": "device",
             "entity_id": "EQ001", "period_start": date(2026, 11, 9), "period_end": date(2026, 11, 20),
             "band_low": None, "band_high": None, "expected": 740.0}
    with as_user("lead1"):
        fig = _series_figure(alert, "en")
    assert fig.layout.yaxis.tickformat is None and "exam" in fig.data[0].name.lower()
    assert _alert_value(739.6, "device_idle", "ratio", "en") == "740 exams"
    assert _alert_value(1.054, "rule", "ratio", "en") == "105.4%"
