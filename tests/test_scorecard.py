"""The national appraisal scorecard's data: each appraisal item mapped to the registry or named as
one the warehouse cannot give, year-to-date figures equal to the registry's, reference values, the
24-month trend and the departments that pull a figure down (against pandas)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from data_layer.periods import Period
from data_layer.queries.kpis import indicator_values
from data_layer.queries.scorecard import LEVEL_BAND, drags, status, trend, year_to_date
from data_layer.queries.scorecard import scorecard as card
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from data_layer.scorecard import GROUPS, ITEMS, REASONS
from data_layer.warehouse import Warehouse

from .conftest import THROUGH


def test_every_item_is_mapped_or_says_why_not() -> None:
    assert {i.group for i in ITEMS} == set(GROUPS)
    for item in ITEMS:
        assert (item.code in INDICATORS) != (item.reason in REASONS), item.name_en
    mapped = [i.code for i in ITEMS if i.code]
    assert len(mapped) == len(set(mapped)) >= 20


@pytest.mark.parametrize(("value", "ref", "hib", "want"), [
    (0.30, 0.25, True, "better"), (0.20, 0.25, True, "worse"), (0.20, 0.25, False, "better"),
    (0.252, 0.25, True, "level"), (0.25 * (1 + LEVEL_BAND) + 1e-9, 0.25, True, "better"),
    (0.3, float("nan"), True, "none"), (float("nan"), 0.25, True, "none"), (0.3, 0.25, None, "none"),
    (-0.02, 0.05, False, "better"), (0.08, 0.05, False, "worse"),
])
def test_status_reads_the_direction(value, ref, hib, want) -> None:
    assert status(value, ref, hib) == want


def test_year_to_date_figures_are_the_registrys(wh: Warehouse) -> None:
    sc = card(wh, Scope.hospital())
    ytd, last = year_to_date(wh)
    assert ytd == Period(date(THROUGH.year, 1, 1), THROUGH, "custom") and last.start == date(THROUGH.year - 1, 1, 1)
    avail = sc[sc["available"]]
    codes = tuple(avail["code"])
    now = indicator_values(wh, Scope.hospital(), codes, ytd, Level.hospital).set_index("indicator")["value"]
    got = avail.set_index("code")["ytd"]
    assert np.allclose(got.to_numpy(dtype=float), now.reindex(got.index).to_numpy(dtype=float), equal_nan=True)
    assert list(sc["name_en"]) == [i.name_en for i in ITEMS]  # the appraisal's order
    cannot = sc[sc["code"].isna()]
    assert len(cannot) >= 15 and not cannot["available"].any() and (cannot["reason_en"] != "").all()


def test_a_directors_scorecard_is_their_departments(wh: Warehouse) -> None:
    mine = card(wh, Scope.departments(("D001",)))
    ytd, _ = year_to_date(wh)
    alos = indicator_values(wh, Scope.departments(("D001",)), ("alos",), ytd, Level.hospital)["value"].iloc[0]
    assert mine.loc[mine["code"] == "alos", "ytd"].iloc[0] == pytest.approx(alos)
    whole = card(wh, Scope.hospital())
    assert mine.loc[mine["code"] == "alos", "ytd"].iloc[0] != pytest.approx(whole.loc[whole["code"] == "alos",
                                                                                      "ytd"].iloc[0])


def test_the_trend_is_24_months_each_equal_to_its_month(wh: Warehouse, demo_data) -> None:
    tr = trend(wh, Scope.hospital(), "alos")
    assert len(tr) == 24 and tr["month_start"].iloc[-1] == date(2026, 10, 1)  # the last whole month
    cases = demo_data.tables["fact_inpatient_case"]
    d = pd.to_datetime(cases["discharge_date"])
    for m in (date(2025, 3, 1), date(2026, 10, 1)):
        mine = cases[(d.dt.year == m.year) & (d.dt.month == m.month)]
        assert tr.loc[tr["month_start"] == m, "value"].iloc[0] == pytest.approx(mine["los_days"].mean())
    assert tr.loc[tr["month_start"] < date(2025, 1, 1), "value"].isna().all()  # before the data: no figure


def test_the_departments_that_pull_stays_up_most(wh: Warehouse, demo_data) -> None:
    got = drags(wh, Scope.hospital(), "alos", limit=5)
    cases = demo_data.tables["fact_inpatient_case"]
    d = pd.to_datetime(cases["discharge_date"]).dt.date
    ytd = cases[(d >= date(THROUGH.year, 1, 1)) & (d <= THROUGH)]
    whole = ytd["los_days"].mean()
    by = ytd.groupby("dept_id")["los_days"].agg(["mean", "size"])
    by["gap"] = by["mean"] - whole  # a longer stay is worse
    by["drag"] = by["gap"] * by["size"] / by["size"].sum()
    want = by[by["gap"] > 0].sort_values("drag", ascending=False).head(5)
    assert list(got["key"]) == list(want.index)
    assert np.allclose(got["drag"], want["drag"]) and np.allclose(got["value"], want["mean"])
    assert drags(wh, Scope.hospital(), "fund_share_inpatient").empty  # no better direction: nothing drags
