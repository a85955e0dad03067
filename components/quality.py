"""The data-quality page's pieces (pages/data_quality.py) and the "data quality" mark beside the
freshness stamp: the latest run's findings as a grid, what could not be checked, the trend of each
check over the last runs, the open data-quality alerts. Pure: frames in, components out."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from plotly.subplots import make_subplots

from data_layer.quality import CHECKS, GROUPS

from .format import format_amount
from .grid import Column, data_grid, level_badge_column
from .i18n import CATALOG, t
from .palette import DESK, LEVEL_COLOURS

LEVEL_ORDER = {"red": 0, "orange": 1, "yellow": 2}
# The fact tables each page shows figures from: the mark beside its freshness stamp lights when the
# latest run found something red in one of them (or in the load log, which every page's stamp reads).
ALL_FACTS = ("fact_inpatient_case", "fact_outpatient_daily", "fact_ward_daily", "fact_equipment_daily",
             "fact_dept_cost_monthly", "fact_budget_monthly", "fact_staff_monthly")
PAGE_TABLES: dict[str, tuple[str, ...]] = {
    "home": ("fact_inpatient_case", "fact_outpatient_daily", "fact_ward_daily", "fact_dept_cost_monthly"),
    "department": ALL_FACTS,
    "revenue": ("fact_inpatient_case", "fact_outpatient_daily"),
    "costs": ("fact_dept_cost_monthly", "fact_staff_monthly", "fact_inpatient_case"),
    "drg": ("fact_inpatient_case",),
    "equipment": ("fact_equipment_daily",),
    "budget": ("fact_budget_monthly",),
    "portfolio": ("fact_inpatient_case", "fact_outpatient_daily", "fact_dept_cost_monthly"),
    "projects": ("fact_inpatient_case", "fact_outpatient_daily", "fact_ward_daily"),
    "reports": ALL_FACTS,
    "wall": ("fact_inpatient_case", "fact_outpatient_daily", "fact_ward_daily"),  # the leadership screens
}


def page_is_red(page: str, red_tables: set[str]) -> bool:
    """Whether the latest run's red findings touch a table `page` shows (any page: the load log)."""
    return bool(red_tables & {"meta_load", *PAGE_TABLES.get(page, ALL_FACTS)})


def quality_mark(lang: str) -> dcc.Link:
    """The small mark beside the freshness stamp, linking to the data-quality page."""
    return dcc.Link(f"⚠ {t('quality.mark', lang)}", href="/data-quality", className="dq-mark badge lvl-badge lvl-red ms-2",
                    id="dq-mark", title=t("quality.mark.title", lang))


def table_name(table: str, lang: str) -> str:
    key = f"quality.table.{table}"
    return t(key, lang) if key in CATALOG else table


def check_name(code: str, lang: str) -> str:
    key = f"quality.check.{code}"
    return t(key, lang) if key in CATALOG else code


def _pct(v: Any) -> str:
    try:
        return f"{float(v) * 100:.1f}%"
    except (TypeError, ValueError):
        return "—"


def summary(check: str, detail: Mapping[str, Any], examples: list[dict[str, Any]], lang: str) -> str:
    """One line saying what a finding found, from its recorded figures."""
    d = dict(detail or {})
    if check == "freshness_table":
        if d.get("last") is None:
            return t("quality.sum.freshness_table_empty", lang)
        if "through" not in d:
            return t("quality.sum.freshness_table_month", lang, last=str(d["last"])[:7], others=str(d.get("others"))[:7])
        return t("quality.sum.freshness_table", lang, last=d["last"], through=d["through"])
    if check in ("missing_doctor", "missing_group", "grouping_rate"):
        return t("quality.sum.share", lang, cases=d.get("cases", "—"), share=_pct(d.get("share")), usual=_pct(d.get("usual")))
    if check in ("ambiguous_group", "surgical_in_medical_group", "surgical_group_no_procedure"):
        return t("quality.sum.share_plain", lang, cases=d.get("cases", "—"), share=_pct(d.get("share")))
    if check == "outpatient_gap":
        return t("quality.sum.days", lang, n=len(examples))
    if check == "device_no_rows":
        return t("quality.sum.devices_stopped", lang, since=d["since"]) if d.get("since") \
            else t("quality.sum.devices_never", lang)
    if check == "component_sums":
        return t("quality.sum.component_sums", lang, total=t(f"quality.ex.{d.get('total')}", lang)
                 if f"quality.ex.{d.get('total')}" in CATALOG else d.get("total"))
    if check == "occupancy_limit":
        return t("quality.sum.occupancy_limit", lang, limit=_pct(d.get("limit")))
    if check == "short_load":
        return t("quality.sum.short_load", lang, day=d.get("day"), rows=d.get("rows"),
                 usual=format_amount(float(d.get("usual") or 0), lang))
    key = f"quality.sum.{check}"
    if check == "coding_doctors":
        return t(key, lang, doctors=d.get("doctors", len(examples)))
    return t(key, lang) if key in CATALOG else ""


def examples_text(examples: list[dict[str, Any]], lang: str, limit: int = 3) -> str:
    """A few example rows in words: "病例 IP00013997, 出院日期 2026-11-20; …"."""
    sep = "，" if lang == "zh" else ", "
    out = []
    for e in examples[:limit]:
        parts = []
        for k, v in e.items():
            if v is None or k in ("name_en",) or (k == "name_zh" and lang != "zh"):
                continue
            if k == "reason":
                v = t(f"quality.reason.{v}", lang) if f"quality.reason.{v}" in CATALOG else v
            if k in ("share", "mean_occupancy", "peak_occupancy"):
                v = _pct(v)
            label = t(f"quality.ex.{k}", lang) if f"quality.ex.{k}" in CATALOG else k
            parts.append(f"{label} {v}")
        out.append(sep.join(parts))
    return ("；" if lang == "zh" else "; ").join(out)


def findings_frame(df: pd.DataFrame, dept_names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """The findings as the grid's rows, most severe first."""
    if df.empty:
        return pd.DataFrame(columns=["id", "severity", "level", "level_name", "group", "check", "table", "dept",
                                     "count", "summary", "examples"])
    df = df.assign(_o=df["level"].map(LEVEL_ORDER), _c=df["check_code"].map({c: i for i, c in enumerate(CHECKS)}))
    df = df.sort_values(["_o", "_c", "table_name", "dept_id"], kind="stable", na_position="first")
    return pd.DataFrame({
        "id": df["id"].astype(int),
        "severity": df["_o"].astype(int),
        "level": df["level"],
        "level_name": [t(f"level.{lv}", lang) for lv in df["level"]],
        "group": [t(f"quality.group.{CHECKS[c][0]}", lang) if c in CHECKS else c for c in df["check_code"]],
        "check": [check_name(c, lang) for c in df["check_code"]],
        "table": [table_name(x, lang) for x in df["table_name"]],
        "dept": [dept_names.get(d, d) if isinstance(d, str) and d else t("quality.hospital", lang) for d in df["dept_id"]],
        "count": df["count"].astype(int),
        "summary": [summary(c, d, e, lang) for c, d, e in zip(df["check_code"], df["detail"], df["examples"], strict=True)],
        "examples": [examples_text(e, lang) for e in df["examples"]],
    })


def findings_grid(df: pd.DataFrame, dept_names: Mapping[str, str], lang: str) -> Any:
    """The latest run's findings: level (its coloured badge), kind, check, table, department, count,
    what was found and a few example rows."""
    rows = findings_frame(df, dept_names, lang)
    if rows.empty:
        return html.P(t("quality.no_findings", lang), className="note", id="dq-no-findings")
    cols = [Column("severity", t("quality.col.level", lang), "integer", pinned=True, width=96),
            Column("group", t("quality.col.group", lang)), Column("check", t("quality.col.check", lang), width=290),
            Column("table", t("quality.col.table", lang)), Column("dept", t("quality.col.dept", lang)),
            Column("count", t("quality.col.count", lang), "integer", width=90),
            Column("summary", t("quality.col.summary", lang), width=340),
            Column("examples", t("quality.col.examples", lang), width=520)]
    grid = data_grid(rows, cols, lang, "dq-findings", row_id="id", hidden=("level", "level_name"),
                     class_name="dq-grid", visible_rows=16)
    return level_badge_column(grid)


def not_checked_reason(item: Mapping[str, Any], lang: str) -> str:
    reason = str(item.get("reason") or "")
    check = str(item.get("check") or "")
    if check in ("ambiguous_group", "missing_main_diagnosis"):
        return t(f"quality.nc.{check}", lang)
    if reason.startswith("table missing: "):
        return t("quality.nc.table_missing", lang, tables=reason.removeprefix("table missing: "))
    if reason.startswith("warehouse not reachable"):
        return t("quality.nc.unreachable", lang)
    if reason.startswith("no load recorded"):
        return t("quality.nc.no_load", lang)
    return t("quality.nc.failed", lang)


def not_checked_list(items: list[Mapping[str, Any]], lang: str) -> html.Section | None:
    """What the run could not check, and why, in words (the error itself as a tooltip)."""
    if not items:
        return None
    colon = "：" if lang == "zh" else ": "
    def line(n: Mapping[str, Any]) -> html.Li:
        said = not_checked_reason(n, lang)
        raw = [html.Code(str(n.get("reason") or ""), className="verbatim ms-2")] \
            if said == t("quality.nc.failed", lang) else []  # the error as the run recorded it, for the IT centre
        return html.Li([f"{check_name(str(n.get('check')), lang)}{colon}{said}", *raw])

    lis = [line(n) for n in items]
    return html.Section([html.H2(t("quality.not_checked", lang)), html.Ul(lis, className="dq-not-checked")],
                        id="dq-not-checked")


def run_line(run: Mapping[str, Any], counts: Mapping[str, int], lang: str) -> html.Div:
    """When the latest run ran, how far the data reached, whether every check ran, and the counts."""
    started = pd.Timestamp(run["started_at"]).strftime("%Y-%m-%d %H:%M")
    head = t("quality.run", lang, started=started, through=run["through"]) if run.get("through") \
        else t("quality.run_no_data", lang, started=started)
    badges = [html.Span(f"{t('level.' + lv, lang)} {counts.get(lv, 0)}", className=f"badge lvl-badge lvl-{lv} me-1")
              for lv in ("red", "orange", "yellow")]
    return html.Div([html.P([head, " · ", t(f"quality.status.{run['status']}", lang)], className="note mb-1"),
                     html.Div([*badges, html.Span(t("quality.counts_scope", lang), className="note ms-1")])],
                    id="dq-run", className="dq-run")


def trend_figure(trend: pd.DataFrame, runs: pd.DataFrame, lang: str) -> go.Figure:
    """One small chart per check found in the last runs: the count it found at each run (0 where a
    run found nothing), coloured by the check's group."""
    checks = [c for c in CHECKS if c in set(trend["check_code"])] if not trend.empty else []
    fig: go.Figure
    if not checks or runs.empty:
        fig = go.Figure()
        fig.add_annotation(text=t("quality.trend.none", lang), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper", font={"size": 14, "color": DESK.neutral})
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.update_layout(height=160, template="hospdash", margin={"l": 10, "r": 10, "t": 10, "b": 10})
        return fig
    ncols = min(4, len(checks))
    nrows = -(-len(checks) // ncols)
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[check_name(c, lang) for c in checks],
                        horizontal_spacing=0.06, vertical_spacing=0.16 if nrows > 1 else 0.1)
    x = [pd.Timestamp(s).strftime("%m-%d %H:%M") for s in runs["started_at"]]
    colours = [LEVEL_COLOURS["red"], LEVEL_COLOURS["orange"], DESK.good, DESK.neutral, LEVEL_COLOURS["yellow"]]
    for i, code in enumerate(checks):
        mine = trend[trend["check_code"] == code].set_index("run_id")["count"]
        y = [int(mine.get(r, 0)) for r in runs["id"]]
        colour = colours[GROUPS.index(CHECKS[code][0]) % len(colours)]
        row, col = i // ncols + 1, i % ncols + 1
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=check_name(code, lang), showlegend=False,
                                 line={"color": colour, "width": 2}, marker={"size": 5},
                                 hovertemplate="%{x}: %{y:,}<extra></extra>"), row=row, col=col)
        top = max(y) if y else 0
        # whole counts only: a small count's axis steps by one (never "0, 1, 1")
        fig.update_yaxes(range=[0, max(top, 1) * 1.15], dtick=1 if top <= 4 else None, row=row, col=col)
    fig.update_xaxes(type="category", showticklabels=False)
    fig.update_yaxes(tickformat=",d")
    fig.update_annotations(font={"size": 13})
    fig.update_layout(height=170 * nrows + 30, template="hospdash", margin={"l": 36, "r": 10, "t": 36, "b": 10},
                      font={"family": "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"})
    return fig


def owner_text(owner: str, lang: str, people: Mapping[str, str] | None = None) -> str:
    """Who owns the data-quality alerts, in words: a role by its name, a user by their display name."""
    if owner.startswith("role:"):
        return t("quality.owner.role", lang, role=t(f"role.{owner[5:]}", lang))
    return (people or {}).get(owner, owner)


def alerts_grid(df: pd.DataFrame, dept_names: Mapping[str, str], people: Mapping[str, str], lang: str) -> Any:
    """The open data-quality alerts in the reader's scope (acted on in the alerts page's workflow)."""
    if df.empty:
        return html.P(t("quality.alerts.none", lang), className="note", id="dq-alerts-none")
    rows = pd.DataFrame({
        "id": df["id"].astype(int),
        "severity": df["level"].map(LEVEL_ORDER).astype(int),
        "level": df["level"], "level_name": [t(f"level.{lv}", lang) for lv in df["level"]],
        "check": [check_name(c, lang) for c in df["indicator"]],
        "table": [table_name(x or "", lang) for x in df["entity_id"]],
        "dept": [dept_names.get(d, d) if d else t("quality.hospital", lang) for d in df["dept_id"]],
        "date": [str(d)[:10] for d in df["period_end"]],
        "status": [t(f"status.{s}", lang) for s in df["status"]],
        "owner": [owner_text(o, lang, people) if isinstance(o, str) and o else "—" for o in df["owner"]],
    })
    cols = [Column("severity", t("quality.col.level", lang), "integer", pinned=True, width=96),
            Column("check", t("quality.col.check", lang), width=230), Column("table", t("quality.col.table", lang)),
            Column("dept", t("quality.col.dept", lang)), Column("date", t("quality.col.date", lang)),
            Column("status", t("quality.col.status", lang)), Column("owner", t("quality.col.owner", lang))]
    grid = data_grid(rows, cols, lang, "dq-alerts", row_id="id", hidden=("level", "level_name"), visible_rows=8)
    return level_badge_column(grid, tooltips=False)
