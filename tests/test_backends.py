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
