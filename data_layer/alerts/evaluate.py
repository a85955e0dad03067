"""Measure the detector against the demo generator's ground truth, and against a plain baseline."""
from __future__ import annotations

import functools
import json
import operator
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from ..periods import Period, add_months
from ..queries.kpis import indicator_values
from ..queries.operations import budget_monthly, device_daily
from ..registry import Level
from ..scope import Scope
from ..sources import Filters
from ..warehouse import Warehouse
from .detect import MONTHLY_WATCH, Alert, Params, _months, merge, scan

SLACK = timedelta(days=7)


def matches(alert: Alert, anomaly: dict) -> bool:
    """An alert finds an anomaly: same department, one of its indicators, overlapping dates, same entity
    when both name one of the same type (a device, a budget item, a DRG group). An alert whose grouped
    consequences find it finds it too: a consequence is part of its cause."""
    return any(_finds(part, anomaly) for part in (alert, *(_part(alert, c) for c in alert.consequences)))


def _part(cause: Alert, c: dict) -> Alert:
    """A consequence (Alert.consequences) as an alert of the cause's department."""
    return Alert(c["kind"], c["level"], cause.dept_id, c["indicator"], date.fromisoformat(str(c["period_start"])),
                 date.fromisoformat(str(c["period_end"])), c["observed"], c["expected"], 0.0, 0.0, c["deviation"],
                 c.get("method", ""), c.get("entity_type"), c.get("entity_id"))


def _finds(alert: Alert, anomaly: dict) -> bool:
    if alert.dept_id != anomaly["dept_id"] or alert.indicator not in anomaly["indicators"]:
        return False
    ent = anomaly.get("entity") or {}
    if ent.get("type") in ("equipment", "budget_item") and alert.entity_id != ent.get("id"):
        return False
    if ent.get("type") in ("drg", "group") and alert.entity_type == ent["type"] and alert.entity_id != ent.get("id"):
        return False  # another group's figure: a chance find
    start, end = date.fromisoformat(anomaly["start"]), date.fromisoformat(anomaly["end"])
    return alert.period_start <= end + SLACK and alert.period_end >= start - SLACK


@dataclass
class Score:
    kinds: pd.DataFrame  # per anomaly kind: injected, found (recall)
    true_alerts: int
    alerts: int
    false_by_check: dict[str, int]  # the alerts that match no anomaly, by the check that raised them
    months: int = 15  # the months the scan reported (alerts per month on a clean hospital)

    @property
    def injected(self) -> int:
        return int(self.kinds["injected"].sum()) if len(self.kinds) else 0

    @property
    def found(self) -> int:
        return int(self.kinds["found"].sum()) if len(self.kinds) else 0

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else float("nan")

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if p != p or r != r:
            return float("nan")  # nothing raised, or nothing to find
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def __add__(self, other: Score) -> Score:
        kinds = self.kinds.add(other.kinds, fill_value=0).astype(int)  # kinds either side lacks count 0
        return Score(kinds, self.true_alerts + other.true_alerts, self.alerts + other.alerts,
                     dict(sorted((Counter(self.false_by_check) + Counter(other.false_by_check)).items())),
                     self.months + other.months)


def score(alerts: list[Alert], anomalies: list[dict], since: date, months: int = 15) -> Score:
    judged = [a for a in alerts if a.kind != "rule" and a.period_end >= since]
    found = [any(matches(a, x) for a in judged) for x in anomalies]
    hits = [any(matches(a, x) for x in anomalies) for a in judged]
    false_by_check = Counter(a.kind for a, hit in zip(judged, hits, strict=True) if not hit)
    kinds = pd.DataFrame({"kind": [x["kind"] for x in anomalies], "found": found}, columns=["kind", "found"]).groupby(
        "kind")["found"].agg(injected="size", found="sum").astype(int)
    return Score(kinds, sum(hits), len(judged), dict(sorted(false_by_check.items())), months)


def baseline(wh: Warehouse, through: date, months_closed: date, first_report: date) -> list[Alert]:
    """The plain rule: a value beyond mean ± 3 standard deviations of its own raw series."""
    scope, out = Scope.hospital(), []
    span = _months(months_closed, 48)
    df = indicator_values(wh, scope, tuple(MONTHLY_WATCH), span, Level.department, Filters(kind=("clinical",)), "month")
    for (dept, code), g in df.groupby(["key", "indicator"]):
        s = g.set_index("period_start")["value"].astype(float).dropna()
        mu, sd = s.mean(), s.std()
        for m, x in s.items():
            if m >= first_report and sd > 0 and abs(x - mu) > 3 * sd:
                out.append(Alert("sigma3", "yellow", dept, code, m, m, x, mu, mu - 3 * sd, mu + 3 * sd, x / mu - 1, "3σ"))
    period = Period(add_months(first_report, -3), through, "custom")
    daily = indicator_values(wh, scope, ("outpatient_visits",), period, Level.department, Filters(kind=("clinical",)),
                             "day")
    for dept, g in daily.groupby("key"):
        s = g.set_index("period_start")["value"].astype(float)
        mu, sd = s.mean(), s.std()
        for d, x in s.items():
            if d >= first_report and sd > 0 and x < mu - 3 * sd:
                out.append(Alert("sigma3", "yellow", dept, "outpatient_visits", d, d, x, mu, mu - 3 * sd, mu + 3 * sd,
                                 x / mu - 1, "3σ"))
    dev = device_daily(wh, scope, period)
    for (eid, dept), g in dev.groupby(["equipment_id", "dept_id"]):
        s = g.set_index("date")["exams"]
        mu, sd = s.mean(), s.std()
        for d, x in s.items():
            if d >= first_report and sd > 0 and x < mu - 3 * sd:
                out.append(Alert("sigma3", "yellow", dept, "equipment_utilization", d, d, x, mu, 0, 0, -1, "3σ",
                                 "equipment", eid))
    bud = budget_monthly(wh, scope, span)
    bud = bud[bud["budget_amount"] > 0].assign(r=lambda f: f["executed_amount"] / f["budget_amount"])
    for (dept, item), g in bud.groupby(["dept_id", "item_code"]):
        mu, sd = g["r"].mean(), g["r"].std()
        for r in g.itertuples():
            if r.month_start >= first_report and sd > 0 and r.r > mu + 3 * sd:
                out.append(Alert("sigma3", "yellow", dept, "budget_execution", r.month_start, r.month_start, r.r, mu,
                                 0, 0, r.r / mu - 1, "3σ", "budget_item", item))
    return merge(out)  # days in a row count as one alert for the baseline too (fair precision)



def evaluate(url: str, truth_path: Path, params: Params = Params()) -> dict:
    wh = Warehouse(url)
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    fresh = wh.freshness()
    result = scan(wh, Scope.hospital(), params=params)
    first = add_months(result.through.replace(day=1), -params.scan_months)
    ours = score(result.alerts, truth["anomalies"], first, params.scan_months)
    base = score(baseline(wh, result.through, fresh.months_closed_through or result.through, first),
                 truth["anomalies"], first, params.scan_months)
    wh.engine.dispose()
    return {"params": truth["params"], "detector": ours, "baseline": base}


METHODS = (("detector", "detector"), ("baseline", "3σ baseline"))


def table(results: list[dict]) -> str:
    """Markdown: per seed and method, recall per kind, the alerts, the false ones by check, precision,
    recall and F1."""
    kinds = sorted({k for r in results for k in r["detector"].kinds.index})
    head = "| seed | method | " + " | ".join(kinds) + " | alerts | false, by check | precision | recall | F1 |"
    lines = [head, "|" + "---|" * (len(kinds) + 7)]
    for r in results:
        for name, label in METHODS:
            lines.append(f"| {r['params']['seed']} | {label} | " + _row(r[name], kinds))
    return "\n".join(lines)


def summary(splits: dict[str, list[dict]]) -> str:
    """Markdown: the seeds of each split pooled (every alert and every anomaly counted once), per
    kind and overall, detector against the baseline; a clean split says its alerts per month."""
    kinds = sorted({k for rs in splits.values() for r in rs for k in r["detector"].kinds.index})
    head = "| seeds | method | " + " | ".join(kinds) + " | alerts | false, by check | precision | recall | F1 |"
    lines = [head, "|" + "---|" * (len(kinds) + 7)]
    for split, results in splits.items():
        if not results:
            continue
        seeds = ",".join(str(r["params"]["seed"]) for r in results)
        for name, label in METHODS:
            total = pooled(results, name)
            lines.append(f"| {split} ({seeds}) | {label} | " + _row(total, kinds))
            if not total.injected:
                lines[-1] += f" {total.alerts / total.months:.2f} alerts a month |"
    return "\n".join(lines)


def pooled(results: list[dict], name: str) -> Score:
    return functools.reduce(operator.add, (r[name] for r in results))


def _row(sc: Score, kinds: list[str]) -> str:
    cells = [f"{int(sc.kinds.loc[k, 'found'])}/{int(sc.kinds.loc[k, 'injected'])}" if k in sc.kinds.index
             else "–" for k in kinds]
    return " | ".join(cells) + f" | {sc.alerts} | {_false(sc)} | {_num(sc.precision)} | {_num(sc.recall)} " \
        f"| {_num(sc.f1)} |"


def _num(x: float) -> str:
    return "–" if x != x else f"{x:.2f}"


def _false(sc: Score) -> str:
    return ", ".join(f"{k} {n}" for k, n in sc.false_by_check.items()) or "0"
