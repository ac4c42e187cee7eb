"""Subscriptions with price control (issue 15), on the real Temporal dev server and PostgreSQL: the discount
chain (within the manager's limit → the manager; over it → the city GM; below the floor → HQ risk; above the
filed price → 422), four eyes, a rejection releases the unit, bad input → 422 per field with nothing written,
the co-resident acknowledgment with its signed file, a customer the consultant may not see → 404, and many
concurrent discounted submissions of one unit → exactly one request."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from db.customer_models import CustomerCoParty
from db.discount_models import DiscountRequest, SubscriptionAckFile, SubscriptionCoBuyer
from db.models import Subscription, Unit
from tests.api.conftest import Api

PRICE = Decimal("1000000")
PDF = b"%PDF-1.4\n% signed acknowledgment\n"


def setup(factory, *, n: int = 1, floor: str | None = None, filed: str | None = None, extra: tuple[str, ...] = ()):
    users = factory.users(extra=extra)
    units = factory.available_units(n, price=PRICE)
    with factory.sf.begin() as s:
        project_id = s.get(Unit, units[0]).project_id
        for uid in units:
            u = s.get(Unit, uid)
            u.floor_price = Decimal(floor) if floor else None
            u.filed_price = Decimal(filed) if filed else None
    customer = factory.customer(consultant_id=users["sales"].id, project_id=project_id)[0]
    return users, units, customer, project_id


def body(unit_id: int, customer_id: int, *rows: tuple[str, str, str], **more) -> dict:
    return {"unit_id": unit_id, "customer_id": customer_id, "deposit_kind": "定金", "deposit_amount": "50000.00",
            "discounts": [{"reason": r, "kind": k, "value": v} for r, k, v in rows], **more}


def unit_state(factory, unit_id: int) -> str:
    with factory.sf() as s:
        return s.get(Unit, unit_id).state


def requests_of(factory, unit_id: int) -> list[DiscountRequest]:
    with factory.sf() as s:
        return list(s.scalars(select(DiscountRequest).where(DiscountRequest.unit_id == unit_id)))


def fields(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


async def test_within_the_managers_limit_the_manager_approves_and_the_subscription_is_written(factory, http):
    users, (unit_id,), customer, _ = setup(factory)
    api = Api(http, users)
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer, ("开盘优惠", "percent", "1"),
                                                                  ("老带新", "amount", "5000.00")))
    assert r.status_code == 202, r.text
    pending = r.json()
    assert (pending["level"], pending["list_price"], pending["final_price"]) == ("manager", "1000000.00", "985000.00")
    assert unit_state(factory, unit_id) == "held"  # nobody else can subscribe it meanwhile
    again = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer))
    assert again.status_code == 409, again.text

    listed = await api.get("manager", "/api/discount-requests")
    assert listed.status_code == 200, listed.text
    mine = next(i for i in listed.json()["items"] if i["id"] == pending["discount_request_id"])
    assert [(x["seq"], x["kind"], x["deduction"], x["price_after"]) for x in mine["rows"]] == [
        (1, "percent", "10000.00", "990000.00"), (2, "amount", "5000.00", "985000.00")]
    assert mine["requested_by"] == users["sales"].display_name and mine["current_level"] == "manager"

    rid = pending["discount_request_id"]
    assert (await api.post("sales", f"/api/discount-requests/{rid}/approve", json={})).status_code == 403
    r = await api.post("manager", f"/api/discount-requests/{rid}/approve", json={"note": "同意"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["subscription_id"]
    assert [(s["role"], s["outcome"], s["decided_by"]) for s in done["steps"]] == [
        ("manager", "approved", users["manager"].display_name)]
    with factory.sf() as s:
        sub = s.get(Subscription, done["subscription_id"])
        assert (sub.price, sub.status, sub.customer_id) == (Decimal("985000.00"), "active", customer)
    assert unit_state(factory, unit_id) == "subscribed"
    r = await api.post("manager", f"/api/discount-requests/{rid}/approve", json={})
    assert r.status_code in (404, 409), r.text  # decided: the workflow has ended


async def test_over_the_managers_limit_is_the_city_gms_task(factory, http):
    users, (unit_id,), customer, _ = setup(factory, floor="900000.00")
    api = Api(http, users)
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer, ("团购", "percent", "3")))
    assert r.status_code == 202 and r.json()["level"] == "citygm", r.text
    rid = r.json()["discount_request_id"]
    assert rid not in [i["id"] for i in (await api.get("manager", "/api/discount-requests")).json()["items"]]
    assert rid in [i["id"] for i in (await api.get("citygm", "/api/discount-requests")).json()["items"]]
    r = await api.post("manager", f"/api/discount-requests/{rid}/approve", json={})
    assert r.status_code == 403 and "citygm" in r.json()["detail"], r.text
    r = await api.post("citygm", f"/api/discount-requests/{rid}/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text


async def test_below_the_floor_goes_to_hq_risk_and_a_rejection_releases_the_unit(factory, http):
    users, (unit_id,), customer, _ = setup(factory, floor="995000.00")
    api = Api(http, users)
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer, ("关系户", "amount", "6000")))
    assert r.status_code == 202 and r.json()["level"] == "hqrisk", r.text  # 0.6 %, but under the floor
    rid = r.json()["discount_request_id"]
    assert (await api.post("citygm", f"/api/discount-requests/{rid}/approve", json={})).status_code == 403
    r = await api.post("hqrisk", f"/api/discount-requests/{rid}/reject", json={"note": "  "})
    assert r.status_code == 422 and "reason" in r.json()["detail"], r.text
    r = await api.post("hqrisk", f"/api/discount-requests/{rid}/reject", json={"note": "低于底价，不予批准"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["decision_note"] == "低于底价，不予批准"
    assert unit_state(factory, unit_id) == "available"
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer))  # sold at the list price
    assert r.status_code == 201 and r.json()["price"] == "1000000.00", r.text


async def test_above_the_filed_price_is_422_and_nothing_is_written(factory, http):
    users, (unit_id, other), customer, _ = setup(factory, n=2, filed="990000.00")
    api = Api(http, users)
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer, ("开盘优惠", "amount", "5000")))
    assert r.status_code == 422 and fields(r) == {"body.discounts"} and "备案价" in r.json()["detail"], r.text
    r = await api.post("sales", "/api/subscriptions", json=body(other, customer))  # the list total itself
    assert r.status_code == 422 and fields(r) == {"body.unit_id"}, r.text
    assert requests_of(factory, unit_id) == [] and unit_state(factory, unit_id) == "available"
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, customer, ("开盘优惠", "amount", "10000")))
    assert r.status_code == 202, r.text  # down to the filed price: allowed (with the manager's approval)


async def test_nobody_approves_their_own_request(factory, http):
    users, (unit_id,), _, project_id = setup(factory, extra=("manager#2",))
    customer = factory.customer(project_id=project_id)[0]  # the office's customer: managers see every one
    api = Api(http, users)
    r = await api.post("manager", "/api/subscriptions", json=body(unit_id, customer, ("开盘优惠", "percent", "1")))
    assert r.status_code == 202, r.text
    rid = r.json()["discount_request_id"]
    r = await api.post("manager", f"/api/discount-requests/{rid}/approve", json={})
    assert r.status_code == 403 and "four eyes" in r.json()["detail"], r.text
    r = await api.post("manager#2", f"/api/discount-requests/{rid}/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text


async def test_bad_input_is_422_with_the_field_and_nothing_is_half_written(factory, http):
    users, (unit_id,), customer, project_id = setup(factory)
    api = Api(http, users)
    with factory.sf.begin() as s:
        resident = CustomerCoParty(customer_id=customer, relation="co_resident", name="家属")
        s.add(resident)
        s.flush()
        resident_id = resident.id
    cases = [
        (body(unit_id, customer, ("x", "amount", "0")), "body.discounts.0.value"),
        (body(unit_id, customer, ("x", "percent", "1"), ("y", "amount", "2000000")), "body.discounts.1.value"),
        (body(unit_id, customer, ("x", "percent", "100")), "body.discounts.0.value"),
        (body(unit_id, customer, ("", "amount", "10")), "body.discounts.0.reason"),
        (body(unit_id, customer, ("x", "coupon", "10")), "body.discounts.0.kind"),
        (body(unit_id, customer, ("x", "amount", "0.001")), "body.discounts.0.value"),
        (body(unit_id, customer, ("x", "amount", True)), "body.discounts.0.value"),
        (body(unit_id, customer, co_buyer_ids=[resident_id], co_resident_ack=True), "body.co_buyer_ids.0"),
        (body(unit_id, customer), "body.co_resident_ack"),  # a co-resident on record: the acknowledgment is due
        (body(unit_id, customer, co_resident_ack=True), "body.co_resident_ack_file_id"),  # …with its signed file
        ({**body(unit_id, customer, co_resident_ack=True), "deposit_amount": "600000.00"}, "body.deposit_amount"),
    ]
    for payload, field in cases:
        r = await api.post("sales", "/api/subscriptions", json=payload)
        assert r.status_code == 422, (payload, r.text)
        assert field in fields(r), (field, r.json())
        assert all(e["message"] for e in r.json()["errors"])
    assert requests_of(factory, unit_id) == [] and unit_state(factory, unit_id) == "available"
    with factory.sf() as s:
        assert s.scalar(select(func.count()).select_from(Subscription).where(Subscription.unit_id == unit_id)) == 0


async def test_the_co_resident_acknowledgment_with_its_signed_file_and_the_co_buyers(factory, http):
    users, (unit_id,), customer, _ = setup(factory)
    api = Api(http, users)
    with factory.sf.begin() as s:
        owner = CustomerCoParty(customer_id=customer, relation="co_owner", name="配偶")
        s.add_all([owner, CustomerCoParty(customer_id=customer, relation="co_resident", name="父亲")])
        s.flush()
        owner_id = owner.id
    q = await api.post("sales", "/api/subscriptions/quote", json={"unit_id": unit_id, "customer_id": customer})
    assert q.status_code == 200 and q.json()["co_resident_ack_required"] is True, q.text
    r = await api.post("sales", "/api/subscriptions/ack-files", data={"customer_id": str(customer)},
                       files={"file": ("确认书.txt", b"not a pdf", "application/pdf")})
    assert r.status_code == 422, r.text
    r = await api.post("sales", "/api/subscriptions/ack-files", data={"customer_id": str(customer)},
                       files={"file": ("确认书.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    file_id = r.json()["id"]
    r = await api.post("sales", "/api/subscriptions", json=body(
        unit_id, customer, co_resident_ack=True, co_resident_ack_file_id=file_id, co_buyer_ids=[owner_id]))
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    with factory.sf() as s:
        assert s.get(SubscriptionAckFile, file_id).subscription_id == sub_id
        assert s.scalars(select(SubscriptionCoBuyer.co_party_id).where(SubscriptionCoBuyer.subscription_id == sub_id)).all() == [owner_id]


async def test_a_consultant_cannot_subscribe_for_a_customer_they_may_not_see(factory, http):
    users, (unit_id,), _, project_id = setup(factory, extra=("sales#2",))
    others = factory.customer(consultant_id=users["sales#2"].id, project_id=project_id)[0]
    api = Api(http, users)
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, others))
    assert r.status_code == 404, r.text
    r = await api.post("sales", "/api/subscriptions/quote", json={"unit_id": unit_id, "customer_id": others})
    assert r.status_code == 404, r.text
    assert unit_state(factory, unit_id) == "available"
    elsewhere = factory.customer(consultant_id=users["sales"].id)[0]  # their own, of another project
    r = await api.post("sales", "/api/subscriptions", json=body(unit_id, elsewhere))
    assert r.status_code == 422 and fields(r) == {"body.customer_id"}, r.text


async def test_concurrent_discounted_subscriptions_of_one_unit_make_exactly_one_request(factory, http):
    attempts = 20
    users, (unit_id,), _, project_id = setup(factory)
    customers = [factory.customer(consultant_id=users["sales"].id, project_id=project_id)[0] for _ in range(attempts)]
    api = Api(http, users)
    headers = await api.as_("sales")
    rs = await asyncio.gather(*(
        http.post("/api/subscriptions", headers=headers, json=body(unit_id, c, ("开盘优惠", "percent", "1")))
        for c in customers))
    assert Counter(r.status_code for r in rs) == {202: 1, 409: attempts - 1}, [r.text for r in rs if r.status_code >= 500]
    assert len(requests_of(factory, unit_id)) == 1 and unit_state(factory, unit_id) == "held"


async def test_a_pending_request_without_its_workflow_is_resumed_by_the_first_decision(factory, http):
    """Demo data (scripts/seed_pricing.py) is written before the engine is up: its workflow starts on demand."""
    from datetime import date, datetime, timezone

    from db.discounts import SubscriptionForm, check_form, create_request
    from domain.pricing import DiscountRow
    from domain.refund import DepositKind

    users, (unit_id,), customer, _ = setup(factory)
    with factory.sf.begin() as s:
        form = SubscriptionForm(unit_id=unit_id, customer_id=customer, deposit_kind=DepositKind.DINGJIN,
                                deposit_amount=Decimal("50000"), discounts=[DiscountRow("开盘优惠", "percent", Decimal("1"))])
        req = create_request(s, form, check_form(s, form, users["sales"], today=date.today()), users["sales"],
                             now=datetime.now(timezone.utc))
        rid = req.id
    api = Api(http, users)
    r = await api.post("manager", f"/api/discount-requests/{rid}/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert unit_state(factory, unit_id) == "subscribed"
