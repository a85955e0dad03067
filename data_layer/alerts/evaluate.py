"""Measure the detector against the demo generator's ground truth, and against a plain baseline."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
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
    when the anomaly names a device or budget item."""
    if alert.dept_id != anomaly["dept_id"] or alert.indicator not in anomaly["indicators"]:
        return False
    ent = anomaly.get("entity") or {}
    if ent.get("type") in ("equipment", "budget_item") and alert.entity_id != ent.get("id"):
        return False
    start, end = date.fromisoformat(anomaly["start"]), date.fromisoformat(anomaly["end"])
    return alert.period_start <= end + SLACK and alert.period_end >= start - SLACK


@dataclass
class Score:
    kinds: pd.DataFrame  # per anomaly kind: injected, found (recall)
    precision: float
    recall: float
    f1: float
    alerts: int
    false_by_check: dict[str, int]  # the alerts that match no anomaly, by the check that raised them


def score(alerts: list[Alert], anomalies: list[dict], since: date) -> Score:
    judged = [a for a in alerts if a.kind != "rule" and a.period_end >= since]
    found = [any(matches(a, x) for a in judged) for x in anomalies]
    hits = [any(matches(a, x) for x in anomalies) for a in judged]
    true_alerts = sum(hits)
    false_by_check = Counter(a.kind for a, hit in zip(judged, hits, strict=True) if not hit)
    kinds = pd.DataFrame({"kind": [x["kind"] for x in anomalies], "found": found}).groupby("kind")["found"].agg(
        injected="size", found="sum")
    precision = true_alerts / len(judged) if judged else float("nan")
    recall = sum(found) / len(found) if found else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(kinds, precision, recall, f1, len(judged), dict(sorted(false_by_check.items())))


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
    ours = score(result.alerts, truth["anomalies"], first)
    base = score(baseline(wh, result.through, fresh.months_closed_through or result.through, first),
                 truth["anomalies"], first)
    wh.engine.dispose()
    return {"params": truth["params"], "detector": ours, "baseline": base}


def table(results: list[dict]) -> str:
    """Markdown: recall per kind, then precision, recall and F1 overall, detector vs baseline, per seed."""
    kinds = sorted({k for r in results for k in r["detector"].kinds.index})
    head = "| seed | method | " + " | ".join(kinds) + " | alerts | false, by check | precision | recall | F1 |"
    lines = [head, "|" + "---|" * (len(kinds) + 7)]
    for r in results:
        for name in ("detector", "baseline"):
            sc: Score = r[name]
            cells = [f"{int(sc.kinds.loc[k, 'found'])}/{int(sc.kinds.loc[k, 'injected'])}" if k in sc.kinds.index
                     else "–" for k in kinds]
            lines.append(f"| {r['params']['seed']} | {'detector' if name == 'detector' else '3σ baseline'} | "
                         + " | ".join(cells) + f" | {sc.alerts} | {_false(sc)} | {sc.precision:.2f} | {sc.recall:.2f} "
                         f"| {sc.f1:.2f} |")
    return "\n".join(lines)


def _false(sc: Score) -> str:
    return ", ".join(f"{k} {n}" for k, n in sc.false_by_check.items()) or "0"


def mean_scores(results: list[dict], name: str) -> tuple[float, float, float]:
    arr = np.array([[r[name].precision, r[name].recall, r[name].f1] for r in results], dtype=float)
    return tuple(np.nanmean(arr, axis=0))  # type: ignore[return-value]
