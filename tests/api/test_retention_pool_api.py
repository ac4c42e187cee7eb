"""A project's retention pool (挽留资金池, DOMAIN §4): seen by those who offer and oversee compensation, funded
by finance / the city GM / HQ risk from the marketing budget at the policy's share — the difference as one entry
naming the person and the reason — and never given less than compensation has already drawn. A compensation the
pool cannot pay is refused in words the manager can act on, and goes through once the pool is funded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.models import Project, RetentionLedgerEntry
from domain.refund import retention_allotment
from tests.api.conftest import Api
from tests.api.test_refund_api import assess_all, intake_body, register


def entries(session_factory, project_id: int) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(RetentionLedgerEntry).where(
            RetentionLedgerEntry.project_id == project_id))


async def put(api: Api, role: str, project_id: int, body: dict):
    return await api.http.put(f"/api/projects/{project_id}/retention-pool", json=body, headers=await api.as_(role))


async def test_finance_funds_a_new_projects_empty_pool_and_every_change_is_one_entry_with_its_person(factory, http):
    factory.policy()
    api = Api(http, factory.users())
    project_id = factory.project_id()  # as an administrator adds one: a budget on record, nothing in the pool
    url = f"/api/projects/{project_id}/retention-pool"
    pool = (await api.get("manager", url)).json()
    assert (pool["credited"], pool["drawn"], pool["remaining"], pool["entries"]) == ("0.00", "0.00", "0.00", [])
    share = Decimal(pool["share"])
    assert Decimal(pool["allotment"]) == retention_allotment(Decimal("1000000"), share)

    r = await put(api, "finance", project_id, {"marketing_budget": "3000000.00", "reason": "2027 年度营销预算批复"})
    assert r.status_code == 200, r.text
    pool = r.json()
    given = retention_allotment(Decimal("3000000"), share)
    assert Decimal(pool["credited"]) == given == Decimal(pool["remaining"]) == Decimal(pool["allotment"])
    [entry] = pool["entries"]
    assert Decimal(entry["amount"]) == given and entry["by"] == "finance" and "2027 年度营销预算批复" in entry["memo"]
    assert entry["case_no"] is None and pool["marketing_budget"] == "3000000.00"

    r = await put(api, "citygm", project_id, {"marketing_budget": "3000000", "reason": "复核"})
    assert r.status_code == 200 and len(r.json()["entries"]) == 1  # nothing changed: no entry
    r = await put(api, "citygm", project_id, {"marketing_budget": "3000000.09", "reason": "尾数更正"})
    pool = r.json()  # the same allotment, but the budget changed: recorded, of 0.00
    assert r.status_code == 200 and len(pool["entries"]) == 2 and pool["entries"][0]["amount"] == "0.00"
    assert "尾数更正" in pool["entries"][0]["memo"] and pool["entries"][0]["by"] == "citygm"
    assert Decimal(pool["credited"]) == given
    r = await put(api, "hqrisk", project_id, {"marketing_budget": "2000000", "reason": "年中调减"})
    assert r.status_code == 200, r.text
    pool = r.json()
    assert Decimal(pool["entries"][0]["amount"]) == retention_allotment(Decimal("2000000"), share) - given < 0
    assert Decimal(pool["remaining"]) == retention_allotment(Decimal("2000000"), share)
    assert pool["entries"][0]["by"] == "hqrisk"


@pytest.mark.parametrize("body, field", [
    ({"marketing_budget": "-1", "reason": "x"}, "body.marketing_budget"),
    ({"marketing_budget": "12.345", "reason": "x"}, "body.marketing_budget"),
    ({"marketing_budget": "一百万", "reason": "x"}, "body.marketing_budget"),
    ({"marketing_budget": "1000000000000000", "reason": "x"}, "body.marketing_budget"),  # beyond 14 digits
    ({"marketing_budget": "1000", "reason": ""}, "body.reason"),
    ({"marketing_budget": "1000"}, "body.reason"),
    ({"marketing_budget": "1000", "reason": "   "}, "body.reason"),
    ({"marketing_budget": "1000", "reason": "长" * 121}, "body.reason"),
])
async def test_bad_fundings_are_a_422_naming_the_field_and_write_nothing(factory, http, session_factory, body, field):
    api = Api(http, factory.users())
    project_id = factory.project_id()
    r = await put(api, "finance", project_id, body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    assert entries(session_factory, project_id) == 0


async def test_who_may_read_and_who_may_fund(factory, http, session_factory):
    api = Api(http, factory.users())
    project_id = factory.project_id()
    assert (await api.get("sales", f"/api/projects/{project_id}/retention-pool")).status_code == 403
    assert (await api.get("frontdesk", f"/api/projects/{project_id}/retention-pool")).status_code == 403
    for role in ("manager", "marketing", "legal"):
        r = await put(api, role, project_id, {"marketing_budget": "1000000", "reason": "x"})
        assert r.status_code == 403, (role, r.text)
    assert (await api.get("finance", "/api/projects/99999999/retention-pool")).status_code == 404
    assert entries(session_factory, project_id) == 0


async def test_a_compensation_the_pool_cannot_pay_is_refused_in_words_then_paid_once_funded(factory, http,
                                                                                            session_factory):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"), retention_budget=Decimal("5000"))
    api = Api(http, sc.users)
    cid = (await register(api, sc))["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    await assess_all(api, cid)
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    before = entries(session_factory, sc.project_id)
    r = await api.complete("manager", cid, "choice", {"option": "A"})
    assert r.status_code == 409, r.text
    assert r.json()["key"] == "retention.pool_short" and r.json()["params"]["remaining"] == "5000.00"
    assert "挽留资金池仅余 5000.00 元" in r.json()["message_zh"]
    assert entries(session_factory, sc.project_id) == before

    r = await put(api, "finance", sc.project_id, {"marketing_budget": "2000000", "reason": "追加挽留预算"})
    assert r.status_code == 200, r.text
    r = await api.complete("manager", cid, "choice", {"option": "A"})
    assert r.status_code == 200, r.text
    pool = (await api.get("finance", f"/api/projects/{sc.project_id}/retention-pool")).json()
    assert pool["drawn"] == "6000.00" and pool["entries"][0]["case_no"] and pool["entries"][0]["amount"] == "-6000.00"

    # Given less than it has paid out: refused, and nothing changes.
    with session_factory() as s:
        budget = s.get(Project, sc.project_id).marketing_budget
    n = entries(session_factory, sc.project_id)
    r = await put(api, "citygm", sc.project_id, {"marketing_budget": "100000", "reason": "调减"})
    assert r.status_code == 409 and r.json()["key"] == "retention.below_drawn", r.text
    assert "已支出补偿 6000.00 元" in r.json()["message_zh"]
    assert entries(session_factory, sc.project_id) == n
    with session_factory() as s:
        assert s.get(Project, sc.project_id).marketing_budget == budget
