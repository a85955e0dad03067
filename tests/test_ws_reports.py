"""Workspace portfolio and monthly operations reports: figures against the raw rows, colour
rules, report generation with and without alerts, the draft → published workflow, printing,
exports, and scope."""
from __future__ import annotations

import base64
import io
from datetime import date

import pandas as pd
import pytest
from flask import Flask
from selenium.webdriver.common.action_chains import ActionChains
from sqlalchemy import text

from appdb.alerts import add_note, get_alert, save_scan, transition
from appdb.reports import MAX_TEXT, create_draft, get_report, list_reports, month_alerts, publish, save_findings
from appdb.store import CodedError
from data_layer.alerts.detect import Alert
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.kpis import compare
from data_layer.queries.portfolio import PORTFOLIO, history_score, portfolio
from data_layer.queries.report import COMPONENTS, check_month, generate
from data_layer.registry import Level
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .helpers import click, post_callback, read_table_workbook, serve, sign_in_browser, signed_in, workspace_export

MINE = Scope.departments(["D001", "D002", "D003"])
REPORT_BUTTON = {"type": "report-export", "table": "report", "fmt": "xlsx"}
OCTOBER = date(2026, 10, 1)
YTD = Period(date(2026, 1, 1), date(2026, 11, 21))


def _raw(wh: Warehouse, sql: str) -> pd.DataFrame:
    with wh.engine.connect() as conn:
        return pd.read_sql(text(sql), conn)


# ------------------------------------------------------------------------------------------ portfolio
def test_portfolio_is_the_departments_in_scope_with_the_registry_figures(wh: Warehouse) -> None:
    df = portfolio(wh, MINE, YTD)
    assert set(df["dept_id"]) == {"D001", "D002", "D003"}
    assert set(df["indicator"]) <= set(PORTFOLIO) and len(df) == 3 * len(set(df["indicator"]))
    ref = compare(wh, MINE, PORTFOLIO, YTD, Level.department).set_index(["key", "indicator"])
    for r in df.itertuples():
        assert r.value == pytest.approx(ref.loc[(r.dept_id, r.indicator), "value"], nan_ok=True)
    raw = _raw(wh, "select count(*) as n from fact_inpatient_case where dept_id = 'D002' "
                   "and discharge_date between '2026-01-01' and '2026-11-21'")
    got = df[(df["dept_id"] == "D002") & (df["indicator"] == "discharges")]["value"].iloc[0]
    assert got == raw["n"].iloc[0]


def test_portfolio_colours_by_target_year_to_date_and_by_history_otherwise(wh: Warehouse) -> None:
    ytd = portfolio(wh, MINE, YTD)
    targeted = ytd[ytd["basis"] == "target"]
    assert not targeted.empty, "the demo sets targets for its departments"
    assert set(targeted["score"]) <= {1, -1, -2} and set(targeted["status"]) <= {"on_track", "at_risk", "off_track"}
    month = portfolio(wh, MINE, Period(date(2026, 10, 1), date(2026, 10, 31), "month"))
    assert (month["basis"] == "history").all() and (month["status"] == "").all()
    for r in month.itertuples():
        expected = history_score(r.indicator, r.yoy, r.yoy_diff, r.value)
        assert r.score == (min(expected, 0) if r.range == "warn" else expected)


@pytest.mark.parametrize(("code", "yoy", "diff", "score"), [
    ("discharges", 0.015, 0.0, 0), ("discharges", 0.05, 0.0, 1), ("discharges", 0.12, 0.0, 2),
    ("discharges", -0.05, 0.0, -1), ("discharges", -0.2, 0.0, -2),
    ("alos", 0.05, 0.0, -1), ("alos", -0.12, 0.0, 2),  # lower is better
    ("drug_share", 0.5, 0.004, 0), ("drug_share", 0.5, 0.01, -1), ("drug_share", -0.5, -0.03, 2),  # points
    ("emergency_visits", 0.5, 0.0, 0),  # no better direction
    ("discharges", float("nan"), float("nan"), 0),
])
def test_history_score_rules(code: str, yoy: float, diff: float, score: int) -> None:
    assert history_score(code, yoy, diff) == score


def test_portfolio_export_is_scoped_in_both_formats(server: Flask) -> None:
    for user, expect in (("asst1", {"D001", "D002", "D003"}), ("dir1", {"D001"})):
        client = signed_in(server, user)
        for fmt in ("xlsx", "csv"):
            status, df, name = workspace_export(server, client, "portfolio", "portfolio", fmt,
                                                [{"id": "ws-period", "property": "value", "value": "ytd"}])
            assert status == 200 and name.endswith(fmt)
            assert set(df["Department code"]) == expect
    status, df, _ = workspace_export(server, signed_in(server, "lead2"), "portfolio", "portfolio", "xlsx",
                                     [{"id": "ws-period", "property": "value", "value": "ytd"}])
    campus = {d for d in df["Department code"]}
    depts = _raw(server.extensions["hospdash"].warehouse, "select dept_id, campus_id, kind from dim_department")
    assert campus == set(depts[(depts["campus_id"] == "C2") & (depts["kind"] == "clinical")]["dept_id"])


def test_a_forged_export_table_or_period_is_refused(server: Flask) -> None:
    client = signed_in(server, "asst1")
    status, _df, _ = workspace_export(server, client, "portfolio", "users", "xlsx",
                                      [{"id": "ws-period", "property": "value", "value": "ytd"}])
    assert status == 200 and _df is None  # a clear message, no file
    status, _df, _ = workspace_export(server, client, "portfolio", "portfolio", "xlsx",
                                      [{"id": "ws-period", "property": "value", "value": "'; drop table x"}])
    assert _df is None


def test_portfolio_page_renders_for_each_data_role(server: Flask) -> None:
    for user in ("asst1", "dir1", "lead1"):
        client = signed_in(server, user)
        status, out = post_callback(server, client, "po-table.children",
                                    [{"id": "ws-period", "property": "value", "value": "last-month"}],
                                    [{"id": "ws-dept", "property": "value", "value": "D001"}])
        assert status == 200 and "po-grid" in str(out["po-table.children"])
    assert signed_in(server, "admin1").get("/workspace").status_code in (200, 302, 403)


# ------------------------------------------------------------------------------------------ generation
def test_report_figures_match_the_raw_rows(wh: Warehouse) -> None:
    c = generate(wh, MINE, "D001", OCTOBER)
    key = {k["indicator"]: k for k in c["key"]}
    raw = _raw(wh, "select count(*) as n, sum(charge_total) as ip, sum(los_days) as los from fact_inpatient_case "
                   "where dept_id = 'D001' and discharge_date between '2026-10-01' and '2026-10-31'")
    op = _raw(wh, "select sum(visits) as v, sum(revenue_total) as r from fact_outpatient_daily "
                  "where dept_id = 'D001' and date between '2026-10-01' and '2026-10-31'")
    assert key["discharges"]["value"] == raw["n"][0]
    assert key["alos"]["value"] == pytest.approx(raw["los"][0] / raw["n"][0])
    assert key["outpatient_visits"]["value"] == op["v"][0]
    assert key["revenue_total"]["value"] == pytest.approx(float(raw["ip"][0]) + float(op["r"][0]))
    # the structure adds up to the medical revenue, and the shares to one
    assert sum(r["amount"] for r in c["structure"]) == pytest.approx(key["revenue_total"]["value"], rel=1e-9)
    assert sum(r["share"] for r in c["structure"]) == pytest.approx(1.0)
    assert [r["component"] for r in c["structure"]] == list(COMPONENTS)
    # the hospital's figure only where it compares
    assert key["discharges"]["hospital"] is None and key["alos"]["hospital"] is not None
    assert len(c["trend"]["revenue_total"]) == 13 and c["trend"]["revenue_total"][-1][0] == "2026-10"
    # costs of a closed month add up to the department's full cost
    full = key["full_cost"]["value"]
    assert c["costs"]["closed"] and sum(r["total"] for r in c["costs"]["rows"]) == pytest.approx(full)


def test_a_month_without_whole_data_is_refused(wh: Warehouse) -> None:
    with pytest.raises(UserError, match="whole month"):
        check_month(wh, date(2026, 11, 1))  # data through 21 November
    with pytest.raises(UserError):
        check_month(wh, date(2019, 1, 1))
    with pytest.raises(UserError):
        generate(wh, MINE, "D001", date(2030, 1, 1))


# ------------------------------------------------------------------------------------------ workflow
def _alert(dept: str, start: date, end: date) -> Alert:
    return Alert("robust_z", "orange", dept, "material_share", start, end, 0.31, 0.24, 0.2, 0.28, 0.29, "test alert")


def test_report_with_and_without_alerts(server: Flask) -> None:
    state = server.extensions["hospdash"]
    db, wh = state.appdb, state.warehouse
    assert month_alerts(db, MINE, "D001", OCTOBER) == []
    save_scan(db, [_alert("D001", date(2026, 10, 1), date(2026, 10, 31)),
                   _alert("D004", date(2026, 10, 1), date(2026, 10, 31))], {"D001": "C1", "D004": "C1"})
    found = month_alerts(db, MINE, "D001", OCTOBER)
    assert len(found) == 1 and found[0]["indicator"] == "material_share"
    from appdb.alerts import open_counts_by_department

    counts = open_counts_by_department(db, MINE, ["D001", "D002"])  # the portfolio's alert column
    assert counts == {"D001": {"yellow": 0, "orange": 1, "red": 0}, "D002": {"yellow": 0, "orange": 0, "red": 0}}
    assert "D004" not in open_counts_by_department(db, MINE)  # outside the scope
    a = db  # record the cause and the action on the alert, as the alerts page does
    rec = transition(a, MINE, found[0]["id"], "acknowledged", "asst1", 1)
    rec = add_note(a, MINE, rec["id"], "cause", "新开展脊柱内固定术，高值耗材增加", "asst1", rec["version"])
    add_note(a, MINE, rec["id"], "action", "已提交耗材专项点评", "asst1", rec["version"])
    found = month_alerts(db, MINE, "D001", OCTOBER)
    assert found[0]["notes"]["cause"] == ["新开展脊柱内固定术，高值耗材增加"]
    assert found[0]["notes"]["action"] == ["已提交耗材专项点评"]
    assert month_alerts(db, MINE, "D001", date(2026, 8, 1)) == []  # another month: none
    assert month_alerts(db, Scope.departments(["D002"]), "D001", OCTOBER) == []  # outside the scope: none

    from pages.workspace.reports import default_findings

    content = generate(wh, MINE, "D001", OCTOBER)
    drafted = default_findings(content, found, "zh")
    assert drafted[0]["cause"] == "新开展脊柱内固定术，高值耗材增加" and "耗占比" in drafted[0]["problem"]
    assert drafted[0]["suggestion"] == "已提交耗材专项点评"
    without = default_findings(content, [], "en")
    assert all(r["cause"] == "" for r in without)


def test_draft_publish_and_revision_workflow(server: Flask) -> None:
    state = server.extensions["hospdash"]
    db, wh = state.appdb, state.warehouse
    content = generate(wh, MINE, "D002", OCTOBER) | {"alerts": []}
    r = create_draft(db, MINE, "D002", "C1", OCTOBER, content, [], "asst1")
    assert (r["status"], r["revision"], r["version"]) == ("draft", 1, 1)
    with pytest.raises(CodedError) as e:
        publish(db, MINE, r["id"], [], 1, "asst1")
    assert e.value.code == "findings_required"
    with pytest.raises(CodedError) as e:
        save_findings(db, MINE, r["id"], [{"problem": "", "cause": "只有原因"}], 1)
    assert e.value.code == "finding_without_problem"
    assert get_report(db, MINE, r["id"])["findings"] == []  # nothing saved half-way
    r = save_findings(db, MINE, r["id"], [{"problem": "出院人次下降", "cause": "病区改造", "suggestion": "跟踪"},
                                          {"problem": " ", "cause": "", "suggestion": ""}], 1)
    assert len(r["findings"]) == 1 and r["version"] == 2
    with pytest.raises(CodedError) as e:  # an edit made on the stale copy
        save_findings(db, MINE, r["id"], [{"problem": "x"}], 1)
    assert e.value.code == "stale"
    again = create_draft(db, MINE, "D002", "C1", OCTOBER, content, [{"problem": "new"}], "asst1")
    assert again["id"] == r["id"] and again["findings"][0]["problem"] == "出院人次下降"  # regenerated, findings kept
    done = publish(db, MINE, r["id"], again["findings"], again["version"], "asst1")
    assert done["status"] == "published" and done["published_by"] == "asst1"
    with pytest.raises(CodedError) as e:
        save_findings(db, MINE, r["id"], [{"problem": "late"}], done["version"])
    assert e.value.code == "report_published"
    second = create_draft(db, MINE, "D002", "C1", OCTOBER, content, [], "asst1")
    assert second["id"] != r["id"] and second["revision"] == 2
    listed = list_reports(db, MINE, dept_ids=["D002"])
    assert list(listed["revision"]) == [2, 1] and list(listed["status"]) == ["draft", "published"]
    assert get_report(db, Scope.departments(["D001"]), r["id"]) is None
    with pytest.raises(CodedError):
        create_draft(db, Scope.departments(["D001"]), "D002", "C1", OCTOBER, content, [], "dir1")


def _generate(server: Flask, client, dept: str, month: str = "2026-10-01"):
    return post_callback(server, client, "report-status.children",
                         [{"id": "report-generate", "property": "n_clicks", "value": 1}],
                         [{"id": "ws-dept", "property": "value", "value": dept},
                          {"id": "report-month", "property": "value", "value": month},
                          {"id": "ws-period", "property": "value", "value": "ytd"}])


def test_generate_export_and_scope_through_the_callbacks(server: Flask) -> None:
    client = signed_in(server, "asst1", "zh")
    status, out = _generate(server, client, "D003")
    assert status == 200 and "report=" in out["_pages_location.search"]
    rid = int(out["_pages_location.search"].split("report=")[1])
    status, out = _generate(server, client, "D003", "2026-11-01")  # not a whole month
    assert status == 200 and "完整" in str(out["report-status.children"])
    assert _generate(server, client, "D004")[0] == 403
    meta = [{"id": "report-meta", "property": "data", "value": {"id": rid, "version": 1}}]
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": REPORT_BUTTON, "property": "n_clicks", "value": 1}], meta)
    assert status == 200
    raw = base64.b64decode(out["ws-download.data"]["content"])
    names = ["概况", "收入结构", "成本构成", "目标进度", "预警", "问题原因建议"]
    assert list(pd.read_excel(io.BytesIO(raw), sheet_name=None)) == names
    book = {name: read_table_workbook(raw, name) for name in names}
    assert "出院人次" in set(book["概况"]["指标"])
    # the same report asked for by a director of another department: refused
    other = signed_in(server, "dir1")
    assert post_callback(server, other, "ws-download.data",
                         [{"id": REPORT_BUTTON, "property": "n_clicks", "value": 1}], meta)[0] == 403
    # saving and publishing through the page
    save = [{"id": "report-findings", "property": "rowData", "value": [{"problem": "p", "cause": "c", "suggestion": "s"}]},
            *meta]
    status, out = post_callback(server, client, "report-meta.data",
                                [{"id": "report-save", "property": "n_clicks", "value": 1}], save)
    assert status == 200 and out["report-meta.data"]["version"] == 2
    status, out = post_callback(server, client, "report-status.children",
                                [{"id": "report-save", "property": "n_clicks", "value": 1}], save)
    assert "他人修改" in str(out["report-status.children"])  # the stale version 1 again
    actions = server.extensions["hospdash"].appdb.audit_entries(username="asst1")
    assert {"report_generate", "export", "report_save"} <= {e["action"] for e in actions}


def test_long_alert_notes_do_not_block_the_months_draft(server: Flask) -> None:
    """Found by a QA walk: two alert notes of 2,000 characters each (the note field takes 4,000) were
    joined into one finding cell longer than a finding may be, and the month's draft could not be made."""
    db = server.extensions["hospdash"].appdb
    save_scan(db, [_alert("D003", date(2026, 10, 1), date(2026, 10, 31))], {"D003": "C1"})
    rec = get_alert(db, MINE, month_alerts(db, MINE, "D003", OCTOBER)[0]["id"])
    rec = add_note(db, MINE, rec["id"], "cause", "因" * 2000, "asst1", rec["version"])
    add_note(db, MINE, rec["id"], "cause", "果" * 4000, "asst1", rec["version"])
    client = signed_in(server, "asst1", "zh")
    status, out = _generate(server, client, "D003")
    assert status == 200 and "report=" in out["_pages_location.search"], out
    rid = int(out["_pages_location.search"].split("report=")[1])
    cause = get_report(db, MINE, rid)["findings"][0]["cause"]
    assert cause == "因" * (MAX_TEXT - 1) + "…"


@pytest.mark.browser
def test_the_report_prints_as_a_clean_document(dash_duo, server) -> None:
    serve(dash_duo, server)
    d = dash_duo.driver
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element("#po-grid", timeout=30)  # assistants land on the portfolio
    d.get(dash_duo.server.url + "/workspace/reports?dept=D001")
    dash_duo.wait_for_element("#report-generate", timeout=20).click()
    dash_duo.wait_for_element("#report-document", timeout=30)
    dash_duo.wait_for_element("#report-findings", timeout=10)
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    hidden = d.execute_script("""return ['.app-navbar', '.ws-tabs', '#ws-sec-rp_make', '#ws-sec-rp_list', '.report-tools']
        .map(s => document.querySelector(s)).filter(e => e && getComputedStyle(e).display !== 'none').length""")
    assert hidden == 0
    width = d.execute_script("return document.querySelector('#report-document').getBoundingClientRect().width")
    assert width > 500
    pdf = base64.b64decode(d.print_page())
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") <= 4
    logs = dash_duo.get_logs()
    assert logs == [], [e["message"][:300] for e in logs]


def test_the_report_tables_are_grids_and_a_list_row_opens_its_report(dash_duo, server) -> None:
    """The report's tables draw as grids with every row (the key figures, the income structure);
    the list of reports is a grid whose row, clicked, opens that report."""
    db = server.extensions["hospdash"].appdb
    content = generate(server.extensions["hospdash"].warehouse, MINE, "D001", OCTOBER)
    content["alerts"] = []
    r = create_draft(db, MINE, "D001", "C1", OCTOBER, content, [], "asst1")
    serve(dash_duo, server)
    d = dash_duo.driver
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element("#po-grid", timeout=30)
    d.get(dash_duo.server.url + "/workspace/reports?dept=D001")
    dash_duo.wait_for_element(f"#report-list .ag-row[row-id='{r['id']}']", timeout=20)
    assert d.find_elements("css selector", "#report-document") == []
    dash_duo.find_element(f"#report-list .ag-center-cols-container .ag-row[row-id='{r['id']}'] .ag-cell").click()
    dash_duo.wait_for_element("#report-document", timeout=30)
    assert f"report={r['id']}" in d.current_url
    dash_duo.wait_for_element("#report-key .ag-row", timeout=20)
    key_rows = d.find_elements("css selector", "#report-key .ag-center-cols-container .ag-row")
    assert len(key_rows) == len(content["key"])  # every key figure drawn: the grid takes its rows' height
    structure = d.find_elements("css selector", "#report-structure .ag-center-cols-container .ag-row")
    assert len(structure) == len(content["structure"])
    first = dash_duo.find_element("#report-key .ag-center-cols-container .ag-row[row-index='0'] [col-id='value']").text
    assert first and first != "—"
    logs = dash_duo.get_logs()
    assert logs == [], [e["message"][:300] for e in logs]


def test_findings_rows_are_added_and_ticked_rows_deleted_through_the_callbacks(server: Flask) -> None:
    """The findings grid (dash-ag-grid, no longer a dash_table.DataTable): a row is added to its
    rowData; the ticked rows (selectedRows) are deleted, each once."""
    client = signed_in(server, "asst1", "zh")
    rows = [{"problem": "a", "cause": "", "suggestion": ""}, {"problem": "", "cause": "", "suggestion": ""},
            {"problem": "", "cause": "", "suggestion": ""}]
    state = [{"id": "report-findings", "property": "rowData", "value": rows}]
    status, out = post_callback(server, client, "report-findings.rowData",
                                [{"id": "report-add-row", "property": "n_clicks", "value": 1}], state)
    assert status == 200 and out["report-findings.rowData"] == rows + [{"problem": "", "cause": "", "suggestion": ""}]
    ticked = [{"id": "report-findings", "property": "selectedRows", "value": [rows[0], rows[1]]}]
    status, out = post_callback(server, client, "report-findings.selectedRows",
                                [{"id": "report-delete-rows", "property": "n_clicks", "value": 1}], state + ticked)
    assert status == 200 and out["report-findings.rowData"] == [rows[2]] and out["report-findings.selectedRows"] == []


@pytest.mark.browser
def test_a_finding_is_edited_in_the_grid_and_saved(dash_duo, server) -> None:
    """The findings editor is a grid: a cell opens a large text editor, the edit reaches the
    grid's rowData and Save stores it; a ticked row is deleted; a published report's grid is
    read only."""
    db = server.extensions["hospdash"].appdb
    content = generate(server.extensions["hospdash"].warehouse, MINE, "D001", OCTOBER)
    content["alerts"] = []
    r = create_draft(db, MINE, "D001", "C1", OCTOBER, content,
                     [{"problem": "旧问题", "cause": "", "suggestion": ""},
                      {"problem": "多余的一行", "cause": "", "suggestion": ""}], "asst1")
    serve(dash_duo, server)
    d = dash_duo.driver
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element("#po-grid", timeout=30)
    d.get(dash_duo.server.url + f"/workspace/reports?dept=D001&report={r['id']}")
    cell = "#report-findings .ag-center-cols-container .ag-row[row-index='{}'] .ag-cell[col-id='{}']"
    dash_duo.wait_for_element(cell.format(0, "cause"), timeout=30)
    ActionChains(d).double_click(dash_duo.find_element(cell.format(0, "cause"))).perform()
    box = dash_duo.wait_for_element(".ag-large-text textarea", timeout=10)
    box.send_keys("病区改造，床位减少")
    click(dash_duo, "#report-title")  # leaving the grid ends the edit (the editor's popup may cover other cells)
    dash_duo.wait_for_text_to_equal(cell.format(0, "cause"), "病区改造，床位减少", timeout=10)
    click(dash_duo, "#report-findings .ag-row[row-index='1'] .ag-selection-checkbox input")
    click(dash_duo, "#report-delete-rows")
    dash_duo.wait_for_no_elements('#report-findings .ag-center-cols-container .ag-row[row-index="1"]', timeout=10)
    click(dash_duo, "#report-save")
    dash_duo.wait_for_contains_text("#report-status", "1", timeout=10)
    saved = get_report(db, MINE, r["id"])
    assert saved["findings"] == [{"problem": "旧问题", "cause": "病区改造，床位减少", "suggestion": ""}], saved["findings"]
    publish(db, MINE, r["id"], saved["findings"], saved["version"], "asst1")
    d.get(dash_duo.server.url + f"/workspace/reports?dept=D001&report={r['id']}")
    dash_duo.wait_for_element(cell.format(0, "cause"), timeout=30)
    ActionChains(d).double_click(dash_duo.find_element(cell.format(0, "cause"))).perform()
    assert d.find_elements("css selector", ".ag-large-text textarea") == []  # published: read only
    assert d.find_elements("css selector", "#report-delete-rows, #report-findings .ag-selection-checkbox") == []
