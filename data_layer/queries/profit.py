"""Department profit: revenue, full cost by allocation tier, balance and margin."""
from __future__ import annotations

import pandas as pd

from ..periods import Period
from ..registry import Level
from ..scope import Scope
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .kpis import indicator_values
from .structure import departments

CODES = ("revenue_total", "direct_cost", "admin_allocated_cost", "support_allocated_cost", "medtech_allocated_cost",
         "full_cost", "balance", "margin")


@memoized
def department_profit(wh: Warehouse, scope: Scope, period: Period, filters: Filters = Filters()) -> pd.DataFrame:
    """Clinical departments with revenue, direct cost, each allocated tier, full cost, balance and margin,
    their campus and division; highest balance first. Covers the whole closed months of the period."""
    clinical = Filters(**{**filters.__dict__, "kind": ("clinical",)})
    df = indicator_values(wh, scope, CODES, period, Level.department, clinical)
    if df.empty:
        return pd.DataFrame(columns=["dept_id", "name_zh", "name_en", "campus_id", "division", *CODES])
    wide = df.pivot_table(index=["key", "name_zh", "name_en"], columns="indicator", values="value")
    # every column, even when the period has no closed month (no cost figures) or a figure is missing
    wide = wide.reindex(columns=list(CODES)).reset_index().rename(columns={"key": "dept_id"})
    deps = departments(wh, scope)[["dept_id", "campus_id", "campus_zh", "campus_en", "division", "service_line"]]
    out = wide.merge(deps, on="dept_id", how="left")
    out.attrs["window"] = (df["window_start"].iloc[0], df["window_end"].iloc[0])
    return out.sort_values("balance", ascending=False, kind="stable").reset_index(drop=True)
