"""The validator passes a conforming warehouse and names every kind of violation."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from data_layer.demo import write_warehouse
from data_layer.engine import make_engine
from data_layer.load import create_tables
from data_layer.validate import Report, format_report, validate


def test_the_demo_warehouse_conforms_on_every_backend(any_url: str) -> None:
    engine = make_engine(any_url, read_only=True)  # the session's other readers are read-only too
    try:
        report = validate(engine)
    finally:
        engine.dispose()
    assert report.ok, format_report(report)
    assert report.violations == []
    assert report.rows["fact_inpatient_case"] > 10_000


@pytest.fixture(params=["duckdb", "sqlite"])
def broken(request: pytest.FixtureRequest, tmp_path: Path, demo_data) -> Callable[[str], Report]:
    """Load the small warehouse into a fresh file, apply SQL that breaks it, validate."""
    url = f"{request.param}:///{tmp_path / ('w.' + request.param)}"
    engine: Engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False)

    def apply(*statements: str) -> Report:
        with engine.begin() as conn:
            for s in statements:
                conn.execute(text(s))
        return validate(engine)

    yield apply
    engine.dispose()


def _only(report: Report, check: str, table: str, column: str | None = None):
    hits = [v for v in report.violations if v.check == check and v.table == table
            and (column is None or v.column == column)]
    assert hits, format_report(report)
    return hits[0]


def test_a_missing_table_is_reported(broken) -> None:
    report = broken("DROP TABLE fact_staff_monthly")
    assert not report.ok
    v = _only(report, "tables", "fact_staff_monthly")
    assert "missing" in v.message


def test_a_dropped_column_is_reported(broken) -> None:
    report = broken("ALTER TABLE dim_ward DROP COLUMN open_beds")
    v = _only(report, "columns", "dim_ward", "open_beds")
    assert not report.ok and "missing" in v.message


def test_a_bad_code_is_reported_with_count_and_example(broken) -> None:
    report = broken("UPDATE dim_department SET kind = 'hospital' WHERE dept_id IN ('D001', 'D002')")
    v = _only(report, "codes", "dim_department", "kind")
    assert v.count == 2 and v.examples == ["hospital"] and "clinical" in v.message


def test_broken_component_sums_are_reported(broken) -> None:
    report = broken("UPDATE fact_inpatient_case SET charge_drug = charge_drug + 5 WHERE case_id <= 'IP00000010'")
    v = _only(report, "component sums", "fact_inpatient_case", "charge_total")
    assert v.count == 10 and "IP00000001" in v.examples


def test_fact_dates_missing_from_dim_date_are_reported(broken) -> None:
    report = broken("DELETE FROM dim_date WHERE date >= '2026-03-01' AND date <= '2026-03-03'")
    v = _only(report, "dates", "fact_outpatient_daily", "date")
    assert v.count > 0 and v.examples[0] == "2026-03-01"
    gaps = _only(report, "dim_date", "dim_date", "date")
    assert gaps.severity == "warning"


def test_a_month_column_off_the_first_day_is_reported(broken) -> None:
    report = broken("UPDATE fact_budget_monthly SET month_start = '2026-01-15' WHERE month_start = '2026-01-01'")
    v = _only(report, "dates", "fact_budget_monthly", "month_start")
    assert "first day of a month" in v.message


def test_duplicate_keys_and_dangling_foreign_keys_are_reported(broken) -> None:
    # primary keys are enforced by the test databases, so break a natural key instead
    report = broken(
        "INSERT INTO fact_target_annual SELECT * FROM fact_target_annual WHERE dept_id = 'D001' AND year = 2026",
        "UPDATE fact_outpatient_daily SET doctor_id = 'DR99999' WHERE doctor_id = 'DR00001'",
    )
    keys = _only(report, "keys", "fact_target_annual")
    assert keys.count >= 1
    fk = _only(report, "foreign keys", "fact_outpatient_daily", "doctor_id")
    assert fk.examples == ["DR99999"] and "dim_doctor" in fk.message


def test_wrong_stays_and_empty_meta_load_are_reported(broken) -> None:
    report = broken("UPDATE fact_inpatient_case SET los_days = los_days + 1 WHERE case_id = 'IP00000005'",
                    "DELETE FROM meta_load", "DELETE FROM fact_live_snapshot")
    assert _only(report, "dates", "fact_inpatient_case", "los_days").examples == ["IP00000005"]
    assert _only(report, "freshness", "meta_load").severity == "error"
    assert _only(report, "freshness", "fact_live_snapshot").severity == "warning"


def test_an_incomplete_allocation_is_a_warning(broken) -> None:
    report = broken("DELETE FROM fact_dept_cost_monthly WHERE allocation_stage = 'medtech' "
                    "AND month_start = '2026-05-01'")
    v = _only(report, "allocation", "fact_dept_cost_monthly")
    assert v.severity == "warning" and report.ok and v.examples[0].startswith("2026-05-01")


def test_report_names_table_column_count_and_examples(broken) -> None:
    report = broken("UPDATE fact_inpatient_case SET insurance_type = 'cash' WHERE case_id <= 'IP00000003'")
    out = format_report(report)
    assert "ERROR" in out and "fact_inpatient_case.insurance_type" in out and "(3 rows)" in out
    assert "e.g. cash" in out and "FAILED: 1 error(s)" in out


def test_an_empty_database_fails_with_every_table_missing(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    report = validate(engine)
    engine.dispose()
    assert len([v for v in report.violations if v.check == "tables"]) == 19


def test_tables_without_rows_fail_on_meta_load_only(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    create_tables(engine)
    report = validate(engine)
    engine.dispose()
    assert [v.table for v in report.errors] == ["meta_load"]
