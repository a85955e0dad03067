"""Numbers and money formatted for the reader's language (万/亿 in Chinese)."""
from __future__ import annotations

import math
from typing import Any

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


MINUS = "\u2212"  # the typographic minus, as Plotly draws it on axes

# (display limit, divisor, decimals, suffix) from the smallest band up: an amount takes the first
# band whose rounded figure stays below the band's limit, so 99,999.6 never shows as "100,000".
_MONEY_BANDS = {
    "zh": ((1e5, 1, 0, ""), (1e7, 1e4, 1, "万"), (1e8, 1e4, 0, "万"), (math.inf, 1e8, 2, "亿")),
    "en": ((1e5, 1, 0, ""), (1e6, 1e3, 1, "k"), (1e9, 1e6, 2, "M"), (math.inf, 1e9, 2, "B")),
}


def money_floor(values: Any, lang: str) -> float:
    """The smallest unit a column of amounts is written in: the band of its median amount, so one
    column never mixes 78,312 with 42.2万 (format_money's `floor`)."""
    amounts = sorted(abs(float(v)) for v in values if not _missing(v))
    if not amounts:
        return 1.0
    median = amounts[len(amounts) // 2]
    for limit, divisor, _decimals, _suffix in _MONEY_BANDS["zh" if lang == "zh" else "en"]:
        if median < limit:
            return divisor
    return _MONEY_BANDS["zh" if lang == "zh" else "en"][-1][1]


def format_money(value: float | None, lang: str, *, unit: bool = False, signed: bool = False,
                 floor: float = 1.0) -> str:
    """The one money style of the leadership screens, by language.

    Chinese: whole yuan below 10万, then 万 (one decimal below 1,000万, none above) and 亿 with two
    decimals: 8,058 · 65.9万 · −1,552万 · 1.23亿. English: whole yuan below 100k, then k, M and B:
    8,058 · 658.9k · −1.55M · 60.3M · 1.23B. Negative amounts take the typographic minus (−);
    `signed` puts + before positive ones; `unit` appends 元 / yuan; `floor` is the smallest unit
    to write in (a column's money_floor: 7.8万 beside 42.2万, not 78,312). Missing is "—".
    """
    if _missing(value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    a = abs(v)
    bands = _MONEY_BANDS["zh" if lang == "zh" else "en"]
    band = bands[-1]
    for band in bands:
        if band[1] < floor:
            continue
        if round(a / band[1], band[2]) * band[1] < band[0]:
            break
    _limit, divisor, decimals, suffix = band
    shown = round(a / divisor, decimals)
    text = f"{shown:,.{decimals}f}{suffix}"
    sign = "" if shown == 0 else MINUS if v < 0 else "+" if signed else ""
    if unit:
        text += "元" if lang == "zh" else " yuan"
    return sign + text


def format_indicator(value: float | None, unit: str, lang: str, *, wall_money: bool = False) -> str:
    """An indicator value by its registry unit; `wall_money` writes yuan in the leadership
    screens' one money style (format_money) instead of the desk pages' format_amount."""
    if _missing(value):
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit in ("index",):
        return f"{value:.3f}"
    if unit in ("days", "times", "per_bed", "per_doctor"):
        return f"{value:.2f}"
    if unit == "yuan":
        if wall_money:
            return format_money(value, lang, unit=True)
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


COUNTED_ALERTS = frozenset({"device_idle"})  # alert kinds whose observed and expected are counts (exams), whatever the indicator


def alert_kind(alert: Any) -> str | None:
    """An alert record's check (robust_z, device_idle …): its stored kind, or for a record saved
    without one (a monthly report written before reports kept it) "device_idle" when it names a
    device, the only check that does, so its exam counts are never read as a rate."""
    kind = alert.get("kind") if hasattr(alert, "get") else getattr(alert, "kind", None)
    if isinstance(kind, str) and kind:
        return kind
    entity = alert.get("entity_type") if hasattr(alert, "get") else getattr(alert, "entity_type", None)
    return "device_idle" if entity == "equipment" else None


def alert_unit(kind: str | None, unit: str) -> str:
    """The unit an alert's observed and expected values are in: "count" (the registry's unit of
    counts) for a check that counts (an idle device's exams over the idle run, though its
    indicator is a utilization rate), the indicator's own unit otherwise."""
    return "count" if kind in COUNTED_ALERTS else unit


def format_deviation(observed: object, expected: object, deviation: object, unit: str, lang: str,
                     places: int = 0, kind: str | None = None) -> str:
    """How far an alert's observed value is from the expected one: in percentage points for a
    ratio (111.7% against 105.0% is +6.7 pp, never "+6.4%", which reads as the rate itself
    rising), as a relative change otherwise (and for an alert `kind` that counts, such as an idle
    device's exams); a change too small to show carries no sign."""
    if alert_unit(kind, unit) == "ratio" and not _missing(observed) and not _missing(expected):
        return format_points(float(observed) - float(expected), lang)  # type: ignore[arg-type]
    if _missing(deviation):
        return "—"
    shown = round(float(deviation) * 100, places) + 0.0  # type: ignore[arg-type]
    return f"{shown:+.{places}f}%" if shown else f"{0:.{places}f}%"


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
