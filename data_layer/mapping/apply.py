"""`map apply` and `map drop`: the contract tables as views (or tables) in a schema the site names.

Apply refuses to create anything while `map check` finds an error. It records every object it
creates in `meta_mapping` in the target schema, so applying again replaces exactly those (apply
twice = the same result) and `map drop` removes exactly those, and the schema too when apply made
it. An object of a contract table's name that apply did not create is never touched: apply stops.

Where the contract lands, and the warehouse URL the app then reads it with (`contract_url`):
- PostgreSQL: the schema NAME (created if absent); the app reads it with `?options=-csearch_path%3DNAME`
  in WAREHOUSE_URL, or with `ALTER ROLE <reader> SET search_path = NAME`.
- MariaDB / MySQL: the database NAME (created if absent); the app's WAREHOUSE_URL names that database.
- DuckDB and SQLite: the source file itself (NAME must be `main`): a view of SQLite cannot read
  another file, and DuckDB cannot set a schema search path from a URL. WAREHOUSE_URL is the same file.

Run apply with the loading side's account (it creates schemas, views and tables), never with the
app's reading account, which needs only SELECT on the views (views run with their owner's rights).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DDLElement

from ..engine import parse_url, translate_errors
from ..errors import UserError
from ..periods import CALENDAR_COLUMNS, as_date, calendar_parts
from ..schema import metadata
from .build import Builder, Built
from .check import CheckReport, check_mapping
from .model import Located

BOOK = "meta_mapping"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class MappingRefused(UserError):
    """`map apply` found errors: nothing was created."""

    def __init__(self, report: CheckReport):
        self.report = report
        super().__init__(f"{len(report.errors)} error(s) in the mapping: nothing was created "
                         "(run `python -m data_layer map check` for the report)")


class CreateView(DDLElement):
    def __init__(self, name: str, schema: str | None, stmt):  # noqa: ANN001
        self.name, self.schema, self.stmt = name, schema, stmt


@compiles(CreateView)
def _create_view(element: CreateView, compiler, **kw) -> str:  # noqa: ANN001
    prep = compiler.preparer
    full = (prep.quote_schema(element.schema) + "." if element.schema else "") + prep.quote(element.name)
    body = compiler.sql_compiler.process(element.stmt, literal_binds=True)
    return f"CREATE VIEW {full} AS {body}"


class DropObject(DDLElement):
    def __init__(self, kind: str, name: str, schema: str | None):
        self.kind, self.name, self.schema = kind, name, schema


@compiles(DropObject)
def _drop(element: DropObject, compiler, **kw) -> str:  # noqa: ANN001
    prep = compiler.preparer
    if element.kind == "schema":
        word = "DATABASE" if compiler.dialect.name in ("mysql", "mariadb") else "SCHEMA"
        return f"DROP {word} IF EXISTS {prep.quote_schema(element.name)}"
    full = (prep.quote_schema(element.schema) + "." if element.schema else "") + prep.quote(element.name)
    return f"DROP {'VIEW' if element.kind == 'view' else 'TABLE'} IF EXISTS {full}"


class CreateSchema(DDLElement):
    def __init__(self, name: str):
        self.name = name


@compiles(CreateSchema)
def _create_schema(element: CreateSchema, compiler, **kw) -> str:  # noqa: ANN001
    word = "DATABASE" if compiler.dialect.name in ("mysql", "mariadb") else "SCHEMA"
    return f"CREATE {word} {compiler.preparer.quote_schema(element.name)}"


@dataclass
class Applied:
    schema: str | None
    created: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    replaced: int = 0
    report: CheckReport | None = None


def target_schema(engine: Engine, schema: str) -> str | None:
    """The schema the contract goes to (None: the connection's own, on DuckDB and SQLite)."""
    if not _NAME.match(schema or ""):
        raise UserError(f"schema {schema!r}: use letters, digits and _ only (at most 63)")
    if engine.dialect.name in ("sqlite", "duckdb"):
        if schema.lower() != "main":
            raise UserError(f"on {engine.dialect.name} the contract goes into the source file itself: use "
                            "--schema main (the app's WAREHOUSE_URL is then the same file; docs/onboarding.md)")
        return None
    return schema


def contract_url(url: str | URL, schema: str) -> URL:
    """The warehouse URL the app reads the applied contract with (see the module's notes)."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    if backend in ("mysql", "mariadb"):
        return parsed.set(database=schema)
    return parsed


def _book(schema: str | None) -> Table:
    return Table(BOOK, MetaData(), Column("object_name", String(64)), Column("object_kind", String(16)),
                 Column("applied_at", DateTime), Column("mapping_sha", String(64)), schema=schema)


def _recorded(conn, schema: str | None) -> list[tuple[str, str]]:
    insp = inspect(conn)
    if schema is not None and schema not in insp.get_schema_names():
        return []
    if BOOK not in insp.get_table_names(schema=schema):
        return []
    book = _book(schema)
    return [(k, n) for n, k in conn.execute(select(book.c.object_name, book.c.object_kind))]


def apply_mapping(located: Located, engine: Engine, schema: str, *, materialize: frozenset[str] = frozenset(),
                  mapping_text: str | None = None) -> Applied:
    """Create the contract in `schema`; MappingRefused (and nothing created) while the check finds errors."""
    target = target_schema(engine, schema)
    unknown = sorted(set(materialize) - set(metadata.tables))
    if unknown:
        raise UserError(f"--materialize: not contract tables: {', '.join(unknown)}")
    report = check_mapping(located, engine)
    if not report.ok:
        raise MappingRefused(report)
    if mapping_text is None:
        mapping_text = Path(located.path).read_text(encoding="utf-8") if Path(located.path).is_file() else ""
    sha = hashlib.sha256(mapping_text.encode()).hexdigest()
    out = Applied(target, report=report)
    with translate_errors(engine.url):
        b = Builder(located, engine)
        built = b.build_all()
        with engine.begin() as conn:
            insp = inspect(conn)
            schema_made = False
            if target is not None and target not in insp.get_schema_names():
                conn.execute(CreateSchema(target))
                schema_made = True
            before = _recorded(conn, target)
            schema_made = schema_made or ("schema", target) in before
            existing = set(insp.get_table_names(schema=target)) | set(insp.get_view_names(schema=target))
            mine = {n for _, n in before}
            foreign = sorted(n for n in built if n in existing and n not in mine)
            if foreign:
                raise UserError(f"{', '.join(foreign)} already exist(s) in {target or 'the source file'} and were not "
                                "created by `map apply`: nothing was changed (rename or remove them first)")
            for kind, name in before:
                if kind != "schema":
                    conn.execute(DropObject(kind, name, target))
                    out.replaced += 1
            book = _book(target)
            book.drop(conn, checkfirst=True)
            book.create(conn)
            now = datetime.now().replace(microsecond=0)

            def record(kind: str, name: str) -> None:  # before creating: MariaDB commits each DDL at once
                conn.execute(book.insert(), [{"object_name": name, "object_kind": kind, "applied_at": now,
                                              "mapping_sha": sha}])

            if schema_made:
                record("schema", target)  # type: ignore[arg-type]
            for name, item in built.items():
                as_table = item.kind == "calendar" or item.materialize or name in materialize
                record("table" if as_table else "view", name)
                _create(conn, b, located, item, target, as_table)
                out.created.append(("table" if as_table else "view", name))
    return out


def _create(conn, b: Builder, located: Located, item: Built, target: str | None, as_table: bool) -> None:
    contract = metadata.tables[item.name]
    if item.kind == "calendar":
        cal = located.mapping.tables[item.name].calendar
        t = Table(item.name, MetaData(), *[Column(c.name, c.type) for c in contract.columns], schema=target)
        t.create(conn)
        holidays = b.holiday_rows(conn, located.mapping.tables[item.name]) if cal.holidays else []  # type: ignore[union-attr]
        conn.execute(t.insert(), calendar_rows(cal.start, cal.end, holidays))  # type: ignore[union-attr]
        return
    stmt = item.select
    if as_table:
        names = [c.name for c in stmt.selected_columns]  # type: ignore[union-attr]
        t = Table(item.name, MetaData(), *[Column(n, contract.c[n].type) for n in names], schema=target)
        t.create(conn)
        conn.execute(t.insert().from_select(names, stmt))
        return
    conn.execute(CreateView(item.name, target, stmt))


def calendar_rows(start: date, end: date, holidays: list[tuple]) -> list[dict]:
    """dim_date from start to end; a holiday row (date, name, is_workday) marks a day off or a
    working weekend day (调休)."""
    marks = {as_date(d): (name, bool(work) if work is not None else False) for d, name, work in holidays if d}
    rows = []
    d = start
    while d <= end:
        name, work = marks.get(d, (None, None))
        workday = bool(work) if d in marks else d.weekday() < 5
        parts = dict(zip(CALENDAR_COLUMNS, calendar_parts(d), strict=True))
        rows.append({"date": d, **parts, "is_workday": workday, "holiday_name": None if work else name})
        d += timedelta(days=1)
    return rows


def drop_mapping(engine: Engine, schema: str) -> list[tuple[str, str]]:
    """Remove what `map apply` recorded in `schema`; [] when it recorded nothing there."""
    target = target_schema(engine, schema)
    with translate_errors(engine.url), engine.begin() as conn:
        recorded = _recorded(conn, target)
        if not recorded:
            return []
        for kind, name in recorded:
            if kind != "schema":
                conn.execute(DropObject(kind, name, target))
        _book(target).drop(conn)
    if ("schema", target) in recorded:  # after the transaction: a schema holding nothing of its own
        with engine.begin() as conn:
            insp = inspect(conn)
            left = set(insp.get_table_names(schema=target)) | set(insp.get_view_names(schema=target))
            if not left:
                conn.execute(DropObject("schema", target, None))  # type: ignore[arg-type]
            else:
                recorded = [r for r in recorded if r[0] != "schema"]
    return recorded
