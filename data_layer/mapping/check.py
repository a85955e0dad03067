"""`map check`: what a mapping gives, table by table and column by column, and what is wrong with it.

Two passes. First the mapping itself against the source's structure (tables, columns, expressions,
types, code tables), each problem with the line of the mapping. Then, for each contract table that
could be built, its rows as the mapping gives them against the contract's per-table rules (the
validator's: required values, allowed codes, unique keys, components that add up), with counts and
example rows. Rules across tables (foreign keys, calendar coverage, step-down allocation) need the
tables in place: `map apply` runs the full validator (data_layer/validate.py) after creating them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, and_, func, select

from ..engine import translate_errors
from ..periods import as_date
from ..schema import ALLOWED_CODES, COMPONENT_SUMS, FACT_DATE_COLUMNS, FACT_MONTH_COLUMNS, TABLE_ORDER, metadata
from ..validate import NATURAL_KEYS, _show
from .build import Builder, Built, Problem
from .model import Located

EXAMPLES = 3


@dataclass
class CheckReport:
    path: str
    backend: str
    built: dict[str, Built] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_mapping(located: Located, engine: Engine, *, examples: int = EXAMPLES) -> CheckReport:
    """Check `located` against the source behind `engine` (read only)."""
    report = CheckReport(located.path, engine.dialect.name)
    with translate_errors(engine.url):
        b = Builder(located, engine)
        report.built = b.build_all()
        with engine.connect() as conn:
            _code_tables(b, conn, examples)
            for name, built in report.built.items():
                if built.kind == "calendar":
                    cal = located.mapping.tables[name].calendar
                    report.rows[name] = (cal.end - cal.start).days + 1  # type: ignore[union-attr]
                    continue
                if built.select is None:
                    continue
                _rows(b, conn, built, report, examples)
            _calendar(b, conn, report)
        report.problems = b.problems
    return report


def _code_tables(b: Builder, conn, n: int) -> None:
    for name, ct in b.m.codes.items():
        path = ("codes", name)
        if ct.values is not None:
            if ct.one_to_one:
                seen: dict[str, str] = {}
                for code, value in ct.values.items():
                    if value in seen:
                        b.error(None, None, path + ("values", code),
                                f"code table {name!r}: {seen[value]!r} and {code!r} both map to {value!r} "
                                "(one_to_one: two of your codes may not become one contract code)")
                    seen.setdefault(value, code)
            continue
        stmt = b.code_rows(name)
        if stmt is None:
            continue
        sub = stmt.subquery()
        dup_keys = select(sub.c.code).group_by(sub.c.code).having(func.count(func.distinct(sub.c.value)) > 1)
        keys = [r[0] for r in conn.execute(dup_keys.limit(n))]
        if keys:
            b.error(None, None, path + ("key",), f"code table {name!r}: a code with two contract values, e.g. "
                                                 f"{', '.join(map(_show, keys))}")
        if ct.one_to_one:
            dup = select(sub.c.value, func.count(func.distinct(sub.c.code))).group_by(sub.c.value).having(
                func.count(func.distinct(sub.c.code)) > 1)
            rows = list(conn.execute(dup))
            if rows:
                ex = []
                for value, _ in rows[:n]:
                    codes = [r[0] for r in conn.execute(select(sub.c.code).where(sub.c.value == value)
                                                        .order_by(sub.c.code).limit(4))]
                    ex.append(f"{', '.join(map(_show, codes))} -> {_show(value)}")
                b.problems.append(Problem(
                    "error", None, None, b.loc.line(*path, "value"),
                    f"code table {name!r}: two of your codes map to one contract code (one_to_one)", len(rows), ex,
                    "contract code(s)"))


def _rows(b: Builder, conn, built: Built, report: CheckReport, n: int) -> None:
    table = metadata.tables[built.name]
    q = built.select.subquery("mapped")  # type: ignore[union-attr]
    name = built.name
    line = built.line
    try:
        report.rows[name] = conn.execute(select(func.count()).select_from(q)).scalar() or 0
    except Exception as exc:  # noqa: BLE001 - the database refused what the mapping builds: say so, go on
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        b.problems.append(Problem("error", name, None, line, f"the source database refused the query: {first}"))
        return
    key = [c.name for c in table.primary_key.columns] or list(NATURAL_KEYS.get(name, ()))
    show = [q.c[k] for k in key[:3]] or [q.c[c.name] for c in list(table.columns)[:2]]

    def add(column: str | None, where, message: str, level: str = "error", extra=()) -> None:
        count = conn.execute(select(func.count()).select_from(q).where(where)).scalar() or 0
        if count:
            cols = [*show, *[q.c[c] for c in extra if q.c[c] not in show]]
            ex = [", ".join(f"{c.name}={_show(v)}" for c, v in zip(cols, r, strict=True))
                  for r in conn.execute(select(*cols).where(where).limit(n))]
            ln = b.loc.line("tables", name, "columns", column) if column else line
            b.problems.append(Problem(level, name, column, ln, message, int(count), ex))  # type: ignore[arg-type]

    if key:
        cols = [q.c[k] for k in key]
        dup = select(*cols).group_by(*cols).having(func.count() > 1).subquery()
        count = conn.execute(select(func.count()).select_from(dup)).scalar() or 0
        if count:
            ex = [", ".join(f"{k}={_show(v)}" for k, v in zip(key, r, strict=True))
                  for r in conn.execute(select(dup).limit(n))]
            b.problems.append(Problem("error", name, key[0], b.loc.line("tables", name, "columns", key[0]) or line,
                                      f"duplicate key ({', '.join(key)})", int(count), ex))
    reported = set()
    for cname, (code_table, stmt) in built.unmapped.items():
        sub = stmt.subquery()
        found = list(conn.execute(select(sub.c.code, sub.c.n).order_by(sub.c.n.desc(), sub.c.code).limit(n)))
        if found:
            total = conn.execute(select(func.coalesce(func.sum(sub.c.n), 0))).scalar() or 0
            level = "warning" if table.c[cname].nullable else "error"
            b.problems.append(Problem(level, name, cname, b.loc.line("tables", name, "columns", cname),  # type: ignore[arg-type]
                                      f"codes not in code table {code_table!r} (add them, or a `default`)"
                                      + ("" if level == "error" else ": NULL there"), int(total),
                                      [f"{_show(code)!r} ({int(k):,} rows)" for code, k in found]))
            reported.add(cname)
    for col in table.columns:
        if col.nullable or col.name not in q.c or col.name in reported:
            continue
        add(col.name, q.c[col.name].is_(None), "NULL in a column that must always be filled (an unmapped code?)")
    for (tname, cname), allowed in ALLOWED_CODES.items():
        if tname != name or cname not in q.c:
            continue
        c = q.c[cname]
        add(cname, and_(c.is_not(None), c.not_in(sorted(allowed))),
            f"not an allowed value (allowed: {', '.join(sorted(allowed))})", extra=(cname,))
    for total, parts in COMPONENT_SUMS.get(name, []):
        if total not in q.c or any(p not in q.c for p in parts):
            continue
        s = q.c[parts[0]]
        for p in parts[1:]:
            s = s + q.c[p]
        add(total, func.abs(q.c[total] - s) > 0.01, f"{total} differs from the sum of its components by more "
                                                    "than 0.01", extra=(total,))
    if name == "fact_inpatient_case" and all(c in q.c for c in ("admit_date", "discharge_date", "los_days")):
        add("admit_date", q.c.admit_date > q.c.discharge_date, "admitted after discharge",
            extra=("admit_date", "discharge_date"))
        _los(b, conn, q, n)
    if name == "dim_department" and all(c in q.c for c in ("kind", "division")):
        add("division", and_(q.c.kind == "clinical", q.c.division.is_(None)),
            "a clinical department has no division (medical or surgical)", "warning")
    if report.rows[name] == 0 and built.kind == "query":
        b.problems.append(Problem("warning", name, None, line, "the mapping gives no rows (check `from` and `where`)"))


def _calendar(b: Builder, conn, report: CheckReport) -> None:
    """A calendar made by the mapping must cover every fact date (the validator's rule, checked before apply)."""
    tm = b.m.tables.get("dim_date")
    if tm is None or tm.calendar is None:
        return
    cal = tm.calendar
    for tname, cols in {**FACT_DATE_COLUMNS, **{t: (c,) for t, c in FACT_MONTH_COLUMNS.items()}}.items():
        built = report.built.get(tname)
        if built is None or built.select is None or tname not in report.rows:
            continue
        q = built.select.subquery()
        for cname in cols:
            if cname not in q.c:
                continue
            lo, hi = conn.execute(select(func.min(q.c[cname]), func.max(q.c[cname]))).one()
            if lo is None:
                continue
            lo, hi = as_date(lo), as_date(hi)
            if lo < cal.start or hi > cal.end:
                b.problems.append(Problem(
                    "error", "dim_date", None, b.loc.line("tables", "dim_date", "calendar"),
                    f"the calendar ({cal.start} .. {cal.end}) does not cover {tname}.{cname} ({lo} .. {hi}): "
                    "widen start or end"))


def _los(b: Builder, conn, q, n: int) -> None:
    """los_days must be discharge_date - admit_date: compared in Python (no portable date difference)."""
    bad, total = [], 0
    for case_id, a, d, los in conn.execute(select(q.c.case_id, q.c.admit_date, q.c.discharge_date, q.c.los_days)):
        if a is None or d is None or los is None:
            continue
        if as_date(d) - as_date(a) != timedelta(days=int(los)):
            total += 1
            if len(bad) < n:
                bad.append(f"case_id={case_id}, admit_date={_show(a)}, discharge_date={_show(d)}, los_days={los}")
    if total:
        b.problems.append(Problem("error", "fact_inpatient_case", "los_days",
                                  b.loc.line("tables", "fact_inpatient_case", "columns", "los_days"),
                                  "los_days is not discharge_date − admit_date", total, bad))


def format_check(report: CheckReport, *, brief: bool = False) -> str:
    """The report for a terminal: each contract table, its columns and what is wrong, then a verdict
    (`brief`: only the columns with a finding)."""
    out = [f"Mapping {report.path} against the source ({report.backend})", ""]
    by_table: dict[str | None, list[Problem]] = {}
    for p in report.problems:
        by_table.setdefault(p.table, []).append(p)
    general = by_table.pop(None, [])
    if general:
        out.append("Mapping file and code tables")
        out += [_line(p, "  ") for p in general]
        out.append("")
    for name in TABLE_ORDER:
        built = report.built.get(name)
        probs = by_table.pop(name, [])
        if built is None:
            miss = next((p for p in probs if p.column is None), None)
            tag = "ERROR  " if miss and miss.level == "error" else "absent "
            out.append(f"{name:<24} {tag}{miss.message if miss else 'not mapped'}")
            continue
        rows = report.rows.get(name)
        how = {"query": f"from {built.source}",
               "rows": "constant rows", "empty": "empty (allowed)", "calendar": "calendar (materialized)"}[built.kind]
        mode = "table" if built.materialize else "view"
        status = "ERROR" if any(p.level == "error" for p in probs) else "ok"
        count = f"{rows:,} row{'' if rows == 1 else 's'}" if rows is not None else "not run (fix the errors first)"
        out.append(f"{name:<24} {status:<6} {how}; {count}; as a {mode}")
        col_probs: dict[str | None, list[Problem]] = {}
        for p in probs:
            col_probs.setdefault(p.column, []).append(p)
        if built.kind == "query":
            for col, how_col in built.columns.items():
                cp = col_probs.pop(col, [])
                mark = "x" if any(p.level == "error" for p in cp) else ("-" if how_col.startswith("absent") else "+")
                if brief and not [p for p in cp if p.level != "info"]:
                    continue
                out.append(f"  {mark} {col:<30} {how_col}")
                out += [_line(p, "      ", column=False) for p in cp if p.level != "info"]
        for p in (p for ps in col_probs.values() for p in ps):
            if p.level != "info" or p.column is None:
                out.append(_line(p, "  "))
        if built.kind == "query" and not (brief and out[-1].startswith(name)):
            out.append("")
    for _name, probs in by_table.items():
        out += [_line(p, "  ") for p in probs]
    errors = len(report.errors)
    warnings = sum(p.level == "warning" for p in report.problems)
    mapped = sum(1 for b in report.built.values())
    out.append(f"{'FAILED' if errors else 'OK'}: {mapped} of {len(TABLE_ORDER)} contract tables mapped, "
               f"{errors} error(s), {warnings} warning(s)"
               + ("" if errors else " — `map apply` may create them"))
    return "\n".join(out).replace("\n\n\n", "\n\n")


def _line(p: Problem, indent: str, column: bool = True) -> str:
    where = f"line {p.line}: " if p.line else ""
    col = f"{p.column}: " if column and p.column else ""
    count = f" ({p.count:,} {p.unit})" if p.count else ""
    ex = f"; e.g. {' | '.join(p.examples)}" if p.examples else ""
    return f"{indent}{p.level.upper():7} {where}{col}{p.message}{count}{ex}"


