"""The organisation's boundaries through the API: every route that names a record, for each role, against a
record of the caller's own project, of another project of the same city company and of another city company.
Outside the caller's projects the answer is 404 with the missing record's own message (or the route's 403 for
a role it never admits), never a 2xx; lists never contain another project's records; tasks are claimed by
exactly one person; reassignment is audited on the timeline."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from api.access import SCOPED_PARAMS
from api.security import hash_password
from db.models import Project, RefundCase, Task, User
from db.org import city_company_id, grant
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD

PROJECT_ROLES = ("frontdesk", "sales", "manager", "finance", "legal", "marketing")


class Org:
    """Three projects: P1 and P2 in one city company, P3 in another; one person per role working in P1 (the
    city GM over P1's city company, HQ roles group-wide); a refund case registered in each project."""

    def __init__(self, factory, session_factory, http) -> None:
        factory.policy()
        self.sf = session_factory
        self.base = factory.users()  # group-wide: registers the cases, consults the customers
        self.sc = {k: factory.scenario(users=self.base) for k in ("P1", "P2", "P3")}
        tag = uuid.uuid4().hex[:6]
        with session_factory.begin() as s:
            self.city_a = s.get(Project, self.sc["P1"].project_id).city_company_id
            s.execute(update(Project).where(Project.id == self.sc["P2"].project_id).values(city_company_id=self.city_a))
            city_b = city_company_id(s, f"另一城市公司-{tag}")
            s.execute(update(Project).where(Project.id == self.sc["P3"].project_id).values(city_company_id=city_b))
            pw = hash_password(TEST_PASSWORD)
            self.people: dict[str, User] = {}
            for role in (*PROJECT_ROLES, "citygm", "hqrisk", "ops"):
                u = User(username=f"p1-{role}-{tag}", display_name=f"P1 {role}", role=role, password_hash=pw)
                s.add(u)
                s.flush()
                if role in PROJECT_ROLES:
                    grant(s, u.id, role, project_id=self.sc["P1"].project_id)
                elif role == "citygm":
                    grant(s, u.id, role, city_company_id=self.city_a)
                else:
                    grant(s, u.id, role)
                self.people[role] = u
        self.api = Api(http, {**{f"base-{k}": v for k, v in self.base.items()}, **self.people})

    async def register_cases(self) -> None:
        self.case: dict[str, str] = {}
        for k, sc in self.sc.items():
            r = await self.api.post("base-frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
            assert r.status_code == 201, r.text
            self.case[k] = r.json()["id"]
        with self.sf() as s:
            self.task = {k: s.scalar(select(Task.id).where(Task.case_id == uuid.UUID(c))) for k, c in self.case.items()}

    def records(self, k: str) -> dict[str, str]:
        sc = self.sc[k]
        return {"project_id": str(sc.project_id), "unit_id": str(sc.unit_id), "customer_id": str(sc.customer_id),
                "case_id": self.case[k], "task_id": str(self.task[k])}


@pytest.fixture
async def org(factory, session_factory, http) -> Org:
    o = Org(factory, session_factory, http)
    await o.register_cases()
    return o


async def scoped_routes(http) -> list[tuple[str, str, list[str]]]:
    """(method, path, its scoped parameters) of every API operation that names a record in its path, from the
    API's own OpenAPI document."""
    out = []
    for path, operations in (await http.get("/openapi.json")).json()["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if any(p in SCOPED_PARAMS for p in params):
            out += [(m.upper(), path, params) for m in sorted(operations) if m in ("get", "post", "put", "patch", "delete")]
    return out


async def call(api: Api, role: str, method: str, path: str):
    kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return await api.http.request(method, path, headers=await api.as_(role), **kw)


def fill(path: str, values: dict[str, str]) -> str | None:
    try:
        return path.format(**values, kind="pay_later")
    except KeyError:
        return None  # a parameter this test has no record for (a warning, a loan, ...)


async def test_role_by_project_matrix_over_every_route_gives_no_cross_project_2xx(org, http):
    routes = await scoped_routes(http)
    assert len(routes) >= 25, routes  # the routes that name a record: all of them are exercised below
    tried, cross_2xx, wrong = 0, [], []
    for role, person in org.people.items():
        for where in ("P2", "P3"):
            # The city GM of P1's city company also covers P2; HQ roles cover every project.
            covered = role in ("hqrisk", "ops") or (role == "citygm" and where == "P2")
            values = org.records(where)
            for method, path, _params in routes:
                url = fill(path, values)
                if url is None or covered:
                    continue
                r = await call(org.api, role, method, url)
                tried += 1
                if 200 <= r.status_code < 300:
                    cross_2xx.append((role, where, method, url, r.status_code))
                    continue
                detail = r.json().get("detail", "") if r.headers.get("content-type", "").startswith("application/json") else ""
                route_refused = r.status_code == 403 and "may not do this" in str(detail)
                if not (r.status_code == 404 or route_refused):
                    wrong.append((role, where, method, url, r.status_code, str(detail)[:120]))
    assert tried > 200
    assert cross_2xx == [], cross_2xx
    assert wrong == [], wrong


async def test_another_projects_record_answers_exactly_as_a_missing_one(org):
    """Same status, same message: a record of another project cannot be told from one that does not exist."""
    p3 = org.records("P3")
    for path, missing in ((f"/api/refund-cases/{p3['case_id']}", f"/api/refund-cases/{uuid.uuid4()}"),
                          (f"/api/tasks/{p3['task_id']}", "/api/tasks/999999999"),
                          (f"/api/customers/{p3['customer_id']}", "/api/customers/999999999"),
                          (f"/api/projects/{p3['project_id']}/board", "/api/projects/999999999/board")):
        other, absent = await org.api.get("manager", path), await org.api.get("manager", missing)
        assert other.status_code == absent.status_code == 404
        ids = re.compile(r"[0-9a-f-]{6,}|\d+")
        assert ids.sub("N", other.json()["detail"]) == ids.sub("N", absent.json()["detail"])


async def test_own_project_records_are_reachable_by_the_roles_the_route_admits(org):
    own = org.records("P1")
    for role in PROJECT_ROLES:
        for path in (f"/api/refund-cases/{own['case_id']}", f"/api/projects/{own['project_id']}/board"):
            r = await org.api.get(role, path)
            assert r.status_code == 200, (role, path, r.text)
    r = await org.api.get("frontdesk", f"/api/tasks/{own['task_id']}")
    assert r.status_code == 200, r.text
    r = await org.api.get("finance", f"/api/tasks/{own['task_id']}")  # P1's, but the front desk's pool
    assert r.status_code == 403 and "not yours" in r.json()["detail"]


async def test_lists_hold_only_the_callers_projects(org):
    mine = {org.sc["P1"].project_id}
    r = await org.api.get("manager", "/api/projects")
    assert {p["id"] for p in r.json()} == mine
    r = await org.api.get("citygm", "/api/projects")
    assert {p["id"] for p in r.json()} >= {org.sc["P1"].project_id, org.sc["P2"].project_id}
    assert org.sc["P3"].project_id not in {p["id"] for p in r.json()}
    cases = {c["id"] for c in (await org.api.get("manager", "/api/refund-cases?limit=200")).json()}
    assert org.case["P1"] in cases and not cases & {org.case["P2"], org.case["P3"]}
    inbox = (await org.api.get("frontdesk", "/api/tasks?limit=200")).json()
    assert {t["case_id"] for t in inbox["items"]} == {org.case["P1"]} and inbox["total"] == 1
    assert (await org.api.get("manager", f"/api/projects/{org.sc['P3'].project_id}/stats")).status_code == 404
    r = await org.api.get("manager", f"/api/refund-cases?project_id={org.sc['P3'].project_id}")
    assert r.status_code == 404
    customers = (await org.api.get("manager", "/api/customers?limit=200")).json()
    assert {c["project_id"] for c in customers["items"]} <= mine


async def test_twenty_concurrent_claims_of_one_task_have_exactly_one_winner(org, session_factory):
    task_id = org.task["P1"]
    tag = uuid.uuid4().hex[:6]
    with session_factory.begin() as s:  # twenty people of P1's front-desk pool
        pw = hash_password(TEST_PASSWORD)
        racers = {}
        for i in range(20):
            u = User(username=f"fd{i}-{tag}", display_name=f"前台 {i}", role="frontdesk", password_hash=pw)
            s.add(u)
            s.flush()
            grant(s, u.id, "frontdesk", project_id=org.sc["P1"].project_id)
            racers[f"fd{i}"] = u
    api = Api(org.api.http, racers)
    for k in racers:
        await api.as_(k)
    answers = await asyncio.gather(*(api.post(k, f"/api/tasks/{task_id}/claim") for k in racers))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 19}, [r.text for r in answers]
    winner = next(r.json() for r in answers if r.status_code == 200)
    assert all(f"already claimed by {winner['claimed_by_name']}" in r.json()["detail"] for r in answers if r.status_code == 409)
    loser = next(k for k, r in zip(racers, answers) if r.status_code == 409)
    # The loser may not complete it while it is claimed; the pool's inbox no longer offers it.
    r = await api.post(loser, f"/api/tasks/{task_id}/complete", json={})
    assert r.status_code == 403 and "claimed by" in r.json()["detail"]
    pool = (await api.get(loser, "/api/tasks?view=pool")).json()
    assert task_id not in {t["id"] for t in pool["items"]}


async def test_the_manager_reassigns_with_a_reason_and_the_timeline_says_so(org, session_factory):
    task_id, case_id = org.task["P1"], org.case["P1"]
    r = await org.api.post("frontdesk", f"/api/tasks/{task_id}/claim")
    assert r.status_code == 200 and r.json()["claimed_by"] == org.people["frontdesk"].id
    other = org.base["frontdesk"]  # group-wide front desk: in P1's pool too
    r = await org.api.post("frontdesk", f"/api/tasks/{task_id}/reassign", json={"user_id": other.id, "reason": "换班"})
    assert r.status_code == 403  # only a manager reassigns
    r = await org.api.post("manager", f"/api/tasks/{task_id}/reassign", json={"user_id": org.people["legal"].id, "reason": "x"})
    assert r.status_code == 422 and "not in the frontdesk pool" in r.json()["detail"]
    r = await org.api.post("manager", f"/api/tasks/{task_id}/reassign", json={"user_id": other.id, "reason": "前台换班"})
    assert r.status_code == 200 and r.json()["claimed_by"] == other.id, r.text
    timeline = (await org.api.get("manager", f"/api/refund-cases/{case_id}/timeline")).json()["entries"]
    moved = [e for e in timeline if e["kind"] == "task_reassigned"]
    assert len(moved) == 1 and moved[0]["detail"]["reason"] == "前台换班" and moved[0]["detail"]["to"] == other.display_name
    assert moved[0]["detail"]["from"] == org.people["frontdesk"].display_name


async def test_the_inbox_pages_by_cursor_with_its_total(factory, http, session_factory):
    factory.policy()
    users = factory.users()
    scs = [factory.scenario(users=users) for _ in range(5)]
    api = Api(http, users)
    for sc in scs:
        r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
        assert r.status_code == 201, r.text
    ours = {sc.project_id for sc in scs}
    seen, cursor, total = [], None, None
    while True:
        params = {"limit": 2, "kind": "intake"} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("frontdesk", "/api/tasks", params=params)).json()
        total = page["total"]
        seen += [t for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == total and len({t["id"] for t in seen}) == total  # every task once
    assert ours <= {t["project_id"] for t in seen}
    dues = [t["due_at"] for t in seen]
    assert dues == sorted(dues)  # nearest deadline first, across pages
    bad = await api.get("frontdesk", "/api/tasks", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]
