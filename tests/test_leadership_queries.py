"""Queries behind the leadership screens: DRG groups and department profit, checked against the raw rows."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data_layer.periods import Period, parse_period
from data_layer.queries.drg import drg_cost_structure, drg_departments, drg_groups
from data_layer.queries.profit import department_profit
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import THROUGH

PERIOD = parse_period("2025", THROUGH)


@pytest.fixture(scope="module")
def cases(demo_data) -> pd.DataFrame:
    ip = demo_data.tables["fact_inpatient_case"]
    d = pd.to_datetime(ip["discharge_date"])
    return ip[(d >= "2025-01-01") & (d <= "2025-12-31") & ip["drg_code"].notna()]


def test_drg_groups_match_the_cases(wh, cases) -> None:
    got = drg_groups(wh, Scope.hospital(), PERIOD).set_index("drg_code")
    g = cases.groupby("drg_code")
    margin = (cases["drg_payment"] - cases["cost_total"]).groupby(cases["drg_code"]).sum()
    assert set(got.index) == set(g.groups)
    assert got["cases"].to_dict() == pytest.approx(g.size().astype(float).to_dict())
    assert got["drg_margin"].to_dict() == pytest.approx(margin.to_dict(), rel=1e-9)
    assert got["payment_per_case"].to_dict() == pytest.approx((g["drg_payment"].sum() / g.size()).to_dict(), rel=1e-9)
    assert got["drg_margin"].is_monotonic_increasing  # the loss-makers first
    assert (got["drg_margin"] < 0).any()


def test_the_departments_carrying_a_loss_making_group(wh, cases) -> None:
    worst = drg_groups(wh, Scope.hospital(), PERIOD)["drg_code"].iloc[0]
    got = drg_departments(wh, Scope.hospital(), PERIOD, worst).set_index("dept_id")
    mine = cases[cases["drg_code"] == worst]
    want = (mine["drg_payment"] - mine["cost_total"]).groupby(mine["dept_id"]).sum()
    assert got["drg_margin"].to_dict() == pytest.approx(want.to_dict(), rel=1e-9)
    assert got["cases"].sum() == len(mine)


def test_cost_structure_of_a_group_adds_up_to_its_cost(wh, cases) -> None:
    code = cases["drg_code"].value_counts().index[0]
    got = drg_cost_structure(wh, Scope.hospital(), PERIOD, code).set_index("component")["per_case"]
    mine = cases[cases["drg_code"] == code]
    assert got.drop("payment").sum() == pytest.approx(mine["cost_total"].mean(), rel=1e-6)
    assert got["payment"] == pytest.approx(mine["drg_payment"].mean(), rel=1e-9)


def test_department_profit_tiers_add_up_and_respect_filters(wh, demo_data) -> None:
    got = department_profit(wh, Scope.hospital(), PERIOD)
    tiers = got[["direct_cost", "admin_allocated_cost", "support_allocated_cost", "medtech_allocated_cost"]].sum(axis=1)
    assert tiers.to_numpy() == pytest.approx(got["full_cost"].to_numpy(), rel=1e-9)
    assert (got["balance"] - (got["revenue_total"] - got["full_cost"])).abs().max() < 1e-6
    kinds = demo_data.tables["dim_department"].set_index("dept_id")["kind"]
    assert set(kinds[got["dept_id"]]) == {"clinical"}
    assert got["balance"].is_monotonic_decreasing
    east = department_profit(wh, Scope.hospital(), PERIOD, Filters(campus=("C2",)))
    assert set(east["campus_id"]) == {"C2"} and len(east) < len(got)
    surgical = department_profit(wh, Scope.hospital(), PERIOD, Filters(division=("surgical",)))
    assert set(surgical["division"]) == {"surgical"}


def test_department_profit_stays_in_scope(wh) -> None:
    got = department_profit(wh, Scope.departments(["D001", "D002"]), PERIOD)
    assert set(got["dept_id"]) <= {"D001", "D002"}


def test_tables_keep_every_column_when_a_figure_is_missing(wh: Warehouse) -> None:
    """Found by the load test: a period without a closed month has no cost figures, and a medical
    group may have no value for an indicator; the wide tables keep the column (empty) rather
    than lose it, so sorting and pages do not fail."""
    from data_layer.queries.department import GROUP_CODES, group_table
    from data_layer.queries.profit import CODES, department_profit

    mtd = Period(date(2026, 11, 1), date(2026, 11, 21))  # November is not closed
    profit = department_profit(wh, Scope.hospital(), mtd)
    assert set(CODES) <= set(profit.columns) and profit["balance"].isna().all() and len(profit) > 5
    assert profit["revenue_total"].notna().all()
    groups = group_table(wh, Scope.hospital(), "D001", Period(date(2026, 11, 21), date(2026, 11, 21)))
    assert set(GROUP_CODES) <= set(groups.columns)


@pytest.mark.parametrize("level", ["hospital", "division"])
def test_a_comparison_with_last_year_alone_gives_the_full_comparisons_figures(wh: Warehouse, level: str) -> None:
    """compare(with_previous=False), as the wall screens ask (they show no month-on-month change):
    the same values, year-ago figures and changes as the full comparison, and no previous period."""
    from data_layer.queries.kpis import compare
    from data_layer.registry import Level

    codes = ("discharges", "revenue_total", "bed_occupancy", "alos", "cmi", "drug_share", "margin")
    ytd = Period(date(THROUGH.year, 1, 1), THROUGH)
    full = compare(wh, Scope.hospital(), codes, ytd, Level(level))
    alone = compare(wh, Scope.hospital(), codes, ytd, Level(level), with_previous=False)
    assert len(alone) == len(full) > 0
    assert list(alone.columns) == list(full.columns)
    cols = ["key", "indicator", "value", "year_ago", "yoy", "yoy_diff"]
    pd.testing.assert_frame_equal(alone[cols].reset_index(drop=True), full[cols].reset_index(drop=True))
    assert alone[["previous", "mom", "mom_diff"]].isna().all().all()
    assert full["previous"].notna().any()  # the full comparison does read a previous period


@pytest.mark.parametrize("with_previous", [True, False])
def test_periods_compared_in_one_read_are_each_periods_own_comparison(wh: Warehouse, with_previous: bool) -> None:
    """compare_periods, as the campus screen reads the month and the year to date at once: each
    period's frame is what compare gives for that period alone, previous period and year ago
    included, and the two periods' windows are read by one statement per source."""
    from sqlalchemy import event

    from data_layer.queries.kpis import compare, compare_periods

    codes = ("outpatient_visits", "discharges", "revenue_total", "bed_occupancy", "alos", "drug_share")
    mtd, ytd = Period(THROUGH.replace(day=1), THROUGH), Period(date(THROUGH.year, 1, 1), THROUGH)
    wh.cache.clear()
    seen: list[str] = []
    listen = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(wh.engine, "before_cursor_execute", listen)
    try:
        wh.freshness()
        seen.clear()
        together = compare_periods(wh, Scope.hospital(), codes, (mtd, ytd), with_previous=with_previous)
        read_together = len(seen)
        seen.clear()
        alone = [compare.uncached(wh, Scope.hospital(), codes, p, with_previous=with_previous) for p in (mtd, ytd)]
    finally:
        event.remove(wh.engine, "before_cursor_execute", listen)
    for got, want in zip(together, alone, strict=True):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert together[0]["period"].iloc[0] != together[1]["period"].iloc[0]
    assert read_together < len(seen)  # the two periods alone read each source twice
