"""The alerts page's parts: the alert list (a grid), an alert's series figure, its rows (a grid)
and its detail with the workflow controls.

Pure: frames, records and the language in, Dash components and figures out (no queries, no
callbacks); the page fetches and passes what they show."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from data_layer.periods import month_end
from data_layer.registry import INDICATORS

from .format import COUNTED_ALERTS, format_cell, format_deviation, format_indicator
from .grid import Column, data_grid
from .i18n import CATALOG, t
from .palette import DESK

ROW_KINDS = {  # the kind of each column of an alert's rows (data_layer.queries.drill.alert_rows), as exported
    **dict.fromkeys(("discharge_date", "admit_date", "date", "month_start"), "date"),
    **dict.fromkeys(("los_days", "visits", "emergency_visits", "exams", "open_beds", "occupied_beds", "admissions",
                     "discharges"), "integer"),
    **dict.fromkeys(("charge_total", "charge_drug", "charge_material", "drg_payment", "cost_total", "revenue_total",
                     "revenue_drug", "revenue", "budget_amount", "executed_amount", "amount"), "money"),
    "occupancy": "percent", "hours_used": "days",
}
GRID_KINDS = {"date": "date", "integer": "integer", "money": "money", "percent": "percent", "days": "days"}
STATUS_NOTE = re.compile(r"^(?P<old>[a-z]+) → (?P<new>[a-z]+)(?:: (?P<reason>.*))?$", re.S)


def period_text(start: date, end: date) -> str:
    """2026-10 for a whole month, else the two days."""
    if start.day == 1 and end == month_end(start):
        return f"{start:%Y-%m}"
    return f"{start} – {end}" if start != end else f"{start}"


def alert_grid(df: pd.DataFrame, names: Mapping[str, str], levels: tuple[str, ...], lang: str) -> Any:
    """The alerts (appdb.alerts.list_alerts), most severe and newest first, as a grid: the level
    as its coloured badge (sorting by severity), a click on a row opens the alert."""
    if df.empty:
        return html.P(t("alerts.none", lang), className="note")
    rank = {lv: i for i, lv in enumerate(levels)}
    df = df.assign(rank=df["level"].map(lambda lv: -rank[lv])).sort_values(["rank", "period_end"],
                                                                           ascending=[True, False], kind="stable")
    rows = pd.DataFrame({
        "id": df["id"].astype(int), "severity": df["level"].map(rank), "level": df["level"],
        "level_name": [t(f"level.{lv}", lang) for lv in df["level"]],
        "dept": [names.get(d, d) for d in df["dept_id"]],
        "indicator": [INDICATORS[r.indicator].name(lang) + (f" · {r.entity_id}" if isinstance(r.entity_id, str)
                                                              and r.entity_id else "") for r in df.itertuples()],
        "period": [period_text(s, e) for s, e in zip(df["period_start"], df["period_end"], strict=True)],
        "deviation": [format_deviation(r.observed, r.expected, r.deviation, INDICATORS[r.indicator].unit, lang,
                                       kind=r.kind) for r in df.itertuples()],
        "status": [t(f"status.{s}", lang) for s in df["status"]],
    })
    cols = [Column("severity", t("alerts.level", lang), "integer", pinned=True, width=96),
            Column("dept", t("alerts.department", lang)), Column("indicator", t("alerts.indicator", lang), width=200),
            Column("period", t("alerts.period", lang)), Column("deviation", t("alerts.deviation", lang), width=150),
            Column("status", t("alerts.status", lang))]
    grid = data_grid(rows, cols, lang, "alerts-table", row_id="id", selectable=True, hidden=("level", "level_name"),
                     class_name="alerts-grid-table", visible_rows=18)
    for col in grid.columnDefs[1:]:
        col["tooltipField"] = col["field"]  # a long name or period reads whole on hover
    level_col = grid.columnDefs[0]
    level_col.update(cellRenderer="hdBadge", filter="agTextColumnFilter", type=None, cellClass="hd-text",
                     filterValueGetter={"function": "params.data.level_name"}, headerClass=None)
    level_col.pop("valueFormatter", None)
    grid.columnDefs[0] = {k: v for k, v in level_col.items() if v is not None}
    return grid


def series_figure(df: pd.DataFrame, alert: Mapping[str, Any], code: str, grain: str, lang: str) -> go.Figure:
    """The alert's indicator (`code`) over time, its expected band and the alert's period shaded."""
    fig = go.Figure(go.Scatter(x=df["period_start"], y=df["value"], mode="lines+markers", name=INDICATORS[code].name(lang),
                               line={"color": DESK.neutral}))
    if alert["band_low"] is not None and alert["band_high"] is not None and code == alert["indicator"]:
        fig.add_hrect(y0=alert["band_low"], y1=alert["band_high"], fillcolor=DESK.good, opacity=0.1, line_width=0,
                      annotation_text=t("alerts.band", lang), annotation_position="top left")
        fig.add_hline(y=alert["expected"], line_dash="dot", line_color=DESK.good)
    fig.add_vrect(x0=alert["period_start"], x1=alert["period_end"], fillcolor=DESK.bad, opacity=0.08, line_width=0)
    fig.update_layout(height=280, margin={"l": 40, "r": 10, "t": 30, "b": 30}, template="hospdash",
                      title={"text": t("alerts.series", lang), "font": {"size": 14}}, showlegend=False,
                      font={"family": "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"})
    if INDICATORS[code].unit == "ratio":  # the plotted series' unit (an idle device plots its exams, a count)
        fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(tickformat="%m-%d" if grain == "day" else "%Y-%m")  # numeric dates read the same in both languages
    return fig


def with_local_names(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Drill-down rows with one name column in the reader's language for each pair of Chinese and
    English names (beside its code), and allocation stages in words."""
    for base in ("drg", "ward", "equipment", "item"):
        if {f"{base}_zh", f"{base}_en"} <= set(rows.columns):
            at = list(rows.columns).index(f"{base}_zh")
            named = rows[f"{base}_zh" if lang == "zh" else f"{base}_en"]
            rows = rows.drop(columns=[f"{base}_zh", f"{base}_en"])
            rows.insert(min(at, len(rows.columns)), f"{base}_name", named)
    if "allocation_stage" in rows.columns:
        rows = rows.assign(allocation_stage=rows["allocation_stage"].map(lambda s: t(f"dw.stage.{s}", lang)
                                                                          if f"dw.stage.{s}" in CATALOG else s))
    return rows


def header(col: str, lang: str) -> str:
    return t(f"col.{col}", lang) if f"col.{col}" in CATALOG else col


def with_headers(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows with translated headers (as exported)."""
    return rows.rename(columns={c: header(c, lang) for c in rows.columns})


def export_kinds(lang: str) -> dict[str, str]:
    """The export kind of each translated header."""
    return {t(f"col.{c}", lang): kind for c, kind in ROW_KINDS.items() if f"col.{c}" in CATALOG}


def rows_grid(rows: pd.DataFrame, lang: str) -> Any:
    """Every row behind an alert (not only the first few) as a grid; the first column pinned."""
    if rows.empty:
        return None
    rows = rows.reset_index(drop=True)
    safe = {c: f"c{i}" for i, c in enumerate(rows.columns)}  # a field name never holds a dot AG Grid would follow
    cols = [Column(safe[c], header(c, lang), GRID_KINDS.get(ROW_KINDS.get(c, "text"), "text"), pinned=i == 0)  # type: ignore[arg-type]
            for i, c in enumerate(rows.columns)]
    data = rows.rename(columns=safe).assign(_n=range(len(rows)))
    return data_grid(data, cols, lang, "al-rows-grid", row_id="_n", visible_rows=10)


def note_text(note: Mapping[str, Any], statuses: Sequence[str], lang: str) -> str:
    """A note as the reader reads it: a status change (stored as "new → acknowledged: reason")
    names both statuses in the reader's language."""
    m = STATUS_NOTE.match(note["text"] or "") if note["kind"] == "status" else None
    if m is None or m["old"] not in statuses or m["new"] not in statuses:
        return note["text"]
    text = f"{t('status.' + m['old'], lang)} → {t('status.' + m['new'], lang)}"
    return text + (f"{'：' if lang == 'zh' else ': '}{m['reason']}" if m["reason"] else "")


def alert_value(value: Any, kind: str, unit: str, lang: str) -> str:
    """An alert's observed or expected value: in the indicator's unit, or a count (an idle device's exams)."""
    return format_cell(value, "int", lang) if kind in COUNTED_ALERTS else format_indicator(value, unit, lang)


def detail(alert: Mapping[str, Any], lang: str, *, dept_name: str, owner: str, action: str, figure: go.Figure,
           rows: Any, export: Any, note_kinds: Sequence[str], statuses: Sequence[str]) -> html.Div:
    """One alert: what was seen against what was expected, the suggested action, its series, its
    drivers, its rows (a grid), its notes and the workflow's buttons."""
    ind = INDICATORS[alert["indicator"]]
    colon = "：" if lang == "zh" else ": "
    drivers = [html.Li(f"{d.get('name_zh' if lang == 'zh' else 'name_en') or d['id']} ({t('driver.' + d['type'], lang)}) · "
                       f"{d.get('contribution', 0) * 100:.0f}%") for d in alert["drivers"]]
    notes = [html.Li([html.Strong(f"{t('note.' + n['kind'], lang)} "),
                      f"{note_text(n, statuses, lang)} — {n['username'] or ''}, {str(n['at'])[:16]}"]) for n in alert["notes"]]
    status = alert["status"]
    return html.Div([
        html.H2([html.Span(t(f"level.{alert['level']}", lang), className=f"badge lvl-badge lvl-{alert['level']} me-2"),
                 f"{dept_name} · {ind.name(lang)}"]),
        html.P([f"{period_text(alert['period_start'], alert['period_end'])} · ",
                t("alerts.occurrences", lang, n=alert["occurrences"]), " · ", t(f"status.{status}", lang),
                f" · {t('alerts.owner', lang)}{colon}{owner}"], className="note"),
        html.P([html.Strong(f"{t('alerts.observed', lang)} "), alert_value(alert["observed"], alert["kind"], ind.unit, lang),
                html.Strong(f"  {t('alerts.expected', lang)} "), alert_value(alert["expected"], alert["kind"], ind.unit, lang),
                html.Strong(f"  {t('alerts.deviation', lang)} "),
                format_deviation(alert["observed"], alert["expected"], alert["deviation"], ind.unit, lang, 1,
                                 kind=alert["kind"])]),
        html.P([html.Strong(f"{t('alerts.method', lang)}: "), t(f"method.{alert['kind']}", lang)], className="note"),
        html.Div([html.Strong(f"{t('alerts.action', lang)}: "), action], className="alert alert-info py-2", id="al-action"),
        dcc.Graph(figure=figure, config={"displayModeBar": False}),
        html.H3(t("alerts.drivers", lang)), html.Ul(drivers or [html.Li("—")], id="al-drivers"),
        html.Div([html.H3(t("alerts.rows", lang), className="d-inline me-2"), export]),
        html.Div(rows, className="drill-wrap"),
        html.H3(t("alerts.notes", lang)), html.Ul(notes or [html.Li("—")], id="al-notes"),
        html.Div([
            dcc.Dropdown(id="al-note-kind", value="cause", clearable=False, className="note-kind",
                         options=[{"label": t(f"note.{k}", lang), "value": k} for k in note_kinds]),
            dcc.Textarea(id="al-note-text", className="form-control", style={"height": "60px"}, maxLength=4000),
            html.Button(t("alerts.add_note", lang), id="al-note-add", className="btn btn-outline-primary btn-sm mt-1"),
        ]),
        html.Div([
            dcc.Input(id="al-reason", placeholder=t("alerts.reason", lang), className="form-control mb-1", maxLength=500),
            html.Button(t("alerts.acknowledge", lang), id="al-ack", className="btn btn-primary btn-sm me-1",
                        disabled=status != "new"),
            html.Button(t("alerts.resolve", lang), id="al-resolve", className="btn btn-success btn-sm me-1",
                        disabled=status != "acknowledged"),
            html.Button(t("alerts.dismiss", lang), id="al-dismiss", className="btn btn-outline-secondary btn-sm",
                        disabled=status not in ("new", "acknowledged")),
        ], className="mt-3"),
        html.Div(id="al-msg", role="status", className="mt-2"),
    ])
