"""The monthly operations report's parts (pages/workspace/reports.py): the list of a department's
reports and the report's tables as grids, its trend figure, its alerts and its findings editor.

A report table holds figures in their own units (a key figure row is a count, the next a share),
so its cells keep the raw number (they sort and filter as numbers) and show the text the report
has always shown, written here in the reader's language (`<column>__text` fields). The grids of
the document take their rows' height (no inner scrolling), so the page prints whole on A4.
Pure: report content in, components out; no I/O, no callbacks.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from components.alerts import alert_value
from components.format import alert_kind, format_change, format_deviation, format_indicator, format_points
from components.grid import Column, data_grid, locale_text
from components.i18n import CATALOG, t
from components.palette import change_class, grid_class
from data_layer.registry import INDICATORS

PALETTE = ("#0b5cad", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
LIST_ROWS = 10  # reports shown before the list scrolls


def month_label(m: date | str, lang: str) -> str:
    d = date.fromisoformat(str(m)[:10])
    return f"{d.year}年{d.month}月" if lang == "zh" else d.strftime("%B %Y")


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def ind_value(v: Any, code: str, lang: str) -> str:
    return format_indicator(v, INDICATORS[code].unit, lang) if v is not None else "—"


def change_text(rel: Any, diff: Any, code: str, lang: str) -> str:
    """A change as the report words it: a ratio's in points, other figures' in per cent."""
    if INDICATORS[code].unit == "ratio":
        return format_points(diff, lang) if diff is not None else "—"
    return format_change(rel) if rel is not None else "—"


def yoy_class(k: dict) -> str:
    """The class of a key indicator's year-on-year change: the one rule, with the value deciding
    when it lies outside the healthy range (as on the department page)."""
    ind = INDICATORS[k["indicator"]]
    change = k["yoy_diff"] if ind.unit == "ratio" else k["yoy"]
    return change_class(ind, None if change is None else float(change), _nan(k.get("value")))


def _verdict(css: str) -> str:
    """good / bad / warn / neutral of a trend-<verdict> class."""
    return css.removeprefix("trend-")


def text_field(col: str) -> str:
    return f"{col}__text"


def class_field(col: str) -> str:
    return f"{col}__class"


def with_cells(grid: dag.AgGrid, texts: Sequence[str] = (), classes: Sequence[str] = ()) -> dag.AgGrid:
    """The grid with the columns in `texts` showing their row's `<column>__text` (the number
    stays the cell's value: it sorts and filters) and the columns in `classes` taking the CSS
    class in their row's `<column>__class` (a verdict's colour, a flag)."""
    for spec in grid.columnDefs:
        col = spec["field"]
        if col in texts:
            spec["valueFormatter"] = {"function": f"params.data ? params.data['{text_field(col)}'] : ''"}
        if col in classes:
            spec["cellClass"] = {"function": f"['{spec['cellClass']}', params.data ? params.data['{class_field(col)}']"
                                             f" : '']"}
    return grid


def _width(text: str) -> int:
    """Pixels a report cell's text takes at the report's type size, with the cell's padding."""
    return int(sum(13 if ord(c) >= 0x2E80 else 6.6 for c in text)) + 14


def doc_grid(rows: list[dict[str, Any]], columns: list[Column], lang: str, grid_id: str, *,
             texts: Sequence[str] = (), classes: Sequence[str] = ()) -> dag.AgGrid:
    """A report table as a grid: all its rows drawn and its columns fitted to the document's
    width (a long cell wraps rather than being cut), so it reads and prints whole on A4;
    sortable, no filter (a report table is a dozen rows); with_cells' `texts` and `classes`."""
    df = pd.DataFrame(rows)
    hidden = tuple(text_field(c) for c in texts) + tuple(class_field(c) for c in classes)
    grid = with_cells(data_grid(df, columns, lang, grid_id, hidden=hidden, class_name="report-grid"), texts, classes)
    for spec in grid.columnDefs:
        first = spec.get("pinned") is not None  # the row's name: wide enough to read on one or two lines
        longest = max((_width(str(r.get(spec["field"], ""))) for r in rows), default=0) if first else 0
        spec.update(filter=False, wrapText=True, autoHeight=True, wrapHeaderText=True, autoHeaderHeight=True,
                    minWidth=min(max(110, longest), 190) if first else 64)
    grid.defaultColDef = {**grid.defaultColDef, "filter": False}
    grid.dashGridOptions = {**grid.dashGridOptions, "domLayout": "autoHeight", "rowHeight": 28, "headerHeight": 32}
    grid.style = {"width": "100%"}
    return grid


def report_list(df: pd.DataFrame, lang: str) -> Any:
    """The department's reports, newest first; a click on a row opens that report."""
    if df.empty:
        return html.P(t("ws.rp.none", lang), className="note")
    stamp = lambda who, at: f"{who or ''} {str(at)[:16]}".strip() if at is not None and at == at else "—"  # noqa: E731
    rows = pd.DataFrame({
        "id": df["id"].astype(int), "month": [month_label(m, lang) for m in df["month"]],
        "month_key": df["month"].astype(str).str[:7], "revision": df["revision"].astype(int),
        "status": [t(f"ws.rp.status.{s}", lang) for s in df["status"]],
        "created": [stamp(b, a) for b, a in zip(df["created_by"], df["created_at"], strict=True)],
        "published": [stamp(b, a) for b, a in zip(df["published_by"], df["published_at"], strict=True)],
    })
    cols = [Column("month", t("ws.rp.col.month", lang), pinned=True), Column("revision", t("ws.rp.col.revision", lang),
                                                                            "integer"),
            Column("status", t("ws.rp.col.status", lang)), Column("created", t("ws.rp.col.created", lang)),
            Column("published", t("ws.rp.col.published", lang))]
    grid = data_grid(rows, cols, lang, "report-list", row_id="id", visible_rows=LIST_ROWS, selectable=True,
                     class_name="report-list-grid")
    return html.Div([grid, html.P(t("ws.rp.open_note", lang), className="note")])


def key_table(content: dict, lang: str) -> dag.AgGrid:
    """The key figures: this month, last month, the change, a year ago, the change, the hospital."""
    rows = []
    for k in content["key"]:
        code = k["indicator"]
        points = INDICATORS[code].unit == "ratio"
        row: dict[str, Any] = {"indicator": INDICATORS[code].name(lang), "code": code}
        for col in ("value", "previous", "year_ago", "hospital"):
            row[col], row[text_field(col)] = k[col], ind_value(k[col], code, lang)
        for col in ("mom", "yoy"):
            row[col] = k[f"{col}_diff"] if points else k[col]
            row[text_field(col)] = change_text(k[col], k[f"{col}_diff"], code, lang)
        row[class_field("yoy")] = grid_class(_verdict(yoy_class(k)))  # type: ignore[arg-type]
        rows.append(row)
    names = ("value", "previous", "mom", "year_ago", "yoy", "hospital")
    cols = [Column("indicator", t("ws.rp.k.indicator", lang), pinned=True),
            *(Column(c, t(f"ws.rp.k.{c}", lang), "ratio") for c in names)]
    return doc_grid(rows, cols, lang, "report-key", texts=names, classes=("yoy",))


def structure_table(content: dict, lang: str) -> dag.AgGrid:
    """Income by component, inpatient and outpatient, with its share against a year ago."""
    rows = []
    for r in content["structure"]:
        change = (r["share"] - r["share_year_ago"]) if r["share"] is not None and r["share_year_ago"] is not None else None
        row: dict[str, Any] = {"component": t(f"ws.rp.comp.{r['component']}", lang), "change": change,
                               text_field("change"): format_points(change, lang) if change is not None else "—"}
        for col in ("inpatient", "outpatient", "amount"):
            row[col], row[text_field(col)] = r[col], format_indicator(r[col], "yuan", lang)
        for col in ("share", "share_year_ago"):
            row[col], row[text_field(col)] = r[col], format_indicator(r[col], "ratio", lang)
        rows.append(row)
    names = ("inpatient", "outpatient", "amount", "share", "share_year_ago", "change")
    cols = [Column("component", t("ws.rp.s.component", lang), pinned=True),
            *(Column(c, t(f"ws.rp.s.{c}", lang), "money" if c in names[:3] else "ratio") for c in names)]
    return doc_grid(rows, cols, lang, "report-structure", texts=names)


def cost_table(content: dict, lang: str) -> Any:
    """The month's full cost by category against a year ago (a note while the month is open)."""
    costs = content["costs"]
    if not costs["closed"]:
        return html.P(t("ws.rp.cost_open", lang), className="note")
    rows = []
    for r in costs["rows"]:
        ago = r["year_ago"]
        rel = (r["total"] - ago) / ago if ago else None
        row: dict[str, Any] = {"category": t(f"dw.cat.{r['category']}", lang), "change": rel,
                               text_field("change"): format_change(rel) if rel is not None else "—"}
        for col in ("direct", "allocated", "total", "year_ago"):
            row[col], row[text_field(col)] = r[col], format_indicator(r[col], "yuan", lang)
        rows.append(row)
    names = ("direct", "allocated", "total", "year_ago", "change")
    cols = [Column("category", t("ws.rp.c.category", lang), pinned=True),
            *(Column(c, t(f"ws.rp.c.{c}", lang), "money" if c != "change" else "change") for c in names)]
    return doc_grid(rows, cols, lang, "report-costs", texts=names)


def targets_table(content: dict, lang: str) -> Any:
    """The annual targets: target, actual, expected by now, projection and status."""
    if not content["targets"]:
        return html.P(t("dw.no_targets", lang), className="note")
    rows = []
    for r in content["targets"]:
        code = r["indicator"]
        if code not in INDICATORS:
            continue
        row: dict[str, Any] = {"indicator": INDICATORS[code].name(lang), "status": t(f"dw.status.{r['status']}", lang),
                               class_field("status"): f"status status-{r['status']}"}
        for col in ("target", "actual", "expected", "projection"):
            row[col], row[text_field(col)] = r[col], ind_value(r[col], code, lang)
        rows.append(row)
    names = ("target", "actual", "expected", "projection")
    cols = [Column("indicator", t("dw.t.indicator", lang), pinned=True),
            *(Column(c, t(f"dw.t.{c}", lang), "ratio") for c in names), Column("status", t("dw.t.status", lang))]
    return doc_grid(rows, cols, lang, "report-targets", texts=names, classes=("status",))


def trend_figure(content: dict, lang: str) -> go.Figure:
    """Small multiples of the 13-month trend, sized for an A4 page."""
    codes = [c for c, pts in content["trend"].items() if pts and c in INDICATORS]
    fig = make_subplots(rows=2, cols=3, subplot_titles=[INDICATORS[c].name(lang) for c in codes],
                        horizontal_spacing=0.08, vertical_spacing=0.2)
    for i, code in enumerate(codes):
        pts = content["trend"][code]
        unit = INDICATORS[code].unit
        ys = [(v * 100 if unit == "ratio" else v / 10_000 if unit == "yuan" else v) if v is not None else None
              for _, v in pts]
        fig.add_scatter(x=[m for m, _ in pts], y=ys, mode="lines+markers", line={"color": PALETTE[i % 6], "width": 2},
                        marker={"size": 4}, showlegend=False, row=i // 3 + 1, col=i % 3 + 1)
    fig.update_xaxes(type="category", tickangle=-45, tickfont={"size": 9}, nticks=7)
    fig.update_yaxes(tickfont={"size": 9})
    fig.update_annotations(font={"size": 12})
    fig.update_layout(width=680, height=380, autosize=False, margin={"l": 40, "r": 10, "t": 30, "b": 50},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig


def has_entity(a: dict) -> bool:
    """Whether an alert names a ward, group, doctor or device (a report stored before the fix in
    appdb.reports.month_alerts holds NaN, not None, for the department's own alerts)."""
    return isinstance(a.get("entity_id"), str) and bool(a["entity_id"])


def entity(a: dict, lang: str) -> str:
    key = f"driver.{a.get('entity_type')}"
    return f"{t(key, lang) if key in CATALOG else a.get('entity_type')} {a['entity_id']}"


def alerts_block(content: dict, lang: str) -> Any:
    """The month's alerts with their recorded causes and actions (a list: each is a paragraph)."""
    items = content.get("alerts") or []
    if not items:
        return html.P(t("ws.rp.no_alerts", lang), className="note", id="report-alerts")
    out = []
    for a in items:
        ind = INDICATORS.get(a["indicator"])
        name = ind.name(lang) if ind else a["indicator"]
        unit = ind.unit if ind else ""
        kind = alert_kind(a)
        notes = a["notes"]
        out.append(html.Li([
            html.Span(t(f"level.{a['level']}", lang), className=f"badge lvl-badge lvl-{a['level']} me-1"),
            html.B(name), f" ({entity(a, lang)})" if has_entity(a) else "",
            f" · {a['period_start']} – {a['period_end']} · ",
            t("ws.rp.observed", lang, observed=alert_value(a["observed"], kind, unit, lang),
              expected=alert_value(a["expected"], kind, unit, lang),
              deviation=format_deviation(a["observed"], a["expected"], a["deviation"], unit, lang, kind=kind)),
            f" · {t('status.' + a['status'], lang)}",
            html.Div(f"{t('ws.rp.cause', lang)}: {'；'.join(notes['cause']) or t('ws.rp.not_recorded', lang)}",
                     className="report-note"),
            html.Div(f"{t('ws.rp.action', lang)}: "
                     f"{'；'.join(notes['action'] + notes['suggestion']) or t('ws.rp.not_recorded', lang)}",
                     className="report-note"),
        ]))
    return html.Ul(out, className="report-alerts", id="report-alerts")


def findings_editor(report: dict, fields: Sequence[str], lang: str, max_text: int = 2000) -> Any:
    """The problem → cause → suggestion rows as a grid: while the report is a draft every cell is
    edited in a large text box (up to `max_text` characters), rows are ticked and deleted, and one
    is added; once published, read only. A long text wraps and shows in full."""
    editable = report["status"] == "draft"
    columns = [{"field": f, "colId": f, "headerName": t(f"ws.rp.f.{f}", lang), "editable": editable,
                "cellEditor": "agLargeTextCellEditor", "cellEditorPopup": True,
                "cellEditorParams": {"maxLength": max_text, "rows": 8, "cols": 60},
                "wrapText": True, "autoHeight": True, "flex": 1, "minWidth": 160,
                "cellClass": "hd-text report-finding-cell"} for f in fields]
    options: dict[str, Any] = {"localeText": locale_text(lang), "domLayout": "autoHeight", "headerHeight": 32,
                               "stopEditingWhenCellsLoseFocus": True, "singleClickEdit": False,
                               "enableCellTextSelection": not editable, "suppressCellFocus": not editable}
    if editable:
        options["rowSelection"] = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True,
                                   "enableClickSelection": False}
    grid = dag.AgGrid(
        id="report-findings", rowData=report["findings"] or [], columnDefs=columns,
        defaultColDef={"sortable": False, "filter": False, "resizable": True, "suppressMovable": True},
        dashGridOptions=options, style={"width": "100%"},
        className="hd-grid report-grid report-findings-grid")
    if not editable:
        return grid
    return html.Div([
        grid,
        html.Div([html.Button(t("ws.rp.add_row", lang), id="report-add-row", className="btn btn-sm btn-outline-secondary"),
                  html.Button(t("ws.rp.delete_rows", lang), id="report-delete-rows",
                              className="btn btn-sm btn-outline-danger ms-2"),
                  html.Button(t("ws.rp.save", lang), id="report-save", className="btn btn-sm btn-primary ms-2"),
                  html.Button(t("ws.rp.publish", lang), id="report-publish", className="btn btn-sm btn-success ms-2")],
                 className="report-actions mt-2"),
        html.P(t("ws.rp.findings_note", lang), className="note"),
    ])


def document(report: dict, lang: str, dept_name: str, fields: Sequence[str],
             tools: Callable[[], Any], max_text: int = 2000) -> html.Article:
    """The report as a document: the same on screen and on paper (`tools`: the print and export
    buttons; `max_text`: the longest a finding's cell may be)."""
    from dash import dcc

    c = report["content"]
    status = t(f"ws.rp.status.{report['status']}", lang)
    if report["status"] == "published":
        status += f" · {report['published_by'] or ''} {str(report['published_at'])[:16]}"
    meta = t("ws.rp.meta", lang, revision=report["revision"], status=status, through=c["data_through"],
             previous=c["previous"], year_ago=c["year_ago"])
    h = lambda n, key: html.H3(f"{n}. {t(key, lang)}")  # noqa: E731
    return html.Article([
        html.Div(tools(), className="report-tools"),
        html.H2(t("ws.rp.title", lang, dept=dept_name, month=month_label(c["month"], lang)), id="report-title"),
        html.P(meta, className="report-meta"),
        dcc.Store(id="report-meta", data={"id": report["id"], "version": report["version"]}),
        html.Section([h(1, "ws.rp.sec.key"), key_table(c, lang),
                      html.P(t("ws.rp.hospital_note", lang), className="note")], className="report-section"),
        html.Section([h(2, "ws.rp.sec.trend"),
                      dcc.Graph(figure=trend_figure(c, lang), config={"displayModeBar": False, "staticPlot": True},
                                id="report-trend", className="report-graph")], className="report-section"),
        html.Section([h(3, "ws.rp.sec.structure"), structure_table(c, lang), html.H4(t("ws.rp.sec.costs", lang)),
                      cost_table(c, lang)], className="report-section"),
        html.Section([h(4, "ws.rp.sec.targets"), targets_table(c, lang)], className="report-section"),
        html.Section([h(5, "ws.rp.sec.alerts"), alerts_block(c, lang)], className="report-section"),
        html.Section([h(6, "ws.rp.sec.findings"), findings_editor(report, fields, lang, max_text)],
                     className="report-section report-findings"),
    ], className="report-doc", id="report-document", lang="zh-CN" if lang == "zh" else "en")
