"""Day surgery (日间手术, issue 17 part 5): every query of data_layer/queries/day_surgery.py against
an independent pandas computation from the demo's raw case rows, on DuckDB, SQLite, PostgreSQL and
MariaDB; a contract version 1 warehouse answers nothing and the page says so; the page opens for
leaders, assistants and directors in both languages and refuses administrators; the address's bad
values become notes and a department outside the scope is refused; the exports carry the grid's rows."""
from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask

from data_layer.periods import Period, add_months
from data_layer.queries import day_surgery as ds
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .conftest import PASSWORD, STRONG_KEY, USERS, texts
from .helpers import find, post_callback, read_table_workbook, signed_in

YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
RECENT = Period(date(2026, 1, 1), date(2026, 10, 31))
SCOPES = [Scope.hospital(), Scope.campuses({"C2"}), Scope.departments({"D001", "D002", "D003", "D014"})]


# ------------------------------------------------------------------------------ pandas, by hand
def _raw(demo_data) -> pd.DataFrame:
    """Every case of the demo with its department's campus: the rows the warehouse was loaded from."""
    cases = demo_data.tables["fact_inpatient_case"].copy()
    depts = demo_data.tables["dim_department"][["dept_id", "campus_id"]].rename(columns={"campus_id": "dept_campus"})
    cases = cases.merge(depts, on="dept_id", how="left")
    cases["discharge_date"] = pd.to_datetime(cases["discharge_date"]).dt.date
    return cases


def _in(cases: pd.DataFrame, scope: Scope, period: Period) -> pd.DataFrame:
    keep = cases["discharge_date"].between(period.start, period.end)
    if scope.kind == "campus":
        keep &= cases["dept_campus"].isin(scope.ids)
    elif scope.kind == "departments":
        keep &= cases["dept_id"].isin(scope.ids)
    return cases[keep]


def _flags(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    day = df["is_day_surgery"].astype(bool)
    elective = df["is_elective"].astype("boolean").fillna(False).astype(bool)
    return day, elective & ~day


def _by_hand(cases: pd.DataFrame, scope: Scope, period: Period) -> dict:
    df = _in(cases, scope, period)
    day, conv = _flags(df)
    df = df.assign(day=day, conv=conv)
    grouped = df[df["drg_code"].notna()]
    means = {}
    for code, g in grouped.groupby("drg_code"):
        d, c = g[g["day"]], g[g["conv"]]
        means[code] = (d["los_days"].mean() if len(d) else math.nan, c["los_days"].mean() if len(c) else math.nan,
                       len(d) > 0)

    def freed(part: pd.DataFrame) -> float:
        total = 0.0
        for code, g in part[part["day"] & part["drg_code"].notna()].groupby("drg_code"):
            conv_mean = means[code][1]
            if not math.isnan(conv_mean):
                total += conv_mean * len(g) - g["los_days"].sum()
        return total

    def cand(part: pd.DataFrame) -> tuple[float, float]:
        n, days = 0.0, 0.0
        for code, g in part[part["conv"] & part["drg_code"].notna()].groupby("drg_code"):
            day_mean, conv_mean, capable = means[code]
            if capable:
                n += len(g)
                days += len(g) * (conv_mean - day_mean)
        return n, days

    return {"df": df, "means": means, "freed": freed, "cand": cand}


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
        return (isinstance(a, float) and math.isnan(a)) and (isinstance(b, float) and math.isnan(b))
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-6)


def _want_summary(h: dict) -> dict:
    df = h["df"]
    d, c = df[df["day"]], df[df["conv"]]
    n, days = h["cand"](df)
    capable = {code for code, (_d, _c, ok) in h["means"].items() if ok}
    c_same = c[c["drg_code"].isin(capable)]  # the conventional cases of the groups done as day surgery
    return {"day_cases": len(d), "elective": len(d) + len(c), "share": _ratio(len(d), len(d) + len(c)),
            "conventional": len(c), "bed_days_freed": h["freed"](df), "day_alos": _ratio(d["los_days"].sum(), len(d)),
            "conv_alos": _ratio(c_same["los_days"].sum(), len(c_same)),
            "day_margin_per_case": _ratio((d["drg_payment"] - d["cost_total"]).sum(), len(d)),
            "conv_margin_per_case": _ratio((c_same["drg_payment"] - c_same["cost_total"]).sum(), len(c_same)),
            "candidates": n, "candidate_bed_days": days}


# ------------------------------------------------------------------------------ the queries, four backends
@pytest.fixture(scope="module")
def raw(demo_data) -> pd.DataFrame:
    return _raw(demo_data)


@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: s.key)
@pytest.mark.parametrize("period", [YEAR, RECENT], ids=["2025", "2026"])
def test_summary_equals_pandas(any_url: str, raw: pd.DataFrame, scope: Scope, period: Period) -> None:
    wh = Warehouse(any_url)
    got = ds.summary(wh, scope, period)
    want = _want_summary(_by_hand(raw, scope, period))
    assert set(got) == set(ds.SUMMARY_KEYS)
    bad = {k: (got[k], want[k]) for k in want if not _close(got[k], want[k])}
    assert not bad, bad
    assert got["day_cases"] > 0 and 0 < got["share"] < 1  # the test data has day surgery to compare


@pytest.mark.parametrize("scope", SCOPES[:2], ids=lambda s: s.key)
def test_by_department_equals_pandas(any_url: str, raw: pd.DataFrame, scope: Scope) -> None:
    wh = Warehouse(any_url)
    got = ds.by_department(wh, scope, RECENT).set_index("dept_id")
    h = _by_hand(raw, scope, RECENT)
    df = h["df"]
    clinical = df[df["day"] | df["conv"]]
    assert set(got.index) == set(clinical["dept_id"])
    for dept, part in clinical.groupby("dept_id"):
        d, c = part[part["day"]], part[part["conv"]]
        n, days = h["cand"](part)
        want = {"day_cases": len(d), "elective": len(d) + len(c), "share": _ratio(len(d), len(d) + len(c)),
                "conventional": len(c), "candidates": n, "bed_days_freed": h["freed"](part),
                "candidate_bed_days": days, "day_alos": _ratio(d["los_days"].sum(), len(d)),
                "day_margin_per_case": _ratio((d["drg_payment"] - d["cost_total"]).sum(), len(d))}
        bad = {k: (got.loc[dept, k], v) for k, v in want.items() if not _close(got.loc[dept, k], v)}
        assert not bad, (dept, bad)
    assert list(got["day_cases"]) == sorted(got["day_cases"], reverse=True)
    # the departments add up to the whole view
    total = ds.summary(wh, scope, RECENT)
    for k in ("day_cases", "elective", "bed_days_freed", "candidates", "candidate_bed_days"):
        assert _close(got[k].sum(), total[k]), k


def test_by_group_equals_pandas(any_url: str, raw: pd.DataFrame) -> None:
    wh = Warehouse(any_url)
    scope = Scope.hospital()
    got = ds.by_group(wh, scope, RECENT).set_index("drg_code")
    h = _by_hand(raw, scope, RECENT)
    df = h["df"][h["df"]["drg_code"].notna()]
    with_day = sorted(df.loc[df["day"], "drg_code"].unique())
    assert sorted(got.index) == with_day and len(with_day) >= 3
    for code in with_day:
        g = df[df["drg_code"] == code]
        d, c = g[g["day"]], g[g["conv"]]
        want = {"day_cases": len(d), "elective": len(d) + len(c), "share": len(d) / (len(d) + len(c)),
                "conventional": len(c), "bed_days_freed": h["freed"](g)}
        for kind, part in (("day", d), ("conv", c)):
            want[f"{kind}_alos"] = _ratio(part["los_days"].sum(), len(part))
            want[f"{kind}_charge"] = _ratio(part["charge_total"].sum(), len(part))
            want[f"{kind}_cost"] = _ratio(part["cost_total"].sum(), len(part))
            want[f"{kind}_margin"] = _ratio((part["drg_payment"] - part["cost_total"]).sum(), len(part))
        bad = {k: (got.loc[code, k], v) for k, v in want.items() if not _close(got.loc[code, k], v)}
        assert not bad, (code, bad)
    assert got["name_en"].notna().all() and got["name_zh"].notna().all()


@pytest.mark.parametrize("by", ["department", "group"])
def test_candidates_equal_pandas(any_url: str, raw: pd.DataFrame, by: str) -> None:
    wh = Warehouse(any_url)
    scope = Scope.hospital()
    got = ds.candidates(wh, scope, RECENT, by, 5)
    h = _by_hand(raw, scope, RECENT)
    key = "dept_id" if by == "department" else "drg_code"
    df = h["df"][h["df"]["drg_code"].notna()]
    capable = {c for c, (_d, _c, ok) in h["means"].items() if ok}
    df = df[df["drg_code"].isin(capable)]
    rows = []
    for k, part in df.groupby(key):
        n, days = h["cand"](part)
        if n > 0:
            day = int(part["day"].sum())
            rows.append((k, n, day / (day + int(part["conv"].sum())), days))
    want = sorted(rows, key=lambda r: (-r[1], r[0]))[:5]
    assert list(got["key"]) == [r[0] for r in want]
    for (_k, n, share, days), r in zip(want, got.itertuples(), strict=True):
        assert _close(r.candidates, n) and _close(r.share, share) and _close(r.candidate_bed_days, days)


def test_share_trend_equals_pandas(any_url: str, raw: pd.DataFrame) -> None:
    wh = Warehouse(any_url)
    scope = Scope.campuses({"C1"})
    through = date(2026, 10, 15)
    got = ds.share_trend(wh, scope, through, 12)
    first = add_months(through.replace(day=1), -11)
    assert list(got["month_start"]) == [add_months(first, i) for i in range(12)]
    df = _in(raw, scope, Period(first, through))
    day, conv = _flags(df)
    df = df.assign(day=day, elective=day | conv, month=[d.replace(day=1) for d in df["discharge_date"]])
    for r in got.itertuples():
        part = df[df["month"] == r.month_start]
        assert r.day_cases == part["day"].sum() and r.elective == part["elective"].sum()
        assert _close(r.share, _ratio(part["day"].sum(), part["elective"].sum()))


def test_a_view_without_elective_operations_has_no_share_and_no_figure(wh: Warehouse) -> None:
    nowhere = Scope.departments({"D999"})
    got = ds.summary(wh, nowhere, RECENT)
    assert got["day_cases"] == 0 and math.isnan(got["share"]) and math.isnan(got["day_alos"])
    assert ds.by_department(wh, nowhere, RECENT).empty and ds.by_group(wh, nowhere, RECENT).empty
    assert ds.candidates(wh, nowhere, RECENT).empty
    assert ds.share_trend(wh, nowhere, RECENT.end)["share"].isna().all()
    with pytest.raises(ValueError):
        ds.candidates(wh, Scope.hospital(), RECENT, "doctor")


def test_a_version_1_warehouse_gives_nothing(v1_url: str) -> None:
    wh = Warehouse(v1_url)
    assert not ds.has_elective(wh)
    assert ds.summary(wh, Scope.hospital(), RECENT) == {}
    for frame in (ds.by_department(wh, Scope.hospital(), RECENT), ds.by_group(wh, Scope.hospital(), RECENT),
                  ds.candidates(wh, Scope.hospital(), RECENT), ds.share_trend(wh, Scope.hospital(), RECENT.end)):
        assert frame.empty


# ------------------------------------------------------------------------------ the page
def _open(server: Flask, client, search: str = "") -> dict:
    status, out = post_callback(server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/day-surgery"},
                                 {"id": "_pages_location", "property": "search", "value": search}])
    assert status == 200
    return out["_pages_content.children"]


def _refresh(server: Flask, client, period="ytd", campus=None, dept=None) -> tuple[int, dict]:
    return post_callback(server, client, "ds-cards.children",
                         [{"id": "ds-period", "property": "value", "value": period},
                          {"id": "ds-campus", "property": "value", "value": campus},
                          {"id": "ds-dept", "property": "value", "value": dept}])


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", ["lead1", "asst1", "dir1"])
def test_the_page_opens_for_its_roles(server: Flask, user: str, lang: str) -> None:
    client = signed_in(server, user, lang)
    layout = _open(server, client)
    assert find(layout, "ds-title") is not None and find(layout, "address-notes") is None
    status, out = _refresh(server, client)
    assert status == 200, out
    shown = texts(out["ds-cards.children"])
    assert ("日间手术例数" if lang == "zh" else "Day-surgery cases") in shown
    grid = find(out["ds-departments.children"], kind="AgGrid")
    rows = grid["props"]["rowData"]
    allowed = {"dir1": {"D001"}, "asst1": {"D001", "D002", "D003"}}.get(user)
    if allowed is not None:
        assert {r["dept_id"] for r in rows} <= allowed
    assert rows, "the view has day surgery"
    assert find(out["ds-groups.children"], kind="AgGrid") is not None
    assert out["ds-trend.figure"]["data"], "the trend is drawn"


def test_the_page_is_in_the_navigation_of_its_roles_only(server: Flask) -> None:
    from shell.access import may_open
    from shell.layout import _nav_links

    with server.test_request_context("/"):
        for role, shown in (("leader", True), ("assistant", True), ("director", True), ("admin", False)):
            links = {link.href: link.children for link in _nav_links(role, "zh")}
            assert ("/day-surgery" in links) == shown, role
            assert may_open("pages.day_surgery", role) == shown
        assert {link.href: link.children for link in _nav_links("leader", "zh")}["/day-surgery"] == "日间手术"


def test_an_administrator_is_refused(server: Flask) -> None:
    client = signed_in(server, "admin1", "en")
    layout = _open(server, client)
    assert find(layout, "forbidden") is not None and find(layout, "ds-title") is None
    status, _ = _refresh(server, client)
    assert status == 403


def test_a_department_outside_the_scope_is_refused(server: Flask) -> None:
    client = signed_in(server, "asst1", "en")
    layout = _open(server, client, "?dept=D004")
    assert find(layout, "forbidden") is not None
    assert _refresh(server, client, dept="D004")[0] == 403
    lead2 = signed_in(server, "lead2", "en")
    assert find(_open(server, lead2, "?campus=C1"), "forbidden") is not None
    assert _refresh(server, lead2, campus="C1")[0] == 403
    unknown = _open(server, client, "?dept=D777")
    assert "D777" in texts(unknown) and find(unknown, "refused") is not None


def test_bad_address_values_become_notes(server: Flask) -> None:
    client = signed_in(server, "lead1", "en")
    layout = _open(server, client, "?period=someday&campus=C9")
    note = texts(find(layout, "address-notes"))
    assert "period (period=someday) is not a period this page offers" in note and "showing Year to date" in note
    assert "campus (campus=C9) is not one of the choices" in note and "Whole hospital" in note
    assert find(layout, "ds-period")["props"]["value"] == "ytd"
    zh = _open(server, signed_in(server, "asst1", "zh"), "?campus=C1")
    assert "院区（campus=C1）不适用于此页面" in texts(find(zh, "address-notes"))
    good = _open(server, client, "?period=last-year&campus=C2&dept=D012")
    assert find(good, "address-notes") is None and find(good, "ds-dept")["props"]["value"] == "D012"
    moved = _open(server, client, "?campus=C1&dept=D012")
    assert "campus (campus=C1) is not the campus of the address's department" in texts(find(moved, "address-notes"))


def test_a_department_or_campus_narrows_the_view(server: Flask, wh: Warehouse) -> None:
    client = signed_in(server, "lead1", "en")
    status, out = _refresh(server, client, "last-year", dept="D005")
    assert status == 200
    rows = find(out["ds-departments.children"], kind="AgGrid")["props"]["rowData"]
    assert [r["dept_id"] for r in rows] == ["D005"]
    status, out = _refresh(server, client, "last-year", campus="C2")
    rows = find(out["ds-departments.children"], kind="AgGrid")["props"]["rowData"]
    want = set(ds.by_department(wh, Scope.campuses({"C2"}), YEAR)["dept_id"])
    assert {r["dept_id"] for r in rows} == want
    status, out = post_callback(server, client, "ds-dept.options", [{"id": "ds-campus", "property": "value",
                                                                     "value": "C2"}],
                                [{"id": "ds-dept", "property": "value", "value": "D001"}])
    assert status == 200 and out["ds-dept.value"] is None
    assert all("·" not in o["label"] for o in out["ds-dept.options"])


@pytest.mark.parametrize("table", ["departments", "groups"])
def test_the_exports_carry_the_grids_rows(server: Flask, table: str) -> None:
    import base64

    client = signed_in(server, "asst1", "en")
    state = [{"id": "ds-period", "property": "value", "value": "last-year"},
             {"id": "ds-campus", "property": "value", "value": None},
             {"id": "ds-dept", "property": "value", "value": None}]
    status, out = post_callback(server, client, "ds-download.data",
                                [{"id": {"type": "ds-export", "table": table, "fmt": "xlsx"}, "property": "n_clicks",
                                  "value": 1}], state)
    assert status == 200, out
    df = read_table_workbook(base64.b64decode(out["ds-download.data"]["content"]))
    wh = server.extensions["hospdash"].warehouse
    scope = Scope.departments({"D001", "D002", "D003"})
    want = ds.by_department(wh, scope, YEAR) if table == "departments" else ds.by_group(wh, scope, YEAR)
    assert len(df) == len(want) > 0
    assert "Day cases" in df.columns and "Day share" in df.columns
    assert list(df["Day cases"]) == list(want["day_cases"])


@pytest.fixture
def v1_server(v1_url: str, tmp_path: Path) -> Flask:
    from app import create_app

    srv = create_app({"WAREHOUSE_URL": v1_url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
                      "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"})
    for name, (role, kind, ids) in USERS.items():
        srv.extensions["hospdash"].appdb.create_user(name, name, PASSWORD, role, kind, ids)
    return srv


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_version_1_warehouse_says_it_has_no_day_surgery_data(v1_server: Flask, lang: str) -> None:
    client = signed_in(v1_server, "lead1", lang)
    layout = _open(v1_server, client)
    message = texts(find(layout, "ds-v1"))
    assert message.startswith("此数据仓库没有日间手术分析所需的数据" if lang == "zh"
                              else "This warehouse has no day-surgery data")
    assert find(layout, "ds-cards") is None and find(layout, "ds-period") is None
    status, out = _refresh(v1_server, client)  # a stale browser asking anyway gets the message, no error
    assert status == 200 and "ds.v1" not in texts(out["ds-cards.children"])
    assert texts(out["ds-cards.children"]) == message


# ------------------------------------------------------------------------------ a phone, in a browser
NARROWEST = """
const cols = [...document.querySelectorAll('#day-surgery-page .ag-header-cell')]
  .map(c => c.getBoundingClientRect().width).filter(w => w > 0);
const cards = [...document.querySelectorAll('#day-surgery-page .ds-card')]
  .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText.slice(0, 30));
return [cols.length, Math.min(...cols), cards];
"""


@pytest.mark.browser
def test_on_a_390_px_phone_nothing_is_a_sliver(dash_duo, server: Flask) -> None:
    """At 390 px the page does not scroll sideways, no card overflows, and every grid column keeps a
    readable width (the grids scroll sideways inside their box, the name pinned)."""
    from .helpers import serve, sign_in_browser

    serve(dash_duo, server)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    sign_in_browser(dash_duo, "asst1")
    dash_duo.driver.get(dash_duo.server.url + "/day-surgery")
    dash_duo.wait_for_element("#ds-departments .ag-header-cell", timeout=30)
    dash_duo.wait_for_element("#ds-groups .ag-header-cell", timeout=30)
    width, inner = dash_duo.driver.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth]")
    assert width <= inner, f"the page is {width}px wide on a {inner}px phone"
    count, narrowest, overflowing = dash_duo.driver.execute_script(NARROWEST)
    assert count >= 4 and narrowest >= 80, f"a grid column is {narrowest}px wide"
    assert overflowing == [], overflowing
