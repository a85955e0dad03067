"""The summary tables (data_layer/summaries.py) give the same answers as the facts, on every
backend, and are read only while they were built from the newest load."""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, insert, select

from data_layer.cli import main as cli
from data_layer.demo import write_warehouse
from data_layer.engine import make_engine
from data_layer.periods import Period
from data_layer.queries.kpis import values_of_periods
from data_layer.registry import INDICATORS, Level
from data_layer.schema import meta_load
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.summaries import LEVELS, SUMMARY_TABLES, monthly_summary_for, split_window, summary_for
from data_layer.warehouse import Warehouse

from .conftest import THROUGH

PERIODS = (Period(date(2026, 1, 1), THROUGH), Period(date(2025, 2, 3), date(2025, 5, 17)), Period(THROUGH, THROUGH))
SCOPES = (Scope.hospital(), Scope.campuses(["C2"]), Scope.departments(["D001", "D002", "D005"]))
FILTERS = (Filters(), Filters(kind=("clinical",)), Filters(department=("D001", "D003")))


def _statements(wh: Warehouse) -> list[str]:
    seen: list[str] = []
    event.listen(wh.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def _answers(wh: Warehouse, levels=LEVELS, scopes=SCOPES, filters=FILTERS, grains=(None, "month", "day")) -> pd.DataFrame:
    frames = []
    for level in levels:
        for grain in grains:
            codes = tuple(c for c, ind in INDICATORS.items()
                          if level in ind.levels and not (ind.monthly and grain == "day"))
            for si, scope in enumerate(scopes):
                for fi, f in enumerate(filters):
                    for pi, df in enumerate(values_of_periods(wh, scope, codes, PERIODS, level, f, grain)):
                        if isinstance(df, pd.DataFrame) and not df.empty:
                            frames.append(df.assign(level=level.value, grain=str(grain), scope=si, filters=fi,
                                                    period=pi))
    return pd.concat(frames, ignore_index=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    keys = ["level", "grain", "scope", "filters", "period", "indicator", "key"]
    if "period_start" in a.columns:
        keys.append("period_start")
    merged = a.merge(b, on=keys, how="outer", suffixes=("_sum", "_fact"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10).to_string()
    x, y = merged["value_sum"].astype(float).to_numpy(), merged["value_fact"].astype(float).to_numpy()
    bad = merged[~np.isclose(x, y, rtol=1e-9, atol=1e-7, equal_nan=True)]
    assert bad.empty, bad[[*keys, "value_sum", "value_fact"]].head(20).to_string()


def test_every_indicator_at_every_summarized_level_matches_the_facts(duck_url: str) -> None:
    summed, facts = Warehouse(duck_url), Warehouse(duck_url, use_summaries=False)
    assert summed.freshness().summarized and not facts.freshness().summarized
    read = _statements(summed)
    levels = (*LEVELS, Level.drg)
    got = _answers(summed, levels=levels)
    for table in ("agg_inpatient_daily", "agg_ward_daily", "agg_equipment_daily", "agg_inpatient_drg_monthly",
                  "agg_inpatient_monthly", "agg_equipment_monthly",
                  "agg_outpatient_monthly"):
        assert any(table in s for s in read), table
    _same(got, _answers(facts, levels=levels))
    assert len(got) > 5000


def test_drg_answers_take_whole_months_from_the_summary_and_the_days_around_them_from_the_facts(
        duck_url: str) -> None:
    summed, facts = Warehouse(duck_url), Warehouse(duck_url, use_summaries=False)
    read = _statements(summed)
    dept = str(summed.frame(select(SUMMARY_TABLES["inpatient"].c.dept_id).limit(1)).iloc[0, 0])  # any department
    codes = ("discharges", "cmi", "drg_margin", "alos")
    cases = [(Level.drg, Filters()), (Level.drg, Filters(department=(dept,))),
             (Level.department, Filters(drg=("CB35", "OB15", "FT25"))), (Level.hospital, Filters(drg=("OC13",))),
             # the DRG views count the cases paid by DRG (queries/drg.drg_only): the summary keeps the scheme
             (Level.hospital, Filters(scheme=("drg",))), (Level.drg, Filters(scheme=("drg",))),
             (Level.department, Filters(scheme=("dip", "fee_for_service")))]
    for level, f in cases:
        for grain in (None, "month", "quarter"):
            for a, b in zip(values_of_periods(summed, Scope.hospital(), codes, PERIODS, level, f, grain),
                            values_of_periods(facts, Scope.hospital(), codes, PERIODS, level, f, grain), strict=True):
                pd.testing.assert_frame_equal(a, b, rtol=1e-9, check_dtype=False)
    monthly = [s for s in read if "agg_inpatient_drg_monthly" in s]
    assert monthly and all("fact_inpatient_case" in s for s in monthly)  # each period here has days around its months
    assert split_window(date(2026, 1, 1), date(2026, 11, 21)) == ((date(2026, 1, 1), date(2026, 10, 31)),
                                                                   [(date(2026, 11, 1), date(2026, 11, 21))])
    assert split_window(date(2025, 2, 3), date(2025, 5, 17)) == (
        (date(2025, 3, 1), date(2025, 4, 30)), [(date(2025, 2, 3), date(2025, 2, 28)), (date(2025, 5, 1), date(2025, 5, 17))])
    assert split_window(date(2026, 11, 3), date(2026, 11, 21)) == (None, [(date(2026, 11, 3), date(2026, 11, 21))])
    assert monthly_summary_for("inpatient", Level.drg, Filters(), ["discharges"], "day") is None
    summed.engine.dispose()
    facts.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_summaries_match_the_facts_on_every_backend(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "postgres_url",
                                   "mariadb": "mariadb_url"}[backend])
    summed, facts = Warehouse(url), Warehouse(url, use_summaries=False)
    assert summed.freshness().summarized
    small = {"scopes": SCOPES[:2], "filters": FILTERS[:2], "grains": (None, "month")}
    _same(_answers(summed, **small), _answers(facts, **small))
    summed.engine.dispose()
    facts.engine.dispose()


def test_finer_levels_and_filters_read_the_facts(duck_url: str) -> None:
    assert summary_for("inpatient", Level.department, Filters(), ["discharges"]) is not None
    assert summary_for("inpatient", Level.doctor, Filters(), ["discharges"]) is None
    assert summary_for("inpatient", Level.drg, Filters(), ["discharges"]) is None  # the monthly DRG summary's
    assert summary_for("inpatient", Level.department, Filters(ward=("W001",)), ["discharges"]) is None
    assert summary_for("cost", Level.department, Filters(), ["full_cost"]) is None  # monthly facts are small
    assert summary_for("ward", Level.hospital, Filters(), ["ward_days", "open_bed_days"]) is not None
    wh = Warehouse(duck_url)
    read = _statements(wh)
    values_of_periods(wh, Scope.hospital(), ("discharges", "alos"), PERIODS[:1], Level.group, Filters(), None)
    assert read and not any("agg_" in s for s in read if "agg_meta" not in s)
    wh.engine.dispose()


def test_a_newer_load_makes_the_summaries_stale_until_they_are_built_again(demo_data, tmp_path, capsys) -> None:
    url = f"duckdb:///{tmp_path / 'stale.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False)
    first = Warehouse(url, engine=engine)
    assert first.freshness().summarized
    with engine.begin() as conn:  # tonight's load: new meta_load row, summaries not yet rebuilt
        conn.execute(insert(meta_load).values(loaded_at=datetime(2026, 11, 23, 2, 0), data_through=THROUGH,
                                              source="nightly ETL"))
    engine.dispose()
    stale = Warehouse(url)
    assert not stale.freshness().summarized
    read = _statements(stale)
    before = _answers(stale, levels=(Level.department,), scopes=SCOPES[:1], filters=FILTERS[:1], grains=(None,))
    assert not any("agg_inpatient_daily" in s for s in read)  # the facts answer meanwhile
    stale.engine.dispose()

    assert cli(["summarize", "--url", url, "--if-stale"]) == 0  # what the timer runs
    out = capsys.readouterr().out
    assert "summary tables built" in out and "agg_inpatient_daily" in out
    assert cli(["summarize", "--url", url, "--if-stale"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    fresh = Warehouse(url)
    assert fresh.freshness().summarized
    after = _answers(fresh, levels=(Level.department,), scopes=SCOPES[:1], filters=FILTERS[:1], grains=(None,))
    _same(after, before)
    fresh.engine.dispose()


def test_summaries_of_another_release_are_not_read(demo_data, tmp_path) -> None:
    """An upgrade that adds a measure changes the tables' layout: the old tables are left alone
    (the facts answer) until `summarize` builds them again, so no query ever asks for a column
    the warehouse's tables do not have."""
    from sqlalchemy import update

    from data_layer.summaries import agg_meta

    url = f"duckdb:///{tmp_path / 'old.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, demo_data.tables, progress=False)
    with engine.begin() as conn:
        conn.execute(update(agg_meta).values(layout="built-by-an-older-release"))
    wh = Warehouse(url, engine=engine)
    assert not wh.freshness().summarized
    read = _statements(wh)
    values_of_periods(wh, Scope.hospital(), ("discharges",), PERIODS[:1], Level.department, Filters(), None)
    assert read and not any("agg_inpatient" in s for s in read)
    engine.dispose()


def test_summarize_refuses_a_warehouse_without_facts_and_changes_nothing(tmp_path, capsys) -> None:
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert cli(["summarize", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "fact_inpatient_case" in err and "nothing was changed" in err
    from sqlalchemy import inspect

    engine = make_engine(url)
    assert not [t for t in inspect(engine).get_table_names() if t.startswith("agg_")]
    engine.dispose()


def test_summarize_explains_a_warehouse_it_cannot_reach(capsys) -> None:
    assert cli(["summarize", "--url", "postgresql+psycopg://nobody@127.0.0.1:1/none"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_summary_tables_hold_one_row_per_department_and_day(duck_url: str) -> None:
    from sqlalchemy import func, select

    from data_layer.schema import fact_inpatient_case as ip

    engine = make_engine(duck_url, read_only=True)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(SUMMARY_TABLES["inpatient"])).scalar()
        pairs = conn.execute(select(func.count()).select_from(
            select(ip.c.dept_id, ip.c.discharge_date).distinct().subquery())).scalar()
        cases = conn.execute(select(func.sum(SUMMARY_TABLES["inpatient"].c.discharges))).scalar()
        total = conn.execute(select(func.count()).select_from(ip)).scalar()
    engine.dispose()
    assert rows == pairs and cases == total


def test_make_run_brings_the_embedded_demo_warehouses_summaries_up_to_date(demo_data, tmp_path, capsys) -> None:
    """An embedded demo warehouse built by an older release gets this release's summary tables
    at start-up (it is the app's own file); a configured warehouse is never written to."""
    from app import ensure_demo_warehouse
    from data_layer.summaries import drop_summaries
    from shell.settings import load_settings

    env = {"DATA_DIR": str(tmp_path / "d")}
    settings = load_settings(env, env_file=None)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.warehouse_url)
    write_warehouse(engine, demo_data.tables, progress=False)
    drop_summaries(engine)  # as if built before the summary tables existed
    engine.dispose()
    ensure_demo_warehouse(settings)
    assert "summary tables" in capsys.readouterr().out
    wh = Warehouse(settings.warehouse_url)
    assert wh.freshness().summarized
    wh.engine.dispose()


def test_a_year_to_date_reads_whole_months_from_the_monthly_summary_and_its_last_days_from_the_daily_one(
        duck_url: str) -> None:
    """Department answers over a period of several months read each department's whole months from
    agg_*_monthly and only the days at the period's ends from agg_*_daily (never the facts), with the
    facts' answer; a week stays on the daily summary and a count of distinct days never reads months."""
    summed, facts = Warehouse(duck_url), Warehouse(duck_url, use_summaries=False)
    read = _statements(summed)
    through = summed.freshness().data_through
    ytd = Period(through.replace(month=1, day=1), through)
    codes = ("discharges", "revenue_total", "outpatient_visits", "bed_occupancy", "alos")
    for level in (Level.hospital, Level.campus, Level.department):
        for grain in (None, "month", "quarter"):
            for a, b in zip(values_of_periods(summed, Scope.hospital(), codes, (ytd,), level, Filters(), grain),
                            values_of_periods(facts, Scope.hospital(), codes, (ytd,), level, Filters(), grain),
                            strict=True):
                pd.testing.assert_frame_equal(a, b, rtol=1e-9, check_dtype=False)
    months = [s for s in read if "agg_inpatient_monthly" in s]
    assert months and all("agg_inpatient_daily" in s and "fact_inpatient_case" not in s for s in months)
    assert any("agg_ward_monthly" in s for s in read) and any("agg_outpatient_monthly" in s for s in read)
    assert monthly_summary_for("inpatient", Level.department, Filters(), ["discharges"], "week") is None
    assert monthly_summary_for("ward", Level.hospital, Filters(), ["ward_days"], None) is None
    assert monthly_summary_for("inpatient", Level.ward, Filters(), ["discharges"], None) is None
    summed.engine.dispose()
    facts.engine.dispose()


def test_version_2_measures_come_from_the_summaries_and_one_they_cannot_keep_alone_from_the_facts(
        duck_url: str) -> None:
    """Contract version 2 measures (low-risk deaths, readmissions, fund payments) are summed into the
    summaries like the others, with the facts' answers; a measure the summaries cannot keep (DIP
    points need the DIP packets' table) is read from the facts apart from the rest of its source."""
    from data_layer.queries.kpis import _summary_split

    summed, facts = Warehouse(duck_url), Warehouse(duck_url, use_summaries=False)
    read = _statements(summed)
    through = summed.freshness().data_through
    ytd = Period(through.replace(month=1, day=1), through)
    codes = ("discharges", "alos", "revenue_total", "low_risk_mortality", "readmission_31d_rate")
    for level in (Level.hospital, Level.department):
        for grain in (None, "month"):
            for a, b in zip(values_of_periods(summed, Scope.hospital(), codes, (ytd,), level, Filters(), grain),
                            values_of_periods(facts, Scope.hospital(), codes, (ytd,), level, Filters(), grain),
                            strict=True):
                pd.testing.assert_frame_equal(a, b, rtol=1e-9, check_dtype=False)
    assert not [s for s in read if "FROM fact_inpatient_case JOIN" in s]  # not even for the version 2 measures
    assert any("agg_inpatient_monthly" in s and "low_risk_deaths" in s for s in read)
    assert _summary_split("inpatient", Level.department, Filters(), ["discharges", "dip_points", "los_days"], True) == [
        ["discharges", "los_days"], ["dip_points"]]
    assert _summary_split("inpatient", Level.department, Filters(), ["discharges", "los_days"], True) == [
        ["discharges", "los_days"]]
    summed.engine.dispose()
    facts.engine.dispose()
