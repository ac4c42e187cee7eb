"""Out-of-office substitutes (代理): a person, or a manager of a project they work in, names a colleague who
acts for them over a period. While it is in force the substitute holds the delegator's roles in the
delegator's scopes (db.org.load_access), sees the tasks the delegator claimed, and each step they take is
recorded as theirs on the delegator's behalf ("李 (代 王)"); four eyes counts both. Ending it (or its end
date passing) stops it; the row stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.models import User
from db.org import load_access
from db.org_models import Delegation


def _person(session: Session, user_id: int) -> User:
    u = session.get(User, user_id)
    if u is None:
        raise NotFound(f"user {user_id} does not exist")
    return u


def may_manage(actor: User, delegator_id: int, session: Session) -> bool:
    """The delegator themselves, or a manager of a project where the delegator holds a role."""
    if actor.id == delegator_id:
        return True
    mine = actor.access.projects_for(["manager"])  # type: ignore[attr-defined]
    theirs = load_access(session, delegator_id)
    if mine is None:
        return True
    return any(theirs.roles_in(p) for p in mine)


def create(session: Session, actor: User, *, delegator_id: int, substitute_id: int, starts_at: datetime,
           ends_at: datetime, reason: str, now: datetime) -> Delegation:
    delegator, substitute = _person(session, delegator_id), _person(session, substitute_id)
    if not may_manage(actor, delegator.id, session):
        raise Forbidden("only the person or a manager of a project they work in may name their substitute")
    if substitute.id == delegator.id:
        raise Invalid("a person cannot stand in for themselves; choose a colleague")
    if not substitute.active:
        raise Invalid(f"{substitute.display_name} is deactivated and cannot stand in for anyone")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Invalid("give the start and end with a time zone (e.g. 2026-12-08T09:00:00+08:00)")
    if ends_at <= starts_at:
        raise Invalid("the end must come after the start")
    if ends_at <= now:
        raise Invalid("the period has already ended")
    if not reason.strip():
        raise Invalid("give a reason (e.g. annual leave)")
    overlap = session.scalar(select(Delegation).where(
        Delegation.delegator_id == delegator.id, Delegation.ended_at.is_(None),
        Delegation.starts_at < ends_at, Delegation.ends_at > starts_at).limit(1))
    if overlap is not None:
        holder = session.get(User, overlap.substitute_id)
        raise Conflict(f"{delegator.display_name} already has a substitute ({holder.display_name}) from "
                       f"{overlap.starts_at.isoformat()} to {overlap.ends_at.isoformat()}; end that one first")
    d = Delegation(delegator_id=delegator.id, substitute_id=substitute.id, starts_at=starts_at, ends_at=ends_at,
                   reason=reason.strip(), created_by=actor.id)
    session.add(d)
    session.flush()
    return d


def end(session: Session, actor: User, delegation_id: int, now: datetime) -> Delegation:
    d = session.get(Delegation, delegation_id)
    if d is None or not (actor.id in (d.delegator_id, d.substitute_id) or may_manage(actor, d.delegator_id, session)):
        raise NotFound(f"delegation {delegation_id} does not exist")
    if d.ended_at is not None:
        raise Conflict(f"delegation {delegation_id} has already ended")
    d.ended_at, d.ended_by = now, actor.id
    session.flush()
    return d


def of_person(session: Session, user_id: int) -> list[Delegation]:
    """Delegations where the person is the delegator or the substitute, newest first."""
    return list(session.scalars(
        select(Delegation).where(or_(Delegation.delegator_id == user_id, Delegation.substitute_id == user_id))
        .order_by(Delegation.starts_at.desc(), Delegation.id.desc())
    ))
