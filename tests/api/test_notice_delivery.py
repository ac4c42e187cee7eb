"""Notices that reach people: my settings (e-mail, language, quiet hours) refused with reasons when wrong; an
e-mail in my language on a local SMTP server; quiet hours hold back what can wait and not a breach; a burst to
a robot goes as one message; reminders on a task's clock reach whoever holds it and stop when it is done;
claims and hand-overs are told; the clocks of the sales records get their reminders."""

from __future__ import annotations

import email
import email.policy
import random
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db.models import Subscription, User
from db.notice_models import Notice, NoticeDelivery, NotificationPrefs, ProjectRobot, Reminder
from db.notices import write_notice
from tests.api.test_dispatcher import Clock, run_due
from tests.api.test_notifications_api import mine, office  # noqa: F401  (fixture)
from tests.factories import cipher
from tests.robot_server import base_url, no_proxy, robot, robot_server  # noqa: F401  (fixtures)
from tests.unit.test_channels import sender_for, smtp  # noqa: F401  (fixture)
from workers.dispatcher import Dispatcher


def dispatcher(session_factory, clock, mailer=None) -> Dispatcher:
    return Dispatcher(session_factory, cipher(), base_url="https://ef.example", mailer=mailer, timeout=0.5, now=clock,
                      rng=random.Random(1))


async def put_settings(api, who: str, body: dict):
    return await api.http.put("/api/me/notification-settings", headers=await api.as_(who), json=body)


@pytest.mark.parametrize("body, field, words", [
    ({"email": "not-an-address", "channels": ["inapp"]}, "body.email", "is not an e-mail address"),
    ({"channels": ["inapp", "email"]}, "body.email", "give an e-mail address"),
    ({"quiet_start": "22:00"}, "body.quiet_end", "need both a start and an end"),
    ({"quiet_start": "22:00", "quiet_end": "22:00"}, "body.quiet_end", "cannot start and end at the same time"),
])
async def test_wrong_settings_are_refused_with_the_field_and_a_reason(office, body, field, words):
    sc, api = office
    r = await put_settings(api, "fd1", body)
    assert r.status_code == 422 and words in r.json()["message"]
    assert field in [e["field"] for e in r.json()["errors"]]
    assert (await api.get("fd1", "/api/me/notification-settings")).json()["channels"] == ["inapp"]  # nothing saved


async def test_an_unknown_channel_or_language_or_a_bad_time_is_a_422(office):
    sc, api = office
    for body in ({"channels": ["pigeon"]}, {"language": "fr"}, {"quiet_start": "25:00", "quiet_end": "08:00"}):
        assert (await put_settings(api, "fd1", body)).status_code == 422


async def test_my_settings_are_saved_and_my_notices_come_in_my_language(office):
    sc, api = office
    r = await put_settings(api, "fd1", {"email": "fd1@office.example", "channels": ["email"], "language": "en",
                                        "quiet_start": "22:00", "quiet_end": "08:00"})
    assert r.status_code == 200, r.text
    assert r.json() == {"email": "fd1@office.example", "channels": ["inapp", "email"], "language": "en",
                        "quiet_start": "22:00", "quiet_end": "08:00"}
    assert (await api.get("fd1", "/api/me/notification-settings")).json() == r.json()
    case = (await api.post("base-manager", "/api/refund-cases", json={"unit_id": sc.unit_id})).json()
    [mine_en] = (await mine(api, "fd1"))["items"]
    [mine_zh] = (await mine(api, "fd2"))["items"]
    assert mine_en["title"] == f"New task: Intake — Case {case['case_no']}" and "left" in mine_en["body"]
    assert mine_zh["title"] == f"新任务：情绪隔离与信息采集 — 案件 {case['case_no']}" and "剩余" in mine_zh["body"]


async def test_an_email_in_the_persons_language_reaches_the_smtp_server(office, session_factory, smtp):
    sc, api = office
    fd1, fd2 = (f"{api.users[k].username}@office.example" for k in ("fd1", "fd2"))
    await put_settings(api, "fd1", {"email": fd1, "channels": ["inapp", "email"], "language": "en"})
    await put_settings(api, "fd2", {"email": fd2, "channels": ["inapp"]})  # an address, no e-mail
    case = (await api.post("base-manager", "/api/refund-cases", json={"unit_id": sc.unit_id})).json()
    clock = Clock()
    run_due(dispatcher(session_factory, clock, mailer=sender_for(smtp.port)))
    [mail] = [m for m in smtp.inbox.mails if m["rcpt_tos"] in ([fd1], [fd2])]  # (other tests' mail may go out too)
    assert mail["rcpt_tos"] == [fd1]
    parsed = email.message_from_bytes(mail["content"], policy=email.policy.default)
    assert parsed["Subject"] == f"New task: Intake — Case {case['case_no']}"
    text = parsed.get_body(("plain",)).get_content()
    assert "https://ef.example/app/#/task/" in text and "left" in text
    assert sc.mobile not in text and sc.id_number not in text
    with session_factory() as s:
        sent = s.scalars(select(NoticeDelivery).where(NoticeDelivery.channel == "email")).all()
    assert [(d.target, d.status) for d in sent if d.user_id in (api.users["fd1"].id, api.users["fd2"].id)] == [
        (f"email:{api.users['fd1'].id}", "sent")]


async def test_quiet_hours_hold_back_what_can_wait_but_not_a_breach(office, session_factory, smtp):
    sc, api = office
    address = f"{api.users['fd1'].username}@office.example"
    await put_settings(api, "fd1", {"email": address, "channels": ["email"], "quiet_start": "22:00", "quiet_end": "08:00"})
    night = datetime(2026, 12, 3, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    with session_factory.begin() as s:
        calm = write_notice(s, key="quiet:calm", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                            params={"stage": "intake", "case_no": "RF-Q1"}, at=night)
        loud = write_notice(s, key="quiet:loud", kind="sla_breach", project_id=sc.project_id, role="frontdesk",
                            params={"stage": "intake", "case_no": "RF-Q2"}, at=night)
    clock = Clock()
    clock.at = night
    run_due(dispatcher(session_factory, clock, mailer=sender_for(smtp.port)))
    with session_factory() as s:
        mail = {d.notice_id: d for d in s.scalars(select(NoticeDelivery).where(
            NoticeDelivery.notice_id.in_([calm, loud]), NoticeDelivery.channel == "email"))}
    assert mail[loud].status == "sent" and [m["rcpt_tos"] for m in smtp.inbox.mails].count([address]) == 1
    assert mail[calm].status == "pending" and mail[calm].attempts == 0
    assert mail[calm].next_attempt_at == datetime(2026, 12, 4, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    clock.at = mail[calm].next_attempt_at
    run_due(dispatcher(session_factory, clock, mailer=sender_for(smtp.port)))
    assert [m["rcpt_tos"] for m in smtp.inbox.mails].count([address]) == 2


def add_robot(session_factory, project_id: int, url: str, by: int) -> int:
    with session_factory.begin() as s:
        r = ProjectRobot(project_id=project_id, kind="wecom", name="案场群", webhook_enc=cipher().encrypt(url),
                         webhook_masked="x", notice_kinds=[], created_by=by)
        s.add(r)
        s.flush()
        return r.id


def test_a_burst_goes_to_the_robot_as_one_message_and_the_pace_holds(office, session_factory, robot, base_url, no_proxy):
    sc, api = office
    rid = add_robot(session_factory, sc.project_id, f"{base_url}/send?key=k", api.users["fd1"].id)
    now = datetime.now(timezone.utc)
    with session_factory.begin() as s:
        ids = [write_notice(s, key=f"burst:{rid}:{i}", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                            params={"stage": "intake", "case_no": f"RF-B{i}"}, link=f"/task/{i}", at=now)
               for i in range(5)]
    clock = Clock()
    run_due(dispatcher(session_factory, clock))
    [message] = robot.received
    content = message.body["markdown"]["content"]
    assert all(f"RF-B{i}" in content and f"https://ef.example/app/#/task/{i}" in content for i in range(5))
    with session_factory() as s:
        keys = {d.message_key for d in s.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id.in_(ids),
                                                                             NoticeDelivery.target == f"robot:{rid}"))}
    assert len(keys) == 1 and next(iter(keys)).startswith("batch-")
    # A second later the next message may go; 19 more fill the robot's 20 a minute; the 21st waits for the
    # first to be a minute old. Within the second after a message, a new notice waits for the gap.
    first = clock.at
    with session_factory.begin() as s:
        early = write_notice(s, key=f"pace:{rid}:early", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                             params={"stage": "intake"}, at=now)
    run_due(dispatcher(session_factory, clock))
    with session_factory() as s:
        d = s.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == early, NoticeDelivery.channel == "wecom")).one()
    assert d.status == "pending" and d.next_attempt_at == first + timedelta(seconds=1)
    for i in range(19):
        clock.at += timedelta(seconds=1.1)
        if i:
            with session_factory.begin() as s:
                write_notice(s, key=f"pace:{rid}:{i}", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                             params={"stage": "intake"}, at=now)
        run_due(dispatcher(session_factory, clock))
    assert len(robot.received) == 20
    clock.at += timedelta(seconds=1.1)
    with session_factory.begin() as s:
        late = write_notice(s, key=f"pace:{rid}:late", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                            params={"stage": "intake"}, at=now)
    run_due(dispatcher(session_factory, clock))
    assert len(robot.received) == 20
    with session_factory() as s:
        d = s.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == late, NoticeDelivery.channel == "wecom")).one()
    assert d.status == "pending" and d.next_attempt_at == first + timedelta(minutes=1)


def test_a_long_burst_is_split_so_that_no_message_is_cut(office, session_factory, robot, base_url, no_proxy):
    """Long titles: each message stays within WeCom's 4,096 bytes (a longer one is cut, losing notices at its
    end), the rest follow a second apart, and every notice arrives."""
    sc, api = office
    rid = add_robot(session_factory, sc.project_id, f"{base_url}/send?key=long", api.users["fd1"].id)
    now = datetime.now(timezone.utc)
    with session_factory.begin() as s:
        for i in range(20):
            write_notice(s, key=f"long:{rid}:{i}", kind="followup_action", project_id=sc.project_id, role="frontdesk",
                         title=f"L{i:02d} " + "按揭资料待补充，请尽快联系客户" * 8, body="", link=f"/task/{i}", at=now)
    clock = Clock()
    for _ in range(10):
        run_due(dispatcher(session_factory, clock))
        clock.at += timedelta(seconds=1.1)
    contents = [r.body["markdown"]["content"] for r in robot.received if r.query.get("key") == "long"]
    assert len(contents) >= 2 and all(len(c.encode()) <= 4096 for c in contents)
    heard = sorted(n for c in contents for n in set(re.findall(r"L(\d\d) ", c)))  # a batch's title repeats its first
    assert heard == [f"{i:02d}" for i in range(20)]


def reminders_of(session_factory, source: str, source_id: int) -> dict[int, Reminder]:
    with session_factory() as s:
        return {r.point: r for r in s.scalars(select(Reminder).where(Reminder.source == source, Reminder.source_id == source_id))}


async def test_a_tasks_clock_reminds_its_holder_at_half_and_80_per_cent_and_stops_when_done(office, session_factory):
    sc, api = office
    case = (await api.post("base-manager", "/api/refund-cases", json={"unit_id": sc.unit_id})).json()
    task = await api.task("fd1", case["id"], "intake")
    rem = reminders_of(session_factory, "task", task["id"])
    assert set(rem) == {50, 80, 100}
    span = rem[100].fire_at - rem[50].fire_at
    assert timedelta(minutes=14) < span < timedelta(minutes=16)  # 30 minutes: at 15, 24 and 30
    assert (await api.post("fd1", f"/api/tasks/{task['id']}/claim")).status_code == 200
    before = {who: (await mine(api, who))["unread"] for who in ("fd1", "fd2")}
    clock = Clock()
    clock.at = rem[50].fire_at + timedelta(seconds=1)
    run_due(dispatcher(session_factory, clock))
    fd1 = (await mine(api, "fd1"))["items"]
    assert fd1[0]["kind"] == "reminder" and fd1[0]["title"].startswith("提醒：情绪隔离与信息采集 已过 50% 时限")
    assert (await mine(api, "fd2"))["unread"] == before["fd2"]  # the claimant holds it: only they are reminded
    r = await api.complete("fd1", case["id"], "intake", {
        "reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": sc.id_number, "mobile": sc.mobile})
    assert r.status_code == 200, r.text
    clock.at = rem[100].fire_at + timedelta(seconds=1)
    run_due(dispatcher(session_factory, clock))
    rem = reminders_of(session_factory, "task", task["id"])
    assert (rem[50].status, rem[80].status, rem[100].status) == ("fired", "cancelled", "cancelled")
    assert [n["kind"] for n in (await mine(api, "fd1"))["items"]].count("reminder") == 1  # the done task: no more
    assert (await mine(api, "fd1"))["unread"] >= before["fd1"] + 1


async def test_claims_and_hand_overs_are_told(office, session_factory):
    sc, api = office
    case = (await api.post("base-manager", "/api/refund-cases", json={"unit_id": sc.unit_id})).json()
    task = await api.task("fd1", case["id"], "intake")
    assert (await api.post("fd1", f"/api/tasks/{task['id']}/claim")).status_code == 200
    [told] = [n for n in (await mine(api, "fd2"))["items"] if n["kind"] == "task_claimed"]
    assert told["title"].startswith(f"{api.users['fd1'].display_name} 已认领：情绪隔离与信息采集")
    assert not [n for n in (await mine(api, "fd1"))["items"] if n["kind"] == "task_claimed"]  # not to the claimant
    r = await api.post("base-manager", f"/api/tasks/{task['id']}/reassign",
                       json={"user_id": api.users["fd2"].id, "reason": "张在外带看"})
    assert r.status_code == 200, r.text
    [handed] = [n for n in (await mine(api, "fd2"))["items"] if n["kind"] == "task_reassigned"]
    assert "任务转交给你" in handed["title"] and "张在外带看" in handed["body"]
    [lost] = [n for n in (await mine(api, "fd1"))["items"] if n["kind"] == "task_claimed"]
    assert lost["title"].startswith(f"{api.users['fd2'].display_name} 已认领")


def subscribed(factory, session_factory, users) -> int:
    """A unit of a fresh project subscribed through the service, as the API does: its id."""
    from db.models import Unit
    from db.subscriptions import subscribe
    from domain.refund import DepositKind

    [unit_id] = factory.available_units(1)
    with session_factory.begin() as s:
        project_id = s.get(Unit, unit_id).project_id
    customer_id, _, _ = factory.customer(project_id=project_id)
    with session_factory.begin() as s:
        return subscribe(s, unit_id=unit_id, customer_id=customer_id, consultant=s.get(User, users["sales"].id),
                         deposit_kind=DepositKind.DINGJIN, deposit_amount=Decimal("50000"), today=date.today()).id


def test_a_subscriptions_signing_deadline_reminds_the_consultant_and_at_breach_the_manager(factory, session_factory):
    factory.policy()
    users = factory.users()
    sub_id = subscribed(factory, session_factory, users)
    rem = reminders_of(session_factory, "signing", sub_id)
    assert set(rem) == {50, 80, 100} and rem[100].user_id == users["sales"].id and rem[100].params["stage"] == "signing"
    clock = Clock()
    clock.at = rem[100].fire_at + timedelta(seconds=1)
    run_due(dispatcher(session_factory, clock))
    with session_factory() as s:
        got = s.execute(select(Notice.notice_key, NoticeDelivery.user_id).join(Notice).where(
            Notice.notice_key.like(f"reminder:signing:{sub_id}:100%"), NoticeDelivery.channel == "inapp")).all()
    who = {u for _, u in got}
    assert users["sales"].id in who and users["manager"].id in who
    # A subscription cancelled before its deadline is not reminded of.
    sub2 = subscribed(factory, session_factory, users)
    with session_factory.begin() as s:
        s.execute(update(Subscription).where(Subscription.id == sub2).values(status="cancelled"))
    clock.at = reminders_of(session_factory, "signing", sub2)[50].fire_at + timedelta(seconds=1)
    run_due(dispatcher(session_factory, clock))
    assert reminders_of(session_factory, "signing", sub2)[50].status == "cancelled"


def test_an_appointment_is_reminded_a_day_and_an_hour_before(factory, session_factory):
    from db.customers import add_follow_up
    from db.models import Customer

    factory.policy()
    users = factory.users()
    sc = factory.scenario(users=users, deposit=Decimal("50000"))
    at = datetime.now(timezone.utc) + timedelta(days=2)
    with session_factory.begin() as s:
        f = add_follow_up(s, s.get(Customer, sc.customer_id), at=datetime.now(timezone.utc), channel="phone", note="约看房",
                          topics=[], next_appointment_at=at, actor=s.get(User, users["sales"].id))
        fid = f.id
    rem = reminders_of(session_factory, "appointment", fid)
    assert {p: r.fire_at for p, r in rem.items()} == {1440: at - timedelta(days=1), 60: at - timedelta(hours=1)}
    assert rem[60].params["customer"].endswith("*") and rem[60].user_id == users["sales"].id


def test_a_warning_raised_is_told_to_the_role_that_answers_it(factory, session_factory):
    from db.followup_models import WarningRecord
    from db.reminders import notify_warning

    factory.policy()
    users = factory.users()
    sc = factory.scenario(users=users, deposit=Decimal("50000"))
    now = datetime.now(timezone.utc)
    with session_factory.begin() as s:
        w = WarningRecord(warning_key=f"t:{sc.customer_id}:{now.timestamp()}", customer_id=sc.customer_id, case_ref="x",
                          level="red", rules=[], risk_score=90, raised_at=now, response_due=now + timedelta(hours=2),
                          respond_role="manager", escalate_to="citygm")
        s.add(w)
        s.flush()
        notify_warning(s, w, escalated=False, at=now)
        n = s.scalars(select(Notice).where(Notice.notice_key == f"warning_raised:{w.warning_key}")).one()
        people = set(s.scalars(select(NoticeDelivery.user_id).where(NoticeDelivery.notice_id == n.id)))
    assert n.urgent and n.title == "红色预警，请按时响应" and users["manager"].id in people
    assert re.search(r"^.\*+$", n.params["customer"])  # the customer's name masked


async def test_a_dead_letter_is_listed_for_ops_with_the_robots_words_and_can_be_sent_again(
        office, session_factory, robot, base_url, no_proxy):
    sc, api = office
    rid = add_robot(session_factory, sc.project_id, f"{base_url}/send?key=dead", api.users["fd1"].id)
    robot.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    with session_factory.begin() as s:
        write_notice(s, key=f"dead-letter:{rid}", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                     params={"stage": "intake", "case_no": "RF-DL"}, at=datetime.now(timezone.utc))
    run_due(dispatcher(session_factory, Clock()))
    r = await api.get("base-ops", "/api/notice-deliveries/dead", params={"project_id": sc.project_id})
    assert r.status_code == 200, r.text
    [dead] = [d for d in r.json() if d["to"] == "案场群"]
    assert dead["channel"] == "wecom" and "invalid webhook url" in dead["last_error"] and "RF-DL" in dead["title"]
    assert (await api.get("fd1", "/api/notice-deliveries/dead")).status_code == 403  # not for the front desk
    robot.answer = {"errcode": 0, "errmsg": "ok"}  # mended
    r = await api.post("base-ops", f"/api/notice-deliveries/{dead['id']}/retry")
    assert r.status_code == 200, r.text
    assert (await api.post("base-ops", f"/api/notice-deliveries/{dead['id']}/retry")).status_code == 409  # not dead now
    run_due(dispatcher(session_factory, Clock()))
    with session_factory() as s:
        assert s.get(NoticeDelivery, dead["id"]).status == "sent"
