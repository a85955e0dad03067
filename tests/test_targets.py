"""Annual targets: pacing, projection and status against hand-computed cases and against an
independent computation on the demo hospital's own tables."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data_layer.queries.targets import assess, elapsed, is_sum, project, target_progress, working_days
from data_layer.registry import INDICATORS
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

THROUGH = date(2026, 11, 21)


def test_sums_accrue_and_levels_do_not() -> None:
    assert is_sum(INDICATORS["discharges"].formula) and is_sum(INDICATORS["revenue_total"].formula)
    assert is_sum(INDICATORS["balance"].formula)  # revenue - full cost
    assert not any(is_sum(INDICATORS[c].formula) for c in ("alos", "cmi", "drug_share", "margin"))


@pytest.mark.parametrize(("target", "projection", "higher", "status"), [
    (100, 100, True, "on_track"), (100, 120, True, "on_track"), (100, 96, True, "at_risk"),
    (100, 95, True, "at_risk"), (100, 94.9, True, "off_track"),
    (8.0, 7.9, False, "on_track"), (8.0, 8.3, False, "at_risk"), (8.0, 9.0, False, "off_track"),  # average stay
    (0.3, 0.31, False, "at_risk"), (0.3, 0.33, False, "off_track"),  # drug share
    (0, 0, False, "on_track"), (0, 1, False, "off_track"), (0, 0, True, "on_track"), (0, 5, True, "on_track"),
    (-100, -90, True, "on_track"), (-100, -104, True, "at_risk"), (-100, -120, True, "off_track"),  # a planned loss
    (100, float("nan"), True, "off_track"),
])
def test_status_respects_direction_zero_and_negative_targets(target, projection, higher, status) -> None:
    assert assess(target, projection, higher) == status


def test_projection_uses_the_seasonal_pattern_or_the_run_rate() -> None:
    assert project(800, [0.8, 0.78, 0.82], 0.88) == pytest.approx(1000)
    assert project(880, [], 0.88) == pytest.approx(1000)  # no history: the run rate
    assert project(880, [float("nan"), 0, None], 0.88) == pytest.approx(1000)  # unusable history is ignored


def test_working_days_follow_the_calendar_and_fall_back_to_weekdays(wh: Warehouse, demo_data) -> None:
    dd = demo_data.tables["dim_date"]
    dd = dd[pd.to_datetime(dd["date"]).dt.year == 2026]
    assert working_days(wh, date(2026, 1, 1), date(2026, 12, 31)) == int(dd["is_workday"].sum())
    # 2030 is outside the demo calendar: Monday to Friday
    assert working_days(wh, date(2030, 1, 7), date(2030, 1, 20)) == 10
    share = elapsed(wh, THROUGH, date(2026, 10, 31))
    done = dd[pd.to_datetime(dd["date"]).dt.date <= THROUGH]["is_workday"].sum()
    assert share.workdays == pytest.approx(done / dd["is_workday"].sum())
    assert share.days == pytest.approx(325 / 365) and share.months == pytest.approx(10 / 12)


def test_progress_against_an_independent_computation(wh: Warehouse, demo_data) -> None:
    goals = demo_data.tables["fact_target_annual"]
    dept = goals[(goals["year"] == 2026) & (goals["indicator_code"] == "discharges")]["dept_id"].iloc[0]
    got = target_progress(wh, Scope.hospital(), dept, THROUGH).set_index("indicator")
    target = float(goals[(goals["year"] == 2026) & (goals["dept_id"] == dept)
                         & (goals["indicator_code"] == "discharges")]["target_value"].iloc[0])
    cases = demo_data.tables["fact_inpatient_case"]
    cases = cases[cases["dept_id"] == dept].assign(day=pd.to_datetime(cases["discharge_date"]).dt.date)
    actual = ((cases["day"] >= date(2026, 1, 1)) & (cases["day"] <= THROUGH)).sum()
    dd = demo_data.tables["dim_date"].assign(day=lambda f: pd.to_datetime(f["date"]).dt.date)
    year = dd[(dd["day"] >= date(2026, 1, 1)) & (dd["day"] <= date(2026, 12, 31))]
    frac = year[year["day"] <= THROUGH]["is_workday"].sum() / year["is_workday"].sum()
    row = got.loc["discharges"]
    assert row["basis"] == "workdays" and row["actual"] == actual and row["target"] == pytest.approx(target)
    assert row["expected"] == pytest.approx(target * frac)
    assert row["deviation"] == pytest.approx(actual - target * frac)
    # the seasonal share: the same part of 2025 over the whole of 2025 (2024 is not a whole year here)
    part = ((cases["day"] >= date(2025, 1, 1)) & (cases["day"] <= date(2025, 11, 21))).sum()
    whole = ((cases["day"] >= date(2025, 1, 1)) & (cases["day"] <= date(2025, 12, 31))).sum()
    assert row["history_years"] == 1
    assert row["projection"] == pytest.approx(actual / (part / whole))
    assert row["status"] == assess(target, actual / (part / whole), True)
    if "alos" in got.index:  # a level: set against the target as it is
        alos = got.loc["alos"]
        assert alos["basis"] == "level" and alos["expected"] == alos["target"] and alos["projection"] == alos["actual"]


def test_no_targets_and_other_scopes(wh: Warehouse, demo_data) -> None:
    assert target_progress(wh, Scope.hospital(), "NO-SUCH-DEPT", THROUGH).empty
    goals = demo_data.tables["fact_target_annual"]
    dept = goals["dept_id"].iloc[0]
    other = "D002" if dept != "D002" else "D003"
    assert target_progress(wh, Scope.departments([other]), dept, THROUGH).empty  # outside the scope: nothing


def test_progress_of_several_departments_at_once_is_each_ones_progress(wh: Warehouse) -> None:
    from data_layer.queries.targets import targets_progress

    depts = ("D001", "D002", "D003")
    many = targets_progress(wh, Scope.hospital(), depts, THROUGH)
    assert set(many["dept_id"]) == set(depts)
    for d in depts:
        one = target_progress(wh, Scope.hospital(), d, THROUGH)
        got = many[many["dept_id"] == d].drop(columns=["dept_id"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one)
