"""Chinese statutory working days (DOMAIN §5): holidays and adjusted workdays (调休).

The statutory data comes from `chinesecalendar`; an override table (date → is_workday, e.g. loaded
from `calendar_overrides`) wins over it, so a newly published holiday notice or a local change can be
entered before the library catches up. A day neither covers raises `CalendarNotCovered`: there is no
Monday–Friday fallback, because a wrong deadline is worse than a loud error.
Pure: no I/O, no clock; safe to call from workflow code (pass the overrides in the workflow input).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone

import chinese_calendar

Overrides = Mapping[date, bool]
_NO_OVERRIDES: dict[date, bool] = {}
# A guard against a loop over a range nobody meant (100 years of days).
_MAX_SPAN_DAYS = 36_600

CHINA = timezone(timedelta(hours=8))  # no DST in China: a fixed offset is exact


def china_date(at: datetime) -> date:
    """The business day (China time) of an instant."""
    return at.astimezone(CHINA).date()


class CalendarNotCovered(LookupError):
    """The statutory calendar data does not cover this day and no override does either."""

    def __init__(self, day: date) -> None:
        super().__init__(
            f"the working-day calendar does not cover {day.isoformat()} (year {day.year}): "
            "add calendar overrides for that year or upgrade chinesecalendar; "
            "EstateFlow never falls back to Monday–Friday"
        )
        self.day = day


def _as_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    return value


def is_workday(day: date, *, overrides: Overrides | None = None) -> bool:
    """True when `day` is a working day: the override if there is one, else the statutory calendar."""
    day = _as_date(day, "day")
    table = overrides if overrides is not None else _NO_OVERRIDES
    if day in table:
        return bool(table[day])
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarNotCovered(day) from None


def add_working_days(start: date, n: int, *, overrides: Overrides | None = None) -> date:
    """The n-th working day after `start` (start itself is not counted); n == 0 returns `start`.

    >>> add_working_days(date(2026, 9, 28), 5)  # across National Day: 10-10 is a Saturday workday
    datetime.date(2026, 10, 10)
    """
    start = _as_date(start, "start")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError("n must not be negative")
    day, left, steps = start, n, 0
    while left > 0:
        day += timedelta(days=1)
        steps += 1
        if steps > _MAX_SPAN_DAYS:
            raise ValueError(f"no {n} working days within {_MAX_SPAN_DAYS} days of {start}")
        if is_workday(day, overrides=overrides):
            left -= 1
    return day


def working_days_between(a: date, b: date, *, overrides: Overrides | None = None) -> int:
    """Working days in (a, b]: after `a`, up to and including `b`; negative when b is before a.

    Consistent with `add_working_days`: working_days_between(a, add_working_days(a, n)) == n.
    """
    a = _as_date(a, "a")
    b = _as_date(b, "b")
    if b < a:
        return -working_days_between(b, a, overrides=overrides)
    if (b - a).days > _MAX_SPAN_DAYS:
        raise ValueError(f"span of {(b - a).days} days is too long")
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        if is_workday(day, overrides=overrides):
            count += 1
    return count


# ---- periods (Civil Code art. 201–203) ----------------------------------------------------------


def period_end(start: date, days: int, *, overrides: Overrides | None = None) -> date:
    """The last day of a period of `days` calendar days that starts the day after `start` (art. 201);
    when that day is not a working day (a statutory holiday or a weekly rest day, 法定休假日), the period ends
    on the next working day (art. 203). Raises CalendarNotCovered when the data does not reach that far.

    >>> period_end(date(2026, 9, 10), 30, overrides={})  # 10-10 is a 调休 Saturday workday: it stays
    datetime.date(2026, 10, 10)
    """
    start = _as_date(start, "start")
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"days must be an int, not {type(days).__name__}")
    if days < 0:
        raise ValueError("days must not be negative")
    last = start + timedelta(days=days)
    steps = 0
    while not is_workday(last, overrides=overrides):
        last += timedelta(days=1)
        steps += 1
        if steps > 366:
            raise ValueError(f"no working day within a year after {start + timedelta(days=days)}")
    return last


# ---- coverage: which years the data in force covers --------------------------------------------

COVERAGE_WARNING_DAYS = 90  # ops is warned this long before the data in force runs out
_PROBE_YEARS = range(1990, 2200)


def statutory_covers(year: int) -> bool:
    """True when the installed calendar package has the State Council's schedule for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 30))
    except NotImplementedError:
        return False
    return True


def statutory_years() -> frozenset[int]:
    """The years the installed calendar package covers."""
    return _STATUTORY_YEARS


_STATUTORY_YEARS = frozenset(y for y in _PROBE_YEARS if statutory_covers(y))


def statutory_status(day: date) -> bool | None:
    """The package's answer for `day` (True: a working day), or None when it does not cover it."""
    day = _as_date(day, "day")
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def covered_until(today: date, entered_years: frozenset[int] | set[int] = frozenset()) -> date | None:
    """The last day of the unbroken run of covered years starting with today's year (covered: by the
    package, or by a schedule ops entered); None when today's year itself is not covered."""
    today = _as_date(today, "today")
    covered = statutory_years() | frozenset(entered_years)
    year = today.year
    if year not in covered:
        return None
    while year + 1 in covered:
        year += 1
    return date(year, 12, 31)


def coverage_warning(today: date, entered_years: frozenset[int] | set[int] = frozenset(),
                     lead_days: int = COVERAGE_WARNING_DAYS) -> tuple[int, date | None] | None:
    """(the first year not covered, the day the data ends) when the data in force ends within `lead_days`
    of `today` (or has already ended); None when it reaches further."""
    end = covered_until(today, entered_years)
    if end is not None and (end - today).days > lead_days:
        return None
    missing = end.year + 1 if end is not None else today.year
    return missing, end


def weekly_rest(day: date) -> bool:
    """Saturday and Sunday: the weekly rest days, which hold in a year whose holiday schedule is entered
    except where the schedule says otherwise (a 调休 workday)."""
    return _as_date(day, "day").weekday() >= 5
