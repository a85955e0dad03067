"""Intraday figures for the wall display, with their fallback to the latest complete day."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, select

from ..periods import Period
from ..registry import Level
from ..schema import dim_department, fact_live_snapshot
from ..scope import Scope
from ..warehouse import Warehouse, memoized
from .kpis import indicator_values
from .structure import departments

live = fact_live_snapshot.c

LIVE_METRICS = ("outpatient_visits_today", "emergency_visits_today", "inpatients_now", "admissions_today",
                "discharges_today", "surgeries_today", "beds_available")
LIVE_TICK_SECONDS = 15  # live rows are re-read at most this often (they change without a meta_load row)
# the registry indicator that gives each live metric for a whole day
DAILY_CODES = {"outpatient_visits_today": "outpatient_visits", "emergency_visits_today": "emergency_visits",
               "admissions_today": "admissions", "discharges_today": "discharges",
               "surgeries_today": "surgeries", "inpatients_now": "bed_days"}


@memoized(ttl=2 * LIVE_TICK_SECONDS)  # the key moves every tick: old ticks need not linger in the cache
def live_rows(wh: Warehouse, scope: Scope, since: datetime) -> pd.DataFrame:
    """The newest snapshot since `since` of each metric per campus the scope covers.

    Columns: campus_id, metric_code, value, captured_at. Live figures are campus-wide, so a
    scope narrower than a campus sees none. `since` is part of the cache key: callers round it
    to LIVE_TICK_SECONDS so that the rows are re-read that often.
    """
    cols = ["campus_id", "metric_code", "value", "captured_at"]
    if not scope.covers_whole_campuses:
        return pd.DataFrame(columns=cols)
    campuses = select(dim_department.c.campus_id).where(scope.clause())
    newest = (select(live.campus_id, live.metric_code, func.max(live.captured_at).label("at"))
              .where(live.campus_id.in_(campuses), live.captured_at >= since)
              .group_by(live.campus_id, live.metric_code).subquery())
    stmt = (select(live.campus_id, live.metric_code, live.value, live.captured_at)
            .join(newest, and_(live.campus_id == newest.c.campus_id, live.metric_code == newest.c.metric_code,
                               live.captured_at == newest.c.at))
            .order_by(live.campus_id, live.metric_code))
    df = wh.frame(stmt)
    df["value"] = pd.to_numeric(df["value"]).astype(float)
    df["captured_at"] = pd.to_datetime(df["captured_at"])
    return df[cols]


@dataclass(frozen=True)
class CurrentFigures:
    """What the wall shows as 'today': live snapshots, or the latest complete day."""

    values: dict[str, float]
    source: str  # "live": snapshots; "day": the latest complete day; "none": neither
    as_of: datetime | date | None
    silent_since: datetime | None = None  # the newest live row, when the feed went quiet
    by_campus: pd.DataFrame = field(default_factory=pd.DataFrame)


def _tick(moment: datetime) -> datetime:
    seconds = int(moment.timestamp()) // LIVE_TICK_SECONDS * LIVE_TICK_SECONDS
    return datetime.fromtimestamp(seconds)


def current_figures(wh: Warehouse, scope: Scope, campuses: list[str], now: datetime,
                    max_age: timedelta) -> CurrentFigures:
    """Live figures when every campus in `campuses` has a snapshot of every metric no older
    than `max_age`; otherwise the latest complete day (`meta_load.data_through`) from the facts,
    with the time of the newest live row, if any, so the page can say the feed went quiet."""
    rows = live_rows(wh, scope, _tick(now - max_age - timedelta(days=1)))
    fresh_rows = rows[rows["captured_at"] >= pd.Timestamp(now - max_age)] if not rows.empty else rows
    covered = fresh_rows.groupby("campus_id")["metric_code"].nunique() if not fresh_rows.empty else pd.Series()
    if campuses and all(covered.get(c, 0) == len(LIVE_METRICS) for c in campuses):
        totals = fresh_rows.groupby("metric_code")["value"].sum()
        return CurrentFigures({m: float(totals.get(m, float("nan"))) for m in LIVE_METRICS}, "live",
                              fresh_rows["captured_at"].min().to_pydatetime(), by_campus=fresh_rows)
    silent = rows["captured_at"].max().to_pydatetime() if not rows.empty else None
    day = wh.freshness().data_through
    if day is None:
        return CurrentFigures({}, "none", None, silent)
    per_campus = latest_day(wh, scope, day)
    totals = per_campus.groupby("metric_code")["value"].sum()
    return CurrentFigures({m: float(totals.get(m, 0.0)) for m in LIVE_METRICS}, "day", day, silent, per_campus)


@memoized
def latest_day(wh: Warehouse, scope: Scope, day: date) -> pd.DataFrame:
    """The live metrics for one whole day per campus, from the daily facts: the day's visits,
    admissions, discharges and surgeries; inpatients = occupied beds that day; beds available =
    open beds less those. Columns: campus_id, metric_code, value."""
    codes = tuple(dict.fromkeys(DAILY_CODES.values()))
    df = indicator_values(wh, scope, codes, Period(day, day), Level.campus)
    wide = df.pivot_table(index="key", columns="indicator", values="value") if not df.empty else pd.DataFrame()
    beds = departments(wh, scope).groupby("campus_id")["open_beds"].sum()
    rows = []
    for campus in beds.index:
        got = wide.loc[campus] if campus in wide.index else pd.Series(dtype=float)
        vals = {metric: float(got.get(code, 0.0)) for metric, code in DAILY_CODES.items()}
        vals["beds_available"] = max(float(beds[campus]) - vals["inpatients_now"], 0.0)
        rows += [(campus, m, vals[m]) for m in LIVE_METRICS]
    return pd.DataFrame(rows, columns=["campus_id", "metric_code", "value"])
