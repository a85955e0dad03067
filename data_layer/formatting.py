"""Numbers as people read them, by the indicator's unit and the language."""
from __future__ import annotations

import math

_DECIMALS = {"ratio": 2, "index": 4, "days": 2, "times": 2, "per_bed": 3, "per_doctor": 1, "fte": 1,
             "hours": 1}


def format_plain(value: float | None, unit: str) -> str:
    """A value for tables and CSV: percentages for ratios, fixed decimals otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit in _DECIMALS:
        return f"{value:.{_DECIMALS[unit]}f}"
    if unit in ("yuan", "yuan_per_m2", "per_fte", "yuan_per_10k"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def format_change(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    shown = round(value * 100, 1) + 0.0  # + 0.0 turns -0.0 into 0.0: no "-0.0%" for a change too small to show
    return f"{shown:+.1f}%" if shown else "0.0%"
