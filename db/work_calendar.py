"""The working-day calendar ops maintains (issue 15): a year's State Council schedule entered in one go,
the calendar as every reader loads it, coverage, and the warning before the data in force runs out.

An entered year is written out day by day into `calendar_overrides` (holidays, 调休 workdays, and every
other day by the weekly rest days), so every consumer of that table — the mortgage and payment follow-ups'
inputs, the refund cases' working-day clocks (db/refund_cases.py) — knows the whole year without a change.
Flushes, never commits: the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar
from sqlalchemy import delete, extract, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.contract_models import Contract
from db.errors import Invalid
from db.followup_models import CalendarOverride, CalendarYear, WarningRecord
from db.reminders import reschedule_filing
from domain.calendar import (
    CalendarNotCovered,
    china_date,
    coverage_warning,
    covered_until,
    period_end,
    statutory_covers,
    statutory_status,
    statutory_years,
    weekly_rest,
)
from domain.payments import FILING_DAYS

COVERAGE_CASE_REF = "work-calendar"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def load_overrides(session: Session, *, since: date | None = None) -> dict[date, bool]:
    """The override table as {date: is_workday} (from `since` on, when given)."""
    stmt = select(CalendarOverride.day, CalendarOverride.is_workday)
    if since is not None:
        stmt = stmt.where(CalendarOverride.day >= since)
    return {d: w for d, w in session.execute(stmt)}


def entered_years(session: Session) -> set[int]:
    return set(session.scalars(select(CalendarYear.year)))


@dataclass(frozen=True)
class Day:
    day: date
    name: str = ""


def _field_errors(errors: list[tuple[str, str, str]]) -> Invalid:
    first = errors[0][2]
    err = Invalid(f"the schedule is not valid: {first}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    err.errors = tuple({"field": f, "code": c, "message": m} for f, c, m in errors)
    return err


def validate_schedule(year: int, holidays: Sequence[Day], workdays: Sequence[Day]) -> None:
    """Invalid with one error per bad field: dates outside the year, a day listed twice, a 调休 workday
    that is not a weekend day, a year the installed package already covers, no holiday at all."""
    errors: list[tuple[str, str, str]] = []
    if statutory_covers(year):
        errors.append(("body.year", "covered", f"the installed calendar package already covers {year}; "
                       "its schedule is used (single days can still be overridden)"))
    if not holidays:
        errors.append(("body.holidays", "required", "a year's schedule lists its public holidays"))
    seen: dict[date, str] = {}
    for kind, days in (("holidays", holidays), ("workdays", workdays)):
        for i, d in enumerate(days):
            field = f"body.{kind}.{i}.day"
            if d.day.year != year:
                errors.append((field, "outside_year", f"{d.day.isoformat()} is not in {year}"))
                continue
            if d.day in seen:
                errors.append((field, "duplicate", f"{d.day.isoformat()} is listed twice (also {seen[d.day]})"))
                continue
            seen[d.day] = f"{kind}[{i}]"
            if kind == "workdays" and not weekly_rest(d.day):
                errors.append((field, "not_weekend", f"{d.day.isoformat()} is a {WEEKDAYS[d.day.weekday()]}: a 调休 "
                               "workday is a Saturday or Sunday made a working day"))
    if errors:
        raise _field_errors(errors)


def enter_year(session: Session, *, year: int, holidays: Sequence[Day], workdays: Sequence[Day], notice: str,
               entered_by: int, now: datetime) -> CalendarYear:
    """Write a year's schedule, replacing what was entered for it before; all or nothing (Invalid first).
    Unfiled contracts whose 备案 period ends in that year get their deadline again (art. 203), and open
    coverage warnings for the year are closed."""
    validate_schedule(year, holidays, workdays)
    session.execute(select(CalendarYear).where(CalendarYear.year == year).with_for_update()).first()
    first, last = date(year, 1, 1), date(year, 12, 31)
    session.execute(delete(CalendarOverride).where(CalendarOverride.day >= first, CalendarOverride.day <= last))
    named = {d.day: ("holiday", False, d.name) for d in holidays} | {d.day: ("workday", True, d.name) for d in workdays}
    rows = []
    day = first
    while day <= last:
        source, working, name = named.get(day, ("weekly", not weekly_rest(day), ""))
        rows.append({"day": day, "is_workday": working, "note": name, "source": source})
        day += timedelta(days=1)
    session.execute(pg_insert(CalendarOverride), rows)
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.notice, row.holidays, row.workdays = notice, len(holidays), len(workdays)
    row.entered_by, row.entered_at = entered_by, now
    session.flush()
    refile_deadlines(session, year, now)
    session.execute(
        update(WarningRecord)
        .where(WarningRecord.case_ref == COVERAGE_CASE_REF, WarningRecord.warning_key.like(f"calendar-coverage:{year}:%"),
               WarningRecord.responded_at.is_(None))
        .values(responded_at=now, responded_by=entered_by, response_note=f"the {year} schedule was entered")
    )
    session.flush()
    return row


def refile_deadlines(session: Session, year: int, now: datetime) -> int:
    """Unfiled contracts whose 30-day 备案 period ends in `year`: their deadline per the calendar in force, and
    their reminders moved with it."""
    overrides = load_overrides(session, since=date(year, 1, 1))
    n = 0
    for c in session.scalars(select(Contract).where(Contract.filed_on.is_(None),
                                                   extract("year", Contract.signed_on + FILING_DAYS) == year)):
        try:
            due = period_end(c.signed_on, FILING_DAYS, overrides=overrides)
        except CalendarNotCovered:
            continue
        if due != c.filing_due:
            c.filing_due = due
            reschedule_filing(session, c, now)
            n += 1
    session.flush()
    return n


def filing_deadline(session: Session, signed_on: date) -> tuple[date, bool]:
    """The 备案 deadline of a contract signed on `signed_on`: 30 days, then art. 203 on the calendar in force;
    (deadline, True). Beyond the calendar's data: (the unadjusted 30th day, False) — never later than the
    true deadline, and corrected when the year is entered (refile_deadlines)."""
    try:
        return period_end(signed_on, FILING_DAYS, overrides=load_overrides(session, since=signed_on)), True
    except CalendarNotCovered:
        return signed_on + timedelta(days=FILING_DAYS), False


# ---- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayStatus:
    day: date
    workday: bool | None  # None: nobody covers the day
    source: str  # statutory / holiday / workday / weekly / manual / none
    name: str
    statutory: bool | None  # the package's answer, where it has one


def year_days(session: Session, year: int) -> list[DayStatus]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = {r.day: r for r in session.scalars(
        select(CalendarOverride).where(CalendarOverride.day >= first, CalendarOverride.day <= last))}
    out = []
    day = first
    while day <= last:
        stat = statutory_status(day)
        r = rows.get(day)
        if r is not None:
            out.append(DayStatus(day, r.is_workday, r.source, r.note, stat))
        elif stat is not None:
            _, name = chinese_calendar.get_holiday_detail(day)
            out.append(DayStatus(day, stat, "statutory", name or "", stat))
        else:
            out.append(DayStatus(day, None, "none", "", None))
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class Coverage:
    statutory_years: list[int]
    entered_years: list[int]
    covered_until: date | None
    warning: bool
    missing_year: int | None


def coverage(session: Session, today: date) -> Coverage:
    entered = entered_years(session)
    warn = coverage_warning(today, entered)
    return Coverage(sorted(statutory_years()), sorted(entered), covered_until(today, entered), warn is not None,
                    warn[0] if warn else None)


# ---- the warning before the data runs out --------------------------------------------------------


def raise_coverage_warning(session: Session, now: datetime) -> WarningRecord | None:
    """When the data in force ends within 90 days (or has ended), a warning for ops, once per missing year
    and level: yellow from 90 days before, orange from 30 (or once the data has run out). Idempotent."""
    today = china_date(now)
    entered = entered_years(session)
    warn = coverage_warning(today, entered)
    if warn is None:
        return None
    missing, end = warn
    left = (end - today).days if end is not None else -1
    level = "yellow" if left > 30 else "orange"
    detail = (f"the working-day calendar ends on {end.isoformat()} ({left} days): enter the State Council's "
              f"{missing} holiday schedule" if end is not None else
              f"the working-day calendar does not cover {missing}: enter its holiday schedule now")
    ins = (
        pg_insert(WarningRecord)
        .values(warning_key=f"calendar-coverage:{missing}:{level}", customer_id=None, case_ref=COVERAGE_CASE_REF,
                level=level, rules=[{"rule": "calendar_coverage", "score": 30 if level == "yellow" else 60,
                                     "detail": detail}],
                risk_score=30 if level == "yellow" else 60, raised_at=now,
                response_due=now + (timedelta(days=7) if level == "yellow" else timedelta(days=1)),
                respond_role="ops", escalate_to="admin")
        .on_conflict_do_nothing(index_elements=["warning_key"])
        .returning(WarningRecord.id)
    )
    wid = session.execute(ins).scalar()
    session.flush()
    return session.get(WarningRecord, wid) if wid is not None else None
