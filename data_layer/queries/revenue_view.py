"""The revenue drill-down's frames, for one place (a `DrillPath`), stream and period: the place's own
figures this period, the previous one and a year ago; its revenue structure; the members of the
level below side by side. Built from the scoped queries of data_layer/queries/revenue.py."""
from __future__ import annotations

import pandas as pd

from ..periods import Period
from ..scope import Scope
from ..warehouse import Warehouse, memoized
from .kpis import comparison_periods
from .revenue import OP_PARTS, PARTS, UNASSIGNED, DrillPath, combine, members, names, ratio, totals

WHEN = ("this", "previous", "year_ago")


def periods(wh: Warehouse, per: Period) -> tuple[Period, Period, Period]:
    """(this period, the previous one, the same a year ago), within the data."""
    return comparison_periods(per, wh.freshness().data_through)


def change(value: float, base: float) -> float:
    """The relative change on `base` (NaN without a base)."""
    return (value - base) / abs(base) if base == base and base else float("nan")


def parts_of(stream: str) -> tuple[str, ...]:
    """The revenue items a stream has."""
    return {"outpatient": OP_PARTS, "bed": ("bed",)}.get(stream, PARTS)


@memoized
def place_totals(wh: Warehouse, scope: Scope, path: DrillPath, stream: str, per: Period) -> dict[str, pd.Series]:
    """The place's own figures (Σ over the level below, or the doctor's row at the rows level) for
    this period, the previous one and a year ago ("this", "previous", "year_ago"), each combined
    for the stream."""
    target = path if path.level != "rows" else DrillPath(path.dept, path.by, path.ward, path.group)
    out = {}
    for name, p in zip(WHEN, periods(wh, per), strict=True):
        df = members(wh, scope, p, stream, target)
        if path.level == "rows":
            df = df[df["key"] == path.doctor]
        out[name] = combine(totals(df).to_frame().T.reset_index(drop=True), stream).iloc[0]
    return out


def structure_frame(wh: Warehouse, scope: Scope, path: DrillPath, stream: str, per: Period) -> pd.DataFrame:
    """Per revenue item (`part`): this period, previous, a year ago, share, share change, YoY, MoM, and
    the amount per case, per bed-day (inpatient portion) and per visit (outpatient portion)."""
    tot = place_totals(wh, scope, path, stream, per)
    now, prev, ago = tot["this"], tot["previous"], tot["year_ago"]
    rows = []
    for p in parts_of(stream):
        v, pv, av = float(now[p]), float(prev[p]), float(ago[p])
        share = ratio(v, float(now["total"]))
        share_ago = ratio(av, float(ago["total"]))
        rows.append({"part": p, "this": v, "previous": pv, "year_ago": av, "share": share,
                     "share_yoy": share - share_ago, "yoy": change(v, av), "mom": change(v, pv),
                     "per_case": ratio(float(now[f"ipx_{p}"]), float(now["cases"])),
                     "per_bed_day": ratio(float(now[f"ipx_{p}"]), float(now["bed_days"])),
                     "per_visit": ratio(float(now[f"opx_{p}"]), float(now["visits"]))})
    return pd.DataFrame(rows)


def level_frame(wh: Warehouse, scope: Scope, path: DrillPath, stream: str, per: Period) -> pd.DataFrame:
    """One row per member of the level below: key, name_zh, name_en (None for the unassigned member),
    the stream's revenue and its parts, share, YoY, MoM, volumes and the normalised figures; the
    biggest first, "unassigned" last."""
    cur, prv, ago = periods(wh, per)
    now = combine(members(wh, scope, cur, stream, path), stream)
    before = combine(members(wh, scope, prv, stream, path), stream)[["key", "total"]]
    year = combine(members(wh, scope, ago, stream, path), stream)[["key", "total"]]
    df = now.merge(before.rename(columns={"total": "previous"}), on="key", how="left") \
        .merge(year.rename(columns={"total": "year_ago"}), on="key", how="left")
    grand = df["total"].sum()
    df["share"] = df["total"] / grand if grand else float("nan")
    df["yoy"] = [change(v, b) for v, b in zip(df["total"], df["year_ago"].fillna(float("nan")), strict=True)]
    df["mom"] = [change(v, b) for v, b in zip(df["total"], df["previous"].fillna(float("nan")), strict=True)]
    df["drug_share"] = ratio(df["drug"], df["total"])
    df["material_share"] = ratio(df["material"], df["total"])
    known = names(wh, scope, path.level, path.dept)[["key", "name_zh", "name_en"]]
    df = df.merge(known, on="key", how="left")
    for col in ("name_zh", "name_en"):  # a member without a name shows its key (the unassigned one: None)
        df[col] = [None if k == UNASSIGNED else (n if isinstance(n, str) else k) for k, n in zip(df["key"], df[col],
                                                                                                 strict=True)]
    df["_last"] = df["key"] == UNASSIGNED
    df = df.sort_values(["_last", "total", "key"], ascending=[True, False, True], kind="stable")
    return df.drop(columns="_last").reset_index(drop=True)


def level_total(df: pd.DataFrame) -> dict[str, float]:
    """The level's Σ line: sums of the amounts and volumes, and the ratios recomputed from the sums."""
    sums = df[["total", "op_value", "ip_value", "visits", "cases", "bed_days", "drug", "material"]].sum()
    return {"total": sums["total"], "share": 1.0 if sums["total"] else float("nan"),
            "yoy": change(sums["total"], df["year_ago"].fillna(0).sum()),
            "mom": change(sums["total"], df["previous"].fillna(0).sum()),
            "op_value": sums["op_value"], "ip_value": sums["ip_value"], "visits": sums["visits"],
            "per_visit": ratio(sums["op_value"], sums["visits"]), "cases": sums["cases"], "bed_days": sums["bed_days"],
            "per_case": ratio(sums["ip_value"], sums["cases"]), "per_bed_day": ratio(sums["ip_value"], sums["bed_days"]),
            "drug_share": ratio(sums["drug"], sums["total"]), "material_share": ratio(sums["material"], sums["total"])}
