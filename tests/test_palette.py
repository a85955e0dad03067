"""One rule for good and bad (data_layer/verdict.py) and one palette (components/palette.py):
the healthy range, the zero at the shown precision, both directions and none; the alert rules
and the portfolio read the same registry range."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from components.palette import DESK, WALL, judge_change, judge_value, out_of_range_mark, out_of_range_note, trend_class
from data_layer.alerts.detect import RULES
from data_layer.periods import Period
from data_layer.queries.portfolio import history_score, portfolio
from data_layer.registry import INDICATORS, HealthyRange
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

OCC = INDICATORS["bed_occupancy"]


@pytest.mark.parametrize("value", [1.051, 1.07, 1.09])
def test_occupancy_105_to_109_rising_is_bad_and_flagged(value: float) -> None:
    """The alert engine calls above 105% an overload: a rise there is worse, never "well ahead"."""
    assert judge_value(OCC, value) == "warn"
    assert judge_change(OCC, 0.064, value) == "bad"  # +6.4 pp to 105.8%: the portfolio's old "▲▲"
    assert judge_change(OCC, -0.02, value) == "good"  # back toward the range
    assert history_score("bed_occupancy", 0.065, 0.064, value) == -2
    assert history_score("bed_occupancy", 0.015, 0.016, value) == -1


def test_occupancy_inside_and_below_the_range_follows_its_direction() -> None:
    assert judge_value(OCC, 0.95) == "neutral" and judge_value(OCC, 1.05) == "neutral"  # the bounds are inside
    assert judge_change(OCC, 0.03, 0.95) == "good" and judge_change(OCC, -0.03, 0.95) == "bad"
    assert judge_value(OCC, 0.70) == "warn" and judge_change(OCC, 0.03, 0.70) == "good"
    assert history_score("bed_occupancy", 0.05, 0.04, 0.98) == 2


@pytest.mark.parametrize(("code", "change"), [
    ("margin", 0.0004), ("margin", -0.0004), ("discharges", 0.0004), ("alos", -0.00049), ("bed_occupancy", 0.0),
])
def test_a_change_shown_as_zero_is_neutral(code: str, change: float) -> None:
    """+0.0 pp or +0.0% reads neither good nor bad, on the department page and the hospital's."""
    assert judge_change(INDICATORS[code], change, 0.5) == "neutral"
    assert judge_change(INDICATORS[code], 0.0006 if change >= 0 else -0.0006, 0.5) != "neutral"  # +0.1 is not zero


def test_the_precision_is_the_one_shown() -> None:
    cmi = INDICATORS["cmi"]
    assert judge_change(cmi, 0.0004, 1.2, scale=1.0, decimals=3) == "neutral"  # 1.2004 vs 1.2000 shows as 0.000
    assert judge_change(cmi, 0.002, 1.2, scale=1.0, decimals=3) == "good"


def test_lower_is_better() -> None:
    alos, drug = INDICATORS["alos"], INDICATORS["drug_share"]
    assert judge_change(alos, -0.05, 8.0) == "good" and judge_change(alos, 0.05, 8.0) == "bad"
    assert judge_change(drug, -0.01, 0.30) == "good" and judge_change(drug, 0.01, 0.30) == "bad"
    assert judge_value(drug, 0.46) == "warn" and judge_change(drug, -0.01, 0.46) == "good"
    assert history_score("alos", -0.12, 0.0) == 2


def test_no_better_direction_is_never_good_or_bad() -> None:
    emergency = INDICATORS["emergency_visits"]
    assert emergency.higher_is_better is None
    assert judge_change(emergency, 0.5, 1000) == "neutral" and judge_change(emergency, -0.5, 1000) == "neutral"
    assert judge_value(emergency, 1e9) == "neutral"
    assert judge_change(emergency, float("nan")) == "neutral"


def test_a_range_on_an_indicator_without_direction_still_warns() -> None:
    from dataclasses import replace

    ind = replace(INDICATORS["budget_execution"], healthy=HealthyRange(0.5, 1.0))
    assert judge_change(ind, 0.1, 1.2) == "bad" and judge_change(ind, -0.1, 1.2) == "good"
    assert judge_change(ind, 0.1, 0.8) == "neutral"


def test_alert_rules_read_the_registry_range() -> None:
    ranged = {c: i.healthy for c, i in INDICATORS.items() if i.healthy is not None and i.healthy.high is not None}
    assert {r[0] for r in RULES} == set(ranged)
    for code, bound, above, level in RULES:
        assert above and bound == ranged[code].high and level == ranged[code].alert_level
    assert ("bed_occupancy", 1.05, True, "yellow") in RULES


def test_the_range_in_words_both_languages() -> None:
    assert out_of_range_note(OCC, 1.07, "en") == "⚠ above the healthy range 85.0%–105.0%"
    assert out_of_range_note(OCC, 1.07, "zh") == "⚠ 高于合理区间 85.0%–105.0%"
    assert out_of_range_note(INDICATORS["drug_share"], 0.5, "zh") == "⚠ 高于上限 45.0%"
    assert out_of_range_note(OCC, 1.0, "en") == "" and out_of_range_mark(OCC, 1.0, "en") == ""
    assert out_of_range_mark(OCC, 0.7, "en") == "⚠ <85.0%"


def test_css_variables_carry_the_palette() -> None:
    """The stylesheet's colours are the palette module's, and good and bad differ on both themes."""
    css = (Path(__file__).parents[1] / "assets" / "style.css").read_text(encoding="utf-8")
    root = dict(re.findall(r"--(good|bad|warn|neutral):\s*(#[0-9a-fA-F]{6})", css))
    assert root == {"good": DESK.good, "bad": DESK.bad, "warn": DESK.warn, "neutral": DESK.neutral}
    wall = dict(re.findall(r"--w-(good|bad|warn):\s*(#[0-9a-fA-F]{6})", css))
    assert {k: v.lower() for k, v in wall.items()} == {"good": WALL.good, "bad": WALL.bad, "warn": WALL.warn}
    for pal in (DESK, WALL):
        assert len({pal.good, pal.bad, pal.warn, pal.neutral}) == 4
    assert trend_class("warn") == "trend-warn" and ".trend-warn" in css


def _contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        rgb = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_read_on_their_backgrounds() -> None:
    """WCAG AA for text: 4.5:1 on the desk's white cards and on the wall's dark panels."""
    for colour in (DESK.good, DESK.bad, DESK.warn, DESK.neutral):
        assert _contrast(colour, "#ffffff") >= 4.5, colour
    for colour in (WALL.good, WALL.bad, WALL.warn, WALL.neutral):
        assert _contrast(colour, "#131c26") >= 4.5, colour


def test_portfolio_never_scores_an_overload_as_ahead(wh: Warehouse) -> None:
    per = Period(date(2026, 1, 1), date(2026, 11, 21))
    df = portfolio(wh, Scope.hospital(), per, ("bed_occupancy", "drug_share", "alos"))
    occ = df[df["indicator"] == "bed_occupancy"]
    assert (((occ["value"] > 1.05) | (occ["value"] < 0.85)) == (occ["range"] == "warn")).all()
    assert (occ["value"] > 1.05).any(), "the demo has overloaded departments"
    assert (df.loc[df["range"] == "warn", "score"] <= 0).all()
    over = occ[(occ["value"] > 1.05) & (occ["basis"] == "history") & (occ["yoy_diff"] >= 0.02)]
    assert not over.empty
    assert (over["score"] == -2).all()


def test_the_hospital_and_the_department_agree_on_a_zero_change() -> None:
    """The landing page's cards and the department page colour the same change the same way."""
    import pandas as pd

    from components.department import change_span
    from components.overview import kpi_cards
    from tests.conftest import texts

    rows = pd.DataFrame([
        {"indicator": "margin", "value": 0.18, "yoy": 0.002, "yoy_diff": 0.0004, "window_end": None},  # +0.0 pp
        {"indicator": "bed_occupancy", "value": 1.07, "yoy": 0.03, "yoy_diff": 0.03, "window_end": None},
        {"indicator": "alos", "value": 9.0, "yoy": -0.05, "yoy_diff": -0.45, "window_end": None},
    ])
    section = kpi_cards(rows, Period(date(2026, 1, 1), date(2026, 12, 1)), "en", heading=False)
    cards = section.children[0].children
    classes = [card.children[2].className for card in cards]
    assert classes == ["stat-change trend-neutral", "stat-change trend-bad", "stat-change trend-good"]
    assert "+0.0 pp" in texts(cards[0]) or "0.0 pp" in texts(cards[0])
    for r, cls in zip(rows.itertuples(), classes, strict=True):
        span = change_span("YoY", INDICATORS[r.indicator], r.yoy, r.yoy_diff, r.value, "en")
        assert cls.endswith(span.className)


def test_the_wall_badge_reads_a_zero_change_as_neutral() -> None:
    from components.wall import change_badge

    assert change_badge(0.0004, True, "+0.0%").className == "chg chg-neutral"  # was blue: "good"
    assert change_badge(0.0004, True, "+0.0%").children.startswith("■")
    assert change_badge(-0.0004, False, "0.0 pp").className == "chg chg-neutral"
    assert change_badge(0.01, True, "+1.0%").className == "chg chg-good"
    assert change_badge(0.01, False, "+1.0 pp").className == "chg chg-bad"


def test_portfolio_export_names_the_healthy_range(server, wh: Warehouse) -> None:
    """The workbook says what the page's dashed frame says, in the reader's language."""
    from tests.helpers import signed_in, workspace_export

    for lang, column, words in (("en", "Healthy range", "above the healthy range 85.0%–105.0%"),
                                ("zh", "合理区间提示", "高于合理区间 85.0%–105.0%")):
        client = signed_in(server, "lead1", lang)
        status, df, _ = workspace_export(server, client, "portfolio", "portfolio", "xlsx",
                                         [{"id": "ws-period", "property": "value", "value": "ytd"}])
        assert status == 200 and column in df.columns
        value_col = "Value" if lang == "en" else "本期"
        indicator_col = "Indicator" if lang == "en" else "指标"
        occ = df[df[indicator_col] == OCC.name(lang)]
        over = occ[occ[value_col] > 1.05]
        assert not over.empty and (over[column] == words).all()
        inside = occ[(occ[value_col] >= 0.85) & (occ[value_col] <= 1.05)]
        assert inside[column].fillna("").eq("").all()
