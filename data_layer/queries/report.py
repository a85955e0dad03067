"""The monthly operations report of one department (科室月度运营分析报告): what the generator
puts in it. The result is plain JSON-ready data (no NaN, no dates as objects), so a published
report can be kept in the application database exactly as it was generated and shown again
years later without the warehouse.

Sections: the month's key figures against the previous month, the same month last year and
the hospital; a 13-month trend; the revenue structure (inpatient and outpatient components)
and the cost structure (by category) against last year; targets year to date. The month's
alerts and the problem → cause → suggestion findings are added by the application (they live
in the application database, not the warehouse).
"""
from __future__ import annotations

import math
from datetime import date
from typing import Any

from ..errors import UserError
from ..periods import Period, add_months, month_end
from ..registry import INDICATORS, Level
from ..scope import Scope
from ..sources import Filters
from ..warehouse import Warehouse
from .department import CATEGORIES, cost_breakdown
from .kpis import compare, indicator_values
from .revenue import OP_PARTS, PARTS, DrillPath, members, totals
from .targets import is_sum, target_progress

KEY_FIGURES = ("outpatient_visits", "discharges", "surgeries", "bed_days", "bed_occupancy", "alos", "revenue_total",
               "outpatient_revenue", "inpatient_revenue", "charge_per_discharge", "charge_per_visit", "drug_share",
               "material_share", "service_revenue_share", "cmi", "time_index", "cost_index", "drg_margin", "full_cost",
               "balance")
TREND = ("revenue_total", "discharges", "outpatient_visits", "alos", "drug_share", "material_share")
COMPONENTS = PARTS  # drugs, materials, exams, lab, treatment, surgery, nursing, beds, other


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def month_period(month: date) -> Period:
    first = month.replace(day=1)
    return Period(first, month_end(first), "month")


def check_month(wh: Warehouse, month: date) -> Period:
    """The month as a period, refused when it is not a whole month within the data."""
    fresh = wh.freshness()
    per = month_period(month)
    if fresh.data_through is None or fresh.first_date is None:
        raise UserError("the warehouse holds no data yet")
    if per.start < fresh.first_date.replace(day=1) or per.end > fresh.data_through:
        raise UserError(f"{per.label}: a report covers a whole month with data "
                        f"(the data runs from {fresh.first_date} to {fresh.data_through})")
    return per


def revenue_components(wh: Warehouse, scope: Scope, dept_id: str, period: Period) -> dict[str, dict[str, float]]:
    """Inpatient and outpatient revenue by component for one department: {'inpatient': {...},
    'outpatient': {...}}; the revenue drill-down's figures for the department (Σ of its groups)."""
    t = totals(members(wh, scope, period, "all", DrillPath(dept_id, "group")))
    return {"inpatient": {c: float(t[f"ip_{c}"]) for c in COMPONENTS},
            "outpatient": {c: float(t[f"op_{c}"]) if c in OP_PARTS else 0.0 for c in COMPONENTS}}


def _structure(wh: Warehouse, scope: Scope, dept_id: str, per: Period) -> list[dict[str, Any]]:
    now = revenue_components(wh, scope, dept_id, per)
    try:
        ago = revenue_components(wh, scope, dept_id, per.year_ago())
    except UserError:
        ago = {"inpatient": dict.fromkeys(COMPONENTS, 0.0), "outpatient": dict.fromkeys(COMPONENTS, 0.0)}
    total_now = sum(sum(v.values()) for v in now.values())
    total_ago = sum(sum(v.values()) for v in ago.values())
    rows = []
    for c in COMPONENTS:
        amount = now["inpatient"][c] + now["outpatient"][c]
        before = ago["inpatient"][c] + ago["outpatient"][c]
        rows.append({"component": c, "inpatient": now["inpatient"][c], "outpatient": now["outpatient"][c],
                     "amount": amount, "share": amount / total_now if total_now else None,
                     "year_ago": before, "share_year_ago": before / total_ago if total_ago else None})
    return rows


def _costs(wh: Warehouse, scope: Scope, dept_id: str, per: Period) -> dict[str, Any]:
    now = cost_breakdown(wh, scope, dept_id, per)
    if now.attrs.get("window") is None:
        return {"closed": False, "rows": []}
    try:
        ago = cost_breakdown(wh, scope, dept_id, per.year_ago())
    except UserError:
        ago = None
    rows = []
    for c in CATEGORIES:
        before = float(ago.loc[c, "total"]) if ago is not None and ago.attrs.get("window") else None
        rows.append({"category": c, "direct": float(now.loc[c, "direct"]),
                     "allocated": float(now.loc[c, ["admin", "support", "medtech"]].sum()),
                     "total": float(now.loc[c, "total"]), "year_ago": before})
    return {"closed": True, "rows": rows}


def generate(wh: Warehouse, scope: Scope, dept_id: str, month: date) -> dict[str, Any]:
    """The report's warehouse sections for `dept_id` and the month of `month`."""
    per = check_month(wh, month)
    filters = Filters(department=(dept_id,))
    figures = compare(wh, scope, KEY_FIGURES, per, Level.department, filters)
    hospital = indicator_values(wh, Scope.hospital(), KEY_FIGURES, per).set_index("indicator")["value"]
    key = []
    for code in KEY_FIGURES:
        hit = figures[figures["indicator"] == code]
        r = hit.iloc[0] if not hit.empty else None
        key.append({"indicator": code,
                    "value": _num(r["value"]) if r is not None else None,
                    "previous": _num(r["previous"]) if r is not None else None,
                    "year_ago": _num(r["year_ago"]) if r is not None else None,
                    "mom": _num(r["mom"]) if r is not None else None,
                    "yoy": _num(r["yoy"]) if r is not None else None,
                    "mom_diff": _num(r["mom_diff"]) if r is not None else None,
                    "yoy_diff": _num(r["yoy_diff"]) if r is not None else None,
                    # the hospital's figure only where it compares (rates and averages, not totals)
                    "hospital": None if is_sum(INDICATORS[code].formula) else _num(hospital.get(code))})
    first = max(add_months(per.start, -12), wh.freshness().first_date.replace(day=1))
    series = indicator_values(wh, scope, TREND, Period(first, per.end), Level.department, filters, grain="month")
    trend = {code: [[str(r.period_start)[:7], _num(r.value)] for r in
                    series[series["indicator"] == code].sort_values("period_start").itertuples()] for code in TREND}
    progress = target_progress(wh, scope, dept_id, per.end)
    targets = [{"indicator": r.indicator, "target": _num(r.target), "actual": _num(r.actual),
                "expected": _num(r.expected), "projection": _num(r.projection), "status": r.status}
               for r in progress.itertuples()]
    fresh = wh.freshness()
    return {"dept_id": dept_id, "month": per.start.isoformat(), "period_end": per.end.isoformat(),
            "previous": per.previous().label, "year_ago": per.year_ago().label, "key": key, "trend": trend,
            "structure": _structure(wh, scope, dept_id, per), "costs": _costs(wh, scope, dept_id, per),
            "targets": targets, "data_through": str(fresh.data_through), "data_stamp": fresh.stamp}
