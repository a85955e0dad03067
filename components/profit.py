"""The department profit view's table at a desk (科室收益): every clinical department as a
dash-ag-grid (components/grid.py) — sorting and filtering in the browser, the header and the
department's name pinned, money in 万/亿 (Chinese) or k/M (English) as the page's bars and
treemap show it, a loss in the bad colour, and a click on a row opening the department. The wall
keeps its large-type rank table (components/ranktable.py), readable from across a room. Pure."""
from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd

from .grid import Column, data_grid
from .i18n import t
from .palette import grid_class

MONEY = ("revenue_total", "direct_cost", "admin_allocated_cost", "support_allocated_cost", "medtech_allocated_cost",
         "full_cost", "balance")
GRID_ID = {"type": "pf-grid", "index": "desk"}  # a pattern id: the wall has no grid, and a callback may listen to none


def profit_columns(lang: str) -> list[Column]:
    return [Column("name", t("drg.department", lang), pinned=True),
            Column("campus", t("wall.campus", lang)),
            Column("division_name", t("wall.division_filter", lang)),
            Column("balance", t("profit.col.balance", lang), "money", compact=True),
            Column("margin", t("profit.col.margin", lang), "percent"),  # what the view is about, before the parts
            *(Column(c, t(f"profit.col.{c}", lang), "money", compact=True) for c in MONEY if c != "balance")]


def profit_grid(df: pd.DataFrame, lang: str) -> dag.AgGrid:
    """Every department of the view, in the order given (by balance, the largest first)."""
    grid = data_grid(df, profit_columns(lang), lang, GRID_ID, row_id="dept_id", class_name="pf-grid")
    for spec in grid.columnDefs:  # a loss: the bad colour (the sign stays)
        if spec["field"] in ("balance", "margin"):
            spec["cellClassRules"] = {grid_class("bad"): "params.value !== null && params.value < 0"}
    return grid
