"""Periods (day, week, month, quarter, year, custom range) and their comparison periods."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from .errors import UserError

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")
PeriodKind = Literal["day", "week", "month", "quarter", "year", "custom"]

PERIODS = ("ytd", "mtd", "last-month", "last-quarter", "last-year")  # the named periods every picker offers

PERIOD_HELP = (
    "use YYYY (year), YYYY-Qn (quarter), YYYY-MM (month), YYYY-Www (ISO week), YYYY-MM-DD (day), "
    "START..END (custom range of days), or one of: latest, mtd, ytd, last-month, last-quarter, last-year"
)


def as_date(v: object) -> date | None:
    """A date from what a driver returns for a DATE column: a date, a datetime, an ISO string; None
    for None."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def as_datetime(v: object) -> datetime | None:
    """A datetime from what a driver returns for a TIMESTAMP column: a datetime, an ISO string (SQLite);
    None for None."""
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


CALENDAR_COLUMNS = ("year", "quarter", "month", "month_start", "iso_year", "iso_week", "weekday")


def calendar_parts(d: date) -> tuple[int, int, int, date, int, int, int]:
    """dim_date's calendar columns of a day (CALENDAR_COLUMNS): year, quarter, month, month_start, iso_year, iso_week,
    weekday (ISO, Monday 1). The demo, `map apply` and the validator agree on them here."""
    iso = d.isocalendar()
    return d.year, (d.month - 1) // 3 + 1, d.month, d.replace(day=1), iso[0], iso[1], iso[2]


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def shift_year(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


@dataclass(frozen=True)
class Period:
    """A closed range of days [start, end] and how it was named."""

    start: date
    end: date
    kind: PeriodKind = "custom"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise UserError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "year":
            return f"{s.year}"
        if self.kind == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "week":
            iso = s.isocalendar()
            return f"{iso[0]}-W{iso[1]:02d}"
        if self.kind == "day":
            return s.isoformat()
        return f"{s.isoformat()}..{self.end.isoformat()}"

    def previous(self) -> Period:
        """The period just before, of the same kind (month-on-month for a month)."""
        if self.kind == "day":
            return Period(self.start - timedelta(days=1), self.start - timedelta(days=1), "day")
        if self.kind == "week":
            return Period(self.start - timedelta(days=7), self.end - timedelta(days=7), "week")
        if self.kind in ("month", "quarter", "year"):
            n = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            start = add_months(self.start, -n)
            end = month_end(add_months(self.start, -1))
            if self.end != month_end(add_months(self.start, n - 1)):
                # a period to date (a quarter or year may stop at the end of an inner month): the
                # same span of the previous one, never the whole of it
                end = month_end(add_months(self.end, -n)) if self.end == month_end(self.end) \
                    else add_months(self.end, -n)
            return Period(start, end, self.kind)
        if self.start.day == 1 and (self.end == month_end(self.end) or self.end.month == self.start.month):
            # a month-aligned custom range (such as month to date): the same days a month earlier
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            start = add_months(self.start, -months)
            end = month_end(add_months(self.end, -months)) if self.end == month_end(self.end) \
                else add_months(self.end, -months)
            return Period(start, end, "custom")
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), "custom")

    def year_ago(self) -> Period:
        """The same period one year earlier (same ISO week for a week)."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            try:
                start = date.fromisocalendar(iso[0] - 1, iso[1], 1)
            except ValueError:
                start = date.fromisocalendar(iso[0] - 1, 52, 1)
            return Period(start, start + timedelta(days=6), "week")
        end = shift_year(self.end, -1)
        if self.end == month_end(self.end):
            end = month_end(end)
        return replace(self, start=shift_year(self.start, -1), end=end)


def to_date(month_start: date, through: date) -> Period | None:
    """The month that starts on `month_start` as far as the data goes, when `through` falls
    inside it before its last day (an incomplete month, drawn and compared as such); else None."""
    if month_start <= through < month_end(month_start):
        return Period(month_start, through, "custom")
    return None


def parse_period(text: str, data_through: date | None = None) -> Period:
    """Parse a period name; relative names count from the last day with data."""
    t = (text or "").strip().lower()
    anchor = data_through or date.today()
    try:
        if t in ("latest", "yesterday", "today"):
            return Period(anchor, anchor, "day")
        if t == "mtd":
            return Period(anchor.replace(day=1), anchor, "custom")
        if t == "ytd":
            return Period(anchor.replace(month=1, day=1), anchor, "custom")
        if t == "last-month":
            first = add_months(anchor.replace(day=1), -1)
            return Period(first, month_end(first), "month")
        if t == "last-quarter":
            q_start = date(anchor.year, 3 * ((anchor.month - 1) // 3) + 1, 1)
            first = add_months(q_start, -3)
            return Period(first, month_end(add_months(first, 2)), "quarter")
        if t == "last-year":
            return Period(date(anchor.year - 1, 1, 1), date(anchor.year - 1, 12, 31), "year")
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m[1])
            return Period(date(y, 1, 1), date(y, 12, 31), "year")
        if m := re.fullmatch(r"(\d{4})-?q([1-4])", t):
            y, q = int(m[1]), int(m[2])
            first = date(y, 3 * q - 2, 1)
            return Period(first, month_end(add_months(first, 2)), "quarter")
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
            first = date(int(m[1]), int(m[2]), 1)
            return Period(first, month_end(first), "month")
        if m := re.fullmatch(r"(\d{4})-?w(\d{1,2})", t):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period(start, start + timedelta(days=6), "week")
        if m := re.fullmatch(r"(\d{4}-\d{1,2}-\d{1,2})", t):
            d = date.fromisoformat(_pad(m[1]))
            return Period(d, d, "day")
        if m := re.fullmatch(r"(\d{4}-\d{1,2}-\d{1,2})\s*\.\.\s*(\d{4}-\d{1,2}-\d{1,2})", t):
            return Period(date.fromisoformat(_pad(m[1])), date.fromisoformat(_pad(m[2])), "custom")
    except ValueError as exc:
        raise UserError(f"period {text!r} is not a valid date: {exc}") from None
    raise UserError(f"cannot read period {text!r}: {PERIOD_HELP}")


def _pad(s: str) -> str:
    y, m, d = s.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def check_within(period: Period, first: date | None, last: date | None) -> None:
    """Refuse a period that lies wholly outside the data."""
    if first is None or last is None:
        raise UserError("the warehouse holds no dated facts yet: load data, then try again")
    if period.end < first or period.start > last:
        raise UserError(f"period {period.label} lies outside the data, which runs from {first} to {last}")
