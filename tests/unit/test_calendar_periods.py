"""Civil Code art. 201–203 periods, coverage of the calendar data and the 90-day warning (issue 15)."""

from datetime import date, timedelta

import pytest

from domain.calendar import (
    CalendarNotCovered,
    covered_until,
    coverage_warning,
    period_end,
    statutory_covers,
    statutory_years,
)
from domain.payments import mortgage_documents_due, stage_deadline, stalled

# 2027's 元旦 as ops would enter it: Friday 1 January, then the weekend; the rest of the year by weekday.
Y2027 = {date(2027, 1, 1) + timedelta(days=i): (date(2027, 1, 1) + timedelta(days=i)).weekday() < 5
         for i in range(365)} | {date(2027, 1, 1): False}


def test_a_period_ending_on_a_working_day_ends_that_day():
    assert period_end(date(2026, 11, 2), 30) == date(2026, 12, 2)  # a Wednesday


def test_a_period_ending_in_the_national_day_holiday_ends_on_the_next_working_day():
    assert period_end(date(2026, 9, 1), 30) == date(2026, 10, 8)  # 10-01 … 10-07 are the holiday


def test_a_period_ending_on_a_weekend_ends_on_monday():
    assert period_end(date(2026, 10, 22), 30) == date(2026, 11, 23)  # 11-21 is a Saturday


def test_a_调休_saturday_is_a_working_day_and_ends_the_period():
    assert period_end(date(2026, 9, 10), 30) == date(2026, 10, 10)


def test_the_filing_period_of_a_contract_signed_2026_12_02_ends_2027_01_04_with_2027_entered():
    assert period_end(date(2026, 12, 2), 30, overrides=Y2027) == date(2027, 1, 4)


def test_a_period_beyond_the_data_raises_rather_than_guessing():
    with pytest.raises(CalendarNotCovered):
        period_end(date(2026, 12, 2), 30)


def test_period_end_refuses_bad_arguments():
    with pytest.raises(TypeError):
        period_end(date(2026, 1, 1), 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        period_end(date(2026, 1, 1), -1)


def test_the_installed_package_covers_2026_but_not_2027():
    assert statutory_covers(2026) and not statutory_covers(2027)
    assert 2026 in statutory_years() and 2027 not in statutory_years()


def test_coverage_runs_to_the_end_of_the_last_unbroken_covered_year():
    assert covered_until(date(2026, 6, 1)) == date(2026, 12, 31)
    assert covered_until(date(2026, 6, 1), {2027}) == date(2027, 12, 31)
    assert covered_until(date(2026, 6, 1), {2028}) == date(2026, 12, 31)  # 2027 missing breaks the run
    assert covered_until(date(2027, 2, 1)) is None


@pytest.mark.parametrize("today, warned", [
    (date(2026, 10, 1), False),  # 91 days left
    (date(2026, 10, 2), True),  # 90 days left
    (date(2026, 12, 3), True),
])
def test_the_warning_comes_90_days_before_the_data_runs_out(today, warned):
    assert (coverage_warning(today) is not None) == warned
    if warned:
        assert coverage_warning(today) == (2027, date(2026, 12, 31))


def test_entering_the_next_year_silences_the_warning_and_an_uncovered_today_warns():
    assert coverage_warning(date(2026, 12, 3), {2027}) is None
    assert coverage_warning(date(2027, 3, 1)) == (2027, None)


def test_mortgage_documents_are_due_5_working_days_after_the_request():
    assert mortgage_documents_due(date(2026, 9, 28)) == (date(2026, 10, 10), "working_days")
    # beyond the data: 7 calendar days, said so
    assert mortgage_documents_due(date(2026, 12, 28)) == (date(2027, 1, 4), "calendar_days")
    assert mortgage_documents_due(date(2026, 12, 28), Y2027) == (date(2027, 1, 5), "working_days")


def test_a_mortgage_stalls_once_its_stage_deadline_has_passed():
    due = stage_deadline("awaiting_documents", documents_due=date(2026, 10, 10), approval_expected_by=None)
    assert due == date(2026, 10, 10)
    assert not stalled(due, date(2026, 10, 10)) and stalled(due, date(2026, 10, 11))
    assert stage_deadline("signed", documents_due=date(2026, 10, 10), approval_expected_by=None) is None
    assert not stalled(None, date(2030, 1, 1))
