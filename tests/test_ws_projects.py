"""Improvement projects (改善项目): the before/after tests against scipy on known tables and on the
demo's raw rows, the project store (create, list, open, edit, stale edits, bad input), the page's
callbacks (comparison, saving, the hand-typed table), scope refusals and exports."""
from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sqlalchemy import func, select

from appdb.projects import create_project, get_project, list_projects, update_project
from appdb.schema import projects
from appdb.store import AppDB, CodedError, StaleEdit
from data_layer.periods import Period
from data_layer.queries.before_after import (
    KINDS,
    case_values,
    daily_values,
    evaluate,
    manual_test,
    proportion_counts,
    windows,
)
from data_layer.queries.kpis import indicator_values
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS, Level
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.stats import FieldErrors
from data_layer.warehouse import Warehouse

from .conftest import texts
from .helpers import click, find, post_callback, sign_in_browser, signed_in, workspace_export

START = date(2026, 6, 1)
THROUGH = date(2026, 11, 21)
ASST = Scope.departments(["D001", "D002", "D003"])


def _days(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


def _between(df: pd.DataFrame, col: str, lo: date, hi: date) -> pd.DataFrame:
    d = _days(df[col])
    return df[(d >= lo) & (d <= hi)]


# ------------------------------------------------------------------------- known tables
KNOWN = [
    [[20, 80], [35, 65]],
    [[56, 14], [48, 32]],
    [[12, 5, 3], [8, 9, 10]],
    [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]],
    [[310, 120, 45, 25], [350, 100, 30, 20]],
]


@pytest.mark.parametrize("table", KNOWN)
def test_hand_typed_table_matches_scipy_chi_square_without_correction(table) -> None:
    got, chi = manual_test([[str(x) for x in row] for row in table])
    ref = sps.chi2_contingency(np.array(table), correction=False)
    assert got == table
    assert chi.chi2 == pytest.approx(ref.statistic) and chi.p == pytest.approx(ref.pvalue) and chi.dof == ref.dof
    if len(table[0]) == 2:
        (a, b), (c, d) = table
        assert chi.diff == pytest.approx(c / (c + d) - a / (a + b))
    else:
        assert chi.diff is None and chi.ci is None


def test_two_by_two_interval_is_newcombes_published_example() -> None:
    """Newcombe (1998), example (a): 56/70 vs 48/80 → difference 0.2000, 95% CI 0.0524 to 0.3339."""
    _, chi = manual_test([[48, 32], [56, 14]])
    assert chi.diff == pytest.approx(0.2)
    assert chi.ci[0] == pytest.approx(0.0524, abs=5e-5) and chi.ci[1] == pytest.approx(0.3339, abs=5e-5)


@pytest.mark.parametrize(("cells", "errors"), [
    ([["0", "0"], ["3", "4"]], {"table": "empty_row"}),
    ([["5", "0"], ["3", "0"]], {"table": "empty_column"}),
    ([["-1", "4"], ["3", "4"]], {"r0c0": "negative"}),
    ([["2.5", "4"], ["x", ""]], {"r0c0": "not_integer", "r1c0": "not_integer", "r1c1": "missing"}),
])
def test_hand_typed_table_refuses_bad_counts_at_the_cell(cells, errors) -> None:
    with pytest.raises(FieldErrors) as exc:
        manual_test(cells)
    assert exc.value.errors == errors


# --------------------------------------------------------------- against the raw fact rows
def test_windows_are_clipped_to_the_data() -> None:
    w = windows(START, 90, 90, date(2025, 1, 1), THROUGH)
    assert w.before == (START - timedelta(days=90), START - timedelta(days=1))
    assert w.after == (START, START + timedelta(days=89))
    late = windows(date(2026, 10, 1), 90, 90, date(2025, 1, 1), THROUGH)
    assert late.after == (date(2026, 10, 1), THROUGH) and late.after_asked[1] == date(2026, 12, 29)
    early = windows(date(2025, 2, 1), 90, 30, date(2025, 1, 1), THROUGH)
    assert early.before == (date(2025, 1, 1), date(2025, 1, 31))
    assert windows(date(2027, 1, 1), 30, 30, date(2025, 1, 1), THROUGH).after is None


@pytest.mark.parametrize(("code", "depts"), [("mortality", ("D001", "D002")), ("level4_surgery_share", ("D001",)),
                                             ("day_surgery_rate", ("D001", "D003")),
                                             ("high_weight_share", ("D002",)), ("grouped_rate", ("D003",))])
def test_proportion_two_by_two_matches_pandas_and_scipy(wh: Warehouse, demo_data, code, depts) -> None:
    res = evaluate(wh, Scope.hospital(), code, depts, START, 120, 120)
    cases = demo_data.tables["fact_inpatient_case"]
    cases = cases[cases["dept_id"].isin(depts)].merge(demo_data.tables["dim_drg"][["drg_code", "weight"]],
                                                      on="drg_code", how="left")
    base = {"mortality": lambda c: c.index == c.index, "grouped_rate": lambda c: c.index == c.index,
            "level4_surgery_share": lambda c: c["surgery_level"] > 0, "day_surgery_rate": lambda c: c["surgery_level"] > 0,
            "high_weight_share": lambda c: c["drg_code"].notna()}[code]
    event = {"mortality": lambda c: c["discharge_status"] == "died", "grouped_rate": lambda c: c["drg_code"].notna(),
             "level4_surgery_share": lambda c: c["surgery_level"] == 4, "day_surgery_rate": lambda c: c["is_day_surgery"],
             "high_weight_share": lambda c: c["weight"] >= 2}[code]
    table = []
    for lo, hi in (res.windows.before, res.windows.after):
        w = _between(cases, "discharge_date", lo, hi)
        b = w[base(w)]
        e = int(event(b).sum())
        table.append([e, len(b) - e])
    assert res.table == table and res.n_before == sum(table[0]) and res.n_after == sum(table[1])
    ref = sps.chi2_contingency(np.array(table), correction=False)
    assert res.test == "chi_square" and res.statistic == pytest.approx(ref.statistic) and res.p == pytest.approx(ref.pvalue)
    assert res.dof == 1 and res.ci[0] < res.diff < res.ci[1]
    # the same proportions as the registry's formula over each window
    for (lo, hi), value in ((res.windows.before, res.value_before), (res.windows.after, res.value_after)):
        reg = indicator_values(wh, Scope.hospital(), (code,), Period(lo, hi), Level.hospital, Filters(department=depts))
        assert value == pytest.approx(float(reg["value"].iloc[0]))


@pytest.mark.parametrize(("code", "days"), [("alos", 120), ("charge_per_discharge", 120), ("cmi", 120),
                                            ("time_index", 90), ("drg_margin_per_case", 90), ("alos", 7),
                                            ("charge_per_discharge", 14)])
def test_per_case_means_match_pandas_and_scipy(wh: Warehouse, demo_data, code, days) -> None:
    depts = ("D001", "D002")
    res = evaluate(wh, Scope.hospital(), code, depts, START, days, days)
    cases = demo_data.tables["fact_inpatient_case"]
    cases = cases[cases["dept_id"].isin(depts)].merge(demo_data.tables["dim_drg"], on="drg_code", how="left")
    value = {"alos": lambda c: c["los_days"], "charge_per_discharge": lambda c: c["charge_total"],
             "cmi": lambda c: c["weight"], "time_index": lambda c: c["los_days"] / c["ref_los_days"],
             "drg_margin_per_case": lambda c: c["drg_payment"] - c["cost_total"]}[code]
    grouped = code in ("cmi", "time_index", "drg_margin_per_case")
    obs = []
    for lo, hi in (res.windows.before, res.windows.after):
        w = _between(cases, "discharge_date", lo, hi)
        w = w[w["drg_code"].notna()] if grouped else w
        obs.append(value(w).astype(float).to_numpy())
    before, after = obs
    assert (res.n_before, res.n_after) == (len(before), len(after))
    assert res.value_before == pytest.approx(before.mean()) and res.value_after == pytest.approx(after.mean())
    assert res.diff == pytest.approx(after.mean() - before.mean())
    _check_test(res, before, after)
    if code == "alos":  # the registry's ALOS = Σ los_days / discharges is the mean per case
        reg = indicator_values(wh, Scope.hospital(), ("alos",), Period(*res.windows.after), Level.hospital,
                               Filters(department=depts))
        assert res.value_after == pytest.approx(float(reg["value"].iloc[0]))


def _check_test(res, before: np.ndarray, after: np.ndarray) -> None:
    """The module chose Welch (both n ≥ 30, or both normal by Shapiro-Wilk) or Mann-Whitney, and
    its statistic and p are scipy's."""
    if min(len(before), len(after)) >= 30:
        assert res.test == "welch_t" and res.reason == "large"
    else:
        normal = all(sps.shapiro(v).pvalue >= 0.05 for v in (before, after))
        assert res.test == ("welch_t" if normal else "mann_whitney")
    if res.test == "welch_t":
        ref = sps.ttest_ind(after, before, equal_var=False)
    else:
        ref = sps.mannwhitneyu(after, before, alternative="two-sided")
    assert res.statistic == pytest.approx(ref.statistic) and res.p == pytest.approx(ref.pvalue)
    se = np.sqrt(before.var(ddof=1) / len(before) + after.var(ddof=1) / len(after))
    assert res.ci[1] - res.ci[0] == pytest.approx(2 * se * sps.t.ppf(0.975, _welch_df(before, after)))


def _welch_df(a: np.ndarray, b: np.ndarray) -> float:
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    return (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))


@pytest.mark.parametrize(("code", "days"), [("outpatient_visits", 90), ("emergency_visits", 7), ("charge_per_visit", 30),
                                            ("bed_occupancy", 60), ("discharges", 30), ("drug_share", 30)])
def test_daily_values_match_pandas_and_scipy(wh: Warehouse, demo_data, code, days) -> None:
    depts = ("D001",)
    res = evaluate(wh, Scope.hospital(), code, depts, START, days, days)
    t = demo_data.tables
    op = t["fact_outpatient_daily"][t["fact_outpatient_daily"]["dept_id"].isin(depts)]
    wards = t["dim_ward"][t["dim_ward"]["dept_id"].isin(depts)]["ward_id"]
    wd = t["fact_ward_daily"][t["fact_ward_daily"]["ward_id"].isin(wards)]
    ip = t["fact_inpatient_case"][t["fact_inpatient_case"]["dept_id"].isin(depts)]
    obs = []
    for lo, hi in (res.windows.before, res.windows.after):
        days_ix = pd.Index([lo + timedelta(days=i) for i in range((hi - lo).days + 1)])

        def daily(df: pd.DataFrame, col: str, value: str | None, ix: pd.Index = days_ix) -> pd.Series:
            w = _between(df, col, ix[0], ix[-1])
            g = w.groupby(_days(w[col]))
            s = g.size() if value is None else g[value].sum()
            return s.reindex(ix, fill_value=0).astype(float)
        if code == "outpatient_visits":
            v = daily(op, "date", "visits")
        elif code == "emergency_visits":
            v = daily(op, "date", "emergency_visits")
        elif code == "charge_per_visit":
            v = daily(op, "date", "revenue_total") / daily(op, "date", "visits").replace(0, np.nan)
        elif code == "bed_occupancy":
            v = daily(wd, "date", "occupied_beds") / daily(wd, "date", "open_beds").replace(0, np.nan)
        elif code == "discharges":
            v = daily(ip, "discharge_date", None)
        else:
            drug = daily(ip, "discharge_date", "charge_drug") + daily(op, "date", "revenue_drug")
            v = drug / (daily(ip, "discharge_date", "charge_total") + daily(op, "date", "revenue_total")).replace(0, np.nan)
        obs.append(v.dropna().to_numpy())
    before, after = obs
    assert (res.n_before, res.n_after) == (len(before), len(after))
    assert res.value_before == pytest.approx(before.mean()) and res.value_after == pytest.approx(after.mean())
    _check_test(res, before, after)
    assert res.weekly["n"].sum() == len(before) + len(after)  # the chart bins every observation once


def test_short_windows_exercise_both_mean_tests(wh: Warehouse) -> None:
    """On the small demo, 7-day windows of emergency visits are not normal (Mann-Whitney) while ALOS
    over a week's cases is (Welch): the choice is the module's, checked against scipy above."""
    assert evaluate(wh, Scope.hospital(), "emergency_visits", ("D001",), START, 7, 7).test == "mann_whitney"
    assert evaluate(wh, Scope.hospital(), "alos", ("D001",), START, 7, 7).reason == "normal"


def test_too_few_or_empty_windows_are_messages_not_crashes(wh: Warehouse) -> None:
    near_end = evaluate(wh, Scope.hospital(), "outpatient_visits", ("D001",), THROUGH - timedelta(days=1), 30, 30)
    assert near_end.errors == {"after": "too_few"} and near_end.n_after == 2 and near_end.significant is None
    future = evaluate(wh, Scope.hospital(), "alos", ("D001",), THROUGH + timedelta(days=40), 30, 30)
    assert future.errors == {"before": "too_few", "after": "too_few"} and future.n_before == future.n_after == 0
    pending = evaluate(wh, Scope.hospital(), "mortality", ("D001",), THROUGH + timedelta(days=1), 30, 30)
    assert pending.errors == {"after": "too_few"} and pending.n_before > 0
    no_deaths = evaluate(wh, Scope.hospital(), "mortality", ("D001",), START, 7, 7)
    assert no_deaths.errors == {"table": "empty_column"} and no_deaths.table[0][0] == no_deaths.table[1][0] == 0


def test_queries_keep_to_the_scope(wh: Warehouse) -> None:
    """Departments outside the scope give no rows, whatever the project names."""
    lo, hi = START - timedelta(days=30), START + timedelta(days=29)
    assert proportion_counts(wh, Scope.departments(["D001"]), "mortality", ("D004",), lo, hi).empty
    assert case_values(wh, Scope.departments(["D001"]), "alos", ("D004",), lo, hi).empty
    assert daily_values(wh, Scope.departments(["D001"]), "outpatient_visits", ("D004",), lo, hi).empty
    mixed = case_values(wh, Scope.departments(["D001"]), "alos", ("D001", "D004"), lo, hi)
    assert len(mixed) == len(case_values(wh, Scope.hospital(), "alos", ("D001",), lo, hi))


def test_every_kind_reads_the_same_on_every_backend(any_url: str, wh: Warehouse) -> None:
    other = Warehouse(any_url)
    lo, hi = START - timedelta(days=60), START + timedelta(days=59)
    for fn, code in ((proportion_counts, "high_weight_share"), (case_values, "time_index"),
                     (daily_values, "drug_share"), (daily_values, "bed_occupancy")):
        a = fn.uncached(other, ASST, code, ("D001", "D002"), lo, hi)
        b = fn.uncached(wh, ASST, code, ("D001", "D002"), lo, hi)
        assert len(a) == len(b) > 0
        assert np.allclose(pd.to_numeric(a.iloc[:, 1]).astype(float), pd.to_numeric(b.iloc[:, 1]).astype(float))
    other.engine.dispose()


def test_every_supported_indicator_is_a_registry_indicator_of_a_daily_or_case_source() -> None:
    for code, spec in KINDS.items():
        ind = INDICATORS[code]
        assert not ind.monthly and ind.sources <= {"inpatient", "outpatient", "ward"}, code
        assert spec.kind in ("proportion", "case", "daily")
        if spec.kind == "proportion":
            assert ind.unit == "ratio"


# --------------------------------------------------------------------------------- store
@pytest.fixture
def store(tmp_path, wh: Warehouse):
    db = AppDB(f"sqlite:///{tmp_path / 'app.sqlite'}")
    db.migrate()
    deps = departments(wh, Scope.hospital())
    campus_of = dict(zip(deps["dept_id"], deps["campus_id"], strict=True))
    return db, campus_of


def _values(**over) -> dict:
    v = {"title": "Day-surgery pathway", "dept_ids": ["D001"], "indicators": ["day_surgery_share", "alos"],
         "start_date": "2026-06-01", "before_days": 90, "after_days": 90, "description": "pre-admission work-up"}
    v.update(over)
    return v


def _count(db: AppDB) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(projects)).scalar()


FIRST = date(2025, 1, 1)


def test_project_round_trip_with_stale_edit_refused(store) -> None:
    db, campus_of = store
    a = create_project(db, ASST, _values(), "asst1", campus_of, FIRST, THROUGH)
    b = create_project(db, ASST, _values(title="Clinic booking", dept_ids=["D003", "D002"]), "asst1", campus_of,
                       FIRST, THROUGH)
    assert b["dept_ids"] == "D002,D003" and b["campus_ids"] == campus_of["D002"] and b["version"] == 1
    listed = list_projects(db, ASST)
    assert list(listed["id"]) == [b["id"], a["id"]]  # newest first
    got = get_project(db, ASST, a["id"])
    assert got["indicator_list"] == ["day_surgery_share", "alos"] and got["start_date"] == START
    edited = update_project(db, ASST, a["id"], _values(after_days=120, status="closed"), "asst1", 1, campus_of,
                            FIRST, THROUGH)
    assert edited["version"] == 2 and edited["after_days"] == 120 and edited["status"] == "closed"
    with pytest.raises(StaleEdit):  # an edit made on version 1 after someone saved version 2
        update_project(db, ASST, a["id"], _values(title="lost?"), "asst1", 1, campus_of, FIRST, THROUGH)
    assert get_project(db, ASST, a["id"])["title"] == "Day-surgery pathway"


def test_a_project_is_seen_only_when_every_department_is_in_scope(store) -> None:
    db, campus_of = store
    mixed = create_project(db, Scope.hospital(), _values(dept_ids=["D001", "D004"]), "lead1", campus_of, FIRST, THROUGH)
    own = create_project(db, ASST, _values(), "asst1", campus_of, FIRST, THROUGH)
    c2 = sorted(d for d, c in campus_of.items() if c == "C2")[:1]
    campus = create_project(db, Scope.hospital(), _values(dept_ids=c2), "lead1", campus_of, FIRST, THROUGH)
    assert get_project(db, ASST, mixed["id"]) is None and get_project(db, ASST, own["id"]) is not None
    assert set(list_projects(db, ASST)["id"]) == {own["id"]}
    assert set(list_projects(db, Scope.campuses(["C2"]))["id"]) == {campus["id"]}
    assert set(list_projects(db, Scope.hospital())["id"]) == {mixed["id"], own["id"], campus["id"]}
    with pytest.raises(CodedError):  # an edit of a project outside the scope
        update_project(db, ASST, mixed["id"], _values(), "asst1", 1, campus_of, FIRST, THROUGH)


@pytest.mark.parametrize(("over", "errors"), [
    ({"title": "  "}, {"title": "missing"}),
    ({"dept_ids": []}, {"dept_ids": "missing"}),
    ({"dept_ids": ["D001", "D004"]}, {"dept_ids": "outside_scope"}),
    ({"dept_ids": ["NOPE"]}, {"dept_ids": "outside_scope"}),
    ({"indicators": []}, {"indicators": "missing"}),
    ({"indicators": ["full_cost"]}, {"indicators": "unsupported"}),
    ({"start_date": "2026-13-01"}, {"start_date": "bad_date"}),
    ({"start_date": "2020-01-01"}, {"start_date": "out_of_range"}),
    ({"before_days": 3, "after_days": "x"}, {"before_days": "too_small", "after_days": "not_integer"}),
    ({"before_days": 10_000, "after_days": 30.5}, {"before_days": "too_large", "after_days": "not_integer"}),
    ({"status": "deleted"}, {"status": "bad_status"}),
])
def test_bad_project_input_is_refused_at_the_field_and_nothing_is_saved(store, over, errors) -> None:
    db, campus_of = store
    with pytest.raises(FieldErrors) as exc:
        create_project(db, ASST, _values(**over), "asst1", campus_of, FIRST, THROUGH)
    assert exc.value.errors == errors
    assert _count(db) == 0


# ---------------------------------------------------------------------------- the page
def _state(dept: str = "D001", opened=None, cells=None, labels=None, ncols: int = 2) -> list:
    cells = cells or [["", ""], ["", ""]]
    flat = []
    for r in range(2):
        for c in range(5):
            v = cells[r][c] if c < len(cells[r]) else ""
            flat.append({"id": {"type": "wsp-cell", "row": r, "col": c}, "property": "value", "value": v})
    labels = labels or ["Satisfied", "Not satisfied", "Outcome 3", "Outcome 4", "Outcome 5"]
    return [{"id": "ws-dept", "property": "value", "value": dept},
            {"id": "ws-period", "property": "value", "value": "ytd"},
            {"id": "wsp-open", "property": "data", "value": opened}, flat,
            [{"id": {"type": "wsp-label", "col": c}, "property": "value", "value": labels[c]} for c in range(5)],
            {"id": "wsp-ncols", "property": "value", "value": ncols}]


def _app_project(server, scope: Scope, **over) -> dict:
    state = server.extensions["hospdash"]
    deps = departments(state.warehouse, Scope.hospital())
    fresh = state.warehouse.freshness()
    return create_project(state.appdb, scope, _values(**over), "setup",
                          dict(zip(deps["dept_id"], deps["campus_id"], strict=True)), fresh.first_date,
                          fresh.data_through)


def _compare(server, client, pid, dept: str = "D001"):
    return post_callback(server, client, "wsp-compare.children",
                         [{"id": "wsp-open", "property": "data", "value": {"id": pid}},
                          {"id": "ws-dept", "property": "value", "value": dept}])


def test_comparison_callback_shows_the_tests_and_their_numbers(server) -> None:
    p = _app_project(server, ASST, indicators=["mortality", "alos", "outpatient_visits"], dept_ids=["D001", "D002"],
                     before_days=120, after_days=120)
    client = signed_in(server, "asst1")
    status, out = _compare(server, client, p["id"])
    assert status == 200
    data = {d["indicator"]: d for d in out["wsp-compare-data.data"]}
    wh = server.extensions["hospdash"].warehouse
    for code in ("mortality", "alos", "outpatient_visits"):
        ref = evaluate(wh, ASST, code, ("D001", "D002"), START, 120, 120)
        assert data[code]["p"] == pytest.approx(ref.p) and data[code]["n_before"] == ref.n_before
    chi = sps.chi2_contingency(np.array(data["mortality"]["table"]), correction=False)
    assert data["mortality"]["statistic"] == pytest.approx(chi.statistic) and data["mortality"]["dof"] == 1
    shown = texts(out["wsp-compare.children"])
    assert "Chi-square (Pearson, no continuity correction)" in shown and "Welch's t-test" in shown
    assert "at the 0.05 level" in shown and "95% CI" in shown
    assert json.dumps(out["wsp-compare.children"]).count('"type": "wsp-graph"') == 3  # a weekly chart per indicator


def test_comparison_says_too_few_at_the_indicator(server) -> None:
    p = _app_project(server, ASST, indicators=["outpatient_visits", "mortality"], start_date=str(THROUGH - timedelta(days=1)),
                     before_days=30, after_days=30)
    status, out = _compare(server, signed_in(server, "asst1"), p["id"])
    assert status == 200
    data = {d["indicator"]: d for d in out["wsp-compare-data.data"]}
    assert data["outpatient_visits"]["errors"] == {"after": "too_few"} and data["outpatient_visits"]["p"] is None
    assert "Too few observations in the after window (2; a test needs at least 3)" in texts(out["wsp-compare.children"])


def test_project_outside_the_scope_is_refused_and_audited(server, as_user) -> None:
    from pages.workspace.projects import layout

    other = _app_project(server, Scope.hospital(), dept_ids=["D001", "D004"])
    mine = _app_project(server, ASST)
    client = signed_in(server, "asst1")
    assert _compare(server, client, other["id"])[0] == 403
    status, _ = _compare(server, client, 99999)  # no such project: a message, not a 403
    assert status == 200
    with as_user("asst1"):
        page = layout(dept="D001", project=str(other["id"]))
        assert getattr(page, "id", None) == "forbidden"
        assert f"project {other['id']} covers departments outside your scope" in texts(page)
        assert "role" not in texts(page)  # the reason is the scope, not the role
        assert "There is no project number 99999" in texts(layout(dept="D001", project="99999"))
        assert "not valid" in texts(layout(dept="D001", project="1;drop"))
        assert "Day-surgery pathway" in texts(layout(dept="D001", project=str(mine["id"])))
    with as_user("lead1"):
        assert getattr(layout(dept="D001", project=str(other["id"])), "id", None) != "forbidden"
    audit = server.extensions["hospdash"].appdb.audit_entries(action="forbidden_project")
    assert any(e["detail"] == f"project={other['id']}" for e in audit)
    assert server.extensions["hospdash"].appdb.audit_entries(action="forbidden_callback")


def _save(server, client, edit=None, dept="D001", **fields):
    v = {"title": "Booking", "dept_ids": ["D001"], "indicators": ["alos"], "start_date": "2026-06-01",
         "before_days": 90, "after_days": 90, "description": "", "status": "active", **fields}
    ids = [("wsp-title", "value", "title"), ("wsp-depts", "value", "dept_ids"), ("wsp-indicators", "value", "indicators"),
           ("wsp-start", "value", "start_date"), ("wsp-before", "value", "before_days"), ("wsp-after", "value", "after_days"),
           ("wsp-description", "value", "description"), ("wsp-status", "value", "status")]
    state = [{"id": "ws-dept", "property": "value", "value": dept}, {"id": "ws-period", "property": "value", "value": "ytd"},
             {"id": "wsp-edit", "property": "data", "value": edit}] + [
        {"id": i, "property": prop, "value": v[key]} for i, prop, key in ids]
    return post_callback(server, client, "wsp-form-msg.children",
                         [{"id": "wsp-save", "property": "n_clicks", "value": 1}], state)


def test_save_callback_creates_edits_and_refuses_stale_and_bad_input(server) -> None:
    db = server.extensions["hospdash"].appdb
    client = signed_in(server, "asst1")
    status, out = _save(server, client, dept_ids=[], before_days=2, indicators=["full_cost"])
    assert status == 200 and _count(db) == 0
    assert texts(out["wsp-err-dept_ids.children"]) == "Required."
    assert texts(out["wsp-err-before_days.children"]) == "At least 7 days (the rule is 7 to 730)."
    assert "without a before/after test" in texts(out["wsp-err-indicators.children"])
    status, out = _save(server, client, dept_ids=["D001", "D004"])  # a department outside the scope
    assert status == 200 and _count(db) == 0
    assert "outside your scope" in texts(out["wsp-err-dept_ids.children"])
    assert db.audit_entries(action="forbidden_department")
    status, out = _save(server, client, title="Clinic booking")
    assert status == 200 and _count(db) == 1
    pid = int(list_projects(db, ASST)["id"].iloc[0])
    assert f"project={pid}" in out["_pages_location.search"] and "v=1" in out["_pages_location.search"]
    status, out = _save(server, client, edit={"id": pid, "version": 1}, title="Clinic booking v2")
    assert status == 200 and "v=2" in out["_pages_location.search"]
    status, out = _save(server, client, edit={"id": pid, "version": 1}, title="stale")
    assert status == 200 and "reload" in texts(out["wsp-form-msg.children"])
    assert get_project(db, ASST, pid)["title"] == "Clinic booking v2"
    foreign = _app_project(server, Scope.hospital(), dept_ids=["D004"])
    status, _ = _save(server, client, edit={"id": foreign["id"], "version": 1})
    assert status == 403 and get_project(db, Scope.hospital(), foreign["id"])["title"] == "Day-surgery pathway"
    assert _save(server, client, dept="D004")[0] == 403


def _manual(server, client, cells, ncols=2, labels=None):
    state = _state(cells=cells, labels=labels, ncols=ncols)
    return post_callback(server, client, "wsp-manual-result.children",
                         [{"id": "wsp-run", "property": "n_clicks", "value": 1},
                          {"id": "wsp-ncols", "property": "value", "value": ncols}], [state[3], state[4], state[0]])


@pytest.mark.parametrize("table", KNOWN)
def test_manual_table_callback_matches_scipy(server, table) -> None:
    client = signed_in(server, "asst1")
    status, out = _manual(server, client, [[str(x) for x in row] for row in table], ncols=len(table[0]))
    assert status == 200
    data = out["wsp-manual-data.data"]
    ref = sps.chi2_contingency(np.array(table), correction=False)
    assert data["table"] == table and data["chi2"] == pytest.approx(ref.statistic)
    assert data["p"] == pytest.approx(ref.pvalue) and data["dof"] == ref.dof
    assert f"{ref.statistic:.3f}" in texts(out["wsp-manual-result.children"])
    assert out["wsp-manual.className"].endswith(f"wsp-n{len(table[0])}")


def test_manual_table_callback_names_the_bad_cell(server) -> None:
    client = signed_in(server, "asst1")
    status, out = _manual(server, client, [["0", "0"], ["4", "5"]])
    assert status == 200 and out["wsp-manual-data.data"] == {"errors": {"table": "empty_row"}}
    assert "A row is all zeros" in texts(out["wsp-manual-result.children"])
    status, out = _manual(server, client, [["3", "-2", "1"], ["4", "5", "1.5"]], ncols=3,
                          labels=["Good", "Fair", "Poor", "x", "y"])
    assert out["wsp-manual-data.data"] == {"errors": {"r0c1": "negative", "r1c2": "not_integer"}}
    shown = texts(out["wsp-manual-result.children"])
    assert "Before × Fair: must not be negative." in shown and "After × Poor: must be a whole number." in shown


def test_exports_are_scoped_in_both_formats(server) -> None:
    mine = _app_project(server, ASST, indicators=["mortality", "alos"], before_days=120, after_days=120)
    other = _app_project(server, Scope.hospital(), dept_ids=["D001", "D004"], title="Not mine")
    client = signed_in(server, "asst1")
    for fmt in ("xlsx", "csv"):
        status, df, name = workspace_export(server, client, "projects", "list", fmt, _state())
        assert status == 200 and name.endswith(fmt)
        assert list(df["No."]) == [mine["id"]] and "Not mine" not in set(df["Title"])
        status, df, _ = workspace_export(server, client, "projects", "comparison", fmt, _state(opened={"id": mine["id"]}))
        assert status == 200 and list(df["Indicator"]) == ["Inpatient mortality", "Average length of stay"]
        ref = evaluate(server.extensions["hospdash"].warehouse, ASST, "alos", ("D001",), START, 120, 120)
        assert df.set_index("Indicator").loc["Average length of stay", "p"] == pytest.approx(ref.p, abs=5e-5)
        table = [[30, 20], [45, 5]]
        status, df, _ = workspace_export(server, client, "projects", "manual", fmt,
                                         _state(cells=[[str(x) for x in r] for r in table]))
        chi = sps.chi2_contingency(np.array(table), correction=False)
        assert status == 200 and list(df["Satisfied"].iloc[:2]) == [30, 45]
        assert float(df.set_index("Group").loc["p", "Satisfied"]) == pytest.approx(chi.pvalue, abs=5e-5)
    status, _, _ = workspace_export(server, client, "projects", "comparison", "csv", _state(opened={"id": other["id"]}))
    assert status == 403
    lead = signed_in(server, "lead1", "zh")
    status, df, _ = workspace_export(server, lead, "projects", "list", "csv", _state())
    assert status == 200 and set(df["编号"]) == {mine["id"], other["id"]}
    assert server.extensions["hospdash"].appdb.audit_entries(action="export")


def test_page_renders_in_both_languages(server, as_user) -> None:
    from pages.workspace.projects import layout

    p = _app_project(server, ASST)
    for lang, words in (("en", ("Improvement projects", "Chi-square test on a table typed by hand")),
                        ("zh", ("改善项目", "手工列联表卡方检验"))):
        with as_user("asst1", lang):
            shown = texts(layout(dept="D001", project=str(p["id"])))
        assert all(w in shown for w in words)


def test_a_window_or_start_date_out_of_rule_names_the_rule_not_required(server) -> None:
    """3 and 1000 days, 7.5 days, a blank (what a browser sends for a number it cannot read) and
    a start date that is no date each get a message that says what the rule is."""
    db = server.extensions["hospdash"].appdb
    client = signed_in(server, "asst1")
    told = {3: "At least 7 days (the rule is 7 to 730).", 1000: "At most 730 days (the rule is 7 to 730).",
            7.5: "Enter a whole number of days from 7 to 730.",
            None: "Enter the number of days: a whole number from 7 to 730."}
    for days, message in told.items():
        status, out = _save(server, client, before_days=days, after_days=days)
        assert status == 200 and _count(db) == 0
        assert texts(out["wsp-err-before_days.children"]) == message == texts(out["wsp-err-after_days.children"])
    status, out = _save(server, client, start_date="2030-13-45")
    assert status == 200 and _count(db) == 0
    assert texts(out["wsp-err-start_date.children"]) == "“2030-13-45” is not a date: write a real day as YYYY-MM-DD."
    zh = signed_in(server, "asst1", "zh")
    status, out = _save(server, zh, before_days=1000)
    assert texts(out["wsp-err-before_days.children"]) == "至多 730 天（允许 7 至 730 天）。"
    status, out = _save(server, client, before_days=7, after_days=730)
    assert status == 200 and _count(db) == 1


def test_the_form_leaves_dates_and_window_ranges_to_the_check_on_saving(server, as_user) -> None:
    """A date picker would drop 2030-13-45 silently, and a number input with min/max sends a blank
    for 1000: the form's start date is text and its window inputs carry no min/max."""
    from pages.workspace.projects import layout

    with as_user("asst1"):
        page = layout(dept="D001")
    found = {}
    stack = [page]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
        elif node is not None and not isinstance(node, (str, int, float)):
            if getattr(node, "id", None) in ("wsp-start", "wsp-before", "wsp-after"):
                found[node.id] = node
            stack.append(getattr(node, "children", None))
    assert found["wsp-start"].type == "text"
    assert all(getattr(found[i], "min", None) is None and getattr(found[i], "max", None) is None
               for i in ("wsp-before", "wsp-after"))


# ----------------------------------------------------------------------- the declared form
def test_the_project_form_is_a_declared_model_naming_every_bad_field_at_once(store) -> None:
    """read_form checks the whole ProjectForm and names each field that does not fit with the store's
    code; the rules that need the scope and the data range read them from the form's context."""
    from appdb.projects import FormRules, ProjectForm
    from data_layer.inputs import FormProblems, read_form

    _, campus_of = store
    rules = FormRules(ASST, campus_of, FIRST, THROUGH)
    with pytest.raises(FormProblems) as bad:
        read_form(ProjectForm, {"title": " ", "dept_ids": "D001,D004", "indicators": ["alos"] * 2 + ["full_cost"],
                                "start_date": "2030-13-45", "before_days": "", "after_days": 7.5,
                                "description": "x" * 4001, "status": "deleted"}, rules)
    assert {f: p.code for f, p in bad.value.problems.items()} == {
        "title": "missing", "dept_ids": "outside_scope", "indicators": "unsupported", "start_date": "bad_date",
        "before_days": "days_missing", "after_days": "not_integer", "description": "too_long", "status": "bad_status"}
    ok = read_form(ProjectForm, {"title": " Booking ", "dept_ids": ["D002", "D001", "D002"],
                                 "indicators": "alos, cmi,alos", "start_date": "2026-06-01T00:00", "before_days": "30",
                                 "after_days": 7.0}, rules)
    assert (ok.title, ok.dept_ids, ok.indicators, ok.start_date) == ("Booking", ["D001", "D002"], ["alos", "cmi"], START)
    assert (ok.before_days, ok.after_days, ok.description, ok.status) == (30, 7, None, "active")
    many = ["alos", "cmi", "mortality", "outpatient_visits", "discharges", "drug_share", "time_index"]
    with pytest.raises(FormProblems) as bad:
        read_form(ProjectForm, {**_values(indicators=many), "start_date": "2028-01-01"}, rules)
    assert {f: p.code for f, p in bad.value.problems.items()} == {"indicators": "too_many", "start_date": "out_of_range"}
    # a year after the data's last day, when that day is 29 February, is 28 February
    leap = FormRules(ASST, campus_of, FIRST, date(2028, 2, 29))
    assert read_form(ProjectForm, _values(start_date="2029-02-28"), leap).start_date == date(2029, 2, 28)


# ------------------------------------------------------------------------------ the list grid
def test_the_list_is_a_grid_of_every_project_in_scope_and_a_click_on_a_row_opens_it(server, as_user) -> None:
    from pages.workspace.projects import layout

    mine = [_app_project(server, ASST, title=f"Project {i}", dept_ids=["D002"] if i % 2 else ["D001"]) for i in range(25)]
    _app_project(server, Scope.hospital(), dept_ids=["D004"], title="Not mine")
    with as_user("asst1"):
        grid = find(layout(dept="D001"), "wsp-list")
    assert type(grid).__name__ == "AgGrid"
    assert sorted(r["id"] for r in grid.rowData) == sorted(p["id"] for p in mine)  # every row, none outside the scope
    deps = departments(server.extensions["hospdash"].warehouse, Scope.hospital()).set_index("dept_id")
    assert grid.rowData[0]["title"] == "Project 24" and grid.rowData[0]["departments"] == deps.loc["D001", "name_en"]
    cols = {c["field"]: c for c in grid.columnDefs}
    assert cols["title"]["pinned"] == "left" and "description" not in cols and "id" in cols
    assert all(c["sortable"] for c in cols.values()) and cols["start"]["filter"] == "agDateColumnFilter"
    assert grid.getRowId == "params.data.id"
    client = signed_in(server, "asst1")
    pid = mine[3]["id"]
    status, out = post_callback(server, client, "_pages_location.search",
                                [{"id": "wsp-list", "property": "cellClicked",
                                  "value": {"rowId": str(pid), "colId": "title", "value": "Project 3"}}],
                                [{"id": "ws-dept", "property": "value", "value": "D001"},
                                 {"id": "ws-period", "property": "value", "value": "last-month"}])
    assert status == 200 and out["_pages_location.search"] == f"?dept=D001&period=last-month&project={pid}"
    status, out = post_callback(server, client, "_pages_location.search",
                                [{"id": "wsp-list", "property": "cellClicked", "value": {"rowId": "1;drop"}}],
                                [{"id": "ws-dept", "property": "value", "value": "D001"},
                                 {"id": "ws-period", "property": "value", "value": "ytd"}])
    assert status in (200, 204) and "_pages_location.search" not in out  # a forged row id goes nowhere
    with as_user("asst1", "zh"):
        grid = find(layout(dept="D001"), "wsp-list")
    assert grid.columnDefs[0]["headerName"] == "项目名称" and grid.rowData[0]["status"] == "进行中"


def test_an_empty_list_says_so(server, as_user) -> None:
    from pages.workspace.projects import layout

    with as_user("asst1"):
        page = layout(dept="D001")
    assert find(page, "wsp-list") is None and "no improvement project" in texts(page).lower()


@pytest.mark.browser
def test_browser_list_grid_draws_its_rows_and_a_click_opens_the_project(dash_duo, server) -> None:
    from .helpers import serve

    mine = [_app_project(server, ASST, title=f"Project {i}") for i in range(3)]
    serve(dash_duo, server)
    sign_in_browser(dash_duo, "asst1")
    dash_duo.wait_for_element(".ws-tabs", timeout=30)
    dash_duo.driver.get(dash_duo.server.url + "/workspace/projects?dept=D001&period=ytd")
    rows = ".wsp-list-grid .ag-center-cols-container .ag-row"
    dash_duo.wait_for_element(rows, timeout=30)
    assert len(dash_duo.find_elements(rows)) == 3
    pid = mine[1]["id"]
    cell = dash_duo.find_element(f".wsp-list-grid .ag-center-cols-container .ag-row[row-id='{pid}'] .ag-cell")
    click(dash_duo, cell)
    dash_duo.wait_for_element("#wsp-head", timeout=30)
    assert f"project={pid}" in dash_duo.driver.current_url
    dash_duo.wait_for_contains_text("#ws-sec-projects-compare h2", "Before and after: Project 1", timeout=30)
