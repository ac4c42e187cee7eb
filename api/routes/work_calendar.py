"""The working-day calendar ops maintains: a new year's holiday schedule (issue 15).

Reading: a year day by day, each with where its status comes from (the installed package, an entered
schedule — holiday, 调休 workday, weekly rest — or a single manual override), and which years are covered
with the 90-day warning. Writing: a year's State Council schedule in one request, all or nothing."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.clock import china_today
from api.deps import SessionDep, require_roles
from api.strict import RequestModel
from db.models import User
from db.followup_models import CalendarYear
from db.work_calendar import Day, coverage, enter_year, year_days
from domain.permissions import ACTIONS

router = APIRouter(tags=["work_calendar"])

Ops = Annotated[User, Depends(require_roles(*ACTIONS["calendar"]))]
Year = Annotated[int, Path(ge=2000, le=2100)]


class DayIn(RequestModel):
    day: date
    name: str = Field(default="", max_length=40)  # e.g. 元旦, 春节, 春节调休


class ScheduleIn(RequestModel):
    notice: str = Field(default="", max_length=200)  # e.g. 国务院办公厅关于2027年部分节假日安排的通知
    holidays: list[DayIn] = Field(max_length=60)
    workdays: list[DayIn] = Field(default_factory=list, max_length=30)  # 调休: weekend days made working days


class DayOut(BaseModel):
    day: date
    workday: bool | None
    source: str  # statutory / holiday / workday / weekly / manual / none
    name: str
    statutory: bool | None


class CoverageOut(BaseModel):
    today: date
    statutory_years: list[int]
    entered_years: list[int]
    covered_until: date | None
    warning: bool  # the data in force ends within 90 days (or has ended)
    missing_year: int | None


class YearOut(BaseModel):
    year: int
    entered: bool
    notice: str | None = None
    entered_at: datetime | None = None
    days: list[DayOut]


def _coverage(session, today: date) -> CoverageOut:
    c = coverage(session, today)
    return CoverageOut(today=today, statutory_years=c.statutory_years, entered_years=c.entered_years,
                       covered_until=c.covered_until, warning=c.warning, missing_year=c.missing_year)


@router.get("/api/work-calendar/coverage", response_model=CoverageOut,
            summary="Which years the working-day calendar covers, and the warning 90 days before it runs out")
def get_coverage(session: SessionDep, _: Ops, as_of: date | None = None) -> CoverageOut:
    return _coverage(session, as_of or china_today())


@router.get("/api/work-calendar/{year}", response_model=YearOut, summary="A year day by day, with each day's source")
def get_year(year: Year, session: SessionDep, _: Ops) -> YearOut:
    row = session.get(CalendarYear, year)
    return YearOut(year=year, entered=row is not None, notice=row.notice if row else None,
                   entered_at=row.entered_at if row else None,
                   days=[DayOut(day=d.day, workday=d.workday, source=d.source, name=d.name, statutory=d.statutory)
                         for d in year_days(session, year)])


@router.put("/api/work-calendar/{year}", response_model=YearOut,
            summary="Enter (or replace) a year's holiday schedule with its 调休 workdays: all or nothing")
def put_year(year: Year, body: ScheduleIn, session: SessionDep, user: Ops) -> YearOut:
    enter_year(session, year=year, holidays=[Day(d.day, d.name) for d in body.holidays],
               workdays=[Day(d.day, d.name) for d in body.workdays], notice=body.notice, entered_by=user.id,
               now=datetime.now(timezone.utc))
    session.commit()
    return get_year(year, session, user)

