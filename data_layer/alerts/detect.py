"""The anomaly detector: rule, change and robust statistical checks over department series.

Every check reads indicator values through the query layer (the registry's formulas, the
caller's scope), so an alert's observed value is the number the pages show.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..errors import UserError
from ..periods import Period, add_months, month_end
from ..queries.dip import dip_points, point_values
from ..queries.drg_detail import stay_spread
from ..queries.kpis import indicator_values
from ..queries.operations import budget_monthly, device_daily
from ..queries.structure import medical_groups
from ..registry import INDICATORS, Level
from ..scope import Scope
from ..sources import Filters
from ..warehouse import Warehouse

LEVELS = ("yellow", "orange", "red")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Params:
    """Detector parameters (docs/alerts.md says how they were chosen)."""

    z_yellow: float = 4.5  # robust z against a spread that knows the sample (a DRG group's cases, a season)
    z_orange: float = 6.0
    z_red: float = 9.0
    # a department's or a medical group's month against the spread of its own past months only: twelve
    # to twenty-four months estimate a spread loosely and per-case charges have heavy tails, so the
    # bar is higher (on a hospital without anomalies, 4.5 raised about one alert a month by chance)
    z_month: tuple[float, float, float] = (7.0, 9.5, 14.0)
    # once an alert passes its bar, a large move is serious however noisy the series: orange from a
    # quarter over the usual, red from a half
    move_levels: tuple[float, float] = (0.25, 0.5)
    min_rel_change: float = 0.08  # and at least this relative move, so a flat series' tiny MAD cannot alarm
    min_rel_change_seasonal: float = 0.25
    min_cases: float = 30.0  # months with fewer cases (visits: 300) are too noisy to judge
    min_drg_cases: float = 8.0  # a DRG group's month needs this many discharges to be judged
    min_rel_change_drg: float = 0.2
    beyond_max: float = 1.1  # a group's single month must also pass its largest month of the past by a tenth
    # a rate of cases (readmissions) read by its exact binomial tail: about 2,000 department-months and
    # pairs of months a scan, one-sided p of 3 in 100,000 at z 4: under one false alert in ten scans
    z_rate: float = 4.0
    creep_months: int = 3  # a DRG group's stays are also judged over this many months together …
    creep_z: float = 4.0  # … on the logs of the stays, at a z of at least this (one-sided: about 3 in 100,000)
    creep_min_rel: float = 0.1  # … and a rise of at least this over the three months together
    history_months: int = 12
    spread_months: int = 24  # the spread a month is judged by comes from up to this many months
    min_history: int = 9
    volume_drop: float = 0.6  # a week of visits below 60% of the same weekdays' baseline
    idle_days: int = 5  # working days in a row without an exam on a device that normally works
    idle_chance: float = 1e-6  # … and a run that the device's usual daily count would leave by chance less often
    budget_ratio: float = 1.8  # a month's execution over 180% of its budget …
    budget_ytd: float = 1.3  # … the year to date over 130% of the budget so far makes it red
    budget_unprecedented: float = 1.2  # … and beyond the item's largest month (or two months) by a fifth
    scan_months: int = 15  # how far back a scan reports
    case_mix_explains: float = 0.5  # a per-case move keeping at most this share once the case mix is taken out
    dip_cut: float = 0.05  # a DIP point value estimate this far below its fund's recent months is a cut …
    dip_past_months: int = 6  # … the median of this many monthly estimates before it


# Monthly ratio indicators watched statistically; the weight turns a group's move into a contribution.
MONTHLY_WATCH: dict[str, str] = {
    "material_share": "revenue_total",
    "drug_share": "revenue_total",
    "charge_per_visit": "outpatient_visits",
    "charge_per_discharge": "discharges",
    "time_index": "discharges",
    "alos": "discharges",
    "energy_cost": "revenue_total",
    "readmission_31d_rate": "discharges",  # contract version 2: watched where the warehouse has it
}
# Shares of cases: a month is also judged by the binomial sampling error of its cases (a rate over
# a few hundred discharges moves by chance), whatever the spread of past months.
PROPORTIONS = {"readmission_31d_rate"}
# Energy is watched as the cost itself, against the same month a year earlier: per 10,000 yuan of
# revenue it also moves with every quiet month of revenue (a holiday, a closed clinic), which is not
# an energy problem.
SEASONAL = {"energy_cost"}
# What a medical group's own prescribing moves: its drug and material charges per discharge, watched
# per group, where a surge is diluted neither by the department's other groups nor by outpatients.
GROUP_WATCH: tuple[str, ...] = ("drug_charge_per_discharge", "material_charge_per_discharge")
# Per-case money and stay, and the same thing with the case mix taken out: each case against its own
# DRG group's reference (the cost and time consumption indices). A month whose raw figure moved while
# the adjusted one stayed ordinary treated heavier (or lighter) cases; it does not alert.
CASE_MIX: dict[str, str] = {"charge_per_discharge": "cost_index", "alos": "time_index"}
LUMPY_BUDGET = ("equipment", "research", "infrastructure")  # compared with the same month a year earlier
# Standing-condition rules: (indicator, bound, above?) -> level. The bounds are the upper ends of
# the registry's healthy ranges, so a page that colours a value as outside its range and the alert
# that flags it read the same number.
RULES: tuple[tuple[str, float, bool, str], ...] = tuple(
    (ind.code, ind.healthy.high, True, ind.healthy.alert_level)
    for ind in INDICATORS.values() if ind.healthy is not None and ind.healthy.high is not None)


@dataclass
class Alert:
    kind: str  # the check: robust_z, rate_test, seasonal_z, drg_stay, group_charge, volume_drop, device_idle, …
    level: str
    dept_id: str
    indicator: str
    period_start: date
    period_end: date
    observed: float
    expected: float
    band_low: float
    band_high: float
    deviation: float  # relative: observed / expected - 1
    method: str  # how it fired, in words
    entity_type: str | None = None
    entity_id: str | None = None
    drivers: list[dict] = field(default_factory=list)
    occurrences: int = 1
    consequences: list[dict] = field(default_factory=list)  # knock-on findings this alert's cause explains
    adjusted: dict | None = None  # per-case money and stay: the case-mix adjusted view of the same month
    amount: float | None = None  # the money the move stands for (yuan over the expected), where it has one

    @property
    def key(self) -> str:
        """The identity of a problem: repeated firing grows one alert instead of adding more."""
        return "|".join([self.kind, self.dept_id, self.indicator, self.entity_type or "", self.entity_id or ""])


@dataclass
class ScanResult:
    alerts: list[Alert]
    skipped: list[str]  # what was not checked, and why
    through: date


def _level(z: float, p: Params, by_months: bool = False) -> str | None:
    """The level of a robust z; `by_months`: judged by the spread of past months alone (Params.z_month)."""
    yellow, orange, red = p.z_month if by_months else (p.z_yellow, p.z_orange, p.z_red)
    a = abs(z)
    return "red" if a >= red else "orange" if a >= orange else "yellow" if a >= yellow else None


def robust_z(x: float, history: np.ndarray, floor: float = 0.0,
             spread: np.ndarray | None = None) -> tuple[float, float, float]:
    """(z, median, scale) of x against history: median and MAD, so outliers cannot drag the baseline;
    the scale is at least `floor` (a mean's sampling error) and 1 % of the median. `spread`, a longer
    run of past values, gives the MAD when there is one: twelve values estimate a spread too
    unsteadily (a year that happened to be calm makes an ordinary month look extreme)."""
    med = float(np.median(history))
    s = history if spread is None or len(spread) < len(history) else spread
    mad = float(np.median(np.abs(s - np.median(s)))) * 1.4826
    scale = max(mad, abs(med) * 0.01, floor, 1e-12)
    return (x - med) / scale, med, scale


@dataclass(frozen=True)
class Overrun:
    """A budget line's month that fires (`budget_overruns`): months `first`..`month` judged together."""
    month: int
    first: int
    ratio: float  # spending over budget in those months together
    usual_ratio: float  # the line's median month against its budget before them
    z: float  # their spending against the line's own level and monthly spread (`spending_z`)


def spending_z(spent: np.ndarray, first: int, last: int, p: Params) -> float:
    """How far the mean spending of months `first`..`last` lies above the line's own level (the mean
    of its `history_months` before `first`), in standard errors of a mean of that many months: the
    line's month-to-month spread (coefficient of variation over its `spread_months` before `first`,
    at least 1%) over the square root of the months. Judged against the line's own spending, not
    against budgets: a plan set low one year (from a quiet year before) moves every ratio to the
    budget, not the line's spending."""
    before = spent[max(0, first - p.spread_months):first]
    if len(before) < 2:
        return 0.0
    level = float(before[-p.history_months:].mean())
    if level <= 0:
        return math.inf if spent[first:last + 1].mean() > 0 else 0.0
    cv = max(float(before.std(ddof=1)) / float(before.mean()), 0.01) if before.mean() > 0 else 0.01
    return (float(spent[first:last + 1].mean()) / level - 1) / (cv / math.sqrt(last - first + 1))


def budget_overruns(spent: np.ndarray, planned: np.ndarray, reported: np.ndarray, p: Params) -> list[Overrun]:
    """The months of one budget line (monthly `spent` and `planned`, oldest first) that fire, among
    the indices `reported`: a month over `budget_ratio` of its budget, beyond the line's largest
    month against its budget by `budget_unprecedented`, unusual against its past ratios (robust z);
    or two months in a row over `budget_ratio` together, beyond its largest two months by
    `budget_unprecedented`. Either way, the spending of the month (or the two) must also lie
    `z_yellow` standard errors above the line's own usual spending (`spending_z`): a training line
    that swings between 40% and 170% of its level reaches 180% of a budget set low by chance, but
    not far beyond its own months."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = spent / planned
        two = (spent + np.r_[np.nan, spent[:-1]]) / (planned + np.r_[np.nan, planned[:-1]])
    out = []
    for i in reported:
        if i < p.min_history:
            continue
        past = ratio[max(0, i - p.spread_months):i]
        past_two = two[max(1, i - p.spread_months):i - 1]  # windows that end before this one starts
        if (ratio[i] > p.budget_ratio and ratio[i] > p.budget_unprecedented * past.max()
                and robust_z(ratio[i], past[-p.history_months:], spread=past)[0] >= p.z_yellow
                and (z := spending_z(spent, i, i, p)) >= p.z_yellow):
            out.append(Overrun(int(i), int(i), float(ratio[i]), float(np.median(past)), z))
        elif (len(past_two) >= p.min_history - 1 and two[i] > p.budget_ratio
              and two[i] > p.budget_unprecedented * past_two.max()
              and (z := spending_z(spent, i - 1, i, p)) >= p.z_yellow):
            out.append(Overrun(int(i), int(i) - 1, float(two[i]), float(np.median(past)), z))
    return out


def sampling_error(spread: pd.DataFrame, drg: str, months: pd.Index, cases: float) -> float:
    """The standard error of a month's mean stay over `cases` cases of a DRG group: the spread of
    single stays pooled over the group's past `months` (`spread` is stay_spread indexed by
    (drg_code, month_start)), divided by the square root of the cases. 0 when there is no past."""
    try:
        past = spread.loc[drg].reindex(months).dropna()
    except KeyError:
        return 0.0
    dof = (past["cases"] - 1).clip(lower=0.0)
    if dof.sum() <= 0 or cases <= 0:
        return 0.0
    pooled_var = float((dof * past["sd_los"] ** 2).sum() / dof.sum())
    return math.sqrt(pooled_var / cases)


def rate_z(past: np.ndarray, past_n: np.ndarray, window: np.ndarray, window_n: np.ndarray,
           spread: np.ndarray) -> tuple[float, float, float, float]:
    """(z, rate, usual, scale) of a rate of cases over the `window` months (monthly rates over
    `window_n` cases) against the usual rate pooled over the `past` months (Σ rate × cases ÷ Σ cases).

    z is the smaller of two readings. The exact one: given all the events of the past and the window,
    the window's share of them is binomial under "nothing changed" (the conditional test of two
    Poisson rates, so the usual level's own error counts and a handful of events on a rate of 0.2 %
    is not read by the normal curve); its one-sided p-value is turned into the z with the same tail.
    The spread one: the move against the past monthly rates' spread (their MAD over `spread`, scaled
    to a mean of the window's months), so a rate that varied more than chance would have it is
    judged by that. `scale` is the larger of the binomial error and that spread, for the band.
    (0, …) without a past or a case."""
    from scipy.stats import binom, norm

    n_past, n = float(past_n.sum()), float(window_n.sum())
    if n_past <= 0 or n <= 0:
        return 0.0, 0.0, 0.0, 0.0
    events_past, events = round(float((past * past_n).sum())), round(float((window * window_n).sum()))
    usual, rate = events_past / n_past, events / n
    p_value = float(binom.sf(events - 1, events + events_past, n / (n + n_past))) if events else 1.0
    z_exact = min(float(norm.isf(max(p_value, 1e-300))), 40.0)
    mad = float(np.median(np.abs(spread - np.median(spread)))) * 1.4826 / math.sqrt(len(window)) \
        if len(spread) else 0.0
    binomial = math.sqrt(max(usual * (1 - usual), 1e-9) * (1 / n + 1 / n_past))
    z = min(z_exact, (rate - usual) / mad) if mad > 0 else z_exact
    return z, rate, usual, max(binomial, mad, 1e-12)


def creep_z(spread: pd.DataFrame, drg: str, window: pd.Index, past: pd.Index) -> tuple[float, float]:
    """(z, se) of a creep of a DRG group's stays over the `window` months against the `past` months,
    from `spread` (stay_spread indexed by (drg_code, month_start)).

    Stays are judged on their logs: single stays are skewed (a few long ones), their logs are close
    to normal, so a mean over a dozen cases follows the normal curve and z has its usual meaning.
    Each window month's mean log stay is compared with the mean over all the past months' cases; a
    creep grows, so the months are weighted 1, 2, 3 … (the later, the more). The standard error
    counts the window's cases and the past's (the usual level is estimated too), from the spread of
    single log stays pooled over the past months, and is widened when the past monthly means varied
    more than their cases explain (a season, a change within the group: the variance of their
    standardised deviations, when over one). `se` is the standard error of the window's plain mean
    log stay, for the expected band. (0, 0) when the group has no past or a window month is missing."""
    try:
        g = spread.loc[drg]
    except KeyError:
        return 0.0, 0.0
    w_rows, p_rows = g.reindex(window), g.reindex(past).dropna()
    if w_rows["cases"].isna().any() or p_rows.empty:
        return 0.0, 0.0
    dof = (p_rows["cases"] - 1).clip(lower=0.0)
    n_past = float(p_rows["cases"].sum())
    if dof.sum() <= 0:
        return 0.0, 0.0
    var = float((dof * p_rows["sd_log"] ** 2).sum() / dof.sum())
    if var <= 0:
        return 0.0, 0.0
    base = float((p_rows["mean_log"] * p_rows["cases"]).sum() / n_past)
    r = (p_rows["mean_log"] - base) / np.sqrt(var / p_rows["cases"])
    var *= max(1.0, float(r.var(ddof=1))) if len(r) > 1 else 1.0
    w = np.arange(1, len(window) + 1, dtype=float)
    n_win = w_rows["cases"].to_numpy(dtype=float)
    d = w_rows["mean_log"].to_numpy(dtype=float) - base
    se_weighted = math.sqrt(var * (float((w ** 2 / n_win).sum()) + float(w.sum()) ** 2 / n_past))
    return float((w * d).sum()) / se_weighted, math.sqrt(var * (1 / float(n_win.sum()) + 1 / n_past))


def _months(through: date, n: int) -> Period:
    """The n whole months ending with the last month that closed by `through`."""
    last = through if through == month_end(through) else through.replace(day=1) - timedelta(days=1)
    first = add_months(last.replace(day=1), -(n - 1))
    return Period(first, month_end(last), "custom")


def _adverse(code: str, delta: float) -> bool:
    hib = INDICATORS[code].higher_is_better
    return True if hib is None else (delta < 0) == hib


class Detector:
    def __init__(self, wh: Warehouse, scope: Scope, params: Params = Params()):
        self.wh, self.scope, self.p = wh, scope, params
        self.skipped: list[str] = []
        self.report_months = params.scan_months  # how many months back a scan reports (scan() sets it)

    # ------------------------------------------------------------ monthly
    def monthly(self, through: date, first_report: date) -> list[Alert]:
        span = _months(through, self.report_months + max(self.p.history_months + 12, self.p.spread_months))
        codes = tuple(c for c in MONTHLY_WATCH if not INDICATORS[c].requires)
        extra = tuple(sorted((set(CASE_MIX.values()) | {"revenue_total"}) - set(codes)))
        f = Filters(kind=("clinical",))
        df = indicator_values(self.wh, self.scope, (*codes, *extra, "discharges", "outpatient_visits"), span,
                              Level.department, f, "month")
        v2 = tuple(c for c in MONTHLY_WATCH if INDICATORS[c].requires)  # a separate read: the summaries serve the rest
        if v2:
            more = indicator_values(self.wh, self.scope, v2, span, Level.department, f, "month")
            df = pd.concat([df, more], ignore_index=True) if len(more) else df
        series = {k: g.set_index("period_start")["value"].astype(float).dropna().sort_index()
                  for k, g in df.groupby(["key", "indicator"], sort=True)}
        volume = df[df["indicator"].isin(["discharges", "outpatient_visits"])].pivot_table(
            index=["key", "period_start"], columns="indicator", values="value").fillna(0.0)
        out: list[Alert] = []
        for (dept, code), s in series.items():
            if code not in MONTHLY_WATCH:
                continue
            basis = "outpatient_visits" if MONTHLY_WATCH[code] == "outpatient_visits" else "discharges"
            need = self.p.min_cases * (10 if basis == "outpatient_visits" else 1)
            vol = volume.loc[dept][basis] if dept in volume.index.get_level_values(0) else pd.Series(dtype=float)
            enough = [m for m in s.index if vol.get(m, 0.0) >= need or code in SEASONAL]
            if len(enough) < len(s):
                self.skipped.append(f"{dept} {code}: {len(s) - len(enough)} months with fewer than {need:g} "
                                    f"{'visits' if basis == 'outpatient_visits' else 'cases'} left out")
            s = s.loc[enough]
            if len(s) < self.p.min_history + 1:
                self.skipped.append(f"{dept} {code}: {len(s)} months of history, {self.p.min_history + 1} needed")
                continue
            for i, (month, x) in enumerate(s.items()):
                if month < first_report or i < self.p.min_history:
                    continue
                if code in SEASONAL:
                    alert = self._seasonal(dept, code, s, month, x)
                elif code in PROPORTIONS:
                    alert = self._proportion(dept, code, s, vol, i, 1) or self._proportion(dept, code, s, vol, i, 2)
                else:
                    alert = self._robust(dept, code, s.iloc[max(0, i - self.p.history_months):i].to_numpy(), month, x,
                                         spread=s.iloc[max(0, i - self.p.spread_months):i].to_numpy())
                if alert and code in CASE_MIX:
                    alert = self._case_mix(alert, series.get((dept, CASE_MIX[code])))
                if alert:
                    alert.amount = _amount(alert, series.get((dept, "revenue_total")),
                                           volume.loc[dept]["discharges"] if dept in volume.index.get_level_values(0)
                                           else None)
                    out.append(alert)
        return out

    def _proportion(self, dept: str, code: str, s: pd.Series, vol: pd.Series, i: int, months: int) -> Alert | None:
        """A rate of cases (readmissions) over the `months` months ending with month i, against the
        usual rate of the months before them (`rate_z`). Two months are judged together only when each
        lies above the usual: a jump lasting two months in a department of a hundred or so
        discharges a month leaves each month within chance, the two together not."""
        first = i - months + 1
        if first < self.p.min_history or s.index[first] != add_months(s.index[i], 1 - months):
            return None
        past = s.iloc[max(0, first - self.p.history_months):first]
        spread = s.iloc[max(0, first - self.p.spread_months):first].to_numpy()
        window = s.iloc[first:i + 1]
        counts = np.array([float(vol.get(m, 0.0)) for m in past.index])
        n = np.array([float(vol.get(m, 0.0)) for m in window.index])
        z, rate, usual, scale = rate_z(past.to_numpy(), counts, window.to_numpy(), n, spread)
        if z < self.p.z_rate or not usual or rate / usual - 1 < self.p.min_rel_change \
                or (months > 1 and not (window.to_numpy() > usual).all()) or not _adverse(code, rate - usual):
            return None
        move = rate / usual - 1
        level = max(_level(z, self.p) or "yellow", "red" if move >= self.p.move_levels[1] else
                    "orange" if move >= self.p.move_levels[0] else "yellow", key=LEVELS.index)
        band = self.p.z_rate * scale
        what = "this month" if months == 1 else f"{months} months together"
        return Alert("rate_test", level, dept, code, window.index[0], month_end(window.index[-1]), rate, usual,
                     usual - band, usual + band, move,
                     f"{what}: {rate:.2%} of {n.sum():.0f} discharges against {usual:.2%} over the "
                     f"{len(past)} months before, z = {z:+.1f}")

    def _case_mix(self, alert: Alert, adjusted: pd.Series | None) -> Alert | None:
        """The raw alert, or None when the case mix explains the move: the case-mix adjusted figure of
        the same month is ordinary against its own trailing months and keeps at most
        `case_mix_explains` of the raw relative move."""
        if adjusted is None or alert.period_start not in adjusted.index:
            return alert
        past = adjusted[adjusted.index < alert.period_start].tail(self.p.history_months)
        if len(past) < self.p.min_history:
            return alert
        x = float(adjusted[alert.period_start])
        z, med, _ = robust_z(x, past.to_numpy())
        kept = (x / med - 1) / alert.deviation if med and alert.deviation else 1.0  # the share of the move left
        alert.adjusted = {"indicator": CASE_MIX[alert.indicator], "observed": x, "expected": med,
                          "deviation": x / med - 1 if med else 0.0, "z": z, "kept": kept}
        if (_level(z, self.p, by_months=True) is not None and _adverse(CASE_MIX[alert.indicator], x - med)) \
                or kept > self.p.case_mix_explains:
            return alert
        self.skipped.append(f"{alert.dept_id} {alert.indicator} {alert.period_start:%Y-%m}: explained by case mix "
                            f"({CASE_MIX[alert.indicator]} {x:.3f} against {med:.3f}, robust z = {z:+.1f}, "
                            f"{max(kept, 0.0):.0%} of the move left)")
        return None

    def drg_stays(self, through: date, first_report: date) -> list[Alert]:
        """Length of stay of each DRG group within each department: a creep in one group is
        diluted in the department's average, so it is watched where it happens."""
        span = _months(through, self.report_months + self.p.spread_months)
        depts = indicator_values(self.wh, self.scope, ("discharges",), span, Level.department,
                                 Filters(kind=("clinical",)))
        out: list[Alert] = []
        for dept in depts.loc[depts["value"] > 0, "key"]:
            df = indicator_values(self.wh, self.scope, ("alos", "discharges"), span, Level.drg,
                                  Filters(department=(dept,)), "month")
            wide = df.pivot_table(index=["key", "period_start"], columns="indicator", values="value")
            spread = stay_spread(self.wh, self.scope, str(dept), span).set_index(["drg_code", "month_start"])
            for drg, g in wide.groupby(level=0):
                g = g.droplevel(0).sort_index()
                g = g[g["discharges"] >= self.p.min_drg_cases]
                s, n = g["alos"], g["discharges"]
                for i, (month, x) in enumerate(s.items()):
                    if month < first_report or i < self.p.min_history:
                        continue
                    past = s.index[max(0, i - self.p.history_months):i]
                    se = sampling_error(spread, str(drg), past, float(n.loc[month]))
                    a = self._robust(dept, "alos", s.loc[past].to_numpy(), month, x, self.p.min_rel_change_drg,
                                     floor=se)
                    if a and x < self.p.beyond_max * float(s.iloc[max(0, i - self.p.spread_months):i].max()):
                        a = None  # a single month the group's own past has matched: a few long stays
                    if a is None and i >= self.p.min_history + self.p.creep_months - 1:
                        a = self._creep(dept, s, n, spread, str(drg), i)
                    if a:
                        a.kind, a.entity_type, a.entity_id = "drg_stay", "drg", str(drg)
                        a.drivers = [{"type": "drg", "id": str(drg), "contribution": 1.0}]
                        out.append(a)
        return out

    def _creep(self, dept: str, s: pd.Series, n: pd.Series, spread: pd.DataFrame, drg: str, i: int) -> Alert | None:
        """Stays that crept up over the last `creep_months` months together: each month above the
        group's usual, the months judged together on the logs of their stays (`creep_z`)."""
        first = i - self.p.creep_months + 1
        window, past = s.index[first:i + 1], s.index[max(0, first - self.p.history_months):first]
        if len(past) < self.p.min_history:
            return None
        usual = float(np.median(s.loc[past]))
        if usual <= 0 or (s.loc[window] <= usual).any():
            return None
        cases = float(n.loc[window].sum())
        x = float((s.loc[window] * n.loc[window]).sum() / cases)
        z, se = creep_z(spread, drg, window, past)
        if z < self.p.creep_z or x / usual - 1 < self.p.creep_min_rel:
            return None
        by_move = "red" if x / usual - 1 >= self.p.move_levels[1] else \
            "orange" if x / usual - 1 >= self.p.move_levels[0] else "yellow"
        level = max(_level(z, self.p) or "yellow", by_move, key=LEVELS.index)
        return Alert("robust_z", level, dept, "alos", window[0], month_end(window[-1]), x, usual,
                     usual * math.exp(-self.p.creep_z * se), usual * math.exp(self.p.creep_z * se), x / usual - 1,
                     f"z = {z:+.1f} on the logs of the stays over {self.p.creep_months} months together "
                     f"({cases:.0f} cases, later months weighted more) against the {len(past)} months before")

    def dip_point_values(self, through: date, first_report: date) -> list[Alert]:
        """A cut of the pooling region's monthly DIP point value estimate (contract version 2): one
        alert per fund and run of cut months, not one per department (every DIP department loses
        by the same cut). It names the department that loses the most payment and its packet that
        loses most; its drivers are the departments by their share of the loss, its amount the
        payment lost against the point value of the months before."""
        pvs = point_values(self.wh, self.scope)
        est = pvs[~pvs["is_final"] & pvs["month"].notna()] if len(pvs) else pvs
        out: list[Alert] = []
        for fund, g in (est.groupby("insurance_type") if len(est) else ()):
            months = [date(int(y), int(m), 1) for y, m in zip(g["year"], g["month"], strict=True)]
            s = pd.Series(g["point_value"].to_numpy(dtype=float), index=months).sort_index()
            coef = pd.Series(g["hospital_coefficient"].to_numpy(dtype=float), index=months).sort_index()
            s = s[~s.index.duplicated()]
            run: list[date] = []
            usual = float("nan")
            for i, (month, x) in enumerate(s.items()):
                if month > through:
                    break
                if not run:
                    past = s.iloc[max(0, i - self.p.dip_past_months):i]
                    usual = float(np.median(past)) if len(past) >= 3 else float("nan")
                if usual == usual and x <= usual * (1 - self.p.dip_cut):
                    run.append(month)
                    continue
                if run:
                    out += self._dip_cut(str(fund), run, s, coef, usual, first_report)
                run = []
            if run:
                out += self._dip_cut(str(fund), run, s, coef, usual, first_report)
        return out

    def _dip_cut(self, fund: str, run: list[date], s: pd.Series, coef: pd.Series, usual: float,
                 first_report: date) -> list[Alert]:
        start, end = run[0], month_end(run[-1])
        if end < first_report:
            return []
        cases = dip_points(self.wh, self.scope, Period(start, end, "custom"))
        cases = cases[cases["insurance_type"] == fund]
        if cases.empty:
            return []  # no DIP case of this fund in the scope: nothing it costs here
        per_point = cases["month_start"].map(lambda m: (usual - s.get(m, usual)) * coef.get(m, 1.0))
        cases = cases.assign(loss=cases["points"] * per_point.astype(float))
        by_dept = cases.groupby("dept_id")["loss"].sum().sort_values(ascending=False)
        total = float(by_dept.clip(lower=0).sum())
        if total <= 0:
            return []
        dept = str(by_dept.index[0])
        packet = str(cases[cases["dept_id"] == dept].groupby("dip_code")["loss"].sum().idxmax())
        x = float(s.loc[run].mean())
        cut = 1 - x / usual
        level = "red" if cut >= 0.2 else "orange" if cut >= 0.1 else "yellow"
        drivers = [{"type": "department", "id": str(d), "contribution": float(v / total)}
                   for d, v in by_dept.items() if v > 0][:5]
        return [Alert("dip_point_value", level, dept, "dip_margin", start, end, x, usual,
                      usual * (1 - self.p.dip_cut), usual, -cut,
                      f"the {fund} fund's monthly point value estimate {x:.2f} against {usual:.2f}, the median of "
                      f"the {self.p.dip_past_months} months before ({len(run)} months)",
                      entity_type="dip", entity_id=packet, drivers=drivers, amount=total)]

    def group_charges(self, through: date, first_report: date) -> list[Alert]:
        """Drug and material charges per discharge of each medical group: one group's surge moves its
        department's shares by the group's weight only, and is watched where it happens. A group
        belongs to one department, so one query reads every clinical group."""
        span = _months(through, self.report_months + self.p.spread_months)
        groups = medical_groups(self.wh, self.scope).set_index("group_id")
        df = indicator_values(self.wh, self.scope, (*GROUP_WATCH, "discharges"), span, Level.group,
                              Filters(kind=("clinical",)), "month")
        wide = df.pivot_table(index=["key", "period_start"], columns="indicator", values="value")
        out: list[Alert] = []
        if wide.empty or "discharges" not in wide:
            return out
        for gid, g in wide.groupby(level=0):
            if gid not in groups.index:
                continue
            dept = str(groups.at[gid, "dept_id"])
            g = g.droplevel(0).sort_index()
            g = g[g["discharges"] >= self.p.min_cases]
            for code in GROUP_WATCH:
                s = g[code].dropna() if code in g else pd.Series(dtype=float)
                for i, (month, x) in enumerate(s.items()):
                    if month < first_report or i < self.p.min_history:
                        continue
                    past = s.iloc[max(0, i - self.p.spread_months):i].to_numpy()
                    a = self._robust(dept, code, s.iloc[max(0, i - self.p.history_months):i].to_numpy(), month,
                                     x, self.p.min_rel_change_drg, spread=past)
                    if a and x > self.p.beyond_max * float(past.max()):  # a group's month has heavy tails
                        a.kind, a.entity_type, a.entity_id = "group_charge", "group", str(gid)
                        a.drivers = [{"type": "group", "id": str(gid), "name_zh": groups.at[gid, "name_zh"],
                                      "name_en": groups.at[gid, "name_en"], "contribution": 1.0}]
                        a.amount = _amount(a, None, g["discharges"])
                        out.append(a)
        return out

    def _robust(self, dept: str, code: str, hist: np.ndarray, month: date, x: float,
                min_rel: float | None = None, floor: float = 0.0, spread: np.ndarray | None = None) -> Alert | None:
        """`floor`: the least spread to judge x by (the sampling error of a mean over few cases),
        whatever the spread of the past values; `spread`: the longer past the spread comes from."""
        z, med, scale = robust_z(x, hist, floor, spread)
        level = _level(z, self.p, by_months=not floor)
        min_rel = self.p.min_rel_change if min_rel is None else min_rel
        if level is None or med == 0 or abs(x / med - 1) < min_rel or not _adverse(code, x - med):
            return None
        by_move = "red" if abs(x / med - 1) >= self.p.move_levels[1] else \
            "orange" if abs(x / med - 1) >= self.p.move_levels[0] else "yellow"
        level = max(level, by_move, key=LEVELS.index)
        band = (self.p.z_month[0] if not floor else self.p.z_yellow) * scale
        return Alert("robust_z", level, dept, code, month, month_end(month), x, med, med - band, med + band,
                     x / med - 1, f"robust z = {z:+.1f} against the trailing {len(hist)} months")

    def _seasonal(self, dept: str, code: str, s: pd.Series, month: date, x: float) -> Alert | None:
        """Against the same month a year earlier, scaled by the recent year-on-year ratio."""
        prior = add_months(month, -12)
        if prior not in s.index:
            return None
        ratios = []
        for k in range(1, self.p.history_months + 1):
            m = add_months(month, -k)
            if m in s.index and add_months(m, -12) in s.index and s[add_months(m, -12)]:
                ratios.append(s[m] / s[add_months(m, -12)])
        if len(ratios) < 6 or not s[prior]:
            return None
        r = x / s[prior]
        z, med, scale = robust_z(r, np.array(ratios))
        level = _level(z, self.p)
        expected = s[prior] * med
        if level is None or abs(x / expected - 1) < self.p.min_rel_change_seasonal or not _adverse(code, x - expected):
            return None
        band = self.p.z_yellow * scale * s[prior]
        return Alert("seasonal_z", level, dept, code, month, month_end(month), x, expected, expected - band,
                     expected + band, x / expected - 1,
                     f"robust z = {z:+.1f} of the year-on-year ratio against the trailing {len(ratios)} months",
                     amount=x - expected if INDICATORS[code].unit == "yuan" else None)

    # ------------------------------------------------------------- daily
    def outpatient(self, through: date, first_report: date) -> list[Alert]:
        span = Period(first_report - timedelta(days=70), through, "custom")
        df = indicator_values(self.wh, self.scope, ("outpatient_visits",), span, Level.department,
                              Filters(kind=("clinical",)), "day")
        cal = self._calendar(span)
        out = []
        for dept, g in df.groupby("key"):
            s = g.set_index("period_start")["value"].astype(float)
            s = s.reindex(cal.index, fill_value=0.0)
            normal = cal["normal"]
            expected = pd.Series(np.nan, index=s.index)
            for d in s.index:  # same weekday, last eight normal weeks
                past = [d - timedelta(days=7 * k) for k in range(1, 9)]
                vals = [s[p] for p in past if p in s.index and normal.get(p, False)]
                if len(vals) >= 4:
                    expected[d] = float(np.median(vals))
            run_start, obs_sum, exp_sum = None, 0.0, 0.0
            days = [d for d in s.index if d >= first_report and normal[d] and expected[d] == expected[d]]
            week: list[date] = []
            for d in days:
                week = [w for w in [*week, d] if (d - w).days < 7]
                o = sum(s[w] for w in week)
                e = sum(expected[w] for w in week)
                low = len(week) >= 4 and e > 20 and o < self.p.volume_drop * e
                if low and run_start is None:
                    run_start, obs_sum, exp_sum = week[0], 0.0, 0.0
                if run_start is not None:
                    obs_sum += s[d]
                    exp_sum += expected[d]
                if run_start is not None and (not low or d == days[-1]):
                    ratio = obs_sum / exp_sum if exp_sum else 0.0
                    level = "red" if ratio < 0.4 else "orange"
                    out.append(Alert("volume_drop", level, dept, "outpatient_visits", run_start, d, obs_sum, exp_sum,
                                     exp_sum * self.p.volume_drop, exp_sum * 1.4, ratio - 1,
                                     "7-day visits below 60% of the same weekdays of the previous eight weeks"))
                    run_start = None
        return out

    def _calendar(self, span: Period) -> pd.DataFrame:
        from sqlalchemy import select

        from ..schema import dim_date

        rows = self.wh.frame(select(dim_date.c.date, dim_date.c.is_workday, dim_date.c.holiday_name, dim_date.c.weekday)
                             .where(dim_date.c.date.between(span.start, span.end)))
        rows["date"] = pd.to_datetime(rows["date"]).dt.date
        # a normal day: not a holiday, and not an adjusted weekend workday (调休)
        rows["normal"] = rows["holiday_name"].isna() & ~((rows["weekday"] >= 6) & rows["is_workday"].astype(bool))
        rows["normal"] = rows["normal"] & ~_near_spring_festival(rows)
        return rows.set_index("date")

    def devices(self, through: date, first_report: date) -> list[Alert]:
        df = device_daily(self.wh, self.scope, Period(first_report - timedelta(days=70), through, "custom"))
        cal = self._calendar(Period(first_report - timedelta(days=70), through, "custom"))
        work = cal.index[cal["is_workday"].astype(bool)]
        out = []
        for (dev, dept), g in df.groupby(["equipment_id", "dept_id"]):
            s = g.set_index("date")["exams"].reindex(work).dropna()
            run: list[date] = []
            for d, v in s.items():
                if v == 0:
                    run.append(d)
                    continue
                out += self._idle(dev, dept, s, run, first_report)
                run = []
            out += self._idle(dev, dept, s, run, first_report)
        return out

    def _idle(self, dev: str, dept: str, s: pd.Series, run: list[date], first_report: date) -> list[Alert]:
        if len(run) < self.p.idle_days or run[-1] < first_report:
            return []
        before = s[s.index < run[0]].tail(40)
        usual = float(before.median()) if len(before) >= 10 else 0.0
        if usual <= 0:
            return []
        # a device that does one or two a day (a ventilator, an operating robot) has quiet weeks by chance:
        # alert only when P(no exam for the whole run) under its usual Poisson rate is below idle_chance
        if math.exp(-float(before.mean()) * len(run)) >= self.p.idle_chance:
            return []
        return [Alert("device_idle", "red", dept, "equipment_utilization", run[0], run[-1], 0.0, usual * len(run), 0.0,
                      usual * len(run) * 2, -1.0, f"no exams on {len(run)} working days in a row", "equipment", dev,
                      [{"type": "equipment", "id": dev, "contribution": 1.0}])]

    def budget(self, through: date, first_report: date) -> list[Alert]:
        """An item spent far over its budget in a way its own past never was (`budget_overruns`).
        The level follows the year-to-date pace (red over `budget_ytd`)."""
        span = _months(through, self.report_months + self.p.spread_months)
        df = budget_monthly(self.wh, self.scope, span)
        # capital and project items are spent in lumps by design; their pace is a budget-page matter
        df = df[(df["budget_amount"] > 0) & ~df["category"].isin(LUMPY_BUDGET)].copy()
        df["year"] = [m.year for m in df["month_start"]]
        out = []
        for (dept, item), g in df.groupby(["dept_id", "item_code"]):
            g = g.sort_values("month_start").reset_index(drop=True)
            spent, planned = g["executed_amount"].to_numpy(float), g["budget_amount"].to_numpy(float)
            reported = np.flatnonzero(np.array([m >= first_report for m in g["month_start"]], dtype=bool))
            pace = (g.groupby("year")["executed_amount"].cumsum() / g.groupby("year")["budget_amount"].cumsum())
            for f in budget_overruns(spent, planned, reported, self.p):
                i, first = f.month, f.first
                ytd = float(pace.iloc[i])
                level = "red" if ytd >= self.p.budget_ytd else "orange" if ytd >= 1.15 else "yellow"
                what = (f"after a month at {f.ratio:.0%}" if first == i
                        else f"after two months at {f.ratio:.0%} together")
                over = float((spent[first:i + 1] - planned[first:i + 1] * f.usual_ratio).sum())
                out.append(Alert("budget_overrun", level, dept, "budget_execution",
                                 g["month_start"].iloc[first], month_end(g["month_start"].iloc[i]),
                                 ytd, 1.0, 0.0, self.p.budget_ytd, ytd - 1,
                                 f"year to date at {ytd:.0%} of its budget {what}, z = {f.z:+.1f} against the "
                                 "item's own monthly spending",
                                 "budget_item", item, [{"type": "budget_item", "id": item, "contribution": 1.0}],
                                 amount=over))
        return out

    def rules(self, through: date) -> list[Alert]:
        """Standing conditions of the last closed month: they describe the present, so a scan over
        past dates does not raise the conditions of months long gone."""
        month = _months(through, 1)
        df = indicator_values(self.wh, self.scope, tuple(sorted({r[0] for r in RULES})), month, Level.department,
                              Filters(kind=("clinical",)))
        out = []
        for code, bound, above, level in RULES:
            for r in df[df["indicator"] == code].itertuples():
                v = r.value
                if v == v and ((v > bound) if above else (v < bound)):
                    out.append(Alert("rule", level, r.key, code, month.start, month.end, float(v), bound,
                                     -math.inf if above else bound, bound if above else math.inf, v / bound - 1,
                                     f"{'above' if above else 'below'} the limit {bound:g}"))
        return out

    # ------------------------------------------------------------ drivers
    def drivers(self, alert: Alert) -> list[dict]:
        """The medical groups, DRG groups or doctors that moved the department's figure most."""
        if alert.drivers or alert.indicator not in MONTHLY_WATCH:
            return alert.drivers
        weight = MONTHLY_WATCH[alert.indicator]
        now = Period(alert.period_start, alert.period_end, "custom")
        base = Period(add_months(alert.period_start, -3), alert.period_start - timedelta(days=1), "custom")
        found = []
        for level in (Level.group, Level.drg, Level.doctor):
            ind = INDICATORS[alert.indicator]
            if level not in ind.levels or level not in INDICATORS[weight].levels:
                continue
            f = Filters(department=(alert.dept_id,))
            try:
                a = indicator_values(self.wh, self.scope, (alert.indicator, weight), now, level, f)
                b = indicator_values(self.wh, self.scope, (alert.indicator,), base, level, f)
            except UserError:
                continue
            cur = a.pivot_table(index=["key", "name_zh", "name_en"], columns="indicator", values="value")
            prev = b.set_index("key")["value"]
            cur = cur.reset_index()
            cur["before"] = cur["key"].map(prev)
            cur["contribution"] = (cur[alert.indicator] - cur["before"]) * cur[weight]
            cur = cur.dropna(subset=["contribution"])
            adverse = cur[[_adverse(alert.indicator, c) for c in cur["contribution"]]]
            total = adverse["contribution"].abs().sum()
            for r in adverse.reindex(adverse["contribution"].abs().sort_values(ascending=False).index).head(3).itertuples():
                found.append({"type": level.value, "id": r.key, "name_zh": r.name_zh, "name_en": r.name_en,
                              "before": float(r.before), "now": float(getattr(r, alert.indicator)),
                              "contribution": float(abs(r.contribution) / total) if total else 0.0})
        return found


def _near_spring_festival(cal: pd.DataFrame) -> pd.Series:
    """Days within two weeks after a Spring Festival holiday (volumes are still returning)."""
    spring = pd.to_datetime(cal.loc[cal["holiday_name"].fillna("").str.contains("春节"), "date"])
    out = pd.Series(False, index=cal.index)
    days = pd.to_datetime(cal["date"])
    for d in spring:
        out |= (days > d) & (days <= d + pd.Timedelta(days=14))
    return out


def _amount(alert: Alert, revenue: pd.Series | None, cases: pd.Series | None) -> float | None:
    """The money a move stands for: observed - expected for a total in yuan; times the month's
    discharges for a charge per discharge; times the month's revenue for a share of revenue."""
    code, month = alert.indicator, alert.period_start
    if code.endswith("_per_discharge"):
        return (alert.observed - alert.expected) * float(cases[month]) \
            if cases is not None and month in cases.index else None
    if INDICATORS[code].unit == "yuan":
        return alert.observed - alert.expected
    if code.endswith("_share") and revenue is not None and month in revenue.index:
        return (alert.observed - alert.expected) * float(revenue[month])
    return None


# ---------------------------------------------------------------- root causes
# How near an alert is to a cause: a group, a DRG group, a device, a closed clinic before a
# department's component figures, and those before the totals that add them up.
NEARNESS = {"group_charge": 0, "drg_stay": 0, "device_idle": 0, "volume_drop": 0, "dip_point_value": 0}
COMPONENTS = {"drug_share", "material_share", "alos", "charge_per_visit", "energy_cost"}
# cause indicator -> the department figures it moves (a share rise moves the charge per case, a
# longer stay its time index and its charges; a clinic closed for weeks moves the revenue mix)
KNOCK_ONS: dict[str, set[str]] = {
    "drug_charge_per_discharge": {"drug_share", "charge_per_discharge"},
    "material_charge_per_discharge": {"material_share", "charge_per_discharge"},
    "drug_share": {"drug_share", "charge_per_discharge", "charge_per_visit"},
    "material_share": {"material_share", "charge_per_discharge"},
    "alos": {"alos", "time_index", "charge_per_discharge"},
    "charge_per_visit": {"drug_share", "material_share"},
    "outpatient_visits": {"drug_share", "material_share", "charge_per_visit", "charge_per_discharge"},
}
MONEY_MATCH = (0.5, 2.0)  # a budget overrun is the cause's money when their sums agree within this ratio


def _nearness(a: Alert) -> int:
    if a.kind in NEARNESS:
        return NEARNESS[a.kind]
    return 1 if a.indicator in COMPONENTS else 2


def _overlap(a: Alert, b: Alert) -> bool:
    return a.period_start <= b.period_end and b.period_start <= a.period_end


def _driven_by(alert: Alert, kind: str, ident: str, share: float = 0.3) -> bool:
    return any(d.get("type") == kind and str(d.get("id")) == ident and d.get("contribution", 0) >= share
               for d in alert.drivers)


def explains(cause: Alert, effect: Alert) -> bool:
    """Whether `cause` accounts for `effect` (same department, overlapping dates): a budget overrun
    whose money is the cause's excess money; a department figure that the cause's indicator moves and
    whose drivers point at the cause's group or DRG group (or, between department figures, share their
    leading driver); the closed clinic's revenue mix. Anything else stays an alert of its own."""
    if cause is effect or cause.dept_id != effect.dept_id or not _overlap(cause, effect):
        return False
    if effect.kind == "budget_overrun":  # money booked against a budget line: any figure's money may be it
        if cause.kind == "budget_overrun" or cause.amount is None or effect.amount is None or cause.amount <= 0:
            return False
        return MONEY_MATCH[0] <= effect.amount / cause.amount <= MONEY_MATCH[1]
    if _nearness(cause) >= _nearness(effect) or effect.indicator not in KNOCK_ONS.get(cause.indicator, set()):
        return False
    if cause.entity_type in ("group", "drg"):
        return _driven_by(effect, cause.entity_type, str(cause.entity_id))
    if cause.kind == "volume_drop":
        return effect.entity_type is None
    if effect.indicator == "time_index" and cause.indicator == "alos":
        return True  # the same stays, against their groups' reference
    lead = [d for d in cause.drivers if d.get("type") == "group"][:1]
    return bool(lead) and _driven_by(effect, "group", str(lead[0]["id"]))


def group_causes(alerts: list[Alert]) -> list[Alert]:
    """Root causes, not floods: each alert a nearer alert explains becomes one of that alert's (or
    its own cause's) consequences instead of an alert of its own; the cause takes the highest level
    among them. Alerts nothing explains stay as they are."""
    order = sorted(alerts, key=lambda a: (_nearness(a), -abs(a.deviation)))
    root: dict[int, Alert] = {}
    out: list[Alert] = []
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    for a in order:
        causes = [c for c in order if c is not a and id(c) in root and explains(c, a)]
        if not causes:
            root[id(a)] = a
            out.append(a)
            continue
        cause = root[id(causes[0])]
        root[id(a)] = cause
        cause.consequences.append({
            "kind": a.kind, "level": a.level, "indicator": a.indicator, "entity_type": a.entity_type,
            "entity_id": a.entity_id, "period_start": a.period_start.isoformat(),
            "period_end": a.period_end.isoformat(), "observed": a.observed, "expected": a.expected,
            "deviation": a.deviation, "method": a.method, "via": causes[0].indicator,
            "via_entity": [causes[0].entity_type, causes[0].entity_id] if causes[0].entity_type else None,
            **({"adjusted": a.adjusted} if a.adjusted else {})})
        if rank[a.level] > rank[cause.level]:
            cause.level = a.level
    kept = {id(a) for a in out}
    return [a for a in alerts if id(a) in kept]


def merge(alerts: list[Alert]) -> list[Alert]:
    """One alert per problem: consecutive or overlapping firings of the same key grow one alert."""
    out: list[Alert] = []
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    for a in sorted(alerts, key=lambda a: (a.key, a.period_start)):
        last = out[-1] if out else None
        if last and last.key == a.key and a.period_start <= last.period_end + timedelta(days=35):
            last.period_end = max(last.period_end, a.period_end)
            last.occurrences += 1
            if rank[a.level] > rank[last.level]:
                last.level = a.level
            if abs(a.deviation) > abs(last.deviation):
                last.observed, last.expected, last.deviation = a.observed, a.expected, a.deviation
                last.band_low, last.band_high, last.method = a.band_low, a.band_high, a.method
                last.adjusted = a.adjusted or last.adjusted
            if a.amount is not None and (last.amount is None or a.amount > last.amount):
                last.amount = a.amount
            continue
        out.append(a)
    return out


def scan(wh: Warehouse, scope: Scope, through: date | None = None, params: Params = Params(),
         since: date | None = None) -> ScanResult:
    """Run every check over the scope; returns merged alerts (with drivers) and what was skipped.
    Reports the last `params.scan_months` months, or everything from `since` (a scan over past dates:
    each month judged against its own past only, as the nightly scan of the time would have)."""
    fresh = wh.freshness()
    through = through or fresh.data_through
    if through is None:
        raise UserError("the warehouse holds no load yet (meta_load is empty): nothing to scan")
    if since is not None and since > through:
        raise UserError(f"--since {since} is after the day scanned ({through})")
    first_report = since or add_months(through.replace(day=1), -params.scan_months)
    det = Detector(wh, scope, params)
    det.report_months = max(params.scan_months,
                            (through.year - first_report.year) * 12 + through.month - first_report.month + 1)
    found: list[Alert] = []
    for name, check in (("monthly", lambda: det.monthly(min(through, fresh.months_closed_through or through),
                                                        first_report)),
                        ("outpatient", lambda: det.outpatient(through, first_report)),
                        ("drg stays", lambda: det.drg_stays(min(through, fresh.months_closed_through or through),
                                                            first_report)),
                        ("group charges", lambda: det.group_charges(
                            min(through, fresh.months_closed_through or through), first_report)),
                        ("devices", lambda: det.devices(through, first_report)),
                        ("budget", lambda: det.budget(min(through, fresh.months_closed_through or through),
                                                      first_report)),
                        ("DIP point values", lambda: det.dip_point_values(through, first_report)),
                        ("rules", lambda: det.rules(min(through, fresh.months_closed_through or through)))):
        try:
            found += check()
        except UserError as exc:
            det.skipped.append(f"{name} checks skipped: {exc}")
        except Exception as exc:  # one broken check must not stop the others
            log.exception("%s checks failed", name)
            det.skipped.append(f"{name} checks failed: {type(exc).__name__}: {exc}")
    alerts = merge(found)
    for a in alerts:
        a.drivers = det.drivers(a)
    return ScanResult(group_causes(alerts), det.skipped, through)
