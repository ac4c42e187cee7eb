"""The notice dispatcher against a local robot server and the real database: a task's notice reaches the
project's robot with its link and dedupe key; a robot answering 500, timing out or rate-limiting is retried
with backoff and then delivered; a permanent refusal dead-letters the delivery and tells ops in-app without
holding up other robots; a dispatcher that died after sending and before marking sends once more, with the
same dedupe key. The robot API refuses bad configuration with a reason."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db.notice_models import Notice, NoticeDelivery, ProjectRobot
from db.notices import write_notice
from tests.api.conftest import Api
from tests.factories import cipher
from tests.robot_server import base_url, no_proxy, robot, robot_server  # noqa: F401  (fixtures)
from workers.dispatcher import Dispatcher


@pytest.fixture
def project(factory, session_factory):
    """A project with an ops person (group-wide, from the factory) and nobody else's robots."""
    factory.policy()
    users = factory.users()
    sc = factory.scenario(users=users, deposit=Decimal("50000"))
    return sc, users


def add_robot(session_factory, project_id: int, url: str, kind: str = "wecom", kinds: list[str] | None = None,
              by: int = 1) -> int:
    with session_factory.begin() as s:
        r = ProjectRobot(project_id=project_id, kind=kind, name=f"{kind} 群", webhook_enc=cipher().encrypt(url),
                         webhook_masked="x", secret_enc=None, notice_kinds=kinds or [], created_by=by)
        s.add(r)
        s.flush()
        return r.id


def notice(session_factory, project_id: int, kind: str = "task_opened", title: str = "信息采集 — 案件 RF1") -> int:
    with session_factory.begin() as s:
        return write_notice(s, key=f"t:{uuid.uuid4().hex}", kind=kind, project_id=project_id, role="frontdesk",
                            title=title, body="截止 2026-12-03 10:00", link="/task/1", at=datetime.now(timezone.utc))


def deliveries(session_factory, notice_id: int) -> list[NoticeDelivery]:
    with session_factory() as s:
        return list(s.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id,
                                                           NoticeDelivery.channel != "inapp")))


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.at


def run_due(d: Dispatcher) -> None:
    """Rounds until one takes less than a full batch, as the running dispatcher does with a backlog: the shared
    test database holds earlier tests' due reminders and deliveries, taken oldest first, so one round of 200
    may not reach this test's own."""
    while d.run_once() >= d.batch:
        pass


def dispatcher(session_factory, clock: Clock) -> Dispatcher:
    return Dispatcher(session_factory, cipher(), base_url="https://ef.example", timeout=0.5, now=clock,
                      rng=random.Random(1))


def test_a_notice_reaches_the_projects_robot_with_its_link_and_dedupe_key(project, session_factory, robot, base_url,
                                                                           no_proxy):
    sc, users = project
    add_robot(session_factory, sc.project_id, f"{base_url}/cgi-bin/webhook/send?key=k1", by=users["ops"].id)
    add_robot(session_factory, sc.project_id, f"{base_url}/other?key=k2", kinds=["sla_breach"], by=users["ops"].id)
    nid = notice(session_factory, sc.project_id)
    [d] = deliveries(session_factory, nid)  # the robot for sla_breach only does not get a task notice
    clock = Clock()
    assert dispatcher(session_factory, clock).run_once() >= 1
    [got] = [r for r in robot.received if d.dedupe_key in r.body["markdown"]["content"]]
    content = got.body["markdown"]["content"]
    assert "信息采集 — 案件 RF1" in content and "https://ef.example/app/#/task/1" in content
    assert deliveries(session_factory, nid)[0].status == "sent"
    run_due(dispatcher(session_factory, clock))  # a second round does not send it again
    assert sum(d.dedupe_key in r.body["markdown"]["content"] for r in robot.received) == 1


@pytest.mark.parametrize("failure", [{"status": 500}, {"sleep": 1.0}, {"answer": {"errcode": 45009, "errmsg": "api freq out of limit"}}])
def test_a_passing_failure_is_retried_with_backoff_and_then_delivered(project, session_factory, robot, base_url,
                                                                      no_proxy, failure):
    sc, users = project
    add_robot(session_factory, sc.project_id, f"{base_url}/send?key=k", by=users["ops"].id)
    nid = notice(session_factory, sc.project_id)
    for k, v in failure.items():
        setattr(robot, k, v)
    clock = Clock()
    run_due(dispatcher(session_factory, clock))
    [d] = deliveries(session_factory, nid)
    assert d.status == "pending" and d.attempts == 1 and d.next_attempt_at > clock.at and d.last_error
    robot.status, robot.sleep, robot.answer = 200, 0.0, {"errcode": 0, "errmsg": "ok"}
    run_due(dispatcher(session_factory, clock))  # before the backoff has passed: not tried again
    assert deliveries(session_factory, nid)[0].attempts == 1
    clock.at = d.next_attempt_at + timedelta(seconds=1)  # the backoff has passed
    run_due(dispatcher(session_factory, clock))
    [d] = deliveries(session_factory, nid)
    assert d.status == "sent" and d.attempts == 2


def test_a_permanent_refusal_is_dead_lettered_ops_hears_and_other_robots_still_deliver(project, session_factory, robot,
                                                                                        base_url, no_proxy):
    sc, users = project
    bad = add_robot(session_factory, sc.project_id, f"{base_url}/bad?key=wrong", by=users["ops"].id)
    nid = notice(session_factory, sc.project_id)
    robot.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    run_due(dispatcher(session_factory, Clock()))
    [d] = deliveries(session_factory, nid)
    assert d.status == "dead" and "invalid webhook url" in d.last_error
    with session_factory() as s:
        dead = s.scalars(select(Notice).where(Notice.notice_key == f"dead:{d.id}")).one()
        ops_inbox = s.scalars(select(NoticeDelivery.user_id).where(NoticeDelivery.notice_id == dead.id)).all()
    assert dead.kind == "channel_dead" and "invalid webhook url" in dead.title and users["ops"].id in ops_inbox
    # The broken robot now does not even answer (a closed port); a second robot of the project works.
    with session_factory.begin() as s:
        s.execute(update(ProjectRobot).where(ProjectRobot.id == bad).values(webhook_enc=cipher().encrypt("http://127.0.0.1:9/x")))
    robot.answer = {"errcode": 0, "errmsg": "ok"}
    good = add_robot(session_factory, sc.project_id, f"{base_url}/good?key=ok", by=users["ops"].id)
    nid2 = notice(session_factory, sc.project_id)
    run_due(dispatcher(session_factory, Clock()))
    status = {d.target: d.status for d in deliveries(session_factory, nid2)}
    assert status == {f"robot:{bad}": "pending", f"robot:{good}": "sent"}  # one retries later, the other is through


def test_a_dispatcher_that_died_before_marking_sends_again_with_the_same_key(project, session_factory, robot,
                                                                             base_url, no_proxy):
    sc, users = project
    add_robot(session_factory, sc.project_id, f"{base_url}/send?key=k", by=users["ops"].id)
    nid = notice(session_factory, sc.project_id)
    clock = Clock()
    d = dispatcher(session_factory, clock)
    original = d._send

    def dies_after_sending(s, delivery, *rest):
        original(s, delivery, *rest)
        raise RuntimeError("killed between send and commit")

    d._send = dies_after_sending
    with pytest.raises(RuntimeError):
        d.run_once()
    [row] = deliveries(session_factory, nid)
    assert row.status == "pending"  # the mark rolled back: nothing is lost
    run_due(dispatcher(session_factory, clock))
    keys = [r.body["markdown"]["content"] for r in robot.received]
    assert len(keys) == 2 and all(row.dedupe_key in k for k in keys)  # one repeat, recognisable
    assert deliveries(session_factory, nid)[0].status == "sent"


async def test_bad_robot_configuration_is_refused_with_a_reason(project, http):
    sc, users = project
    api = Api(http, users)
    url = f"/api/projects/{sc.project_id}/robots"
    r = await api.post("manager", url, json={"kind": "wecom", "name": "群", "webhook_url": "ftp://x"})
    assert r.status_code == 422 and "https://" in r.json()["detail"]
    r = await api.post("manager", url, json={"kind": "dingtalk", "name": "群", "webhook_url": "https://oapi.example/robot/send?access_token=abcdef"})
    assert r.status_code == 422 and "secret" in r.json()["detail"]
    r = await api.post("manager", url, json={"kind": "wecom", "name": "群", "webhook_url": "https://q.example/send?key=abcdef123",
                                              "notice_kinds": ["gossip"]})
    assert r.status_code == 422 and "unknown notice kind gossip" in r.json()["detail"]
    r = await api.post("manager", url, json={"kind": "wecom", "name": "群", "webhook_url": "https://q.example/send?key=abcdef123"})
    assert r.status_code == 201 and r.json()["webhook"] == "https://q.example/send?key=ab****23", r.text
    assert (await api.post("frontdesk", url, json={"kind": "wecom", "name": "群", "webhook_url": "https://q"})).status_code == 403


async def test_a_failing_test_message_shows_the_robots_own_words(project, http, robot, base_url, no_proxy):
    sc, users = project
    api = Api(http, users)
    r = await api.post("manager", f"/api/projects/{sc.project_id}/robots",
                       json={"kind": "wecom", "name": "群", "webhook_url": f"{base_url}/send?key=abcdef123"})
    rid = r.json()["id"]
    robot.answer = {"errcode": 93000, "errmsg": "invalid webhook url, hint: [123]"}
    r = await api.post("manager", f"/api/robots/{rid}/test")
    assert r.status_code == 422 and "invalid webhook url" in r.json()["detail"]
    robot.answer = {"errcode": 0, "errmsg": "ok"}
    r = await api.post("manager", f"/api/robots/{rid}/test")
    assert r.status_code == 200 and r.json()["delivered"]
