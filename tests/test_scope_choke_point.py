"""The scope choke point: no query function and no store reader lets a department outside the
caller's scope come back.

Every public function of data_layer.queries.* that takes (wh, scope, ...) is called with a
department scope, a campus scope and a scope that covers no department, once with a department
argument inside the scope and once with one outside it. Its answer (frames, dicts, lists,
dataclasses, walked to the leaves) must hold no id or name of an out-of-scope department, nor of
its wards, medical groups, doctors and devices, nor an out-of-scope campus; under the scope that
covers nothing, no figure either (every number 0 or missing). A new public function that is not
in the argument table below fails the test until it is added. The application database's
readers (alerts, appraisals, reports, projects) are walked the same way on SQLite, PostgreSQL
and MariaDB.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

import data_layer.queries as queries_pkg
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.before_after import KINDS
from data_layer.queries.revenue import DrillPath
from data_layer.registry import Level
from data_layer.schema import (
    dim_campus,
    dim_department,
    dim_doctor,
    dim_equipment,
    dim_medical_group,
    dim_ward,
    fact_inpatient_case,
)
from data_layer.scope import Scope
from data_layer.sources import Filters
from data_layer.warehouse import Warehouse

from .conftest import NOW, THROUGH

YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
RECENT = Period(date(2026, 1, 1), date(2026, 10, 31))
MONTH = date(2026, 10, 1)
CODES = ("discharges", "outpatient_visits", "revenue_total", "alos", "bed_occupancy", "drug_share", "balance")


# ------------------------------------------------------------------------------ the hospital
class Dims(NamedTuple):
    """The demo hospital's members, read straight from the dimension tables (not through a query)."""

    depts: pd.DataFrame  # dept_id, campus_id, name_zh, name_en
    campuses: pd.DataFrame  # campus_id, name_zh, name_en
    members: pd.DataFrame  # kind, id, dept_id: wards, groups, doctors (and their names), devices
    drg_of: dict[str, str]  # department -> its most frequent DRG group
    case_of: dict[str, str]  # department -> one of its cases
    group_of: dict[str, str]
    doctor_of: dict[str, str]
    ward_of: dict[str, str]
    device_of: dict[str, tuple[str, str]]  # department -> (equipment_id, category)
    dip_of: dict[str, str]  # department -> its most frequent DIP packet (departments with DIP cases)


@pytest.fixture(scope="module")
def dims(wh: Warehouse) -> Dims:
    with wh.engine.connect() as conn:
        def frame(stmt) -> pd.DataFrame:
            r = conn.execute(stmt)
            return pd.DataFrame(r.fetchall(), columns=list(r.keys()))

        d = dim_department.c
        depts = frame(select(d.dept_id, d.campus_id, d.name_zh, d.name_en))
        campuses = frame(select(dim_campus.c.campus_id, dim_campus.c.name_zh, dim_campus.c.name_en))
        w, g, doc, e = dim_ward.c, dim_medical_group.c, dim_doctor.c, dim_equipment.c
        parts = [frame(select(w.ward_id.label("id"), w.dept_id)).assign(kind="ward"),
                 frame(select(w.name_zh.label("id"), w.dept_id)).assign(kind="ward_name"),
                 frame(select(w.name_en.label("id"), w.dept_id)).assign(kind="ward_name"),
                 frame(select(g.group_id.label("id"), g.dept_id)).assign(kind="group"),
                 frame(select(g.name_zh.label("id"), g.dept_id)).assign(kind="group_name"),
                 frame(select(g.name_en.label("id"), g.dept_id)).assign(kind="group_name"),
                 frame(select(doc.doctor_id.label("id"), doc.dept_id)).assign(kind="doctor"),
                 frame(select(doc.name.label("id"), doc.dept_id)).assign(kind="doctor_name"),
                 frame(select(e.equipment_id.label("id"), e.dept_id)).assign(kind="device"),
                 frame(select(e.name_zh.label("id"), e.dept_id)).assign(kind="device_name"),
                 frame(select(e.name_en.label("id"), e.dept_id)).assign(kind="device_name")]
        members = pd.concat(parts, ignore_index=True)
        ip = fact_inpatient_case.c
        cases = frame(select(ip.case_id, ip.dept_id, ip.drg_code, ip.group_id, ip.doctor_id, ip.ward_id)
                      .where(ip.discharge_date.between(RECENT.start, RECENT.end), ip.drg_code.is_not(None),
                             ip.group_id.is_not(None), ip.doctor_id.is_not(None)).order_by(ip.case_id))
        devices = frame(select(e.equipment_id, e.dept_id, e.category).order_by(e.equipment_id))
        dips = frame(select(ip.dept_id, ip.dip_code).where(ip.discharge_date.between(RECENT.start, RECENT.end),
                                                           ip.dip_code.is_not(None)).order_by(ip.case_id))
    drg_of = {k: v.value_counts().index[0] for k, v in cases.groupby("dept_id")["drg_code"]}
    first = cases[cases["drg_code"] == cases["dept_id"].map(drg_of)].groupby("dept_id").first()
    return Dims(depts, campuses, members, drg_of, first["case_id"].to_dict(), first["group_id"].to_dict(),
                first["doctor_id"].to_dict(), first["ward_id"].to_dict(),
                {r.dept_id: (r.equipment_id, r.category) for r in devices.groupby("dept_id").first().reset_index()
                 .itertuples()},
                {k: v.value_counts().index[0] for k, v in dips.groupby("dept_id")["dip_code"]})


def forbidden(dims: Dims, scope: Scope) -> dict[str, str]:
    """Every text that names something outside the scope -> what it is. A name that an in-scope
    member shares (two doctors of the same name) is left out: it would prove nothing."""
    allowed = {r.dept_id for r in dims.depts.itertuples() if scope.allows_department(r.dept_id, r.campus_id)}
    out: dict[str, str] = {}
    for r in dims.depts.itertuples():
        if r.dept_id not in allowed:
            out.update({r.dept_id: f"department {r.dept_id}", r.name_zh: f"name of {r.dept_id}",
                        r.name_en: f"name of {r.dept_id}"})
    campuses_in = set(dims.depts.loc[dims.depts["dept_id"].isin(allowed), "campus_id"])
    for r in dims.campuses.itertuples():
        if r.campus_id not in campuses_in:
            out.update({r.campus_id: f"campus {r.campus_id}", r.name_zh: f"name of campus {r.campus_id}",
                        r.name_en: f"name of campus {r.campus_id}"})
    inside = set(dims.members.loc[dims.members["dept_id"].isin(allowed), "id"])
    for r in dims.members.itertuples():
        if r.dept_id not in allowed and r.id not in inside:
            out[str(r.id)] = f"{r.kind} {r.id} of {r.dept_id}"
    return out


def leaves(x: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf value of an answer, with where it sits (frames by column, dicts by key)."""
    if isinstance(x, pd.DataFrame):
        for col in x.columns:
            yield from ((f"{path}[{col}]", v) for v in x[col].tolist())
        yield from ((f"{path}.index", v) for v in x.index.tolist())
        yield from leaves(dict(x.attrs), f"{path}.attrs")
    elif isinstance(x, pd.Series):
        yield from ((f"{path}[{k}]", v) for k, v in x.items())
        yield from ((f"{path}.index", v) for v in x.index.tolist())
    elif isinstance(x, dict):
        for k, v in x.items():
            yield f"{path}.key", k
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(x, list | tuple | set | frozenset):
        for i, v in enumerate(x):
            yield from leaves(v, f"{path}[{i}]")
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            yield from leaves(getattr(x, f.name), f"{path}.{f.name}")
    else:
        yield path, x


def leaks(answer: Any, bad: dict[str, str], echoes: tuple[str, ...] = ()) -> list[str]:
    return [f"{where}: {value!r} ({bad[value]})" for where, value in leaves(answer)
            if isinstance(value, str) and value in bad and where not in echoes]


def figures(answer: Any, ignore: tuple[str, ...] = ()) -> list[str]:
    """Numbers other than 0 or missing (dates, flags and the `ignore`d places aside)."""
    out = []
    for where, value in leaves(answer):
        if where.endswith(".index") or any(part in where for part in ignore) or isinstance(value, bool | np.bool_):
            continue
        if isinstance(value, int | float | np.integer | np.floating) and not (
                value == 0 or (isinstance(value, float | np.floating) and math.isnan(value))):
            out.append(f"{where}: {value!r}")
    return out


# ------------------------------------------------------------------------ the argument table
class Ctx(NamedTuple):
    dims: Dims
    dept: str  # the department argument: inside or outside the scope


def _kind(kind: str) -> str:
    return next(c for c, s in KINDS.items() if s.kind == kind)


def _path(c: Ctx, doctor: bool = False) -> DrillPath:
    return DrillPath(c.dept, "group", group=c.dims.group_of.get(c.dept, "G0"),
                     doctor=c.dims.doctor_of.get(c.dept) if doctor else None)


# name -> calls: each a (args after wh and scope, kwargs); one call is a tuple of args
Calls = Callable[[Ctx], list[tuple]]
CASES: dict[str, Calls] = {
    "beds.census_by_department": lambda c: [(THROUGH,)],
    "before_after.proportion_counts": lambda c: [(_kind("proportion"), (c.dept,), RECENT.start, RECENT.end)],
    "before_after.case_values": lambda c: [(_kind("case"), (c.dept,), RECENT.start, RECENT.end)],
    "before_after.daily_values": lambda c: [(_kind("daily"), (c.dept,), RECENT.start, RECENT.end)],
    "before_after.evaluate": lambda c: [(code, (c.dept,), date(2026, 5, 1), 60, 60)
                                        for code in (_kind("proportion"), _kind("case"), _kind("daily"))],
    "before_after.evaluate_project": lambda c: [((_kind("case"), _kind("daily")), (c.dept,), date(2026, 5, 1), 60,
                                                 60)],
    "budget.budget_lines": lambda c: [(RECENT,), (RECENT, c.dept)],
    "budget.budget_monthly": lambda c: [(c.dept, 2026), (c.dept, 2025, None, THROUGH)],
    "day_surgery.summary": lambda c: [(RECENT,), (YEAR,)],
    "day_surgery.by_department": lambda c: [(RECENT,)],
    "day_surgery.by_group": lambda c: [(RECENT,)],
    "day_surgery.candidates": lambda c: [(RECENT, "department", 10), (RECENT, "group", 10)],
    "day_surgery.share_trend": lambda c: [(THROUGH,), (THROUGH, 6)],
    "department.cost_breakdown": lambda c: [(c.dept, YEAR)],
    "department.group_table": lambda c: [(c.dept, RECENT)],
    "department.target_drivers": lambda c: [(c.dept, "discharges", THROUGH, Level.group),
                                            (c.dept, "outpatient_visits", THROUGH, Level.doctor)],
    "department.target_months": lambda c: [(c.dept, "discharges", 1000.0, THROUGH)],
    "department.ward_census": lambda c: [(c.dept, RECENT)],
    "department.ward_table": lambda c: [(c.dept, RECENT)],
    "drg.drg_groups": lambda c: [(RECENT,), (RECENT, Filters(department=(c.dept,)))],
    "drg.drg_departments": lambda c: [(RECENT, c.dims.drg_of.get(c.dept, "XX00"))],
    "drg.drg_cost_structure": lambda c: [(RECENT, c.dims.drg_of.get(c.dept, "XX00"))],
    "drg_detail.group_table": lambda c: [(c.dept, RECENT, 2.0, 0.5)],
    "drg_detail.group_cases": lambda c: [(c.dept, RECENT, c.dims.drg_of.get(c.dept, "XX00"), 2.0, 0.5)],
    "drg_detail.stay_spread": lambda c: [(c.dept, RECENT)],
    "drill.alert_rows": lambda c: [
        (c.dept, ind, RECENT) for ind in ("material_share", "outpatient_visits", "bed_occupancy",
                                          "energy_per_10k_revenue", "budget_execution")] + [
        (c.dept, "equipment_utilization", RECENT, "equipment", c.dims.device_of.get(c.dept, ("E0", ""))[0])],
    "equipment.device_departments": lambda c: [()],
    "equipment.device_table": lambda c: [(c.dept, YEAR, 0.8)],
    "equipment.category_devices": lambda c: [(c.dept, c.dims.device_of.get(c.dept, ("", "CT"))[1] or "CT",
                                              THROUGH, 0.8)],
    "equipment.workdays_last_full_year": lambda c: [()],
    "kpis.indicator_values": lambda c: [(CODES, YEAR, lv) for lv in (Level.hospital, Level.campus,
                                                                     Level.department, Level.ward, Level.doctor)]
    + [(CODES, YEAR, Level.department, Filters(department=(c.dept,)), "month")],
    "kpis.compare": lambda c: [(CODES, RECENT, Level.department), (CODES, RECENT, Level.hospital)],
    "kpis.compare_periods": lambda c: [(CODES, (RECENT, YEAR), Level.department),
                                       (CODES, (Period(MONTH, date(2026, 10, 31)), YEAR), Level.hospital, Filters(), False)],
    "kpis.values_of_periods": lambda c: [(CODES, (YEAR, RECENT), Level.group, Filters(department=(c.dept,)), None)],
    "live.live_rows": lambda c: [(NOW - timedelta(days=2),)],
    "scorecard.benchmarks": lambda c: [(2026,)],
    "dip.point_values": lambda c: [()],
    "dip.dip_points": lambda c: [(YEAR,), (RECENT,)],
    "dip.packet_names": lambda c: [()],
    "dip.latest_point_values": lambda c: [(), (THROUGH,)],
    "dip.packet_table": lambda c: [(YEAR,), (RECENT, Filters(department=(c.dept,)))],
    "dip.department_table": lambda c: [(YEAR,), (RECENT, Filters(department=(c.dept,)))],
    "dip.scheme_split": lambda c: [(RECENT,), (RECENT, Filters(department=(c.dept,)))],
    "dip.packet_cases": lambda c: [(RECENT, c.dims.dip_of.get(c.dept, "C-XX00")),
                                   (RECENT, c.dims.dip_of.get(c.dept, "C-XX00"), Filters(department=(c.dept,)))],
    "dip.sensitivity": lambda c: [(RECENT,), (RECENT, 0.1, Filters(department=(c.dept,)))],
    "dip.settlement_effect": lambda c: [(), (Filters(department=(c.dept,)),)],
    "scorecard.scorecard": lambda c: [()],
    "scorecard.trend": lambda c: [("alos",), ("readmission_31d_rate", 12)],
    "scorecard.trends": lambda c: [(("alos", "day_surgery_share", "balance"),), (("readmission_31d_rate",), 12)],
    "scorecard.drags": lambda c: [("alos",), ("level4_surgery_share", 3), ("balance",), ("day_surgery_share",)],
    "scorecard.breakdown": lambda c: [("alos", RECENT), ("personnel_cost_share", RECENT),
                                      ("alos", RECENT, "drg", c.dept), ("day_surgery_share", RECENT, "drg")],
    "scorecard.item_cases": lambda c: [("alos", RECENT), ("preop_days", RECENT, c.dept),
                                       ("alos", RECENT, c.dept, c.dims.drg_of.get(c.dept))],
    "scorecard.item_case_count": lambda c: [("alos", RECENT), ("low_risk_mortality", RECENT, c.dept)],
    "live.current_figures": lambda c: [(sorted(c.dims.campuses["campus_id"]), NOW, timedelta(minutes=30)),
                                       (sorted(c.dims.campuses["campus_id"]), NOW + timedelta(days=3),
                                        timedelta(minutes=30))],
    "live.figures_at": lambda c: [(NOW,)],
    "live.day_curve": lambda c: [(NOW.date(), NOW)],
    "live.day_curves": lambda c: [((NOW.date(), NOW.date() - timedelta(days=1), NOW.date() - timedelta(days=7)), NOW)],
    "live.latest_day": lambda c: [(THROUGH,)],
    "live.day_and_week_before": lambda c: [(THROUGH,)],
    "monitor.cost_composition": lambda c: [(c.dept, YEAR)],
    "monitor.hospital_medians": lambda c: [(YEAR,)],
    "monitor.monitor_table": lambda c: [(c.dept, YEAR)],
    "names.level_names": lambda c: [(lv,) for lv in Level],
    "operations.device_daily": lambda c: [(RECENT,)],
    "operations.budget_monthly": lambda c: [(RECENT,)],
    "portfolio.portfolio": lambda c: [(RECENT,)],
    "profit.department_profit": lambda c: [(YEAR,)],
    "report.generate": lambda c: [(c.dept, MONTH)],
    "report.revenue_components": lambda c: [(c.dept, RECENT)],
    "revenue.members": lambda c: [(RECENT, "all", DrillPath()), (RECENT, "all", DrillPath(c.dept)),
                                  (RECENT, "all", DrillPath(c.dept, "ward")), (RECENT, "all", _path(c))],
    "revenue.names": lambda c: [("department", None), ("ward", c.dept), ("group", c.dept), ("doctor", c.dept)],
    "revenue.check_path": lambda c: [(_path(c, doctor=True),)],
    "revenue.case_rows": lambda c: [(RECENT, "all", _path(c, doctor=True))],
    "revenue.day_rows": lambda c: [(RECENT, "all", _path(c, doctor=True))],
    "revenue.row_counts": lambda c: [(RECENT, "all", DrillPath(c.dept)), (RECENT, "all", DrillPath())],
    "revenue.case_detail": lambda c: [(RECENT, _path(c, doctor=True), c.dims.case_of.get(c.dept, "X"))],
    "revenue.drg_peers": lambda c: [(RECENT, c.dept, c.dims.drg_of.get(c.dept, "XX00"))],
    "revenue.busiest_doctors": lambda c: [(RECENT, 50)],
    "revenue_view.place_totals": lambda c: [(DrillPath(c.dept), "all", RECENT), (_path(c, doctor=True), "all", RECENT)],
    "revenue_view.structure_frame": lambda c: [(DrillPath(c.dept), "all", RECENT)],
    "revenue_view.level_frame": lambda c: [(DrillPath(), "all", RECENT), (DrillPath(c.dept), "inpatient", RECENT)],
    "structure.departments": lambda c: [()],
    "structure.department_campuses": lambda c: [()],
    "structure.summary": lambda c: [()],
    "structure.medical_groups": lambda c: [()],
    "targets.targets": lambda c: [(c.dept, 2026)],
    "targets.target_progress": lambda c: [(c.dept, THROUGH)],
    "targets.targets_progress": lambda c: [((c.dept,), THROUGH)],
    "pace.pace_curve": lambda c: [("discharges", 1000.0, THROUGH)],
}

# Answers that hold figures whatever the scope, by design (no department's data in them).
SCOPE_FREE = {
    "equipment.workdays_last_full_year": "the calendar's working days",
    "monitor.hospital_medians": "the whole hospital's medians, a benchmark every department is compared with",
    "pace.pace_curve": "the pace of a target over the year: calendar shares only",
    "scorecard.benchmarks": "published reference values (national, provincial, peer medians, targets): other hospitals",
    "dip.point_values": "the pooling region's point values, the same for every hospital in it",
    "dip.packet_names": "the region's DIP packet catalogue and its scores",
    "dip.latest_point_values": "the pooling region's latest point value per fund",
}
# Where an answer carries numbers that are not figures of a department in the scope.
NOT_FIGURES: dict[str, tuple[str, ...]] = {
    "budget.budget_lines": (".attrs.elapsed",),  # the share of the year gone
    "department.target_months": ("[expected]",),  # the pace of the target given as an argument
    "report.generate": (".hospital",),
    "dip.sensitivity": (".attrs.cut",),  # the cut asked about  # the whole hospital's medians beside the figures (a benchmark)
    # the published reference values beside each appraisal item
    "scorecard.scorecard": ("[national_median]", "[provincial_median]", "[peer_median]", "[target]", "[benchmark_year]"),
}
# Where an answer repeats the department it was asked about (not data: its figures are checked).
ECHOES = {"report.generate": (".dept_id",)}
# Public functions reading the warehouse without a scope: calendar and freshness only.
NO_SCOPE = {"revenue_view.periods", "budget.budget_window", "pace.elapsed", "pace.working_days", "report.check_month",
            "kpis.unavailable", "scorecard.year_to_date", "dip.has_dip",
            "day_surgery.has_elective", "drg.drg_only"}  # read the calendar, freshness or capabilities only


def query_functions() -> dict[str, Callable[..., Any]]:
    """Every public function of data_layer.queries.* whose first parameters are (wh, scope), and
    the public ones taking a warehouse without a scope."""
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.iter_modules(queries_pkg.__path__):
        mod = importlib.import_module(f"{queries_pkg.__name__}.{info.name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != mod.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params[:1] == ["wh"]:
                found[f"{info.name}.{name}"] = fn
    return found


def test_every_query_function_is_in_the_table() -> None:
    found = query_functions()
    scoped = {k for k, fn in found.items() if list(inspect.signature(fn).parameters)[1:2] == ["scope"]}
    assert not (set(found) - scoped - NO_SCOPE), "a query reads the warehouse without taking a scope"
    assert not (scoped - set(CASES)), "add the new query functions to CASES with sample arguments"
    assert not (set(CASES) - scoped), "CASES names functions that are gone"


DEPT_SCOPE = Scope.departments({"D004", "D014"})  # Cardiology and Radiology, campus C1
CAMPUS_SCOPE = Scope.campuses({"C2"})
NOWHERE = Scope.departments({"D999"})  # a scope that covers no department at all
RUNS = [  # (scope, department argument inside it, one outside it on another or the same campus)
    pytest.param(DEPT_SCOPE, "D004", "D002", id="departments"),
    pytest.param(CAMPUS_SCOPE, "D012", "D003", id="campus"),
]


def _call(fn: Callable[..., Any], wh: Warehouse, scope: Scope, args: tuple) -> Any:
    try:
        return fn(wh, scope, *args)
    except UserError:  # refused: nothing came back
        return None


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize(("scope", "inside", "outside"), RUNS)
def test_no_department_outside_the_scope_comes_back(wh: Warehouse, dims: Dims, name: str, scope: Scope,
                                                    inside: str, outside: str) -> None:
    fn = query_functions()[name]
    bad = forbidden(dims, scope)
    calls = CASES[name](Ctx(dims, inside))
    calls += [a for a in CASES[name](Ctx(dims, outside)) if a not in calls]
    for args in calls:
        if True:
            got = _call(fn, wh, scope, args)
            assert not leaks(got, bad, ECHOES.get(name, ())), f"{name}{args} under {scope.key}: {leaks(got, bad)[:5]}"
            if outside in repr(args) and name not in SCOPE_FREE:  # asking for an outside department by id
                found = figures(got, NOT_FIGURES.get(name, ()))
                assert not found, f"{name}{args} under {scope.key} answered for {outside}: {found[:5]}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_scope_covering_nothing_gets_nothing(wh: Warehouse, dims: Dims, name: str) -> None:
    """No name and no figure under a scope without departments: a call site that dropped the
    filter answers with the whole hospital's rows or sums here, whatever the shape of its answer."""
    fn = query_functions()[name]
    bad = forbidden(dims, NOWHERE)
    for args in CASES[name](Ctx(dims, "D004")):
        got = _call(fn, wh, NOWHERE, args)
        assert not leaks(got, bad, ECHOES.get(name, ())), f"{name}{args}: {leaks(got, bad)[:5]}"
        if name not in SCOPE_FREE:
            found = figures(got, NOT_FIGURES.get(name, ()))
            assert not found, f"{name}{args} answered under a scope covering nothing: {found[:5]}"


def test_aggregates_equal_the_scope_restricted_computation(wh: Warehouse, dims: Dims) -> None:
    """Sums without a department column: the scoped answer equals the same sum restricted by hand."""
    from data_layer.queries.kpis import indicator_values
    from data_layer.queries.structure import summary

    for scope in (DEPT_SCOPE, CAMPUS_SCOPE):
        allowed = [r.dept_id for r in dims.depts.itertuples() if scope.allows_department(r.dept_id, r.campus_id)]
        got = summary(wh, scope)
        mine = dims.members[dims.members["dept_id"].isin(allowed)]
        assert got["wards"] == (mine["kind"] == "ward").sum()
        assert got["medical_groups"] == (mine["kind"] == "group").sum()
        assert got["doctors"] == (mine["kind"] == "doctor").sum()
        assert got["devices"] == (mine["kind"] == "device").sum()
        assert got["campuses"] == dims.depts.loc[dims.depts["dept_id"].isin(allowed), "campus_id"].nunique()
        volumes = ("discharges", "outpatient_visits", "revenue_total")
        scoped_total = indicator_values(wh, scope, volumes, YEAR, Level.hospital).set_index("indicator")["value"]
        by_hand = indicator_values(wh, Scope.hospital(), volumes, YEAR, Level.hospital,
                                   Filters(department=tuple(allowed))).set_index("indicator")["value"]
        assert scoped_total.gt(0).all()
        pd.testing.assert_series_equal(scoped_total.sort_index(), by_hand.sort_index(), check_names=False)


# --------------------------------------------------------------------- the application database
STORE_READERS = {  # module.function -> calls: (args after db and scope) given (inside, outside, campus ids)
    "alerts.list_alerts": lambda i, o: [((), {}), ((), {"dept_ids": [i, o]})],
    "alerts.get_alert": lambda i, o: [((a,), {}) for a in ALERT_IDS],
    "alerts.open_counts": lambda i, o: [((), {})],
    "alerts.open_counts_by_department": lambda i, o: [((), {}), (([i, o],), {})],
    "appraisals.list_appraisals": lambda i, o: [((i,), {}), ((o,), {})],
    "appraisals.get_appraisal": lambda i, o: [((a,), {}) for a in APPRAISAL_IDS],
    "reports.list_reports": lambda i, o: [((), {}), (([i, o],), {})],
    "reports.get_report": lambda i, o: [((r,), {}) for r in REPORT_IDS],
    "reports.month_alerts": lambda i, o: [((i, date(2026, 10, 1)), {}), ((o, date(2026, 10, 1)), {})],
    "projects.list_projects": lambda i, o: [((), {})],
    "projects.get_project": lambda i, o: [((p,), {}) for p in PROJECT_IDS],
    "quality.list_findings": lambda i, o: [((), {})],
    "quality.trend": lambda i, o: [((), {})],
    "quality.quality_alerts": lambda i, o: [((), {})],
}
# Readers answering with a key for every department asked about (counts of 0 when outside the scope).
STORE_ECHOES = {"alerts.open_counts_by_department": (".key",)}
# Functions taking a scope that change rows (they refuse outside the scope through the readers
# above, or check the department before writing) or only check input.
STORE_WRITERS = {"alerts.transition", "alerts.add_note", "appraisals.save_appraisal", "reports.create_draft",
                 "reports.save_findings", "reports.publish", "projects.create_project", "projects.update_project",
                 "projects.validate"}
# Readers answering table names only (no department, no figure): a data-quality finding about the
# whole hospital marks every reader's pages (the mark beside the freshness stamp).
STORE_NAMES_ONLY = {"quality.red_tables"}
ALERT_IDS: list[int] = []
APPRAISAL_IDS: list[int] = []
REPORT_IDS: list[int] = []
PROJECT_IDS: list[int] = []


def store_functions() -> dict[str, Callable[..., Any]]:
    found = {}
    for mod_name in ("alerts", "appraisals", "reports", "projects", "store", "quality"):
        mod = importlib.import_module(f"appdb.{mod_name}")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == mod.__name__ and "scope" in inspect.signature(fn).parameters:
                found[f"{mod_name}.{name}"] = fn
    return found


def test_every_store_function_taking_a_scope_is_known() -> None:
    found = set(store_functions())
    assert not (found - set(STORE_READERS) - STORE_WRITERS - STORE_NAMES_ONLY), \
        "add the new store function to STORE_READERS"
    assert not ((set(STORE_READERS) | STORE_WRITERS | STORE_NAMES_ONLY) - found), \
        "the tables name functions that are gone"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def filled_app_db(request: pytest.FixtureRequest, tmp_path: Path, dims: Dims):
    """An application database with alerts, appraisals, reports and projects in every campus,
    written through the stores themselves with the whole hospital's scope."""
    from appdb.alerts import save_scan
    from appdb.appraisals import save_appraisal
    from appdb.projects import create_project
    from appdb.quality import record_run
    from appdb.reports import create_draft
    from appdb.store import AppDB
    from data_layer.alerts.detect import Alert
    from data_layer.quality import Finding, QualityResult
    from data_layer.stats import appraise

    from .test_appdb import _app_database

    campus_of = dict(zip(dims.depts["dept_id"], dims.depts["campus_id"], strict=True))
    depts = ["D002", "D003", "D004", "D011", "D012", "D013", "D014", "D015"]
    for url in _app_database(request.param, tmp_path):
        db = AppDB(url)
        db.migrate()
        hosp = Scope.hospital()
        save_scan(db, [Alert("robust_z", "red", d, "alos", date(2026, 10, 1), date(2026, 10, 31), 9.0, 7.0, 6.0,
                             8.0, 0.28, "test") for d in depts], campus_of)
        for d in depts:
            save_appraisal(db, hosp, dept_id=d, campus_id=campus_of[d], device_name=f"CT {d}", category="CT",
                           inputs={}, result=appraise(APPRAISAL_INPUTS), existing=[], username="t")
            create_draft(db, hosp, d, campus_of[d], date(2026, 10, 1), {"figures": []}, [], "t")
        record_run(db, QualityResult(date(2026, 11, 21), [
            Finding("missing_doctor", "red", 3, "fact_inpatient_case", d, [{"case_id": f"IP-{d}", "dept_id": d}])
            for d in depts] + [Finding("short_load", "red", 9, "fact_outpatient_daily")], [], {}, ["missing_doctor"]),
            campus_of, datetime(2026, 11, 22, 3, 0))
        for group in (["D004"], ["D004", "D014"], ["D004", "D002"], ["D011", "D012"], ["D012"], ["D003", "D011"],
                      ["D013"]):
            create_project(db, hosp, {"title": "p " + ",".join(group), "dept_ids": group, "indicators": ["alos"],
                                      "start_date": date(2026, 5, 1), "before_days": 60, "after_days": 60},
                           "t", campus_of, date(2025, 1, 1), THROUGH)
        yield db
        db.engine.dispose()


APPRAISAL_INPUTS = {"price": "3000000", "exams_per_day": "40", "charge_per_exam": "300",
                    "maintenance_per_year": "200000", "staff_cost_per_year": "300000", "consumables_per_exam": "20",
                    "working_days": "250", "service_life_years": "6", "residual_rate": "5", "discount_rate": "5"}


@pytest.mark.parametrize(("scope", "inside", "outside"), RUNS)
def test_no_store_reader_returns_a_department_outside_the_scope(filled_app_db, dims: Dims, scope: Scope,
                                                                inside: str, outside: str) -> None:
    from sqlalchemy import select as sel

    from appdb.schema import alerts, appraisals, projects, reports

    db = filled_app_db
    with db.engine.connect() as conn:
        ALERT_IDS[:] = [r[0] for r in conn.execute(sel(alerts.c.id))]
        APPRAISAL_IDS[:] = [r[0] for r in conn.execute(sel(appraisals.c.id))]
        REPORT_IDS[:] = [r[0] for r in conn.execute(sel(reports.c.id))]
        PROJECT_IDS[:] = [r[0] for r in conn.execute(sel(projects.c.id))]
    bad = forbidden(dims, scope)
    readers = store_functions()
    seen_inside = set()
    for name, calls in STORE_READERS.items():
        for args, kwargs in calls(inside, outside):
            got = readers[name](db, scope, *args, **kwargs)
            found = leaks(got, bad, STORE_ECHOES.get(name, ()))
            if name in STORE_ECHOES:  # a department asked for by id is echoed, with nothing in it
                found += [f"{k}: {got[k]}" for k in got if k in bad and figures(got[k])]
            # projects hold their departments as one comma-separated text: split it
            for where, value in leaves(got):
                if isinstance(value, str) and "," in value:
                    found += [f"{where}: {value!r}" for part in value.split(",") if part in bad]
            assert not found, f"{name}{args} under {scope.key}: {found[:5]}"
            seen_inside |= {v for _, v in leaves(got) if v == inside}
    assert inside in seen_inside, "the readers returned nothing of the department inside the scope"


def test_projects_are_filtered_by_the_database(filled_app_db) -> None:
    """A project is seen only when every one of its departments lies in the scope (or campus)."""
    from appdb.projects import list_projects

    def titles(scope: Scope) -> set[str]:
        return set(list_projects(filled_app_db, scope)["title"])

    assert titles(DEPT_SCOPE) == {"p D004", "p D004,D014"}
    assert titles(CAMPUS_SCOPE) == {"p D011,D012", "p D012"}
    assert titles(Scope.campuses({"C1", "C2"})) == {"p D004", "p D004,D014", "p D004,D002", "p D011,D012",
                                                    "p D012", "p D003,D011"}
    assert titles(Scope.departments({"D00"})) == set()  # a prefix of ids is no id
    assert titles(Scope.departments(set())) == set()
    assert len(titles(Scope.hospital())) == 7
    assert len(list_projects(filled_app_db, Scope.hospital(), limit=3)) == 3


def test_the_projects_filter_runs_in_the_database(filled_app_db) -> None:
    """The scope reaches the SQL: the database sends back only the projects in scope, rather than
    every project for Python to sift."""
    from sqlalchemy import event

    from appdb.projects import get_project, list_projects

    sent: list[tuple[str, Any]] = []

    def spy(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(filled_app_db.engine, "before_cursor_execute", spy)
    try:
        list_projects(filled_app_db, DEPT_SCOPE)
        get_project(filled_app_db, DEPT_SCOPE, 1)
    finally:
        event.remove(filled_app_db.engine, "before_cursor_execute", spy)
    reads = [(s, p) for s, p in sent if "FROM projects" in s]
    assert len(reads) == 2 and all("WHERE" in s and "D004" in str(p) for s, p in reads), reads


def test_a_statement_without_a_scoped_table_is_refused() -> None:
    from data_layer.schema import dim_drg
    from data_layer.scope import scoped

    with pytest.raises(ValueError):
        scoped(select(dim_drg.c.drg_code), DEPT_SCOPE)
