"""Check a warehouse against the contract and report every violation with a count and examples.

All checks aggregate in the database (COUNT with a LIMITed sample of examples) and are built
from the contract's Table objects, so they run the same on every supported backend.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Column, ColumnElement, Engine, and_, func, inspect, literal, or_, select
from sqlalchemy import types as satypes

from .engine import translate_errors
from .periods import as_date, calendar_parts
from .schema import (
    ALLOWED_CODES,
    COMPONENT_SUMS,
    CONTRACT_VERSION,
    FACT_DATE_COLUMNS,
    FACT_MONTH_COLUMNS,
    V2_TABLES,
    dim_date,
    dim_department,
    dim_dip,
    dim_drg,
    fact_benchmark,
    fact_dept_cost_monthly,
    fact_dip_point_value,
    fact_inpatient_case,
    fact_outpatient_daily,
    metadata,
)

Severity = Literal["error", "warning"]

# Natural keys of facts that have no primary key in the contract.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "fact_dept_cost_monthly": ("month_start", "dept_id", "cost_category", "allocation_stage"),
    "fact_budget_monthly": ("month_start", "dept_id", "item_code"),
    "fact_target_annual": ("year", "dept_id", "indicator_code"),
    "fact_staff_monthly": ("month_start", "dept_id", "staff_category", "employment_type"),
}


@dataclass
class Violation:
    check: str
    table: str
    column: str | None
    count: int
    examples: list[str]
    message: str
    severity: Severity = "error"


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    backend: str = ""

    @property
    def ok(self) -> bool:
        return not any(v.severity == "error" for v in self.violations)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def version(self) -> int:
        """The contract version the warehouse's structure satisfies: 1 while a version 2 table or
        column is absent (which is allowed: those figures are shown as not available)."""
        absent = any(v.check == "version 2" and v.message.startswith("contract version 2") for v in self.violations)
        return 1 if absent else CONTRACT_VERSION


def _family(t: satypes.TypeEngine) -> str:
    if isinstance(t, satypes.Boolean):
        return "boolean"
    if isinstance(t, satypes.DateTime):
        return "datetime"
    if isinstance(t, satypes.Date):
        return "date"
    if isinstance(t, satypes.Integer):
        return "integer"
    if isinstance(t, (satypes.Numeric, satypes.Float)):
        return "numeric"
    if isinstance(t, (satypes.String, satypes.Text, satypes.Enum)):
        return "string"
    name = type(t).__name__.lower()
    for key, fam in (("bool", "boolean"), ("timestamp", "datetime"), ("datetime", "datetime"), ("date", "date"),
                     ("int", "integer"), ("decimal", "numeric"), ("double", "numeric"), ("real", "numeric"),
                     ("float", "numeric"), ("char", "string"), ("text", "string")):
        if key in name:
            return fam
    return name


# What each contract family accepts in a reflected column, per backend quirk.
_ACCEPT: dict[str, set[str]] = {
    "integer": {"integer", "numeric"},
    "numeric": {"numeric", "integer"},  # "a float type is accepted"; an integer amount is a number too
    "string": {"string"},
    "date": {"date", "datetime"},
    "datetime": {"datetime"},
    "boolean": {"boolean"},
}
_LOOSE_BACKENDS = {"sqlite"}  # weak typing: declared types only


class _Checker:
    def __init__(self, engine: Engine, max_examples: int):
        self.engine = engine
        self.n = max_examples
        self.report = Report(backend=engine.dialect.name)
        self.present: dict[str, set[str]] = {}

    # ------------------------------------------------------------------ helpers
    def add(self, check: str, table: str, column: str | None, count: int, examples: Iterable, message: str,
            severity: Severity = "error") -> None:
        if count:
            self.report.violations.append(Violation(check, table, column, int(count), [_show(e) for e in examples],
                                                    message, severity))

    def has(self, table: str, *columns: str) -> bool:
        cols = self.present.get(table)
        return cols is not None and all(c in cols for c in columns)

    def count_and_examples(self, conn, from_, where: ColumnElement[bool], sample: list[ColumnElement]) -> tuple[int, list]:
        count = conn.execute(select(func.count()).select_from(from_).where(where)).scalar() or 0
        examples = []
        if count:
            examples = [tuple(r) if len(r) > 1 else r[0]
                        for r in conn.execute(select(*sample).select_from(from_).where(where).limit(self.n))]
        return count, examples

    # ------------------------------------------------------------------- checks
    def structure(self) -> None:
        insp = inspect(self.engine)
        existing = set(insp.get_table_names()) | set(insp.get_view_names())  # views: a mapped warehouse
        loose = self.engine.dialect.name in _LOOSE_BACKENDS
        for table in metadata.sorted_tables:
            if table.name not in existing:
                if table.name in V2_TABLES:
                    self.add("version 2", table.name, None, 1, [],
                             "contract version 2 table is absent (a version 1 warehouse): the figures that need "
                             "it are shown as not available", "warning")
                    continue
                self.add("tables", table.name, None, 1, [],
                         "table is missing: every page that reads it will fail until it is loaded")
                continue
            reflected = {c["name"]: c for c in insp.get_columns(table.name)}
            self.present[table.name] = set(reflected)
            for col in table.columns:
                if col.name not in reflected:
                    if col.info.get("version") == 2:
                        self.add("version 2", table.name, col.name, 1, [],
                                 "contract version 2 column is absent (a version 1 warehouse): the figures that "
                                 "need it are shown as not available", "warning")
                        continue
                    self.add("columns", table.name, col.name, 1, [], f"column is missing ({_family(col.type)})")
                    continue
                want, got = _family(col.type), _family(reflected[col.name]["type"])
                ok = got in _ACCEPT[want]
                if want == "boolean" and got == "integer":  # MariaDB/MySQL TINYINT(1), SQLite INTEGER
                    ok = True
                if loose and got in ("string", "numeric", "integer", "date", "datetime"):
                    ok = ok or want in ("date", "datetime", "boolean")
                if loose and got == "nulltype":  # a SQLite view's computed column declares no type
                    ok = True
                if not ok:
                    self.add("types", table.name, col.name, 1, [str(reflected[col.name]["type"])],
                             f"type {reflected[col.name]['type']} is not a {want} type")

    def row_counts(self, conn) -> None:
        for name in self.present:
            self.report.rows[name] = conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar() or 0

    def keys(self, conn) -> None:
        for table in metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns] or list(NATURAL_KEYS.get(table.name, ()))
            if key and self.has(table.name, *key):
                cols = [table.c[k] for k in key]
                dup = select(*cols).group_by(*cols).having(func.count() > 1).subquery()
                count = conn.execute(select(func.count()).select_from(dup)).scalar() or 0
                if count:
                    ex = [tuple(r) if len(r) > 1 else r[0] for r in conn.execute(select(dup).limit(self.n))]
                    self.add("keys", table.name, ", ".join(key), count, ex, f"duplicate key ({', '.join(key)})")
            for col in table.columns:
                if col.nullable or not self.has(table.name, col.name):
                    continue
                count = conn.execute(select(func.count()).select_from(table).where(col.is_(None))).scalar() or 0
                self.add("not null", table.name, col.name, count, [], "NULL in a column that must always be filled")

    def foreign_keys(self, conn) -> None:
        for table in metadata.sorted_tables:
            for col in table.columns:
                for fk in col.foreign_keys:
                    target: Column = fk.column
                    if not (self.has(table.name, col.name) and self.has(target.table.name, target.name)):
                        continue
                    ref = select(target).where(target.is_not(None))
                    where = and_(col.is_not(None), col.not_in(ref))
                    count, ex = self.count_and_examples(conn, table, where, [col])
                    self.add("foreign keys", table.name, col.name, count, sorted(set(ex)),
                             f"value not found in {target.table.name}.{target.name}")

    def codes(self, conn) -> None:
        for (tname, cname), allowed in ALLOWED_CODES.items():
            if not self.has(tname, cname):
                continue
            col = metadata.tables[tname].c[cname]
            where = and_(col.is_not(None), col.not_in(sorted(allowed)))
            count, ex = self.count_and_examples(conn, col.table, where, [col])
            self.add("codes", tname, cname, count, sorted(set(map(str, ex))),
                     f"not an allowed value (allowed: {', '.join(sorted(allowed))})")
        if self.has("dim_drg", "drg_code", "adrg_code", "mdc_code"):
            bad = [(code, adrg, mdc) for code, adrg, mdc in conn.execute(
                select(dim_drg.c.drg_code, dim_drg.c.adrg_code, dim_drg.c.mdc_code))
                if str(adrg) != str(code)[:3] or str(mdc) != str(code)[:1]]
            self.add("codes", "dim_drg", "adrg_code", len(bad), bad[: self.n],
                     "adrg_code must be the first three characters of drg_code and mdc_code the first")
        if self.has("dim_department", "kind", "division"):
            d = dim_department.c
            where = and_(d.kind == "clinical", d.division.is_(None))
            count, ex = self.count_and_examples(conn, dim_department, where, [d.dept_id])
            self.add("codes", "dim_department", "division", count, ex,
                     "a clinical department has no division (medical or surgical)", "warning")

    def sums(self, conn) -> None:
        for tname, groups in COMPONENT_SUMS.items():
            for total, parts in groups:
                if not self.has(tname, total, *parts):
                    continue
                t = metadata.tables[tname]
                s = t.c[parts[0]]
                for p in parts[1:]:
                    s = s + t.c[p]
                where = func.abs(t.c[total] - s) > 0.01
                pk = list(t.primary_key.columns) or [t.c[c] for c in ("date", "dept_id", "doctor_id") if c in t.c]
                count, ex = self.count_and_examples(conn, t, where, pk[:3])
                self.add("component sums", tname, total, count, ex,
                         f"{total} differs from {' + '.join(parts)} by more than 0.01")

    def dates(self, conn) -> None:
        if not self.has("dim_date", "date"):
            return
        for tname, cols in FACT_DATE_COLUMNS.items():
            for cname in cols:
                if not self.has(tname, cname):
                    continue
                col = metadata.tables[tname].c[cname]
                j = col.table.outerjoin(dim_date, dim_date.c.date == col)
                count, ex = self.count_and_examples(conn, j, and_(col.is_not(None), dim_date.c.date.is_(None)), [col])
                self.add("dates", tname, cname, count, sorted(set(ex)), "date not covered by dim_date")
        for tname, cname in FACT_MONTH_COLUMNS.items():
            if not self.has(tname, cname) or not self.has("dim_date", "month_start"):
                continue
            col = metadata.tables[tname].c[cname]
            j = col.table.outerjoin(dim_date, dim_date.c.date == col)
            where = and_(col.is_not(None), or_(dim_date.c.date.is_(None), dim_date.c.month_start != col))
            count, ex = self.count_and_examples(conn, j, where, [col])
            self.add("dates", tname, cname, count, sorted(set(ex)),
                     "not the first day of a month present in dim_date")
        self._dim_date_consistency(conn)
        self._los(conn)

    def _dim_date_consistency(self, conn) -> None:
        cols = ["date", "year", "quarter", "month", "month_start", "iso_year", "iso_week", "weekday"]
        if not self.has("dim_date", *cols):
            return
        bad, days = [], []
        for r in conn.execute(select(*[dim_date.c[c] for c in cols]).order_by(dim_date.c.date)):
            d = as_date(r[0])
            days.append(d)
            want = calendar_parts(d)
            got = (r[1], r[2], r[3], as_date(r[4]), r[5], r[6], r[7])
            if tuple(int(x) if not isinstance(x, date) else x for x in got) != want:
                bad.append(d)
        self.add("dim_date", "dim_date", None, len(bad), bad[: self.n],
                 "calendar parts (year, quarter, month, month_start, ISO week, weekday) do not match the date")
        gaps = [a for a, b in zip(days, days[1:], strict=False) if (b - a).days != 1]
        self.add("dim_date", "dim_date", "date", len(gaps), gaps[: self.n],
                 "dim_date has gaps: one row per calendar day is expected", "warning")

    def _los(self, conn) -> None:
        ip = fact_inpatient_case.c
        if not self.has("fact_inpatient_case", "admit_date", "discharge_date", "los_days") or not self.has(
                "dim_date", "date"):
            return
        # Date differences have no portable SQL; stream the three columns and compare in Python.
        where = ip.admit_date > ip.discharge_date
        count, ex = self.count_and_examples(conn, fact_inpatient_case, where, [ip.case_id])
        self.add("dates", "fact_inpatient_case", "admit_date", count, ex, "admitted after discharge")
        mismatch: list = []
        total = 0
        stmt = select(ip.case_id, ip.admit_date, ip.discharge_date, ip.los_days).where(
            ip.admit_date <= ip.discharge_date)
        with conn.execution_options(stream_results=True, yield_per=50_000).execute(stmt) as result:
            for part in result.partitions():
                for case_id, a, d, los in part:
                    if a is None or d is None or los is None:
                        continue
                    if (as_date(d) - as_date(a)).days != int(los):
                        total += 1
                        if len(mismatch) < self.n:
                            mismatch.append(case_id)
        self.add("dates", "fact_inpatient_case", "los_days", total, mismatch,
                 "los_days is not discharge_date − admit_date")

    def version2(self, conn) -> None:
        """The rules of the columns and tables contract version 2 added (where the warehouse has them)."""
        ip = fact_inpatient_case.c
        t = "fact_inpatient_case"
        rules: list[tuple[str, str, tuple[str, ...], ColumnElement[bool], str]] = [
            (t, "dip_code", ("payment_scheme", "dip_code"), and_(ip.payment_scheme == "dip", ip.dip_code.is_(None)),
             "a DIP case (payment_scheme = dip) without its dip_code"),
            (t, "fund_payment", ("fund_payment", "drg_payment"),
             or_(ip.fund_payment < 0, ip.fund_payment > ip.drg_payment + literal(0.01)),
             "fund_payment is negative or more than drg_payment"),
            (t, "preop_days", ("preop_days", "los_days"), or_(ip.preop_days < 0, ip.preop_days > ip.los_days),
             "preop_days is negative or longer than the stay (los_days)"),
            ("fact_outpatient_daily", "revenue_fund", ("revenue_fund", "revenue_total"),
             or_(fact_outpatient_daily.c.revenue_fund < 0,
                 fact_outpatient_daily.c.revenue_fund > fact_outpatient_daily.c.revenue_total + literal(0.01)),
             "revenue_fund is negative or more than revenue_total"),
        ]
        pv = fact_dip_point_value.c
        rules += [
            ("fact_dip_point_value", "point_value", ("point_value",), pv.point_value <= 0, "point_value must be > 0"),
            ("fact_dip_point_value", "hospital_coefficient", ("hospital_coefficient",), pv.hospital_coefficient <= 0,
             "hospital_coefficient must be > 0"),
            ("fact_dip_point_value", "month", ("month", "is_final"),
             or_(pv.month < 1, pv.month > 12, and_(pv.month.is_(None), pv.is_final.is_(False)),
                 and_(pv.month.is_not(None), pv.is_final.is_(True))),
             "month is 1–12 for a monthly estimate and NULL (is_final) for the year's final settlement"),
            ("dim_dip", "score", ("score",), dim_dip.c.score <= 0, "a packet's score must be > 0"),
        ]
        for table, column, needs, where, message in rules:
            if not self.has(table, *needs):
                continue
            tbl = metadata.tables[table]
            key = [tbl.c[k.name] for k in tbl.primary_key.columns] or [tbl.c[needs[0]]]
            count, ex = self.count_and_examples(conn, tbl, where, key)
            self.add("version 2", table, column, count, ex, message)
        if self.has("fact_benchmark", "indicator_code"):
            from .registry import INDICATORS

            codes = [r[0] for r in conn.execute(select(fact_benchmark.c.indicator_code).distinct())]
            unknown = sorted(str(c) for c in codes if c not in INDICATORS)
            self.add("version 2", "fact_benchmark", "indicator_code", len(unknown), unknown[: self.n],
                     "not an indicator code of the registry: these reference values are never shown", "warning")

    def freshness(self, conn) -> None:
        if "meta_load" in self.present and self.report.rows.get("meta_load", 0) == 0:
            self.add("freshness", "meta_load", None, 1, [],
                     "no load recorded: every page shows data freshness from meta_load")
        if "fact_live_snapshot" in self.present and self.report.rows.get("fact_live_snapshot", 0) == 0:
            self.add("freshness", "fact_live_snapshot", None, 1, [],
                     "no intraday rows: the wall display falls back to the latest daily figures", "warning")

    def allocation(self, conn) -> None:
        c = fact_dept_cost_monthly.c
        if not (self.has("fact_dept_cost_monthly", "month_start", "dept_id", "allocation_stage", "amount")
                and self.has("dim_department", "dept_id", "kind")):
            return
        j = fact_dept_cost_monthly.join(dim_department, c.dept_id == dim_department.c.dept_id)
        stmt = select(c.month_start,
                      func.sum(_when(c.allocation_stage == "direct", c.amount)),
                      func.sum(_when(dim_department.c.kind == "clinical", c.amount))
                      ).select_from(j).group_by(c.month_start).order_by(c.month_start)
        off = []
        for month, direct, clinical in conn.execute(stmt):
            direct, clinical = float(direct or 0), float(clinical or 0)
            if direct and abs(direct - clinical) > 0.001 * abs(direct):
                off.append(f"{_show(month)}: direct {direct:,.0f} vs clinical {clinical:,.0f}")
        self.add("allocation", "fact_dept_cost_monthly", "allocation_stage", len(off), off[: self.n],
                 "the hospital's direct cost differs from the clinical departments' full cost: the step-down "
                 "allocation is incomplete (hospital and campus totals use direct rows only)", "warning")


def _when(cond, value):
    from sqlalchemy import case

    return case((cond, value), else_=literal(0))


def _show(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_show(x) for x in v) + ")"
    if isinstance(v, datetime) and v.time() == datetime.min.time():
        return v.date().isoformat()
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return str(v)


def validate(engine: Engine, *, max_examples: int = 5) -> Report:
    """Check the warehouse behind `engine`; database errors become WarehouseError."""
    ch = _Checker(engine, max_examples)
    with translate_errors(engine.url):
        ch.structure()
        with engine.connect() as conn:
            steps: list[Callable] = [ch.row_counts, ch.keys, ch.foreign_keys, ch.codes, ch.sums, ch.dates,
                                     ch.version2, ch.freshness, ch.allocation]
            for step in steps:
                step(conn)
    return ch.report


def format_report(report: Report) -> str:
    """A report for a terminal: what was checked, then each violation on its own line."""
    lines = [f"Warehouse contract version {CONTRACT_VERSION} check ({report.backend})"]
    if report.rows:
        width = max(map(len, report.rows))
        lines += [f"  {name:<{width}}  {n:>12,} rows" for name, n in report.rows.items()]
    if not report.violations:
        lines.append(f"OK: the warehouse conforms to contract version {report.version}")
        return "\n".join(lines)
    lines.append("")
    for v in report.violations:
        where = v.table + (f".{v.column}" if v.column else "")
        count = f" ({v.count:,} {'rows' if v.check not in ('tables', 'columns', 'types') else 'found'})" \
            if v.count > 1 or v.check not in ("tables", "columns", "types", "freshness") else ""
        ex = f", e.g. {', '.join(v.examples)}" if v.examples else ""
        lines.append(f"{v.severity.upper():7} {where} — {v.message}{count}{ex}")
    errors, warnings = len(report.errors), len(report.violations) - len(report.errors)
    verdict = "FAILED" if errors else f"OK (contract version {report.version}) with warnings"
    lines += ["", f"{verdict}: {errors} error(s), {warnings} warning(s)"]
    return "\n".join(lines)
