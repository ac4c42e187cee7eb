"""Legal holds through the API (real dev server, embedded PostgreSQL): legal sets and lifts a hold, each with a
reason and on the case's timeline under the person's name; anyone else is refused; one active hold per case;
legal, HQ risk control and ops list them; a legal person of another project does not see the case."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from api.security import hash_password
from db.models import User
from db.org import grant
from tests.api.conftest import Api
from tests.api.test_anonymise import closed_case, sweep
from tests.factories import TEST_PASSWORD

LAWSUIT = "（2026）浙0106民初1234号：买受人起诉，保全全部沟通记录"


@pytest.fixture
def case(factory, session_factory):
    """A closed case past retain_until (the sweep would take it) and the office's people; legal has a name."""
    c = closed_case(factory, session_factory, retain_until=datetime.now(timezone.utc) - timedelta(days=1))
    with session_factory.begin() as s:
        s.execute(update(User).where(User.id == c.scenario.users["legal"].id).values(display_name="法务 林律师"))
    return c


@pytest.fixture
def api(http, case):
    return Api(http, case.scenario.users)


def hold_url(case) -> str:
    return f"/api/refund-cases/{case.case_id}/legal-hold"


async def timeline_entries(api: Api, case, kind: str) -> list[dict]:
    r = await api.get("legal", f"/api/refund-cases/{case.case_id}/timeline")
    assert r.status_code == 200, r.text
    return [e for e in r.json()["entries"] if e["kind"] == kind]


async def test_legal_sets_a_hold_and_the_timeline_shows_it_under_their_name(api, case):
    r = await api.post("legal", hold_url(case), json={"reason": f"  {LAWSUIT} "})
    assert r.status_code == 201, r.text
    hold = r.json()
    assert hold["active"] and hold["case_no"] == case.case_no and hold["reason"] == LAWSUIT
    assert hold["set_by_name"] == "法务 林律师" and hold["lifted_at"] is None
    [entry] = await timeline_entries(api, case, "legal_hold_set")
    assert entry["actor_name"] == "法务 林律师" and entry["detail"]["reason"] == LAWSUIT
    for role in ("legal", "hqrisk", "ops"):
        r = await api.get(role, "/api/legal-holds", params={"active": "true"})
        assert r.status_code == 200, r.text
        mine = [h for h in r.json() if h["case_id"] == str(case.case_id)]
        assert [(h["case_no"], h["set_by_name"], h["reason"]) for h in mine] == [(case.case_no, "法务 林律师", LAWSUIT)]
        assert mine[0]["set_at"] and mine[0]["retain_until"]


async def test_a_manager_may_not_set_or_lift_a_hold_nor_list_them(api, case):
    for url in (hold_url(case), hold_url(case) + "/lift"):
        r = await api.post("manager", url, json={"reason": LAWSUIT})
        assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
        assert "legal" in r.json()["message"]
    r = await api.get("manager", "/api/legal-holds")
    assert r.status_code == 403


async def test_a_second_active_hold_is_a_conflict_naming_the_first(api, case):
    assert (await api.post("legal", hold_url(case), json={"reason": LAWSUIT})).status_code == 201
    r = await api.post("legal", hold_url(case), json={"reason": "另一宗诉讼"})
    assert r.status_code == 409 and r.json()["code"] == "conflict", r.text
    assert "already on legal hold" in r.json()["message"] and "法务 林律师" in r.json()["message"]


async def test_lifting_needs_a_reason(api, case):
    assert (await api.post("legal", hold_url(case), json={"reason": LAWSUIT})).status_code == 201
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        r = await api.post("legal", hold_url(case) + "/lift", json=body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
        assert [e["field"] for e in r.json()["errors"]] == ["body.reason"], r.text
    r = await api.get("hqrisk", "/api/legal-holds", params={"active": "true"})
    assert str(case.case_id) in {h["case_id"] for h in r.json()}  # still held


async def test_legal_lifts_a_hold_with_a_reason_and_it_is_audited(api, case, session_factory, tmp_path):
    assert (await api.post("legal", hold_url(case), json={"reason": LAWSUIT})).status_code == 201
    assert case.case_id not in {d.case_id for d in sweep(session_factory, tmp_path).cases}  # held: kept
    r = await api.post("legal", hold_url(case) + "/lift", json={"reason": "判决已生效，无需继续保全"})
    assert r.status_code == 200, r.text
    lifted = r.json()
    assert not lifted["active"] and lifted["lifted_by_name"] == "法务 林律师" and lifted["lifted_at"]
    assert lifted["lift_reason"] == "判决已生效，无需继续保全" and lifted["reason"] == LAWSUIT
    [entry] = await timeline_entries(api, case, "legal_hold_lifted")
    assert entry["actor_name"] == "法务 林律师" and entry["detail"]["reason"] == "判决已生效，无需继续保全"
    active = (await api.get("ops", "/api/legal-holds", params={"active": "true"})).json()
    past = (await api.get("ops", "/api/legal-holds", params={"active": "false"})).json()
    assert str(case.case_id) not in {h["case_id"] for h in active}
    assert str(case.case_id) in {h["case_id"] for h in past}
    r = await api.post("legal", hold_url(case) + "/lift", json={"reason": "再解除一次"})
    assert r.status_code == 409 and "not on legal hold" in r.json()["message"]
    # Lifted: the next sweep takes it, and the timeline says so, after the two legal-hold entries.
    assert case.case_id in {d.case_id for d in sweep(session_factory, tmp_path).cases}
    r = await api.get("legal", f"/api/refund-cases/{case.case_id}/timeline")
    kinds = [e["kind"] for e in r.json()["entries"] if e["source"] == "case"]
    assert kinds[-3:] == ["legal_hold_set", "legal_hold_lifted", "anonymised"]
    r = await api.post("legal", hold_url(case), json={"reason": LAWSUIT})
    assert r.status_code == 409 and "anonymised" in r.json()["message"]


async def test_an_unknown_case_is_a_404(api):
    r = await api.post("legal", f"/api/refund-cases/{uuid.uuid4()}/legal-hold", json={"reason": LAWSUIT})
    assert r.status_code == 404 and r.json()["code"] == "not_found", r.text


async def test_a_legal_person_of_another_project_neither_holds_nor_sees_the_case(http, api, case, factory,
                                                                                   session_factory):
    other_project = factory.project_id()
    with session_factory.begin() as s:
        outsider = User(username=f"legal-elsewhere-{uuid.uuid4().hex[:6]}", display_name="别处法务", role="legal",
                        password_hash=hash_password(TEST_PASSWORD))
        s.add(outsider)
        s.flush()
        grant(s, outsider.id, "legal", project_id=other_project)
    elsewhere = Api(http, {"legal": outsider})
    r = await elsewhere.post("legal", hold_url(case), json={"reason": LAWSUIT})
    assert r.status_code == 404 and r.json()["message"] == f"refund case {case.case_id} does not exist", r.text
    assert (await api.post("legal", hold_url(case), json={"reason": LAWSUIT})).status_code == 201
    r = await elsewhere.get("legal", "/api/legal-holds")
    assert r.status_code == 200 and str(case.case_id) not in {h["case_id"] for h in r.json()}
