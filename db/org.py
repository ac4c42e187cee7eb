"""The organisation's records: city companies, memberships, and a person's resolved access."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Project, User
from db.org_models import CityCompany, Delegation, Membership
from domain.access import Access, Grant


def city_company_id(session: Session, name: str) -> int:
    """The id of the city company of this name, created when there is none (flushes)."""
    found = session.scalar(select(CityCompany.id).where(CityCompany.name == name))
    if found is not None:
        return found
    c = CityCompany(name=name)
    session.add(c)
    session.flush()
    return c.id


def grant(session: Session, user_id: int, role: str, *, project_id: int | None = None,
          city_company_id: int | None = None, by: int | None = None) -> Membership:
    """A membership (flushes). The scope follows from what is named: a project, a city company, or neither
    (the group). Checked by the database (membership_scope); the API checks it first with a message."""
    scope = "project" if project_id is not None else "city" if city_company_id is not None else "group"
    m = Membership(user_id=user_id, role=role, scope=scope, project_id=project_id, city_company_id=city_company_id,
                   granted_by=by)
    session.add(m)
    session.flush()
    return m


def _grants(session: Session, user_ids: list[int]) -> list[tuple[int, Grant]]:
    return [
        (user_id, Grant(role, scope, project_id, city_id))
        for user_id, role, scope, project_id, city_id in session.execute(
            select(Membership.user_id, Membership.role, Membership.scope, Membership.project_id,
                   Membership.city_company_id)
            .where(Membership.user_id.in_(user_ids), Membership.revoked_at.is_(None))
        )
    ]


def load_access(session: Session, user_id: int, *, now: datetime | None = None) -> Access:
    """The person's live memberships, resolved (city memberships to the city's projects), with the roles of
    the active colleagues they stand in for now (a delegation in force, not ended): three queries at most."""
    now = now or datetime.now(timezone.utc)
    delegators = list(session.scalars(
        select(Delegation.delegator_id).join(User, User.id == Delegation.delegator_id)
        .where(Delegation.substitute_id == user_id, Delegation.ended_at.is_(None), Delegation.starts_at <= now,
               Delegation.ends_at > now, User.active.is_(True))
    ))
    rows = _grants(session, [user_id, *delegators])
    grants = [g for uid, g in rows if uid == user_id]
    lent = [(uid, g) for uid, g in rows if uid != user_id]
    cities = {g.city_company_id for _, g in rows if g.scope == "city"}
    city_projects: dict[int, list[int]] = {}
    if cities:
        for pid, cid in session.execute(select(Project.id, Project.city_company_id).where(Project.city_company_id.in_(cities))):
            city_projects.setdefault(cid, []).append(pid)
    return Access.resolve(grants, city_projects, lent)
