"""Data defects for the demo hospital (`python -m data_layer demo --defects`): what a real night's
load gets wrong, for the data-quality checks (data_layer/quality.py) to find.

Each defect is recorded (the truth file's "defects", beside the injected anomalies) with the check
that should find it, its table and department, so a test compares found with injected:
- a late table: fact_equipment_daily stops LATE_DAYS days before data_through;
- a short load: fact_outpatient_daily keeps a fifth of the last night's rows;
- missing doctors: two fifths of one department's cases of the last 30 days lose their doctor;
- unbalanced components: a few recent cases' drug charge no longer adds up to their total;
- a restated closed month: prepared here, applied by `python -m data_layer demo restate` after a
  first quality run (a restatement is a change between two runs): one department's direct costs of a
  closed month grow by a tenth.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, update

from ..errors import UserError
from ..periods import add_months
from ..schema import fact_dept_cost_monthly

LATE_TABLE = "fact_equipment_daily"
LATE_DAYS = 4
SHORT_TABLE = "fact_outpatient_daily"
SHORT_KEEP = 0.2
MISSING_SHARE = 0.4
UNBALANCED_CASES = 8
UNBALANCED_AMOUNT = 300.0
RESTATE_FACTOR = 1.1


def _day(v: object) -> pd.Series:
    return pd.to_datetime(v).dt.date  # type: ignore[union-attr]


def inject_defects(tables: dict[str, pd.DataFrame], through: date, seed: int) -> list[dict]:
    """Change `tables` in place; the defects injected (the restatement still to apply)."""
    rng = np.random.default_rng([seed, 1818])
    out: list[dict] = []
    # a late table
    eq = tables[LATE_TABLE]
    last = through - timedelta(days=LATE_DAYS)
    tables[LATE_TABLE] = eq[_day(eq["date"]) <= last].reset_index(drop=True)
    out.append({"defect": "late_table", "check": "freshness_table", "table": LATE_TABLE, "dept_id": None,
                "last": last.isoformat(), "days": LATE_DAYS})
    # a short load
    op = tables[SHORT_TABLE]
    night = _day(op["date"]) == through
    drop = night & (rng.random(len(op)) >= SHORT_KEEP)
    tables[SHORT_TABLE] = op[~drop].reset_index(drop=True)
    out.append({"defect": "short_load", "check": "short_load", "table": SHORT_TABLE, "dept_id": None,
                "day": through.isoformat(), "rows_before": int(night.sum()), "rows_after": int((night & ~drop).sum())})
    # missing doctors
    ip = tables["fact_inpatient_case"]
    recent = _day(ip["discharge_date"]) > through - timedelta(days=30)
    dept = ip.loc[recent, "dept_id"].value_counts().index[0]
    pick = recent & (ip["dept_id"] == dept) & ip["doctor_id"].notna() & (rng.random(len(ip)) < MISSING_SHARE)
    ip.loc[pick, "doctor_id"] = None
    out.append({"defect": "missing_doctors", "check": "missing_doctor", "table": "fact_inpatient_case",
                "dept_id": str(dept), "cases": int(pick.sum())})
    # unbalanced charge components
    candidates = np.flatnonzero((recent & ip["doctor_id"].notna()).to_numpy())
    chosen = rng.choice(candidates, size=min(UNBALANCED_CASES, len(candidates)), replace=False)
    ip.loc[ip.index[chosen], "charge_drug"] = ip.loc[ip.index[chosen], "charge_drug"].astype(float) + UNBALANCED_AMOUNT
    out.append({"defect": "unbalanced_components", "check": "component_sums", "table": "fact_inpatient_case",
                "dept_id": None, "dept_ids": sorted({str(d) for d in ip.loc[ip.index[chosen], "dept_id"]}),
                "case_ids": sorted(str(c) for c in ip.loc[ip.index[chosen], "case_id"]), "cases": len(chosen)})
    # a restated closed month, applied later
    cost = tables["fact_dept_cost_monthly"]
    month = add_months(through.replace(day=1), -3)
    direct = cost[(_day(cost["month_start"]) == month) & (cost["allocation_stage"] == "direct")]
    target = str(direct.groupby("dept_id")["amount"].sum().astype(float).idxmax())
    out.append({"defect": "restatement", "check": "restatement", "table": "fact_dept_cost_monthly", "dept_id": None,
                "restated_dept": target,
                "month": month.isoformat()[:7], "factor": RESTATE_FACTOR, "applied": False})
    return out


def restate(engine: Engine, truth: Path) -> dict:
    """Apply the prepared restatement to the warehouse behind `engine` and mark it applied in the truth file."""
    try:
        payload = json.loads(truth.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the truth file {truth}: build the demo with --defects first ({exc})") from exc
    found = [d for d in payload.get("defects", []) if d.get("defect") == "restatement"]
    if not found:
        raise UserError(f"{truth} records no restatement: build the demo with --defects first")
    d = found[0]
    if d.get("applied"):
        raise UserError(f"the restatement of {d['month']} is applied already")
    c = fact_dept_cost_monthly.c
    with engine.begin() as conn:
        changed = conn.execute(update(fact_dept_cost_monthly).where(
            c.month_start == date.fromisoformat(d["month"] + "-01"), c.dept_id == d["restated_dept"],
            c.allocation_stage == "direct").values(amount=c.amount * d["factor"])).rowcount
    d["applied"] = True
    d["rows"] = int(changed)
    truth.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return d
