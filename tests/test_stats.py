"""Significance tests, confidence intervals, purchase appraisal and utilization: against scipy
on known tables and against hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from data_layer.stats import FieldErrors, appraise, chi_square, compare_means, newcombe, utilization


def _pearson(table) -> float:
    t = np.asarray(table, dtype=float)
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    return float(((t - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("table", [
    [[10, 20], [30, 40]],  # a textbook 2×2
    [[48, 52], [71, 29]],  # satisfaction before and after (yes, no)
    [[12, 5, 3], [8, 9, 13]],  # 2×3
    [[20, 15], [30, 35], [10, 25]],  # 3×2
])
def test_chi_square_is_pearsons_without_continuity_correction(table) -> None:
    got = chi_square(table)
    assert got.chi2 == pytest.approx(_pearson(table))
    ref = sps.chi2_contingency(table, correction=False)
    assert got.p == pytest.approx(ref.pvalue) and got.dof == ref.dof
    assert got.p == pytest.approx(sps.chi2.sf(_pearson(table), ref.dof))
    corrected = sps.chi2_contingency(table, correction=True)
    if np.asarray(table).shape == (2, 2):
        assert got.chi2 != pytest.approx(corrected.statistic)  # Yates would be a different number


def test_the_textbook_table() -> None:
    got = chi_square([[10, 20], [30, 40]])
    assert got.chi2 == pytest.approx(0.7937, abs=1e-4) and got.p == pytest.approx(0.3730, abs=1e-4)
    assert got.diff == pytest.approx(30 / 70 - 10 / 30)


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), table II, example (a): 56/70 vs 48/80 -> difference 0.2, 95% CI 0.0524 to 0.3339
    low, high = newcombe(48, 80, 56, 70)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


@pytest.mark.parametrize(("table", "error"), [
    ([[10, 20], [0, 0]], "empty_row"), ([[0, 20], [0, 40]], "empty_column"), ([[1, 2]], "too_small"),
    ([[1.5, 2], [3, 4]], "not_counts"), ([[-1, 2], [3, 4]], "not_counts"), ([["a", 2], [3, 4]], "not_numbers"),
])
def test_bad_tables_are_refused_at_the_field(table, error) -> None:
    with pytest.raises(FieldErrors) as err:
        chi_square(table)
    assert err.value.errors == {"table": error}


def test_small_expected_counts_are_flagged() -> None:
    assert chi_square([[2, 8], [5, 5]]).small_expected
    assert not chi_square([[48, 52], [71, 29]]).small_expected


def test_means_use_welch_for_large_or_normal_samples() -> None:
    rng = np.random.default_rng(3)
    before, after = rng.normal(8.0, 1.5, 40), rng.normal(7.4, 1.5, 45)
    got = compare_means(before, after)
    ref = sps.ttest_ind(after, before, equal_var=False)
    assert got.method == "welch_t" and got.reason == "large"
    assert got.statistic == pytest.approx(ref.statistic) and got.p == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert got.ci == pytest.approx((ci.low, ci.high))
    assert got.diff == pytest.approx(after.mean() - before.mean())


def test_means_use_mann_whitney_for_small_skewed_samples() -> None:
    before = [3, 4, 4, 5, 30, 4, 3, 5]  # one long stay skews the window
    after = [2, 3, 3, 2, 3, 25, 2, 3]
    got = compare_means(before, after)
    ref = sps.mannwhitneyu(after, before, alternative="two-sided")
    assert got.method == "mann_whitney" and got.reason == "not_normal"
    assert got.statistic == pytest.approx(ref.statistic) and got.p == pytest.approx(ref.pvalue)


def test_too_few_observations_are_refused() -> None:
    with pytest.raises(FieldErrors) as err:
        compare_means([1, 2], [1, 2, 3])
    assert err.value.errors == {"before": "too_few"}


GOOD = {"price": 3_000_000, "exams_per_day": 40, "charge_per_exam": 200, "maintenance_per_year": 150_000,
        "staff_cost_per_year": 400_000, "consumables_per_exam": 20, "working_days": 250, "service_life_years": 6,
        "residual_rate": 5, "discount_rate": 5}


def test_appraisal_by_hand() -> None:
    a = appraise(GOOD)
    # 40 × 250 = 10,000 exams; revenue 2,000,000; cost 150,000 + 400,000 + 200,000 = 750,000; net 1,250,000
    assert a.annual_exams == 10_000 and a.annual_revenue == 2_000_000 and a.annual_cost == 750_000
    assert a.annual_net == 1_250_000 and a.payback_years == pytest.approx(2.4)
    never = appraise({**GOOD, "charge_per_exam": 50})  # revenue 500,000 < cost 750,000
    assert never.annual_net == -250_000 and never.payback_years is None


@pytest.mark.parametrize(("field", "value", "error"), [
    ("price", -5, "negative"), ("price", 0, "zero"), ("exams_per_day", "many", "not_a_number"),
    ("exams_per_day", 50_000, "too_large"), ("charge_per_exam", None, "missing"), ("working_days", 400, "too_large"),
    ("consumables_per_exam", float("inf"), "not_a_number"), ("price", " ", "missing"),
])
def test_appraisal_refuses_bad_fields_and_says_which(field, value, error) -> None:
    with pytest.raises(FieldErrors) as err:
        appraise({**GOOD, field: value})
    assert err.value.errors == {field: error}


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(FieldErrors) as err:
        appraise({**GOOD, "price": -1, "exams_per_day": 0})
    assert err.value.errors == {"price": "negative", "exams_per_day": "zero"}


def test_utilization() -> None:
    assert utilization(9_000, 40, 250) == pytest.approx(0.9)
    assert math.isnan(utilization(10, 0, 250))
