"""Budget execution (预算执行): figures against pandas over the raw fact rows, time progress and
the ahead-of-pace flags on hand-built cases, the monthly pace series, scope refusals, forged
items, bad tolerances and the scoped exports."""
from __future__ import annotations

import importlib
import re
from datetime import date

import pandas as pd
import pytest

from data_layer.periods import Period
from data_layer.queries.budget import (
    budget_lines,
    budget_monthly,
    category_summary,
    department_summary,
    pace_status,
    time_progress,
    with_pace,
)
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .helpers import find, grid_props, post_callback, sign_in_browser, signed_in, workspace_export

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))
AS_OF = date(2026, 10, 31)  # the last closed month's end in the small warehouse
ASST = Scope.departments(["D001", "D002", "D003"])


def _rows(demo_data, start: date, end: date, depts=None) -> pd.DataFrame:
    b = demo_data.tables["fact_budget_monthly"]
    m = pd.to_datetime(b["month_start"]).dt.date
    out = b[(m >= start) & (m <= end)]
    return out[out["dept_id"].isin(depts)] if depts is not None else out


def test_time_progress_is_elapsed_days_over_the_year() -> None:
    assert time_progress(date(2026, 10, 31)) == pytest.approx(304 / 365)
    assert time_progress(date(2024, 3, 31)) == pytest.approx(91 / 366)  # a leap year
    assert time_progress(date(2026, 12, 31)) == 1.0


def test_execution_figures_match_the_raw_rows(any_url: str, demo_data) -> None:
    wh = Warehouse(any_url)
    try:
        lines = budget_lines(wh, ASST, YTD)
        assert lines.attrs["window"] == (date(2026, 1, 1), AS_OF) and lines.attrs["as_of"] == AS_OF
        assert lines.attrs["elapsed"] == pytest.approx(304 / 365)
        assert set(lines["dept_id"]) == {"D001", "D002", "D003"}
        ytd = _rows(demo_data, date(2026, 1, 1), AS_OF, ["D001", "D002", "D003"]).groupby(["dept_id", "item_code"])[
            ["budget_amount", "executed_amount"]].sum()
        year = _rows(demo_data, date(2026, 1, 1), date(2026, 12, 31), ["D001", "D002", "D003"]).groupby(
            ["dept_id", "item_code"])["budget_amount"].sum()
        got = with_pace(lines).set_index(["dept_id", "item_code"])
        assert len(got) == len(ytd)
        for key, r in ytd.iterrows():
            g = got.loc[key]
            assert g["budget_ytd"] == pytest.approx(r["budget_amount"], abs=0.01)
            assert g["executed_ytd"] == pytest.approx(r["executed_amount"], abs=0.01)
            assert g["executed_period"] == pytest.approx(r["executed_amount"], abs=0.01)  # YTD: the period is the year so far
            assert g["budget_year"] == pytest.approx(year[key], abs=0.01)
            assert g["share_year"] == pytest.approx(r["executed_amount"] / year[key])
            assert g["gap"] == pytest.approx(r["executed_amount"] / year[key] - 304 / 365)
    finally:
        wh.engine.dispose()


def test_a_month_counts_its_own_rows_and_the_year_to_its_end(wh: Warehouse, demo_data) -> None:
    lines = with_pace(budget_lines(wh, ASST, Period(date(2026, 3, 1), date(2026, 3, 31), "month"), "D002"))
    assert set(lines["dept_id"]) == {"D002"} and lines.attrs["elapsed"] == pytest.approx(90 / 365)
    month = _rows(demo_data, date(2026, 3, 1), date(2026, 3, 31), ["D002"]).groupby("item_code").sum(numeric_only=True)
    ytd = _rows(demo_data, date(2026, 1, 1), date(2026, 3, 31), ["D002"]).groupby("item_code").sum(numeric_only=True)
    got = lines.set_index("item_code")
    for item, r in month.iterrows():
        assert got.loc[item, "budget_period"] == pytest.approx(r["budget_amount"], abs=0.01)
        assert got.loc[item, "execution"] == pytest.approx(r["executed_amount"] / r["budget_amount"])
        assert got.loc[item, "executed_ytd"] == pytest.approx(ytd.loc[item, "executed_amount"], abs=0.01)
    # the department summary is the sum of its items; categories group them
    summary = department_summary(budget_lines(wh, ASST, Period(date(2026, 3, 1), date(2026, 3, 31), "month")))
    row = summary.set_index("dept_id").loc["D002"]
    assert row["executed_ytd"] == pytest.approx(ytd["executed_amount"].sum(), abs=0.05)
    assert row["items"] == len(month)
    cats = category_summary(lines)
    assert cats["budget_year"].sum() == pytest.approx(lines["budget_year"].sum())
    assert list(cats["category"])[0] == "personnel"


def test_no_closed_month_means_no_execution(wh: Warehouse) -> None:
    lines = budget_lines(wh, ASST, Period(date(2026, 11, 1), date(2026, 11, 21)))
    assert lines.empty and lines.attrs["window"] is None


def test_items_ahead_of_pace_are_flagged_on_a_hand_built_case() -> None:
    lines = pd.DataFrame({
        "dept_id": ["D1", "D1", "D1", "D1", "D2"], "dept_zh": ["甲"] * 4 + ["乙"], "dept_en": ["A"] * 4 + ["B"],
        "item_code": ["B01", "B02", "B03", "B04", "B01"], "category": ["personnel"] * 5,
        "budget_period": [100.0] * 5, "executed_period": [56.0, 55.0, 44.0, 10.0, 70.0],
        "budget_ytd": [100.0] * 5, "executed_ytd": [56.0, 55.0, 44.0, 10.0, 70.0],
        "budget_year": [100.0, 100.0, 100.0, 0.0, 100.0],
    })
    lines.attrs = {"elapsed": 0.5}
    got = with_pace(lines)
    # share 56% against 50% elapsed: 6 points ahead > 5; 55%: exactly 5, not beyond; 44%: 6 behind; no annual budget
    assert list(got["status"][:3]) == ["ahead", "on_pace", "behind"] and pd.isna(got["status"].iloc[3])
    assert got["gap"].iloc[0] == pytest.approx(0.06)
    assert list(with_pace(lines, 0.10)["status"][:3]) == ["on_pace"] * 3  # a wider tolerance
    assert list(with_pace(lines, 0.0)["status"][:3]) == ["ahead", "ahead", "behind"]
    summary = department_summary(lines).set_index("dept_id")
    assert summary.loc["D1", "items_ahead"] == 1 and summary.loc["D2", "items_ahead"] == 1
    assert summary.loc["D1", "share_year"] == pytest.approx(165 / 300)
    assert pace_status(float("nan"), 0.5) is None


def test_the_monthly_series_cumulates_closed_months_only(wh: Warehouse, demo_data) -> None:
    df = budget_monthly(wh, ASST, "D001", 2026, "B02")
    raw = _rows(demo_data, date(2026, 1, 1), date(2026, 12, 31), ["D001"])
    raw = raw[raw["item_code"] == "B02"].sort_values("month_start")
    assert len(df) == 12
    assert df["cum_budget"].iloc[-1] == pytest.approx(raw["budget_amount"].sum())
    closed = raw[pd.to_datetime(raw["month_start"]).dt.date <= AS_OF]
    assert df["cum_executed"].iloc[9] == pytest.approx(closed["executed_amount"].sum())
    assert df["executed"].iloc[10:].isna().all()  # November and December are not closed
    assert df["pace"].iloc[-1] == pytest.approx(raw["budget_amount"].sum())
    assert df["pace"].iloc[0] == pytest.approx(raw["budget_amount"].sum() * 31 / 365)
    march = budget_monthly(wh, ASST, "D001", 2026, "B02", date(2026, 3, 31))
    assert march["executed"].iloc[3:].isna().all() and march["executed"].iloc[:3].notna().all()


# ---------------------------------------------------------------------------------------- the page
def _inputs(dept: str, period: str = "ytd", tol=5) -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept}, {"id": "ws-period", "property": "value", "value": period},
            {"id": "wb-tol", "property": "value", "value": tol}]


def test_the_page_lists_the_departments_and_refuses_another(server) -> None:
    client = signed_in(server, "asst1", "en")
    assert client.get("/workspace/budget?dept=D001").status_code == 200
    status, out = post_callback(server, client, "wb-window.children", _inputs("D001"))
    assert status == 200
    status, side = post_callback(server, client, "wb-departments.children", _inputs("D001"))
    assert status == 200
    deps = grid_props(side["wb-departments.children"], "wb-departments-grid")
    names = [r["dept"] for r in deps["rowData"]]
    assert names[0] == "Spine Surgery · selected" and {"Gastroenterology", "Neurology"} <= set(names)
    assert [r["dept_id"] for r in deps["rowData"] if r["current"]] == ["D001"]
    # the items ahead of pace and the department's items share one column ("2 / 9"), sorted by the first
    cols = {c["field"]: c for c in deps["columnDefs"]}
    assert "items" not in cols and all(isinstance(r["items"], int) for r in deps["rowData"])
    assert "params.data.items" in cols["items_ahead"]["valueFormatter"]["function"]
    items = grid_props(out["wb-items.children"], "wb-items-grid")
    assert "Personnel" in {r["category"] for r in items["rowData"]}
    pinned = items["dashGridOptions"]["pinnedBottomRowData"]
    assert pinned[0]["item"] == "Personnel · Subtotal" and pinned[-1]["item"] == "Total"
    assert {o["value"] for o in out["wb-item.options"]} >= {"__all__", "B01"}
    assert post_callback(server, client, "wb-window.children", _inputs("D004"))[0] == 403
    assert post_callback(server, client, "wb-departments.children", _inputs("D004"))[0] == 403
    pace = [*_inputs("D001")[:2], {"id": "wb-item", "property": "value", "value": "B01"}]
    status, out = post_callback(server, client, "wb-pace.children", pace)
    assert status == 200 and out["wb-item-msg.children"] == ""
    forged = [*_inputs("D001")[:2], {"id": "wb-item", "property": "value", "value": "B99"}]
    status, out = post_callback(server, client, "wb-pace.children", forged)
    assert status == 200 and out["wb-item-msg.children"] == "This department has no such budget item."
    assert post_callback(server, client, "wb-pace.children", [dict(pace[0], value="D004"), *pace[1:]])[0] == 403


def test_a_bad_tolerance_is_told_at_the_field(server) -> None:
    client = signed_in(server, "asst1", "en")
    told = {-1: "The tolerance must be from 0 to 50 (percentage points); -1 is out of range.",
            51: "The tolerance must be from 0 to 50 (percentage points); 51 is out of range.",
            1e9: "The tolerance must be from 0 to 50 (percentage points); 1,000,000,000 is out of range.",
            "five": "The tolerance must be a number from 0 to 50 (percentage points).",
            None: "Enter the tolerance: a number from 0 to 50 (percentage points)."}
    for bad, message in told.items():
        status, out = post_callback(server, client, "wb-window.children", _inputs("D001", tol=bad))
        assert status == 200 and out["wb-tol-msg.children"] == message
        assert "wb-items.children" not in out
        status, side = post_callback(server, client, "wb-departments.children", _inputs("D001", tol=bad))
        assert status in (200, 204) and "wb-departments.children" not in (side or {})  # kept; the field says why


def test_a_fine_tolerance_is_accepted_and_the_field_leaves_the_range_to_the_server(server, as_user) -> None:
    client = signed_in(server, "asst1", "en")
    status, out = post_callback(server, client, "wb-window.children", _inputs("D001", tol=0.0001))
    assert status == 200 and not out.get("wb-tol-msg.children") and "wb-items.children" in out
    with as_user("asst1"):
        field = find(importlib.import_module("pages.workspace.budget").layout(dept="D001"), "wb-tol")
    assert field.step == "any" and getattr(field, "min", None) is None and getattr(field, "max", None) is None


def test_exports_are_scoped_in_both_formats(server, wh: Warehouse) -> None:
    client = signed_in(server, "asst1", "en")
    state = [{"id": "ws-dept", "property": "value", "value": "D001"}, {"id": "ws-period", "property": "value", "value": "ytd"},
             {"id": "wb-tol", "property": "value", "value": 5}, {"id": "wb-item", "property": "value", "value": "B01"}]
    lines = budget_lines(wh, ASST, YTD)
    for fmt in ("xlsx", "csv"):
        status, df, name = workspace_export(server, client, "budget", "departments", fmt, state)
        assert status == 200 and name.endswith(fmt)
        assert set(df["Department id"]) == {"D001", "D002", "D003"}  # the assistant's departments only
        assert df["Executed (YTD)"].sum() == pytest.approx(lines["executed_ytd"].sum(), abs=0.05)
        status, df, _ = workspace_export(server, client, "budget", "items", fmt, state)
        assert set(df["Department id"]) == {"D001"} and "Ahead-of-pace" not in df.columns
        assert df["Annual budget"].sum() == pytest.approx(lines[lines["dept_id"] == "D001"]["budget_year"].sum(), abs=0.05)
        status, df, _ = workspace_export(server, client, "budget", "pace", fmt, state)
        assert len(df) == 12 and list(df["Month"])[:2] == ["2026-01", "2026-02"]
    forged = [dict(state[0], value="D004"), *state[1:]]
    assert workspace_export(server, client, "budget", "items", "csv", forged)[0] == 403
    bad_item = [*state[:3], dict(state[3], value="B99")]
    status, df, _ = workspace_export(server, client, "budget", "pace", "csv", bad_item)
    assert df is None  # refused with a message, no file


def test_a_director_sees_one_department(server) -> None:
    client = signed_in(server, "dir1", "en")
    status, out = post_callback(server, client, "wb-departments.children", _inputs("D001"))
    assert status == 200
    rows = grid_props(out["wb-departments.children"], "wb-departments-grid")["rowData"]
    assert [r["dept_id"] for r in rows] == ["D001"]


def test_the_items_grid_holds_every_item_with_subtotals_and_total_pinned_under_them(server, wh: Warehouse) -> None:
    client = signed_in(server, "asst1", "en")
    status, out = post_callback(server, client, "wb-window.children", _inputs("D001"))
    items = grid_props(out["wb-items.children"], "wb-items-grid")
    lines = with_pace(budget_lines(wh, ASST, YTD, "D001"))
    rows = pd.DataFrame(items["rowData"])
    assert len(rows) == len(lines) and set(rows["item_code"]) == set(lines["item_code"])
    pinned = pd.DataFrame(items["dashGridOptions"]["pinnedBottomRowData"])
    subtotals, total = pinned[pinned["row_kind"] == "subtotal"], pinned[pinned["row_kind"] == "total"].iloc[0]
    by_cat = rows.groupby("category")["executed_ytd"].sum()
    for r in subtotals.itertuples():
        assert r.executed_ytd == pytest.approx(by_cat[r.category], abs=0.01)
    assert total["budget_year"] == pytest.approx(lines["budget_year"].sum(), abs=0.01)
    # every row sorts and filters; the pace colours the gap and the status by the row's own verdict
    want = dict(zip(lines["item_code"], lines["status"].fillna("none"), strict=True))
    assert all(r["pace"] == want[r["item_code"]] for r in items["rowData"])
    cols = {c["field"]: c for c in items["columnDefs"]}
    assert cols["item"]["pinned"] == "left" and all(c["sortable"] for c in cols.values())
    assert "wb-ahead" in cols["gap"]["cellClassRules"] and cols["gap"]["valueFormatter"]["function"].startswith("wbPoints")
    assert cols["budget_year"]["valueFormatter"]["function"].endswith("true)")  # compact money, as the cards


def test_a_tolerance_is_read_by_its_declared_form(server) -> None:
    """The tolerance field's rules are the declared form's (percent_form): a yes/no is no number, spaces go."""
    client = signed_in(server, "asst1", "en")
    status, out = post_callback(server, client, "wb-window.children", _inputs("D001", tol=True))
    assert out["wb-tol-msg.children"] == "The tolerance must be a number from 0 to 50 (percentage points)."
    status, out = post_callback(server, client, "wb-window.children", _inputs("D001", tol=" 7.5 "))
    assert status == 200 and out["wb-tol-msg.children"] == "" and "wb-items.children" in out


@pytest.mark.browser
def test_the_budget_grids_draw_their_rows_and_sort_in_the_browser(dash_duo, server) -> None:
    from selenium.webdriver.common.by import By

    from .helpers import serve

    serve(dash_duo, server)
    duo = dash_duo
    sign_in_browser(duo, "asst1")
    duo.driver.get(duo.server.url + "/workspace/budget?dept=D001")
    duo.wait_for_element("#wb-items-grid .ag-center-cols-container .ag-row", timeout=30)
    rows = duo.driver.find_elements(By.CSS_SELECTOR, "#wb-departments-grid .ag-center-cols-container .ag-row")
    assert len(rows) == 3
    pinned = lambda: [t for _i, t in sorted(duo.driver.execute_script(  # noqa: E731 - in the order shown
        "return [...document.querySelectorAll('#wb-items-grid .ag-floating-bottom .ag-row')]"
        ".filter(r => r.querySelector(\"[col-id='item']\"))"
        ".map(r => [r.getBoundingClientRect().top, r.querySelector(\"[col-id='item']\").innerText.trim()])"))]
    assert pinned()[0] == "Personnel · Subtotal" and pinned()[-1] == "Total"
    gaps = [c.text for c in duo.driver.find_elements(By.CSS_SELECTOR, "#wb-items-grid .ag-center-cols-container "
                                                                        "[col-id='gap']")]
    assert gaps and all(g == "—" or g.endswith(" pp") for g in gaps)
    # at a desk screen's width the English grids show every column without a sideways scroll
    for grid in ("wb-departments-grid", "wb-items-grid"):
        wide, room = duo.driver.execute_script(
            f"const v = document.querySelector('#{grid} .ag-center-cols-viewport'); return [v.scrollWidth, v.clientWidth]")
        assert wide <= room + 1, (grid, wide, room)
    ahead = [c.text for c in duo.driver.find_elements(By.CSS_SELECTOR, "#wb-departments-grid .ag-center-cols-container "
                                                                         "[col-id='items_ahead']")]
    assert ahead and all(re.fullmatch(r"\d+ / \d+", a) for a in ahead), ahead
    # a click on a header sorts the rows; the subtotals and the total stay where they are
    first = lambda: duo.driver.find_element(  # noqa: E731
        By.CSS_SELECTOR, "#wb-items-grid .ag-center-cols-container .ag-row[row-index='0'] [col-id='budget_year']").text
    before = first()
    duo.driver.find_element(By.CSS_SELECTOR, "#wb-items-grid .ag-header-cell[col-id='budget_year'] "
                                             ".ag-header-cell-label").click()
    duo.driver.find_element(By.CSS_SELECTOR, "#wb-items-grid .ag-header-cell[col-id='budget_year'] "
                                             ".ag-header-cell-label").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(duo.driver, 5).until(lambda _d: first() != before)
    assert pinned()[-1] == "Total"
