"""Scope: nothing outside the caller's departments ever comes back from a query."""
from __future__ import annotations

import pytest

from data_layer.periods import parse_period
from data_layer.queries.kpis import compare, indicator_values
from data_layer.queries.names import level_names
from data_layer.queries.structure import departments, summary
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import THROUGH

PERIOD = parse_period("2025", THROUGH)


def _dept_of(wh: Warehouse, level: Level) -> dict[str, str]:
    """member id -> department id, from the raw dimension tables."""
    import pandas as pd
    from sqlalchemy import select

    from data_layer.schema import dim_doctor, dim_medical_group, dim_ward

    with wh.engine.connect() as conn:
        table = {Level.ward: dim_ward, Level.group: dim_medical_group, Level.doctor: dim_doctor}[level]
        key = {Level.ward: "ward_id", Level.group: "group_id", Level.doctor: "doctor_id"}[level]
        df = pd.DataFrame(conn.execute(select(table.c[key], table.c.dept_id)).fetchall(), columns=["k", "d"])
    return dict(zip(df["k"], df["d"], strict=True))


@pytest.fixture(scope="module")
def two_departments(wh: Warehouse) -> list[str]:
    deps = departments(wh, Scope.hospital())
    clinical = deps[(deps["kind"] == "clinical") & (deps["open_beds"] > 0)]
    return list(clinical["dept_id"].iloc[:2])


def test_department_scope_returns_only_its_departments(wh: Warehouse, two_departments: list[str]) -> None:
    scope = Scope.departments(two_departments)
    codes = tuple(c for c, i in INDICATORS.items() if Level.department in i.levels)
    df = indicator_values(wh, scope, codes, PERIOD, Level.department)
    assert set(df["key"]) == set(two_departments)


@pytest.mark.parametrize("level", [Level.ward, Level.group, Level.doctor])
def test_lower_levels_stay_inside_the_scope(wh: Warehouse, two_departments: list[str], level: Level) -> None:
    scope = Scope.departments(two_departments)
    codes = tuple(c for c, i in INDICATORS.items() if level in i.levels)
    df = indicator_values(wh, scope, codes, PERIOD, level)
    owner = _dept_of(wh, level)
    assert not df.empty
    assert {owner[k] for k in df["key"]} <= set(two_departments)


def test_asking_for_an_outside_department_by_id_returns_nothing(wh: Warehouse, two_departments: list[str]) -> None:
    deps = departments(wh, Scope.hospital())
    outside = [d for d in deps["dept_id"] if d not in two_departments][:3]
    scope = Scope.departments(two_departments)
    df = indicator_values(wh, scope, ("discharges", "revenue_total", "full_cost"), PERIOD, Level.department,
                          Filters(department=tuple(outside)))
    assert df.empty
    assert compare(wh, scope, ("discharges",), PERIOD, Level.department, Filters(department=tuple(outside))).empty


def test_hospital_total_of_a_scope_is_the_sum_of_its_departments(wh: Warehouse, two_departments: list[str]) -> None:
    scope = Scope.departments(two_departments)
    whole = indicator_values(wh, scope, ("discharges", "revenue_total", "full_cost"), PERIOD, Level.hospital)
    parts = indicator_values(wh, scope, ("discharges", "revenue_total", "full_cost"), PERIOD, Level.department)
    for code in ("discharges", "revenue_total", "full_cost"):
        total = whole.loc[whole["indicator"] == code, "value"].iloc[0]
        assert total == pytest.approx(parts.loc[parts["indicator"] == code, "value"].sum(), rel=1e-9)


def test_campus_scope_sees_one_campus(wh: Warehouse) -> None:
    scope = Scope.campuses(["C2"])
    df = indicator_values(wh, scope, ("discharges",), PERIOD, Level.campus)
    assert list(df["key"]) == ["C2"]
    assert set(departments(wh, scope)["campus_id"]) == {"C2"}
    assert set(level_names(wh, scope, Level.campus)["key"]) == {"C2"}


def test_an_empty_scope_sees_nothing(wh: Warehouse) -> None:
    scope = Scope.departments([])
    assert departments(wh, scope).empty
    assert summary(wh, scope)["doctors"] == 0
    df = indicator_values(wh, scope, ("discharges",), PERIOD, Level.department)
    assert df.empty


def test_queries_refuse_to_run_without_a_scope(wh: Warehouse) -> None:
    with pytest.raises(TypeError, match="needs a Scope"):
        indicator_values(wh, None, ("discharges",), PERIOD)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a Scope"):
        departments(wh, "hospital")  # type: ignore[arg-type]


def test_cache_keys_include_the_scope(wh: Warehouse, two_departments: list[str]) -> None:
    a = indicator_values(wh, Scope.departments(two_departments[:1]), ("discharges",), PERIOD)
    b = indicator_values(wh, Scope.departments(two_departments[1:]), ("discharges",), PERIOD)
    c = indicator_values(wh, Scope.hospital(), ("discharges",), PERIOD)
    assert a["value"].iloc[0] + b["value"].iloc[0] < c["value"].iloc[0]
    assert a["value"].iloc[0] != b["value"].iloc[0]


def test_live_figures_follow_the_campus_scope(wh: Warehouse, two_departments: list[str]) -> None:
    from datetime import datetime

    from data_layer.queries.live import live_rows

    live_figures = lambda w, sc: live_rows(w, sc, datetime(2000, 1, 1))  # noqa: E731 - every row since

    everything = live_figures(wh, Scope.hospital())
    assert set(everything["campus_id"]) == {"C1", "C2", "C3"} and len(everything) == 21
    assert set(live_figures(wh, Scope.campuses(["C3"]))["campus_id"]) == {"C3"}
    assert live_figures(wh, Scope.departments(two_departments)).empty
