"""Answers shared by department (pages/_kit.py, `by_department`): a workspace section about one
department is computed as if the reader's scope were that department alone and kept once for
everyone who may see it. That can never show more than the reader's scope (the narrower scope
lies within it); it must not show less either: for every callback that shares, the answer for
the department alone is the answer for a wide scope holding it, checked here on every department
of the small hospital, in several periods, in both languages."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from plotly.io.json import to_json_plotly
from sqlalchemy import event

from .helpers import post_callback, signed_in

PERIODS = ("ytd", "last-month", "last-year")


def _first(answer: tuple, at: int) -> list[tuple]:
    """The value a picker (its options at `at`) starts on: the first option, as the page takes it."""
    options = answer[at] if isinstance(answer, tuple) else None
    return [(options[0]["value"],)] if isinstance(options, list) and options else []


def _revenue_states(dept: str, period: str) -> list[tuple]:
    """The drill-down at the department, at its first group and that group's first doctor, and on the
    ward branch at its first ward (ids read from the warehouse)."""
    from data_layer.queries.drill_path import DrillState
    from pages._common import warehouse

    with warehouse().engine.connect() as conn:
        from sqlalchemy import text

        group = conn.execute(text("select min(group_id) from dim_medical_group where dept_id = :d"), {"d": dept}).scalar()
        ward = conn.execute(text("select min(ward_id) from dim_ward where dept_id = :d"), {"d": dept}).scalar()
        doctor = conn.execute(text("select min(doctor_id) from dim_doctor where group_id = :g"), {"g": group}).scalar()
    states = [DrillState(period=period, dept=dept), DrillState(period=period, stream="inpatient", dept=dept)]
    if group:
        states.append(DrillState(period=period, dept=dept, group=group))
    if group and doctor:
        states.append(DrillState(period=period, stream="inpatient", dept=dept, group=group, doctor=doctor))
    if ward:
        states.append(DrillState(period=period, dept=dept, by="ward", ward=ward))
    return [(s.as_dict(),) for s in states]


# every callback that shares its answer by department (by its function's name), with the other
# arguments it is asked with: fixed ones, or ones read from another shared answer (`after`:
# (callback, its arguments, how the arguments follow from its answer))
Args = list[tuple] | Callable[[str, str], list[tuple]]
CASES: dict[str, tuple[Args, tuple[str, tuple, Callable[[Any], list[tuple]]] | None]] = {
    "pages.workspace.costs.composition": ([()], None),
    "pages.workspace.costs.model": ([(10,), (25,), ("bad",)], None),
    "pages.workspace.drg.groups": ([("2", "0.5", "charge"), ("1.5", "0.8", "cost"), ("0.5", "2", "charge")], None),
    "pages.workspace.drg.detail": ([], ("pages.workspace.drg.groups", ("2", "0.5", "charge"),
                                        lambda a: [(c, "2", "0.5", "charge") for (c,) in _first(a, 1)])),
    "pages.workspace.equipment.devices": ([("0.85",), ("0.6",)], None),
    "pages.workspace._dip.packets": ([()], None),
    "pages.workspace._dip.cases": ([(None,), ("no-such-packet",)], ("pages.workspace._dip.packets", (),
                                                                     lambda a: _first(a, 4))),
    "pages.workspace._dip.around": ([()], None),
    "pages.workspace.budget.tables": ([(10,), (3,)], None),
    "pages.workspace.budget.pace": ([("__all__",)], ("pages.workspace.budget.tables", (10,), lambda a: _first(a, 2))),
    "pages.workspace.revenue.render": (_revenue_states, None),
}


def _shared_callbacks(server: Flask) -> dict[str, Any]:
    """The kit callbacks registered with by_department, by the name of the function they wrap."""
    signed_in(server, "lead1", "en")  # the first request hands the pages' callbacks to the app
    found = {}
    for spec in server.extensions["dash"].callback_map.values():
        fn = spec.get("callback")
        if getattr(fn, "by_department", False):
            raw = fn.uncached
            found[f"{raw.__module__}.{raw.__qualname__}"] = raw
    return found


def test_every_callback_that_shares_is_checked_here(server: Flask) -> None:
    assert sorted(_shared_callbacks(server)) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_shared_answer_is_what_a_wide_scope_holding_the_department_shows(server: Flask, as_user, name: str) -> None:
    from data_layer.queries.structure import departments
    from data_layer.scope import Scope
    from pages._common import narrowed, warehouse
    from pages._kit import Ask
    from pages.workspace._frame import resolve_period

    shared = _shared_callbacks(server)
    fixed, after = CASES[name]
    compared = followed = 0
    for lang in ("zh", "en"):
        with as_user("asst1", lang):
            deps = departments(warehouse(), Scope.hospital())
            # the equipment page also offers the departments that operate devices (medical-technical ones)
            ids = sorted(deps["dept_id"] if name.endswith("equipment.devices") else
                         deps.loc[deps["kind"] == "clinical", "dept_id"])
            wide = Scope.departments(ids)
            for dept in ids:
                for key in PERIODS if lang == "zh" else PERIODS[:1]:
                    ask = Ask(lang, wide, dept, resolve_period(key), key)
                    alone = replace(ask, scope=Scope.departments([dept]))
                    arg_sets = list(fixed(dept, key) if callable(fixed) else fixed)
                    if after is not None:
                        first, its_args, follow = after
                        with narrowed(alone.scope):
                            more = follow(shared[first](alone, *its_args))
                        arg_sets += more
                        followed += len(more)
                    for args in arg_sets:
                        with narrowed(wide):
                            seen_wide = to_json_plotly(shared[name](ask, *args))
                        with narrowed(alone.scope):
                            seen_alone = to_json_plotly(shared[name](alone, *args))
                        assert seen_alone == seen_wide, (dept, key, lang, args)
                        compared += 1
    assert compared >= len(ids) and (after is None or followed > 0), (compared, followed)


def test_readers_who_may_see_a_department_share_its_answer(server: Flask) -> None:
    """An assistant's answer about D001 is the director's (scope D001 alone): the second reader's
    request runs no statement. A reader of a campus keeps their own (its figures close over the campus)."""
    state = server.extensions["hospdash"]
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_a) -> None:
        seen.append(statement)

    asked = [{"id": "ws-dept", "property": "value", "value": "D001"},
             {"id": "ws-period", "property": "value", "value": "last-month"}]
    first = post_callback(server, signed_in(server, "asst1", "zh"), "wc-composition.children", asked)
    event.listen(state.warehouse.engine, "before_cursor_execute", note)
    try:
        again = post_callback(server, signed_in(server, "dir1", "zh"), "wc-composition.children", asked)
    finally:
        event.remove(state.warehouse.engine, "before_cursor_execute", note)
    assert first[0] == again[0] == 200 and first[1] == again[1] and seen == []
    english = post_callback(server, signed_in(server, "dir1", "en"), "wc-composition.children", asked)
    assert "Personnel" in str(english[1]) and "人员经费" in str(first[1])  # each language its own answer
    outside = [dict(asked[0], value="D004"), asked[1]]
    assert post_callback(server, signed_in(server, "asst1", "zh"), "wc-composition.children", outside)[0] == 403


def test_a_table_of_the_whole_scope_is_one_answer_for_every_department_of_it(server: Flask) -> None:
    """The DIP departments side by side show the reader's whole scope, whichever department is
    picked: one answer for all of them (the department is still checked)."""
    state = server.extensions["hospdash"]
    client = signed_in(server, "asst1", "en")
    period = {"id": "ws-period", "property": "value", "value": "ytd"}
    first = post_callback(server, client, "ws-dip-depts.children", [{"id": "ws-dept", "property": "value",
                                                                      "value": "D001"}, period])
    seen: list[str] = []
    note = lambda _c, _cur, statement, *_a: seen.append(statement)  # noqa: E731
    event.listen(state.warehouse.engine, "before_cursor_execute", note)
    try:
        again = post_callback(server, client, "ws-dip-depts.children", [{"id": "ws-dept", "property": "value",
                                                                          "value": "D003"}, period])
    finally:
        event.remove(state.warehouse.engine, "before_cursor_execute", note)
    assert first[0] == again[0] == 200 and first[1] == again[1] and seen == []
    assert post_callback(server, client, "ws-dip-depts.children", [{"id": "ws-dept", "property": "value",
                                                                     "value": "D004"}, period])[0] == 403


def test_the_narrowed_scope_is_the_department_only_for_a_scope_of_departments() -> None:
    from data_layer.scope import Scope
    from pages._kit import department_scope

    mine = Scope.departments(["D001", "D002"])
    assert department_scope(mine, "D001") == Scope.departments(["D001"])
    assert department_scope(mine, "D009") == mine  # never a department outside the scope
    assert department_scope(mine, None) == mine  # the whole scope asked about (the revenue's top level)
    assert department_scope(Scope.hospital(), "D001") == Scope.hospital()
    assert department_scope(Scope.campuses(["C1"]), "D001") == Scope.campuses(["C1"])
