"""Commission and the refund loss from the records (issue 15): an accrual per contract at the rate in force when
signed, its reversal when the refund cancels the subscription, marketing's campaigns, and the loss estimate
finance's assessment is prefilled from."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.commission_models import Campaign, CommissionEntry
from db.models import Building, Unit
from tests.api.conftest import Api
from tests.api.test_refund_api import assess_all, intake_body, register
from tests.factories_contracts import sign


@pytest.fixture
def world(factory, http):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"), price=Decimal("2000000"))
    return sc, Api(http, sc.users)


def _more_units(session_factory, project_id: int, n: int) -> list[int]:
    with session_factory.begin() as s:
        b = Building(project_id=project_id, name=f"{n}号楼-{uuid.uuid4().hex[:4]}")
        s.add(b)
        s.flush()
        units = [Unit(project_id=project_id, building_id=b.id, code=f"{i + 1:04d}", floor=1, layout="两室",
                      gross_area=Decimal("80"), unit_price=Decimal("10000"), total_price=Decimal("800000"), state="available")
                 for i in range(n)]
        s.add_all(units)
        s.flush()
        return [u.id for u in units]


async def test_signing_accrues_the_consultants_commission_at_the_rate_then_in_force(world, session_factory):
    sc, api = world
    r = await api.http.put(f"/api/projects/{sc.project_id}/sales-policy", headers=await api.as_("hqrisk"),
                           json={"consultant_commission_rate": "0.012"})
    assert r.status_code == 200, r.text
    k = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))
    # A later change of the rate does not touch what was accrued.
    await api.http.put(f"/api/projects/{sc.project_id}/sales-policy", headers=await api.as_("hqrisk"),
                       json={"consultant_commission_rate": "0.02"})
    r = await api.get("finance", f"/api/contracts/{k['id']}/commission")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(e["party"], e["kind"], e["rate"], e["amount"]) for e in body["entries"]] == [
        ("consultant", "accrual", "0.012000", "24000.00")]
    assert body["entries"][0]["user_id"] == sc.users["sales"].id and body["net"] == "24000.00"
    assert (await api.get("frontdesk", f"/api/contracts/{k['id']}/commission")).status_code == 403


async def test_campaigns_are_marketings_and_each_fixes_the_units_it_covers(world, session_factory):
    sc, api = world
    extra = _more_units(session_factory, sc.project_id, 3)
    url = f"/api/projects/{sc.project_id}/campaigns"
    r = await api.post("marketing", url, json={"name": "地铁广告", "channel": "地铁", "spend": "300000", "scope": "project",
                                                "started_on": "2026-10-01", "ended_on": "2026-10-31"})
    assert r.status_code == 201, r.text
    assert (r.json()["unit_count"], r.json()["per_unit"]) == (4, "75000.00")
    r = await api.post("marketing", url, json={"name": "抖音", "spend": "1000", "scope": "units", "started_on": "2026-10-05",
                                                "unit_ids": [sc.unit_id, extra[0], extra[1]]})
    assert r.status_code == 201 and r.json()["per_unit"] == "333.33"
    # Bad input: a 422 naming the field, nothing written.
    with session_factory() as s:
        before = s.scalar(select(func.count()).select_from(Campaign).where(Campaign.project_id == sc.project_id))
    bad = [
        ({"spend": "0"}, "body.spend"),
        ({"spend": "12.345"}, "body.spend"),
        ({"scope": "city"}, "body.scope"),
        ({"ended_on": "2026-09-01"}, "body.ended_on"),
        ({"scope": "units", "unit_ids": [10**8]}, "body.unit_ids"),
        ({"scope": "units"}, "body.unit_ids"),
        ({"scope": "building", "building_id": 10**8}, "body.building_id"),
        ({"name": ""}, "body.name"),
        ({"started_on": "2026-02-30"}, "body.started_on"),
    ]
    for over, field in bad:
        body = {"name": "坏", "spend": "100", "scope": "project", "started_on": "2026-10-01", **over}
        r = await api.post("marketing", url, json=body)
        assert r.status_code == 422, (over, r.text)
        assert any(e["field"] == field for e in r.json()["errors"]), (over, r.json()["errors"])
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Campaign).where(Campaign.project_id == sc.project_id)) == before
    assert (await api.post("sales", url, json={"name": "x", "spend": "1", "scope": "project",
                                               "started_on": "2026-10-01"})).status_code == 403
    listed = (await api.get("finance", url)).json()
    assert [c["name"] for c in listed] == ["抖音", "地铁广告"]


async def test_the_loss_estimate_and_the_reversal_on_refund(world, session_factory):
    sc, api = world
    k = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))
    _more_units(session_factory, sc.project_id, 199)
    r = await api.post("marketing", f"/api/projects/{sc.project_id}/campaigns",
                       json={"name": "年度推广", "spend": "300000", "scope": "project", "started_on": "2026-01-01"})
    assert r.status_code == 201, r.text
    case = await register(api, sc)
    cid = case["id"]
    r = await api.get("finance", f"/api/refund-cases/{cid}/loss-estimate")
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["contract_id"] == k["id"] and e["price"] == "2000000.00"
    assert e["commission_accrued"]["amount"] == "20000.00"  # 2,000,000 × 0.01 (the default rate)
    assert e["advertising_allocation"]["amount"] == "1500.00"  # 300,000 / 200 units
    assert e["opportunity_cost"]["amount"] == "200.00"  # 1 day × 0.0001 × 2,000,000
    assert e["total"] == "21700.00"
    assert "300000.00 ÷ 200 套" in e["advertising_allocation"]["how"] and "1 天" in e["opportunity_cost"]["how"]
    assert (await api.get("frontdesk", f"/api/refund-cases/{cid}/loss-estimate")).status_code == 403
    assert (await api.get("finance", f"/api/refund-cases/{uuid.uuid4()}/loss-estimate")).status_code == 404
    # Path B: the buyer cancels; the choice cancels the subscription and the commission is reversed with it.
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    await assess_all(api, cid, loss=e["commission_accrued"]["amount"])
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    r = await api.complete("manager", cid, "choice", {"option": "B"})
    assert r.status_code == 200, r.text
    body = (await api.get("finance", f"/api/contracts/{k['id']}/commission")).json()
    assert [(x["kind"], x["amount"]) for x in body["entries"]] == [("accrual", "20000.00"), ("reversal", "-20000.00")]
    assert body["entries"][1]["reverses_id"] == body["entries"][0]["id"] and body["net"] == "0.00"
    # The case's loss still counts what the sale had accrued: its own reversal does not erase it.
    again = (await api.get("finance", f"/api/refund-cases/{cid}/loss-estimate")).json()
    assert again["commission_accrued"]["amount"] == "20000.00"
    with session_factory() as s:
        n = s.scalar(select(func.count()).select_from(CommissionEntry).where(CommissionEntry.contract_id == k["id"]))
    assert n == 2


async def test_a_subscription_without_a_contract_has_no_commission_in_its_loss(world):
    sc, api = world
    case = await register(api, sc)
    e = (await api.get("manager", f"/api/refund-cases/{case['id']}/loss-estimate")).json()
    assert e["contract_id"] is None and e["commission_accrued"]["amount"] == "0.00"
    assert e["advertising_allocation"]["amount"] == "0.00" and e["total"] == "200.00"


async def test_a_customer_who_came_through_a_partners_registration_accrues_the_partners_commission_too(world, session_factory):
    from datetime import datetime, timedelta, timezone

    from db.reception_models import ChannelPartner, PartnerRegistration, WalkIn

    sc, api = world
    now = datetime.now(timezone.utc)
    with session_factory.begin() as s:
        p = ChannelPartner(project_id=sc.project_id, name=f"链家-{uuid.uuid4().hex[:6]}", kind="agency",
                           created_by=sc.users["manager"].id)
        s.add(p)
        s.flush()
        reg = PartnerRegistration(project_id=sc.project_id, partner_id=p.id, prospect_name="测试客户", mobile_enc="x",
                                  mobile_bidx="x", mobile_masked="138****0000", registered_by=sc.users["manager"].id,
                                  registered_at=now - timedelta(days=5), protected_until=now + timedelta(days=25))
        s.add(reg)
        s.flush()
        s.add(WalkIn(project_id=sc.project_id, arrived_at=now - timedelta(days=4), day=date.today(), group_size=2,
                     first_visit=True, channel="agency", customer_id=sc.customer_id, registration_id=reg.id,
                     registered_by=sc.users["frontdesk"].id))
        partner_id = p.id
    k = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))
    body = (await api.get("finance", f"/api/contracts/{k['id']}/commission")).json()
    got = [(e["party"], e["partner_id"], e["rate"], e["amount"]) for e in body["entries"]]
    assert got == [("consultant", None, "0.010000", "20000.00"), ("partner", partner_id, "0.015000", "30000.00")]
    case = await register(api, sc)
    e = (await api.get("finance", f"/api/refund-cases/{case['id']}/loss-estimate")).json()
    assert e["commission_accrued"]["amount"] == "50000.00" and "渠道计提" in e["commission_accrued"]["how"]
