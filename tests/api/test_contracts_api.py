"""Contracts through HTTP: 网签, 备案, the filing watch list, payment plan, receipts, late fees, the loan,
and the refund workflow's contract snapshot read from these records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.contract_models import Contract
from db.models import Subscription, Unit, UnitStateChange
from db.refund_cases import contract_snapshot
from tests.api.conftest import Api
from tests.api.test_refund_api import assess_all, intake_body, register
from tests.factories_contracts import contract_no, plan_body, receive, set_plan, sign

# price 2,000,000, deposit 50,000: the plan must add up to 1,950,000
PLAN = plan_body((date(2026, 11, 2), "300000.00"), (date(2026, 12, 15), "1650000.00"))


@pytest.fixture
def world(factory, http):
    sc = factory.scenario(deposit=Decimal("50000"), price=Decimal("2000000"))
    return sc, Api(http, sc.users)


def unit_state(session_factory, unit_id: int) -> str:
    with session_factory() as s:
        return s.get(Unit, unit_id).state


async def test_signing_makes_the_unit_signed_and_the_subscription_online_signed(world, session_factory):
    sc, api = world
    c = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))
    assert c["stage"] == "online_signed" and c["filing_due"] == "2026-12-02" and c["filed_on"] is None
    assert c["paid_amount"] == "50000.00" and c["price"] == "2000000.00"
    assert unit_state(session_factory, sc.unit_id) == "signed"
    with session_factory() as s:
        assert s.get(Subscription, sc.subscription_id).stage == "online_signed"
        audit = s.scalars(select(UnitStateChange).where(UnitStateChange.unit_id == sc.unit_id)).all()
        assert [(a.from_state, a.to_state) for a in audit] == [("subscribed", "signed")]
        assert audit[0].actor == sc.users["sales"].username and c["contract_no"] in audit[0].reason
    r = await api.get("legal", f"/api/contracts/{c['id']}")  # all staff read
    assert r.status_code == 200 and r.json()["contract_no"] == c["contract_no"]


async def test_signing_is_refused_for_the_wrong_role_twice_or_with_a_taken_number(world, factory):
    sc, api = world
    body = {"subscription_id": sc.subscription_id, "contract_no": contract_no(), "signed_on": "2026-11-02"}
    r = await api.post("finance", "/api/contracts", json=body)
    assert r.status_code == 403
    r = await api.post("sales", "/api/contracts", json=body | {"signed_on": "2099-01-01"})
    assert r.status_code == 422 and "future" in r.json()["detail"]
    r = await api.post("sales", "/api/contracts", json=body | {"subscription_id": 987654321})
    assert r.status_code == 404
    await sign(api, sc.subscription_id, no=body["contract_no"])
    r = await api.post("manager", "/api/contracts", json=body | {"contract_no": contract_no()})
    assert r.status_code == 409 and "already online_signed" in r.json()["detail"]
    other = factory.scenario(users=sc.users)
    r = await api.post("sales", "/api/contracts", json=body | {"subscription_id": other.subscription_id})
    assert r.status_code == 409 and "already has a contract" in r.json()["detail"]


async def test_filing_makes_the_unit_filed_and_only_the_manager_files(world, session_factory):
    sc, api = world
    c = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))
    r = await api.post("sales", f"/api/contracts/{c['id']}/file", json={})
    assert r.status_code == 403
    r = await api.post("manager", f"/api/contracts/{c['id']}/file", json={"filed_on": "2026-11-01"})
    assert r.status_code == 422 and "before the signing date" in r.json()["detail"]
    r = await api.post("manager", f"/api/contracts/{c['id']}/file", json={"filed_on": "2026-11-10"})
    assert r.status_code == 200, r.text
    assert r.json()["filed_on"] == "2026-11-10" and r.json()["filing_status"] == "filed"
    assert unit_state(session_factory, sc.unit_id) == "filed"
    r = await api.post("manager", f"/api/contracts/{c['id']}/file", json={})
    assert r.status_code == 409


async def test_the_filing_watch_list_shows_overdue_and_due_soon_contracts(world):
    sc, api = world
    c = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))  # filing due 2026-12-02

    async def ids(query: str) -> set[int]:
        r = await api.get("manager", f"/api/contracts?{query}&project_id={sc.project_id}")
        assert r.status_code == 200, r.text
        return {x["id"] for x in r.json()}

    assert c["id"] not in await ids("filing_overdue=true&as_of=2026-12-02")  # the due day is still on time
    assert c["id"] in await ids("filing_overdue=true&as_of=2026-12-03")
    assert c["id"] in await ids("filing_due_within=7&as_of=2026-11-25")
    assert c["id"] not in await ids("filing_due_within=7&as_of=2026-11-24")
    r = await api.get("marketing", f"/api/contracts?filing_overdue=true&as_of=2026-12-03&project_id={sc.project_id}")
    row = next(x for x in r.json() if x["id"] == c["id"])
    assert row["filing_status"] == "overdue" and row["days_to_filing_due"] == -1
    r = await api.post("manager", f"/api/contracts/{c['id']}/file", json={"filed_on": "2026-11-20"})
    assert r.status_code == 200, r.text
    assert c["id"] not in await ids("filing_overdue=true&as_of=2026-12-03")


async def test_a_plan_that_does_not_add_up_is_a_422(world):
    sc, api = world
    c = await sign(api, sc.subscription_id)
    bad = plan_body((date(2026, 11, 2), "300000.00"), (date(2026, 12, 15), "1650000.01"))
    r = await api.post("sales", f"/api/contracts/{c['id']}/payment-plan", json=bad)
    assert r.status_code == 422 and "1950000.00" in r.json()["detail"] and "difference 0.01" in r.json()["detail"]
    full_in_two = PLAN | {"method": "full"}
    r = await api.post("sales", f"/api/contracts/{c['id']}/payment-plan", json=full_in_two)
    assert r.status_code == 422 and "exactly one" in r.json()["detail"]
    r = await api.post("legal", f"/api/contracts/{c['id']}/payment-plan", json=PLAN)
    assert r.status_code == 403
    out = await set_plan(api, c["id"], PLAN)
    assert out["payment_plan"]["method"] == "combination" and out["payment_plan"]["total_due"] == "1950000.00"


async def test_receipts_allocate_oldest_first_with_the_late_fee_shown_per_instalment(world):
    sc, api = world
    c = await sign(api, sc.subscription_id)
    await set_plan(api, c["id"], PLAN)
    r = await api.post("sales", f"/api/contracts/{c['id']}/receipts", json={"amount": "1.00", "received_on": "2026-11-20"})
    assert r.status_code == 403
    # 300,000 due 2026-11-02 paid 2026-11-20: 18 days × 0.05% → 2,700.00; the rest is not due yet
    await receive(api, c["id"], "350000.00", date(2026, 11, 20), reference="POS-1")
    out = (await api.get("sales", f"/api/contracts/{c['id']}?as_of=2026-11-23")).json()
    first, second = out["payment_plan"]["instalments"]
    assert (first["amount_paid"], first["outstanding"], first["status"], first["late_fee"]) == ("300000.00", "0.00", "paid", "2700.00")
    assert (second["amount_paid"], second["outstanding"], second["status"], second["late_fee"]) == ("50000.00", "1600000.00", "due", "0.00")
    assert out["payment_plan"]["late_fee_total"] == "2700.00" and out["paid_amount"] == "400000.00"
    assert out["receipts"][0]["allocations"] == [
        {"instalment_seq": 1, "amount": "300000.00", "days_overdue": 18, "late_fee": "2700.00"},
        {"instalment_seq": 2, "amount": "50000.00", "days_overdue": 0, "late_fee": "0.00"},
    ]
    # seen after the second due date, the unpaid part is overdue and its fee accrues
    later = (await api.get("sales", f"/api/contracts/{c['id']}?as_of=2026-12-25")).json()["payment_plan"]["instalments"][1]
    assert later["status"] == "overdue" and later["days_overdue"] == 10 and later["accruing_late_fee"] == "8000.00"
    # more than is outstanding: refused, nothing written
    r = await api.post("finance", f"/api/contracts/{c['id']}/receipts", json={"amount": "1600000.01", "received_on": "2026-11-21"})
    assert r.status_code == 422 and "overpayments are refused" in r.json()["detail"]
    # the plan is fixed once money came in
    r = await api.post("sales", f"/api/contracts/{c['id']}/payment-plan", json=PLAN)
    assert r.status_code == 409
    done = await receive(api, c["id"], "1600000.00", date(2026, 11, 21))
    assert done["payment_plan"]["outstanding"] == "0.00" and done["paid_amount"] == "2000000.00"


async def test_a_receipt_needs_a_plan(world):
    sc, api = world
    c = await sign(api, sc.subscription_id)
    r = await api.post("finance", f"/api/contracts/{c['id']}/receipts", json={"amount": "1.00", "received_on": "2026-11-20"})
    assert r.status_code == 409 and "no payment plan" in r.json()["detail"]


async def test_loan_disbursement_is_finance_only_and_moves_the_stage(world, session_factory):
    sc, api = world
    c = await sign(api, sc.subscription_id)
    await set_plan(api, c["id"], PLAN)
    r = await api.post("sales", f"/api/contracts/{c['id']}/loan-disbursed", json={})
    assert r.status_code == 403
    r = await api.post("finance", f"/api/contracts/{c['id']}/loan-disbursed", json={"disbursed_at": "2026-11-20T10:00:00+08:00", "amount": "1650000.00"})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "loan_disbursed" and r.json()["loan_amount"] == "1650000.00"
    with session_factory() as s:
        assert s.get(Subscription, sc.subscription_id).stage == "loan_disbursed"
    r = await api.post("finance", f"/api/contracts/{c['id']}/loan-disbursed", json={})
    assert r.status_code == 409


async def test_no_loan_on_a_full_payment_contract(world):
    sc, api = world
    c = await sign(api, sc.subscription_id)
    await set_plan(api, c["id"], plan_body((date(2026, 12, 1), "1950000.00"), method="full"))
    r = await api.post("finance", f"/api/contracts/{c['id']}/loan-disbursed", json={})
    assert r.status_code == 409 and "no loan" in r.json()["detail"]


async def test_contract_snapshot_reads_receipts_and_stage_from_the_contract(world, factory, session_factory):
    sc, api = world
    plain = factory.scenario(users=sc.users)
    with session_factory() as s:  # no contract: as before, from the subscription
        snap = contract_snapshot(s.get(Subscription, plain.subscription_id))
        assert (snap.stage, snap.paid_amount) == ("deposit_paid", Decimal("50000.00"))
    c = await sign(api, sc.subscription_id)
    await set_plan(api, c["id"], PLAN)
    await receive(api, c["id"], "300000.00", date(2026, 11, 20))
    with session_factory() as s:
        snap = contract_snapshot(s.get(Subscription, sc.subscription_id))
        assert snap.stage == "online_signed" and snap.paid_amount == Decimal("350000.00")
        assert snap.deposit_amount == Decimal("50000.00") and snap.price == Decimal("2000000.00")
    r = await api.post("finance", f"/api/contracts/{c['id']}/loan-disbursed", json={})
    assert r.status_code == 200, r.text
    with session_factory() as s:
        snap = contract_snapshot(s.get(Subscription, sc.subscription_id))
        assert snap.stage == "loan_disbursed" and snap.paid_amount == Decimal("350000.00")
        assert s.scalar(select(Contract.id).where(Contract.subscription_id == sc.subscription_id)) == c["id"]


async def test_a_refund_of_a_signed_unit_uses_everything_paid_under_the_contract(world, factory):
    sc, api = world
    factory.policy()
    c = await sign(api, sc.subscription_id)
    await set_plan(api, c["id"], PLAN)
    await receive(api, c["id"], "300000.00", date(2026, 11, 20))
    case = await register(api, sc)
    cid = case["id"]
    r = await api.complete("frontdesk", cid, "intake", intake_body(sc))
    assert r.status_code == 200, r.text
    await assess_all(api, cid)
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    detail = (await api.get("manager", f"/api/refund-cases/{cid}")).json()
    # online-signed tier: 30% of everything paid (deposit 50,000 + receipts 300,000)
    assert detail["options"][1]["refund_amount"] == "105000.00"
