"""The purchase appraisal's figures as rows (设备购置论证): label, text for the screen, value and
Excel number format for the one-page report; a saved appraisal's inputs and results as the report
and the print view show them. Pure functions: no I/O, no callbacks."""
from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd

from components.format import format_indicator
from components.i18n import CATALOG, t
from data_layer.stats import LIMITS, Appraisal, FieldErrors, appraise

PERCENT_INPUTS = ("residual_rate", "discount_rate")  # entered in per cent
YUAN_INPUTS = ("price", "charge_per_exam", "maintenance_per_year", "staff_cost_per_year", "consumables_per_exam")
RESULTS = ("annual_exams", "annual_revenue", "annual_cost", "annual_net", "payback", "annual_depreciation",
           "annual_surplus", "npv", "irr", "breakeven")


class Row(NamedTuple):
    key: str
    label: str
    text: str  # as the screen shows it
    value: Any  # as the workbook stores it (a number where there is one)
    number_format: str | None  # Excel number format of `value`
    bad: bool = False  # a figure that argues against the purchase


def input_rows(inputs: dict[str, Any], lang: str) -> list[Row]:
    """The appraisal's numeric inputs; per-cent inputs go to the workbook as fractions."""
    rows = []
    for key, raw in inputs.items():
        label = t(f"ws.eq.f.{key}", lang)
        if raw is None:
            rows.append(Row(key, label, "—", "—", None))
        elif key in PERCENT_INPUTS:
            rows.append(Row(key, label, f"{float(raw):g}%", float(raw) / 100, "0.0%"))
        elif key in YUAN_INPUTS:
            rows.append(Row(key, label, f"{float(raw):,.2f}", float(raw), "#,##0.00"))
        elif key in ("working_days", "service_life_years"):
            rows.append(Row(key, label, f"{float(raw):,.0f}", int(raw), "#,##0"))
        else:
            rows.append(Row(key, label, f"{float(raw):,g}", float(raw), "#,##0.0"))
    return rows


def payback_text(r: Appraisal, lang: str) -> str:
    """Static payback in years, saying when it never comes or comes after the service life."""
    if r.payback_years is None:
        return t("ws.eq.never", lang)
    years = t("ws.eq.years", lang, n=f"{r.payback_years:.2f}")
    return years if r.pays_back_within_life or not r.service_life_years else t("ws.eq.beyond_life", lang, years=years)


def result_rows(r: Appraisal, lang: str) -> list[Row]:
    """Every result of the appraisal, in the order the page and the report show them."""
    def yuan(key: str, v: float, bad: bool = False) -> Row:
        return Row(key, t(f"ws.eq.r.{key}", lang), format_indicator(v, "yuan", lang), round(v, 2), "#,##0.00", bad)

    irr_text = t("ws.eq.irr_none", lang) if r.irr is None else f"{r.irr:.1%}"
    be = r.breakeven_per_day
    be_text = t("ws.eq.breakeven_none", lang) if be is None else t("ws.eq.per_day", lang, n=f"{be:,.1f}")
    return [
        Row("annual_exams", t("ws.eq.r.annual_exams", lang), f"{r.annual_exams:,.0f}", round(r.annual_exams), "#,##0"),
        yuan("annual_revenue", r.annual_revenue),
        yuan("annual_cost", r.annual_cost),
        yuan("annual_net", r.annual_net, r.annual_net <= 0),
        Row("payback", t("ws.eq.r.payback", lang), payback_text(r, lang),
            round(r.payback_years, 2) if r.payback_years is not None else payback_text(r, lang), "0.00",
            r.payback_years is None or (bool(r.service_life_years) and not r.pays_back_within_life)),
        yuan("annual_depreciation", r.annual_depreciation),
        yuan("annual_surplus", r.annual_surplus, r.annual_surplus < 0),
        Row("npv", t("ws.eq.r.npv", lang, rate=f"{r.discount_rate:.1%}"), format_indicator(r.npv, "yuan", lang),
            round(r.npv, 2), "#,##0.00", r.npv < 0),
        Row("irr", t("ws.eq.r.irr", lang), irr_text, irr_text if r.irr is None else r.irr, "0.0%",
            r.irr is None or r.irr < r.discount_rate),
        Row("breakeven", t("ws.eq.r.breakeven", lang), be_text, be_text if be is None else round(be, 1), "#,##0.0",
            be is None or be > r.exams_per_day),
    ]


def category_name(code: Any, lang: str) -> str:
    """A device category in the reader's language (直线加速器, never LINAC, on a Chinese page)."""
    key = f"ws.eq.cat.{code}"
    return t(key, lang) if isinstance(code, str) and key in CATALOG else str(code)


def recomputed(inputs: dict[str, Any]) -> Appraisal | None:
    """The figures of saved inputs (NPV, IRR … of appraisals saved before those inputs existed: None)."""
    try:
        return appraise(inputs)
    except FieldErrors:
        return None


def report_rows(a: dict[str, Any], lang: str) -> tuple[list[Row], list[Row]]:
    """(inputs, results) of a saved appraisal; results recomputed from its inputs, or the stored
    figures of an appraisal saved before depreciation, NPV and IRR were asked for."""
    category = category_name(a["category"], lang)
    inputs = [Row("device_name", t("ws.eq.f.device_name", lang), a["device_name"], a["device_name"], None),
              Row("category", t("ws.eq.f.category", lang), category, category, None)]
    inputs += input_rows({k: a["inputs"].get(k) for k in LIMITS}, lang)
    if a.get("note"):
        inputs.append(Row("note", t("ws.eq.f.note", lang), a["note"], a["note"], None))
    figures = recomputed(a["inputs"])
    if figures is not None:
        return inputs, result_rows(figures, lang)
    old = Appraisal(a["annual_exams"], a["annual_revenue"], a["annual_cost"], a["annual_net"], a["payback_years"])
    return inputs, result_rows(old, lang)[:5]


EXISTING_REPORT = (("equipment_id", "id"), ("name", "name"), ("purchase_date", "purchase_date"),
                   ("daily_capacity", "capacity_day"), ("exams", "exams"), ("utilization", "utilization"),
                   ("status", "status"))


def existing_report_rows(a: dict[str, Any], lang: str) -> list[list[Any]]:
    """The devices of the category the appraisal was compared with, as saved with it."""
    return [[d["equipment_id"], d["name_zh" if lang == "zh" else "name_en"], d["purchase_date"], d["daily_capacity"],
             d["exams"], d["utilization"], t("ws.eq.saturated" if d["saturated"] else "ws.eq.unsaturated", lang)]
            for d in a["existing"]]


def existing_records(existing: pd.DataFrame) -> list[dict[str, Any]]:
    """The devices an appraisal was compared with, as saved with it (JSON: dates as text, no NaN)."""
    per = existing.attrs.get("period")
    cols = ["equipment_id", "name_zh", "name_en", "category", "purchase_date", "daily_capacity", "working_days",
            "capacity", "exams", "hours_used", "utilization", "revenue", "saturated"]
    rows = existing[cols].astype(object).where(existing[cols].notna(), None).to_dict("records")
    for r in rows:
        r["purchase_date"] = str(r["purchase_date"])
        r["saturated"] = bool(r["saturated"])
        r["period"] = f"{per.start}/{per.end}" if per else None
    return rows
