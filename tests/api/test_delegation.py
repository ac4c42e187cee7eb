"""Out-of-office substitutes through the API: the substitute acts with the absent colleague's roles in the
colleague's project only while the delegation is in force, the timeline names both ("李 (代 王)"), four eyes
counts both people, ending it stops it, and bad requests are refused with a reason."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from api.security import hash_password
from db.models import User
from db.org import grant
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD


@pytest.fixture
def office(factory, session_factory, http):
    """Project P with its own people: 王 (legal), 李 (finance), 赵 (manager); 周 is legal in another project."""
    factory.policy()
    base = factory.users()
    sc = factory.scenario(users=base)
    other = factory.project_id()
    tag = uuid.uuid4().hex[:6]
    people = {}
    with session_factory.begin() as s:
        pw = hash_password(TEST_PASSWORD)
        for key, name, role, project in (("wang", "王", "legal", sc.project_id), ("li", "李", "finance", sc.project_id),
                                         ("zhao", "赵", "manager", sc.project_id), ("zhou", "周", "legal", other)):
            u = User(username=f"{key}-{tag}", display_name=f"{name}{tag}", role=role, password_hash=pw)
            s.add(u)
            s.flush()
            grant(s, u.id, role, project_id=project)
            people[key] = u
    return sc, Api(http, {**{f"base-{k}": v for k, v in base.items()}, **people}), people


def period(hours: float = 24) -> dict:
    now = datetime.now(timezone.utc)
    return {"starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=hours)).isoformat()}


async def test_a_substitute_acts_for_the_absent_colleague_and_the_timeline_names_both(office):
    sc, api, p = office
    r = await api.post("base-frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = await api.complete("base-frontdesk", cid, "intake", {
        "reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": sc.id_number, "mobile": sc.mobile})
    assert r.status_code == 200, r.text
    # Before: 周 works in another project; P's case does not exist for him.
    assert (await api.get("zhou", f"/api/refund-cases/{cid}")).status_code == 404
    r = await api.post("wang", "/api/delegations", json={"substitute_id": p["zhou"].id, "reason": "年假", **period()})
    assert r.status_code == 201 and r.json()["in_force"] and r.json()["substitute_name"] == p["zhou"].display_name, r.text
    delegation = r.json()["id"]
    # During: 周 sees P's legal pool and acts there, with 王's role only (not finance's).
    assert (await api.get("zhou", f"/api/refund-cases/{cid}")).status_code == 200
    inbox = (await api.get("zhou", "/api/tasks", params={"case_id": cid})).json()["items"]
    assert [t["role"] for t in inbox] == ["legal"]
    r = await api.complete("zhou", cid, "assessment", {"fault": "buyer", "note": "代王出具意见"})
    assert r.status_code == 200, r.text
    timeline = (await api.get("base-manager", f"/api/refund-cases/{cid}/timeline")).json()["entries"]
    legal = [e for e in timeline if e["kind"] == "assessment" and e["source"] == "case"]
    assert [(e["actor_name"], e["on_behalf_of_name"]) for e in legal] == [(p["zhou"].display_name, p["wang"].display_name)]
    # Ended: 周 is back to his own project.
    r = await api.post("wang", f"/api/delegations/{delegation}/end")
    assert r.status_code == 200 and not r.json()["in_force"]
    assert (await api.get("zhou", f"/api/refund-cases/{cid}")).status_code == 404


async def test_four_eyes_counts_the_substitute_and_the_colleague_they_stand_in_for(office):
    sc, api, p = office
    r = await api.post("base-frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    cid = r.json()["id"]
    await api.complete("base-frontdesk", cid, "intake", {
        "reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": sc.id_number, "mobile": sc.mobile})
    r = await api.complete("li", cid, "assessment", {"commission_accrued": "1000", "contract_confirmed": True})
    assert r.status_code == 200, r.text
    # 王 (legal) is away; 李, who gave finance's part, may not give legal's as well on 王's behalf.
    r = await api.post("wang", "/api/delegations", json={"substitute_id": p["li"].id, "reason": "出差", **period()})
    assert r.status_code == 201, r.text
    r = await api.complete("li", cid, "assessment", {"fault": "buyer"})
    assert r.status_code == 403 and "only one part of the assessment" in r.json()["detail"], r.text


async def test_bad_delegations_are_refused_with_a_reason(office):
    sc, api, p = office
    r = await api.post("wang", "/api/delegations", json={"substitute_id": p["wang"].id, "reason": "x", **period()})
    assert r.status_code == 422 and "themselves" in r.json()["detail"]
    r = await api.post("wang", "/api/delegations", json={"substitute_id": 999999999, "reason": "x", **period()})
    assert r.status_code == 404 and "user 999999999 does not exist" in r.json()["detail"]
    now = datetime.now(timezone.utc)
    r = await api.post("wang", "/api/delegations", json={"substitute_id": p["li"].id, "reason": "x",
                                                         "starts_at": now.isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()})
    assert r.status_code == 422 and "after the start" in r.json()["detail"]
    r = await api.post("li", "/api/delegations", json={"delegator_id": p["wang"].id, "substitute_id": p["li"].id,
                                                       "reason": "x", **period()})
    assert r.status_code == 403  # a colleague, not the person nor their manager
    r = await api.post("zhao", "/api/delegations", json={"delegator_id": p["wang"].id, "substitute_id": p["li"].id,
                                                         "reason": "病假", **period()})
    assert r.status_code == 201, r.text  # the project's manager may
    r = await api.post("wang", "/api/delegations", json={"substitute_id": p["zhou"].id, "reason": "x", **period(2)})
    assert r.status_code == 409 and "already has a substitute" in r.json()["detail"]
    mine = (await api.get("li", "/api/delegations")).json()
    assert [d["delegator_name"] for d in mine] == [p["wang"].display_name]


async def test_colleagues_are_the_people_of_my_projects_by_name_and_role(office):
    sc, api, p = office
    names = {c["display_name"]: c["roles"] for c in (await api.get("wang", "/api/people")).json()}
    assert names[p["li"].display_name] == ["finance"] and names[p["zhao"].display_name] == ["manager"]
    assert p["zhou"].display_name not in names  # another project's
    legal = (await api.get("wang", "/api/people", params={"role": "legal"})).json()
    assert all(c["roles"] == ["legal"] for c in legal) and p["wang"].display_name in {c["display_name"] for c in legal}
