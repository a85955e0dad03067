"""The demo generator: deterministic, internally consistent, with its anomalies recorded truly."""
from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from data_layer.demo import generate
from data_layer.demo.generate import DemoData
from data_layer.schema import COMPONENT_SUMS, metadata

from .conftest import SMALL


def test_same_seed_gives_identical_tables(demo_data: DemoData) -> None:
    again = generate(**SMALL)
    assert again.anomalies == demo_data.anomalies
    for name, frame in demo_data.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name], check_dtype=True, obj=name)


def test_another_seed_gives_another_hospital(demo_data: DemoData) -> None:
    other = generate(**{**SMALL, "seed": 8})
    a, b = demo_data.tables["fact_inpatient_case"], other.tables["fact_inpatient_case"]
    assert len(a) != len(b) or not a["charge_total"].equals(b["charge_total"])


def test_every_contract_table_and_column_is_generated(demo_data: DemoData) -> None:
    for table in metadata.sorted_tables:
        assert table.name in demo_data.tables
        assert list(demo_data.tables[table.name].columns) == [c.name for c in table.columns]


@pytest.mark.parametrize(("table", "total", "parts"),
                         [(t, tot, parts) for t, sums in COMPONENT_SUMS.items() for tot, parts in sums])
def test_components_add_up_to_totals(demo_data: DemoData, table: str, total: str, parts: tuple[str, ...]) -> None:
    df = demo_data.tables[table]
    gap = (df[total] - df[list(parts)].sum(axis=1)).abs()
    assert gap.max() <= 0.01


def test_los_is_discharge_minus_admission(demo_data: DemoData) -> None:
    ip = demo_data.tables["fact_inpatient_case"]
    days = (pd.to_datetime(ip["discharge_date"]) - pd.to_datetime(ip["admit_date"])).dt.days
    assert (days == ip["los_days"]).all()


def test_ward_census_agrees_with_cases(demo_data: DemoData) -> None:
    """Discharges per ward-day in fact_ward_daily are exactly the discharged cases."""
    ip = demo_data.tables["fact_inpatient_case"]
    wd = demo_data.tables["fact_ward_daily"]
    from_cases = ip.groupby([pd.to_datetime(ip["discharge_date"]).rename("date"), "ward_id"]).size()
    from_census = wd.set_index([pd.to_datetime(wd["date"]), "ward_id"])["discharges"]
    joined = from_census.to_frame("census").join(from_cases.rename("cases"), how="left").fillna(0)
    assert (joined["census"] == joined["cases"]).all()


def test_dim_date_covers_every_fact_date_and_the_whole_current_year(demo_data: DemoData) -> None:
    days = set(pd.to_datetime(demo_data.tables["dim_date"]["date"]).dt.date)
    for table, cols in (("fact_inpatient_case", ("admit_date", "discharge_date")), ("fact_outpatient_daily", ("date",)),
                        ("fact_ward_daily", ("date",)), ("fact_equipment_daily", ("date",))):
        for col in cols:
            assert set(pd.to_datetime(demo_data.tables[table][col]).dt.date) <= days, (table, col)
    assert date(2026, 12, 31) in days


def test_spring_festival_and_adjusted_workdays_are_in_the_calendar(demo_data: DemoData) -> None:
    dd = demo_data.tables["dim_date"].set_index("date")
    assert "春节" in dd.loc[date(2026, 2, 17), "holiday_name"]
    assert not dd.loc[date(2026, 2, 17), "is_workday"]
    assert dd.loc[date(2026, 2, 14), "is_workday"]  # a Saturday made a workday (调休)


def test_spring_festival_dips_discharges(demo_data: DemoData) -> None:
    ip = demo_data.tables["fact_inpatient_case"]
    per_day = ip.groupby(pd.to_datetime(ip["discharge_date"])).size()
    festival = per_day[pd.Timestamp("2026-02-15"):pd.Timestamp("2026-02-21")].mean()
    march = per_day[pd.Timestamp("2026-03-09"):pd.Timestamp("2026-03-15")].mean()
    assert festival < 0.6 * march


def test_outpatient_weekends_are_quieter_than_mondays(demo_data: DemoData) -> None:
    op = demo_data.tables["fact_outpatient_daily"]
    dd = demo_data.tables["dim_date"].assign(date=lambda f: pd.to_datetime(f["date"])).set_index("date")
    per_day = op.groupby(pd.to_datetime(op["date"]))["visits"].sum()
    wd = dd["weekday"].reindex(per_day.index)
    work = dd["is_workday"].reindex(per_day.index)
    assert per_day[(wd == 1) & work].mean() > 2 * per_day[wd == 7].mean()


def test_step_down_allocation_moves_money_without_creating_it(demo_data: DemoData) -> None:
    cost = demo_data.tables["fact_dept_cost_monthly"]
    kinds = demo_data.tables["dim_department"].set_index("dept_id")["kind"]
    direct = cost[cost["allocation_stage"] == "direct"].groupby("month_start")["amount"].sum()
    clinical = cost[cost["dept_id"].map(kinds) == "clinical"].groupby("month_start")["amount"].sum()
    assert np.allclose(direct.to_numpy(), clinical.reindex(direct.index).to_numpy(), atol=0.01)


def test_some_wards_run_above_100_percent_and_some_groups_lose_money(demo_data: DemoData) -> None:
    wd = demo_data.tables["fact_ward_daily"]
    occ = wd.groupby("ward_id")["occupied_beds"].sum() / wd.groupby("ward_id")["open_beds"].sum()
    assert (occ > 1.0).any() and (occ < 1.0).any()
    ip = demo_data.tables["fact_inpatient_case"].dropna(subset=["drg_code"])
    margin = (ip["drg_payment"] - ip["cost_total"]).groupby(ip["drg_code"]).sum()
    assert (margin < 0).any() and (margin > 0).any()
    assert demo_data.tables["fact_inpatient_case"]["drg_code"].isna().any()  # not grouped (未入组)


def test_at_least_seven_kinds_of_anomaly_are_injected_and_recorded(demo_data: DemoData, truth_path) -> None:
    kinds = {a["kind"] for a in demo_data.anomalies}
    assert len(kinds) >= 7, kinds
    saved = json.loads(truth_path.read_text(encoding="utf-8"))
    assert saved["anomalies"] == demo_data.anomalies
    assert saved["params"]["seed"] == SMALL["seed"]
    assert len({a["dept_id"] for a in demo_data.anomalies}) >= 6  # different departments
    assert len({a["start"] for a in demo_data.anomalies}) >= 6  # at different times


def _anomaly(data: DemoData, kind: str) -> dict:
    return next(a for a in data.anomalies if a["kind"] == kind)


def _month_mask(series: pd.Series, start: str, end: str) -> pd.Series:
    s = pd.to_datetime(series)
    return (s >= pd.Timestamp(start)) & (s <= pd.Timestamp(end))


def test_recorded_material_spike_is_in_the_data(demo_data: DemoData) -> None:
    a = _anomaly(demo_data, "material_spike")
    ip = demo_data.tables["fact_inpatient_case"]
    mine = ip[ip["dept_id"] == a["dept_id"]]
    share = mine["charge_material"] / mine["charge_total"]
    inside = _month_mask(mine["discharge_date"], a["start"], a["end"])
    assert share[inside].mean() > 1.3 * share[~inside].mean()


def test_recorded_idle_device_has_no_exams(demo_data: DemoData) -> None:
    a = _anomaly(demo_data, "device_idle")
    eq = demo_data.tables["fact_equipment_daily"]
    mine = eq[eq["equipment_id"] == a["entity"]["id"]]
    inside = _month_mask(mine["date"], a["start"], a["end"])
    assert inside.sum() >= 21 and mine.loc[inside, "exams"].sum() == 0
    assert mine.loc[~inside, "exams"].mean() > 5


def test_recorded_outpatient_collapse_is_in_the_data(demo_data: DemoData) -> None:
    a = _anomaly(demo_data, "outpatient_collapse")
    op = demo_data.tables["fact_outpatient_daily"]
    mine = op[op["dept_id"] == a["dept_id"]].groupby("date")["visits"].sum()
    s = pd.Timestamp(a["start"])
    inside = mine[(pd.to_datetime(mine.index) >= s) & (pd.to_datetime(mine.index) <= pd.Timestamp(a["end"]))]
    before = mine[(pd.to_datetime(mine.index) < s) & (pd.to_datetime(mine.index) >= s - timedelta(days=35))]
    assert inside.mean() < (1 + a["magnitude"] + 0.15) * before.mean()


def test_recorded_budget_overspend_is_in_the_data(demo_data: DemoData) -> None:
    a = _anomaly(demo_data, "budget_overspend")
    bm = demo_data.tables["fact_budget_monthly"]
    rows = bm[(bm["dept_id"] == a["dept_id"]) & (bm["item_code"] == a["entity"]["id"])
              & _month_mask(bm["month_start"], a["start"], a["end"])]
    assert len(rows) == 2
    item = bm[(bm["dept_id"] == a["dept_id"]) & (bm["item_code"] == a["entity"]["id"]) & (bm["executed_amount"] > 0)]
    usual = item.drop(index=rows.index)["executed_amount"].median()
    assert (rows["executed_amount"] > 1.8 * usual).all()
    assert rows["executed_amount"].sum() > 1.5 * rows["budget_amount"].sum()


def test_recorded_energy_jump_is_in_the_data(demo_data: DemoData) -> None:
    a = _anomaly(demo_data, "energy_jump")
    cost = demo_data.tables["fact_dept_cost_monthly"]
    mine = cost[(cost["dept_id"] == a["dept_id"]) & (cost["cost_category"] == "energy")
                & (cost["allocation_stage"] == "direct")].set_index("month_start")["amount"]
    month = date.fromisoformat(a["start"])
    others = mine.drop(index=month)
    assert mine[month] > (1 + a["magnitude"] * 0.6) * others.median()


def test_live_snapshot_is_for_the_day_after_through_and_up_to_now(demo_data: DemoData) -> None:
    live = demo_data.tables["fact_live_snapshot"]
    times = pd.to_datetime(live["captured_at"])
    # the day after through up to now, and whole days of history before it (for yesterday and last week)
    assert times.dt.date.max() == date(2026, 11, 22) and times.dt.date.min() == date(2026, 11, 14)
    assert times.max() == pd.Timestamp(SMALL["now"])
    assert set(live["metric_code"]) == {"outpatient_visits_today", "emergency_visits_today", "inpatients_now",
                                        "admissions_today", "discharges_today", "surgeries_today", "beds_available"}


def test_meta_load_ends_at_through(demo_data: DemoData) -> None:
    meta = demo_data.tables["meta_load"]
    assert pd.to_datetime(meta["data_through"]).max().date() == SMALL["through"]


@pytest.mark.parametrize("bad", [{"scale": 0}, {"scale": -1}, {"years": 0}, {"years": 99}])
def test_bad_parameters_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        generate(**{**SMALL, **bad})


def test_the_added_equipment_draws_from_its_own_stream(demo_data: DemoData, monkeypatch) -> None:
    """Without the fleet beyond imaging, every table not fed by the devices is the same, and the first
    imaging fleet keeps its rows: the added devices took no draw from the main random stream."""
    from data_layer.demo import catalog
    from data_layer.demo.generate import generate

    from .conftest import SMALL

    monkeypatch.setattr(catalog, "DEVICE_TYPES", ())
    without = generate(**SMALL)
    fed = {"dim_equipment", "fact_equipment_daily", "fact_dept_cost_monthly", "fact_budget_monthly",
           "fact_target_annual"}  # devices' depreciation, materials and maintenance flow into costs and budgets
    for name, table in demo_data.tables.items():
        if name not in fed:
            pd.testing.assert_frame_equal(table, without.tables[name], obj=name)
    first = without.tables["dim_equipment"]
    pd.testing.assert_frame_equal(demo_data.tables["dim_equipment"].iloc[:len(first)], first)
    assert len(demo_data.tables["dim_equipment"]) > 3 * len(first)


def test_clinical_departments_run_large_devices_at_realistic_use(demo_data: DemoData) -> None:
    t = demo_data.tables
    dev = t["dim_equipment"].merge(t["dim_department"][["dept_id", "kind"]], on="dept_id")
    assert set(dev["category"]) <= {"CT", "MRI", "DSA", "PET_CT", "LINAC", "DR", "ULTRASOUND", "ENDOSCOPY", "OTHER"}
    assert dev["equipment_id"].is_unique and (dev["purchase_price"] > 0).all()
    assert not dev["name_zh"].str.contains("LINAC|Linear|ventilator|robot", case=False).any()
    clinical = dev[dev["kind"] == "clinical"]
    assert clinical["dept_id"].nunique() >= 8  # cardiology, ophthalmology, the surgical departments …
    assert (dev["annual_maintenance_cost"] / dev["purchase_price"]).between(0.02, 0.13).all()
    # use over the last 12 months against capacity: some devices under-used, some saturated, none absurd
    daily = t["fact_equipment_daily"]
    day = pd.to_datetime(daily["date"])
    last = daily[day > day.max() - pd.Timedelta(days=365)].groupby("equipment_id")["exams"].sum()
    cal = t["dim_date"].assign(day=lambda f: pd.to_datetime(f["date"]))
    cal = cal[(cal["day"] > day.max() - pd.Timedelta(days=365)) & (cal["day"] <= day.max()) & cal["is_workday"]]
    full = dev[pd.to_datetime(dev["purchase_date"]) < day.max() - pd.Timedelta(days=365)].set_index("equipment_id")
    util = last.reindex(full.index).fillna(0) / (full["daily_capacity"] * len(cal))
    assert (util < 0.5).sum() >= 2 and (util >= 0.85).sum() >= 2 and util.max() < 1.6
    assert (daily["hours_used"] <= 24).all() and (daily["exams"] >= 0).all()


def test_random_placement_draws_anomalies_across_the_reported_months() -> None:
    """`placement="random"` (for `alerts evaluate`): departments, months and sizes drawn by the seed,
    every anomaly inside the 15 months a scan reports; the fixed demo is left as it was."""
    from datetime import date

    from data_layer.demo import generate

    fixed = generate(**SMALL)
    starts = set()
    for seed in (3, 4):
        data = generate(**{**SMALL, "seed": seed, "years": 3}, placement="random")
        assert data.params["placement"] == "random"
        assert {a["kind"] for a in data.anomalies} >= {"material_spike", "drug_share_surge", "budget_overspend"}
        for a in data.anomalies:
            start, end = date.fromisoformat(a["start"]), date.fromisoformat(a["end"])
            assert date(2025, 8, 1) <= start <= end <= SMALL["through"], a
            starts.add((a["kind"], start))
    assert len(starts) > 12  # not the fixed months again
    again = generate(**SMALL)
    assert [a["start"] for a in again.anomalies] == [a["start"] for a in fixed.anomalies]
    with pytest.raises(ValueError, match="placement"):
        generate(**SMALL, placement="everywhere")
