"""Follow-up API: warnings (list, respond, downgrade) and a mortgage case through HTTP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.followup_models import Followup, WarningRecord
from db.models import CaseEvent, RefundCase
from domain.calendar import china_date
from tests.api.conftest import Api
from tests.factories_contracts import plan_body, set_plan, sign


@pytest.fixture
def api(factory, http) -> Api:
    return Api(http, factory.users(), factory.project_id())


def make_warning(session_factory, level: str = "orange", customer_id: int | None = None, **kw) -> int:
    now = datetime.now(timezone.utc)
    key = uuid.uuid4().hex
    with session_factory.begin() as s:
        # No customer by default (a warning of no project: group-wide readers only); a hard-coded customer id
        # would belong to whichever test created customer 1 first.
        w = WarningRecord(
            warning_key=f"test:{key}", customer_id=customer_id, case_ref=f"test-{key[:8]}", level=level,
            rules=[{"rule": "refund_policy_inquiries", "score": 40, "detail": "3 inquiries"},
                   {"rule": "visits_dropped_no_appointment", "score": 30, "detail": ""}],
            risk_score=70, raised_at=now, response_due=now + timedelta(hours=2),
            respond_role="manager", escalate_to="citygm", **kw,
        )
        s.add(w)
        s.flush()
        return w.id


async def test_open_warnings_are_listed_for_the_roles_that_watch_or_answer_them(api, factory, session_factory):
    customer, _, _ = factory.customer(project_id=api.project_id)  # a customer of a project in the GM's city
    wid = make_warning(session_factory, customer_id=customer)
    for role in ("manager", "citygm", "hqrisk", "ops"):
        r = await api.get(role, "/api/warnings", params={"open": "true"})
        assert r.status_code == 200, r.text
        mine = [w for w in r.json() if w["id"] == wid]
        assert mine and mine[0]["level"] == "orange" and [x["rule"] for x in mine[0]["rules"]] == [
            "refund_policy_inquiries", "visits_dropped_no_appointment"]
        assert mine[0]["risk_score"] == 70 and mine[0]["respond_role"] == "manager"
    r = await api.get("sales", "/api/warnings")
    assert r.status_code == 200 and wid not in [w["id"] for w in r.json()]  # not one of their customers'
    for role in ("frontdesk", "finance", "legal", "marketing"):
        assert (await api.get(role, "/api/warnings")).status_code == 403


async def test_responding_closes_a_warning_and_a_downgrade_needs_a_reason(api, session_factory):
    wid = make_warning(session_factory)
    r = await api.post("sales", f"/api/warnings/{wid}/respond", json={"note": "called"})
    assert r.status_code == 403  # an orange warning is the manager's
    r = await api.post("manager", f"/api/warnings/{wid}/respond", json={"note": "called", "downgrade_to": "yellow"})
    assert r.status_code == 422 and "reason" in r.text
    r = await api.post("manager", f"/api/warnings/{wid}/respond", json={"note": "called", "downgrade_to": "red", "downgrade_reason": "x"})
    assert r.status_code == 422
    r = await api.post("manager", f"/api/warnings/{wid}/respond",
                       json={"note": "called the buyer", "downgrade_to": "yellow", "downgrade_reason": "booked a visit on Saturday"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["level"] == "yellow" and body["downgraded_from"] == "orange" and body["responded_at"]
    r = await api.post("manager", f"/api/warnings/{wid}/respond", json={"note": "again"})
    assert r.status_code == 409
    r = await api.get("manager", "/api/warnings", params={"open": "true"})
    assert wid not in [w["id"] for w in r.json()]
    r = await api.get("manager", "/api/warnings", params={"open": "false"})
    assert wid in [w["id"] for w in r.json()]
    assert (await api.post("manager", "/api/warnings/999999999/respond", json={"note": "x"})).status_code == 404


@pytest.fixture
def world(factory, http, session_factory):
    async def make(*, signed_on: date = date(2026, 11, 2), subscribed: date | None = None, plan: bool = True,
                   first_due: date | None = None):
        from db.models import Subscription

        factory.policy()
        sc = factory.scenario(deposit=Decimal("50000"), price=Decimal("2000000"))
        if subscribed is not None:
            with session_factory.begin() as s:
                s.get(Subscription, sc.subscription_id).subscribed_at = datetime.combine(
                    subscribed, datetime.min.time(), timezone.utc)
        api = Api(http, sc.users)
        c = await sign(api, sc.subscription_id, signed_on=signed_on)
        if plan:
            due = first_due or date(2026, 12, 1)
            await set_plan(api, c["id"], plan_body((due, "550000.00"), (due + timedelta(days=60), "1400000.00"),
                                                   method="commercial_loan"))
        return sc, api, c
    return make


async def test_a_mortgage_takes_the_contract_and_the_request_date_and_shows_its_documents_deadline(world):
    sc, api, c = await world(signed_on=date(2026, 9, 10), subscribed=date(2026, 9, 1))
    body = {"contract_id": c["id"], "requested_on": "2026-09-28", "bank": "CCB", "loan_amount": "1400000.00"}
    assert (await api.post("frontdesk", "/api/mortgages", json=body)).status_code == 403
    r = await api.post("finance", "/api/mortgages", json=body)
    assert r.status_code == 201, r.text
    m = r.json()
    # 5 working days after 2026-09-28, across the National Day holiday: Saturday 10-10 is a 调休 workday
    assert m["documents_due"] == "2026-10-10" and m["documents_due_basis"] == "working_days"
    assert m["contract_id"] == c["id"] and m["stage"] == "awaiting_documents" and m["stalled"] is True  # long past
    loan = m["loan_id"]
    r = await api.get("finance", f"/api/mortgages/{loan}")
    assert r.status_code == 200 and r.json()["documents_due"] == "2026-10-10" and r.json()["requested_on"] == "2026-09-28"
    r = await api.get("manager", "/api/mortgages", params={"contract_id": c["id"], "as_of": "2026-10-10"})
    assert [(x["loan_id"], x["stalled"], x["stage_deadline"]) for x in r.json()] == [(loan, False, "2026-10-10")]
    r = await api.post("finance", "/api/mortgages", json=body)  # one mortgage in progress per contract
    assert r.status_code == 409 and loan in r.json()["detail"]
    r = await api.post("sales", f"/api/mortgages/{loan}/stage", json={"to_stage": "documents_complete"})
    assert r.status_code == 200, r.text
    r = await api.get("finance", f"/api/mortgages/{loan}")
    assert r.json()["stage"] == "documents_complete" and r.json()["documents_due"] is None  # shown while awaited


async def test_bad_mortgage_input_is_a_422_with_the_field_and_nothing_is_written(world, session_factory):
    sc, api, c = await world()
    today = china_date(datetime.now(timezone.utc))
    body = {"contract_id": c["id"], "requested_on": "2026-10-01", "bank": "CCB", "loan_amount": "1950000.01"}
    r = await api.post("finance", "/api/mortgages", json=body)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"body.requested_on", "body.loan_amount"}
    r = await api.post("finance", "/api/mortgages", json=body | {"requested_on": str(today + timedelta(days=2)),
                                                                  "loan_amount": "1000.00"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "future"
    r = await api.post("finance", "/api/mortgages", json={"loan_id": "X1", "customer_id": 5, "contract_ref": "HT-1",
                                                          "bank": "CCB", "loan_amount": "900000.00"})
    assert r.status_code == 422  # the contract is required
    with session_factory() as s:
        assert s.scalars(select(Followup).where(Followup.kind == "mortgage",
                                                Followup.detail["contract_id"].as_integer() == c["id"])).all() == []


async def test_a_rejected_mortgage_opens_a_refund_case_with_the_cause(world, session_factory):
    sc, api, c = await world()
    today = china_date(datetime.now(timezone.utc))
    r = await api.post("finance", "/api/mortgages", json={"contract_id": c["id"], "requested_on": str(today),
                                                          "bank": "CCB", "loan_amount": "1400000.00"})
    assert r.status_code == 201, r.text
    loan = r.json()["loan_id"]
    for role, stage in (("sales", "documents_complete"), ("sales", "signed"), ("finance", "under_review")):
        r = await api.post(role, f"/api/mortgages/{loan}/stage", json={"to_stage": stage})
        assert r.status_code == 200, r.text
    r = await api.post("finance", f"/api/mortgages/{loan}/stage", json={"to_stage": "rejected"})
    assert r.status_code == 422
    r = await api.post("finance", f"/api/mortgages/{loan}/stage",
                       json={"to_stage": "rejected", "rejection_cause": "credit record"})
    assert r.status_code == 200, r.text
    case = await wait_for_case(session_factory, sc.subscription_id)
    with session_factory() as s:
        origin = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.event_key == "origin"))
        assert origin is not None and origin.detail["origin"] == "loan_rejected: credit record"
    r = await api.get("manager", f"/api/mortgages/{loan}")
    assert r.json()["stage"] == "rejected" and r.json()["rejection_cause"] == "credit record"


async def wait_for_case(session_factory, subscription_id: int, timeout: float = 30.0) -> RefundCase:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with session_factory() as s:
            case = s.scalar(select(RefundCase).where(RefundCase.subscription_id == subscription_id))
            if case is not None and case.run_id:
                return case
        assert loop.time() < deadline, f"no refund case for subscription {subscription_id}"
        await asyncio.sleep(0.1)


async def test_one_payment_plan_per_contract_from_its_own_instalments(world, session_factory):
    sc, api, c = await world(first_due=china_date(datetime.now(timezone.utc)) + timedelta(days=40))
    assert (await api.post("sales", "/api/payment-plans", json={"contract_id": c["id"]})).status_code == 403
    r = await api.post("finance", "/api/payment-plans", json={"plan_id": "P1", "customer_id": 5, "contract_ref": "X",
                                                              "instalments": []})
    assert r.status_code == 422  # no contract: refused
    r = await api.post("finance", "/api/payment-plans", json={"contract_id": c["id"]})
    assert r.status_code == 201, r.text
    plan = r.json()["plan_id"]
    assert r.json()["seq"] == 1
    r = await api.post("finance", "/api/payment-plans", json={"contract_id": c["id"]})
    assert r.status_code == 409 and f"payment-plan-{plan}" in r.json()["detail"]  # names the first
    # the contract's instalments are the plan: they can no longer be replaced behind its back
    r = await api.post("sales", f"/api/contracts/{c['id']}/payment-plan",
                       json=plan_body((date(2026, 12, 1), "1950000.00"), method="full"))
    assert r.status_code == 409
    r = await api.post("sales", f"/api/payment-plans/{plan}/responses/postpone", json={"seq": 1})
    assert r.status_code == 409 and "not overdue" in r.text
    # nor is money taken on the contract behind the follow-up's back: it goes through the plan
    r = await api.post("finance", f"/api/contracts/{c['id']}/receipts",
                       json={"amount": "550000.00", "received_on": str(china_date(datetime.now(timezone.utc)))})
    assert r.status_code == 409 and r.json()["key"] == "contract.receipt_followed_up", r.text
    assert f"付款跟进 {plan}" in r.json()["message_zh"]
    assert (await api.get("finance", f"/api/contracts/{c['id']}")).json()["receipts"] == []
    r = await api.post("finance", f"/api/payment-plans/{plan}/payments",
                       json={"seq": 1, "amount": "550000.00", "paid_on": "2026-11-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.paid_on"  # before the contract
    today = china_date(datetime.now(timezone.utc))
    r = await api.post("finance", f"/api/payment-plans/{plan}/payments",
                       json={"seq": 1, "amount": "550000.00", "paid_on": str(today)})
    assert r.status_code == 200 and r.json()["state"] == "settled", r.text
    out = (await api.get("finance", f"/api/contracts/{c['id']}")).json()  # the payment is the contract's receipt
    assert out["payment_plan"]["instalments"][0]["status"] == "paid" and out["receipts"][0]["reference"] == "分期 1"


async def test_a_receipt_before_the_contract_or_in_the_future_is_a_422_with_the_field(world):
    sc, api, c = await world()
    today = china_date(datetime.now(timezone.utc))
    for day, code in (("2026-11-01", "before_contract"), (str(today + timedelta(days=1)), "future")):
        r = await api.post("finance", f"/api/contracts/{c['id']}/receipts", json={"amount": "1.00", "received_on": day})
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": "body.received_on", "code": code, "message": r.json()["errors"][0]["message"]}]
    out = (await api.get("finance", f"/api/contracts/{c['id']}")).json()
    assert out["receipts"] == []


async def test_the_sweep_raises_visits_dropped_without_a_new_record(api, session_factory):
    from db.customer_models import CustomerVisit
    from tests.factories_customers import customer_body

    r = await api.post("sales", "/api/customers", json=customer_body(api.project_id))
    assert r.status_code == 201, r.text
    cid, now = r.json()["id"], datetime.now(timezone.utc)
    with session_factory.begin() as s:  # written behind the API's back: no evaluation ran
        for days in (50, 40):
            s.add(CustomerVisit(customer_id=cid, visited_at=now - timedelta(days=days), group_size=1, note="",
                                recorded_by=api.users["sales"].id))

    def mine(ws):
        return [w for w in ws if w["customer_id"] == cid]

    assert mine((await api.get("manager", "/api/warnings")).json()) == []
    assert (await api.post("sales", "/api/warnings/sweep")).status_code == 403
    r = await api.post("ops", "/api/warnings/sweep")
    assert r.status_code == 200, r.text
    assert r.json()["evaluated"] >= 1
    [w] = mine(r.json()["changed"])
    assert w["level"] == "yellow" and [x["rule"] for x in w["rules"]] == ["visits_dropped_no_appointment"]
    r = await api.post("manager", "/api/warnings/sweep")
    assert r.status_code == 200 and mine(r.json()["changed"]) == []
    assert [x["id"] for x in mine((await api.get("manager", "/api/warnings")).json())] == [w["id"]]


async def test_a_warning_of_no_project_is_for_group_wide_readers_only(api, session_factory):
    wid = make_warning(session_factory)  # no customer: it belongs to no project
    assert wid in [w["id"] for w in (await api.get("hqrisk", "/api/warnings")).json()]
    assert wid not in [w["id"] for w in (await api.get("citygm", "/api/warnings")).json()]  # a city company's GM
    r = await api.post("citygm", f"/api/warnings/{wid}/respond", json={"note": "x"})
    assert r.status_code == 404
