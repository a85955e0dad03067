"""ClickHouse (clickhouse-sqlalchemy, native protocol): the warehouse on a sharded cluster.

Two parts, both kept apart from the queries:

1. **Loader**: the contract tables on a cluster. Dimensions (and `meta_load`) are
   ordinary MergeTree tables with a full copy on every shard; each fact table is a
   MergeTree table of the same name in the database `shard` on every server, holding
   that server's share of the rows, and a `Distributed` table over them in the query
   database. Keeping the local name equal to the distributed one matters: the
   Distributed engine rewrites only the table (`default.fact_x` -> `shard.fact_x`) in
   the query it sends to each shard, so qualified columns (`fact_x.dept_id`) still
   resolve there.

2. **Compatibility layer** (registered on import, active only for the `clickhouse`
   dialect), for what ClickHouse 18.16 lacks:
   - one JOIN per SELECT: a FROM with several joins becomes left-deep nested
     subqueries, one join each, every column renamed `<table>__<column>`;
   - a right-hand table whose column names clash with the left side is unreadable on a
     remote shard: every joined table becomes `(SELECT col AS <table>__col …) AS <table>`;
   - JOIN ON takes equalities only: an inner join on anything else becomes
     `CROSS JOIN … WHERE <condition>` (the same rows for an inner join);
   - no `true`/`false` literals and no `IS TRUE`: `1`, `0` and `= 1`;
   - `CAST(NULL AS Float64)` is an error: a cast to a float type becomes `toFloat64(x)`;
   - outer-joined columns must be NULL when nothing matches (SQL semantics), not the
     type's default: every connection sets `join_use_nulls=1` (see engine.py).
   The queries keep their meaning; each rewrite returns the same rows on any database.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Column, Float, Numeric, Table, and_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, Cast, ColumnElement, False_, True_
from sqlalchemy.sql.selectable import FromClause, Join, Select, Subquery

from .schema import metadata

# ------------------------------------------------------------------------------ settings
# Settings every query needs (sent by clickhouse-driver as URL query parameters).
QUERY_SETTINGS = {"join_use_nulls": "1"}
SHARD_DATABASE = "shard"
CLUSTER = "hospdash"

# Facts are spread over the shards by this column (all rows of a department, ward, device
# or campus on one shard); everything else is copied whole to every shard.
SHARDING_KEYS = {
    "fact_inpatient_case": "dept_id",
    "fact_outpatient_daily": "dept_id",
    "fact_ward_daily": "ward_id",
    "fact_dept_cost_monthly": "dept_id",
    "fact_equipment_daily": "equipment_id",
    "fact_budget_monthly": "dept_id",
    "fact_target_annual": "dept_id",
    "fact_staff_monthly": "dept_id",
    "fact_live_snapshot": "campus_id",
}
_ORDER_KEYS = {
    "fact_inpatient_case": ("discharge_date", "dept_id"),
    "fact_outpatient_daily": ("date", "dept_id"),
    "fact_ward_daily": ("date", "ward_id"),
    "fact_dept_cost_monthly": ("month_start", "dept_id"),
    "fact_equipment_daily": ("date", "equipment_id"),
    "fact_budget_monthly": ("month_start", "dept_id"),
    "fact_target_annual": ("year", "dept_id"),
    "fact_staff_monthly": ("month_start", "dept_id"),
    "fact_live_snapshot": ("captured_at", "campus_id"),
    "fact_dip_point_value": ("year", "insurance_type"),
    "fact_benchmark": ("indicator_code", "year"),
    "meta_load": ("loaded_at",),
}


# ----------------------------------------------------------------------------- DDL
def column_type(col: Column) -> str:
    """The ClickHouse type of a contract column (Numeric as Float64: the contract accepts floats)."""
    kind = col.type.__class__.__name__
    base = {"String": "String", "Integer": "Int32", "Numeric": "Float64", "Date": "Date", "DateTime": "DateTime",
            "Boolean": "UInt8"}[kind]
    return f"Nullable({base})" if col.nullable else base


def _columns_ddl(table: Table) -> str:
    return ", ".join(f"`{c.name}` {column_type(c)}" for c in table.columns)


def _merge_tree(table: Table) -> str:
    order = _ORDER_KEYS.get(table.name) or tuple(c.name for c in table.primary_key.columns)
    return f"ENGINE = MergeTree() ORDER BY ({', '.join(f'`{c}`' for c in order)})"


def table_ddl(table: Table, database: str) -> list[str]:
    """CREATE statements for one contract table on one server of the cluster."""
    if table.name not in SHARDING_KEYS:
        return [f"CREATE TABLE {database}.`{table.name}` ({_columns_ddl(table)}) {_merge_tree(table)}"]
    key = SHARDING_KEYS[table.name]
    return [
        f"CREATE TABLE {SHARD_DATABASE}.`{table.name}` ({_columns_ddl(table)}) {_merge_tree(table)}",
        f"CREATE TABLE {database}.`{table.name}` ({_columns_ddl(table)}) "
        f"ENGINE = Distributed({CLUSTER}, {SHARD_DATABASE}, `{table.name}`, cityHash64(`{key}`))",
    ]


# --------------------------------------------------------------------------- loader
def _values(table: Table, df: pd.DataFrame) -> list[list[Any]]:
    """Column-wise Python values for clickhouse-driver's columnar insert."""
    out = []
    for c in table.columns:
        kind = c.type.__class__.__name__
        s = df[c.name]
        if kind == "Date":
            vals = [None if pd.isna(v) else pd.Timestamp(v).date() for v in s]
        elif kind == "DateTime":
            vals = [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in s]
        elif kind == "Boolean":
            vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) else int(bool(v)) for v in s]
        elif kind == "Integer":
            vals = [None if pd.isna(v) else int(v) for v in s]
        elif kind == "Numeric":
            vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in s]
        else:
            vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in s]
        out.append(vals)
    return out


def _ident(name: str) -> str:
    """A database or table name for DDL (ClickHouse binds values, not names): checked, then quoted."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f"`{name}`"


def load_cluster(nodes: Sequence[tuple[str, int]], tables: dict[str, pd.DataFrame], *, database: str = "default",
                 chunk: int = 200_000) -> dict[str, int]:
    """Replace the contract tables on every node (host, native port) of the cluster with `tables`.

    Dimensions are written whole to every node; facts through their Distributed table on the
    first node with `insert_distributed_sync=1`, so each row lands on its shard before this returns.
    """
    from clickhouse_driver import Client

    from .schema import TABLE_ORDER, complete

    tables = complete(tables)
    clients = [Client(host=h, port=p, database="default", settings={"insert_distributed_sync": 1}) for h, p in nodes]
    try:
        for cl in clients:
            for db in (database, SHARD_DATABASE):
                cl.execute("CREATE DATABASE IF NOT EXISTS " + _ident(db))
            for name in reversed(TABLE_ORDER):
                for db in (database, SHARD_DATABASE):
                    cl.execute(f"DROP TABLE IF EXISTS {_ident(db)}.{_ident(name)}")
            for name in TABLE_ORDER:
                for ddl in table_ddl(metadata.tables[name], database):
                    cl.execute(ddl)
        counts = {}
        for name in TABLE_ORDER:
            table = metadata.tables[name]
            df = tables[name]
            cols = ", ".join(_ident(c.name) for c in table.columns)
            targets = clients[:1] if name in SHARDING_KEYS else clients
            for cl in targets:
                for start in range(0, len(df), chunk):
                    part = df.iloc[start:start + chunk]
                    if len(part):
                        cl.execute(f"INSERT INTO {_ident(database)}.{_ident(name)} ({cols}) VALUES", _values(table, part),
                                   columnar=True)
            counts[name] = len(df)
        return counts
    finally:
        for cl in clients:
            cl.disconnect()


def shard_counts(nodes: Sequence[tuple[str, int]], table: str) -> list[int]:
    """Rows of a fact table held by each shard (to show the data really is spread)."""
    from clickhouse_driver import Client

    out = []
    for h, p in nodes:
        cl = Client(host=h, port=p)
        try:
            out.append(int(cl.execute(f"SELECT count() FROM {_ident(SHARD_DATABASE)}.{_ident(table)}")[0][0]))
        finally:
            cl.disconnect()
    return out


# -------------------------------------------------------------- compatibility layer
class CrossJoin(Join):
    """`left CROSS JOIN right` (ClickHouse 18.16 rejects comma joins and JOIN ON <non-equality>)."""

    __visit_name__ = "cross_join"
    inherit_cache = True

    def __init__(self, left: FromClause, right: FromClause):
        super().__init__(left, right, onclause=true())


@compiles(CrossJoin)
def _cross_join(join: CrossJoin, compiler, **kw) -> str:
    linter = kw.get("from_linter")
    if linter is not None:  # the WHERE of the layer connects the two sides: no cartesian-product warning
        linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    kw = {**kw, "asfrom": True}
    left = join.left._compiler_dispatch(compiler, **kw)
    right = join.right._compiler_dispatch(compiler, **kw)
    return f"{left} CROSS JOIN {right}"


@compiles(True_, "clickhouse")
def _true(_element, _compiler, **_kw) -> str:
    return "1"


@compiles(False_, "clickhouse")
def _false(_element, _compiler, **_kw) -> str:
    return "0"


@compiles(BinaryExpression, "clickhouse")
def _binary(element: BinaryExpression, compiler, **kw) -> str:
    """`x IS true` / `x IS false` (booleans are UInt8 here) as `x = 1` / `x = 0`."""
    if element.operator in (operators.is_, operators.is_not) and isinstance(element.right, (True_, False_)):
        want = isinstance(element.right, True_) == (element.operator is operators.is_)
        return f"({compiler.process(element.left, **kw)} = {1 if want else 0})"
    return compiler.visit_binary(element, **kw)


@compiles(Cast, "clickhouse")
def _cast(element: Cast, compiler, **kw) -> str:
    """CAST(NULL AS Float64) fails on 18.16 (a NULL from an outer join): toFloat64() keeps the NULL."""
    if isinstance(element.type, (Float, Numeric)):
        return f"toFloat64({compiler.process(element.clause, **kw)})"
    return compiler.visit_cast(element, **kw)


def _conjuncts(clause: ColumnElement) -> list[ColumnElement]:
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        out: list[ColumnElement] = []
        for c in clause.clauses:
            out += _conjuncts(c)
        return out
    return [clause]


def _is_equi(clause: ColumnElement) -> bool:
    return (isinstance(clause, BinaryExpression) and clause.operator is operators.eq
            and isinstance(clause.left, ColumnElement) and isinstance(clause.right, ColumnElement)
            and bool(clause.left._from_objects) and bool(clause.right._from_objects))


def _flatten(join: Join) -> tuple[FromClause, list[tuple[FromClause, ColumnElement, bool]]]:
    """A left-deep join tree as (first table, [(table, on, is_outer), ...])."""
    if isinstance(join.left, Join):
        base, steps = _flatten(join.left)
    else:
        base, steps = join.left, []
    if isinstance(join.right, Join):
        raise NotImplementedError("right-nested joins are not rewritten for ClickHouse")
    if join.full:
        raise NotImplementedError("FULL joins are not rewritten for ClickHouse")
    return base, [*steps, (join.right, join.onclause, join.isouter)]


def _needs_rewrite(join: Join) -> bool:
    if isinstance(join, CrossJoin):
        return False
    if isinstance(join.left, Join) or isinstance(join.right, Table):
        return True
    return not all(_is_equi(c) for c in _conjuncts(join.onclause))


def _referenced(stmt: Select, tables: list[Table]) -> dict[Table, list[Column]]:
    """The columns of each table that the statement (including its join conditions) reads."""
    seen: dict[Table, dict[str, Column]] = {t: {} for t in tables}
    for el in visitors.iterate(stmt):
        if isinstance(el, Column) and el.table in seen:
            seen[el.table].setdefault(el.key, el)
    out = {}
    for t, cols in seen.items():
        # a table nobody reads a column of still needs one column to join on (and to exist)
        out[t] = list(cols.values()) or [next(iter(t.columns))]
    return out


def rewrite_joins(stmt: Select) -> Select:
    """The same query with at most one equality JOIN per SELECT and no clashing column names."""
    froms = stmt.get_final_froms()
    targets = [f for f in froms if isinstance(f, Join) and _needs_rewrite(f)]
    if not targets:
        return stmt
    mapping: dict[int, ColumnElement] = {}
    replaced: dict[int, FromClause] = {}
    for join in targets:
        base, steps = _flatten(join)
        tables = [t for t in (base, *(s[0] for s in steps)) if isinstance(t, Table)]
        cols = _referenced(stmt, tables)

        def renamed(t: FromClause, cols: dict[Table, list[Column]] = cols) -> FromClause:
            if not isinstance(t, Table):
                return t
            sub = select(*[c.label(f"{t.name}__{c.key}") for c in cols[t]]).subquery(t.name)
            for c in cols[t]:
                mapping[id(c)] = sub.c[f"{t.name}__{c.key}"]
            return sub

        def remap(el: ColumnElement) -> ColumnElement:
            return visitors.replacement_traverse(el, {}, lambda e: mapping.get(id(e)))

        current: FromClause = base
        for i, (right, on, outer) in enumerate(steps):
            last = i == len(steps) - 1
            right_sub = renamed(right)
            equi = [c for c in _conjuncts(on) if _is_equi(c)]
            rest = [c for c in _conjuncts(on) if not _is_equi(c)]
            if rest and outer:
                raise NotImplementedError("an outer join on a non-equality cannot run on ClickHouse 18.16")
            if equi:
                joined: FromClause = current.join(right_sub, remap(and_(*equi)), isouter=outer)
            else:
                joined = CrossJoin(current, right_sub)
            if last and not rest:
                current = joined
                break
            # wrap this join as a subquery: the next join (or the WHERE of a cross join) goes outside it
            layer_cols = []
            if current is base and isinstance(base, Table):
                layer_cols += [c.label(f"{base.name}__{c.key}") for c in cols[base]]
            elif isinstance(current, Subquery):
                layer_cols += list(current.c)
            layer_cols += list(right_sub.c)
            layer = select(*layer_cols).select_from(joined)
            if rest:
                layer = layer.where(remap(and_(*rest)))
            layer_sub = layer.subquery(f"j{i + 1}")
            if current is base and isinstance(base, Table):
                for c in cols[base]:
                    mapping[id(c)] = layer_sub.c[f"{base.name}__{c.key}"]
            for c in list(mapping):
                target = mapping[c]
                name = getattr(target, "key", None)
                if name in layer_sub.c and target.table is not layer_sub:
                    mapping[c] = layer_sub.c[name]
            current = layer_sub
        replaced[id(join)] = current

    def swap(el: Any) -> Any:
        if id(el) in replaced:
            return replaced[id(el)]
        return mapping.get(id(el))

    out = visitors.replacement_traverse(stmt, {}, swap)
    # a column read bare (`select(fact_x.dept_id)`) now comes from a renamed subquery column
    # (`fact_x__dept_id`): the result keeps the name it has on every other database
    names = [c.key for c in stmt.selected_columns]
    cols = list(out.selected_columns)
    if [c.key for c in cols] != names:
        out = out.with_only_columns(*[c if c.key == n else c.label(n) for c, n in zip(cols, names, strict=True)],
                                    maintain_column_froms=True)
    return out


@compiles(Select, "clickhouse")
def _select(element: Select, compiler, **kw) -> str:
    return compiler.visit_select(rewrite_joins(element), **kw)

