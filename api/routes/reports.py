"""Reports for those who run the office: SLA and handling time, refund reasons and money, the live dashboard (issue 16).

Scope: the projects where the caller holds one of the route's roles (api/access.py visible_projects), narrowed by
`project_id` (a project where they hold no role: 404, as every record; roles but not these: 403 — checked by
require_roles) and by `city_company_id` (its projects among theirs; none: an empty report). Period: China dates
`date_from`..`date_to` (default: six months to today); the report is about the cases registered in it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import visible_projects
from api.clock import china_today, now_utc
from api.deps import SessionDep, release_connection, require_roles
from db.errors import Invalid, NotFound
from db.models import Project, User
from db.org_models import CityCompany
from db.reports import dashboard, dashboard_xlsx, reasons_report, reasons_xlsx, sla_report, sla_xlsx
from domain import reports as R
from domain.permissions import ACTIONS

router = APIRouter(tags=["reports"])

Reader = Annotated[User, Depends(require_roles(*ACTIONS["reports"]))]
Watcher = Annotated[User, Depends(require_roles(*ACTIONS["dashboard"]))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_RESPONSE = {200: {"description": "The workbook (an attachment)", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
                 404: {"description": "the project does not exist, or the caller holds no role there"}}
NOT_FOUND = {404: {"description": "the project does not exist, or the caller holds no role there"}}

ProjectQ = Annotated[int | None, Query(description="one project (404 where the caller holds no role)")]
CityQ = Annotated[int | None, Query(description="the projects of one city company (among the caller's)")]
FromQ = Annotated[date | None, Query(description="first China date of the period (default: the 1st of the month five months ago)")]
ToQ = Annotated[date | None, Query(description="last China date of the period (default: today)")]
BaselineQ = Annotated[Decimal | None, Query(ge=0, le=365, max_digits=5, decimal_places=2,
                                            description="handling time before the platform, in days (e.g. 5.8)")]


# ---------------------------------------------------------------- scope ----------


def report_scope(session: Session, user: User, project_id: int | None, city_company_id: int | None) -> frozenset[int] | None:
    """The projects a report covers: the caller's (for the route's roles) ∩ the filters. None: every project."""
    mine = visible_projects(user)
    scope = mine
    if project_id is not None:  # require_roles has checked the caller acts there (404 / 403 otherwise)
        if session.get(Project, project_id) is None:
            raise NotFound(f"project {project_id} does not exist")
        scope = frozenset({project_id})
    if city_company_id is not None:
        ids = frozenset(session.scalars(select(Project.id).where(Project.city_company_id == city_company_id)))
        scope = ids if scope is None else scope & ids
    return scope


def period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    last = date_to or china_today()
    first = date_from or R.default_period(last)[0]
    try:
        R.check_period(first, last)
    except ValueError as e:
        raise Invalid(str(e)) from None
    return first, last


class ScopeProject(BaseModel):
    id: int
    name: str
    city_company_id: int


class ScopeCompany(BaseModel):
    id: int
    name: str


class ScopeOut(BaseModel):
    projects: list[ScopeProject]
    city_companies: list[ScopeCompany]
    default_from: date
    default_to: date


@router.get("/api/reports/scope", response_model=ScopeOut, summary="The projects and city companies the caller reports on")
def scope_route(session: SessionDep, user: Reader) -> ScopeOut:
    mine = visible_projects(user)
    q = select(Project.id, Project.name, Project.city_company_id).order_by(Project.id)
    if mine is not None:
        q = q.where(Project.id.in_(sorted(mine) or [-1]))
    projects = [ScopeProject(id=i, name=n, city_company_id=c) for i, n, c in session.execute(q)]
    companies = session.execute(select(CityCompany.id, CityCompany.name)
                                .where(CityCompany.id.in_({p.city_company_id for p in projects} or {-1}))
                                .order_by(CityCompany.id)).all()
    first, last = R.default_period(china_today())
    return ScopeOut(projects=projects, city_companies=[ScopeCompany(id=i, name=n) for i, n in companies],
                    default_from=first, default_to=last)


# ---------------------------------------------------------------- SLA and handling time ----------


class SlaStepOut(BaseModel):
    step: str | None = Field(default=None, description="the task kind (absent in the per-department rows)")
    department: str = Field(description="the task's role")
    done: int
    median_minutes: Decimal | None = Field(description="median time opened → done, minutes to 0.1 (percentile_cont)")
    p90_minutes: Decimal | None
    clocked: int = Field(description="tasks with a due time, not cancelled: the whole of the share")
    breached: int = Field(description="done after the due time, or open past it")
    breached_share: Decimal | None = Field(description="breached / clocked, 0.0001; null when nothing is clocked")
    open_now: int = Field(description="open tasks of the scope now, whatever the period")
    overdue_now: int


class HandlingSpanOut(BaseModel):
    mean_days: Decimal | None
    median_days: Decimal | None
    p90_days: Decimal | None


class HandlingOut(BaseModel):
    cases: int
    voided: int = Field(description="registrations voided as mistakes: not in the handling time")
    with_outcome: int
    to_outcome: HandlingSpanOut
    archived: int
    to_archive: HandlingSpanOut
    vs_baseline: Decimal | None = Field(description="(baseline − mean to outcome) / baseline")


class HandlingMonthOut(HandlingOut):
    month: str


class SlaOut(BaseModel):
    date_from: date
    date_to: date
    as_of: datetime
    baseline_days: Decimal | None
    steps: list[SlaStepOut]
    departments: list[SlaStepOut]
    handling: HandlingOut
    handling_by_month: list[HandlingMonthOut]


def _sla(session: Session, user: User, project_id, city_company_id, date_from, date_to, baseline_days) -> dict:
    first, last = period(date_from, date_to)
    scope = report_scope(session, user, project_id, city_company_id)
    rep = sla_report(session, projects=scope, first=first, last=last, now=now_utc(), baseline_days=baseline_days)
    session.commit()  # the report summaries it refreshed (db.reports.refresh_summaries) stay refreshed
    return rep


@router.get("/api/reports/sla", response_model=SlaOut, responses=NOT_FOUND,
            summary="SLA per step and department; handling time per case by month against a baseline")
def sla_route(session: SessionDep, user: Reader, project_id: ProjectQ = None, city_company_id: CityQ = None,
              date_from: FromQ = None, date_to: ToQ = None, baseline_days: BaselineQ = None) -> SlaOut:
    rep = _sla(session, user, project_id, city_company_id, date_from, date_to, baseline_days)
    release_connection(session)
    return SlaOut(**rep)


def _attachment(data: bytes, name: str) -> Response:
    return Response(content=data, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _label(session: Session, project_id: int | None, city_company_id: int | None) -> str:
    if project_id is not None:
        return session.scalar(select(Project.name).where(Project.id == project_id)) or str(project_id)
    if city_company_id is not None:
        return session.scalar(select(CityCompany.name).where(CityCompany.id == city_company_id)) or str(city_company_id)
    return "全部项目"


@router.get("/api/reports/sla.xlsx", response_class=Response, responses=XLSX_RESPONSE,
            summary="The SLA and handling-time report as an XLSX workbook")
def sla_xlsx_route(session: SessionDep, user: Reader, project_id: ProjectQ = None, city_company_id: CityQ = None,
                   date_from: FromQ = None, date_to: ToQ = None, baseline_days: BaselineQ = None) -> Response:
    rep = _sla(session, user, project_id, city_company_id, date_from, date_to, baseline_days)
    span = f"{rep['date_from']:%Y%m%d}-{rep['date_to']:%Y%m%d}"
    label = _label(session, project_id, city_company_id)
    release_connection(session)
    return _attachment(sla_xlsx(rep, title=f"{label} 时效与处理时长 {span}"), f"{label}-时效报表-{span}.xlsx")


# ---------------------------------------------------------------- reasons, outcomes, money ----------


class ReasonOut(BaseModel):
    reason: str
    cases: int
    share: Decimal | None = Field(description="of the group's cases with an intake (several reasons per case possible)")


class ReasonMonthOut(BaseModel):
    month: str
    cases: int
    reasons: dict[str, int]


class ReasonProjectOut(BaseModel):
    project_id: int
    project: str
    cases: int
    reasons: list[ReasonOut]


class ReasonConsultantOut(BaseModel):
    consultant_id: int
    consultant: str
    cases: int
    reasons: list[ReasonOut]


class MoneyOut(BaseModel):
    cases: int
    loss: Decimal = Field(description="the assessed loss (loss_total)")
    compensated: int
    compensation: Decimal = Field(description="drawn from the retention pool (path A)")
    refunds: int
    refund_instructed: Decimal
    refunds_paid_count: int
    refunds_paid: Decimal = Field(description="what finance recorded as paid")
    fees_waived: int = Field(description="transfers (path C) whose fee was waived; the records carry no fee amount")


class OutcomeOut(MoneyOut):
    path: str = Field(description="A / B / C / withdrawn / voided / legal, or open (no outcome yet)")
    share: Decimal | None


class OutcomeMonthOut(BaseModel):
    month: str
    paths: dict[str, int]


class ReasonsOut(BaseModel):
    date_from: date
    date_to: date
    cases: int
    with_intake: int
    reasons: list[ReasonOut]
    by_month: list[ReasonMonthOut]
    by_project: list[ReasonProjectOut]
    by_consultant: list[ReasonConsultantOut]
    outcomes: list[OutcomeOut]
    outcomes_by_month: list[OutcomeMonthOut]
    money: MoneyOut


def _reasons(session: Session, user: User, project_id, city_company_id, date_from, date_to) -> dict:
    first, last = period(date_from, date_to)
    scope = report_scope(session, user, project_id, city_company_id)
    rep = reasons_report(session, projects=scope, first=first, last=last)
    session.commit()  # the report summaries it refreshed (db.reports.refresh_summaries) stay refreshed
    return rep


@router.get("/api/reports/reasons", response_model=ReasonsOut, responses=NOT_FOUND,
            summary="Refund reasons by month, project and consultant; outcomes by path and the money involved")
def reasons_route(session: SessionDep, user: Reader, project_id: ProjectQ = None, city_company_id: CityQ = None,
                  date_from: FromQ = None, date_to: ToQ = None) -> ReasonsOut:
    rep = _reasons(session, user, project_id, city_company_id, date_from, date_to)
    release_connection(session)
    return ReasonsOut(**rep)


@router.get("/api/reports/reasons.xlsx", response_class=Response, responses=XLSX_RESPONSE,
            summary="The reasons, outcomes and money report as an XLSX workbook")
def reasons_xlsx_route(session: SessionDep, user: Reader, project_id: ProjectQ = None, city_company_id: CityQ = None,
                       date_from: FromQ = None, date_to: ToQ = None) -> Response:
    rep = _reasons(session, user, project_id, city_company_id, date_from, date_to)
    span = f"{rep['date_from']:%Y%m%d}-{rep['date_to']:%Y%m%d}"
    label = _label(session, project_id, city_company_id)
    release_connection(session)
    return _attachment(reasons_xlsx(rep, title=f"{label} 退房原因与结果 {span}"), f"{label}-退房原因-{span}.xlsx")


# ---------------------------------------------------------------- the live dashboard ----------


class DashboardStageOut(BaseModel):
    stage: str
    open: int
    overdue: int
    lt_1h: int
    lt_4h: int
    lt_24h: int
    ge_24h: int
    no_clock: int


class DashboardCaseOut(BaseModel):
    case_id: uuid.UUID
    case_no: str
    stage: str
    project: str
    due_at: datetime
    hours_left: Decimal = Field(description="negative: overdue by that many hours")


class SlaCountOut(BaseModel):
    sla: str
    count: int


class WarningLevelOut(BaseModel):
    level: str
    open: int
    overdue: int


class DashboardDayOut(BaseModel):
    date: date
    registered: int
    closed: int
    breaches: int


class DashboardOut(BaseModel):
    as_of: datetime
    today: date
    open_cases: int
    overdue_cases: int
    by_stage: list[DashboardStageOut]
    urgent: list[DashboardCaseOut]
    breaches_today: int
    breaches_today_by_step: list[SlaCountOut]
    warnings: list[WarningLevelOut]
    week: list[DashboardDayOut]


@router.get("/api/dashboard", response_model=DashboardOut, responses=NOT_FOUND,
            summary="Now: open cases by stage and time left, breaches today, open warnings by level, the week")
def dashboard_route(session: SessionDep, user: Watcher, project_id: ProjectQ = None,
                    city_company_id: CityQ = None) -> DashboardOut:
    scope = report_scope(session, user, project_id, city_company_id)
    dash = dashboard(session, projects=scope, today=china_today(), now=now_utc())
    release_connection(session)
    return DashboardOut(**dash)


@router.get("/api/dashboard.xlsx", response_class=Response, responses=XLSX_RESPONSE,
            summary="The dashboard's figures now, as an XLSX workbook")
def dashboard_xlsx_route(session: SessionDep, user: Watcher, project_id: ProjectQ = None,
                         city_company_id: CityQ = None) -> Response:
    scope = report_scope(session, user, project_id, city_company_id)
    dash = dashboard(session, projects=scope, today=china_today(), now=now_utc())
    label = _label(session, project_id, city_company_id)
    release_connection(session)
    return _attachment(dashboard_xlsx(dash, title=f"{label} 实时看板 {dash['today']}"), f"{label}-看板-{dash['today']:%Y%m%d}.xlsx")
