"""Known anomalies injected into the demo hospital, recorded as ground truth.

The ground truth is written beside the warehouse (never inside it) so that the
alert detector's recall and precision can be measured against it.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .calendar import spring_festival_day

if TYPE_CHECKING:  # pragma: no cover
    from .generate import _Generator

# operating budget items that follow no other flow of the demo: the ones a random overspend may hit
OVERSPENT = (("B07", "办公及印刷费", "Office expenses"), ("B08", "差旅费", "Travel"),
             ("B09", "培训进修费", "Training"))
KINDS = ("material_spike", "los_creep", "drug_share_surge", "outpatient_collapse", "outpatient_charge_surge",
         "device_idle", "energy_jump", "budget_overspend", "readmission_jump", "dip_point_cut")
V2_STREAM = 0xA2  # tag of the random stream of the contract version 2 anomalies (the others keep theirs)


def for_contract_version(anomalies: list[dict], version: int) -> list[dict]:
    """The ground truth a warehouse of contract `version` can show: a version 1 warehouse has no
    readmission flags (readmission_jump is left out) and no DIP tables, but its DIP cases' payments
    carry the cut point value, so dip_point_cut is a fall of the department's DRG margin there."""
    if version >= 2:
        return anomalies
    out = []
    for a in anomalies:
        if a["kind"] == "readmission_jump":
            continue
        if a["kind"] == "dip_point_cut":
            a = {**a, "indicators": ["drg_margin", "drg_margin_per_case"], "entity": None}
        out.append(a)
    return out


def _month_back(g: _Generator, k: int) -> tuple[date, date]:
    """The k-th complete month before `through` (k=1: the latest complete month)."""
    first = g.through.replace(day=1)
    if (g.through + timedelta(days=1)).day == 1:  # through is a month end: that month is complete
        first = (g.through + timedelta(days=1)).replace(day=1)
    m = first
    for _ in range(k):
        m = (m - timedelta(days=1)).replace(day=1)
    end = (m.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return m, end


def _idx(g: _Generator, d: date) -> int:
    return g.day_index[d]


def _rng(g: _Generator) -> np.random.Generator:
    if not hasattr(g, "_anomaly_rng"):
        g._anomaly_rng = np.random.default_rng(g.seed + 7919)
        g._anomaly_used = set()
    return g._anomaly_rng


def _fits(g: _Generator, start: date) -> bool:
    return start >= g.fact_start + timedelta(days=365)


# Random placement (`placement="random"`): every anomaly's month is drawn from the months a scan
# reports (the latest 15 complete months), and its size from a range wider than the fixed one, so
# that an evaluation over several seeds meets anomalies anywhere and of every strength. The fixed
# placement keeps its draws exactly as before: the demo hospital does not change.
RANDOM_MONTHS = 15


def _random(g: _Generator) -> bool:
    return getattr(g, "placement", "fixed") == "random"


def _months_back(g: _Generator, fixed: int, span: int = 1) -> int:
    """How many months back the anomaly starts: `fixed`, or drawn so that all `span` months fit in
    the reported months."""
    return int(_rng(g).integers(span, RANDOM_MONTHS + 1)) if _random(g) else fixed


def _size(g: _Generator, fixed: tuple[float, float], wide: tuple[float, float]) -> float:
    return float(_rng(g).uniform(*(wide if _random(g) else fixed)))


def _pick_dept(g: _Generator, pred) -> dict | None:
    rng = _rng(g)
    pool = [c for c in g.clinical if pred(c) and c["dept_id"] not in g._anomaly_used]
    if not pool:
        pool = [c for c in g.clinical if pred(c)]
    if not pool:
        return None
    c = pool[int(rng.integers(len(pool)))]
    g._anomaly_used.add(c["dept_id"])
    return c


def _record(g: _Generator, kind: str, c: dict, start: date, end: date, magnitude: float, indicators: list[str],
            en: str, zh: str, entity: dict | None = None) -> None:
    g.anomalies.append({
        "id": f"A{len(g.anomalies) + 1}", "kind": kind, "dept_id": c["dept_id"], "campus_id": c["campus"],
        "start": start.isoformat(), "end": end.isoformat(), "magnitude": round(float(magnitude), 3),
        "indicators": indicators, "entity": entity, "description_en": en, "description_zh": zh,
    })


def _big_groups(g: _Generator, dept_id: str) -> np.ndarray:
    """The DRG groups (indices) a department discharges about 15 or more times a month."""
    counts = np.bincount(g.cases.loc[(g.cases["dept_id"] == dept_id).to_numpy(), "g"].to_numpy())
    months = max(1.0, (g.through - g.fact_start).days / 30.4)
    return np.flatnonzero(counts / months >= 15)


def inject_case_anomalies(g: _Generator) -> None:
    """Material spike, length-of-stay creep and a medical group's drug surge, on the case rows."""
    rng = _rng(g)
    cases = g.cases
    di = cases["di"].to_numpy()
    # 1. a surgical department's material charges spike for the latest complete month
    c = _pick_dept(g, lambda c: c["beds"] > 0 and c["d"].division == "surgical")
    start, end = _month_back(g, _months_back(g, 1))
    if c and _fits(g, start):
        f = _size(g, (1.6, 2.0), (1.4, 2.2))
        m = (cases["dept_id"] == c["dept_id"]).to_numpy() & (di >= _idx(g, start)) & (di <= _idx(g, end))
        cases.loc[m, "charge_material"] = np.round(cases.loc[m, "charge_material"] * f, 2)
        _record(g, "material_spike", c, start, end, f - 1, ["material_share", "charge_per_discharge",
                                                             "material_charge_per_discharge"],
                f"Material charges of {c['d'].en} rise {f - 1:.0%} for one month",
                f"{c['d'].zh}卫生材料费用当月上升{f - 1:.0%}")
    # 2. length of stay creeps up in one DRG group of a medical department over three months
    # placed at random: in a department that has a group of about 15 or more discharges a month, any
    # such group (a creep over a handful of stays a month is no finding anyone could make)
    c = _pick_dept(g, lambda c: c["beds"] > 0 and c["d"].division == "medical"
                   and (not _random(g) or len(_big_groups(g, c["dept_id"])) > 0))
    first = _months_back(g, 6, 3)
    s3, _ = _month_back(g, first)
    _, e3 = _month_back(g, first - 2)
    if c and _fits(g, s3):
        mine = (cases["dept_id"] == c["dept_id"]).to_numpy()
        top = int(np.bincount(cases.loc[mine, "g"].to_numpy()).argmax())
        if _random(g):
            big = _big_groups(g, c["dept_id"])
            top = int(big[int(rng.integers(len(big)))])
        code = str(g.t["dim_drg"]["drg_code"].iloc[top])
        peak = _size(g, (0.4, 0.6), (0.3, 0.7))
        for step, k in enumerate((first, first - 1, first - 2)):
            ms, me = _month_back(g, k)
            m = mine & (cases["g"].to_numpy() == top) & (di >= _idx(g, ms)) & (di <= _idx(g, me))
            ratio = 1 + peak * (step + 1) / 3
            old = cases.loc[m, "los"].to_numpy()
            new = np.minimum(np.round(np.maximum(old, 1) * ratio), 60).astype(int)
            scale = new / np.maximum(old, 1)
            cases.loc[m, "los"] = new
            for col in ("charge_bed", "charge_nursing"):
                cases.loc[m, col] = np.round(cases.loc[m, col].to_numpy() * scale, 2)
        _record(g, "los_creep", c, s3, e3, peak, ["alos", "time_index"],
                f"Length of stay in DRG {code} of {c['d'].en} creeps up to +{peak:.0%} over three months",
                f"{c['d'].zh} {code} 组平均住院日三个月内逐月上升至+{peak:.0%}", {"type": "drg", "id": code})
    # 3. one medical group's drug share surges for a month
    c = _pick_dept(g, lambda c: c["beds"] > 0 and len(c["groups"]) >= 2) or \
        _pick_dept(g, lambda c: c["beds"] > 0 and len(c["groups"]) >= 1)
    start, end = _month_back(g, _months_back(g, 9))
    if c and _fits(g, start):
        gid = c["groups"][int(rng.integers(len(c["groups"])))]
        f = _size(g, (1.7, 2.1), (1.5, 2.3))
        m = (cases["group_id"] == gid).to_numpy() & (di >= _idx(g, start)) & (di <= _idx(g, end))
        cases.loc[m, "charge_drug"] = np.round(cases.loc[m, "charge_drug"] * f, 2)
        _record(g, "drug_share_surge", c, start, end, f - 1, ["drug_share", "drug_charge_per_discharge"],
                f"Drug charges of medical group {gid} ({c['d'].en}) rise {f - 1:.0%} for one month",
                f"{c['d'].zh}医疗组{gid}药品费用当月上升{f - 1:.0%}", {"type": "group", "id": gid})


def inject_daily_anomalies(g: _Generator) -> None:
    """Outpatient collapse and charge surge, and an idle device, on the daily rows."""
    rng = _rng(g)
    op = g.op
    dates = op["date"].to_numpy()
    # 4. a large outpatient department's volume collapses for two to three weeks
    c = _pick_dept(g, lambda c: c["op_share"] > 0.02 and c["d"].key != "emergency")
    ms, _ = _month_back(g, _months_back(g, 8))
    if c and _fits(g, ms):
        start = ms + timedelta(days=9 if not _random(g) else int(rng.integers(0, 28)))
        end = min(start + timedelta(days=int(rng.integers(14, 22) if not _random(g) else rng.integers(10, 29))),
                  g.through)
        drop = _size(g, (0.5, 0.7), (0.4, 0.75))
        if _random(g):  # not in the Spring Festival weeks, when every clinic is quiet and nobody would call it a fall
            sf = spring_festival_day(start.year + (start.month >= 10))
            quiet_from, quiet_to = sf - timedelta(days=7), sf + timedelta(days=21)
            if start <= quiet_to and end >= quiet_from:  # moved whole past the quiet weeks (or before them)
                length = end - start
                start = quiet_to + timedelta(days=1)
                end = start + length
                if end > g.through:
                    end = quiet_from - timedelta(days=1)
                    start = end - length
        m = (op["dept_id"] == c["dept_id"]).to_numpy() & (dates >= np.datetime64(start)) & (dates <= np.datetime64(end))
        keep = 1 - drop
        op.loc[m, "visits"] = np.round(op.loc[m, "visits"].to_numpy() * keep).astype(int)
        op.loc[m, "emergency_visits"] = np.minimum(
            np.round(op.loc[m, "emergency_visits"].to_numpy() * keep).astype(int), op.loc[m, "visits"].to_numpy())
        _record(g, "outpatient_collapse", c, start, end, -drop, ["outpatient_visits", "outpatient_revenue"],
                f"Outpatient visits of {c['d'].en} fall {drop:.0%} for {(end - start).days + 1} days",
                f"{c['d'].zh}门诊量{(end - start).days + 1}天内下降{drop:.0%}")
    # 5. outpatient charge per visit surges for a month (heavier prescriptions)
    c = _pick_dept(g, lambda c: c["op_share"] > 0.01)
    start, end = _month_back(g, _months_back(g, 3))
    if c and _fits(g, start):
        f = _size(g, (1.3, 1.5), (1.25, 1.6))
        m = (op["dept_id"] == c["dept_id"]).to_numpy() & (dates >= np.datetime64(start)) & (dates <= np.datetime64(end))
        op.loc[m, "per_visit"] = op.loc[m, "per_visit"].to_numpy() * f
        _record(g, "outpatient_charge_surge", c, start, end, f - 1, ["charge_per_visit", "outpatient_revenue"],
                f"Outpatient charge per visit of {c['d'].en} rises {f - 1:.0%} for one month",
                f"{c['d'].zh}门诊次均费用当月上升{f - 1:.0%}")
    # 6. a device stands idle for the last three to five weeks (still idle at `through`)
    eq = g.eq
    busy = [e for e in g.equip if e["category"] in ("CT", "MRI", "DR", "ULTRASOUND")
            and e["bought"] < g.through - timedelta(days=120)]
    if busy:
        e = busy[int(rng.integers(len(busy)))]
        end = g.through
        if _random(g):  # it may have been repaired since: the idle weeks end anywhere in the reported months
            end = g.through - timedelta(days=int(rng.integers(0, 30 * (RANDOM_MONTHS - 2))))
        start = end - timedelta(days=int(rng.integers(21, 36) if not _random(g) else rng.integers(14, 41)))
        ed = eq["date"].to_numpy()
        m = (eq["equipment_id"] == e["id"]).to_numpy() & (ed >= np.datetime64(start)) & (ed <= np.datetime64(end))
        eq.loc[m, "exams"] = 0
        dept = next(c for c in [*g.clinical, *({"dept_id": s["dept_id"], "campus": s["campus"]} for s in g.support)]
                    if c["dept_id"] == e["dept_id"])
        g.anomalies.append({
            "id": f"A{len(g.anomalies) + 1}", "kind": "device_idle", "dept_id": e["dept_id"], "campus_id": dept["campus"],
            "start": start.isoformat(), "end": end.isoformat(), "magnitude": -1.0,
            "indicators": ["equipment_utilization"], "entity": {"type": "equipment", "id": e["id"]},
            "description_en": f"Device {e['id']} ({e['category']}) stands idle for {(end - start).days + 1} days",
            "description_zh": f"设备{e['id']}（{e['category']}）停机{(end - start).days + 1}天"})


def inject_cost_anomalies(g: _Generator) -> None:
    """A clinical department's energy cost jumps for a month (before allocation)."""
    months, _depts, did, cc = g.cost_ctx
    c = _pick_dept(g, lambda c: c["beds"] > 0)
    start, end = _month_back(g, _months_back(g, 7))
    if c and start in months and _fits(g, start):
        f = _size(g, (1.8, 2.6), (1.6, 2.8))
        g.direct[did[c["dept_id"]], months.index(start), cc["energy"]] *= f
        _record(g, "energy_jump", c, start, end, f - 1, ["energy_cost", "energy_per_10k_revenue"],
                f"Energy cost of {c['d'].en} jumps {f - 1:.0%} for one month",
                f"{c['d'].zh}能耗成本当月上升{f - 1:.0%}")


def inject_budget_anomalies(g: _Generator) -> None:
    """A budget item of a department is overspent for two months."""
    rng = _rng(g)
    bm = g.t["fact_budget_monthly"]
    c = _pick_dept(g, lambda c: True)
    first = _months_back(g, 5, 2)
    s, _ = _month_back(g, first)
    _, e = _month_back(g, first - 1)
    if c and _fits(g, s):
        f = _size(g, (2.2, 3.0), (2.0, 3.2))
        item, (name_zh, name_en) = "B07", ("办公及印刷费", "Office expenses")
        if _random(g):
            item, name_zh, name_en = OVERSPENT[int(rng.integers(len(OVERSPENT)))]
        months = np.array([x for x in bm["month_start"]], dtype=object)
        m = (bm["dept_id"] == c["dept_id"]).to_numpy() & (bm["item_code"] == item).to_numpy() \
            & (months >= s) & (months <= e)
        # the item runs at f times its budget (not f times a month that may have been quiet)
        bm.loc[m, "executed_amount"] = np.round(bm.loc[m, "budget_amount"].to_numpy() * f
                                                * rng.uniform(0.95, 1.05, int(m.sum())), 2)
        _record(g, "budget_overspend", c, s, e, f - 1, ["budget_execution"],
                f"{name_en} ({item}) of {c['d'].en} run at {f:.1f}× budget for two months",
                f"{c['d'].zh}{name_zh}（{item}）连续两月执行达预算的{f:.1f}倍", {"type": "budget_item", "id": item})


# ------------------------------------------------------------------ contract version 2
def _v2_rng(g: _Generator) -> np.random.Generator:
    """The version 2 anomalies draw from their own stream: the others' departments, months and sizes stay."""
    if not hasattr(g, "_v2_anomaly_rng"):
        g._v2_anomaly_rng = np.random.default_rng([g.seed, V2_STREAM])
    return g._v2_anomaly_rng


def _quiet_festival(start: date, end: date) -> bool:
    """The months overlap the Spring Festival's quiet weeks (a week before it to three weeks after)."""
    for year in {start.year, end.year}:
        sf = spring_festival_day(year)
        if sf is not None and start <= sf + timedelta(days=21) and end >= sf - timedelta(days=7):
            return True
    return False


def _v2_months(g: _Generator, fixed: int, span: int, earliest: date) -> tuple[date, date] | None:
    """The first and last day of `span` complete months starting `fixed` months back, or (random
    placement) starting at a month drawn among the reported months that hold no Spring Festival; none
    before `earliest`."""
    def window(k: int) -> tuple[date, date]:
        return _month_back(g, k)[0], _month_back(g, k - span + 1)[1]

    if _random(g):
        ok = [k for k in range(span, RANDOM_MONTHS + 1)
              if window(k)[0] >= earliest and _fits(g, window(k)[0]) and not _quiet_festival(*window(k))]
        if not ok:
            return None
        return window(ok[int(_v2_rng(g).integers(len(ok)))])
    start, end = window(fixed)
    return (start, end) if start >= earliest and _fits(g, start) else None


def _v2_size(g: _Generator, fixed: tuple[float, float], wide: tuple[float, float]) -> float:
    return float(_v2_rng(g).uniform(*(wide if _random(g) else fixed)))


def inject_v2_anomalies(g: _Generator) -> None:
    """Unplanned readmissions jump in a department; the region cuts a DIP point value for a few months.
    Injected after every other anomaly, from their own stream (`_v2_rng`)."""
    rng = _v2_rng(g)
    ip = g.t["fact_inpatient_case"]
    discharged = ip["discharge_date"].to_numpy().astype("datetime64[D]")
    used = getattr(g, "_anomaly_used", set())
    # 9. unplanned 31-day readmissions of a department run at 3.5-4 times their rate for two months, in one
    # of the departments with the most readmissions (a rate over a handful of returns a month moves by chance).
    # The jump is realised exactly: the window ends with round(f x usual x its cases) returns, the missing
    # ones flagged among its cases not yet readmitted, chosen without replacement. (An independent draw per
    # case added binomial noise on top: a recorded 3.3x came out as 1.8x on one seed, and the ground truth
    # claimed an anomaly the data did not hold.)
    counts = ip["is_unplanned_readmission_31d"].astype(int).groupby(ip["dept_id"]).sum()
    large = [c for c in g.clinical if c["beds"] > 0 and counts.get(c["dept_id"], 0) >= counts.quantile(0.75)]
    pool = [c for c in large if c["dept_id"] not in used] or large
    window = _v2_months(g, 6, 2, g.fact_start)
    if pool and window:
        pick = int(rng.integers(len(pool)))
        start, end = window
        f = _v2_size(g, (3.5, 4.0), (3.0, 4.5))
        # drawn as before (one number a case) so that the stream, and the DIP cut drawn after, stay as they were
        draw = rng.random(len(ip))
        flag = ip["is_unplanned_readmission_31d"].to_numpy(dtype=bool).copy()
        dept = ip["dept_id"].to_numpy()
        in_window = (discharged >= np.datetime64(start)) & (discharged <= np.datetime64(end))

        def jump(c: dict) -> tuple[np.ndarray, int] | None:
            """The window's cases not yet readmitted and how many of them to flag, or None where the
            department's window has too few cases to hold the jump: f x usual over its cases rounds to a
            count more than a tenth off, or it already holds as many returns as the jump wants."""
            mine = dept == c["dept_id"]
            inside = mine & in_window
            usual = float(flag[mine & ~inside].mean()) if (mine & ~inside).any() else 0.015
            usual = max(usual, 0.005)
            want = f * usual * int(inside.sum())
            target = int(round(want))
            extra = target - int(flag[inside].sum())
            eligible = np.flatnonzero(inside & ~flag)
            if want <= 0 or abs(target - want) > 0.1 * want or not 0 < extra <= len(eligible):
                return None
            return eligible, extra

        # the department drawn, or where its window cannot hold the jump, one of the pool's that can
        # (chosen by the same draw: no further numbers are taken from the stream)
        able = [c for c in pool if jump(c) is not None]
        c = pool[pick] if pool[pick] in able else (able[pick % len(able)] if able else None)
        if c is not None:
            used.add(c["dept_id"])
            eligible, extra = jump(c)
            # without replacement: the eligible cases with the smallest draws
            flag[eligible[np.argsort(draw[eligible], kind="stable")[:extra]]] = True
            ip["is_unplanned_readmission_31d"] = flag
            _record(g, "readmission_jump", c, start, end, f - 1, ["readmission_31d_rate"],
                    f"Unplanned 31-day readmissions of {c['d'].en} run at {f:.1f}× their usual rate for two months",
                    f"{c['d'].zh}31天内非计划再入院率连续两月升至平时的{f:.1f}倍")
    # 10. the region cuts one fund's monthly DIP point-value estimate 12-15% for three months: the DIP margin
    # of the department that loses the most payment falls, and a packet of it turns loss-making
    pv = g.t["fact_dip_point_value"]
    window = _v2_months(g, 4, 3, getattr(g, "dip_from", g.through))
    if len(pv) and window:
        start, end = window
        fund = "resident"
        if _random(g):
            fund = ("employee", "resident")[int(rng.integers(2))]
        cut = _v2_size(g, (0.12, 0.15), (0.08, 0.2))
        month_no = pv["year"].to_numpy() * 12 + np.array([m if m is not None else 0 for m in pv["month"]])
        hit = (~pv["is_final"].to_numpy(dtype=bool)) & (pv["insurance_type"] == fund).to_numpy() \
            & (month_no >= start.year * 12 + start.month) & (month_no <= end.year * 12 + end.month)
        pv.loc[hit, "point_value"] = np.round(pv.loc[hit, "point_value"].to_numpy() * (1 - cut), 4)
        # the department that loses the most payment; its packet that the cut turns loss-making (paid its way
        # before, loses in these months) and loses the most, else the one that loses the most
        pay = g.dip_payments()
        dip = ~np.isnan(pay)
        inside = (discharged >= np.datetime64(start)) & (discharged <= np.datetime64(end))
        key = [ip["dept_id"].to_numpy(), ip["dip_code"].to_numpy()]

        def by_packet(values: np.ndarray, rows: np.ndarray) -> pd.Series:
            return pd.Series(values[rows]).groupby([k[rows] for k in key]).sum()

        cost = ip["cost_total"].to_numpy()
        cut_rows = dip & inside & (ip["insurance_type"] == fund).to_numpy()
        lost = by_packet(pay * cut / (1 - cut), cut_rows)
        if len(lost):
            dept_id = str(lost.groupby(level=0).sum().idxmax())
            mine = lost.loc[dept_id]
            before = by_packet(pay - cost, dip & (discharged < np.datetime64(start))).reindex(lost.index).loc[dept_id]
            during = by_packet(pay - cost, dip & inside).reindex(lost.index).loc[dept_id]
            turned = mine[(before > 0).to_numpy() & (during < 0).to_numpy()]
            code = str((turned if len(turned) else mine).idxmax())
            c = next(c for c in g.clinical if c["dept_id"] == dept_id)
            used.add(dept_id)
            fund_zh = {"employee": "职工医保", "resident": "城乡居民医保"}[fund]
            fund_en = {"employee": "employees'", "resident": "residents'"}[fund]
            _record(g, "dip_point_cut", c, start, end, -cut, ["dip_margin", "dip_margin_per_case"],
                    f"The region cuts the {fund_en} DIP point value {cut:.0%} for three months: the DIP margin of "
                    f"{c['d'].en} falls (packet {code} hardest)",
                    f"统筹区{fund_zh}DIP月度点值连续三月下调{cut:.0%}，{c['d'].zh}DIP结余下降（{code}病种最重）",
                    {"type": "dip", "id": code})
