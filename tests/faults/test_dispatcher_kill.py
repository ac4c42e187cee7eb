"""The dispatcher killed mid-batch (SIGKILL, a process of its own, while a robot is being sent a burst): a
fresh dispatcher then delivers every notice; none is lost, and a notice the robots heard twice came both
times in a message with the same dedupe key (the killed round's marks rolled back; the round is composed the
same way again)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from db.notice_models import NoticeDelivery, ProjectRobot
from db.notices import write_notice
from tests.factories import cipher
from tests.robot_server import base_url, no_proxy, robot, robot_server  # noqa: F401  (fixtures)
from workers.dispatcher import Dispatcher

ROOT = Path(__file__).resolve().parents[2]
ROBOTS, NOTICES = 3, 30  # per robot: 30 notices → two messages (20 + 10)


def pending(session_factory, tag: str) -> int:
    with session_factory() as s:
        return len(s.scalars(select(NoticeDelivery.id).where(NoticeDelivery.dedupe_key.like(f"kill:{tag}:%"),
                                                            NoticeDelivery.status == "pending")).all())


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_only_with_the_same_key(
        factory, session_factory, pg_url, robot, base_url, no_proxy):
    factory.policy()
    users = factory.users()
    sc = factory.scenario(users=users, deposit=Decimal("50000"))
    with session_factory.begin() as s:
        for i in range(ROBOTS):
            s.add(ProjectRobot(project_id=sc.project_id, kind="wecom", name=f"群{i}", webhook_masked="x",
                               webhook_enc=cipher().encrypt(f"{base_url}/send?key=kill{i}"), notice_kinds=[],
                               created_by=users["ops"].id))
    robot.sleep = 0.4  # each message takes a while: the kill lands among them
    tag = f"K{time.time_ns() % 10**8}"
    now = datetime.now(timezone.utc)
    with session_factory.begin() as s:  # one commit: the whole burst is due at once
        for n in range(NOTICES):
            write_notice(s, key=f"kill:{tag}:{n}", kind="task_opened", project_id=sc.project_id, role="frontdesk",
                         title=f"{tag}-{n:03d}", body="", at=now)
    proc = subprocess.Popen([sys.executable, "-m", "tests.faults.run_dispatcher", pg_url, "https://ef.example"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len([r for r in robot.received if tag in r.body["markdown"]["content"]]) < 2:
            assert time.monotonic() < deadline, "the dispatcher process sent nothing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # mid-batch: 2 of its 6 messages are out, none marked
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with session_factory() as s:
        marked = s.scalars(select(NoticeDelivery.status).where(NoticeDelivery.dedupe_key.like(f"kill:{tag}:%"),
                                                               NoticeDelivery.channel == "wecom")).all()
    assert len(marked) == ROBOTS * NOTICES and set(marked) == {"pending"}  # the marks rolled back with the kill

    robot.sleep = 0.0
    fresh = Dispatcher(session_factory, cipher(), base_url="https://ef.example", timeout=5.0)
    deadline = time.monotonic() + 30
    while pending(session_factory, tag) and time.monotonic() < deadline:  # a robot's messages go a second apart
        fresh.run_once()
        time.sleep(0.2)
    heard: dict[tuple[str, int], set[str]] = defaultdict(set)  # (robot, notice) → dedupe keys it came with
    for r in robot.received:
        content = r.body["markdown"]["content"]
        if tag not in content:
            continue
        key = re.search(r"#([^<]+)</font>\s*$", content).group(1)
        for n in map(int, re.findall(rf"{tag}-(\d{{3}})", content)):
            heard[(r.query["key"], n)].add(key)
    assert set(heard) == {(f"kill{i}", n) for i in range(ROBOTS) for n in range(NOTICES)}  # every notice, every robot
    assert all(len(keys) == 1 for keys in heard.values()), {k: v for k, v in heard.items() if len(v) > 1}
    with session_factory() as s:
        assert set(s.scalars(select(NoticeDelivery.status).where(NoticeDelivery.dedupe_key.like(f"kill:{tag}:%"),
                                                                 NoticeDelivery.channel == "wecom"))) == {"sent"}
