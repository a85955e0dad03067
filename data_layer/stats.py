"""Before/after evaluation of improvement projects, and equipment purchase appraisal.

- Proportions: Pearson's chi-square test on a contingency table, without continuity correction,
  reporting χ², degrees of freedom and p; for a 2×2 table also the difference of the two
  proportions with its 95% confidence interval (Newcombe's hybrid score interval).
- Means: Welch's t-test when both samples are large (30 or more) or look normal (Shapiro–Wilk
  p ≥ 0.05), otherwise the Mann–Whitney U test; the difference of means with its 95% Welch
  interval either way.
- Appraisal: annual revenue and cost of a device from its expected use, the annual net benefit,
  the static payback period (price / annual net benefit), straight-line depreciation with a
  residual value over the service life, the net present value and internal rate of return of
  the purchase over that life at a discount rate, and the break-even exams per working day.

Bad input raises FieldErrors, which name each field and what is wrong with it, so a form can
show the message at the field and save nothing.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .errors import UserError

MIN_PER_GROUP = 3  # fewer observations than this in a window: no test
LARGE = 30


class FieldErrors(UserError):
    """Errors by field name (message keys with their values), for a form to show in place."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class ChiSquare:
    chi2: float
    dof: int
    p: float
    expected: np.ndarray
    small_expected: bool  # some expected count below 5: the approximation is rough
    diff: float | None = None  # 2×2: proportion in row 2 minus row 1 (first column = "yes")
    ci: tuple[float, float] | None = None


def chi_square(table: Sequence[Sequence[float]]) -> ChiSquare:
    """Pearson's chi-square test of independence, no continuity correction. Rows are the groups
    (before, after), columns the outcomes (e.g. satisfied, not satisfied)."""
    try:
        t = np.asarray(table, dtype=float)
    except (TypeError, ValueError):
        raise FieldErrors({"table": "not_numbers"}) from None
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        raise FieldErrors({"table": "too_small"})
    if not np.isfinite(t).all() or (t < 0).any() or (t != np.round(t)).any():
        raise FieldErrors({"table": "not_counts"})
    if (t.sum(axis=1) == 0).any():
        raise FieldErrors({"table": "empty_row"})
    if (t.sum(axis=0) == 0).any():
        raise FieldErrors({"table": "empty_column"})
    res = sps.chi2_contingency(t, correction=False)
    diff = ci = None
    if t.shape == (2, 2):
        (a, b), (c, d) = t
        diff = c / (c + d) - a / (a + b)
        ci = newcombe(a, a + b, c, c + d)
    return ChiSquare(float(res.statistic), int(res.dof), float(res.pvalue), res.expected_freq,
                     bool((res.expected_freq < 5).any()), diff, ci)


def wilson(x: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """95% interval for p2 - p1 (Newcombe 1998, method 10: hybrid Wilson score)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p2 - p1
    return (d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))


@dataclass(frozen=True)
class MeanTest:
    method: str  # "welch_t" or "mann_whitney"
    statistic: float
    p: float
    n_before: int
    n_after: int
    mean_before: float
    mean_after: float
    diff: float  # after - before
    ci: tuple[float, float]  # Welch 95% interval of the difference of means
    reason: str  # why this test: "large", "normal" or "not_normal"


def compare_means(before: Sequence[float], after: Sequence[float]) -> MeanTest:
    a = np.asarray([x for x in before if x is not None and math.isfinite(x)], dtype=float)
    b = np.asarray([x for x in after if x is not None and math.isfinite(x)], dtype=float)
    errors = {k: "too_few" for k, v in (("before", a), ("after", b)) if len(v) < MIN_PER_GROUP}
    if errors:
        raise FieldErrors(errors)
    if len(a) >= LARGE and len(b) >= LARGE:
        reason = "large"
    else:
        normal = all(np.ptp(v) > 0 and sps.shapiro(v).pvalue >= 0.05 for v in (a, b))
        reason = "normal" if normal else "not_normal"
    if reason == "not_normal":
        res = sps.mannwhitneyu(b, a, alternative="two-sided")
        method = "mann_whitney"
    else:
        res = sps.ttest_ind(b, a, equal_var=False)
        method = "welch_t"
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    diff = float(b.mean() - a.mean())
    if se > 0:
        dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
        half = float(sps.t.ppf(0.975, dof)) * se
    else:
        half = 0.0
    p = float(res.pvalue) if np.isfinite(res.pvalue) else (0.0 if diff else 1.0)
    return MeanTest(method, float(res.statistic), p, len(a), len(b), float(a.mean()), float(b.mean()), diff,
                    (diff - half, diff + half), reason)


# ---------------------------------------------------------------------------------------- appraisal
@dataclass(frozen=True)
class Appraisal:
    annual_exams: float
    annual_revenue: float
    annual_cost: float  # cash operating cost: maintenance + staff + consumables
    annual_net: float  # annual net cash benefit: revenue − cash operating cost
    payback_years: float | None  # None: the device never pays back (net <= 0)
    annual_depreciation: float = 0.0  # straight line: price × (1 − residual rate) ÷ service life
    residual_value: float = 0.0  # price × residual rate, recovered at the end of the service life
    annual_surplus: float = 0.0  # net benefit after depreciation: revenue − cost − depreciation
    npv: float = 0.0  # net present value at the discount rate, over the service life
    irr: float | None = None  # internal rate of return; None: the cash flows never recover the price
    breakeven_per_day: float | None = None  # exams per working day; None: a charge at or below consumables
    discount_rate: float = 0.0  # as a fraction (0.05 for 5 %)
    service_life_years: int = 0
    exams_per_day: float = 0.0  # as expected (the break-even is compared with it)

    @property
    def pays_back_within_life(self) -> bool:
        """Whether the static payback comes before the end of the service life."""
        return self.payback_years is not None and self.payback_years <= self.service_life_years


LIMITS = {  # field: (lowest allowed, highest plausible)
    "price": (1_000.0, 500_000_000.0),  # yuan
    "exams_per_day": (0.1, 2_000.0),
    "charge_per_exam": (1.0, 100_000.0),
    "maintenance_per_year": (0.0, 100_000_000.0),
    "staff_cost_per_year": (0.0, 100_000_000.0),
    "consumables_per_exam": (0.0, 100_000.0),
    "working_days": (1.0, 366.0),
    "service_life_years": (1.0, 30.0),  # whole years
    "residual_rate": (0.0, 50.0),  # per cent of the price
    "discount_rate": (0.0, 30.0),  # per cent a year
}
WHOLE = ("service_life_years",)  # fields that take whole numbers only


def _check(values: dict[str, object]) -> dict[str, float]:
    """Every field of LIMITS as a number; raises FieldErrors naming each bad field."""
    errors: dict[str, str] = {}
    v: dict[str, float] = {}
    for name, (low, high) in LIMITS.items():
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors[name] = "missing"
            continue
        try:
            x = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors[name] = "not_a_number"
            continue
        if not math.isfinite(x):
            errors[name] = "not_a_number"
        elif x < 0:
            errors[name] = "negative"
        elif x < low:
            errors[name] = "zero" if x == 0 else "too_small"
        elif x > high:
            errors[name] = "too_large"
        elif name in WHOLE and x != int(x):
            errors[name] = "whole_years"
        else:
            v[name] = x
    if errors:
        raise FieldErrors(errors)
    return v


def npv(rate: float, flows: Sequence[float]) -> float:
    """Σ flows[t] ÷ (1 + rate)^t, the first flow at t = 0."""
    return float(sum(f / (1 + rate) ** t for t, f in enumerate(flows)))


def irr(flows: Sequence[float]) -> float | None:
    """The rate at which the NPV of an outlay followed by inflows is zero; None when the undiscounted
    inflows do not recover the outlay (no non-negative rate exists). Bisection: the NPV of such flows
    falls as the rate rises, so the root is unique."""
    if not flows or flows[0] >= 0 or any(f < 0 for f in flows[1:]) or sum(flows) <= 0:
        return None
    low, high = 0.0, 1.0
    while npv(high, flows) > 0:
        high *= 2
        if high > 1e6:
            return None
    for _ in range(200):
        mid = (low + high) / 2
        if npv(mid, flows) > 0:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2


def appraise(values: dict[str, object]) -> Appraisal:
    """Annual net benefit, static payback, straight-line depreciation, NPV and IRR over the service
    life at the discount rate, and the break-even exams per working day of a device request. Every
    field is checked; all problems are reported together (missing, not a number, negative, zero
    where it must not be, beyond what is plausible, a service life that is not whole years)."""
    v = _check(values)
    exams = v["exams_per_day"] * v["working_days"]
    revenue = exams * v["charge_per_exam"]
    cost = v["maintenance_per_year"] + v["staff_cost_per_year"] + exams * v["consumables_per_exam"]
    net = revenue - cost
    life = int(v["service_life_years"])
    residual = v["price"] * v["residual_rate"] / 100
    depreciation = (v["price"] - residual) / life
    rate = v["discount_rate"] / 100
    flows = [-v["price"], *([net] * life)]
    flows[-1] += residual
    margin = (v["charge_per_exam"] - v["consumables_per_exam"]) * v["working_days"]
    fixed = depreciation + v["maintenance_per_year"] + v["staff_cost_per_year"]
    return Appraisal(exams, revenue, cost, net, v["price"] / net if net > 0 else None,
                     annual_depreciation=depreciation, residual_value=residual, annual_surplus=net - depreciation,
                     npv=npv(rate, flows), irr=irr(flows), breakeven_per_day=fixed / margin if margin > 0 else None,
                     discount_rate=rate, service_life_years=life,
                     exams_per_day=v["exams_per_day"])


def utilization(exams: float, daily_capacity: float, working_days: float) -> float:
    """exams / (daily capacity × working days); NaN when there is no capacity."""
    capacity = daily_capacity * working_days
    return exams / capacity if capacity > 0 else float("nan")
