"""The live feed: intraday curves for the wall's 'today' figures, and a simulator that appends
snapshots to a warehouse every few seconds so that a demo wall visibly moves.

`python -m data_layer demo live --url URL` runs the simulator. DuckDB admits no writer while
another process (the dashboard) has the file open, so the simulator needs a warehouse on
SQLite, PostgreSQL or MariaDB to run beside a serving dashboard.
"""
from __future__ import annotations

import logging
import time as systime
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert

from ..engine import backend_name, make_engine, translate_errors
from ..errors import UserError
from ..periods import Period
from ..registry import Level
from ..schema import fact_live_snapshot
from ..scope import Scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayBase:
    """One campus's expected day: whole-day volumes, the census at midnight, open beds."""

    visits: float
    emergency: float
    admissions: float
    discharges: float
    surgeries: float
    census0: float
    beds: float


def intraday(hour: float, b: DayBase) -> dict[str, float]:
    """The live metrics at `hour` (0–24) of a day: clinics open 7:30–17:00, emergencies come
    all day (and count among the outpatient and emergency visits, as `visits` does), admissions
    8–18, discharges 9–15, surgeries 8–17; inpatients follow."""
    op = float(np.clip((hour - 7.5) / 9.5, 0, 1)) ** 0.8
    adm = round(b.admissions * float(np.clip((hour - 8) / 10, 0, 1)))
    dis = round(b.discharges * float(np.clip((hour - 9) / 6, 0, 1)))
    inpatients = round(b.census0) + adm - dis
    emergency = round(b.emergency * hour / 24)
    # 门急诊人次, as the registry's outpatient visits: clinic visits in clinic hours, emergencies all day
    return {"outpatient_visits_today": round(max(b.visits - b.emergency, 0.0) * op) + emergency,
            "emergency_visits_today": emergency,
            "inpatients_now": inpatients, "admissions_today": adm, "discharges_today": dis,
            "surgeries_today": round(b.surgeries * float(np.clip((hour - 8) / 9, 0, 1))),
            "beds_available": max(round(b.beds) - inpatients, 0)}


def day_bases(url: str, today: date) -> dict[str, DayBase]:
    """Each campus's expected day, from the warehouse: visits from the last four same weekdays,
    admissions, discharges and surgeries from the last 28 days, the census of the last day."""
    from ..queries.kpis import indicator_values
    from ..queries.structure import departments
    from ..warehouse import Warehouse

    wh = Warehouse(url)
    try:
        last = wh.freshness().data_through
        if last is None:
            raise UserError("the warehouse has no meta_load row: load data (or build the demo) first")
        scope = Scope.hospital()
        window = Period(last - timedelta(days=27), last)
        codes = ("outpatient_visits", "emergency_visits", "admissions", "discharges", "surgeries")
        daily = indicator_values(wh, scope, codes, window, Level.campus, grain="day")
        daily = daily.assign(day=pd.to_datetime(daily["period_start"]))
        same_wd = daily[daily["day"].dt.day_of_week == today.weekday()]
        mean_same = same_wd.pivot_table(index="key", columns="indicator", values="value", aggfunc="mean")
        mean_all = daily.pivot_table(index="key", columns="indicator", values="value", aggfunc="mean")
        census = indicator_values(wh, scope, ("bed_days",), Period(last, last), Level.campus)
        census = dict(zip(census["key"], census["value"], strict=True))
        beds = departments(wh, scope).groupby("campus_id")["open_beds"].sum()
    finally:
        wh.engine.dispose()

    def pick(frame: pd.DataFrame, campus: str, code: str) -> float:
        return float(frame.loc[campus, code]) if campus in frame.index and code in frame.columns else 0.0

    out = {}
    for campus in beds.index:
        out[campus] = DayBase(
            visits=pick(mean_same, campus, "outpatient_visits"), emergency=pick(mean_same, campus, "emergency_visits"),
            admissions=pick(mean_all, campus, "admissions"), discharges=pick(mean_all, campus, "discharges"),
            surgeries=pick(mean_all, campus, "surgeries"), census0=float(census.get(campus, 0.0)),
            beds=float(beds[campus]))
    return out


def snapshot_rows(bases: dict[str, DayBase], moment: datetime) -> list[dict]:
    hour = moment.hour + moment.minute / 60 + moment.second / 3600
    return [{"captured_at": moment, "campus_id": campus, "metric_code": metric, "value": float(value)}
            for campus, base in sorted(bases.items()) for metric, value in intraday(hour, base).items()]


def _writer(url: str) -> Engine:
    if backend_name(url) == "duckdb":
        raise UserError("DuckDB allows no writer while the dashboard has the file open: run the live feed against a "
                        "warehouse on SQLite, PostgreSQL or MariaDB (docs/leadership-screens.md says how)")
    return make_engine(url)


def run_live(url: str, *, interval: float = 5.0, speed: float = 1.0, count: int | None = None,
             start: datetime | None = None, say: Callable[[str], None] = print) -> int:
    """Append one snapshot per campus and metric every `interval` seconds; `speed` runs the
    simulated clock faster than the wall clock (60 = one minute a second). Returns rows written."""
    if interval <= 0 or speed <= 0:
        raise UserError("interval and speed must be positive")
    engine = _writer(url)
    began, sim0 = systime.monotonic(), (start or datetime.now()).replace(microsecond=0)
    bases: dict[str, DayBase] = {}
    based_on: date | None = None
    written = ticks = 0
    try:
        while count is None or ticks < count:
            moment = sim0 + timedelta(seconds=round((systime.monotonic() - began) * speed))
            if moment.date() != based_on:  # a new day starts from that day's expectations
                bases, based_on = day_bases(url, moment.date()), moment.date()
            rows = snapshot_rows(bases, moment)
            with translate_errors(url), engine.begin() as conn:
                conn.execute(insert(fact_live_snapshot), rows)
            written += len(rows)
            ticks += 1
            visits = sum(r["value"] for r in rows if r["metric_code"] == "outpatient_visits_today")
            say(f"{moment:%Y-%m-%d %H:%M:%S} wrote {len(rows)} rows ({len(bases)} campuses; "
                f"outpatient visits so far {visits:,.0f})")
            if count is None or ticks < count:
                systime.sleep(interval)
    finally:
        engine.dispose()
    return written
