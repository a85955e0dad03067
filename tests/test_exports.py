"""Exports read like the page: the one exports module (number formats by column kind, heading,
frozen styled header, fitted widths, CSV numbers, formula text neutralised) and the export paths
that use it (workspace tables, an alert's rows, the monthly report), opened with openpyxl."""
from __future__ import annotations

import base64
import csv
import io
from datetime import date, datetime

import pandas as pd
import pytest
from flask import Flask
from openpyxl import load_workbook

from appdb.alerts import list_alerts, save_scan
from components import exports
from components.exports import BY_ROW, Column
from components.i18n import t
from data_layer.alerts.detect import Alert
from data_layer.registry import INDICATORS
from data_layer.scope import Scope

from .helpers import post_callback, read_table_workbook, signed_in, workspace_export

AT = datetime(2026, 11, 22, 10, 30)
REPORT_BUTTON = {"type": "report-export", "table": "report", "fmt": "xlsx"}


def _head(lang: str = "zh") -> exports.Heading:
    return exports.heading("测试导出", lang, scope="创伤骨科（本部）", exported_at=AT, user="运营助理 (asst1)",
                           period=(date(2026, 1, 1), date(2026, 10, 31)), through=date(2026, 11, 21),
                           loaded_at=datetime(2026, 11, 22, 2, 0))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "科室": ["脊柱外科", "=HYPERLINK(\"http://evil\",\"x\")", "-abc", "@SUM(A1)"],
        "出院人次": [756.0, 12.0, 0.0, 3.0],
        "结余": [-3769.4276811594195, 1234567.891, 0.004, -0.001],
        "药占比": [1.0522, 0.31, 0.0, None],
        "平均住院日": [8.96702, 10.0, 7.25, 1.0],
        "出院日期": [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3), date(2026, 10, 4)],
        "CMI": [1.23456, 0.9, 1.0, 2.5],
    })


KINDS = {"出院人次": "integer", "结余": "money", "药占比": "percent", "平均住院日": "days", "出院日期": "date",
         "CMI": ("ratio", 3)}


# ------------------------------------------------------------------------------------------ the module
def test_a_workbook_carries_the_pages_formats_heading_and_frozen_header() -> None:
    df = _frame()
    raw = exports.table_workbook(_head(), df, exports.columns_of(df, KINDS), sheet="出院", lang="zh")
    ws = load_workbook(io.BytesIO(raw))["出院"]
    # the heading: title, period, scope, freshness, export time and user
    assert ws["A1"].value == "测试导出" and ws["A1"].font.b
    lines = [ws.cell(r, 1).value for r in range(2, 6)]
    assert lines == ["统计期间：2026-01-01 至 2026-10-31", "范围：创伤骨科（本部）",
                     "数据截至 2026-11-21，最近加载 2026-11-22 02:00", "导出时间 2026-11-22 10:30，导出人 运营助理 (asst1)"]
    header = 7
    assert [c.value for c in ws[header]] == list(df.columns)
    assert ws.freeze_panes == f"A{header + 1}"
    assert all(c.font.b and c.fill.fgColor.rgb.endswith(exports.HEADER_FILL) for c in ws[header])
    assert ws.auto_filter.ref == f"A{header}:G{header + len(df)}"
    first = header + 1
    formats = {ws.cell(header, j).value: ws.cell(first, j).number_format for j in range(1, 8)}
    assert formats == {"科室": "General", "出院人次": "#,##0", "结余": "#,##0.00", "药占比": "0.0%",
                       "平均住院日": "#,##0.0", "出院日期": "yyyy-mm-dd", "CMI": "#,##0.000"}
    row = [ws.cell(first, j).value for j in range(1, 8)]
    assert row[1] == 756 and isinstance(row[1], int)
    assert row[2] == -3769.43  # money to the fen; a negative number stays a number
    assert row[3] == pytest.approx(1.0522)  # the fraction: Excel shows 105.2%
    assert row[5].date() == date(2026, 10, 1) and ws.cell(first, 6).is_date
    assert ws.cell(first + 3, 4).value is None  # a missing figure is an empty cell, not "nan"
    # every column has a fitted width; the Chinese header counts double
    widths = {ws.cell(header, j).value: ws.column_dimensions[ws.cell(header, j).column_letter].width for j in range(1, 8)}
    assert all(w and w >= exports.MIN_WIDTH for w in widths.values())
    assert widths["结余"] >= len("1,234,567.89") and widths["出院日期"] >= len("2026-10-01")
    assert widths["CMI"] < widths["平均住院日"]  # 5 Chinese characters are wider than "1.235"
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1  # 9: A4


def test_formula_text_is_neutralised_and_numbers_stay_numbers() -> None:
    df = _frame()
    cols = exports.columns_of(df, KINDS)
    ws = load_workbook(io.BytesIO(exports.table_workbook(_head(), df, cols, lang="zh"))).active
    cells = [ws.cell(r, 1) for r in range(9, 12)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]  # text, never a formula
    assert cells[0].value.startswith("=HYPERLINK") and cells[0].quotePrefix
    assert ws.cell(11, 3).value == -0.0 and ws.cell(11, 3).data_type == "n"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    text = exports.csv_bytes(df, cols).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[2][0] == "'=HYPERLINK(\"http://evil\",\"x\")" and rows[3][0] == "'-abc" and rows[4][0] == "'@SUM(A1)"
    assert rows[1][2] == "-3769.43" and rows[4][2] == "0.00"  # negative money is a number, not quoted text
    assert exports.safe_text("\tcmd") == "'\tcmd" and exports.safe_text("\rcmd") == "'\rcmd"
    assert exports.safe_text("正常文本") == "正常文本"


def test_a_csv_has_integers_rounded_money_percent_values_and_a_bom() -> None:
    df = _frame().assign(大额=[1.5e12, 1e-7, 123.0, 2.0])
    raw = exports.csv_bytes(df, exports.columns_of(df, {**KINDS, "大额": "money"}))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["科室", "出院人次", "结余", "药占比 (%)", "平均住院日", "出院日期", "CMI", "大额"]
    assert rows[1][1:] == ["756", "-3769.43", "105.22", "9.0", "2026-10-01", "1.235", "1500000000000.00"]
    assert rows[2][7] == "0.00" and rows[4][3] == ""  # no scientific notation; missing is empty
    assert "e+" not in raw.decode("utf-8-sig").lower() and "e-0" not in raw.decode("utf-8-sig").lower()
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert back["出院人次"].dtype.kind == "i" and back["出院人次"].tolist() == [756, 12, 0, 3]


def test_a_table_of_indicators_formats_each_row_by_its_unit() -> None:
    codes = ["drug_share", "revenue_total", "discharges", "alos", "cmi"]
    df = pd.DataFrame({"指标": [INDICATORS[c].name_zh for c in codes], "本期": [0.3104, 1234567.456, 756.0, 8.97, 1.0234]})
    rows = [exports.unit_kind(INDICATORS[c].unit) for c in codes]
    cols = exports.columns_of(df, {"本期": BY_ROW})
    ws = load_workbook(io.BytesIO(exports.table_workbook(_head(), df, cols, row_kinds=rows))).active
    assert [ws.cell(r, 2).number_format for r in range(8, 13)] == ["0.0%", "#,##0.00", "#,##0", "#,##0.0", "#,##0.000"]
    text = exports.csv_bytes(df, cols, rows).decode("utf-8-sig").splitlines()
    assert [line.split(",")[1] for line in text[1:]] == ["31.04", "1234567.46", "756", "9.0", "1.023"]


def test_every_registry_unit_has_a_kind_of_its_own() -> None:
    units = {i.unit for i in INDICATORS.values()}
    assert units <= set(exports._UNIT_KINDS), units - set(exports._UNIT_KINDS)
    assert exports.unit_kind("ratio") == ("percent", None) and exports.unit_kind("yuan") == ("money", None)
    assert exports.unit_kind("cases")[0] == "integer" and exports.unit_kind("days")[0] == "days"


def test_a_new_appraisal_field_gets_a_format_by_its_name() -> None:
    assert exports.field_kind("npv", -12345.678) == "money"
    assert exports.field_kind("irr", 0.124) == "percent"
    assert exports.field_kind("discount_rate", 0.05) == "percent"
    assert exports.field_kind("discount_rate", 5.0) == ("ratio", 2)  # typed in per cent already
    assert exports.field_kind("break_even_exams_per_day", 12.34) == ("ratio", 1)
    assert exports.field_kind("annual_exams", 3000.0) == "integer"
    assert exports.field_kind("payback", 1.304) == ("ratio", 2)
    assert exports.field_kind("device_name", "CT") == "text"


def test_a_field_block_on_a_one_page_workbook_formats_each_figure_by_its_name() -> None:
    """The appraisal's shape (key/value blocks on one sheet, printed on one A4 page), built only here."""
    rows = [("device_name", "设备", "CT-2"), ("annual_exams", "年检查量", 5200), ("utilization", "使用率", 0.82),
            ("annual_net", "年净收益", 1234567.891), ("payback_years", "回收期（年）", 4.567)]
    block = exports.field_block("测算结果", rows, "项目", "数值")
    raw = exports.one_page_workbook(_head(), "设备测算-7", [block], notes=("=1+1 公式说明",))
    ws = load_workbook(io.BytesIO(raw)).worksheets[0]
    assert ws.title == "设备测算-7" and ws.page_setup.fitToHeight == 1 and ws.page_setup.orientation == "portrait"
    found = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert found["年检查量"].number_format == "#,##0" and found["使用率"].number_format == "0.0%"
    assert found["年净收益"].number_format == "#,##0.00" and found["回收期（年）"].number_format == "#,##0.00"
    assert found["设备"].value == "CT-2"
    note = next(ws.cell(r, 1) for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "=1+1 公式说明")
    assert note.data_type == "s"  # a note is text, never a formula


def test_the_monthly_report_is_built_in_the_exports_module() -> None:
    """report_sheets: one sheet per section in the reader's language; a ratio's change in points."""
    report = {"content": {"key": [{"indicator": "drug_share", "value": 0.2, "previous": 0.21, "mom": -0.05,
                                   "mom_diff": -0.01, "year_ago": 0.19, "yoy": 0.05, "yoy_diff": 0.01,
                                   "hospital": 0.29}],
                          "structure": [], "costs": {"closed": False, "rows": []}, "targets": [], "alerts": []},
              "findings": [{"problem": "p", "cause": "c", "suggestion": "s"}]}
    sheets = exports.report_sheets(report, "en", ("problem", "cause", "suggestion"))
    assert [s.name for s in sheets] == [t(f"ws.rp.sheet.{n}", "en") for n in exports.REPORT_SHEETS]
    key = sheets[0].blocks[0].frame
    assert key.iloc[0][t("ws.rp.k.yoy", "en")] == 0.01  # the difference in points, not the relative change
    raw = exports.report_workbook(report, "zh", _head(), ("problem", "cause", "suggestion"))
    assert load_workbook(io.BytesIO(raw)).sheetnames == ["概况", "收入结构", "成本构成", "目标进度", "预警", "问题原因建议"]


def test_widths_count_chinese_characters_double() -> None:
    assert exports.text_width("abc") == 3 and exports.text_width("药占比") == 6 and exports.text_width("CT机") == 4


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        Column("x", "x", "currency")


# ------------------------------------------------------------------------------------------ the pages
def _open(data: dict) -> tuple[bytes, object]:
    raw = base64.b64decode(data["content"])
    return raw, load_workbook(io.BytesIO(raw)).worksheets[0]


def _header_row(ws) -> int:
    return ws[ws.freeze_panes].row - 1


def _formats(ws) -> dict[str, str]:
    top = _header_row(ws)
    return {ws.cell(top, j).value: ws.cell(top + 1, j).number_format for j in range(1, ws.max_column + 1)}


BUDGET_STATE = [{"id": "ws-dept", "property": "value", "value": "D001"},
                {"id": "ws-period", "property": "value", "value": "ytd"},
                {"id": "wb-tol", "property": "value", "value": 5}, {"id": "wb-item", "property": "value", "value": None}]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_workspace_export_is_a_finished_report_in_the_readers_language(server: Flask, lang: str) -> None:
    client = signed_in(server, "asst1", lang)
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": {"type": "ws-export", "page": "budget", "table": "departments", "fmt": "xlsx"},
                                  "property": "n_clicks", "value": 1}], BUDGET_STATE)
    assert status == 200
    raw, ws = _open(out["ws-download.data"])
    heading = [ws.cell(r, 1).value for r in range(1, _header_row(ws))]
    assert heading[0] == t("ws.budget.departments", lang)
    period, scope, fresh, by = heading[1:5]
    assert period == t("export.period", lang, start=date(2026, 1, 1), end=date(2026, 11, 21))
    depts = ["脊柱外科"] if lang == "zh" else ["Spine Surgery"]
    assert all(d in scope for d in depts)  # the departments in the user's scope, by name
    assert "2026-11-21" in fresh and "asst1" in by
    formats = _formats(ws)
    label = lambda key: t(f"ws.budget.{key}", lang)  # noqa: E731
    assert formats[label("budget_period")] == "#,##0.00" and formats[label("execution")] == "0.0%"
    assert formats[label("n_items")] == "#,##0" and formats[label("elapsed")] == "0.0%"
    letters = [ws.cell(_header_row(ws), j).column_letter for j in range(1, ws.max_column + 1)]
    assert all(ws.column_dimensions[c].width for c in letters)
    df = read_table_workbook(raw)
    assert set(df[t("ws.budget.col.dept_id", lang)]) == {"D001", "D002", "D003"}
    assert not any(str(v).startswith("nan") for v in df.astype(str).to_numpy().ravel())
    # the CSV: integers, money to two decimals, percentages as per-cent values
    status, df, _ = workspace_export(server, client, "budget", "departments", "csv", BUDGET_STATE)
    assert df[label("n_items")].dtype.kind == "i"
    assert f"{label('execution')} (%)" in df.columns and df[f"{label('execution')} (%)"].between(0, 1000).all()
    assert all(round(v, 2) == v for v in df[label("budget_period")])


def _alert(dept: str, indicator: str, kind: str = "rule", start: date = date(2026, 10, 1),
           end: date = date(2026, 10, 31)) -> Alert:
    return Alert(kind, "yellow", dept, indicator, start, end, 1.1, 1.05, 0.0, 1.05, 0.05, "test")


def _alert_export(server: Flask, client, alert_id: int):
    button = {"type": "al-export", "table": "rows", "fmt": "xlsx"}
    status, out = post_callback(server, client, "al-download.data", [{"id": button, "property": "n_clicks",
                                                                      "value": 1}],
                                [{"id": "al-selected", "property": "data", "value": alert_id}])
    assert status == 200
    return _open(out["al-download.data"])


def test_a_rule_alerts_export_has_the_ward_days_behind_it(server: Flask, demo_data) -> None:
    db = server.extensions["hospdash"].appdb
    save_scan(db, [_alert("D001", "bed_occupancy")], {"D001": "C1"})
    listed = list_alerts(db, Scope.hospital(), limit=100)
    alert_id = int(listed[(listed["indicator"] == "bed_occupancy") & (listed["dept_id"] == "D001")]["id"].iloc[0])
    raw, ws = _alert_export(server, signed_in(server, "asst1", "zh"), alert_id)
    df = read_table_workbook(raw)
    wards = demo_data.tables["dim_ward"]
    days = demo_data.tables["fact_ward_daily"].merge(wards[["ward_id", "dept_id", "name_zh"]], on="ward_id")
    when = pd.to_datetime(days["date"]).dt.date
    mine = days[(days["dept_id"] == "D001") & (when >= date(2026, 10, 1)) & (when <= date(2026, 10, 31))]
    assert len(df) == len(mine) > 0  # every ward-day of the month, none from elsewhere
    assert set(df["病区"]) == set(mine["name_zh"])
    assert df["占用床位"].sum() == mine["occupied_beds"].sum()
    expect = (mine["occupied_beds"] / mine["open_beds"]).sort_values().tolist()
    assert sorted(df["床位使用率"].tolist()) == pytest.approx(expect)
    assert _formats(ws)["床位使用率"] == "0.0%" and _formats(ws)["日期"] == "yyyy-mm-dd"
    assert "床位使用率" in ws["A1"].value and ws["A1"].font.b


def test_an_alerts_case_rows_name_groups_and_doctors(server: Flask, demo_data) -> None:
    db = server.extensions["hospdash"].appdb
    save_scan(db, [_alert("D001", "alos", kind="robust_z")], {"D001": "C1"})
    listed = list_alerts(db, Scope.hospital(), limit=100)
    alert_id = int(listed[(listed["indicator"] == "alos") & (listed["dept_id"] == "D001")]["id"].iloc[0])
    for lang, group_col, doctor_col in (("zh", "医疗组", "医生"), ("en", "Group", "Doctor")):
        raw, ws = _alert_export(server, signed_in(server, "asst1", lang), alert_id)
        df = read_table_workbook(raw)
        assert len(df) > 0
        groups = demo_data.tables["dim_medical_group"].set_index("group_id")[f"name_{lang}"]
        doctors = set(demo_data.tables["dim_doctor"]["name"])
        assert set(df[group_col].dropna()) <= set(groups) and set(df[doctor_col].dropna()) <= doctors
        assert not df[group_col].astype(str).str.match(r"^G\d+$").any()
        assert not df[doctor_col].astype(str).str.match(r"^DR\d+$").any()
        formats = _formats(ws)
        assert formats[t("col.charge_total", lang)] == "#,##0.00" and formats[t("col.los_days", lang)] == "#,##0"


def test_the_monthly_report_workbook_freezes_and_formats_every_sheet(server: Flask) -> None:
    client = signed_in(server, "asst1", "zh")
    status, out = post_callback(server, client, "report-status.children",
                                [{"id": "report-generate", "property": "n_clicks", "value": 1}],
                                [{"id": "ws-dept", "property": "value", "value": "D003"},
                                 {"id": "report-month", "property": "value", "value": "2026-10-01"},
                                 {"id": "ws-period", "property": "value", "value": "ytd"}])
    assert status == 200 and "report=" in out["_pages_location.search"]
    rid = int(out["_pages_location.search"].split("report=")[1])
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": REPORT_BUTTON, "property": "n_clicks", "value": 1}],
                                [{"id": "report-meta", "property": "data", "value": {"id": rid, "version": 1}}])
    raw = base64.b64decode(out["ws-download.data"]["content"])
    book = load_workbook(io.BytesIO(raw))
    for ws in book.worksheets:
        assert ws.freeze_panes and "运营分析报告" in ws["A1"].value
    key = book["概况"]
    top = _header_row(key)
    by_name = {key.cell(r, 1).value: key.cell(r, 3).number_format for r in range(top + 1, key.max_row + 1)}
    assert by_name["药占比"] == "0.0%" and by_name["出院人次"] == "#,##0" and by_name["医疗收入"] == "#,##0.00"


def test_a_rate_that_rounds_to_zero_is_stored_as_zero_not_minus_zero() -> None:
    from components.exports import cell_value

    assert cell_value(-0.00004, "percent") == 0.0 and str(cell_value(-0.00004, "percent")) == "0.0"
    assert cell_value(-0.0004, "ratio") == 0.0
    assert cell_value(-0.0006, "percent") == -0.0006  # -0.1% is a real change and stays


# ------------------------------------------------------------------------------------------ formula text
# What a user may type into a note or a finding that a spreadsheet would run (OWASP CSV injection).
PAYLOADS = ('=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
NEVER_PAYS = {"charge_per_exam": "50", "consumables_per_exam": "60"}  # a negative annual net: a negative number


def _workbook_cells(raw: bytes) -> list:
    book = load_workbook(io.BytesIO(raw))
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _assert_inert_workbook(raw: bytes, stored: list[str]) -> None:
    """No cell is a formula; each stored text is there as typed, marked quoted when it starts
    like a formula; negative numbers are number cells."""
    cells = _workbook_cells(raw)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts_ = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in stored:
        assert text in texts_, (text, sorted(texts_)[:20])
        assert texts_[text].quotePrefix, text
    assert any(c.data_type == "n" and isinstance(c.value, (int, float)) and c.value < 0 for c in cells)


def _assert_inert_csv(raw: bytes, stored: list[str]) -> None:
    """No field starts like a formula unless it is a number; each stored text is there with a
    leading apostrophe; negative numbers are plain numbers."""
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    fields = [f for row in rows for f in row]

    def number(f: str) -> bool:
        try:
            float(f)
        except ValueError:
            return False
        return True

    assert [f for f in fields if f.startswith(exports.FORMULA_START) and not number(f)] == []
    for text in stored:
        assert "'" + text in fields, text
    assert any(number(f) and float(f) < 0 for f in fields)


def _appraisals_with_formula_notes(server: Flask, client) -> list[str]:
    """Each payload saved through the page as an appraisal's note and in its device name; the
    texts as the store kept them."""
    from appdb.appraisals import list_appraisals

    from .test_ws_equipment import GOOD, _submit

    for i, text in enumerate(PAYLOADS):
        status, _ = _submit(server, client, "D001", {**GOOD, **NEVER_PAYS, "device_name": f"{text} dev{i}",
                                                     "note": text})
        assert status == 200
    saved = list_appraisals(server.extensions["hospdash"].appdb, Scope.departments({"D001"}), "D001")
    assert len(saved) == len(PAYLOADS)
    return [*saved["note"], *saved["device_name"]]


def test_formula_notes_stay_text_in_every_appraisal_one_pager(server: Flask) -> None:
    from appdb.appraisals import list_appraisals

    client = signed_in(server, "asst1", "en")
    _appraisals_with_formula_notes(server, client)
    for a in list_appraisals(server.extensions["hospdash"].appdb, Scope.departments({"D001"}), "D001").itertuples():
        status, out = post_callback(server, client, "ws-download.data",
                                    [{"id": {"type": "ws-eq-report", "index": int(a.id)}, "property": "n_clicks",
                                      "value": 1}], [{"id": "ws-dept", "property": "value", "value": "D001"}])
        assert status == 200
        _assert_inert_workbook(base64.b64decode(out["ws-download.data"]["content"]), [a.note, a.device_name])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_formula_notes_stay_text_in_the_saved_appraisals_table(server: Flask, fmt: str) -> None:
    client = signed_in(server, "asst1", "en")
    stored = _appraisals_with_formula_notes(server, client)
    state = [{"id": "ws-dept", "property": "value", "value": "D001"},
             {"id": "ws-period", "property": "value", "value": "ytd"},
             {"id": "ws-eq-sat", "property": "value", "value": "0.85"},
             {"id": "ws-eq-f-category", "property": "value", "value": "CT"}]
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": {"type": "ws-export", "page": "equipment", "table": "appraisals", "fmt": fmt},
                                  "property": "n_clicks", "value": 1}], state)
    assert status == 200 and out["ws-download.data"]["filename"].endswith(fmt)
    raw = base64.b64decode(out["ws-download.data"]["content"])
    (_assert_inert_csv if fmt == "csv" else _assert_inert_workbook)(raw, stored)


def test_formula_findings_stay_text_in_the_monthly_report_workbook(server: Flask) -> None:
    from appdb.reports import get_report

    from .test_ws_reports import _generate

    client = signed_in(server, "asst1", "en")
    status, out = _generate(server, client, "D003")
    rid = int(out["_pages_location.search"].split("report=")[1])
    rows = [{"problem": text, "cause": text, "suggestion": text} for text in PAYLOADS]
    meta = [{"id": "report-meta", "property": "data", "value": {"id": rid, "version": 1}}]
    status, out = post_callback(server, client, "report-meta.data",
                                [{"id": "report-save", "property": "n_clicks", "value": 1}],
                                [{"id": "report-findings", "property": "rowData", "value": rows}, *meta])
    assert status == 200
    report = get_report(server.extensions["hospdash"].appdb, Scope.hospital(), rid)
    stored = [f["problem"] for f in report["findings"]]
    assert len(stored) == len(PAYLOADS)
    meta[0]["value"]["version"] = report["version"]
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": REPORT_BUTTON, "property": "n_clicks", "value": 1}], meta)
    assert status == 200
    _assert_inert_workbook(base64.b64decode(out["ws-download.data"]["content"]), stored)


def test_no_string_the_workbook_writes_becomes_a_formula() -> None:
    """Titles, heading lines, captions, headers, empty-table notes and sheet notes as well as cells."""
    bad = '=HYPERLINK("http://x","click")'
    frame = pd.DataFrame({bad: ["-2+3", -5.5]})
    head = exports.Heading(bad, (bad, "@SUM(A1)"))
    sheet = exports.Sheet("s", (exports.Block(frame, (Column(bad, bad, BY_ROW),), caption=bad, row_kinds=("text", "money")),
                                exports.Block(frame.iloc[:0], (Column(bad, bad),), caption="+1", empty_note=bad)),
                          notes=(bad,))
    cells = _workbook_cells(exports.workbook(head, [sheet]))
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert all(c.quotePrefix for c in cells if isinstance(c.value, str) and c.value.startswith(exports.FORMULA_START))
    assert [c.value for c in cells if c.data_type == "n"] == [-5.5]
