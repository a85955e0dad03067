"""The Chinese official calendar: public holidays and adjusted workdays (调休).

Dates follow the State Council's yearly holiday notices. Years without a
published notice fall back to fixed-date holidays (New Year, Labour Day,
National Day) and the lunar festivals from `_LUNAR`, without adjusted workdays.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from ..periods import CALENDAR_COLUMNS, calendar_parts

# (zh, en)
NAMES = {
    "new_year": ("元旦", "New Year's Day"),
    "spring": ("春节", "Spring Festival"),
    "qingming": ("清明节", "Qingming Festival"),
    "labour": ("劳动节", "Labour Day"),
    "dragon_boat": ("端午节", "Dragon Boat Festival"),
    "mid_autumn": ("中秋节", "Mid-Autumn Festival"),
    "national": ("国庆节", "National Day"),
}

# year -> list of (holiday key, first day, last day); and the adjusted workdays.
_OFFICIAL: dict[int, tuple[list[tuple[str, str, str]], list[str]]] = {
    2019: ([("new_year", "01-01", "01-01"), ("spring", "02-04", "02-10"),
            ("qingming", "04-05", "04-07"), ("labour", "05-01", "05-04"),
            ("dragon_boat", "06-07", "06-09"), ("mid_autumn", "09-13", "09-15"),
            ("national", "10-01", "10-07")],
           ["02-02", "02-03", "04-28", "05-05", "09-29", "10-12"]),
    2020: ([("new_year", "01-01", "01-01"), ("spring", "01-24", "02-02"),
            ("qingming", "04-04", "04-06"), ("labour", "05-01", "05-05"),
            ("dragon_boat", "06-25", "06-27"), ("national", "10-01", "10-08")],
           ["01-19", "04-26", "05-09", "06-28", "09-27", "10-10"]),
    2021: ([("new_year", "01-01", "01-03"), ("spring", "02-11", "02-17"),
            ("qingming", "04-03", "04-05"), ("labour", "05-01", "05-05"),
            ("dragon_boat", "06-12", "06-14"), ("mid_autumn", "09-19", "09-21"),
            ("national", "10-01", "10-07")],
           ["02-07", "02-20", "04-25", "05-08", "09-18", "09-26", "10-09"]),
    2022: ([("new_year", "01-01", "01-03"), ("spring", "01-31", "02-06"),
            ("qingming", "04-03", "04-05"), ("labour", "04-30", "05-04"),
            ("dragon_boat", "06-03", "06-05"), ("mid_autumn", "09-10", "09-12"),
            ("national", "10-01", "10-07")],
           ["01-29", "01-30", "04-02", "04-24", "05-07", "10-08", "10-09"]),
    2023: ([("new_year", "01-01", "01-02"), ("spring", "01-21", "01-27"),
            ("qingming", "04-05", "04-05"), ("labour", "04-29", "05-03"),
            ("dragon_boat", "06-22", "06-24"), ("mid_autumn", "09-29", "09-29"),
            ("national", "09-30", "10-06")],
           ["01-28", "01-29", "04-23", "05-06", "06-25", "10-07", "10-08"]),
    2024: ([("new_year", "01-01", "01-01"), ("spring", "02-10", "02-17"),
            ("qingming", "04-04", "04-06"), ("labour", "05-01", "05-05"),
            ("dragon_boat", "06-08", "06-10"), ("mid_autumn", "09-15", "09-17"),
            ("national", "10-01", "10-07")],
           ["02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"]),
    2025: ([("new_year", "01-01", "01-01"), ("spring", "01-28", "02-04"),
            ("qingming", "04-04", "04-06"), ("labour", "05-01", "05-05"),
            ("dragon_boat", "05-31", "06-02"), ("national", "10-01", "10-08")],
           ["01-26", "02-08", "04-27", "09-28", "10-11"]),
    2026: ([("new_year", "01-01", "01-03"), ("spring", "02-15", "02-23"),
            ("qingming", "04-04", "04-06"), ("labour", "05-01", "05-05"),
            ("dragon_boat", "06-19", "06-21"), ("mid_autumn", "09-25", "09-27"),
            ("national", "10-01", "10-07")],
           ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"]),
}

# Lunar festivals for years without an official notice: (spring eve+1, dragon boat, mid-autumn).
_LUNAR: dict[int, tuple[str, str, str]] = {
    2027: ("02-06", "06-09", "09-15"),
    2028: ("01-26", "05-28", "10-03"),
    2029: ("02-13", "06-16", "09-22"),
    2030: ("02-03", "06-05", "09-12"),
    2031: ("01-23", "06-24", "10-01"),
    2032: ("02-11", "06-12", "09-19"),
    2033: ("01-31", "06-01", "09-08"),
    2034: ("02-19", "06-20", "09-27"),
    2035: ("02-08", "06-10", "09-16"),
}


def _d(year: int, md: str) -> date:
    m, d = md.split("-")
    return date(year, int(m), int(d))


def holidays(year: int) -> tuple[dict[date, str], set[date]]:
    """(day -> holiday key, adjusted workdays) for one year."""
    days: dict[date, str] = {}
    if year in _OFFICIAL:
        spans, work = _OFFICIAL[year]
        adjusted = {_d(year, md) for md in work}
    else:
        spans = [("new_year", "01-01", "01-01"), ("qingming", "04-05", "04-05"),
                 ("labour", "05-01", "05-05"), ("national", "10-01", "10-07")]
        if year in _LUNAR:
            spring, dragon, autumn = _LUNAR[year]
            s = _d(year, spring)
            spans += [("spring", spring, (s + timedelta(days=7)).strftime("%m-%d")),
                      ("dragon_boat", dragon, dragon), ("mid_autumn", autumn, autumn)]
        adjusted = set()
    for key, first, last in spans:
        day, end = _d(year, first), _d(year, last)
        while day <= end:
            days[day] = key
            day += timedelta(days=1)
    return days, adjusted


def spring_festival_day(year: int) -> date | None:
    """The first day of the Spring Festival holiday of `year`."""
    days, _ = holidays(year)
    spring = sorted(d for d, k in days.items() if k == "spring")
    return spring[0] if spring else None


def build_dim_date(start: date, end: date) -> pd.DataFrame:
    """Rows of dim_date from `start` to `end` inclusive, in contract column order."""
    rows = []
    cache: dict[int, tuple[dict[date, str], set[date]]] = {}
    day = start
    while day <= end:
        if day.year not in cache:
            cache[day.year] = holidays(day.year)
        hol, adjusted = cache[day.year]
        key = hol.get(day)
        is_workday = (day.weekday() < 5 and key is None) or day in adjusted
        rows.append((day, *calendar_parts(day), is_workday, f"{NAMES[key][0]} / {NAMES[key][1]}" if key else None))
        day += timedelta(days=1)
    return pd.DataFrame(
        rows,
        columns=["date", *CALENDAR_COLUMNS, "is_workday", "holiday_name"],
    )
