"""Reception in the database (issue 15): walk-ins, today's rotation and its audit, channel partners and their
registrations (报备). The caller owns the transaction (routes commit once); a refusal raises before anything is
written, so nothing is half-written. Rules: domain/reception.py.

Concurrency: a walk-in is taken by one consultant only (a conditional UPDATE ... WHERE consultant_id IS NULL:
of concurrent takes one wins, the others get 409 naming the winner); a skip locks the walk-in's row, so it
serialises with the take; roster changes of a day and registrations of a mobile are serialised by
transaction-level advisory locks. Mobiles are looked up by their blind index only, never in clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from db.customer_models import CustomerVisit
from db.errors import Conflict, Invalid, NotFound
from db.models import Customer, Project, User
from db.org import load_access
from db.pii import PiiCipher
from db.reception_models import ChannelPartner, DutyRoster, PartnerRegistration, RotationEvent, WalkIn
from db.sales_policy import sales_policy
from domain import reception as rules
from domain.calendar import CHINA, china_date
from domain.identity import InvalidIdentity, mask_mobile, normalize_mobile


def field_error(field: str, message: str | None = None, code: str = "invalid", cls: type = Invalid, *,
                key: str | None = None, **params):
    """A refusal about one field of the body: 422 (or `cls`) naming it; `key` and its params: a code of the error
    catalogue (domain/messages.py), worded in the reader's language."""
    err = cls(key=key, params=params) if key else cls(message)
    err.errors = ({"field": f"body.{field}", "code": code, "message": err.message},)
    return err


def normalized_mobile(raw: str, field: str = "mobile") -> str:
    try:
        return normalize_mobile(raw)
    except InvalidIdentity as e:
        raise field_error(field, str(e)) from None


def require_project(session: Session, project_id: int) -> None:
    """404 for a project that does not exist (scoping lets an unknown id through to the route)."""
    if session.scalar(select(Project.id).where(Project.id == project_id)) is None:
        raise NotFound(f"project {project_id} does not exist")


def _lock(session: Session, key: str) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def _names(session: Session, ids) -> dict[int, str]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# ---------------------------------------------------------------- consultants and the roster ----------

_CONSULTANTS = text("""
    SELECT DISTINCT u.id, u.display_name FROM memberships m JOIN projects p ON p.id = :pid
    JOIN users u ON u.id = m.user_id AND u.active
    WHERE m.role = 'sales' AND m.revoked_at IS NULL
      AND (m.project_id = p.id OR m.city_company_id = p.city_company_id OR m.scope = 'group')
    ORDER BY u.id
""")


def consultants_of(session: Session, project_id: int) -> list[tuple[int, str]]:
    """The active sales consultants of a project (project, city company or group memberships)."""
    return [(i, n) for i, n in session.execute(_CONSULTANTS, {"pid": project_id}).all()]


def is_consultant(session: Session, user_id: int, project_id: int) -> bool:
    u = session.get(User, user_id)
    return u is not None and u.active and "sales" in load_access(session, user_id).roles_in(project_id)


def roster_of(session: Session, project_id: int, day: date) -> list[DutyRoster]:
    return list(session.scalars(select(DutyRoster).where(DutyRoster.project_id == project_id, DutyRoster.day == day)
                                .order_by(DutyRoster.position)))


def _queue_events(session: Session, project_id: int, day: date) -> list[rules.QueueEvent]:
    rows = session.execute(
        select(RotationEvent.kind, RotationEvent.consultant_id, RotationEvent.detail)
        .where(RotationEvent.project_id == project_id, RotationEvent.day == day,
               RotationEvent.kind.in_(("taken", "absent", "back")))
        .order_by(RotationEvent.id)).all()
    return [rules.QueueEvent(kind, who, moves=(detail or {}).get("how") in ("in_turn", "out_of_turn"))
            for kind, who, detail in rows if who is not None]


def queue_of(session: Session, project_id: int, day: date) -> tuple[list[DutyRoster], list[int]]:
    """The day's roster and its queue now (the next in turn first)."""
    roster = roster_of(session, project_id, day)
    queue = rules.rotation_queue([rules.RosterEntry(r.consultant_id, r.position) for r in roster],
                                 _queue_events(session, project_id, day))
    # the queue follows the events; the roster's present flag is the same truth, kept for reading
    present = {r.consultant_id for r in roster if r.present}
    return roster, [c for c in queue if c in present]


def _event(session: Session, *, project_id: int, day: date, kind: str, actor: User, at: datetime,
           consultant_id: int | None = None, walk_in_id: int | None = None, reason: str | None = None,
           detail: dict | None = None) -> None:
    session.add(RotationEvent(project_id=project_id, day=day, kind=kind, consultant_id=consultant_id,
                              walk_in_id=walk_in_id, reason=reason, detail=detail or {}, actor_id=actor.id, at=at))


def set_roster(session: Session, *, project_id: int, day: date, consultant_ids: list[int], actor: User,
               at: datetime) -> None:
    """The day's duty order (replacing the one set before): each an active consultant of the project, once.
    A consultant kept on the roster keeps their present / absent state."""
    if not consultant_ids:
        raise field_error("consultant_ids", key="reception.roster_empty")
    if len(set(consultant_ids)) != len(consultant_ids):
        raise field_error("consultant_ids", key="reception.roster_twice")
    bad = [c for c in consultant_ids if not is_consultant(session, c, project_id)]
    if bad:
        raise field_error("consultant_ids", key="reception.not_consultant", user=bad[0])
    _lock(session, f"roster:{project_id}:{day}")
    old = {r.consultant_id: r for r in roster_of(session, project_id, day)}
    for r in old.values():
        if r.consultant_id not in consultant_ids:
            session.delete(r)
    session.flush()
    for pos, cid in enumerate(consultant_ids, start=1):
        if cid in old:
            old[cid].position = pos
        else:
            session.add(DutyRoster(project_id=project_id, day=day, consultant_id=cid, position=pos, present=True))
    _event(session, project_id=project_id, day=day, kind="roster_set", actor=actor, at=at,
           detail={"order": consultant_ids})
    session.flush()


def set_presence(session: Session, *, project_id: int, day: date, consultant_id: int, present: bool, actor: User,
                 at: datetime, reason: str | None) -> None:
    """Absent (drops out of the queue) or back (rejoins at its back); once each way: 409 when already so."""
    row = session.scalar(select(DutyRoster).where(DutyRoster.project_id == project_id, DutyRoster.day == day,
                                                  DutyRoster.consultant_id == consultant_id))
    if row is None:
        raise field_error("consultant_id", key="reception.not_on_roster", user=consultant_id)
    changed = session.execute(
        update(DutyRoster).where(DutyRoster.id == row.id, DutyRoster.present.is_(not present))
        .values(present=present).returning(DutyRoster.id)).first()
    if changed is None:
        name = _names(session, [consultant_id]).get(consultant_id, str(consultant_id))
        raise Conflict(key="reception.already_back" if present else "reception.already_absent", params={"name": name})
    _event(session, project_id=project_id, day=day, kind="back" if present else "absent", actor=actor, at=at,
           consultant_id=consultant_id, reason=reason)
    session.flush()


def rotation_audit(session: Session, project_id: int, day: date) -> list[dict[str, Any]]:
    rows = list(session.scalars(select(RotationEvent).where(RotationEvent.project_id == project_id,
                                                            RotationEvent.day == day).order_by(RotationEvent.id)))
    names = _names(session, [r.consultant_id for r in rows] + [r.actor_id for r in rows])
    return [dict(id=r.id, kind=r.kind, consultant_id=r.consultant_id, consultant_name=names.get(r.consultant_id),
                 walk_in_id=r.walk_in_id, reason=r.reason, detail=r.detail or {}, actor_id=r.actor_id,
                 actor_name=names.get(r.actor_id, ""), at=r.at) for r in rows]


# ---------------------------------------------------------------- walk-ins ----------

def active_registration(session: Session, project_id: int, bidx: str, at: datetime) -> PartnerRegistration | None:
    return session.scalar(
        select(PartnerRegistration).where(PartnerRegistration.project_id == project_id,
                                          PartnerRegistration.mobile_bidx == bidx,
                                          PartnerRegistration.status == "active",
                                          PartnerRegistration.protected_until > at)
        .order_by(PartnerRegistration.registered_at).limit(1))


def register_walk_in(session: Session, cipher: PiiCipher, *, project_id: int, group_size: int, first_visit: bool,
                     channel: str, name: str | None, mobile: str | None, note: str, actor: User,
                     at: datetime) -> WalkIn:
    """A visiting group, anonymous or named. A mobile that is a customer's of the project reserves the walk-in
    for that customer's consultant (撞单 protection) and records the customer's visit; one a partner holds is
    credited to the partner; otherwise the next in turn is offered."""
    name = (name or "").strip() or None
    bidx = masked = enc = None
    if mobile is not None and mobile.strip():
        norm = normalized_mobile(mobile)
        bidx, masked, enc = cipher.blind_index("mobile", norm), mask_mobile(norm), cipher.encrypt(norm)
    day = china_date(at)
    customer_id = reserved = registration_id = None
    visited_before = False
    if bidx is not None:
        customers = session.execute(select(Customer.id, Customer.consultant_id).where(
            Customer.project_id == project_id, Customer.mobile_bidx == bidx).order_by(Customer.id.desc())).all()
        choice = rules.assignment_for([c for _, c in customers])
        if customers:
            customer_id = next((i for i, c in customers if c == choice.consultant_id), customers[0][0])
        reserved = choice.consultant_id
        earlier_walk_in = exists().where(WalkIn.project_id == project_id, WalkIn.mobile_bidx == bidx)
        earlier_visit = exists().where(CustomerVisit.customer_id.in_([i for i, _ in customers] or [-1]))
        visited_before = bool(session.scalar(select(or_(earlier_walk_in, earlier_visit))))
        reg = active_registration(session, project_id, bidx, at)
        registration_id = reg.id if reg is not None else None
    w = WalkIn(project_id=project_id, arrived_at=at, day=day, group_size=group_size,
               first_visit=rules.is_first_visit(first_visit, visited_before), channel=channel, visitor_name=name,
               mobile_enc=enc, mobile_bidx=bidx, mobile_masked=masked, note=note.strip(), customer_id=customer_id,
               registration_id=registration_id, reserved_for=reserved, registered_by=actor.id)
    session.add(w)
    session.flush()
    if customer_id is not None:  # the customer's own record shows the visit too (counted once: see db/stats.py)
        v = CustomerVisit(customer_id=customer_id, visited_at=at, group_size=group_size,
                          note=f"来访登记 #{w.id}", recorded_by=actor.id)
        session.add(v)
        session.flush()
        w.customer_visit_id = v.id
    if reserved is not None:
        _event(session, project_id=project_id, day=day, kind="offered", actor=actor, at=at, consultant_id=reserved,
               walk_in_id=w.id, detail={"how": "own"})
    else:
        _, queue = queue_of(session, project_id, day)
        offered = rules.next_in_turn(queue)
        if offered is not None:
            _event(session, project_id=project_id, day=day, kind="offered", actor=actor, at=at,
                   consultant_id=offered, walk_in_id=w.id, detail={"how": "in_turn"})
    session.flush()
    return w


def walk_in_for(session: Session, walk_in_id: int, *, for_update: bool = False) -> WalkIn:
    stmt = select(WalkIn).where(WalkIn.id == walk_in_id)
    if for_update:
        stmt = stmt.with_for_update()
    w = session.scalar(stmt)
    if w is None:
        raise NotFound(key="record.not_found", params={"record": "walk-in", "id": walk_in_id})
    return w


def _skipped(session: Session, walk_in_id: int) -> list[int]:
    return list(session.scalars(select(RotationEvent.consultant_id).where(
        RotationEvent.walk_in_id == walk_in_id, RotationEvent.kind == "skipped")))


def offered_to(session: Session, w: WalkIn, queue: list[int] | None = None) -> int | None:
    """Who the walk-in is offered to now: its own consultant, else the first in the queue not skipped for it;
    None once it is taken (or when nobody is left)."""
    if w.consultant_id is not None:
        return None
    if w.reserved_for is not None:
        return w.reserved_for
    if queue is None:
        _, queue = queue_of(session, w.project_id, w.day)
    return rules.next_in_turn(queue, _skipped(session, w.id))


def _taken_answer(session: Session, w: WalkIn) -> Conflict:
    name = _names(session, [w.consultant_id]).get(w.consultant_id, str(w.consultant_id))
    at = w.taken_at.astimezone(CHINA).strftime("%H:%M:%S")
    return Conflict(key="reception.taken", params={"walk_in": w.id, "name": name, "at": at})


def take_walk_in(session: Session, *, walk_in_id: int, consultant_id: int, reason: str | None, actor: User,
                 at: datetime) -> WalkIn:
    """`consultant_id` takes the walk-in: one winner under concurrency. The walk-in's row is locked first, so the
    turn and the reason are judged on the rotation as it stands once any concurrent take of it has committed (a
    loser then answers 409 "taken", never a turn question about a walk-in already gone); the UPDATE stays
    conditional all the same."""
    w = walk_in_for(session, walk_in_id)
    session.refresh(w, with_for_update=True)
    if w.consultant_id is not None:
        raise _taken_answer(session, w)
    roster, queue = queue_of(session, w.project_id, w.day)
    offered = offered_to(session, w, queue)
    how = rules.may_take(reserved_for=w.reserved_for, taker=consultant_id, queue=queue, offered=offered,
                         reserved_present=w.reserved_for in queue)
    names = _names(session, [consultant_id, w.reserved_for, offered])
    if how == "reserved":
        raise Conflict(key="reception.reserved", params={"name": names.get(w.reserved_for, str(w.reserved_for))})
    if how == "off_duty":
        raise field_error("consultant_id", cls=Conflict, key="reception.off_duty",
                          name=names.get(consultant_id, str(consultant_id)))
    if how in ("out_of_turn", "cover") and not (reason or "").strip():
        whose = names.get(offered) if how == "out_of_turn" else names.get(w.reserved_for)
        raise field_error("reason", code="missing", key="reception.take_needs_reason", name=whose)
    won = session.execute(
        update(WalkIn).where(WalkIn.id == w.id, WalkIn.consultant_id.is_(None))
        .values(consultant_id=consultant_id, taken_at=at).returning(WalkIn.id)).first()
    if won is None:
        session.refresh(w)
        raise _taken_answer(session, w)
    _event(session, project_id=w.project_id, day=w.day, kind="taken", actor=actor, at=at, consultant_id=consultant_id,
           walk_in_id=w.id, reason=(reason or "").strip() or None, detail={"how": how, "offered": offered})
    session.flush()
    session.refresh(w)
    return w


def skip_walk_in(session: Session, *, walk_in_id: int, consultant_id: int, reason: str, actor: User,
                 at: datetime) -> WalkIn:
    """Pass over the consultant offered (with a reason); the next in turn is offered."""
    if not reason.strip():
        raise field_error("reason", code="missing", key="reception.skip_needs_reason")
    w = walk_in_for(session, walk_in_id, for_update=True)
    if w.consultant_id is not None:
        raise _taken_answer(session, w)
    if w.reserved_for is not None:
        raise Conflict(key="reception.skip_reserved")
    _, queue = queue_of(session, w.project_id, w.day)
    offered = offered_to(session, w, queue)
    if offered != consultant_id:
        names = _names(session, [offered, consultant_id])
        now = names.get(offered, "nobody") if offered is not None else "nobody"
        raise field_error("consultant_id", cls=Conflict, key="reception.offered_to_other", offered=now,
                          name=names.get(consultant_id, str(consultant_id)))
    _event(session, project_id=w.project_id, day=w.day, kind="skipped", actor=actor, at=at, consultant_id=consultant_id,
           walk_in_id=w.id, reason=reason.strip())
    nxt = rules.next_in_turn(queue, [*_skipped(session, w.id), consultant_id])
    if nxt is not None:
        _event(session, project_id=w.project_id, day=w.day, kind="offered", actor=actor, at=at, consultant_id=nxt,
               walk_in_id=w.id, detail={"how": "in_turn"})
    session.flush()
    return w


@dataclass
class WalkInView:
    walk_in: WalkIn
    offered_to: int | None
    partner: dict[str, Any] | None


def walk_ins_of(session: Session, project_id: int, day: date) -> list[WalkInView]:
    rows = list(session.scalars(select(WalkIn).where(WalkIn.project_id == project_id, WalkIn.day == day)
                                .order_by(WalkIn.arrived_at.desc(), WalkIn.id.desc())))
    _, queue = queue_of(session, project_id, day)
    partners = partner_of_registrations(session, [w.registration_id for w in rows])
    return [WalkInView(w, offered_to(session, w, queue), partners.get(w.registration_id)) for w in rows]


def view_of(session: Session, w: WalkIn) -> WalkInView:
    return WalkInView(w, offered_to(session, w), partner_of_registrations(session, [w.registration_id]).get(w.registration_id))


def partner_of_registrations(session: Session, ids) -> dict[int, dict[str, Any]]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(select(PartnerRegistration.id, PartnerRegistration.protected_until, ChannelPartner.id,
                                  ChannelPartner.name, ChannelPartner.kind)
                           .join(ChannelPartner, ChannelPartner.id == PartnerRegistration.partner_id)
                           .where(PartnerRegistration.id.in_(ids))).all()
    return {rid: {"registration_id": rid, "partner_id": pid, "partner_name": name, "partner_kind": kind,
                  "protected_until": until} for rid, until, pid, name, kind in rows}


def walk_in_counts(session: Session, project_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    """(groups, first visits) of the walk-ins that arrived in [start, end)."""
    groups, first = session.execute(
        select(func.count(), func.count().filter(WalkIn.first_visit))
        .where(WalkIn.project_id == project_id, WalkIn.arrived_at >= start, WalkIn.arrived_at < end)).one()
    return groups, first


# ---------------------------------------------------------------- channel partners ----------

def add_partner(session: Session, cipher: PiiCipher, *, project_id: int, name: str, kind: str,
                contact_name: str | None, contact_mobile: str | None, actor: User) -> ChannelPartner:
    name = name.strip()
    if not name:
        raise field_error("name", code="missing", key="partner.name_empty")
    norm = normalized_mobile(contact_mobile, "contact_mobile") if contact_mobile and contact_mobile.strip() else None
    _lock(session, f"partner:{project_id}:{name}")
    if session.scalar(select(ChannelPartner.id).where(ChannelPartner.project_id == project_id,
                                                      ChannelPartner.name == name)) is not None:
        raise field_error("name", code="duplicate", cls=Conflict, key="partner.name_taken", name=name)
    p = ChannelPartner(project_id=project_id, name=name, kind=kind, contact_name=(contact_name or "").strip() or None,
                       contact_mobile_enc=cipher.encrypt(norm) if norm else None,
                       contact_mobile_masked=mask_mobile(norm) if norm else None, active=True, created_by=actor.id)
    session.add(p)
    session.flush()
    return p


def partners_of(session: Session, project_id: int) -> list[tuple[ChannelPartner, int]]:
    """The project's partners with how many registrations protect a prospect now."""
    now = func.now()
    active = (select(func.count()).where(PartnerRegistration.partner_id == ChannelPartner.id,
                                         PartnerRegistration.status == "active",
                                         PartnerRegistration.protected_until > now).scalar_subquery())
    return [(p, n) for p, n in session.execute(select(ChannelPartner, active).where(
        ChannelPartner.project_id == project_id).order_by(ChannelPartner.name)).all()]


def holder_params(partner: ChannelPartner, reg: PartnerRegistration) -> dict[str, str]:
    """Who holds a registered mobile and until when (China time): the parameters of partner.mobile_registered."""
    return {"name": partner.name, "kind": partner.kind,
            "until": reg.protected_until.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")}


def register_prospect(session: Session, cipher: PiiCipher, *, project_id: int, partner_id: int, prospect_name: str,
                      mobile: str, note: str, actor: User, at: datetime) -> PartnerRegistration:
    """报备: the partner holds the prospect for the policy's protection period. Refused (409, naming the holder
    and until when) while another registration protects the same mobile, and when the prospect has already
    visited the sales office or is its customer (the office found them first)."""
    prospect_name = prospect_name.strip()
    if not prospect_name:
        raise field_error("prospect_name", code="missing", key="partner.prospect_name_empty")
    partner = session.get(ChannelPartner, partner_id)
    if partner is None or partner.project_id != project_id:
        raise field_error("partner_id", key="partner.not_of_project", partner=partner_id)
    if not partner.active:
        raise field_error("partner_id", key="partner.inactive", name=partner.name)
    norm = normalized_mobile(mobile)
    bidx = cipher.blind_index("mobile", norm)
    _lock(session, f"registration:{project_id}:{bidx}")
    held = active_registration(session, project_id, bidx, at)
    if held is not None:
        holder = session.get(ChannelPartner, held.partner_id)
        raise field_error("mobile", code="registered", cls=Conflict, key="partner.mobile_registered",
                          **holder_params(holder, held))
    visited = session.scalar(select(func.min(WalkIn.arrived_at)).where(WalkIn.project_id == project_id,
                                                                     WalkIn.mobile_bidx == bidx))
    known = session.scalar(select(Customer.id).where(Customer.project_id == project_id, Customer.mobile_bidx == bidx)
                           .limit(1))
    if visited is not None or known is not None:
        if visited is not None:
            raise field_error("mobile", code="visited", cls=Conflict, key="partner.prospect_visited_since",
                              since=visited.astimezone(CHINA).date())
        raise field_error("mobile", code="visited", cls=Conflict, key="partner.prospect_known")
    days = sales_policy(session, project_id).partner_protection_days
    reg = PartnerRegistration(project_id=project_id, partner_id=partner.id, prospect_name=prospect_name,
                              mobile_enc=cipher.encrypt(norm), mobile_bidx=bidx, mobile_masked=mask_mobile(norm),
                              registered_by=actor.id, registered_at=at,
                              protected_until=rules.protected_until(at, days), status="active", note=note.strip())
    session.add(reg)
    session.flush()
    return reg


def registration_holder(session: Session, cipher: PiiCipher, *, project_id: int, mobile: str,
                        at: datetime) -> tuple[PartnerRegistration, ChannelPartner] | None:
    bidx = cipher.blind_index("mobile", normalized_mobile(mobile))
    reg = active_registration(session, project_id, bidx, at)
    return None if reg is None else (reg, session.get(ChannelPartner, reg.partner_id))


def registrations_of(session: Session, project_id: int, *, active_only: bool, at: datetime,
                     limit: int) -> list[tuple[PartnerRegistration, ChannelPartner, int, str]]:
    """The project's registrations, newest first, with their partner, the walk-ins credited and who registered."""
    credited = (select(func.count()).where(WalkIn.registration_id == PartnerRegistration.id).scalar_subquery())
    q = (select(PartnerRegistration, ChannelPartner, credited, User.display_name)
         .join(ChannelPartner, ChannelPartner.id == PartnerRegistration.partner_id)
         .join(User, User.id == PartnerRegistration.registered_by)
         .where(PartnerRegistration.project_id == project_id))
    if active_only:
        q = q.where(and_(PartnerRegistration.status == "active", PartnerRegistration.protected_until > at))
    return [tuple(r) for r in session.execute(q.order_by(PartnerRegistration.registered_at.desc(),
                                                         PartnerRegistration.id.desc()).limit(limit)).all()]


def withdraw_registration(session: Session, registration_id: int) -> PartnerRegistration:
    reg = session.scalar(select(PartnerRegistration).where(PartnerRegistration.id == registration_id).with_for_update())
    if reg is None:
        raise NotFound(key="record.not_found", params={"record": "registration", "id": registration_id})
    if reg.status != "active":
        raise Conflict(key="partner.registration_withdrawn", params={"registration": registration_id})
    reg.status = "withdrawn"
    session.flush()
    return reg


def today_of(at: datetime) -> date:
    return china_date(at)

