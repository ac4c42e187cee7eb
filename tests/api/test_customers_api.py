"""Customers through the API: masked responses, validation, duplicates, blind-index look-up, visibility,
audited reveals, rating / consultant / tags, co-parties, visits, calls, follow-ups and pagination."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from db.customers import (
    last_visit,
    next_appointment,
    refund_policy_inquiries,
    refund_policy_inquiry_times,
    visit_count,
)
from tests.api.conftest import Api
from tests.factories_customers import customer_body, fresh_resident_id


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users(extra=("sales#2",)), factory.project_id())


async def put(api: Api, role: str, url: str, **kw):
    return await api.http.put(url, headers=await api.as_(role), **kw)


async def create(api: Api, role: str = "sales", **over) -> tuple[dict, dict]:
    body = customer_body(api.project_id, **over)
    r = await api.post(role, "/api/customers", json=body)
    assert r.status_code == 201, r.text
    return r.json(), body


def _clear_values(body: dict) -> list[str]:
    return [body["id_number"], body["mobile"], body["mobile"][3:], body["id_number"][6:14]]


async def test_create_returns_masked_data_only(api, caplog):
    caplog.set_level(logging.DEBUG)
    c, body = await create(api)
    assert c["id_number_masked"] == body["id_number"][:6] + "*" * 8 + body["id_number"][-4:]
    assert c["mobile_masked"] == body["mobile"][:3] + "****" + body["mobile"][-4:]
    assert c["consultant_id"] == api.users["sales"].id  # a consultant registers for themselves
    assert c["source_channel"] == "walk_in" and c["rating"] == "B"
    for role in ("sales", "manager"):
        for url in (f"/api/customers/{c['id']}", "/api/customers?limit=200", f"/api/customers?id_number={body['id_number']}"):
            text = (await api.get(role, url)).text
            for clear in _clear_values(body):
                assert clear not in text, f"{clear} in {url}"
    # The application's own log records (the test client's request log shows the query string it sent).
    app_logs = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert not any(v in app_logs for v in _clear_values(body))


@pytest.mark.parametrize(
    "over, reason",
    [
        ({"id_number": "110105194912310021"}, "check digit does not match"),
        ({"id_number": "110105194902300020"}, "not a real date"),
        ({"mobile": "12345678901"}, "not a mainland mobile number"),
        ({"id_type": "driving_licence"}, "unknown ID type"),
        ({"name": "  "}, "name is empty"),
    ],
)
async def test_invalid_identity_is_422_with_the_reason(api, over, reason):
    r = await api.post("manager", "/api/customers", json=customer_body(api.project_id, **over))
    assert r.status_code == 422, r.text
    assert reason in r.json()["detail"]
    assert "110105194912310021" not in r.text


async def test_duplicate_id_is_409_whatever_the_spelling(api):
    c, body = await create(api)
    dup = customer_body(api.project_id, id_number=body["id_number"].lower().replace("x", "x") + " ")
    dup["id_number"] = " ".join([body["id_number"][:6], body["id_number"][6:].lower()])
    r = await api.post("manager", "/api/customers", json=dup)
    assert r.status_code == 409, r.text
    assert body["id_number"] not in r.text


async def test_lookup_by_id_and_mobile_is_normalised(api):
    c, body = await create(api)
    # An ID ending in X, looked up in lowercase.
    x_id = None
    for _ in range(200):
        cand = fresh_resident_id()
        if cand.endswith("X"):
            x_id = cand
            break
    assert x_id
    cx, _ = await create(api, id_number=x_id)
    r = await api.get("manager", "/api/customers", params={"id_number": x_id.lower()})
    assert [i["id"] for i in r.json()["items"]] == [cx["id"]]
    r = await api.get("manager", "/api/customers", params={"id_number": body["id_number"], "id_type": "resident_id"})
    assert [i["id"] for i in r.json()["items"]] == [c["id"]]
    for spelling in ("+86" + body["mobile"], "0086 " + body["mobile"], f"{body['mobile'][:3]}-{body['mobile'][3:7]}-{body['mobile'][7:]}"):
        r = await api.get("sales", "/api/customers", params={"mobile": spelling})
        assert r.status_code == 200, r.text
        assert [i["id"] for i in r.json()["items"]] == [c["id"]], spelling
    r = await api.get("manager", "/api/customers", params={"id_number": "110105194912310021"})
    assert r.status_code == 422 and "check digit" in r.json()["detail"]


async def test_consultant_sees_only_own_customers(api):
    mine, body = await create(api, role="sales")
    theirs, body2 = await create(api, role="sales#2")
    r = await api.get("sales", f"/api/customers/{theirs['id']}")
    assert r.status_code == 404
    assert (await api.get("sales", f"/api/customers/{mine['id']}")).status_code == 200
    r = await api.get("sales", "/api/customers", params={"mobile": body2["mobile"]})
    assert r.json()["items"] == [] and r.json()["total"] == 0
    ids = {i["id"] for i in (await api.get("sales", "/api/customers", params={"limit": 200})).json()["items"]}
    assert mine["id"] in ids and theirs["id"] not in ids
    for sub in ("visits", "follow-ups", "calls", "co-parties"):
        assert (await api.get("sales", f"/api/customers/{theirs['id']}/{sub}")).status_code == 404
        assert (await api.post("sales", f"/api/customers/{theirs['id']}/visits", json={})).status_code == 404
    assert (await api.get("frontdesk", f"/api/customers/{theirs['id']}")).status_code == 200
    # A consultant registers for themselves only.
    r = await api.post("sales", "/api/customers", json=customer_body(api.project_id, consultant_id=api.users["sales#2"].id))
    assert r.status_code == 403


async def test_reassignment_by_manager_moves_visibility(api):
    c, _ = await create(api, role="sales")
    new = api.users["sales#2"].id
    assert (await put(api, "sales", f"/api/customers/{c['id']}/consultant", json={"consultant_id": new})).status_code == 403
    r = await put(api, "manager", f"/api/customers/{c['id']}/consultant", json={"consultant_id": new})
    assert r.status_code == 200 and r.json()["consultant_id"] == new
    assert (await api.get("sales", f"/api/customers/{c['id']}")).status_code == 404
    assert (await api.get("sales#2", f"/api/customers/{c['id']}")).status_code == 200
    r = await put(api, "manager", f"/api/customers/{c['id']}/consultant", json={"consultant_id": api.users["finance"].id})
    assert r.status_code == 422


@pytest.mark.parametrize("role", ["manager", "finance", "legal"])
async def test_reveal_is_allowed_and_audited(api, role):
    c, body = await create(api)
    r = await api.post(role, f"/api/customers/{c['id']}/reveal", json={"field": "id_number", "purpose": "合同核对 identity check"})
    assert r.status_code == 200, r.text
    assert r.json()["value"] == body["id_number"]
    assert r.headers["cache-control"] == "no-store"
    r = await api.post(role, f"/api/customers/{c['id']}/reveal", json={"field": "mobile", "purpose": "call back about refund"})
    assert r.json()["value"] == body["mobile"]
    log = (await api.get("manager", f"/api/customers/{c['id']}/reveals")).json()
    assert [(e["field"], e["revealed_by"], e["revealed_by_role"]) for e in log] == [
        ("id_number", api.users[role].id, role), ("mobile", api.users[role].id, role)]
    assert log[0]["purpose"] == "合同核对 identity check" and log[0]["revealed_at"]
    assert body["id_number"] not in json.dumps(log)
    assert (await api.get("ops", f"/api/customers/{c['id']}/reveals")).status_code == 200


@pytest.mark.parametrize("role", ["sales", "frontdesk", "marketing", "ops", "citygm"])
async def test_reveal_forbidden_for_other_roles_and_not_audited(api, role):
    c, body = await create(api)
    r = await api.post(role, f"/api/customers/{c['id']}/reveal", json={"field": "mobile", "purpose": "just curious"})
    assert r.status_code == 403
    assert body["mobile"] not in r.text
    assert (await api.get("manager", f"/api/customers/{c['id']}/reveals")).json() == []


async def test_reveal_needs_a_purpose_and_the_log_is_restricted(api):
    c, _ = await create(api)
    r = await api.post("manager", f"/api/customers/{c['id']}/reveal", json={"field": "mobile", "purpose": " "})
    assert r.status_code == 422
    assert (await api.get("finance", f"/api/customers/{c['id']}/reveals")).status_code == 403
    assert (await api.get("sales", f"/api/customers/{c['id']}/reveals")).status_code == 403


async def test_visits_first_then_repeat_per_group(api, session_factory):
    c, _ = await create(api)
    t0 = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    r = await api.post("sales", f"/api/customers/{c['id']}/visits", json={"visited_at": t0.isoformat(), "group_size": 3})
    assert r.status_code == 201 and r.json()["kind"] == "first" and r.json()["group_size"] == 3
    r = await api.post("frontdesk", f"/api/customers/{c['id']}/visits", json={"visited_at": (t0 + timedelta(days=5)).isoformat()})
    assert r.json()["kind"] == "repeat"
    # A back-dated visit becomes the first; the history is recomputed.
    r = await api.post("sales", f"/api/customers/{c['id']}/visits", json={"visited_at": (t0 - timedelta(days=3)).isoformat(), "group_size": 2})
    assert r.json()["kind"] == "first"
    visits = (await api.get("sales", f"/api/customers/{c['id']}/visits")).json()
    assert [v["kind"] for v in visits] == ["first", "repeat", "repeat"]
    assert [v["group_size"] for v in visits] == [2, 3, 1]
    r = await api.post("sales", f"/api/customers/{c['id']}/visits", json={"group_size": 0})
    assert r.status_code == 422
    with session_factory() as s:
        assert last_visit(s, c["id"]) == t0 + timedelta(days=5)
        assert visit_count(s, c["id"], t0 - timedelta(days=10), t0 + timedelta(days=1)) == 2
    detail = (await api.get("sales", f"/api/customers/{c['id']}")).json()
    assert detail["last_visit_at"].startswith("2026-11-06")


async def test_follow_ups_with_topics_and_appointment(api, session_factory):
    c, _ = await create(api)
    now = datetime.now(timezone.utc)
    appt = now + timedelta(days=2)
    r = await api.post("sales", f"/api/customers/{c['id']}/follow-ups", json={
        "at": (now - timedelta(days=1)).isoformat(), "channel": "wechat", "note": "问退房政策",
        "topics": ["asked_refund_policy", "Asked_Refund_Policy", "price"], "next_appointment_at": appt.isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["topics"] == ["asked_refund_policy", "price"]
    await api.post("sales", f"/api/customers/{c['id']}/follow-ups", json={"topics": ["asked_refund_policy"]})
    await api.post("sales", f"/api/customers/{c['id']}/follow-ups", json={
        "at": (now - timedelta(days=30)).isoformat(), "topics": ["asked_refund_policy"]})
    r = await api.post("sales", f"/api/customers/{c['id']}/follow-ups", json={
        "at": now.isoformat(), "next_appointment_at": (now - timedelta(hours=1)).isoformat()})
    assert r.status_code == 422 and "after the follow-up" in r.json()["detail"]
    r = await api.post("sales", f"/api/customers/{c['id']}/follow-ups", json={"topics": ["has space"]})
    assert r.status_code == 422
    fus = (await api.get("manager", f"/api/customers/{c['id']}/follow-ups")).json()
    assert len(fus) == 3
    with session_factory() as s:
        assert refund_policy_inquiries(s, c["id"], now - timedelta(days=14)) == 2
        assert refund_policy_inquiries(s, c["id"], now - timedelta(days=60)) == 3
        assert len(refund_policy_inquiry_times(s, c["id"], now - timedelta(days=14))) == 2
        assert abs((next_appointment(s, c["id"], now) - appt).total_seconds()) < 1
        assert next_appointment(s, c["id"], appt + timedelta(seconds=1)) is None
    detail = (await api.get("sales", f"/api/customers/{c['id']}")).json()
    assert detail["next_appointment_at"] is not None


async def test_calls_and_co_parties_are_masked(api):
    c, _ = await create(api)
    r = await api.post("sales", f"/api/customers/{c['id']}/calls", json={"direction": "outbound", "duration_seconds": 95})
    assert r.status_code == 201 and r.json()["direction"] == "outbound"
    assert len((await api.get("sales", f"/api/customers/{c['id']}/calls")).json()) == 1
    co = customer_body(api.project_id)
    r = await api.post("sales", f"/api/customers/{c['id']}/co-parties", json={
        "relation": "co_resident", "name": "李四", "id_type": "resident_id", "id_number": co["id_number"], "mobile": co["mobile"]})
    assert r.status_code == 201, r.text
    detail = (await api.get("manager", f"/api/customers/{c['id']}")).text
    assert "李四" in detail and co["id_number"] not in detail and co["mobile"] not in detail
    r = await api.post("sales", f"/api/customers/{c['id']}/co-parties", json={
        "relation": "co_owner", "name": "王五", "id_type": "resident_id", "id_number": "110105194912310021"})
    assert r.status_code == 422


async def test_rating_and_tags(api):
    c, _ = await create(api)
    r = await put(api, "sales", f"/api/customers/{c['id']}/rating", json={"rating": "a"})
    assert r.status_code == 200 and r.json()["rating"] == "A"
    assert (await put(api, "manager", f"/api/customers/{c['id']}/rating", json={"rating": "D"})).json()["rating"] == "D"
    assert (await put(api, "manager", f"/api/customers/{c['id']}/rating", json={"rating": "E"})).status_code == 422
    assert (await put(api, "finance", f"/api/customers/{c['id']}/rating", json={"rating": "C"})).status_code == 403
    assert (await put(api, "sales#2", f"/api/customers/{c['id']}/rating", json={"rating": "C"})).status_code == 404
    r = await put(api, "sales", f"/api/customers/{c['id']}/tags", json={"tags": ["改善型", "敏感", "改善型"]})
    assert r.json()["tags"] == ["改善型", "敏感"]
    r = await put(api, "sales", f"/api/customers/{c['id']}/tags", json={"tags": ["改善型"]})
    assert r.status_code == 422 and "敏感" in r.json()["detail"]
    r = await put(api, "manager", f"/api/customers/{c['id']}/tags", json={"tags": []})
    assert r.status_code == 200 and r.json()["tags"] == []


async def test_search_by_name_prefix_filters_and_pagination(api):
    prefix = f"分页{uuid.uuid4().hex[:6]}"
    created = [(await create(api, name=f"{prefix}{i:02d}"))[0] for i in range(7)]
    await create(api, name=f"x{prefix}")  # not a prefix match
    await put(api, "manager", f"/api/customers/{created[0]['id']}/rating", json={"rating": "A"})
    seen = []
    for offset in (0, 3, 6):
        r = await api.get("manager", "/api/customers", params={"q": prefix, "limit": 3, "offset": offset})
        page = r.json()
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == offset
        seen += [i["name"] for i in page["items"]]
    assert seen == [f"{prefix}{i:02d}" for i in range(7)]
    r = await api.get("manager", "/api/customers", params={"q": prefix, "rating": "A"})
    assert [i["id"] for i in r.json()["items"]] == [created[0]["id"]]
    r = await api.get("manager", "/api/customers", params={"q": prefix, "consultant_id": api.users["sales#2"].id})
    assert r.json()["total"] == 0
    r = await api.get("manager", "/api/customers", params={"q": "%"})
    assert all(i["name"].startswith("%") for i in r.json()["items"])
    assert (await api.get("manager", "/api/customers", params={"limit": 0})).status_code == 422


async def test_concurrent_registrations_of_one_id_admit_one(api):
    import asyncio

    body = customer_body(api.project_id)
    rs = await asyncio.gather(*[
        api.post("manager", "/api/customers", json={**body, "mobile": customer_body(api.project_id)["mobile"]}) for _ in range(5)
    ])
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409, 409]


async def test_filter_by_tag(api):
    c, _ = await create(api)
    tag = f"t{uuid.uuid4().hex[:8]}"
    await put(api, "manager", f"/api/customers/{c['id']}/tags", json={"tags": [tag]})
    r = await api.get("manager", "/api/customers", params={"tag": tag})
    assert [i["id"] for i in r.json()["items"]] == [c["id"]]


async def test_post_lookup_keeps_numbers_out_of_the_url(api):
    c, body = await create(api)
    r = await api.post("manager", "/api/customers/lookup", json={"id_number": body["id_number"].lower()})
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [c["id"]]
    r = await api.post("sales", "/api/customers/lookup", json={"mobile": "+86" + body["mobile"]})
    assert [i["id"] for i in r.json()["items"]] == [c["id"]]
    r = await api.post("sales#2", "/api/customers/lookup", json={"mobile": body["mobile"]})
    assert r.json()["total"] == 0
    assert (await api.post("manager", "/api/customers/lookup", json={})).status_code == 422


# --- early warnings raised from the customer's records (DOMAIN §5) ------------------------------


async def _customer_warnings(api: Api, customer_id: int, open_only: bool = False) -> list[dict]:
    r = await api.get("manager", "/api/warnings", params={"open": str(open_only).lower()})
    assert r.status_code == 200, r.text
    return [w for w in r.json() if w["customer_id"] == customer_id and w["case_ref"] == f"customer-{customer_id}"]


async def test_records_raise_then_upgrade_one_warning_per_customer(api):
    c, _ = await create(api)
    cid, now = c["id"], datetime.now(timezone.utc)
    fu = f"/api/customers/{cid}/follow-ups"
    for days in (3, 2):
        r = await api.post("sales", fu, json={"at": (now - timedelta(days=days)).isoformat(), "topics": ["asked_refund_policy"]})
        assert r.status_code == 201, r.text
    assert await _customer_warnings(api, cid) == []  # two inquiries: below the threshold
    await api.post("sales", fu, json={"at": (now - timedelta(days=1)).isoformat(), "topics": ["asked_refund_policy"]})
    [w] = await _customer_warnings(api, cid)
    assert w["level"] == "yellow" and [x["rule"] for x in w["rules"]] == ["refund_policy_inquiries"]
    assert w["respond_role"] == "sales" and w["risk_score"] == 40
    # The consultant who answers it sees it; another consultant does not.
    assert w["id"] in [x["id"] for x in (await api.get("sales", "/api/warnings")).json()]
    assert w["id"] not in [x["id"] for x in (await api.get("sales#2", "/api/warnings")).json()]
    assert datetime.fromisoformat(w["response_due"]) - datetime.fromisoformat(w["raised_at"]) == timedelta(hours=4)

    # Visits dropped (two visits in the period before, none since, no appointment) → orange, the same warning.
    for days in (45, 40):
        r = await api.post("frontdesk", f"/api/customers/{cid}/visits", json={"visited_at": (now - timedelta(days=days)).isoformat()})
        assert r.status_code == 201, r.text
    [w2] = await _customer_warnings(api, cid)
    assert w2["id"] == w["id"] and w2["level"] == "orange" and w2["respond_role"] == "manager"
    assert [x["rule"] for x in w2["rules"]] == ["refund_policy_inquiries", "visits_dropped_no_appointment"]
    due = datetime.fromisoformat(w2["response_due"]) - datetime.now(timezone.utc)
    assert timedelta(hours=1, minutes=58) < due <= timedelta(hours=2)

    # Re-evaluating (a call, another inquiry) neither duplicates nor downgrades it.
    assert (await api.post("sales", f"/api/customers/{cid}/calls", json={})).status_code == 201
    await api.post("sales", fu, json={"topics": ["asked_refund_policy"]})
    [w3] = await _customer_warnings(api, cid)
    assert w3["id"] == w["id"] and w3["level"] == "orange"

    # A downgrade needs a reason.
    r = await api.post("manager", f"/api/warnings/{w['id']}/respond", json={"note": "called", "downgrade_to": "yellow"})
    assert r.status_code == 422 and "reason" in r.text

    # A litigation threat → red, to HQ risk control at once.
    r = await api.post("sales", fu, json={"note": "说要去法院起诉", "topics": ["litigation_threat"]})
    assert r.status_code == 201, r.text
    [w4] = await _customer_warnings(api, cid)
    assert w4["id"] == w["id"] and w4["level"] == "red" and w4["respond_role"] == "hqrisk"
    assert "litigation_threat" in [x["rule"] for x in w4["rules"]]
    assert datetime.fromisoformat(w4["response_due"]) <= datetime.now(timezone.utc)

    # HQ risk responds: the warning closes, and the same evidence does not reopen one.
    r = await api.post("hqrisk", f"/api/warnings/{w['id']}/respond", json={"note": "legal contacted the buyer"})
    assert r.status_code == 200, r.text
    assert await _customer_warnings(api, cid, open_only=True) == []
    await api.post("sales", fu, json={"topics": ["asked_refund_policy"]})
    assert await _customer_warnings(api, cid, open_only=True) == []
    assert len(await _customer_warnings(api, cid)) == 1


async def test_litigation_threat_alone_raises_red_for_hqrisk(api):
    c, _ = await create(api)
    r = await api.post("sales", f"/api/customers/{c['id']}/follow-ups", json={"topics": ["litigation_threat"]})
    assert r.status_code == 201, r.text
    [w] = await _customer_warnings(api, c["id"])
    assert w["level"] == "red" and w["respond_role"] == "hqrisk" and w["response_due"] == w["raised_at"]
    assert [x["rule"] for x in w["rules"]] == ["litigation_threat"]
    assert (await api.post("sales", f"/api/warnings/{w['id']}/respond", json={"note": "x"})).status_code == 403


# --- needs and the consultant's list (issue 15) -------------------------------------------------------


async def test_needs_are_recorded_read_back_and_shown_with_the_customer(api):
    c, _ = await create(api)
    url = f"/api/customers/{c['id']}/needs"
    assert (await api.get("sales", url)).json() is None
    r = await put(api, "sales", url, json={"budget_min": "3000000", "budget_max": "4200000.50", "layouts": ["三室两厅", "四室"],
                                           "area_min": "89", "area_max": "125.5", "purpose": "改善",
                                           "concerns": ["学区", "delivery"], "note": "孩子明年上小学"})
    assert r.status_code == 200, r.text
    n = r.json()
    assert (n["budget_max"], n["purpose"], n["concerns"]) == ("4200000.50", "upgrade", ["school_district", "delivery"])
    assert (await api.get("manager", url)).json()["layouts"] == ["三室两厅", "四室"]
    assert (await api.get("sales", f"/api/customers/{c['id']}")).json()["needs"]["area_max"] == "125.50"
    # A PUT replaces the record.
    r = await put(api, "sales", url, json={"purpose": "self_use"})
    assert r.status_code == 200 and r.json()["layouts"] == [] and r.json()["budget_min"] is None


@pytest.mark.parametrize("body, field, words", [
    ({"budget_min": "5000000", "budget_max": "4000000"}, "body.budget_max", "below the lowest"),
    ({"area_min": "120", "area_max": "90"}, "body.area_max", "below the smallest"),
    ({"purpose": "炒房"}, "body.purpose", "unknown purpose"),
    ({"concerns": ["风水"]}, "body.concerns", "unknown concern"),
    ({"layouts": ["x" * 40]}, "body.layouts", "1 to 32 characters"),
    ({"budget_min": "-1"}, "body.budget_min", "greater than 0"),
    ({"budget_min": True}, "body.budget_min", "not true or false"),
    ({"budget_min": "1.234"}, "body.budget_min", "decimal places"),
    ({"wish": "海景"}, "body.wish", ""),
])
async def test_bad_needs_are_a_422_naming_the_field_and_nothing_is_written(api, body, field, words):
    c, _ = await create(api)
    r = await put(api, "sales", f"/api/customers/{c['id']}/needs", json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors
    assert (await api.get("sales", f"/api/customers/{c['id']}/needs")).json() is None


async def test_another_consultants_customer_needs_are_404(api):
    theirs, _ = await create(api, role="sales#2")
    url = f"/api/customers/{theirs['id']}/needs"
    assert (await api.get("sales", url)).status_code == 404
    assert (await put(api, "sales", url, json={"purpose": "investment"})).status_code == 404
    assert (await put(api, "frontdesk", url, json={"purpose": "investment"})).status_code == 200


async def test_my_customers_due_and_overdue_first_with_the_last_contact_and_a_reminder(api, session_factory):
    from sqlalchemy import select

    from db.notice_models import Reminder

    now = datetime.now(timezone.utc)
    quiet, _ = await create(api, name="甲")
    later, _ = await create(api, name="乙")
    overdue, _ = await create(api, name="丙")
    met, _ = await create(api, name="丁")
    soon, _ = await create(api, name="戊")
    other, _ = await create(api, role="sales#2", name="己")
    fu = "/api/customers/{}/follow-ups"
    r = await api.post("sales", fu.format(later["id"]), json={"note": "看样板间", "next_appointment_at": (now + timedelta(days=3)).isoformat()})
    assert r.status_code == 201, r.text
    r = await api.post("sales", fu.format(overdue["id"]), json={"at": (now - timedelta(days=2)).isoformat(),
                                                                 "next_appointment_at": (now - timedelta(hours=3)).isoformat()})
    assert r.status_code == 201, r.text
    await api.post("sales", fu.format(met["id"]), json={"at": (now - timedelta(days=2)).isoformat(),
                                                         "next_appointment_at": (now - timedelta(days=1)).isoformat()})
    await api.post("sales", f"/api/customers/{met['id']}/visits", json={})  # came: the appointment is met
    r = await api.post("sales", fu.format(soon["id"]), json={"note": "带家人来", "next_appointment_at": (now + timedelta(minutes=2)).isoformat()})
    assert r.status_code == 201, r.text
    page = (await api.get("sales", "/api/my/customers")).json()
    ids = [i["id"] for i in page["items"]]
    assert other["id"] not in ids and len(ids) == 5
    states = {i["id"]: i["appointment_state"] for i in page["items"]}
    assert states[overdue["id"]] == "overdue" and states[later["id"]] == "upcoming" and states[met["id"]] == "none"
    assert ids[0] == overdue["id"]
    assert ids.index(soon["id"]) < ids.index(later["id"]) < ids.index(quiet["id"])
    assert page["due"] == (2 if states[soon["id"]] == "due_today" else 1)
    first = page["items"][0]
    assert first["last_contact_at"] is not None and first["appointment_at"] is not None
    item = next(i for i in page["items"] if i["id"] == soon["id"])
    assert item["appointment_note"] == "带家人来" and item["mobile_masked"].count("*") == 4
    # The booked appointment has its reminders (a day and an hour before; those already past are not written).
    with session_factory() as s:
        kinds = s.scalars(select(Reminder.reminder_key).where(Reminder.source == "appointment")).all()
    assert any(k.startswith("appointment:") for k in kinds)
    # A manager narrows to one consultant; front desk sees them too; finance may not use the list.
    r = await api.get("manager", "/api/my/customers", params={"consultant_id": api.users["sales#2"].id, "limit": 200})
    assert [i["id"] for i in r.json()["items"]] == [other["id"]]
    assert (await api.get("frontdesk", "/api/my/customers", params={"state": "overdue", "limit": 200})).status_code == 200
    assert (await api.get("finance", "/api/my/customers")).status_code == 403


async def test_the_customer_records_gather_subscriptions_contracts_and_cases(factory, http):
    from datetime import date

    from tests.factories_contracts import sign

    sc = factory.scenario()
    api = Api(http, sc.users)
    k = await sign(api, sc.subscription_id, signed_on=date(2026, 11, 2))
    r = await api.get("sales", f"/api/customers/{sc.customer_id}/records")
    assert r.status_code == 200, r.text
    rec = r.json()
    assert [s["id"] for s in rec["subscriptions"]] == [sc.subscription_id]
    assert rec["subscriptions"][0]["unit_code"] == "1203"
    assert [c["id"] for c in rec["contracts"]] == [k["id"]]
    assert rec["cases"] == [] and rec["warnings"] == []
