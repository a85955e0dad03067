"""The assistant's portfolio: the departments in scope side by side on the key indicators, each
value with its change on last year and on the previous period, and a verdict for colouring:
against the annual target where the department has one (year to date only), otherwise against
its own history (the same period last year)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..periods import Period
from ..registry import INDICATORS, Level
from ..scope import Scope
from ..verdict import judge_change, judge_value
from ..warehouse import Warehouse
from .kpis import compare
from .structure import departments
from .targets import targets_progress

PORTFOLIO = ("outpatient_visits", "discharges", "surgeries", "bed_occupancy", "alos", "revenue_total",
             "charge_per_discharge", "drug_share", "material_share", "cmi", "balance")
# a change on last year counts as mild from the first threshold and strong from the second:
# relative change in % for amounts and counts, percentage points for ratios
HISTORY_STEPS = {"relative": (2.0, 10.0), "points": (0.5, 2.0)}
TARGET_SCORES = {"on_track": 1, "at_risk": -1, "off_track": -2}


def history_score(code: str, yoy: float, yoy_diff: float, value: float = float("nan")) -> int:
    """-2 … 2: how much better (+) or worse (−) than the same period last year, by the one rule
    for good and bad (data_layer.verdict: the indicator's direction and healthy range, so bed
    occupancy rising above 105% scores worse, not better); 0 when the change is small or
    neither good nor bad."""
    ind = INDICATORS[code]
    if ind.unit == "ratio":
        change, (mild, strong) = yoy_diff * 100, HISTORY_STEPS["points"]
    else:
        change, (mild, strong) = yoy * 100, HISTORY_STEPS["relative"]
    if change != change:
        return 0
    size = 0 if abs(change) < mild else (1 if abs(change) < strong else 2)
    verdict = judge_change(ind, change / 100, value)
    return {"good": size, "bad": -size}.get(verdict, 0)


def is_year_to_date(period: Period, through: date | None) -> bool:
    return through is not None and period.start == date(period.end.year, 1, 1) and period.end == through


def portfolio(wh: Warehouse, scope: Scope, period: Period, codes: tuple[str, ...] = PORTFOLIO) -> pd.DataFrame:
    """One row per (clinical department, indicator): dept_id, name_zh, name_en, indicator, value,
    previous, year_ago, mom, yoy, mom_diff, yoy_diff, basis ('target' or 'history'), status
    (target status or ''), score (−2 … 2), range ('warn' outside the indicator's healthy range,
    else 'neutral')."""
    deps = departments(wh, scope)
    clinical = deps[deps["kind"] == "clinical"]
    cols = ["dept_id", "name_zh", "name_en", "indicator", "value", "previous", "year_ago", "mom", "yoy", "mom_diff",
            "yoy_diff", "basis", "status", "score", "range"]
    if clinical.empty:
        return pd.DataFrame(columns=cols)
    rows = compare(wh, scope, codes, period, Level.department)
    rows = rows[rows["key"].isin(set(clinical["dept_id"]))].rename(columns={"key": "dept_id"})
    through = wh.freshness().data_through
    status: dict[tuple[str, str], str] = {}
    if is_year_to_date(period, through):
        tp = targets_progress(wh, scope, tuple(sorted(clinical["dept_id"])), through)
        for r in tp.itertuples():
            if r.indicator in codes:
                status[(r.dept_id, r.indicator)] = r.status
    rows["status"] = [status.get((d, c), "") for d, c in zip(rows["dept_id"], rows["indicator"], strict=True)]
    rows["basis"] = np.where(rows["status"] != "", "target", "history")
    rows["score"] = [TARGET_SCORES[s] if s else history_score(c, y, yd, v) for s, c, y, yd, v in
                     zip(rows["status"], rows["indicator"], rows["yoy"], rows["yoy_diff"], rows["value"], strict=True)]
    # outside the registry's healthy range: flagged whatever the score, and never scored "ahead"
    rows["range"] = [judge_value(INDICATORS[c], v) for c, v in zip(rows["indicator"], rows["value"], strict=True)]
    rows.loc[rows["range"] == "warn", "score"] = rows.loc[rows["range"] == "warn", "score"].clip(upper=0)
    order = {c: i for i, c in enumerate(codes)}
    rows = rows.assign(_o=rows["indicator"].map(order)).sort_values(["dept_id", "_o"], kind="stable")
    return rows[cols].reset_index(drop=True)
