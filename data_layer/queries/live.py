"""Intraday figures for the wall display, with their fallback to the latest complete day."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, extract, func, or_, select, true

from ..errors import UserError
from ..periods import Period, as_datetime, check_within
from ..registry import Level
from ..schema import fact_live_snapshot
from ..scope import Scope, scoped
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .beds import census_by_campus, census_by_department
from .kpis import values_of_periods

live = fact_live_snapshot.c

LIVE_METRICS = ("outpatient_visits_today", "emergency_visits_today", "inpatients_now", "admissions_today",
                "discharges_today", "surgeries_today", "beds_available")
LIVE_TICK_SECONDS = 15  # live rows are re-read at most this often (they change without a meta_load row)
# the registry indicator that gives each live metric for a whole day
DAILY_CODES = {"outpatient_visits_today": "outpatient_visits", "emergency_visits_today": "emergency_visits",
               "admissions_today": "admissions", "discharges_today": "discharges",
               "surgeries_today": "surgeries", "inpatients_now": "bed_days"}


@memoized(ttl=2 * LIVE_TICK_SECONDS)  # the key moves every tick: old ticks need not linger in the cache
def live_rows(wh: Warehouse, scope: Scope, since: datetime, until: datetime | None = None) -> pd.DataFrame:
    """The newest snapshot since `since` of each metric per campus the scope covers.

    Columns: campus_id, metric_code, value, captured_at. Live figures are campus-wide, so a
    scope narrower than a campus sees none. `since` is part of the cache key: callers round it
    to LIVE_TICK_SECONDS so that the rows are re-read that often. `until` (the wall's "now")
    leaves out rows captured after it.
    """
    cols = ["campus_id", "metric_code", "value", "captured_at"]
    if not scope.covers_whole_campuses:
        return pd.DataFrame(columns=cols)
    df = wh.frame(_newest_stmt(scope, since, until, by_hour=False).order_by(None).order_by(
        live.campus_id, live.metric_code))
    df["value"] = pd.to_numeric(df["value"]).astype(float)
    df["captured_at"] = pd.to_datetime(df["captured_at"])
    # two rows captured at the same instant (a feed that wrote twice in one second): keep one
    return df.drop_duplicates(["campus_id", "metric_code"], keep="last")[cols].reset_index(drop=True)


@dataclass(frozen=True)
class CurrentFigures:
    """What the wall shows as 'today': live snapshots, or the latest complete day."""

    values: dict[str, float]
    source: str  # "live": snapshots; "day": the latest complete day; "none": neither
    as_of: datetime | date | None
    silent_since: datetime | None = None  # the newest live row, when the feed went quiet
    by_campus: pd.DataFrame = field(default_factory=pd.DataFrame)
    open_beds: float = float("nan")  # open beds of the latest ward day, the census's denominator


def _tick(moment: datetime) -> datetime:
    seconds = int(moment.timestamp()) // LIVE_TICK_SECONDS * LIVE_TICK_SECONDS
    return datetime.fromtimestamp(seconds)


def current_figures(wh: Warehouse, scope: Scope, campuses: list[str], now: datetime,
                    max_age: timedelta) -> CurrentFigures:
    """Live figures when every campus in `campuses` has a snapshot of every metric no older
    than `max_age`; otherwise the latest complete day (`meta_load.data_through`) from the facts,
    with the time of the newest live row, if any, so the page can say the feed went quiet."""
    rows = live_rows(wh, scope, _tick(now - max_age - timedelta(days=1)), _tick(now) + timedelta(seconds=LIVE_TICK_SECONDS - 1))
    fresh_rows = rows[rows["captured_at"] >= pd.Timestamp(now - max_age)] if not rows.empty else rows
    covered = fresh_rows.groupby("campus_id")["metric_code"].nunique() if not fresh_rows.empty else pd.Series()
    day = wh.freshness().data_through
    if campuses and all(covered.get(c, 0) == len(LIVE_METRICS) for c in campuses):
        per, beds = _beds_from_census(wh, scope, fresh_rows, day)
        totals = per.groupby("metric_code")["value"].sum()
        return CurrentFigures({m: float(totals.get(m, float("nan"))) for m in LIVE_METRICS}, "live",
                              fresh_rows["captured_at"].min().to_pydatetime(), by_campus=per, open_beds=beds)
    silent = rows["captured_at"].max().to_pydatetime() if not rows.empty else None
    if day is None:
        return CurrentFigures({}, "none", None, silent)
    per_campus = latest_day(wh, scope, day)
    totals = per_campus.groupby("metric_code")["value"].sum()
    beds = float(census_by_campus(census_by_department(wh, scope, day))["open_beds"].sum())
    return CurrentFigures({m: float(totals.get(m, 0.0)) for m in LIVE_METRICS}, "day", day, silent, per_campus, beds)


def _beds_from_census(wh: Warehouse, scope: Scope, rows: pd.DataFrame, day: date | None) -> tuple[pd.DataFrame, float]:
    """Live rows with beds_available recomputed as open beds (of the latest ward day) less the
    live inpatients, so that it agrees with occupancy and turns negative for extra beds (加床);
    a feed's own figure, which stops at 0, is replaced. Without a ward day the rows stay as fed."""
    if day is None:
        return rows, float("nan")
    beds = census_by_campus(census_by_department(wh, scope, day)).set_index("campus_id")["open_beds"]
    inpatients = rows[rows["metric_code"] == "inpatients_now"].set_index("campus_id")["value"]
    out = rows.copy()
    mask = out["metric_code"] == "beds_available"
    known = out["campus_id"].isin(beds.index) & out["campus_id"].isin(inpatients.index)
    out.loc[mask & known, "value"] = [float(beds[c] - inpatients[c]) for c in out.loc[mask & known, "campus_id"]]
    return out, float(beds.reindex(rows["campus_id"].unique()).sum())


WEEK = timedelta(days=7)


def latest_day(wh: Warehouse, scope: Scope, day: date) -> pd.DataFrame:
    """The live metrics for one whole day per campus, from the daily facts: the day's visits,
    admissions, discharges and surgeries; inpatients = occupied beds that day; beds available =
    open beds that day less those, negative when extra beds (加床) are in use.
    Columns: campus_id, metric_code, value. Read with the same weekday a week earlier
    (day_and_week_before), which the campus screen sets beside it."""
    fresh = wh.freshness()
    check_within(Period(day, day), fresh.first_date, fresh.data_through)  # outside the data: why, before any read
    return day_and_week_before(wh, scope, day)[0]


@memoized
def day_and_week_before(wh: Warehouse, scope: Scope, day: date) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """latest_day of `day` and of the same weekday a week earlier, each source read once for both
    (the campus screen without a live feed shows the one against the other); None for a day
    outside the data."""
    codes = tuple(dict.fromkeys(DAILY_CODES.values()))
    days = (day, day - WEEK)
    got = values_of_periods(wh, scope, codes, tuple(Period(d, d) for d in days), Level.campus, Filters(), None)
    return tuple(None if isinstance(df, UserError) else _day_rows(wh, scope, d, df)  # type: ignore[return-value]
                 for d, df in zip(days, got, strict=True))


def _day_rows(wh: Warehouse, scope: Scope, day: date, df: pd.DataFrame) -> pd.DataFrame:
    """latest_day's rows from the day's indicator values (`df`) and its census."""
    # (campus, indicator) -> value; an indicator no campus has a value of counts 0 (as a missing one)
    counted = {c for c, v in zip(df["indicator"], df["value"], strict=True) if v == v}
    values = {(k, c): float(v) for k, c, v in zip(df["key"], df["indicator"], df["value"], strict=True) if c in counted}
    census = census_by_campus(census_by_department(wh, scope, day))
    rows = []
    for campus, open_beds, occupied in zip(census["campus_id"], census["open_beds"], census["occupied"], strict=True):
        vals = {metric: values.get((campus, code), 0.0) for metric, code in DAILY_CODES.items()}
        vals["inpatients_now"] = float(occupied)
        vals["beds_available"] = float(open_beds - occupied)
        rows += [(campus, m, vals[m]) for m in LIVE_METRICS]
    return pd.DataFrame(rows, columns=["campus_id", "metric_code", "value"])


def _newest_stmt(scope: Scope, since: datetime, until: datetime | None, by_hour: bool,
                 more: Sequence[tuple[datetime, datetime]] = ()):
    """The newest snapshot per campus and metric (and day and hour, if asked) within [since, until]
    and each further window of `more`."""
    keys = [live.campus_id, live.metric_code]
    if by_hour:
        keys += [extract("day", live.captured_at).label("day"), extract("hour", live.captured_at).label("hour")]
    windows = [and_(live.captured_at >= since, live.captured_at <= until if until is not None else true())]
    windows += [and_(live.captured_at >= a, live.captured_at <= b) for a, b in more]
    newest = scoped(select(*keys, func.max(live.captured_at).label("at")).where(or_(*windows)),
                    scope).group_by(*keys).subquery()
    return (select(live.campus_id, live.metric_code, live.value, live.captured_at)
            .join(newest, and_(live.campus_id == newest.c.campus_id, live.metric_code == newest.c.metric_code,
                               live.captured_at == newest.c.at))
            .order_by(live.captured_at, live.campus_id, live.metric_code))


@memoized(ttl=2 * LIVE_TICK_SECONDS)
def figures_at(wh: Warehouse, scope: Scope, at: datetime) -> dict[str, float]:
    """The live metrics as they stood at `at` (the newest snapshot of that day up to then, added
    over the scope's campuses): today so far, or the same hour yesterday or last week. A metric
    with no snapshot that day is missing. Live figures are campus-wide: a narrower scope gets {}."""
    if not scope.covers_whole_campuses:
        return {}
    start = datetime.combine(at.date(), datetime.min.time())
    df = wh.frame(_newest_stmt(scope, start, at, by_hour=False))
    if df.empty:
        return {}
    df["value"] = pd.to_numeric(df["value"]).astype(float)
    df = df.drop_duplicates(["campus_id", "metric_code"], keep="last")
    return {m: float(v) for m, v in df.groupby("metric_code")["value"].sum().items()}


def day_curve(wh: Warehouse, scope: Scope, day: date, until: datetime) -> pd.DataFrame:
    """The intraday curve of `day` up to `until`: per hour of the day, the newest snapshot of each
    campus and metric within that hour, added over campuses. Columns: metric_code, at (the time of
    the newest row added), hours (its time of day in hours), value. Empty without live rows."""
    curves = day_curves(wh, scope, (day,), until)
    return curves.drop(columns="day").reset_index(drop=True)


@memoized(ttl=2 * LIVE_TICK_SECONDS)
def day_curves(wh: Warehouse, scope: Scope, days: tuple[date, ...], until: datetime) -> pd.DataFrame:
    """`day_curve` of each of `days` (each up to `until`: whole, for a day before it) in one read,
    as the campus screen draws today against yesterday and a week ago. The days lie within four
    weeks of each other (an hour's newest row is found per day of the month). Columns: day,
    metric_code, at, hours, value; the days in the order given."""
    cols = ["day", "metric_code", "at", "hours", "value"]
    if days and (max(days) - min(days)).days >= 28:
        raise ValueError("day_curves reads days within four weeks of each other")
    windows = []
    for day in days:
        start = datetime.combine(day, datetime.min.time())
        end = min(until, start + timedelta(days=1) - timedelta(microseconds=1))
        if end >= start:
            windows.append((start, end))
    if not scope.covers_whole_campuses or not windows:
        return pd.DataFrame(columns=cols)
    _names, rows = wh.rows(_newest_stmt(scope, *windows[0], by_hour=True, more=windows[1:]))
    if not rows:
        return pd.DataFrame(columns=cols)
    # a few hundred rows (campuses x metrics x hours x days): plain Python, not a dozen pandas steps
    newest: dict[tuple, tuple[datetime, float]] = {}  # (campus, metric, day, hour) -> its newest row
    for campus, metric, value, captured in rows:  # in the order of their time: the last one is the newest
        at = as_datetime(captured)
        newest[(campus, metric, at.date(), at.hour)] = (at, float("nan") if value is None else float(value))
    hours: dict[tuple, list] = {}  # (day, metric, hour) -> [value added over campuses, newest time]
    for (_campus, metric, day, hour), (at, value) in newest.items():
        got = hours.setdefault((day, metric, hour), [0.0, at])
        if value == value:  # a missing value adds nothing, as pandas' sum
            got[0] += value
        got[1] = max(got[1], at)
    order = {d: i for i, d in enumerate(days)}
    keyed = sorted(((order.get(day, len(order)), metric, (at - datetime.combine(day, datetime.min.time()))
                     .total_seconds() / 3600, day, at, value) for (day, metric, _h), (value, at) in hours.items()),
                   key=lambda r: r[:3])
    return pd.DataFrame({"day": [r[3] for r in keyed], "metric_code": [r[1] for r in keyed],
                         "at": pd.to_datetime([r[4] for r in keyed]), "hours": [r[2] for r in keyed],
                         "value": [r[5] for r in keyed]}, columns=cols)
