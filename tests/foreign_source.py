"""A small hospital source database in its own shape, not the contract's: what a real site's HIS,
EMR front sheet (病案首页), HRP and DRG settlement tables look like, with pinyin field names, their own
department codes in three systems and a code table (科室对照) that maps them.

Three months (2026-08 .. 2026-10), four clinical departments, a medtech and an admin department, about
three hundred discharges with their HIS charge detail (their own charge item codes), per-case cost
from HRP, department costs with a step-down allocation, outpatient visits, daily ward reports, an ETL
job log and a holiday table. `write_foreign_source(engine)` writes it and returns the rows (pandas),
so a test can compute the indicators from the source's own rows. docs/mapping-example.yaml maps it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Column, Date, DateTime, Engine, Integer, MetaData, Numeric, String, Table

START, END = date(2026, 8, 1), date(2026, 10, 31)
S, N = String(40), Numeric(12, 2)

# (HIS code, name, type 1 临床 2 医技 3 行政, 内/外科 1/2, beds, area, EMR code, HRP cost centre)
DEPTS = [
    ("0101", "心血管内科", "1", "1", 40, 1200.0, "N01", "CB11"),
    ("0102", "消化内科", "1", "1", 36, 1000.0, "N02", "CB12"),
    ("0201", "普通外科", "1", "2", 44, 1300.0, "W01", "CB21"),
    ("0202", "骨科", "1", "2", 38, 1100.0, "W02", "CB22"),
    ("0501", "放射科", "2", None, 0, 800.0, "F01", "CB51"),
    ("0801", "院办", "3", None, 0, 300.0, "X01", "CB81"),
]
CLINICAL = [d for d in DEPTS if d[2] == "1"]
STANDARD = {d[0]: f"K{d[0]}" for d in DEPTS}  # the contract dept_id the hospital chose: K + HIS code
# their charge items: code, name, category (费用类别: 01 西药 02 中成药 03 中草药 04 卫生材料 05 检查 06 化验
# 07 治疗 08 手术 09 护理 10 床位 99 其他)
ITEMS = [("X0001", "阿莫西林", "01"), ("X0002", "复方丹参滴丸", "02"), ("X0003", "中药饮片", "03"),
         ("C0001", "一次性注射器", "04"), ("C0002", "骨科植入物", "04"), ("J0001", "CT平扫", "05"),
         ("H0001", "血常规", "06"), ("Z0001", "静脉输液", "07"), ("S0001", "阑尾切除术", "08"),
         ("S0002", "关节置换术", "08"), ("L0001", "二级护理", "09"), ("B0001", "普通床位费", "10"),
         ("Q0001", "取暖费", "99")]
DRGS = [("FM19", "经皮心血管操作", 1.8, "1", 7.0, 30000.0), ("FR23", "心力衰竭", 1.0, "0", 9.0, 15000.0),
        ("GB13", "胃肠大手术", 2.2, "1", 12.0, 38000.0), ("GS13", "胃肠出血", 0.8, "0", 7.5, 11000.0),
        ("IC29", "髋膝关节置换", 2.5, "1", 11.0, 55000.0), ("IR13", "骨折保守治疗", 0.7, "0", 8.0, 9000.0)]
DEPT_DRGS = {"0101": ["FM19", "FR23"], "0102": ["GS13"], "0201": ["GB13", "GS13"], "0202": ["IC29", "IR13"]}


def _tables(md: MetaData) -> dict[str, Table]:
    def t(name: str, *cols: Column) -> Table:
        return Table(name, md, *cols)

    return {
        "ks_dm": t("ks_dm", Column("KSDM", S), Column("KSMC", S), Column("KSLX", S), Column("NWK", S),
                   Column("CWS", Integer), Column("MJ", N), Column("SFYX", Integer)),
        "dm_ksdz": t("dm_ksdz", Column("XTBM", S), Column("YSDM", S), Column("BZDM", S)),
        "bq_dm": t("bq_dm", Column("BQDM", S), Column("BQMC", S), Column("KSDM", S), Column("CWS", Integer)),
        "ry_ys": t("ry_ys", Column("GH", S), Column("XM", S), Column("KSDM", S), Column("ZC", S)),
        "drg_fzmx": t("drg_fzmx", Column("DRGBM", S), Column("DRGMC", S), Column("QZ", Numeric(8, 4)),
                      Column("SFSS", S), Column("BGPJZYR", Numeric(8, 2)), Column("BGCJFY", N)),
        "basy": t("basy", Column("BAH", S), Column("ZYCS", Integer), Column("ZYH", S), Column("RYSJ", DateTime),
                  Column("CYSJ", DateTime), Column("RYKB", S), Column("CYKB", S), Column("CYBF", S),
                  Column("ZZYSGH", S), Column("ZYZD", S), Column("SSJCZBM", S), Column("SSJB", Integer),
                  Column("RJSS", S), Column("YBLX", S), Column("LYFS", S), Column("ZFY", N), Column("YPF", N),
                  Column("HCF", N)),
        "his_sfxm": t("his_sfxm", Column("SFXMDM", S), Column("XMMC", S), Column("FYLB", S)),
        "his_fymx": t("his_fymx", Column("MXID", Integer), Column("ZYH", S), Column("SFXMDM", S),
                      Column("JE", N), Column("FYRQ", Date)),
        "hrp_blcb": t("hrp_blcb", Column("ZYH", S), Column("RYCB", N), Column("YPCB", N), Column("CLCB", N),
                      Column("SBCB", N), Column("GLCB", N)),
        "yb_drgjs": t("yb_drgjs", Column("ZYH", S), Column("DRGBM", S), Column("JSJE", N), Column("JJZF", N)),
        "mz_jzjl": t("mz_jzjl", Column("JZLSH", S), Column("JZSJ", DateTime), Column("KSDM", S), Column("YSGH", S),
                     Column("JZLX", S), Column("ZJE", N), Column("YPF", N), Column("CLF", N), Column("JCF", N),
                     Column("HYF", N), Column("ZLF", N), Column("QTF", N)),
        "bq_rb": t("bq_rb", Column("RQ", Date), Column("BQDM", S), Column("SYCW", Integer), Column("ZYRS", Integer),
                   Column("RYRS", Integer), Column("CYRS", Integer)),
        "hrp_kscb": t("hrp_kscb", Column("KJQJ", S), Column("CBZX", S), Column("CBXM", S), Column("FTJB", S),
                      Column("JE", N)),
        "dm_jjr": t("dm_jjr", Column("RQ", Date), Column("MC", S), Column("SFGZR", Integer)),
        "etl_rz": t("etl_rz", Column("RWMC", S), Column("JSSJ", DateTime), Column("SJJZRQ", Date), Column("ZT", S)),
    }


def _money(x: float) -> float:
    return round(float(x), 2)


def foreign_rows(seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    out: dict[str, list[dict]] = {k: [] for k in _tables(MetaData())}
    for code, name, kind, nwk, beds, area, emr, hrp in DEPTS:
        out["ks_dm"].append({"KSDM": code, "KSMC": name, "KSLX": kind, "NWK": nwk, "CWS": beds, "MJ": area,
                             "SFYX": 1})
        for system, own in (("HIS", code), ("EMR", emr), ("HRP", hrp)):
            out["dm_ksdz"].append({"XTBM": system, "YSDM": own, "BZDM": STANDARD[code]})
    out["ks_dm"].append({"KSDM": "0999", "KSMC": "已撤销科室", "KSLX": "1", "NWK": "1", "CWS": 0, "MJ": 0.0,
                         "SFYX": 0})  # a department closed years ago: filtered out by the mapping
    doctors: dict[str, list[str]] = {}
    for i, (code, *_rest) in enumerate(CLINICAL):
        ward = f"BQ{code}"
        out["bq_dm"].append({"BQDM": ward, "BQMC": f"{_rest[0]}病区", "KSDM": code, "CWS": _rest[3]})
        doctors[code] = []
        for j, zc in enumerate(("231", "232", "233", "234")):
            gh = f"{i + 1}{j + 1:03d}"
            doctors[code].append(gh)
            out["ry_ys"].append({"GH": gh, "XM": f"医生{gh}", "KSDM": code, "ZC": zc})
    out["ry_ys"].append({"GH": "9001", "XM": "放射医生", "KSDM": "0501", "ZC": "233"})
    for code, name, weight, surgical, los, charge in DRGS:
        out["drg_fzmx"].append({"DRGBM": code, "DRGMC": name, "QZ": weight, "SFSS": surgical, "BGPJZYR": los,
                                "BGCJFY": charge})
    for code, name, cat in ITEMS:
        out["his_sfxm"].append({"SFXMDM": code, "XMMC": name, "FYLB": cat})
    by_cat: dict[str, list[str]] = {}
    for code, _, cat in ITEMS:
        by_cat.setdefault(cat, []).append(code)
    days = (END - START).days + 1
    detail_id = 0
    n_cases = 300
    for k in range(n_cases):
        dept = CLINICAL[k % len(CLINICAL)]
        code = dept[0]
        discharge = START + timedelta(days=int(rng.integers(0, days)))
        los = int(rng.integers(0, 15))
        admit = discharge - timedelta(days=los)
        zyh = f"ZY{k + 1:05d}"
        drg = None if rng.random() < 0.08 else str(rng.choice(DEPT_DRGS[code]))
        surgical = drg is not None and drg in ("FM19", "GB13", "IC29")
        parts = {}
        for cat in by_cat:
            base = {"01": 900, "02": 300, "03": 150, "04": 1500 if surgical else 200, "05": 500, "06": 400,
                    "07": 600, "08": 5000 if surgical else 0, "09": 80 * (los + 1), "10": 60 * (los + 1),
                    "99": 20}[cat]
            parts[cat] = _money(base * rng.uniform(0.5, 1.5)) if base else 0.0
        lines = []
        for cat, amount in parts.items():
            if amount <= 0:
                continue
            # split across one or two items of the category (a real detail table has many lines)
            first = _money(amount * rng.uniform(0.3, 0.7)) if len(by_cat[cat]) > 1 else amount
            lines.append((by_cat[cat][0], first))
            if amount - first > 0.004:
                lines.append((by_cat[cat][-1], _money(amount - first)))
        for item, je in lines:
            detail_id += 1
            out["his_fymx"].append({"MXID": detail_id, "ZYH": zyh, "SFXMDM": item, "JE": je, "FYRQ": discharge})
        total = _money(sum(je for _, je in lines))
        drug = _money(sum(je for item, je in lines if item[0] == "X"))
        material = _money(sum(je for item, je in lines if item[0] == "C"))
        yblx = str(rng.choice(["1", "2", "3", "4", "9"], p=[0.45, 0.35, 0.12, 0.05, 0.03]))
        lyfs = str(rng.choice(["1", "2", "3", "4", "5", "9"], p=[0.86, 0.04, 0.03, 0.03, 0.02, 0.02]))
        doc = doctors[code][int(rng.integers(0, 4))]
        out["basy"].append({
            "BAH": f"{100000 + k // 2}", "ZYCS": 1 + k % 2, "ZYH": zyh,
            "RYSJ": datetime.combine(admit, time(int(rng.integers(7, 20)), int(rng.integers(0, 60)))),
            "CYSJ": datetime.combine(discharge, time(int(rng.integers(8, 17)), int(rng.integers(0, 60)))),
            "RYKB": dept[6], "CYKB": dept[6], "CYBF": f"BQ{code}", "ZZYSGH": doc,
            "ZYZD": "I50.900" if code == "0101" else "K92.200", "SSJCZBM": "81.5100" if surgical else None,
            "SSJB": int(rng.integers(2, 5)) if surgical else None, "RJSS": "1" if surgical and los == 0 else "0",
            "YBLX": yblx, "LYFS": lyfs, "ZFY": total, "YPF": drug, "HCF": material})
        cost = [_money(total * f * rng.uniform(0.8, 1.1)) for f in (0.3, 0.25, 0.15, 0.1, 0.1)]
        out["hrp_blcb"].append({"ZYH": zyh, "RYCB": cost[0], "YPCB": cost[1], "CLCB": cost[2], "SBCB": cost[3],
                                "GLCB": cost[4]})
        if drg is not None and yblx != "3":
            pay = _money(total * rng.uniform(0.85, 1.1))
            out["yb_drgjs"].append({"ZYH": zyh, "DRGBM": drg, "JSJE": pay, "JJZF": _money(pay * 0.7)})
    visit = 0
    for d in range(days):
        day = START + timedelta(days=d)
        for code, *_ in CLINICAL:
            for gh in doctors[code][:3]:
                for _ in range(int(rng.integers(1, 5))):
                    visit += 1
                    p = [_money(x) for x in (rng.uniform(20, 200), rng.uniform(0, 60), rng.uniform(0, 150),
                                             rng.uniform(0, 90), rng.uniform(0, 80), rng.uniform(0, 20))]
                    out["mz_jzjl"].append({
                        "JZLSH": f"MZ{visit:06d}", "JZSJ": datetime.combine(day, time(8 + visit % 9, visit % 60)),
                        "KSDM": code, "YSGH": gh, "JZLX": "2" if rng.random() < 0.1 else "1", "ZJE": _money(sum(p)),
                        "YPF": p[0], "CLF": p[1], "JCF": p[2], "HYF": p[3], "ZLF": p[4], "QTF": p[5]})
            beds = next(x[4] for x in DEPTS if x[0] == code)
            out["bq_rb"].append({"RQ": day, "BQDM": f"BQ{code}", "SYCW": beds,
                                 "ZYRS": int(beds * rng.uniform(0.75, 1.05)), "RYRS": int(rng.integers(0, 6)),
                                 "CYRS": int(rng.integers(0, 6))})
    # department costs: each department's own (direct, 0) rows, and the admin department's cost
    # allocated to the clinical departments (行政后勤, 1) in proportion to beds
    items = ["01", "02", "03", "04", "07"]
    for month in (8, 9, 10):
        kjqj = f"2026{month:02d}"
        admin_total = 0.0
        for _code, _n, kind, _w, _beds, _a, _e, hrp in DEPTS:
            for item in items:
                je = _money(rng.uniform(25_000, 55_000) if kind == "1" else rng.uniform(4_000, 12_000))
                out["hrp_kscb"].append({"KJQJ": kjqj, "CBZX": hrp, "CBXM": item, "FTJB": "0", "JE": je})
                if kind != "1":
                    admin_total += je
        beds_total = sum(d[4] for d in CLINICAL)
        shares = [_money(admin_total * d[4] / beds_total) for d in CLINICAL]
        shares[-1] = _money(admin_total - sum(shares[:-1]))
        for d, share in zip(CLINICAL, shares, strict=True):
            out["hrp_kscb"].append({"KJQJ": kjqj, "CBZX": d[7], "CBXM": "07", "FTJB": "1", "JE": share})
    for d in range(7):
        out["dm_jjr"].append({"RQ": date(2026, 10, 1) + timedelta(days=d), "MC": "国庆节", "SFGZR": 0})
    out["dm_jjr"].append({"RQ": date(2026, 9, 27), "MC": "国庆节调休", "SFGZR": 1})
    out["etl_rz"] += [
        {"RWMC": "夜间抽取", "JSSJ": datetime(2026, 10, 31, 3, 10), "SJJZRQ": date(2026, 10, 30), "ZT": "成功"},
        {"RWMC": "夜间抽取", "JSSJ": datetime(2026, 11, 1, 3, 12), "SJJZRQ": END, "ZT": "成功"},
        {"RWMC": "夜间抽取", "JSSJ": datetime(2026, 11, 2, 3, 40), "SJJZRQ": date(2026, 11, 1), "ZT": "失败"},
    ]
    return {k: pd.DataFrame(v, columns=[c.name for c in _tables(MetaData())[k].columns]) for k, v in out.items()}


def write_foreign_source(engine: Engine, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Write the source tables into `engine` (replacing them); returns their rows."""
    md = MetaData()
    tables = _tables(md)
    rows = foreign_rows(seed)
    md.drop_all(engine)
    md.create_all(engine)
    with engine.begin() as conn:
        for name, table in tables.items():
            df = rows[name]
            records = [{k: _plain(v) for k, v in r.items()} for r in df.astype(object).to_dict("records")]
            if records:
                conn.execute(table.insert(), records)
    return rows


def _plain(v):  # noqa: ANN001, ANN202
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v.item() if isinstance(v, np.generic) else v
