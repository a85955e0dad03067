"""The revenue drill-down's grids and its case detail (收入分析): pure functions from the data
layer's frames to components. The grids are the shared `components.grid.data_grid`."""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.charts import figure
from components.format import format_amount, format_change
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import judge_change, trend_class
from data_layer.registry import INDICATORS, Indicator
from data_layer.schema import CASE_COST_PARTS as COST_PARTS
from data_layer.schema import CHARGE_PARTS as PARTS
from data_layer.schema import OUTPATIENT_PARTS as OP_PARTS
from data_layer.schema import UNASSIGNED

CASES_GRID = {"type": "wsr-cases-grid", "index": 0}  # pattern ids: a callback listens whether or not it is shown
DAYS_GRID = {"type": "wsr-days-grid", "index": 0}
LEVEL_GRID = {"type": "wsr-level-grid", "index": 0}
TOTAL_ROW = "_total"  # the row id of the pinned total line (never a member)
REVENUE = INDICATORS["revenue_total"]  # the level grid's changes are of revenue: judged by its rule
LEVEL_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "total": ("money", {"compact": True}), "share": ("percent", {}), "yoy": ("change", {"indicator": REVENUE}),
    "mom": ("change", {"indicator": REVENUE}), "op_value": ("money", {"compact": True}),
    "ip_value": ("money", {"compact": True}), "visits": ("integer", {}), "per_visit": ("money", {"decimals": 0}),
    "cases": ("integer", {}), "bed_days": ("integer", {}), "per_case": ("money", {"decimals": 0}),
    "per_bed_day": ("money", {"decimals": 0}), "drug_share": ("percent", {}), "material_share": ("percent", {})}


def column_label(col: str, lang: str) -> str:
    """The header of a case or doctor-day column (also the export's header)."""
    for prefix in ("charge_", "revenue_"):
        if col.startswith(prefix) and col.removeprefix(prefix) in PARTS:
            return t(f"ws.revenue.part.{col.removeprefix(prefix)}", lang)
    special = {"charge_total": "ws.revenue.charge_total", "revenue_total": "ws.revenue.total", "drg_code": "ws.revenue.drg",
               "ward_id": "ws.revenue.ward", "group_id": "ws.revenue.group", "doctor_id": "ws.revenue.doctor",
               "dept_id": "ws.revenue.department", "drg_zh": "ws.revenue.drg_name", "drg_en": "ws.revenue.drg_name",
               "drg_name": "ws.revenue.drg_name"}
    return t(special.get(col, f"ws.revenue.{col}"), lang)


def case_grid(cases: pd.DataFrame, lang: str) -> Any:
    """The inpatient cases of a place, one virtualised row each; a click on a row opens its detail."""
    df = cases.copy()
    df["drg_name"] = df["drg_zh" if lang == "zh" else "drg_en"].where(df["drg_code"].notna(), t("ws.revenue.ungrouped", lang))
    money = ["charge_total", *[f"charge_{p}" for p in PARTS], "drg_payment", "cost_total"]
    cols = [Column("case_id", column_label("case_id", lang), pinned=True, width=118),
            Column("discharge_date", column_label("discharge_date", lang), "date"),
            Column("admit_date", column_label("admit_date", lang), "date"),
            Column("los_days", column_label("los_days", lang), "integer", width=92),
            Column("drg_code", column_label("drg_code", lang), width=96),
            Column("drg_name", column_label("drg_name", lang), width=200),
            *[Column(c, column_label(c, lang), "money") for c in money]]
    return data_grid(df, cols, lang, CASES_GRID, row_id="case_id", selectable=True, class_name="wsr-cases-grid")


def day_grid(days: pd.DataFrame, lang: str) -> Any:
    """The outpatient doctor-days of a place, one virtualised row each."""
    df = days.copy()
    df["row"] = df["date"].astype(str) + "|" + df["doctor_id"].astype(str) + "|" + df["dept_id"].astype(str)
    cols = [Column("date", column_label("date", lang), "date", pinned=True, width=120),
            Column("visits", column_label("visits", lang), "integer"),
            Column("emergency_visits", column_label("emergency_visits", lang), "integer"),
            Column("revenue_total", column_label("revenue_total", lang), "money"),
            *[Column(f"revenue_{p}", column_label(f"revenue_{p}", lang), "money") for p in OP_PARTS]]
    return data_grid(df, cols, lang, DAYS_GRID, row_id="row", class_name="wsr-days-grid")


def level_grid(df: pd.DataFrame, cols: list[str], heads: dict[str, str], name_head: str, total: dict[str, Any],
               lang: str) -> Any:
    """The members of the level below (departments, wards, groups or doctors), one row each, with their
    sum pinned underneath; a click on a row drills into that member (row id = its key)."""
    columns = [Column("name", name_head, pinned=True, width=150),
               *[Column(c, heads[c], LEVEL_KINDS[c][0], **LEVEL_KINDS[c][1]) for c in cols]]  # type: ignore[arg-type]
    return data_grid(df, columns, lang, LEVEL_GRID, row_id="key", total={**total, "key": TOTAL_ROW},
                     class_name="wsr-level-grid-table")


# ---- the case detail -------------------------------------------------------------------------------

def _money(v: Any, lang: str) -> str:
    return "—" if v is None or v != v else f"{float(v):,.2f}{' 元' if lang == 'zh' else ' yuan'}"


def _diff(v: float, base: float, lang: str) -> str:
    """The difference against a reference, as amount and percentage: +1,234.00 (+12.3%)."""
    if base != base or v != v:
        return "—"
    sign = "+" if v - base > 0.005 else ""
    rel = format_change((v - base) / abs(base)) if base else "—"
    return f"{sign}{v - base:,.2f} ({rel})"


def _cls(v: float, base: float, ind: Indicator) -> str:
    """A difference against a reference coloured by the one rule for `ind`, on its shown
    relative change (a difference that reads +0.0% is neutral)."""
    if base != base or v != v or not base:
        return "num"
    return "num " + trend_class(judge_change(ind, (v - base) / abs(base)))


def _fact(label: str, value: Any, fact_id: str | None = None) -> list[Any]:
    return [html.Div([html.Dt(label), html.Dd(value, id=fact_id) if fact_id else html.Dd(value)], className="wsr-fact")]


def _name(row: pd.Series, stem: str, lang: str) -> str:
    v = row.get(f"{stem}_{'zh' if lang == 'zh' else 'en'}")
    return t("ws.revenue.unassigned", lang) if v is None or v != v else str(v)


def _stay(row: pd.Series, lang: str) -> str:
    los, ref = float(row["los_days"]), float(row["ref_los_days"])
    days = t("ws.revenue.case.days", lang, n=f"{los:,.0f}")
    if ref != ref or not ref:
        return days
    return t("ws.revenue.case.stay_vs_ref", lang, days=days, ref=f"{ref:,.1f}", ratio=f"{los / ref:.2f}")


def _component_table(row: pd.Series, peers: pd.Series | None, parts: tuple[str, ...], stem: str, total: str,
                     lang: str, table_id: str) -> html.Table:
    """Each component of the case: amount, share of the case's total, the DRG group's average in the
    department and the difference."""
    head = html.Thead(html.Tr([html.Th(t(f"ws.revenue.case.{stem}_part", lang)), html.Th(t("ws.revenue.case.this", lang)),
                               html.Th(t("ws.revenue.share", lang)), html.Th(t("ws.revenue.case.group_avg", lang)),
                               html.Th(t("ws.revenue.case.vs_avg", lang))]))
    whole = float(row[total])
    # a charge above the group's average weighs on the patient, a cost above it on the margin
    ind = INDICATORS["charge_per_discharge" if stem == "charge" else "drg_cost"]
    body = []
    for p in (*parts, "total"):
        col = total if p == "total" else f"{stem}_{p}"
        v = float(row[col])
        avg = float(peers[col]) if peers is not None else float("nan")
        label = t("ws.revenue.sum", lang) if p == "total" else \
            t(f"ws.revenue.part.{p}" if stem == "charge" else f"ws.revenue.cost_part.{p}", lang)
        cells = [html.Td(_money(v, lang), className="num"),
                 html.Td(f"{v / whole * 100:.1f}%" if whole else "—", className="num"),
                 html.Td(_money(avg, lang), className="num"), html.Td(_diff(v, avg, lang), className=_cls(v, avg, ind))]
        body.append(html.Tr([html.Th(label), *cells], className="wsr-total" if p == "total" else None))
    return html.Table([head, html.Tbody(body)], className="table table-sm dw-table wsr-case-table", id=table_id)


def _balance_table(row: pd.Series, lang: str) -> html.Table:
    """The case against its group: charge vs the group's reference charge, payment vs charge, payment vs cost."""
    charge, pay, cost = float(row["charge_total"]), float(row["drg_payment"]), float(row["cost_total"])
    ref = float(row["ref_charge_per_case"])
    lines = [("ref_charge", charge, ref, t("ws.revenue.case.charge_vs_ref", lang), INDICATORS["charge_per_discharge"]),
             ("payment", pay, charge, t("ws.revenue.case.payment_vs_charge", lang), INDICATORS["drg_margin"]),
             ("margin", pay, cost, t("ws.revenue.case.payment_vs_cost", lang), INDICATORS["drg_margin"])]
    head = html.Thead(html.Tr([html.Th(t("ws.revenue.case.compare", lang)), html.Th(t("ws.revenue.case.this", lang)),
                               html.Th(t("ws.revenue.case.against", lang)), html.Th(t("ws.revenue.case.difference", lang))]))
    body = [html.Tr([html.Th(label), html.Td(_money(v, lang), className="num"), html.Td(_money(base, lang), className="num"),
                     html.Td(_diff(v, base, lang), className=_cls(v, base, ind), id=f"wsr-case-{key}")])
            for key, v, base, label, ind in lines]
    return html.Table([head, html.Tbody(body)], className="table table-sm dw-table wsr-case-table",
                      id="wsr-case-balance")


def case_detail(case: pd.DataFrame, peers: pd.DataFrame | None, lang: str) -> Any:
    """The detail of one case: who and where, the stay against the group's reference stay, the DRG
    group, each charge and cost component against the group's average in the department, and the
    payment against the charges and the cost. `case` is the data layer's one-row frame."""
    if case.empty:
        return html.Div(t("ws.revenue.case.not_found", lang), className="alert alert-warning", role="alert",
                        id="wsr-case-missing")
    row = case.iloc[0]
    peer = peers.iloc[0] if peers is not None and not peers.empty and float(peers.iloc[0]["cases"]) > 0 else None
    grouped = row["drg_code"] is not None and row["drg_code"] == row["drg_code"]
    drg = (f"{row['drg_code']} {_name(row, 'drg', lang)}" if grouped else t("ws.revenue.ungrouped", lang))
    title = row.get("doctor_title")
    doctor = str(row["doctor_name"]) if row["doctor_name"] == row["doctor_name"] and row["doctor_name"] else \
        t("ws.revenue.unassigned", lang)
    if isinstance(title, str) and title:
        doctor = f"{doctor}（{t(f'ws.revenue.title.{title}', lang)}）" if lang == "zh" else \
            f"{doctor} ({t(f'ws.revenue.title.{title}', lang)})"
    facts = [
        *_fact(t("ws.revenue.case.drg", lang), drg, "wsr-case-drg"),
        *_fact(t("ws.revenue.case.weight", lang), f"{float(row['drg_weight']):.2f}" if grouped else "—"),
        *_fact(t("ws.revenue.case.stay", lang), f"{row['admit_date']} — {row['discharge_date']}"),
        *_fact(t("ws.revenue.case.los", lang), _stay(row, lang), "wsr-case-los"),
        *_fact(t("ws.revenue.department", lang), _name(row, "dept", lang)),
        *_fact(t("ws.revenue.ward", lang), _name(row, "ward", lang)),
        *_fact(t("ws.revenue.group", lang), _name(row, "group", lang), "wsr-case-group"),
        *_fact(t("ws.revenue.doctor", lang), doctor, "wsr-case-doctor"),
        *_fact(t("ws.revenue.case.insurance", lang), t(f"ws.revenue.insurance.{row['insurance_type']}", lang)),
        *_fact(t("ws.revenue.case.surgery", lang),
               t("ws.revenue.case.no_surgery", lang) if not int(row["surgery_level"]) else
               t("ws.revenue.case.surgery_level", lang, n=int(row["surgery_level"]))
               + (t("ws.revenue.case.day_surgery", lang) if bool(row["is_day_surgery"]) else "")),
        *_fact(t("ws.revenue.case.discharge", lang), t(f"ws.revenue.discharge.{row['discharge_status']}", lang)),
    ]
    peer_note = t("ws.revenue.case.peers", lang, n=f"{float(peer['cases']):,.0f}") if peer is not None else \
        t("ws.revenue.case.no_peers", lang)
    return html.Div([
        html.H3(t("ws.revenue.case.title", lang, case=row["case_id"]), className="wsr-level-title", id="wsr-case-title"),
        html.Dl(facts, className="wsr-case-facts"),
        html.Div(_balance_table(row, lang), className="table-scroll"),
        html.Div([
            html.Div([html.H4(t("ws.revenue.case.charges", lang)),
                      html.Div(_component_table(row, peer, PARTS, "charge", "charge_total", lang, "wsr-case-charges"),
                               className="table-scroll")]),
            html.Div([html.H4(t("ws.revenue.case.costs", lang)),
                      html.Div(_component_table(row, peer, COST_PARTS, "cost", "cost_total", lang, "wsr-case-costs"),
                               className="table-scroll")]),
        ], className="wsr-case-grid"),
        html.P(peer_note, className="note"),
        html.P(t("ws.revenue.case.no_diagnosis", lang), className="note"),
    ], className="wsr-case-detail-body")


# ---- the page's sections ----------------------------------------------------------------------------

COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999", "#000000")
BAR_CAP = 30  # members drawn as bars; the grid lists them all
STRUCTURE_GRID = "wsr-structure-table"
LEVEL_HEADS = {"total": "ws.revenue.total", "share": "ws.revenue.share", "yoy": "ws.revenue.yoy",
               "mom": "ws.revenue.mom", "op_value": "ws.revenue.op_total", "ip_value": "ws.revenue.ip_total",
               "visits": "ws.revenue.visits", "per_visit": "ws.revenue.per_visit", "cases": "ws.revenue.cases",
               "bed_days": "ws.revenue.bed_days", "per_case": "ws.revenue.per_case",
               "per_bed_day": "ws.revenue.per_bed_day", "drug_share": "ws.revenue.drug_share",
               "material_share": "ws.revenue.material_share"}
STRUCTURE_HEADS = {"this": "ws.revenue.total", "share": "ws.revenue.share", "share_yoy": "ws.revenue.share_yoy",
                   "yoy": "ws.revenue.yoy", "mom": "ws.revenue.mom", "per_case": "ws.revenue.per_case",
                   "per_bed_day": "ws.revenue.per_bed_day", "per_visit": "ws.revenue.per_visit"}
# each card's registry indicator, whose rule (data_layer.verdict) colours its changes; None: not judged
CARD_INDICATORS: dict[str, str | None] = {
    "total": "revenue_total", "op_value": "outpatient_revenue", "ip_value": "inpatient_revenue", "cases": "discharges",
    "bed_days": "bed_days", "per_case": "charge_per_discharge", "per_bed_day": None, "visits": "outpatient_visits",
    "per_visit": "charge_per_visit"}


def _trend(change: float, col: str, value: float | None = None) -> str:
    """The class colouring a card's change: the one rule for the card's indicator."""
    code = CARD_INDICATORS.get(col)
    return trend_class(judge_change(INDICATORS[code], change, value) if code else "neutral")


def _amount(v: float, lang: str) -> str:
    return format_amount(v, lang, "元" if lang == "zh" else "yuan")


def _count(v: float, lang: str) -> str:
    return format_amount(v, lang) if v == v else "—"


def _change(value: float, base: float) -> float:
    return (value - base) / abs(base) if base == base and base else float("nan")


def _share(part: float, whole: float) -> float:
    return float(part) / whole if whole else float("nan")


def level_columns(sources: tuple[bool, bool], stream: str) -> list[str]:
    """The level grid's figure columns for the stream at a place reading (inpatient?, outpatient?) facts."""
    use_ip, use_op = sources
    cols = ["total", "share", "yoy", "mom"]
    if stream == "all" and use_op:
        cols += ["op_value", "ip_value"]
    if use_op:
        cols += ["visits", "per_visit"]
    if use_ip:
        cols += ["cases", "bed_days", "per_case", "per_bed_day"]
    if stream != "bed":
        cols += ["drug_share"] + (["material_share"] if stream != "outpatient" else [])
    return cols


def summary_cards(tot: dict[str, pd.Series], sources: tuple[bool, bool], stream: str,
                  periods: tuple[Any, Any, Any], lang: str) -> list[Any]:
    """The place's cards (revenue, volumes, per case / bed-day / visit) with YoY and MoM, coloured by
    each card's indicator, and the periods compared."""
    use_ip, use_op = sources
    cards: list[tuple[str, str, str]] = [("total", "money", "ws.revenue.total")]
    if stream == "all" and use_op:
        cards += [("op_value", "money", "ws.revenue.op_total"), ("ip_value", "money", "ws.revenue.ip_total")]
    if use_ip:
        cards += [("cases", "count", "ws.revenue.cases"), ("bed_days", "count", "ws.revenue.bed_days"),
                  ("per_case", "money", "ws.revenue.per_case"), ("per_bed_day", "money", "ws.revenue.per_bed_day")]
    if use_op:
        cards += [("visits", "count", "ws.revenue.visits"), ("per_visit", "money", "ws.revenue.per_visit")]
    now, prev, ago = tot["this"], tot["previous"], tot["year_ago"]
    out = []
    for col, kind, label in cards:
        v = float(now[col])
        yoy, mom = _change(v, float(ago[col])), _change(v, float(prev[col]))
        out.append(html.Div([
            html.Div(t(label, lang), className="stat-label"),
            html.Div(_amount(v, lang) if kind == "money" else _count(v, lang), className="stat-value",
                     id=f"wsr-card-{col}"),
            html.Div([html.Span(f"{t('ws.revenue.yoy', lang)} {format_change(yoy)}", className=_trend(yoy, col, v)), " · ",
                      html.Span(f"{t('ws.revenue.mom', lang)} {format_change(mom)}", className=_trend(mom, col, v))],
                     className="stat-change"),
        ], className="stat-card"))
    cur, prv, yago = periods
    notes = [html.P(t("ws.revenue.period_note", lang, start=cur.start, end=cur.end,
                      prev=f"{prv.start}—{prv.end}", ago=f"{yago.start}—{yago.end}"), className="note")]
    if use_ip:
        notes.append(html.P(t("ws.revenue.bedday_note", lang), className="note"))
    return [html.Div(out, className="stat-grid"), *notes]


def structure_section(df: pd.DataFrame, tot: dict[str, pd.Series], sources: tuple[bool, bool], lang: str) -> Any:
    """The revenue structure as a grid (one row per item, the sum pinned underneath) beside its
    100% stacked bars (this period, the previous one, a year ago)."""
    use_ip, use_op = sources
    cols = ["this", "share", "share_yoy", "yoy", "mom"] + (["per_case", "per_bed_day"] if use_ip else []) + \
        (["per_visit"] if use_op else [])
    kinds: dict[str, tuple[str, dict[str, Any]]] = {
        "this": ("money", {"compact": True}), "share": ("percent", {}), "share_yoy": ("change", {}),
        "yoy": ("change", {}), "mom": ("change", {}), "per_case": ("money", {"compact": True}),
        "per_bed_day": ("money", {"compact": True}), "per_visit": ("money", {"compact": True})}
    shown = df.assign(name=[t(f"ws.revenue.part.{p}", lang) for p in df["part"]])
    columns = [Column("name", t("ws.revenue.part", lang), pinned=True, width=110),
               *[Column(c, t(STRUCTURE_HEADS[c], lang), kinds[c][0], **kinds[c][1]) for c in cols]]  # type: ignore[arg-type]
    whole = float(df["this"].sum())
    total = {"part": TOTAL_ROW, "name": t("ws.revenue.sum", lang), "this": whole, "share": 1.0 if whole else None,
             "share_yoy": None, "yoy": _change(whole, float(tot["year_ago"]["total"])),
             "mom": _change(whole, float(tot["previous"]["total"])),
             **{c: float(tot["this"][c]) for c in cols[5:]}}
    grid = data_grid(shown, columns, lang, STRUCTURE_GRID, row_id="part", total=total, visible_rows=len(shown),
                     class_name="wsr-structure-grid-table")
    points = "'个百分点'" if lang == "zh" else "' pp'"
    for spec in grid.columnDefs:  # a share's change is in percentage points (components/format.format_points)
        if spec["field"] == "share_yoy":
            spec["valueFormatter"] = {"function": f"params.value == null ? '—' : (Math.round(params.value * 1000) === 0 ? "
                                                  f"'0.0' : (params.value > 0 ? '+' : '') + (params.value * 100).toFixed(1))"
                                                  f" + {points}"}
    return html.Div([grid, dcc.Graph(figure=structure_figure(df, tot, lang), config={"displayModeBar": False},
                                     className="dw-graph", id="wsr-structure-chart")], className="wsr-structure-grid")


def structure_figure(df: pd.DataFrame, tot: dict[str, pd.Series], lang: str) -> go.Figure:
    """100% stacked bars: the structure this period, the previous period and a year ago (plain
    trace and layout dictionaries: charts.figure)."""
    labels = [t("ws.revenue.this", lang), t("ws.revenue.previous", lang), t("ws.revenue.year_ago", lang)]
    traces = []
    for i, r in enumerate(df.to_dict("records")):
        shares = [_share(r[c], float(tot[k]["total"])) for c, k in (("this", "this"), ("previous", "previous"),
                                                                   ("year_ago", "year_ago"))]
        traces.append({"type": "bar", "y": labels, "x": [s * 100 if s == s else 0 for s in shares], "orientation": "h",
                       "name": t(f"ws.revenue.part.{r['part']}", lang), "marker": {"color": COLOURS[i % len(COLOURS)]},
                       "hovertemplate": "%{y}: %{x:.1f}%<extra>%{fullData.name}</extra>"})
    return figure(traces, {"barmode": "stack", "title": {"text": t("ws.revenue.structure_chart", lang)}, "height": 280,
                           "bargap": 0.3, "margin": {"l": 10, "r": 10, "t": 40, "b": 30},
                           "legend": {"orientation": "h", "y": -0.25, "traceorder": "normal"},
                           "plot_bgcolor": "#fff", "paper_bgcolor": "#fff",
                           "xaxis": {"range": [0, 100], "ticksuffix": "%"},
                           "yaxis": {"autorange": "reversed", "automargin": True}})


def with_member_names(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The level frame with `name` in the reader's language ("unassigned" for the unassigned member)."""
    col = "name_zh" if lang == "zh" else "name_en"
    return df.assign(name=[n if isinstance(n, str) else t("ws.revenue.unassigned", lang) for n in df[col]])


def level_section(df: pd.DataFrame, level: str, cols: list[str], total: dict[str, Any], lang: str) -> Any:
    """The members of the level below: a grid (a click drills) beside the biggest as bars (a click drills)."""
    if df.empty:
        return html.P(t("ws.revenue.no_members", lang), className="note")
    df = with_member_names(df, lang)
    table = level_grid(df, cols, {c: t(LEVEL_HEADS[c], lang) for c in cols},
                       t(f"ws.revenue.{'department' if level == 'department' else level}", lang),
                       {"name": t("ws.revenue.sum", lang), **{c: total[c] for c in cols}}, lang)
    title = html.H3(t(f"ws.revenue.level.{level}", lang), className="wsr-level-title", id="wsr-level-title")
    notes = [html.P(t("ws.revenue.click_hint", lang), className="note")]
    if (df["key"] == UNASSIGNED).any():
        notes.append(html.P(t("ws.revenue.unassigned_note", lang), className="note"))
    return html.Div([title, html.Div([table, level_figure(df, level, lang)], className="wsr-level-grid"), *notes])


def level_figure(df: pd.DataFrame, level: str, lang: str) -> Any:
    """The biggest members (at most BAR_CAP) as bars in 万元; a bar carries its member's key."""
    top = df.sort_values("total", ascending=False, kind="stable").head(BAR_CAP).iloc[::-1]
    what = t(f"ws.revenue.{level}", lang)
    fig = figure([{"type": "bar", "y": top["name"].tolist(), "x": (top["total"] / 10_000).to_numpy(float),
                   "orientation": "h", "customdata": top["key"].tolist(),
                   "marker": {"color": ["#999999" if k == UNASSIGNED else "#0072b2" for k in top["key"]]},
                   "text": [f"{v / 10_000:,.1f}" for v in top["total"]], "textposition": "auto",
                   "hovertemplate": "%{y}: %{x:,.1f}<extra></extra>"}],
                 {"title": {"text": t("ws.revenue.bars", lang, what=what)}, "height": max(200, 30 * len(top) + 80),
                  "bargap": 0.35, "margin": {"l": 10, "r": 10, "t": 40, "b": 30}, "plot_bgcolor": "#fff",
                  "paper_bgcolor": "#fff", "yaxis": {"automargin": True, "type": "category"}})
    parts: list[Any] = [dcc.Graph(figure=fig, config={"displayModeBar": False}, className="dw-graph wsr-bars",
                                  id={"type": "wsr-bars", "index": 0})]
    if len(df) > BAR_CAP:
        parts.append(html.P(t("ws.revenue.bars_capped", lang, n=BAR_CAP), className="note"))
    return html.Div(parts)


def count_note(n: int, lang: str) -> html.P:
    """How many rows the place has (all of them are in the grid)."""
    return html.P(t("ws.revenue.all_shown", lang, n=f"{n:,}"), className="note wsr-count", id="wsr-count-all")


def cases_section(cases: pd.DataFrame, stream: str, cap: int, lang: str) -> list[Any]:
    """The doctor's inpatient cases: all of them in a virtualised grid, biggest first, with the count."""
    what = t("ws.revenue.part.bed" if stream == "bed" else "ws.revenue.charge_total", lang)
    return [html.H3(t("ws.revenue.cases_title", lang, what=what), className="wsr-level-title"),
            count_note(len(cases), lang),
            html.P(t("ws.revenue.cases_hint", lang), className="note") if len(cases) else None,
            case_grid(cases, lang) if len(cases) else html.P(t("ws.revenue.no_rows", lang), className="note"),
            html.P(t("ws.revenue.export_capped", lang, cap=f"{cap:,}"), className="note")]


def days_section(days: pd.DataFrame, cap: int, lang: str) -> list[Any]:
    """The doctor's outpatient days: all of them in a virtualised grid, biggest revenue first, with the count."""
    return [html.H3(t("ws.revenue.days_title", lang), className="wsr-level-title"),
            count_note(len(days), lang),
            day_grid(days, lang) if len(days) else html.P(t("ws.revenue.no_rows", lang), className="note"),
            html.P(t("ws.revenue.export_capped", lang, cap=f"{cap:,}"), className="note")]


def crumbs(parts: list[tuple[str, str, str]], lang: str) -> html.Ol:
    """All my departments › department › ward or group › doctor: (cut, label, href) each; every crumb
    but the last is a link."""
    items = []
    for i, (cut, label, href) in enumerate(parts):
        last = i == len(parts) - 1
        items.append(html.Li(html.Span(label, className="wsr-crumb current", **{"aria-current": "page"}) if last else
                             dcc.Link(label, href=href, className="wsr-crumb", id=f"wsr-crumb-{cut}")))
    return html.Ol(items, className="wsr-crumb-list")


def member_label(level: str, name: str, lang: str) -> str:
    """A ward's or group's crumb: 医疗组：name / Medical group: name."""
    return f"{t(f'ws.revenue.{level}', lang)}{'：' if lang == 'zh' else ': '}{name}"


# ---- export ----------------------------------------------------------------------------------------

MONEY_COLUMNS = ("this", "previous", "year_ago", "total", "op_value", "ip_value", "per_visit", "per_case",
                 "per_bed_day", "charge_total", "revenue_total", *PARTS, *[f"charge_{p}" for p in PARTS],
                 *[f"revenue_{p}" for p in PARTS])
PERCENT_COLUMNS = ("share", "share_yoy", "yoy", "mom", "drug_share", "material_share")
EXPORT_HEADS = {"part": "ws.revenue.part", "this": "ws.revenue.this", "previous": "ws.revenue.previous",
                "year_ago": "ws.revenue.year_ago", "share": "ws.revenue.share", "share_yoy": "ws.revenue.share_yoy",
                "yoy": "ws.revenue.yoy", "mom": "ws.revenue.mom", "per_case": "ws.revenue.per_case",
                "per_bed_day": "ws.revenue.per_bed_day", "per_visit": "ws.revenue.per_visit"}


def export_kinds(lang: str) -> dict[str, str]:
    """The kind of each exported revenue column, by its header in the reader's language."""
    heads = {"this": "ws.revenue.this", "previous": "ws.revenue.previous", "year_ago": "ws.revenue.year_ago",
             "share_yoy": "ws.revenue.share_yoy", **LEVEL_HEADS}
    label = lambda c: t(heads[c], lang) if c in heads else (  # noqa: E731
        t(f"ws.revenue.part.{c}", lang) if c in PARTS else column_label(c, lang))
    kinds = {label(c): "money" for c in MONEY_COLUMNS} | {label(c): "percent" for c in PERCENT_COLUMNS}
    kinds |= {label(c): "integer" for c in ("visits", "cases", "emergency_visits", "bed_days")}
    return kinds | {label("los_days"): "integer", label("admit_date"): "date", label("discharge_date"): "date",
                    label("date"): "date"}


def structure_export(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The structure frame with its items and headers in the reader's language."""
    out = df.assign(part=[t(f"ws.revenue.part.{p}", lang) for p in df["part"]])
    return out.rename(columns={k: t(v, lang) for k, v in EXPORT_HEADS.items()})


def level_export(df: pd.DataFrame, cols: list[str], parts: tuple[str, ...], lang: str) -> pd.DataFrame:
    """The level frame's id, name, figure columns and revenue items, headers in the reader's language."""
    heads = {"key": t("ws.revenue.id", lang), "name": t("ws.revenue.name", lang),
             **{c: t(LEVEL_HEADS[c], lang) for c in LEVEL_HEADS}, **{p: t(f"ws.revenue.part.{p}", lang) for p in PARTS}}
    return with_member_names(df, lang)[["key", "name", *cols, *parts]].rename(columns=heads)
