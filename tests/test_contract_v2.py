"""Contract version 2 is additive: a version 1 warehouse stays valid, and everything that needs a
version 2 part says it is not available there instead of showing a zero or failing."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect

from data_layer.engine import make_engine
from data_layer.periods import parse_period
from data_layer.queries.before_after import evaluate
from data_layer.queries.kpis import indicator_values, unavailable
from data_layer.queries.scorecard import benchmarks, drags, scorecard, trend
from data_layer.registry import INDICATORS, Level
from data_layer.schema import V2_COLUMNS, V2_TABLES
from data_layer.scope import Scope
from data_layer.validate import validate
from data_layer.warehouse import Warehouse

V2_CODES = sorted(c for c, i in INDICATORS.items() if i.requires)


def test_the_registry_names_what_needs_version_2() -> None:
    assert {"dip_margin", "readmission_31d_rate", "low_risk_mortality", "fund_share_outpatient",
            "day_surgery_share", "preop_days"} <= set(V2_CODES)
    assert not INDICATORS["charge_per_visit_growth"].requires  # a growth of version 1 figures is version 1
    assert not INDICATORS["day_surgery_rate"].requires


def test_a_version_1_warehouse_has_no_version_2_part_and_validates(v1_url: str) -> None:
    engine = make_engine(v1_url)
    try:
        insp = inspect(engine)
        assert not V2_TABLES & set(insp.get_table_names())
        for table, cols in V2_COLUMNS.items():
            assert not set(cols) & {c["name"] for c in insp.get_columns(table)}
        report = validate(engine)
    finally:
        engine.dispose()
    assert report.ok and report.version == 1
    absent = {(v.table, v.column) for v in report.violations if v.check == "version 2"}
    assert {(t, None) for t in V2_TABLES} | {(t, c) for t, cols in V2_COLUMNS.items() for c in cols} == absent
    assert all(v.severity == "warning" for v in report.violations if v.check == "version 2")


def test_version_2_indicators_are_unavailable_not_zero_on_version_1(v1_url: str) -> None:
    wh = Warehouse(v1_url)
    assert wh.capabilities().have == frozenset()
    assert unavailable(wh, V2_CODES) == V2_CODES
    period = parse_period("2026-03")
    df = indicator_values(wh, Scope.hospital(), ("discharges", *V2_CODES), period, Level.department)
    assert set(df["indicator"]) == {"discharges"}  # no row at all, never a zero that looks like data
    growth = indicator_values(wh, Scope.hospital(), ("charge_per_visit_growth",), period, Level.hospital)
    assert len(growth) == 1 and growth["value"].notna().all()


def test_the_scorecard_on_version_1_lists_what_it_cannot_give(v1_url: str) -> None:
    wh = Warehouse(v1_url)
    sc = scorecard(wh, Scope.hospital())
    lacking = sc[sc["code"].isin(V2_CODES)]
    assert len(lacking) >= 8 and not lacking["available"].any()
    assert lacking["ytd"].isna().all() and (lacking["reason_en"].str.contains("contract version 2")).all()
    assert sc.loc[sc["code"] == "alos", "available"].all() and sc.loc[sc["code"] == "alos", "ytd"].notna().all()
    assert benchmarks(wh, Scope.hospital(), 2026).empty
    assert sc["national_median"].isna().all() and (sc["status"] == "none").all()
    assert trend(wh, Scope.hospital(), "readmission_31d_rate")["value"].isna().all()
    assert drags(wh, Scope.hospital(), "readmission_31d_rate").empty


def test_a_project_on_a_version_2_indicator_says_unavailable_on_version_1(v1_url: str) -> None:
    wh = Warehouse(v1_url)
    res = evaluate(wh, Scope.hospital(), "day_surgery_share", ("D001",), date(2026, 6, 1), 90, 90)
    assert res.errors == {"table": "unavailable"}
    assert not evaluate(wh, Scope.hospital(), "day_surgery_rate", ("D001",), date(2026, 6, 1), 90, 90).errors


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_growth_by_day_week_or_month_is_against_the_same_time_a_year_earlier(wh: Warehouse, demo_data,
                                                                             grain: str) -> None:
    import pandas as pd

    got = indicator_values(wh, Scope.hospital(), ("charge_per_visit_growth",), parse_period("2026-03"),
                           Level.hospital, grain=grain)
    assert len(got) == {"day": 31, "week": 6, "month": 1}[grain]  # 1 March 2026 is a Sunday
    op = demo_data.tables["fact_outpatient_daily"]
    d = pd.to_datetime(op["date"]).dt.date
    row = got.iloc[2 if grain != "month" else 0]
    start = row["period_start"]
    if grain == "day":
        now, then = (start, start), (start.replace(year=2025), start.replace(year=2025))
    elif grain == "week":
        iso = start.isocalendar()
        first = date.fromisocalendar(iso[0] - 1, iso[1], 1)
        now, then = (start, start + pd.Timedelta(days=6)), (first, first + pd.Timedelta(days=6))
    else:
        now, then = (date(2026, 3, 1), date(2026, 3, 31)), (date(2025, 3, 1), date(2025, 3, 31))

    def per_visit(lo, hi):
        w = op[(d >= lo) & (d <= hi)]
        return w["revenue_total"].sum() / w["visits"].sum()

    assert row["value"] == pytest.approx(per_visit(*now) / per_visit(*then) - 1)


def test_the_alert_scan_runs_every_check_on_version_1(v1_url: str) -> None:
    from data_layer.alerts.detect import scan

    result = scan(Warehouse(v1_url), Scope.hospital())
    assert not [s for s in result.skipped if "failed" in s]
    assert not [a for a in result.alerts if a.kind == "dip_point_value" or a.indicator == "readmission_31d_rate"]
    assert result.alerts  # the version 1 checks still find the injected anomalies
