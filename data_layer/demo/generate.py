"""The demo hospital: a deterministic, realistic three-campus tertiary hospital group.

`generate()` returns every contract table as a DataFrame plus the anomalies it
injected; `data_layer.load.write_warehouse()` writes them to any supported database. The
calibration targets and their sources are in docs/demo-hospital.md.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from . import catalog as cat
from .calendar import build_dim_date, spring_festival_day
from .live import DayBase, intraday

Progress = Callable[[str], None]

# Calibration constants (docs/demo-hospital.md gives the targets and sources).
RATE_PER_WEIGHT = 13_200.0  # inpatient charge per unit of DRG weight, yuan
REGION_RATE = 13_700.0  # regional reference charge per unit of weight
PAYMENT_RATE = 0.965  # DRG payment per unit of charge for an average group
VISITS_PER_YEAR = 3_300_000  # outpatient and emergency visits at scale 1
BEDS_SCALE_1 = 3_000
VOLUME_GROWTH = 0.045  # per year
NEW_CAMPUS_GROWTH = 0.12
LOS_TREND = -0.025  # per year
CHARGE_TREND = -0.004  # per year, DRG payment pressure
# Day surgery (日间手术) in the groups run as day cases (catalog.DAY_SURGERY_ADRG): 45% of their cases
# without complications in the latest year, growing 12% a year (relative), so about 29% five years
# earlier, as day surgery spread under DRG/DIP payment.
DAY_SURGERY_SHARE = 0.45
DAY_SURGERY_GROWTH = 0.12
PAY_TREND = 0.04
MONTH_FACTOR = np.array([0.97, 0.95, 1.04, 1.02, 1.0, 0.99, 1.03, 1.04, 1.0, 0.97, 1.02, 1.0])
WINTER_FACTOR = np.array([1.18, 1.15, 1.05, 0.97, 0.93, 0.9, 0.92, 0.92, 0.95, 1.0, 1.06, 1.15])
OP_WEEKDAY = np.array([1.28, 1.15, 1.1, 1.07, 1.02, 0.5, 0.34])
DISCHARGE_WEEKDAY = np.array([0.92, 1.05, 1.07, 1.08, 1.22, 0.9, 0.58])
IP_SHARES_SURGICAL = np.array([0.16, 0.27, 0.08, 0.08, 0.10, 0.16, 0.05, 0.04, 0.06])
IP_SHARES_MEDICAL = np.array([0.31, 0.09, 0.12, 0.14, 0.14, 0.005, 0.07, 0.075, 0.06])
IP_CHARGE_COLS = ["charge_drug", "charge_material", "charge_exam", "charge_lab", "charge_treatment",
                  "charge_surgery", "charge_nursing", "charge_bed", "charge_other"]
OP_SHARES = np.array([0.41, 0.05, 0.18, 0.17, 0.13, 0.06])
OP_REV_COLS = ["revenue_drug", "revenue_material", "revenue_exam", "revenue_lab", "revenue_treatment",
               "revenue_other"]
COST_COLS = ["cost_personnel", "cost_drug", "cost_material", "cost_equipment", "cost_overhead"]
MONTHLY_PAY = {"doctor": 31_000, "nurse": 16_500, "technician": 17_000, "pharmacist": 15_500,
               "admin": 15_000, "other": 9_500}
EMPLOYMENT = (("established", 0.58), ("contract", 0.3), ("dispatched", 0.06), ("rehired", 0.03),
              ("trainee", 0.03))
COST_CATEGORIES = ["personnel", "drug", "material", "depreciation", "amortization", "risk_fund",
                   "energy", "other"]
TITLES = np.array(["chief", "associate_chief", "attending", "resident"])
MAX_LOS = 60
EQUIPMENT_STREAM = 0xE9  # tag of the random stream the devices beyond the first fleet draw from
# budget items spent in lumps: typical yearly plan per department at scale 1, and how many months it is spent in
LUMPY_ITEMS = {"B04": (3.0e6, (1, 3)), "B10": (6.0e5, (3, 6)), "B11": (1.2e6, (1, 2))}
WEIGHT_SCALE = 0.76  # brings the demo case mix to a CMI near 1.0
LOS_FACTOR = 0.95  # the hospital's stays against the regional reference
LOS_SIGMA = 0.42
# Published open beds: the beds the cases are generated for, times OPEN_BED_FACTOR in the year of
# `through`, and BED_GROWTH fewer for each year before (a hospital adds beds as its volumes grow).
# This keeps the midnight census near 90-105% of open beds overall (some departments above 100%,
# extra beds 加床) as in a Chinese tertiary hospital, without touching any random draw.
OPEN_BED_FACTOR = 1.06
BED_GROWTH = 0.035
OCC_CALIBRATION = 1.15  # rounding and clipping of stays make realised bed use fall short of λ × E[LOS]

# Contract version 2 (docs/demo-hospital.md, "Contract version 2"). Every version 2 column draws from its
# own random stream (numpy.random.default_rng([seed, tag])), after every version 1 table is built, so the
# version 1 tables keep every value but drg_payment of DIP cases (which holds the DIP estimate).
V2_STREAMS = {"dip_score": 0x2D1, "dip_point": 0x2D2, "elective": 0x2E1, "minimally_invasive": 0x2E2,
              "preop": 0x2E3, "readmission": 0x2E4, "complication": 0x2E5, "fund": 0x2F1, "revenue_fund": 0x2F2}
MI_TREND = 0.04  # the minimally invasive share of an operation grows 4% a year (relative)
PREOP_TREND = -0.05  # preoperative waits shorten 5% a year
READMISSION_TREND = -0.03  # unplanned readmissions fall 3% a year (relative)
DAY_SURGERY_READMISSION = 0.4  # relative risk of a day-surgery case
COMPLICATION_BY_LEVEL = np.array([0.0, 0.002, 0.004, 0.009, 0.02])  # per surgical case, by surgery_level
DAY_SURGERY_COMPLICATION = 0.3  # relative risk of a day-surgery case
# the insurance fund's share of a case's payment (医保基金支付): mean and concentration of a beta draw
FUND_SHARE = {"employee": (0.74, 40.0), "resident": (0.60, 40.0)}
OUTPATIENT_FUND = (0.22, 0.36)  # a department's fund share of outpatient revenue in the latest year
OUTPATIENT_FUND_TREND = 0.015  # a year: the outpatient mutual-aid reform (门诊共济) widens employees' cover
DIP_POINT_STEP = (-0.002, 0.006)  # monthly log-step of a point-value estimate: mean and sd (drifts down)
DIP_FINAL = (0.955, 0.985)  # a year's final point value against the mean of its monthly estimates
DIP_NEXT_YEAR = (1.0, 1.03)  # the next year's opening estimate against this year's final value
DIP_SCORE_NOISE = (0.97, 1.03)  # the region's scores are not exactly this hospital's payments


@dataclass
class DemoData:
    """Every contract table as a DataFrame, and the ground truth of injected anomalies."""

    tables: dict[str, pd.DataFrame]
    anomalies: list[dict]
    params: dict
    stats: dict = field(default_factory=dict)
    defects: list[dict] = field(default_factory=list)  # data defects injected (data_layer/demo/defects.py)


def _money(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float), 2)


def _death_risk(weight: np.ndarray) -> np.ndarray:
    """A case's chance of dying in hospital, by its DRG weight (the region's mortality model)."""
    return np.clip(0.002 + 0.012 * np.maximum(weight - 1.5, 0), 0, 0.08)


def _split(total: np.ndarray, shares: np.ndarray, rng: np.random.Generator, conc: float) -> np.ndarray:
    """Split totals into components by noisy shares; rounded to cents (rows x parts)."""
    alpha = np.maximum(shares, 1e-3) * conc
    draws = rng.gamma(np.broadcast_to(alpha, (len(total), len(shares))))
    draws /= draws.sum(axis=1, keepdims=True)
    return _money(total[:, None] * draws)


class _Generator:
    def __init__(self, scale: float, years: int, seed: int, through: date, now: datetime,
                 progress: Progress | None):
        if scale <= 0 or scale > 50:
            raise ValueError("scale must be greater than 0 and at most 50")
        if years < 1 or years > 15:
            raise ValueError("years must be between 1 and 15")
        self.scale, self.years, self.seed = scale, years, seed
        self.through, self.now = through, now
        self.rng = np.random.default_rng(seed)
        self.eq_rng = np.random.default_rng([seed, EQUIPMENT_STREAM])  # the devices beyond the first fleet
        self.say = progress or (lambda _msg: None)
        self.fact_start = date(through.year - years + 1, 1, 1)
        cal_start = self.fact_start - timedelta(days=MAX_LOS + 31)
        self.cal_start = cal_start.replace(day=1)
        self.cal_end = date(through.year, 12, 31)
        self.sim_end = through + timedelta(days=MAX_LOS)
        self.t: dict[str, pd.DataFrame] = {}
        self.anomalies: list[dict] = []
        self.placement = "fixed"  # or "random": see anomalies.py

    # ---------------------------------------------------------------- calendar
    def calendar(self) -> None:
        dd = build_dim_date(self.cal_start, max(self.cal_end, self.sim_end))
        self.t["dim_date"] = dd[dd["date"] <= self.cal_end].reset_index(drop=True)
        self.days = pd.to_datetime(dd["date"]).values.astype("datetime64[D]")
        self.day_index = {d: i for i, d in enumerate(dd["date"])}
        self.weekday = dd["weekday"].to_numpy() - 1
        self.is_workday = dd["is_workday"].to_numpy(dtype=bool)
        self.is_holiday = dd["holiday_name"].notna().to_numpy()
        self.month = dd["month"].to_numpy() - 1
        # Years from the middle of the latest year: calibration targets describe the latest year.
        anchor = np.datetime64(date(self.through.year, 7, 1))
        self.years_since = (self.days - anchor).astype(float) / 365.25
        # Spring Festival: discharges rush before it, then a deep dip and a slow return.
        sf = np.ones(len(dd))
        sf_op = np.ones(len(dd))
        for y in range(self.cal_start.year, self.sim_end.year + 1):
            first = spring_festival_day(y)
            if first is None or first not in self.day_index:
                continue
            i = self.day_index[first]
            sf[max(0, i - 6):i] *= 1.35
            sf[i:i + 7] *= 0.38
            sf[i + 7:i + 15] *= 0.8
            sf_op[i + 7:i + 15] *= 0.85
        self.sf_discharge, self.sf_op = sf, sf_op
        self.fact_mask = (self.days >= np.datetime64(self.fact_start)) & (
            self.days <= np.datetime64(self.through))
        self.say(f"calendar {self.cal_start} .. {self.cal_end}")

    # ------------------------------------------------------------- structure
    def structure(self) -> None:
        rng, s = self.rng, self.scale
        self.t["dim_campus"] = pd.DataFrame(
            [(cid, zh, en, date.fromisoformat(opened)) for cid, zh, en, opened in cat.CAMPUSES],
            columns=["campus_id", "name_zh", "name_en", "opened_on"])
        n_main = len(cat.CLINICAL) if s >= 1 else max(8, round(len(cat.CLINICAL) * math.sqrt(s)))
        main = list(cat.CLINICAL[:n_main])
        keys = {d.key for d in main}
        east = [d for d in cat.CLINICAL if d.key in cat.EAST and d.key in keys]
        new = [d for d in cat.CLINICAL if d.key in cat.NEW and d.key in keys]
        if s < 1:
            east, new = east[: max(2, round(len(east) * math.sqrt(s)))], new[: max(1, round(len(new) * math.sqrt(s)))]
        placed = [("C1", d, 1.0) for d in main] + [("C2", d, 0.55) for d in east] + [("C3", d, 0.4) for d in new]
        raw_beds = np.array([d.beds * f for _, d, f in placed])
        beds = np.round(raw_beds * BEDS_SCALE_1 * s / raw_beds.sum()).astype(int)
        beds[(raw_beds > 0) & (beds < 6)] = 6
        op_raw = np.array([d.op_share * (1.0 if c == "C1" else 0.5 if c == "C2" else 0.35) for c, d, _ in placed])
        op_share = op_raw / op_raw.sum()
        rows, clinical = [], []
        for i, ((campus, d, _f), b) in enumerate(zip(placed, beds, strict=True)):
            dept_id = f"D{i + 1:03d}"
            suffix_zh = {"C1": "", "C2": "（东院）", "C3": "（滨江）"}[campus]
            suffix_en = {"C1": "", "C2": " (East)", "C3": " (Riverside)"}[campus]
            area = float(round(b * 55 + op_share[i] * 120_000 * s + 300 * s ** 0.5, 1))
            rows.append((dept_id, d.zh + suffix_zh, d.en + suffix_en, campus, "clinical", d.division,
                         d.service_line, int(b), area))
            occ = float(np.clip(rng.normal(0.9, 0.05), 0.78, 0.99))
            if d.service_line in ("orthopedics", "cardiac") or d.key in ("oncology", "hematology", "neuro_med"):
                occ = float(rng.uniform(1.01, 1.08))
            clinical.append({"dept_id": dept_id, "campus": campus, "d": d, "beds": int(b),
                             "op_share": float(op_share[i]), "occ": occ, "idx": i})
        support_rows = []
        j = len(rows)
        for sd in cat.SUPPORT:
            for k, campus in enumerate(("C1", "C2", "C3")[: sd.campuses]):
                j += 1
                f = (1.0, 0.45, 0.25)[k] * max(s, 0.05) ** 0.9
                suffix = ("", "（东院）", "（滨江）")[k], ("", " (East)", " (Riverside)")[k]
                dept_id = f"D{j:03d}"
                rows.append((dept_id, sd.zh + suffix[0], sd.en + suffix[1], campus, sd.kind, None, None, 0,
                             float(round(sd.area * f, 1))))
                support_rows.append({"dept_id": dept_id, "campus": campus, "sd": sd,
                                     "staff": max(2.0, sd.staff * f)})
        self.t["dim_department"] = pd.DataFrame(rows, columns=[
            "dept_id", "name_zh", "name_en", "campus_id", "kind", "division", "service_line", "open_beds",
            "floor_area_m2"])
        self.clinical, self.support = clinical, support_rows
        self._wards()
        self._doctors()
        self._drgs()
        self._equipment()
        self.t["dim_budget_item"] = pd.DataFrame(list(cat.BUDGET_ITEMS),
                                                 columns=["item_code", "name_zh", "name_en", "category"])
        self.say(f"structure: {len(clinical)} clinical departments, {int(beds.sum())} beds, "
                 f"{len(self.t['dim_doctor'])} doctors, {len(self.t['dim_drg'])} DRG groups")

    def _wards(self) -> None:
        rows, zh_num = [], "一二三四五六七八九十"
        n = 0
        for c in self.clinical:
            c["wards"] = []
            if c["beds"] == 0:
                continue
            k = max(1, round(c["beds"] / 45))
            base = [c["beds"] // k + (1 if i < c["beds"] % k else 0) for i in range(k)]
            dept = self.t["dim_department"].iloc[c["idx"]]
            for i, b in enumerate(base):
                n += 1
                wid = f"W{n:03d}"
                num_zh = zh_num[i] if i < 10 else str(i + 1)
                rows.append((wid, c["dept_id"], f"{dept.name_zh}{num_zh}病区", f"{dept.name_en} Ward {i + 1}", b))
                occ = float(np.clip(c["occ"] + self.rng.normal(0, 0.03), 0.7, 1.12))
                c["wards"].append((wid, b, occ))
        self.t["dim_ward"] = pd.DataFrame(rows, columns=["ward_id", "dept_id", "name_zh", "name_en", "open_beds"])

    def _doctors(self) -> None:
        rng = self.rng
        doctors, groups = [], []
        n_doc = n_grp = 0
        for c in self.clinical:
            count = max(3, round(c["beds"] * 0.2 + c["op_share"] * 200 * self.scale))
            titles = rng.choice(TITLES, size=count, p=[0.16, 0.26, 0.34, 0.24])
            titles[0] = "chief"
            names = []
            for _ in range(count):
                sur = cat.SURNAMES[rng.integers(len(cat.SURNAMES))]
                giv = cat.GIVEN[rng.integers(len(cat.GIVEN))]
                names.append((sur[0] + giv[0], f"{sur[1]} {giv[1]}"))
            n_groups = max(1, round(count / 7))
            leaders = [i for i, t in enumerate(titles) if t in ("chief", "associate_chief")][:n_groups]
            n_groups = len(leaders)
            gids = []
            for _g, li in enumerate(leaders):
                n_grp += 1
                gid = f"G{n_grp:04d}"
                gids.append(gid)
                groups.append([gid, c["dept_id"], f"{names[li][0]}医疗组", f"{names[li][1]} team", None, li])
            c["doctors"], c["groups"] = [], gids
            for i in range(count):
                n_doc += 1
                did = f"DR{n_doc:05d}"
                if i in leaders:
                    gid = gids[leaders.index(i)]
                elif titles[i] == "resident" and rng.random() < 0.15:
                    gid = None
                else:
                    gid = gids[rng.integers(n_groups)]
                doctors.append((did, names[i][0], c["dept_id"], gid, str(titles[i])))
                c["doctors"].append((did, gid, str(titles[i])))
            for grp in groups[-n_groups:]:
                grp[4] = c["doctors"][grp[5]][0]
        self.t["dim_doctor"] = pd.DataFrame(doctors, columns=["doctor_id", "name", "dept_id", "group_id", "title"])
        self.t["dim_medical_group"] = pd.DataFrame(
            [g[:5] for g in groups], columns=["group_id", "dept_id", "name_zh", "name_en", "leader_doctor_id"])

    def _drgs(self) -> None:
        rng = self.rng
        rows = []
        for i, (adrg, zh, en, w, los, surgical) in enumerate(cat.ADRG):
            splits = ("9",) if (surgical and w >= 4) else ("1", "3", "5") if i % 3 == 0 else ("3", "5")
            for sev in splits:
                szh, sen, wf, lf = cat.SEVERITY[sev]
                weight = round(w * wf * WEIGHT_SCALE * rng.uniform(0.96, 1.04), 4)
                ref_los = round(los * lf * rng.uniform(0.95, 1.05), 1)
                name_zh = f"{zh}，{szh}" if szh else zh
                name_en = f"{en}, {sen}" if sen else en
                rows.append((adrg + sev, adrg, adrg[0], name_zh, name_en, weight, surgical, ref_los,
                             round(weight * REGION_RATE, 2)))
        drg = pd.DataFrame(rows, columns=["drg_code", "adrg_code", "mdc_code", "name_zh", "name_en", "weight",
                                          "is_surgical", "ref_los_days", "ref_charge_per_case"])
        self.t["dim_drg"] = drg
        n = len(drg)
        # Under-priced groups lose money per case; a few are over-priced.
        self.drg_pay = np.where(rng.random(n) < 0.2, rng.uniform(0.78, 0.9, n), rng.uniform(0.95, 1.08, n))
        self.drg_cost = np.where(self.drg_pay < 0.9, rng.uniform(1.0, 1.1, n), rng.uniform(0.86, 0.97, n))
        for c in self.clinical:
            d: cat.ClinicalDept = c["d"]
            ok = drg["mdc_code"].isin(list(d.mdcs)).to_numpy()
            pref = np.where(drg["is_surgical"].to_numpy() == (d.division == "surgical"), 1.0, 0.18)
            main_mdc = np.where(drg["mdc_code"].to_numpy() == d.mdcs[0], 2.5, 1.0)
            sev = drg["drg_code"].str[-1].map({"1": 0.18, "3": 0.35, "5": 0.5, "9": 0.6}).to_numpy()
            p = ok * pref * main_mdc * sev * rng.gamma(1.5, size=n)
            c["drg_p"] = p / p.sum()

    def _equipment(self) -> None:
        rng = self.rng
        by_key = {}
        for r in self.t["dim_department"].itertuples():
            by_key.setdefault(r.name_en.split(" (")[0], []).append((r.dept_id, r.campus_id))
        home_names = {"radiology": "Radiology", "nuclear": "Nuclear Medicine", "ultrasound": "Ultrasound Medicine",
                      "endoscopy": "Endoscopy Centre", "radiation_onc": "Radiation Oncology"}
        rows, self.equip = [], []
        n = 0
        for category, count in cat.EQUIPMENT_COUNT.items():
            zh, en, price, cap, minutes, charge, life, home = cat.EQUIPMENT[category]
            homes = by_key.get(home_names[home], [])
            if not homes:
                continue
            k = max(1, round(count * self.scale)) if self.scale < 1 else round(count * self.scale)
            for i in range(k):
                n += 1
                dept_id, campus = homes[i % len(homes)] if i < 2 * len(homes) else homes[0]
                p = float(round(rng.uniform(*price) * 1e6, -3))
                span = (self.through - timedelta(days=90) - (self.fact_start - timedelta(days=6 * 365))).days
                bought = self.fact_start - timedelta(days=6 * 365) + timedelta(days=int(rng.integers(span)))
                util = {"CT": (0.62, 0.86), "MRI": (0.68, 0.9), "DSA": (0.55, 0.9), "PET_CT": (0.5, 0.85),
                        "LINAC": (0.75, 1.02), "DR": (0.4, 0.72), "ULTRASOUND": (0.68, 1.02),
                        "ENDOSCOPY": (0.55, 0.95)}[category]
                eid = f"EQ{n:03d}"
                rows.append((eid, dept_id, f"{zh}-{i + 1:02d}", f"{en} #{i + 1}", category, bought, p,
                             float(round(p * rng.uniform(0.06, 0.1), -2)), float(cap), life))
                self.equip.append({"id": eid, "dept_id": dept_id, "campus": campus, "category": category,
                                   "bought": bought, "cap": cap, "util": float(rng.uniform(*util)),
                                   "minutes": minutes, "charge": charge, "price": p, "life": life})
        self.first_fleet = len(self.equip)
        rows += self._fleet(n)
        self.t["dim_equipment"] = pd.DataFrame(rows, columns=[
            "equipment_id", "dept_id", "name_zh", "name_en", "category", "purchase_date", "purchase_price",
            "annual_maintenance_cost", "daily_capacity", "service_life_years"])

    def _fleet(self, n: int) -> list[tuple]:
        """The rest of the hospital's large devices (cat.DEVICE_TYPES) in the departments that operate
        them. Drawn from their own random stream, so adding them leaves every other table's draws as
        they were (the first fleet above still draws from the main stream, in its old order)."""
        rng = self.eq_rng
        where: dict[tuple[str, str], str] = {}
        for c in self.clinical:
            where.setdefault((c["d"].key, c["campus"]), c["dept_id"])
        for sd in self.support:
            where.setdefault((sd["sd"].key, sd["campus"]), sd["dept_id"])
        oldest = self.through - timedelta(days=int(365.25 * 12))
        rows = []
        for d in cat.DEVICE_TYPES:
            k = 0
            for home, counts in d.homes:
                for campus, count in zip(("C1", "C2", "C3"), counts, strict=True):
                    dept_id = where.get((home, campus))
                    if dept_id is None or count == 0:
                        continue
                    for _ in range(max(1, round(count * self.scale)) if self.scale < 1 else round(count * self.scale)):
                        n, k = n + 1, k + 1
                        eid = f"EQ{n:03d}"
                        price = float(round(rng.uniform(*d.price) * 1e6, -3))
                        # bought within the last life + 2 years (a few still run past their service life)
                        earliest = max(oldest, self.through - timedelta(days=int(365.25 * (d.life + 2))))
                        span = (self.through - timedelta(days=45) - earliest).days
                        bought = earliest + timedelta(days=int(rng.integers(span)))
                        maint = float(round(price * rng.uniform(*d.maintenance), -2))
                        rows.append((eid, dept_id, f"{d.zh}-{k:02d}", f"{d.en} #{k}", d.category, bought, price, maint,
                                     float(d.capacity), d.life))
                        self.equip.append({"id": eid, "dept_id": dept_id, "campus": campus, "category": d.category,
                                           "bought": bought, "cap": d.capacity, "util": float(rng.uniform(*d.use)),
                                           "minutes": d.minutes, "charge": d.charge, "price": price, "life": d.life,
                                           "slots": d.slots, "weekend": d.weekend})
        return rows

    # ------------------------------------------------------------ inpatients
    def _growth(self, campus: str) -> np.ndarray:
        g = NEW_CAMPUS_GROWTH if campus == "C3" else VOLUME_GROWTH
        return (1 + g) ** self.years_since

    def inpatients(self) -> None:
        rng = self.rng
        drg = self.t["dim_drg"]
        w = drg["weight"].to_numpy()
        ref_los = drg["ref_los_days"].to_numpy()
        surgical = drg["is_surgical"].to_numpy()
        # how far each group is run as day surgery (catalog.DAY_SURGERY_ADRG): 1, a fraction with complications, 0
        codes = drg["drg_code"].astype(str)
        day_fit = np.where(drg["adrg_code"].isin(cat.DAY_SURGERY_ADRG).to_numpy() & surgical,
                           np.where(codes.str[-1].eq("3").to_numpy(), cat.DAY_SURGERY_WITH_CC,
                                    np.where(codes.str[-1].eq("1").to_numpy(), 0.0, 1.0)), 0.0)
        day_f = DISCHARGE_WEEKDAY[self.weekday] * np.where(self.is_holiday, 0.6, 1.0) * self.sf_discharge
        parts = []
        for c in self.clinical:
            if c["beds"] == 0:
                continue
            d: cat.ClinicalDept = c["d"]
            p = c["drg_p"]
            exp_los = float((p * ref_los).sum()) * LOS_FACTOR
            season = MONTH_FACTOR[self.month] * (WINTER_FACTOR[self.month] if d.mdcs[0] in "ES" else 1.0)
            los_trend = (1 + LOS_TREND) ** self.years_since
            for wid, beds, occ in c["wards"]:
                lam = OCC_CALIBRATION * beds * occ / (exp_los * los_trend) * day_f * season * self._growth(c["campus"])
                lam = lam * (self.days >= np.datetime64(self.fact_start - timedelta(days=0)))
                counts = rng.poisson(lam)
                n = int(counts.sum())
                di = np.repeat(np.arange(len(counts)), counts)
                g = rng.choice(len(p), size=n, p=p)
                los = rng.lognormal(np.log(ref_los[g] * LOS_FACTOR * los_trend[di]) - LOS_SIGMA ** 2 / 2, LOS_SIGMA)
                day_p = DAY_SURGERY_SHARE * (1 + DAY_SURGERY_GROWTH) ** self.years_since[di]
                day_surg = rng.random(n) < day_p * day_fit[g]
                los = np.where(day_surg, rng.integers(0, 2, n), np.clip(np.round(los), 1, MAX_LOS)).astype(int)
                parts.append(pd.DataFrame({"dept_id": c["dept_id"], "campus_id": c["campus"], "ward_id": wid,
                                           "di": di, "g": g, "los": los, "day_surg": day_surg}))
        cases = pd.concat(parts, ignore_index=True)
        n = len(cases)
        g = cases["g"].to_numpy()
        di = cases["di"].to_numpy()
        los = cases["los"].to_numpy()
        # attending doctor and group
        doc = np.empty(n, dtype=object)
        grp = np.empty(n, dtype=object)
        for c in self.clinical:
            m = (cases["dept_id"] == c["dept_id"]).to_numpy()
            if not m.any():
                continue
            eligible = [(d, gid) for d, gid, t in c["doctors"] if gid is not None]
            wts = np.array([{"chief": 0.8, "associate_chief": 1.2, "attending": 1.5, "resident": 0.5}[t]
                            for _, gid, t in c["doctors"] if gid is not None])
            pick = rng.choice(len(eligible), size=int(m.sum()), p=wts / wts.sum())
            doc[m] = [eligible[k][0] for k in pick]
            grp[m] = [eligible[k][1] for k in pick]
        missing = rng.random(n) < 0.004
        doc[missing] = None
        grp[missing] = None
        grouped = rng.random(n) >= 0.022
        weight = w[g]
        exp = ref_los[g] * LOS_FACTOR * (1 + LOS_TREND) ** self.years_since[di]
        charge_trend = (1 + CHARGE_TREND) ** self.years_since[di]
        charge = weight * RATE_PER_WEIGHT * charge_trend * np.power(np.maximum(los, 0.5) / exp, 0.35) \
            * rng.lognormal(-0.03, 0.25, n)
        charge = np.where(cases["day_surg"].to_numpy(), charge * 0.75, charge)
        shares = np.where(surgical[g][:, None], IP_SHARES_SURGICAL, IP_SHARES_MEDICAL)
        comp = np.empty((n, len(IP_CHARGE_COLS)))
        for flag, base in ((True, IP_SHARES_SURGICAL), (False, IP_SHARES_MEDICAL)):
            m = surgical[g] == flag
            comp[m] = _split(charge[m], base, rng, 55.0)
        del shares
        ins = rng.choice(["employee", "resident", "self_pay", "commercial", "other"], size=n,
                         p=[0.36, 0.46, 0.12, 0.02, 0.04])
        lvl_p = np.where(weight[:, None] < 1, [0.3, 0.45, 0.2, 0.05],
                         np.where(weight[:, None] < 2.5, [0.05, 0.25, 0.45, 0.25], [0.0, 0.05, 0.35, 0.6]))
        u = rng.random(n)[:, None]
        level = (u > np.cumsum(lvl_p, axis=1)).sum(axis=1) + 1
        level = np.where(surgical[g], np.minimum(level, 4), 0)
        died_p = _death_risk(weight)
        u = rng.random(n)
        status = np.where(u < died_p, "died", np.where(u < died_p + 0.015, "transfer",
                                                        np.where(u < died_p + 0.035, "against_advice", "home")))
        cases = cases.assign(doctor_id=doc, group_id=grp, drg_i=np.where(grouped, g, -1), weight=weight,
                             insurance_type=ins, surgery_level=level.astype(int), discharge_status=status)
        for k, col in enumerate(IP_CHARGE_COLS):
            cases[col] = comp[:, k]
        cases["pay_f"] = self.drg_pay[g]
        cases["cost_f"] = self.drg_cost[g] * cases["dept_id"].map(
            {c["dept_id"]: c["d"].cost_factor for c in self.clinical}).to_numpy()
        cases["exp_charge"] = weight * RATE_PER_WEIGHT * charge_trend
        self.cases = cases
        self.say(f"inpatient cases simulated: {n:,}")

    def _finish_cases(self) -> None:
        """Totals, payment and cost from the (possibly anomalous) charge components."""
        rng, cases = self.rng, self.cases
        n = len(cases)
        charge = _money(cases[IP_CHARGE_COLS].sum(axis=1).to_numpy())
        cases["charge_total"] = charge
        grouped = cases["drg_i"].to_numpy() >= 0
        pay = cases["weight"].to_numpy() * RATE_PER_WEIGHT * PAYMENT_RATE * cases["pay_f"].to_numpy() \
            * (1 + CHARGE_TREND) ** self.years_since[cases["di"].to_numpy()] * rng.normal(1, 0.015, n)
        outlier = charge > 3 * cases["exp_charge"].to_numpy()
        pay = np.where(outlier, charge * 0.85, pay)
        pay = np.where(grouped, pay, charge * 0.92)
        pay = np.where(cases["insurance_type"].isin(["self_pay"]).to_numpy(), charge, pay)
        cases["drg_payment"] = _money(pay)
        cost = charge * cases["cost_f"].to_numpy() * rng.lognormal(0, 0.05, n)
        c_drug = _money(cases["charge_drug"].to_numpy() * 0.995)
        c_mat = _money(cases["charge_material"].to_numpy() * 0.985)
        rest = np.maximum(cost - c_drug - c_mat, charge * 0.12)
        other = _split(rest, np.array([0.55, 0.15, 0.30]), rng, 80.0)
        cases["cost_personnel"], cases["cost_drug"], cases["cost_material"] = other[:, 0], c_drug, c_mat
        cases["cost_equipment"], cases["cost_overhead"] = other[:, 1], other[:, 2]
        cases["cost_total"] = _money(cases[COST_COLS].sum(axis=1).to_numpy())

    def census(self) -> None:
        """Ward daily facts derived from the cases, so occupancy and stays agree."""
        cases = self.cases
        di = cases["di"].to_numpy()
        adm = di - cases["los"].to_numpy()
        self.cases["adm_i"] = adm
        wards = self.t["dim_ward"]
        widx = {w: i for i, w in enumerate(wards["ward_id"])}
        wi = cases["ward_id"].map(widx).to_numpy()
        nd = len(self.days)
        occ = np.zeros((len(wards), nd + 1), dtype=np.int64)
        np.add.at(occ, (wi, adm), 1)
        np.add.at(occ, (wi, di), -1)
        occupied = np.cumsum(occ, axis=1)[:, :nd]
        admissions = np.zeros((len(wards), nd), dtype=np.int64)
        discharges = np.zeros((len(wards), nd), dtype=np.int64)
        np.add.at(admissions, (wi, adm), 1)
        np.add.at(discharges, (wi, di), 1)
        self.occupied = occupied
        self.ward_admissions, self.ward_discharges = admissions, discharges
        keep = np.where(self.fact_mask)[0]
        open_beds = self._published_beds(wards["open_beds"].to_numpy())
        self.t["fact_ward_daily"] = pd.DataFrame({
            "date": np.tile(self.days[keep], len(wards)),
            "ward_id": np.repeat(wards["ward_id"].to_numpy(), len(keep)),
            "open_beds": open_beds[:, keep].ravel(),
            "occupied_beds": occupied[:, keep].ravel(),
            "admissions": admissions[:, keep].ravel(),
            "discharges": discharges[:, keep].ravel(),
        })

    def _published_beds(self, planned: np.ndarray) -> np.ndarray:
        """Open beds per ward and day (see OPEN_BED_FACTOR); dim_ward and dim_department carry
        those of the last day with facts."""
        years = self.days.astype("datetime64[Y]").astype(int) + 1970
        factor = OPEN_BED_FACTOR * (1 + BED_GROWTH) ** np.minimum(years - self.through.year, 0)
        beds = np.maximum(np.round(planned[:, None] * factor[None, :]), 1).astype(np.int64)
        now = beds[:, self.day_index[self.through]]
        wards = self.t["dim_ward"]
        wards["open_beds"] = now
        per_dept = pd.Series(now, index=wards["dept_id"].to_numpy()).groupby(level=0).sum()
        depts = self.t["dim_department"]
        self.planned_beds = depts["open_beds"].to_numpy(dtype=float)  # the bed-linked costs stay on these
        depts["open_beds"] = depts["dept_id"].map(per_dept).fillna(0).astype(int)
        return beds

    def case_table(self) -> None:
        cases = self.cases
        keep = cases[(self.fact_mask[cases["di"].to_numpy()])].copy()
        keep = keep.sort_values(["di", "dept_id", "ward_id"], kind="stable").reset_index(drop=True)
        drg_codes = self.t["dim_drg"]["drg_code"].to_numpy()
        out = pd.DataFrame({
            "case_id": [f"IP{i + 1:08d}" for i in range(len(keep))],
            "campus_id": keep["campus_id"], "dept_id": keep["dept_id"], "ward_id": keep["ward_id"],
            "group_id": keep["group_id"], "doctor_id": keep["doctor_id"],
            "admit_date": self.days[keep["adm_i"].to_numpy()], "discharge_date": self.days[keep["di"].to_numpy()],
            "los_days": keep["los"].astype(int),
            "drg_code": np.where(keep["drg_i"] >= 0, drg_codes[np.maximum(keep["drg_i"].to_numpy(), 0)], None),
            "insurance_type": keep["insurance_type"], "surgery_level": keep["surgery_level"],
            "is_day_surgery": keep["day_surg"].astype(bool), "discharge_status": keep["discharge_status"],
            "charge_total": keep["charge_total"],
        })
        for col in IP_CHARGE_COLS:
            out[col] = keep[col].to_numpy()
        out["drg_payment"] = keep["drg_payment"].to_numpy()
        out["cost_total"] = keep["cost_total"].to_numpy()
        for col in COST_COLS:
            out[col] = keep[col].to_numpy()
        self.t["fact_inpatient_case"] = out
        self.case_g, self.case_di = keep["g"].to_numpy(), keep["di"].to_numpy()  # for contract version 2

    # ------------------------------------------------------------ outpatient
    def outpatients(self) -> None:
        rng = self.rng
        keep = np.where(self.fact_mask)[0]
        wd = self.weekday[keep]
        hol = self.is_holiday[keep]
        work = self.is_workday[keep]
        # Adjusted weekend workdays run like a Friday; holidays like a quiet Sunday.
        day_f = np.where(work, np.where(wd >= 5, OP_WEEKDAY[4], OP_WEEKDAY[wd]), OP_WEEKDAY[np.minimum(wd, 6)])
        day_f = np.where(hol, 0.28, np.where(~work & (wd < 5), OP_WEEKDAY[6], day_f)) * self.sf_op[keep]
        mean_f = day_f.mean()
        parts = []
        for c in self.clinical:
            d: cat.ClinicalDept = c["d"]
            season = MONTH_FACTOR[self.month[keep]] * (WINTER_FACTOR[self.month[keep]] if d.mdcs[0] in "ES" else 1)
            f = np.where(hol | (wd >= 5), 1.05, 1.0) if d.key == "emergency" else day_f / mean_f
            expected = VISITS_PER_YEAR * self.scale / 365.25 * c["op_share"] * f * season \
                * self._growth(c["campus"])[keep]
            docs = [(did, t) for did, _g, t in c["doctors"] if t != "resident"] or \
                [(did, t) for did, _g, t in c["doctors"]]
            nd = len(docs)
            # each doctor holds clinics on fixed weekdays; emergency doctors work shifts every day
            sessions = np.zeros((nd, 7), dtype=bool)
            for k, (_did, t) in enumerate(docs):
                per_week = {"chief": 2, "associate_chief": 3, "attending": 4, "resident": 4}[t]
                if d.key == "emergency":
                    sessions[k] = rng.random(7) < 0.45
                else:
                    sessions[k, rng.choice(6, size=per_week, replace=False)] = True
                    sessions[k, 6] = rng.random() < 0.15
            on = sessions[:, np.where(work & (wd >= 5), 4, wd)]  # adjusted workdays follow Friday's roster
            on &= ~(hol[None, :] & (rng.random((nd, len(keep))) < 0.7))
            on[0] |= ~on.any(axis=0)  # someone always sees patients
            share = on / on.sum(axis=0, keepdims=True)
            lam = 0.96 * expected[None, :] * share
            visits = rng.poisson(lam)
            er = rng.binomial(visits, d.er_share)
            unattributed = rng.poisson(0.04 * expected)
            doc_ids = np.array([x[0] for x in docs] + [None], dtype=object)
            v = np.vstack([visits, unattributed[None, :]])
            e = np.vstack([er, rng.binomial(unattributed, d.er_share)[None, :]])
            r, k = np.nonzero(v)
            parts.append(pd.DataFrame({"date": self.days[keep][k], "campus_id": c["campus"],
                                       "dept_id": c["dept_id"], "doctor_id": doc_ids[r],
                                       "visits": v[r, k], "emergency_visits": e[r, k],
                                       "charge": d.op_charge * (1 + 0.012) ** self.years_since[keep][k]}))
        op = pd.concat(parts, ignore_index=True)
        per_visit = op["charge"].to_numpy() * rng.lognormal(-0.003, 0.08, len(op))
        self.op = op.drop(columns=["charge"]).assign(per_visit=per_visit)
        self.say(f"outpatient rows simulated: {len(op):,}, visits {int(op['visits'].sum()):,}")

    def _finish_outpatients(self) -> None:
        op = self.op
        total = _money(op["visits"].to_numpy() * op["per_visit"].to_numpy())
        comp = _split(total, OP_SHARES, self.rng, 180.0)
        out = op[["date", "campus_id", "dept_id", "doctor_id", "visits", "emergency_visits"]].copy()
        out["revenue_total"] = _money(comp.sum(axis=1))
        for k, col in enumerate(OP_REV_COLS):
            out[col] = comp[:, k]
        self.t["fact_outpatient_daily"] = out.sort_values(["date", "dept_id"], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------- equipment
    def equipment(self) -> None:
        rng = self.rng
        keep = np.where(self.fact_mask)[0]
        days = self.days[keep]
        _wd, work, hol = self.weekday[keep], self.is_workday[keep], self.is_holiday[keep]
        parts = []
        self.idle: dict[str, tuple[int, int]] = {}
        for e in self.equip[:self.first_fleet]:
            weekend = 0.72 if e["category"] in ("CT", "MRI") else 0.35 if e["category"] == "DR" else 0.12
            f = np.where(work, 1.0, np.where(hol, 0.3, weekend))
            f = f * (1 + 0.03) ** self.years_since[keep]
            exams = rng.poisson(e["cap"] * e["util"] * f)
            live = days >= np.datetime64(e["bought"])
            parts.append(pd.DataFrame({"date": days[live], "equipment_id": e["id"], "exams": exams[live],
                                       "minutes": e["minutes"], "charge": e["charge"]}))
        self.eq_first_rows = int(sum(len(p) for p in parts))
        parts += self._fleet_use(days, work)
        eq = pd.concat(parts, ignore_index=True)
        self.eq = eq

    def _fleet_use(self, days: np.ndarray, work: np.ndarray) -> list[pd.DataFrame]:
        """Daily use of the devices beyond the first fleet (own random stream): a working day at the
        device's utilisation of its capacity, weekends and holidays at its weekend share, growing 3 % a
        year; devices that can do only a few a day (an operating room's robot, a ventilator's one
        patient) draw a binomial of their slots, the rest a Poisson count."""
        rng = self.eq_rng
        keep = np.where(self.fact_mask)[0]
        growth = (1 + 0.03) ** self.years_since[keep]
        parts = []
        for e in self.equip[self.first_fleet:]:
            live = days >= np.datetime64(e["bought"])
            f = np.where(work, 1.0, e["weekend"])
            # scaled so that exams ÷ (capacity × working days) comes out at the device's utilisation
            norm = work[live].sum() / max(f[live].sum(), 1e-9) if live.any() else 1.0
            lam = e["cap"] * e["util"] * norm * f * growth
            exams = rng.binomial(e["slots"], np.minimum(lam / e["slots"], 1.0)) if e["slots"] else rng.poisson(lam)
            parts.append(pd.DataFrame({"date": days[live], "equipment_id": e["id"], "exams": exams[live],
                                       "minutes": e["minutes"], "charge": e["charge"]}))
        return parts

    def _finish_equipment(self) -> None:
        eq, rng = self.eq, self.rng
        exams = eq["exams"].to_numpy()
        first = self.eq_first_rows
        rest = len(eq) - first
        # the first fleet's spread from the main stream (as it always was), the rest from its own
        spread_h = np.concatenate([rng.uniform(0.9, 1.1, first), self.eq_rng.uniform(0.9, 1.1, rest)])
        spread_r = np.concatenate([rng.uniform(0.96, 1.04, first), self.eq_rng.uniform(0.96, 1.04, rest)])
        hours = np.where(exams > 0, exams * eq["minutes"].to_numpy() / 60 * spread_h + 0.5, 0)
        self.t["fact_equipment_daily"] = pd.DataFrame({
            "date": eq["date"], "equipment_id": eq["equipment_id"], "exams": exams.astype(int),
            "hours_used": np.round(np.minimum(hours, 24), 2),
            "revenue": _money(exams * eq["charge"].to_numpy() * spread_r),
        })

    # --------------------------------------------------------- staff & costs
    def months(self) -> list[date]:
        out, m = [], self.fact_start
        while m <= self.through:
            nxt = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
            if nxt - timedelta(days=1) <= self.through:
                out.append(m)
            m = nxt
        return out

    def staff(self) -> None:
        rng = self.rng
        months = self.months()
        self.closed_months = months
        rows = []
        for c in self.clinical:
            n_doc = len(c["doctors"])
            mix = {"doctor": n_doc, "nurse": c["beds"] * 0.48 + n_doc * 0.2 + 2, "technician": n_doc * 0.06 + 0.5,
                   "admin": 1.0, "other": c["beds"] * 0.08 + 0.5}
            rows.append((c["dept_id"], c["campus"], mix, 1.0 if c["d"].cost_factor <= 1 else 1.08))
        for sdept in self.support:
            sd, staff = sdept["sd"], sdept["staff"]
            if sd.kind == "medtech":
                mix = {"doctor": staff * (0.5 if sd.key == "anesthesia" else 0.2),
                       "nurse": staff * (0.35 if sd.key == "anesthesia" else 0.08),
                       "technician": staff * (0.02 if sd.key == "pharmacy" else 0.62),
                       "pharmacist": staff * (0.85 if sd.key == "pharmacy" else 0.0), "admin": staff * 0.05}
            elif sd.kind == "support":
                mix = {"other": staff * 0.75, "admin": staff * 0.15, "technician": staff * 0.1}
            else:
                mix = {"admin": staff}
            rows.append((sdept["dept_id"], sdept["campus"], mix, 1.0))
        out = []
        pay_month = np.array([1.2, 0.95, 0.95, 0.97, 0.97, 1.0, 1.02, 0.97, 0.97, 0.97, 0.97, 1.3])
        for dept_id, campus, mix, pay_f in rows:
            for m in months:
                yrs = (m - date(self.through.year, 7, 1)).days / 365.25
                grow = (1 + (NEW_CAMPUS_GROWTH if campus == "C3" else VOLUME_GROWTH) * 0.6) ** yrs
                for cat_, fte in mix.items():
                    if fte <= 0:
                        continue
                    for etype, share in EMPLOYMENT:
                        f = round(fte * share * grow * rng.uniform(0.97, 1.03), 1)
                        if f <= 0:
                            continue
                        pay = f * MONTHLY_PAY[cat_] * pay_f * pay_month[m.month - 1] * (1 + PAY_TREND) ** yrs \
                            * (0.7 if etype in ("dispatched", "trainee") else 1.0) * rng.uniform(0.96, 1.04)
                        out.append((m, dept_id, cat_, etype, f, round(pay, 2)))
        self.t["fact_staff_monthly"] = pd.DataFrame(out, columns=[
            "month_start", "dept_id", "staff_category", "employment_type", "fte", "payroll_cost"])

    def costs(self) -> None:
        """Direct costs per department and month, then the three-tier step-down allocation."""
        rng = self.rng
        months = self.closed_months
        mindex = {m: i for i, m in enumerate(months)}
        depts = self.t["dim_department"]
        did = {d: i for i, d in enumerate(depts["dept_id"])}
        nd, nm, nc = len(depts), len(months), len(COST_CATEGORIES)
        cc = {c: i for i, c in enumerate(COST_CATEGORIES)}
        direct = np.zeros((nd, nm, nc))

        def month_idx(dates: pd.Series) -> np.ndarray:
            ms = pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp().dt.date
            return ms.map(lambda x: mindex.get(x, -1)).to_numpy()

        ip = self.t["fact_inpatient_case"]
        op = self.t["fact_outpatient_daily"]
        rev = np.zeros((nd, nm))
        drug = np.zeros((nd, nm))
        mat = np.zeros((nd, nm))
        for frame, total, dcol, mcol, dt in ((ip, "charge_total", "charge_drug", "charge_material", "discharge_date"),
                                             (op, "revenue_total", "revenue_drug", "revenue_material", "date")):
            mi = month_idx(frame[dt])
            ok = mi >= 0
            di = frame["dept_id"].map(did).to_numpy()
            np.add.at(rev, (di[ok], mi[ok]), frame[total].to_numpy()[ok])
            np.add.at(drug, (di[ok], mi[ok]), frame[dcol].to_numpy()[ok])
            np.add.at(mat, (di[ok], mi[ok]), frame[mcol].to_numpy()[ok])
        self.dept_revenue = rev
        st = self.t["fact_staff_monthly"]
        mi = st["month_start"].map(mindex).to_numpy()
        np.add.at(direct[:, :, cc["personnel"]], (st["dept_id"].map(did).to_numpy(), mi), st["payroll_cost"].to_numpy())
        direct[:, :, cc["drug"]] = drug * 0.995
        direct[:, :, cc["material"]] = mat * 0.985
        area = depts["floor_area_m2"].to_numpy(dtype=float)
        kind = depts["kind"].to_numpy()
        month_no = np.array([m.month for m in months])
        energy_season = np.array([1.25, 1.2, 1.0, 0.9, 0.95, 1.15, 1.4, 1.4, 1.1, 0.92, 1.0, 1.18])[month_no - 1]
        beds = self.planned_beds
        noise = lambda: rng.uniform(0.93, 1.07, (nd, nm))  # noqa: E731
        direct[:, :, cc["depreciation"]] = (area[:, None] * 38 + beds[:, None] * 900) * noise()
        direct[:, :, cc["amortization"]] = area[:, None] * 6 * noise()
        direct[:, :, cc["risk_fund"]] = rev * 0.01
        energy_intensity = np.where(kind == "medtech", 11.0, np.where(kind == "clinical", 7.5, 5.0))
        direct[:, :, cc["energy"]] = area[:, None] * energy_intensity[:, None] * energy_season[None, :] * noise()
        direct[:, :, cc["other"]] = (rev * 0.035 + area[:, None] * 9) * noise()
        # device depreciation within service life; medtech material use per exam
        eq = self.t["fact_equipment_daily"]
        emi = month_idx(eq["date"])
        ok = emi >= 0
        dim_eq = self.t["dim_equipment"].set_index("equipment_id")
        edept = eq["equipment_id"].map(dim_eq["dept_id"]).map(did).to_numpy()
        # a clinical department's device consumables are already in its material charges (zero mark-up)
        ok &= (kind[edept] != "clinical") | eq["equipment_id"].isin([e["id"] for e in self.equip[:self.first_fleet]])
        np.add.at(direct[:, :, cc["material"]], (edept[ok], emi[ok]), eq["revenue"].to_numpy()[ok] * 0.12)
        # the same consumables by the year each device was bought: the budget plans a purchase's consumables
        bought_year = eq["equipment_id"].map({e["id"]: e["bought"].year for e in self.equip}).to_numpy()
        self.device_material: dict[int, np.ndarray] = {}
        for y in np.unique(bought_year[ok]):
            sel = ok & (bought_year == y)
            arr = np.zeros((nd, nm))
            np.add.at(arr, (edept[sel], emi[sel]), eq["revenue"].to_numpy()[sel] * 0.12)
            self.device_material[int(y)] = arr
        for e in self.equip:
            for i, m in enumerate(months):
                age = (m - e["bought"]).days / 365.25
                if 0 <= age < e["life"]:
                    direct[did[e["dept_id"]], i, cc["depreciation"]] += e["price"] / e["life"] / 12
        self.direct = direct
        self.cost_ctx = (months, depts, did, cc)

    def _allocate(self) -> None:
        months, depts, did, cc = self.cost_ctx
        direct = self.direct
        nd, nm, nc = direct.shape
        cents = np.round(direct * 100).astype(np.int64)
        kind = depts["kind"].to_numpy()
        campus = depts["campus_id"].to_numpy()
        fte = self.t["fact_staff_monthly"].groupby("dept_id")["fte"].mean().reindex(depts["dept_id"]).fillna(1).to_numpy()
        area = depts["floor_area_m2"].to_numpy(dtype=float)
        stages = {"direct": cents.copy()}
        received = {s: np.zeros_like(cents) for s in ("admin", "support", "medtech")}
        for tier, receivers_kinds, basis in (("admin", ("support", "medtech", "clinical"), "fte"),
                                              ("support", ("medtech", "clinical"), "area"),
                                              ("medtech", ("clinical",), "revenue")):
            for cp in np.unique(campus):
                src = np.where((kind == tier) & (campus == cp))[0]
                dst = np.where(np.isin(kind, receivers_kinds) & (campus == cp))[0]
                if len(src) == 0 or len(dst) == 0:
                    continue
                pool = cents[src].sum(axis=0) + sum(received[t][src].sum(axis=0) for t in received if t != tier)
                for mi in range(nm):
                    if basis == "fte":
                        wts = fte[dst]
                    elif basis == "area":
                        wts = area[dst]
                    else:
                        wts = np.maximum(self.dept_revenue[dst, mi], 1.0)
                    share = wts / wts.sum()
                    for ci in range(nc):
                        total = int(pool[mi, ci])
                        alloc = np.floor(total * share).astype(np.int64)
                        alloc[np.argmax(share)] += total - int(alloc.sum())
                        received[tier][dst, mi, ci] += alloc
        stages.update(received)
        rows = []
        dept_ids = depts["dept_id"].to_numpy()
        for stage, arr in stages.items():
            d_i, m_i, c_i = np.nonzero(arr)
            rows.append(pd.DataFrame({"month_start": np.array(months, dtype=object)[m_i], "dept_id": dept_ids[d_i],
                                      "cost_category": np.array(COST_CATEGORIES)[c_i], "allocation_stage": stage,
                                      "amount": arr[d_i, m_i, c_i] / 100.0}))
        self.t["fact_dept_cost_monthly"] = pd.concat(rows, ignore_index=True).sort_values(
            ["month_start", "dept_id", "allocation_stage", "cost_category"], kind="stable").reset_index(drop=True)
        self.full_cost = sum(stages[s] for s in stages) / 100.0  # (dept, month, category)

    # ----------------------------------------------------------------- budget
    def budget(self) -> None:
        rng = self.rng
        months, depts, did, cc = self.cost_ctx
        kinds = depts["kind"].to_numpy()
        direct = self.direct
        items = {"B01": lambda d, m: direct[d, m, cc["personnel"]],
                 "B02": lambda d, m: direct[d, m, cc["drug"]],
                 "B03": lambda d, m: direct[d, m, cc["material"]],
                 "B06": lambda d, m: direct[d, m, cc["energy"]]}
        year_list = sorted({m.year for m in months} | {self.through.year})
        rows = []
        month_of = {(m.year, m.month): i for i, m in enumerate(months)}
        closed_last = months[-1] if months else None
        dim_eq = self.t["dim_equipment"]
        maint = dim_eq.groupby("dept_id")["annual_maintenance_cost"].sum()
        for d, dept_id in enumerate(depts["dept_id"]):
            kind = kinds[d]
            codes = ["B01", "B06", "B07", "B08", "B09"]
            if kind in ("clinical", "medtech"):
                codes += ["B02", "B03", "B05"]
            if kind == "medtech":
                codes += ["B04"]
            if kind == "clinical" and depts["campus_id"].iloc[d] == "C1":
                codes += ["B10"]
            if kind == "support":
                codes += ["B11"]
            scale_fte = max(direct[d, :, cc["personnel"]].mean() / 30_000, 1.0) if len(months) else 1.0
            for code in codes:
                actual = np.zeros(len(months))
                for i, _m in enumerate(months):
                    if code in items:
                        actual[i] = items[code](d, i)
                    elif code == "B05":
                        actual[i] = maint.get(dept_id, 0) / 12 * rng.uniform(0.3, 1.8) + scale_fte * 800
                    elif code == "B07":
                        actual[i] = scale_fte * 260 * rng.uniform(0.6, 1.5)
                    elif code == "B08":
                        actual[i] = scale_fte * 180 * rng.uniform(0.5, 1.6)
                    elif code == "B09":
                        actual[i] = scale_fte * 220 * rng.uniform(0.4, 1.7)
                plans: dict[int, float] = {}
                if code in LUMPY_ITEMS:  # capital and project items: a yearly plan spent in a few lumps
                    typical, (k_lo, k_hi) = LUMPY_ITEMS[code]
                    for y in year_list:
                        plans[y] = typical * max(self.scale, 0.05) ** 0.5 * rng.uniform(0.7, 1.3)
                        months_y = [month_of[(y, mo)] for mo in range(1, 13) if (y, mo) in month_of]
                        if not months_y:
                            continue
                        k = min(len(months_y), int(rng.integers(k_lo, k_hi + 1)))
                        chosen = rng.choice(months_y, size=k, replace=False)
                        spent = plans[y] * rng.uniform(0.8, 1.05) * len(months_y) / 12
                        actual[chosen] = spent * rng.dirichlet(np.ones(k))
                for y in year_list:
                    idx = [month_of.get((y, mo)) for mo in range(1, 13)]
                    ref = [month_of.get((y - 1, mo)) for mo in range(1, 13)]
                    # consumables of devices bought last year or this one are planned with their purchase,
                    # month by month; the rest of the line from the year before
                    planned = np.zeros(len(months))
                    if code == "B03":
                        planned = sum((self.device_material[k][d] for k in (y - 1, y) if k in self.device_material),
                                      start=np.zeros(len(months)))
                    actual_core = actual - planned
                    base_months = [i for i in ref if i is not None] or [i for i in idx if i is not None]
                    if not base_months:
                        continue
                    # a line that started within the base year (a new device's consumables) is planned
                    # from the months it ran, not averaged with the months before it existed
                    ran = [i for i in base_months if actual_core[i] > 0] or base_months
                    if y in plans:
                        annual = plans[y]
                    else:
                        annual = float(np.mean(actual_core[ran])) * 12 * (1.045 if ref[0] is not None else 1.0)
                        annual *= rng.uniform(0.97, 1.06)
                    monthly = [annual / 12 + (planned[i] * 1.05 if i is not None else 0.0) for i in idx]
                    if annual <= 0 and not planned.any():  # a new line: budgeted from the month it starts
                        now = [actual[i] if i is not None else 0.0 for i in idx]
                        active = [k for k, v in enumerate(now) if v > 0]
                        level = float(np.mean([now[k] for k in active])) * 1.05 if active else 0.0
                        monthly = [level if active and k >= active[0] else 0.0 for k in range(12)]
                    for mo in range(1, 13):
                        m = date(y, mo, 1)
                        if m < self.fact_start:
                            continue
                        i = idx[mo - 1]
                        executed = float(actual[i]) if i is not None else 0.0
                        if closed_last is not None and m > closed_last:
                            executed = 0.0
                        rows.append([m, dept_id, code, round(monthly[mo - 1], 2), round(executed, 2)])
        self.t["fact_budget_monthly"] = pd.DataFrame(rows, columns=[
            "month_start", "dept_id", "item_code", "budget_amount", "executed_amount"])

    # ---------------------------------------------------------------- targets
    def targets(self) -> None:
        """Annual targets of clinical departments, set from the year before (first year: its own)."""
        rng = self.rng
        ip = self.t["fact_inpatient_case"].assign(year=lambda f: pd.to_datetime(f["discharge_date"]).dt.year)
        op = self.t["fact_outpatient_daily"].assign(year=lambda f: pd.to_datetime(f["date"]).dt.year)
        drg_w = self.t["dim_drg"].set_index("drg_code")["weight"]
        ip = ip.assign(w=ip["drg_code"].map(drg_w))
        g_ip = ip.groupby(["dept_id", "year"]).agg(
            discharges=("case_id", "size"), los=("los_days", "sum"), charge=("charge_total", "sum"),
            drug=("charge_drug", "sum"), mat=("charge_material", "sum"), surg=("surgery_level", lambda s: (s > 0).sum()),
            l4=("surgery_level", lambda s: (s == 4).sum()), w=("w", "sum"), grouped=("drg_code", "count"))
        g_op = op.groupby(["dept_id", "year"]).agg(visits=("visits", "sum"), rev=("revenue_total", "sum"),
                                                   drug=("revenue_drug", "sum"), mat=("revenue_material", "sum"))
        cost = self.t["fact_dept_cost_monthly"].assign(year=lambda f: pd.to_datetime(f["month_start"]).dt.year)
        g_cost = cost.groupby(["dept_id", "year"]).agg(cost=("amount", "sum"), months=("month_start", "nunique"))
        rows = []
        years = sorted(set(ip["year"]) | set(op["year"]))
        for c in self.clinical:
            dep = c["dept_id"]
            surgical = c["d"].division == "surgical"
            for y in years:
                src = y - 1 if y - 1 in years else y
                up = 1.05 if src != y else 1.0

                def get(frame: pd.DataFrame, col: str, yy: int = src, dep: str = dep) -> float:
                    try:
                        return float(frame.loc[(dep, yy), col])
                    except KeyError:
                        return float("nan")

                visits, rev_op = get(g_op, "visits"), get(g_op, "rev")
                dis, rev_ip = get(g_ip, "discharges"), get(g_ip, "charge")
                rev = np.nansum([rev_op, rev_ip])
                drug = np.nansum([get(g_op, "drug"), get(g_ip, "drug")])
                mat = np.nansum([get(g_op, "mat"), get(g_ip, "mat")])
                months_cost = get(g_cost, "months")
                t = {"outpatient_visits": visits * up * rng.uniform(1.0, 1.05),
                     "revenue_total": rev * up * rng.uniform(1.0, 1.04)}
                if c["beds"]:
                    t["discharges"] = dis * up * rng.uniform(1.0, 1.05)
                    t["alos"] = get(g_ip, "los") / dis * rng.uniform(0.94, 0.99)
                    t["cmi"] = get(g_ip, "w") / get(g_ip, "grouped") * rng.uniform(1.0, 1.04)
                if rev > 0:
                    t["drug_share"] = drug / rev * rng.uniform(0.93, 0.99)
                    t["material_share"] = mat / rev * rng.uniform(0.93, 0.99)
                if surgical and c["beds"]:
                    t["surgeries"] = get(g_ip, "surg") * up * rng.uniform(1.0, 1.06)
                    t["level4_surgery_share"] = get(g_ip, "l4") / get(g_ip, "surg") * rng.uniform(1.0, 1.06)
                if months_cost == 12:
                    bal = rev - get(g_cost, "cost")
                    t["balance"] = max(bal * 1.05, 0.0) if bal > 0 else 0.0
                for code, value in t.items():
                    if value == value and math.isfinite(value):
                        rows.append((y, dep, code, round(float(value), 4)))
        self.t["fact_target_annual"] = pd.DataFrame(rows, columns=["year", "dept_id", "indicator_code", "target_value"])

    # ------------------------------------------------------------------- live
    # past days with intraday snapshots: the wall compares today with yesterday and last week, and,
    # once the feed is silent, the latest complete day with the day before and a week before it
    LIVE_HISTORY_DAYS = 8

    def live(self) -> None:
        """Intraday snapshots every 15 minutes: for the day after `through` up to `now`, and for the
        LIVE_HISTORY_DAYS days before it whole, as a feed that keeps its history would have them
        (the past days' curves rise to their daily facts). No random draw: other tables stay as they are."""
        cols = ["captured_at", "campus_id", "metric_code", "value"]
        today = self.through + timedelta(days=1)
        rows: list[tuple] = []
        if self.now.date() < today:
            self.t["fact_live_snapshot"] = pd.DataFrame(rows, columns=cols)
            return
        wards = self.t["dim_ward"].merge(self.t["dim_department"][["dept_id", "campus_id"]], on="dept_id")
        op = self.t["fact_outpatient_daily"]
        op_day = pd.to_datetime(op["date"]).dt.date
        recent = op[op_day >= self.through - timedelta(days=27)]
        recent = recent.assign(wd=pd.to_datetime(recent["date"]).dt.day_of_week)
        cases = self.cases
        fact_start = max(self.fact_start, today - timedelta(days=self.LIVE_HISTORY_DAYS))
        for k in range(self.LIVE_HISTORY_DAYS, -1, -1):
            day = today - timedelta(days=k)
            ti = self.day_index.get(day)
            if ti is None or day < fact_start and k > 0:
                continue
            if k == 0:  # today: the expected visits, from the last four same weekdays
                same = recent[recent["wd"] == int(self.weekday[ti])]
                visits = same.groupby(["campus_id", "date"])[["visits", "emergency_visits"]].sum().groupby(
                    "campus_id").mean()
                end = self.now if self.now.date() == today else datetime.combine(today, time(23, 45))
            else:  # a past day: its own daily facts
                visits = op[op_day == day].groupby("campus_id")[["visits", "emergency_visits"]].sum()
                end = datetime.combine(day, time(23, 45))
            surg = cases[(cases["di"] == ti) & (cases["surgery_level"] > 0)].groupby("campus_id").size()
            for cp in self.t["dim_campus"]["campus_id"]:
                w_i = np.where(wards["campus_id"].to_numpy() == cp)[0]
                if len(w_i) == 0:
                    continue
                adm = int(self.ward_admissions[w_i, ti].sum())
                dis = int(self.ward_discharges[w_i, ti].sum())
                census0 = int(self.occupied[w_i, ti].sum()) + dis - adm
                beds = int(wards["open_beds"].to_numpy()[w_i].sum())
                v = float(visits.loc[cp, "visits"]) if cp in visits.index else 0.0
                e = float(visits.loc[cp, "emergency_visits"]) if cp in visits.index else 0.0
                s_total = float(surg.get(cp, 0)) * 1.6
                base = DayBase(visits=v, emergency=e, admissions=adm, discharges=dis, surgeries=s_total,
                               census0=census0, beds=beds)
                t = datetime.combine(day, time(0, 0))
                while t <= end:
                    vals = intraday(t.hour + t.minute / 60, base)
                    rows += [(t, cp, m, float(val)) for m, val in vals.items()]
                    t += timedelta(minutes=15)
        self.t["fact_live_snapshot"] = pd.DataFrame(rows, columns=cols).sort_values(
            ["captured_at", "campus_id"], kind="stable").reset_index(drop=True)

    def meta(self) -> None:
        rows = []
        for k in range(30, -1, -1):
            through = self.through - timedelta(days=k)
            loaded = datetime.combine(through + timedelta(days=1), time(2, 15)) \
                + timedelta(minutes=int(self.rng.integers(0, 20)))
            if k == 0:
                loaded = min(loaded, self.now)
            rows.append((loaded, through, f"demo generator (seed {self.seed}, scale {self.scale})"))
        self.t["meta_load"] = pd.DataFrame(rows, columns=["loaded_at", "data_through", "source"])

    # ------------------------------------------------------ contract version 2
    def _stream(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, V2_STREAMS[name]])

    def contract_v2(self) -> None:
        """Contract version 2: DIP payment at one campus, the national appraisal's case flags, the
        insurance fund's share and reference values. Runs after every version 1 table is built; the
        DIP payments and the fund's shares are set by `_finish_v2` (after the anomalies, which may cut
        a point value)."""
        self._risk_levels()
        self._case_flags()
        self._dip()
        self._outpatient_fund()
        self._benchmarks()
        self.say(f"contract version 2: {len(self.t['dim_dip'])} DIP packets, "
                 f"{int((self.t['fact_inpatient_case']['payment_scheme'] == 'dip').sum()):,} DIP cases")

    def _risk_levels(self) -> None:
        """dim_drg.risk_level from the region's mortality model (`_death_risk`): the groups whose cases
        hardly ever die are low risk (低风险组), the heaviest and the intrinsically lethal ones high."""
        drg = self.t["dim_drg"]
        w = drg["weight"].to_numpy(dtype=float)
        adrg, sev = drg["adrg_code"], drg["drg_code"].str[-1]
        died = _death_risk(w)
        high = adrg.isin(cat.HIGH_RISK_ADRG).to_numpy() | (died >= 0.02)
        mid_high = (died > 0.002) | (sev == "1").to_numpy()
        low = (w <= 1.0) & sev.isin(["5", "9"]).to_numpy() & ~adrg.isin(cat.NOT_LOW_RISK_ADRG).to_numpy()
        drg["risk_level"] = np.where(high, "high", np.where(mid_high, "mid_high", np.where(low, "low", "mid_low")))

    def _case_flags(self) -> None:
        """Elective, minimally invasive, preoperative days, unplanned readmissions and surgical
        complications of every case, each from its own stream (one draw per case, whatever the case)."""
        ip = self.t["fact_inpatient_case"]
        n = len(ip)
        adrg = self.t["dim_drg"]["adrg_code"].to_numpy()[self.case_g]
        surgical = ip["surgery_level"].to_numpy() > 0
        day = ip["is_day_surgery"].to_numpy(dtype=bool)
        los = ip["los_days"].to_numpy()
        years = self.years_since[self.case_di]
        p = np.array([cat.ELECTIVE_SHARE.get(a, cat.ELECTIVE_DEFAULT) for a in adrg])
        elective = surgical & (day | (self._stream("elective").random(n) < p))
        p = np.array([cat.MINIMALLY_INVASIVE_SHARE.get(a, cat.MI_DEFAULT) for a in adrg])
        p = np.minimum(p * (1 + MI_TREND) ** years, 1.0)
        invasive = surgical & (self._stream("minimally_invasive").random(n) < p)
        rng = self._stream("preop")
        planned, urgent = rng.beta(2.6, 6.0, n), rng.beta(0.6, 9.0, n)  # share of the stay before the operation
        share = np.where(elective, planned, urgent) * (1 + PREOP_TREND) ** years
        preop = np.minimum(np.round(los * share), np.maximum(los - 1, 0)).astype(int)
        preop = np.where(day, 0, preop)
        key = ip["dept_id"].map({c["dept_id"]: c["d"].key for c in self.clinical}).to_numpy()
        p = np.array([cat.READMISSION_RATE.get(k, cat.READMISSION_DEFAULT) for k in key])
        p = p * (1 + READMISSION_TREND) ** years * np.where(day, DAY_SURGERY_READMISSION, 1.0)
        readmitted = self._stream("readmission").random(n) < p
        p = COMPLICATION_BY_LEVEL[ip["surgery_level"].to_numpy()] * np.where(day, DAY_SURGERY_COMPLICATION, 1.0)
        complication = surgical & (self._stream("complication").random(n) < p)
        ip["payment_scheme"] = None
        ip["dip_code"] = None
        ip["is_elective"] = elective
        ip["is_minimally_invasive"] = invasive
        days = np.empty(n, dtype=object)  # ints; None for a case without an operation
        days[surgical] = preop[surgical].tolist()
        ip["preop_days"] = days
        ip["is_unplanned_readmission_31d"] = readmitted
        ip["has_surgical_complication"] = complication
        ip["fund_payment"] = np.nan

    def _dip(self) -> None:
        """Payment schemes, the DIP packets and the point values (see catalog.DIP_CAMPUS)."""
        ip = self.t["fact_inpatient_case"]
        drg = self.t["dim_drg"]
        ins = ip["insurance_type"].to_numpy()
        insured = np.isin(ins, list(cat.DIP_POINT_VALUE))
        self.dip_from = date(max(self.through.year - cat.DIP_SWITCH_YEARS_BACK, self.fact_start.year), 1, 1)
        dip = insured & (ip["campus_id"].to_numpy() == cat.DIP_CAMPUS) \
            & (self.days[self.case_di] >= np.datetime64(self.dip_from))
        ip["payment_scheme"] = np.where(dip, "dip", np.where(insured, "drg", "fee_for_service"))
        # packets: a DRG group with enough DIP cases is a core packet, the rest are comprehensive packets of
        # their major diagnostic category, surgical or not
        g = self.case_g
        counts = np.bincount(g[dip], minlength=len(drg))
        core = counts >= cat.DIP_CORE_MIN_CASES
        codes = drg["drg_code"].to_numpy()
        comp = np.array([f"Z-{m}{'S' if s else 'M'}" for m, s in zip(drg["mdc_code"], drg["is_surgical"], strict=True)])
        packet_of = np.where(core, np.char.add("C-", codes.astype(str)), comp)
        ip["dip_code"] = np.where(dip, packet_of[g], None)
        # a packet's score: what the region's DRG payment would pay for its cases, in points
        expected = drg["weight"].to_numpy(dtype=float) * RATE_PER_WEIGHT * PAYMENT_RATE * self.drg_pay
        mix = cat.DIP_FUND_MIX
        point = sum(cat.DIP_POINT_VALUE[t] * mix[t] for t in mix) / sum(mix.values())
        per_point = point * cat.DIP_HOSPITAL_COEFFICIENT
        cases = pd.DataFrame({"code": packet_of[g[dip]], "g": g[dip]})
        cases["pay"] = expected[cases["g"]]
        cases["los"] = drg["ref_los_days"].to_numpy(dtype=float)[cases["g"]]
        cases["charge"] = drg["ref_charge_per_case"].to_numpy(dtype=float)[cases["g"]]
        packets = cases.groupby("code").agg(pay=("pay", "mean"), los=("los", "mean"), charge=("charge", "mean"),
                                            g=("g", "first")).sort_index()
        noise = self._stream("dip_score").uniform(*DIP_SCORE_NOISE, len(packets))
        rows = []
        for (code, r), f in zip(packets.iterrows(), noise, strict=True):
            if code.startswith("C-"):
                name_zh, name_en = drg["name_zh"].iloc[int(r["g"])], drg["name_en"].iloc[int(r["g"])]
            else:
                mdc_zh, mdc_en = cat.MDC[code[2]]
                surgical = code.endswith("S")
                name_zh = f"{mdc_zh}综合病种（{'手术' if surgical else '非手术'}）"
                name_en = f"{mdc_en}, comprehensive packet ({'surgical' if surgical else 'non-surgical'})"
            rows.append((code, name_zh, name_en, round(float(r["pay"] / per_point * f), 2), code.startswith("C-"),
                         round(float(r["los"]), 1), round(float(r["charge"]), 2)))
        self.t["dim_dip"] = pd.DataFrame(rows, columns=["dip_code", "name_zh", "name_en", "score", "is_core",
                                                        "ref_los_days", "ref_charge_per_case"])
        self.t["fact_dip_point_value"] = self._point_values()

    def _point_values(self) -> pd.DataFrame:
        """The region's monthly point-value estimates per fund, drifting down through a year as the
        hospitals' points outgrow the fund's budget, and each past year's final settlement a few per cent
        below the estimates; the current year has no final row yet."""
        rng = self._stream("dip_point")
        level = dict(cat.DIP_POINT_VALUE)
        coef = cat.DIP_HOSPITAL_COEFFICIENT
        rows = []
        for y in range(self.dip_from.year, self.through.year + 1):
            for fund in cat.DIP_POINT_VALUE:
                steps = rng.normal(*DIP_POINT_STEP, 12)
                steps[0] = 0.0
                estimate = level[fund] * np.exp(np.cumsum(steps))
                final, following = rng.uniform(*DIP_FINAL), rng.uniform(*DIP_NEXT_YEAR)
                months = 12 if y < self.through.year else self.through.month
                rows += [(y, m, fund, round(float(estimate[m - 1]), 4), coef, False) for m in range(1, months + 1)]
                if y < self.through.year:
                    settled = round(float(estimate.mean() * final), 4)
                    rows.append((y, None, fund, settled, coef, True))
                    level[fund] = settled * following
        out = pd.DataFrame(rows, columns=["year", "month", "insurance_type", "point_value", "hospital_coefficient",
                                          "is_final"])
        out["month"] = pd.Series([r[1] for r in rows], dtype=object)  # ints; None for the final settlement
        return out

    def _outpatient_fund(self) -> None:
        """revenue_fund: each department's fund share of its outpatient revenue, rising a little every year."""
        rng = self._stream("revenue_fund")
        op = self.t["fact_outpatient_daily"]
        base = dict(zip([c["dept_id"] for c in self.clinical], rng.uniform(*OUTPATIENT_FUND, len(self.clinical)),
                        strict=True))
        anchor = np.datetime64(date(self.through.year, 7, 1))
        years = (pd.to_datetime(op["date"]).to_numpy().astype("datetime64[D]") - anchor).astype(float) / 365.25
        share = op["dept_id"].map(base).to_numpy() + OUTPATIENT_FUND_TREND * years + rng.normal(0, 0.03, len(op))
        op["revenue_fund"] = _money(op["revenue_total"].to_numpy() * np.clip(share, 0.02, 0.9))

    def _benchmarks(self) -> None:
        """fact_benchmark: national and provincial medians and the hospital's targets (catalog.BENCHMARKS)."""
        rows = []
        for code, (national, drift, provincial, target, kind) in cat.BENCHMARKS.items():
            digits = 2 if code in ("alos", "preop_days", "nurses_per_doctor", "pharmacists_per_100_beds") \
                else 1 if code == "energy_per_10k_revenue" else 6
            src_nat, src_prov = cat.BENCH_SOURCES[kind]
            for y in range(self.fact_start.year, self.through.year + 1):
                value = national + drift * (y - cat.BENCH_YEAR)
                rows.append((code, y, "national_median", round(value, digits), src_nat.format(y=y)))
                rows.append((code, y, "provincial_median", round(value * provincial, digits), src_prov.format(y=y)))
                if target is not None:
                    rows.append((code, y, "target", round(target, digits), cat.BENCH_TARGET_SOURCE.format(y=y)))
        self.t["fact_benchmark"] = pd.DataFrame(rows, columns=["indicator_code", "year", "benchmark", "value",
                                                               "source"])

    def dip_payments(self) -> np.ndarray:
        """The payment of every DIP case as estimated at load time: its packet's score × the point-value
        estimate of its discharge month and fund × the hospital coefficient (NaN for other cases)."""
        ip = self.t["fact_inpatient_case"]
        pv = self.t["fact_dip_point_value"]
        est = pv[~pv["is_final"].to_numpy(dtype=bool)]
        rate = {(int(y), int(m), t): p * c for y, m, t, p, c in
                zip(est["year"], est["month"], est["insurance_type"], est["point_value"], est["hospital_coefficient"],
                    strict=True)}
        dip = (ip["payment_scheme"] == "dip").to_numpy()
        when = pd.to_datetime(ip.loc[dip, "discharge_date"])
        score = ip.loc[dip, "dip_code"].map(self.t["dim_dip"].set_index("dip_code")["score"]).to_numpy()
        per_point = np.array([rate[k] for k in zip(when.dt.year, when.dt.month, ip.loc[dip, "insurance_type"],
                                                    strict=True)])
        out = np.full(len(ip), np.nan)
        out[dip] = _money(score * per_point)
        return out

    def _finish_v2(self) -> None:
        """DIP payments (`dip_payments`) and the fund's part of every case's payment."""
        ip = self.t["fact_inpatient_case"]
        pay = self.dip_payments()
        dip = ~np.isnan(pay)
        ip.loc[dip, "drg_payment"] = pay[dip]
        rng = self._stream("fund")
        ins = ip["insurance_type"].to_numpy()
        share = np.zeros(len(ip))
        for fund, (mean, conc) in FUND_SHARE.items():
            draw = rng.beta(mean * conc, (1 - mean) * conc, len(ip))
            share = np.where(ins == fund, draw, share)
        ip["fund_payment"] = _money(ip["drg_payment"].to_numpy() * share)


def generate(scale: float = 1.0, years: int = 5, seed: int = 42, through: date | None = None,
             now: datetime | None = None, progress: Progress | None = None, anomalies: bool = True,
             placement: str = "fixed", defects: bool = False) -> DemoData:
    """Build the demo hospital in memory; deterministic for (scale, years, seed, through, now, placement).
    `anomalies=False` gives a clean hospital (for checking that the detector stays quiet);
    `placement="random"` draws every anomaly's month and size at random (for evaluating the detector)."""
    if placement not in ("fixed", "random"):
        raise ValueError(f"placement is fixed or random, not {placement!r}")
    from .anomalies import (
        inject_budget_anomalies,
        inject_case_anomalies,
        inject_cost_anomalies,
        inject_daily_anomalies,
        inject_v2_anomalies,
    )

    now = now or datetime.now().replace(second=0, microsecond=0)
    through = through or (now.date() - timedelta(days=1))
    g = _Generator(scale, years, seed, through, now, progress)
    g.placement = placement
    g.calendar()
    g.structure()
    g.inpatients()
    if anomalies:
        inject_case_anomalies(g)
    g._finish_cases()
    g.census()
    g.case_table()
    g.outpatients()
    g.equipment()
    if anomalies:
        inject_daily_anomalies(g)
    g._finish_outpatients()
    g._finish_equipment()
    g.staff()
    g.costs()
    if anomalies:
        inject_cost_anomalies(g)
    g._allocate()
    g.budget()
    if anomalies:
        inject_budget_anomalies(g)
    g.targets()
    g.live()
    g.meta()
    g.contract_v2()  # after every version 1 table, from its own random streams
    if anomalies:
        inject_v2_anomalies(g)
    g._finish_v2()
    injected: list[dict] = []
    if defects:  # after every table is final: what a night's load gets wrong
        from .defects import inject_defects

        injected = inject_defects(g.t, through, seed)
    params = {"scale": scale, "years": years, "seed": seed, "placement": placement if anomalies else "none",
              "through": through.isoformat(),
              "now": now.isoformat(timespec="minutes")}
    if defects:
        params["defects"] = True
    return DemoData(tables=g.t, anomalies=g.anomalies, params=params, defects=injected)
