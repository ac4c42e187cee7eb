"""The in-app notification centre: a task's pool hears of it in the same transaction as the task is opened
(and nobody outside the project), the link opens the task, reading is per person, no personal data leaves."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from api.security import hash_password
from db.models import User
from db.notice_models import NoticeDelivery
from db.org import grant
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD


@pytest.fixture
def office(factory, session_factory, http):
    """A project with two people at the front desk and one in finance (its own), and a front desk elsewhere."""
    factory.policy()
    base = factory.users()
    sc = factory.scenario(users=base, deposit=Decimal("50000"))
    other = factory.project_id()
    tag = uuid.uuid4().hex[:6]
    people = {}
    with session_factory.begin() as s:
        pw = hash_password(TEST_PASSWORD)
        for key, role, project in (("fd1", "frontdesk", sc.project_id), ("fd2", "frontdesk", sc.project_id),
                                   ("fin", "finance", sc.project_id), ("elsewhere", "frontdesk", other)):
            u = User(username=f"{key}-{tag}", display_name=f"{key}{tag}", role=role, password_hash=pw)
            s.add(u)
            s.flush()
            grant(s, u.id, role, project_id=project)
            people[key] = u
    return sc, Api(http, {**{f"base-{k}": v for k, v in base.items()}, **people})


async def mine(api: Api, who: str, **params) -> dict:
    r = await api.get(who, "/api/notifications", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_pool_hears_of_a_new_task_and_nobody_outside_the_project(office, session_factory):
    sc, api = office
    r = await api.post("fd1", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    case = r.json()
    for who in ("fd1", "fd2"):
        page = await mine(api, who)
        assert page["unread"] == 1 and len(page["items"]) == 1
        n = page["items"][0]
        assert n["kind"] == "task_opened" and case["case_no"] in n["title"] and n["link"] == f"/task/{n['task_id']}"
        assert sc.mobile not in str(page) and sc.id_number not in str(page)  # no personal data in a notice
        assert (await api.get(who, f"/api/tasks/{n['task_id']}")).status_code == 200  # the link opens the task
    assert (await mine(api, "elsewhere"))["items"] == []
    assert (await mine(api, "fin"))["items"] == []
    # The intake done: finance's assessment reaches finance (its notice says by when).
    r = await api.complete("fd1", case["id"], "intake", {
        "reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": sc.id_number, "mobile": sc.mobile})
    assert r.status_code == 200, r.text
    fin = await mine(api, "fin")
    assert [n["kind"] for n in fin["items"]] == ["task_opened"]
    assert "截止" in fin["items"][0]["body"] and re.search(r"剩余 1 小时 \d+ 分钟", fin["items"][0]["body"])
    with session_factory() as s:  # one delivery per person and notice, whatever retried
        dup = s.scalar(select(func.count()).select_from(
            select(NoticeDelivery.notice_id, NoticeDelivery.user_id).where(NoticeDelivery.channel == "inapp")
            .group_by(NoticeDelivery.notice_id, NoticeDelivery.user_id)
            .having(func.count() > 1).subquery()))
    assert dup == 0


async def test_reading_is_per_person_and_only_ones_own(office):
    sc, api = office
    r = await api.post("fd1", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    n1 = (await mine(api, "fd1"))["items"][0]
    n2 = (await mine(api, "fd2"))["items"][0]
    r = await api.post("fd2", f"/api/notifications/{n1['id']}/read")
    assert r.status_code == 404  # fd1's, not fd2's
    r = await api.post("fd1", f"/api/notifications/{n1['id']}/read")
    assert r.status_code == 200 and r.json() == {"marked": 1, "unread": 0}
    assert (await api.get("fd1", "/api/notifications/unread")).json() == {"unread": 0}
    assert (await mine(api, "fd1", unread="true"))["items"] == []
    assert (await mine(api, "fd2"))["unread"] == 1 and (await mine(api, "fd2"))["items"][0]["read_at"] is None
    r = await api.post("fd2", "/api/notifications/read-all")
    assert r.status_code == 200 and r.json()["marked"] == 1 and r.json()["unread"] == 0
    assert n2["id"] != n1["id"]
