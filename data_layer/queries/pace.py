"""The pace of an annual target: how much of it should be reached by a given day.

One rule, used by the department page's targets table ("expected by now", via
data_layer.queries.targets.target_progress) and by its pace chart (the dashed line, via
`pace_curve`), so the two cannot drift apart again (before issue 6's rework the chart paced
every target by calendar days while the table paced volumes by working days):

- a target on a **sum** is pro-rated to the share of the year elapsed:
  - **volumes** (the registry's `volume` flag: visits, admissions, discharges, bed days,
    surgeries) by **working days** (dim_date's official calendar, 调休 included), since the
    hospital's volume follows its working days (Chinese New Year's February is slow);
  - **money and other daily sums** (revenue) by **calendar days**: revenue accrues every day
    a ward is open, holidays included;
  - sums built on **monthly facts** (cost, balance) by **closed months**;
- a target on a **level** (average stay, CMI, shares) is not pro-rated: the target itself.

`target_pace` is that one function; `elapsed` measures the year on every basis for a day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Integer, cast, func, select

from ..periods import month_end
from ..registry import INDICATORS, BinOp, Expr, Indicator, M
from ..schema import dim_date
from ..scope import Scope
from ..warehouse import Warehouse, memoized

BASES = ("workdays", "days", "months", "level")


def is_sum(expr: Expr) -> bool:
    """True for a measure or a sum or difference of measures: a figure that accrues over time."""
    if isinstance(expr, M):
        return True
    if isinstance(expr, BinOp) and expr.op in "+-":
        return is_sum(expr.left) and is_sum(expr.right)
    return False


def pace_basis(ind: Indicator) -> str:
    """How a target on `ind` is paced through the year: by closed months for sums on monthly facts
    (cost, balance), by working days for volumes (the registry's `volume` flag), by calendar days
    for other sums (revenue); a level (average stay, CMI, shares) is not pro-rated."""
    if not is_sum(ind.formula):
        return "level"
    return "months" if ind.monthly else ("workdays" if ind.volume else "days")


@dataclass(frozen=True)
class Elapsed:
    workdays: float  # working days elapsed / working days in the year
    days: float  # calendar days elapsed / days in the year
    months: float  # closed months / 12

    def fraction(self, basis: str) -> float:
        """The share of the year elapsed on a pacing basis (workdays, days or months; a level: 1)."""
        return {"months": self.months, "workdays": self.workdays, "days": self.days}.get(basis, 1.0)


@dataclass(frozen=True)
class Pace:
    basis: str  # workdays | days | months | level
    elapsed: float  # the share of the year on that basis (1 for a level)
    expected: float  # the target pro-rated to it (the target itself for a level)


def target_pace(ind: Indicator, target: float, share: Elapsed) -> Pace:
    """THE pacing rule: what a target on `ind` expects by the day `share` measures."""
    basis = pace_basis(ind)
    frac = share.fraction(basis)
    return Pace(basis, frac, target * frac if basis != "level" else target)


def working_days(wh: Warehouse, start: date, end: date) -> int:
    """Working days from dim_date (调休 included); weekdays for any day dim_date lacks."""
    stmt = select(func.count(), func.sum(cast(dim_date.c.is_workday, Integer))).where(
        dim_date.c.date.between(start, end))
    row = wh.frame(stmt).iloc[0]
    covered, work = int(row.iloc[0] or 0), int(row.iloc[1] or 0)
    total = (end - start).days + 1
    if covered < total:  # count Monday-Friday for the days dim_date does not cover
        have = set(pd.to_datetime(wh.frame(select(dim_date.c.date).where(dim_date.c.date.between(start, end)))["date"])
                   .dt.date)
        work += sum(1 for k in range(total) if (d := start + timedelta(days=k)) not in have and d.weekday() < 5)
    return work


def elapsed(wh: Warehouse, through: date, months_closed_through: date | None) -> Elapsed:
    """The share of the year of `through` elapsed by `through`, on every basis. Closed months
    count up to `through` only (a month closed after that day is not yet closed on it)."""
    start, year_end = date(through.year, 1, 1), date(through.year, 12, 31)
    wd = working_days(wh, start, through) / max(working_days(wh, start, year_end), 1)
    days = ((through - start).days + 1) / ((year_end - start).days + 1)
    closed = 0
    if months_closed_through is not None:
        upto = min(months_closed_through, through)
        closed = upto.month if upto.year == through.year else 0
    return Elapsed(wd, days, closed / 12)


@memoized
def pace_curve(wh: Warehouse, scope: Scope, code: str, target: float, through: date) -> pd.DataFrame:
    """The target's pace month by month through the year of `through`: month (its first day),
    end (the month's last day, or `through` for the month in progress), basis, elapsed and
    expected, each by `target_pace` on the month's last day, so the last row is the targets
    table's "expected by now". `scope` keys the cache like every query; the pace itself depends
    on the calendar only."""
    ind = INDICATORS[code]
    closed = wh.freshness().months_closed_through
    rows = []
    for m in range(1, through.month + 1):
        start = date(through.year, m, 1)
        end = min(month_end(start), through)
        p = target_pace(ind, target, elapsed(wh, end, closed))
        rows.append((start, end, p.basis, p.elapsed, p.expected))
    return pd.DataFrame(rows, columns=["month", "end", "basis", "elapsed", "expected"])
