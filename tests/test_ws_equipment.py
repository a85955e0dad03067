"""Workspace · equipment: utilization, saturation and revenue against pandas over the raw device
days; the appraisal against hand-computed cases; save → list → one-page report → export through
the real callbacks; bad input messages per field with nothing saved; scope refusals; scoped exports."""
from __future__ import annotations

import base64
import importlib
import io
import json
from datetime import date

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import func, select

from appdb.appraisals import get_appraisal, list_appraisals, save_appraisal
from appdb.schema import appraisals
from appdb.store import CodedError
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.equipment import category_devices, device_table, last_twelve_months, workdays_last_full_year
from data_layer.queries.kpis import indicator_values
from data_layer.registry import Level
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.stats import appraise, utilization
from data_layer.warehouse import Warehouse
from shell.settings import load_settings

from .conftest import texts
from .helpers import click, grid_props, post_callback, sign_in_browser, signed_in, workspace_export

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))
THROUGH = date(2026, 11, 21)
GOOD = {"device_name": "64-slice CT", "category": "CT", "price": "3000000", "exams_per_day": "40",
        "charge_per_exam": "300", "maintenance_per_year": "200000", "staff_cost_per_year": "300000",
        "consumables_per_exam": "20", "working_days": "250", "service_life_years": "6", "residual_rate": "5",
        "discount_rate": "5"}
FIELDS = ("device_name", "category", "price", "exams_per_day", "charge_per_exam", "maintenance_per_year",
          "staff_cost_per_year", "consumables_per_exam", "working_days", "service_life_years", "residual_rate",
          "discount_rate")


def _device_dept(demo_data) -> str:
    """The department with the most CT scanners (radiology), so CT appraisals have devices to compare."""
    dev = demo_data.tables["dim_equipment"]
    return str(dev[dev["category"] == "CT"]["dept_id"].value_counts().index[0])


def _expected_devices(demo_data, dept: str, per: Period) -> pd.DataFrame:
    dev = demo_data.tables["dim_equipment"]
    dev = dev[dev["dept_id"] == dept].set_index("equipment_id")
    daily = demo_data.tables["fact_equipment_daily"]
    day = pd.to_datetime(daily["date"]).dt.date
    daily = daily[(day >= per.start) & (day <= per.end) & daily["equipment_id"].isin(dev.index)]
    cal = demo_data.tables["dim_date"]
    cal = cal.assign(day=pd.to_datetime(cal["date"]).dt.date)
    rows = []
    for eid, d in dev.iterrows():
        bought = pd.Timestamp(d["purchase_date"]).date()
        workdays = int(((cal["day"] >= max(per.start, bought)) & (cal["day"] <= per.end) & cal["is_workday"]).sum())
        use = daily[daily["equipment_id"] == eid]
        exams = float(use["exams"].sum())
        cap = float(d["daily_capacity"]) * workdays
        rows.append({"equipment_id": eid, "exams": exams, "hours_used": float(use["hours_used"].astype(float).sum()),
                     "revenue": float(use["revenue"].astype(float).sum()), "working_days": workdays,
                     "utilization": exams / cap,
                     "per10k": float(use["revenue"].astype(float).sum()) / float(d["purchase_price"]) * 10_000})
    return pd.DataFrame(rows).set_index("equipment_id")


def test_device_figures_match_pandas_over_the_device_days(wh: Warehouse, demo_data) -> None:
    dept = _device_dept(demo_data)
    got = device_table(wh, Scope.hospital(), dept, YTD, 0.85).set_index("equipment_id")
    want = _expected_devices(demo_data, dept, YTD)
    assert set(got.index) == set(want.index) and len(got) >= 2
    for eid, w in want.iterrows():
        g = got.loc[eid]
        assert g["exams"] == w["exams"] and g["working_days"] == w["working_days"]
        assert g["hours_used"] == pytest.approx(w["hours_used"])
        assert g["revenue"] == pytest.approx(w["revenue"])
        assert g["utilization"] == pytest.approx(w["utilization"])
        assert g["utilization"] == pytest.approx(utilization(w["exams"], g["daily_capacity"], w["working_days"]))
        assert g["revenue_per_10k_value"] == pytest.approx(w["per10k"])
        assert bool(g["saturated"]) == (w["utilization"] >= 0.85)
    # the department's figure is the registry's indicator
    reg = indicator_values(wh, Scope.hospital(), ("equipment_utilization",), YTD, Level.department,
                           Filters(department=(dept,)))
    assert got["exams"].sum() / got["capacity"].sum() == pytest.approx(float(reg["value"].iloc[0]))


def test_saturation_follows_the_threshold(wh: Warehouse, demo_data) -> None:
    dept = _device_dept(demo_data)
    base = device_table(wh, Scope.hospital(), dept, YTD, 0.85).sort_values("utilization")
    u = base["utilization"].tolist()
    cut = (u[0] + u[1]) / 2  # between the two least used devices: all but one saturated
    got = device_table(wh, Scope.hospital(), dept, YTD, cut).set_index("equipment_id")
    assert int(got["saturated"].sum()) == len(u) - 1
    assert not got.loc[base["equipment_id"].iloc[0], "saturated"]
    assert not device_table(wh, Scope.hospital(), dept, YTD, 2.0)["saturated"].any() or max(u) >= 2.0


def test_device_table_is_the_same_on_every_backend(any_url: str, wh: Warehouse, demo_data) -> None:
    dept = _device_dept(demo_data)
    cols = ["equipment_id", "exams", "hours_used", "revenue", "working_days", "utilization", "saturated"]
    there = device_table(Warehouse(any_url), Scope.departments({dept}), dept, YTD, 0.85)[cols]
    here = device_table(wh, Scope.hospital(), dept, YTD, 0.85)[cols]
    pd.testing.assert_frame_equal(there.reset_index(drop=True), here.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-6)
    assert device_table(wh, Scope.departments({"D001"}), dept, YTD, 0.85).empty  # the scope holds


def test_working_days_of_the_last_full_year(wh: Warehouse, demo_data) -> None:
    cal = demo_data.tables["dim_date"]
    days = pd.to_datetime(cal["date"])
    last = max(y for y in days.dt.year.unique() if ((days.dt.year == y).sum() == (366 if y % 4 == 0 else 365)))
    assert workdays_last_full_year(wh, Scope.hospital()) == (last, int(cal[days.dt.year == last]["is_workday"].sum()))


def test_category_devices_cover_the_last_twelve_months(wh: Warehouse, demo_data) -> None:
    dept = _device_dept(demo_data)
    per = last_twelve_months(THROUGH)
    assert per == Period(date(2025, 11, 22), THROUGH)
    got = category_devices(wh, Scope.hospital(), dept, "CT", THROUGH, 0.85)
    want = _expected_devices(demo_data, dept, per)
    cts = demo_data.tables["dim_equipment"].query("dept_id == @dept and category == 'CT'")["equipment_id"]
    assert list(got["equipment_id"]) == sorted(cts)
    for r in got.itertuples():
        assert r.utilization == pytest.approx(want.loc[r.equipment_id, "utilization"])


def test_the_appraisal_arithmetic_by_hand() -> None:
    a = appraise(GOOD)
    assert a.annual_exams == 10_000  # 40 × 250
    assert a.annual_revenue == 3_000_000  # 10,000 × 300
    assert a.annual_cost == 700_000  # 200,000 + 300,000 + 10,000 × 20
    assert a.annual_net == 2_300_000
    assert a.payback_years == pytest.approx(3_000_000 / 2_300_000) and round(a.payback_years, 3) == 1.304
    never = appraise({**GOOD, "charge_per_exam": "50", "consumables_per_exam": "60"})
    assert never.annual_net < 0 and never.payback_years is None


def test_settings_give_the_saturation_default_and_refuse_bad_values(tmp_path) -> None:
    assert load_settings({"DATA_DIR": str(tmp_path)}, env_file=None).equipment_saturation == 0.85
    assert load_settings({"DATA_DIR": str(tmp_path), "EQUIPMENT_SATURATION": "0.9"},
                         env_file=None).equipment_saturation == 0.9
    for bad in ("0", "3", "high"):
        with pytest.raises(UserError, match="EQUIPMENT_SATURATION"):
            load_settings({"DATA_DIR": str(tmp_path), "EQUIPMENT_SATURATION": bad}, env_file=None)


# ------------------------------------------------------------------------------------------ callbacks
def _form_state(dept: str, values: dict[str, str], sat: str = "0.85") -> list[dict]:
    return ([{"id": "ws-dept", "property": "value", "value": dept},
             {"id": "ws-eq-sat", "property": "value", "value": sat},
             {"id": "ws-eq-saved-rev", "property": "data", "value": 0}]
            + [{"id": f"ws-eq-f-{f}", "property": "value", "value": values.get(f)} for f in FIELDS]
            + [{"id": "ws-eq-f-note", "property": "value", "value": values.get("note")}])


def _submit(server: Flask, client, dept: str, values: dict[str, str], save: bool = True):
    inputs = [{"id": "ws-eq-calc", "property": "n_clicks", "value": None if save else 1},
              {"id": "ws-eq-save", "property": "n_clicks", "value": 1 if save else None}]
    return post_callback(server, client, "ws-eq-result.children", inputs, _form_state(dept, values))


def _count(server: Flask) -> int:
    with server.extensions["hospdash"].appdb.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(appraisals)).scalar_one())


def _saved_list(server: Flask, client, dept: str):
    return post_callback(server, client, "ws-eq-saved.children",
                         [{"id": "ws-dept", "property": "value", "value": dept},
                          {"id": "ws-eq-saved-rev", "property": "data", "value": 1}])


def _open(server: Flask, client, dept: str, pk) -> tuple:
    """A click on a saved appraisal's row: its print view (the grid names the row by text)."""
    click = {"rowId": str(pk), "colId": "device_name", "rowIndex": 0, "value": "x", "timestamp": 1}
    return post_callback(server, client, "ws-eq-report-view.children",
                         [{"id": "ws-eq-saved-grid", "property": "cellClicked", "value": click}],
                         [{"id": "ws-dept", "property": "value", "value": dept}])


def test_the_devices_callback_draws_cards_table_and_chart(server: Flask, demo_data) -> None:
    dept = _device_dept(demo_data)
    client = signed_in(server, "lead1")
    status, out = post_callback(server, client, "ws-eq-devices.children",
                                [{"id": "ws-dept", "property": "value", "value": dept},
                                 {"id": "ws-period", "property": "value", "value": "ytd"},
                                 {"id": "ws-eq-sat", "property": "value", "value": "0.5"}])
    assert status == 200
    text = texts(out["ws-eq-devices.children"])
    assert "Overall utilization" in text and "Revenue per 10k yuan of value" in text
    grid = grid_props(out["ws-eq-devices.children"], "ws-eq-devices-grid")
    rows = grid["rowData"]
    assert len(rows) >= 2 and {r["status"] for r in rows} <= {"saturated", "unsaturated"}
    assert all(r["status"] == ("saturated" if r["utilization"] >= 0.5 else "unsaturated") for r in rows
               if r["utilization"] is not None)
    cols = {c["field"]: c for c in grid["columnDefs"]}
    assert cols["equipment_id"]["pinned"] == "left" and cols["name"]["pinned"] == "left"
    assert cols["revenue_per_10k_value"]["headerName"] == "Revenue per 10k yuan value"
    assert grid["dashGridOptions"]["rowClassRules"] == {"ws-eq-saturated": "params.data && params.data.saturated"}
    assert "at or above 50%" in texts(out["ws-eq-rule.children"])
    status, out = post_callback(server, client, "ws-eq-devices.children",
                                [{"id": "ws-dept", "property": "value", "value": dept},
                                 {"id": "ws-period", "property": "value", "value": "ytd"},
                                 {"id": "ws-eq-sat", "property": "value", "value": "-1"}])
    assert status == 200 and "ws-eq-devices.children" not in out
    assert out["ws-eq-sat-err.children"].startswith("Enter a number above 0")
    assert "is-invalid" in out["ws-eq-sat.className"]


def test_save_list_report_and_export_round_trip(server: Flask) -> None:
    client = signed_in(server, "asst1")
    status, out = _submit(server, client, "D001", {**GOOD, "note": "spine navigation"}, save=False)
    assert status == 200 and _count(server) == 0  # Calculate stores nothing
    assert texts(out["ws-eq-result.children"]).count("1.30 years") == 1
    status, out = _submit(server, client, "D001", {**GOOD, "note": "spine navigation"})
    assert status == 200 and "Saved as appraisal #" in texts(out["ws-eq-form-msg.children"])
    assert out["ws-eq-saved-rev.data"] == 1 and _count(server) == 1
    text = texts(out["ws-eq-result.children"])
    assert "3.0M yuan" in text and "700.0k yuan" in text and "2.3M yuan" in text
    assert "no CT device" in text  # Spine Surgery runs no CT
    status, out = _submit(server, client, "D001", {**GOOD, "device_name": "Second CT", "price": "9000000",
                                                   "charge_per_exam": "60", "consumables_per_exam": "40"})
    assert "Never pays back" in texts(out["ws-eq-result.children"])
    status, out = _saved_list(server, client, "D001")
    listed = grid_props(out["ws-eq-saved.children"], "ws-eq-saved-grid")
    assert [r["device_name"] for r in listed["rowData"]] == ["Second CT", "64-slice CT"]  # newest first
    assert listed["rowData"][0]["payback_years"] is None and round(listed["rowData"][1]["payback_years"], 2) == 1.3
    payback = next(c for c in listed["columnDefs"] if c["field"] == "payback_years")
    assert "Never pays back" in payback["valueFormatter"]["function"]  # what a missing payback reads
    first = list_appraisals(server.extensions["hospdash"].appdb, Scope.departments({"D001"}), "D001")
    ct = first[first["device_name"] == "64-slice CT"].iloc[0]
    assert ct["annual_net"] == 2_300_000 and ct["payback_years"] == pytest.approx(1.3043, abs=1e-4)
    assert ct["created_by"] == "asst1" and ct["campus_id"] == "C1" and ct["note"] == "spine navigation"
    # the one-page report
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": {"type": "ws-eq-report", "index": int(ct["id"])}, "property": "n_clicks",
                                  "value": 1}], [{"id": "ws-dept", "property": "value", "value": "D001"}])
    assert status == 200
    data = out["ws-download.data"]
    assert data["filename"] == f"D001-appraisal-{ct['id']}.xlsx"
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(base64.b64decode(data["content"]))).active
    assert int(ws.page_setup.paperSize) == 9 and ws.sheet_properties.pageSetUpPr.fitToPage  # 9: A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    cells = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert cells["Annual net benefit"] == 2_300_000 and cells["Static payback"] == 1.3
    assert cells["Price (yuan)"] == 3_000_000 and cells["Working days per year"] == 250
    # the print view: a click on the appraisal's row opens it, with the Excel report's button
    status, out = _open(server, client, "D001", ct["id"])
    assert status == 200 and "Equipment purchase appraisal" in texts(out["ws-eq-report-view.children"])
    assert f'"index": {int(ct["id"])}' in json.dumps(out["ws-eq-report-view.children"])
    # the list as a table, both formats
    for fmt in ("xlsx", "csv"):
        status, df, name = workspace_export(server, client, "equipment", "appraisals", fmt,
                                            [{"id": "ws-dept", "property": "value", "value": "D001"},
                                             {"id": "ws-period", "property": "value", "value": "ytd"},
                                             {"id": "ws-eq-sat", "property": "value", "value": "0.85"},
                                             {"id": "ws-eq-f-category", "property": "value", "value": None}])
        assert status == 200 and name == f"D001-appraisals.{fmt}"
        assert list(df["Name"]) == ["Second CT", "64-slice CT"] and 2_300_000 in list(df["Annual net benefit"])
    entries = server.extensions["hospdash"].appdb.audit_entries(action="appraisal_saved")
    assert len(entries) == 2 and entries[0]["username"] == "asst1"
    exports = server.extensions["hospdash"].appdb.audit_entries(action="export")
    assert any("appraisal" in (e["target"] or "") for e in exports)


def test_existing_devices_of_the_category_come_with_the_appraisal(server: Flask, wh: Warehouse, demo_data) -> None:
    dept = _device_dept(demo_data)
    client = signed_in(server, "lead1")
    status, out = _submit(server, client, dept, GOOD)
    assert status == 200
    got = category_devices(wh, Scope.hospital(), dept, "CT", THROUGH, 0.85)
    text = texts(out["ws-eq-result.children"])
    shown = grid_props(out["ws-eq-result.children"], "ws-eq-existing-grid")["rowData"]
    assert [r["equipment_id"] for r in shown] == list(got["equipment_id"]) and "last 12 months" in text
    saved = list_appraisals(server.extensions["hospdash"].appdb, Scope.hospital(), dept).iloc[0]
    kept = get_appraisal(server.extensions["hospdash"].appdb, Scope.hospital(), int(saved["id"]))["existing"]
    assert [d["equipment_id"] for d in kept] == list(got["equipment_id"])
    assert kept[0]["utilization"] == pytest.approx(float(got["utilization"].iloc[0]))


@pytest.mark.parametrize(("lang", "bad", "messages"), [
    ("en", {"device_name": "", "category": None, "price": "-5", "exams_per_day": "abc", "charge_per_exam": "0",
            "maintenance_per_year": "", "working_days": "400"},
     {"device_name": "This field is required.", "category": "This field is required.",
      "price": "Cannot be negative.", "exams_per_day": "Enter a number.", "charge_per_exam": "Cannot be zero.",
      "maintenance_per_year": "This field is required.", "working_days": "Must not exceed 366: please check."}),
    ("zh", {"category": "XRAY", "price": "500", "consumables_per_exam": "1e9"},
     {"category": "请从列表中选择类别。", "price": "不能小于 1,000。", "consumables_per_exam": "不能超过 100,000，请核对。"}),
])
def test_bad_inputs_give_a_message_at_each_field_and_save_nothing(server: Flask, lang, bad, messages) -> None:
    client = signed_in(server, "asst1", lang)
    status, out = _submit(server, client, "D001", {**GOOD, **bad})
    assert status == 200 and _count(server) == 0
    for f in FIELDS:
        assert out[f"ws-eq-e-{f}.children"] == messages.get(f, ""), f
        assert ("is-invalid" in out[f"ws-eq-f-{f}.className"]) == (f in messages), f
    assert "ws-eq-result.children" not in out and "ws-eq-saved-rev.data" not in out
    assert str(len(messages)) in texts(out["ws-eq-form-msg.children"])


def test_scope_refuses_another_departments_appraisals(server: Flask, as_user) -> None:
    db = server.extensions["hospdash"].appdb
    other = save_appraisal(db, Scope.hospital(), dept_id="D004", campus_id="C1", device_name="Cath lab", category="DSA",
                           inputs={}, result=appraise(GOOD), existing=[], username="lead1")
    client = signed_in(server, "asst1")
    status, _ = _submit(server, client, "D004", GOOD)
    assert status == 403 and _count(server) == 1  # nothing saved for D004
    status, _ = _saved_list(server, client, "D004")
    assert status == 403
    for dept in ("D001", "D004"):  # a forged id from the page of an allowed department, or of D004 itself
        status, _ = post_callback(server, client, "ws-download.data",
                                  [{"id": {"type": "ws-eq-report", "index": other}, "property": "n_clicks", "value": 1}],
                                  [{"id": "ws-dept", "property": "value", "value": dept}])
        assert status == 403
        assert _open(server, client, dept, other)[0] == 403
    assert _open(server, client, "D001", "1 or 1=1")[0] == 403
    mine = Scope.departments({"D001", "D002", "D003"})
    assert get_appraisal(db, mine, other) is None and list_appraisals(db, mine, "D004").empty
    with pytest.raises(CodedError):
        save_appraisal(db, mine, dept_id="D004", campus_id="C1", device_name="x", category="CT", inputs={},
                       result=appraise(GOOD), existing=[], username="asst1")
    assert get_appraisal(db, Scope.campuses({"C1"}), other)["dept_id"] == "D004"  # a campus leader sees it
    page = importlib.import_module("pages.workspace.equipment")
    with as_user("asst1"):
        assert "Not allowed" in texts(page.layout(dept="D004"))
        assert "Purchase appraisal" in texts(page.layout(dept="D001"))


def test_a_device_department_is_offered_to_those_who_see_it(server: Flask, as_user, demo_data) -> None:
    dept = _device_dept(demo_data)
    page = importlib.import_module("pages.workspace.equipment")
    with as_user("lead1"):
        text = texts(page.layout(dept=dept))
        assert "Device utilization" in text and "Not allowed" not in text
    with as_user("asst1"):
        assert "Not allowed" in texts(page.layout(dept=dept))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_device_exports_are_scoped_in_the_readers_language(server: Flask, wh: Warehouse, demo_data, fmt) -> None:
    dept = _device_dept(demo_data)
    state = lambda d, cat=None: [{"id": "ws-dept", "property": "value", "value": d},  # noqa: E731
                                 {"id": "ws-period", "property": "value", "value": "ytd"},
                                 {"id": "ws-eq-sat", "property": "value", "value": "0.85"},
                                 {"id": "ws-eq-f-category", "property": "value", "value": cat}]
    want = device_table(wh, Scope.hospital(), dept, YTD, 0.85)
    client = signed_in(server, "lead1")
    status, df, name = workspace_export(server, client, "equipment", "devices", fmt, state(dept))
    assert status == 200 and name.startswith(f"{dept}-equipment-")
    assert list(df["Device"]) == list(want["equipment_id"])
    if fmt == "xlsx":  # the fraction, shown as 0.0%
        assert df["Utilization"].tolist() == pytest.approx(want["utilization"].tolist())
    else:  # per cent, to two decimals, with the unit in the header
        assert df["Utilization (%)"].tolist() == pytest.approx((want["utilization"] * 100).round(2).tolist())
    status, df, _ = workspace_export(server, client, "equipment", "existing", fmt, state(dept, "CT"))
    assert status == 200 and set(df["Category"]) == {"CT"}
    zh = signed_in(server, "lead1", "zh")
    status, df, _ = workspace_export(server, zh, "equipment", "devices", fmt, state(dept))
    assert ("使用率" if fmt == "xlsx" else "使用率 (%)") in df.columns and set(df["状态"]) <= {"饱和", "未饱和"}
    asst = signed_in(server, "asst1")
    for d in ("D004", dept):
        status, _, _ = workspace_export(server, asst, "equipment", "devices", fmt, state(d))
        assert status == 403


# ------------------------------------------------------------------------- depreciation, NPV, IRR, break-even
def test_depreciation_npv_irr_and_break_even_against_closed_forms() -> None:
    from scipy.optimize import brentq

    a = appraise(GOOD)  # net 2,300,000 a year for 6 years, residual 5 % of 3,000,000, money at 5 %
    assert a.residual_value == 150_000
    assert a.annual_depreciation == pytest.approx(2_850_000 / 6)  # straight line: 475,000
    assert a.annual_surplus == pytest.approx(2_300_000 - 475_000)
    annuity = (1 - 1.05 ** -6) / 0.05  # present value of 1 a year for 6 years at 5 %
    want_npv = -3_000_000 + 2_300_000 * annuity + 150_000 / 1.05 ** 6
    assert a.npv == pytest.approx(want_npv) and round(a.npv) == 8_786_024
    closed = lambda r: -3_000_000 + 2_300_000 * (1 - (1 + r) ** -6) / r + 150_000 / (1 + r) ** 6  # noqa: E731
    assert a.irr == pytest.approx(brentq(closed, 0.01, 5.0), abs=1e-9)
    # (475,000 + 200,000 + 300,000) ÷ ((300 − 20) × 250) = 975,000 ÷ 70,000
    assert a.breakeven_per_day == pytest.approx(975_000 / 70_000) and round(a.breakeven_per_day, 2) == 13.93
    assert a.pays_back_within_life and a.discount_rate == 0.05 and a.service_life_years == 6


def test_irr_of_a_two_year_project_by_hand() -> None:
    from data_layer.stats import irr, npv

    # −1000 + 600x + 600x² = 0 with x = 1 / (1 + r): x = (−1 + √(1 + 4 × 1000 / 600)) / 2
    x = (-1 + (1 + 4 * 1000 / 600) ** 0.5) / 2
    assert irr([-1000, 600, 600]) == pytest.approx(1 / x - 1, abs=1e-9)  # 13.07 %
    assert npv(0.1, [-1000, 600, 600]) == pytest.approx(-1000 + 600 / 1.1 + 600 / 1.21)
    assert npv(0.0, [-1000, 600, 600]) == 200


def test_a_device_that_never_recovers_its_price_has_no_irr() -> None:
    # net 300,000 a year for 6 years + residual 150,000 < price 3,000,000: no rate makes the NPV zero
    slow = appraise({**GOOD, "exams_per_day": "10", "maintenance_per_year": "100000", "staff_cost_per_year": "300000",
                     "consumables_per_exam": "20"})
    assert slow.annual_net == pytest.approx(10 * 250 * 280 - 400_000) and slow.annual_net > 0
    assert slow.payback_years > 6 and not slow.pays_back_within_life
    assert slow.irr is None and slow.npv < 0
    losing = appraise({**GOOD, "charge_per_exam": "50", "consumables_per_exam": "60"})
    assert losing.irr is None and losing.payback_years is None and losing.breakeven_per_day is None


@pytest.mark.parametrize(("field", "value", "code"), [
    ("discount_rate", "abc", "not_a_number"), ("discount_rate", "45", "too_large"), ("discount_rate", "", "missing"),
    ("service_life_years", "6.5", "whole_years"), ("service_life_years", "0", "zero"),
    ("residual_rate", "-1", "negative"), ("residual_rate", "60", "too_large"),
])
def test_the_new_inputs_are_validated(field, value, code) -> None:
    from data_layer.stats import FieldErrors

    with pytest.raises(FieldErrors) as err:
        appraise({**GOOD, field: value})
    assert err.value.errors == {field: code}
    assert appraise({**GOOD, "discount_rate": "0"}).npv == pytest.approx(-3_000_000 + 6 * 2_300_000 + 150_000)


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("Net present value (at 5.0%)", "Internal rate of return", "Break-even exams per day", "13.9 a day",
            "Annual depreciation", "475.0k yuan")),
    ("zh", ("净现值（折现率 5.0%）", "内部收益率", "保本日检查人次", "13.9 人次/日", "年折旧额", "47.5万元")),
])
def test_the_result_shows_npv_irr_and_break_even_in_both_languages(server: Flask, lang, words) -> None:
    client = signed_in(server, "asst1", lang)
    status, out = _submit(server, client, "D001", GOOD, save=False)
    assert status == 200
    text = texts(out["ws-eq-result.children"])
    for w in words:
        assert w in text, w
    irr_text = f"{appraise(GOOD).irr:.1%}"
    assert irr_text in text
    status, out = _submit(server, client, "D001", {**GOOD, "exams_per_day": "10", "maintenance_per_year": "100000"},
                          save=False)
    text = texts(out["ws-eq-result.children"])
    assert ("Not recovered within the service life" if lang == "en" else "使用年限内收不回投资") in text
    assert ("beyond the service life" if lang == "en" else "超过使用年限") in text
    status, out = _submit(server, client, "D001", {**GOOD, "discount_rate": "31"}, save=False)
    assert out["ws-eq-e-discount_rate.children"] == ("Must not exceed 30: please check." if lang == "en"
                                                     else "不能超过 30，请核对。")
    assert "ws-eq-result.children" not in out and _count(server) == 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_identical_appraisal_is_refused_naming_the_first(server: Flask, lang) -> None:
    client = signed_in(server, "asst1", lang)
    status, out = _submit(server, client, "D001", {**GOOD, "note": "first"})
    assert status == 200 and _count(server) == 1
    first = list_appraisals(server.extensions["hospdash"].appdb, Scope.departments({"D001"}), "D001").iloc[0]
    # the same inputs written differently (1e6 notation, a trailing space, another note) are still the same
    status, out = _submit(server, client, "D001", {**GOOD, "device_name": "64-slice CT ", "price": "3e6",
                                                   "note": "again"})
    assert status == 200 and _count(server) == 1 and "ws-eq-saved-rev.data" not in out
    msg = texts(out["ws-eq-form-msg.children"])
    user = server.extensions["hospdash"].appdb.get_by_username("asst1")
    assert f"{first['created_at']:%Y-%m-%d %H:%M}" in msg and user.display_name in msg and str(first["id"]) in msg
    assert msg.startswith("Not saved" if lang == "en" else "未保存")
    # another discount rate, another department or another device is a new appraisal
    status, out = _submit(server, client, "D001", {**GOOD, "discount_rate": "8"})
    assert _count(server) == 2
    status, out = _submit(server, client, "D002", GOOD)
    assert _count(server) == 3


def test_the_one_page_report_carries_npv_irr_and_formats(server: Flask) -> None:
    from openpyxl import load_workbook

    client = signed_in(server, "asst1")
    _submit(server, client, "D001", GOOD)
    a = list_appraisals(server.extensions["hospdash"].appdb, Scope.departments({"D001"}), "D001").iloc[0]
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": {"type": "ws-eq-report", "index": int(a["id"])}, "property": "n_clicks",
                                  "value": 1}], [{"id": "ws-dept", "property": "value", "value": "D001"}])
    ws = load_workbook(io.BytesIO(base64.b64decode(out["ws-download.data"]["content"]))).active
    rows = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    want = appraise(GOOD)
    assert rows["Net present value (at 5.0%)"].value == pytest.approx(round(want.npv, 2))
    assert rows["Net present value (at 5.0%)"].number_format == "#,##0.00"
    assert rows["Internal rate of return"].value == pytest.approx(want.irr)
    assert rows["Internal rate of return"].number_format == "0.0%"
    assert rows["Discount rate (% a year)"].value == 0.05 and rows["Discount rate (% a year)"].number_format == "0.0%"
    assert rows["Break-even exams per day"].value == 13.9
    assert rows["Service life (years)"].value == 6
    status, out = _open(server, client, "D001", a["id"])
    assert "Internal rate of return" in texts(out["ws-eq-report-view.children"])
    status, out = _saved_list(server, client, "D001")
    assert grid_props(out["ws-eq-saved.children"], "ws-eq-saved-grid")["rowData"][0]["irr"] == pytest.approx(want.irr)


def test_device_categories_read_in_the_readers_language(server: Flask, demo_data) -> None:
    dev = demo_data.tables["dim_equipment"]
    dept = str(dev[dev["category"] == "ULTRASOUND"]["dept_id"].iloc[0])
    zh = signed_in(server, "lead1", "zh")
    status, out = post_callback(server, zh, "ws-eq-devices.children",
                                [{"id": "ws-dept", "property": "value", "value": dept},
                                 {"id": "ws-period", "property": "value", "value": "ytd"},
                                 {"id": "ws-eq-sat", "property": "value", "value": "0.85"}])
    text = json.dumps(grid_props(out["ws-eq-devices.children"], "ws-eq-devices-grid")["rowData"], ensure_ascii=False)
    assert status == 200 and "超声" in text and "ULTRASOUND" not in text and "OTHER" not in text


def test_a_period_without_working_days_reads_no_utilization(wh: Warehouse, demo_data, as_user) -> None:
    """National Day (1–3 October) has no working day: capacity 0, utilization missing, nothing saturated,
    and the page draws dashes rather than failing."""
    dept = _device_dept(demo_data)
    holiday = Period(date(2026, 10, 1), date(2026, 10, 3), "custom")
    got = device_table(wh, Scope.hospital(), dept, holiday, 0.85)
    assert len(got) >= 2 and (got["capacity"] == 0).all() and got["utilization"].isna().all()
    assert not got["saturated"].any() and got["exams"].sum() > 0  # CT and MRI still worked the holiday
    page = importlib.import_module("pages.workspace.equipment")
    for lang in ("en", "zh"):
        with as_user("lead1", lang):
            text = texts(page._devices(Scope.hospital(), dept, holiday, 0.85, lang))
            assert "—" in text and "nan" not in text.lower()


def test_an_appraisal_saved_before_npv_existed_reports_its_own_figures(server: Flask) -> None:
    """Saved with the first release's inputs (no life, residual or discount rate): the report shows the
    five stored figures, without a service life to compare the payback with, and no NPV."""
    db = server.extensions["hospdash"].appdb
    old_inputs = {k: float(v) for k, v in GOOD.items() if k not in ("device_name", "category", "service_life_years",
                                                                      "residual_rate", "discount_rate")}
    pk = save_appraisal(db, Scope.hospital(), dept_id="D001", campus_id="C1", device_name="Old CT", category="CT",
                        inputs=old_inputs, result=appraise(GOOD), existing=[], username="asst1")
    client = signed_in(server, "asst1")
    status, out = _open(server, client, "D001", pk)
    text = texts(out["ws-eq-report-view.children"])
    assert status == 200 and "1.30 years" in text and "beyond" not in text and "Net present value" not in text
    status, out = _saved_list(server, client, "D001")
    row = grid_props(out["ws-eq-saved.children"], "ws-eq-saved-grid")["rowData"][0]
    assert status == 200 and row["device_name"] == "Old CT" and row["irr"] is None and row["irr_note"] is None


def test_the_grids_draw_and_a_click_on_a_saved_appraisal_opens_its_view_in_the_browser(dash_duo, server: Flask,
                                                                                     wh: Warehouse, demo_data) -> None:
    from selenium.webdriver.common.by import By

    from .helpers import serve

    dept = _device_dept(demo_data)
    db = server.extensions["hospdash"].appdb
    inputs = {k: float(v) for k, v in GOOD.items() if k not in ("device_name", "category")}
    for name in ("First CT", "Second CT"):
        save_appraisal(db, Scope.hospital(), dept_id=dept, campus_id="C1", device_name=name, category="CT",
                       inputs=inputs, result=appraise(GOOD), existing=[], username="lead1", note=name)
    serve(dash_duo, server)
    duo = dash_duo
    sign_in_browser(duo, "lead1")
    duo.driver.get(duo.server.url + f"/workspace/equipment?dept={dept}")
    duo.wait_for_element("#ws-eq-devices-grid .ag-center-cols-container .ag-row", timeout=30)
    devices = duo.driver.find_elements(By.CSS_SELECTOR, "#ws-eq-devices-grid .ag-pinned-left-cols-container .ag-row")
    assert len(devices) == len(device_table(wh, Scope.hospital(), dept, YTD, 0.85))
    saved = "#ws-eq-saved-grid .ag-center-cols-container .ag-row"
    duo.wait_for_element(saved, timeout=30)
    assert len(duo.driver.find_elements(By.CSS_SELECTOR, saved)) == 2
    irr = duo.find_element("#ws-eq-saved-grid .ag-center-cols-container .ag-row [col-id='irr']").text
    assert irr == f"{appraise(GOOD).irr:.1%}"
    duo.wait_for_element("#ws-eq-chart .xtick", timeout=30)
    duo.wait_for_no_elements("[data-dash-is-loading]", timeout=20)
    click(duo, "#ws-eq-saved-grid .ag-center-cols-container .ag-row[row-index='1'] [col-id='category']")
    duo.wait_for_element("#ws-eq-report", timeout=15)
    assert "First CT" in duo.find_element("#ws-eq-report").text  # the older one, second in the list
    assert duo.driver.find_elements(By.CSS_SELECTOR, "#ws-eq-report .ws-eq-noprint button")[1].text == "One-page Excel"
    click(duo, "#ws-eq-close")
    duo.wait_for_no_elements("#ws-eq-report", timeout=10)
