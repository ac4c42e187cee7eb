"""Reception through the API (issue 15): walk-ins (anonymous ones counted in today's statistics), the rotation
(order, skip with a reason, absent and back, all audited), a returning customer to their own consultant (撞单),
one winner of concurrent takes, channel partners' registrations (a second one refused with the holder and until
when; a registered prospect's visit credited to the partner), and bad input: 422 naming the field, nothing
written."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from api.security import hash_password
from db.models import User
from db.org import grant
from db.reception_models import PartnerRegistration, RotationEvent, WalkIn
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD
from tests.factories_customers import customer_body, fresh_mobile


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users(extra=("sales#2", "sales#3")), factory.project_id())


def walk_in_body(**over) -> dict:
    return {"group_size": 2, "first_visit": True, "channel": "walk_in", **over}


async def walk_in(api: Api, role: str = "frontdesk", **over) -> dict:
    r = await api.post(role, f"/api/projects/{api.project_id}/walk-ins", json=walk_in_body(**over))
    assert r.status_code == 201, r.text
    return r.json()


async def roster(api: Api, *roles: str) -> dict:
    ids = [api.users[r].id for r in roles]
    r = await api.http.put(f"/api/projects/{api.project_id}/rotation/roster", json={"consultant_ids": ids},
                           headers=await api.as_("manager"))
    assert r.status_code == 200, r.text
    return r.json()


async def rotation(api: Api, role: str = "frontdesk") -> dict:
    r = await api.get(role, f"/api/projects/{api.project_id}/rotation")
    assert r.status_code == 200, r.text
    return r.json()


async def take(api: Api, role: str, walk_in_id: int, **body):
    return await api.post(role, f"/api/walk-ins/{walk_in_id}/take", json=body)


async def skip(api: Api, role: str, walk_in_id: int, consultant_role: str, reason: str = "正在接待老客户"):
    return await api.post(role, f"/api/walk-ins/{walk_in_id}/skip",
                          json={"consultant_id": api.users[consultant_role].id, "reason": reason})


def uid(api: Api, role: str) -> int:
    return api.users[role].id


async def test_an_anonymous_walk_in_counts_in_todays_statistics(api):
    before = (await api.get("manager", f"/api/projects/{api.project_id}/stats", params={"period": "today"})).json()
    w = await walk_in(api, group_size=3)
    assert w["visitor_name"] is None and w["mobile_masked"] is None and not w["returning"]
    await walk_in(api, first_visit=False, channel="referral")
    after = (await api.get("manager", f"/api/projects/{api.project_id}/stats", params={"period": "today"})).json()
    assert {k: after["visits"][k] - before["visits"][k] for k in ("groups", "first", "repeat")} == \
        {"groups": 2, "first": 1, "repeat": 1}
    listed = (await api.get("frontdesk", f"/api/projects/{api.project_id}/walk-ins")).json()
    assert [x["id"] for x in listed][-1] == w["id"]


async def test_rotation_order_with_skip_absent_and_back(api):
    out = await roster(api, "sales", "sales#2", "sales#3")
    assert [e["consultant"]["id"] for e in out["roster"]] == [uid(api, r) for r in ("sales", "sales#2", "sales#3")]
    assert out["next_in_turn"]["id"] == uid(api, "sales")

    w1 = await walk_in(api)
    assert w1["offered_to"]["id"] == uid(api, "sales")
    # a skip needs a reason; only the one offered can be skipped
    r = await api.post("frontdesk", f"/api/walk-ins/{w1['id']}/skip", json={"consultant_id": uid(api, "sales"), "reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"
    r = await skip(api, "frontdesk", w1["id"], "sales#2")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "body.consultant_id"
    r = await skip(api, "frontdesk", w1["id"], "sales")
    assert r.status_code == 200, r.text
    assert r.json()["offered_to"]["id"] == uid(api, "sales#2")
    r = await take(api, "frontdesk", w1["id"], consultant_id=uid(api, "sales#2"))
    assert r.status_code == 200, r.text
    assert r.json()["consultant"]["id"] == uid(api, "sales#2") and r.json()["offered_to"] is None

    # the skipped one kept their place: the next walk-in is theirs; sales#2 went to the back
    rot = await rotation(api)
    assert rot["next_in_turn"]["id"] == uid(api, "sales")
    assert [e["queue_position"] for e in rot["roster"]] == [1, 3, 2]
    w2 = await walk_in(api)
    assert w2["offered_to"]["id"] == uid(api, "sales")
    assert (await take(api, "sales", w2["id"])).status_code == 200  # a consultant takes for themselves

    # absent: out of the queue; back: at its back
    url = f"/api/projects/{api.project_id}/rotation"
    r = await api.post("frontdesk", f"{url}/absent", json={"consultant_id": uid(api, "sales#3"), "reason": "午饭"})
    assert r.status_code == 200, r.text
    assert r.json()["next_in_turn"]["id"] == uid(api, "sales#2")
    assert (await api.post("frontdesk", f"{url}/absent", json={"consultant_id": uid(api, "sales#3")})).status_code == 409
    w3 = await walk_in(api)
    assert w3["offered_to"]["id"] == uid(api, "sales#2")
    r = await take(api, "frontdesk", w3["id"], consultant_id=uid(api, "sales#3"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "body.consultant_id"  # absent: not on duty
    assert (await take(api, "frontdesk", w3["id"], consultant_id=uid(api, "sales#2"))).status_code == 200
    r = await api.post("manager", f"{url}/back", json={"consultant_id": uid(api, "sales#3")})
    assert r.status_code == 200, r.text
    order = sorted((e["queue_position"], e["consultant"]["id"]) for e in r.json()["roster"])
    assert [c for _, c in order] == [uid(api, "sales"), uid(api, "sales#2"), uid(api, "sales#3")]

    # out of turn needs a reason, then moves the taker to the back too
    w4 = await walk_in(api)
    assert w4["offered_to"]["id"] == uid(api, "sales")
    r = await take(api, "sales#3", w4["id"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"
    assert (await take(api, "sales#3", w4["id"], reason="客户点名要我")).status_code == 200

    # everything is in the audit, in order, with who did it
    kinds = [(e["kind"], (e["consultant"] or {}).get("id")) for e in (await rotation(api, "manager"))["events"]]
    assert kinds == [
        ("roster_set", None), ("offered", uid(api, "sales")), ("skipped", uid(api, "sales")),
        ("offered", uid(api, "sales#2")), ("taken", uid(api, "sales#2")), ("offered", uid(api, "sales")),
        ("taken", uid(api, "sales")), ("absent", uid(api, "sales#3")), ("offered", uid(api, "sales#2")),
        ("taken", uid(api, "sales#2")), ("back", uid(api, "sales#3")), ("offered", uid(api, "sales")),
        ("taken", uid(api, "sales#3")),
    ]
    events = (await rotation(api, "manager"))["events"]
    assert events[2]["reason"] == "正在接待老客户" and events[2]["actor"]["id"] == uid(api, "frontdesk")
    assert events[-1]["detail"] == {"how": "out_of_turn", "offered": uid(api, "sales")}
    assert events[-1]["reason"] == "客户点名要我"


async def test_a_returning_customer_goes_to_their_own_consultant(api, caplog):
    caplog.set_level(logging.DEBUG)
    body = customer_body(api.project_id, consultant_id=uid(api, "sales#3"))
    r = await api.post("manager", "/api/customers", json=body)
    assert r.status_code == 201, r.text
    customer = r.json()
    await roster(api, "sales", "sales#2", "sales#3")
    spelled = f"+86 {body['mobile'][:3]}-{body['mobile'][3:7]}-{body['mobile'][7:]}"
    w = await walk_in(api, name="王先生", mobile=spelled)
    assert w["returning"] and w["customer_id"] == customer["id"]
    assert w["reserved_for"]["id"] == w["offered_to"]["id"] == uid(api, "sales#3")
    assert w["mobile_masked"] == body["mobile"][:3] + "****" + body["mobile"][-4:]
    assert w["first_visit"]  # declared first, and the customer had no visit yet
    assert body["mobile"] not in str(w)
    # the next in turn may not take a colleague's returning customer while that colleague is on duty
    r = await take(api, "sales", w["id"], reason="我先看到的")
    assert r.status_code == 409 and "撞单" in r.json()["detail"]
    assert (await take(api, "sales#3", w["id"])).status_code == 200
    # the rotation did not move: it was never a turn
    assert (await rotation(api))["next_in_turn"]["id"] == uid(api, "sales")
    # the customer's own record shows the visit; the statistics count it once
    visits = (await api.get("manager", f"/api/customers/{customer['id']}/visits")).json()
    assert len(visits) == 1
    assert body["mobile"] not in caplog.text


async def test_two_consultants_taking_the_same_walk_in_at_once_one_wins(api, session_factory):
    await roster(api, "sales", "sales#2")
    w = await walk_in(api)
    h1, h2 = await api.as_("sales"), await api.as_("sales#2")
    url = f"/api/walk-ins/{w['id']}/take"
    answers = await asyncio.gather(*(
        api.http.post(url, json={} if i % 2 == 0 else {"reason": "抢先一步"}, headers=h1 if i % 2 == 0 else h2)
        for i in range(10)))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 9}, [r.text for r in answers]
    winner = next(r.json() for r in answers if r.status_code == 200)["consultant"]["name"]
    for r in answers:
        if r.status_code == 409:
            body = r.json()
            assert f"already taken by {winner} at " in body["detail"], r.text
            # the catalogue's code and the front desk's own language
            assert body["key"] == "reception.taken" and f"已由 {winner} 于 " in body["message_zh"], r.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RotationEvent).where(
            RotationEvent.walk_in_id == w["id"], RotationEvent.kind == "taken")) == 1


async def test_partner_registration_second_one_refused_with_the_holder_and_the_visit_credited(api):
    pid = api.project_id
    r = await api.post("frontdesk", f"/api/projects/{pid}/partners", json={"name": "链家", "kind": "agency"})
    assert r.status_code == 403  # partners are added by the manager or marketing
    lianjia = (await api.post("marketing", f"/api/projects/{pid}/partners",
                              json={"name": "链家", "kind": "agency", "contact_name": "李经理",
                                    "contact_mobile": fresh_mobile()})).json()
    fang = (await api.post("manager", f"/api/projects/{pid}/partners", json={"name": "房多多", "kind": "distributor"})).json()
    r = await api.post("manager", f"/api/projects/{pid}/partners", json={"name": "链家", "kind": "agency"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "body.name"
    assert r.json()["message_zh"] == "本项目已有名为 链家 的渠道"

    mobile = fresh_mobile()
    r = await api.post("sales", f"/api/projects/{pid}/partner-registrations",
                       json={"partner_id": lianjia["id"], "prospect_name": "赵女士", "mobile": mobile})
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["status"] == "active" and reg["partner_name"] == "链家" and mobile not in r.text
    assert reg["protected_until"] > reg["registered_at"]
    # the second registration of the same mobile (another spelling) is refused with the holder and until when
    r = await api.post("frontdesk", f"/api/projects/{pid}/partner-registrations",
                       json={"partner_id": fang["id"], "prospect_name": "赵", "mobile": "0086" + mobile})
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "链家" in detail and "protected until" in detail and r.json()["errors"][0]["field"] == "body.mobile"
    assert r.json()["key"] == "partner.mobile_registered"
    assert r.json()["message_zh"].startswith("该手机号已由 链家（中介）报备，保护期至北京时间 "), r.text
    holder = (await api.post("frontdesk", f"/api/projects/{pid}/partner-registrations/holder", json={"mobile": mobile})).json()
    assert holder["held"] and holder["registration"]["id"] == reg["id"]
    assert holder["registration"]["protected_until"] == reg["protected_until"]

    # the prospect visits: credited to the partner
    w = await walk_in(api, mobile=mobile, channel="partner")
    assert w["partner"]["registration_id"] == reg["id"] and w["partner"]["partner_name"] == "链家"
    listed = (await api.get("manager", f"/api/projects/{pid}/partner-registrations")).json()
    assert next(x for x in listed if x["id"] == reg["id"])["visits_credited"] == 1
    # a visitor the office already saw cannot be claimed afterwards by a registration
    r = await api.post("manager", f"/api/partner-registrations/{reg['id']}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = await api.post("frontdesk", f"/api/projects/{pid}/partner-registrations",
                       json={"partner_id": fang["id"], "prospect_name": "赵", "mobile": mobile})
    assert r.status_code == 409 and "already a visitor" in r.json()["detail"]
    parts = {p["name"]: p for p in (await api.get("frontdesk", f"/api/projects/{pid}/partners")).json()}
    assert parts["链家"]["active_registrations"] == 0 and parts["链家"]["contact_mobile_masked"].count("*") == 4


@pytest.mark.parametrize("body, field", [
    (walk_in_body(group_size=0), "body.group_size"),
    (walk_in_body(group_size=51), "body.group_size"),
    (walk_in_body(channel="tiktok"), "body.channel"),
    (walk_in_body(mobile="12345"), "body.mobile"),
    (walk_in_body(first_visit="yes"), "body.first_visit"),
    ({"group_size": 2, "channel": "walk_in"}, "body.first_visit"),
    (walk_in_body(name="x" * 65), "body.name"),
])
async def test_a_bad_walk_in_is_422_naming_the_field_and_writes_nothing(api, session_factory, body, field):
    r = await api.post("frontdesk", f"/api/projects/{api.project_id}/walk-ins", json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]] and r.json()["message"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(WalkIn).where(WalkIn.project_id == api.project_id)) == 0


async def test_bad_partner_registration_and_roster_input_is_422_naming_the_field(api, session_factory):
    pid = api.project_id
    partner = (await api.post("manager", f"/api/projects/{pid}/partners", json={"name": "中原", "kind": "agency"})).json()
    cases = [
        ({"partner_id": partner["id"], "prospect_name": "钱", "mobile": "999"}, "body.mobile"),
        ({"partner_id": partner["id"], "prospect_name": "  ", "mobile": fresh_mobile()}, "body.prospect_name"),
        ({"partner_id": 987654321, "prospect_name": "钱", "mobile": fresh_mobile()}, "body.partner_id"),
        ({"prospect_name": "钱", "mobile": fresh_mobile()}, "body.partner_id"),
    ]
    for body, field in cases:
        r = await api.post("frontdesk", f"/api/projects/{pid}/partner-registrations", json=body)
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PartnerRegistration).where(PartnerRegistration.project_id == pid)) == 0
    r = await api.post("manager", f"/api/projects/{pid}/partners", json={"name": "x", "kind": "broker"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.kind"
    url = f"/api/projects/{pid}/rotation/roster"
    h = await api.as_("manager")
    for ids in ([], [uid(api, "sales"), uid(api, "sales")], [uid(api, "finance")]):
        r = await api.http.put(url, json={"consultant_ids": ids}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.consultant_ids", r.text
    assert (await rotation(api))["roster"] == []
    r = await api.http.put(url, json={"consultant_ids": [uid(api, "sales")]}, headers=await api.as_("sales"))
    assert r.status_code == 403  # the rotation is set by the manager or the front desk


async def test_another_projects_walk_ins_and_registrations_are_not_found(api, factory, session_factory):
    """A front desk of another project only: our walk-in and registration answer as missing ones do."""
    w = await walk_in(api)
    partner = (await api.post("manager", f"/api/projects/{api.project_id}/partners",
                              json={"name": "我爱我家", "kind": "agency"})).json()
    reg = (await api.post("manager", f"/api/projects/{api.project_id}/partner-registrations",
                          json={"partner_id": partner["id"], "prospect_name": "孙", "mobile": fresh_mobile()})).json()
    other_project = factory.project_id()
    with session_factory.begin() as s:
        u = User(username=f"fd-{uuid.uuid4().hex[:6]}", display_name="别的前台", role="frontdesk",
                 password_hash=hash_password(TEST_PASSWORD))
        s.add(u)
        s.flush()
        grant(s, u.id, "frontdesk", project_id=other_project)
        grant(s, u.id, "manager", project_id=other_project)
    outsider = Api(api.http, {"frontdesk": u, "manager": u})
    for path, body in ((f"/api/walk-ins/{w['id']}/take", {"consultant_id": uid(api, "sales")}),
                       (f"/api/walk-ins/{w['id']}/skip", {"consultant_id": uid(api, "sales"), "reason": "x"}),
                       ("/api/walk-ins/987654321/take", {"consultant_id": 1})):
        r = await outsider.post("frontdesk", path, json=body)
        assert r.status_code == 404 and "does not exist" in r.json()["detail"], r.text
    r = await outsider.post("manager", f"/api/partner-registrations/{reg['id']}/withdraw")
    assert r.status_code == 404, r.text
    for path in ("walk-ins", "rotation", "partners", "partner-registrations"):
        assert (await outsider.get("frontdesk", f"/api/projects/{api.project_id}/{path}")).status_code == 404
