"""Records retention (PIPL): a closed case past retain_until loses its personal data in the daily sweep — its
customer's record too when nothing of theirs is still live — and keeps what statistics need; a legal hold keeps
it whole until lifted; a second run changes nothing; two runs at once share the work. On the real PostgreSQL;
the schedule on the real dev server. (`closed_case` makes a closed case with personal data everywhere a case
holds it; the legal-hold and workflow tests use it too.)"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from config.settings import get_settings
from db.customer_models import CustomerCoParty, CustomerVisit
from db.evidence import evidence_path
from db.evidence_models import CaseEvidence
from db.models import (
    Building,
    CaseEvent,
    Customer,
    IntakeForm,
    KnowledgeBaseEntry,
    RefundCase,
    RefundInstruction,
    RegionalBrief,
    Subscription,
    Unit,
    UnitState,
)
from db.notice_models import Notice, Reminder
from db.retention import ANONYMISED_TAG, ERASED_FILE_NAME, anonymise_due, lift_hold, set_hold
from domain.notify import render
from tests.factories import Scenario, cipher

# What the buyer said, typed by staff, in every free-text place a case has: none of it may survive.
SAID = "张三说妻子不同意"
BANK_REF = "ICBC-20241203-778812"
FILE_NAME = "张三身份证正面.jpg"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class ClosedCase:
    case_id: uuid.UUID
    case_no: str
    customer_id: int
    project_id: int
    scenario: Scenario
    evidence_file: Path | None


def closed_case(factory, session_factory, *, retain_until: datetime, data_dir: Path | None = None,
                sc: Scenario | None = None, users: dict | None = None) -> ClosedCase:
    """A refund case closed two years before `retain_until` (path B, refund paid), with the buyer's words in its
    intake form, events, assessments, options, outcome, archive and brief, an evidence file (on disk under
    `data_dir` when given), a paid refund instruction, a notice and a reminder naming the customer; its customer
    has a co-resident and an old visit with a note. Written directly: the workflow's own tests cover how a case
    gets there."""
    sc = sc or factory.scenario(users=users)
    fd, fin = sc.users["frontdesk"], sc.users["finance"]
    closed_at = retain_until - timedelta(days=731)
    registered = closed_at - timedelta(days=2)
    case_id = uuid.uuid4()
    case_no = f"RF{registered:%Y%m%d}-{case_id.hex[:6].upper()}"
    with session_factory.begin() as s:
        s.add(RefundCase(
            id=case_id, case_no=case_no, project_id=sc.project_id, unit_id=sc.unit_id, subscription_id=sc.subscription_id,
            customer_id=sc.customer_id, registered_by=fd.id, registered_at=registered, workflow_id=f"refund-test-{case_id}",
            policy_version="test", stage="closed", escalation_level=0, needs_gm=False, escalation_reasons=[],
            deadlines={}, assessments={"finance": {"by": fin.username, "note": SAID, "loss": {"total": "1200.00"},
                                                   "proposed_share": "0.7"}},
            options=[{"kind": "A", "description": f"挽留{SAID}", "compensation": "3000.00"},
                     {"kind": "B", "description": "按政策退款", "refund_amount": "35000.00"}],
            chosen_option="B",
            outcome={"path": "B", "refund_amount": "35000.00",
                     "refund_paid": {"amount": "35000.00", "paid_on": closed_at.date().isoformat(), "bank_reference": BANK_REF}},
            loss_total=Decimal("1200.00"), refund_amount=Decimal("35000.00"), closed_at=closed_at, retain_until=retain_until,
        ))
        s.flush()
        s.execute(update(Subscription).where(Subscription.id == sc.subscription_id).values(status="cancelled"))
        s.add(IntakeForm(case_id=case_id, reasons=["family_disagreement"], reason_text=SAID, willing_to_consider="no",
                         id_verified=True, phone_verified=True, recording_ref="rec://2024/zhangsan-intake.mp3",
                         submitted_by=fd.id, submitted_at=registered))
        for key, kind, actor, detail in (
            ("intake", "intake", fd.username, {"reasons": ["family_disagreement"], "willing_to_consider": "no"}),
            ("assessment:finance", "assessment", fin.username, {"by": fin.username, "note": SAID,
                                                                  "loss": {"total": "1200.00"}}),
            ("refund_paid:1", "refund_paid", fin.username, {"amount": "35000.00", "bank_reference": BANK_REF}),
            ("review_meeting:1", "review_meeting", fd.username, {"attendees": ["frontdesk"], "minutes": SAID}),
            ("evidence:1", "evidence_uploaded", fd.username, {"evidence_id": 0, "filename": FILE_NAME, "size_bytes": 68}),
            ("archive", "archive", fd.username, {"summary": SAID, "lessons": "签约前确认家庭意见"}),
        ):
            s.add(CaseEvent(case_id=case_id, event_key=key, kind=kind, actor=actor, at=registered, detail=detail))
        ev = CaseEvidence(case_id=case_id, filename=FILE_NAME, content_type="image/jpeg", size_bytes=len(JPEG),
                          sha256="ab" * 32, stored_name=f"{uuid.uuid4().hex}.jpg", uploaded_by=fd.id,
                          uploaded_at=registered, note=SAID)
        s.add(ev)
        s.flush()
        path = None
        if data_dir is not None:
            path = evidence_path(data_dir, ev)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(JPEG)
        s.add(RefundInstruction(case_id=case_id, customer_id=sc.customer_id, amount=Decimal("35000.00"),
                                share=Decimal("0.7"), route="B", policy_version="test", status="paid",
                                paid_amount=Decimal("35000.00"), paid_on=closed_at.date(), bank_reference=BANK_REF,
                                paid_by=fin.id, paid_recorded_at=closed_at))
        facts = {"case_no": case_no, "unit": "1203", "customer": "测**", "stage": "intake",
                 "due_at": registered.isoformat()}
        title, body = render("task_opened", facts, "zh-CN", registered)
        s.add(Notice(notice_key=f"test:{case_id}", kind="task_opened", project_id=sc.project_id, case_id=case_id,
                     role="frontdesk", title=title, body=body, params=facts, created_at=registered))
        s.add(Reminder(reminder_key=f"test:{case_id}", source="task", source_id=1, project_id=sc.project_id,
                       role="frontdesk", point=50, fire_at=registered, due_at=registered, params={**facts, "point": 50},
                       case_id=case_id, status="cancelled"))
        s.add(KnowledgeBaseEntry(case_id=case_id, title=f"退房案件 {case_no} (路径 B)",
                                 body=f"{SAID}\n\n复盘要点: 签约前确认家庭意见", tags=["退房", "路径B"]))
        s.add(RegionalBrief(case_id=case_id, body={"case_no": case_no, "path": "B", "reasons": ["family_disagreement"],
                                                   "loss_total": "1200.00", "refund_amount": "35000.00", "summary": SAID}))
        s.add(CustomerCoParty(customer_id=sc.customer_id, relation="co_resident", name="李四"))
        s.add(CustomerVisit(customer_id=sc.customer_id, visited_at=registered - timedelta(days=30), group_size=2,
                            note=f"{SAID}，带妻子来看房", recorded_by=sc.users["sales"].id))
    return ClosedCase(case_id, case_no, sc.customer_id, sc.project_id, sc, path)


def everything_about(session_factory, c: ClosedCase) -> str:
    """Every row the case and its customer have, as one text: for looking for what should be gone."""
    with session_factory() as s:
        rows = [
            s.get(RefundCase, c.case_id), s.get(IntakeForm, c.case_id), s.get(Customer, c.customer_id),
            *s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.case_id)),
            *s.scalars(select(CaseEvidence).where(CaseEvidence.case_id == c.case_id)),
            *s.scalars(select(RefundInstruction).where(RefundInstruction.case_id == c.case_id)),
            *s.scalars(select(Notice).where(Notice.case_id == c.case_id)),
            *s.scalars(select(Reminder).where(Reminder.case_id == c.case_id)),
            *s.scalars(select(KnowledgeBaseEntry).where(KnowledgeBaseEntry.case_id == c.case_id)),
            *s.scalars(select(RegionalBrief).where(RegionalBrief.case_id == c.case_id)),
            *s.scalars(select(CustomerCoParty).where(CustomerCoParty.customer_id == c.customer_id)),
            *s.scalars(select(CustomerVisit).where(CustomerVisit.customer_id == c.customer_id)),
        ]
    return json.dumps([{k: v for k, v in vars(r).items() if not k.startswith("_")} for r in rows if r is not None],
                      ensure_ascii=False, default=str)


def sweep(session_factory, data_dir: Path, *, now: datetime | None = None, limit: int = 200):
    with session_factory.begin() as s:
        return anonymise_due(s, now=now or datetime.now(timezone.utc), cipher=cipher(), data_dir=data_dir, limit=limit)


def swept_until_done(session_factory, data_dir: Path) -> list:
    """Batches until none is left (other tests' due cases included): every case anonymised."""
    done = []
    while (r := sweep(session_factory, data_dir)).cases or r.held:
        done += r.cases
    return done


def anonymised_event(session_factory, case_id: uuid.UUID) -> CaseEvent | None:
    with session_factory() as s:
        return s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "anonymised"))


def second_active_subscription(session_factory, sc: Scenario) -> int:
    """The same customer buys another unit of the project."""
    with session_factory.begin() as s:
        b = s.scalar(select(Building).join(Unit, Unit.building_id == Building.id).where(Unit.id == sc.unit_id))
        u = Unit(project_id=sc.project_id, building_id=b.id, code="0808", floor=8, layout="两室",
                 gross_area=Decimal("80.00"), unit_price=Decimal("20000"), total_price=Decimal("1600000"),
                 state=UnitState.SUBSCRIBED)
        s.add(u)
        s.flush()
        sub = Subscription(unit_id=u.id, customer_id=sc.customer_id, consultant_id=sc.users["sales"].id,
                           price=Decimal("1600000"), deposit_amount=Decimal("50000"), deposit_kind="定金",
                           paid_amount=Decimal("50000"), stage="deposit_paid", status="active")
        s.add(sub)
        s.flush()
        return sub.id


PAST = timedelta(days=1)


def test_scrub_removes_what_people_typed_at_any_depth_and_keeps_codes_figures_and_the_systems_words():
    from db.retention import scrub

    outcome = {"path": "legal", "reason": "the buyer refused every offer", "rounds": 2,
               "refund_paid": {"amount": "100.00", "bank_reference": BANK_REF}}
    assert scrub(outcome) == ({"path": "legal", "reason": "the buyer refused every offer", "rounds": 2,
                               "refund_paid": {"amount": "100.00"}}, 1)
    four_eyes = {"task": "gm_approval", "reason": "every citygm who may decide this case registered or assessed it (four eyes)"}
    assert scrub(four_eyes) == (four_eyes, 0)
    assert scrub([{"kind": "A", "description": SAID}, {"note": ""}]) == ([{"kind": "A"}, {"note": ""}], 1)
    assert scrub({"reasons": ["family_disagreement"], "withdrawal": {"reason": SAID}}) == (
        {"reasons": ["family_disagreement"], "withdrawal": {}}, 1)


def test_a_closed_case_past_retain_until_loses_its_personal_data_and_keeps_its_figures(factory, session_factory, tmp_path):
    c = closed_case(factory, session_factory, retain_until=datetime.now(timezone.utc) - PAST, data_dir=tmp_path)
    assert SAID in everything_about(session_factory, c) and c.evidence_file.is_file()
    done = {d.case_id: d for d in swept_until_done(session_factory, tmp_path)}
    assert c.case_id in done

    text = everything_about(session_factory, c)
    for personal in (SAID, "张三", BANK_REF, FILE_NAME, "测**", "测试客户", "李四", "zhangsan", c.scenario.id_number,
                     c.scenario.mobile):
        assert personal not in text, f"{personal!r} survived the anonymisation"
    assert not c.evidence_file.exists() and not c.evidence_file.parent.exists()
    with session_factory() as s:
        case = s.get(RefundCase, c.case_id)
        intake = s.get(IntakeForm, c.case_id)
        customer = s.get(Customer, c.customer_id)
        ev = s.scalar(select(CaseEvidence).where(CaseEvidence.case_id == c.case_id))
        instruction = s.scalar(select(RefundInstruction).where(RefundInstruction.case_id == c.case_id))
        brief = s.scalar(select(RegionalBrief).where(RegionalBrief.case_id == c.case_id))
        notice = s.scalar(select(Notice).where(Notice.case_id == c.case_id))
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == c.case_id).order_by(CaseEvent.id)).all()
        visit = s.scalar(select(CustomerVisit).where(CustomerVisit.customer_id == c.customer_id))
    # What statistics need stays: amounts, dates, stage, path, reason codes, the events' kinds and people.
    assert case.anonymised_at is not None and case.stage == "closed" and case.closed_at and case.retain_until
    assert case.refund_amount == Decimal("35000.00") and case.loss_total == Decimal("1200.00")
    assert case.outcome["path"] == "B" and case.outcome["refund_paid"]["amount"] == "35000.00"
    assert case.assessments["finance"]["loss"] == {"total": "1200.00"} and case.assessments["finance"]["by"]
    assert [o["kind"] for o in case.options] == ["A", "B"] and case.chosen_option == "B"
    assert intake.reasons == ["family_disagreement"] and intake.willing_to_consider == "no" and intake.id_verified
    assert kinds == ["intake", "assessment", "refund_paid", "review_meeting", "evidence_uploaded", "archive", "anonymised"]
    assert (ev.filename, ev.sha256, ev.note, ev.size_bytes, ev.content_type) == (ERASED_FILE_NAME, "", None, len(JPEG), "image/jpeg")
    assert instruction.amount == Decimal("35000.00") and instruction.paid_on and instruction.bank_reference is None
    assert brief.body["loss_total"] == "1200.00" and brief.body["reasons"] == ["family_disagreement"]
    assert notice.params["case_no"] == c.case_no and "customer" not in notice.params and c.case_no in notice.title
    # The customer had nothing else: the record stays (statistics count it) without who they are.
    assert (customer.name, customer.id_number_masked, customer.mobile_masked) == ("", "", "")
    assert customer.id_number_bidx == "" and customer.mobile_bidx == "" and ANONYMISED_TAG in customer.tags
    assert cipher().decrypt(customer.id_number_enc) == "" and cipher().decrypt(customer.mobile_enc) == ""
    assert visit is not None and visit.note == "" and visit.group_size == 2
    # The event lists what went, as counts, never values.
    detail = anonymised_event(session_factory, c.case_id).detail
    assert detail["customer"] == "erased"
    assert detail["removed"] == {"archive_texts": 2, "case_texts": 4, "event_texts": 6, "evidence_files": 1,
                                 "intake_texts": 1, "notices": 1, "refund_bank_details": 1, "reminders": 1}
    assert detail["customer_removed"] == {"co_parties": 1, "contact_notes": 1, "name_id_mobile": 1}
    assert all(isinstance(v, int) for v in [*detail["removed"].values(), *detail["customer_removed"].values()])


def test_a_customer_who_still_buys_from_us_keeps_their_record(factory, session_factory, tmp_path):
    c = closed_case(factory, session_factory, retain_until=datetime.now(timezone.utc) - PAST, data_dir=tmp_path)
    second_active_subscription(session_factory, c.scenario)
    swept_until_done(session_factory, tmp_path)
    with session_factory() as s:
        case = s.get(RefundCase, c.case_id)
        customer = s.get(Customer, c.customer_id)
        intake = s.get(IntakeForm, c.case_id)
        co_parties = s.scalar(select(func.count()).select_from(CustomerCoParty).where(CustomerCoParty.customer_id == c.customer_id))
    assert case.anonymised_at is not None and intake.reason_text == ""  # the case's own data went
    assert customer.name == "测试客户" and customer.id_number_masked and customer.mobile_masked and customer.id_number_bidx
    assert ANONYMISED_TAG not in customer.tags and co_parties == 1
    detail = anonymised_event(session_factory, c.case_id).detail
    assert detail["customer"] == "kept" and detail["customer_kept_because"] == ["active_subscription"]
    assert "customer_removed" not in detail


def test_a_customer_with_another_case_still_within_retention_keeps_their_record_until_it_expires(
        factory, session_factory, tmp_path):
    now = datetime.now(timezone.utc)
    old = closed_case(factory, session_factory, retain_until=now - PAST, data_dir=tmp_path)
    sub2 = second_active_subscription(session_factory, old.scenario)
    sc2 = Scenario(old.scenario.project_id, old.scenario.unit_id, old.customer_id, sub2, old.scenario.users,
                   old.scenario.id_number, old.scenario.mobile)
    recent = closed_case(factory, session_factory, retain_until=now + timedelta(days=300), sc=sc2)
    swept_until_done(session_factory, tmp_path)
    assert "case_not_past_retention" in anonymised_event(session_factory, old.case_id).detail["customer_kept_because"]
    assert anonymised_event(session_factory, recent.case_id) is None
    with session_factory() as s:
        assert s.get(Customer, old.customer_id).name == "测试客户"


def test_a_held_case_is_kept_and_lifting_the_hold_lets_the_next_run_anonymise_it(factory, session_factory, tmp_path):
    now = datetime.now(timezone.utc)
    c = closed_case(factory, session_factory, retain_until=now - PAST, data_dir=tmp_path)
    legal = c.scenario.users["legal"]
    with session_factory.begin() as s:
        set_hold(s, case_id=c.case_id, reason="（2026）浙0106民初1234号 诉讼", actor=legal, now=now)
    swept_until_done(session_factory, tmp_path)
    assert SAID in everything_about(session_factory, c) and c.evidence_file.is_file()
    with session_factory() as s:
        assert s.get(RefundCase, c.case_id).anonymised_at is None
    with session_factory.begin() as s:
        lift_hold(s, case_id=c.case_id, reason="判决已生效，案件终结", actor=legal, now=now)
    swept_until_done(session_factory, tmp_path)
    assert SAID not in everything_about(session_factory, c) and not c.evidence_file.exists()
    with session_factory() as s:
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == c.case_id).order_by(CaseEvent.id)).all()
        hold_events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.case_id,
                                                        CaseEvent.kind.like("legal_hold_%"))).all()
    assert kinds[-3:] == ["legal_hold_set", "legal_hold_lifted", "anonymised"]
    assert [e.detail["reason"] for e in hold_events] == ["（2026）浙0106民初1234号 诉讼", "判决已生效，案件终结"]


def test_a_second_run_changes_nothing(factory, session_factory, tmp_path):
    c = closed_case(factory, session_factory, retain_until=datetime.now(timezone.utc) - PAST, data_dir=tmp_path)
    swept_until_done(session_factory, tmp_path)
    before = everything_about(session_factory, c)
    again = sweep(session_factory, tmp_path)
    assert c.case_id not in {d.case_id for d in again.cases}
    assert everything_about(session_factory, c) == before
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == c.case_id, CaseEvent.kind == "anonymised")) == 1


def test_a_case_not_yet_past_retain_until_is_untouched(factory, session_factory, tmp_path):
    c = closed_case(factory, session_factory, retain_until=datetime.now(timezone.utc) + timedelta(hours=1),
                    data_dir=tmp_path)
    before = everything_about(session_factory, c)
    swept_until_done(session_factory, tmp_path)
    assert everything_about(session_factory, c) == before and c.evidence_file.is_file()
    assert anonymised_event(session_factory, c.case_id) is None


def test_two_sweeps_at_once_share_the_work_and_do_it_once(factory, session_factory, tmp_path):
    now = datetime.now(timezone.utc)
    # Long past retention: these come first in the sweep's order (retain_until), before any other test's.
    cases = [closed_case(factory, session_factory, retain_until=now - timedelta(days=4000), data_dir=tmp_path)
             for _ in range(3)]
    ours = {c.case_id for c in cases}
    first = session_factory()
    try:
        with first.begin():
            r1 = anonymise_due(first, now=now, cipher=cipher(), data_dir=tmp_path, limit=2)
            taken = {d.case_id for d in r1.cases} & ours
            # The first batch holds its rows: the second takes only the rest, without waiting for them.
            r2 = sweep(session_factory, tmp_path, now=now)
            assert taken and not taken & {d.case_id for d in r2.cases}
    finally:
        first.close()
    swept_until_done(session_factory, tmp_path)
    with session_factory() as s:
        counts = dict(s.execute(select(CaseEvent.case_id, func.count()).where(
            CaseEvent.case_id.in_(ours), CaseEvent.kind == "anonymised").group_by(CaseEvent.case_id)).all())
    assert counts == {i: 1 for i in ours}


def test_a_hold_on_an_anonymised_case_is_refused(factory, session_factory, tmp_path):
    from db.errors import Conflict

    c = closed_case(factory, session_factory, retain_until=datetime.now(timezone.utc) - PAST)
    swept_until_done(session_factory, tmp_path)
    with session_factory.begin() as s, pytest.raises(Conflict, match="anonymised"):
        set_hold(s, case_id=c.case_id, reason="来迟了", actor=c.scenario.users["legal"], now=datetime.now(timezone.utc))


@pytest.fixture
def cli_env(monkeypatch, pg_url, tmp_path):
    """scripts.anonymise reads its settings from the environment: the tests' database and a data folder of
    their own."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()


def test_ops_runs_the_sweep_by_hand_and_sees_what_it_did(factory, session_factory, cli_env):
    from scripts.anonymise import main

    now = datetime.now(timezone.utc)
    due = closed_case(factory, session_factory, retain_until=now - PAST, data_dir=cli_env)
    held = closed_case(factory, session_factory, retain_until=now - PAST)
    with session_factory.begin() as s:
        set_hold(s, case_id=held.case_id, reason="监管问询 2026-17", actor=held.scenario.users["legal"], now=now)

    out = io.StringIO()
    assert main(["--dry-run"], out=out) == 0
    text = out.getvalue()
    assert f"due   {due.case_no}" in text and f"held  {held.case_no}" in text and "监管问询 2026-17" in text
    assert SAID in everything_about(session_factory, due)  # a dry run changes nothing

    out = io.StringIO()
    assert main(["--batch", "2"], out=out) == 0
    text = out.getvalue()
    line = next(x for x in text.splitlines() if due.case_no in x)
    assert line.startswith(f"  done  {due.case_no}: ") and "evidence_files 1" in line and "customer record erased" in line
    assert f"held  {held.case_no}" in text and "case(s) anonymised" in text
    assert SAID not in everything_about(session_factory, due) and SAID in everything_about(session_factory, held)


async def test_the_worker_creates_the_daily_retention_schedule_once_and_moves_it_to_the_hour_set(dev_env):
    from workers.main import ensure_retention_sweep_schedule
    from workflows.retention_sweep import RETENTION_SWEEP_SCHEDULE_ID

    queue = f"schedule-test-{uuid.uuid4().hex}"
    handle = dev_env.client.get_schedule_handle(RETENTION_SWEEP_SCHEDULE_ID)
    try:
        await ensure_retention_sweep_schedule(dev_env.client, queue, 3)
        await ensure_retention_sweep_schedule(dev_env.client, queue, 3)  # idempotent
        desc = await handle.describe()
        assert desc.schedule.action.workflow == "RetentionSweepWorkflow"
        assert [[r.start for r in c.hour] for c in desc.schedule.spec.calendars] == [[19]]  # 03:00 in China is 19:00 UTC
        await handle.pause(note="ops paused it")
        await ensure_retention_sweep_schedule(dev_env.client, queue, 2)  # ANONYMISE_AT_HOUR changed
        desc = await handle.describe()
        assert [[r.start for r in c.hour] for c in desc.schedule.spec.calendars] == [[18]]
        assert desc.schedule.state.paused  # ops' pause stays
    finally:
        await handle.delete()


def test_the_action_names_the_same_roles_as_the_routes():
    from api.routes.legal_holds import VIEWERS
    from domain.permissions import ACTIONS

    assert set(ACTIONS["legal_holds"]) == set(VIEWERS)

