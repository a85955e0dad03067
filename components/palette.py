"""One palette for good and bad, on the light desk theme and the dark wall theme.

Colour-blind safe (the Okabe-Ito hues): blue is better, orange/vermillion is worse, amber is a
warning (outside the healthy range, or a target at risk), grey is neutral. Colour is never the
only signal: changes keep their sign and arrow, warnings their "⚠". The CSS variables in
assets/style.css (`--good`, `--bad`, `--warn`, `--neutral`; `--w-…` on the wall) carry the same
values; `trend_class` names the classes that use them. Which verdict a figure gets is decided by
data_layer.verdict (re-exported here), from the indicator registry. Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass

from components.format import format_indicator
from components.i18n import t
from data_layer.registry import Indicator
from data_layer.verdict import VERDICTS, Verdict, judge_change, judge_value, shown_as_zero

__all__ = ["DESK", "WALL", "Palette", "STATUS_VERDICT", "PACE_VERDICT", "VERDICTS", "Verdict", "judge_change",
           "judge_value", "shown_as_zero", "score_verdict",
           "BENCHMARK_VERDICT", "benchmark_verdict", "benchmark_class", "status_class", "trend_class", "change_class",
           "verdict_color", "WARN_ICON", "healthy_range_text", "out_of_range_mark", "out_of_range_note"]


@dataclass(frozen=True)
class Palette:
    good: str
    bad: str
    warn: str
    neutral: str
    good_tint: str  # cell backgrounds: mild and strong
    good_strong: str
    bad_tint: str
    bad_strong: str

    def color(self, verdict: Verdict) -> str:
        return getattr(self, verdict)


# text on white needs a contrast of at least 4.5:1; these are 4.6-7.3:1
DESK = Palette(good="#0b5cad", bad="#b83a0b", warn="#8a6300", neutral="#5f6b7a",
               good_tint="#d6e7f6", good_strong="#9cc3e6", bad_tint="#fbe0c4", bad_strong="#f4b183")
# on the wall's near-black panels (#131c26)
WALL = Palette(good="#56b4e9", bad="#e69f00", warn="#f0e442", neutral="#9aa5b1",
               good_tint="#1c3a52", good_strong="#25587d", bad_tint="#4a3512", bad_strong="#6e4a0c")

# the alert levels, named by their colour (红/橙/黄色预警); the same hues as style.css's .lvl-badge, for
# places without the stylesheet (an email's inline styles)
LEVEL_COLOURS = {"red": "#b0341c", "orange": "#e69f00", "yellow": "#b59f00"}
WARN_ICON = "⚠"
# a target's status read as a verdict
STATUS_VERDICT: dict[str, Verdict] = {"on_track": "good", "at_risk": "warn", "off_track": "bad"}
# a budget's execution against the year elapsed (时间进度): ahead of pace is overspending
PACE_VERDICT: dict[str, Verdict] = {"ahead": "bad", "behind": "good", "on_pace": "neutral"}


# a figure against a reference value (the national appraisal's median: data_layer.queries.scorecard.status,
# which reads the registry's direction): better is good, worse is bad, level with it (within 2%) neutral
BENCHMARK_VERDICT: dict[str, Verdict] = {"better": "good", "level": "neutral", "worse": "bad", "none": "neutral"}


def benchmark_verdict(status: str | None) -> Verdict:
    """The verdict of a scorecard status (better, level, worse, none)."""
    return BENCHMARK_VERDICT.get(status or "none", "neutral")


def benchmark_class(status: str | None) -> str:
    """The CSS class colouring a figure by its status against the benchmark (trend-good …)."""
    return trend_class(benchmark_verdict(status))


def score_verdict(score: float | None) -> Verdict:
    """A portfolio score (−2 … 2, from the one rule) as a verdict: above 0 good, below 0 bad."""
    if score is None or score != score or score == 0:
        return "neutral"
    return "good" if score > 0 else "bad"


def trend_class(verdict: Verdict) -> str:
    """The CSS class that colours text by a verdict (assets/style.css)."""
    return f"trend-{verdict}"


def grid_class(verdict: Verdict) -> str:
    """The class a grid cell takes for a verdict (hd-good, hd-bad, hd-warn; none when neutral)."""
    return f"hd-{verdict}" if verdict in ("good", "bad", "warn") else ""


def change_class(ind: Indicator, change: float | None, value: float | None = None, *,
                 scale: float = 100.0, decimals: int = 1) -> str:
    """The CSS class of a change judged by the one rule (judge_change's arguments)."""
    return trend_class(judge_change(ind, change, value, scale=scale, decimals=decimals))


def status_class(status: str) -> str:
    """The CSS class of a target status: the verdict's colour."""
    return trend_class(STATUS_VERDICT.get(status, "neutral"))


def verdict_color(verdict: Verdict, dark: bool = False) -> str:
    """A verdict's colour for figures."""
    return (WALL if dark else DESK).color(verdict)


def healthy_range_text(ind: Indicator, lang: str) -> str:
    """The indicator's healthy range in words ("85.0%–105.0%", "≤ 45.0%"); "" when it has none."""
    rng = ind.healthy
    if rng is None:
        return ""
    low = format_indicator(rng.low, ind.unit, lang) if rng.low is not None else None
    high = format_indicator(rng.high, ind.unit, lang) if rng.high is not None else None
    if low and high:
        return f"{low}–{high}"
    return f"≥ {low}" if low else f"≤ {high}"


def out_of_range_note(ind: Indicator, value: float | None, lang: str) -> str:
    """"⚠ above the healthy range 85.0%–105.0%" for a value outside the range; "" otherwise."""
    if judge_value(ind, value) != "warn" or ind.healthy is None:
        return ""
    rng = ind.healthy
    side = "above" if rng.side(float(value)) > 0 else "below"  # type: ignore[arg-type]
    if rng.low is not None and rng.high is not None:
        return f"{WARN_ICON} " + t(f"palette.{side}_range", lang, range=healthy_range_text(ind, lang))
    bound = rng.high if side == "above" else rng.low
    return f"{WARN_ICON} " + t(f"palette.{side}_limit", lang, limit=format_indicator(bound, ind.unit, lang))


def out_of_range_mark(ind: Indicator, value: float | None, lang: str) -> str:
    """The short form for a crowded cell: "⚠ >105.0%" (the bound crossed); "" inside the range."""
    if judge_value(ind, value) != "warn" or ind.healthy is None:
        return ""
    above = ind.healthy.side(float(value)) > 0  # type: ignore[arg-type]
    bound = ind.healthy.high if above else ind.healthy.low
    return f"{WARN_ICON} {'>' if above else '<'}{format_indicator(bound, ind.unit, lang)}"
