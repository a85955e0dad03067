"""Payment by DIP (按病种分值付费): every DIP query against a pandas computation from the warehouse's
raw rows (demo_data.tables) on every backend, the scope refusal, the workspace's DIP section and the
DRG screen's DIP band in both languages, and a contract version 1 warehouse saying plainly that it
has no DIP."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data_layer.periods import Period
from data_layer.queries import dip
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

YTD = Period(date(2026, 1, 1), date(2026, 11, 21))
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
PERIODS = [YTD, YEAR, Period(date(2026, 3, 1), date(2026, 5, 31))]


# ---------------------------------------------------------------------------------- by hand
def _raw_cases(tables: dict[str, pd.DataFrame], per: Period) -> pd.DataFrame:
    """The DIP cases discharged in the period, with their packet's score and reference and their department."""
    c = tables["fact_inpatient_case"].copy()
    day = pd.to_datetime(c["discharge_date"]).dt.date
    c = c[(c["payment_scheme"] == "dip") & (day >= per.start) & (day <= per.end)].copy()
    packets = tables["dim_dip"][["dip_code", "score", "ref_charge_per_case"]].astype(
        {"score": float, "ref_charge_per_case": float})
    c = c.merge(packets, on="dip_code", how="inner")
    c = c.merge(tables["dim_department"][["dept_id", "campus_id"]], on="dept_id", suffixes=("", "_dept"))
    for col in ("charge_total", "drg_payment", "cost_total"):
        c[col] = c[col].astype(float)
    return c


def _rates(tables: dict[str, pd.DataFrame], through: date) -> dict[str, float]:
    """Per fund, point value × coefficient of the latest monthly estimate at or before `through`'s month."""
    pv = tables["fact_dip_point_value"].copy()
    pv = pv[~pv["is_final"].astype(bool)]
    pv = pv[[int(y) * 100 + int(m) <= through.year * 100 + through.month for y, m in zip(pv["year"], pv["month"],
                                                                                        strict=True)]]
    out = {}
    for fund, rows in pv.groupby("insurance_type"):
        last = rows.assign(k=rows["year"].astype(int) * 100 + rows["month"].astype(int)).sort_values("k").iloc[-1]
        out[fund] = float(last["point_value"]) * float(last["hospital_coefficient"])
    return out


def _expected(tables: dict[str, pd.DataFrame], per: Period, key: str, depts: set[str] | None = None) -> pd.DataFrame:
    c = _raw_cases(tables, per)
    if depts is not None:
        c = c[c["dept_id"].isin(depts)]
    rate = _rates(tables, per.end)
    c = c.assign(est=c["score"] * c["insurance_type"].map(rate),
                 high=(c["charge_total"] > 2.0 * c["ref_charge_per_case"]).astype(int),
                 low=(c["charge_total"] < 0.5 * c["ref_charge_per_case"]).astype(int))
    g = c.groupby(key)
    out = pd.DataFrame({"cases": g.size(), "points": g["score"].sum(), "charge": g["charge_total"].sum(),
                        "payment": g["drg_payment"].sum(), "est_payment": g["est"].sum(), "cost": g["cost_total"].sum(),
                        "high_ratio": g["high"].sum(), "low_ratio": g["low"].sum(),
                        "packets": g["dip_code"].nunique()})
    out["margin"] = out["est_payment"] - out["cost"]
    out["margin_per_case"] = out["margin"] / out["cases"]
    out["booked_margin"] = out["payment"] - out["cost"]
    return out


FIGS = ["cases", "points", "charge", "payment", "est_payment", "cost", "margin", "margin_per_case", "booked_margin",
        "high_ratio", "low_ratio"]


def _same(got: pd.DataFrame, want: pd.DataFrame, cols: list[str]) -> None:
    assert set(got.index) == set(want.index)
    for col in cols:
        pd.testing.assert_series_equal(got[col].astype(float).sort_index(), want[col].astype(float).sort_index(),
                                       check_names=False, rtol=1e-9, atol=1e-4)


# ---------------------------------------------------------------------------------- queries
@pytest.fixture(params=["duckdb", "sqlite", "postgresql", "mariadb"])
def backend(request: pytest.FixtureRequest) -> Warehouse:
    url = request.getfixturevalue({"duckdb": "duck_url", "sqlite": "sqlite_url", "postgresql": "postgres_url",
                                   "mariadb": "mariadb_url"}[request.param])
    return Warehouse(url)


def test_the_small_demo_has_dip_and_the_rule_has_cases(wh: Warehouse, demo_data) -> None:
    assert dip.has_dip(wh)
    c = _raw_cases(demo_data.tables, YTD)
    assert len(c) > 100 and c["dept_id"].nunique() >= 2
    assert (c["charge_total"] > 2.0 * c["ref_charge_per_case"]).any()  # high-ratio cases exist
    assert (c["charge_total"] < 0.5 * c["ref_charge_per_case"]).any()  # low-ratio cases exist


@pytest.mark.parametrize("per", PERIODS, ids=str)
def test_packet_table_equals_pandas(backend: Warehouse, demo_data, per: Period) -> None:
    got = dip.packet_table(backend, Scope.hospital(), per)
    want = _expected(demo_data.tables, per, "dip_code")
    _same(got.set_index("dip_code"), want, FIGS)
    packets = demo_data.tables["dim_dip"].set_index("dip_code")
    for r in got.itertuples():
        assert r.score == pytest.approx(float(packets.loc[r.dip_code, "score"]))
        assert r.name_zh == packets.loc[r.dip_code, "name_zh"] and r.is_core == bool(packets.loc[r.dip_code, "is_core"])
    assert list(got["margin"]) == sorted(got["margin"])  # loss-makers first
    assert got["high_ratio"].sum() > 0 or per != YTD


@pytest.mark.parametrize("per", PERIODS[:2], ids=str)
def test_department_table_equals_pandas(backend: Warehouse, demo_data, per: Period) -> None:
    got = dip.department_table(backend, Scope.hospital(), per).set_index("dept_id")
    want = _expected(demo_data.tables, per, "dept_id")
    _same(got, want, [*FIGS, "packets"])
    names = demo_data.tables["dim_department"].set_index("dept_id")
    assert all(got.loc[d, "name_en"] == names.loc[d, "name_en"] for d in got.index)


def test_filters_narrow_to_a_department(backend: Warehouse, demo_data) -> None:
    dept = _raw_cases(demo_data.tables, YTD)["dept_id"].value_counts().index[0]
    got = dip.packet_table(backend, Scope.hospital(), YTD, Filters(department=(dept,))).set_index("dip_code")
    _same(got, _expected(demo_data.tables, YTD, "dip_code", {dept}), FIGS)


def test_latest_point_values_equal_pandas(backend: Warehouse, demo_data) -> None:
    for through in (YTD.end, YEAR.end, date(2026, 3, 15)):
        got = dip.latest_point_values(backend, Scope.hospital(), through).set_index("insurance_type")["rate"]
        want = _rates(demo_data.tables, through)
        assert set(got.index) == set(want)
        for fund, rate in want.items():
            assert got[fund] == pytest.approx(rate)


def test_scheme_split_equals_pandas(backend: Warehouse, demo_data) -> None:
    c = demo_data.tables["fact_inpatient_case"].copy()
    day = pd.to_datetime(c["discharge_date"]).dt.date
    c = c[(day >= YTD.start) & (day <= YTD.end) & c["payment_scheme"].notna()]
    for col in ("charge_total", "drg_payment", "cost_total"):
        c[col] = c[col].astype(float)
    c["revenue"] = c["drg_payment"].where(c["payment_scheme"] != "fee_for_service", c["charge_total"])
    g = c.groupby("payment_scheme")
    want = pd.DataFrame({"cases": g.size(), "charge": g["charge_total"].sum(), "revenue": g["revenue"].sum(),
                         "cost": g["cost_total"].sum()})
    want["margin"] = want["revenue"] - want["cost"]
    want["margin_per_case"] = want["margin"] / want["cases"]
    got = dip.scheme_split(backend, Scope.hospital(), YTD)
    assert list(got["payment_scheme"]) == ["drg", "dip", "fee_for_service"]
    _same(got.set_index("payment_scheme"), want, list(want.columns))
    assert got["cases"].sum() == len(c)  # every case counted once, under one scheme


def test_packet_cases_equal_pandas(backend: Warehouse, demo_data) -> None:
    c = _raw_cases(demo_data.tables, YTD)
    code = c["dip_code"].value_counts().index[0]
    mine = c[c["dip_code"] == code]
    got = dip.packet_cases(backend, Scope.hospital(), YTD, code)
    assert got.attrs["total"] == len(mine) and set(got["case_id"]) == set(mine["case_id"])
    flags = {r.case_id: "high" if r.charge_total > 2 * r.ref_charge_per_case else
             "low" if r.charge_total < 0.5 * r.ref_charge_per_case else "" for r in mine.itertuples()}
    assert dict(zip(got["case_id"], got["flag"], strict=True)) == flags
    rank = got["flag"].map({"high": 0, "low": 1, "": 2})
    assert list(rank) == sorted(rank)  # high-ratio cases first, then low
    row = got.iloc[0]
    raw = mine.set_index("case_id").loc[row["case_id"]]
    assert row["margin"] == pytest.approx(raw["drg_payment"] - raw["cost_total"])
    assert row["ratio"] == pytest.approx(raw["charge_total"] / raw["ref_charge_per_case"])
    assert len(dip.packet_cases(backend, Scope.hospital(), YTD, code, Filters(), 3)) == 3


@pytest.mark.parametrize("cut", [0.05, 0.1])
def test_sensitivity_equals_pandas(backend: Warehouse, demo_data, cut: float) -> None:
    want = _expected(demo_data.tables, YTD, "dip_code")
    want["margin_cut"] = want["est_payment"] * (1 - cut) - want["cost"]
    turning = set(want.index[(want["margin"] >= 0) & (want["margin_cut"] < 0)])
    got = dip.sensitivity(backend, Scope.hospital(), YTD, cut)
    assert set(got.loc[got["turns_loss"], "dip_code"]) == turning
    assert list(got["turns_loss"]) == sorted(got["turns_loss"], reverse=True)  # the turning packets first
    _same(got.set_index("dip_code"), want, ["margin", "margin_cut"])
    assert got.attrs["effect"] == pytest.approx(-cut * want["est_payment"].sum())
    assert got.attrs["margin_cut"] == pytest.approx(want["margin_cut"].sum())
    assert got.attrs["turning"] == len(turning)
    with pytest.raises(ValueError):
        dip.sensitivity(backend, Scope.hospital(), YTD, 1.5)


def test_the_demo_has_packets_turning_loss_making_at_five_per_cent(wh: Warehouse) -> None:
    assert dip.sensitivity(wh, Scope.hospital(), YTD).attrs["turning"] >= 1


def test_settlement_effect_equals_pandas(backend: Warehouse, demo_data) -> None:
    t = demo_data.tables
    pv = t["fact_dip_point_value"]
    final = pv[pv["is_final"].astype(bool)]
    assert not final.empty, "the small demo has a closed DIP year"
    c = _raw_cases(t, Period(date(2000, 1, 1), date(2100, 1, 1)))
    c["year"] = pd.to_datetime(c["discharge_date"]).dt.year
    got = dip.settlement_effect(backend, Scope.hospital()).set_index(["year", "insurance_type"])
    rows = 0
    for f in final.itertuples():
        mine = c[(c["year"] == int(f.year)) & (c["insurance_type"] == f.insurance_type)]
        if mine.empty:
            continue
        rows += 1
        row = got.loc[(int(f.year), f.insurance_type)]
        pay = mine["score"].sum() * float(f.point_value) * float(f.hospital_coefficient)
        assert row["cases"] == len(mine)
        assert row["estimated"] == pytest.approx(mine["drg_payment"].sum())
        assert row["final"] == pytest.approx(pay)
        assert row["effect"] == pytest.approx(pay - mine["drg_payment"].sum())
    assert rows == len(got) and rows > 0


def test_a_department_scope_sees_only_its_departments(wh: Warehouse, demo_data) -> None:
    """A director of one DIP department gets his department's packets only, and nothing of another."""
    c = _raw_cases(demo_data.tables, YTD)
    mine, other = list(c["dept_id"].value_counts().index[:2])
    scope = Scope.departments({mine})
    _same(dip.packet_table(wh, scope, YTD).set_index("dip_code"),
          _expected(demo_data.tables, YTD, "dip_code", {mine}), FIGS)
    assert set(dip.department_table(wh, scope, YTD)["dept_id"]) == {mine}
    assert dip.packet_table(wh, scope, YTD, Filters(department=(other,))).empty
    code = c.loc[c["dept_id"] == other, "dip_code"].iloc[0]
    assert set(dip.packet_cases(wh, scope, YTD, code)["dept_id"]) <= {mine}
    split = dip.scheme_split(wh, scope, YTD)
    assert split["cases"].sum() == (
        (demo_data.tables["fact_inpatient_case"]["dept_id"] == mine)
        & pd.to_datetime(demo_data.tables["fact_inpatient_case"]["discharge_date"]).dt.date.between(YTD.start, YTD.end)
        & demo_data.tables["fact_inpatient_case"]["payment_scheme"].notna()).sum()
    assert dip.sensitivity(wh, Scope.departments({"D999"}), YTD).attrs["effect"] == 0


@pytest.fixture
def v1(v1_url: str):
    """The version 1 warehouse, its connections closed afterwards (another test opens the file read-write)."""
    got = Warehouse(v1_url)
    yield got
    got.engine.dispose()


def test_a_version_1_warehouse_has_no_dip_and_no_error(v1: Warehouse) -> None:
    assert not dip.has_dip(v1)
    s = Scope.hospital()
    for frame in (dip.packet_table(v1, s, YTD), dip.department_table(v1, s, YTD), dip.scheme_split(v1, s, YTD),
                  dip.packet_cases(v1, s, YTD, "C-XX00"), dip.sensitivity(v1, s, YTD), dip.settlement_effect(v1, s),
                  dip.latest_point_values(v1, s)):
        assert frame.empty


def test_drg_views_count_drg_paid_cases_only_beside_dip(wh: Warehouse, demo_data, v1: Warehouse) -> None:
    from data_layer.queries.drg import drg_groups, drg_only

    assert drg_only(wh) == Filters(scheme=("drg",))
    assert drg_only(v1) == Filters()  # version 1: every grouped case, as before
    assert drg_only(wh, Filters(scheme=("dip",))) == Filters(scheme=("dip",))  # a caller's choice is kept
    c = demo_data.tables["fact_inpatient_case"]
    day = pd.to_datetime(c["discharge_date"]).dt.date
    drg = c[(c["payment_scheme"] == "drg") & c["drg_code"].notna() & (day >= YTD.start) & (day <= YTD.end)]
    got = drg_groups(wh, Scope.hospital(), YTD, drg_only(wh))
    assert got["cases"].sum() == len(drg)
    assert got["drg_payment"].sum() == pytest.approx(drg["drg_payment"].astype(float).sum())


# ---------------------------------------------------------------------------------- pages
PACKETS_OUT = "ws-dip-rates.children"  # the packets callback, by its first output


def _dip_depts(demo_data) -> list[str]:
    return list(_raw_cases(demo_data.tables, YTD)["dept_id"].value_counts().index)


def _ws(dept: str) -> list[dict]:
    return [{"id": "ws-dept", "property": "value", "value": dept}, {"id": "ws-period", "property": "value", "value": "ytd"}]


@pytest.fixture
def dip_server(server, demo_data):
    """The app with a director of the DIP department with the most cases ("dirdip")."""
    from .conftest import PASSWORD

    server.extensions["hospdash"].appdb.create_user("dirdip", "dirdip", PASSWORD, "director", "departments",
                                                    (_dip_depts(demo_data)[0],))
    return server


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workspace_drg_tab_shows_the_dip_section(dip_server, wh: Warehouse, demo_data, lang: str) -> None:
    from .conftest import texts
    from .helpers import find, post_callback, signed_in
    from .test_language import _leaks, _visible

    dept = _dip_depts(demo_data)[0]
    client = signed_in(dip_server, "dirdip", lang)
    status, out = post_callback(dip_server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/workspace/drg"},
                                 {"id": "_pages_location", "property": "search", "value": f"?dept={dept}"}])
    assert status == 200
    page = out["_pages_content.children"]
    assert find(page, "ws-sec-dip") and find(page, "ws-dip-trend") and not find(page, "ws-dip-unavailable")
    assert ("高倍率病例" if lang == "zh" else "High-ratio cases") in texts(page)
    assert ("DRG病组仅含DRG付费病例" if lang == "zh" else "count the cases paid by DRG only") in texts(page)
    # the packets, the sensitivity in words, the picker
    status, out = post_callback(dip_server, client, PACKETS_OUT, _ws(dept))
    assert status == 200
    want = dip.packet_table(wh, Scope.departments({dept}), YTD, Filters(department=(dept,)))
    grid = find(out["ws-dip-packets.children"], "ws-dip-packets-table")["props"]
    assert [r["dip_code"] for r in grid["rowData"]] == list(want["dip_code"])
    assert [r["margin"] for r in grid["rowData"]] == pytest.approx(want["margin"].tolist())
    assert grid["dashGridOptions"]["pinnedBottomRowData"][0]["cases"] == want["cases"].sum()
    sense = texts(out["ws-dip-sense.children"])
    assert sense.startswith("如果结算点值比预估低5%" if lang == "zh" else "If the final point value lands 5% below")
    turning = dip.sensitivity(wh, Scope.departments({dept}), YTD, filters=Filters(department=(dept,)))
    for name in turning.loc[turning["turns_loss"], "name_zh" if lang == "zh" else "name_en"]:
        assert name in sense
    assert "ws-dip-packet.value" not in out  # the browser takes the first option (assets/ws-pick.js)
    assert [o["value"] for o in out["ws-dip-packet.options"]] == list(want["dip_code"])
    shown: list[str] = []
    _visible([v for k, v in out.items() if not k.endswith(".value")], shown)  # the value is an id, not text
    assert not _leaks(shown, lang), _leaks(shown, lang)[:3]
    # a packet's cases, high-ratio first
    code = want.loc[want["high_ratio"].idxmax(), "dip_code"]
    status, out = post_callback(dip_server, client, "ws-dip-cases.children",
                                [*_ws(dept), {"id": "ws-dip-packet", "property": "value", "value": code}])
    assert status == 200
    rows = find(out["ws-dip-cases.children"], "ws-dip-cases-table")["props"]["rowData"]
    cases = dip.packet_cases(wh, Scope.hospital(), YTD, code, Filters(department=(dept,)))
    assert [r["case_id"] for r in rows] == list(cases["case_id"])
    assert rows[0]["flag"] == "high"
    # the schemes side by side, the departments, the point-value trend
    status, out = post_callback(dip_server, client, "ws-dip-split.children", _ws(dept))
    assert status == 200
    split = texts(out["ws-dip-split.children"])
    assert ("DIP付费" if lang == "zh" else "Paid by DIP") in split
    status, side = post_callback(dip_server, client, "ws-dip-depts.children", _ws(dept))
    assert status == 200
    depts = find(side["ws-dip-depts.children"], "ws-dip-depts-table")["props"]["rowData"]
    assert [r["dept_id"] for r in depts] == [dept]  # a director sees his department only
    names = [tr["name"] for tr in out["ws-dip-trend.figure"]["data"]]
    assert len(names) == 4  # two funds: monthly estimates and final settlements
    assert ("清算" if lang == "zh" else "final vs estimate") in texts(out["ws-dip-settle.children"])


def test_a_director_is_refused_another_departments_dip(dip_server, demo_data) -> None:
    from .helpers import post_callback, signed_in, workspace_export

    other = _dip_depts(demo_data)[1]
    client = signed_in(dip_server, "dirdip")
    status, _ = post_callback(dip_server, client, PACKETS_OUT, _ws(other))
    assert status == 403
    state = [*_ws(other), {"id": "ws-dip-packet", "property": "value", "value": None}]
    status, _, _ = workspace_export(dip_server, client, "dip", "packets", "csv", state)
    assert status == 403


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_dip_exports_are_scoped_and_complete(dip_server, wh: Warehouse, demo_data, fmt: str) -> None:
    from .helpers import signed_in, workspace_export

    dept = _dip_depts(demo_data)[0]
    want = dip.packet_table(wh, Scope.hospital(), YTD, Filters(department=(dept,)))
    client = signed_in(dip_server, "dirdip")
    state = [*_ws(dept), {"id": "ws-dip-packet", "property": "value", "value": want["dip_code"].iloc[0]}]
    status, df, name = workspace_export(dip_server, client, "dip", "packets", fmt, state)
    assert status == 200 and name.startswith(f"{dept}-dip-packets")
    assert list(df["Packet"]) == list(want["dip_code"])
    assert df["Margin"].tolist() == pytest.approx(want["margin"].tolist(), abs=0.01)  # written to the fen
    status, df, _ = workspace_export(dip_server, client, "dip", "cases", fmt, state)
    assert status == 200 and len(df) == int(want["cases"].iloc[0])
    status, df, _ = workspace_export(dip_server, client, "dip", "departments", fmt, state)
    assert status == 200 and len(df) == 1


@pytest.fixture
def v1_server(v1_url: str, tmp_path):
    """The app over the version 1 warehouse, with the test users; its warehouse connections closed afterwards."""
    from app import create_app

    from .conftest import PASSWORD, STRONG_KEY, USERS

    srv = create_app({"WAREHOUSE_URL": v1_url, "SECRET_KEY": STRONG_KEY, "DATA_DIR": str(tmp_path / "data"),
                      "APP_DB_URL": f"sqlite:///{tmp_path / 'app.sqlite'}"})
    for name, (role, kind, ids) in USERS.items():
        srv.extensions["hospdash"].appdb.create_user(name, name, PASSWORD, role, kind, ids)
    yield srv
    srv.extensions["hospdash"].warehouse.engine.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_version_1_warehouse_says_dip_is_not_available(v1_server, lang: str) -> None:
    from .conftest import texts
    from .helpers import find, post_callback, signed_in

    srv = v1_server
    client = signed_in(srv, "asst1", lang)
    status, out = post_callback(srv, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/workspace/drg"},
                                 {"id": "_pages_location", "property": "search", "value": "?dept=D001"}])
    assert status == 200
    note = texts(find(out["_pages_content.children"], "ws-dip-unavailable"))
    assert ("本数据仓库没有DIP" if lang == "zh" else "not available in this warehouse") in note
    assert not find(out["_pages_content.children"], "ws-dip-packets")
    assert "DRG-paid" not in texts(out["_pages_content.children"]) and "仅含DRG付费" not in texts(
        out["_pages_content.children"])  # a version 1 warehouse counts every grouped case, as before


# ---------------------------------------------------------------------------------- the DRG screen
def _band_inputs(campus: str | None = None) -> list[dict]:
    return [{"id": "wall-tick", "property": "data", "value": {"n": 1, "scale": 1}},
            {"id": "drg-period", "property": "value", "value": "ytd"},
            {"id": "drg-campus", "property": "value", "value": campus},
            {"id": "drg-division", "property": "value", "value": None}]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_drg_screen_has_a_dip_band(server, wh: Warehouse, lang: str) -> None:
    from .conftest import texts
    from .helpers import find, post_callback, signed_in
    from .test_language import _leaks, _visible

    client = signed_in(server, "lead1", lang)
    status, out = post_callback(server, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/wall/drg"},
                                 {"id": "_pages_location", "property": "search", "value": "?kiosk=1"}])
    assert status == 200 and find(out["_pages_content.children"], "drg-dip-trend")
    status, out = post_callback(server, client, "drg-dip-tiles.children", _band_inputs())
    assert status == 200
    through = wh.freshness().data_through
    per = Period(through.replace(month=1, day=1), through)
    packets = dip.packet_table(wh, Scope.hospital(), per)
    tiles = texts(out["drg-dip-tiles.children"])
    assert f"{int(packets['cases'].sum()):,}" in tiles
    losers = packets[packets["margin"] < 0]
    assert f"{len(losers)} / {len(packets)}" in tiles
    turning = dip.sensitivity(wh, Scope.hospital(), per).attrs["turning"]
    assert (f"{turning} 个病种转为亏损" if lang == "zh" else f"{turning} packets turn loss-making") in tiles
    worst = texts(out["drg-dip-worst.children"])
    name = "name_zh" if lang == "zh" else "name_en"
    assert losers[name].iloc[0][:8] in worst
    assert len(out["drg-dip-trend.figure"]["data"]) == 4
    shown: list[str] = []
    _visible(list(out.values()), shown)
    assert not _leaks(shown, lang), _leaks(shown, lang)[:3]


def test_a_campus_leader_sees_the_band_of_his_campus(server, wh: Warehouse, demo_data) -> None:
    from .conftest import texts
    from .helpers import post_callback, signed_in

    client = signed_in(server, "lead2")  # campus C2, the DIP campus of the demo
    status, out = post_callback(server, client, "drg-dip-tiles.children", _band_inputs())
    assert status == 200
    through = wh.freshness().data_through
    per = Period(through.replace(month=1, day=1), through)
    mine = dip.packet_table(wh, Scope.campuses({"C2"}), per)
    assert f"{int(mine['cases'].sum()):,}" in texts(out["drg-dip-tiles.children"])
    status, _ = post_callback(server, client, "drg-dip-tiles.children", _band_inputs(campus="C1"))
    assert status == 403  # another campus is refused


def test_a_version_1_drg_screen_has_no_dip_band(v1_server) -> None:
    from .conftest import texts
    from .helpers import find, post_callback, signed_in

    srv = v1_server
    client = signed_in(srv, "lead1")
    status, out = post_callback(srv, client, "_pages_content.children",
                                [{"id": "_pages_location", "property": "pathname", "value": "/wall/drg"},
                                 {"id": "_pages_location", "property": "search", "value": ""}])
    assert status == 200
    assert not find(out["_pages_content.children"], "drg-dip-tiles")
    assert "DIP" not in texts(out["_pages_content.children"])
