"""Budget execution (预算执行) as the page shows it: the departments side by side and the items of one
department as grids, and one item's cumulative execution against the time pace. Pure: frames and
the language in, components and figures out.

The pace verdict colours a row's gap and status cells by the one rule (components/palette.PACE_VERDICT:
ahead of pace reads as bad, behind as good); the gap is in percentage points (assets/ws-budget.js)."""
from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import dcc

from components.charts import COLORWAY
from components.grid import ROW_HEIGHT, Column, data_grid, grid_height
from components.i18n import t
from components.widths import fit_width, wrap_headers

STATUS_ICON = {"ahead": "▲", "behind": "▼", "on_pace": "", None: ""}
MONEY = ("budget_period", "executed_period", "budget_ytd", "executed_ytd", "budget_year")
FIGURES = ("budget_period", "executed_period", "execution", "executed_ytd", "budget_year", "share_year", "elapsed",
           "gap", "status")
_KIND = {"execution": "percent", "share_year": "percent", "elapsed": "percent", "status": "text", "gap": "change"}


def status_text(status: Any, lang: str) -> str:
    """A pace status as the page writes it: its sign and its words."""
    code = status if isinstance(status, str) else None
    words = t(f"ws.budget.s.{code or 'none'}", lang)
    return f"{STATUS_ICON.get(code, '')} {words}".strip()


def _figure_columns(lang: str) -> list[Column]:
    return [Column(k, t(f"ws.budget.{k}", lang), _KIND.get(k, "money"), compact=k in MONEY) for k in FIGURES]


def _paced(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows with their status in words and the pace code (hidden) the cells are coloured by."""
    codes = [s if isinstance(s, str) else "none" for s in df["status"]]
    return df.assign(status=[status_text(s, lang) for s in df["status"]], pace=codes)


def _pace_cells(grid: dag.AgGrid, lang: str) -> dag.AgGrid:
    """The gap (in percentage points) and status cells coloured by the row's pace; the status wide
    enough for its words."""
    rules = {f"wb-{s}": f"params.data && params.data.pace === '{s}'" for s in ("ahead", "behind", "on_pace", "none")}
    for col in grid.columnDefs:
        if col["field"] == "gap":
            col["valueFormatter"] = {"function": f"wbPoints(params.value, '{lang}')"}
            col["cellClassRules"] = {k: rules[k] for k in ("wb-ahead", "wb-behind")}
            # wide enough for a gap as wbPoints writes it ("-12.3个百分点"; a longer one shows in its tooltip); the
            # header wraps between its words (wrap_headers set the minimum its longest word needs)
            col["minWidth"] = max(col.get("minWidth", 0), fit_width(["-12.3个百分点" if lang == "zh" else "-12.3 pp"],
                                                                    "", 200))
        elif col["field"] == "status":
            col["cellClassRules"] = rules
            col["minWidth"] = fit_width([status_text(s, lang) for s in ("ahead", "behind", "on_pace", None)],
                                        col["headerName"], 220)
    return grid


def departments_grid(df: pd.DataFrame, dept: str, lang: str) -> dag.AgGrid:
    """The departments in scope side by side; the page's department marked and highlighted."""
    name = "dept_zh" if lang == "zh" else "dept_en"
    rows = _paced(df, lang).assign(
        dept=[f"{n} · {t('ws.budget.this_dept', lang)}" if d == dept else n for d, n in zip(df["dept_id"], df[name],
                                                                                           strict=True)],
        current=df["dept_id"] == dept)
    # 220 px at most, so that the grid's eleven columns fit a desk screen in English too: a longer name is
    # cut with an ellipsis and shown whole in its tooltip
    cols = [Column("dept", t("ws.budget.department", lang), pinned=True,
                   width=fit_width(rows["dept"], t("ws.budget.department", lang), 220)), *_figure_columns(lang),
            Column("items_ahead", t("ws.budget.items_ahead", lang), "integer")]
    grid = data_grid(rows, cols, lang, "wb-departments-grid", row_id="dept_id", hidden=("pace", "current", "items"),
                     row_classes={"wb-current": "params.data && params.data.current"})
    for col in grid.columnDefs:
        if col["field"] == "dept":
            col["tooltipField"] = "dept"
        elif col["field"] == "items_ahead":
            col["cellClassRules"] = {"wb-ahead": "params.data && params.data.items_ahead > 0"}
            # "2 / 9": the items ahead of pace out of the department's items, in one column, so that the grid
            # fits a desk screen in English too (sorted and filtered by the items ahead; the export keeps both)
            col["valueFormatter"] = {"function": "params.value == null ? '—' : params.value + ' / ' + "
                                                 "(params.data ? params.data.items : '—')"}
            col["headerTooltip"] = t("ws.budget.items_ahead_of", lang)
    return _pace_cells(wrap_headers(grid), lang)


def items_grid(items: pd.DataFrame, categories: pd.DataFrame, total: pd.Series, order: tuple[str, ...],
               lang: str) -> dag.AgGrid:
    """The items of one department, each with its category; the category subtotals and the total
    stay pinned under the rows (they do not move when the rows are sorted or filtered)."""
    name = "name_zh" if lang == "zh" else "name_en"
    label = lambda c: t(f"ws.budget.cat.{c}", lang) if c in order else str(c)  # noqa: E731
    rows = _paced(items, lang).assign(item=items[name], category=items["category"].map(label))
    fields = ["item", "category", *FIGURES, "pace"]
    rank = {c: i for i, c in enumerate(order)}
    subtotals = _paced(categories.assign(rank=categories["category"].map(lambda c: rank.get(c, 99)))
                       .sort_values("rank", kind="stable"), lang)
    pinned = [{**{k: r.get(k) for k in fields}, "item": f"{label(r['category'])} · {t('ws.budget.subtotal', lang)}",
               "category": label(r["category"]), "row_kind": "subtotal", "item_code": f"subtotal-{r['category']}"}
              for r in subtotals.to_dict("records")]  # each pinned row has its own id, or the grid keeps one
    whole = _paced(pd.DataFrame([total]), lang).iloc[0]
    pinned.append({**{k: whole.get(k) for k in fields}, "item": t("ws.budget.total", lang), "category": "",
                   "row_kind": "total", "item_code": "total"})
    cols = [Column("item", t("ws.budget.item", lang), pinned=True,
                   width=fit_width([*rows["item"], *(r["item"] for r in pinned)], t("ws.budget.item", lang), 240)),
            Column("category", t("ws.budget.category", lang),
                   width=fit_width(rows["category"], t("ws.budget.category", lang), 160)), *_figure_columns(lang)]
    grid = data_grid(rows, cols, lang, "wb-items-grid", row_id="item_code", hidden=("pace",))
    grid.dashGridOptions["pinnedBottomRowData"] = [_json_row(r) for r in pinned]
    grid.dashGridOptions["rowClassRules"] = {"wb-cat-row": "params.data && params.data.row_kind === 'subtotal'",
                                             "wc-total": "params.data && params.data.row_kind === 'total'"}
    grid.style = {**grid.style, "height": f"{grid_height(len(rows)) + len(pinned) * ROW_HEIGHT}px"}
    return _pace_cells(wrap_headers(grid), lang)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A pinned row as JSON carries it (NaN as null, numpy scalars as Python numbers)."""
    out = {}
    for k, v in row.items():
        if hasattr(v, "item"):
            v = v.item()
        out[k] = None if isinstance(v, float) and v != v else v
    return out


def pace_figure(df: pd.DataFrame, label: str, lang: str) -> go.Figure:
    """Cumulative executed (bars) and budget against the time pace line, in 10k yuan, month by month."""
    months = [f"{m:%Y-%m}" for m in df["month_start"]]
    fig = go.Figure()
    fig.add_bar(x=months, y=(df["cum_executed"] / 10_000).round(1), name=t("ws.budget.cum_executed", lang),
                marker_color=COLORWAY[0])  # a series, not a verdict (the pace status judges)
    fig.add_scatter(x=months, y=(df["cum_budget"] / 10_000).round(1), name=t("ws.budget.cum_budget", lang),
                    mode="lines+markers", line={"color": "#009e73", "width": 2})
    fig.add_scatter(x=months, y=(df["pace"] / 10_000).round(1), name=t("ws.budget.time_pace", lang), mode="lines",
                    line={"color": "#e69f00", "dash": "dash", "width": 3})
    fig.update_xaxes(type="category")
    fig.update_layout(title=t("ws.budget.chart_title", lang, item=label, year=df["month_start"].iloc[0].year),
                      height=340, margin={"l": 50, "r": 10, "t": 40, "b": 30}, legend={"orientation": "h", "y": -0.18},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(gridcolor="#e3e8ef")
    return fig


def pace_graph(df: pd.DataFrame, label: str, lang: str) -> dcc.Graph:
    return dcc.Graph(figure=pace_figure(df, label, lang), config={"displayModeBar": False}, className="dw-graph",
                     id="wb-pace-chart")
