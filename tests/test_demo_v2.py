"""The demo hospital fills contract version 2 (DIP at one campus, the national appraisal's case flags,
fund shares, reference values), keeps its version 1 columns as they were, and builds a version 1
warehouse on demand. Rates and their ranges: docs/demo-hospital.md, "Contract version 2"."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import inspect

from data_layer.demo import catalog as cat
from data_layer.demo.generate import DemoData
from data_layer.engine import make_engine
from data_layer.schema import V2_COLUMNS, V2_TABLES, metadata, version1_columns
from data_layer.validate import validate

from .conftest import SMALL

BENCHMARK_CODES = {
    "day_surgery_share", "minimally_invasive_share", "level4_surgery_share", "preop_days", "readmission_31d_rate",
    "surgical_complication_rate", "low_risk_mortality", "fund_share_inpatient", "fund_share_outpatient",
    "charge_per_visit_growth", "charge_per_discharge_growth", "drug_per_visit_growth", "drug_per_discharge_growth",
    "medical_revenue_growth", "alos", "service_revenue_share", "personnel_cost_share", "energy_per_10k_revenue",
    "surgery_share", "outpatient_revenue_share", "nurses_per_doctor", "pharmacists_per_100_beds"}


def _anomaly(data: DemoData, kind: str) -> dict:
    return next(a for a in data.anomalies if a["kind"] == kind)


def _between(series: pd.Series, start: str, end: str) -> np.ndarray:
    s = pd.to_datetime(series)
    return ((s >= pd.Timestamp(start)) & (s <= pd.Timestamp(end))).to_numpy()


@pytest.fixture(scope="module")
def cases(demo_data: DemoData) -> pd.DataFrame:
    return demo_data.tables["fact_inpatient_case"]


def test_case_rates_land_in_their_documented_ranges(demo_data: DemoData, cases: pd.DataFrame) -> None:
    a = _anomaly(demo_data, "readmission_jump")
    usual = cases[~((cases["dept_id"] == a["dept_id"]).to_numpy() & _between(cases["discharge_date"], a["start"],
                                                                              a["end"]))]
    surg = cases[cases["surgery_level"] > 0]
    assert 0.65 <= surg["is_elective"].mean() <= 0.85
    assert 0.25 <= surg["is_minimally_invasive"].mean() <= 0.50
    assert 1.2 <= surg.loc[surg["is_elective"], "preop_days"].astype(float).mean() <= 3.0
    assert 0.01 <= usual["is_unplanned_readmission_31d"].mean() <= 0.025
    assert 0.003 <= surg["has_surgical_complication"].mean() <= 0.012
    assert 0.08 <= surg["is_day_surgery"].mean() <= 0.20
    assert 0.48 <= cases["fund_payment"].sum() / cases["drg_payment"].sum() <= 0.62
    op = demo_data.tables["fact_outpatient_daily"]
    assert 0.18 <= op["revenue_fund"].sum() / op["revenue_total"].sum() <= 0.34
    # outside an operation the flags are false and there is no preoperative wait
    medical = cases[cases["surgery_level"] == 0]
    assert not medical[["is_elective", "is_minimally_invasive", "has_surgical_complication"]].any().any()
    assert medical["preop_days"].isna().all() and surg["preop_days"].notna().all()
    # a day surgery is elective and operated on the day of admission
    day = surg[surg["is_day_surgery"]]
    assert day["is_elective"].all() and (day["preop_days"] == 0).all()


def test_day_surgery_spreads_year_by_year(demo_data: DemoData, cases: pd.DataFrame) -> None:
    """Day surgery of the groups run as day cases grows 12% a year (relative) to 45% of their
    uncomplicated cases in the latest year; deliveries, caesarean sections, appendicectomies and
    fracture fixations are never day cases."""
    from data_layer.demo import catalog as cat

    drg = demo_data.tables["dim_drg"].set_index("drg_code")
    adrg = cases["drg_code"].map(drg["adrg_code"])
    fit = cases[adrg.isin(cat.DAY_SURGERY_ADRG).to_numpy() & cases["drg_code"].str.endswith("5").to_numpy()]
    from data_layer.demo.generate import DAY_SURGERY_GROWTH, DAY_SURGERY_SHARE

    by_year = fit.groupby(pd.to_datetime(fit["discharge_date"]).dt.year)["is_day_surgery"].agg(["mean", "size"])
    latest = by_year.index.max()
    for year, row in by_year.iterrows():  # each year's share within 4 standard errors of its rate
        p = DAY_SURGERY_SHARE / (1 + DAY_SURGERY_GROWTH) ** (latest - year)
        assert abs(row["mean"] - p) <= 4 * (p * (1 - p) / row["size"]) ** 0.5, by_year.to_dict()
    day = cases[cases["is_day_surgery"].astype(bool) & cases["drg_code"].notna()]  # ungrouped cases have no code
    assert day["drg_code"].map(drg["adrg_code"]).isin(cat.DAY_SURGERY_ADRG).all()
    assert not day["drg_code"].str[:2].isin(["OB", "OC", "GC", "ID"]).any()
    assert not day["drg_code"].str.endswith("1").any()


def test_risk_grades_order_the_groups_by_their_deaths(demo_data: DemoData, cases: pd.DataFrame) -> None:
    drg = demo_data.tables["dim_drg"]
    assert set(drg["risk_level"]) == {"low", "mid_low", "mid_high", "high"}
    risk = cases["drg_code"].map(drg.set_index("drg_code")["risk_level"])
    deaths = (cases["discharge_status"] == "died").groupby(risk).mean()
    assert deaths["low"] < deaths["mid_high"] < deaths["high"]
    assert deaths["low"] < 0.004 and 0.2 <= (risk == "low").mean() <= 0.4


def test_preoperative_days_fit_the_stay_and_fund_payments_the_payment(demo_data: DemoData,
                                                                       cases: pd.DataFrame) -> None:
    preop = cases["preop_days"].astype(float)
    known = preop.notna()
    assert (preop[known] >= 0).all() and (preop[known] <= cases.loc[known, "los_days"]).all()
    assert (cases["fund_payment"] >= 0).all() and (cases["fund_payment"] <= cases["drg_payment"] + 0.005).all()
    outside = cases["payment_scheme"] == "fee_for_service"
    assert (cases.loc[outside, "fund_payment"] == 0).all()
    op = demo_data.tables["fact_outpatient_daily"]
    assert (op["revenue_fund"] >= 0).all() and (op["revenue_fund"] <= op["revenue_total"] + 0.005).all()


def test_payment_schemes_follow_campus_year_and_insurance(cases: pd.DataFrame) -> None:
    insured = cases["insurance_type"].isin(["employee", "resident"])
    assert (cases.loc[~insured, "payment_scheme"] == "fee_for_service").all()
    dip_from = date(SMALL["through"].year - cat.DIP_SWITCH_YEARS_BACK, 1, 1)
    at_dip = (cases["campus_id"] == cat.DIP_CAMPUS) & (pd.to_datetime(cases["discharge_date"]).dt.date >= dip_from)
    assert (cases.loc[insured & at_dip, "payment_scheme"] == "dip").all()
    assert (cases.loc[insured & ~at_dip, "payment_scheme"] == "drg").all()
    dip = cases["payment_scheme"] == "dip"
    assert dip.sum() > 500 and cases.loc[dip, "dip_code"].notna().all() and cases.loc[~dip, "dip_code"].isna().all()


def test_dip_payment_is_score_times_the_months_point_value_and_coefficient(demo_data: DemoData,
                                                                            cases: pd.DataFrame) -> None:
    t = demo_data.tables
    dip = cases[cases["payment_scheme"] == "dip"]
    pv = t["fact_dip_point_value"]
    est = pv[~pv["is_final"]].assign(month=lambda f: f["month"].astype(int))
    when = pd.to_datetime(dip["discharge_date"])
    joined = dip.assign(year=when.dt.year.to_numpy(), month=when.dt.month.to_numpy()).merge(
        est, on=["year", "month", "insurance_type"], how="left").merge(t["dim_dip"], on="dip_code", how="left")
    assert len(joined) == len(dip) and joined["point_value"].notna().all() and joined["score"].notna().all()
    expected = joined["score"] * joined["point_value"] * joined["hospital_coefficient"]
    assert np.allclose(joined["drg_payment"].to_numpy(), expected.to_numpy(), atol=0.006)
    # packets are priced near the DRG payment they replace: the DIP cases still roughly pay their way
    margin = (dip["drg_payment"] - dip["cost_total"]).sum() / dip["drg_payment"].sum()
    assert -0.1 < margin < 0.15
    packets = t["dim_dip"]
    assert packets["dip_code"].is_unique and (packets["score"] > 0).all() and packets["is_core"].any()
    assert set(dip["dip_code"]) == set(packets["dip_code"])


def test_a_past_years_final_point_value_settles_below_its_estimates(demo_data: DemoData) -> None:
    pv = demo_data.tables["fact_dip_point_value"]
    through = SMALL["through"]
    assert set(pv["insurance_type"]) == {"employee", "resident"}
    assert (pv["point_value"] > 0).all() and (pv["hospital_coefficient"] > 0).all()
    final = pv[pv["is_final"]]
    assert final["month"].isna().all() and pv.loc[~pv["is_final"], "month"].notna().all()
    assert through.year not in set(final["year"])  # the current year is not settled yet
    assert set(final["year"]) == set(range(through.year - cat.DIP_SWITCH_YEARS_BACK, through.year))
    for row in final.itertuples():
        months = pv[(pv["year"] == row.year) & (pv["insurance_type"] == row.insurance_type) & ~pv["is_final"]]
        assert len(months) == 12
        assert 0.94 < row.point_value / months["point_value"].mean() < 0.99
    # the monthly estimates drift
    assert pv.loc[~pv["is_final"]].groupby("insurance_type")["point_value"].nunique().min() > 6


def test_benchmarks_cover_every_year_and_name_their_sources(demo_data: DemoData) -> None:
    b = demo_data.tables["fact_benchmark"]
    assert set(b["indicator_code"]) == BENCHMARK_CODES
    years = set(range(SMALL["through"].year - SMALL["years"] + 1, SMALL["through"].year + 1))
    for kind in ("national_median", "provincial_median"):
        rows = b[b["benchmark"] == kind]
        assert set(zip(rows["indicator_code"], rows["year"], strict=True)) == {(c, y) for c in BENCHMARK_CODES
                                                                               for y in years}
    assert (b["benchmark"] == "target").any()
    assert b.loc[b["benchmark"] != "target", "source"].str.contains("近似值").all()
    assert not b["source"].str.contains("[A-Za-z]").any()  # pages show the source as held: no English on Chinese pages
    assert not b.duplicated(["indicator_code", "year", "benchmark"]).any()
    value = b.set_index(["indicator_code", "year", "benchmark"])["value"]
    assert 5 < value["alos", 2025, "national_median"] < 10 and 0 < value["day_surgery_share", 2025,
                                                                          "national_median"] < 1


def test_version_2_columns_take_no_draw_from_the_version_1_streams(demo_data: DemoData, monkeypatch) -> None:
    """Without the version 2 step, every version 1 column of every table is the same, but drg_payment of
    DIP cases (which holds the DIP estimate), and the other anomalies are the same."""
    from data_layer.demo import anomalies, generate
    from data_layer.demo.generate import _Generator

    monkeypatch.setattr(_Generator, "contract_v2", lambda self: None)
    monkeypatch.setattr(_Generator, "_finish_v2", lambda self: None)
    monkeypatch.setattr(anomalies, "inject_v2_anomalies", lambda g: None)
    v1 = generate(**SMALL)
    assert v1.anomalies == [a for a in demo_data.anomalies if a["kind"] not in ("readmission_jump", "dip_point_cut")]
    for name, table in metadata.tables.items():
        if name in V2_TABLES:
            continue
        cols = [c.name for c in version1_columns(table)]
        now = demo_data.tables[name][cols]
        if name == "fact_inpatient_case":
            dip = (demo_data.tables[name]["payment_scheme"] == "dip").to_numpy()
            now = now.assign(drg_payment=np.where(dip, v1.tables[name]["drg_payment"], now["drg_payment"]))
            assert (v1.tables[name].loc[dip, "drg_payment"] != demo_data.tables[name].loc[dip, "drg_payment"]).mean() > 0.9
        pd.testing.assert_frame_equal(now, v1.tables[name][cols], obj=name)


def test_a_clean_build_differs_only_where_the_anomalies_were(demo_data: DemoData) -> None:
    from data_layer.demo import generate

    clean = generate(**SMALL, anomalies=False)
    assert clean.anomalies == []
    a = _anomaly(demo_data, "readmission_jump")
    ip, ip0 = demo_data.tables["fact_inpatient_case"], clean.tables["fact_inpatient_case"]
    moved = (ip["is_unplanned_readmission_31d"] != ip0["is_unplanned_readmission_31d"]).to_numpy()
    window = (ip["dept_id"] == a["dept_id"]).to_numpy() & _between(ip["discharge_date"], a["start"], a["end"])
    assert moved.any() and not (moved & ~window).any()
    cut = _anomaly(demo_data, "dip_point_cut")
    pv, pv0 = demo_data.tables["fact_dip_point_value"], clean.tables["fact_dip_point_value"]
    changed = pv["point_value"] != pv0["point_value"]
    assert changed.sum() == 3 and pv.loc[changed, "insurance_type"].nunique() == 1
    ratio = (pv.loc[changed, "point_value"] / pv0.loc[changed, "point_value"]).to_numpy()
    assert np.allclose(ratio, 1 + cut["magnitude"], atol=0.001)
    for col in ("is_elective", "is_minimally_invasive", "has_surgical_complication", "dip_code"):
        pd.testing.assert_series_equal(ip[col], ip0[col])


def test_the_readmission_jump_is_recorded_and_in_the_data(demo_data: DemoData, cases: pd.DataFrame) -> None:
    a = _anomaly(demo_data, "readmission_jump")
    assert a["indicators"] == ["readmission_31d_rate"] and 2.5 <= a["magnitude"] <= 3.0
    _assert_jump_realised(a, cases)
    start, end = date.fromisoformat(a["start"]), date.fromisoformat(a["end"])
    assert (end.year - start.year) * 12 + end.month - start.month == 1  # two months


def _assert_jump_realised(a: dict, cases: pd.DataFrame) -> None:
    """The window's readmission rate is the recorded size times the department's usual rate (its other
    months), to within the rounding of a count: an independent draw per case fell far short of it."""
    mine = cases[cases["dept_id"] == a["dept_id"]]
    inside = _between(mine["discharge_date"], a["start"], a["end"])
    rate = mine["is_unplanned_readmission_31d"].to_numpy(dtype=bool)
    usual = max(rate[~inside].mean(), 0.005)
    assert rate[inside].mean() / usual == pytest.approx(1 + a["magnitude"], rel=0.1)


@pytest.mark.parametrize("seed", range(1, 9))
def test_a_randomly_placed_readmission_jump_has_its_recorded_size(seed: int) -> None:
    from data_layer.demo import generate

    data = generate(**{**SMALL, "seed": seed}, placement="random")
    a = _anomaly(data, "readmission_jump")
    assert 2.0 <= a["magnitude"] <= 3.5
    _assert_jump_realised(a, data.tables["fact_inpatient_case"])


def test_the_dip_point_cut_is_recorded_and_in_the_data(demo_data: DemoData, cases: pd.DataFrame) -> None:
    a = _anomaly(demo_data, "dip_point_cut")
    assert a["indicators"] == ["dip_margin", "dip_margin_per_case"] and -0.16 < a["magnitude"] < -0.11
    assert a["campus_id"] == cat.DIP_CAMPUS and a["entity"]["type"] == "dip"
    assert a["entity"]["id"] in set(demo_data.tables["dim_dip"]["dip_code"])
    pv = demo_data.tables["fact_dip_point_value"]
    est = pv[~pv["is_final"]].assign(month_start=lambda f: pd.to_datetime(
        {"year": f["year"], "month": f["month"].astype(int), "day": 1}))
    inside = _between(est["month_start"], a["start"], a["end"])
    for fund, rows in est.groupby("insurance_type"):
        i = inside[(est["insurance_type"] == fund).to_numpy()]
        ratio = rows.loc[i, "point_value"].mean() / rows.loc[~i, "point_value"].tail(6).mean()
        assert (ratio < 0.9) if fund == "resident" else (ratio > 0.95), (fund, ratio)
    # the department's DIP cases pay less per point of score in those months
    dip = cases[(cases["payment_scheme"] == "dip") & (cases["dept_id"] == a["dept_id"])]
    per_score = dip["drg_payment"] / dip["dip_code"].map(demo_data.tables["dim_dip"].set_index("dip_code")["score"])
    months = _between(dip["discharge_date"], a["start"], a["end"])
    assert per_score[months].mean() < 0.95 * per_score[~months].mean()


def test_the_v2_demo_validates_as_version_2(duck_url: str) -> None:
    engine = make_engine(duck_url, read_only=True)  # as the app opens it (DuckDB refuses two configurations)
    try:
        report = validate(engine)
    finally:
        engine.dispose()
    assert report.ok and report.version == 2, [v.message for v in report.errors]
    assert not [v for v in report.violations if v.check == "version 2" and v.message.startswith("contract")]


def test_a_version_1_demo_has_no_version_2_table_or_column(tmp_path: Path) -> None:
    from data_layer.demo.build import build_demo

    url = f"duckdb:///{tmp_path / 'v1.duckdb'}"
    result = build_demo(url, **SMALL, progress=False, contract_version=1)
    assert not V2_TABLES & set(result.counts)
    engine = make_engine(url)
    try:
        found = inspect(engine)
        assert not V2_TABLES & set(found.get_table_names())
        for table, columns in V2_COLUMNS.items():
            assert not set(columns) & {c["name"] for c in found.get_columns(table)}, table
        report = validate(engine)
    finally:
        engine.dispose()
    assert report.ok and report.version == 1, [v.message for v in report.errors]
    assert any(v.check == "version 2" and v.severity == "warning" for v in report.violations)
    truth = json.loads(result.truth_path.read_text(encoding="utf-8"))
    assert truth["params"]["contract_version"] == 1
    kinds = {a["kind"]: a for a in truth["anomalies"]}
    assert "readmission_jump" not in kinds and kinds["dip_point_cut"]["indicators"][0] == "drg_margin"


def test_the_demo_command_takes_a_contract_version() -> None:
    from data_layer.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["demo"]).contract_version == 2
    assert parser.parse_args(["demo", "--contract-version", "1"]).contract_version == 1
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--contract-version", "3"])
