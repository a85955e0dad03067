"""Periods parse as people write them, and compare with the right earlier periods."""
from __future__ import annotations

from datetime import date

import pytest

from data_layer.errors import UserError
from data_layer.periods import Period, check_within, parse_period, to_date
from data_layer.queries.kpis import comparison_periods, monthly_window

T = date(2026, 11, 21)


@pytest.mark.parametrize(("text", "start", "end", "label"), [
    ("2025", date(2025, 1, 1), date(2025, 12, 31), "2025"),
    ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "2025-Q3"),
    ("2025q4", date(2025, 10, 1), date(2025, 12, 31), "2025-Q4"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
    ("2026-W10", date(2026, 3, 2), date(2026, 3, 8), "2026-W10"),
    ("2026-3-5", date(2026, 3, 5), date(2026, 3, 5), "2026-03-05"),
    ("2026-01-01..2026-03-31", date(2026, 1, 1), date(2026, 3, 31), "2026-01-01..2026-03-31"),
    ("ytd", date(2026, 1, 1), T, "2026-01-01..2026-11-21"),
    ("mtd", date(2026, 11, 1), T, "2026-11-01..2026-11-21"),
    ("last-month", date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
    ("last-quarter", date(2026, 7, 1), date(2026, 9, 30), "2026-Q3"),
    ("last-year", date(2025, 1, 1), date(2025, 12, 31), "2025"),
    ("latest", T, T, "2026-11-21"),
])
def test_period_names_parse(text: str, start: date, end: date, label: str) -> None:
    p = parse_period(text, T)
    assert (p.start, p.end, p.label) == (start, end, label)


@pytest.mark.parametrize("text", ["", "yesterday-ish", "2025-13", "2025-02-30", "2026-W60", "2026-Q5",
                                  "2026-03-01..2026-02-01", "next year"])
def test_bad_periods_get_a_clear_message(text: str) -> None:
    with pytest.raises(UserError) as err:
        parse_period(text, T)
    assert text in str(err.value) or "before it starts" in str(err.value)


def test_month_compares_with_previous_month_and_same_month_last_year() -> None:
    p = parse_period("2026-03", T)
    assert (p.previous().start, p.previous().end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (p.year_ago().start, p.year_ago().end) == (date(2025, 3, 1), date(2025, 3, 31))


def test_leap_day_year_ago() -> None:
    p = parse_period("2024-02", T)
    assert p.year_ago().end == date(2023, 2, 28)
    assert Period(date(2024, 2, 29), date(2024, 2, 29), "day").year_ago().start == date(2023, 2, 28)


def test_week_compares_with_same_iso_week_last_year() -> None:
    p = parse_period("2026-W10", T)
    assert p.year_ago().label == "2025-W10"
    assert p.previous().label == "2026-W09"


def test_partial_current_year_is_compared_over_the_same_days() -> None:
    current, prev, ago = comparison_periods(parse_period("2026", T), T)
    assert (current.start, current.end) == (date(2026, 1, 1), T)
    assert (ago.start, ago.end) == (date(2025, 1, 1), date(2025, 11, 21))
    assert (prev.start, prev.end) == (date(2025, 1, 1), date(2025, 11, 21))


def test_month_to_date_compares_with_same_days_of_last_month() -> None:
    current, prev, ago = comparison_periods(parse_period("mtd", T), T)
    assert (prev.start, prev.end) == (date(2026, 10, 1), date(2026, 10, 21))
    assert (ago.start, ago.end) == (date(2025, 11, 1), date(2025, 11, 21))


def test_monthly_window_keeps_whole_closed_months() -> None:
    closed = date(2026, 10, 31)
    assert monthly_window(parse_period("ytd", T), closed) == (date(2026, 1, 1), closed)
    assert monthly_window(parse_period("2026-02-15..2026-05-10", T), closed) == (date(2026, 3, 1), date(2026, 4, 30))
    assert monthly_window(parse_period("2026-W10", T), closed) is None
    assert monthly_window(parse_period("mtd", T), closed) is None
    assert monthly_window(parse_period("2025", T), None) is None


def test_periods_outside_the_data_are_refused() -> None:
    with pytest.raises(UserError, match="lies outside the data"):
        check_within(parse_period("2019", T), date(2025, 1, 1), T)
    with pytest.raises(UserError, match="no dated facts"):
        check_within(parse_period("2025", T), None, None)
    check_within(parse_period("2024-12-15..2025-01-15", T), date(2025, 1, 1), T)


@pytest.mark.parametrize(("through", "name", "prev", "ago"), [
    # the 1st of a month: one day against the same day of last month and of last year
    (date(2026, 12, 1), "mtd", (date(2026, 11, 1), date(2026, 11, 1)), (date(2025, 12, 1), date(2025, 12, 1))),
    (date(2026, 12, 1), "2026-12", (date(2026, 11, 1), date(2026, 11, 1)), (date(2025, 12, 1), date(2025, 12, 1))),
    # the 1st of a year: year to date is one day, against 1 January a year earlier
    (date(2027, 1, 1), "ytd", (date(2026, 12, 1), date(2026, 12, 1)), (date(2026, 1, 1), date(2026, 1, 1))),
    (date(2027, 1, 1), "2027", (date(2026, 1, 1), date(2026, 1, 1)), (date(2026, 1, 1), date(2026, 1, 1))),
    # a year or quarter to date that stops at the end of a month is still partial
    (date(2026, 11, 30), "2026", (date(2025, 1, 1), date(2025, 11, 30)), (date(2025, 1, 1), date(2025, 11, 30))),
    (date(2026, 11, 30), "2026-Q4", (date(2026, 7, 1), date(2026, 8, 31)), (date(2025, 10, 1), date(2025, 11, 30))),
    # 29 February: a whole leap February against the whole February before it
    (date(2024, 2, 29), "mtd", (date(2024, 1, 1), date(2024, 1, 31)), (date(2023, 2, 1), date(2023, 2, 28))),
    (date(2024, 2, 29), "2024-02-29", (date(2024, 2, 28), date(2024, 2, 28)), (date(2023, 2, 28), date(2023, 2, 28))),
    # 28 February of a leap year: 28 days against 28 days, not against the whole of last February
    (date(2024, 2, 28), "2024-02", (date(2024, 1, 1), date(2024, 1, 28)), (date(2023, 2, 1), date(2023, 2, 28))),
    (date(2024, 3, 29), "mtd", (date(2024, 2, 1), date(2024, 2, 29)), (date(2023, 3, 1), date(2023, 3, 29))),
])
def test_a_period_to_date_is_compared_like_for_like(through: date, name: str, prev: tuple, ago: tuple) -> None:
    current, p, a = comparison_periods(parse_period(name, through), through)
    assert current.end <= through
    assert (p.start, p.end) == prev
    assert (a.start, a.end) == ago


def test_an_incomplete_month_is_known_as_one() -> None:
    assert to_date(date(2026, 12, 1), date(2026, 12, 1)) == Period(date(2026, 12, 1), date(2026, 12, 1))
    assert to_date(date(2026, 11, 1), date(2026, 12, 1)) is None  # November is closed
    assert to_date(date(2024, 2, 1), date(2024, 2, 29)) is None  # the last day of a leap February
    assert to_date(date(2024, 2, 1), date(2024, 2, 28)).days == 28
    assert to_date(date(2027, 1, 1), date(2026, 12, 31)) is None  # not begun


def test_a_change_too_small_to_show_reads_zero_without_a_sign() -> None:
    from data_layer.formatting import format_change

    assert format_change(-0.0002) == "0.0%" and format_change(0.0004) == "0.0%"  # never "-0.0%" or "+0.0%"
    assert format_change(-0.0006) == "-0.1%" and format_change(0.337) == "+33.7%"
    assert format_change(None) == "" and format_change(float("nan")) == ""
