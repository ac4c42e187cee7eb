"""Sales statistics (DOMAIN §7) through the API: figures follow the sales records, roles, the XLSX export.

Project figures are asserted exactly on a fresh project; visits, calls and effective customers are
per customer project and asserted as differences from the first reading."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from api.clock import china_today
from db.models import Subscription, Unit, UnitState
from domain.stats import rate
from tests.api.conftest import Api
from tests.api.test_refund_api import assess_all, intake_body, register
from tests.factories_contracts import plan_body, receive, set_plan, sign
from tests.factories_customers import customer_body

PRICE = Decimal("1500000")


@pytest.fixture
def api(http, factory) -> Api:
    factory.policy()  # the newest published policy is the one in force for the refund case
    return Api(http, factory.users())


def new_units(factory, session_factory) -> tuple[int, list[int]]:
    """A fresh project: three 三室两厅 on sale, one 两室两厅 held back and one not yet released."""
    ids = factory.available_units(5, price=PRICE)
    with session_factory.begin() as s:
        units = [s.get(Unit, i) for i in ids]
        for u, state in zip(units[3:], (UnitState.HELD, UnitState.NOT_RELEASED)):
            u.layout, u.state = "两室两厅", state
        return units[0].project_id, ids


async def stats(api: Api, pid: int, period: str = "today", role: str = "manager") -> dict:
    r = await api.get(role, f"/api/projects/{pid}/stats", params={"period": period})
    assert r.status_code == 200, r.text
    return r.json()


async def new_customer(api: Api, pid: int) -> SimpleNamespace:
    body = customer_body(pid, consultant_id=api.users["sales"].id)
    r = await api.post("sales", "/api/customers", json=body)
    assert r.status_code == 201, r.text
    return SimpleNamespace(id=r.json()["id"], id_number=body["id_number"], mobile=body["mobile"])


async def subscribe(api: Api, unit_id: int, customer_id: int, kind: str, deposit: str) -> int:
    r = await api.post("sales", "/api/subscriptions", json={"unit_id": unit_id, "customer_id": customer_id,
                                                            "deposit_kind": kind, "deposit_amount": deposit})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def sell_through(body: dict) -> dict[str, tuple]:
    return {r["layout"]: (r["released"], r["sold"], r["rate"]) for r in body["sell_through_by_layout"]}


async def test_the_figures_follow_visits_calls_sales_receipts_and_a_refund(api, factory, session_factory):
    pid, ids = new_units(factory, session_factory)
    today = china_today()
    before = await stats(api, pid)
    assert before["date_from"] == before["date_to"] == today.isoformat()
    assert before["subscriptions"] == {"count": 0, "amount": "0.00", "cancelled": 0, "cancelled_amount": "0.00",
                                     "net_count": 0, "net_amount": "0.00", "cancelled_of_period": 0}
    assert before["collections"] == {"received": "0.00", "refunded": "0.00", "net": "0.00"}
    assert before["refund_rate"] is None and before["conversion"]["subscription_to_contract"] is None
    assert sell_through(before) == {"三室两厅": (3, 0, "0.0000"), "两室两厅": (0, 0, None)}
    assert before["series"] == [{"date": today.isoformat(), "subscriptions": 0, "contracts": 0, "collections": "0.00"}]

    # visits, calls, effective customers (office-wide: compared with `before`)
    a, b = await new_customer(api, pid), await new_customer(api, pid)
    for cust in (a, a, b):  # a comes twice: one first visit and one repeat
        r = await api.post("sales", f"/api/customers/{cust.id}/visits", json={"group_size": 2})
        assert r.status_code == 201, r.text
    for cust, direction in ((a, "inbound"), (b, "outbound")):  # 来电 counts inbound calls only
        r = await api.post("frontdesk", f"/api/customers/{cust.id}/calls", json={"direction": direction})
        assert r.status_code == 201, r.text
    mid = await stats(api, pid)
    assert mid["calls"] - before["calls"] == 1
    assert {k: mid["visits"][k] - before["visits"][k] for k in ("groups", "first", "repeat")} == {"groups": 3, "first": 2, "repeat": 1}
    assert mid["effective_customers"] == before["effective_customers"]  # both are B, the default rating
    r = await api.http.put(f"/api/customers/{a.id}/rating", json={"rating": "A"}, headers=await api.as_("sales"))
    assert r.status_code == 200, r.text
    appointment = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    r = await api.post("sales", f"/api/customers/{b.id}/follow-ups", json={"note": "约看样板间", "next_appointment_at": appointment})
    assert r.status_code == 201, r.text
    mid = await stats(api, pid)
    assert mid["effective_customers"] - before["effective_customers"] == 2

    # two sales, both signed today; one receipt; deposits are cash received on the subscription day
    sub_a = await subscribe(api, ids[0], a.id, "定金", "50000.00")
    sub_b = await subscribe(api, ids[1], b.id, "订金", "20000.00")
    contract_a = await sign(api, sub_a, signed_on=today)
    await sign(api, sub_b, signed_on=today)
    await set_plan(api, contract_a["id"], plan_body((today + timedelta(days=30), "1450000.00"), method="full"))
    await receive(api, contract_a["id"], "100000.00", today)
    sold = await stats(api, pid)
    assert sold["subscriptions"] == {"count": 2, "amount": "3000000.00", "cancelled": 0, "cancelled_amount": "0.00",
                                   "net_count": 2, "net_amount": "3000000.00", "cancelled_of_period": 0}
    assert sold["contracts"] == {"count": 2, "amount": "3000000.00", "refunded": 0, "net_count": 2, "net_amount": "3000000.00"}
    assert sold["collections"] == {"received": "170000.00", "refunded": "0.00", "net": "170000.00"}
    assert sold["conversion"] == {"visit_to_subscription": str(rate(2, sold["visits"]["groups"])), "subscription_to_contract": "1.0000"}
    assert sell_through(sold)["三室两厅"] == (3, 2, "0.6667")
    assert sold["series"][-1] == {"date": today.isoformat(), "subscriptions": 2, "contracts": 2, "collections": "170000.00"}

    # b's signed sale is refunded (path B): cancelled on the choice, cash out when finance pays
    cid = (await register(api, SimpleNamespace(unit_id=ids[1])))["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(b))).status_code == 200
    await assess_all(api, cid)
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    assert (await api.complete("manager", cid, "choice", {"option": "B"})).status_code == 200
    refund = (await api.get("manager", f"/api/refund-cases/{cid}")).json()["refund_amount"]
    with session_factory() as s:
        assert s.get(Subscription, sub_b).status == "cancelled"
    chosen = await stats(api, pid)
    assert chosen["subscriptions"] == {"count": 2, "amount": "3000000.00", "cancelled": 1, "cancelled_amount": "1500000.00",
                                     "net_count": 1, "net_amount": "1500000.00", "cancelled_of_period": 1}
    assert chosen["contracts"] == {"count": 2, "amount": "3000000.00", "refunded": 1, "net_count": 1, "net_amount": "1500000.00"}
    assert chosen["collections"]["refunded"] == "0.00"  # instructed, not paid yet
    assert chosen["refund_rate"] == "0.5000"
    assert sell_through(chosen)["三室两厅"] == (3, 2, "0.6667")  # 退房中 is sold until the case completes
    assert (await api.complete("legal", cid, "contract_cancellation", {"note": "网签已注销"})).status_code == 200
    assert (await api.complete("finance", cid, "refund_payment", {})).status_code == 422  # a payment has its facts
    r = await api.complete("finance", cid, "refund_payment", {"amount": refund, "paid_on": today.isoformat(),
                                                              "bank_reference": "ICBC-0001"})
    assert r.status_code == 200, r.text
    r = await api.complete("manager", cid, "archive", {"summary": "资金未到位, 按阶梯退款", "lessons": "认购前核实资金"})
    assert r.status_code == 200, r.text

    after = await stats(api, pid)
    net = Decimal("170000.00") - Decimal(refund)
    assert after["collections"] == {"received": "170000.00", "refunded": refund, "net": str(net)}
    assert sell_through(after) == {"三室两厅": (3, 1, "0.3333"), "两室两厅": (0, 0, None)}
    assert after["series"][-1]["collections"] == str(net)

    # the week and the month hold today
    week = await stats(api, pid, "week", role="sales")
    monday = today - timedelta(days=today.weekday())
    assert (week["date_from"], week["date_to"]) == (monday.isoformat(), (monday + timedelta(days=6)).isoformat())
    assert [d["date"] for d in week["series"]] == [(monday + timedelta(days=i)).isoformat() for i in range(today.weekday() + 1)]
    assert week["subscriptions"] == after["subscriptions"] and week["collections"] == after["collections"]
    month = await stats(api, pid, "month", role="citygm")
    assert month["date_from"] == today.replace(day=1).isoformat() and month["contracts"] == after["contracts"]
    assert sum(Decimal(d["collections"]) for d in month["series"]) == net

    # the workbook holds the same numbers
    r = await api.get("finance", f"/api/projects/{pid}/stats.xlsx", params={"period": "today"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"].startswith("attachment; filename*=UTF-8''") and quote("销售统计") in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "户型去化", "每日明细", "批次去化"]  # the funnels only with by=
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["认购套数"] == 2 and summary["退订套数"] == 1 and summary["净签约套数"] == 1
    assert Decimal(str(summary["净认购金额 (元)"])) == Decimal("1500000.00")
    assert Decimal(str(summary["回款 (元)"])) == Decimal("170000") and Decimal(str(summary["净回款 (元)"])) == net
    assert Decimal(str(summary["退房率"])) == Decimal("0.5")
    layouts = {row[0]: row[1:] for row in wb["户型去化"].iter_rows(min_row=2, values_only=True)}
    assert layouts["三室两厅"][:2] == (3, 1) and Decimal(str(layouts["三室两厅"][2])) == Decimal("0.3333")
    assert layouts["两室两厅"] == (0, 0, None)
    [batch] = list(wb["批次去化"].iter_rows(min_row=2, values_only=True))  # the units of no phase
    assert batch[:4] == ("未分期", 3, 1, 1) and Decimal(str(batch[4])) == Decimal(str(batch[5])) == Decimal("0.3333")
    assert batch[6:] == (2, 2)  # made and signed today
    [day] = list(wb["每日明细"].iter_rows(min_row=2, values_only=True))
    assert day[0].date() == today and day[1:3] == (2, 2) and Decimal(str(day[3])) == net


async def test_roles_unknown_project_and_bad_period(api, factory, session_factory):
    pid, _ = new_units(factory, session_factory)
    for role in ("frontdesk", "legal"):
        for path in ("stats", "stats.xlsx"):
            r = await api.get(role, f"/api/projects/{pid}/{path}")
            assert r.status_code == 403 and "allowed: manager" in r.json()["detail"]
    assert (await api.http.get(f"/api/projects/{pid}/stats")).status_code == 401
    r = await api.get("manager", f"/api/projects/{pid}/stats", params={"period": "year"})
    assert r.status_code == 422 and "period" in r.json()["detail"]
    assert (await api.get("manager", f"/api/projects/{pid}/stats.xlsx", params={"period": "year"})).status_code == 422
    assert (await api.get("manager", "/api/projects/987654321/stats")).status_code == 404
    assert (await api.get("manager", "/api/projects/987654321/stats.xlsx")).status_code == 404
    body = await stats(api, pid, "week", role="marketing")  # default week for every reader
    assert body["period"] == "week"
    for role in ("finance", "hqrisk", "ops"):
        r = await api.get(role, f"/api/projects/{pid}/stats")
        assert r.status_code == 200 and r.json()["period"] == "week"
