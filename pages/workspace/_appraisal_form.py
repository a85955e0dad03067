"""The equipment page's declared forms: the purchase appraisal (设备购置论证) and the saturation level.

Each field's rule is declared once, here, and read by data_layer.inputs.read_form, which names every
field that does not fit with an InputProblem; the page puts each message beside its field. The
appraisal's numeric rules are data_layer.stats.LIMITS (the same the appraisal itself checks), with the
codes the page has always worded: missing, not_a_number, negative, zero, too_small, too_large,
whole_years; the name may be too_long, the category unknown_category (catalog keys ws.eq.err.<code>)."""
from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from appdb.appraisals import NAME_MAX
from components.i18n import t
from data_layer.inputs import FormProblems, InputProblem, read_form
from data_layer.queries.equipment import CATEGORIES
from data_layer.stats import LIMITS, WHOLE

NUMERIC = tuple(LIMITS)  # price, exams_per_day, charge_per_exam, maintenance_per_year, staff_cost_per_year, …
FIELDS = ("device_name", "category", *NUMERIC)
SAT_MAX = 2.0


def _shown(x: float) -> str:
    return f"{x:,g}"


class AppraisalForm(BaseModel):
    """A device request as typed: its name, its category and every figure of LIMITS."""

    device_name: str
    category: str
    price: float
    exams_per_day: float
    charge_per_exam: float
    maintenance_per_year: float
    staff_cost_per_year: float
    consumables_per_exam: float
    working_days: float
    service_life_years: float
    residual_rate: float
    discount_rate: float

    @field_validator("device_name", mode="before")
    @classmethod
    def _name(cls, raw: Any) -> Any:
        if not isinstance(raw, str) or not raw.strip():
            raise InputProblem("missing")
        if len(raw.strip()) > NAME_MAX:
            raise InputProblem("too_long", n=NAME_MAX)
        return raw

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, raw: Any) -> Any:
        if raw is None or raw == "":
            raise InputProblem("missing")
        if not isinstance(raw, str) or raw not in CATEGORIES:
            raise InputProblem("unknown_category")
        return raw

    @field_validator(*NUMERIC, mode="before")
    @classmethod
    def _figure(cls, raw: Any, info: ValidationInfo) -> float:
        """A figure within its LIMITS, each kind of miss with its own code (as data_layer.stats checks)."""
        low, high = LIMITS[str(info.field_name)]
        bounds = {"low": _shown(low), "high": _shown(high)}
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise InputProblem("missing", **bounds)
        try:
            x = float(raw)
        except (TypeError, ValueError):
            raise InputProblem("not_a_number", **bounds) from None
        if not math.isfinite(x):
            raise InputProblem("not_a_number", **bounds)
        if x < 0:
            raise InputProblem("negative", **bounds)
        if x < low:
            raise InputProblem("zero" if x == 0 else "too_small", **bounds)
        if x > high:
            raise InputProblem("too_large", **bounds)
        if info.field_name in WHOLE and x != int(x):
            raise InputProblem("whole_years", **bounds)
        return x

    def figures(self) -> dict[str, float]:
        """The numeric inputs, as data_layer.stats.appraise and the saved appraisal take them."""
        return {k: float(getattr(self, k)) for k in NUMERIC}


class SaturationForm(BaseModel):
    """The utilization at or above which a device counts as saturated: above 0, at most SAT_MAX."""

    level: float = Field(gt=0, le=SAT_MAX, allow_inf_nan=False)


def read_appraisal(values: dict[str, Any]) -> tuple[AppraisalForm | None, dict[str, InputProblem]]:
    """(the form when every field fits, the problem of each field that does not)."""
    try:
        return read_form(AppraisalForm, values), {}
    except FormProblems as exc:
        return None, exc.problems


def saturation(raw: Any) -> float | None:
    """The saturation level typed on the page, or None when it does not fit (the page says so)."""
    try:
        return read_form(SaturationForm, {"level": raw}).level
    except FormProblems:
        return None


KNOWN = ("missing", "not_a_number", "negative", "zero", "too_small", "too_large", "whole_years", "too_long",
         "unknown_category")


def message(problem: InputProblem, lang: str) -> str:
    """What is wrong with a field, in the reader's language (a problem of another kind reads as no number)."""
    code = problem.code if problem.code in KNOWN else "not_a_number"
    return t(f"ws.eq.err.{code}", lang, **{"low": "", "high": "", "n": NAME_MAX, **problem.params})
