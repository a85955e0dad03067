"""The alerts page's parts: the alert list (a grid), an alert's series figure, its rows (a grid)
and its detail with the workflow controls.

Pure: frames, records and the language in, Dash components and figures out (no queries, no
callbacks); the page fetches and passes what they show."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from data_layer.periods import month_end
from data_layer.registry import INDICATORS

from .format import COUNTED_ALERTS, alert_unit, format_cell, format_deviation, format_indicator
from .grid import Column, data_grid, level_badge_column
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


@dataclass(frozen=True)
class QualityCheck:
    """A data-quality alert's check, standing where a registry indicator stands in other alerts
    (appdb/quality.py raises them with the check's code as their indicator)."""

    code: str
    unit: str = "count"

    def name(self, lang: str) -> str:
        key = f"quality.check.{self.code}"
        return t(key, lang) if key in CATALOG else self.code


def indicator_of(code: str) -> Any:
    """The registry indicator an alert is about, or the data-quality check it names."""
    return INDICATORS.get(code) or QualityCheck(code)


def alert_grid(df: pd.DataFrame, names: Mapping[str, str], levels: tuple[str, ...], lang: str,
               entities: Mapping[tuple[str, str], str] | None = None) -> Any:
    """The alerts (appdb.alerts.list_alerts), most severe and newest first, as a grid: the level
    as its coloured badge (sorting by severity), an alert gathering knock-on findings marked
    beside its indicator ("+2 连带"), a click on a row opens the alert. `entities`: {(type, id):
    name} of the groups and DRG groups the alerts are about."""
    entities = entities or {}
    if df.empty:
        return html.P(t("alerts.none", lang), className="note")
    rank = {lv: i for i, lv in enumerate(levels)}
    df = df.assign(rank=df["level"].map(lambda lv: -rank[lv])).sort_values(["rank", "period_end"],
                                                                           ascending=[True, False], kind="stable")
    rows = pd.DataFrame({
        "id": df["id"].astype(int), "severity": df["level"].map(rank), "level": df["level"],
        "level_name": [t(f"level.{lv}", lang) for lv in df["level"]],
        "dept": [names.get(d, d) for d in df["dept_id"]],
        "indicator": [indicator_of(r.indicator).name(lang) + (f" · {entity_name(r.entity_type, r.entity_id, entities, lang)}"
                                                              if isinstance(r.entity_id, str) and r.entity_id else "")
                      for r in df.itertuples()],
        "knock_ons": [knock_on_marker(n, lang) if n else "" for n in _counts(df.get("consequences"))],
        "period": [period_text(s, e) for s, e in zip(df["period_start"], df["period_end"], strict=True)],
        "deviation": [format_deviation(r.observed, r.expected, r.deviation, indicator_of(r.indicator).unit, lang,
                                       kind=r.kind) for r in df.itertuples()],
        "status": [t(f"status.{s}", lang) for s in df["status"]],
    })
    cols = [Column("severity", t("alerts.level", lang), "integer", pinned=True, width=96),
            Column("dept", t("alerts.department", lang)), Column("indicator", t("alerts.indicator", lang), width=230),
            Column("period", t("alerts.period", lang)), Column("deviation", t("alerts.deviation", lang), width=140),
            Column("status", t("alerts.status", lang))]
    grid = data_grid(rows, cols, lang, "alerts-table", row_id="id", selectable=True,
                     hidden=("level", "level_name", "knock_ons"), class_name="alerts-grid-table", visible_rows=18)
    for col in grid.columnDefs[1:]:
        if col["field"] == "indicator":  # the knock-ons' mark stays in sight beside a long name
            col["cellRenderer"] = "hdKnockOns"
    return level_badge_column(grid)


def _counts(column: pd.Series | None) -> list[int]:
    """How many knock-on findings each stored alert carries (its consequences, JSON text)."""
    if column is None:
        return []
    out = []
    for raw in column:
        try:
            found = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            found = None
        out.append(len(found) if isinstance(found, list) else 0)
    return out


def knock_on_marker(n: int, lang: str) -> str:
    """The list's mark of an alert that gathers knock-on findings: "+2 连带" / "+2 knock-ons"."""
    return t("alerts.knock_on_one", lang) if n == 1 else t("alerts.knock_on_count", lang, n=n)


def series_figure(df: pd.DataFrame, alert: Mapping[str, Any], code: str, grain: str, lang: str) -> go.Figure:
    """The alert's indicator (`code`) over time, its expected band and the alert's period shaded."""
    fig = go.Figure(go.Scatter(x=df["period_start"], y=df["value"], mode="lines+markers", name=indicator_of(code).name(lang),
                               line={"color": DESK.neutral}))
    # the band and the expected value on the series' own scale only: a closed clinic's figures are the
    # visits summed over its run, not one day's
    if alert["band_low"] is not None and alert["band_high"] is not None and code == alert["indicator"] \
            and alert.get("kind") != "volume_drop":
        fig.add_hrect(y0=alert["band_low"], y1=alert["band_high"], fillcolor=DESK.good, opacity=0.1, line_width=0,
                      annotation_text=t("alerts.band", lang), annotation_position="top left")
        fig.add_hline(y=alert["expected"], line_dash="dot", line_color=DESK.good)
    fig.add_vrect(x0=alert["period_start"], x1=alert["period_end"], fillcolor=DESK.bad, opacity=0.08, line_width=0)
    fig.update_layout(height=280, margin={"l": 40, "r": 10, "t": 30, "b": 30}, template="hospdash",
                      title={"text": t("alerts.series", lang), "font": {"size": 14}}, showlegend=False,
                      font={"family": "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"})
    if indicator_of(code).unit == "ratio":  # the plotted series' unit (an idle device plots its exams, a count)
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


def alert_value(value: Any, kind: str | None, unit: str, lang: str) -> str:
    """An alert's observed or expected value: in the indicator's unit, or for a check that counts
    (an idle device) the exams themselves: "0 次检查" / "1,479 exams", never a rate."""
    if kind in COUNTED_ALERTS:
        shown = format_cell(value, "int", lang)
        return shown if shown == "—" else t("alerts.exams", lang, n=shown)
    return format_indicator(value, alert_unit(kind, unit), lang)


def _lower_first(text: str, lang: str) -> str:
    """An English name mid-sentence ("drug share", but "DRG group" stays)."""
    if lang == "zh" or not text or text[1:2].isupper():
        return text
    return text[0].lower() + text[1:]


def entity_name(entity_type: Any, entity_id: str, names: Mapping[tuple[str, str], str], lang: str) -> str:
    """A group, DRG group, device or budget line in a few words: a medical group by its name (it
    says 医疗组 / team itself), a DRG group by its code and name, anything unnamed by its id."""
    name = names.get((str(entity_type), entity_id))
    if name and entity_type in ("group", "department"):
        return name
    return f"{entity_id} {name}" if name else entity_id


def entity_text(entity_type: Any, entity_id: Any, names: Mapping[tuple[str, str], str], lang: str) -> str:
    """What an alert or a finding is about below the department: "医疗组 关节外科组", "budget item
    B02"; the name where `names` ({(type, id): name}) knows it, else the id; "" for none."""
    if not isinstance(entity_id, str) or not entity_id:
        return ""
    if entity_type == "group" and (str(entity_type), entity_id) in names:
        return names[(str(entity_type), entity_id)]
    key = f"driver.{entity_type}"
    kind = t(key, lang) if key in CATALOG else str(entity_type or "")
    return f"{kind} {entity_name(entity_type, entity_id, names, lang)}".strip()


def why_line(finding: Mapping[str, Any], alert: Mapping[str, Any], names: Mapping[tuple[str, str], str],
             lang: str) -> str:
    """Why a knock-on finding belongs to this alert's cause, from its `via` (the indicator of the
    finding that explains it: the alert's own, or another knock-on's) and that finding's place."""
    if finding.get("kind") == "budget_overrun":
        item = str(finding.get("entity_id") or "")
        name = names.get(("budget_item", item))
        shown = f"{item}（{name}）" if lang == "zh" and name else f"{item} ({name})" if name else item
        return t("alerts.why.budget", lang, item=shown)
    via = str(finding.get("via") or alert["indicator"])
    source: Mapping[str, Any] = alert
    ve = finding.get("via_entity")  # the explaining finding's entity (older alerts have none)
    if via != alert["indicator"] or (ve and list(ve) != [alert.get("entity_type"), alert.get("entity_id")]):
        source = next((c for c in alert.get("consequences") or [] if c is not finding and c.get("indicator") == via
                       and (not ve or [c.get("entity_type"), c.get("entity_id")] == list(ve))), alert)
    if via == "alos" and finding.get("indicator") == "time_index" and source.get("entity_type") not in ("group", "drg"):
        return t("alerts.why.same_stays", lang)  # the department's stays, against their groups' reference
    ind = INDICATORS.get(via)
    via_name = _lower_first(ind.name(lang), lang) if ind else via
    move = t("alerts.move.down" if float(source.get("deviation") or 0) < 0 else "alerts.move.up", lang)
    etype = source.get("entity_type")
    if etype in ("group", "drg") and source.get("entity_id"):
        entity = t(f"driver.{etype}", lang)
        return t("alerts.why.entity", lang, entity=("本" if lang == "zh" else "this ") + entity, via=via_name, move=move)
    return t("alerts.why.dept", lang, via=via_name, move=move)


def knock_on_facts(finding: Mapping[str, Any], alert: Mapping[str, Any], names: Mapping[tuple[str, str], str],
                   lang: str) -> dict[str, str]:
    """One knock-on finding as the page and the messages write it, each part in the reader's language:
    level, indicator, entity, period, observed, expected, deviation and why it belongs to the cause."""
    ind = INDICATORS.get(str(finding.get("indicator", "")))
    unit = ind.unit if ind else ""
    kind = finding.get("kind")
    try:
        period = period_text(date.fromisoformat(str(finding["period_start"])[:10]),
                             date.fromisoformat(str(finding["period_end"])[:10]))
    except (KeyError, ValueError):
        period = ""
    level = str(finding.get("level") or "")
    return {"level_code": level, "level": t(f"level.{level}", lang) if f"level.{level}" in CATALOG else "",
            "indicator": ind.name(lang) if ind else str(finding.get("indicator") or ""),
            "entity": entity_text(finding.get("entity_type"), finding.get("entity_id"), names, lang),
            "period": period, "observed": alert_value(finding.get("observed"), kind, unit, lang),
            "expected": alert_value(finding.get("expected"), kind, unit, lang),
            "deviation": format_deviation(finding.get("observed"), finding.get("expected"), finding.get("deviation"),
                                          unit, lang, 1, kind=kind),
            "why": why_line(finding, alert, names, lang), "case_mix": _kept(finding.get("adjusted"), lang)}


def _kept(adjusted: Any, lang: str) -> str:
    """"校正后保留 40% 的变动" of a finding's case-mix adjusted view; "" without one."""
    if not isinstance(adjusted, Mapping):
        return ""
    try:
        kept = float(adjusted.get("kept"))
    except (TypeError, ValueError):
        return ""
    return t("alerts.case_mix.kept", lang, share=f"{max(kept, 0.0) * 100:.0f}%")


def knock_ons(alert: Mapping[str, Any], names: Mapping[tuple[str, str], str], lang: str) -> html.Div | None:
    """The "knock-on effects" section: each finding this alert's cause explains, with its figures
    and why it belongs here; None when there are none."""
    found = [c for c in alert.get("consequences") or [] if isinstance(c, Mapping)]
    if not found:
        return None
    sep = "，" if lang == "zh" else ", "
    low = (lambda x: x) if lang == "zh" else str.lower  # noqa: E731 - "41.2%, expected 33.0%" mid-sentence
    items = []
    for c in found:
        f = knock_on_facts(c, alert, names, lang)
        head = [html.Span(f["level"], className=f"badge lvl-badge lvl-{f['level_code']} me-2") if f["level"] else None,
                html.Strong(f["indicator"]), *([f" · {f['entity']}"] if f["entity"] else []),
                *([f" · {f['period']}"] if f["period"] else [])]
        items.append(html.Li([
            html.Div([p for p in head if p is not None]),
            html.Div(f"{t('alerts.observed', lang)} {f['observed']}{sep}{low(t('alerts.expected', lang))} "
                     f"{f['expected']}{sep}{low(t('alerts.deviation', lang))} {f['deviation']}"
                     + (f"{sep}{f['case_mix']}" if f["case_mix"] else ""), className="knock-on-figures"),
            html.Div(f["why"], className="knock-on-why"),
        ], className="knock-on"))
    return html.Div([html.H3(t("alerts.knock_ons", lang)), html.P(t("alerts.knock_ons_help", lang), className="note"),
                     html.Ul(items, className="knock-ons")], id="al-knock-ons")


def case_mix_lines(alert: Mapping[str, Any], lang: str) -> dict[str, str] | None:
    """The case-mix adjusted view of a per-case money or stay alert, in words: the raw figure and
    its move, the adjusted one (cost or time consumption index) and its move, the share of the move
    left, and what that means; None for an alert without one."""
    adj = alert.get("adjusted")
    if not isinstance(adj, Mapping) or adj.get("indicator") not in INDICATORS:
        return None
    from data_layer.alerts.detect import Params  # the bar the detector kept the alert by

    ind, aind = INDICATORS[alert["indicator"]], INDICATORS[str(adj["indicator"])]
    raw = t("alerts.case_mix.figures", lang, indicator=ind.name(lang),
            observed=alert_value(alert["observed"], alert.get("kind"), ind.unit, lang),
            expected=alert_value(alert["expected"], alert.get("kind"), ind.unit, lang),
            move=format_deviation(alert["observed"], alert["expected"], alert["deviation"], ind.unit, lang, 1,
                                  kind=alert.get("kind")))
    adjusted = t("alerts.case_mix.figures", lang, indicator=aind.name(lang),
                 observed=format_indicator(adj.get("observed"), aind.unit, lang),
                 expected=format_indicator(adj.get("expected"), aind.unit, lang),
                 move=format_deviation(adj.get("observed"), adj.get("expected"), adj.get("deviation"), aind.unit,
                                       lang, 1))
    try:
        kept = float(adj.get("kept"))
    except (TypeError, ValueError):
        kept = 1.0
    if kept > Params().case_mix_explains:
        reading = t("alerts.case_mix.reading_kept", lang)
    else:
        reading = t("alerts.case_mix.reading_index", lang, adjusted=_lower_first(aind.name(lang), lang),
                    z=f"{float(adj.get('z') or 0):+.1f}")
    return {"raw": raw, "adjusted": adjusted, "kept": _kept({"kept": kept}, lang),
            "reading": reading}


def case_mix(alert: Mapping[str, Any], lang: str) -> html.Div | None:
    """The "case-mix adjusted view" block of a charge-per-discharge or stay alert; None without one."""
    lines = case_mix_lines(alert, lang)
    if lines is None:
        return None
    colon = "：" if lang == "zh" else ": "
    return html.Div([
        html.H3(t("alerts.case_mix", lang)),
        html.Ul([html.Li([html.Strong(t("alerts.case_mix.raw", lang) + colon), lines["raw"]]),
                 html.Li([html.Strong(t("alerts.case_mix.adjusted", lang) + colon), lines["adjusted"]])]),
        html.P(html.Strong(lines["kept"]), className="case-mix-kept"),
        html.P(lines["reading"]),
        html.P(t("alerts.case_mix.help", lang), className="note"),
    ], id="al-case-mix", className="case-mix")


def detail(alert: Mapping[str, Any], lang: str, *, dept_name: str, owner: str, action: str, figure: go.Figure,
           rows: Any, export: Any, note_kinds: Sequence[str], statuses: Sequence[str],
           names: Mapping[tuple[str, str], str] | None = None) -> html.Div:
    """One alert: what was seen against what was expected, the suggested action, its case-mix
    adjusted view and knock-on effects (when it has them), its series, its drivers, its rows (a
    grid), its notes and the workflow's buttons. `names`: {(entity type, id): name} of the groups
    and DRG groups it or its knock-ons name."""
    names = names or {}
    ind = indicator_of(alert["indicator"])
    about = entity_text(alert.get("entity_type"), alert.get("entity_id"), names, lang)
    colon = "：" if lang == "zh" else ": "
    named = lambda d: (d.get("name_zh" if lang == "zh" else "name_en")  # noqa: E731
                       or names.get((d["type"], str(d["id"]))) or d["id"])
    drivers = [html.Li(f"{named(d)} ({t('driver.' + d['type'], lang)}) · "
                       f"{d.get('contribution', 0) * 100:.0f}%") for d in alert["drivers"]]
    notes = [html.Li([html.Strong(f"{t('note.' + n['kind'], lang)} "),
                      f"{note_text(n, statuses, lang)} — {n['username'] or ''}, {str(n['at'])[:16]}"]) for n in alert["notes"]]
    status = alert["status"]
    return html.Div([
        html.H2([html.Span(t(f"level.{alert['level']}", lang), className=f"badge lvl-badge lvl-{alert['level']} me-2"),
                 f"{dept_name} · {ind.name(lang)}" + (f" · {about}" if about else "")]),
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
        *[part for part in (case_mix(alert, lang), knock_ons(alert, names, lang)) if part is not None],
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
