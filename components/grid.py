"""The one data grid of the project: a DataFrame and column specs in, a `dag.AgGrid` out.

Rows are virtualised (AG Grid draws only the rows in view, so a grid of thousands of rows costs
what a grid of twenty does), the header stays in place while the rows scroll, every column sorts
and filters, numbers keep their raw values (so they sort and filter as numbers) and are shown in
the reader's language by the formatters in assets/grid.js, and AG Grid's own chrome (filter menu,
overlays, pagination) speaks the page's language. Pure: no I/O, no callbacks.

    data_grid(df, [Column("case_id", t("...", lang), pinned=True),
                   Column("charge_total", t("...", lang), "money")], lang, "cases-grid", row_id="case_id")
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import dash_ag_grid as dag
import pandas as pd

from components.i18n import t
from components.i18n_catalog.grid import TEXTS as GRID_TEXTS
from components.palette import judge_change
from data_layer.registry import Indicator

Kind = Literal["text", "integer", "money", "percent", "change", "days", "ratio", "date"]
KINDS: tuple[str, ...] = ("text", "integer", "money", "percent", "change", "days", "ratio", "date")
DECIMALS = {"integer": 0, "money": 2, "percent": 1, "change": 1, "days": 1, "ratio": 2}
MIN_WIDTH = {"text": 120, "date": 118, "integer": 86, "days": 86, "ratio": 86, "percent": 90, "change": 90,
             "money": 110}
ROW_HEIGHT = 34
HEADER_HEIGHT = 40
VISIBLE_ROWS = 14  # rows in view before the grid scrolls (its rows, not the page)
SCROLLBAR = 16


@dataclass(frozen=True)
class Column:
    """One column: the DataFrame column `id`, its header (already translated), its kind, and how it
    is shown. `decimals` overrides the kind's default (money 2, percent 1, days 1, integer 0);
    `compact` shows money as 万/亿 (zh) or k/M (en) as the page's cards do; `indicator` colours a
    change column by the one rule (data_layer.verdict.judge_change for that registry indicator,
    zero at the shown precision neutral), computed here per row so the browser only shows it; `pinned` keeps it on the left
    when the grid scrolls sideways; `width` fixes its width in pixels."""

    id: str
    header: str
    kind: Kind = "text"
    pinned: bool = False
    width: int | None = None
    decimals: int | None = None
    compact: bool = False
    indicator: Indicator | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def locale_text(lang: str) -> dict[str, str]:
    """AG Grid's localeText for the language, from the catalog (keys grid.ag.<AG Grid key>)."""
    return {key.removeprefix("grid.ag."): t(key, lang) for key in GRID_TEXTS if key.startswith("grid.ag.")}


HEADER_ICONS = 58  # pixels a header needs besides its words: the padding, the sort and the filter icons


def header_width(header: str) -> int:
    """Pixels a header needs to show whole, with its sort and filter icons (CJK characters are wide;
    headers are set in a heavier weight than cells: "Revenue" needs 66 px, not the 53 of body text)."""
    return int(sum(14 if ord(c) >= 0x2E80 else 8.8 for c in header)) + HEADER_ICONS


TEXT_WIDTH_CAP = 280  # a text column widens to its longest value up to this many pixels


def text_width(values: Any) -> int:
    """Pixels the longest of a text column's values needs (CJK characters are wide), capped."""
    longest = max((sum(14 if ord(c) >= 0x2E80 else 7.6 for c in str(v)) for v in values if v is not None), default=0)
    return min(int(longest) + 28, TEXT_WIDTH_CAP)


def column_def(col: Column, lang: str, values: Any = ()) -> dict[str, Any]:
    """The AG Grid column definition of a column spec; a text column without a fixed width is at
    least as wide as its longest value in `values` needs (up to TEXT_WIDTH_CAP), so a department's
    name is not cut to "Emergency M…" when the grid has many columns."""
    decimals = _decimals(col)
    numeric = col.kind not in ("text", "date")
    least = max(col.width or MIN_WIDTH[col.kind], header_width(col.header))
    if col.kind == "text" and not col.width:
        least = max(least, text_width(values))
    spec: dict[str, Any] = {
        "field": col.id, "colId": col.id, "headerName": col.header, "headerTooltip": col.header,
        "sortable": True, "resizable": True, "minWidth": least,
        "filter": "agNumberColumnFilter" if numeric else ("agDateColumnFilter" if col.kind == "date" else
                                                           "agTextColumnFilter"),
        "valueFormatter": {"function": f"hdFormat(params.value, '{col.kind}', '{lang}', {decimals}, "
                                       f"{'true' if col.compact else 'false'})"},
        "cellClass": "hd-num" if numeric else "hd-text",
        "headerClass": "hd-num-head" if numeric else None,
    }
    if col.kind == "date":
        spec["filterParams"] = {"comparator": {"function": "hdDateCompare"}, "browserDatePicker": True}
    if numeric:
        spec["type"] = "numericColumn"
    if col.pinned:
        spec["pinned"] = "left"
        spec["lockPinned"] = True
    if col.width:
        spec["width"] = col.width
    if col.indicator is not None:
        key = verdict_field(col.id)
        spec["cellClassRules"] = {f"hd-{v}": f"params.data && params.data['{key}'] === '{v}'"
                                  for v in ("good", "bad")}
    return {k: v for k, v in spec.items() if v is not None}


def verdict_field(col_id: str) -> str:
    """The hidden row field carrying a judged column's verdict."""
    return f"{col_id}__verdict"


def _decimals(col: Column) -> int:
    return DECIMALS.get(col.kind, 0) if col.decimals is None else col.decimals


def cell_verdict(col: Column, value: Any) -> str:
    """The verdict of a change cell as the grid shows it (×100, the column's decimals)."""
    if col.indicator is None or value is None or not isinstance(value, (int, float)):
        return "neutral"
    return judge_change(col.indicator, float(value), decimals=_decimals(col))


def _cell(value: Any) -> Any:
    """A value as JSON carries it: NaN and NaT become null, dates ISO strings, numpy scalars Python."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.date().isoformat() if not pd.isna(value) else None
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return value


def records(df: pd.DataFrame, fields: list[str]) -> list[dict[str, Any]]:
    """The rows of `df` for the grid: only `fields`, JSON-safe."""
    cols = [f for f in dict.fromkeys(fields) if f in df.columns]
    if not cols:
        return [{} for _ in range(len(df))]
    # column by column (tolist gives Python scalars in one step), then zipped into rows: half the
    # time of walking itertuples' numpy scalars
    values = [[_cell(v) for v in df[c].tolist()] for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def grid_height(rows: int, visible: int = VISIBLE_ROWS, total_row: bool = False) -> int:
    """Pixels for the grid: all rows up to `visible`, then the rows scroll inside the grid
    (at least three rows' room, so the "no rows" overlay has space)."""
    shown = max(min(rows, visible), 3) + (1 if total_row else 0)
    return HEADER_HEIGHT + shown * ROW_HEIGHT + SCROLLBAR + 2


def data_grid(df: pd.DataFrame, columns: list[Column], lang: str, grid_id: str | dict[str, Any], *,
              row_id: str | None = None, total: dict[str, Any] | None = None, visible_rows: int = VISIBLE_ROWS,
              selectable: bool = False, class_name: str = "", hidden: tuple[str, ...] = (),
              row_classes: dict[str, str] | None = None) -> dag.AgGrid:
    """A sortable, filterable, virtualised grid of `df` with `columns`, in `lang`.

    `row_id` names a column whose values identify rows (kept in the row data even when not shown;
    a click's `cellClicked["rowId"]` is then that value); `total` is a row pinned under the others
    (a "Σ" line, with the same fields); `selectable` highlights the row a user clicked; `hidden`
    fields travel in the rows without a column (for `row_classes`: CSS class -> a condition on
    `params.data`, e.g. {"ws-drg-high": "params.data.flag === 'high'"})."""
    fields = [c.id for c in columns] + [f for f in (row_id, *hidden) if f and f not in [c.id for c in columns]]
    options: dict[str, Any] = {
        "localeText": locale_text(lang), "rowHeight": ROW_HEIGHT, "headerHeight": HEADER_HEIGHT,
        "animateRows": False, "suppressCellFocus": False, "enableCellTextSelection": True,
        "tooltipShowDelay": 400, "rowBuffer": 10, "suppressColumnVirtualisation": False,
    }
    judged = [c for c in columns if c.indicator is not None]
    rows = records(df, fields)
    for row in rows:
        row.update({verdict_field(c.id): cell_verdict(c, row.get(c.id)) for c in judged})
    if total is not None:
        pinned = {k: _cell(v) for k, v in total.items()}
        pinned.update({verdict_field(c.id): cell_verdict(c, pinned.get(c.id)) for c in judged})
        options["pinnedBottomRowData"] = [pinned]
    if row_classes:
        options["rowClassRules"] = dict(row_classes)
    if selectable:
        options["rowSelection"] = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}
    grid = dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=[column_def(c, lang, df[c.id] if c.id in df.columns else ()) for c in columns],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "suppressHeaderMenuButton": False},
        dashGridOptions=options,
        columnSize="responsiveSizeToFit",
        getRowId=f"params.data.{row_id}" if row_id else None,
        style={"height": f"{grid_height(len(df), visible_rows, total is not None)}px", "width": "100%"},
        className=f"hd-grid {class_name}".strip(),
    )
    return grid


def level_badge_column(grid: dag.AgGrid, tooltips: bool = True) -> dag.AgGrid:
    """The grid's first column (a red/orange/yellow level) drawn as a badge, filtered by the level's
    name in the reader's language (a hidden `level_name` field); with `tooltips`, every other column
    shows its whole text on hover. The alerts list, the data-quality findings and their alerts read
    the same way."""
    if tooltips:
        for col in grid.columnDefs[1:]:
            col.setdefault("tooltipField", col["field"])
    level_col = grid.columnDefs[0]
    level_col.update(cellRenderer="hdBadge", filter="agTextColumnFilter", type=None, cellClass="hd-text",
                     filterValueGetter={"function": "params.data.level_name"}, headerClass=None)
    level_col.pop("valueFormatter", None)
    grid.columnDefs[0] = {k: v for k, v in level_col.items() if v is not None}
    return grid
