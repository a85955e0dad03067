"""From a loaded mapping and the source database to one SQLAlchemy SELECT per contract table.

Every problem found on the way (a source table or column that does not exist, an expression that
does not parse, a type that does not fit the contract) is collected with the line of the mapping it
comes from, so `map check` can report them all at once.
"""
from __future__ import annotations

import contextlib
import difflib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import Column, Engine, MetaData, Select, Table, case, cast, false, func, inspect, literal, null, select
from sqlalchemy import Date as SaDate
from sqlalchemy.sql.expression import ColumnElement, FromClause

from ..schema import TABLE_ORDER, V2_TABLES, metadata
from ..validate import _family
from .expr import ExprError, Node, Resolver, Typed, cast_to, compile_expr, parse
from .model import CodeTable, Located, Query, TableMap

Level = Literal["error", "warning", "info"]


@dataclass
class Problem:
    level: Level
    table: str | None
    column: str | None
    line: int | None
    message: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    unit: str = "rows"


@dataclass
class Built:
    """A contract table as the mapping gives it."""
    name: str
    kind: Literal["query", "rows", "empty", "calendar"]
    select: Select | None  # None for a calendar (written from Python) or a table that could not be built
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> how it maps (for the report)
    materialize: bool = False
    line: int | None = None
    source: str = ""
    # contract column -> (code table, their codes the table does not map, with rows: SELECT code, n)
    unmapped: dict[str, tuple[str, Select]] = field(default_factory=dict)


def source_schema(engine: Engine) -> str | None:
    """The schema the source tables are read from: the URL's own (None on SQLite)."""
    if engine.dialect.name == "sqlite":
        return None
    return inspect(engine).default_schema_name


@dataclass
class _Rel:
    clause: FromClause
    cols: dict[str, tuple[ColumnElement, str]]  # lower name -> (column, family)
    name: str
    where: Any = None  # a code table's filter


class _Scope(Resolver):
    def __init__(self, builder: Builder):
        self.b = builder
        self.rels: dict[str, _Rel] = {}
        self.order: list[str] = []
        self.clause: Any = None  # FROM with its joins, WHERE, GROUP BY: set once the query is built
        self.where: Any = None
        self.groups: list[tuple[Node, Typed]] = []
        self.grouped = False

    def add(self, alias: str, rel: _Rel) -> None:
        self.rels[alias.lower()] = rel
        self.order.append(alias.lower())

    def column(self, alias: str | None, name: str) -> Typed:
        low = name.lower()
        if alias is not None:
            rel = self.rels.get(alias.lower())
            if rel is None:
                raise ExprError(f"{alias!r} is not a table of this query (it has: {', '.join(self.order)})")
            if low not in rel.cols:
                raise ExprError(f"{rel.name} has no column {name!r}{_near(name, rel.cols)}")
            col, fam = rel.cols[low]
            return Typed(col, fam)
        found = [a for a in self.order if low in self.rels[a].cols]
        if not found:
            every = {k: v for a in self.order for k, v in self.rels[a].cols.items()}
            names = " or ".join(self.rels[a].name for a in self.order)
            raise ExprError(f"unknown column {name!r} in {names}{_near(name, every)}")
        if len(found) > 1 and found[0] != self.order[0]:
            raise ExprError(f"column {name!r} is in {' and '.join(found)}: write {found[0]}.{name}")
        col, fam = self.rels[found[0]].cols[low]
        return Typed(col, fam)

    def code_map(self, name: str, key: Typed) -> Typed:
        return self.b.code_map(name, key)


def _near(name: str, options: dict) -> str:
    close = difflib.get_close_matches(name.lower(), list(options), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


# What a mapped expression of each family may feed, and the hint when it may not.
_FITS: dict[str, set[str]] = {
    "string": {"string"},
    "integer": {"integer", "numeric", "boolean"},
    "numeric": {"numeric", "integer"},
    "date": {"date"},
    "datetime": {"datetime", "date"},
    "boolean": {"boolean", "integer"},
}
KINDS = {"string": "text", "integer": "a whole number", "numeric": "a number", "date": "a date",
         "datetime": "a timestamp", "boolean": "true/false"}
_HINTS = {
    ("date", "datetime"): "a timestamp: write date(X) for its day",
    ("date", "string"): "text: write cast(X, date) if it holds YYYY-MM-DD",
    ("string", "integer"): "a number: write cast(X, string) for a code",
    ("string", "numeric"): "a number: write cast(X, string) for a code",
    ("numeric", "string"): "text: write cast(X, numeric) if it holds numbers",
    ("integer", "string"): "text: write cast(X, integer) if it holds whole numbers",
    ("boolean", "string"): "text: write a comparison such as X = '1'",
}


class Builder:
    def __init__(self, located: Located, engine: Engine):
        self.loc = located
        self.m = located.mapping
        self.engine = engine
        self.problems: list[Problem] = []
        self.schema = source_schema(engine)
        insp = inspect(engine)
        names = list(insp.get_table_names(schema=self.schema)) + list(insp.get_view_names(schema=self.schema))
        self._names = {n.lower(): n for n in names}
        self._insp = insp
        self._meta = MetaData()
        self._tables: dict[str, _Rel] = {}
        self._sources: dict[str, _Rel | None] = {}
        self._codes: dict[str, tuple[CodeTable, Any]] = {}

    # ------------------------------------------------------------------ problems
    def error(self, table: str | None, column: str | None, path: tuple, message: str, level: Level = "error") -> None:
        self.problems.append(Problem(level, table, column, self.loc.line(*path), message))

    # ------------------------------------------------------------------ sources
    def source(self, name: str, path: tuple, table: str | None) -> _Rel | None:
        """A source table (reflected) or a derived source of the mapping; None (and a problem) if neither."""
        if name in self.m.sources:
            if name not in self._sources:
                self._sources[name] = None  # a source that names itself stops here
                self._sources[name] = self._derived(name)
            rel = self._sources[name]
            if rel is None:
                self.error(table, None, path, f"derived source {name!r} could not be built (see its own problems)", "info")
            return rel
        real = self._names.get(name.lower())
        if real is None:
            self.error(table, None, path, f"source table {name!r} does not exist in the source database"
                                          f"{_near(name, self._names)}")
            return None
        if real not in self._tables:
            cols = self._insp.get_columns(real, schema=self.schema)
            t = Table(real, self._meta, *[Column(c["name"], c["type"]) for c in cols], schema=self.schema)
            self._tables[real] = _Rel(t, {c.name.lower(): (c, _family(c.type)) for c in t.columns}, real)
        rel = self._tables[real]
        return _Rel(rel.clause, rel.cols, rel.name)

    def _aliased(self, rel: _Rel, alias: str) -> _Rel:
        a = rel.clause.alias(alias)
        return _Rel(a, {k: (a.c[c.name], fam) for k, (c, fam) in rel.cols.items()}, rel.name)

    def _query(self, q: Query | TableMap, path: tuple, table: str | None) -> tuple[_Scope, Any, list] | None:
        """The FROM clause (with joins) and WHERE of a query, and its scope for the columns."""
        base = self.source(q.from_, path + ("from",), table)
        if base is None:
            return None
        scope = _Scope(self)
        alias = q.as_ or q.from_
        base = self._aliased(base, alias)
        scope.add(alias, base)
        clause = base.clause
        ok = True
        for i, j in enumerate(q.joins):
            jp = path + ("joins", i)
            rel = self.source(j.table, jp + ("table",), table)
            if rel is None:
                ok = False
                continue
            jalias = j.as_ or j.table
            if jalias.lower() in scope.rels:
                self.error(table, None, jp, f"two tables of this query are called {jalias!r}: give one `as: name`")
                ok = False
                continue
            rel = self._aliased(rel, jalias)
            scope.add(jalias, rel)
            on = self.expr(j.on, scope, jp + ("on",), table, None)
            if on is None:
                ok = False
                continue
            clause = clause.join(rel.clause, on.sql, isouter=j.kind == "left")
        where = None
        if q.where is not None:
            w = self.expr(q.where, scope, path + ("where",), table, None)
            if w is None:
                ok = False
            elif w.family not in ("boolean", "any"):
                self.error(table, None, path + ("where",), "`where` must be a condition (true or false)")
                ok = False
            else:
                where = w.sql
        groups: list[tuple[Node, Typed]] = []
        for i, g in enumerate(q.group_by):
            try:
                node = parse(g)
            except ExprError as exc:
                self.error(table, None, path + ("group_by", i), f"group_by {g!r}: {exc}")
                ok = False
                continue
            t = self.expr(g, scope, path + ("group_by", i), table, None)
            if t is None:
                ok = False
            else:
                groups.append((node, t))
        if not ok:
            return None
        scope.clause, scope.where, scope.groups, scope.grouped = clause, where, groups, bool(q.group_by)
        return scope, clause, [where]

    def expr(self, text: Any, scope: _Scope, path: tuple, table: str | None, column: str | None,
             aggregates: bool = False) -> Typed | None:
        try:
            return compile_expr(parse(str(text)), scope, allow_aggregates=aggregates)
        except ExprError as exc:
            self.error(table, column, path, f"{text!r}: {exc}")
            return None

    def _grouped_value(self, text: str, scope: _Scope, path: tuple, table: str | None, column: str | None) -> Typed | None:
        t = self.expr(text, scope, path, table, column, aggregates=scope.grouped)
        if t is None or not scope.grouped or t.aggregate:
            return t
        node = parse(str(text))
        if any(node == g for g, _ in scope.groups) or _constant(node):
            return t
        self.error(table, column, path, f"{text!r} is neither in group_by nor an aggregate (sum, count, min, max)")
        return None

    def _derived(self, name: str) -> _Rel | None:
        q = self.m.sources[name]
        path = ("sources", name)
        built = self._query(q, path, None)
        if built is None:
            return None
        scope = built[0]
        cols, fams = [], {}
        for cname, text in q.columns.items():
            if not isinstance(text, str):
                self.error(None, None, path + ("columns", cname), f"column {cname!r} of a source is an expression")
                return None
            t = self._grouped_value(text, scope, path + ("columns", cname), None, None)
            if t is None:
                return None
            cols.append(t.sql.label(cname))
            fams[cname.lower()] = t.family
        stmt = select(*cols).select_from(scope.clause)
        if scope.where is not None:
            stmt = stmt.where(scope.where)
        if scope.groups:
            stmt = stmt.group_by(*[t.sql for _, t in scope.groups])
        sub = stmt.subquery(name)
        return _Rel(sub, {k: (sub.c[c], fams[k]) for k, c in ((c.lower(), c) for c in q.columns)}, name)

    # ------------------------------------------------------------------ code tables
    def code_map(self, name: str, key: Typed) -> Typed:
        ct = self.m.codes.get(name)
        if ct is None:
            raise ExprError(f"no code table {name!r} under `codes` (there are: {', '.join(self.m.codes) or 'none'})")
        default = literal(ct.default) if ct.default is not None else null()
        if ct.values is not None:
            values = dict(ct.values)
            if key.family == "integer" and all(k.lstrip("-").isdigit() for k in values):
                values = {int(k): v for k, v in values.items()}  # type: ignore[misc]
            if not values:
                return Typed(default, "string")
            return Typed(case(values, value=key.sql, else_=default), "string")
        rel = self._code_source(name, ct)
        kcol, kfam = rel.cols[ct.key.lower()]  # type: ignore[union-attr]
        vcol, vfam = rel.cols[ct.value.lower()]  # type: ignore[union-attr]
        pair = {kfam, key.family}
        if len(pair - {"any", "null"}) > 1 and not pair <= {"integer", "numeric"}:
            raise ExprError(f"code table {name!r} has {KINDS.get(kfam, kfam)} codes ({ct.key}), the code given is "
                            f"{KINDS.get(key.family, key.family)}: cast one of them")
        stmt = select(vcol).where(kcol == key.sql)
        if rel.where is not None:
            stmt = stmt.where(rel.where)
        sub = stmt.limit(1).scalar_subquery()
        return Typed(func.coalesce(sub, default) if ct.default is not None else sub, vfam)

    def _code_source(self, name: str, ct: CodeTable) -> _Rel:
        if name in self._codes:
            rel = self._codes[name][1]
            if rel is None:
                raise ExprError(f"code table {name!r} cannot be used (see its own problems)")
            return rel
        path = ("codes", name)
        self._codes[name] = (ct, None)
        base = self.source(ct.table, path + ("table",), None)  # type: ignore[arg-type]
        if base is None:
            raise ExprError(f"code table {name!r} cannot be used (see its own problems)")
        rel = self._aliased(base, f"code_{name}")
        for what in ("key", "value"):
            col = getattr(ct, what)
            if col.lower() not in rel.cols:
                self.error(None, None, path + (what,), f"code table {name!r}: {rel.name} has no column {col!r}"
                                                       f"{_near(col, rel.cols)}")
                raise ExprError(f"code table {name!r} cannot be used (see its own problems)")
        rel.where = None
        if ct.where:
            scope = _Scope(self)
            scope.add(f"code_{name}", rel)
            scope.add(ct.table, rel)  # type: ignore[arg-type]
            w = self.expr(ct.where, scope, path + ("where",), None, None)
            if w is None:
                raise ExprError(f"code table {name!r} cannot be used (see its own problems)")
            rel.where = w.sql
        self._codes[name] = (ct, rel)
        return rel

    def code_rows(self, name: str) -> Select | None:
        """(their code, contract value) rows of a code table from a source table, for the one-to-one check."""
        ct = self.m.codes[name]
        if ct.values is not None:
            return None
        try:
            rel = self._code_source(name, ct)
        except ExprError:
            return None
        k, _ = rel.cols[ct.key.lower()]  # type: ignore[union-attr]
        v, _ = rel.cols[ct.value.lower()]  # type: ignore[union-attr]
        stmt = select(k.label("code"), v.label("value"))
        return stmt.where(rel.where) if rel.where is not None else stmt

    # ------------------------------------------------------------------ contract tables
    def build_all(self) -> dict[str, Built]:
        out: dict[str, Built] = {}
        for name in self.m.tables:
            if name not in metadata.tables:
                self.error(name, None, ("tables", name), f"{name!r} is not a table of the warehouse contract"
                                                         f"{_near(name, {t: 1 for t in TABLE_ORDER})}")
        for name in TABLE_ORDER:
            tm = self.m.tables.get(name)
            if tm is None:
                if name in V2_TABLES:
                    self.error(name, None, ("tables",), "not mapped: a contract version 2 table, so the figures that "
                                                        "need it are shown as not available", "info")
                else:
                    self.error(name, None, ("tables",), "not mapped: a required table (map it, give constant `rows`, "
                                                        "or `empty: true` where the contract allows an empty table)")
                continue
            out[name] = self.build(name, tm)
        for name in self.m.codes:  # a code table no column uses is still checked
            if self.m.codes[name].table is not None:
                with contextlib.suppress(ExprError):
                    self._code_source(name, self.m.codes[name])
        return out

    def build(self, name: str, tm: TableMap) -> Built:
        table = metadata.tables[name]
        path = ("tables", name)
        line = self.loc.line(*path)
        if tm.calendar is not None:
            if name != "dim_date":
                self.error(name, None, path + ("calendar",), "`calendar` makes dim_date only")
            elif tm.calendar.holidays:
                self._holidays(tm)
            return Built(name, "calendar", None, {c.name: "calendar" for c in table.columns}, True, line)
        if tm.empty:
            cols = [_as(c, null()).label(c.name) for c in _contract_columns(table)]
            return Built(name, "empty", select(*cols).where(false()), {c.name: "empty" for c in table.columns},
                         tm.materialize, line)
        if tm.rows is not None:
            return self._rows(name, tm, path, line)
        built = self._query(tm, path, name)
        described: dict[str, str] = {}
        labelled: list[ColumnElement] = []
        unmapped: dict[str, tuple[str, Select]] = {}
        for cname in tm.columns:
            if cname not in table.c:
                self.error(name, cname, path + ("columns", cname), f"{cname!r} is not a column of {name}"
                                                                   f"{_near(cname, {c.name: 1 for c in table.columns})}")
        ok = built is not None
        for col in table.columns:
            spec = tm.columns.get(col.name)
            cpath = path + ("columns", col.name)
            if col.name not in tm.columns:
                if col.info.get("version") == 2:
                    described[col.name] = "absent (version 2: shown as not available)"
                    self.error(name, col.name, path + ("columns",), "not mapped (optional, contract version 2)", "info")
                elif col.nullable:
                    described[col.name] = "absent: NULL (the contract allows it)"
                    labelled.append(_as(col, null()).label(col.name))
                    self.error(name, col.name, path + ("columns",), "not mapped: NULL in every row (allowed)", "warning")
                else:
                    described[col.name] = "MISSING"
                    self.error(name, col.name, path + ("columns",), "required column is not mapped")
                    ok = False
                continue
            const = _const(spec)
            if const is not _NOT_CONST:
                value = _typed_const(const, col)
                if value is None:
                    self.error(name, col.name, cpath, f"constant {const!r} is not a {_family(col.type)}")
                    ok = False
                    continue
                labelled.append(value.label(col.name))
                described[col.name] = "constant NULL" if const is None else f"constant {const!r}"
                continue
            described[col.name] = str(spec)
            if built is None:
                continue
            t = self._grouped_value(str(spec), built[0], cpath, name, col.name)
            if t is None:
                ok = False
                continue
            want = _family(col.type)
            if t.family not in _FITS[want] | {"any", "null"}:
                hint = _HINTS.get((want, t.family), f"write cast(X, {want})")
                self.error(name, col.name, cpath, f"{spec!r} is {KINDS.get(t.family, t.family)}, but "
                                                  f"{name}.{col.name} holds {KINDS[want]} ({hint})")
                ok = False
                continue
            labelled.append(cast_to(t.sql, want, col.type).label(col.name))
            node = parse(str(spec))
            if node.kind == "call" and node.value == "map" and built is not None and not tm.group_by:
                key = compile_expr(node.args[0], built[0])
                unmapped[col.name] = (str(node.args[1].value if node.args[1].kind == "name" else node.args[1].value[1]),
                                      select(key.sql.label("code"), func.count().label("n"))
                                      .select_from(built[0].clause)
                                      .where(*([built[0].where] if built[0].where is not None else []))
                                      .where(key.sql.is_not(None), t.sql.is_(None)).group_by(key.sql))
        if not ok or built is None:
            return Built(name, "query", None, described, tm.materialize, line, tm.from_ or "")
        scope = built[0]
        stmt = select(*labelled).select_from(scope.clause)
        if scope.where is not None:
            stmt = stmt.where(scope.where)
        if scope.groups:
            stmt = stmt.group_by(*[t.sql for _, t in scope.groups])
        return Built(name, "query", stmt, described, tm.materialize, line, tm.from_ or "", unmapped)

    def _rows(self, name: str, tm: TableMap, path: tuple, line: int | None) -> Built:
        table = metadata.tables[name]
        selects = []
        ok = True
        for i, row in enumerate(tm.rows or []):
            cols = []
            for key in row:
                if key not in table.c:
                    self.error(name, key, path + ("rows", i, key), f"{key!r} is not a column of {name}")
                    ok = False
            for col in _contract_columns(table):
                if col.name not in row:
                    if not col.nullable:
                        self.error(name, col.name, path + ("rows", i), f"row {i + 1} has no {col.name} (required)")
                        ok = False
                    cols.append(_as(col, null()).label(col.name))
                    continue
                value = _typed_const(row[col.name], col)
                if value is None:
                    self.error(name, col.name, path + ("rows", i, col.name),
                               f"{row[col.name]!r} is not a {_family(col.type)}")
                    ok = False
                    continue
                cols.append(value.label(col.name))
            selects.append(select(*cols))
        if not selects:
            self.error(name, None, path + ("rows",), "`rows` is empty: write `empty: true` instead")
            ok = False
        stmt = None
        if ok:
            stmt = selects[0] if len(selects) == 1 else selects[0].union_all(*selects[1:])
            stmt = select(*stmt.subquery("constant_rows").c)
        return Built(name, "rows", stmt, {c.name: "constant rows" for c in table.columns}, tm.materialize, line)

    def _holidays(self, tm: TableMap) -> None:
        cal = tm.calendar
        path = ("tables", "dim_date", "calendar")
        rel = self.source(cal.holidays, path + ("holidays",), "dim_date")  # type: ignore[union-attr, arg-type]
        if rel is None:
            return
        for what in ("holiday_date", "holiday_name", "holiday_workday"):
            col = getattr(cal, what)
            if col and col.lower() not in rel.cols:
                self.error("dim_date", None, path + (what,), f"{rel.name} has no column {col!r}{_near(col, rel.cols)}")

    def holiday_rows(self, conn, tm: TableMap) -> list[tuple]:
        cal = tm.calendar
        rel = self.source(cal.holidays, ("tables", "dim_date"), "dim_date")  # type: ignore[union-attr, arg-type]
        cols = [rel.cols[cal.holiday_date.lower()][0]]  # type: ignore[union-attr]
        cols.append(rel.cols[cal.holiday_name.lower()][0] if cal.holiday_name else null())  # type: ignore[union-attr]
        cols.append(rel.cols[cal.holiday_workday.lower()][0] if cal.holiday_workday else null())  # type: ignore[union-attr]
        return [tuple(r) for r in conn.execute(select(*cols))]


def _as(col: Column, expr: ColumnElement) -> ColumnElement:
    """`expr` as the contract column's type (cast portably)."""
    return cast_to(expr, _family(col.type), col.type)


def _contract_columns(table: Table) -> list[Column]:
    return list(table.columns)


_NOT_CONST = object()


def _const(spec: Any) -> Any:
    if isinstance(spec, dict):
        return spec.get("const")
    if isinstance(spec, str):
        return _NOT_CONST
    return spec


def _constant(node: Node) -> bool:
    return node.kind == "lit" or (node.kind == "call" and node.value == "cast" and _constant(node.args[0]))


def _typed_const(value: Any, col: Column) -> ColumnElement | None:
    """A constant as the contract column's type; None when it is not one."""
    fam = _family(col.type)
    if value is None:
        return _as(col, null()) if col.nullable else None
    if fam == "boolean":
        return _as(col, literal(bool(value))) if isinstance(value, bool) else None
    if fam in ("integer", "numeric"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if fam == "integer" and not float(value).is_integer():
            return None
        return cast(literal(value), col.type)
    if fam in ("date", "datetime"):
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return None
        if not isinstance(value, date):
            return None
        return cast_to(literal(value.isoformat()), fam, SaDate() if fam == "date" else col.type)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return cast(literal(str(value)), col.type)
    return None
