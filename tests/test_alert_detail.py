"""An alert's detail: its knock-on effects, its case-mix adjusted view, the list's mark of an
alert that gathers knock-ons, an idle device's exams (never a rate), and the same in the
messages; the page asked as the browser asks it, the alerts stored by save_scan."""
from __future__ import annotations

import base64
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from appdb.alerts import get_alert, save_scan
from components.i18n import t
from components.notify import render_message
from components.reports import alerts_block
from data_layer.alerts.detect import Alert
from data_layer.periods import add_months, month_end
from data_layer.queries.names import level_names
from data_layer.queries.structure import departments
from data_layer.registry import Level
from data_layer.scope import Scope

from .helpers import find, post_callback, signed_in


def _month(server: Flask) -> date:
    """The last whole month of the small warehouse."""
    through = server.extensions["hospdash"].warehouse.freshness().data_through
    return add_months(through.replace(day=1), -1)


def _group(server: Flask) -> tuple[str, str, str]:
    """A medical group of D001: (id, Chinese name, English name)."""
    groups = level_names(server.extensions["hospdash"].warehouse, Scope.departments(["D001"]), Level.group)
    g = groups.sort_values("key").iloc[0]
    return str(g["key"]), str(g["name_zh"]), str(g["name_en"])


def _finding(month: date, **values: Any) -> dict[str, Any]:
    return {"kind": "robust_z", "level": "orange", "entity_type": None, "entity_id": None,
            "period_start": month.isoformat(), "period_end": month_end(month).isoformat(), "method": "robust z",
            "via": "drug_charge_per_discharge", **values}


def _cause(server: Flask) -> Alert:
    """A medical group's drug charge surge that moved its department's drug share and charge per
    discharge (with its case-mix view) and whose money was booked against budget line B02."""
    month = _month(server)
    gid, *_ = _group(server)
    return Alert(
        "group_charge", "red", "D001", "drug_charge_per_discharge", month, month_end(month), 9000.0, 6000.0, 5500.0,
        6500.0, 0.5, "robust z = +11.2 against the trailing 12 months", "group", gid,
        [{"type": "group", "id": gid, "contribution": 1.0}],
        consequences=[
            _finding(month, indicator="drug_share", observed=0.412, expected=0.33, deviation=0.2485),
            _finding(month, level="yellow", indicator="charge_per_discharge", observed=31000.0, expected=25800.0,
                     deviation=0.2016, adjusted={"indicator": "cost_index", "observed": 1.081, "expected": 1.0,
                                                 "deviation": 0.081, "z": 3.1, "kept": 0.4}),
            _finding(month, kind="budget_overrun", level="red", indicator="budget_execution",
                     entity_type="budget_item", entity_id="B02", observed=1.42, expected=1.0, deviation=0.42)],
        amount=420000.0)


def _charge(server: Flask) -> Alert:
    """A department's charge per discharge kept after the case mix: 60% of its move remains."""
    month = _month(server)
    return Alert("robust_z", "orange", "D001", "charge_per_discharge", month, month_end(month), 32500.0, 25000.0,
                 24000.0, 26000.0, 0.3, "robust z = +8.1 against the trailing 12 months",
                 adjusted={"indicator": "cost_index", "observed": 1.18, "expected": 1.0, "deviation": 0.18, "z": 6.2,
                           "kept": 0.6})


def _idle(server: Flask) -> Alert:
    month = _month(server)
    return Alert("device_idle", "red", "D001", "equipment_utilization", month, month.replace(day=9), 0.0, 1479.0,
                 0.0, 2958.0, -1.0, "no exams on 7 working days in a row", "equipment", "EQ001",
                 [{"type": "equipment", "id": "EQ001", "contribution": 1.0}])


def _store(server: Flask, *found: Alert) -> list[int]:
    state = server.extensions["hospdash"]
    deps = departments(state.warehouse, Scope.hospital())
    ids: list[int] = []
    save_scan(state.appdb, list(found), dict(zip(deps["dept_id"], deps["campus_id"], strict=True)), ids)
    return ids


def _detail(server: Flask, client, alert_id: int) -> dict:
    status, out = post_callback(server, client, "al-detail.children",
                                [{"id": "al-selected", "property": "data", "value": alert_id}])
    assert status == 200
    return out["al-detail.children"]


def _texts(tree: Any) -> str:
    """Every string in a callback's answer, joined (what the reader can read)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            if "props" in node:
                walk(node["props"].get("children"))
            else:
                for v in node.values():
                    walk(v)

    walk(tree)
    return " ".join(out)


def _list(server: Flask, client) -> list[dict]:
    return _list_grid(server, client)["rowData"]


def _list_grid(server: Flask, client) -> dict:
    status, out = post_callback(server, client, "al-list.children", [
        {"id": "al-level", "property": "value", "value": None}, {"id": "al-dept", "property": "value", "value": None},
        {"id": "al-indicator", "property": "value", "value": None},
        {"id": "al-status", "property": "value", "value": ["new", "acknowledged"]},
        {"id": "al-dates", "property": "start_date", "value": None},
        {"id": "al-dates", "property": "end_date", "value": None},
        {"id": "al-refresh", "property": "data", "value": 0}])
    assert status == 200
    return out["al-list.children"]["props"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_detail_lists_the_knock_ons_with_their_figures_and_why_they_belong(server: Flask, lang: str) -> None:
    cause_id, = _store(server, _cause(server))
    gid, name_zh, name_en = _group(server)
    client = signed_in(server, "dir1", lang)
    part = _detail(server, client, cause_id)
    section = find(part, "al-knock-ons")
    assert section is not None
    text = _texts(section)
    assert text.startswith(t("alerts.knock_ons", lang))
    assert (name_zh if lang == "zh" else name_en) in _texts(part)  # the cause's group by its name, not its id
    if lang == "zh":
        assert "药占比" in text and "41.2%" in text and "33.0%" in text and "+8.2个百分点" in text
        assert "次均住院费用" in text and "3.1万元" in text and "+20.2%" in text and "校正后保留 40% 的变动" in text
        assert "由本医疗组的住院次均药品费用上升带动" in text
        assert "预算项目 B02" in text and "与本预警超出的金额是同一笔钱，记在预算项目 B02 上" in text
        assert "橙色" in text and "黄色" in text and "红色" in text
    else:
        assert "Drug share of medical revenue" in text and "41.2%" in text and "+8.2 pp" in text
        assert "31.0k yuan" in text and "25.8k yuan" in text and "40% of the move remains after the case mix" in text
        assert "moved by the rise in this medical group's drug charge per discharge" in text
        assert "the same money booked against budget line B02" in text
    assert gid not in text  # the why-line speaks of "this group", the heading names it
    assert find(part, "al-case-mix") is None  # a group's drug charge has no case-mix view of its own


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_detail_shows_the_case_mix_adjusted_view_with_the_share_left(server: Flask, lang: str) -> None:
    alert_id, = _store(server, _charge(server))
    part = _detail(server, signed_in(server, "dir1", lang), alert_id)
    text = _texts(find(part, "al-case-mix"))
    assert find(part, "al-knock-ons") is None  # no knock-ons: no section
    if lang == "zh":
        assert text.startswith("病例组合校正")
        assert "次均住院费用：实际 3.2万元，预期 2.5万元，变动 +30.0%" in text
        assert "费用消耗指数：实际 1.180，预期 1.000，变动 +18.0%" in text
        assert "校正后保留 60% 的变动" in text and "变动不能用收治病例更重来解释" in text
    else:
        assert text.startswith("Case-mix adjusted view")
        assert "Charge per discharge: 32.5k yuan against 25.0k yuan expected, a move of +30.0%" in text
        assert "Cost consumption index: 1.180 against 1.000 expected, a move of +18.0%" in text
        assert "60% of the move remains after the case mix" in text and "Heavier cases do not explain" in text


def test_an_alert_kept_by_its_adjusted_figure_says_so(server: Flask) -> None:
    alert = _charge(server)
    alert.adjusted = {**alert.adjusted, "kept": 0.35, "z": 9.6}
    alert_id, = _store(server, alert)
    text = _texts(find(_detail(server, signed_in(server, "dir1", "en"), alert_id), "al-case-mix"))
    assert "35% of the move remains" in text and "robust z +9.6" in text and "the alert stands" in text


def test_the_why_line_follows_the_cause() -> None:
    """A department's longer stays read as the same stays in its time index; a DRG group's as that
    group's stays; a knock-on of a knock-on names the finding it came through; a closed clinic's
    visits move down."""
    from components.alerts import why_line

    month = {"period_start": "2026-10-01", "period_end": "2026-10-31"}
    index = {**month, "kind": "robust_z", "indicator": "time_index", "via": "alos", "deviation": 0.2}
    dept = {"indicator": "alos", "entity_type": None, "entity_id": None, "deviation": 0.2, "consequences": [index]}
    assert why_line(index, dept, {}, "zh") == "同一批住院病例的住院日，按各自DRG组的标杆衡量"
    drg = {**dept, "entity_type": "drg", "entity_id": "IB29"}
    assert why_line(index, drg, {}, "en") == "moved by the rise in this DRG group's average length of stay"
    charge = {**month, "kind": "robust_z", "indicator": "charge_per_discharge", "via": "alos", "deviation": 0.1}
    share = {**month, "kind": "robust_z", "indicator": "drug_share", "via": "charge_per_visit", "deviation": 0.1}
    visits = {"indicator": "outpatient_visits", "entity_type": None, "entity_id": None, "deviation": -0.5,
              "consequences": [{**month, "indicator": "charge_per_visit", "via": "outpatient_visits",
                                "deviation": 0.3}, share]}
    assert why_line(share, visits, {}, "zh") == "由本科室次均门诊费用上升带动"
    assert why_line(charge, drg, {}, "zh") == "由本DRG组的平均住院日上升带动"
    assert why_line({**share, "via": "outpatient_visits"}, visits, {}, "en") == (
        "moved by the drop in the department's outpatient and emergency visits")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_list_marks_an_alert_that_gathers_knock_ons(server: Flask, lang: str) -> None:
    cause_id, charge_id = _store(server, _cause(server), _charge(server))
    rows = {r["id"]: r for r in _list(server, signed_in(server, "dir1", lang))}
    _gid, name_zh, name_en = _group(server)
    name = "住院次均药品费用" if lang == "zh" else "Drug charge per discharge"
    assert rows[cause_id]["indicator"] == f"{name} · {name_zh if lang == 'zh' else name_en}"  # the group by its name
    assert rows[cause_id]["knock_ons"] == ("+3 连带" if lang == "zh" else "+3 knock-ons")
    assert rows[charge_id]["knock_ons"] == ""
    grid = _list_grid(server, signed_in(server, "dir1", lang))
    column = next(c for c in grid["columnDefs"] if c["field"] == "indicator")
    assert column["cellRenderer"] == "hdKnockOns"  # assets/grid_badge.js keeps the mark in sight


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_idle_device_reads_in_exams_on_the_page_the_list_and_the_export(server: Flask, lang: str) -> None:
    import openpyxl

    alert_id, = _store(server, _idle(server))
    client = signed_in(server, "dir1", lang)
    text = _texts(_detail(server, client, alert_id))
    exams = ("0 次检查", "1,479 次检查") if lang == "zh" else ("0 exams", "1,479 exams")
    assert all(e in text for e in exams) and "-100.0%" in text and "147900" not in text.replace(",", "")
    row = next(r for r in _list(server, client) if r["id"] == alert_id)
    assert row["deviation"] == "-100%"
    status, out = post_callback(server, client, "al-download.data",
                                [{"id": {"type": "al-export", "table": "rows", "fmt": "xlsx"}, "property": "n_clicks",
                                  "value": 1}], [{"id": "al-selected", "property": "data", "value": alert_id}])
    assert status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(out["al-download.data"]["content"]))).active
    heading = " ".join(str(c.value) for r in sheet.iter_rows(max_row=12) for c in r if c.value)
    assert all(e in heading for e in exams) and "%" not in heading.split(exams[0])[1].split(exams[1])[0]


def test_a_monthly_reports_idle_device_reads_in_exams_even_without_its_kind() -> None:
    """A report written before reports kept each alert's kind still shows the exams."""
    a = {"level": "red", "indicator": "equipment_utilization", "status": "new", "entity_type": "equipment",
         "entity_id": "EQ001", "period_start": "2026-10-03", "period_end": "2026-10-09", "observed": 0.0,
         "expected": 739.5, "deviation": -1.0, "notes": {"cause": [], "action": [], "suggestion": []}}
    text = json.dumps(alerts_block({"alerts": [a]}, "en").to_plotly_json(), default=str)
    assert "740 exams" in text and "73950" not in text and "pp" not in text
    text = json.dumps(alerts_block({"alerts": [{**a, "kind": "device_idle"}]}, "zh").to_plotly_json(),
                      default=str, ensure_ascii=False)
    assert "740 次检查" in text and "-100%" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_message_writes_the_knock_ons_and_the_case_mix_view_in_the_readers_language(server: Flask,
                                                                                      lang: str) -> None:
    db = server.extensions["hospdash"].appdb
    cause_id, charge_id, idle_id = _store(server, _cause(server), _charge(server), _idle(server))
    alerts = [get_alert(db, Scope.hospital(), i) for i in (cause_id, charge_id, idle_id)]
    msg = render_message("digest", alerts, lang, names={"D001": ("心血管内科", "Cardiology")},
                         link=lambda i: f"https://dash.hospital.test/alerts?alert={i}")
    text = msg["text"]
    if lang == "zh":
        assert "连带影响：橙色 · 药占比（" in text
        assert "41.2%，预期 33.0%，偏离 +8.2个百分点，由本医疗组的住院次均药品费用上升带动" in text
        assert "预算执行率 · 预算项目 B02" in text and "记在预算项目 B02 上" in text
        assert "病例组合校正：次均住院费用：实际 3.2万元，预期 2.5万元，变动 +30.0%；费用消耗指数" in text
        assert "校正后保留 60% 的变动" in text and "0 次检查，预期 1,479 次检查" in text
    else:
        assert "Knock-on effects: orange · Drug share of medical revenue (" in text
        assert "41.2%, expected 33.0%, deviation +8.2 pp, moved by the rise in this medical group's drug charge" in text
        assert "the same money booked against budget line B02" in text
        assert "Case-mix adjusted view: Charge per discharge: 32.5k yuan against 25.0k yuan expected" in text
        assert "60% of the move remains after the case mix" in text and "0 exams, expected 1,479 exams" in text
    assert "%" not in text.split("1,479")[1].split("\n")[0].replace("-100.0%", "")
    for part in ("markdown", "html"):
        assert ("B02" in msg[part]) and ("60%" in msg[part])


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_alert_detail_with_knock_ons_draws_at_1920(dash_duo, server: Flask, lang: str, tmp_path: Path) -> None:
    from .helpers import serve, sign_in_browser
    from .test_browser import _settled
    from .test_wall_browser import _viewport

    cause = _cause(server)
    cause.adjusted = None
    cause_id, _ = _store(server, cause, _charge(server))
    db = server.extensions["hospdash"].appdb
    db.set_lang(db.get_by_username("dir1").id, lang)
    serve(dash_duo, server)
    _viewport(dash_duo, 1920, 1080)
    sign_in_browser(dash_duo, "dir1")
    dash_duo.driver.get(f"{dash_duo.server.url}/alerts?alert={cause_id}")
    dash_duo.wait_for_element("#al-knock-ons .knock-on-why", timeout=30)
    dash_duo.wait_for_element("#alerts-table .ag-row", timeout=30)
    _settled(dash_duo)
    section = dash_duo.find_element("#al-knock-ons")
    assert section.text.startswith(t("alerts.knock_ons", lang)) and "B02" in section.text
    mark = dash_duo.find_element("#alerts-table .hd-ko-mark")
    assert mark.text == ("+3 连带" if lang == "zh" else "+3 knock-ons")
    cell = mark.find_element("xpath", "ancestor::div[contains(@class, 'ag-cell')]").rect
    box = mark.rect  # whole inside its cell however long the indicator's name
    assert box["width"] > 0 and cell["x"] <= box["x"] and box["x"] + box["width"] <= cell["x"] + cell["width"] + 1
    # the section lies inside the detail's column, nothing cut at its right edge
    detail = dash_duo.find_element("#al-detail").rect
    box = section.rect
    assert box["x"] >= detail["x"] and box["x"] + box["width"] <= detail["x"] + detail["width"] + 1
    dash_duo.driver.execute_script("document.getElementById('al-action').scrollIntoView({block: 'start'})")
    shot = tmp_path / f"alert-detail-causes-{lang}.png"
    dash_duo.driver.save_screenshot(str(shot))
    assert dash_duo.get_logs() == []
