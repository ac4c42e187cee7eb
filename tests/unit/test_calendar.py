"""The Chinese statutory working-day calendar with 调休 and overrides (DOMAIN §5)."""

from datetime import date, datetime

import pytest

from domain.calendar import (
    CalendarNotCovered,
    add_working_days,
    is_workday,
    working_days_between,
)


def test_domain_example_5_working_days_after_2026_09_28_is_saturday_2026_10_10():
    assert add_working_days(date(2026, 9, 28), 5) == date(2026, 10, 10)
    assert date(2026, 10, 10).weekday() == 5  # a Saturday, made a workday by 调休


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (date(2026, 11, 23), 0, date(2026, 11, 23)),  # zero days: the start itself
        (date(2026, 11, 23), 1, date(2026, 11, 24)),  # Monday → Tuesday
        (date(2026, 11, 23), 4, date(2026, 11, 27)),  # Monday → Friday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # skips the weekend
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # from a Saturday
    ],
)
def test_a_normal_week_counts_monday_to_friday(start, n, expected):
    assert add_working_days(start, n) == expected


def test_national_day_holidays_are_not_working_days():
    assert not is_workday(date(2026, 10, 1))
    assert not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 10, 10))


def test_working_days_between_matches_add_working_days():
    a = date(2026, 9, 28)
    assert working_days_between(a, date(2026, 10, 10)) == 5
    assert working_days_between(date(2026, 10, 10), a) == -5
    assert working_days_between(a, a) == 0
    for n in range(0, 12):
        assert working_days_between(a, add_working_days(a, n)) == n


def test_an_override_wins_over_the_statutory_calendar():
    friday = date(2026, 11, 27)
    overrides = {friday: False, date(2026, 11, 28): True}  # local day off, Saturday made a workday
    assert not is_workday(friday, overrides=overrides)
    assert add_working_days(date(2026, 11, 26), 1, overrides=overrides) == date(2026, 11, 28)
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 30), overrides=overrides) == 5


def test_a_year_the_data_does_not_cover_raises_and_never_falls_back_to_monday_friday():
    with pytest.raises(CalendarNotCovered, match="2027"):
        is_workday(date(2027, 1, 4))
    with pytest.raises(CalendarNotCovered):
        add_working_days(date(2026, 12, 28), 10)
    with pytest.raises(CalendarNotCovered):
        working_days_between(date(2026, 12, 30), date(2027, 1, 5))


def test_overrides_can_cover_a_year_the_data_does_not():
    overrides = {date(2027, 1, 4): True, date(2027, 1, 5): True}
    assert add_working_days(date(2027, 1, 3), 2, overrides=overrides) == date(2027, 1, 5)


@pytest.mark.parametrize("bad", [datetime(2026, 9, 28, 9), "2026-09-28"])
def test_only_dates_are_accepted(bad):
    with pytest.raises(TypeError):
        add_working_days(bad, 1)


def test_negative_n_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 9, 28), -1)
