"""销控: a unit is never sold twice — many concurrent attempts, separate connections, exactly one wins."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.errors import Conflict
from db.models import Subscription, Unit, UnitStateChange, User
from db.session import make_engine, make_session_factory
from db.subscriptions import subscribe
from domain.refund import DepositKind
from tests.api.conftest import Api

ATTEMPTS = 50
ROUNDS = 8


def own_customer(factory, users, unit_id: int) -> int:
    """A customer of the unit's project whose consultant is the test's sales user (a consultant subscribes
    only customers they may see: issue 15)."""
    with factory.sf() as s:
        project_id = s.get(Unit, unit_id).project_id
    return factory.customer(consultant_id=users["sales"].id, project_id=project_id)[0]


@pytest.fixture(scope="module")
def wide_sessions(pg_url):
    """A pool as wide as the attempts, so every attempt holds its own connection at once."""
    engine = make_engine(pg_url, pool_size=ATTEMPTS + 2)
    yield make_session_factory(engine)
    engine.dispose()


def test_fifty_concurrent_subscriptions_of_one_unit_sell_it_exactly_once_every_round(factory, wide_sessions):
    users = factory.users()
    customers = [factory.customer()[0] for _ in range(ATTEMPTS)]
    units = factory.available_units(ROUNDS)
    with wide_sessions() as s:
        seller = s.get(User, users["sales"].id)
        s.expunge(seller)
    for unit_id in units:
        barrier = threading.Barrier(ATTEMPTS)

        def attempt(i: int) -> str:
            with wide_sessions() as s:
                s.connection()  # take a connection before the start line
                barrier.wait()
                try:
                    subscribe(s, unit_id=unit_id, customer_id=customers[i], consultant=seller,
                              deposit_kind=DepositKind.DINGJIN, deposit_amount=Decimal("100000"), today=date(2026, 11, 23))
                    s.commit()
                    return "sold"
                except Conflict:
                    s.rollback()
                    return "conflict"

        with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
            outcomes = Counter(pool.map(attempt, range(ATTEMPTS)))
        assert outcomes == {"sold": 1, "conflict": ATTEMPTS - 1}
        with wide_sessions() as s:
            active = s.scalar(select(func.count()).select_from(Subscription).where(Subscription.unit_id == unit_id, Subscription.status == "active"))
            assert active == 1
            assert s.get(Unit, unit_id).state == "subscribed"
            assert s.scalar(select(func.count()).select_from(UnitStateChange).where(UnitStateChange.unit_id == unit_id)) == 1


async def test_concurrent_subscriptions_over_http_give_one_201_and_409s_never_a_5xx(factory, http):
    users = factory.users()
    api = Api(http, users)
    (unit_id,) = factory.available_units(1)
    customers = [own_customer(factory, users, unit_id) for _ in range(ATTEMPTS)]
    headers = await api.as_("sales")
    rs = await asyncio.gather(*(
        http.post("/api/subscriptions", headers=headers,
                  json={"unit_id": unit_id, "customer_id": c, "deposit_kind": "定金", "deposit_amount": "100000.00"})
        for c in customers
    ))
    codes = Counter(r.status_code for r in rs)
    assert codes == {201: 1, 409: ATTEMPTS - 1}
    # A loser is told the unit is taken, or — when it waited on the row lock past lock_timeout (a loaded
    # machine) — to try again; either way a readable 409.
    for r in rs:
        if r.status_code == 409:
            assert "subscri" in r.json()["detail"] or "try again" in r.json()["detail"], r.text


async def test_a_dingjin_over_twenty_percent_of_the_price_is_refused(factory, http):
    users = factory.users()
    api = Api(http, users)
    (unit_id,) = factory.available_units(1, price=Decimal("1000000"))
    customer = own_customer(factory, users, unit_id)
    r = await api.post("sales", "/api/subscriptions", json={"unit_id": unit_id, "customer_id": customer, "deposit_kind": "定金", "deposit_amount": "200000.01"})
    assert r.status_code == 422 and "20%" in r.json()["detail"]
    r = await api.post("sales", "/api/subscriptions", json={"unit_id": unit_id, "customer_id": customer, "deposit_kind": "订金", "deposit_amount": "250000.00"})
    assert r.status_code == 201
    r = await api.post("finance", "/api/subscriptions", json={"unit_id": unit_id, "customer_id": customer, "deposit_kind": "订金", "deposit_amount": "1.00"})
    assert r.status_code == 403


def test_the_database_itself_refuses_a_second_active_subscription(factory, session_factory):
    """Even code that skipped the row lock could not sell twice: the partial unique index says no."""
    from sqlalchemy.exc import IntegrityError

    sc = factory.scenario()
    with pytest.raises(IntegrityError), session_factory.begin() as s:
        s.add(Subscription(unit_id=sc.unit_id, customer_id=sc.customer_id, consultant_id=sc.users["sales"].id,
                           price=Decimal("1"), deposit_amount=Decimal("1"), deposit_kind="订金", paid_amount=Decimal("1"),
                           stage="deposit_paid", status="active"))


async def test_a_subscription_records_the_co_resident_acknowledgment_and_a_signing_deadline(factory, http):
    users = factory.users()
    api = Api(http, users)
    unit_a, unit_b = factory.available_units(2)
    customer = own_customer(factory, users, unit_a)
    r = await api.post("sales", "/api/subscriptions", json={"unit_id": unit_a, "customer_id": customer, "deposit_kind": "定金",
                                                          "deposit_amount": "50000.00", "co_resident_ack": True})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["co_resident_ack"] is True and body["signing_deadline"] is not None
    r = await api.post("sales", "/api/subscriptions", json={"unit_id": unit_b, "customer_id": customer, "deposit_kind": "定金",
                                                          "deposit_amount": "50000.00", "signing_deadline": "2020-01-01"})
    assert r.status_code == 422 and "after today" in r.json()["detail"]
