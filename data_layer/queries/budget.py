"""Budget execution (预算执行) by department and budget item, against the time elapsed.

Definitions (docs/workspace-budget.md says the same for users):
- Only closed months count (`months_closed_through` of the freshness stamp): the period's
  window is its whole closed months (`kpis.monthly_window`), and its last day is the "as of"
  day of the year-to-date figures.
- Period: budget and executed amounts over the window; execution = executed / budget.
- Year to date (本年累计): 1 January of the as-of year through the as-of day.
- Annual budget (全年预算): the budget of all twelve months of the as-of year.
- Time progress (时间进度) = days from 1 January through the as-of day / days in the year.
- Executed share of the year (年度执行进度) = executed year to date / annual budget.
- Pace gap = executed share − time progress; an item is ahead of pace (超进度) when the gap
  exceeds the tolerance (default 5 points), behind pace (进度滞后) below −tolerance.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, select

from ..arrays import divide
from ..periods import Period, month_end
from ..schema import dim_budget_item, dim_department, fact_budget_monthly
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized
from .kpis import monthly_window

TOLERANCE = 0.05  # 5 percentage points ahead of the time elapsed
EPS = 1e-9
CATEGORIES = ("personnel", "drugs_materials", "equipment", "operations", "research", "infrastructure")
LINE_COLS = ["dept_id", "dept_zh", "dept_en", "item_code", "name_zh", "name_en", "category", "budget_period",
             "executed_period", "budget_ytd", "executed_ytd", "budget_year"]


def time_progress(as_of: date) -> float:
    """Days from 1 January through `as_of` over the days of that year."""
    start, end = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    return ((as_of - start).days + 1) / ((end - start).days + 1)


def budget_window(wh: Warehouse, period: Period) -> tuple[date, date] | None:
    """The period's whole closed months, None when none is closed."""
    return monthly_window(period, wh.freshness().months_closed_through)


@memoized
def budget_lines(wh: Warehouse, scope: Scope, period: Period, dept_id: str | None = None) -> pd.DataFrame:
    """One row per department and budget item in the scope (one department if `dept_id`):
    budget and executed over the period's closed months, year to date, and the annual budget.
    attrs: window, as_of, year_start, elapsed (time progress); empty with window None when no
    month of the period is closed."""
    window = budget_window(wh, period)
    if window is None:
        out = pd.DataFrame(columns=LINE_COLS)
        out.attrs = {"window": None, "as_of": None, "year_start": None, "elapsed": float("nan")}
        return out
    as_of = window[1]
    y0, y1 = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    b, d, it = fact_budget_monthly.c, dim_department.c, dim_budget_item.c
    in_period = b.month_start.between(window[0], window[1])
    in_ytd = b.month_start.between(y0, as_of)
    in_year = b.month_start.between(y0, y1)

    def total(col, cond):
        return func.sum(case((cond, col), else_=0))

    stmt = (select(b.dept_id, d.name_zh.label("dept_zh"), d.name_en.label("dept_en"), b.item_code, it.name_zh,
                   it.name_en, it.category,
                   total(b.budget_amount, in_period).label("budget_period"),
                   total(b.executed_amount, in_period).label("executed_period"),
                   total(b.budget_amount, in_ytd).label("budget_ytd"),
                   total(b.executed_amount, in_ytd).label("executed_ytd"),
                   total(b.budget_amount, in_year).label("budget_year"))
            .select_from(fact_budget_monthly.join(dim_department, b.dept_id == d.dept_id)
                         .join(dim_budget_item, b.item_code == it.item_code))
            .where(b.month_start.between(min(window[0], y0), max(window[1], y1)))
            .group_by(b.dept_id, d.name_zh, d.name_en, b.item_code, it.name_zh, it.name_en, it.category)
            .order_by(b.dept_id, b.item_code))
    if dept_id is not None:
        stmt = stmt.where(b.dept_id == dept_id)
    df = wh.frame(scoped(stmt, scope))
    for c in LINE_COLS[7:]:
        df[c] = pd.to_numeric(df[c]).astype(float)
    df.attrs = {"window": window, "as_of": as_of, "year_start": y0, "elapsed": time_progress(as_of)}
    return df


def _ratio(a: pd.Series, b: pd.Series) -> np.ndarray:
    """a / b, NaN where b is 0 or missing."""
    return divide(a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan))


def pace_status(share: float, elapsed: float, tolerance: float = TOLERANCE) -> str | None:
    """ahead (executed share above time progress by more than the tolerance), behind (below by
    more), on_pace; None without an annual budget."""
    if share != share or elapsed != elapsed:
        return None
    gap = share - elapsed
    if gap > tolerance + EPS:  # a gap of exactly the tolerance is on pace, whatever the float rounding
        return "ahead"
    if gap < -tolerance - EPS:
        return "behind"
    return "on_pace"


def with_pace(lines: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Add execution (period), execution_ytd, share_year (executed ytd / annual budget),
    elapsed, gap (share_year − elapsed) and status to budget lines or their totals."""
    elapsed = lines.attrs.get("elapsed", float("nan"))
    share = _ratio(lines["executed_ytd"], lines["budget_year"])
    new: dict[str, Any] = {
        "execution": _ratio(lines["executed_period"], lines["budget_period"]),
        "execution_ytd": _ratio(lines["executed_ytd"], lines["budget_ytd"]),
        "share_year": share, "elapsed": np.full(len(lines), elapsed), "gap": share - elapsed,
        "status": [pace_status(float(v), elapsed, tolerance) for v in share]}
    # added at once (column by column, pandas' checks took most of the budget page's Python time);
    # a column already there keeps its place
    out = lines.copy()
    for name in [c for c in new if c in out.columns]:
        out[name] = new.pop(name)
    out = pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1) if new else out
    out.attrs = dict(lines.attrs)
    return out


SUMS = ["budget_period", "executed_period", "budget_ytd", "executed_ytd", "budget_year"]


def department_summary(lines: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Per department: the sums over its items with their pace, and how many items are ahead of pace."""
    items = with_pace(lines, tolerance)
    if items.empty:
        out = pd.DataFrame(columns=["dept_id", "dept_zh", "dept_en", *SUMS, "items", "items_ahead"])
        out.attrs = dict(lines.attrs)
        return with_pace(out, tolerance)
    # the attrs ride on the answer, not on every group: pandas deep-copies them at each operation
    items.attrs = {}
    items["items"], items["items_ahead"] = 1, (items["status"] == "ahead").astype(int)
    out = items.groupby(["dept_id", "dept_zh", "dept_en"], sort=True)[[*SUMS, "items", "items_ahead"]].sum()
    out = out.reset_index()
    out.attrs = dict(lines.attrs)
    return with_pace(out, tolerance)


def category_summary(lines: pd.DataFrame, tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Per budget category (personnel, drugs_materials …) of the lines given: sums and pace."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    if lines.empty:
        out = pd.DataFrame(columns=["category", *SUMS])
    else:
        out = lines.groupby("category", sort=False)[SUMS].sum().reset_index()
        out = out.sort_values("category", key=lambda s: s.map(lambda c: order.get(c, 99)), kind="stable")
    out.attrs = dict(lines.attrs)
    return with_pace(out.reset_index(drop=True), tolerance)


@memoized
def budget_monthly(wh: Warehouse, scope: Scope, dept_id: str, year: int, item_code: str | None = None,
                   through: date | None = None) -> pd.DataFrame:
    """Month by month for the department (one item, or all items when None) over `year`:
    month_start, budget, executed (NaN for a month not yet closed, or after `through`, the as-of
    day of the period), cum_budget, cum_executed, pace (annual budget × time progress at the
    month's end)."""
    b, d = fact_budget_monthly.c, dim_department.c
    conds = [b.dept_id == dept_id, b.month_start.between(date(year, 1, 1), date(year, 12, 31))]
    if item_code is not None:
        conds.append(b.item_code == item_code)
    stmt = (select(b.month_start, func.sum(b.budget_amount).label("budget"), func.sum(b.executed_amount).label("executed"))
            .select_from(fact_budget_monthly.join(dim_department, b.dept_id == d.dept_id))
            .where(and_(*conds)).group_by(b.month_start).order_by(b.month_start))
    df = wh.frame(scoped(stmt, scope))
    cols = ["month_start", "budget", "executed", "cum_budget", "cum_executed", "pace"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["month_start"] = pd.to_datetime(df["month_start"]).dt.date
    df["budget"] = pd.to_numeric(df["budget"]).astype(float)
    df["executed"] = pd.to_numeric(df["executed"]).astype(float)
    closed = wh.freshness().months_closed_through
    if closed is not None and through is not None:
        closed = min(closed, through)
    open_month = [closed is None or m > closed for m in df["month_start"]]
    df.loc[open_month, "executed"] = np.nan
    df["cum_budget"] = df["budget"].cumsum()
    df["cum_executed"] = df["executed"].cumsum()
    annual = df["budget"].sum()
    df["pace"] = [annual * time_progress(month_end(m)) for m in df["month_start"]]
    return df[cols]
