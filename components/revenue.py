"""The revenue drill-down's grids and its case detail (收入分析): pure functions from the data
layer's frames to components. The grids are the shared `components.grid.data_grid`."""
from __future__ import annotations

from typing import Any

import pandas as pd
from dash import html

from components.format import format_change
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import judge_change, trend_class
from data_layer.registry import INDICATORS, Indicator
from data_layer.schema import CASE_COST_PARTS as COST_PARTS
from data_layer.schema import CHARGE_PARTS as PARTS
from data_layer.schema import OUTPATIENT_PARTS as OP_PARTS

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
