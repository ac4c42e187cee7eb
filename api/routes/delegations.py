"""Out-of-office substitutes: name one, list one's own, end one (db/delegations.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.access import visible_projects
from api.deps import SessionDep, Staff, user_cache
from api.strict import RequestModel
from db import delegations as svc
from db.models import Project, User
from db.org_models import Delegation, Membership

router = APIRouter(prefix="/api/delegations", tags=["organisation"])
_FORBIDDEN = {403: {"description": "Not the person nor a manager of theirs (`forbidden`)."}}


class DelegationIn(RequestModel):
    substitute_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=200)
    delegator_id: int | None = Field(default=None, description="whose substitute (default: the caller's own)")


class DelegationOut(BaseModel):
    id: int
    delegator_id: int
    delegator_name: str
    substitute_id: int
    substitute_name: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    ended_at: datetime | None
    in_force: bool


def _out(session, d: Delegation, now: datetime) -> DelegationOut:
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_([d.delegator_id, d.substitute_id]))).all())
    return DelegationOut(id=d.id, delegator_id=d.delegator_id, delegator_name=names[d.delegator_id],
                         substitute_id=d.substitute_id, substitute_name=names[d.substitute_id], starts_at=d.starts_at,
                         ends_at=d.ends_at, reason=d.reason, ended_at=d.ended_at,
                         in_force=d.ended_at is None and d.starts_at <= now < d.ends_at)


@router.get("", response_model=list[DelegationOut], summary="My delegations: as the absent person or as the substitute",
            responses=_FORBIDDEN)
def mine(session: SessionDep, user: Staff) -> list[DelegationOut]:
    now = datetime.now(timezone.utc)
    return [_out(session, d, now) for d in svc.of_person(session, user.id)]


@router.post("", response_model=DelegationOut, status_code=status.HTTP_201_CREATED, responses=_FORBIDDEN,
             summary="Name a substitute for a period (the person themselves, or a manager of theirs)")
def create(body: DelegationIn, request: Request, session: SessionDep, user: Staff) -> DelegationOut:
    now = datetime.now(timezone.utc)
    d = svc.create(session, user, delegator_id=body.delegator_id or user.id, substitute_id=body.substitute_id,
                   starts_at=body.starts_at, ends_at=body.ends_at, reason=body.reason, now=now)
    out = _out(session, d, now)
    session.commit()
    user_cache(request.app).forget_user(d.substitute_id)  # the substitute's next request sees it
    return out


@router.post("/{delegation_id}/end", response_model=DelegationOut, responses=_FORBIDDEN,
             summary="End a delegation now (the absent person, the substitute, or a manager of theirs)")
def end(delegation_id: int, request: Request, session: SessionDep, user: Staff) -> DelegationOut:
    now = datetime.now(timezone.utc)
    d = svc.end(session, user, delegation_id, now)
    out = _out(session, d, now)
    session.commit()
    user_cache(request.app).forget_user(d.substitute_id)
    return out


people_router = APIRouter(prefix="/api/people", tags=["organisation"])


class ColleagueOut(BaseModel):
    id: int
    display_name: str
    roles: list[str]


@people_router.get("", response_model=list[ColleagueOut], responses=_FORBIDDEN,
                   summary="Active colleagues in my projects (to choose a substitute or whom a task goes to)")
def colleagues(session: SessionDep, user: Staff, project_id: int | None = None, role: str | None = None) -> list[ColleagueOut]:
    """People with a live membership covering one of the caller's projects (or `project_id`): project members,
    the city company's and the group's; names and roles only (no logins, no numbers)."""
    mine = visible_projects(user)
    wanted = [project_id] if project_id is not None else (None if mine is None else sorted(mine))
    q = (select(User.id, User.display_name, Membership.role)
         .join(Membership, Membership.user_id == User.id)
         .where(User.active.is_(True), Membership.revoked_at.is_(None)))
    if wanted is not None:
        cities = select(Project.city_company_id).where(Project.id.in_(wanted or [-1]))
        q = q.where((Membership.project_id.in_(wanted or [-1])) | (Membership.city_company_id.in_(cities))
                    | (Membership.scope == "group"))
    if role:
        q = q.where(Membership.role == role)
    people: dict[int, ColleagueOut] = {}
    for uid, name, r in session.execute(q.order_by(User.display_name, User.id)):
        person = people.setdefault(uid, ColleagueOut(id=uid, display_name=name, roles=[]))
        if r not in person.roles:
            person.roles.append(r)
    return list(people.values())
