"""A Dash component tree written out as static HTML, for a document printed on the server (the
monthly report's PDF, shell/report_pdf.py) from the very components the page shows.

Dash's html components become their elements; an AG Grid becomes a plain table of the text its
cells show (a report grid carries each cell's text in a `<column>__text` field and its CSS class in
`<column>__class`, components/reports.py); a dcc.Graph becomes a placeholder holding the figure's
JSON, drawn by plotly.js in the printing browser (`FIGURE_CLASS`); a dcc.Store holds no content and
is left out. Anything else is refused rather than silently dropped. Pure: components in, text out.
"""
from __future__ import annotations

import json
import re
from html import escape
from typing import Any

import dash_ag_grid as dag
import plotly.io as pio
from dash import dcc
from dash.development.base_component import Component

FIGURE_CLASS = "static-figure"  # a figure's placeholder; its `data-figure` attribute holds the figure and config
ATTRIBUTES = {"id": "id", "className": "class", "title": "title", "role": "role", "lang": "lang", "href": "href",
              "colSpan": "colspan", "rowSpan": "rowspan"}
VOID = {"br", "hr", "img", "wbr"}


def to_html(node: Any) -> str:
    """The HTML of a component tree (a component, a list of them, text or a number)."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return escape(str(node))
    if isinstance(node, list | tuple):
        return "".join(to_html(n) for n in node)
    if isinstance(node, dcc.Store):
        return ""
    if isinstance(node, dcc.Graph):
        return _figure(node)
    if isinstance(node, dag.AgGrid):
        return grid_table(node)
    shape = node.to_plotly_json() if isinstance(node, Component) else {}
    if shape.get("namespace") == "dash_html_components":
        tag = str(shape["type"]).lower()
        attrs = _attributes(node)
        if tag in VOID:
            return f"<{tag}{attrs}>"
        return f"<{tag}{attrs}>{to_html(getattr(node, 'children', None))}</{tag}>"
    raise ValueError(f"no static form for {type(node).__name__}")


def _attributes(node: Component) -> str:
    out = []
    for prop, attr in ATTRIBUTES.items():
        value = getattr(node, prop, None)
        if isinstance(value, str | int) and not isinstance(value, bool):
            out.append(f' {attr}="{escape(str(value))}"')
    style = getattr(node, "style", None)
    if isinstance(style, dict) and style:
        out.append(f' style="{escape(_css(style))}"')
    return "".join(out)


def _css(style: dict[str, Any]) -> str:
    """A React style dict as CSS text (`marginTop: 4` -> `margin-top: 4px`)."""
    def prop(name: str) -> str:
        return re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), name)

    return "; ".join(f"{prop(k)}: {v}px" if isinstance(v, int | float) and v else f"{prop(k)}: {v}"
                     for k, v in style.items())


def _figure(graph: dcc.Graph) -> str:
    data = json.dumps({"figure": json.loads(pio.to_json(graph.figure, validate=False)),
                       "config": getattr(graph, "config", None) or {}}, ensure_ascii=False)
    gid = f' id="{escape(graph.id)}"' if isinstance(getattr(graph, "id", None), str) else ""
    cls = escape(getattr(graph, "className", None) or "")
    return f'<div{gid} class="{cls}"><div class="{FIGURE_CLASS}" data-figure="{escape(data)}"></div></div>'


def cell_text(row: dict[str, Any], field: str) -> str:
    """What a grid's cell shows: its `<field>__text` when the row carries one, else its value."""
    text = row.get(f"{field}__text")
    if text is None:
        text = row.get(field)
    return "" if text is None else str(text)


def grid_table(grid: dag.AgGrid) -> str:
    """An AG Grid as a table: its visible columns under their headers, its rows in their order."""
    columns = [c for c in (grid.columnDefs or []) if isinstance(c, dict) and c.get("field") and not c.get("hide")]
    head = "".join(f'<th class="{"hd-num" if c.get("type") == "numericColumn" else "hd-text"}">'
                   f'{escape(str(c.get("headerName", c["field"])))}</th>' for c in columns)
    body = []
    for row in grid.rowData or []:
        cells = []
        for c in columns:
            base = c.get("cellClass") if isinstance(c.get("cellClass"), str) else (
                "hd-num" if c.get("type") == "numericColumn" else "hd-text")
            extra = row.get(f"{c['field']}__class") or ""
            cls = " ".join(x for x in (base, str(extra)) if x)
            cells.append(f'<td class="{escape(cls)}">{escape(cell_text(row, c["field"]))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    gid = f' id="{escape(grid.id)}"' if isinstance(getattr(grid, "id", None), str) else ""
    cls = escape(f"{getattr(grid, 'className', None) or ''} report-table-wrap".strip())
    return (f'<div{gid} class="{cls}"><table class="report-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")
