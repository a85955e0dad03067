"""Revenue drill-down (收入分析): every level adds up to the one above for every stream (on every
backend), the structure adds up to the total, the per-case / per-bed-day / per-visit figures
match pandas over the raw rows, scope holds by address, by callback and in exports, and a
browser walks from a department down to the cases and back up by the breadcrumbs."""
from __future__ import annotations

import importlib
from datetime import date

import pandas as pd
import pytest
from flask import Flask

from data_layer.periods import Period
from data_layer.queries.kpis import indicator_values
from data_layer.queries.revenue import (
    EXPORT_CAP,
    PARTS,
    STREAMS,
    UNASSIGNED,
    DrillPath,
    case_rows,
    combine,
    day_rows,
    members,
    row_counts,
    totals,
)
from data_layer.registry import Level
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import PASSWORD, texts
from .helpers import click, grid_props, post_callback, serve, sign_in_browser, signed_in, workspace_export

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))
MINE = Scope.departments(["D001", "D002", "D003"])


def _total(wh: Warehouse, scope: Scope, stream: str, path: DrillPath, period: Period = YTD) -> pd.DataFrame:
    return combine(members(wh, scope, period, stream, path), stream)


def _rows_total(wh: Warehouse, scope: Scope, stream: str, path: DrillPath) -> float:
    """Σ over the full row lists (cases and doctor-days) of a doctor."""
    cases = case_rows(wh, scope, YTD, stream, path, EXPORT_CAP)
    days = day_rows(wh, scope, YTD, stream, path, EXPORT_CAP)
    n_cases, n_days = row_counts(wh, scope, YTD, stream, path)
    assert (len(cases), len(days)) == (n_cases, n_days)
    ip_col = "charge_bed" if stream == "bed" else "charge_total"
    return float(cases[ip_col].sum()) + float(days["revenue_total"].sum())


@pytest.mark.parametrize("stream", STREAMS)
def test_every_level_adds_up_to_the_one_above(any_url: str, stream: str) -> None:
    """All my departments = Σ departments; department = Σ groups = Σ doctors = Σ rows;
    department's inpatient part = Σ wards = Σ their doctors. On DuckDB, SQLite, PostgreSQL, MariaDB."""
    wh = Warehouse(any_url)
    try:
        depts = _total(wh, MINE, stream, DrillPath())
        assert set(depts["key"]) <= {"D001", "D002", "D003"} and len(depts) == 3
        d001 = depts.set_index("key").loc["D001"]
        groups = _total(wh, MINE, stream, DrillPath("D001"))
        assert groups["total"].sum() == pytest.approx(d001["total"], abs=0.05)
        assert UNASSIGNED in set(groups["key"]) or stream in ("inpatient", "bed")  # days without a doctor
        doctors_sum = rows_sum = 0.0
        for g in groups["key"]:
            doctors = _total(wh, MINE, stream, DrillPath("D001", group=g))
            assert doctors["total"].sum() == pytest.approx(groups.set_index("key").loc[g, "total"], abs=0.05)
            doctors_sum += doctors["total"].sum()
            for doc in doctors["key"]:
                got = _rows_total(wh, MINE, stream, DrillPath("D001", group=g, doctor=doc))
                assert got == pytest.approx(doctors.set_index("key").loc[doc, "total"], abs=0.05), (g, doc)
                rows_sum += got
        assert doctors_sum == pytest.approx(d001["total"], abs=0.05)
        assert rows_sum == pytest.approx(d001["total"], abs=0.05)
        if stream == "outpatient":  # wards have no outpatient revenue
            assert _total(wh, MINE, stream, DrillPath("D001", "ward")).empty
            return
        wards = _total(wh, MINE, stream, DrillPath("D001", "ward"))
        assert wards["total"].sum() == pytest.approx(d001["ip_value"], abs=0.05)
        for w in wards["key"]:
            doctors = _total(wh, MINE, stream, DrillPath("D001", "ward", ward=w))
            assert doctors["total"].sum() == pytest.approx(wards.set_index("key").loc[w, "total"], abs=0.05)
    finally:
        wh.engine.dispose()


@pytest.fixture(scope="module")
def holes_url(demo_data, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small warehouse with some of D001's cases lacking a group, or a group and a doctor."""
    from data_layer.demo import write_warehouse
    from data_layer.engine import make_engine

    tables = dict(demo_data.tables)
    cases = tables["fact_inpatient_case"].copy()
    d001 = cases.index[cases["dept_id"] == "D001"]
    cases.loc[d001[::7], "group_id"] = None
    cases.loc[d001[::11], ["group_id", "doctor_id"]] = None
    tables["fact_inpatient_case"] = cases
    url = f"sqlite:///{tmp_path_factory.mktemp('holes') / 'holes.sqlite'}"
    engine = make_engine(url)
    write_warehouse(engine, tables, progress=False)
    engine.dispose()
    return url


@pytest.mark.parametrize("stream", STREAMS)
def test_unassigned_cases_keep_every_level_adding_up(holes_url: str, stream: str, demo_data) -> None:
    wh = Warehouse(holes_url)
    try:
        dept = _total(wh, MINE, stream, DrillPath()).set_index("key").loc["D001", "total"]
        groups = _total(wh, MINE, stream, DrillPath("D001")).set_index("key")
        assert UNASSIGNED in groups.index and groups["total"].sum() == pytest.approx(dept, abs=0.05)
        for g in groups.index:
            doctors = _total(wh, MINE, stream, DrillPath("D001", group=g)).set_index("key")
            assert doctors["total"].sum() == pytest.approx(groups.loc[g, "total"], abs=0.05)
            for doc in doctors.index:
                got = _rows_total(wh, MINE, stream, DrillPath("D001", group=g, doctor=doc))
                assert got == pytest.approx(doctors.loc[doc, "total"], abs=0.05)
        if stream != "outpatient":
            un = _total(wh, MINE, stream, DrillPath("D001", group=UNASSIGNED)).set_index("key")
            assert UNASSIGNED in un.index  # cases without a doctor either
            wards = _total(wh, MINE, stream, DrillPath("D001", "ward"))
            for w in wards["key"]:
                doctors = _total(wh, MINE, stream, DrillPath("D001", "ward", ward=w))
                assert UNASSIGNED in set(doctors["key"])
                assert doctors["total"].sum() == pytest.approx(wards.set_index("key").loc[w, "total"], abs=0.05)
    finally:
        wh.engine.dispose()


@pytest.mark.parametrize("stream", STREAMS)
def test_structure_parts_add_up_to_the_total(wh: Warehouse, stream: str) -> None:
    for path in (DrillPath(), DrillPath("D001"), DrillPath("D002", group=UNASSIGNED), DrillPath("D001", "ward")):
        df = _total(wh, MINE, stream, path)
        assert df[list(PARTS)].sum(axis=1).to_numpy() == pytest.approx(df["total"].to_numpy(), abs=0.05)
        if stream == "bed":
            assert (df[[p for p in PARTS if p != "bed"]] == 0).all().all()
        if stream == "outpatient":
            assert (df[["surgery", "nursing", "bed"]] == 0).all().all()


def _raw(demo_data, name: str, col: str) -> pd.DataFrame:
    df = demo_data.tables[name]
    day = pd.to_datetime(df[col]).dt.date
    return df[(day >= YTD.start) & (day <= YTD.end)]


def test_normalised_figures_match_pandas_over_the_raw_rows(wh: Warehouse, demo_data) -> None:
    cases = _raw(demo_data, "fact_inpatient_case", "discharge_date")
    days = _raw(demo_data, "fact_outpatient_daily", "date")
    doctors = demo_data.tables["dim_doctor"]
    c = cases[cases["dept_id"] == "D001"]
    d = days[days["dept_id"] == "D001"]
    whole = combine(totals(members(wh, MINE, YTD, "all", DrillPath("D001"))).to_frame().T, "all").iloc[0]
    assert whole["per_case"] == pytest.approx(c["charge_total"].sum() / len(c), rel=1e-9)
    assert whole["per_bed_day"] == pytest.approx(c["charge_total"].sum() / c["los_days"].sum(), rel=1e-9)
    assert whole["per_visit"] == pytest.approx(d["revenue_total"].sum() / d["visits"].sum(), rel=1e-9)
    assert whole["drug"] == pytest.approx(c["charge_drug"].sum() + d["revenue_drug"].sum(), abs=0.05)
    bed = combine(totals(members(wh, MINE, YTD, "bed", DrillPath("D001"))).to_frame().T, "bed").iloc[0]
    assert bed["per_bed_day"] == pytest.approx(c["charge_bed"].sum() / c["los_days"].sum(), rel=1e-9)
    # the registry's own figures for the department agree
    reg = indicator_values(wh, MINE, ("inpatient_revenue", "outpatient_revenue", "charge_per_discharge",
                                      "charge_per_visit", "bed_revenue"), YTD, Level.department,
                           Filters(department=("D001",))).set_index("indicator")["value"]
    assert whole["ip_value"] == pytest.approx(reg["inpatient_revenue"], abs=0.05)
    assert whole["op_value"] == pytest.approx(reg["outpatient_revenue"], abs=0.05)
    assert whole["per_case"] == pytest.approx(reg["charge_per_discharge"], rel=1e-9)
    assert whole["per_visit"] == pytest.approx(reg["charge_per_visit"], rel=1e-9)
    assert bed["total"] == pytest.approx(reg["bed_revenue"], abs=0.05)
    # per group: inpatient by the case's group, outpatient by the doctor's group
    g = sorted(c["group_id"].dropna().unique())[0]
    got = _total(wh, MINE, "all", DrillPath("D001")).set_index("key").loc[g]
    cg = c[c["group_id"] == g]
    dg = d[d["doctor_id"].isin(doctors[doctors["group_id"] == g]["doctor_id"])]
    assert got["per_case"] == pytest.approx(cg["charge_total"].sum() / len(cg), rel=1e-9)
    assert got["per_visit"] == pytest.approx(dg["revenue_total"].sum() / dg["visits"].sum(), rel=1e-9)
    # per doctor
    doc = cg["doctor_id"].value_counts().index[0]
    got = _total(wh, MINE, "inpatient", DrillPath("D001", group=g)).set_index("key").loc[doc]
    cd = cg[cg["doctor_id"] == doc]
    assert (got["cases"], got["bed_days"]) == (len(cd), cd["los_days"].sum())
    assert got["per_case"] == pytest.approx(cd["charge_total"].sum() / len(cd), rel=1e-9)
    # unassigned: cases without a group, outpatient days without a doctor or a grouped doctor
    un = _total(wh, MINE, "all", DrillPath("D001")).set_index("key").loc[UNASSIGNED]
    grouped = set(doctors[doctors["group_id"].notna()]["doctor_id"])
    expected = c[c["group_id"].isna()]["charge_total"].sum() + d[~d["doctor_id"].isin(grouped)]["revenue_total"].sum()
    assert un["total"] == pytest.approx(expected, abs=0.05)


def test_case_list_is_capped_biggest_first_and_counts_them_all(wh: Warehouse) -> None:
    path = DrillPath("D001", group=UNASSIGNED, doctor=UNASSIGNED)
    big = DrillPath("D001")  # the whole department as a place for the row functions
    top = case_rows(wh, MINE, YTD, "inpatient", big, 50)
    assert len(top) == 50 and top["charge_total"].is_monotonic_decreasing
    n, _ = row_counts(wh, MINE, YTD, "inpatient", big)
    assert n > 50
    beds = case_rows(wh, MINE, YTD, "bed", big, 20)
    assert beds["charge_bed"].is_monotonic_decreasing
    assert row_counts(wh, MINE, YTD, "outpatient", path)[0] == 0  # the outpatient stream reads no cases


def test_a_forged_path_is_refused() -> None:
    from data_layer.errors import UserError

    for bad in (dict(ward="W1", group="G1"), dict(doctor="X"), dict(by="drg"), dict(ward=UNASSIGNED, by="ward")):
        with pytest.raises(UserError):
            DrillPath("D001", **bad)
    with pytest.raises(UserError):
        DrillPath(None, group="G1")


def test_the_drill_state_reads_and_writes_the_address() -> None:
    """The address parses to a state and the state writes the same address back; forged or missing
    values fall back to the defaults; a crumb cuts the path, a click goes one level down."""
    from data_layer.queries.drill_path import DrillState

    q = "?period=2026-10&stream=inpatient&dept=D001&by=group&group=G0001&doctor=DR00012"
    s = DrillState.parse(dict(p.split("=") for p in q[1:].split("&")))
    assert s == DrillState("2026-10", "inpatient", "D001", "group", None, "G0001", "DR00012")
    assert s.query_string() == q and s.path == DrillPath("D001", "group", None, "G0001", "DR00012")
    assert DrillState.parse(s.as_dict()) == s and DrillState.exact(s.as_dict())
    assert s.up_to("member").query_string() == "?period=2026-10&stream=inpatient&dept=D001&by=group&group=G0001"
    assert s.up_to("dept").query_string() == "?period=2026-10&stream=inpatient&dept=D001&by=group"
    assert s.up_to("top").query_string() == "?period=2026-10&stream=inpatient"
    assert DrillState(dept="D001").down("ward", "W01").query_string() == "?period=ytd&stream=all&dept=D001&by=ward&ward=W01"
    assert DrillState().down("department", "D002").dept == "D002"
    # another period or stream keeps the path; another branch goes back to the department
    assert s.with_choice("ytd", "bed", "group").up_to("doctor") == s.with_choice("ytd", "bed", None)
    assert s.with_choice("ytd", "bed", "group").doctor == "DR00012"
    assert s.with_choice(None, None, "ward") == DrillState("2026-10", "inpatient", "D001", "ward")
    # the address is never trusted: junk becomes the default, an over-long id is dropped
    junk = DrillState.parse({"period": "'; drop", "stream": "all; x", "dept": "D" * 65, "by": "drg", "group": 7})
    assert junk == DrillState() and not DrillState.exact({"period": "'; drop", "stream": "all"})
    assert not DrillState.exact(None) and DrillState.parse(None) == DrillState()
    assert DrillState.parse({"ward": "W01", "dept": "D001"}).by == "ward"  # a ward puts the path on its branch
    from data_layer.errors import UserError

    with pytest.raises(UserError):  # the path refuses a doctor without a group or ward
        _ = DrillState(dept="D001", doctor="DR1").path


# ---- the page, through the real app ------------------------------------------------------------------

def _state(**kw) -> dict:
    base = {"period": "ytd", "stream": "all", "dept": None, "by": "group", "ward": None, "group": None, "doctor": None}
    return {**base, **kw}


def _render(server: Flask, client, state: dict) -> tuple[int, dict]:
    return post_callback(server, client, "wsr-crumbs.children",
                         [{"id": "wsr-state", "property": "data", "value": state}])


def _ids(demo_data, table: str, col: str, dept: str) -> list[str]:
    df = demo_data.tables[table]
    return sorted(df[df["dept_id"] == dept][col])


def test_the_page_renders_each_level_and_keeps_the_filters(server: Flask, demo_data) -> None:
    client = signed_in(server, "asst1")
    group = _ids(demo_data, "dim_medical_group", "group_id", "D001")[0]
    doctors = demo_data.tables["dim_doctor"]
    doctor = sorted(doctors[doctors["group_id"] == group]["doctor_id"])[0]
    status, out = _render(server, client, _state())
    assert status == 200
    assert "Spine" in texts(out["wsr-level.children"]) or "D001" in str(out["wsr-level.children"])
    status, out = _render(server, client, _state(stream="inpatient", dept="D001", group=group, doctor=doctor))
    assert status == 200
    crumbs = str(out["wsr-crumbs.children"])
    for part in ("stream=inpatient", "period=ytd", f"group={group}", "/workspace/revenue?"):
        assert part in crumbs  # every crumb keeps the period and the stream
    assert grid_props(out["wsr-cases.children"])["columnDefs"][0]["field"] == "case_id"  # the case grid
    assert out["ws-sec-revenue-level.style"] == {"display": "none"}
    # the ward branch says it counts inpatient revenue only, and refuses the outpatient stream
    status, out = _render(server, client, _state(dept="D001", by="ward"))
    assert "inpatient revenue only" in texts(out["wsr-message.children"])
    status, out = _render(server, client, _state(stream="outpatient", dept="D001", by="ward"))
    assert "no outpatient revenue" in texts(out["wsr-message.children"]) and out["wsr-level.children"] is None


def test_clicking_a_row_goes_one_level_down_with_the_filters(server: Flask) -> None:
    client = signed_in(server, "asst1")
    state = _state(stream="bed", period="last-month", dept="D001")
    status, out = post_callback(server, client, "_pages_location.search", [
        {"id": {"type": "wsr-level-grid", "index": 0}, "property": "cellClicked",
         "value": {"rowId": "G0001", "colId": "name", "rowIndex": 0, "value": "G0001"}},
        {"id": {"type": "wsr-bars", "index": 0}, "property": "clickData", "value": None}],
        [{"id": "wsr-state", "property": "data", "value": state}])
    assert status == 200
    assert out["_pages_location.search"] == "?period=last-month&stream=bed&dept=D001&by=group&group=G0001"


def test_asst1_cannot_open_another_department_by_address(server: Flask, as_user, demo_data) -> None:
    page = importlib.import_module("pages.workspace.revenue")
    d004_doctor = _ids(demo_data, "dim_doctor", "doctor_id", "D004")[0]
    with as_user("asst1"):
        assert "Not allowed" in texts(page.layout(dept="D004"))
        assert "Not allowed" in texts(page.layout(dept="D004", group="G0001", doctor=d004_doctor))
        assert "Not allowed" not in texts(page.layout(dept="D001"))


def test_asst1_cannot_reach_d004_by_callback(server: Flask, demo_data) -> None:
    client = signed_in(server, "asst1")
    d004_group = _ids(demo_data, "dim_medical_group", "group_id", "D004")[0]
    d004_doctor = _ids(demo_data, "dim_doctor", "doctor_id", "D004")[0]
    d004_ward = _ids(demo_data, "dim_ward", "ward_id", "D004")[0]
    assert _render(server, client, _state(dept="D004"))[0] == 403
    assert _render(server, client, _state(dept="D004", group=d004_group, doctor=d004_doctor))[0] == 403
    # D004's ids under a department of mine: a clear message and no rows
    for forged, what in ((_state(dept="D001", group=d004_group), "medical group"),
                         (_state(dept="D001", by="ward", ward=d004_ward), "ward"),
                         (_state(dept="D001", group=UNASSIGNED, doctor=d004_doctor), "doctor")):
        status, out = _render(server, client, forged)
        assert status == 200
        msg = texts(out["wsr-message.children"])
        assert what in msg and "does not belong" in msg
        assert out["wsr-cases.children"] is None and out["wsr-level.children"] is None
    status, out = _render(server, client, _state(stream="forged"))
    assert "not valid" in texts(out["wsr-message.children"])
    for fmt in ("xlsx", "csv"):
        status, df, _ = workspace_export(server, client, "revenue", "cases", fmt,
                                         [{"id": "wsr-state", "property": "data", "value": _state(dept="D004")}])
        assert status == 403 and df is None


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_are_limited_to_the_scope(server: Flask, demo_data, fmt: str) -> None:
    client = signed_in(server, "asst1")
    state = [{"id": "wsr-state", "property": "data", "value": _state()}]
    status, df, name = workspace_export(server, client, "revenue", "level", fmt, state)
    assert status == 200 and name.endswith(f".{fmt}")
    assert set(df["Id"]) == {"D001", "D002", "D003"}
    cases = _raw(demo_data, "fact_inpatient_case", "discharge_date")
    mine = cases[cases["dept_id"] == "D003"]
    # the whole department's case list (more than the on-screen cap), all of them D003's
    state = [{"id": "wsr-state", "property": "data", "value": _state(stream="inpatient", dept="D003")}]
    status, df, _ = workspace_export(server, client, "revenue", "cases", fmt, state)
    assert status == 200 and len(df) == len(mine) > 500
    assert set(df["Case"]) == set(mine["case_id"])
    assert df["Total charge"].sum() == pytest.approx(mine["charge_total"].sum(), abs=0.5)
    status, df, _ = workspace_export(server, client, "revenue", "structure", fmt, state)
    assert df["This period"].sum() == pytest.approx(mine["charge_total"].sum(), abs=0.5)
    days = _raw(demo_data, "fact_outpatient_daily", "date")
    state = [{"id": "wsr-state", "property": "data", "value": _state(stream="outpatient", dept="D002")}]
    status, df, _ = workspace_export(server, client, "revenue", "days", fmt, state)
    deps = demo_data.tables["dim_department"].set_index("dept_id")
    assert len(df) == (days["dept_id"] == "D002").sum() and set(df["Department"]) == {deps.loc["D002", "name_en"]}


def test_chinese_export_headers(server: Flask) -> None:
    client = signed_in(server, "asst1", "zh")
    state = [{"id": "wsr-state", "property": "data", "value": _state(dept="D001")}]
    status, df, _ = workspace_export(server, client, "revenue", "level", "csv", state)
    assert status == 200 and {"编码", "名称", "收入", "同比 (%)", "例均", "次均（门诊）"} <= set(df.columns)


LEVEL_ROWS = ".wsr-level-grid-table .ag-pinned-left-cols-container .ag-row"  # the level's rows, by their names


@pytest.mark.browser
def test_browser_walks_down_to_the_cases_and_back_up_by_the_breadcrumbs(dash_duo, server) -> None:
    serve(dash_duo, server)
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element(".ws-tabs", timeout=30)
    dash_duo.driver.get(dash_duo.server.url + "/workspace/revenue?period=ytd&stream=inpatient&dept=D001")
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By medical group", timeout=30)
    click(dash_duo, f"{LEVEL_ROWS}[row-index='0'] .ag-cell")  # the biggest group
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By doctor", timeout=30)
    assert "group=" in dash_duo.driver.current_url and "stream=inpatient" in dash_duo.driver.current_url
    click(dash_duo, f"{LEVEL_ROWS}[row-index='0'] .ag-cell")  # the biggest doctor
    dash_duo.wait_for_element(".wsr-cases-grid .ag-row", timeout=30)
    assert "doctor=" in dash_duo.driver.current_url
    # back up: to the group (doctors), to the department (groups), to all my departments
    click(dash_duo, "#wsr-crumb-member")
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By doctor", timeout=30)
    assert "doctor=" not in dash_duo.driver.current_url and "stream=inpatient" in dash_duo.driver.current_url
    click(dash_duo, "#wsr-crumb-dept")
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By medical group", timeout=30)
    click(dash_duo, "#wsr-crumb-top")
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By department", timeout=30)
    assert "dept=" not in dash_duo.driver.current_url
    dash_duo.driver.back()  # the back button returns to the department
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By medical group", timeout=30)
    assert [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"] == []


# ---- the grid, the case detail and the largest doctor ---------------------------------------------

def _largest_doctor(demo_data, depts: tuple[str, ...] = ("D001", "D002", "D003")) -> tuple[str, str, str, int]:
    """(department, group, doctor, cases this year) of the doctor with the most discharges this year
    among `depts`, counted over the raw rows."""
    cases = _raw(demo_data, "fact_inpatient_case", "discharge_date")
    mine = cases[cases["dept_id"].isin(depts) & (cases["discharge_date"] >= pd.Timestamp(YTD.start))
                 & cases["doctor_id"].notna() & cases["group_id"].notna()]
    top = mine.groupby(["dept_id", "group_id", "doctor_id"]).size().sort_values(ascending=False, kind="stable")
    (dept, group, doctor), n = top.index[0], int(top.iloc[0])
    return dept, group, doctor, n


def test_grid_columns_format_sort_and_filter_in_the_readers_language() -> None:
    from components.grid import Column, column_def, data_grid, grid_height, locale_text

    df = pd.DataFrame({"id": ["a", "b"], "n": [1200, float("nan")], "money": [12345.678, 2.0], "share": [0.1234, None],
                       "day": [date(2026, 3, 1), None]})
    cols = [Column("id", "编码", pinned=True), Column("n", "数", "integer"), Column("money", "金额", "money", compact=True),
            Column("share", "占比", "percent"), Column("day", "日期", "date")]
    grid = data_grid(df, cols, "zh", "g", row_id="id")
    defs = {d["field"]: d for d in grid.columnDefs}
    assert defs["id"]["pinned"] == "left" and defs["id"]["filter"] == "agTextColumnFilter"
    assert defs["n"]["filter"] == "agNumberColumnFilter" and "'integer', 'zh', 0" in defs["n"]["valueFormatter"]["function"]
    assert "'money', 'zh', 2, true" in defs["money"]["valueFormatter"]["function"]
    assert "'percent', 'zh', 1" in defs["share"]["valueFormatter"]["function"]
    assert defs["day"]["filter"] == "agDateColumnFilter"
    assert all(d["sortable"] for d in grid.columnDefs)
    # raw values travel (they sort and filter as numbers); NaN and missing dates are null, dates ISO
    assert grid.rowData == [{"id": "a", "n": 1200, "money": 12345.678, "share": 0.1234, "day": "2026-03-01"},
                            {"id": "b", "n": None, "money": 2.0, "share": None, "day": None}]
    assert grid.getRowId == "params.data.id"
    # the header stays while the rows scroll inside a bounded height, whatever the row count
    assert grid_height(10_000) == grid_height(14) < 600 and grid_height(0) >= grid_height(3)
    # AG Grid's chrome speaks the page's language
    zh, en = locale_text("zh"), locale_text("en")
    assert zh["noRowsToShow"] == "没有数据" and en["noRowsToShow"] == "No rows to show"
    assert grid.dashGridOptions["localeText"] == zh
    ascii_words = [k for k, v in zh.items()  # screen-reader hints may name keys (Alt, Ctrl, Enter)
                   if not k.startswith("aria") and any(c.isascii() and c.isalpha() for c in v)]
    assert ascii_words == [], f"English left in the Chinese grid chrome: {ascii_words}"
    with pytest.raises(ValueError):
        column_def(Column("x", "x", "yuan"), "en")  # type: ignore[arg-type]


def test_case_detail_comes_from_the_raw_row_and_the_groups_average(wh: Warehouse, demo_data) -> None:
    from data_layer.queries.revenue import case_detail, drg_peers

    dept, group, doctor, _ = _largest_doctor(demo_data)
    path = DrillPath(dept, group=group, doctor=doctor)
    cases = case_rows(wh, MINE, YTD, "all", path)
    case_id = cases.iloc[0]["case_id"]
    got = case_detail(wh, MINE, YTD, path, case_id)
    raw = _raw(demo_data, "fact_inpatient_case", "discharge_date").set_index("case_id").loc[case_id]
    assert len(got) == 1 and got.iloc[0]["doctor_id"] == doctor and got.iloc[0]["group_id"] == group
    for col in ("charge_total", "charge_drug", "cost_total", "cost_personnel", "drg_payment"):
        assert got.iloc[0][col] == pytest.approx(float(raw[col]), abs=0.01)
    drg = demo_data.tables["dim_drg"].set_index("drg_code").loc[raw["drg_code"]]
    assert got.iloc[0]["ref_los_days"] == pytest.approx(float(drg["ref_los_days"]))
    peers = drg_peers(wh, MINE, YTD, dept, raw["drg_code"])
    allc = _raw(demo_data, "fact_inpatient_case", "discharge_date")
    same = allc[(allc["dept_id"] == dept) & (allc["drg_code"] == raw["drg_code"])
                & (allc["discharge_date"] >= pd.Timestamp(YTD.start)) & (allc["discharge_date"] <= pd.Timestamp(YTD.end))]
    assert int(peers.iloc[0]["cases"]) == len(same)
    assert peers.iloc[0]["charge_material"] == pytest.approx(same["charge_material"].mean(), abs=0.01)
    # a case of another doctor, another department, or outside the scope does not come back
    other = allc[(allc["dept_id"] == dept) & (allc["doctor_id"] != doctor)].iloc[0]["case_id"]
    assert case_detail(wh, MINE, YTD, path, other).empty
    d004 = allc[allc["dept_id"] == "D004"].iloc[0]
    assert case_detail(wh, MINE, YTD, DrillPath("D004", group=d004["group_id"], doctor=d004["doctor_id"]),
                       d004["case_id"]).empty


def _open_case(server: Flask, client, state: dict, case_id: str) -> tuple[int, dict]:
    return post_callback(server, client, "wsr-case-detail.children",
                         [{"id": {"type": "wsr-cases-grid", "index": 0}, "property": "selectedRows",
                           "value": [{"case_id": case_id}]}],
                         [{"id": "wsr-state", "property": "data", "value": state}])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_largest_doctor_gets_a_grid_and_a_click_opens_the_case(server: Flask, demo_data, lang: str) -> None:
    dept, group, doctor, n = _largest_doctor(demo_data)
    client = signed_in(server, "asst1", lang)
    state = _state(dept=dept, group=group, doctor=doctor)
    status, out = _render(server, client, state)
    assert status == 200
    grid = grid_props(out["wsr-cases.children"])
    assert grid and len(grid["rowData"]) == n  # every case of the doctor, virtualised by the grid
    assert grid["dashGridOptions"]["localeText"]["noRowsToShow"] == ("没有数据" if lang == "zh" else "No rows to show")
    assert "wsr-cases-table" not in str(out["wsr-cases.children"])  # no hand-built table of hundreds of rows
    case_id = grid["rowData"][0]["case_id"]
    status, out = _open_case(server, client, state, case_id)
    assert status == 200
    detail = texts(out["wsr-case-detail.children"])
    assert case_id in detail
    raw = _raw(demo_data, "fact_inpatient_case", "discharge_date").set_index("case_id").loc[case_id]
    assert f"{float(raw['charge_total']):,.2f}" in detail and f"{float(raw['cost_total']):,.2f}" in detail
    assert raw["drg_code"] in detail
    if lang == "zh":
        assert "费用构成" in detail and "Charges" not in detail


@pytest.fixture(scope="module")
def busy_url(demo_data, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small warehouse with every case of this year moved to one doctor of D001: more cases than
    any cap a screen ever had (the grid once showed the first 500, then the first 5,000)."""
    from data_layer.demo import write_warehouse
    from data_layer.engine import make_engine

    tables = dict(demo_data.tables)
    cases = tables["fact_inpatient_case"].copy()
    doctors = tables["dim_doctor"]
    doctor = doctors[doctors["dept_id"] == "D001"].sort_values("doctor_id").iloc[0]
    ward = sorted(tables["dim_ward"].query("dept_id == 'D001'")["ward_id"])[0]
    this_year = cases.index[cases["discharge_date"] >= pd.Timestamp(YTD.start)]
    cases.loc[this_year, ["dept_id", "ward_id", "group_id", "doctor_id"]] = \
        ["D001", ward, doctor["group_id"], doctor["doctor_id"]]
    tables["fact_inpatient_case"] = cases
    url = f"duckdb:///{tmp_path_factory.mktemp('busy') / 'busy.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, tables, progress=False)
    engine.dispose()
    return url


def test_the_case_grid_holds_every_case_of_a_very_busy_doctor(busy_url: str, app_env, demo_data) -> None:
    """All rows travel to the grid (it draws only those in view), not the first 500 or 5,000; the
    count note says so."""
    from app import create_app
    from data_layer.queries.revenue import ROW_CAP

    srv = create_app({**app_env, "WAREHOUSE_URL": busy_url})
    srv.extensions["hospdash"].appdb.create_user("asst1", "asst1", PASSWORD, "assistant", "departments",
                                                 ("D001", "D002", "D003"))
    wh = Warehouse(busy_url)
    doctors = demo_data.tables["dim_doctor"]
    doctor = doctors[doctors["dept_id"] == "D001"].sort_values("doctor_id").iloc[0]
    path = DrillPath("D001", group=doctor["group_id"], doctor=doctor["doctor_id"])
    status, out = _render(srv, signed_in(srv, "asst1"), _state(dept="D001", group=doctor["group_id"],
                                                               doctor=doctor["doctor_id"], period="ytd"))
    assert status == 200
    grid = grid_props(out["wsr-cases.children"])
    per = Period(YTD.start, date(2026, 11, 21))
    n, _ = row_counts(wh, MINE, per, "all", path)
    assert n > max(ROW_CAP, 500)
    assert len(grid["rowData"]) == n and len({r["case_id"] for r in grid["rowData"]}) == n
    charges = [r["charge_total"] for r in grid["rowData"]]
    assert charges == sorted(charges, reverse=True)  # biggest first
    assert f"{n:,}" in texts(out["wsr-cases.children"])
    wh.engine.dispose()


def test_a_forged_case_click_shows_nothing_of_another_place(server: Flask, demo_data) -> None:
    dept, group, doctor, _ = _largest_doctor(demo_data)
    client = signed_in(server, "asst1")
    cases = _raw(demo_data, "fact_inpatient_case", "discharge_date")
    d004 = cases[(cases["dept_id"] == "D004") & (cases["discharge_date"] >= pd.Timestamp(YTD.start))].iloc[0]
    # another department's case under my doctor's page: refused with a message, no figure of it
    status, out = _open_case(server, client, _state(dept=dept, group=group, doctor=doctor), d004["case_id"])
    assert status == 200
    shown = texts(out["wsr-case-detail.children"])
    assert "does not belong" in shown and d004["case_id"] not in shown
    assert f"{float(d004['charge_total']):,.2f}" not in shown
    # the page of the other department itself: the callback refuses
    status, _ = _open_case(server, client, _state(dept="D004", group=d004["group_id"], doctor=d004["doctor_id"]),
                           d004["case_id"])
    assert status == 403


TRACE_BOUND = 12  # no figure on the page draws more traces than this, whatever the number of rows
ROWS_DRAWN = "return document.querySelectorAll('.wsr-cases-grid .ag-center-cols-container .ag-row').length"
TRACES = ("return Array.from(document.querySelectorAll('.js-plotly-plot'))"
          ".filter(p => p.data && p.querySelector('.main-svg')).map(p => p.data.length)")


def _signed_in_browser(dash_duo, server) -> None:
    serve(dash_duo, server)
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element(".ws-tabs", timeout=30)


def _assert_interactive(dash_duo, n_cases: int) -> None:
    """The case grid draws a window of rows, not every case, and every figure has bounded traces."""
    dash_duo.wait_for_element(".wsr-cases-grid .ag-center-cols-container .ag-row", timeout=60)
    drawn = dash_duo.driver.execute_script(ROWS_DRAWN)
    assert 0 < drawn < n_cases and drawn <= 40, (drawn, n_cases)
    dash_duo.wait_for_element("#wsr-structure-chart .main-svg", timeout=60)
    traces = dash_duo.driver.execute_script(TRACES)
    assert traces and max(traces) <= TRACE_BOUND, traces


@pytest.mark.browser
def test_browser_walks_to_the_largest_doctor_and_opens_a_case(dash_duo, server, demo_data) -> None:
    """As an assistant: department → the largest doctor's group → the largest doctor (most cases this
    year); the page is interactive (a window of grid rows, bounded traces) and a click on a case opens
    it; the doctor's address opened directly works the same."""
    dept, group, doctor, n = _largest_doctor(demo_data)
    assert n > 60  # more cases than a grid window, so the row count below proves the virtualisation
    _signed_in_browser(dash_duo, server)
    dash_duo.driver.get(dash_duo.server.url + f"/workspace/revenue?period=ytd&stream=all&dept={dept}")
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By medical group", timeout=30)
    click(dash_duo, f"{LEVEL_ROWS}[row-id='{group}'] .ag-cell")
    dash_duo.wait_for_text_to_equal("#wsr-level-title", "By doctor", timeout=30)
    click(dash_duo, f"{LEVEL_ROWS}[row-id='{doctor}'] .ag-cell")
    _assert_interactive(dash_duo, n)
    assert f"doctor={doctor}" in dash_duo.driver.current_url
    count = dash_duo.find_element("#wsr-count-all").text
    assert f"{n:,}" in count  # every case is in the grid, though only a window of rows is drawn
    # a click on a case selects it and opens its detail below the list
    click(dash_duo, ".wsr-cases-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell[col-id='los_days']")
    dash_duo.wait_for_element("#wsr-case-title", timeout=30)
    first = dash_duo.find_element(".wsr-cases-grid .ag-pinned-left-cols-container .ag-row[row-index='0']").text.strip()
    assert first and first in dash_duo.find_element("#wsr-case-title").text
    assert dash_duo.find_element("#wsr-case-charges") and dash_duo.find_element("#wsr-case-costs")
    # from the keyboard: down to the next case, Space opens it
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    second = dash_duo.find_element(".wsr-cases-grid .ag-pinned-left-cols-container .ag-row[row-index='1']").text.strip()
    cell = dash_duo.find_element(".wsr-cases-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell[col-id='los_days']")
    dash_duo.driver.execute_script("arguments[0].focus()", cell)
    ActionChains(dash_duo.driver).send_keys(Keys.ARROW_DOWN).pause(0.3).send_keys(Keys.SPACE).perform()
    dash_duo.wait_for_contains_text("#wsr-case-title", second, timeout=30)
    # sorting by a header keeps the page live: the grid re-orders its rows by the raw numbers
    click(dash_duo, ".wsr-cases-grid .ag-header-cell[col-id='los_days'] .ag-header-cell-label")
    dash_duo.wait_for_element(".wsr-cases-grid .ag-header-cell[col-id='los_days'][aria-sort='ascending']", timeout=10)
    stays = [int(e.text.replace(",", "")) for e in dash_duo.find_elements(
        ".wsr-cases-grid .ag-center-cols-container .ag-row .ag-cell[col-id='los_days']")]
    top = dash_duo.find_element(".wsr-cases-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell[col-id='los_days']")
    assert stays and int(top.text.replace(",", "")) == min(stays)  # the shortest stay comes first
    # the deep link: the doctor's address opened directly
    dash_duo.driver.get(dash_duo.server.url + f"/workspace/revenue?period=ytd&stream=all&dept={dept}&by=group"
                        f"&group={group}&doctor={doctor}")
    _assert_interactive(dash_duo, n)
    assert [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"] == []
