"""The organisation's administration (roles admin and ops): city companies, projects, people, their
memberships and the people import.

A change to who may do what takes effect at the person's next request in this API process (their cached
sign-ins are dropped) and within USER_CACHE_TTL_S in the others; deactivating a person or resetting their
password also ends every sign-in session of theirs. Every grant and revocation records the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile, status
from pydantic import BaseModel, Field

from api.clock import now_utc
from api.deps import CipherDep, SessionDep, release_connection, require_roles, user_cache
from api.routes.me import MembershipOut as MyMembershipOut
from api.routes.me import PersonOut
from api.security import hash_password
from api.strict import RequestModel
from db import admin as svc
from db.errors import TooLarge
from db.inventory import read_table
from db.models import Project, User
from db.org_models import CityCompany

router = APIRouter(prefix="/api/admin", tags=["admin"])

Admin = Annotated[User, Depends(require_roles("admin", "ops"))]

MAX_UPLOAD = 5 * 1024 * 1024
_NOT_FOUND = {404: {"description": "A record the body or the query names does not exist (`not_found`)."}}
_BAD_ROWS_422 = {422: {"description": "The request is malformed (`validation_error`), the file is not a readable XLSX "
                                      "(`invalid`), or it has bad rows (`invalid`: the message names the lines and "
                                      "reasons, `errors` has one item per bad cell: `line`, the column as `field`, "
                                      "the reason as `message`); nobody is imported."}}


# ---------------------------------------------------------------- schemas ----------


class CityCompanyIn(RequestModel):
    name: str = Field(min_length=1, max_length=64)


class CityCompanyOut(BaseModel):
    id: int
    name: str
    created_at: datetime


class ProjectIn(RequestModel):
    name: str = Field(min_length=1, max_length=128)
    city: str = Field(min_length=1, max_length=64)
    city_company_id: int


class ProjectOut(BaseModel):
    id: int
    name: str
    city: str
    city_company_id: int
    city_company_name: str


class UserIn(RequestModel):
    username: str = Field(min_length=1, max_length=64, description="the login")
    display_name: str = Field(min_length=1, max_length=64)
    employee_no: str | None = Field(default=None, max_length=32)
    mobile: str | None = Field(default=None, max_length=32, description="a mainland mobile; stored encrypted")
    role: str = Field(min_length=1, max_length=16, description="the primary role")
    password: str = Field(min_length=svc.MIN_PASSWORD, max_length=svc.MAX_PASSWORD,
                          description="the initial password; it must be changed at the first sign-in")


class UserPatch(RequestModel):
    """Only the fields sent change; null clears the employee number or the mobile."""

    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    employee_no: str | None = Field(default=None, max_length=32)
    mobile: str | None = Field(default=None, max_length=32)
    role: str | None = Field(default=None, min_length=1, max_length=16, description="the primary role")


class PasswordIn(RequestModel):
    password: str = Field(min_length=svc.MIN_PASSWORD, max_length=svc.MAX_PASSWORD,
                          description="a temporary password; it must be changed at the next sign-in")


class UserOut(PersonOut):
    active: bool


class MembershipOut(MyMembershipOut):
    user_id: int
    username: str
    granted_by: int | None
    granted_at: datetime
    revoked_by: int | None
    revoked_at: datetime | None


class UserDetail(UserOut):
    memberships: list[MembershipOut] = Field(description="the live memberships")


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class MembershipIn(RequestModel):
    user_id: int
    role: str = Field(min_length=1, max_length=16)
    scope: str = Field(min_length=1, max_length=8, description="project, city or group")
    project_id: int | None = Field(default=None, description="the project (scope project only)")
    city_company_id: int | None = Field(default=None, description="the city company (scope city only)")


class ImportOut(BaseModel):
    imported: int
    user_ids: list[int]


def _user(u: User) -> UserOut:
    return UserOut(id=u.id, username=u.username, display_name=u.display_name, employee_no=u.employee_no,
                   mobile_masked=u.mobile_masked, primary_role=u.role, active=u.active,
                   must_change_password=u.must_change_password)


def _membership(r: svc.MembershipRow) -> MembershipOut:
    m = r.membership
    return MembershipOut(id=m.id, user_id=m.user_id, username=r.username, role=m.role, scope=m.scope,
                         project_id=m.project_id, project_name=r.project_name, city_company_id=m.city_company_id,
                         city_company_name=r.city_company_name, granted_by=m.granted_by, granted_at=m.granted_at,
                         revoked_by=m.revoked_by, revoked_at=m.revoked_at)


def _detail(session, u: User) -> UserDetail:
    return UserDetail(**_user(u).model_dump(), memberships=[_membership(r) for r in svc.memberships(session, user_id=u.id)])


def _project(p: Project, city_company_name: str) -> ProjectOut:
    return ProjectOut(id=p.id, name=p.name, city=p.city, city_company_id=p.city_company_id,
                      city_company_name=city_company_name)


def _city(c: CityCompany) -> CityCompanyOut:
    return CityCompanyOut(id=c.id, name=c.name, created_at=c.created_at)


# ---------------------------------------------------------------- city companies, projects ----------


@router.get("/city-companies", response_model=list[CityCompanyOut], summary="Every city company (城市公司)")
def list_city_companies(_: Admin, session: SessionDep) -> list[CityCompanyOut]:
    return [_city(c) for c in svc.city_companies(session)]


@router.post("/city-companies", response_model=CityCompanyOut, status_code=status.HTTP_201_CREATED,
             summary="Add a city company (names are unique)")
def create_city_company(body: CityCompanyIn, _: Admin, session: SessionDep) -> CityCompanyOut:
    out = _city(svc.create_city_company(session, name=body.name))  # created_at is read back in this transaction
    session.commit()
    return out


@router.get("/projects", response_model=list[ProjectOut], summary="Every project with its city company")
def list_projects(_: Admin, session: SessionDep) -> list[ProjectOut]:
    return [_project(p, cname) for p, cname in svc.projects(session)]


@router.post("/projects", response_model=ProjectOut, status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND,
             summary="Add a project (案场) to a city company (names are unique)")
def create_project(body: ProjectIn, _: Admin, session: SessionDep) -> ProjectOut:
    p = svc.create_project(session, name=body.name, city=body.city, city_company_id=body.city_company_id)
    out = _project(p, svc.get_city_company(session, p.city_company_id).name)
    session.commit()
    return out


# ---------------------------------------------------------------- people ----------


@router.get("/users", response_model=UserPage, responses=_NOT_FOUND,
            summary="People, paged: by login or name, project, role held, active")
def list_users(
    _: Admin,
    session: SessionDep,
    q: str | None = Query(default=None, max_length=64, description="part of the login or the name"),
    project_id: int | None = Query(default=None, description="holding a live membership in the project or its city company"),
    role: str | None = Query(default=None, max_length=16, description="holding a live membership with this role"),
    active: bool | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> UserPage:
    rows, total = svc.search_users(session, q=q, project_id=project_id, role=role, active=active, limit=limit,
                                   offset=offset)
    return UserPage(items=[_user(u) for u in rows], total=total, limit=limit, offset=offset)


@router.post("/users", response_model=UserDetail, status_code=status.HTTP_201_CREATED,
             summary="Add a person (active, with an initial password to change at the first sign-in)")
def create_user(body: UserIn, _: Admin, session: SessionDep, cipher: CipherDep) -> UserDetail:
    u = svc.create_user(session, cipher, username=body.username, display_name=body.display_name,
                        employee_no=body.employee_no, mobile=body.mobile, role=body.role, password=body.password,
                        hasher=hash_password)
    out = _detail(session, u)
    session.commit()
    return out


@router.post("/users/import", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             responses=_BAD_ROWS_422,
             summary="Import people from XLSX (登录名 姓名 工号 手机 角色 项目 城市公司 初始密码): all rows or nobody")
def import_users(user: Admin, session: SessionDep, cipher: CipherDep, file: UploadFile = File(...)) -> ImportOut:
    """Checked first (reads only), then, with no connection held, the passwords hashed, then written at once."""
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise TooLarge(f"the file is larger than the {MAX_UPLOAD // (1024 * 1024)} MB limit")
    people = svc.check_people(session, read_table(data, file.filename or ""))
    release_connection(session)  # no connection held while the passwords are hashed
    hashes = [hash_password(p.password) for p in people]
    created = svc.create_people(session, cipher, people, hashes, by=user.id)
    ids = [u.id for u in created]
    session.commit()
    return ImportOut(imported=len(ids), user_ids=ids)


@router.get("/users/{user_id}", response_model=UserDetail, summary="A person with their live memberships")
def get_user(user_id: int, _: Admin, session: SessionDep) -> UserDetail:
    return _detail(session, svc.get_user(session, user_id))


@router.patch("/users/{user_id}", response_model=UserDetail,
              summary="Change a person's name, employee number, mobile or primary role")
def patch_user(user_id: int, body: UserPatch, _: Admin, request: Request, session: SessionDep,
               cipher: CipherDep) -> UserDetail:
    changes: dict[str, Any] = {k: getattr(body, k) for k in body.model_fields_set}
    u = svc.update_user(session, cipher, user_id, changes)
    out = _detail(session, u)
    session.commit()
    user_cache(request.app).forget_user(user_id)  # a new primary role counts from the next request
    return out


@router.post("/users/{user_id}/deactivate", response_model=UserDetail,
             summary="Deactivate a person: every sign-in of theirs ends (refused from their next request)")
def deactivate_user(user_id: int, user: Admin, request: Request, session: SessionDep) -> UserDetail:
    u, _ended = svc.deactivate_user(session, user_id, by=user.id, now=now_utc())
    out = _detail(session, u)
    session.commit()
    user_cache(request.app).forget_user(user_id)
    return out


@router.post("/users/{user_id}/activate", response_model=UserDetail, summary="Activate a person again")
def activate_user(user_id: int, _: Admin, request: Request, session: SessionDep) -> UserDetail:
    u = svc.activate_user(session, user_id)
    out = _detail(session, u)
    session.commit()
    user_cache(request.app).forget_user(user_id)
    return out


@router.post("/users/{user_id}/reset-password", response_model=UserDetail,
             summary="Set a temporary password (to change at the next sign-in); every sign-in of theirs ends")
def reset_password(user_id: int, body: PasswordIn, _: Admin, request: Request, session: SessionDep) -> UserDetail:
    u, _ended = svc.reset_password(session, user_id, password=body.password, hasher=hash_password, now=now_utc())
    out = _detail(session, u)
    session.commit()
    user_cache(request.app).forget_user(user_id)
    return out


# ---------------------------------------------------------------- memberships ----------


@router.get("/memberships", response_model=list[MembershipOut], responses=_NOT_FOUND,
            summary="Memberships: of a person, held in a project or its city company; live ones unless asked")
def list_memberships(_: Admin, session: SessionDep, user_id: int | None = None, project_id: int | None = None,
                     include_revoked: bool = False) -> list[MembershipOut]:
    rows = svc.memberships(session, user_id=user_id, project_id=project_id, include_revoked=include_revoked)
    return [_membership(r) for r in rows]


@router.post("/memberships", response_model=MembershipOut, status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND,
             summary="Grant a role to a person in a project, a city company or group-wide")
def create_membership(body: MembershipIn, user: Admin, request: Request, session: SessionDep) -> MembershipOut:
    m = svc.add_membership(session, user_id=body.user_id, role=body.role, scope=body.scope, project_id=body.project_id,
                           city_company_id=body.city_company_id, by=user.id)
    (out,) = [_membership(r) for r in svc.memberships(session, ids=[m.id])]
    session.commit()
    user_cache(request.app).forget_user(body.user_id)
    return out


@router.delete("/memberships/{membership_id}", response_model=MembershipOut,
               summary="Revoke a membership (the row stays, with who revoked it and when)")
def revoke_membership(membership_id: int, user: Admin, request: Request, session: SessionDep) -> MembershipOut:
    m = svc.revoke_membership(session, membership_id, by=user.id, now=now_utc())
    (out,) = [_membership(r) for r in svc.memberships(session, ids=[m.id], include_revoked=True)]
    session.commit()
    user_cache(request.app).forget_user(m.user_id)
    return out
