"""The small demo warehouse on a two-shard ClickHouse cluster gives DuckDB's numbers.

The test starts two clickhouse-server processes of its own (temporary folder, free ports),
loads the warehouse (facts as Distributed tables over both shards), checks every indicator
of the registry at every level, a few grains and the scope clause against DuckDB, then
stops the servers and removes the folder. Without clickhouse-server (or the dialect) it is
skipped, except in CI, where it fails.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.dialects import postgresql

from bench.clickhouse_cluster import ClickHouseCluster, ClusterError, find_server
from data_layer.demo.generate import DemoData
from data_layer.periods import parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.queries.names import level_names
from data_layer.registry import INDICATORS, MEASURES, Level, MeasureContext
from data_layer.scope import Scope
from data_layer.sources import SOURCES, Filters, build_select
from data_layer.warehouse import Warehouse

from .conftest import IN_CI, THROUGH

LEVELS = list(Level)
PERIODS = ["2025", "2026-03", "2026-W10"]
KEYS = ["level", "period", "indicator", "key"]


def _unavailable(msg: str) -> None:
    if IN_CI:
        pytest.fail(f"{msg}; CI needs it (.ci/run installs clickhouse-server, "
                    "requirements.txt, the dialect)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClickHouseCluster]:
    if find_server() is None:
        _unavailable("clickhouse-server is not installed (apt-get install clickhouse-server clickhouse-client)")
    if importlib.util.find_spec("clickhouse_sqlalchemy") is None:
        _unavailable("clickhouse-sqlalchemy is not installed (make setup installs requirements.txt)")
    try:
        with ClickHouseCluster.started() as c:
            yield c
    except ClusterError as exc:
        _unavailable(f"the two-shard ClickHouse cluster did not start: {exc}")


@pytest.fixture(scope="module")
def ch_url(cluster: ClickHouseCluster, demo_data: DemoData) -> str:
    from data_layer.clickhouse import load_cluster

    load_cluster(cluster.tcp_addresses, demo_data.tables)
    return cluster.url(1)  # the second server: a Distributed table answers from any shard


def _values(url: str, scope: Scope, levels: list[Level], periods: list[str], grain=None,
            codes: tuple[str, ...] | None = None) -> pd.DataFrame:
    wh = Warehouse(url)
    frames = []
    for level in levels:
        for text in periods:
            period = parse_period(text, THROUGH)
            wanted = tuple(c for c, ind in INDICATORS.items() if (codes is None or c in codes) and level in ind.levels
                           and not (ind.monthly and (period.kind == "week" or grain in ("day", "week"))))
            df = indicator_values(wh, scope, wanted, period, level, Filters(), grain)
            frames.append(df.assign(level=level.value, period=text))
    wh.engine.dispose()
    return pd.concat(frames, ignore_index=True)


def _assert_same(ref: pd.DataFrame, got: pd.DataFrame, keys: list[str], min_rows: int) -> None:
    merged = ref.merge(got, on=keys, how="outer", suffixes=("_ref", "_got"), indicator=True)
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, f"rows differ between DuckDB and ClickHouse:\n{missing.head(10).to_string()}"
    a, b = merged["value_ref"].astype(float).to_numpy(), merged["value_got"].astype(float).to_numpy()
    # ClickHouse holds money as Float64 (DuckDB as DECIMAL): sums may differ in the last bits
    close = np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True)
    bad = merged.loc[~close, [*keys, "value_ref", "value_got"]]
    assert bad.empty, f"{len(bad)} values differ between DuckDB and ClickHouse:\n{bad.head(20).to_string()}"
    assert (merged["name_zh_ref"] == merged["name_zh_got"]).all()
    assert len(merged) >= min_rows


def test_facts_are_spread_over_both_shards(cluster: ClickHouseCluster, ch_url: str, demo_data: DemoData) -> None:
    from data_layer.clickhouse import SHARDING_KEYS, shard_counts

    for table, key in SHARDING_KEYS.items():
        counts = shard_counts(cluster.tcp_addresses, table)
        assert sum(counts) == len(demo_data.tables[table]), table
        if demo_data.tables[table][key].nunique() >= 10:  # (7 devices may all hash to one shard)
            assert min(counts) > 0, f"{table} is not spread over both shards: {counts}"


def test_every_indicator_at_every_level_matches_duckdb(ch_url: str, duck_url: str) -> None:
    ref = _values(duck_url, Scope.hospital(), LEVELS, PERIODS)
    got = _values(ch_url, Scope.hospital(), LEVELS, PERIODS)
    assert set(ref["indicator"]) == set(INDICATORS)
    _assert_same(ref, got, KEYS, 2000)


@pytest.mark.parametrize("grain", ["month", "week", "quarter"])
def test_indicators_by_period_match_duckdb(ch_url: str, duck_url: str, grain: str) -> None:
    levels = [Level.hospital, Level.department]
    codes = ("discharges", "alos", "bed_occupancy", "revenue_total", "cmi", "time_index", "full_cost", "margin",
             "equipment_utilization", "revenue_per_fte", "budget_execution", "drug_share")
    ref = _values(duck_url, Scope.hospital(), levels, ["2025"], grain, codes)
    got = _values(ch_url, Scope.hospital(), levels, ["2025"], grain, codes)
    _assert_same(ref, got, [*KEYS, "period_start"], 100)


@pytest.mark.parametrize("scope", [Scope.departments({"D001", "D002", "D005"}), Scope.campuses({"C2"}),
                                   Scope.departments(set())], ids=["departments", "campus", "nothing"])
def test_scope_clause_keeps_the_same_rows(ch_url: str, duck_url: str, scope: Scope) -> None:
    levels = [Level.hospital, Level.campus, Level.department, Level.doctor]
    ref = _values(duck_url, scope, levels, ["2025"])
    got = _values(ch_url, scope, levels, ["2025"])
    _assert_same(ref, got, KEYS, 0)
    wh_ref, wh_got = Warehouse(duck_url), Warehouse(ch_url)
    for level in (Level.campus, Level.department, Level.ward, Level.group, Level.doctor):
        a = level_names(wh_ref, scope, level).sort_values("key").reset_index(drop=True)
        b = level_names(wh_got, scope, level).sort_values("key").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    if scope.kind == "departments" and scope.ids:
        keys = set(got.loc[got["level"] == "department", "key"])
        assert keys and keys <= scope.ids
    wh_ref.engine.dispose()
    wh_got.engine.dispose()


def test_filters_match_duckdb(ch_url: str, duck_url: str, demo_data: DemoData) -> None:
    drgs = tuple(demo_data.tables["fact_inpatient_case"]["drg_code"].dropna().value_counts().index[:2])
    codes = ("discharges", "cmi", "outpatient_visits", "bed_occupancy", "full_cost")
    period = parse_period("2025", THROUGH)
    for filters in (Filters(campus=("C1",)), Filters(kind=("clinical",), division=("surgical",)),
                    Filters(drg=drgs)):
        wanted = tuple(c for c in codes if not filters.drg or INDICATORS[c].sources == {"inpatient"})
        frames = []
        for url in (duck_url, ch_url):
            wh = Warehouse(url)
            frames.append(indicator_values(wh, Scope.hospital(), wanted, period, Level.department, filters)
                          .assign(level="department", period="2025"))
            wh.engine.dispose()
        _assert_same(frames[0], frames[1], KEYS, 0)


def test_clickhouse_sql_has_one_join_per_select_and_no_boolean_literals(ch_url: str) -> None:
    wh = Warehouse(ch_url)
    ctx = MeasureContext(level=Level.department, closed_total=True)
    period = parse_period("2025", THROUGH)
    for name, source in SOURCES.items():
        ms = sorted(m for m, meas in MEASURES.items() if meas.source == name)
        needs = frozenset().union(*(MEASURES[m].needs for m in ms))
        stmt = build_select(source, Level.department, [MEASURES[m].sql(ctx).label(m) for m in ms], needs=needs,
                            filters=Filters(),
                            window=(period.start, period.end) if source.date_col is not None else None,
                            grain="month" if source.date_col is not None else None)
        sql = str(stmt.compile(dialect=wh.engine.dialect))
        for part in sql.split("SELECT")[1:]:
            assert part.count(" JOIN ") <= 1, f"{name}: more than one JOIN in one SELECT:\n{sql}"
        assert " IS true" not in sql and " true" not in sql.lower().replace("is not null", ""), sql
        # the same statement on another backend is untouched by the ClickHouse layer
        pg = str(stmt.compile(dialect=postgresql.dialect()))
        assert "__" not in pg and "CROSS JOIN" not in pg
    wh.engine.dispose()


def test_freshness_and_data_range_match(ch_url: str, duck_url: str) -> None:
    a, b = Warehouse(duck_url), Warehouse(ch_url)
    fa, fb = a.freshness(), b.freshness()
    assert (fa.data_through, fa.first_date, fa.months_closed_through) == (fb.data_through, fb.first_date,
                                                                          fb.months_closed_through)
    assert fa.loaded_at == fb.loaded_at
    a.engine.dispose()
    b.engine.dispose()


def test_comparisons_match_duckdb(ch_url: str, duck_url: str) -> None:
    """compare() reads its three periods as one UNION ALL per source: the same on the cluster."""
    from data_layer.queries.kpis import compare

    out = []
    for url in (duck_url, ch_url):
        wh = Warehouse(url)
        out.append(compare(wh, Scope.hospital(), tuple(INDICATORS), parse_period("ytd", THROUGH), Level.department))
        wh.engine.dispose()
    merged = out[0].merge(out[1], on=["indicator", "key"], suffixes=("_ref", "_got"))
    assert len(merged) == len(out[0]) > 500
    for col in ("value", "previous", "year_ago"):
        a, b = merged[f"{col}_ref"].astype(float).to_numpy(), merged[f"{col}_got"].astype(float).to_numpy()
        assert np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True).all(), col


def test_stay_spread_matches_duckdb(ch_url: str, duck_url: str, demo_data: DemoData) -> None:
    # the alert detector's stays on the log scale: ClickHouse's ln() over Distributed tables
    from .test_backends import stay_spreads

    dept = demo_data.tables["fact_inpatient_case"]["dept_id"].value_counts().index[0]
    ref, got = stay_spreads(duck_url, dept), stay_spreads(ch_url, dept)
    assert len(ref) == len(got) > 20
    for col in ("cases", "mean_los", "sd_los", "mean_log", "sd_log"):
        assert np.allclose(ref[col], got[col], rtol=1e-9, atol=1e-7), col


def test_the_alert_scan_finds_the_same_alerts_as_on_duckdb(ch_url: str, duck_url: str) -> None:
    # every check runs (none fails on a column the compatibility layer renamed) and finds the same
    from data_layer.alerts.detect import scan

    def alerts(url: str) -> tuple[list[tuple], list[str]]:
        wh = Warehouse(url)
        try:
            r = scan(wh, Scope.hospital())
        finally:
            wh.engine.dispose()
        return (sorted((a.key, a.level, str(a.period_start), round(a.observed, 6)) for a in r.alerts),
                [s for s in r.skipped if "checks failed" in s])

    (ref, _), (got, failed) = alerts(duck_url), alerts(ch_url)
    assert not failed
    assert got == ref and len(ref) > 5
