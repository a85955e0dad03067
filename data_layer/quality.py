"""Data quality, every day: the checks the nightly quality run makes on the warehouse after its load.

Freshness per fact table, completeness, consistency, load-to-load change and front-sheet quality for
DRG management (docs/data-quality.md lists each check, its rule and its level). Every check counts in
the database (SELECTs built from the contract's Table objects, a few example rows LIMITed) and is run
on its own: a check that cannot run (a table missing, the warehouse away) is recorded as not checked,
never a traceback. The run is hospital-wide; its findings carry the department they concern, so the
application database can show each reader the findings of their scope (appdb/quality.py records the
run, keeps the per-month fingerprints the restatement check compares, and raises the alerts).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy.stats import binom
from sqlalchemy import Engine, and_, case, func, inspect, literal, or_, select

from .alerts.detect import Params, _level, robust_z
from .periods import add_months, as_date, month_end
from .schema import (
    dim_date,
    dim_department,
    dim_dip,
    dim_doctor,
    dim_drg,
    dim_equipment,
    dim_ward,
    fact_dept_cost_monthly,
    fact_equipment_daily,
    fact_inpatient_case,
    fact_outpatient_daily,
    fact_ward_daily,
    meta_load,
    metadata,
)

LEVELS = ("yellow", "orange", "red")

# check code -> (group, the table it concerns): the order the page and the docs list them in
CHECKS: dict[str, tuple[str, str]] = {
    "freshness_load": ("freshness", "meta_load"),
    "freshness_table": ("freshness", "*"),
    "missing_doctor": ("completeness", "fact_inpatient_case"),
    "missing_group": ("completeness", "fact_inpatient_case"),
    "outpatient_gap": ("completeness", "fact_outpatient_daily"),
    "device_no_rows": ("completeness", "fact_equipment_daily"),
    "component_sums": ("consistency", "*"),
    "allocation": ("consistency", "fact_dept_cost_monthly"),
    "occupancy_limit": ("consistency", "fact_ward_daily"),
    "stay_dates": ("consistency", "fact_inpatient_case"),
    "short_load": ("change", "*"),
    "restatement": ("change", "*"),
    "grouping_rate": ("front_sheet", "fact_inpatient_case"),
    "invalid_code": ("front_sheet", "fact_inpatient_case"),
    "ambiguous_group": ("front_sheet", "fact_inpatient_case"),
    "surgical_in_medical_group": ("front_sheet", "fact_inpatient_case"),
    "surgical_group_no_procedure": ("front_sheet", "fact_inpatient_case"),
    "coding_doctors": ("front_sheet", "fact_inpatient_case"),
}
GROUPS = ("freshness", "completeness", "consistency", "change", "front_sheet")

# the daily facts and their date column; the monthly ones that close month by month
DAILY: dict[str, str] = {"fact_inpatient_case": "discharge_date", "fact_outpatient_daily": "date",
                         "fact_ward_daily": "date", "fact_equipment_daily": "date"}
MONTHLY: dict[str, str] = {"fact_dept_cost_monthly": "month_start", "fact_staff_monthly": "month_start"}
# what a month of each table is fingerprinted by: (period column, summed column)
FINGERPRINTS: dict[str, tuple[str, str]] = {
    "fact_inpatient_case": ("discharge_date", "charge_total"),
    "fact_outpatient_daily": ("date", "revenue_total"),
    "fact_ward_daily": ("date", "occupied_beds"),
    "fact_equipment_daily": ("date", "exams"),
    "fact_dept_cost_monthly": ("month_start", "amount"),
    "fact_budget_monthly": ("month_start", "executed_amount"),
    "fact_staff_monthly": ("month_start", "payroll_cost"),
}


@dataclass(frozen=True)
class QualityParams:
    """The checks' thresholds (docs/data-quality.md says why)."""

    window_days: int = 30  # completeness, consistency and front-sheet checks look at the last 30 days
    baseline_days: int = 365  # the hospital's usual rates come from the year before the window
    p_value: float = 1e-4  # a department's share above the hospital's usual one by chance less often than this
    min_failures: int = 3
    min_rate: float = 0.005  # the usual rate is at least this (a hospital that never misses still may)
    share_levels: tuple[float, float] = (0.10, 0.20)  # orange, red from this share of the window's cases
    gap_days: int = 14  # outpatient and device rows: the last two weeks against the eight before
    gap_history_days: int = 56
    occupancy_mean: float = 1.5  # a ward's mean occupancy over the window above 150%: implausible
    occupancy_day: float = 2.5  # one ward-day above 250%
    load_weeks: int = 8  # a night's rows against the same weekday of the eight weeks before
    load_min_history: int = 4
    load_min_rows: float = 5.0  # a department with fewer usual rows a day is judged by the hospital's total
    load_low: tuple[float, float] = (0.7, 0.5)  # a short load is orange below 70% of usual, red below half
    load_high: float = 2.0  # a load twice the usual is a duplicate load (orange)
    # a load below half the usual is judged at a lower z: weeks of a few dozen rows spread widely (a
    # holiday week among them), and a night that lost most of its rows is not chance
    load_z_collapse: float = 3.0
    close_grace_days: int = 10  # a month is closed this many days after its end
    fingerprint_months: int = 24
    max_examples: int = 5
    alert_params: Params = field(default_factory=Params)


@dataclass
class Finding:
    """One finding: a check, its level, how many rows (or days, months, devices) it concerns, a few
    example rows, the table and (where one) the department."""

    check: str
    level: str
    count: int
    table: str
    dept_id: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)  # the figures the finding's sentence names

    @property
    def group(self) -> str:
        return CHECKS[self.check][0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NotChecked:
    check: str
    table: str | None
    reason: str


@dataclass
class QualityResult:
    through: date | None
    findings: list[Finding]
    not_checked: list[NotChecked]
    fingerprints: dict[str, list[float]]  # "table|YYYY-MM" -> [rows, sum]
    checked: list[str]  # the checks that ran
    backend: str = ""

    def counts(self) -> dict[str, int]:
        return {lv: sum(f.level == lv for f in self.findings) for lv in LEVELS}


def _show(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return round(v, 2) if math.isfinite(v) else None
    if isinstance(v, (date, datetime)):
        return v.isoformat()[:10] if isinstance(v, date) and not isinstance(v, datetime) else v.isoformat(" ")[:16]
    try:
        return round(float(v), 2)  # Decimal, numpy
    except (TypeError, ValueError):
        return str(v)


def _rows(result) -> list[dict[str, Any]]:  # noqa: ANN001 - a SQLAlchemy result
    return [{k: _show(v) for k, v in r._mapping.items()} for r in result]


def _when(cond, value=1):  # noqa: ANN001, ANN202
    return func.sum(case((cond, value), else_=literal(0)))


def _share_level(share: float, p: QualityParams) -> str:
    return "red" if share >= p.share_levels[1] else "orange" if share >= p.share_levels[0] else "yellow"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


class _Run:
    def __init__(self, engine: Engine, params: QualityParams, previous: dict[str, list[float]] | None):
        self.engine = engine
        self.p = params
        self.previous = previous or {}
        self.findings: list[Finding] = []
        self.not_checked: list[NotChecked] = []
        self.fingerprints: dict[str, list[float]] = {}
        self.checked: list[str] = []
        self.present: dict[str, set[str]] = {}
        self.through: date | None = None
        self.last: dict[str, date | None] = {}  # the last date (month) with rows of each fact table

    # ---------------------------------------------------------------- helpers
    def has(self, table: str, *cols: str) -> bool:
        return table in self.present and all(c in self.present[table] for c in cols)

    def guard(self, check: str, needs: tuple[str, ...], fn: Callable[[Any], None], table: str | None = None) -> None:
        """Run one check on its own connection; what it lacks or what fails is recorded, not raised."""
        missing = [n for n in needs if n not in self.present]
        if missing:
            self.not_checked.append(NotChecked(check, table or CHECKS[check][1],
                                               f"table missing: {', '.join(missing)}"))
            return
        if self.through is None and check not in ("freshness_load", "freshness_table"):
            self.not_checked.append(NotChecked(check, table or CHECKS[check][1], "no load recorded and no fact rows"))
            return
        try:
            with self.engine.connect() as conn:
                fn(conn)
            self.checked.append(check)
        except Exception as exc:  # noqa: BLE001 - a check that fails is reported, the others still run
            self.not_checked.append(NotChecked(check, table or CHECKS[check][1], _reason(exc)))

    def add(self, check: str, level: str, count: int, table: str, dept: str | None = None,
            examples: list[dict[str, Any]] | None = None, **detail: Any) -> None:
        if count:
            self.findings.append(Finding(check, level, int(count), table, dept,
                                         (examples or [])[: self.p.max_examples], {k: _show(v) for k, v in detail.items()}))

    @property
    def window(self) -> tuple[date, date]:
        assert self.through is not None
        return self.through - timedelta(days=self.p.window_days - 1), self.through

    # -------------------------------------------------------------- freshness
    def load_state(self, conn) -> None:  # noqa: ANN001
        """meta_load's newest data_through, and each fact table's last date: the day the run judges."""
        row = None
        if "meta_load" in self.present:
            row = conn.execute(select(meta_load.c.loaded_at, meta_load.c.data_through)
                               .order_by(meta_load.c.loaded_at.desc()).limit(1)).first()
        for name, col in {**DAILY, **MONTHLY}.items():
            if self.has(name, col):
                t = metadata.tables[name]
                self.last[name] = as_date(conn.execute(select(func.max(t.c[col]))).scalar())
        if row is not None:
            self.through = as_date(row[1])
        else:
            lasts = [self.last[n] for n in DAILY if self.last.get(n)]
            self.through = max(lasts) if lasts else None  # type: ignore[type-var]
            self.add("freshness_load", "red", 1, "meta_load", examples=[],
                     reason="no load recorded" if "meta_load" in self.present else "meta_load missing")

    def freshness(self, conn) -> None:  # noqa: ANN001
        """A daily table whose last day lies before data_through (counted in the days it usually has
        rows), a monthly table behind the other monthly tables, an empty fact table."""
        through = self.through
        assert through is not None
        cal = self._calendar(conn, through - timedelta(days=70), through)
        for name in DAILY:
            if name not in self.present:
                continue
            last = self.last.get(name)
            if last is None:
                self.add("freshness_table", "red", 1, name, last=None, through=through)
                continue
            if last >= through:
                continue
            t = metadata.tables[name]
            col = t.c[DAILY[name]]
            usual = {as_date(r[0]).isoweekday() for r in conn.execute(
                select(col).where(col > last - timedelta(days=28), col <= last).group_by(col))}
            behind = [d for d in cal if last < d <= through and d.isoweekday() in usual]
            if not behind:
                continue
            level = "red" if len(behind) >= 3 else "orange" if len(behind) == 2 else "yellow"
            others = max((v for k, v in self.last.items() if k in DAILY and v), default=through)
            self.add("freshness_table", level, len(behind), name, examples=[{"day": d.isoformat()} for d in behind],
                     last=last, through=through, others=max(others, through))
        months = {n: self.last.get(n) for n in MONTHLY if n in self.present}
        newest = max((m for m in months.values() if m), default=None)
        for name, last in months.items():
            if last is None:
                self.add("freshness_table", "red", 1, name, last=None, through=through)
            elif newest and last < newest:
                gap = (newest.year - last.year) * 12 + newest.month - last.month
                self.add("freshness_table", "red" if gap >= 2 else "orange", gap, name, last=last, others=newest)

    def _calendar(self, conn, start: date, end: date) -> list[date]:  # noqa: ANN001
        if "dim_date" in self.present:
            days = [as_date(r[0]) for r in conn.execute(select(dim_date.c.date).where(dim_date.c.date.between(start, end)))]
            if days:
                return sorted(days)  # type: ignore[arg-type]
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]

    # ----------------------------------------------------------- completeness
    def cases(self, conn) -> None:  # noqa: ANN001
        """Per department over the window: cases without a doctor, a medical group or a group code,
        with an invalid code, in an ambiguous group, surgical in a medical group, a surgical group
        without an operation; each against the hospital's usual share the year before."""
        ip, g = fact_inpatient_case.c, dim_drg.c
        has_dip = self.has("fact_inpatient_case", "dip_code")
        j = fact_inpatient_case.outerjoin(dim_drg, g.drg_code == ip.drg_code)
        dip_ok = None
        if has_dip and "dim_dip" in self.present:
            dip_ok = ip.dip_code.in_(select(dim_dip.c.dip_code))
        ungrouped = and_(ip.drg_code.is_(None), ip.dip_code.is_(None)) if has_dip else ip.drg_code.is_(None)
        invalid = and_(ip.drg_code.is_not(None), g.drg_code.is_(None))
        if dip_ok is not None:
            invalid = or_(invalid, and_(ip.dip_code.is_not(None), ~dip_ok))
        surg_med = and_(ip.surgery_level > 0, g.is_surgical.is_(False))
        no_proc = and_(g.is_surgical.is_(True), ip.surgery_level == 0, ip.is_day_surgery.is_(False))
        ambiguous_codes = [r[0] for r in conn.execute(select(g.drg_code).where(
            or_(g.adrg_code.like("%QY"), g.drg_code.like("%QY%"))))]
        amb = ip.drg_code.in_(ambiguous_codes) if ambiguous_codes else literal(False)
        conds = {"missing_doctor": ip.doctor_id.is_(None), "missing_group": ip.group_id.is_(None),
                 "grouping_rate": ungrouped, "invalid_code": invalid, "ambiguous_group": amb,
                 "surgical_in_medical_group": surg_med, "surgical_group_no_procedure": no_proc}
        start, end = self.window
        b_start = start - timedelta(days=self.p.baseline_days)
        base = conn.execute(select(func.count(), *[_when(c) for c in conds.values()]).select_from(j)
                            .where(ip.discharge_date >= b_start, ip.discharge_date < start)).first()
        n_base = float(base[0] or 0)
        usual = {k: max(float(v or 0) / n_base if n_base else 0.0, self.p.min_rate) for k, v in zip(conds, base[1:],
                                                                                                     strict=True)}
        per_dept = conn.execute(select(ip.dept_id, func.count(), *[_when(c) for c in conds.values()])
                                .select_from(j).where(ip.discharge_date.between(start, end)).group_by(ip.dept_id)).all()
        sample = [ip.case_id, ip.doctor_id, ip.discharge_date, ip.drg_code, ip.surgery_level]
        surgical_dept = {r[0] for r in conn.execute(select(dim_department.c.dept_id).where(
            dim_department.c.division == "surgical"))} if self.has("dim_department", "division") else set()
        for dept, n, *ks in per_dept:
            n = int(n or 0)
            for (check, cond), k in zip(conds.items(), ks, strict=True):
                k = int(k or 0)
                if not k:
                    continue
                if check in ("invalid_code",):
                    level = "red"
                elif check in ("ambiguous_group", "surgical_in_medical_group", "surgical_group_no_procedure"):
                    level = "orange" if k / max(n, 1) >= 0.05 else "yellow"
                else:
                    if k < self.p.min_failures or binom.sf(k - 1, n, usual[check]) >= self.p.p_value:
                        continue
                    level = _share_level(k / n, self.p)
                ex = _rows(conn.execute(select(*sample).select_from(j).where(
                    ip.discharge_date.between(start, end), ip.dept_id == dept, cond)
                    .order_by(ip.discharge_date.desc(), ip.case_id).limit(self.p.max_examples)))
                if check == "grouping_rate":
                    for e in ex:
                        e["reason"] = "no_procedure" if dept in surgical_dept and not e.get("surgery_level") \
                            else "no_code"
                self.add(check, level, k, "fact_inpatient_case", dept, ex, cases=n, share=k / max(n, 1),
                         usual=usual[check] if check in ("missing_doctor", "missing_group", "grouping_rate") else None)
        if not ambiguous_codes:
            self.not_checked.append(NotChecked("ambiguous_group", "dim_drg",
                                               "the group list marks no ambiguous or error group (…QY)"))
        self.not_checked.append(NotChecked("missing_main_diagnosis", "fact_inpatient_case",
                                           "the contract has no main diagnosis column"))
        self._coding_doctors(conn, j, [ungrouped, invalid, surg_med, no_proc], start, end, b_start)

    def _coding_doctors(self, conn, j, fails, start: date, end: date, b_start: date) -> None:  # noqa: ANN001
        ip = fact_inpatient_case.c
        failed = or_(*fails)
        base = conn.execute(select(func.count(), _when(failed)).select_from(j).where(
            ip.discharge_date >= b_start, ip.discharge_date < start)).first()
        usual = max(float(base[1] or 0) / float(base[0]) if base[0] else 0.0, self.p.min_rate)
        rows = conn.execute(select(ip.dept_id, ip.doctor_id, func.count(), _when(failed)).select_from(j).where(
            ip.discharge_date.between(start, end), ip.doctor_id.is_not(None)).group_by(ip.dept_id, ip.doctor_id)).all()
        by_dept: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for dept, doctor, n, k in rows:
            n, k = int(n or 0), int(k or 0)
            if k >= self.p.min_failures and binom.sf(k - 1, n, usual) < self.p.p_value:
                by_dept[dept].append({"doctor_id": doctor, "cases": n, "failed": k, "share": round(k / n, 3)})
        names = {}
        if by_dept and "dim_doctor" in self.present:
            ids = [e["doctor_id"] for v in by_dept.values() for e in v]
            names = dict(conn.execute(select(dim_doctor.c.doctor_id, dim_doctor.c.name)
                                      .where(dim_doctor.c.doctor_id.in_(ids))).all())
        for dept, docs in by_dept.items():
            docs.sort(key=lambda e: (-e["failed"], e["doctor_id"]))
            for e in docs:
                e["doctor"] = names.get(e["doctor_id"], e["doctor_id"])
            self.add("coding_doctors", "yellow", sum(e["failed"] for e in docs), "fact_inpatient_case", dept, docs,
                     doctors=len(docs), usual=usual)

    def outpatient_gap(self, conn) -> None:  # noqa: ANN001
        """Clinical departments that had outpatient rows on the working days of the eight weeks before
        and have none on a working day of the last two (up to the table's last day)."""
        op = fact_outpatient_daily.c
        last = self.last.get("fact_outpatient_daily")
        if last is None:
            return
        start = last - timedelta(days=self.p.gap_days - 1)
        h_start = start - timedelta(days=self.p.gap_history_days)
        workdays = {as_date(r[0]) for r in conn.execute(select(dim_date.c.date).where(
            dim_date.c.date.between(h_start, last), dim_date.c.is_workday.is_(True)))}
        seen: dict[str, set[date]] = defaultdict(set)
        for dept, day in conn.execute(select(op.dept_id, op.date).where(op.date.between(h_start, last))
                                      .group_by(op.dept_id, op.date)):
            seen[dept].add(as_date(day))  # type: ignore[arg-type]
        hist = [d for d in workdays if d < start]
        recent = sorted(d for d in workdays if d >= start)
        for dept, days in sorted(seen.items()):
            if not hist or len(days & set(hist)) < 0.8 * len(hist):
                continue  # a clinic that does not open every working day is not judged here
            missing = [d for d in recent if d not in days]
            if missing:
                self.add("outpatient_gap", "red" if len(missing) >= 3 else "orange", len(missing),
                         "fact_outpatient_daily", dept, [{"day": d.isoformat()} for d in missing])

    def devices(self, conn) -> None:  # noqa: ANN001
        """Devices with no rows over the last two weeks (up to the table's last day) though they had
        rows before; devices that never had a row."""
        e, f = dim_equipment.c, fact_equipment_daily.c
        last = self.last.get("fact_equipment_daily")
        if last is None:
            return
        start = last - timedelta(days=self.p.gap_days - 1)
        h_start = start - timedelta(days=self.p.gap_history_days)
        recent = select(f.equipment_id).where(f.date.between(start, last))
        before = select(f.equipment_id).where(f.date.between(h_start, start - timedelta(days=1)))
        ever = select(f.equipment_id)
        stopped = conn.execute(select(e.dept_id, e.equipment_id, e.name_zh, e.name_en, e.category).where(
            e.equipment_id.in_(before), e.equipment_id.not_in(recent)).order_by(e.dept_id, e.equipment_id)).all()
        never = conn.execute(select(e.dept_id, e.equipment_id, e.name_zh, e.name_en, e.category).where(
            e.equipment_id.not_in(ever), e.purchase_date <= start).order_by(e.dept_id, e.equipment_id)).all()
        for rows, level in ((stopped, "orange"), (never, "yellow")):
            by_dept: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in rows:
                by_dept[r[0]].append({k: _show(v) for k, v in r._mapping.items()})
            for dept, ex in by_dept.items():
                self.add("device_no_rows", level, len(ex), "fact_equipment_daily", dept, ex,
                         since=start if level == "orange" else None)

    # ------------------------------------------------------------ consistency
    def component_sums(self, conn) -> None:  # noqa: ANN001
        from .schema import COMPONENT_SUMS

        start, end = self.window
        for tname, groups in COMPONENT_SUMS.items():
            if tname not in self.present:
                continue
            t = metadata.tables[tname]
            day = t.c[DAILY[tname]]
            for total, parts in groups:
                if not self.has(tname, total, *parts):
                    continue
                s = t.c[parts[0]]
                for p in parts[1:]:
                    s = s + t.c[p]
                off = func.abs(t.c[total] - s) > 0.01
                key = [t.c.case_id, day] if "case_id" in t.c else [day, t.c.doctor_id]
                for dept, n in conn.execute(select(t.c.dept_id, func.count()).where(day.between(start, end), off)
                                            .group_by(t.c.dept_id)).all():
                    ex = _rows(conn.execute(select(*key, t.c[total], s.label("parts_sum"))
                                            .where(day.between(start, end), off, t.c.dept_id == dept)
                                            .order_by(day.desc()).limit(self.p.max_examples)))
                    self.add("component_sums", "red", n, tname, dept, ex, total=total)

    def allocation(self, conn) -> None:  # noqa: ANN001
        """Step-down allocation conserves money: each closed month's direct cost equals the clinical
        departments' full cost (as data_layer/validate.py checks over the whole table)."""
        c = fact_dept_cost_monthly.c
        since = add_months(self.through.replace(day=1), -12)  # type: ignore[union-attr]
        j = fact_dept_cost_monthly.join(dim_department, c.dept_id == dim_department.c.dept_id)
        rows = conn.execute(select(c.month_start, _when(c.allocation_stage == "direct", c.amount),
                                   _when(dim_department.c.kind == "clinical", c.amount))
                            .select_from(j).where(c.month_start >= since).group_by(c.month_start)
                            .order_by(c.month_start)).all()
        off = []
        for month, direct, clinical in rows:
            direct, clinical = float(direct or 0), float(clinical or 0)
            if direct and abs(direct - clinical) > 0.001 * abs(direct):
                off.append({"month": _show(month)[:7], "direct": round(direct, 2), "clinical": round(clinical, 2),
                            "difference": round(clinical - direct, 2)})
        self.add("allocation", "orange", len(off), "fact_dept_cost_monthly", None, off)

    def occupancy(self, conn) -> None:  # noqa: ANN001
        w, f = dim_ward.c, fact_ward_daily.c
        start, end = self.window
        j = fact_ward_daily.join(dim_ward, w.ward_id == f.ward_id)
        rows = conn.execute(select(w.dept_id, f.ward_id, func.sum(f.occupied_beds), func.sum(f.open_beds),
                                   func.max(case((f.open_beds > 0, f.occupied_beds * 1.0 / f.open_beds),
                                                 else_=literal(0.0))), func.count())
                            .select_from(j).where(f.date.between(start, end)).group_by(w.dept_id, f.ward_id)).all()
        by_dept: dict[str, list[dict[str, Any]]] = defaultdict(list)
        worst: dict[str, str] = {}
        for dept, ward, occ, beds, peak, days in rows:
            mean = float(occ or 0) / float(beds) if beds else 0.0
            peak = float(peak or 0)
            if mean > self.p.occupancy_mean or peak > self.p.occupancy_day:
                by_dept[dept].append({"ward_id": ward, "mean_occupancy": round(mean, 3), "peak_occupancy": round(peak, 3),
                                      "days": int(days)})
                if mean > self.p.occupancy_mean:
                    worst[dept] = "red" if mean > self.p.occupancy_day else "orange"
        for dept, ex in by_dept.items():
            self.add("occupancy_limit", worst.get(dept, "orange"), len(ex), "fact_ward_daily", dept, ex,
                     limit=self.p.occupancy_mean)

    def stay_dates(self, conn) -> None:  # noqa: ANN001
        """Stays that do not match their dates: admitted after discharge, or los_days not the days
        between (date differences have no portable SQL: the window's rows are compared here)."""
        ip = fact_inpatient_case.c
        start, end = self.window
        bad: dict[str, list[dict[str, Any]]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for case_id, dept, a, d, los in conn.execute(select(ip.case_id, ip.dept_id, ip.admit_date, ip.discharge_date,
                                                            ip.los_days).where(ip.discharge_date.between(start, end))):
            a, d = as_date(a), as_date(d)
            if a is None or d is None or los is None:
                continue
            if a > d or (d - a).days != int(los):
                counts[dept] += 1
                if len(bad[dept]) < self.p.max_examples:
                    bad[dept].append({"case_id": case_id, "admit_date": a.isoformat(), "discharge_date": d.isoformat(),
                                      "los_days": int(los)})
        for dept, n in counts.items():
            self.add("stay_dates", "orange", n, "fact_inpatient_case", dept, bad[dept])

    # -------------------------------------------------------- load to load
    def short_load(self, conn) -> None:  # noqa: ANN001
        """A night's rows per table and department against the same weekday (working day or not) of
        the eight weeks before, by the alerts' robust z (median and MAD, a count's Poisson error as the
        floor of the spread); a department with few rows a day is judged in the hospital's total."""
        cal = {as_date(r[0]): bool(r[1]) for r in conn.execute(select(dim_date.c.date, dim_date.c.is_workday).where(
            dim_date.c.date.between(self.through - timedelta(days=7 * self.p.load_weeks + 7), self.through)))}
        for name, col_name in DAILY.items():
            last = self.last.get(name)
            if name not in self.present or last is None:
                continue
            days = [last - timedelta(days=7 * k) for k in range(1, self.p.load_weeks + 1)]
            days = [d for d in days if cal.get(d, d.isoweekday() < 6) == cal.get(last, last.isoweekday() < 6)]
            if len(days) < self.p.load_min_history:
                continue
            t = metadata.tables[name]
            col = t.c[col_name]
            if "dept_id" in t.c:
                stmt = select(col, t.c.dept_id, func.count()).where(col.in_([last, *days])).group_by(col, t.c.dept_id)
            else:
                dim = dim_ward if name == "fact_ward_daily" else dim_equipment
                key = "ward_id" if name == "fact_ward_daily" else "equipment_id"
                stmt = (select(col, dim.c.dept_id, func.count()).select_from(t.join(dim, dim.c[key] == t.c[key]))
                        .where(col.in_([last, *days])).group_by(col, dim.c.dept_id))
            counts: dict[tuple[date, str], int] = {(as_date(d), dept): int(n) for d, dept, n in conn.execute(stmt)}
            depts = sorted({k[1] for k in counts})
            for dept in depts:
                x = counts.get((last, dept), 0)
                hist = np.array([counts.get((d, dept), 0) for d in days], dtype=float)
                if float(np.median(hist)) >= self.p.load_min_rows:  # fewer: judged in the hospital's total
                    self._judge_load(name, dept, x, hist, last)
            total_x = sum(counts.get((last, d), 0) for d in depts)
            total_h = np.array([sum(counts.get((d, k), 0) for k in depts) for d in days], dtype=float)
            self._judge_load(name, None, total_x, total_h, last)  # the night's whole load, whatever its departments

    def _judge_load(self, table: str, dept: str | None, x: float, hist: np.ndarray, day: date) -> None:
        med = float(np.median(hist))
        if med <= 0:
            return
        z, med, _scale = robust_z(x, hist, floor=math.sqrt(med))
        ratio = x / med
        collapsed = ratio < self.p.load_low[1] and z <= -self.p.load_z_collapse
        if _level(z, self.p.alert_params) is None and not collapsed:
            return
        if ratio < self.p.load_low[0]:
            level = "red" if ratio < self.p.load_low[1] else "orange"
        elif ratio >= self.p.load_high:
            level = "orange"
        else:
            return
        self.add("short_load", level, int(round(abs(med - x))), table, dept, [{"day": day.isoformat(), "rows": int(x),
                                                                                 "usual": round(med, 1)}],
                 day=day, rows=int(x), usual=med, ratio=ratio, z=z)

    def restatement(self, conn) -> None:  # noqa: ANN001
        """Per-month fingerprints (rows and a summed column) of every fact table; a closed month whose
        fingerprint differs from the last run's is a restatement."""
        through = self.through
        assert through is not None
        since = add_months(through.replace(day=1), -self.p.fingerprint_months)
        for name, (col_name, measure) in FINGERPRINTS.items():
            if not self.has(name, col_name, measure):
                continue
            t = metadata.tables[name]
            col = t.c[col_name]
            if name in DAILY:
                stmt = (select(dim_date.c.month_start, func.count(), func.sum(t.c[measure]))
                        .select_from(t.join(dim_date, dim_date.c.date == col)).where(col >= since)
                        .group_by(dim_date.c.month_start))
            else:
                stmt = select(col, func.count(), func.sum(t.c[measure])).where(col >= since).group_by(col)
            for month, n, total in conn.execute(stmt):
                self.fingerprints[f"{name}|{as_date(month):%Y-%m}"] = [int(n), round(float(total or 0), 2)]
        changed: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, (n, total) in sorted(self.fingerprints.items()):
            name, month = key.split("|")
            first = date.fromisoformat(month + "-01")
            if month_end(first) + timedelta(days=self.p.close_grace_days) > through or key not in self.previous:
                continue
            n0, total0 = self.previous[key]
            if int(n0) != n or abs(float(total0) - total) > 0.005 + 1e-9 * abs(total):
                changed[name].append({"month": month, "rows_before": int(n0), "rows_now": n,
                                      "sum_before": round(float(total0), 2), "sum_now": total})
        for key in self.previous:
            name, month = key.split("|")
            first = date.fromisoformat(month + "-01")
            if key not in self.fingerprints and first >= since and \
                    month_end(first) + timedelta(days=self.p.close_grace_days) <= through and name in self.present:
                changed[name].append({"month": month, "rows_before": int(self.previous[key][0]), "rows_now": 0,
                                      "sum_before": self.previous[key][1], "sum_now": 0.0})
        for name, months in changed.items():
            self.add("restatement", "red", len(months), name, None, months,
                     measure=FINGERPRINTS[name][1])


def run_quality(engine: Engine, previous: dict[str, list[float]] | None = None,
                params: QualityParams | None = None) -> QualityResult:
    """Every check on the warehouse behind `engine`. `previous`: the last run's per-month fingerprints
    ("table|YYYY-MM" -> [rows, sum]), for the restatement check. Never raises for the warehouse's
    sake: a warehouse that cannot be reached, or lacks a table, gives a result that says what was not
    checked."""
    p = params or QualityParams()
    run = _Run(engine, p, previous)
    backend = engine.dialect.name
    try:
        insp = inspect(engine)
        for name in insp.get_table_names():
            if name in metadata.tables:
                run.present[name] = {c["name"] for c in insp.get_columns(name)}
        with engine.connect() as conn:
            run.load_state(conn)
    except Exception as exc:  # noqa: BLE001 - the warehouse is away: nothing could be checked
        reason = _reason(exc)
        return QualityResult(None, [], [NotChecked(c, CHECKS[c][1], f"warehouse not reachable: {reason}")
                                        for c in CHECKS], {}, [], backend)
    run.checked.append("freshness_load")
    ip, op = "fact_inpatient_case", "fact_outpatient_daily"
    run.guard("freshness_table", (), run.freshness)
    run.guard("missing_doctor", (ip, "dim_drg"), run.cases)
    run.guard("outpatient_gap", (op, "dim_date"), run.outpatient_gap)
    run.guard("device_no_rows", ("fact_equipment_daily", "dim_equipment"), run.devices)
    run.guard("component_sums", (ip, op), run.component_sums)
    run.guard("allocation", ("fact_dept_cost_monthly", "dim_department"), run.allocation)
    run.guard("occupancy_limit", ("fact_ward_daily", "dim_ward"), run.occupancy)
    run.guard("stay_dates", (ip,), run.stay_dates)
    run.guard("short_load", ("dim_date", "dim_ward", "dim_equipment"), run.short_load, table="*")
    run.guard("restatement", ("dim_date",), run.restatement, table="*")
    if "missing_doctor" in run.checked:  # one pass over the cases makes every case check
        run.checked += [c for c in ("missing_group", "grouping_rate", "invalid_code", "ambiguous_group",
                                    "surgical_in_medical_group", "surgical_group_no_procedure", "coding_doctors")]
    else:
        run.not_checked += [NotChecked(c, ip, next(n.reason for n in run.not_checked if n.check == "missing_doctor"))
                            for c in ("missing_group", "grouping_rate", "invalid_code", "surgical_in_medical_group",
                                      "surgical_group_no_procedure", "coding_doctors")]
    order = {c: i for i, c in enumerate(CHECKS)}
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    run.findings.sort(key=lambda f: (-rank[f.level], order[f.check], f.table, f.dept_id or ""))
    return QualityResult(run.through, run.findings, run.not_checked, run.fingerprints, run.checked, backend)


def format_result(result: QualityResult) -> str:
    """A run for a terminal: each finding on a line, then what was not checked."""
    c = result.counts()
    lines = [f"data quality through {result.through or '-'} ({result.backend}): {len(result.findings)} findings "
             f"(red {c['red']}, orange {c['orange']}, yellow {c['yellow']}); {len(result.checked)} checks run, "
             f"{len(result.not_checked)} not checked"]
    for f in result.findings:
        ex = "; ".join(", ".join(f"{k}={v}" for k, v in e.items()) for e in f.examples[:2])
        lines.append(f"  {f.level.upper():6} {f.check:28} {f.table:24} {f.dept_id or '-':6} {f.count:>7,}  {ex}")
    for n in result.not_checked:
        lines.append(f"  not checked: {n.check} ({n.table or '-'}): {n.reason}")
    return "\n".join(lines)
