"""Significance that knows its sample (issue 16): a DRG group's month of stays is judged by the
spread of single stays over its cases, not only by how steady the past monthly means were."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from data_layer.alerts.detect import Params, creep_z, robust_z, sampling_error
from data_layer.periods import Period
from data_layer.queries.drg_detail import stay_spread
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse


def _spread(sd: float, cases: int, months: list[date], drg: str = "G1") -> pd.DataFrame:
    return pd.DataFrame({"drg_code": drg, "month_start": months, "cases": float(cases), "mean_los": 17.6,
                         "sd_los": sd}).set_index(["drg_code", "month_start"])


MONTHS = [date(2025, m, 1) for m in range(1, 13)]


def test_the_issues_small_group_is_about_two_standard_errors_and_does_not_fire() -> None:
    # 23 cases averaging 21.6 days against a usual 17.6, past monthly means that varied little (MAD 0.3 days),
    # and single stays that vary by 9.6 days: a robust z of 5.8 by the monthly means alone
    history = np.array([17.2, 17.9, 17.6, 17.3, 17.8, 17.6, 17.5, 18.0, 17.4, 17.7, 17.6, 17.9])
    z_alone = robust_z(21.6, history)[0]
    assert z_alone > Params().z_yellow  # what fired before
    se = sampling_error(_spread(9.6, 23, MONTHS), "G1", pd.Index(MONTHS), 23)
    assert se == pytest.approx(9.6 / math.sqrt(23))
    z = robust_z(21.6, history, se)[0]
    assert 1.5 < z < 2.5 and z < Params().z_yellow  # about two standard errors: no alert
    # the same move over 400 cases is far outside what chance gives: it still fires
    big = sampling_error(_spread(9.6, 400, MONTHS), "G1", pd.Index(MONTHS), 400)
    assert robust_z(21.6, history, big)[0] >= Params().z_yellow


def test_the_sampling_error_pools_the_past_months_by_their_cases() -> None:
    spread = pd.concat([_spread(4.0, 10, MONTHS[:6]), _spread(8.0, 31, MONTHS[6:])])
    se = sampling_error(spread, "G1", pd.Index(MONTHS), 25)
    pooled = (6 * 9 * 16 + 6 * 30 * 64) / (6 * 9 + 6 * 30)
    assert se == pytest.approx(math.sqrt(pooled / 25))
    assert sampling_error(spread, "OTHER", pd.Index(MONTHS), 25) == 0.0  # a group without past: no floor
    assert sampling_error(spread, "G1", pd.Index([date(2020, 1, 1)]), 25) == 0.0


def test_stay_spread_matches_the_cases_counted_by_pandas(wh: Warehouse, demo_data) -> None:
    cases = demo_data.tables["fact_inpatient_case"].copy()
    cases = cases[cases["drg_code"].notna()]
    dept = cases["dept_id"].value_counts().index[0]  # the largest department
    period = Period(date(2026, 1, 1), date(2026, 6, 30), "custom")
    got = stay_spread(wh, Scope.hospital(), dept, period)
    d = pd.to_datetime(cases["discharge_date"]).dt.date
    mine = cases[(cases["dept_id"] == dept) & (d >= period.start) & (d <= period.end)].copy()
    mine["month_start"] = [x.replace(day=1) for x in pd.to_datetime(mine["discharge_date"]).dt.date]
    want = mine.groupby(["drg_code", "month_start"])["los_days"].agg(["count", "mean", "std"]).reset_index()
    assert len(got) == len(want) > 10
    merged = got.merge(want, on=["drg_code", "month_start"], validate="one_to_one")
    assert (merged["cases"] == merged["count"]).all()
    assert np.allclose(merged["mean_los"], merged["mean"])
    assert np.allclose(merged["sd_los"], merged["std"].fillna(0.0), atol=1e-6)
    # the same on the log scale (a stay under a day counts as one)
    mine["log"] = np.log(mine["los_days"].clip(lower=1).astype(float))
    logs = mine.groupby(["drg_code", "month_start"])["log"].agg(["mean", "std"]).reset_index()
    merged = got.merge(logs, on=["drg_code", "month_start"], validate="one_to_one")
    assert np.allclose(merged["mean_log"], merged["mean"])
    assert np.allclose(merged["sd_log"], merged["std"].fillna(0.0), atol=1e-6)
    # and the standard error it gives is the one scipy computes for a single month's cases
    one = mine[(mine["drg_code"] == merged["drg_code"].iloc[0]) & (mine["month_start"] == merged["month_start"].iloc[0])]
    if len(one) > 1:
        assert merged["sd_los"].iloc[0] / math.sqrt(len(one)) == pytest.approx(stats.sem(one["los_days"]))


def test_stay_spread_keeps_to_the_scope(wh: Warehouse, demo_data) -> None:
    cases = demo_data.tables["fact_inpatient_case"]
    dept = cases["dept_id"].value_counts().index[0]
    other = next(d for d in cases["dept_id"].unique() if d != dept)
    period = Period(date(2026, 1, 1), date(2026, 6, 30), "custom")
    assert stay_spread(wh, Scope.departments((other,)), dept, period).empty


# ------------------------------------------------------------------------------ creep over months
PAST, WINDOW = MONTHS[:12], [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def _log_spread(past_means: list[float], window_means: list[float], cases: float = 15, sd: float = 0.42):
    rows = [{"drg_code": "G1", "month_start": m, "cases": cases, "mean_log": v, "sd_log": sd}
            for m, v in zip(PAST + WINDOW, past_means + window_means, strict=True)]
    return pd.DataFrame(rows).set_index(["drg_code", "month_start"])


def _z(spread: pd.DataFrame) -> float:
    return creep_z(spread, "G1", pd.Index(WINDOW), pd.Index(PAST))[0]


def test_a_creep_over_fifteen_cases_a_month_is_found_on_the_logs_of_the_stays() -> None:
    base = math.log(8.0)
    # stays that grow by a sixth a month to +50% over three months of 15 cases each, single stays
    # varying as in the demo (log sd 0.42): over four standard errors when the later months count more
    creep = [base + math.log(1 + k / 6) for k in (1, 2, 3)]
    z = _z(_log_spread([base] * 12, creep))
    w = np.array([1.0, 2.0, 3.0])
    d = np.log(1 + w / 6)
    want = (w * d).sum() / (0.42 * math.sqrt((w ** 2).sum() / 15 + w.sum() ** 2 / 180))
    assert z == pytest.approx(want)
    assert z >= Params().creep_z
    # the same average move as a flat +33% weighs less (a creep grows), and a third of it is chance
    assert _z(_log_spread([base] * 12, [base + math.log(4 / 3)] * 3)) < z
    assert _z(_log_spread([base] * 12, [base + math.log(1.1)] * 3)) < 2


def test_a_group_whose_past_months_varied_more_than_their_cases_explain_needs_more() -> None:
    base = math.log(8.0)
    creep = [base + math.log(1 + k / 6) for k in (1, 2, 3)]
    steady = _z(_log_spread([base] * 12, creep))
    # monthly means swinging by ±0.25 on the log scale, where 15 cases explain about ±0.11
    swings = [base + (0.25 if k % 2 else -0.25) for k in range(12)]
    wide = _z(_log_spread(swings, creep))
    assert wide < steady / 2 < Params().creep_z
    r_var = (0.25 / (0.42 / math.sqrt(15))) ** 2 * 12 / 11
    assert wide == pytest.approx(steady / math.sqrt(r_var), rel=1e-6)


def test_a_creep_without_past_or_with_a_missing_month_is_not_judged() -> None:
    spread = _log_spread([math.log(8.0)] * 12, [math.log(12.0)] * 3)
    assert creep_z(spread, "OTHER", pd.Index(WINDOW), pd.Index(PAST)) == (0.0, 0.0)
    assert creep_z(spread.drop(("G1", WINDOW[1])), "G1", pd.Index(WINDOW), pd.Index(PAST)) == (0.0, 0.0)


def test_the_log_creep_keeps_chance_to_its_bar(rng_seed: int = 7) -> None:
    """Simulated groups of 15 stays a month with no creep: the share over the bar is what the
    normal curve says (one-sided 3 in 100,000 at z = 4), not the heavy tail of raw stays."""
    rng = np.random.default_rng(rng_seed)
    runs, n = 2000, 15
    stays = np.maximum(np.round(rng.lognormal(math.log(8.0), 0.42, (runs, 15, n))), 1)
    logs = np.log(stays)
    zs = []
    for k in range(runs):
        means, sds = logs[k].mean(axis=1), logs[k].std(axis=1, ddof=1)
        spread = pd.DataFrame({"drg_code": "G1", "month_start": PAST + WINDOW, "cases": float(n),
                               "mean_log": means, "sd_log": sds}).set_index(["drg_code", "month_start"])
        zs.append(_z(spread))
    zs = np.array(zs)
    assert abs(float(np.mean(zs))) < 0.1 and 0.8 < float(np.std(zs)) < 1.05
    assert (zs > 3.0).mean() < 0.004  # the normal curve: 0.0013


# ------------------------------------------------------------------------------------------ case mix
def _raw_alert(code: str = "charge_per_discharge", observed: float = 11_700.0, expected: float = 10_000.0):
    from data_layer.alerts.detect import Alert

    return Alert("robust_z", "yellow", "D001", code, date(2026, 7, 1), date(2026, 7, 31), observed, expected,
                 9_000.0, 11_000.0, observed / expected - 1, "robust z = +5.0")


def _adjusted(last: float, base: float = 0.95) -> pd.Series:
    wiggle = [0.0, 0.004, -0.003, 0.002, -0.004, 0.003, -0.002, 0.001, -0.001, 0.004, -0.003, 0.002]
    months = [date(2025, m, 1) for m in range(7, 13)] + [date(2026, m, 1) for m in range(1, 8)]
    return pd.Series([base + w for w in wiggle] + [last], index=months)


def _detector():
    from data_layer.alerts.detect import Detector

    return Detector(None, Scope.hospital())  # the case-mix rule reads only the series it is handed


def test_a_month_of_heavier_cases_does_not_alert_on_charge_per_discharge() -> None:
    # charge per discharge +17 % while the cost index (each case against its own group's reference) is as usual
    det = _detector()
    assert det._case_mix(_raw_alert(), _adjusted(0.953)) is None
    assert "explained by case mix" in det.skipped[-1] and "cost_index" in det.skipped[-1]


def test_a_move_the_case_mix_does_not_explain_still_alerts() -> None:
    det = _detector()
    # the adjusted figure moved as much as the raw one: not the case mix
    assert det._case_mix(_raw_alert(), _adjusted(0.95 * 1.17)) is not None
    # the adjusted figure is not unusual by its own spread, yet keeps more than half of the move: kept
    wide = _adjusted(0.95 * 1.10) + pd.Series([0.0, 0.06, -0.06] * 4 + [0.0], index=_adjusted(0).index)
    assert det._case_mix(_raw_alert(), wide) is not None
    # a stay alert is judged by the time index the same way; no adjusted series, or too short a one: kept
    assert det._case_mix(_raw_alert("alos", 9.5, 8.0), _adjusted(0.95)) is None
    assert det._case_mix(_raw_alert(), None) is not None
    assert det._case_mix(_raw_alert(), _adjusted(0.95).tail(5)) is not None
    assert det.skipped == [det.skipped[0]]  # only the explained stay alert was noted


def test_sqlite_without_its_math_functions_gets_ln_from_python() -> None:
    import sqlite3

    from data_layer.engine import _sqlite_math

    class NoMath:  # a SQLite built without SQLITE_ENABLE_MATH_FUNCTIONS
        def __init__(self) -> None:
            self.conn, self.registered = sqlite3.connect(":memory:"), []

        def execute(self, sql: str):
            if "ln(" in sql and not self.registered:
                raise sqlite3.OperationalError("no such function: ln")
            return self.conn.execute(sql)

        def create_function(self, name: str, n: int, fn, deterministic: bool) -> None:
            self.registered.append(name)
            self.conn.create_function(name, n, fn, deterministic=deterministic)

    conn = NoMath()
    _sqlite_math(conn, None)
    assert conn.registered == ["ln"]
    assert conn.execute("SELECT ln(8.0), ln(0)").fetchone() == (pytest.approx(math.log(8.0)), None)
    built_in = NoMath()
    built_in.registered.append("(none needed)")  # a SQLite that has ln keeps its own
    _sqlite_math(built_in, None)
    assert built_in.registered == ["(none needed)"]
