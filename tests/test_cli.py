"""The command line: the same numbers as the query layer, and one clear line for every bad input."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from data_layer.engine import make_engine
from data_layer.periods import parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.registry import Level
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import THROUGH

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "data_layer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def assert_one_clear_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_kpis_csv_prints_the_query_layer_numbers(duck_url: str, wh: Warehouse) -> None:
    proc = run("kpis", "--url", duck_url, "-i", "discharges,alos,drug_share,balance", "-p", "2025", "-l", "campus",
               "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout))
    want = indicator_values(wh, Scope.hospital(), ("discharges", "alos", "drug_share", "balance"),
                            parse_period("2025", THROUGH), Level.campus)
    merged = got.merge(want, on=["indicator", "key"])
    assert len(merged) == len(want) == 12
    assert merged["value_x"].to_numpy() == pytest.approx(merged["value_y"].to_numpy(), rel=1e-12)


def test_kpis_names_what_a_version_1_warehouse_cannot_give(v1_url: str) -> None:
    proc = run("kpis", "--url", v1_url, "-i", "discharges,readmission_31d_rate", "-p", "2025", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert "not available in this warehouse: readmission_31d_rate" in proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout))
    assert set(got["indicator"]) == {"discharges"}


def test_kpis_table_with_comparisons_in_chinese(duck_url: str) -> None:
    proc = run("kpis", "--url", duck_url, "-i", "revenue_total,drug_share", "-p", "2026-03", "--compare",
               "--lang", "zh", "-l", "division")
    assert proc.returncode == 0, proc.stderr
    assert "内科系统" in proc.stdout and "YoY" in proc.stdout and "%" in proc.stdout


def test_kpis_series_by_month(duck_url: str) -> None:
    proc = run("kpis", "--url", duck_url, "-i", "discharges", "-p", "2025", "--grain", "month", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(io.StringIO(proc.stdout))) == 12


def test_validate_passes_the_demo_warehouse(duck_url: str) -> None:
    proc = run("validate", "--url", duck_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout


def test_validate_fails_a_broken_warehouse(tmp_path: Path, demo_data) -> None:
    from data_layer.demo import write_warehouse

    url = f"duckdb:///{tmp_path / 'broken.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False)
    with engine.begin() as conn:
        conn.execute(text("UPDATE dim_department SET kind = 'hospital' WHERE dept_id = 'D001'"))
        conn.execute(text("DROP TABLE fact_staff_monthly"))
    engine.dispose()
    proc = run("validate", "--url", url)
    assert proc.returncode == 1
    assert "fact_staff_monthly" in proc.stdout and "kind" in proc.stdout


@pytest.mark.parametrize(("args", "needles"), [
    (["kpis", "--url", "notaurl", "-i", "alos"], ["cannot parse database URL"]),
    (["kpis", "--url", "postgresql://nobody@127.0.0.1:1/x", "-i", "alos"], ["cannot reach the database"]),
    (["kpis", "--url", "duckdb:////nonexistent/w.duckdb", "-i", "alos"], ["does not exist"]),
    (["kpis", "--url", "{duck}", "-i", "alosx"], ["unknown indicator 'alosx'", "alos"]),
    (["kpis", "--url", "{duck}", "-i", "alos", "-l", "floor"], ["unknown level 'floor'"]),
    (["kpis", "--url", "{duck}", "-i", "alos", "-p", "2019"], ["lies outside the data"]),
    (["kpis", "--url", "{duck}", "-i", "alos", "-p", "20x"], ["cannot read period '20x'"]),
    (["kpis", "--url", "{duck}", "-i", "full_cost", "-l", "ward"], ["not available at level ward"]),
    (["kpis", "--url", "{duck}", "-i", "full_cost", "-p", "2026-W03"], ["whole closed months"]),
    (["kpis", "--url", "{duck}", "-i", "full_cost", "--grain", "day", "-p", "2025"], ["monthly figures"]),
    (["kpis", "--url", "{duck}", "-i", "alos", "--scope", "ward:W1"], ["cannot read scope"]),
    (["demo", "--scale", "0"], ["scale must be greater than 0"]),
    (["demo", "--years", "x"], ["not a whole number"]),
    (["kpis", "--url", "{duck}"], ["--indicator"]),
])
def test_bad_input_gets_one_clear_line(args: list[str], needles: list[str], duck_url: str) -> None:
    assert_one_clear_line(run(*[a.replace("{duck}", duck_url) for a in args]), *needles)


def test_a_warehouse_missing_a_table_gets_a_clear_line(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    engine.dispose()
    assert_one_clear_line(run("kpis", "--url", url, "-i", "alos"), "lacks a table", "validate")


def test_demo_refuses_to_overwrite_a_warehouse_it_did_not_build(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE meta_load (loaded_at TIMESTAMP, data_through DATE, source TEXT)"))
        conn.execute(text("INSERT INTO meta_load VALUES ('2026-01-02 03:00:00', '2026-01-01', 'HIS nightly ETL')"))
    engine.dispose()
    assert_one_clear_line(run("demo", "--out", url, "--scale", "0.02", "--years", "1", "--quiet"),
                          "refusing to overwrite")


def test_demo_builds_a_warehouse_and_its_truth_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    proc = run("demo", "--out", url, "--scale", "0.02", "--years", "2", "--seed", "3", "--through", "2026-06-30",
               "--now", "2026-07-01T09:00", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tiny.anomalies.json").exists()
    assert "injected anomalies" in proc.stdout
    again = run("demo", "--out", url, "--scale", "0.02", "--years", "2", "--seed", "3", "--through", "2026-06-30",
                "--now", "2026-07-01T09:00", "--quiet")
    assert again.returncode == 0, again.stderr  # its own warehouse may be rebuilt


def test_indicators_and_docs_commands(tmp_path: Path) -> None:
    proc = run("indicators")
    assert proc.returncode == 0 and "bed_occupancy" in proc.stdout
    proc = run("docs", "--out", str(tmp_path))
    assert proc.returncode == 0
    assert "`time_index`" in (tmp_path / "indicators.md").read_text(encoding="utf-8")


def test_committed_docs_are_up_to_date() -> None:
    from data_layer.docs import data_dictionary_doc, indicators_doc

    assert (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8") == indicators_doc(), \
        "run `make docs` to regenerate docs/indicators.md"
    assert (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8") == data_dictionary_doc()


def test_evaluation_seeds_read_as_numbers_and_ranges() -> None:
    import argparse

    from data_layer.cli import _seeds

    assert _seeds("1-4,7") == [1, 2, 3, 4, 7] and _seeds("") == [] and _seeds(" 11 - 12 ") == [11, 12]
    with pytest.raises(argparse.ArgumentTypeError, match="1-4,7"):
        _seeds("one")
