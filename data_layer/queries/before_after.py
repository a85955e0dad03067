"""Before/after evaluation of an improvement project (改善项目前后对比).

A project names departments, indicators and a start date. The before window is
[start − before_days, start − 1], the after window [start, start + after_days − 1]; both are
clipped to the data (first day with facts … data_through). Each supported indicator is one of
three kinds (the table KINDS below says which, and how its observations are read):

- ``proportion``: a share of cases (mortality, day surgery share …). SQL counts, per day, the
  cases in the base (the denominator) and the events among them (the numerator); the two
  windows give a 2×2 table (events / non-events × before / after) for Pearson's chi-square
  without continuity correction, with the difference of proportions and Newcombe's interval.
- ``case``: a mean over inpatient cases (average length of stay = mean los_days per discharge,
  charge per discharge, CMI = mean weight per grouped case …). SQL returns one value per case;
  Welch's t or Mann-Whitney (data_layer.stats.compare_means) compares the two windows.
- ``daily``: a daily figure (outpatient visits, bed occupancy, drug share …). SQL sums the
  components per calendar day (GROUP BY date); a day without rows counts as zero for volumes,
  and a day whose denominator is zero has no value. The daily values are the observations.

Every query joins dim_department, applies the caller's scope and the project's departments.
Nothing here imports Dash.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Double, and_, case, cast, func, or_, select

from ..schema import dim_department, dim_drg, dim_ward, fact_inpatient_case, fact_outpatient_daily, fact_ward_daily
from ..scope import Scope, scoped
from ..stats import MIN_PER_GROUP, ChiSquare, FieldErrors, MeanTest, chi_square, compare_means
from ..warehouse import Warehouse, memoized
from .kpis import unavailable

Kind = Literal["proportion", "case", "daily"]
ip, op, wd = fact_inpatient_case.c, fact_outpatient_daily.c, fact_ward_daily.c
DEFAULT_BEFORE = 90
DEFAULT_AFTER = 90
MIN_DAYS, MAX_DAYS = 7, 730  # window lengths a project may ask for
MAX_INDICATORS = 6
WEEK = 7  # the chart groups observations into 7-day bins counted from the start date


@dataclass(frozen=True)
class Spec:
    """How one indicator is observed: its kind, and the SQL or daily formula behind it."""

    kind: Kind
    base: ColumnElement[bool] | None = None  # proportion: the cases counted (denominator)
    event: ColumnElement[bool] | None = None  # proportion: the cases with the outcome (numerator)
    value: ColumnElement | None = None  # case: the per-case value
    needs_drg: bool = False  # joins dim_drg (weight, reference stay or charge)
    sums: tuple[str, ...] = ()  # daily: the components summed per day (see DAILY_SUMS)
    daily: Callable[[pd.DataFrame], pd.Series] | None = None  # daily: the day's value from its sums
    zero_days: bool = False  # daily: a day without rows is a zero (volumes), not a gap


_all = ip.case_id.is_not(None)
_surgery = ip.surgery_level > 0
_grouped = ip.drg_code.is_not(None)


def _ratio(num: str | tuple[str, ...], den: str | tuple[str, ...]) -> Callable[[pd.DataFrame], pd.Series]:
    nums = (num,) if isinstance(num, str) else num
    dens = (den,) if isinstance(den, str) else den

    def f(d: pd.DataFrame) -> pd.Series:
        n, m = sum(d[c] for c in nums), sum(d[c] for c in dens)
        return n / m.where(m != 0, np.nan)
    return f


def _col(*cols: str, minus: tuple[str, ...] = ()) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: sum(d[c] for c in cols) - sum((d[c] for c in minus), 0.0)


_rev = ("ip_charge", "op_revenue")
_service = ("ip_drug", "op_drug", "ip_material", "op_material", "ip_exam", "op_exam", "ip_lab", "op_lab")

# indicator -> how it is observed (codes of data_layer.registry.INDICATORS)
KINDS: dict[str, Spec] = {
    # proportions of cases: 2×2 table, chi-square
    "mortality": Spec("proportion", base=_all, event=ip.discharge_status == "died"),
    "grouped_rate": Spec("proportion", base=_all, event=_grouped),
    "level4_surgery_share": Spec("proportion", base=_surgery, event=ip.surgery_level == 4),
    "day_surgery_rate": Spec("proportion", base=_surgery, event=ip.is_day_surgery.is_(True)),
    # contract version 2: of the elective operations (a day surgery counts as elective), where is_elective is known
    "day_surgery_share": Spec("proportion", base=or_(ip.is_day_surgery.is_(True), ip.is_elective.is_(True)),
                              event=ip.is_day_surgery.is_(True)),
    "high_weight_share": Spec("proportion", base=_grouped, event=dim_drg.c.weight >= 2, needs_drg=True),
    # means over inpatient cases: Welch t or Mann-Whitney
    "alos": Spec("case", base=_all, value=ip.los_days),
    "charge_per_discharge": Spec("case", base=_all, value=ip.charge_total),
    "material_charge_per_discharge": Spec("case", base=_all, value=ip.charge_material),
    "drug_charge_per_discharge": Spec("case", base=_all, value=ip.charge_drug),
    "cmi": Spec("case", base=_grouped, value=dim_drg.c.weight, needs_drg=True),
    "time_index": Spec("case", base=_grouped, value=cast(ip.los_days, Double) / cast(dim_drg.c.ref_los_days, Double),
                       needs_drg=True),
    "cost_index": Spec("case", base=_grouped,
                       value=cast(ip.charge_total, Double) / cast(dim_drg.c.ref_charge_per_case, Double), needs_drg=True),
    "drg_margin_per_case": Spec("case", base=_grouped, value=ip.drg_payment - ip.cost_total),
    # daily figures: one observation per calendar day
    "outpatient_visits": Spec("daily", sums=("visits",), daily=_col("visits"), zero_days=True),
    "emergency_visits": Spec("daily", sums=("emergency",), daily=_col("emergency"), zero_days=True),
    "outpatient_revenue": Spec("daily", sums=("op_revenue",), daily=_col("op_revenue"), zero_days=True),
    "charge_per_visit": Spec("daily", sums=("op_revenue", "visits"), daily=_ratio("op_revenue", "visits")),
    "drug_charge_per_visit": Spec("daily", sums=("op_drug", "visits"), daily=_ratio("op_drug", "visits")),
    "admissions": Spec("daily", sums=("ward_admissions",), daily=_col("ward_admissions"), zero_days=True),
    "discharges": Spec("daily", sums=("discharges",), daily=_col("discharges"), zero_days=True),
    "surgeries": Spec("daily", sums=("surgeries",), daily=_col("surgeries"), zero_days=True),
    "bed_days": Spec("daily", sums=("occupied",), daily=_col("occupied"), zero_days=True),
    "bed_occupancy": Spec("daily", sums=("occupied", "open_beds"), daily=_ratio("occupied", "open_beds")),
    "inpatient_revenue": Spec("daily", sums=("ip_charge",), daily=_col("ip_charge"), zero_days=True),
    "revenue_total": Spec("daily", sums=_rev, daily=_col(*_rev), zero_days=True),
    "drug_share": Spec("daily", sums=(*_rev, "ip_drug", "op_drug"), daily=_ratio(("ip_drug", "op_drug"), _rev)),
    "material_share": Spec("daily", sums=(*_rev, "ip_material", "op_material"),
                           daily=_ratio(("ip_material", "op_material"), _rev)),
    "service_revenue_share": Spec("daily", sums=(*_rev, *_service),
                                  daily=lambda d: _col(*_rev, minus=_service)(d) / _col(*_rev)(d).replace(0, np.nan)),
}
SUPPORTED: tuple[str, ...] = tuple(KINDS)

# daily components: name -> (source, SQL sum)
DAILY_SUMS: dict[str, tuple[str, ColumnElement]] = {
    "visits": ("outpatient", func.sum(op.visits)),
    "emergency": ("outpatient", func.sum(op.emergency_visits)),
    "op_revenue": ("outpatient", func.sum(op.revenue_total)),
    **{f"op_{c}": ("outpatient", func.sum(getattr(op, f"revenue_{c}"))) for c in ("drug", "material", "exam", "lab")},
    "occupied": ("ward", func.sum(wd.occupied_beds)),
    "open_beds": ("ward", func.sum(wd.open_beds)),
    "ward_admissions": ("ward", func.sum(wd.admissions)),
    "discharges": ("inpatient", func.count(ip.case_id)),
    "surgeries": ("inpatient", func.sum(case((_surgery, 1), else_=0))),
    "ip_charge": ("inpatient", func.sum(ip.charge_total)),
    **{f"ip_{c}": ("inpatient", func.sum(getattr(ip, f"charge_{c}"))) for c in ("drug", "material", "exam", "lab")},
}
_DATE = {"outpatient": op.date, "ward": wd.date, "inpatient": ip.discharge_date}


def _from(source: str, needs_drg: bool = False):
    dept = dim_department.c.dept_id
    if source == "outpatient":
        return fact_outpatient_daily.join(dim_department, op.dept_id == dept)
    if source == "ward":
        return fact_ward_daily.join(dim_ward, wd.ward_id == dim_ward.c.ward_id).join(dim_department,
                                                                                      dim_ward.c.dept_id == dept)
    f = fact_inpatient_case.join(dim_department, ip.dept_id == dept)
    return f.outerjoin(dim_drg, ip.drg_code == dim_drg.c.drg_code) if needs_drg else f


def _where(dept_ids: tuple[str, ...], date_col: ColumnElement, start: date, end: date):
    return and_(dim_department.c.dept_id.in_(sorted(dept_ids)), date_col.between(start, end))


def _days(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


# ------------------------------------------------------------------------------------ queries
@memoized
def proportion_counts(wh: Warehouse, scope: Scope, code: str, dept_ids: tuple[str, ...], start: date,
                      end: date) -> pd.DataFrame:
    """Per discharge day in [start, end]: cases in the base and events among them (day, base, events)."""
    spec = KINDS[code]
    assert spec.kind == "proportion" and spec.base is not None and spec.event is not None
    stmt = (scoped(select(ip.discharge_date.label("day"), func.sum(case((spec.base, 1), else_=0)).label("base"),
                          func.sum(case((and_(spec.base, spec.event), 1), else_=0)).label("events"))
                   .select_from(_from("inpatient", spec.needs_drg))
                   .where(_where(dept_ids, ip.discharge_date, start, end)), scope)
            .group_by(ip.discharge_date).order_by(ip.discharge_date))
    df = wh.frame(stmt)
    df["day"] = _days(df["day"])
    for c in ("base", "events"):
        df[c] = pd.to_numeric(df[c]).astype("int64")
    return df[df["base"] > 0].reset_index(drop=True)


@memoized
def case_values(wh: Warehouse, scope: Scope, code: str, dept_ids: tuple[str, ...], start: date,
                end: date) -> pd.DataFrame:
    """One row per case in the indicator's base discharged in [start, end]: day, value."""
    spec = KINDS[code]
    assert spec.kind == "case" and spec.value is not None and spec.base is not None
    stmt = (scoped(select(ip.discharge_date.label("day"), spec.value.label("value"))
                   .select_from(_from("inpatient", spec.needs_drg))
                   .where(_where(dept_ids, ip.discharge_date, start, end), spec.base), scope)
            .order_by(ip.discharge_date, ip.case_id))
    df = wh.frame(stmt)
    df["day"] = _days(df["day"])
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    return df.dropna(subset=["value"]).reset_index(drop=True)


@memoized
def daily_values(wh: Warehouse, scope: Scope, code: str, dept_ids: tuple[str, ...], start: date,
                 end: date) -> pd.DataFrame:
    """One row per calendar day in [start, end] with data: day, value (and the day's sums)."""
    spec = KINDS[code]
    assert spec.kind == "daily" and spec.daily is not None
    by_source: dict[str, list[str]] = {}
    for name in spec.sums:
        by_source.setdefault(DAILY_SUMS[name][0], []).append(name)
    days = pd.DataFrame({"day": [start + timedelta(days=i) for i in range((end - start).days + 1)]})
    seen = pd.Series(False, index=days.index)
    for source, names in sorted(by_source.items()):
        col = _DATE[source]
        stmt = scoped(select(col.label("day"), *[DAILY_SUMS[n][1].label(n) for n in names])
                      .select_from(_from(source)).where(_where(dept_ids, col, start, end)), scope).group_by(col)
        part = wh.frame(stmt)
        part["day"] = _days(part["day"])
        for n in names:
            part[n] = pd.to_numeric(part[n], errors="coerce").astype(float)
        days = days.merge(part, on="day", how="left")
        seen |= days[names[0]].notna()
    if not seen.any():  # no row at all in the window: no observations, rather than a run of zeros
        return pd.DataFrame(columns=["day", "value", *spec.sums])
    days[list(spec.sums)] = days[list(spec.sums)].fillna(0.0)
    days["value"] = spec.daily(days).astype(float).replace([np.inf, -np.inf], np.nan)
    if not spec.zero_days:
        days = days[seen]
    return days.dropna(subset=["value"]).reset_index(drop=True)[["day", "value", *spec.sums]]


# --------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Windows:
    """The before and after windows after clipping to the data (None: no day of the window has data)."""

    start: date
    before: tuple[date, date] | None
    after: tuple[date, date] | None
    before_asked: tuple[date, date]
    after_asked: tuple[date, date]


def windows(start: date, before_days: int, after_days: int, first: date | None, through: date | None) -> Windows:
    b = (start - timedelta(days=before_days), start - timedelta(days=1))
    a = (start, start + timedelta(days=after_days - 1))

    def clip(w: tuple[date, date]) -> tuple[date, date] | None:
        lo = max(w[0], first) if first else w[0]
        hi = min(w[1], through) if through else w[1]
        return (lo, hi) if through is not None and lo <= hi else None
    return Windows(start, clip(b), clip(a), b, a)


@dataclass
class Result:
    """One indicator's before/after comparison (or why there is none: `errors`)."""

    indicator: str
    kind: Kind
    windows: Windows
    n_before: int = 0  # observations: cases in the base (proportion, case) or days (daily)
    n_after: int = 0
    value_before: float = float("nan")  # proportion or mean of the observations
    value_after: float = float("nan")
    diff: float = float("nan")  # after − before
    ci: tuple[float, float] | None = None  # 95% interval of diff
    test: str = ""  # chi_square, welch_t, mann_whitney
    statistic: float = float("nan")
    dof: float | None = None
    p: float = float("nan")
    reason: str = ""  # why this test: proportion, large, normal, not_normal
    small_expected: bool = False
    table: list[list[int]] | None = None  # proportion: [[events, non-events] before, [… ] after]
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)  # bin_start, window, value, n
    errors: dict[str, str] = field(default_factory=dict)  # before/after/table -> code (too_few, empty_column …)

    @property
    def significant(self) -> bool | None:
        return None if self.errors or self.p != self.p else bool(self.p < 0.05)


def _weekly(obs: pd.DataFrame, start: date, value: str, weight: str | None = None) -> pd.DataFrame:
    """Observations grouped in 7-day bins counted from the project's start (so the start is a bin edge)."""
    if obs.empty:
        return pd.DataFrame(columns=["bin_start", "window", "value", "n"])
    offset = pd.Series([(d - start).days // WEEK for d in obs["day"]], index=obs.index)
    g = obs.assign(bin=offset).groupby("bin")
    if weight is None:
        out = g.agg(value=(value, "mean"), n=(value, "size")).reset_index()
    else:
        out = g.agg(events=(value, "sum"), n=(weight, "sum")).reset_index()
        out["value"] = out["events"] / out["n"]
    out["bin_start"] = [start + timedelta(days=int(b) * WEEK) for b in out["bin"]]
    out["window"] = np.where(out["bin"] < 0, "before", "after")
    return out[["bin_start", "window", "value", "n"]]


def _in(df: pd.DataFrame, w: tuple[date, date] | None) -> pd.DataFrame:
    if w is None or df.empty:
        return df.iloc[0:0]
    return df[(df["day"] >= w[0]) & (df["day"] <= w[1])]


def evaluate(wh: Warehouse, scope: Scope, code: str, dept_ids: tuple[str, ...], start: date, before_days: int,
             after_days: int) -> Result:
    """Compare one indicator's before and after windows for the departments (within the scope)."""
    spec = KINDS[code]
    fresh = wh.freshness()
    win = windows(start, before_days, after_days, fresh.first_date, fresh.data_through)
    res = Result(code, spec.kind, win)
    if unavailable(wh, (code,)):  # it needs a part of contract version 2 this warehouse does not hold
        res.errors = {"table": "unavailable"}
        return res
    span = [w for w in (win.before, win.after) if w is not None]
    if not span:
        res.errors = {"before": "too_few", "after": "too_few"}
        return res
    lo, hi = span[0][0], span[-1][1]
    depts = tuple(sorted(dept_ids))
    if spec.kind == "proportion":
        counts = proportion_counts(wh, scope, code, depts, lo, hi)
        before, after = _in(counts, win.before), _in(counts, win.after)
        res.weekly = _weekly(pd.concat([before, after]), start, "events", "base")
        nb, na = int(before["base"].sum()), int(after["base"].sum())
        eb, ea = int(before["events"].sum()), int(after["events"].sum())
        res.n_before, res.n_after = nb, na
        res.table = [[eb, nb - eb], [ea, na - ea]]
        res.value_before = eb / nb if nb else float("nan")
        res.value_after = ea / na if na else float("nan")
        errors = {k: "too_few" for k, n in (("before", nb), ("after", na)) if n < MIN_PER_GROUP}
        if errors:
            res.errors = errors
            return res
        try:
            chi: ChiSquare = chi_square(res.table)
        except FieldErrors as exc:  # no event (or no non-event) in either window
            res.errors = exc.errors
            return res
        res.test, res.statistic, res.dof, res.p = "chi_square", chi.chi2, chi.dof, chi.p
        res.diff, res.ci, res.small_expected, res.reason = float(chi.diff), chi.ci, chi.small_expected, "proportion"
        return res
    obs = case_values(wh, scope, code, depts, lo, hi) if spec.kind == "case" else \
        daily_values(wh, scope, code, depts, lo, hi)
    before, after = _in(obs, win.before), _in(obs, win.after)
    res.weekly = _weekly(pd.concat([before, after]), start, "value")
    res.n_before, res.n_after = len(before), len(after)
    if len(before):
        res.value_before = float(before["value"].mean())
    if len(after):
        res.value_after = float(after["value"].mean())
    try:
        mt: MeanTest = compare_means(before["value"].tolist(), after["value"].tolist())
    except FieldErrors as exc:
        res.errors = exc.errors
        return res
    res.test, res.statistic, res.p, res.reason = mt.method, mt.statistic, mt.p, mt.reason
    res.diff, res.ci = mt.diff, mt.ci
    return res


def evaluate_project(wh: Warehouse, scope: Scope, indicators: tuple[str, ...], dept_ids: tuple[str, ...],
                     start: date, before_days: int, after_days: int) -> list[Result]:
    return [evaluate(wh, scope, code, dept_ids, start, before_days, after_days) for code in indicators if code in KINDS]


# --------------------------------------------------------------------------- manual table
MAX_COLUMNS = 5


def parse_counts(cells: list[list[object]]) -> tuple[list[list[int]], dict[str, str]]:
    """Counts typed by hand: rows before/after, columns the outcomes. Returns the integer table and
    per-cell errors keyed 'r{row}c{col}' (missing, not_integer, negative)."""
    table: list[list[int]] = []
    errors: dict[str, str] = {}
    for r, row in enumerate(cells):
        out = []
        for c, raw in enumerate(row):
            key = f"r{r}c{c}"
            text = "" if raw is None else str(raw).strip().replace(",", "")
            if not text:
                errors[key] = "missing"
                out.append(0)
                continue
            try:
                x = float(text)
            except ValueError:
                errors[key] = "not_integer"
                out.append(0)
                continue
            if not np.isfinite(x) or x != round(x):
                errors[key] = "not_integer"
            elif x < 0:
                errors[key] = "negative"
            out.append(int(x) if np.isfinite(x) and x == round(x) else 0)
        table.append(out)
    return table, errors


def manual_test(cells: list[list[object]]) -> tuple[list[list[int]], ChiSquare]:
    """Pearson's chi-square (no continuity correction) on a table typed by hand; FieldErrors with
    per-cell codes, or the table-level code (empty_row, empty_column, too_small) under 'table'."""
    if not (2 <= len(cells[0]) <= MAX_COLUMNS if cells else False) or len(cells) != 2:
        raise FieldErrors({"table": "too_small"})
    table, errors = parse_counts(cells)
    if errors:
        raise FieldErrors(errors)
    return table, chi_square(table)
