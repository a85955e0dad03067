"""The leader's screens read as one: one money style per view and language (万/亿, k/M), DRG codes
beside full names, the payment legible on its bar, treemap labels never below a minimum size,
and a header in the page's language only."""
from __future__ import annotations

import json
import re

import pytest
from flask import Flask

from components.format import format_money
from data_layer.periods import Period
from data_layer.queries.drg import drg_groups, drg_only
from data_layer.queries.profit import department_profit
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import PASSWORD, texts
from .helpers import post_callback, signed_in

TICK = [{"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}}]
RAW_MONEY = re.compile(r"\d{1,3}(?:,\d{3}){2,}")  # 15,519,866: an amount nobody converted
LATIN = re.compile(r"[A-Za-z]")
CJK = re.compile(r"[\u3400-\u9fff]")


def _filters(prefix: str, division=None) -> list[dict]:
    return [{"id": f"{prefix}-period", "property": "value", "value": "ytd"},
            {"id": f"{prefix}-campus", "property": "value", "value": None},
            {"id": f"{prefix}-division", "property": "value", "value": division}]


def _rows(tree) -> list[dict]:
    """The rows of a rank table as the callback returns it: each row's id and its cells' texts."""
    out = []

    def walk(node) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
            return
        if not isinstance(node, dict):
            return
        props = node.get("props", {})
        ident = props.get("id")
        if isinstance(ident, dict) and str(ident.get("type", "")).endswith("-row"):
            out.append({"key": ident["index"], "cells": [texts(c) for c in props["children"]],
                        "classes": [c["props"].get("className", "") for c in props["children"]]})
            return
        walk(props.get("children"))

    walk(tree)
    return out


# ------------------------------------------------------------------ the money formatter
@pytest.mark.parametrize(("value", "zh", "en"), [
    (0, "0", "0"),
    (-0.4, "0", "0"),                      # no "−0"
    (8058, "8,058", "8,058"),
    (-8058, "−8,058", "−8,058"),
    (99_999.4, "99,999", "99,999"),
    (99_999.6, "10.0万", "100.0k"),         # rounding never shows 100,000 in the small band
    (658_900, "65.9万", "658.9k"),
    (999_960, "100.0万", "1.00M"),          # not "1,000.0k"
    (-1_552_000, "−155.2万", "−1.55M"),
    (-15_519_866, "−1,552万", "−15.52M"),
    (60_300_000, "6,030万", "60.30M"),
    (99_999_999, "1.00亿", "100.00M"),      # not "10,000万"
    (123_456_789, "1.23亿", "123.46M"),
    (-1_200_000_000, "−12.00亿", "−1.20B"),
])
def test_money_formatter_in_both_languages(value: float, zh: str, en: str) -> None:
    assert format_money(value, "zh") == zh
    assert format_money(value, "en") == en


def test_money_formatter_units_signs_and_missing() -> None:
    assert format_money(-15_519_866, "zh", unit=True) == "−1,552万元"
    assert format_money(-15_519_866, "en", unit=True) == "−15.52M yuan"
    assert format_money(17_310_744, "en", signed=True) == "+17.31M"
    assert format_money(float("nan"), "zh") == format_money(None, "en") == "—"
    assert "-" not in format_money(-5, "en")  # the typographic minus, as on the charts' axes


# ------------------------------------------------------------------ DRG screen
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_drg_wall_table_carries_codes_full_names_and_one_money_style(server: Flask, wh: Warehouse, lang: str) -> None:
    client = signed_in(server, "lead1", lang)
    state = [{"id": "drg-wall", "property": "data", "value": True}, {"id": "drg-group", "property": "data", "value": None}]
    sort = [{"id": "drg-sort", "property": "data", "value": None}]
    status, out = post_callback(server, client, "drg-kpis.children", TICK + _filters("drg") + sort, state)
    assert status == 200
    through = wh.freshness().data_through
    groups = drg_groups(wh, Scope.hospital(), Period(through.replace(month=1, day=1), through),
                        drg_only(wh))  # the screen's DRG-paid cases
    losers = groups[groups["drg_margin"] < 0]
    rows = _rows(out["drg-table.children"])
    # a wall pages through every loss-maker (not only the first eight), the largest loss first
    assert [r["key"] for r in rows] == list(losers["drg_code"])
    name = "name_zh" if lang == "zh" else "name_en"
    for r, g in zip(rows, losers.itertuples(), strict=True):
        code, full_name, *rest = r["cells"]
        assert code == g.drg_code and full_name == getattr(g, name)  # the code, and the name uncut
        assert rest[-1] == format_money(g.drg_margin, lang) and rest[-2] == format_money(g.drg_margin_per_case, lang)
        assert "rt-loss" in r["classes"][-1]
    view = texts(out["drg-kpis.children"]) + " " + " ".join(" ".join(r["cells"]) for r in rows)
    assert not RAW_MONEY.search(view), RAW_MONEY.search(view)
    unit = "万元" if lang == "zh" else "M yuan"
    assert unit in texts(out["drg-kpis.children"])  # the headline margin in the same style
    # a desk lists every group with every column, and sorts on the server
    state[0]["value"] = False
    sort[0]["value"] = {"col": "cases", "asc": False}
    _, desk = post_callback(server, client, "drg-kpis.children", TICK + _filters("drg") + sort, state)
    desk_rows = _rows(desk["drg-table.children"])
    assert [r["key"] for r in desk_rows] == list(groups.sort_values("cases", ascending=False, kind="stable")["drg_code"])
    sort[0]["value"] = {"col": "__class__", "asc": True}  # a forged sort is ignored, not passed to pandas
    status, forged = post_callback(server, client, "drg-kpis.children", TICK + _filters("drg") + sort, state)
    assert status == 200 and [r["key"] for r in _rows(forged["drg-table.children"])] == list(groups["drg_code"])


def test_drg_header_click_sorts_and_turns_the_order(server: Flask) -> None:
    client = signed_in(server, "lead1")
    click = [{"id": {"type": "drg-sort", "index": "cases"}, "property": "n_clicks", "value": 1}]
    status, out = post_callback(server, client, "drg-sort.data", click, [{"id": "drg-sort", "property": "data",
                                                                          "value": None}])
    assert status == 200 and out["drg-sort.data"] == {"col": "cases", "asc": False}
    _, again = post_callback(server, client, "drg-sort.data", click,
                             [{"id": "drg-sort", "property": "data", "value": out["drg-sort.data"]}])
    assert again["drg-sort.data"] == {"col": "cases", "asc": True}


def test_drg_payment_reads_on_its_bar_in_the_screens_money_style(server: Flask, wh: Warehouse) -> None:
    client = signed_in(server, "lead1", "zh")
    through = wh.freshness().data_through
    groups = drg_groups(wh, Scope.hospital(), Period(through.replace(month=1, day=1), through),
                        drg_only(wh))  # the screen's DRG-paid cases
    code = groups["drg_code"].iloc[0]
    status, out = post_callback(server, client, "drg-detail-title.children",
                                [{"id": "drg-group", "property": "data", "value": code}] + _filters("drg"),
                                [{"id": "wall-tick", "property": "data", "value": {"scale": 2}}])
    assert status == 200
    fig = out["drg-structure.figure"]
    pay = fig["data"][-1]
    # the hatching overlays a solid fill, and the figure is in dark type on it
    assert pay["marker"]["pattern"]["fillmode"] == "overlay" and pay["marker"]["color"] == "#F0E442"
    assert pay["textfont"]["color"] == "#0b1118" and pay["textposition"] == "inside"
    assert pay["text"] == [format_money(groups["payment_per_case"].iloc[0], "zh")]
    assert fig["layout"]["uniformtext"] == {"minsize": 24, "mode": "hide"}  # 12 px at 1080p, 24 px at 4K
    carriers = texts(out["drg-depts.children"])
    assert not RAW_MONEY.search(carriers) and "元" in carriers


def test_a_carrier_click_opens_the_department_in_scope(server: Flask, wh: Warehouse) -> None:
    client = signed_in(server, "lead2")  # campus C2 only
    from data_layer.queries.structure import departments

    own = departments(wh, Scope.campuses(["C2"]))["dept_id"].iloc[0]
    other = departments(wh, Scope.campuses(["C1"]))["dept_id"].iloc[0]

    def click(dept: str):
        return post_callback(server, client, "_pages_location.href",
                             [{"id": {"type": "drg-carrier", "index": dept}, "property": "n_clicks", "value": 1}])

    status, out = click(own)
    assert status == 200 and out["_pages_location.href"] == f"/department?dept={own}"
    assert click(other)[0] == 403
    assert click("<script>")[0] == 403


# ------------------------------------------------------------------ profit view
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_profit_table_treemap_and_bars_share_one_money_style(server: Flask, wh: Warehouse, lang: str) -> None:
    client = signed_in(server, "lead1", lang)
    extra = [{"id": "pf-sort", "property": "data", "value": None}]
    status, out = post_callback(server, client, "pf-bars.figure", TICK + _filters("pf") + extra,
                                [{"id": "pf-wall", "property": "data", "value": True}])
    assert status == 200
    through = wh.freshness().data_through
    expect = department_profit(wh, Scope.hospital(), Period(through.replace(month=1, day=1), through))
    rows = _rows(out["pf-table.children"])
    assert [r["key"] for r in rows] == list(expect["dept_id"])  # a wall pages through every department
    first = expect.iloc[0]
    assert format_money(first["balance"], lang) in rows[0]["cells"]
    assert not RAW_MONEY.search(" ".join(" ".join(r["cells"]) for r in rows))
    bars = out["pf-bars.figure"]["data"][0]
    assert all(not RAW_MONEY.search(s) for s in bars["text"])
    assert format_money(first["balance"], lang, signed=True) in bars["text"]
    axis = out["pf-bars.figure"]["layout"]["xaxis"]["title"]["text"]
    assert ("万元" in axis) if lang == "zh" else ("M yuan" in axis)
    tree = out["pf-treemap.figure"]
    assert tree["layout"]["uniformtext"] == {"minsize": 12, "mode": "hide"}
    hover = tree["data"][0]["hovertext"]
    assert len(hover) == len(tree["data"][0]["ids"])  # every tile, even one too small for a label
    assert any(format_money(first["balance"], lang, unit=True) in h for h in hover)


# ------------------------------------------------------------------ the header
BILINGUAL = {  # display names as an administrator (or the demo) typed them
    "bi_admin": ("系统管理员 Admin", "admin", "none", ()),
    "bi_lead": ("院长 Hospital leader", "leader", "hospital", ()),
    "bi_campus": ("院区院长 Campus leader C2", "leader", "campus", ("C2",)),
    "bi_dir": ("骨科主任 Director", "director", "departments", ("D001",)),
    "bi_asst": ("运营助理 orthopedics", "assistant", "departments", ("D001", "D002", "D003")),
}


def _badge(layout: dict) -> str:
    found = []

    def walk(node) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == "user-badge":
                found.append(texts(node))
                return
            walk(props.get("children"))

    walk(layout)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("username", sorted(BILINGUAL))
def test_the_header_speaks_the_pages_language_only(server: Flask, username: str) -> None:
    display, role, kind, ids = BILINGUAL[username]
    server.extensions["hospdash"].appdb.create_user(username, display, PASSWORD, role, kind, ids)
    for lang, foreign in (("zh", LATIN), ("en", CJK)):
        client = signed_in(server, username, lang)
        layout = json.loads(client.get("/_dash-layout").get_data(as_text=True))
        badge = _badge(layout)
        assert badge and not foreign.search(badge), f"{lang} header shows {badge!r}"
    zh_badge = _badge(json.loads(signed_in(server, username, "zh").get("/_dash-layout").get_data(as_text=True)))
    assert zh_badge.startswith({"admin": "系统管理员", "leader": "院领导", "director": "科主任",
                                "assistant": "专科运营助理"}[role])


def test_one_column_of_amounts_is_written_in_one_unit() -> None:
    """A ranked table's money column never mixes 78,312 with 42.2万: its median amount sets the unit."""
    import pandas as pd

    from components.format import format_money, money_floor
    from components.ranktable import Column, rank_table

    column = [422_100, 78_312, 1_552_000, -15_520_000]
    assert money_floor(column, "zh") == 1e4 and money_floor(column, "en") == 1e6  # the median is 1.55M
    assert format_money(78_312, "zh", floor=1e4) == "7.8万" and format_money(78_312, "zh") == "78,312"
    assert format_money(78_312, "en", floor=1e3) == "78.3k" and format_money(78_312, "en", floor=1e6) == "0.08M"
    assert money_floor([120, 80, 3_000], "zh") == 1 and money_floor([], "zh") == 1
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "name": list("abcd"), "cost": column})
    table = rank_table("t", [Column("name", "n"), Column("cost", "c", "money")], df, "id", "zh", wall=False)
    cells = [row["props"]["children"][1]["props"]["children"] for row in table.children[1].children]
    assert cells == ["42.2万", "7.8万", "155.2万", "−1,552万"]


def test_a_header_click_sorts_text_a_to_z_figures_largest_first_and_a_second_click_turns_it() -> None:
    from components.ranktable import Column, next_sort

    cols = [Column("name", "n"), Column("cost", "c", "money")]
    assert next_sort("name", None, cols) == {"col": "name", "asc": True}
    assert next_sort("cost", {"col": "name", "asc": True}, cols) == {"col": "cost", "asc": False}
    assert next_sort("cost", {"col": "cost", "asc": False}, cols) == {"col": "cost", "asc": True}
    assert next_sort("password", None, cols) is None  # a forged header id
