"""Sales statistics over any date range (issue 16) through the API, on constructed records with known answers.

A project of its own, records written straight into PostgreSQL with their past dates (the API would date
them now). March 2026 is the range under test and February 2026 its previous period:

  customers  c1 (consultant s1, online, rated A)   c2 (s1, online, B)   c3 (s2, referral, B, booked on 03-15)
             c4 (s2, no profile, A)
  visits     c1 03-02 and 03-20, c2 03-05 and 04-01 00:30 (April in China), c3 03-31 23:30 (March), c4 02-10
  walk-ins   03-10 outdoor taken by s1; 03-10 online nobody took; 02-12 partner taken by s2
  units      一期 u1..u4, 二期 u5 and u6 (未推), u7 of no phase
  sales      u1 c1 s1 ¥1,000,000 subscribed 03-03, signed 03-10; u2 c3 s2 ¥2,000,000 subscribed 03-25;
             u5 c2 s1 ¥1,500,000 subscribed 02-20, signed 03-05; u3 c4 s2 ¥1,200,000 subscribed 04-02
"""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from api.security import hash_password
from db.contract_models import Contract
from db.customer_models import CustomerFollowUp, CustomerProfile, CustomerVisit
from db.inventory_models import Phase
from db.models import Building, Customer, Subscription, Unit, UnitState, UnitStateChange, User
from db.org import grant
from db.reception_models import WalkIn
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD
from tests.factories_contracts import contract_no

CN = timezone(timedelta(hours=8))
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CN)


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users(extra=("sales#2",)))


@pytest.fixture
def office(api, factory, session_factory) -> SimpleNamespace:
    s1, s2, fd = api.users["sales"].id, api.users["sales#2"].id, api.users["frontdesk"].id
    with session_factory.begin() as s:
        pid = factory.project(s, name=f"统计项目-{uuid.uuid4().hex[:8]}").id
    cust = {}
    for name, consultant, channel, rating in (("c1", s1, "online", "A"), ("c2", s1, "online", "B"),
                                              ("c3", s2, "referral", "B"), ("c4", s2, None, "A")):
        cust[name] = factory.customer(consultant_id=consultant, project_id=pid)[0]
        with session_factory.begin() as s:
            s.get(Customer, cust[name]).rating = rating
            if channel is not None:
                s.add(CustomerProfile(customer_id=cust[name], source_channel=channel, created_by=fd))
    with session_factory.begin() as s:
        for name, when in (("c1", at(3, 2)), ("c1", at(3, 20)), ("c2", at(3, 5)), ("c2", at(4, 1, 0, 30)),
                           ("c3", at(3, 31, 23, 30)), ("c4", at(2, 10))):
            s.add(CustomerVisit(customer_id=cust[name], visited_at=when, group_size=2, recorded_by=fd))
        s.add(CustomerFollowUp(customer_id=cust["c3"], at=at(3, 15), channel="phone", note="约看样板间", topics=[],
                               next_appointment_at=at(3, 22), recorded_by=s2))
        for when, channel, taker in ((at(3, 10), "outdoor", s1), (at(3, 10, 11), "online", None), (at(2, 12), "partner", s2)):
            s.add(WalkIn(project_id=pid, arrived_at=when, day=when.date(), group_size=1, first_visit=True,
                         channel=channel, registered_by=fd, consultant_id=taker,
                         taken_at=when if taker is not None else None))
        one, two = Phase(project_id=pid, name="一期"), Phase(project_id=pid, name="二期")
        b = Building(project_id=pid, name="1号楼")
        s.add_all([one, two, b])
        s.flush()
        units = []
        for i, (phase, state) in enumerate([(one, UnitState.AVAILABLE)] * 4 + [(two, UnitState.AVAILABLE),
                                            (two, UnitState.NOT_RELEASED), (None, UnitState.AVAILABLE)]):
            u = Unit(project_id=pid, building_id=b.id, code=f"{i + 1:04d}", floor=1, layout="三室两厅",
                     gross_area=Decimal("100.00"), unit_price=Decimal("10000"), total_price=Decimal("1000000"),
                     state=state, phase_id=phase.id if phase else None)
            s.add(u)
            units.append(u)
        s.flush()

        def sale(unit: Unit, customer: str, consultant: int, price: str, made: datetime, signed: date | None) -> None:
            sub = Subscription(unit_id=unit.id, customer_id=cust[customer], consultant_id=consultant, price=Decimal(price),
                               deposit_amount=Decimal("50000"), deposit_kind="定金", paid_amount=Decimal("50000"),
                               stage="online_signed" if signed else "deposit_paid", status="active", subscribed_at=made)
            s.add(sub)
            s.flush()
            s.add(UnitStateChange(unit_id=unit.id, from_state=UnitState.AVAILABLE, to_state=UnitState.SUBSCRIBED,
                                  actor="test", reason="认购", at=made))
            unit.state = UnitState.SUBSCRIBED
            if signed is not None:
                s.add(Contract(subscription_id=sub.id, unit_id=unit.id, contract_no=contract_no(), price=Decimal(price),
                               deposit_amount=Decimal("50000"), daily_late_fee_rate=Decimal("0.0005"), signed_on=signed,
                               signed_by=consultant, filing_due=signed + timedelta(days=30)))
                s.add(UnitStateChange(unit_id=unit.id, from_state=UnitState.SUBSCRIBED, to_state=UnitState.SIGNED,
                                      actor="test", reason="网签", at=datetime(signed.year, signed.month, signed.day, 15, tzinfo=CN)))
                unit.state = UnitState.SIGNED

        u1, u2, u3, _, u5, _, _ = units
        sale(u1, "c1", s1, "1000000", at(3, 3), date(2026, 3, 10))
        sale(u2, "c3", s2, "2000000", at(3, 25), None)
        sale(u5, "c2", s1, "1500000", at(2, 20), date(2026, 3, 5))
        sale(u3, "c4", s2, "1200000", at(4, 2), None)
    return SimpleNamespace(pid=pid, s1=str(s1), s2=str(s2))


async def read(api: Api, pid: int, role: str = "manager", **params) -> dict:
    r = await api.get(role, f"/api/projects/{pid}/stats", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def funnel(rows: list[dict]) -> dict:
    return {r["key"]: (r["visits"], r["effective_customers"], r["subscriptions"], r["contracts"]) for r in rows}


def batches(body: dict) -> dict:
    return {r["batch"]: (r["released"], r["subscribed"], r["contracted"], r["sell_through"], r["contract_share"],
                         r["period_subscriptions"], r["period_contracts"]) for r in body["sell_through_by_batch"]}


async def test_a_month_with_its_previous_month_per_consultant_and_per_channel(api, office):
    body = await read(api, office.pid, **MARCH, by=["consultant", "channel"], compare="previous")
    assert (body["period"], body["date_from"], body["date_to"]) == ("custom", "2026-03-01", "2026-03-31")
    assert body["visits"] == {"groups": 6, "first": 5, "repeat": 1}  # 4 on customers (not 04-01 00:30) + 2 walk-ins
    assert body["effective_customers"] == 2  # c1 (A) and c3 (booked); c2 is neither
    assert (body["subscriptions"]["count"], body["subscriptions"]["amount"]) == (2, "3000000.00")
    assert (body["contracts"]["count"], body["contracts"]["amount"]) == (2, "2500000.00")  # one from February's sale
    assert body["conversion"] == {"visit_to_subscription": "0.3333", "subscription_to_contract": "1.0000"}
    assert len(body["series"]) == 31 and sum(d["subscriptions"] for d in body["series"]) == 2

    s1, s2 = office.s1, office.s2
    assert [r["key"] for r in body["by_consultant"]] == [s1, s2, None]
    assert funnel(body["by_consultant"]) == {s1: (4, 1, 1, 2), s2: (1, 1, 1, 0), None: (1, 0, 0, 0)}
    first = body["by_consultant"][0]
    assert first["label"] == "sales" and (first["subscription_amount"], first["contract_amount"]) == ("1000000.00", "2500000.00")
    assert first["conversion"] == {"visit_to_effective": "0.2500", "effective_to_subscription": "1.0000",
                                   "subscription_to_contract": "2.0000", "visit_to_subscription": "0.2500",
                                   "visit_to_contract": "0.5000"}
    assert body["by_consultant"][2]["conversion"] == {"visit_to_effective": "0.0000", "effective_to_subscription": None,
                                                      "subscription_to_contract": None, "visit_to_subscription": "0.0000",
                                                      "visit_to_contract": "0.0000"}
    assert [r["key"] for r in body["by_channel"]] == ["online", "referral", "outdoor"]
    assert funnel(body["by_channel"]) == {"online": (4, 1, 1, 2), "referral": (1, 1, 1, 0), "outdoor": (1, 0, 0, 0)}
    assert body["by_channel"][1]["conversion"]["visit_to_subscription"] == "1.0000"
    for rows in (body["by_consultant"], body["by_channel"]):  # every record falls in one row
        assert sum(r["visits"] for r in rows) == body["visits"]["groups"]
        assert sum(r["effective_customers"] for r in rows) == body["effective_customers"]
        assert sum(r["subscriptions"] for r in rows) == body["subscriptions"]["count"]
        assert sum(r["contracts"] for r in rows) == body["contracts"]["count"]

    # sell-through as of the end of March: u3 was sold on 04-02, after it
    assert batches(body) == {"一期": (4, 2, 1, "0.5000", "0.2500", 2, 1), "二期": (1, 1, 1, "1.0000", "1.0000", 0, 1),
                             None: (1, 0, 0, "0.0000", "0.0000", 0, 0)}
    assert body["sell_through_by_layout"] == [{"layout": "三室两厅", "released": 6, "sold": 3, "rate": "0.5000"}]

    prev = body["previous"]
    assert (prev["period"], prev["date_from"], prev["date_to"], prev["previous"]) == ("previous", "2026-02-01", "2026-02-28", None)
    assert prev["visits"]["groups"] == 2 and prev["effective_customers"] == 1
    assert (prev["subscriptions"]["count"], prev["contracts"]["count"]) == (1, 0)
    assert [r["key"] for r in prev["by_consultant"]] == [s2, s1]
    assert funnel(prev["by_consultant"]) == {s2: (2, 1, 0, 0), s1: (0, 0, 1, 0)}
    assert [r["key"] for r in prev["by_channel"]] == ["partner", None, "online"]  # c4 has no recorded channel
    assert funnel(prev["by_channel"]) == {"partner": (1, 0, 0, 0), None: (1, 1, 0, 0), "online": (0, 0, 1, 0)}
    assert batches(prev) == {"一期": (4, 0, 0, "0.0000", "0.0000", 0, 0), "二期": (1, 1, 0, "1.0000", "0.0000", 1, 0),
                             None: (1, 0, 0, "0.0000", "0.0000", 0, 0)}

    now = await read(api, office.pid, period="month")  # the current state: u3 is sold too
    assert batches(now)["一期"][:3] == (4, 3, 1) and now["previous"] is None and now["by_consultant"] is None


async def test_a_one_day_range_and_an_empty_one(api, office):
    day = await read(api, office.pid, **{"from": "2026-03-10", "to": "2026-03-10"}, by=["consultant"], compare="previous")
    assert (day["date_from"], day["date_to"]) == ("2026-03-10", "2026-03-10")
    assert day["visits"] == {"groups": 2, "first": 2, "repeat": 0}
    assert (day["subscriptions"]["count"], day["contracts"]["count"]) == (0, 1)
    assert day["conversion"] == {"visit_to_subscription": "0.0000", "subscription_to_contract": None}
    assert funnel(day["by_consultant"]) == {office.s1: (1, 0, 0, 1), None: (1, 0, 0, 0)}
    assert [d["date"] for d in day["series"]] == ["2026-03-10"]
    assert (day["previous"]["date_from"], day["previous"]["date_to"]) == ("2026-03-09", "2026-03-09")
    assert day["previous"]["visits"]["groups"] == 0

    empty = await read(api, office.pid, **{"from": "2026-01-10", "to": "2026-01-16"}, by=["consultant", "channel"])
    assert empty["visits"] == {"groups": 0, "first": 0, "repeat": 0} and empty["effective_customers"] == 0
    assert empty["subscriptions"]["count"] == empty["contracts"]["count"] == 0
    assert empty["conversion"] == {"visit_to_subscription": None, "subscription_to_contract": None}
    assert empty["refund_rate"] is None and empty["by_consultant"] == [] and empty["by_channel"] == []
    assert len(empty["series"]) == 7 and {d["collections"] for d in empty["series"]} == {"0.00"}
    assert batches(empty)["一期"] == (4, 0, 0, "0.0000", "0.0000", 0, 0)  # nothing was sold yet


async def test_the_workbook_holds_the_range_the_comparison_and_the_funnels(api, office):
    r = await api.get("finance", f"/api/projects/{office.pid}/stats.xlsx",
                      params={**MARCH, "by": ["consultant", "channel"], "compare": "previous"})
    assert r.status_code == 200, r.text
    assert "20260301-20260331" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "户型去化", "每日明细", "批次去化", "顾问漏斗", "渠道漏斗"]
    head, *rows = list(wb["汇总"].iter_rows(values_only=True))
    assert head == ("指标", "数值", "上期", "变化")
    summary = {row[0]: row[1:] for row in rows}
    assert summary["统计区间"][:2] == ("自定义 2026-03-01 至 2026-03-31", "上期 2026-02-01 至 2026-02-28")
    assert summary["来访 (组)"] == (6, 2, 4) and summary["签约套数"] == (2, 0, 2)
    consultants = {row[0]: row[1:] for row in wb["顾问漏斗"].iter_rows(min_row=2, values_only=True)}
    assert consultants["sales"][:6] == (4, 1, 1, 1000000, 2, 2500000)
    assert [Decimal(str(v)) for v in consultants["sales"][6:]] == [Decimal(x) for x in ("0.25", "1", "2", "0.25", "0.5")]
    assert consultants["未分配"][:5] == (1, 0, 0, 0, 0) and consultants["未分配"][7] is None
    channels = {row[0]: row[1:5] for row in wb["渠道漏斗"].iter_rows(min_row=2, values_only=True)}
    assert channels == {"线上": (4, 1, 1, 1000000), "老带新": (1, 1, 1, 2000000), "外拓派单": (1, 0, 0, 0),
                        "合计": (6, 2, 2, 3000000)}  # the office's figures
    assert consultants["合计"][:6] == (6, 2, 2, 3000000, 2, 2500000)
    batch = {row[0]: row[1:4] for row in wb["批次去化"].iter_rows(min_row=2, values_only=True)}
    assert batch == {"一期": (4, 2, 1), "二期": (1, 1, 1), "未分期": (1, 0, 0)}


async def test_another_projects_manager_finds_nothing(api, office, factory, session_factory):
    other = factory.project_id()
    with session_factory.begin() as s:
        u = User(username=f"mgr-{uuid.uuid4().hex[:6]}", display_name="别的经理", role="manager",
                 password_hash=hash_password(TEST_PASSWORD))
        s.add(u)
        s.flush()
        grant(s, u.id, "manager", project_id=other)
    outsider = Api(api.http, {"manager": u})
    for path in ("stats", "stats.xlsx"):
        r = await outsider.get("manager", f"/api/projects/{office.pid}/{path}", params=MARCH)
        assert r.status_code == 404 and "does not exist" in r.json()["detail"], r.text
    assert (await outsider.get("manager", f"/api/projects/{other}/stats", params=MARCH)).status_code == 200


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-03-31", "to": "2026-03-01"}, "query.to"),  # from after to
        ({"from": "2023-03-01", "to": "2026-03-01"}, "query.to"),  # 1097 days
        ({"from": "2026-03-01"}, "query.to"),
        ({"to": "2026-03-01"}, "query.from"),
        ({"period": "month", **MARCH}, "query.period"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "query.from"),  # no such day
        ({**MARCH, "by": "building"}, "query.by.0"),
        ({**MARCH, "compare": "next"}, "query.compare"),
    ],
)
async def test_bad_ranges_are_422_naming_the_field(api, office, params, field):
    for path in ("stats", "stats.xlsx"):
        r = await api.get("manager", f"/api/projects/{office.pid}/{path}", params=params)
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
