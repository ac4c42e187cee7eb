"""The organisation's administration: city companies, projects, people, their memberships, and the
people import (XLSX, all rows or nothing).

Every function flushes and never commits (the route commits once). Passwords are hashed by the caller's
`hasher` (api.security.hash_password; db/ does not import api/), an import's before it is written.

A write that takes a manager away from a project — revoking a manager membership, deactivating a person —
first takes one advisory lock, so two concurrent ones cannot each see the other's manager and leave a
project with none; it is refused (409, naming the project) when no other active person's live manager
membership (project, city or group scope) would still cover the project."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from db.auth_models import AuthSession
from db.errors import Conflict, Invalid, NotFound
from db.inventory import RowError
from db.models import Project, User
from db.org import grant
from db.org_models import CityCompany, Membership
from db.pii import PiiCipher
from domain.access import ROLES, SCOPES_OF_ROLE, scope_error
from domain.identity import InvalidIdentity, mask_mobile, normalize_mobile

MIN_PASSWORD = 8
MAX_PASSWORD = 128
MANAGER = "manager"
_MANAGER_LOCK = "estateflow.org.managers"


def _flush_unique(session: Session, message: str) -> None:
    """Flush inside a savepoint: a unique index that another request won meanwhile is a 409 `message`."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(message) from None


# ---------------------------------------------------------------- city companies and projects ----------


def city_companies(session: Session) -> list[CityCompany]:
    return list(session.scalars(select(CityCompany).order_by(CityCompany.id)))


def create_city_company(session: Session, *, name: str) -> CityCompany:
    """A new city company; 409 when the name is taken."""
    name = name.strip()
    if not name:
        raise Invalid("the city company's name is empty")
    taken = f"a city company named {name} already exists"
    if session.scalar(select(CityCompany.id).where(CityCompany.name == name)) is not None:
        raise Conflict(taken)
    c = CityCompany(name=name)
    session.add(c)
    _flush_unique(session, taken)
    return c


def get_city_company(session: Session, city_company_id: int) -> CityCompany:
    c = session.get(CityCompany, city_company_id)
    if c is None:
        raise NotFound(f"city company {city_company_id} does not exist")
    return c


def projects(session: Session) -> list[tuple[Project, str]]:
    """Every project with its city company's name."""
    return [(p, cname) for p, cname in session.execute(
        select(Project, CityCompany.name).join(CityCompany, CityCompany.id == Project.city_company_id).order_by(Project.id))]


def create_project(session: Session, *, name: str, city: str, city_company_id: int) -> Project:
    """A new project of an existing city company; 404 for an unknown city company, 409 when the name is taken."""
    name, city = name.strip(), city.strip()
    if not name:
        raise Invalid("the project's name is empty")
    get_city_company(session, city_company_id)
    taken = f"a project named {name} already exists"
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(taken)
    p = Project(name=name, city=city, city_company_id=city_company_id)
    session.add(p)
    _flush_unique(session, taken)
    return p


def get_project(session: Session, project_id: int) -> Project:
    p = session.get(Project, project_id)
    if p is None:
        raise NotFound(f"project {project_id} does not exist")
    return p


# ---------------------------------------------------------------- people ----------


def get_user(session: Session, user_id: int, *, for_update: bool = False) -> User:
    u = session.get(User, user_id, with_for_update=for_update)
    if u is None:
        raise NotFound(f"user {user_id} does not exist")
    return u


def _covers(m: Any) -> ColumnElement[bool]:
    """Membership `m` (an alias) covers the project of the enclosing query's Project row."""
    return or_(m.scope == "group", and_(m.scope == "project", m.project_id == Project.id),
               and_(m.scope == "city", m.city_company_id == Project.city_company_id))


def _in_project(m: Any, project_id: int) -> ColumnElement[bool]:
    """Membership `m` is held in this project or in its city company (group-wide ones cover every project
    and are not listed under each)."""
    p = aliased(Project)  # not the enclosing query's Project (memberships() joins one)
    city = select(p.city_company_id).where(p.id == project_id).scalar_subquery()
    return or_(and_(m.scope == "project", m.project_id == project_id), and_(m.scope == "city", m.city_company_id == city))


def search_users(session: Session, *, q: str | None, project_id: int | None, role: str | None, active: bool | None,
                 limit: int, offset: int) -> tuple[list[User], int]:
    """People, by id, and how many match: `q` in the login or the name; `project_id`: a live membership in
    the project or its city company; `role`: a live membership with that role (in that project, when given)."""
    if role is not None and role not in ROLES:
        raise Invalid(f"unknown role {role!r}; allowed roles: {', '.join(ROLES)}")
    if project_id is not None:
        get_project(session, project_id)
    conds: list[ColumnElement[bool]] = []
    if q and q.strip():
        needle = q.strip()
        conds.append(or_(User.username.icontains(needle, autoescape=True),
                         User.display_name.icontains(needle, autoescape=True)))
    if active is not None:
        conds.append(User.active.is_(active))
    if project_id is not None or role is not None:
        m = aliased(Membership)
        held = [m.user_id == User.id, m.revoked_at.is_(None)]
        if project_id is not None:
            held.append(_in_project(m, project_id))
        if role is not None:
            held.append(m.role == role)
        conds.append(exists(select(m.id).where(*held)))
    total = session.scalar(select(func.count()).select_from(User).where(*conds)) or 0
    rows = session.scalars(select(User).where(*conds).order_by(User.id).limit(limit).offset(offset)).all()
    return list(rows), total


def _clean(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; allowed roles: {', '.join(ROLES)}")
    return role


def _check_username(username: str) -> str:
    username = username.strip()
    if not username or any(ch.isspace() for ch in username):
        raise Invalid("the login must be one word, without spaces")
    return username


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"the password must be at most {MAX_PASSWORD} characters")
    return password


def _mobile(cipher: PiiCipher, mobile: str | None) -> tuple[str | None, str | None]:
    """(encrypted, masked) of a mainland mobile, or (None, None) for none; 422 when it is not one."""
    mobile = _clean(mobile)
    if mobile is None:
        return None, None
    try:
        norm = normalize_mobile(mobile)
    except InvalidIdentity as e:
        raise Invalid(str(e)) from None
    return cipher.encrypt(norm), mask_mobile(norm)


def _employee_no_free(session: Session, employee_no: str, *, but: int | None = None) -> None:
    stmt = select(User.id).where(User.employee_no == employee_no)
    if but is not None:
        stmt = stmt.where(User.id != but)
    if session.scalar(stmt) is not None:
        raise Conflict(f"employee number {employee_no} belongs to someone else")


Hasher = Callable[[str], str]


def create_user(session: Session, cipher: PiiCipher, *, username: str, display_name: str, employee_no: str | None,
                mobile: str | None, role: str, password: str, hasher: Hasher) -> User:
    """A new active person who must change the initial password at first sign-in; 409 when the login or
    the employee number is taken, 422 for an unknown role, a bad mobile or a short password."""
    username, name, employee_no = _check_username(username), display_name.strip(), _clean(employee_no)
    if not name:
        raise Invalid("the name is empty")
    _check_role(role)
    _check_password(password)
    mobile_enc, mobile_masked = _mobile(cipher, mobile)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the login {username} is taken")
    if employee_no is not None:
        _employee_no_free(session, employee_no)
    u = User(username=username, display_name=name, role=role, password_hash=hasher(password), active=True,
             employee_no=employee_no, mobile_enc=mobile_enc, mobile_masked=mobile_masked, must_change_password=True)
    session.add(u)
    _flush_unique(session, f"the login {username} or employee number {employee_no} was taken meanwhile")
    return u


def update_user(session: Session, cipher: PiiCipher, user_id: int, changes: dict[str, Any]) -> User:
    """Change the fields named in `changes` (display_name, employee_no, mobile, role; None clears the
    employee number or the mobile)."""
    u = get_user(session, user_id, for_update=True)
    if "display_name" in changes:
        name = (changes["display_name"] or "").strip()
        if not name:
            raise Invalid("the name is empty")
        u.display_name = name
    if "role" in changes:
        if changes["role"] is None:
            raise Invalid("a person always has a primary role")
        u.role = _check_role(changes["role"])
    if "employee_no" in changes:
        employee_no = _clean(changes["employee_no"])
        if employee_no is not None:
            _employee_no_free(session, employee_no, but=u.id)
        u.employee_no = employee_no
    if "mobile" in changes:
        u.mobile_enc, u.mobile_masked = _mobile(cipher, changes["mobile"])
    _flush_unique(session, f"employee number {u.employee_no} was taken meanwhile")  # the one unique field here
    return u


def end_sessions(session: Session, user_id: int, *, now: datetime, reason: str) -> list[str]:
    """End every live sign-in session of the person (their access tokens are refused from then on): the ids."""
    return list(session.scalars(
        update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason).returning(AuthSession.id)
    ))


_Which = Callable[[Any], ColumnElement[bool]]  # a condition on a Membership alias


def _without_manager(session: Session, losing: _Which, keeping: _Which) -> list[str]:
    """Names of the projects covered by a live manager membership matching `losing` that no live manager
    membership of an active person matching `keeping` still covers (at most 6: a message names 5)."""
    lost, kept, holder = aliased(Membership), aliased(Membership), aliased(User)
    covered = exists(select(lost.id).where(losing(lost), lost.role == MANAGER, lost.revoked_at.is_(None), _covers(lost)))
    still = exists(select(kept.id).join(holder, holder.id == kept.user_id).where(
        kept.role == MANAGER, kept.revoked_at.is_(None), holder.active.is_(True), _covers(kept), keeping(kept)))
    return list(session.scalars(select(Project.name).where(covered, ~still).order_by(Project.id).limit(6)))


def _named(projects: list[str]) -> str:
    shown = ", ".join(projects[:5]) + (" and more" if len(projects) > 5 else "")
    return f"project{'s' if len(projects) > 1 else ''} {shown}"


def _lock_managers(session: Session) -> None:
    """Serialise the writes that take a manager away (revocation, deactivation) for this transaction."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _MANAGER_LOCK})


def deactivate_user(session: Session, user_id: int, *, by: int, now: datetime) -> tuple[User, list[str]]:
    """Make the person inactive and end their sign-in sessions: (the person, the ended session ids). 409
    when they are the last active manager of a project, or the caller themselves."""
    if user_id == by:
        raise Conflict("you cannot deactivate your own account; ask another administrator")
    _lock_managers(session)
    u = get_user(session, user_id, for_update=True)
    if u.active:
        orphaned = _without_manager(session, lambda m: m.user_id == u.id, lambda m: m.user_id != u.id)
        if orphaned:
            raise Conflict(f"{u.display_name} ({u.username}) is the last active manager of {_named(orphaned)}; "
                           "grant another manager first")
        u.active = False
    ended = end_sessions(session, u.id, now=now, reason="deactivated")
    session.flush()
    return u, ended


def activate_user(session: Session, user_id: int) -> User:
    u = get_user(session, user_id, for_update=True)
    u.active = True
    session.flush()
    return u


def reset_password(session: Session, user_id: int, *, password: str, hasher: Hasher,
                   now: datetime) -> tuple[User, list[str]]:
    """A new temporary password, to be changed at the next sign-in; every sign-in session of the person ends.
    (The person, the ended session ids.)"""
    password_hash = hasher(_check_password(password))  # before the row is locked: hashing takes a while
    u = get_user(session, user_id, for_update=True)
    u.password_hash = password_hash
    u.must_change_password = True
    ended = end_sessions(session, u.id, now=now, reason="password_reset")
    session.flush()
    return u, ended


# ---------------------------------------------------------------- memberships ----------


@dataclass(frozen=True)
class MembershipRow:
    membership: Membership
    username: str
    project_name: str | None
    city_company_name: str | None


def memberships(session: Session, *, user_id: int | None = None, project_id: int | None = None,
                include_revoked: bool = False, ids: Iterable[int] | None = None) -> list[MembershipRow]:
    """Memberships with their names, oldest first: live ones (or all); of a person; held in a project or
    its city company."""
    if user_id is not None:
        get_user(session, user_id)
    if project_id is not None:
        get_project(session, project_id)
    stmt = (select(Membership, User.username, Project.name, CityCompany.name)
            .join(User, User.id == Membership.user_id)
            .outerjoin(Project, Project.id == Membership.project_id)
            .outerjoin(CityCompany, CityCompany.id == Membership.city_company_id)
            .order_by(Membership.id))
    if not include_revoked:
        stmt = stmt.where(Membership.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(Membership.user_id == user_id)
    if project_id is not None:
        stmt = stmt.where(_in_project(Membership, project_id))
    if ids is not None:
        stmt = stmt.where(Membership.id.in_(list(ids)))
    return [MembershipRow(m, un, pn, cn) for m, un, pn, cn in session.execute(stmt)]


def add_membership(session: Session, *, user_id: int, role: str, scope: str, project_id: int | None,
                   city_company_id: int | None, by: int) -> Membership:
    """Grant `role` to the person in a project, a city company or group-wide: 404 for an unknown person,
    project or city company, 422 for a role that is unknown or not held in that scope, 409 when the person
    already holds it there."""
    u = get_user(session, user_id)
    if (why := scope_error(role, scope, project_id, city_company_id)) is not None:
        raise Invalid(why)
    where = "group-wide"
    if project_id is not None:
        where = f"in project {get_project(session, project_id).name}"
    if city_company_id is not None:
        where = f"in city company {get_city_company(session, city_company_id).name}"
    duplicate = f"{u.display_name} ({u.username}) already holds the role {role} {where}"
    same = select(Membership.id).where(
        Membership.user_id == user_id, Membership.role == role, Membership.scope == scope,
        func.coalesce(Membership.project_id, 0) == (project_id or 0),
        func.coalesce(Membership.city_company_id, 0) == (city_company_id or 0), Membership.revoked_at.is_(None))
    if session.scalar(same) is not None:
        raise Conflict(duplicate)
    try:
        with session.begin_nested():
            m = grant(session, user_id, role, project_id=project_id, city_company_id=city_company_id, by=by)
    except IntegrityError:
        raise Conflict(duplicate) from None
    return m


def revoke_membership(session: Session, membership_id: int, *, by: int, now: datetime) -> Membership:
    """Revoke a live membership (the row stays, with who and when). 409 when it is already revoked, or
    when it is the last live manager membership of an active person covering a project."""
    _lock_managers(session)
    m = session.get(Membership, membership_id, with_for_update=True)
    if m is None:
        raise NotFound(f"membership {membership_id} does not exist")
    if m.revoked_at is not None:
        raise Conflict(f"membership {membership_id} was already revoked")
    holder = get_user(session, m.user_id)
    if m.role == MANAGER and holder.active:
        orphaned = _without_manager(session, lambda k: k.id == m.id, lambda k: k.id != m.id)
        if orphaned:
            raise Conflict(f"{holder.display_name} ({holder.username}) is the last manager of {_named(orphaned)}; "
                           "grant another manager first")
    m.revoked_at, m.revoked_by = now, by
    session.flush()
    return m


# ---------------------------------------------------------------- the people import ----------

# The file's columns (line 1), in the order a template shows them.
USERNAME, NAME, EMPLOYEE_NO, MOBILE, ROLE, PROJECT, CITY_COMPANY, PASSWORD = (
    "登录名", "姓名", "工号", "手机", "角色", "项目", "城市公司", "初始密码")
IMPORT_COLUMNS = (USERNAME, NAME, EMPLOYEE_NO, MOBILE, ROLE, PROJECT, CITY_COMPANY, PASSWORD)
REQUIRED_COLUMNS = (USERNAME, NAME, ROLE, PASSWORD)
MAX_IMPORT_ROWS = 500  # each password is hashed (tens of ms each): a file is one request


class PeopleRejected(Invalid):
    """A people file with bad rows: nothing is imported; the message names the first lines and reasons,
    `errors` has one item per bad cell (line, column, reason)."""

    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(f"line {e.line}, {e.column or 'file'}: {e.reason}" for e in errors[:5])
        more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
        super().__init__(f"nothing was imported: {shown}{more}")
        self.rows = errors
        self.errors = tuple(e.as_dict() for e in errors)


@dataclass
class PersonRow:
    """One checked row of a people file."""

    line: int
    username: str
    display_name: str
    employee_no: str | None
    mobile: str | None
    role: str
    project_id: int | None
    city_company_id: int | None
    password: str


def _cell(values: dict[str, Any], column: str) -> str | None:
    """A cell as text (a whole number typed into Excel as 13800138000.0 reads 13800138000), None when blank."""
    v = values.get(column)
    if v is None:
        return None
    s = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return s.strip() or None


def _read_person(line: int, values: dict[str, Any], errors: list[RowError], projects_by_name: dict[str, Project],
                 cities_by_name: dict[str, int]) -> PersonRow | None:
    """One row, checked on its own (the file-wide and database checks come after); None when it has errors."""
    before = len(errors)

    def err(column: str, reason: str) -> None:
        errors.append(RowError(line, column, reason))

    cells = {c: _cell(values, c) for c in IMPORT_COLUMNS}
    for column in REQUIRED_COLUMNS:
        if cells[column] is None:
            err(column, "required")
    username, name, role, password = cells[USERNAME], cells[NAME], cells[ROLE], cells[PASSWORD]
    if username is not None and (len(username) > 64 or any(ch.isspace() for ch in username)):
        err(USERNAME, "the login must be one word of at most 64 characters, without spaces")
    if name is not None and len(name) > 64:
        err(NAME, "longer than 64 characters")
    if cells[EMPLOYEE_NO] is not None and len(cells[EMPLOYEE_NO]) > 32:
        err(EMPLOYEE_NO, "longer than 32 characters")
    if cells[MOBILE] is not None:
        try:
            normalize_mobile(cells[MOBILE])
        except InvalidIdentity as e:
            err(MOBILE, str(e))
    if password is not None and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        err(PASSWORD, f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    project_id = city_id = None
    if cells[PROJECT] is not None:
        p = projects_by_name.get(cells[PROJECT])
        if p is None:
            err(PROJECT, f"there is no project named {cells[PROJECT]}")
        else:
            project_id = p.id
    if cells[CITY_COMPANY] is not None:
        city_id = cities_by_name.get(cells[CITY_COMPANY])
        if city_id is None:
            err(CITY_COMPANY, f"there is no city company named {cells[CITY_COMPANY]}")
    if project_id is not None and city_id is not None:
        if projects_by_name[cells[PROJECT]].city_company_id != city_id:
            err(PROJECT, f"project {cells[PROJECT]} is not a project of city company {cells[CITY_COMPANY]}")
        city_id = None  # a project named: the membership is the project's
    if role is not None:
        scope = "project" if cells[PROJECT] else "city" if cells[CITY_COMPANY] else "group"
        place = {"project": project_id, "city": city_id, "group": 0}[scope]
        if role not in SCOPES_OF_ROLE or place is not None:  # an unknown place is the error already noted
            why = scope_error(role, scope, project_id if scope == "project" else None, city_id if scope == "city" else None)
            if why is not None:
                err(ROLE, why)
    if len(errors) > before:
        return None
    assert username is not None and name is not None and role is not None and password is not None
    return PersonRow(line, username, name, cells[EMPLOYEE_NO], cells[MOBILE], role, project_id, city_id, password)


def check_people(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> list[PersonRow]:
    """The people of a file, every row checked (cells, roles and scopes, projects and city companies by name,
    logins and employee numbers free): any bad row raises PeopleRejected. Reads only."""
    if not rows:
        raise Invalid("the file has no people in it (line 1 is the header, one person per line after it)")
    if len(rows) > MAX_IMPORT_ROWS:
        raise Invalid(f"the file has {len(rows)} people; import at most {MAX_IMPORT_ROWS} at a time")
    header = set().union(*(values.keys() for _, values in rows))
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise PeopleRejected([RowError(1, c, f"the header has no column {c} (columns: {', '.join(IMPORT_COLUMNS)})")
                              for c in missing])
    projects_by_name = {p.name: p for p in session.scalars(select(Project))}
    cities_by_name = {name: cid for name, cid in session.execute(select(CityCompany.name, CityCompany.id))}
    errors: list[RowError] = []
    people = [p for line, values in rows if (p := _read_person(line, values, errors, projects_by_name, cities_by_name))]
    _check_unique(session, people, errors)
    if errors:
        raise PeopleRejected(sorted(errors, key=lambda e: e.line))
    return people


def create_people(session: Session, cipher: PiiCipher, people: list[PersonRow], password_hashes: list[str], *,
                  by: int) -> list[User]:
    """One person (with their password's hash) and one membership per checked row: in the project named, else
    in the city company named, else group-wide. Flushes only; a login or employee number taken since the
    check is a 409 and nothing is written."""
    created = []
    for p, password_hash in zip(people, password_hashes, strict=True):
        mobile_enc, mobile_masked = _mobile(cipher, p.mobile)
        u = User(username=p.username, display_name=p.display_name, role=p.role, password_hash=password_hash,
                 active=True, employee_no=p.employee_no, mobile_enc=mobile_enc, mobile_masked=mobile_masked,
                 must_change_password=True)
        session.add(u)
        created.append(u)
    _flush_unique(session, "someone else created one of these logins or employee numbers meanwhile; nothing was "
                           "imported, try again")
    for p, u in zip(people, created):
        grant(session, u.id, p.role, project_id=p.project_id, city_company_id=p.city_company_id, by=by)
    return created


def _check_unique(session: Session, people: list[PersonRow], errors: list[RowError]) -> None:
    """Logins and employee numbers: not twice in the file, not taken already."""
    for column, key in ((USERNAME, "username"), (EMPLOYEE_NO, "employee_no")):
        first: dict[str, int] = {}
        for p in people:
            value = getattr(p, key)
            if value is None:
                continue
            if value in first:
                errors.append(RowError(p.line, column, f"{value} is already on line {first[value]}"))
            else:
                first[value] = p.line
        if first:
            col = getattr(User, key)
            taken = set(session.scalars(select(col).where(col.in_(list(first)))))
            for p in people:
                if getattr(p, key) in taken:
                    what = "the login" if key == "username" else "employee number"
                    errors.append(RowError(p.line, column, f"{what} {getattr(p, key)} is taken"))
