"""Cost monitoring (成本监测): the composition against the raw cost rows and the full-cost
indicator, the hospital median against pandas over the department values, the baseline and
target rules, the verdicts on hand-built cases, scope refusals and the scoped exports."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from data_layer.periods import Period
from data_layer.queries.kpis import indicator_values
from data_layer.queries.monitor import (
    MIN_PEERS,
    assess,
    baseline_period,
    cost_composition,
    dimension_summary,
    hospital_medians,
    monitor_codes,
    monitor_table,
    verdict,
    worse_by,
)
from data_layer.registry import Level, monitor_model
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import texts
from .helpers import post_callback, sign_in_browser, signed_in, workspace_export

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))
WINDOW = (date(2026, 1, 1), date(2026, 10, 31))  # the closed months of YTD in the small warehouse
ASST = Scope.departments(["D001", "D002", "D003"])


def _days(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


def _cost_rows(demo_data, dept: str, start: date, end: date) -> pd.DataFrame:
    c = demo_data.tables["fact_dept_cost_monthly"]
    return c[(c["dept_id"] == dept) & (_days(c["month_start"]) >= start) & (_days(c["month_start"]) <= end)]


def test_the_model_is_the_registrys_eighteen_indicators_in_five_dimensions() -> None:
    model = monitor_model()
    assert list(model) == ["human", "equipment", "drugs_consumables", "space_beds", "energy"]
    assert len(monitor_codes()) == 18 == len(set(monitor_codes()))


def test_category_by_tier_adds_up_to_the_full_cost_and_matches_the_raw_rows(any_url: str, demo_data) -> None:
    wh = Warehouse(any_url)
    try:
        df = cost_composition(wh, ASST, "D001", YTD)
        assert df.attrs["window"] == WINDOW
        assert df.attrs["year_ago_window"] == (date(2025, 1, 1), date(2025, 10, 31))
        full = indicator_values(wh, ASST, ("full_cost",), YTD, Level.department,
                                Filters(department=("D001",))).set_index("indicator")["value"]
        assert df[["direct", "admin", "support", "medtech"]].to_numpy().sum() == pytest.approx(full["full_cost"])
        assert df["total"].sum() == pytest.approx(full["full_cost"])
        raw = _cost_rows(demo_data, "D001", *WINDOW).pivot_table(index="cost_category", columns="allocation_stage",
                                                                values="amount", aggfunc="sum").fillna(0.0)
        for cat in raw.index:
            for stage in raw.columns:
                assert df.loc[cat, stage] == pytest.approx(raw.loc[cat, stage], abs=0.01)
        ago = _cost_rows(demo_data, "D001", date(2025, 1, 1), date(2025, 10, 31)).groupby("cost_category")["amount"].sum()
        for cat in ago.index:
            assert df.loc[cat, "last_year"] == pytest.approx(ago[cat], abs=0.01)
            assert df.loc[cat, "yoy"] == pytest.approx((df.loc[cat, "total"] - ago[cat]) / ago[cat])
        assert df["share"].sum() == pytest.approx(1.0)
    finally:
        wh.engine.dispose()


def test_no_closed_month_gives_no_composition(wh: Warehouse) -> None:
    df = cost_composition(wh, ASST, "D001", Period(date(2026, 11, 1), date(2026, 11, 21)))
    assert df.attrs["window"] is None and df["total"].sum() == 0 and df["last_year"].isna().all()


def _pandas_clinical_values(demo_data) -> pd.DataFrame:
    """alos, energy per m² and personnel cost share per clinical department, from the raw rows."""
    deps = demo_data.tables["dim_department"]
    clinical = deps[deps["kind"] == "clinical"].set_index("dept_id")
    cases = demo_data.tables["fact_inpatient_case"]
    cases = cases[(_days(cases["discharge_date"]) >= YTD.start) & (_days(cases["discharge_date"]) <= YTD.end)]
    by_case = cases.groupby("dept_id").agg(los=("los_days", "sum"), n=("case_id", "count"))
    cost = demo_data.tables["fact_dept_cost_monthly"]
    cost = cost[(_days(cost["month_start"]) >= WINDOW[0]) & (_days(cost["month_start"]) <= WINDOW[1])]
    energy = cost[cost["cost_category"] == "energy"].groupby("dept_id")["amount"].sum()
    personnel = cost[cost["cost_category"] == "personnel"].groupby("dept_id")["amount"].sum()
    full = cost.groupby("dept_id")["amount"].sum()
    out = pd.DataFrame(index=clinical.index)
    out["alos"] = by_case["los"] / by_case["n"]
    out["energy_per_m2"] = energy / clinical["floor_area_m2"]
    out["personnel_cost_share"] = personnel / full
    return out


def test_the_hospital_median_is_the_median_of_the_clinical_departments_values(wh: Warehouse, demo_data) -> None:
    med = hospital_medians(wh, Scope.hospital(), YTD).set_index("indicator")
    raw = _pandas_clinical_values(demo_data)
    for code in raw.columns:
        vals = raw[code].replace([np.inf, -np.inf], np.nan).dropna()
        assert med.loc[code, "peers"] == len(vals)
        assert med.loc[code, "median"] == pytest.approx(vals.median())
    # every indicator: the median of the department-level values of the clinical departments
    values = indicator_values(wh, Scope.hospital(), monitor_codes(), YTD, Level.department, Filters(kind=("clinical",)))
    clinical = set(demo_data.tables["dim_department"].query("kind == 'clinical'")["dept_id"])
    assert set(values["key"]) <= clinical
    for code in monitor_codes():
        v = values.loc[values["indicator"] == code, "value"].dropna()
        if len(v) >= MIN_PEERS:
            assert med.loc[code, "median"] == pytest.approx(v.median())
        else:
            assert np.isnan(med.loc[code, "median"])  # too few departments: no benchmark


def test_the_median_is_the_whole_hospitals_whoever_asks(wh: Warehouse) -> None:
    mine = monitor_table(wh, Scope.departments(["D001"]), "D001", YTD).set_index("indicator")
    hospital = hospital_medians(wh, Scope.hospital(), YTD).set_index("indicator")
    assert mine["median"].equals(hospital["median"].reindex(mine.index))
    assert "key" not in mine.columns and "dept_id" not in mine.columns  # no other department's value leaves


def test_model_values_history_and_targets(wh: Warehouse, demo_data) -> None:
    df = monitor_table(wh, ASST, "D001", YTD).set_index("indicator")
    assert len(df) == 18
    f = Filters(department=("D001",))
    now = indicator_values(wh, ASST, monitor_codes(), YTD, Level.department, f).set_index("indicator")
    ago = indicator_values(wh, ASST, monitor_codes(), YTD.year_ago(), Level.department, f).set_index("indicator")
    base_per = baseline_period(YTD)
    assert (base_per.start, base_per.end) == (date(2025, 1, 1), date(2025, 12, 31))
    base = indicator_values(wh, ASST, monitor_codes(), base_per, Level.department, f).set_index("indicator")
    for code in now.index:
        assert df.loc[code, "value"] == pytest.approx(now.loc[code, "value"], nan_ok=True)
        assert df.loc[code, "year_ago"] == pytest.approx(ago.loc[code, "value"], nan_ok=True)
    # a level (average stay) is compared as it is; a flow (bed turnover) pro-rated by days to the period
    assert df.loc["alos", "baseline"] == pytest.approx(base.loc["alos", "value"])
    assert df.loc["bed_turnover", "baseline"] == pytest.approx(base.loc["bed_turnover", "value"] * 325 / 365)
    # energy per m² is monthly: ten closed months against the twelve of 2025
    assert df.loc["energy_per_m2", "baseline"] == pytest.approx(base.loc["energy_per_m2", "value"] * 304 / 365)
    assert str(df.loc["energy_per_m2", "window_end"])[:10] == "2026-10-31"
    goals = demo_data.tables["fact_target_annual"]
    goals = goals[(goals["dept_id"] == "D001") & (goals["year"] == 2026)].set_index("indicator_code")["target_value"]
    for code in ("alos", "drug_share", "material_share"):
        if code in goals.index:
            assert df.loc[code, "target"] == pytest.approx(goals[code])
    assert df.loc["nurses_per_bed", "target"] != df.loc["nurses_per_bed", "target"]  # no target: NaN


def test_a_department_outside_the_scope_gets_nothing(wh: Warehouse) -> None:
    assert monitor_table(wh, Scope.departments(["D002"]), "D001", YTD).empty
    assert cost_composition(wh, Scope.departments(["D002"]), "D001", YTD)["total"].sum() == 0


def test_verdicts_follow_the_better_direction_and_the_tolerance() -> None:
    assert worse_by(11.0, 10.0, False) == pytest.approx(0.1)  # a stay 10% longer is worse
    assert worse_by(0.8, 1.0, True) == pytest.approx(0.2)  # occupancy 20% lower is worse
    assert worse_by(1.0, 0.0, True) != worse_by(1.0, 0.0, True)  # a zero reference: no gap
    assert verdict(0.11) == "over" and verdict(0.10) == "in_line" and verdict(-0.11) == "under"
    assert verdict(0.06, 0.05) == "over" and verdict(float("nan")) is None
    table = pd.DataFrame({
        "dimension": ["space_beds", "space_beds", "space_beds", "energy", "energy"],
        "indicator": ["alos", "bed_occupancy", "bed_turnover", "energy_per_m2", "energy_per_bed_day"],
        "higher_is_better": [False, True, True, False, False],
        "value": [9.0, 0.80, 30.0, 100.0, 20.0],
        "median": [8.0, 0.95, 29.0, 100.0, float("nan")],
        "year_ago": [9.0, 0.70, 30.0, 120.0, 20.0],
        "baseline": [float("nan")] * 5, "target": [11.0, float("nan"), float("nan"), float("nan"), float("nan")],
    })
    got = assess(table).set_index("indicator")
    assert got.loc["alos", "verdict"] == "over"  # 12.5% longer than the median
    assert got.loc["bed_occupancy", "verdict"] == "over"  # 15.8% below the median
    assert got.loc["bed_turnover", "verdict"] == "in_line"
    assert got.loc["energy_per_m2", "v_year_ago"] == "under"  # 16.7% less energy than a year ago
    assert got.loc["alos", "v_target"] == "under"  # 18% shorter than the target
    assert pd.isna(got.loc["energy_per_bed_day", "verdict"])
    summary = dimension_summary(got.reset_index()).set_index("dimension")
    assert summary.loc["space_beds", ["over", "in_line", "under"]].tolist() == [2, 1, 0]
    assert summary.loc["space_beds", "verdict"] == "over"
    assert summary.loc["energy", "unknown"] == 1 and summary.loc["energy", "verdict"] == "in_line"
    assert pd.isna(summary.loc["human", "verdict"])


# ---------------------------------------------------------------------------------------- the page
def _inputs(dept: str, period: str = "ytd", tol=10) -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept}, {"id": "ws-period", "property": "value", "value": period},
            {"id": "wc-tol", "property": "value", "value": tol}]


def test_the_page_shows_the_model_and_refuses_another_department(server) -> None:
    client = signed_in(server, "asst1", "en")
    assert client.get("/workspace/costs?dept=D001").status_code == 200
    status, out = post_callback(server, client, "wc-summary.children", _inputs("D001"))
    assert status == 200
    model = out["wc-model.children"]["props"]
    assert model["id"] == "wc-model-table"  # a grid: every indicator a row, the indicator pinned
    assert len(model["rowData"]) == 18 and "Average length of stay" in [r["indicator"] for r in model["rowData"]]
    assert "Hospital median (clinical)" in [c["headerName"] for c in model["columnDefs"]]
    assert model["columnDefs"][0]["pinned"] == "left"
    assert {r["verdict__class"] for r in model["rowData"]} <= {f"wc-badge-cell wc-{v}" for v in
                                                              ("over", "under", "in_line", "none")}
    assert texts(out["wc-summary.children"]).count("in line") >= 5
    status, out = post_callback(server, client, "wc-composition.children", _inputs("D001")[:2])
    assert status == 200
    grid = out["wc-composition.children"][0]["props"]
    assert grid["id"] == "wc-composition-table" and grid["rowData"][0]["category"] == "Personnel"
    comp = cost_composition(server.extensions["hospdash"].warehouse, ASST, "D001", YTD)
    assert [r["total"] for r in grid["rowData"]] == pytest.approx(comp["total"].tolist())  # numbers, not text
    total = grid["dashGridOptions"]["pinnedBottomRowData"][0]
    assert total["total"] == pytest.approx(comp["total"].sum())
    judged = {r["cat"]: r["yoy__verdict"] for r in grid["rowData"]}  # the full cost's rule: growth is worse
    assert all(judged[c] == ("bad" if y > 0.0005 else "good" if y < -0.0005 else judged[c])
               for c, y in comp["yoy"].dropna().items())
    for first, inputs in (("wc-summary.children", _inputs("D004")), ("wc-composition.children", _inputs("D004")[:2])):
        assert post_callback(server, client, first, inputs)[0] == 403


def test_a_bad_tolerance_is_told_at_the_field(server) -> None:
    client = signed_in(server, "asst1", "zh")
    told = {0: "判定阈值须在 1 至 50 之间（百分比），0 超出范围。", 80: "判定阈值须在 1 至 50 之间（百分比），80 超出范围。",
            "x": "判定阈值须为 1 至 50 之间的数字（百分比）。", None: "请填写判定阈值：1 至 50 之间的数字（百分比）。"}
    for bad, message in told.items():
        status, out = post_callback(server, client, "wc-summary.children", _inputs("D001", tol=bad))
        assert status == 200 and out["wc-tol-msg.children"] == message
        assert "wc-model.children" not in out


def test_exports_are_scoped_in_both_formats(server, wh: Warehouse) -> None:
    client = signed_in(server, "asst1", "en")
    state = [{"id": "ws-dept", "property": "value", "value": "D001"}, {"id": "ws-period", "property": "value", "value": "ytd"},
             {"id": "wc-tol", "property": "value", "value": 10}]
    comp = cost_composition(wh, ASST, "D001", YTD)
    for fmt in ("xlsx", "csv"):
        status, df, name = workspace_export(server, client, "costs", "composition", fmt, state)
        assert status == 200 and name.endswith(fmt) and name.startswith("D001-")
        assert list(df["Category"])[:2] == ["Personnel", "Drugs"]
        assert df["Total"].sum() == pytest.approx(comp["total"].sum(), abs=0.05)
        status, df, _ = workspace_export(server, client, "costs", "model", fmt, state)
        assert status == 200 and len(df) == 18 and set(df["Verdict"]) <= {"Over-used", "Under-used", "In line",
                                                                         "No benchmark"}
        assert "Hospital median (clinical)" in df.columns
    forged = [dict(state[0], value="D004"), *state[1:]]
    assert workspace_export(server, client, "costs", "model", "csv", forged)[0] == 403


def test_the_cost_grids_draw_in_the_browser(dash_duo, server) -> None:
    """The composition and model grids draw their rows (with the total row) and no error."""
    from .helpers import serve

    serve(dash_duo, server)
    d = dash_duo.driver
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element("#po-grid", timeout=30)
    d.get(dash_duo.server.url + "/workspace/costs?dept=D001")
    dash_duo.wait_for_element("#wc-model-table .ag-center-cols-container .ag-row", timeout=30)
    dash_duo.wait_for_element("#wc-composition-table .ag-floating-bottom .ag-row", timeout=30)
    model = d.find_elements("css selector", "#wc-model-table .ag-pinned-left-cols-container .ag-row")
    assert len(model) == 18  # every indicator drawn: the grid takes its rows' height
    personnel = dash_duo.find_element("#wc-composition-table .ag-center-cols-container .ag-row[row-id='personnel'] "
                                      "[col-id='total']").text
    assert personnel and personnel != "—"
    logs = dash_duo.get_logs()
    assert logs == [], [e["message"][:300] for e in logs]
