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

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
    distinct,
    func,
    insert,
    literal,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine

from .registry import MEASURES, Level, MeasureContext
from .schema import dim_department, dim_drg, fact_inpatient_case, fact_outpatient_daily, fact_ward_daily, meta_load
from .sources import Filters, Source

log = logging.getLogger(__name__)

summary_metadata = MetaData()

# Counts of distinct days do not add up over departments and days, but a summary row stands for
# one department's day with facts, so the summary counts them as its own distinct days.
DISTINCT_DAYS = frozenset({"ward_days"})
LEVELS = (Level.hospital, Level.campus, Level.division, Level.department)
_FINE_FILTERS = ("ward", "group", "doctor", "drg")  # filters the summaries cannot apply

_FACTS = {  # source -> (fact table, its department column, its day column)
    "inpatient": (fact_inpatient_case, fact_inpatient_case.c.dept_id, fact_inpatient_case.c.discharge_date),
    "outpatient": (fact_outpatient_daily, fact_outpatient_daily.c.dept_id, fact_outpatient_daily.c.date),
    "ward": (fact_ward_daily, None, fact_ward_daily.c.date),  # a ward's department comes from dim_ward
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
    return [m.code for m in MEASURES.values() if m.source == source and m.code not in DISTINCT_DAYS]


def _table(source: str) -> Table:
    cols = [Column(code, _column_type(MEASURES[code].sql(_CTX))) for code in _measures(source)]
    table = Table(f"agg_{source}_daily", summary_metadata, Column("dept_id", String(64), nullable=False),
                  Column("day", Date, nullable=False), *cols)
    Index(f"ix_agg_{source}_dept_day", table.c.dept_id, table.c.day)
    Index(f"ix_agg_{source}_day", table.c.day)
    return table


SUMMARY_TABLES: dict[str, Table] = {src: _table(src) for src in _FACTS}
agg_meta = Table("agg_meta", summary_metadata, Column("loaded_at", DateTime, nullable=False),
                 Column("built_at", DateTime, nullable=False))


@dataclass(frozen=True)
class SummarySource(Source):
    """A source read from its summary table: the department keys only, measures added up."""

    table: Table = field(default=None, compare=False)  # type: ignore[assignment]

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
        return code in self.table.c or (code in DISTINCT_DAYS and MEASURES[code].source == self.name[:-len("_summary")])


SUMMARY_SOURCES = {src: SummarySource(f"{src}_summary", t.c.day, False, table=t) for src, t in SUMMARY_TABLES.items()}


def summary_for(source: str, level: Level, filters: Filters, measures: list[str]) -> SummarySource | None:
    """The summary that answers these measures of `source` at `level` under `filters`, or None."""
    summary = SUMMARY_SOURCES.get(source)
    if summary is None or level not in LEVELS or any(getattr(filters, f) for f in _FINE_FILTERS):
        return None
    if not all(summary.answers(m) for m in measures):
        return None
    return summary


def _fill(source: str) -> tuple[Table, object]:
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
    stmt = (select(dept_col.label("dept_id"), day.label("day"), *[MEASURES[c].sql(_CTX).label(c) for c in codes])
            .select_from(from_).where(dept_col.is_not(None)).group_by(dept_col, day))
    return table, insert(table).from_select(["dept_id", "day", *codes], stmt)


def build_summaries(engine: Engine) -> dict[str, int]:
    """(Re)build every summary table from the facts and stamp it with the newest load; returns
    rows per table. Run it after each load, with an account that may create tables."""
    summary_metadata.drop_all(engine)
    summary_metadata.create_all(engine)
    counts = {}
    with engine.begin() as conn:
        for source in _FACTS:
            table, stmt = _fill(source)
            conn.execute(stmt)
            counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar() or 0
        conn.execute(insert(agg_meta).from_select(
            ["loaded_at", "built_at"],
            select(func.max(meta_load.c.loaded_at), literal(datetime.now(UTC).replace(tzinfo=None), DateTime))
            .where(meta_load.c.loaded_at.is_not(None)).having(func.count() > 0)))
    return counts


def summaries_current(conn: Connection) -> bool:
    """Whether the summary tables were built from the newest load (a new load makes them stale
    until they are built again; the data layer then reads the facts)."""
    try:
        if not inspect(conn).has_table(agg_meta.name):
            return False
        newest = select(func.max(meta_load.c.loaded_at)).scalar_subquery()
        return bool(conn.execute(select(func.count()).select_from(agg_meta).where(agg_meta.c.loaded_at == newest))
                    .scalar())
    except Exception as exc:  # noqa: BLE001 - no summaries is a slower answer, never a failure
        log.info("summary tables not usable: %s", exc)
        return False


def drop_summaries(engine: Engine) -> None:
    summary_metadata.drop_all(engine)


__all__ = ["SUMMARY_SOURCES", "SUMMARY_TABLES", "agg_meta", "build_summaries", "drop_summaries", "summaries_current",
           "summary_for"]
