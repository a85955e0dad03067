"""The equipment page as it is drawn (设备效益 and 设备购置论证): the devices of a department as cards,
a grid and a utilization chart; an appraisal's results with what they mean; the saved appraisals as
a grid (a click on a row opens its print view); the print view itself. Pure: frames, appraisals and
the language in, components and figures out."""
from __future__ import annotations

import json
from typing import Any

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.appraisal import EXISTING_REPORT, Row, category_name, existing_report_rows, report_rows, result_rows
from components.format import format_cell, format_indicator
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import DESK, trend_class
from components.widths import fit_width, wrap_headers
from data_layer.stats import Appraisal

DEVICE_COLUMNS = (("equipment_id", "id", "text"), ("name", "name", "text"), ("category", "category", "text"),
                  ("purchase_date", "purchase_date", "date"), ("purchase_price", "price", "money"),
                  ("daily_capacity", "capacity_day", "integer"), ("working_days", "working_days", "integer"),
                  ("capacity", "capacity", "integer"), ("exams", "exams", "integer"),
                  ("hours_used", "hours", "days"), ("utilization", "utilization", "percent"),
                  ("status", "status", "text"), ("revenue", "revenue", "money"),
                  ("revenue_per_10k_value", "per10k", "integer"))


def device_rows(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The devices with their name, category and status in the reader's language."""
    return df.assign(name=df["name_zh" if lang == "zh" else "name_en"],
                     category=df["category"].map(lambda c: category_name(c, lang)),
                     status=df["saturated"].map(lambda s: t("ws.eq.saturated" if s else "ws.eq.unsaturated", lang)))


def device_grid(df: pd.DataFrame, lang: str, grid_id: str) -> dag.AgGrid:
    """The devices (device_rows), one a row: the asset number (资产编号, as the hospital writes it) and
    the name pinned; saturated devices marked. A daily capacity keeps its decimal when one has one
    (1.4 patient-days a working day for a round-the-clock ventilator)."""
    fractional = bool((df["daily_capacity"].dropna() % 1 != 0).any())
    widths = {c: fit_width(df[c], t(f"ws.eq.c.{k}", lang), 300) for c, k in (("name", "name"), ("category", "category"))}
    cols = [Column(c, t(f"ws.eq.c.{k}", lang), kind, pinned=c in ("equipment_id", "name"),  # type: ignore[arg-type]
                   compact=kind == "money", decimals=1 if c == "daily_capacity" and fractional else None,
                   width=widths.get(c)) for c, k, kind in DEVICE_COLUMNS]
    grid = data_grid(df.assign(saturated=df["saturated"].astype(bool)), cols, lang, grid_id, row_id="equipment_id",
                     hidden=("saturated",), row_classes={"ws-eq-saturated": "params.data && params.data.saturated"})
    for col in grid.columnDefs:
        if col["field"] == "equipment_id":
            col["cellClass"] = "hd-text verbatim"
        if col["field"] == "status":
            col["cellClassRules"] = {"ws-eq-sat-cell": "params.data && params.data.saturated"}
    return wrap_headers(grid, 84)


def device_cards(df: pd.DataFrame, lang: str) -> html.Div:
    """Devices, saturated, unsaturated, overall utilization, revenue, revenue per 10k yuan of value."""
    overall = df["exams"].sum() / df["capacity"].sum() if df["capacity"].sum() else float("nan")
    value = df["purchase_price"].sum()
    cards = [("devices", f"{len(df)}"), ("saturated", f"{int(df['saturated'].sum())}"),
             ("unsaturated", f"{int((~df['saturated'].astype(bool)).sum())}"),
             ("utilization", format_indicator(overall, "ratio", lang)),
             ("revenue", format_indicator(df["revenue"].sum(), "yuan", lang)),
             ("per10k", f"{df['revenue'].sum() / value * 10_000:,.0f}" if value else "—")]
    return html.Div([html.Div([html.Div(t(f"ws.eq.card.{k}", lang), className="stat-label"),
                               html.Div(v, className="stat-value")], className="stat-card", id=f"ws-eq-card-{k}")
                     for k, v in cards], className="stat-grid")


def devices_panel(df: pd.DataFrame, start: Any, end: Any, level: float, lang: str) -> list[Any]:
    """The department's devices: cards, the grid, the period, the utilization chart."""
    rows = device_rows(df, lang)
    return [device_cards(rows, lang), device_grid(rows, lang, "ws-eq-devices-grid"),
            html.P(t("dw.period", lang, start=start, end=end), className="note"),
            dcc.Graph(figure=utilization_figure(rows, level, lang), config={"displayModeBar": False},
                      className="dw-graph", id="ws-eq-chart")]


def bar_labels(df: pd.DataFrame) -> list[str]:
    """Each device by its name; the asset number is added only where two devices share a name."""
    counts = df["name"].value_counts()
    return [f"{n}（{i}）" if counts[n] > 1 else str(n) for i, n in zip(df["equipment_id"], df["name"], strict=True)]


def utilization_figure(df: pd.DataFrame, level: float, lang: str) -> go.Figure:
    """Utilization by device, least used at the bottom; saturated bars in the warning colour, the level dashed."""
    ranked = df.sort_values("utilization", kind="stable")
    fig = go.Figure(go.Bar(
        y=bar_labels(ranked), x=ranked["utilization"],
        orientation="h", marker={"color": [DESK.warn if s else DESK.neutral for s in ranked["saturated"]]},
        text=[format_indicator(v, "ratio", lang) for v in ranked["utilization"]], textposition="auto"))
    fig.add_vline(x=level, line={"color": "#e69f00", "dash": "dash", "width": 2})
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(automargin=True)
    fig.update_layout(title=t("ws.eq.chart", lang), height=max(220, 32 * len(ranked) + 90),
                      margin={"l": 10, "r": 10, "t": 40, "b": 30}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    return fig


# ------------------------------------------------------------------------------------------ appraisal
def result_cards(result: Appraisal, lang: str) -> html.Div:
    return html.Div([html.Div([html.Div(r.label, className="stat-label"),
                               html.Div(r.text, className="stat-value " + trend_class("bad" if r.bad else "neutral"),
                                        id=f"ws-eq-r-{r.key}")], className="stat-card")
                     for r in result_rows(result, lang)], className="stat-grid")


def verdicts(result: Appraisal, lang: str) -> list[Any]:
    """What the figures mean for the request, in words: never pays back, not within its life, below
    the discount rate, more exams needed than expected."""
    out: list[Any] = []
    if result.payback_years is None:
        out.append(t("ws.eq.never_note", lang))
    elif not result.pays_back_within_life:
        out.append(t("ws.eq.beyond_life_note", lang, life=result.service_life_years))
    elif result.npv < 0:
        out.append(t("ws.eq.npv_negative_note", lang, rate=f"{result.discount_rate:.1%}"))
    be = result.breakeven_per_day
    if be is None:
        out.append(t("ws.eq.breakeven_none_note", lang))
    elif be > result.exams_per_day:
        out.append(t("ws.eq.breakeven_note", lang, be=f"{be:,.1f}", n=f"{result.exams_per_day:,g}"))
    return [html.P(m, className="alert alert-warning py-1", id=f"ws-eq-verdict-{i}") for i, m in enumerate(out)]


def result_panel(result: Appraisal, category: str, existing: pd.DataFrame | None, lang: str) -> list[Any]:
    """The results, what they mean, and the department's devices of the category over the last 12 months."""
    out: list[Any] = [result_cards(result, lang), *verdicts(result, lang)]
    cat = category_name(category, lang)
    if existing is None or existing.empty:
        out.append(html.P(t("ws.eq.existing_none", lang, category=cat), className="note", id="ws-eq-existing-none"))
        return out
    per = existing.attrs["period"]
    overall = existing["exams"].sum() / existing["capacity"].sum() if existing["capacity"].sum() else float("nan")
    out += [html.H3(t("ws.eq.existing", lang, category=cat, start=per.start, end=per.end), className="h6 mt-3"),
            device_grid(device_rows(existing, lang), lang, "ws-eq-existing-grid"),
            html.P(t("ws.eq.existing_avg", lang, u=format_indicator(overall, "ratio", lang)), className="note")]
    return out


# -------------------------------------------------------------------------------------------- saved
SAVED_COLUMNS = (("id", "no", "integer"), ("created", "created", "text"), ("device_name", "name", "text"),
                 ("category", "category", "text"), ("price", "price", "money"), ("annual_net", "net", "money"),
                 ("payback_years", "payback", "ratio"), ("npv", "npv", "money"), ("irr", "irr", "percent"),
                 ("created_by", "by", "text"))


def saved_grid(df: pd.DataFrame, lang: str) -> dag.AgGrid:
    """The department's saved appraisals, newest first; a click on a row opens its print view (with
    its one-page Excel report). A payback that never comes and an IRR that does not exist say so."""
    rows = df.assign(created=[f"{c:%Y-%m-%d %H:%M}" for c in df["created_at"]],
                     category=df["category"].map(lambda c: category_name(c, lang)),
                     created_by=df["created_by"].fillna(""),
                     irr_note=[t("ws.eq.irr_none_short", lang) if n else None for n in df["never"]])
    widths = {"created": 150, "device_name": fit_width(rows["device_name"], t("ws.eq.c.name", lang), 300)}
    cols = [Column(c, t(f"ws.eq.c.{k}", lang), kind, pinned=c in ("id", "device_name"), compact=kind == "money",  # type: ignore[arg-type]
                   decimals=2 if c == "payback_years" else None, width=widths.get(c)) for c, k, kind in SAVED_COLUMNS]
    grid = data_grid(rows, cols, lang, "ws-eq-saved-grid", row_id="id", hidden=("irr_note",), selectable=True,
                     class_name="ws-eq-saved-grid")
    never = json.dumps(t("ws.eq.never", lang), ensure_ascii=False)
    for col in grid.columnDefs:
        if col["field"] == "payback_years":
            col["valueFormatter"] = {"function": f"wsEqOr(params.value, {never}, 'ratio', '{lang}', 2, false)"}
        elif col["field"] == "irr":
            col["valueFormatter"] = {"function": f"wsEqOr(params.value, params.data && params.data.irr_note, "
                                                 f"'percent', '{lang}', 1, false)"}
    return grid


def report_view(a: dict[str, Any], dept_name: str, lang: str) -> html.Article:
    """The print-friendly view of one saved appraisal (the print stylesheet shows only it), with its
    buttons: print, the one-page Excel report, close."""
    inputs, results = report_rows(a, lang)

    def kv(rows: list[Row]) -> html.Table:
        return html.Table(html.Tbody([html.Tr([html.Th(r.label), html.Td(
            r.text, className="num" if r.number_format else "", id=f"ws-eq-report-{r.key}")]) for r in rows]),
            className="table table-sm dw-table")

    existing = existing_report_rows(a, lang)
    kinds = ("text", "text", "text", "int", "int", "ratio", "text")
    ex_table = html.Table([
        html.Thead(html.Tr([html.Th(t(f"ws.eq.c.{k}", lang)) for _c, k in EXISTING_REPORT])),
        html.Tbody([html.Tr([html.Td(format_cell(v, k, lang), className="num" if k != "text" else "")
                             for v, k in zip(r, kinds, strict=True)]) for r in existing])],
        className="table table-sm dw-table") if existing else \
        html.P(t("ws.eq.existing_none", lang, category=category_name(a["category"], lang)), className="note")
    meta = t("ws.eq.report_meta", lang, dept=dept_name, id=a["id"], at=f"{a['created_at']:%Y-%m-%d %H:%M}",
             by=a["created_by"] or "")
    return html.Article([
        html.Div([html.Button(t("ws.eq.print", lang), id="ws-eq-print", n_clicks=0, className="btn btn-sm btn-primary"),
                  html.Button(t("ws.eq.report_xlsx", lang), id={"type": "ws-eq-report", "index": int(a["id"])},
                              n_clicks=0, className="btn btn-sm btn-outline-secondary ms-2"),
                  html.Button(t("ws.eq.close", lang), id="ws-eq-close", n_clicks=0,
                              className="btn btn-sm btn-outline-secondary ms-2")], className="ws-eq-noprint mb-2"),
        html.H2(t("ws.eq.report_title", lang)),
        html.P(meta),
        html.Div([html.Div([html.H3(t("ws.eq.report_inputs", lang), className="h6"), kv(inputs)]),
                  html.Div([html.H3(t("ws.eq.report_results", lang), className="h6"), kv(results)])],
                 className="ws-eq-report-grid"),
        html.H3(t("ws.eq.report_existing", lang), className="h6"), ex_table,
        html.P(t("ws.eq.formula", lang), className="note"),
    ], className="ws-eq-report", id="ws-eq-report")

