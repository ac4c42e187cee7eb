"""The organisation's records: city companies, memberships, and a person's resolved access."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Project
from db.org_models import CityCompany, Membership
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


def load_access(session: Session, user_id: int) -> Access:
    """The person's live memberships, resolved (city memberships to the city's projects): two queries."""
    grants = [
        Grant(role, scope, project_id, city_id)
        for role, scope, project_id, city_id in session.execute(
            select(Membership.role, Membership.scope, Membership.project_id, Membership.city_company_id)
            .where(Membership.user_id == user_id, Membership.revoked_at.is_(None))
        )
    ]
    cities = {g.city_company_id for g in grants if g.scope == "city"}
    city_projects: dict[int, list[int]] = {}
    if cities:
        for pid, cid in session.execute(select(Project.id, Project.city_company_id).where(Project.city_company_id.in_(cities))):
            city_projects.setdefault(cid, []).append(pid)
    return Access.resolve(grants, city_projects)
