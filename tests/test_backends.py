"""The same small warehouse in DuckDB, SQLite, PostgreSQL and MariaDB gives the same numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_layer.periods import parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import THROUGH

LEVELS = [Level.hospital, Level.campus, Level.division, Level.department, Level.ward, Level.group, Level.doctor,
          Level.drg]
PERIODS = ["2025", "2026-03", "2026-W10"]


def _all_values(url: str) -> pd.DataFrame:
    wh = Warehouse(url)
    frames = []
    for level in LEVELS:
        for text in PERIODS:
            period = parse_period(text, THROUGH)
            codes = tuple(c for c, ind in INDICATORS.items()
                          if level in ind.levels and not (ind.monthly and period.kind == "week"))
            df = indicator_values(wh, Scope.hospital(), codes, period, level)
            frames.append(df.assign(level=level.value, period=text))
    wh.engine.dispose()
    return pd.concat(frames, ignore_index=True)[["level", "period", "indicator", "key", "name_zh", "value"]]


@pytest.fixture(scope="module")
def reference(duck_url: str) -> pd.DataFrame:
    return _all_values(duck_url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_every_indicator_matches_duckdb(backend: str, reference: pd.DataFrame, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{'postgres' if backend == 'postgresql' else backend}_url")
    got = _all_values(url)
    keys = ["level", "period", "indicator", "key"]
    merged = reference.merge(got, on=keys, how="outer", suffixes=("_ref", "_got"), indicator=True)
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, f"rows differ between DuckDB and {backend}:\n{missing.head(10)}"
    a, b = merged["value_ref"].astype(float).to_numpy(), merged["value_got"].astype(float).to_numpy()
    close = np.isclose(a, b, rtol=1e-9, atol=1e-7, equal_nan=True)
    bad = merged.loc[~close, [*keys, "value_ref", "value_got"]]
    assert bad.empty, f"{len(bad)} values differ between DuckDB and {backend}:\n{bad.head(20).to_string()}"
    assert (merged["name_zh_ref"] == merged["name_zh_got"]).all()
    assert len(merged) > 2000


@pytest.mark.parametrize("which", ["postgres", "mariadb"])
def test_the_read_only_warehouse_refuses_writes_on_servers(request: pytest.FixtureRequest, which: str) -> None:
    """Read-only warehouse sessions on a server: writes are refused by the session itself, not
    only by the account's rights (docs/deployment.md)."""
    from sqlalchemy import text

    from data_layer.engine import make_engine

    url = request.getfixturevalue(f"{which}_url")
    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from dim_campus")).scalar() > 0
            with pytest.raises(Exception, match="(?i)read.only|READ ONLY"):
                conn.execute(text("update dim_campus set name_en = name_en"))
    finally:
        engine.dispose()


def _comparisons(url: str) -> pd.DataFrame:
    """compare(): the period with the previous one and last year, read in one round trip per source."""
    from data_layer.queries.kpis import compare

    wh = Warehouse(url)
    frames = []
    for level in (Level.hospital, Level.department, Level.group):
        for text in ("ytd", "2026-10", "2026-Q3"):
            codes = tuple(c for c, ind in INDICATORS.items() if level in ind.levels)
            frames.append(compare(wh, Scope.hospital(), codes, parse_period(text, THROUGH), level)
                          .assign(level=level.value, text=text))
    wh.engine.dispose()
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_comparisons_match_duckdb(backend: str, duck_url: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{'postgres' if backend == 'postgresql' else backend}_url")
    ref, got = _comparisons(duck_url), _comparisons(url)
    keys = ["level", "text", "indicator", "key"]
    merged = ref.merge(got, on=keys, how="outer", suffixes=("_ref", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for col in ("value", "previous", "year_ago"):
        a, b = merged[f"{col}_ref"].astype(float).to_numpy(), merged[f"{col}_got"].astype(float).to_numpy()
        assert np.isclose(a, b, rtol=1e-9, atol=1e-7, equal_nan=True).all(), col
    assert merged["previous_ref"].notna().sum() > 500 and merged["year_ago_ref"].notna().sum() > 500


def stay_spreads(url: str, dept: str) -> pd.DataFrame:
    """The alert detector's per-case spread of stays (raw and on the log scale) for one department."""
    from datetime import date

    from data_layer.periods import Period
    from data_layer.queries.drg_detail import stay_spread

    wh = Warehouse(url)
    try:
        return stay_spread(wh, Scope.hospital(), dept, Period(date(2025, 7, 1), date(2026, 6, 30), "custom"))
    finally:
        wh.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_stay_spread_matches_duckdb(backend: str, duck_url: str, demo_data, request: pytest.FixtureRequest) -> None:
    # ln() on every backend: SQLite without its math functions gets one from Python (engine._sqlite_math)
    url = request.getfixturevalue(f"{'postgres' if backend == 'postgresql' else backend}_url")
    dept = demo_data.tables["fact_inpatient_case"]["dept_id"].value_counts().index[0]
    ref, got = stay_spreads(duck_url, dept), stay_spreads(url, dept)
    assert len(ref) == len(got) > 20
    for col in ("cases", "mean_los", "sd_los", "mean_log", "sd_log"):
        assert np.allclose(ref[col], got[col], rtol=1e-9, atol=1e-7), col
