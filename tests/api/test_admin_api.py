"""The organisation's administration through the API: city companies, projects, people, memberships, the
people import, deactivation and password resets, as the person concerned then sees them (sign-in, /api/me)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import httpx
import pytest
from fastapi import routing
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update

from db.auth_models import AuthSession
from db.models import User
from db.org_models import Membership
from tests.api.conftest import Api
from tests.factories import cipher
from tests.factories_inventory import xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PASSWORD = "initial-pass-1"
IMPORT_HEADER = ["登录名", "姓名", "工号", "手机", "角色", "项目", "城市公司", "初始密码"]


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users(extra=("admin",)))


def _tag() -> str:
    return uuid.uuid4().hex[:8]


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/auth/token", data={"username": username, "password": password})


async def bearer(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await sign_in(http, username, password)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def new_city(api: Api, name: str | None = None) -> dict:
    r = await api.post("admin", "/api/admin/city-companies", json={"name": name or f"城市公司-{_tag()}"})
    assert r.status_code == 201, r.text
    return r.json()


async def new_project(api: Api, city_company_id: int) -> dict:
    r = await api.post("admin", "/api/admin/projects",
                       json={"name": f"项目-{_tag()}", "city": "杭州", "city_company_id": city_company_id})
    assert r.status_code == 201, r.text
    return r.json()


async def new_person(api: Api, role: str = "sales", **extra) -> dict:
    tag = _tag()
    body = {"username": f"p-{tag}", "display_name": f"员工{tag}", "role": role, "password": PASSWORD, **extra}
    r = await api.post("admin", "/api/admin/users", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def grant(api: Api, user_id: int, role: str, scope: str, **where) -> httpx.Response:
    return await api.post("admin", "/api/admin/memberships", json={"user_id": user_id, "role": role, "scope": scope, **where})


def live_memberships(sf, user_id: int) -> list[Membership]:
    with sf() as s:
        return list(s.scalars(select(Membership).where(Membership.user_id == user_id, Membership.revoked_at.is_(None))))


@contextmanager
def only_these_managers(sf) -> Iterator[None]:
    """Every test's Factory.users() holds a group-wide manager membership, which covers every project, so no
    project ever lacks a manager: for the length of the block those are revoked (and then restored), so a
    fresh city company's projects have only the managers the test gives them. The API tests run one at a
    time, so nothing else sees the gap."""
    with sf.begin() as s:
        ids = list(s.scalars(update(Membership).where(
            Membership.role == "manager", Membership.scope == "group", Membership.revoked_at.is_(None))
            .values(revoked_at=datetime.now(timezone.utc)).returning(Membership.id)))
    try:
        yield
    finally:
        with sf.begin() as s:
            s.execute(update(Membership).where(Membership.id.in_(ids)).values(revoked_at=None))


# ---------------------------------------------------------------- the organisation, end to end ----------


async def test_city_company_project_person_and_membership_reach_the_persons_me(api, http, session_factory):
    city_name = f"杭州城市公司-{_tag()}"
    city = await new_city(api, city_name)
    r = await api.post("admin", "/api/admin/city-companies", json={"name": city_name})
    assert r.status_code == 409 and city_name in r.json()["detail"]

    project = await new_project(api, city["id"])
    assert project["city_company_name"] == city_name
    r = await api.post("admin", "/api/admin/projects",
                       json={"name": project["name"], "city": "杭州", "city_company_id": city["id"]})
    assert r.status_code == 409 and project["name"] in r.json()["detail"]
    r = await api.post("admin", "/api/admin/projects",
                       json={"name": f"项目-{_tag()}", "city": "杭州", "city_company_id": 999999999})
    assert r.status_code == 404 and r.json()["detail"] == "city company 999999999 does not exist"
    assert city["id"] in {c["id"] for c in (await api.get("admin", "/api/admin/city-companies")).json()}
    listed = {p["id"]: p for p in (await api.get("admin", "/api/admin/projects")).json()}
    assert listed[project["id"]]["city_company_id"] == city["id"]

    person = await new_person(api, employee_no=f"E{_tag()}", mobile="+86 138-0013-8000")
    assert person["must_change_password"] is True and person["active"] is True and person["memberships"] == []
    assert person["mobile_masked"] == "138****8000"
    with session_factory() as s:
        row = s.get(User, person["id"])
        assert "13800138000" not in (row.mobile_enc or "") and cipher().decrypt(row.mobile_enc) == "13800138000"
    r = await api.post("admin", "/api/admin/users", json={
        "username": f"p-{_tag()}", "display_name": "重复工号", "role": "sales", "password": PASSWORD,
        "employee_no": person["employee_no"]})
    assert r.status_code == 409 and person["employee_no"] in r.json()["detail"]
    r = await api.post("admin", "/api/admin/users", json={
        "username": person["username"], "display_name": "重复登录", "role": "sales", "password": PASSWORD})
    assert r.status_code == 409
    r = await api.post("admin", "/api/admin/users", json={
        "username": f"p-{_tag()}", "display_name": "坏手机", "role": "sales", "password": PASSWORD, "mobile": "12345"})
    assert r.status_code == 422 and "mobile" in r.json()["detail"]

    r = await grant(api, person["id"], "sales", "project", project_id=project["id"])
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["role"], m["scope"], m["project_name"], m["granted_by"]) == ("sales", "project", project["name"], api.users["admin"].id)

    token = await sign_in(http, person["username"])
    assert token.status_code == 200, token.text
    me = (await http.get("/api/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})).json()
    assert me["must_change_password"] is True and me["roles"] == ["sales"]
    assert [(x["role"], x["scope"], x["project_id"], x["project_name"]) for x in me["memberships"]] == [
        ("sales", "project", project["id"], project["name"])]
    assert [(p["id"], p["city_company_name"], p["roles"]) for p in me["projects"]] == [(project["id"], city_name, ["sales"])]

    detail = (await api.get("admin", f"/api/admin/users/{person['id']}")).json()
    assert [x["id"] for x in detail["memberships"]] == [m["id"]]
    by_project = (await api.get("admin", "/api/admin/users", params={"project_id": project["id"]})).json()
    assert by_project["total"] == 1 and [u["id"] for u in by_project["items"]] == [person["id"]]
    assert (await api.get("admin", "/api/admin/users", params={"project_id": project["id"], "role": "manager"})).json()["total"] == 0
    found = (await api.get("admin", "/api/admin/users", params={"q": person["display_name"]})).json()
    assert [u["id"] for u in found["items"]] == [person["id"]]
    assert (await api.get("admin", "/api/admin/users", params={"q": person["username"], "active": False})).json()["total"] == 0
    page = (await api.get("admin", "/api/admin/users", params={"limit": 2, "offset": 1})).json()
    assert len(page["items"]) == 2 and page["total"] >= 3
    r = await api.get("admin", "/api/admin/memberships", params={"project_id": project["id"]})
    assert [x["id"] for x in r.json()] == [m["id"]]
    assert (await api.get("admin", "/api/admin/users", params={"project_id": 999999999})).status_code == 404


async def test_patch_changes_name_mobile_role_and_refuses_a_taken_employee_number(api):
    other = await new_person(api, employee_no=f"E{_tag()}")
    person = await new_person(api, mobile="13900139000")
    r = await api.http.patch(f"/api/admin/users/{person['id']}", headers=await api.as_("admin"),
                             json={"display_name": "新名字", "mobile": None, "role": "manager"})
    assert r.status_code == 200, r.text
    assert (r.json()["display_name"], r.json()["mobile_masked"], r.json()["primary_role"]) == ("新名字", None, "manager")
    r = await api.http.patch(f"/api/admin/users/{person['id']}", headers=await api.as_("admin"),
                             json={"employee_no": other["employee_no"]})
    assert r.status_code == 409
    r = await api.http.patch(f"/api/admin/users/{person['id']}", headers=await api.as_("admin"), json={"role": "boss"})
    assert r.status_code == 422 and "allowed roles" in r.json()["detail"]
    r = await api.http.patch("/api/admin/users/999999999", headers=await api.as_("admin"), json={"display_name": "x"})
    assert r.status_code == 404 and r.json()["detail"] == "user 999999999 does not exist"


# ---------------------------------------------------------------- memberships ----------


async def test_membership_refusals_name_what_is_wrong(api, session_factory):
    city = await new_city(api)
    project = await new_project(api, city["id"])
    person = await new_person(api)

    r = await grant(api, 999999999, "sales", "project", project_id=project["id"])
    assert r.status_code == 404 and r.json()["detail"] == "user 999999999 does not exist"
    r = await grant(api, person["id"], "sales", "project", project_id=999999999)
    assert r.status_code == 404 and r.json()["detail"] == "project 999999999 does not exist"
    r = await grant(api, person["id"], "sales", "city", city_company_id=999999999)
    assert r.status_code == 404 and r.json()["detail"] == "city company 999999999 does not exist"

    r = await grant(api, person["id"], "boss", "project", project_id=project["id"])
    assert r.status_code == 422
    assert "unknown role 'boss'" in r.json()["detail"] and "allowed roles:" in r.json()["detail"]
    assert all(role in r.json()["detail"] for role in ("frontdesk", "manager", "citygm", "admin"))
    r = await grant(api, person["id"], "citygm", "project", project_id=project["id"])
    assert r.status_code == 422 and r.json()["detail"] == "the role citygm is held in scope city, not project"
    r = await grant(api, person["id"], "sales", "project", city_company_id=city["id"])
    assert r.status_code == 422 and "names a project" in r.json()["detail"]
    assert live_memberships(session_factory, person["id"]) == []

    assert (await grant(api, person["id"], "sales", "project", project_id=project["id"])).status_code == 201
    r = await grant(api, person["id"], "sales", "project", project_id=project["id"])
    assert r.status_code == 409 and "already holds the role sales" in r.json()["detail"]
    assert len(live_memberships(session_factory, person["id"])) == 1
    # another scope of the same role is another membership
    assert (await grant(api, person["id"], "sales", "city", city_company_id=city["id"])).status_code == 201


async def test_revoking_the_last_manager_of_a_project_is_refused_and_changes_nothing(api, http, session_factory):
    city = await new_city(api)
    project = await new_project(api, city["id"])
    manager = await new_person(api, role="manager")
    m = (await grant(api, manager["id"], "manager", "project", project_id=project["id"])).json()
    with only_these_managers(session_factory):
        r = await api.http.delete(f"/api/admin/memberships/{m['id']}", headers=await api.as_("admin"))
        assert r.status_code == 409
        assert r.json()["detail"] == (f"{manager['display_name']} ({manager['username']}) is the last manager of project "
                                      f"{project['name']}; grant another manager first")
        assert [x.id for x in live_memberships(session_factory, manager["id"])] == [m["id"]]
        r = await api.post("admin", f"/api/admin/users/{manager['id']}/deactivate")
        assert r.status_code == 409 and project["name"] in r.json()["detail"]
        with session_factory() as s:
            assert s.get(User, manager["id"]).active is True

        # a city-wide manager covers the project too: now the project one may go
        city_manager = await new_person(api, role="manager")
        assert (await grant(api, city_manager["id"], "manager", "city", city_company_id=city["id"])).status_code == 201
        r = await api.http.delete(f"/api/admin/memberships/{m['id']}", headers=await api.as_("admin"))
        assert r.status_code == 200, r.text
    assert r.json()["revoked_by"] == api.users["admin"].id and r.json()["revoked_at"] is not None
    with session_factory() as s:
        row = s.get(Membership, m["id"])  # kept, with who revoked it
        assert row.revoked_by == api.users["admin"].id and row.granted_by == api.users["admin"].id
    r = await api.http.delete(f"/api/admin/memberships/{m['id']}", headers=await api.as_("admin"))
    assert r.status_code == 409 and "already revoked" in r.json()["detail"]
    r = await api.http.delete("/api/admin/memberships/999999999", headers=await api.as_("admin"))
    assert r.status_code == 404
    revoked = (await api.get("admin", "/api/admin/memberships", params={"user_id": manager["id"], "include_revoked": True})).json()
    assert [x["id"] for x in revoked] == [m["id"]]
    assert (await api.get("admin", "/api/admin/memberships", params={"user_id": manager["id"]})).json() == []


async def test_a_revoked_membership_counts_from_the_persons_next_request(api, http):
    city = await new_city(api)
    project = await new_project(api, city["id"])
    person = await new_person(api)
    m = (await grant(api, person["id"], "sales", "project", project_id=project["id"])).json()
    headers = await bearer(http, person["username"])
    assert (await http.get("/api/me", headers=headers)).json()["roles"] == ["sales"]  # now cached with the user
    r = await api.http.delete(f"/api/admin/memberships/{m['id']}", headers=await api.as_("admin"))
    assert r.status_code == 200, r.text
    me = (await http.get("/api/me", headers=headers)).json()
    assert me["roles"] == [] and me["projects"] == []
    assert (await http.get(f"/api/projects/{project['id']}/board", headers=headers)).status_code == 403


# ---------------------------------------------------------------- deactivation, passwords ----------


async def test_deactivation_refuses_the_very_next_request_and_ends_every_session(api, http, session_factory):
    person = await new_person(api)
    headers = await bearer(http, person["username"])
    other_sign_in = await bearer(http, person["username"])
    assert (await http.get("/api/me", headers=headers)).status_code == 200  # cached for USER_CACHE_TTL_S

    r = await api.post("admin", f"/api/admin/users/{person['id']}/deactivate")
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert (await http.get("/api/me", headers=headers)).status_code == 401
    assert (await http.get("/api/me", headers=other_sign_in)).status_code == 401
    with session_factory() as s:
        reasons = s.scalars(select(AuthSession.end_reason).where(AuthSession.user_id == person["id"])).all()
    assert reasons == ["deactivated", "deactivated"]
    assert (await sign_in(http, person["username"])).status_code == 401
    inactive = (await api.get("admin", "/api/admin/users", params={"q": person["username"], "active": False})).json()
    assert [u["id"] for u in inactive["items"]] == [person["id"]]

    r = await api.post("admin", f"/api/admin/users/{person['id']}/deactivate")
    assert r.status_code == 200  # already inactive: nothing more to do
    r = await api.post("admin", f"/api/admin/users/{api.users['admin'].id}/deactivate")
    assert r.status_code == 409 and "your own account" in r.json()["detail"]
    r = await api.post("admin", f"/api/admin/users/{person['id']}/activate")
    assert r.status_code == 200 and r.json()["active"] is True
    assert (await sign_in(http, person["username"])).status_code == 200


async def test_password_reset_ends_sessions_and_only_the_new_password_works(api, http, session_factory):
    person = await new_person(api)
    with session_factory.begin() as s:  # as if the initial password had been changed
        s.get(User, person["id"]).must_change_password = False
    headers = await bearer(http, person["username"])
    assert (await http.get("/api/me", headers=headers)).json()["must_change_password"] is False

    url = f"/api/admin/users/{person['id']}/reset-password"
    r = await api.post("admin", url, json={"password": "short"})
    assert r.status_code == 422 and "password" in r.json()["detail"]
    assert (await http.get("/api/me", headers=headers)).status_code == 200  # a refused reset changes nothing
    r = await api.post("admin", url, json={"password": "temporary-2"})
    assert r.status_code == 200, r.text
    assert r.json()["must_change_password"] is True

    assert (await http.get("/api/me", headers=headers)).status_code == 401
    assert (await sign_in(http, person["username"], PASSWORD)).status_code == 401
    token = await sign_in(http, person["username"], "temporary-2")
    assert token.status_code == 200, token.text
    me = await http.get("/api/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["must_change_password"] is True
    with session_factory() as s:
        assert s.scalars(select(AuthSession.end_reason).where(AuthSession.user_id == person["id"])
                         .order_by(AuthSession.created_at)).all() == ["password_reset", None]
    r = await api.post("admin", "/api/admin/users/999999999/reset-password", json={"password": "temporary-2"})
    assert r.status_code == 404


# ---------------------------------------------------------------- the people import ----------


async def _upload(api: Api, rows: list[list[object]]) -> httpx.Response:
    return await api.post("admin", "/api/admin/users/import", files={"file": ("people.xlsx", xlsx_bytes(rows), XLSX)})


async def test_import_creates_every_person_with_one_membership_each(api, http, session_factory):
    city = await new_city(api)
    project = await new_project(api, city["id"])
    tag = _tag()
    rows = [
        IMPORT_HEADER,
        [f"a-{tag}", "置业顾问甲", f"A{tag}", 13800138001, "sales", project["name"], None, "password-a"],
        [f"b-{tag}", "城市总乙", None, None, "citygm", None, city["name"], "password-b"],
        [f"c-{tag}", "集团风控丙", f"C{tag}", "139 0013 9002", "hqrisk", "", "", "password-c"],
        [f"d-{tag}", "经理丁", None, None, "manager", project["name"], city["name"], "password-d"],
    ]
    r = await _upload(api, rows)
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 4
    ids = r.json()["user_ids"]
    with session_factory() as s:
        people = {u.username: u for u in s.scalars(select(User).where(User.id.in_(ids)))}
        assert all(u.must_change_password and u.active for u in people.values())
        assert people[f"a-{tag}"].employee_no == f"A{tag}" and people[f"a-{tag}"].mobile_masked == "138****8001"
        assert cipher().decrypt(people[f"c-{tag}"].mobile_enc) == "13900139002"
        grants = {(u.username, m.role, m.scope, m.project_id, m.city_company_id, m.granted_by)
                  for u in people.values() for m in s.scalars(select(Membership).where(Membership.user_id == u.id))}
    admin_id = api.users["admin"].id
    assert grants == {
        (f"a-{tag}", "sales", "project", project["id"], None, admin_id),
        (f"b-{tag}", "citygm", "city", None, city["id"], admin_id),
        (f"c-{tag}", "hqrisk", "group", None, None, admin_id),
        (f"d-{tag}", "manager", "project", project["id"], None, admin_id),
    }
    me = await http.get("/api/me", headers=await bearer(http, f"b-{tag}", "password-b"))
    assert [p["id"] for p in me.json()["projects"]] == [project["id"]]


@pytest.mark.parametrize(("cells", "column", "reason"), [
    ({4: "boss"}, "角色", "unknown role 'boss'; allowed roles: frontdesk"),
    ({3: "12345"}, "手机", "is not a mainland mobile number"),
    ({5: "没有这个项目"}, "项目", "there is no project named 没有这个项目"),
    ({4: "citygm"}, "角色", "the role citygm is held in scope city, not group"),
    ({7: "short"}, "初始密码", "the password must be 8 to 128 characters"),
    ({0: "FIRST"}, "登录名", "FIRST is already on line 2"),
])
async def test_an_import_with_one_bad_row_names_line_3_and_creates_nobody(api, session_factory, cells, column, reason):
    tag = _tag()
    rows: list[list[object]] = [
        IMPORT_HEADER,
        [f"FIRST-{tag}" if 0 in cells else f"x-{tag}", "第一人", None, None, "sales", None, None, "password-x"],
        [f"y-{tag}", "第二人", None, None, "sales", None, None, "password-y"],
        [f"z-{tag}", "第三人", None, None, "sales", None, None, "password-z"],
    ]
    for col, value in cells.items():
        rows[2][col] = f"{value}-{tag}" if col == 0 else value
    reason = reason.replace("FIRST", f"FIRST-{tag}")
    r = await _upload(api, rows)
    assert r.status_code == 422, r.text
    body = r.json()
    assert re.search(r"\bline 3\b", body["message"]) and reason in body["message"], body["message"]
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, column)]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.username.like(f"%-{tag}"))) == 0


async def test_an_import_without_a_required_column_or_with_a_taken_login_is_refused(api):
    r = await _upload(api, [["登录名", "姓名", "角色"], [f"q-{_tag()}", "缺密码", "sales"]])
    assert r.status_code == 422 and "初始密码" in r.json()["message"]
    taken = api.users["sales"].username
    r = await _upload(api, [IMPORT_HEADER, [taken, "重名", None, None, "sales", None, None, "password-x"]])
    assert r.status_code == 422 and f"line 2, 登录名: the login {taken} is taken" in r.json()["message"]


# ---------------------------------------------------------------- who may ----------


async def test_only_admin_and_ops_reach_the_admin_routes(api, http):
    app = http._transport.app  # the ASGI app behind the test client
    routes = [(m, r.path_format) for r in routing.iter_route_contexts(list(app.routes))  # as the OpenAPI walk does
              if isinstance(r.original_route, APIRoute) and r.path_format.startswith("/api/admin/")
              for m in sorted(r.methods - {"HEAD"})]
    assert len(routes) >= 15, routes
    for role in ("manager", "frontdesk", "citygm", "hqrisk"):
        for method, path in routes:
            url = path.format(user_id=api.users["sales"].id, membership_id=1)
            kw = {"json": {}} if method in ("POST", "PATCH") else {}
            r = await http.request(method, url, headers=await api.as_(role), **kw)
            assert r.status_code == 403, (role, method, url, r.status_code, r.text)
            assert "allowed: admin, ops" in r.json()["detail"]
    assert (await api.get("ops", "/api/admin/users")).status_code == 200
    assert (await api.get("admin", "/api/admin/users")).status_code == 200
