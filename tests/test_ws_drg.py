"""Workspace · DRG detail: group figures and outlier counts against pandas over the raw cases,
outlier marking on hand-picked thresholds, threshold validation (page and settings), the real
callbacks, scope refusals and scoped exports in both formats."""
from __future__ import annotations

import importlib
from datetime import date

import pandas as pd
import pytest
from flask import Flask

from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.drg_detail import check_thresholds, group_cases, group_table
from data_layer.scope import Scope
from data_layer.stats import FieldErrors
from data_layer.warehouse import Warehouse
from shell.settings import load_settings

from .conftest import texts
from .helpers import find, post_callback, sign_in_browser, signed_in, workspace_export

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))
DEPT = "D001"


def _cases(demo_data, dept: str = DEPT, per: Period = YTD) -> pd.DataFrame:
    """The department's grouped cases paid by DRG: the demo warehouse also holds DIP cases, so the
    DRG detail leaves out the cases paid otherwise (DIP and fee for service; queries.drg.drg_only)."""
    c = demo_data.tables["fact_inpatient_case"].copy()
    day = pd.to_datetime(c["discharge_date"]).dt.date
    c = c[(c["dept_id"] == dept) & (day >= per.start) & (day <= per.end) & c["drg_code"].notna()
          & (c["payment_scheme"] == "drg")]
    for col in ("charge_total", "drg_payment", "cost_total", "los_days", "cost_personnel", "cost_drug", "cost_material",
                "cost_equipment", "cost_overhead"):
        c[col] = c[col].astype(float)
    return c


def _expected_flags(c: pd.DataFrame, basis: str, high: float, low: float) -> pd.Series:
    col = "charge_total" if basis == "charge" else "cost_total"
    avg = c.groupby("drg_code")[col].transform("mean")
    return pd.Series(["high" if v > high * a else "low" if v < low * a else "" for v, a in zip(c[col], avg,
                                                                                                   strict=True)],
                     index=c.index)


@pytest.mark.parametrize("basis", ["charge", "cost"])
def test_group_figures_match_pandas_over_the_cases(wh: Warehouse, demo_data, basis: str) -> None:
    c = _cases(demo_data)
    drg = demo_data.tables["dim_drg"].set_index("drg_code")
    got = group_table(wh, Scope.hospital(), DEPT, YTD, 2.0, 0.5, basis).set_index("drg_code")
    assert set(got.index) == set(c["drg_code"])
    flags = _expected_flags(c, basis, 2.0, 0.5)
    assert (flags != "").any(), "the demo has outliers at the default thresholds"
    for code, g in c.groupby("drg_code"):
        row, n = got.loc[code], len(g)
        assert row["cases"] == n
        assert row["weight"] == pytest.approx(float(drg.loc[code, "weight"]))
        assert row["drg_payment"] == pytest.approx(g["drg_payment"].sum())
        assert row["drg_cost"] == pytest.approx(g["cost_total"].sum())
        assert row["drg_margin"] == pytest.approx(g["drg_payment"].sum() - g["cost_total"].sum())
        assert row["drg_margin_per_case"] == pytest.approx((g["drg_payment"].sum() - g["cost_total"].sum()) / n)
        assert row["alos"] == pytest.approx(g["los_days"].mean())
        assert row["ref_los_days"] == pytest.approx(float(drg.loc[code, "ref_los_days"]))
        assert row["los_ratio"] == pytest.approx(g["los_days"].mean() / float(drg.loc[code, "ref_los_days"]))
        assert row["charge_per_discharge"] == pytest.approx(g["charge_total"].mean())
        assert row["charge_ratio"] == pytest.approx(g["charge_total"].mean() / float(drg.loc[code,
                                                                                              "ref_charge_per_case"]))
        for part in ("personnel", "drug", "material", "equipment", "overhead"):
            assert row[f"cost_{part}_per_case"] == pytest.approx(g[f"cost_{part}"].mean())
        assert row["high_outliers"] == (flags[g.index] == "high").sum()
        assert row["low_outliers"] == (flags[g.index] == "low").sum()
    assert list(got["drg_margin"]) == sorted(got["drg_margin"])  # loss-makers first


def test_group_table_is_the_same_on_every_backend(any_url: str, wh: Warehouse) -> None:
    there = group_table(Warehouse(any_url), Scope.departments({DEPT}), DEPT, YTD, 1.5, 0.7, "cost")
    here = group_table(wh, Scope.hospital(), DEPT, YTD, 1.5, 0.7, "cost")
    cols = ["drg_code", "cases", "drg_margin", "alos", "ref_los_days", "cost_drug_per_case", "high_outliers",
            "low_outliers"]
    pd.testing.assert_frame_equal(there[cols].reset_index(drop=True), here[cols].reset_index(drop=True),
                                  check_dtype=False, rtol=1e-6)


def test_outliers_are_marked_by_hand_built_thresholds(wh: Warehouse, demo_data) -> None:
    c = _cases(demo_data)
    code = c["drg_code"].value_counts().index[0]
    g = c[c["drg_code"] == code]
    avg = g["charge_total"].mean()
    # thresholds half-way between two cases (no ties), catching three cases on each side
    v = sorted(g["charge_total"])
    high = (v[-3] + v[-4]) / 2 / avg
    low = (v[2] + v[3]) / 2 / avg
    got = group_cases(wh, Scope.hospital(), DEPT, YTD, code, high, low, "charge", limit=10_000)
    assert got.attrs["total"] == len(g) and len(got) == len(g)
    assert got.attrs["average"] == pytest.approx(avg)
    want = {cid: ("high" if v > high * avg else "low" if v < low * avg else "")
            for cid, v in zip(g["case_id"], g["charge_total"], strict=True)}
    assert dict(zip(got["case_id"], got["outlier"], strict=True)) == want
    assert list(want.values()).count("high") == 3 and list(want.values()).count("low") == 3
    order = {"high": 0, "low": 1, "": 2}
    assert list(got["outlier"].map(order)) == sorted(got["outlier"].map(order))  # outliers first
    assert got["margin"].round(2).tolist() == (got["drg_payment"] - got["cost_total"]).round(2).tolist()
    assert got["ratio"].tolist() == pytest.approx((got["charge_total"] / avg).tolist())
    capped = group_cases(wh, Scope.hospital(), DEPT, YTD, code, high, low, "charge", limit=5)
    assert len(capped) == 5 and capped.attrs["total"] == len(g)
    outside = group_cases(wh, Scope.departments({"D002"}), DEPT, YTD, code, high, low, "charge")
    assert outside.empty and outside.attrs["total"] == 0  # the scope holds in the data layer


@pytest.mark.parametrize(("high", "low", "errors"), [
    ("", "0.5", {"high": "missing"}),
    ("abc", "0.5", {"high": "not_a_number"}),
    ("1", "0.5", {"high": "high_not_above_one"}),
    ("0.8", "1", {"high": "high_not_above_one", "low": "low_not_below_one"}),
    ("2", "-0.1", {"low": "negative"}),
    ("500", "0.5", {"high": "too_large"}),
    ("nan", None, {"high": "not_a_number", "low": "missing"}),
])
def test_threshold_validation_names_each_bad_field(high, low, errors) -> None:
    with pytest.raises(FieldErrors) as exc:
        check_thresholds(high, low)
    assert exc.value.errors == errors


def test_good_thresholds_pass() -> None:
    assert check_thresholds("3", "0") == (3.0, 0.0)
    assert check_thresholds(1.01, 0.99) == (1.01, 0.99)


def test_settings_give_the_defaults_and_refuse_bad_values(tmp_path) -> None:
    base = {"DATA_DIR": str(tmp_path)}
    s = load_settings(base, env_file=None)
    assert (s.drg_outlier_high, s.drg_outlier_low) == (2.0, 0.5)
    s = load_settings({**base, "DRG_OUTLIER_HIGH": "3", "DRG_OUTLIER_LOW": "0.3"}, env_file=None)
    assert (s.drg_outlier_high, s.drg_outlier_low) == (3.0, 0.3)
    for bad, word in (({"DRG_OUTLIER_HIGH": "1"}, "DRG_OUTLIER_HIGH"), ({"DRG_OUTLIER_LOW": "1.5"}, "DRG_OUTLIER_LOW"),
                      ({"DRG_OUTLIER_HIGH": "two"}, "DRG_OUTLIER_HIGH")):
        with pytest.raises(UserError, match=word):
            load_settings({**base, **bad}, env_file=None)


def _groups_inputs(dept: str = DEPT, high: str = "2", low: str = "0.5", basis: str = "charge") -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept},
            {"id": "ws-period", "property": "value", "value": "ytd"},
            {"id": "ws-drg-high", "property": "value", "value": high},
            {"id": "ws-drg-low", "property": "value", "value": low},
            {"id": "ws-drg-basis", "property": "value", "value": basis}]


def _detail_inputs(code: str, dept: str = DEPT, high: str = "2", low: str = "0.5") -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept},
            {"id": "ws-period", "property": "value", "value": "ytd"},
            {"id": "ws-drg-group", "property": "value", "value": code},
            {"id": "ws-drg-high", "property": "value", "value": high},
            {"id": "ws-drg-low", "property": "value", "value": low},
            {"id": "ws-drg-basis", "property": "value", "value": "charge"}]


def test_the_groups_callback_draws_and_picks_the_worst_group(server: Flask, wh: Warehouse) -> None:
    client = signed_in(server, "asst1")
    status, out = post_callback(server, client, "ws-drg-groups.children", _groups_inputs())
    assert status == 200
    want = group_table(wh, Scope.hospital(), DEPT, YTD, 2.0, 0.5, "charge")
    grid = find(out["ws-drg-groups.children"], "ws-drg-groups-table")["props"]
    headers = [c["headerName"] for c in grid["columnDefs"]]
    assert "Margin per case" in headers and "Reference LOS" in headers and "High outliers" in headers
    assert [r["drg_code"] for r in grid["rowData"]] == list(want["drg_code"])  # every group, as numbers
    assert [r["drg_margin"] for r in grid["rowData"]] == pytest.approx(want["drg_margin"].tolist())
    assert grid["columnDefs"][0]["pinned"] == "left" and grid["getRowId"] == "params.data.drg_code"
    assert grid["dashGridOptions"]["pinnedBottomRowData"][0]["cases"] == want["cases"].sum()  # the total row
    worst = want.loc[want["drg_margin"].idxmin()]
    row = next(r for r in grid["rowData"] if r["drg_code"] == worst["drg_code"])
    assert worst["drg_margin"] >= 0 or row["drg_margin__class"] == "hd-bad"  # a loss in the one rule's colour
    # the options in the table's order; the browser takes the first (assets/ws-pick.js), the answer
    # (shared by everyone who may see the department) carries no reader's pick
    assert "ws-drg-group.value" not in out
    assert [o["value"] for o in out["ws-drg-group.options"]] == list(want["drg_code"])
    assert "2 × its group's average" in texts(out["ws-drg-rule.children"])
    assert out["ws-drg-high-err.children"] == "" and "is-invalid" not in out["ws-drg-high.className"]


def test_bad_thresholds_show_a_message_at_each_field_and_keep_the_tables(server: Flask) -> None:
    client = signed_in(server, "asst1")
    status, out = post_callback(server, client, "ws-drg-groups.children", _groups_inputs(high="0.9", low="1.2"))
    assert status == 200
    assert out["ws-drg-high-err.children"] == "The high threshold must be greater than 1."
    assert out["ws-drg-low-err.children"] == "The low threshold must be below 1."
    assert "is-invalid" in out["ws-drg-high.className"] and "is-invalid" in out["ws-drg-low.className"]
    assert "ws-drg-groups.children" not in out  # the table keeps the last valid thresholds
    client_zh = signed_in(server, "asst1", "zh")
    _, out = post_callback(server, client_zh, "ws-drg-groups.children", _groups_inputs(high="x"))
    assert out["ws-drg-high-err.children"] == "阈值须为数字。"


def test_a_group_shows_its_structure_and_cases_with_outliers_marked(server: Flask, wh: Warehouse) -> None:
    client = signed_in(server, "asst1")
    want = group_table(wh, Scope.hospital(), DEPT, YTD, 2.0, 0.5, "charge")
    row = want.sort_values("high_outliers", ascending=False).iloc[0]
    status, out = post_callback(server, client, "ws-drg-detail.children", _detail_inputs(row["drg_code"]))
    assert status == 200
    detail = out["ws-drg-detail.children"]
    text = texts(detail)
    assert f"{int(row['cases']):,} cases, of which {int(row['high_outliers'])} high" in text
    assert "Personnel per case" in text and "Payment per case" in text
    graph = find(detail, "ws-drg-structure")
    names = [tr["name"] for tr in graph["props"]["figure"]["data"]]
    grid = find(detail, "ws-drg-cases-table")["props"]  # a virtualised grid: a table this long blocked the browser
    rows = grid["rowData"]
    marked = [r["flag"] for r in rows]
    assert marked.count("high") == int(row["high_outliers"]) and marked[:int(row["high_outliers"])] == ["high"] * int(
        row["high_outliers"])  # outliers first
    assert marked.count("low") == min(int(row["low_outliers"]), len(rows) - int(row["high_outliers"]))
    assert [r["outlier"] for r in rows].count("high") == int(row["high_outliers"])  # the label the reader sees
    assert set(grid["dashGridOptions"]["rowClassRules"]) == {"ws-drg-high", "ws-drg-low"}
    assert len(rows) == int(row["cases"])  # every case of the group, not the first 200: the grid is virtualised
    assert [c["field"] for c in grid["columnDefs"]][0] == "case_id" and grid["columnDefs"][0]["pinned"] == "left"
    assert names[:5] == ["Personnel", "Drugs", "Materials", "Equipment", "Overhead"]
    # a forged or stale group code: a message, not another department's rows
    status, out = post_callback(server, client, "ws-drg-detail.children", _detail_inputs("ZZ99"))
    assert status == 200 and "has no cases in this department" in texts(out["ws-drg-detail.children"])


def test_a_click_on_a_group_row_opens_that_group(server: Flask) -> None:
    client = signed_in(server, "asst1")
    click = [{"id": "ws-drg-groups-table", "property": "cellClicked",
              "value": {"rowId": "ES23", "colId": "cases", "rowIndex": 3, "value": 12}}]
    dept = [{"id": "ws-dept", "property": "value", "value": DEPT}]
    status, out = post_callback(server, client, "ws-drg-group.value", click, dept)
    assert status == 200 and out["ws-drg-group.value"] == "ES23"
    total = [{**click[0], "value": {"rowId": None, "colId": "cases", "rowPinned": "bottom"}}]
    status, out = post_callback(server, client, "ws-drg-group.value", total, dept)
    assert "ws-drg-group.value" not in out  # the total row opens nothing
    other = [{"id": "ws-dept", "property": "value", "value": "D004"}]
    assert post_callback(server, client, "ws-drg-group.value", click, other)[0] == 403


def test_another_department_is_refused(server: Flask, as_user) -> None:
    client = signed_in(server, "asst1")
    status, _ = post_callback(server, client, "ws-drg-groups.children", _groups_inputs(dept="D004"))
    assert status == 403
    status, _ = post_callback(server, client, "ws-drg-detail.children", _detail_inputs("ES23", dept="D004"))
    assert status == 403
    page = importlib.import_module("pages.workspace.drg")
    with as_user("asst1"):
        assert "Not allowed" in texts(page.layout(dept="D004"))
        assert "High threshold" in texts(page.layout(dept="D001"))


def _export_state(dept: str = DEPT, code: str | None = None) -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept},
            {"id": "ws-period", "property": "value", "value": "ytd"},
            {"id": "ws-drg-high", "property": "value", "value": "2"},
            {"id": "ws-drg-low", "property": "value", "value": "0.5"},
            {"id": "ws-drg-basis", "property": "value", "value": "charge"},
            {"id": "ws-drg-group", "property": "value", "value": code}]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_are_scoped_in_the_readers_language(server: Flask, wh: Warehouse, fmt: str) -> None:
    want = group_table(wh, Scope.hospital(), DEPT, YTD, 2.0, 0.5, "charge")
    client = signed_in(server, "asst1")
    status, df, name = workspace_export(server, client, "drg", "groups", fmt, _export_state())
    assert status == 200 and name.endswith(f".{fmt}") and name.startswith("D001-drg-groups")
    assert list(df["Group"]) == list(want["drg_code"])
    assert df["Margin"].tolist() == pytest.approx(want["drg_margin"].tolist())
    code = want["drg_code"].iloc[0]
    status, df, _ = workspace_export(server, client, "drg", "cases", fmt, _export_state(code=code))
    assert status == 200 and len(df) == int(want["cases"].iloc[0])  # every case, not only the ones shown
    assert set(df["Outlier"].fillna("")) <= {"", "high", "low"}
    zh = signed_in(server, "asst1", "zh")
    status, df, _ = workspace_export(server, zh, "drg", "groups", fmt, _export_state())
    assert "例均结余" in df.columns
    status, _, _ = workspace_export(server, client, "drg", "groups", fmt, _export_state(dept="D004"))
    assert status == 403
    entries = server.extensions["hospdash"].appdb.audit_entries(action="export")
    assert any("workspace drg D001" in (e["target"] or "") for e in entries)


def test_the_groups_grid_draws_and_a_click_on_a_row_opens_its_cases(dash_duo, server: Flask, wh: Warehouse) -> None:
    """In the browser: the groups grid shows every group; a click on a group's row opens its cost
    structure and its cases in the cases grid."""
    from .helpers import serve

    want = group_table(wh, Scope.hospital(), DEPT, YTD, 2.0, 0.5, "charge")
    other = want["drg_code"].iloc[min(3, len(want) - 1)]  # not the first group, which opens at once
    serve(dash_duo, server)
    d = dash_duo.driver
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element("#po-grid", timeout=30)
    d.get(dash_duo.server.url + f"/workspace/drg?dept={DEPT}")
    dash_duo.wait_for_element("#ws-drg-groups-table .ag-center-cols-container .ag-row", timeout=30)
    dash_duo.wait_for_element("#ws-drg-cases-table .ag-row", timeout=30)  # the first group opens at once
    shown = d.execute_script("return document.querySelectorAll("
                             "'#ws-drg-groups-table .ag-pinned-left-cols-container .ag-row').length")
    assert shown >= min(len(want), 10)
    row = f"#ws-drg-groups-table .ag-center-cols-container .ag-row[row-id='{other}']"
    dash_duo.wait_for_element(row, timeout=10)
    dash_duo.find_element(f"{row} .ag-cell[col-id='cases']").click()
    dash_duo.wait_for_text_to_equal("#ws-drg-cases-table .ag-pinned-left-cols-container .ag-row[row-index='0'] "
                                    ".ag-cell", _first_case(wh, other), timeout=30)
    assert other in dash_duo.find_element("#ws-drg-detail h3").text
    # the pick is the browser's (assets/ws-pick.js): kept while offered, else the first option
    keep = "return window.dash_clientside.workspace.keep(arguments[0], arguments[1])"
    offered = [{"value": "A"}, {"value": "B"}]
    assert d.execute_script(keep, offered, "Z") == "A"
    assert d.execute_script(keep + " === window.dash_clientside.no_update", offered, "B") is True
    assert d.execute_script(keep, [], "B") is None and d.execute_script(keep, None, None) is None
    logs = dash_duo.get_logs()
    assert logs == [], [e["message"][:300] for e in logs]


def _first_case(wh: Warehouse, code: str) -> str:
    return str(group_cases(wh, Scope.hospital(), DEPT, YTD, code, 2.0, 0.5, "charge").iloc[0]["case_id"])
