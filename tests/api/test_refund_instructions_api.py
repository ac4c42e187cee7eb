"""Refund instructions over HTTP and the case detail's refund preview (path B before the offer)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.models import Subscription
from domain.refund import ContractStage, money
from tests.api.conftest import Api


@pytest.fixture
def policy(factory):
    return factory.policy()  # the newest published policy is the one in force


def make(factory, http, **kw) -> tuple:
    sc = factory.scenario(**kw)
    return sc, Api(http, sc.users)


def figures(session_factory, sc) -> Subscription:
    with session_factory() as s:
        sub = s.get(Subscription, sc.subscription_id)
        s.expunge(sub)
        return sub


async def register(api: Api, sc) -> dict:
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    return r.json()


async def intake(api: Api, sc, cid: str) -> None:
    body = {"reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": sc.id_number, "mobile": sc.mobile}
    r = await api.complete("frontdesk", cid, "intake", body)
    assert r.status_code == 200, r.text


async def assess(api: Api, cid: str, role: str, body: dict) -> None:
    r = await api.complete(role, cid, "assessment", body)
    assert r.status_code == 200, r.text


async def preview(api: Api, cid: str) -> dict | None:
    r = await api.get("manager", f"/api/refund-cases/{cid}")
    assert r.status_code == 200, r.text
    return r.json()["refund_preview"]


def dec(p: dict, key: str) -> Decimal:
    return Decimal(p[key])


async def test_path_b_instruction_matches_the_case_and_the_preview_follows_the_assessments(factory, http, policy, session_factory):
    sc, api = make(factory, http, deposit=Decimal("50000"))
    sub = figures(session_factory, sc)
    tier = policy.tier_for(ContractStage.DEPOSIT_PAID)
    base = money(sub.deposit_amount)
    cid = (await register(api, sc))["id"]

    p = await preview(api, cid)  # nothing assessed: buyer fault assumed, the tier's minimum
    assert p["route"] == "tier" and dec(p, "share") == tier.min_share
    assert dec(p, "base") == base and dec(p, "amount") == money(base * tier.min_share) and not p["needs_gm"]

    await intake(api, sc, cid)
    share = Decimal("0.7")
    assert tier.min_share < share <= tier.max_share
    await assess(api, cid, "finance", {"commission_accrued": "75000.00", "proposed_share": str(share), "contract_confirmed": True})
    await assess(api, cid, "legal", {"fault": "buyer"})
    p = await preview(api, cid)
    assert p["route"] == "tier" and dec(p, "share") == share and dec(p, "amount") == money(base * share)
    await assess(api, cid, "marketing", {"opinion_risk": "low"})

    detail = (await api.get("manager", f"/api/refund-cases/{cid}")).json()
    assert detail["stage"] == "gm_approval" and detail["needs_gm"]  # loss above the threshold
    assert (await api.complete("citygm", cid, "gm_approval", {"approve": True})).status_code == 200
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    detail = (await api.get("manager", f"/api/refund-cases/{cid}")).json()
    assert Decimal(detail["options"][1]["refund_amount"]) == dec(detail["refund_preview"], "amount")
    r = await api.complete("manager", cid, "choice", {"option": "B"})
    assert r.status_code == 200, r.text

    detail = (await api.get("finance", f"/api/refund-cases/{cid}")).json()
    assert detail["chosen_option"] == "B" and detail["refund_preview"] is None
    assert Decimal(detail["refund_amount"]) == money(base * share)

    r = await api.get("finance", "/api/refund-instructions", params={"case_id": cid})
    assert r.status_code == 200, r.text
    rows = r.json()
    assert len(rows) == 1
    row = rows[0]
    assert row["case_id"] == cid and row["case_no"] == detail["case_no"]
    assert Decimal(row["amount"]) == Decimal(detail["refund_amount"]) and Decimal(row["share"]) == share
    assert row["route"] == "tier" and row["policy_version"] == policy.version == detail["policy_version"]
    assert "*" in row["customer_name"] and row["customer_name"] == detail["customer_name"] and row["customer_name"] != "测试客户"
    newest = (await api.get("ops", "/api/refund-instructions")).json()
    assert newest[0]["case_id"] == cid  # newest first

    for role in ("frontdesk", "legal", "marketing"):
        assert (await api.get(role, "/api/refund-instructions", params={"case_id": cid})).status_code == 403, role
    for role in ("manager", "citygm", "hqrisk"):
        assert (await api.get(role, "/api/refund-instructions", params={"case_id": cid})).status_code == 200, role
    assert (await http.get("/api/refund-instructions")).status_code == 401
    r = await api.get("finance", "/api/refund-instructions", params={"case_id": "not-a-uuid"})
    assert r.status_code == 422


async def test_no_instruction_before_the_choice(factory, http, policy):
    sc, api = make(factory, http)
    cid = (await register(api, sc))["id"]
    r = await api.get("finance", "/api/refund-instructions", params={"case_id": cid})
    assert r.status_code == 200 and r.json() == []


async def test_neither_at_fault_refunds_the_whole_deposit_whatever_finance_proposed(factory, http, policy, session_factory):
    sc, api = make(factory, http, deposit=Decimal("48000"))
    base = money(figures(session_factory, sc).deposit_amount)
    tier = policy.tier_for(ContractStage.DEPOSIT_PAID)
    cid = (await register(api, sc))["id"]
    await intake(api, sc, cid)
    above = Decimal("0.9")
    assert above > tier.max_share
    await assess(api, cid, "finance", {"commission_accrued": "1000.00", "proposed_share": str(above)})
    p = await preview(api, cid)  # legal has not spoken: the tier, above its maximum
    assert p["route"] == "tier" and dec(p, "share") == above and p["needs_gm"]
    assert dec(p, "amount") == money(base * above)
    await assess(api, cid, "legal", {"fault": "neither"})
    p = await preview(api, cid)  # law before tiers
    assert p["route"] == "full" and dec(p, "share") == 1 and dec(p, "amount") == base and not p["needs_gm"]


async def test_prepayment_dingjin_is_refunded_in_full_from_registration(factory, http, policy, session_factory):
    sc, api = make(factory, http, deposit_kind="订金", deposit=Decimal("20000"))
    base = money(figures(session_factory, sc).deposit_amount)
    cid = (await register(api, sc))["id"]
    p = await preview(api, cid)
    assert p["route"] == "full" and dec(p, "share") == 1 and dec(p, "amount") == base == dec(p, "base")


async def test_developer_fault_preview_has_no_amount(factory, http, policy):
    sc, api = make(factory, http)
    cid = (await register(api, sc))["id"]
    await intake(api, sc, cid)
    await assess(api, cid, "legal", {"fault": "developer"})
    p = await preview(api, cid)
    assert p["route"] == "legal" and p["share"] is None and p["amount"] is None and "legal" in p["explanation"]
