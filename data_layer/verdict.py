"""The one rule for "good" and "bad": is a value, or a change of it, better or worse for this
indicator? Read from the registry (its direction, `higher_is_better`, and its healthy range,
`healthy`). Pages colour with it (components/palette.py), the portfolio scores with it, and
exports label with it, so one figure never reads good in one place and bad in another.

- A change that rounds to zero at the precision it is shown with (+0.0% or +0.0 pp) is neutral.
- A value outside the indicator's healthy range is a warning whatever its direction: bed
  occupancy of 107% is an overload (the alert rules flag it), not a result to celebrate.
- A change of a value outside its healthy range is good when it moves back toward the range
  and bad when it moves further out, whatever the indicator's direction.
- Otherwise a change is good in the indicator's better direction and bad in the other; an
  indicator with no better direction (`higher_is_better is None`) is never good or bad.
"""
from __future__ import annotations

import math
from typing import Literal

from .registry import Indicator

Verdict = Literal["good", "bad", "warn", "neutral"]
VERDICTS: tuple[Verdict, ...] = ("good", "bad", "warn", "neutral")


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def shown_as_zero(change: float, scale: float = 100.0, decimals: int = 1) -> bool:
    """True when `change` reads as zero once scaled and rounded as the page shows it
    (a relative change or a ratio's difference: ×100, one decimal)."""
    return round(change * scale, decimals) == 0


def judge_value(ind: Indicator, value: float | None) -> Verdict:
    """"warn" for a value outside the indicator's healthy range, "neutral" otherwise (a level
    alone is neither good nor bad without something to compare it with)."""
    if _missing(value) or ind.healthy is None:
        return "neutral"
    return "warn" if ind.healthy.side(float(value)) else "neutral"  # type: ignore[arg-type]


def judge_change(ind: Indicator, change: float | None, value: float | None = None, *,
                 scale: float = 100.0, decimals: int = 1) -> Verdict:
    """Whether a change is good, bad or neutral for `ind`.

    `change` is a relative change or a difference (any sign convention where positive means the
    figure went up); `value` is the figure after the change, which decides when it lies outside
    the healthy range; `scale` and `decimals` are how the change is shown (×100 with one decimal
    for "+1.2%" and "+1.2 pp"; 1 and 3 for a difference of an index shown to three decimals)."""
    if _missing(change) or shown_as_zero(float(change), scale, decimals):  # type: ignore[arg-type]
        return "neutral"
    up = float(change) > 0  # type: ignore[arg-type]
    side = ind.healthy.side(float(value)) if ind.healthy is not None and not _missing(value) else 0  # type: ignore[arg-type]
    if side:
        return "good" if up == (side < 0) else "bad"  # toward the range is good, away from it bad
    if ind.higher_is_better is None:
        return "neutral"
    return "good" if up == ind.higher_is_better else "bad"
