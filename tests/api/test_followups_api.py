"""Follow-up API: warnings (list, respond, downgrade) and a mortgage case through HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.followup_models import FollowupAction, MortgageDisbursement, WarningRecord
from tests.api.conftest import Api


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


async def test_a_mortgage_case_through_http_to_rejection_offers_the_refund_path(api, session_factory):
    loan = f"L{uuid.uuid4().hex[:10]}"
    body = {"loan_id": loan, "customer_id": 5, "contract_ref": "HT-1", "bank": "CCB", "loan_amount": "900000.00"}
    r = await api.post("finance", "/api/mortgages", json=body)
    assert r.status_code == 201, r.text
    assert (await api.post("finance", "/api/mortgages", json=body)).status_code == 409
    r = await api.post("finance", f"/api/mortgages/{loan}/stage", json={"to_stage": "signed"})
    assert r.status_code == 409 and "documents_complete" in r.text
    r = await api.post("frontdesk", f"/api/mortgages/{loan}/stage", json={"to_stage": "documents_complete"})
    assert r.status_code == 403
    for role, stage in (("sales", "documents_complete"), ("sales", "signed")):
        r = await api.post(role, f"/api/mortgages/{loan}/stage", json={"to_stage": stage})
        assert r.status_code == 200, r.text
    r = await api.post("sales", f"/api/mortgages/{loan}/stage", json={"to_stage": "under_review"})
    assert r.status_code == 403
    r = await api.post("finance", f"/api/mortgages/{loan}/stage", json={"to_stage": "under_review"})
    assert r.status_code == 200 and r.json()["approval_expected_by"], r.text
    r = await api.post("finance", f"/api/mortgages/{loan}/stage", json={"to_stage": "rejected"})
    assert r.status_code == 422
    r = await api.post("finance", f"/api/mortgages/{loan}/stage", json={"to_stage": "rejected", "rejection_cause": "credit record"})
    assert r.status_code == 200, r.text
    r = await api.get("manager", f"/api/mortgages/{loan}")
    assert r.status_code == 200 and r.json()["stage"] == "rejected" and r.json()["approval_expected_by"]
    with session_factory() as s:
        offer = s.scalar(select(FollowupAction).where(FollowupAction.followup_id == f"mortgage-{loan}",
                                                       FollowupAction.action_key == "offer_refund"))
        assert offer is not None and offer.detail["cause"] == "credit record"
        assert s.scalar(select(MortgageDisbursement).where(MortgageDisbursement.loan_id == loan)) is None


async def test_a_payment_plan_through_http_refuses_early_postponement_and_records_payments(api):
    plan = f"P{uuid.uuid4().hex[:10]}"
    today = datetime.now(timezone.utc).date()
    body = {"plan_id": plan, "customer_id": 5, "contract_ref": "HT-2", "instalments": [
        {"seq": 1, "due_date": str(today + timedelta(days=40)), "amount": "100000.00"},
        {"seq": 2, "due_date": str(today + timedelta(days=70)), "amount": "100000.00"},
    ]}
    assert (await api.post("sales", "/api/payment-plans", json=body)).status_code == 403
    r = await api.post("finance", "/api/payment-plans", json=body)
    assert r.status_code == 201, r.text
    r = await api.post("sales", f"/api/payment-plans/{plan}/responses/postpone", json={"seq": 1})
    assert r.status_code == 409 and "not overdue" in r.text
    assert (await api.post("sales", f"/api/payment-plans/{plan}/responses/other", json={"seq": 1})).status_code == 404
    r = await api.post("finance", f"/api/payment-plans/{plan}/payments", json={"seq": 1, "amount": "99.00", "paid_on": str(today)})
    assert r.status_code == 422
    r = await api.post("finance", f"/api/payment-plans/{plan}/payments", json={"seq": 1, "amount": "100000.00", "paid_on": str(today)})
    assert r.status_code == 200 and r.json()["state"] == "settled", r.text
    r = await api.post("sales", f"/api/payment-plans/{plan}/responses/transfer", json={"seq": 2, "note": "a friend buys"})
    assert r.status_code == 200 and r.json()["state"] == "transfer_requested", r.text


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
