"""Summary tables: the daily facts added up per department and day, kept in step with meta_load.

A hospital-wide or department answer over cases (3 million rows at scale 5) reads about
110,000 summary rows instead (one per department and day, whatever the volume), so its cost
stops growing with the hospital's size. The tables belong to the application, not to the
warehouse contract: `python -m data_layer summarize` writes them after each load (the demo
builder does so itself), and `agg_meta` records the load they were built from. The data layer
reads them only while that load is still the newest row of `meta_load`; otherwise, and for
anything below the department (wards, medical groups, doctors, DRG groups) or any measure that
does not add up across days and departments, it reads the facts as before. The answers are
the same either way (tests/test_summaries.py); only the time differs.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Double,
    Float,
    FromClause,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    cast,
    distinct,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
)
from sqlalchemy.engine import Connection, Engine

from .engine import analyze
from .errors import UserError
from .periods import add_months, month_end
from .registry import MEASURES, Level, MeasureContext
from .schema import (
    dim_department,
    dim_drg,
    fact_equipment_daily,
    fact_inpatient_case,
    fact_outpatient_daily,
    fact_ward_daily,
    meta_load,
)
from .sources import Filters, Source

log = logging.getLogger(__name__)

summary_metadata = MetaData()

# Counts of distinct days do not add up over departments and days, but a summary row stands for
# one department's day with facts, so the summary counts them as its own distinct days.
DISTINCT_DAYS = frozenset({"ward_days"})
LEVELS = (Level.hospital, Level.campus, Level.division, Level.department)
_FINE_FILTERS = ("ward", "group", "doctor", "drg", "scheme")  # filters the summaries cannot apply

_FACTS = {  # source -> (fact table, its department column, its day column)
    "inpatient": (fact_inpatient_case, fact_inpatient_case.c.dept_id, fact_inpatient_case.c.discharge_date),
    "outpatient": (fact_outpatient_daily, fact_outpatient_daily.c.dept_id, fact_outpatient_daily.c.date),
    "ward": (fact_ward_daily, None, fact_ward_daily.c.date),  # a ward's department comes from dim_ward
    "equipment": (fact_equipment_daily, None, fact_equipment_daily.c.date),  # a device's, from dim_equipment
}


def _column_type(expr: ColumnElement):
    """A type that holds the measure's daily sum exactly: whole numbers, decimals of the fact's
    scale, or doubles (ratios)."""
    t = expr.type
    if isinstance(t, Integer):
        return BigInteger()
    if isinstance(t, Numeric) and not isinstance(t, Float):
        return Numeric(28, max(4, t.scale or 0))
    return Double()


_CTX = MeasureContext(level=Level.department, closed_total=False)


def _measures(source: str) -> list[str]:
    # contract version 2 measures too (NULL on a warehouse without their columns, which is never asked
    # for them: queries/kpis.unavailable), except one that needs a dimension the fill does not join
    return [m.code for m in MEASURES.values() if m.source == source and m.code not in DISTINCT_DAYS
            and (not m.requires or m.needs <= frozenset({"drg"}))]


def _has(present: set[str], requires: frozenset[str]) -> bool:
    return all(r in present for r in requires)


def _present(conn: Connection) -> set[str]:
    """The warehouse's tables and "table.column"s (what a version 2 measure requires)."""
    insp = inspect(conn)
    out: set[str] = set()
    for name in insp.get_table_names():
        out.add(name)
        out.update(f"{name}.{c['name']}" for c in insp.get_columns(name))
    return out


def _sums(codes: list[str], table: Table, present: set[str]) -> list:
    """Each measure's facts expression, or a typed NULL where the warehouse lacks what it requires."""
    return [(MEASURES[c].sql(_CTX) if _has(present, MEASURES[c].requires) else cast(null(), table.c[c].type)).label(c)
            for c in codes]


def _table(source: str) -> Table:
    cols = [Column(code, _column_type(MEASURES[code].sql(_CTX))) for code in _measures(source)]
    table = Table(f"agg_{source}_daily", summary_metadata, Column("dept_id", String(64), nullable=False),
                  Column("day", Date, nullable=False), *cols)
    Index(f"ix_agg_{source}_dept_day", table.c.dept_id, table.c.day)
    Index(f"ix_agg_{source}_day", table.c.day)
    return table


SUMMARY_TABLES: dict[str, Table] = {src: _table(src) for src in _FACTS}

# Cases per department, DRG group, payment scheme and month: DRG answers (which count the cases
# paid by DRG only, where the hospital also has DIP cases: queries/drg.drg_only) read whole months
# here and only the days at a window's ends from the facts (about 53,000 rows at scale 5 for 3
# million cases). The scheme is NULL on a contract version 1 warehouse, which has no such column.
drg_monthly = Table("agg_inpatient_drg_monthly", summary_metadata, Column("dept_id", String(64), nullable=False),
                    Column("drg_code", String(64)), Column("payment_scheme", String(32)),
                    Column("month_start", Date, nullable=False),
                    *[Column(c.name, c.type) for c in SUMMARY_TABLES["inpatient"].columns
                      if c.name not in ("dept_id", "day")])
Index("ix_agg_drg_month", drg_monthly.c.month_start, drg_monthly.c.drg_code)


def _monthly_table(source: str) -> Table:
    daily = SUMMARY_TABLES[source]
    table = Table(f"agg_{source}_monthly", summary_metadata, Column("dept_id", String(64), nullable=False),
                  Column("month_start", Date, nullable=False),
                  *[Column(c.name, c.type) for c in daily.columns if c.name not in ("dept_id", "day")])
    Index(f"ix_agg_{source}_month", table.c.month_start, table.c.dept_id)
    return table


# The daily summaries added up per department and month (about 100 departments x 60 months: 6,000
# rows each, whatever the volume). A period's whole months are read here and only the days at its
# ends from the daily summary, so a year to date reads about 25 rows per department instead of 330.
MONTHLY_TABLES: dict[str, Table] = {src: _monthly_table(src) for src in _FACTS}
agg_meta = Table("agg_meta", summary_metadata, Column("loaded_at", DateTime, nullable=False),
                 Column("built_at", DateTime, nullable=False), Column("layout", String(32), nullable=False))


def _layout() -> str:
    """A fingerprint of the summary tables' columns: tables built by another release (a measure
    added since, a type changed) do not match it and are not read until they are built again."""
    parts = [f"{t.name}:" + ",".join(f"{c.name} {c.type}" for c in t.columns)
             for t in summary_metadata.sorted_tables if t is not agg_meta]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SummarySource(Source):
    """A source read from its summary table: the department keys only, measures added up."""

    table: Table = field(default=None, compare=False)  # type: ignore[assignment]
    of: str = ""  # the fact source it adds up

    def from_clause(self, needs: frozenset[str]) -> FromClause:
        return self.table.join(dim_department, self.table.c.dept_id == dim_department.c.dept_id)

    def key(self, level: Level) -> ColumnElement | None:
        return {Level.campus: dim_department.c.campus_id, Level.division: dim_department.c.division,
                Level.department: dim_department.c.dept_id}.get(level)

    def measure(self, code: str) -> ColumnElement:
        if code in DISTINCT_DAYS:
            return func.count(distinct(self.table.c.day))
        return func.sum(self.table.c[code])

    def answers(self, code: str) -> bool:
        return code in self.table.c or (code in DISTINCT_DAYS and MEASURES[code].source == self.of)


SUMMARY_SOURCES = {src: SummarySource(f"{src}_summary", t.c.day, False, table=t, of=src)
                   for src, t in SUMMARY_TABLES.items()}


@dataclass(frozen=True)
class MonthlySummarySource(SummarySource):
    """The DRG summary: whole months only, grouped by department keys or DRG group."""

    def key(self, level: Level) -> ColumnElement | None:
        return self.table.c.drg_code if level == Level.drg else super().key(level)

    def answers(self, code: str) -> bool:
        return code in self.table.c

    def scheme_column(self) -> ColumnElement | None:
        return self.table.c.get("payment_scheme")


DRG_MONTHLY = MonthlySummarySource("inpatient_drg_summary", drg_monthly.c.month_start, True, table=drg_monthly,
                                   of="inpatient")
DEPT_MONTHLY = {src: MonthlySummarySource(f"{src}_monthly_summary", t.c.month_start, True, table=t, of=src)
                for src, t in MONTHLY_TABLES.items()}
MONTH_GRAINS = (None, "month", "quarter", "year")  # a summary month cannot be cut into days or weeks


def monthly_summary_for(source: str, level: Level, filters: Filters, measures: list[str],
                        grain: str | None) -> MonthlySummarySource | None:
    """The monthly summary that answers a period's whole months, or None: per department and month
    where the daily summary would answer (`summary_for`), else the DRG summary for what the daily
    one cannot (the DRG level, a DRG filter). Counts of distinct days do not add up over months."""
    if grain not in MONTH_GRAINS:
        return None
    if summary_for(source, level, filters, measures) is not None:
        monthly = DEPT_MONTHLY.get(source)
        return monthly if monthly is not None and all(monthly.answers(m) for m in measures) else None
    if source != "inpatient" or level not in (*LEVELS, Level.drg):
        return None
    if any(getattr(filters, f) for f in ("ward", "group", "doctor")):
        return None
    return DRG_MONTHLY if all(DRG_MONTHLY.answers(m) for m in measures) else None


def split_window(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole months inside [start, end] as one window (None when there is none), and the days
    before and after them."""
    first = start if start.day == 1 else add_months(start.replace(day=1), 1)
    last = end if end == month_end(end) else end.replace(day=1) - timedelta(days=1)
    if last < first:
        return None, [(start, end)]
    edges = [w for w in ((start, first - timedelta(days=1)), (last + timedelta(days=1), end)) if w[0] <= w[1]]
    return (first, last), edges


def summary_for(source: str, level: Level, filters: Filters, measures: list[str]) -> SummarySource | None:
    """The summary that answers these measures of `source` at `level` under `filters`, or None."""
    summary = SUMMARY_SOURCES.get(source)
    if summary is None or level not in LEVELS or any(getattr(filters, f) for f in _FINE_FILTERS):
        return None
    if not all(summary.answers(m) for m in measures):
        return None
    return summary


def _fill(source: str, present: set[str]) -> tuple[Table, object]:
    table = SUMMARY_TABLES[source]
    fact, dept_col, day = _FACTS[source]
    codes = _measures(source)
    from_ = fact
    if source == "inpatient":
        from_ = fact.outerjoin(dim_drg, fact.c.drg_code == dim_drg.c.drg_code)
    if source == "ward":
        from .schema import dim_ward

        from_ = fact.join(dim_ward, fact.c.ward_id == dim_ward.c.ward_id)
        dept_col = dim_ward.c.dept_id
    if source == "equipment":
        from .schema import dim_equipment

        from_ = fact.join(dim_equipment, fact.c.equipment_id == dim_equipment.c.equipment_id)
        dept_col = dim_equipment.c.dept_id
    stmt = (select(dept_col.label("dept_id"), day.label("day"), *_sums(codes, table, present))
            .select_from(from_).where(dept_col.is_not(None)).group_by(dept_col, day))
    return table, insert(table).from_select(["dept_id", "day", *codes], stmt)


def _fill_drg_monthly(present: set[str]) -> object:
    from .schema import dim_date

    fact = fact_inpatient_case
    keys = ("dept_id", "drg_code", "payment_scheme", "month_start")
    codes = [c.name for c in drg_monthly.columns if c.name not in keys]
    has_scheme = "fact_inpatient_case.payment_scheme" in present
    scheme = fact.c.payment_scheme if has_scheme else literal(None, String(32))
    from_ = fact.outerjoin(dim_drg, fact.c.drg_code == dim_drg.c.drg_code).join(
        dim_date, dim_date.c.date == fact.c.discharge_date)
    stmt = (select(fact.c.dept_id, fact.c.drg_code, scheme.label("payment_scheme"), dim_date.c.month_start,
                   *_sums(codes, drg_monthly, present))
            .select_from(from_).where(fact.c.dept_id.is_not(None))
            .group_by(fact.c.dept_id, fact.c.drg_code, *([fact.c.payment_scheme] if has_scheme else []),
                      dim_date.c.month_start))
    return insert(drg_monthly).from_select(list(keys) + codes, stmt)


def _fill_monthly(source: str) -> object:
    from .schema import dim_date

    daily, monthly = SUMMARY_TABLES[source], MONTHLY_TABLES[source]
    codes = [c.name for c in monthly.columns if c.name not in ("dept_id", "month_start")]
    stmt = (select(daily.c.dept_id, dim_date.c.month_start, *[func.sum(daily.c[c]).label(c) for c in codes])
            .select_from(daily.join(dim_date, dim_date.c.date == daily.c.day))
            .group_by(daily.c.dept_id, dim_date.c.month_start))
    return insert(monthly).from_select(["dept_id", "month_start", *codes], stmt)


def build_summaries(engine: Engine) -> dict[str, int]:
    """(Re)build every summary table from the facts, stamp it with the newest load and analyze
    it; returns rows per table. Run it after each load, with an account that may create tables.
    A warehouse without the tables they are built from is refused before anything is changed."""
    from .schema import dim_date, dim_ward

    present = set(inspect(engine).get_table_names())
    from .schema import dim_equipment

    needed = (fact_inpatient_case, fact_outpatient_daily, fact_ward_daily, fact_equipment_daily, dim_drg, dim_ward,
              dim_equipment, dim_date, meta_load)
    missing = [t.name for t in needed if t.name not in present]
    if missing:
        raise UserError(f"the warehouse has no {', '.join(missing)}: load it (or check the URL) before "
                        "summarizing; nothing was changed")
    summary_metadata.drop_all(engine)
    summary_metadata.create_all(engine)
    counts = {}
    with engine.begin() as conn:
        present = _present(conn)
        for source in _FACTS:
            table, stmt = _fill(source, present)
            conn.execute(stmt)
            counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar() or 0
            conn.execute(_fill_monthly(source))
            monthly = MONTHLY_TABLES[source]
            counts[monthly.name] = conn.execute(select(func.count()).select_from(monthly)).scalar() or 0
        conn.execute(_fill_drg_monthly(present))
        counts[drg_monthly.name] = conn.execute(select(func.count()).select_from(drg_monthly)).scalar() or 0
        conn.execute(insert(agg_meta).from_select(
            ["loaded_at", "built_at", "layout"],
            select(func.max(meta_load.c.loaded_at), literal(datetime.now(UTC).replace(tzinfo=None), DateTime),
                   literal(LAYOUT, String(32)))
            .where(meta_load.c.loaded_at.is_not(None)).having(func.count() > 0)))
    analyze(engine, list(summary_metadata.tables))  # the planner's statistics, as after any load
    return counts


def summarize(engine: Engine, if_stale: bool = False) -> dict[str, int] | None:
    """`build_summaries`; with `if_stale`, only when the tables do not match the newest load and
    this release (None: they do, nothing was done)."""
    if if_stale:
        with engine.connect() as conn:
            if summaries_current(conn):
                return None
    return build_summaries(engine)


def summaries_current(conn: Connection) -> bool:
    """Whether the summary tables were built from the newest load, by this release's layout (a
    new load or an upgrade makes them stale until they are built again; the data layer then
    reads the facts)."""
    try:
        if not inspect(conn).has_table(agg_meta.name):
            return False
        newest = select(func.max(meta_load.c.loaded_at)).scalar_subquery()
        return bool(conn.execute(select(func.count()).select_from(agg_meta)
                                 .where(agg_meta.c.loaded_at == newest, agg_meta.c.layout == LAYOUT)).scalar())
    except Exception as exc:  # noqa: BLE001 - no summaries is a slower answer, never a failure
        log.info("summary tables not usable: %s", exc)
        return False


LAYOUT = _layout()


def drop_summaries(engine: Engine) -> None:
    summary_metadata.drop_all(engine)


__all__ = ["DEPT_MONTHLY", "DRG_MONTHLY", "MONTHLY_TABLES",
           "SUMMARY_SOURCES", "SUMMARY_TABLES", "agg_meta", "build_summaries", "drop_summaries",
           "monthly_summary_for", "split_window", "summaries_current", "summarize", "summary_for"]
