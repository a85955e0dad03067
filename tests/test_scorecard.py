"""The national appraisal scorecard's data: each appraisal item mapped to the registry or named as
one the warehouse cannot give, year-to-date figures equal to the registry's, reference values, the
24-month trend and the departments that pull a figure down (against pandas)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.kpis import indicator_values
from data_layer.queries.scorecard import (
    LEVEL_BAND,
    breakdown,
    drags,
    item_case_count,
    item_cases,
    status,
    trend,
    year_to_date,
)
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


def test_trends_read_together_equal_each_trend_read_alone(wh: Warehouse, demo_data) -> None:
    """The screen reads its 20-odd sparklines in one pass; each is the figure the indicator's own
    trend gives (an indicator the warehouse cannot give, or one without a department level, too)."""
    from data_layer.queries.scorecard import trends

    codes = ("alos", "day_surgery_share", "balance", "charge_per_visit_growth", "pharmacists_per_100_beds")
    together = trends(wh, Scope.hospital(), codes)
    cases = demo_data.tables["fact_inpatient_case"]
    d = pd.to_datetime(cases["discharge_date"])
    mine = cases[(d.dt.year == 2026) & (d.dt.month == 10)]
    alos = together["alos"]
    assert alos.loc[alos["month_start"] == date(2026, 10, 1), "value"].iloc[0] == pytest.approx(mine["los_days"].mean())
    for code in codes:
        alone = trend(wh, Scope.hospital(), code)
        pd.testing.assert_frame_equal(together[code], alone)


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


# ---- the departments behind a figure: each judged on the indicator's own denominator -------------

def _ytd_cases(demo_data) -> pd.DataFrame:
    cases = demo_data.tables["fact_inpatient_case"]
    d = pd.to_datetime(cases["discharge_date"]).dt.date
    deps = demo_data.tables["dim_department"].set_index("dept_id")["kind"]
    ytd = cases[(d >= date(THROUGH.year, 1, 1)) & (d <= THROUGH)]
    return ytd[ytd["dept_id"].map(deps) == "clinical"]


def test_day_surgery_drags_weigh_each_department_by_its_elective_operations(wh: Warehouse, demo_data) -> None:
    ytd = _ytd_cases(demo_data)
    elective = ytd[(ytd["is_day_surgery"] == True) | (ytd["is_elective"] == True)]  # noqa: E712
    by = elective.groupby("dept_id")["is_day_surgery"].agg(["mean", "size"])
    by["weight"] = by["size"] / by["size"].sum()
    whole = float((by["mean"] * by["weight"]).sum())
    assert whole == pytest.approx(elective["is_day_surgery"].mean())  # the reference is the scope's figure
    by["gap"] = whole - by["mean"]  # higher is better
    by["drag"] = by["gap"] * by["weight"]
    want = by[by["gap"] > 0].sort_values(["drag"], ascending=False).head(5)
    got = drags(wh, Scope.hospital(), "day_surgery_share")
    assert list(got["key"]) == list(want.index)
    assert np.allclose(got["weight"], want["weight"]) and np.allclose(got["drag"], want["drag"])
    ytd_p, _ = year_to_date(wh)
    full = breakdown(wh, Scope.hospital(), "day_surgery_share", ytd_p)
    assert full["drag"].sum() == pytest.approx(0, abs=1e-12)  # a ratio of sums: the drags add up to nothing
    assert set(full["key"]) == set(by.index)


def test_the_complication_rate_is_judged_on_operations(wh: Warehouse, demo_data) -> None:
    ytd = _ytd_cases(demo_data)
    ops = ytd[(ytd["surgery_level"] > 0) & ytd["has_surgical_complication"].notna()]
    by = ops.groupby("dept_id")["has_surgical_complication"].agg(["mean", "size"])
    per, _ = year_to_date(wh)
    got = breakdown(wh, Scope.hospital(), "surgical_complication_rate", per).set_index("key")
    assert np.allclose(got.loc[by.index, "volume"], by["size"])
    assert np.allclose(got.loc[by.index, "value"], by["mean"].astype(float))


def test_a_balance_drags_by_its_losses(wh: Warehouse) -> None:
    got = drags(wh, Scope.hospital(), "balance")
    assert (got["value"] < 0).all() and np.allclose(got["drag"], -got["value"])
    assert list(got["drag"]) == sorted(got["drag"], reverse=True)


def test_drill_to_drg_groups_and_cases_against_pandas(wh: Warehouse, demo_data) -> None:
    per, _ = year_to_date(wh)
    ytd = _ytd_cases(demo_data)
    dept = "D001"
    mine = ytd[ytd["dept_id"] == dept]
    by = mine.groupby("drg_code")["los_days"].agg(["mean", "size"])
    got = breakdown(wh, Scope.hospital(), "alos", per, "drg", dept=dept).set_index("key")
    assert set(got.index) == set(by.index)
    assert np.allclose(got.loc[by.index, "value"], by["mean"]) and np.allclose(got.loc[by.index, "volume"], by["size"])
    drg = got.index[0]
    cases = item_cases(wh, Scope.hospital(), "alos", per, dept, drg)
    want = mine[mine["drg_code"] == drg]
    assert set(cases["case_id"]) == set(want["case_id"].astype(str))
    assert item_case_count(wh, Scope.hospital(), "alos", per, dept, drg) == len(want)
    assert cases["contribution"].mean() == pytest.approx(got.loc[drg, "value"])
    assert list(cases["contribution"]) == sorted(cases["contribution"], reverse=True)  # the longest stays first
    ops = ytd[(ytd["surgery_level"] > 0) & ytd["has_surgical_complication"].notna()]
    comp = item_cases(wh, Scope.hospital(), "surgical_complication_rate", per)
    assert item_case_count(wh, Scope.hospital(), "surgical_complication_rate", per) == len(ops)
    assert comp["contribution"].sum() == ops["has_surgical_complication"].sum()
    with pytest.raises(UserError):
        item_cases(wh, Scope.hospital(), "personnel_cost_share", per)
    with pytest.raises(UserError):
        breakdown(wh, Scope.hospital(), "personnel_cost_share", per, "drg")


def test_a_directors_drill_stays_in_his_departments(wh: Warehouse) -> None:
    per, _ = year_to_date(wh)
    mine = Scope.departments(("D001", "D003"))
    assert set(breakdown(wh, mine, "alos", per)["key"]) <= {"D001", "D003"}
    assert set(drags(wh, mine, "alos")["key"]) <= {"D001", "D003"}
    assert set(item_cases(wh, mine, "alos", per)["dept_id"]) <= {"D001", "D003"}
    assert item_cases(wh, mine, "alos", per, "D002").empty  # another department's cases: none


def test_a_version_1_warehouse_gives_what_it_can(v1_url: str) -> None:
    v1 = Warehouse(v1_url)
    sc = card(v1, Scope.hospital())
    by = sc.set_index("name_en")
    assert by.loc["Average length of stay", "available"] and by.loc["Average length of stay", "ytd"] > 0
    v2 = sc[sc["code"].isin(["day_surgery_share", "preop_days", "low_risk_mortality"])]
    assert not v2["available"].any() and v2["ytd"].isna().all() and (v2["reason_en"].str.contains("version 2")).all()
    assert sc["national_median"].isna().all() and (sc["source"] == "").all()  # no fact_benchmark
    per, _ = year_to_date(v1)
    assert breakdown(v1, Scope.hospital(), "day_surgery_share", per).empty
    assert item_cases(v1, Scope.hospital(), "preop_days", per).empty and drags(v1, Scope.hospital(), "preop_days").empty
    assert not breakdown(v1, Scope.hospital(), "alos", per).empty


def test_a_central_resource_has_no_figure_for_departments(wh: Warehouse) -> None:
    mine = card(wh, Scope.departments(("D001",))).set_index("code")
    assert not mine.loc["pharmacists_per_100_beds", "available"]
    assert mine.loc["pharmacists_per_100_beds", "reason"] == "hospital_only"
    assert np.isnan(mine.loc["pharmacists_per_100_beds", "ytd"])
    assert card(wh, Scope.hospital()).set_index("code").loc["pharmacists_per_100_beds", "available"]
