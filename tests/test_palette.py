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

    up, down = INDICATORS["discharges"], INDICATORS["alos"]
    assert change_badge(0.0004, up, "+0.0%").className == "chg chg-neutral"  # was blue: "good"
    assert change_badge(0.0004, up, "+0.0%").children.startswith("■")
    assert change_badge(-0.0004, down, "0.0 pp").className == "chg chg-neutral"
    assert change_badge(0.01, up, "+1.0%").className == "chg chg-good"
    assert change_badge(0.01, down, "+1.0 pp").className == "chg chg-bad"
    assert change_badge(0.01, None, "+1.0%").className == "chg chg-neutral"


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


# ------------------------------------------------------------------ one rule on every surface
ROOT = Path(__file__).parents[1]
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_RGB = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)")
# a selector naming one of these is a judgment: its colours must come from the palette's variables
_JUDGED = {"good", "bad", "warn", "loss", "neg", "over", "under", "ahead", "behind", "extra", "sat", "saturated",
           "high", "low", "flag", "trend", "risk", "danger", "success", "error", "chg", "profit", "deficit"}
# the red and green that pages once used for bad and good
_RED_GREEN = {"#c62828", "#2e7d32", "#1a7f37", "#b42318", "#d32f2f", "#388e3c", "#43a047", "#e53935", "#ff0000",
              "#00ff00", "#008000", "#ff9c6b", "#b34700", "#ef553b"}


def _rgb(literal: str) -> tuple[float, float, float]:
    h = literal.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255


def _chromatic(rgb: tuple[float, float, float]) -> bool:
    """A colour with a hue (not white, black or a grey): one that can read as good or bad."""
    import colorsys

    _h, light, sat = colorsys.rgb_to_hls(*rgb)
    return sat >= 0.3 and 0.15 <= light <= 0.9


def _colours(text: str) -> list[tuple[float, float, float]]:
    out = [_rgb(m.group()) for m in _HEX.finditer(text)]
    out += [(int(r) / 255, int(g) / 255, int(b) / 255) for r, g, b in _RGB.findall(text)]
    out += [(1.0, 0.0, 0.0) for _ in re.finditer(r":\s*(?:red|green)\b", text)]
    return out


def colour_offences() -> list[str]:
    """Good/bad colours decided outside components/palette.py and style.css's :root: a class
    name of a verdict written out, a colour picked by a condition between two hues, a red or
    green literal, and a judged CSS rule (…-bad, .loss, .over…) with a literal hue."""
    found = []
    for path in sorted([*ROOT.glob("pages/**/*.py"), *ROOT.glob("components/*.py")]):
        if path.name == "palette.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{i}"
            if re.search(r"""["'](?:trend|hd|chg)-(?:good|bad|warn)\b""", line):
                found.append(f"{where} writes a verdict class out (use palette.trend_class)")
            if re.search(r"\bif\b.*\belse\b", line) and sum(_chromatic(c) for c in _colours(line)) >= 2:
                found.append(f"{where} picks a hue by a condition (use the palette)")
            if {m.group().lower() for m in _HEX.finditer(line)} & _RED_GREEN:
                found.append(f"{where} uses a red or green literal")
    for path in sorted(ROOT.glob("assets/*.css")):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        if {m.group().lower() for m in _HEX.finditer(text)} & _RED_GREEN:
            found.append(f"{path.name} uses a red or green literal")
        for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", text):
            sel, body = m.group(1).strip(), m.group(2)
            # the palette's own definitions; the alert levels are named by their colour (红/橙/黄色预警)
            if sel == ":root" or "lvl-" in sel or not set(re.split(r"[^a-z]+", sel.lower())) & _JUDGED:
                continue
            for decl in body.split(";"):
                if ":" in decl and not decl.strip().startswith("--") and \
                        any(_chromatic(c) for c in _colours(decl.split(":", 1)[1])):
                    found.append(f"{path.name} `{sel}` sets a literal hue: {decl.strip()}")
    return found


def test_no_good_or_bad_colour_outside_the_palette() -> None:
    assert colour_offences() == []


def test_the_scan_catches_a_new_good_bad_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan is not vacuous: each kind of offence it looks for is found in a planted copy."""
    for sub in ("pages", "components", "assets"):
        (tmp_path / sub).mkdir()
    (tmp_path / "pages" / "x.py").write_text(
        'a = "trend-bad"\nb = "#d55e00" if loss else "#0b5cad"\nc = "#c62828"\n', encoding="utf-8")
    (tmp_path / "assets" / "x.css").write_text(".x-loss { color: #e69f00; }\n.x-over td { background: var(--bad); }\n",
                                               encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    found = colour_offences()
    assert len(found) == 4, found
    assert any("x.css `.x-loss`" in f for f in found)


def test_a_zero_and_a_real_change_read_the_same_on_every_surface(server) -> None:
    """+0.0% is neutral and +1.0% of revenue good on the wall, the revenue cards and grid, the
    department page and the monthly report; a cost's +1.0% bad in the cost monitor. (`server`:
    the pages import once the app exists.)"""
    from components.department import change_span
    from components.grid import Column, cell_verdict
    from components.reports import yoy_class
    from components.revenue import _trend
    from components.wall import change_badge

    rev = INDICATORS["revenue_total"]
    col = Column("yoy", "YoY", "change", indicator=rev)
    for change, verdict in ((0.0004, "neutral"), (-0.0004, "neutral"), (0.01, "good"), (-0.01, "bad")):
        assert change_badge(change, rev, "x").className == f"chg chg-{verdict}"
        assert _trend(change, "total", 1e6) == f"trend-{verdict}"
        assert cell_verdict(col, change) == verdict
        assert change_span("YoY", rev, change, float("nan"), 1e6, "en").className == f"trend-{verdict}"
        assert yoy_class({"indicator": "revenue_total", "yoy": change, "yoy_diff": None, "value": 1e6}) == \
            f"trend-{verdict}"
        cost = {"good": "bad", "bad": "good"}.get(verdict, verdict)  # lower is better
        assert cell_verdict(Column("yoy", "YoY", "change", indicator=INDICATORS["full_cost"]), change) == cost
    # the revenue cards read the registry, not a hard-coded "higher is better"
    assert _trend(0.05, "per_case") == "trend-bad"  # charge per discharge: lower is better
    assert _trend(0.05, "per_bed_day") == "trend-neutral"  # no registry indicator: not judged


def test_the_same_occupancy_reads_the_same_everywhere() -> None:
    """106% is outside the healthy range (a warning) and 104% inside it (neutral): on the portfolio
    (judge_value), the department page's marks, the campus wall's ranking and bed balance."""
    import pandas as pd

    from components.department import warn_marks
    from components.wall import NEUTRAL, WARN
    from components.wall_campus import bed_balance, rank_figure
    from tests.conftest import texts

    assert judge_value(OCC, 1.06) == "warn" and judge_value(OCC, 1.04) == "neutral"
    assert warn_marks(OCC, 1.06, "en")[0] and not warn_marks(OCC, 1.04, "en")[0]
    by_dept = pd.DataFrame({"dept_id": ["a", "b", "c", "d"], "name_zh": list("甲乙丙丁"), "name_en": list("ABCD"),
                            "open_beds": [100, 100, 100, 100], "occupied": [106, 104, 90, 80],
                            "occupancy": [1.06, 1.04, 0.90, 0.80], "extra": [6, 4, 0, 0], "icu": [False] * 4})
    fig = rank_figure(by_dept, "en", 1.0, 5)
    bar = fig["data"][0]  # a plain figure (components/charts.plain)
    colours = dict(zip(bar["y"], bar["marker"]["color"], strict=True))
    assert colours == {"A": WARN, "B": NEUTRAL, "C": NEUTRAL, "D": WARN}
    labels = dict(zip(bar["y"], bar["text"], strict=True))
    assert "⚠ >105.0%" in labels["A"] and "⚠" not in labels["B"] and "⚠ <85.0%" in labels["D"]
    assert "6 extra beds" in labels["A"] and "4 extra beds" in labels["B"]
    over, inside = bed_balance(100, 106, "en"), bed_balance(100, 104, "en")
    assert over.className == "bed-balance extra warn" and texts(over).startswith("⚠")
    assert inside.className == "bed-balance extra" and "⚠" not in texts(inside)


def test_the_wall_badges_judge_occupancy_by_its_range() -> None:
    """A rise of occupancy above 105% is worse on the wall as on the department page."""
    from components.wall import change_badge

    assert change_badge(0.02, OCC, "+2.0 pp", 1.07).className == "chg chg-bad"
    assert change_badge(0.02, OCC, "+2.0 pp", 0.95).className == "chg chg-good"
    assert change_badge(-0.02, OCC, "-2.0 pp", 1.07).className == "chg chg-good"


def test_the_grid_carries_each_rows_verdict() -> None:
    import pandas as pd

    from components.grid import Column, column_def, data_grid, verdict_field

    rev = INDICATORS["revenue_total"]
    cols = [Column("name", "Name"), Column("yoy", "YoY", "change", indicator=rev)]
    df = pd.DataFrame({"name": ["a", "b", "c", "d"], "yoy": [0.0004, 0.05, -0.05, None], "key": list("abcd")})
    grid = data_grid(df, cols, "en", "g", row_id="key", total={"name": "Σ", "yoy": -0.0004})
    assert [r[verdict_field("yoy")] for r in grid.rowData] == ["neutral", "good", "bad", "neutral"]
    assert grid.dashGridOptions["pinnedBottomRowData"][0][verdict_field("yoy")] == "neutral"
    rules = column_def(cols[1], "en")["cellClassRules"]
    assert set(rules) == {"hd-good", "hd-bad"} and all(verdict_field("yoy") in r for r in rules.values())
    assert "cellClassRules" not in column_def(Column("yoy", "YoY", "change"), "en")


def test_drg_margins_and_ratios_and_the_case_detail_follow_the_rule(server) -> None:
    """The pages import once the app exists (the `server` fixture)."""
    from components.drg import margin_class, ratio_class
    from components.revenue import _cls

    assert margin_class(-120.0) == "trend-bad" and margin_class(80.0) == "trend-good"
    assert margin_class(0.4) == "trend-neutral"  # shows as 0 yuan
    assert ratio_class("los_ratio", 1.2) == "trend-bad" and ratio_class("charge_ratio", 0.8) == "trend-good"
    assert ratio_class("los_ratio", 1.0004) == "trend-neutral"  # shows as 1.000
    assert ratio_class("los_ratio", 1.004) == "trend-bad"  # shows as 1.004
    charge = INDICATORS["charge_per_discharge"]
    assert _cls(1100.0, 1000.0, charge) == "num trend-bad" and _cls(900.0, 1000.0, charge) == "num trend-good"
    assert _cls(1000.2, 1000.0, charge) == "num trend-neutral"


def test_series_colours_are_not_verdicts() -> None:
    """No chart series is red or orange by accident: the colorway has none of the bad hues."""
    import colorsys

    from components.charts import COLORWAY

    for colour in COLORWAY:
        hue, _l, sat = colorsys.rgb_to_hls(*_rgb(colour))
        assert sat < 0.3 or not (hue < 0.12 or hue > 0.95), colour  # no red, vermillion or orange


def test_export_colours_the_judged_cells_only() -> None:
    """One function (verdict_font) colours a workbook's judged cells with the desk palette."""
    import io

    import pandas as pd
    from openpyxl import load_workbook

    from components.exports import Column, Heading, table_workbook, verdict_font

    df = pd.DataFrame({"name": ["a", "b", "c"], "score": [2, 0, -1]})
    raw = table_workbook(Heading("t"), df, (Column("name", "Name"), Column("score", "Score", "integer")),
                         verdicts={"score": ["good", "neutral", "bad"]})
    ws = load_workbook(io.BytesIO(raw)).worksheets[0]
    top = ws.freeze_panes and ws[ws.freeze_panes].row
    fonts = [ws.cell(top + i, 2).font.color for i in range(3)]
    assert fonts[0].rgb.endswith(DESK.good[1:].upper()) and fonts[2].rgb.endswith(DESK.bad[1:].upper())
    assert fonts[1] is None or fonts[1].rgb in (None, "FF000000")
    assert ws.cell(top, 1).font.color is None  # names are not judged
    assert verdict_font("neutral") is None and verdict_font("warn").color.rgb.endswith(DESK.warn[1:].upper())


def test_portfolio_export_colours_score_status_and_range(server, wh: Warehouse) -> None:
    """The workbook colours what the page colours: score > 0 good, < 0 bad; out of range warn."""
    import base64
    import io

    from openpyxl import load_workbook

    from tests.helpers import post_callback, signed_in

    client = signed_in(server, "lead1", "en")
    status, out = post_callback(server, client, "ws-download.data",
                                [{"id": {"type": "ws-export", "page": "portfolio", "table": "portfolio", "fmt": "xlsx"},
                                  "property": "n_clicks", "value": 1}],
                                [{"id": "ws-period", "property": "value", "value": "ytd"}])
    assert status == 200
    ws = load_workbook(io.BytesIO(base64.b64decode(out["ws-download.data"]["content"]))).worksheets[0]
    head = ws[ws.freeze_panes].row - 1
    names = {ws.cell(head, j).value: j for j in range(1, ws.max_column + 1)}
    seen = set()
    for r in range(head + 1, ws.max_row + 1):
        score = ws.cell(r, names["Score (-2 to 2)"]).value
        colour = ws.cell(r, names["Score (-2 to 2)"]).font.color
        rgb = colour.rgb[-6:] if colour is not None and isinstance(colour.rgb, str) else None
        want = DESK.good[1:].upper() if score > 0 else (DESK.bad[1:].upper() if score < 0 else None)
        assert rgb == want or (want is None and rgb in (None, "000000")), (r, score, rgb)
        seen.add(want)
        rng = ws.cell(r, names["Healthy range"])
        if rng.value:
            assert rng.font.color.rgb.endswith(DESK.warn[1:].upper())
        value = ws.cell(r, names["Value"]).font.color
        assert value is None or value.rgb in (None, "FF000000")  # figures keep their ink
    assert seen >= {DESK.good[1:].upper(), DESK.bad[1:].upper()}


def test_a_figure_against_its_benchmark_takes_the_good_and_bad_colours() -> None:
    from components.palette import benchmark_class, benchmark_verdict

    assert [benchmark_verdict(s) for s in ("better", "level", "worse", "none", None)] == \
        ["good", "neutral", "bad", "neutral", "neutral"]
    assert benchmark_class("worse") == trend_class("bad") and benchmark_class("better") == trend_class("good")


def test_grid_rows_are_json_values_in_the_fields_asked() -> None:
    """components.grid.records: only the fields asked (once each, those the frame has), missing values
    as null, numpy scalars as Python numbers, dates as ISO text; a frame without any such field
    gives an empty row per row."""
    import json as _json
    from datetime import date as _date

    import numpy as np
    import pandas as pd

    from components.grid import records

    df = pd.DataFrame({"dept": pd.array(["D001", None], dtype="str"), "n": np.array([3, 4], dtype="int64"),
                       "share": [0.25, np.nan], "day": [_date(2026, 1, 31), None],
                       "at": pd.to_datetime(["2026-02-01 08:00", None]), "ok": [True, False], "other": ["x", "y"]})
    rows = records(df, ["dept", "n", "share", "day", "at", "ok", "n", "absent"])
    assert rows == [{"dept": "D001", "n": 3, "share": 0.25, "day": "2026-01-31", "at": "2026-02-01", "ok": True},
                    {"dept": None, "n": 4, "share": None, "day": None, "at": None, "ok": False}]
    assert [type(v) for v in rows[0].values()] == [str, int, float, str, str, bool]
    _json.dumps(rows, allow_nan=False)  # what the browser gets: no NaN
    assert records(df, ["absent"]) == [{}, {}]
    assert records(df.iloc[0:0], ["dept", "n"]) == []
