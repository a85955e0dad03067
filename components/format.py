"""Numbers and money formatted for the reader's language (万/亿 in Chinese)."""
from __future__ import annotations

import math

from data_layer.formatting import format_change as plain_change


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def format_amount(value: float | None, lang: str, unit: str = "") -> str:
    """Large amounts: 1.23亿 / 4,567.8万 in Chinese; 123.4M / 45.7k in English."""
    if _missing(value):
        return "—"
    v = float(value)
    a = abs(v)
    if lang == "zh":
        if a >= 1e8:
            s = f"{v / 1e8:,.2f}亿"
        elif a >= 1e4:
            s = f"{v / 1e4:,.1f}万"
        else:
            s = f"{v:,.0f}"
        return s + unit
    if a >= 1e9:
        s = f"{v / 1e9:,.2f}B"
    elif a >= 1e6:
        s = f"{v / 1e6:,.1f}M"
    elif a >= 1e4:
        s = f"{v / 1e3:,.1f}k"
    else:
        s = f"{v:,.0f}"
    return f"{s} {unit}".strip()


def format_indicator(value: float | None, unit: str, lang: str) -> str:
    """An indicator value by its registry unit."""
    if _missing(value):
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit in ("index",):
        return f"{value:.3f}"
    if unit in ("days", "times", "per_bed", "per_doctor"):
        return f"{value:.2f}"
    if unit == "yuan":
        return format_amount(value, lang, "元" if lang == "zh" else "yuan")
    if unit in ("yuan_per_m2", "per_fte", "yuan_per_10k"):
        return f"{value:,.0f}"
    return format_amount(value, lang)


def format_change(value: float | None) -> str:
    return plain_change(value) or "—"


def format_points(diff: float | None, lang: str) -> str:
    """A change of a ratio in percentage points: +0.3 pp / +0.3个百分点."""
    if _missing(diff):
        return "—"
    points = round(diff * 100, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{points:+.1f}{'个百分点' if lang == 'zh' else ' pp'}" if points else f"0.0{'个百分点' if lang == 'zh' else ' pp'}"


def format_cell(value: object, kind: str, lang: str) -> str:
    """A table cell: "text" as it is (blank when missing), "int" with thousands separators,
    "yuan" as an amount (万/亿), "days" or "hours" with one decimal; any other kind is a
    registry unit (ratio, index …). A missing number is "—"."""
    if kind == "text":
        return "" if _missing(value) else str(value)  # type: ignore[arg-type]
    if _missing(value):  # type: ignore[arg-type]
        return "—"
    if kind == "int":
        return f"{float(value):,.0f}"  # type: ignore[arg-type]
    if kind == "yuan":
        return format_amount(value, lang)  # type: ignore[arg-type]
    if kind in ("days", "hours"):
        return f"{float(value):,.1f}"  # type: ignore[arg-type]
    return format_indicator(value, kind, lang)  # type: ignore[arg-type]
