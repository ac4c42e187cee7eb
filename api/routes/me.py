"""Who the caller is: their person, memberships, projects (with the roles held in each) and the actions
they may take, so that a screen shows what its person may do without a copy of the role lists."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from api.access import access_of
from api.deps import CurrentUser, SessionDep
from db.models import Project
from db.org_models import CityCompany, Membership
from domain.permissions import actions_of

router = APIRouter(prefix="/api/me", tags=["auth"])


class MembershipOut(BaseModel):
    id: int
    role: str
    scope: str
    project_id: int | None
    project_name: str | None
    city_company_id: int | None
    city_company_name: str | None


class MyProject(BaseModel):
    id: int
    name: str
    city_company_id: int
    city_company_name: str
    roles: list[str]
    actions: list[str]


class PersonOut(BaseModel):
    """A person as screens show them (no password, the mobile masked)."""

    id: int
    username: str
    display_name: str
    employee_no: str | None
    mobile_masked: str | None
    primary_role: str
    must_change_password: bool


class MeOut(PersonOut):
    roles: list[str]
    actions: list[str]
    memberships: list[MembershipOut]
    projects: list[MyProject]


@router.get("", response_model=MeOut, summary="The caller: person, memberships, projects and permitted actions")
def me(user: CurrentUser, session: SessionDep) -> MeOut:
    access = access_of(user)
    rows = session.execute(
        select(Membership, Project.name, CityCompany.name)
        .outerjoin(Project, Project.id == Membership.project_id)
        .outerjoin(CityCompany, CityCompany.id == Membership.city_company_id)
        .where(Membership.user_id == user.id, Membership.revoked_at.is_(None))
        .order_by(Membership.id)
    ).all()
    visible = access.projects_for(access.roles)
    q = select(Project.id, Project.name, Project.city_company_id, CityCompany.name).join(
        CityCompany, CityCompany.id == Project.city_company_id).order_by(Project.id)
    if visible is not None:
        q = q.where(Project.id.in_(sorted(visible) or [-1]))
    projects = []
    for pid, name, cid, cname in session.execute(q):
        roles = sorted(access.roles_in(pid))
        projects.append(MyProject(id=pid, name=name, city_company_id=cid, city_company_name=cname, roles=roles,
                                  actions=actions_of(roles)))
    return MeOut(
        id=user.id, username=user.username, display_name=user.display_name, employee_no=user.employee_no,
        mobile_masked=user.mobile_masked, primary_role=user.role, must_change_password=user.must_change_password,
        roles=sorted(access.roles), actions=actions_of(access.roles),
        memberships=[MembershipOut(id=m.id, role=m.role, scope=m.scope, project_id=m.project_id, project_name=pn,
                                   city_company_id=m.city_company_id, city_company_name=cn) for m, pn, cn in rows],
        projects=projects,
    )
