"""Reception: walk-ins, the duty rotation, channel partners' registrations (issue 15).

- walk-ins (`reception`: front desk, consultants, manager): register a visiting group in seconds (anonymous or
  with a name and mobile), see the day's walk-ins with whom each is offered to, take one (one winner), skip the
  consultant offered with a reason;
- the rotation (`reception` reads it; `rotation`: manager, front desk, sets the day's duty order, marks a
  consultant absent and back); every change is a `rotation_events` row, shown as the audit;
- channel partners (`partners`): the project's 中介 / 分销 (added by the manager or marketing), their
  registrations (报备) with the policy's protection period; a mobile held by another registration is refused
  with the holder and until when.

Rules: domain/reception.py; writes: db/reception.py (nothing is written when a request is refused)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.access import act_in
from api.clock import china_today, now_utc
from api.deps import CipherDep, SessionDep, release_connection, require_roles
from api.strict import RequestModel
from db import reception as db
from db.errors import NotFound
from db.models import User
from db.reception_models import ChannelPartner, PartnerRegistration, WalkIn
from domain.permissions import ACTIONS
from domain.reception import CHANNELS, GROUP_SIZE_MAX, PARTNER_KINDS, SKIP_REASON_MAX

router = APIRouter(tags=["reception"])
Reception = Annotated[User, Depends(require_roles(*ACTIONS["reception"]))]
Rotation = Annotated[User, Depends(require_roles(*ACTIONS["rotation"]))]
Partners = Annotated[User, Depends(require_roles(*ACTIONS["partners"]))]
PARTNER_KEEPERS = ("manager", "marketing")
Keepers = Annotated[User, Depends(require_roles(*PARTNER_KEEPERS))]

Channel = Literal[CHANNELS]  # type: ignore[valid-type]
PartnerKind = Literal[PARTNER_KINDS]  # type: ignore[valid-type]
_CONFLICT = {409: {"description": "Already taken (naming by whom and when), not offered to them, or held by "
                                  "another partner's registration (naming it and until when) (`conflict`)."}}


class Person(BaseModel):
    id: int
    name: str


def _person(names: dict[int, str], uid: int | None) -> Person | None:
    return None if uid is None else Person(id=uid, name=names.get(uid, str(uid)))


# ---------------------------------------------------------------- walk-ins ----------

class WalkInIn(RequestModel):
    group_size: int = Field(ge=1, le=GROUP_SIZE_MAX, description="people in the visiting group")
    first_visit: bool = Field(description="the visitor says it is their first visit (the records may say otherwise)")
    channel: Channel = Field(description="how they heard of the project")
    name: str | None = Field(default=None, max_length=64, description="when the visitor gives it")
    mobile: str | None = Field(default=None, max_length=32, description="when the visitor gives it; never shown back")
    note: str = Field(default="", max_length=500)


class PartnerCredit(BaseModel):
    registration_id: int
    partner_id: int
    partner_name: str
    partner_kind: str
    protected_until: datetime


class WalkInOut(BaseModel):
    id: int
    project_id: int
    arrived_at: datetime
    day: date
    group_size: int
    first_visit: bool
    channel: str
    visitor_name: str | None
    mobile_masked: str | None
    note: str
    returning: bool = Field(description="the mobile is a customer's of the project: reserved for their consultant")
    customer_id: int | None
    reserved_for: Person | None = Field(description="a returning customer's own consultant (撞单 protection)")
    offered_to: Person | None = Field(description="who should take it now: the own consultant or the next in turn")
    consultant: Person | None = Field(description="who took it")
    taken_at: datetime | None
    partner: PartnerCredit | None = Field(description="the partner registration the visit is credited to")


def _walk_in_out(session, views: list[db.WalkInView]) -> list[WalkInOut]:
    names = db._names(session, [x for v in views for x in (v.walk_in.reserved_for, v.offered_to, v.walk_in.consultant_id)])
    out = []
    for v in views:
        w: WalkIn = v.walk_in
        out.append(WalkInOut(
            id=w.id, project_id=w.project_id, arrived_at=w.arrived_at, day=w.day, group_size=w.group_size,
            first_visit=w.first_visit, channel=w.channel, visitor_name=w.visitor_name, mobile_masked=w.mobile_masked,
            note=w.note, returning=w.reserved_for is not None, customer_id=w.customer_id,
            reserved_for=_person(names, w.reserved_for), offered_to=_person(names, v.offered_to),
            consultant=_person(names, w.consultant_id), taken_at=w.taken_at,
            partner=PartnerCredit(**v.partner) if v.partner else None))
    return out


@router.post("/api/projects/{project_id}/walk-ins", response_model=WalkInOut, status_code=status.HTTP_201_CREATED,
             summary="Register a visiting group (anonymous, or with a name and mobile)")
def register_walk_in(project_id: int, body: WalkInIn, session: SessionDep, cipher: CipherDep,
                     user: Reception) -> WalkInOut:
    db.require_project(session, project_id)
    w = db.register_walk_in(session, cipher, project_id=project_id, group_size=body.group_size,
                            first_visit=body.first_visit, channel=body.channel, name=body.name, mobile=body.mobile,
                            note=body.note, actor=user, at=now_utc())
    [out] = _walk_in_out(session, [db.view_of(session, w)])
    session.commit()
    return out


@router.get("/api/projects/{project_id}/walk-ins", response_model=list[WalkInOut],
            summary="A day's walk-ins (default today, China time), newest first, with whom each is offered to")
def list_walk_ins(project_id: int, session: SessionDep, _: Reception, day: date | None = None) -> list[WalkInOut]:
    db.require_project(session, project_id)
    out = _walk_in_out(session, db.walk_ins_of(session, project_id, day or china_today()))
    release_connection(session)
    return out


def _scoped_walk_in(session, user: User, walk_in_id: int) -> WalkIn:
    w = db.walk_in_for(session, walk_in_id)
    act_in(user, w.project_id, f"walk-in {walk_in_id} does not exist")
    return w


class TakeIn(RequestModel):
    consultant_id: int | None = Field(default=None, description="who takes it; a consultant takes for themselves "
                                                                "(the front desk and the manager name the consultant)")
    reason: str | None = Field(default=None, max_length=SKIP_REASON_MAX,
                               description="required out of turn, or for a colleague's returning customer")


@router.post("/api/walk-ins/{walk_in_id}/take", response_model=WalkInOut, responses=_CONFLICT,
             summary="Take the walk-in (a consultant for themselves; front desk / manager for a consultant); "
                     "of concurrent takes one wins, the others get 409 naming the winner")
def take_walk_in(walk_in_id: int, body: TakeIn, session: SessionDep, user: Reception) -> WalkInOut:
    _scoped_walk_in(session, user, walk_in_id)
    if user.role == "sales":
        if body.consultant_id not in (None, user.id):
            raise db.field_error("consultant_id", "a consultant takes walk-ins for themselves only")
        consultant = user.id
    elif body.consultant_id is None:
        raise db.field_error("consultant_id", "say which consultant takes the walk-in", code="missing")
    else:
        consultant = body.consultant_id
    w = db.take_walk_in(session, walk_in_id=walk_in_id, consultant_id=consultant, reason=body.reason, actor=user,
                        at=now_utc())
    [out] = _walk_in_out(session, [db.view_of(session, w)])
    session.commit()
    return out


class SkipIn(RequestModel):
    consultant_id: int = Field(description="the consultant offered now (a guard against skipping twice)")
    reason: str = Field(min_length=1, max_length=SKIP_REASON_MAX, description="why they are passed over")


@router.post("/api/walk-ins/{walk_in_id}/skip", response_model=WalkInOut, responses=_CONFLICT,
             summary="Pass over the consultant offered, with a reason: the next in turn is offered")
def skip_walk_in(walk_in_id: int, body: SkipIn, session: SessionDep, user: Reception) -> WalkInOut:
    _scoped_walk_in(session, user, walk_in_id)
    if user.role == "sales" and body.consultant_id != user.id:
        raise db.field_error("consultant_id", "a consultant may pass over themselves only")
    w = db.skip_walk_in(session, walk_in_id=walk_in_id, consultant_id=body.consultant_id, reason=body.reason,
                        actor=user, at=now_utc())
    [out] = _walk_in_out(session, [db.view_of(session, w)])
    session.commit()
    return out


# ---------------------------------------------------------------- the rotation ----------

class RosterEntryOut(BaseModel):
    consultant: Person
    position: int
    present: bool
    queue_position: int | None = Field(description="1 = next in turn; null while absent")
    taken_today: int


class RotationEventOut(BaseModel):
    id: int
    kind: str = Field(description="roster_set, offered, taken, skipped, absent, back")
    consultant: Person | None
    walk_in_id: int | None
    reason: str | None
    detail: dict[str, Any]
    actor: Person
    at: datetime


class RotationOut(BaseModel):
    project_id: int
    day: date
    roster: list[RosterEntryOut]
    next_in_turn: Person | None
    events: list[RotationEventOut]


def _rotation(session, project_id: int, day: date) -> RotationOut:
    roster, queue = db.queue_of(session, project_id, day)
    audit = db.rotation_audit(session, project_id, day)
    names = db._names(session, [r.consultant_id for r in roster])
    taken: dict[int, int] = {}
    for e in audit:
        if e["kind"] == "taken" and e["consultant_id"] is not None:
            taken[e["consultant_id"]] = taken.get(e["consultant_id"], 0) + 1
    entries = [RosterEntryOut(consultant=_person(names, r.consultant_id), position=r.position, present=r.present,
                              queue_position=(queue.index(r.consultant_id) + 1) if r.consultant_id in queue else None,
                              taken_today=taken.get(r.consultant_id, 0)) for r in roster]
    events = [RotationEventOut(id=e["id"], kind=e["kind"], walk_in_id=e["walk_in_id"], reason=e["reason"],
                               detail=e["detail"], at=e["at"], actor=Person(id=e["actor_id"], name=e["actor_name"]),
                               consultant=None if e["consultant_id"] is None else
                               Person(id=e["consultant_id"], name=e["consultant_name"] or str(e["consultant_id"])))
              for e in audit]
    return RotationOut(project_id=project_id, day=day, roster=entries,
                       next_in_turn=_person(names, queue[0]) if queue else None, events=events)


@router.get("/api/projects/{project_id}/rotation", response_model=RotationOut,
            summary="A day's rotation (default today): the duty order, who is next, the audit")
def get_rotation(project_id: int, session: SessionDep, _: Reception, day: date | None = None) -> RotationOut:
    db.require_project(session, project_id)
    out = _rotation(session, project_id, day or china_today())
    release_connection(session)
    return out


@router.get("/api/projects/{project_id}/consultants", response_model=list[Person],
            summary="The project's active sales consultants (to set the duty order from)")
def list_consultants(project_id: int, session: SessionDep, _: Rotation) -> list[Person]:
    db.require_project(session, project_id)
    out = [Person(id=i, name=n) for i, n in db.consultants_of(session, project_id)]
    release_connection(session)
    return out


class RosterIn(RequestModel):
    consultant_ids: list[int] = Field(max_length=50, description="today's consultants on duty, in rotation order")


@router.put("/api/projects/{project_id}/rotation/roster", response_model=RotationOut,
            summary="Set today's duty order (replaces it; consultants kept keep their absent / present state)")
def set_roster(project_id: int, body: RosterIn, session: SessionDep, user: Rotation) -> RotationOut:
    db.require_project(session, project_id)
    today = china_today()
    db.set_roster(session, project_id=project_id, day=today, consultant_ids=body.consultant_ids, actor=user,
                  at=now_utc())
    out = _rotation(session, project_id, today)
    session.commit()
    return out


class PresenceIn(RequestModel):
    consultant_id: int
    reason: str | None = Field(default=None, max_length=SKIP_REASON_MAX)


@router.post("/api/projects/{project_id}/rotation/absent", response_model=RotationOut, responses=_CONFLICT,
             summary="A consultant steps away: out of the queue until back")
def mark_absent(project_id: int, body: PresenceIn, session: SessionDep, user: Rotation) -> RotationOut:
    db.require_project(session, project_id)
    today = china_today()
    db.set_presence(session, project_id=project_id, day=today, consultant_id=body.consultant_id, present=False,
                    actor=user, at=now_utc(), reason=(body.reason or "").strip() or None)
    out = _rotation(session, project_id, today)
    session.commit()
    return out


@router.post("/api/projects/{project_id}/rotation/back", response_model=RotationOut, responses=_CONFLICT,
             summary="A consultant is back: they rejoin the queue at its back")
def mark_back(project_id: int, body: PresenceIn, session: SessionDep, user: Rotation) -> RotationOut:
    db.require_project(session, project_id)
    today = china_today()
    db.set_presence(session, project_id=project_id, day=today, consultant_id=body.consultant_id, present=True,
                    actor=user, at=now_utc(), reason=(body.reason or "").strip() or None)
    out = _rotation(session, project_id, today)
    session.commit()
    return out


# ---------------------------------------------------------------- channel partners ----------

class PartnerIn(RequestModel):
    name: str = Field(min_length=1, max_length=64)
    kind: PartnerKind = Field(description="agency (中介) or distributor (分销)")
    contact_name: str | None = Field(default=None, max_length=64)
    contact_mobile: str | None = Field(default=None, max_length=32)


class PartnerOut(BaseModel):
    id: int
    project_id: int
    name: str
    kind: str
    contact_name: str | None
    contact_mobile_masked: str | None
    active: bool
    active_registrations: int


def _partner_out(p: ChannelPartner, n: int = 0) -> PartnerOut:
    return PartnerOut(id=p.id, project_id=p.project_id, name=p.name, kind=p.kind, contact_name=p.contact_name,
                      contact_mobile_masked=p.contact_mobile_masked, active=p.active, active_registrations=n)


@router.get("/api/projects/{project_id}/partners", response_model=list[PartnerOut],
            summary="The project's channel partners (中介 / 分销)")
def list_partners(project_id: int, session: SessionDep, _: Partners) -> list[PartnerOut]:
    db.require_project(session, project_id)
    out = [_partner_out(p, n) for p, n in db.partners_of(session, project_id)]
    release_connection(session)
    return out


@router.post("/api/projects/{project_id}/partners", response_model=PartnerOut, status_code=status.HTTP_201_CREATED,
             responses={**_CONFLICT, 403: {"description": "Not the project's manager or marketing (`forbidden`)."}},
             summary="Add a channel partner (manager, marketing)")
def add_partner(project_id: int, body: PartnerIn, session: SessionDep, cipher: CipherDep, user: Keepers) -> PartnerOut:
    db.require_project(session, project_id)
    p = db.add_partner(session, cipher, project_id=project_id, name=body.name, kind=body.kind,
                       contact_name=body.contact_name, contact_mobile=body.contact_mobile, actor=user)
    out = _partner_out(p)
    session.commit()
    return out


class RegistrationIn(RequestModel):
    partner_id: int
    prospect_name: str = Field(min_length=1, max_length=64)
    mobile: str = Field(min_length=1, max_length=32)
    note: str = Field(default="", max_length=500)


class RegistrationOut(BaseModel):
    id: int
    project_id: int
    partner_id: int
    partner_name: str
    partner_kind: str
    prospect_name: str
    mobile_masked: str
    registered_at: datetime
    registered_by: str
    protected_until: datetime
    status: str = Field(description="active, expired (past its protection) or withdrawn")
    visits_credited: int
    note: str


def _status(reg: PartnerRegistration, at: datetime) -> str:
    return "expired" if reg.status == "active" and reg.protected_until <= at else reg.status


def _registration_out(reg: PartnerRegistration, p: ChannelPartner, credited: int, by: str, at: datetime) -> RegistrationOut:
    return RegistrationOut(id=reg.id, project_id=reg.project_id, partner_id=p.id, partner_name=p.name,
                           partner_kind=p.kind, prospect_name=reg.prospect_name, mobile_masked=reg.mobile_masked,
                           registered_at=reg.registered_at, registered_by=by, protected_until=reg.protected_until,
                           status=_status(reg, at), visits_credited=credited, note=reg.note)


@router.get("/api/projects/{project_id}/partner-registrations", response_model=list[RegistrationOut],
            summary="The project's registrations (报备), newest first")
def list_registrations(project_id: int, session: SessionDep, _: Partners, active_only: bool = False,
                       limit: int = Query(default=200, ge=1, le=500)) -> list[RegistrationOut]:
    db.require_project(session, project_id)
    at = now_utc()
    out = [_registration_out(reg, p, n, by, at)
           for reg, p, n, by in db.registrations_of(session, project_id, active_only=active_only, at=at, limit=limit)]
    release_connection(session)
    return out


@router.post("/api/projects/{project_id}/partner-registrations", response_model=RegistrationOut,
             status_code=status.HTTP_201_CREATED, responses=_CONFLICT,
             summary="Register a prospect for a partner (报备): protected for the policy's period; refused with the "
                     "holder and until when while another registration holds the mobile")
def register_prospect(project_id: int, body: RegistrationIn, session: SessionDep, cipher: CipherDep,
                      user: Partners) -> RegistrationOut:
    db.require_project(session, project_id)
    at = now_utc()
    reg = db.register_prospect(session, cipher, project_id=project_id, partner_id=body.partner_id,
                               prospect_name=body.prospect_name, mobile=body.mobile, note=body.note, actor=user, at=at)
    out = _registration_out(reg, session.get(ChannelPartner, reg.partner_id), 0, user.display_name, at)
    session.commit()
    return out


class HolderIn(RequestModel):
    mobile: str = Field(min_length=1, max_length=32)


class HolderOut(BaseModel):
    held: bool
    registration: RegistrationOut | None


@router.post("/api/projects/{project_id}/partner-registrations/holder", response_model=HolderOut,
             summary="Who holds a mobile now (报备查询), by its blind index; the mobile stays out of the URL")
def registration_holder(project_id: int, body: HolderIn, session: SessionDep, cipher: CipherDep,
                        _: Partners) -> HolderOut:
    db.require_project(session, project_id)
    at = now_utc()
    found = db.registration_holder(session, cipher, project_id=project_id, mobile=body.mobile, at=at)
    if found is None:
        release_connection(session)
        return HolderOut(held=False, registration=None)
    reg, p = found
    by = db._names(session, [reg.registered_by]).get(reg.registered_by, "")
    credited = session.scalar(select(func.count()).where(WalkIn.registration_id == reg.id))
    out = HolderOut(held=True, registration=_registration_out(reg, p, credited, by, at))
    release_connection(session)
    return out


@router.post("/api/partner-registrations/{registration_id}/withdraw", response_model=RegistrationOut,
             responses={**_CONFLICT, 403: {"description": "Not the project's manager or marketing (`forbidden`)."}},
             summary="Withdraw a registration (manager, marketing): the mobile is free again")
def withdraw_registration(registration_id: int, session: SessionDep, user: Keepers) -> RegistrationOut:
    reg = session.get(PartnerRegistration, registration_id)
    if reg is None:
        raise NotFound(f"registration {registration_id} does not exist")
    act_in(user, reg.project_id, f"registration {registration_id} does not exist")
    reg = db.withdraw_registration(session, registration_id)
    p = session.get(ChannelPartner, reg.partner_id)
    by = db._names(session, [reg.registered_by]).get(reg.registered_by, "")
    out = _registration_out(reg, p, 0, by, now_utc())
    session.commit()
    return out
