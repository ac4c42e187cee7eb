"""Refund policies that legal authors and publishes (issue 14): a draft its author edits, checked field by field;
approved by another person with the legal role (its author → 403); published for a city company or a project
with an effective time, the most specific in force applying; versions listed and compared; a case keeps the
version it started with when another is published mid-case; the public page is written from the version's data."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from db.models import RefundCase
from db.work_calendar import load_overrides
from domain.calendar import CHINA, add_working_days, china_date
from domain.refund import RefundPolicy, policy_to_body
from tests.api.conftest import Api
from tests.api.test_refund_api import assess_all, intake_body, register


@pytest.fixture
def office(factory):
    """Two legal people, a risk controller, and a fresh city company with its first project."""
    users = factory.users(extra=("legal#2",))
    city = f"策略测试公司-{uuid.uuid4().hex[:6]}"
    sc = factory.scenario(users=users, city_company=city)
    factory.policy()  # a group-wide version exists (the group's tests publish theirs the same way)
    return factory, users, city, sc


def tiers(lo: str, hi: str) -> list[dict]:
    return [{"stage": "deposit_paid", "min_share": lo, "max_share": hi, "note": "扣除营销服务费"},
            {"stage": "online_signed", "min_share": "0.30", "max_share": "0.50", "note": "含行政成本分摊"}]


async def put(api: Api, role: str, url: str, body: dict):
    return await api.http.put(url, json=body, headers=await api.as_(role))


async def city_id_of(session_factory, sc) -> int:
    from db.models import Project

    with session_factory() as s:
        return s.get(Project, sc.project_id).city_company_id


async def publish_version(api: Api, version: str, *, scope: str, body: dict, **where) -> dict:
    r = await api.post("hqrisk", "/api/refund-policies", json={"version": version, "scope": scope, "body": body,
                                                               "summary": "测试", **where})
    assert r.status_code == 201, r.text
    r = await api.post("legal", f"/api/refund-policies/{version}/approve")
    assert r.status_code == 200, r.text
    r = await api.post("legal", f"/api/refund-policies/{version}/publish", json={})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_draft_is_checked_per_field_approved_by_another_legal_person_and_published(office, http, session_factory):
    factory, users, city, sc = office
    api = Api(http, users)
    city_id = await city_id_of(session_factory, sc)
    v = f"c-{uuid.uuid4().hex[:6]}"
    r = await api.post("sales", "/api/refund-policies", json={"version": v})
    assert r.status_code == 403
    r = await api.post("legal", "/api/refund-policies", json={"version": v, "scope": "city", "city_company_id": city_id,
                                                              "summary": "定金阶梯上调"})
    assert r.status_code == 201, r.text
    draft = r.json()
    assert (draft["status"], draft["state"], draft["author"], draft["problems"]) == ("draft", "draft", "legal", [])
    assert draft["scope_name"] == city
    # A bad body: every field at fault named, nothing saved.
    bad = {**draft["body"], "intake_minutes": -5, "tiers": tiers("0.90", "0.80")[:1]}
    r = await put(api, "legal", f"/api/refund-policies/{v}", {"body": bad})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"body.body.intake_minutes", "body.body.tiers.0.max_share",
                                                        "body.body.tiers"}
    assert (await api.get("legal", f"/api/refund-policies/{v}")).json()["body"]["intake_minutes"] == 30
    # Only its author edits it.
    good = {**draft["body"], "tiers": tiers("0.70", "0.90"), "choice_working_days": 3}
    assert (await put(api, "legal#2", f"/api/refund-policies/{v}", {"body": good})).status_code == 403
    r = await put(api, "legal", f"/api/refund-policies/{v}", {"body": good})
    assert r.status_code == 200 and r.json()["body"]["choice_working_days"] == 3
    # Four eyes: the author may not approve; risk control is not legal; the other legal person does.
    r = await api.post("legal", f"/api/refund-policies/{v}/approve")
    assert r.status_code == 403 and "four eyes" in r.json()["message"]
    assert (await api.post("hqrisk", f"/api/refund-policies/{v}/approve")).status_code == 403
    assert (await api.post("legal#2", f"/api/refund-policies/{v}/publish", json={})).status_code == 409
    r = await api.post("legal#2", f"/api/refund-policies/{v}/approve")
    assert r.status_code == 200 and r.json()["approved_by"] == "legal#2"
    assert (await put(api, "legal", f"/api/refund-policies/{v}", {"summary": "late"})).status_code == 409
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    r = await api.post("legal", f"/api/refund-policies/{v}/publish", json={"effective_from": past})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.effective_from"
    r = await api.post("legal", f"/api/refund-policies/{v}/publish", json={})
    assert r.status_code == 200 and r.json()["state"] == "in_force"
    # The project's cases now take it (the city's version is more specific than the group's).
    case = await register(api, sc)
    with session_factory() as s:
        assert s.get(RefundCase, uuid.UUID(case["id"])).policy_version == v
    # The public page for the project renders this version from its data, in both languages.
    page = (await http.get("/api/refund-policy", params={"project_id": sc.project_id})).json()
    assert (page["version"], page["scope"], page["approved_by"]) == (v, "city", "legal#2")
    assert any("退还定金的 70%–90%（扣除营销服务费）" in line for line in page["rules_zh"])
    assert any("70%–90% of the deposit" in line for line in page["rules"])
    assert any("客户选择：3 个工作日内" in line for line in page["rules_zh"])
    # Listed with its state, and compared with the group's version side by side.
    listed = {p["version"]: p for p in (await api.get("manager", "/api/refund-policies")).json()}
    assert listed[v]["state"] == "in_force" and listed[v]["published_by"] == "legal"
    group = (await http.get("/api/refund-policy")).json()["version"]
    rows = (await api.get("finance", "/api/refund-policies/compare", params={"a": group, "b": v})).json()["rows"]
    assert {r["field"] for r in rows if r["changed"]} == {"tiers.deposit_paid.min_share", "tiers.deposit_paid.max_share",
                                                          "choice_working_days"}


async def test_republishing_while_ten_cases_are_open_changes_none_of_their_refunds(office, http, session_factory):
    factory, users, city, first = office
    api = Api(http, users)
    city_id = await city_id_of(session_factory, first)
    tag = uuid.uuid4().hex[:6]
    base = policy_to_body(RefundPolicy(version="x"))
    await publish_version(api, f"old-{tag}", scope="city", city_company_id=city_id, body={**base, "tiers": tiers("0.60", "0.80")})
    scenarios = [first] + [factory.scenario(users=users, city_company=city) for _ in range(9)]
    cases = [(sc, (await register(api, sc))["id"]) for sc in scenarios]
    for sc, cid in cases[:5]:  # half of them already past the assessment when the new version appears
        assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
        await assess_all(api, cid)
    await publish_version(api, f"new-{tag}", scope="city", city_company_id=city_id, body={**base, "tiers": tiers("0.90", "1.00")})
    for sc, cid in cases[5:]:
        assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
        await assess_all(api, cid)
    for sc, cid in cases:
        r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "0.00"}, {"kind": "B"}]})
        assert r.status_code == 200, r.text
        assert (await api.complete("manager", cid, "choice", {"option": "B"})).status_code == 200
    with session_factory() as s:
        rows = [s.get(RefundCase, uuid.UUID(cid)) for _, cid in cases]
        assert {r.policy_version for r in rows} == {f"old-{tag}"}
        assert [r.refund_amount for r in rows] == [Decimal("30000.00")] * 10  # 60 % of the 50,000 deposit
    # A case registered now takes the new version: 90 %.
    late = factory.scenario(users=users, city_company=city)
    cid = (await register(api, late))["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(late))).status_code == 200
    await assess_all(api, cid)
    await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "0.00"}, {"kind": "B"}]})
    assert (await api.complete("manager", cid, "choice", {"option": "B"})).status_code == 200
    with session_factory() as s:
        case = s.get(RefundCase, uuid.UUID(cid))
        assert (case.policy_version, case.refund_amount) == (f"new-{tag}", Decimal("45000.00"))


async def test_a_project_version_beats_the_city_one_and_a_scheduled_one_waits(office, http, session_factory):
    factory, users, city, sc = office
    api = Api(http, users)
    tag = uuid.uuid4().hex[:6]
    base = policy_to_body(RefundPolicy(version="x"))
    await publish_version(api, f"proj-{tag}", scope="project", project_id=sc.project_id, body=base)
    later = f"later-{tag}"
    r = await api.post("hqrisk", "/api/refund-policies", json={"version": later, "scope": "project",
                                                               "project_id": sc.project_id, "from_version": f"proj-{tag}"})
    assert r.status_code == 201
    assert (await api.post("legal", f"/api/refund-policies/{later}/approve")).status_code == 200
    when = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    r = await api.post("legal", f"/api/refund-policies/{later}/publish", json={"effective_from": when})
    assert r.status_code == 200 and r.json()["state"] == "scheduled"
    page = (await http.get("/api/refund-policy", params={"project_id": sc.project_id})).json()
    assert (page["version"], page["scope"]) == (f"proj-{tag}", "project")
    assert (await http.get("/api/refund-policy", params={"version": later})).json()["state"] == "scheduled"
    # A version name is taken once; a published version is never discarded.
    r = await api.post("hqrisk", "/api/refund-policies", json={"version": later, "scope": "group"})
    assert r.status_code == 409
    assert (await api.post("hqrisk", f"/api/refund-policies/{later}/discard")).status_code == 409
    # A project legal person may not write a group-wide version.
    assert (await api.post("sales", "/api/refund-policies/compare")).status_code in (403, 405)


async def test_a_working_day_choice_clock_ends_at_midnight_of_the_third_working_day(office, http, session_factory):
    factory, users, city, sc = office
    api = Api(http, users)
    tag = uuid.uuid4().hex[:6]
    body = {**policy_to_body(RefundPolicy(version="x")), "choice_working_days": 3}
    await publish_version(api, f"wd-{tag}", scope="project", project_id=sc.project_id, body=body)
    cid = (await register(api, sc))["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    await assess_all(api, cid)
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "0.00"}, {"kind": "B"}]})
    assert r.status_code == 200
    task = await api.task("manager", cid, "choice")
    offered = datetime.fromisoformat(task["created_at"])  # the clock's start, not the test's "now" (a midnight between)
    due = datetime.fromisoformat(task["due_at"]).astimezone(CHINA)
    assert (due.hour, due.minute) == (0, 0)
    with session_factory() as s:  # the days ops entered (another test may have entered 2027) count as the case's do
        overrides = load_overrides(s, since=china_date(offered))
    try:
        expected = add_working_days(china_date(offered), 3, overrides=overrides)
    except LookupError:  # beyond the calendar's data: counted in calendar days, and the step says so
        expected = china_date(offered) + timedelta(days=3)
        timeline = (await api.get("manager", f"/api/refund-cases/{cid}/timeline")).json()["entries"]
        assert any("calendar_not_covered" in (e.get("detail") or {}) for e in timeline)
    assert due.date() - timedelta(days=1) == expected
