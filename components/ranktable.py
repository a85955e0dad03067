"""The ranked tables of the leadership screens (DRG groups, department profit): rows of
formatted cells in the reader's language, one money style (components.format.format_money),
names that wrap instead of being cut.

At a desk the table scrolls and its headers sort it (the page keeps the sort in a store); each
row is a button that opens its group or department. On a wall the rows fill the panel as far as
whole rows fit: rows that do not fit flow into further "pages" beside it (never a half row), and
the browser turns the pages (assets/wall.js `wall.page`), showing "page 1/3".
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dash import dcc, html

from .format import format_cell, format_money, money_floor
from .i18n import t


@dataclass(frozen=True)
class Column:
    """One column: the frame's column `id`, its header, how its cells read, and its width in the
    CSS grid ("minmax(0, 2fr)", "4.2em" …). `kind` is "text", "int", "money", "ratio" or "num2";
    `loss` columns turn vermillion where the value is negative."""

    id: str
    label: str
    kind: str = "text"
    width: str = "minmax(0, 1fr)"
    loss: bool = False


def cell_text(value: Any, kind: str, lang: str, floor: float = 1.0) -> str:
    """A cell as the reader sees it; money in at least its column's unit (`floor`)."""
    if kind == "money":
        return format_money(value, lang, floor=floor)
    if kind == "num2":
        return "—" if value is None or value != value else f"{float(value):.2f}"
    return format_cell(value, kind, lang)


def sort_frame(df: pd.DataFrame, sort: Mapping[str, Any] | None, allowed: Sequence[str]) -> pd.DataFrame:
    """The frame in the order a desk asked for (`{"col": id, "asc": bool}`); an unknown column is
    ignored, so a forged store value cannot reach pandas."""
    if not isinstance(sort, Mapping) or sort.get("col") not in allowed or sort["col"] not in df.columns:
        return df
    return df.sort_values(sort["col"], ascending=bool(sort.get("asc")), kind="stable", na_position="last")


def next_sort(column: Any, current: Any, columns: Sequence[Column]) -> dict[str, Any] | None:
    """The sort after a click on `column`'s header: a second click on the same column turns the
    order round; a first click reads text A→Z and figures the largest first. None for a column the
    table does not have (a forged click)."""
    by_id = {c.id: c for c in columns}
    if column not in by_id:
        return None
    if isinstance(current, Mapping) and current.get("col") == column:
        return {"col": column, "asc": not current.get("asc")}
    return {"col": column, "asc": by_id[column].kind == "text"}


def div(children: Any, **props: Any) -> dict[str, Any]:
    """An html.Div in the form a callback sends it (what `html.Div(children, **props)` serializes
    to), built as a plain dictionary. A ranked table is hundreds of rows of ten cells, and each
    html.Div checks its arguments when it is made: about 0.1 ms a row, most of the DRG screen's
    time after its SQL. The browser renders both alike; only this module's own props are used."""
    return {"type": "Div", "namespace": "dash_html_components", "props": {"children": children, **props}}


def rank_table(prefix: str, columns: Sequence[Column], df: pd.DataFrame, key: str, lang: str, *,
               wall: bool, sort: Mapping[str, Any] | None = None, selected: str | None = None) -> html.Div:
    """The table of `df` (already ranked), one row per record keyed by its `key` column.

    Row ids are {"type": PREFIX-row, "index": key}; desk header ids {"type": PREFIX-sort, "index": column}.
    """
    template = " ".join(c.width for c in columns)
    numeric = {c.id for c in columns if c.kind != "text"}
    head_cells = []
    for c in columns:
        cls = "rt-cell rt-head" + (" rt-num" if c.id in numeric else "")
        if wall:
            head_cells.append(html.Div(c.label, className=cls, role="columnheader"))
            continue
        mark = ""
        if isinstance(sort, Mapping) and sort.get("col") == c.id:
            mark = " ▲" if sort.get("asc") else " ▼"
        head_cells.append(html.Button(c.label + mark, id={"type": f"{prefix}-sort", "index": c.id}, className=cls,
                                      title=t("table.sort", lang), role="columnheader", n_clicks=0))
    floors = {c.id: money_floor(df[c.id], lang) for c in columns if c.kind == "money" and c.id in df.columns}
    rows = []
    for rec in df.to_dict("records"):
        cells = []
        for c in columns:
            v = rec.get(c.id)
            cls = "rt-cell" + (" rt-num" if c.id in numeric else "")
            if c.loss and v is not None and v == v and float(v) < 0:
                cls += " rt-loss"
            cells.append(div(cell_text(v, c.kind, lang, floors.get(c.id, 1.0)), className=cls, role="cell"))
        ident = str(rec[key])
        rows.append(div(cells, id={"type": f"{prefix}-row", "index": ident}, role="row", n_clicks=0,
                        className="rt-row" + (" rt-selected" if ident == selected else "")))
    body = html.Div(rows or [html.Div(t("table.empty", lang), className="wall-note")],
                    className="rt-body rt-paged" if wall else "rt-body", id=f"{prefix}-rows")
    return html.Div([html.Div(head_cells, className="rt-row rt-header", role="row"), body],
                    className="rank-table" + (" on-wall" if wall else ""), role="table",
                    style={"--rt-cols": template})


def pager(prefix: str, seconds: int, enabled: bool) -> list[Any]:
    """The page label and the timer that turns a wall table's pages."""
    return [html.Span(id=f"{prefix}-page", className="rt-page"),
            dcc.Interval(id=f"{prefix}-page-tick", interval=seconds * 1000, disabled=not enabled)]
