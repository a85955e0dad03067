"""Query results are cached per scope and parameters, and a new load invalidates them."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

import data_layer.warehouse as warehouse_mod
from data_layer.demo import write_warehouse
from data_layer.engine import make_engine
from data_layer.periods import parse_period
from data_layer.queries.kpis import indicator_values
from data_layer.schema import fact_inpatient_case, meta_load
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse, make_cache

from .conftest import THROUGH, server_unavailable

PERIOD = parse_period("2025", THROUGH)


@pytest.fixture
def writable(tmp_path: Path, demo_data) -> str:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = make_engine(url)
    write_warehouse(engine, {k: v for k, v in demo_data.tables.items()}, progress=False)
    engine.dispose()
    return url


def test_a_repeated_query_is_served_from_the_cache(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    indicator_values(wh, Scope.hospital(), ("alos",), PERIOD)
    calls = []
    monkeypatch.setattr(wh, "frame", lambda stmt: calls.append(stmt))
    again = indicator_values(wh, Scope.hospital(), ("alos",), PERIOD)
    assert calls == [] and len(again) == 1


def test_a_new_load_invalidates_cached_results(writable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warehouse_mod, "FRESHNESS_TTL", 0.0)
    engine = make_engine(writable)
    wh = Warehouse(writable, engine=engine)
    before = indicator_values(wh, Scope.hospital(), ("discharges",), PERIOD)["value"].iloc[0]
    row = {c.name: None for c in fact_inpatient_case.columns}
    with engine.begin() as conn:
        src = conn.execute(fact_inpatient_case.select().where(
            fact_inpatient_case.c.discharge_date.between(PERIOD.start, PERIOD.end)).limit(1)).mappings().first()
        row.update(src)
        row["case_id"] = "NEW0001"
        conn.execute(insert(fact_inpatient_case).values(**row))
    # same stamp: the cached figure stays (the load is not complete until meta_load says so)
    assert indicator_values(wh, Scope.hospital(), ("discharges",), PERIOD)["value"].iloc[0] == before
    with engine.begin() as conn:
        conn.execute(insert(meta_load).values(loaded_at=datetime(2026, 11, 22, 23, 0), data_through=THROUGH,
                                              source="test load"))
    assert indicator_values(wh, Scope.hospital(), ("discharges",), PERIOD)["value"].iloc[0] == before + 1
    engine.dispose()


def test_the_departments_are_kept_decoded_in_the_process_until_a_new_load(writable: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """departments() is read by nearly every request (scope checks, names): each process keeps it
    decoded beside the shared cache, hands out copies, and a new load replaces it."""
    from data_layer.queries.structure import departments

    monkeypatch.setattr(warehouse_mod, "FRESHNESS_TTL", 0.0)
    engine = make_engine(writable)
    wh = Warehouse(writable, engine=engine)
    first = departments(wh, Scope.hospital())
    reads: list[str] = []
    shared_gets = []
    real_get = wh.cache.get
    monkeypatch.setattr(wh, "frame", lambda stmt: reads.append(str(stmt)))
    monkeypatch.setattr(wh.cache, "get", lambda key: shared_gets.append(key) or real_get(key))
    again = departments(wh, Scope.hospital())
    assert reads == [] and again.equals(first)
    assert not [k for k in shared_gets if k.startswith("q:")], "the kept copy went to the shared cache"
    again.loc[0, "name_zh"] = "改过"  # a caller's change stays its own
    assert departments(wh, Scope.hospital()).loc[0, "name_zh"] == first.loc[0, "name_zh"]
    monkeypatch.undo()
    monkeypatch.setattr(warehouse_mod, "FRESHNESS_TTL", 0.0)
    with engine.begin() as conn:
        conn.execute(insert(meta_load).values(loaded_at=datetime(2026, 11, 22, 23, 0), data_through=THROUGH,
                                              source="test load"))
    reads.clear()
    real_frame = Warehouse.frame
    monkeypatch.setattr(wh, "frame", lambda stmt: reads.append(str(stmt)) or real_frame(wh, stmt))
    assert departments(wh, Scope.hospital()).equals(first) and len(reads) == 1, "a new load reads it again"
    engine.dispose()


def test_values_kept_in_the_process_are_bounded_and_expire(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    for i in range(warehouse_mod.HERE_SIZE + 10):
        wh.here(("n", i), lambda i=i: made.append(i) or i)
    assert len(wh._here) == warehouse_mod.HERE_SIZE
    assert wh.here(("n", 0), lambda: made.append(-1) or 0) == 0 and made[-1] == -1  # the oldest was dropped
    last = warehouse_mod.HERE_SIZE + 9
    assert wh.here(("n", last), lambda: made.append(-2)) == last and made[-1] == -1  # the newest kept
    # a result kept with a time limit (the live feed's) is not served from the process after it
    wh.remember(("live",), lambda: "then", ttl=1, here=True)
    clock = warehouse_mod.time.monotonic() + 5
    monkeypatch.setattr(warehouse_mod.time, "monotonic", lambda: clock)
    wh.cache.clear()
    assert wh.remember(("live",), lambda: "now", ttl=1, here=True) == "now"


def test_results_are_shared_through_redis(duck_url: str) -> None:
    cache = make_cache("redis://127.0.0.1:6379/15")
    try:
        cache.clear()
    except Exception as exc:
        server_unavailable("Redis at 127.0.0.1:6379", exc)
    try:
        first = Warehouse(duck_url, cache)
        value = indicator_values(first, Scope.hospital(), ("cmi",), PERIOD)
        second = Warehouse(duck_url, make_cache("redis://127.0.0.1:6379/15"))
        second.frame = None  # type: ignore[assignment]  # a second worker must not query
        assert indicator_values(second, Scope.hospital(), ("cmi",), PERIOD).equals(value)
    finally:
        cache.clear()


def test_a_dead_cache_does_not_break_queries(duck_url: str) -> None:
    wh = Warehouse(duck_url, make_cache("redis://127.0.0.1:1/0"))
    df = indicator_values(wh, Scope.hospital(), ("alos",), PERIOD)
    assert df["value"].iloc[0] > 0


def test_a_repeated_callback_answer_comes_from_the_cache_per_scope(server) -> None:
    """A cached kit callback (page_callback(cached=True)): the same request again reads no warehouse
    rows; another user's scope has its own answer (counted with an engine event on the real warehouse)."""
    from sqlalchemy import event

    from .helpers import post_callback, signed_in

    wh = server.extensions["hospdash"].warehouse
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731 - (conn, cursor, statement, …)
    inputs = [{"id": "dw-dept", "property": "value", "value": "D001"},
              {"id": "dw-period", "property": "value", "value": "ytd"}]
    event.listen(wh.engine, "before_cursor_execute", listener)
    try:
        director = signed_in(server, "dir1")
        first = post_callback(server, director, "dw-wards.children", inputs)
        asked = len(statements)
        again = post_callback(server, director, "dw-wards.children", inputs)
        assert asked > 0 and first == again and len([s for s in statements[asked:] if "fact_" in s]) == 0
        leader = signed_in(server, "lead1")
        before = len(statements)
        assert post_callback(server, leader, "dw-wards.children", inputs)[0] == 200
        assert any("fact_" in s for s in statements[before:])  # the leader's scope: its own answer
    finally:
        event.remove(wh.engine, "before_cursor_execute", listener)


def test_indicator_statements_are_built_once_per_shape_and_run_with_each_request_s_values(
        wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """kpis._prepared: a source's statement is built once per shape of request; another period,
    another department or another campus runs the same statement with its own dates and ids as
    bound parameters, and answers exactly as a statement built for it alone."""
    import pandas as pd
    from sqlalchemy import event, func, select
    from sqlalchemy.exc import StatementError

    from data_layer.queries import kpis
    from data_layer.registry import Level
    from data_layer.schema import dim_department
    from data_layer.scope import scope_ids, scoped

    built: list[str] = []
    real = kpis._source_statement
    monkeypatch.setattr(kpis, "_source_statement", lambda *a: built.append(a[0].key) or real(*a))
    codes = ("discharges", "revenue_total", "alos", "bed_occupancy", "drug_share")

    def values(scope: Scope, period: str) -> pd.DataFrame:
        wh.cache.clear()  # every answer computed, none read back
        return indicator_values(wh, scope, codes, parse_period(period, THROUGH), level=Level.department)

    kpis._STATEMENTS.clear()
    one, two = Scope.departments(["D001"]), Scope.departments(["D002", "D003"])
    west, east = Scope.campuses(["C1"]), Scope.campuses(["C2"])
    values(one, "2025")
    values(west, "2025")
    shapes = len(built)
    assert shapes > 0 and set(built) == {one.key, west.key}
    sent: list[tuple[str, dict]] = []

    def listener(conn, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        sent.append((statement, params))

    event.listen(wh.engine, "before_cursor_execute", listener)
    try:
        asked = {(s, p): values(s, p) for s in (one, two, west, east) for p in ("2025", "2025-06")}
    finally:
        event.remove(wh.engine, "before_cursor_execute", listener)
    assert len(built) == shapes, "a statement was built again for another period, department or campus"
    facts = [(s, p) for s, p in sent if "dim_department" in s]
    assert facts and not [s for s, _ in facts if "2025-06" in s or "D002" in s or "'C2'" in s], \
        "dates and ids belong in the parameters, not the statement's text"
    assert any("D002" in str(p) and "2025, 6" in str(p) for _, p in facts)
    assert set(asked[(two, "2025")]["key"]) == {"D002", "D003"}
    assert set(asked[(east, "2025-06")]["key"]).isdisjoint(asked[(west, "2025-06")]["key"])
    ip, d = fact_inpatient_case.c, dim_department.c
    for (scope, period), got in asked.items():
        per = parse_period(period, THROUGH)
        counted = (select(ip.dept_id, func.count()).join_from(fact_inpatient_case, dim_department, ip.dept_id == d.dept_id)
                   .where(ip.discharge_date.between(per.start, per.end),
                          (d.campus_id if scope.kind == "campus" else d.dept_id).in_(sorted(scope.ids)))
                   .group_by(ip.dept_id))
        with wh.engine.connect() as conn:
            expected = {k: float(n) for k, n in conn.execute(counted)}
        discharges = got[got["indicator"] == "discharges"]
        assert dict(zip(discharges["key"], discharges["value"], strict=True)) == expected, f"{scope.key} {period}"
        kpis._STATEMENTS.clear()
        pd.testing.assert_frame_equal(got, values(scope, period), obj=f"{scope.key} {period}")
    # a statement built for every scope of a kind holds no ids of its own: run without the caller's, it fails
    ids, params = scope_ids(two)
    stmt = scoped(select(dim_department.c.dept_id).select_from(dim_department), two, ids)
    assert params == {"scope_ids": ["D002", "D003"]}
    with wh.engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(stmt, params)) == ["D002", "D003"]
        with pytest.raises(StatementError, match="scope_ids"):
            conn.execute(stmt)
    assert scope_ids(Scope.hospital()) == (None, {}) and scope_ids(Scope.departments([])) == (None, {})


def test_filtered_statements_are_shared_by_every_filter_value(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """A drill-down's filters (a department's wards, a ward's cases, an assistant's payment schemes)
    are bound parameters too: another department or ward runs the statement built for the first,
    and answers exactly as a statement built for it alone."""
    import pandas as pd
    from sqlalchemy import event, func, select
    from sqlalchemy.exc import StatementError

    from data_layer.queries import kpis
    from data_layer.registry import Level
    from data_layer.sources import SHAPE_MARK, SOURCES, Filters, build_select

    built: list[tuple] = []
    real = kpis._source_statement
    monkeypatch.setattr(kpis, "_source_statement", lambda *a: built.append((a[2], a[3], a[6].name)) or real(*a))
    codes = ("discharges", "alos", "bed_occupancy")
    ip = fact_inpatient_case.c
    with wh.engine.connect() as conn:
        wards = conn.execute(select(ip.dept_id, ip.ward_id).distinct().order_by(ip.dept_id, ip.ward_id)).all()
    by_dept: dict[str, list[str]] = {}
    for dept_id, ward_id in wards:
        by_dept.setdefault(dept_id, []).append(ward_id)
    depts = sorted(by_dept)[:3]
    one_ward = [(dept_id, by_dept[dept_id][0]) for dept_id in depts]

    def values(level: Level, filters: Filters) -> pd.DataFrame:
        wh.cache.clear()
        return indicator_values(wh, Scope.hospital(), codes, PERIOD, level=level, filters=filters)

    requests = ([(Level.ward, Filters(department=(dept_id,))) for dept_id in depts]
                + [(Level.ward, Filters(department=tuple(depts[:2])))]
                + [(Level.department, Filters(ward=(ward_id,))) for _dept_id, ward_id in one_ward])
    kpis._STATEMENTS.clear()
    sent: list[tuple[str, dict]] = []

    def listener(conn, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        sent.append((statement, params))

    event.listen(wh.engine, "before_cursor_execute", listener)
    try:
        asked = [(level, filters, values(level, filters)) for level, filters in requests]
    finally:
        event.remove(wh.engine, "before_cursor_execute", listener)
    shapes = set(built)
    assert all(filters.by_level() and set(sum(filters.by_level().values(), ())) == {SHAPE_MARK}
               for _level, filters, _source in shapes), "a statement was built with the ids of one request"
    assert len(built) == len(shapes), "a statement was built again for another department or ward"
    assert {level for level, _f, _s in shapes} == {Level.ward, Level.department}
    facts = [s for s, _p in sent if "fact_inpatient_case" in s]
    assert facts and not [s for s in facts if any(f"'{x}'" in s for x in depts + [w for _d, w in one_ward])], \
        "filter ids belong in the parameters, not the statement's text"
    for level, filters, got in asked:
        key = ip.ward_id if level == Level.ward else ip.dept_id
        cond = ip.dept_id.in_(filters.department) if filters.department else ip.ward_id.in_(filters.ward)
        counted = (select(key, func.count()).where(ip.discharge_date.between(PERIOD.start, PERIOD.end), cond)
                   .group_by(key))
        with wh.engine.connect() as conn:
            expected = {k: float(n) for k, n in conn.execute(counted)}
        discharges = got[got["indicator"] == "discharges"]
        assert expected and dict(zip(discharges["key"], discharges["value"], strict=True)) == expected, filters
        kpis._STATEMENTS.clear()
        pd.testing.assert_frame_equal(got, values(level, filters), obj=str(filters))
    # built from the shape alone, the statement holds no ids: run without the caller's, it fails
    marked = Filters(ward=("x",))
    binds, params = Filters(ward=(one_ward[0][1],)).binds()
    assert params == {"f_ward": [one_ward[0][1]]}
    stmt = build_select(SOURCES["inpatient"], Level.ward, [func.count().label("n")], needs=frozenset(),
                        filters=marked.shape(), window=None, grain=None, binds=binds)
    with wh.engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(stmt, params)] == [
            (one_ward[0][1], sum(1 for r in conn.execute(select(ip.ward_id).where(ip.ward_id == one_ward[0][1]))))]
        with pytest.raises(StatementError, match="f_ward"):
            conn.execute(stmt)
    assert Filters().binds() == ({}, {}) and Filters().shape() == Filters()


def test_a_request_reads_the_freshness_once(server) -> None:
    """Every answer is keyed by the freshness stamp: a request (a cold director's section, a dozen
    keys) reads it from the shared cache once, not once per key; outside a request every call reads."""
    from .helpers import post_callback, signed_in

    wh = server.extensions["hospdash"].warehouse
    director = signed_in(server, "dir1")
    wh.cache.clear()
    wh.freshness()  # the entry is there, as on a running server
    reads: list[str] = []
    real_get = wh.cache.get

    def counted(key: str):
        reads.append(key)
        return real_get(key)

    wh.cache.get = counted  # type: ignore[method-assign]
    try:
        inputs = [{"id": "dw-dept", "property": "value", "value": "D001"},
                  {"id": "dw-period", "property": "value", "value": "last-quarter"}]
        assert post_callback(server, director, "dw-discipline.children", inputs)[0] == 200
        assert len(reads) > 5, reads  # the answer and the queries under it were looked up
        assert reads.count("freshness") == 1, reads
        reads.clear()
        wh.freshness(), wh.freshness()
        assert reads.count("freshness") == 2
    finally:
        del wh.cache.get


def test_within_one_request_a_new_load_waits_for_the_next(writable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """one_freshness (each request): a load landing in the middle of a request does not change the
    stamp that request keys its answers by; the next request sees it."""
    from data_layer.warehouse import one_freshness

    monkeypatch.setattr(warehouse_mod, "FRESHNESS_TTL", 0.0)
    engine = make_engine(writable)
    wh = Warehouse(writable, engine=engine)
    with one_freshness():
        first = wh.freshness()
        with engine.begin() as conn:
            conn.execute(insert(meta_load).values(loaded_at=datetime(2026, 11, 22, 23, 0), data_through=THROUGH,
                                                  source="test load"))
        assert wh.freshness() is first
    with one_freshness():
        assert wh.freshness().stamp != first.stamp and wh.freshness().loaded_at == datetime(2026, 11, 22, 23, 0)
    engine.dispose()
