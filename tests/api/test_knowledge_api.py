"""Complaint keywords, the 话术 library and the knowledge-base search through the API (issue 16), on the real
stack. Cases are written directly as closed cases with their intake and archive (the workflow's own tests
cover how a case gets there); the archive entry goes through the trigger of migration 0027 as the archive
activity's does."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.clock import now_utc
from api.security import hash_password
from db.followup_models import WarningRecord
from db.knowledge import keyword_case_ref
from db.models import IntakeForm, KnowledgeBaseEntry, RefundCase, User
from db.notice_models import Notice
from db.org import grant
from domain.calendar import CHINA, china_date
from domain.keywords import week_start
from tests.api.conftest import Api
from tests.factories import TEST_PASSWORD, Scenario

# The seeded set: this week's intake reasons (code, the buyer's words) and last week's.
THIS_WEEK = [
    ("other", "开发商延期交付，要求退房"),
    ("other", "延期交付半年，要求退房并退还定金"),
    ("funds_shortfall", "年终奖没发，资金紧张，要求退房"),
    ("other", "听说又要延期交付，退房"),
    ("other", "延期交付没有补偿，要求退房退定金"),
    ("family_disagreement", "配偶不同意，延期交付也让家里担心，退房"),
]
LAST_WEEK = [
    ("other", "延期交付，想退房"),
    ("competitor_comparison", "竞品降价了，觉得买贵了，退房"),
    ("other", "学区没有落实，退房"),
    ("other", "贷款审批没通过，退房"),
]


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users())


def closed_case(session_factory, sc: Scenario, *, at: datetime, reasons: list[str], words: str = "",
                archive: tuple[str, str] | None = None, path: str = "B") -> tuple[uuid.UUID, str]:
    """A closed case of the scenario's project with its intake at `at` and, when `archive` = (summary,
    lessons) is given, its archive entry."""
    case_id = uuid.uuid4()
    case_no = f"RF{at:%Y%m%d}-{case_id.hex[:6].upper()}"
    with session_factory.begin() as s:
        s.add(RefundCase(
            id=case_id, case_no=case_no, project_id=sc.project_id, unit_id=sc.unit_id,
            subscription_id=sc.subscription_id, customer_id=sc.customer_id, registered_by=sc.users["frontdesk"].id,
            registered_at=at, workflow_id=f"refund-test-{case_id}", policy_version="test", stage="closed",
            chosen_option=path if path in ("A", "B", "C") else None, closed_at=at))
        s.flush()
        s.add(IntakeForm(case_id=case_id, reasons=reasons, reason_text=words, willing_to_consider="no",
                         id_verified=True, phone_verified=True, submitted_by=sc.users["frontdesk"].id, submitted_at=at))
        if archive is not None:
            summary, lessons = archive
            s.add(KnowledgeBaseEntry(case_id=case_id, title=f"退房案件 {case_no} (路径 {path})",
                                     body=f"{summary}\n\n复盘要点: {lessons}".strip(), tags=["退房", f"路径{path}"]))
    return case_id, case_no


def this_monday(now: datetime) -> datetime:
    return datetime.combine(week_start(china_date(now)), datetime.min.time(), tzinfo=CHINA)


# ---- complaint keywords ---------------------------------------------------------------------------


async def test_keyword_report_of_seeded_intake_reasons_and_a_rising_keyword_warns_marketing(api, factory, session_factory):
    sc = factory.scenario(users=api.users)
    monday = this_monday(now_utc())
    for code, words in THIS_WEEK:
        closed_case(session_factory, sc, at=monday, reasons=[code], words=words)
    for code, words in LAST_WEEK:
        closed_case(session_factory, sc, at=monday - timedelta(days=3), reasons=[code], words=words)

    r = await api.get("marketing", "/api/keywords/report", params={"project_id": sc.project_id, "weeks": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["documents"] == 10 and body["by_source"] == {"intake": 10}
    top = {row["keyword"]: row for row in body["top"]}
    assert [row["keyword"] for row in body["top"][:3]] == ["退房", "延期交付", "定金"]
    assert top["退房"]["weeks"] == [4, 6] and top["退房"]["total"] == 10 and not top["退房"]["rising"]  # 6 < 2×4
    assert top["延期交付"]["weeks"] == [1, 5] and top["延期交付"]["rising"]  # 5 ≥ 5 and ≥ 2×1
    assert top["资金未到位"]["weeks"] == [0, 1] and top["竞品"]["weeks"] == [1, 0]  # the reason codes count
    assert "的" not in top and "要求" not in top  # stop words

    r = await api.post("marketing", "/api/keywords/sweep")
    assert r.status_code == 200, r.text
    mine = [w for w in r.json() if w["project_id"] == sc.project_id]
    assert [("延期交付" in w["detail"], w["respond_role"], w["level"]) for w in mine] == [(True, "marketing", "yellow")]
    again = await api.post("marketing", "/api/keywords/sweep")  # once per keyword per week
    assert [w for w in again.json() if w["project_id"] == sc.project_id] == []
    with session_factory() as s:
        rows = s.scalars(select(WarningRecord).where(WarningRecord.case_ref == keyword_case_ref(sc.project_id))).all()
        assert len(rows) == 1 and rows[0].rules[0]["rule"] == "keyword_rising" and rows[0].escalate_to == "manager"
        assert rows[0].warning_key.endswith(":延期交付")
        notice = s.scalar(select(Notice).where(Notice.notice_key == f"warning_raised:{rows[0].warning_key}"))
        assert notice is not None and notice.role == "marketing" and notice.project_id == sc.project_id
    listed = await api.get("marketing", "/api/keywords/warnings")
    assert any(w["id"] == rows[0].id for w in listed.json())
    assert (await api.get("frontdesk", "/api/keywords/report")).status_code == 403
    assert (await api.post("frontdesk", "/api/keywords/sweep")).status_code == 403


# ---- the knowledge base ---------------------------------------------------------------------------


async def test_search_ranks_archived_cases_with_snippets_scoped_to_the_persons_projects(api, factory, session_factory):
    sc = factory.scenario(users=api.users)
    other = factory.scenario(users=api.users)
    at = now_utc() - timedelta(days=3)
    delayed, delayed_no = closed_case(
        session_factory, sc, at=at, reasons=["other"],
        archive=("客户因开发商延期交付申请退房，协商后按政策退还定金的七成。", "延期交付的节点变化要提前告知已认购客户"))
    family, _ = closed_case(
        session_factory, sc, at=at, reasons=["family_disagreement"],
        archive=("配偶未参与看房，次日到访后认为户型朝向不佳。", "认购前请共居人到场确认；延期交付的风险也要讲清"))
    closed_case(session_factory, sc, at=at, reasons=["funds_shortfall"],
                archive=("年终奖延迟发放，首付不足，转为延期付款。", "宽限期内收取滞纳金"), path="A")
    closed_case(session_factory, other, at=at, reasons=["other"],
                archive=("样板间漏水，延期交付，客户退房。", "无"))

    # a consultant of the first project only
    with session_factory.begin() as s:
        u = User(username=f"kb-sales-{uuid.uuid4().hex[:6]}", display_name="顾问", role="sales",
                 password_hash=hash_password(TEST_PASSWORD))
        s.add(u)
        s.flush()
        grant(s, u.id, "sales", project_id=sc.project_id)
    scoped = Api(api.http, {"sales": u})

    r = await scoped.get("sales", "/api/knowledge/search", params={"q": "延期交付"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["terms"] == ["延期交付"]
    assert {h["project_id"] for h in body["items"]} == {sc.project_id}
    ids = [h["case_id"] for h in body["items"]]
    assert ids[:2] == [str(delayed), str(family)]  # twice in the first (summary and lessons), once in the second
    first = body["items"][0]
    assert first["case_no"] == delayed_no and first["path"] == "B" and "延期交付" in first["snippet"]

    # every word must be there; the reason and the path are searchable words too
    r = await scoped.get("sales", "/api/knowledge/search", params={"q": "延期交付 户型"})
    assert [h["case_id"] for h in r.json()["items"]] == [str(family)]
    r = await scoped.get("sales", "/api/knowledge/search", params={"q": "家庭意见不统一"})
    assert [h["case_id"] for h in r.json()["items"]] == [str(family)]
    r = await scoped.get("sales", "/api/knowledge/search", params={"q": delayed_no})
    assert [h["case_id"] for h in r.json()["items"]] == [str(delayed)]
    r = await scoped.get("sales", "/api/knowledge/search", params={"q": "的 了"})
    assert r.json()["terms"] == [] and r.json()["items"] == []

    # a group-wide reader sees the other project's case too
    r = await api.get("manager", "/api/knowledge/search", params={"q": "漏水 延期交付"})
    assert [h["project_id"] for h in r.json()["items"]] == [other.project_id]

    # the retention sweep blanks an archive's text: it is not found by it from that commit on
    with session_factory.begin() as s:
        s.execute(update(KnowledgeBaseEntry).where(KnowledgeBaseEntry.case_id == delayed).values(body=""))
    r = await scoped.get("sales", "/api/knowledge/search", params={"q": "七成"})
    assert r.json()["items"] == []


# ---- 话术 -----------------------------------------------------------------------------------------------


async def test_scripts_are_written_approved_by_another_person_suggested_and_marked(api, factory, session_factory):
    sc = factory.scenario(users=api.users)
    case_id, _ = closed_case(session_factory, sc, at=now_utc(), reasons=["funds_shortfall"], words="年终奖还没发")
    other_case, _ = closed_case(session_factory, sc, at=now_utc(), reasons=["competitor_comparison"])

    body = {"title": "资金未到位", "body": "我们理解您的资金安排，首次延期付款可宽限 7-10 天。",
            "reason_codes": ["funds_shortfall"], "keywords": ["延期付款", "年终奖"], "project_id": sc.project_id}
    r = await api.post("marketing", "/api/scripts", json=body)
    assert r.status_code == 201, r.text
    script = r.json()
    assert script["status"] == "draft" and script["author_role"] == "marketing"
    assert (await api.post("sales", "/api/scripts", json=body)).status_code == 403  # sales do not write

    # the author may not approve; nor may a role outside marketing / legal; another marketing or legal person may
    assert (await api.post("marketing", f"/api/scripts/{script['id']}/approve")).status_code == 403
    assert (await api.post("manager", f"/api/scripts/{script['id']}/approve")).status_code == 403
    # drafts are not suggested, nor shown to those who do not write
    r = await api.get("frontdesk", f"/api/refund-cases/{case_id}/script-suggestions")
    assert r.status_code == 200 and r.json() == []
    assert all(s["id"] != script["id"] for s in (await api.get("frontdesk", "/api/scripts")).json())
    r = await api.post("legal", f"/api/scripts/{script['id']}/approve")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["approver"] == "legal"
    assert (await api.post("legal", f"/api/scripts/{script['id']}/approve")).status_code == 409

    # suggested by the case's intake reasons; by the reasons on the form when they are given
    r = await api.get("frontdesk", f"/api/refund-cases/{case_id}/script-suggestions")
    assert [(x["script"]["id"], x["score"], x["my_mark"]) for x in r.json()] == [(script["id"], 3, None)]  # reason + 年终奖
    r = await api.get("frontdesk", f"/api/refund-cases/{other_case}/script-suggestions")
    assert r.json() == []
    r = await api.get("frontdesk", f"/api/refund-cases/{other_case}/script-suggestions",
                      params={"reasons": ["funds_shortfall"]})
    assert [x["script"]["id"] for x in r.json()] == [script["id"]]

    # used / helpful, once per person and case; the library counts them
    url = f"/api/refund-cases/{case_id}/script-marks"
    assert (await api.post("frontdesk", url, json={"script_id": script["id"]})).status_code == 200
    assert (await api.post("frontdesk", url, json={"script_id": script["id"], "helpful": True})).status_code == 200
    assert (await api.post("sales", url, json={"script_id": script["id"], "helpful": False})).status_code == 200
    assert (await api.post("sales", f"/api/refund-cases/{other_case}/script-marks",
                           json={"script_id": script["id"], "helpful": True})).status_code == 200
    assert (await api.post("sales", url, json={"script_id": script["id"], "used": False, "helpful": True})).status_code == 422
    r = await api.get("frontdesk", f"/api/refund-cases/{case_id}/script-suggestions")
    assert r.json()[0]["my_mark"] == "helpful"
    listed = {s["id"]: s for s in (await api.get("marketing", "/api/scripts")).json()}
    assert {k: listed[script["id"]][k] for k in ("used", "helpful", "not_helpful", "cases")} == {
        "used": 3, "helpful": 2, "not_helpful": 1, "cases": 2}

    # a change needs approval again (by someone other than the editor)
    r = await api.http.put(f"/api/scripts/{script['id']}", headers=await api.as_("legal"), json={**body, "body": "改过的话术"})
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["author_role"] == "legal"
    assert (await api.post("legal", f"/api/scripts/{script['id']}/approve")).status_code == 403
    assert (await api.post("marketing", f"/api/scripts/{script['id']}/approve")).status_code == 200
    r = await api.post("marketing", f"/api/scripts/{script['id']}/retire")
    assert r.json()["status"] == "retired"
    r = await api.get("frontdesk", f"/api/refund-cases/{case_id}/script-suggestions")
    assert r.json() == []
