"""Day surgery (日间手术), contract version 2: how many planned operations are done as day cases, by
department and by procedure group (DRG group), what a day case costs and earns against the same
group admitted conventionally, the bed-days day surgery frees, and where planned operations are
still admitted conventionally although the group is already done as day surgery.

Definitions (docs/day-surgery.md):
- a day-surgery case: `is_day_surgery`;
- an elective operation (择期手术): a day-surgery case, or a case with `is_elective` true (as the
  registry's day_surgery_share counts it); a case whose `is_elective` is unknown is left out;
- a conventional elective case: `is_elective` true and not a day surgery (an ordinary admission);
- a day-surgery-capable group: a DRG group with at least one day-surgery case in the view (the
  scope and the period asked about);
- bed-days freed = Σ over groups (conventional mean stay − day-surgery mean stay) × day-surgery
  cases, the conventional mean stay taken over the view's conventional elective cases of the
  group (a group without a conventional elective case adds nothing).

The database sums the cases by department and group (one scoped statement); the functions here
combine those small sums. A warehouse without `is_elective` (contract version 1) gives empty
answers: the page says "not available in this warehouse".
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, literal, select

from ..periods import Period, add_months
from ..schema import dim_date, dim_department, dim_drg, fact_inpatient_case
from ..scope import Scope, scoped
from ..warehouse import Warehouse, memoized
from .structure import departments

ip = fact_inpatient_case.c
ELECTIVE_PART = "fact_inpatient_case.is_elective"
_DAY = ip.is_day_surgery.is_(True)
_CONV = and_(ip.is_elective.is_(True), ip.is_day_surgery.is_(False))
# the sums of one (department, group) cell: day-surgery and conventional elective cases
SUMS = ("cases", "los", "charge", "cost", "payment")
CELL_COLS = ["dept_id", "drg_code", *(f"day_{s}" for s in SUMS), *(f"conv_{s}" for s in SUMS)]
SUMMARY_KEYS = ("day_cases", "elective", "share", "conventional", "bed_days_freed", "day_alos", "conv_alos",
                "day_margin_per_case", "conv_margin_per_case", "candidates", "candidate_bed_days")
DEPT_COLS = ["dept_id", "name_zh", "name_en", "campus_id", "campus_zh", "campus_en", "day_cases", "elective",
             "share", "conventional", "candidates", "bed_days_freed", "candidate_bed_days", "day_alos",
             "day_margin_per_case"]
GROUP_COLS = ["drg_code", "name_zh", "name_en", "day_cases", "elective", "share", "conventional", "day_alos",
              "conv_alos", "day_charge", "conv_charge", "day_cost", "conv_cost", "day_margin", "conv_margin",
              "bed_days_freed"]
CANDIDATE_COLS = ["key", "name_zh", "name_en", "candidates", "share", "candidate_bed_days"]
TREND_COLS = ["month_start", "day_cases", "elective", "share"]
TREND_MONTHS = 24


def has_elective(wh: Warehouse) -> bool:
    """The warehouse says which operations were planned (is_elective, contract version 2)."""
    return wh.capabilities().has(ELECTIVE_PART)


def _sum_if(cond, value=None):
    return func.sum(case((cond, literal(1) if value is None else value), else_=literal(0)))


def _sums(cond, prefix: str) -> list:
    return [_sum_if(cond).label(f"{prefix}_cases"), _sum_if(cond, ip.los_days).label(f"{prefix}_los"),
            _sum_if(cond, ip.charge_total).label(f"{prefix}_charge"),
            _sum_if(cond, ip.cost_total).label(f"{prefix}_cost"),
            _sum_if(cond, ip.drg_payment).label(f"{prefix}_payment")]


@memoized
def _cells(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """Day-surgery and conventional elective cases discharged in the period, summed by department
    and DRG group (drg_code None for ungrouped cases): cases, Σ stay, charge, cost and payment."""
    if not has_elective(wh):
        return pd.DataFrame(columns=CELL_COLS)
    stmt = scoped(
        select(ip.dept_id.label("dept_id"), ip.drg_code.label("drg_code"), *_sums(_DAY, "day"), *_sums(_CONV, "conv"))
        .select_from(fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id))
        .where(ip.discharge_date.between(period.start, period.end), (_DAY | ip.is_elective.is_(True))), scope,
    ).group_by(ip.dept_id, ip.drg_code)
    df = wh.frame(stmt)
    if df.empty:
        return pd.DataFrame(columns=CELL_COLS)
    for c in CELL_COLS[2:]:
        df[c] = pd.to_numeric(df[c]).astype(float)
    df["drg_code"] = df["drg_code"].astype(object).where(df["drg_code"].notna(), None)
    return df[CELL_COLS].sort_values(["dept_id", "drg_code"], na_position="last").reset_index(drop=True)


def _div(a, b):
    """a / b, NaN where b is 0 (no case: no figure, never a zero that looks like data)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _with_group_means(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells with the view's mean stays of their group (day surgery, conventional elective) and
    whether the group is day-surgery capable; ungrouped cases belong to no group."""
    grouped = cells[cells["drg_code"].notna()]
    g = grouped.groupby("drg_code")[["day_cases", "day_los", "conv_cases", "conv_los"]].sum()
    means = pd.DataFrame({"g_day_alos": _div(g["day_los"], g["day_cases"]),
                          "g_conv_alos": _div(g["conv_los"], g["conv_cases"]),
                          "capable": g["day_cases"].to_numpy() > 0}, index=g.index)
    out = cells.merge(means, left_on="drg_code", right_index=True, how="left")
    out["capable"] = out["capable"].fillna(False).astype(bool)
    # bed-days freed in a cell: its day cases had they stayed the group's conventional mean, less their stay
    comparable = out["g_conv_alos"].notna() & (out["day_cases"] > 0)
    out["bed_days_freed"] = np.where(comparable, out["g_conv_alos"].fillna(0) * out["day_cases"] - out["day_los"], 0.0)
    # still admitted conventionally in a capable group, and the bed-days day surgery would free there
    out["candidates"] = np.where(out["capable"], out["conv_cases"], 0.0)
    gap = (out["g_conv_alos"] - out["g_day_alos"]).fillna(0)
    out["candidate_bed_days"] = np.where(out["capable"], gap * out["conv_cases"], 0.0)
    return out


def _totals(df: pd.DataFrame) -> dict[str, float]:
    s = df[[c for c in CELL_COLS[2:]] + ["bed_days_freed", "candidates", "candidate_bed_days"]].sum()
    same = df.loc[df["capable"], ["conv_cases", "conv_los", "conv_payment", "conv_cost"]].sum()  # the same groups
    elective = s["day_cases"] + s["conv_cases"]
    return {"day_cases": float(s["day_cases"]), "elective": float(elective),
            "share": float(_div(s["day_cases"], elective)), "conventional": float(s["conv_cases"]),
            "bed_days_freed": float(s["bed_days_freed"]), "day_alos": float(_div(s["day_los"], s["day_cases"])),
            "conv_alos": float(_div(same["conv_los"], same["conv_cases"])),
            "day_margin_per_case": float(_div(s["day_payment"] - s["day_cost"], s["day_cases"])),
            "conv_margin_per_case": float(_div(same["conv_payment"] - same["conv_cost"],
                                               same["conv_cases"])),
            "candidates": float(s["candidates"]), "candidate_bed_days": float(s["candidate_bed_days"])}


@memoized
def summary(wh: Warehouse, scope: Scope, period: Period) -> dict[str, float]:
    """The view's day-surgery cases, elective operations, share (day ÷ elective), conventional
    elective cases, bed-days freed, the mean stay and margin per case of the day cases and of the
    conventional elective cases of the same (day-surgery-capable) groups, and the candidates
    (conventional elective cases in those groups) with the bed-days they would free; {} without
    is_elective."""
    cells = _cells(wh, scope, period)
    if not has_elective(wh):
        return {}
    if cells.empty:
        return {k: (0.0 if k in ("day_cases", "elective", "conventional", "bed_days_freed", "candidates",
                                 "candidate_bed_days") else float("nan")) for k in SUMMARY_KEYS}
    return _totals(_with_group_means(cells))


@memoized
def by_department(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """Each department with elective operations in the view: day-surgery cases, elective
    operations, share, conventional elective cases, candidates, bed-days freed (against the view's
    conventional mean stay of each group) and the candidates' bed-days, the mean stay and margin
    per case of its day cases; most day cases first."""
    cells = _cells(wh, scope, period)
    if cells.empty:
        return pd.DataFrame(columns=DEPT_COLS)
    full = _with_group_means(cells)
    rows = [{"dept_id": d, **_totals(part)} for d, part in full.groupby("dept_id", sort=True)]
    out = pd.DataFrame(rows)
    names = departments(wh, scope)[["dept_id", "name_zh", "name_en", "campus_id", "campus_zh", "campus_en"]]
    out = out.merge(names, on="dept_id", how="inner")
    return out[DEPT_COLS].sort_values(["day_cases", "elective", "dept_id"], ascending=[False, False, True],
                                      kind="stable").reset_index(drop=True)


def _drg_names(wh: Warehouse, codes: list[str]) -> pd.DataFrame:
    d = dim_drg.c
    if not codes:
        return pd.DataFrame(columns=["drg_code", "name_zh", "name_en"])
    return wh.frame(select(d.drg_code.label("drg_code"), d.name_zh.label("name_zh"), d.name_en.label("name_en"))
                    .where(d.drg_code.in_(sorted(codes))))


@memoized
def by_group(wh: Warehouse, scope: Scope, period: Period) -> pd.DataFrame:
    """Each DRG group with day-surgery cases in the view: day cases, elective operations of the
    group, share, conventional elective cases, and per case the stay, charge, cost and margin
    (payment − cost) of its day cases against its conventional elective cases; bed-days freed.
    Most day cases first."""
    cells = _cells(wh, scope, period)
    if cells.empty:
        return pd.DataFrame(columns=GROUP_COLS)
    full = _with_group_means(cells)
    full = full[full["capable"]]
    if full.empty:
        return pd.DataFrame(columns=GROUP_COLS)
    g = full.groupby("drg_code")[[*CELL_COLS[2:], "bed_days_freed"]].sum()
    out = pd.DataFrame({"drg_code": g.index, "day_cases": g["day_cases"], "elective": g["day_cases"] + g["conv_cases"],
                        "conventional": g["conv_cases"], "bed_days_freed": g["bed_days_freed"]}).reset_index(drop=True)
    out["share"] = _div(out["day_cases"], out["elective"])
    for kind in ("day", "conv"):
        n = g[f"{kind}_cases"].to_numpy()
        out[f"{kind}_alos"] = _div(g[f"{kind}_los"], n)
        out[f"{kind}_charge"] = _div(g[f"{kind}_charge"], n)
        out[f"{kind}_cost"] = _div(g[f"{kind}_cost"], n)
        out[f"{kind}_margin"] = _div(g[f"{kind}_payment"] - g[f"{kind}_cost"], n)
    out = out.merge(_drg_names(wh, list(out["drg_code"])), on="drg_code", how="left")
    return out[GROUP_COLS].sort_values(["day_cases", "drg_code"], ascending=[False, True],
                                       kind="stable").reset_index(drop=True)


@memoized
def candidates(wh: Warehouse, scope: Scope, period: Period, by: str = "department", n: int = 10) -> pd.DataFrame:
    """The departments (by="department") or DRG groups (by="group") with the most elective cases
    still admitted conventionally in day-surgery-capable groups: key (dept_id or drg_code), names,
    candidates, the day-surgery share of their elective operations in those groups, and the
    bed-days day surgery would free there (each case at its group's conventional less day mean
    stay); at most `n`, the most candidates first, none without a candidate."""
    if by not in ("department", "group"):
        raise ValueError(f"candidates by {by!r}: department or group")
    cells = _cells(wh, scope, period)
    if cells.empty:
        return pd.DataFrame(columns=CANDIDATE_COLS)
    full = _with_group_means(cells)
    full = full[full["capable"]]
    key = "dept_id" if by == "department" else "drg_code"
    g = full.groupby(key)[["candidates", "candidate_bed_days", "day_cases", "conv_cases"]].sum()
    g = g[g["candidates"] > 0]
    if g.empty:
        return pd.DataFrame(columns=CANDIDATE_COLS)
    out = pd.DataFrame({"key": g.index, "candidates": g["candidates"].to_numpy(),
                        "share": _div(g["day_cases"], g["day_cases"] + g["conv_cases"]),
                        "candidate_bed_days": g["candidate_bed_days"].to_numpy()})
    if by == "department":
        names = departments(wh, scope)[["dept_id", "name_zh", "name_en"]].rename(columns={"dept_id": "key"})
        out = out.merge(names, on="key", how="inner")
    else:
        out = out.merge(_drg_names(wh, list(out["key"])).rename(columns={"drg_code": "key"}), on="key", how="left")
    out = out.sort_values(["candidates", "key"], ascending=[False, True], kind="stable").head(max(int(n), 0))
    return out[CANDIDATE_COLS].reset_index(drop=True)


@memoized
def share_trend(wh: Warehouse, scope: Scope, through: date, months: int = TREND_MONTHS) -> pd.DataFrame:
    """Day-surgery cases, elective operations and share for each of the `months` calendar months
    ending with the month of `through` (cases discharged up to `through`); a month without an
    elective operation has no share."""
    if not has_elective(wh):
        return pd.DataFrame(columns=TREND_COLS)
    first = add_months(through.replace(day=1), -(max(int(months), 1) - 1))
    stmt = scoped(
        select(dim_date.c.month_start.label("month_start"), _sum_if(_DAY).label("day_cases"),
               func.count().label("elective"))
        .select_from(fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id)
                     .join(dim_date, dim_date.c.date == ip.discharge_date))
        .where(ip.discharge_date.between(first, through), (_DAY | ip.is_elective.is_(True))), scope,
    ).group_by(dim_date.c.month_start)
    df = wh.frame(stmt)
    months_all = pd.DataFrame({"month_start": [add_months(first, i) for i in range(max(int(months), 1))]})
    if not df.empty:
        df["month_start"] = pd.to_datetime(df["month_start"]).dt.date
        for c in ("day_cases", "elective"):
            df[c] = pd.to_numeric(df[c]).astype(float)
    out = months_all.merge(df, on="month_start", how="left") if not df.empty else \
        months_all.assign(day_cases=np.nan, elective=np.nan)
    out["day_cases"] = out["day_cases"].fillna(0.0).astype(float)
    out["elective"] = out["elective"].fillna(0.0).astype(float)
    out["share"] = _div(out["day_cases"], out["elective"])
    return out[TREND_COLS]
