"""The notice dispatcher: delivers the outbox's robot deliveries, at least once.

A loop in the worker process (a thread): woken by PostgreSQL `LISTEN notices` (each notice's transaction
runs `pg_notify` at commit), with a poll every few seconds as the fallback (a missed wake-up, a retry coming
due). Each round claims due deliveries with `FOR UPDATE SKIP LOCKED` (several worker processes never send the
same one at once), sends them, and marks each in the same transaction. A crash after sending and before the
commit leaves the row pending: it is sent again, with the same dedupe key, so a receiver can drop the repeat.
A retryable failure is retried with exponential backoff and jitter; a permanent one, or the last attempt,
dead-letters the delivery and tells ops in-app (a `channel_dead` notice). Why here and not a Temporal
workflow: docs/decisions.md, "Notifications"."""

from __future__ import annotations

import logging
import random
import select as io_select
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.notice_models import Notice, NoticeDelivery, ProjectRobot
from db.notices import write_notice
from db.pii import PiiCipher
from domain.notify import gives_up, retry_delay
from workers.channels import ChannelError, Message
from workers.channels.dingtalk import DingTalkRobot
from workers.channels.wecom import WeComRobot

log = logging.getLogger("estateflow.dispatcher")
ROBOT_CHANNELS = ("wecom", "dingtalk")
PER_MINUTE = 20  # what a WeCom or DingTalk robot takes; beyond it, the rest wait for the next minute


def robot_client(robot: ProjectRobot, cipher: PiiCipher, timeout: float = 5.0):
    url = cipher.decrypt(robot.webhook_enc)
    if robot.kind == "wecom":
        return WeComRobot(url, timeout=timeout)
    return DingTalkRobot(url, cipher.decrypt(robot.secret_enc) if robot.secret_enc else None, timeout=timeout)


def message_of(notice: Notice, delivery: NoticeDelivery, base_url: str) -> Message:
    link = f"{base_url.rstrip('/')}/app/#{notice.link}" if notice.link and base_url else None
    body = notice.body or ""
    return Message(title=notice.title, markdown=body, text=body, html=body, link=link, dedupe_key=delivery.dedupe_key)


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], cipher: PiiCipher, *, base_url: str, batch: int = 20,
                 timeout: float = 5.0, now: Callable[[], datetime] | None = None, rng: random.Random | None = None) -> None:
        self.sf, self.cipher, self.base_url, self.batch, self.timeout = session_factory, cipher, base_url, batch, timeout
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.rng = rng or random.Random()

    def run_once(self) -> int:
        """One round: claim due robot deliveries, send, mark. How many were tried."""
        now = self.now()
        with self.sf.begin() as s:
            rows = s.execute(
                select(NoticeDelivery, Notice, ProjectRobot)
                .join(Notice, Notice.id == NoticeDelivery.notice_id)
                .join(ProjectRobot, NoticeDelivery.target == func.concat("robot:", ProjectRobot.id))
                .where(NoticeDelivery.status == "pending", NoticeDelivery.next_attempt_at <= now,
                       NoticeDelivery.channel.in_(ROBOT_CHANNELS))
                .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True, of=NoticeDelivery)
            ).all()
            sent_this_minute: dict[str, int] = {}
            for delivery, notice, robot in rows:
                target = delivery.target
                if target not in sent_this_minute:
                    sent_this_minute[target] = s.scalar(select(func.count()).select_from(NoticeDelivery).where(
                        NoticeDelivery.target == target, NoticeDelivery.status == "sent",
                        NoticeDelivery.sent_at > now - timedelta(minutes=1))) or 0
                if sent_this_minute[target] >= PER_MINUTE:  # the robot's pace: wait for the next minute
                    delivery.next_attempt_at = now + timedelta(seconds=60)
                    continue
                self._send(s, delivery, notice, robot, now)
                if delivery.status == "sent":
                    sent_this_minute[target] += 1
        return len(rows)

    def _send(self, s: Session, delivery: NoticeDelivery, notice: Notice, robot: ProjectRobot, now: datetime) -> None:
        delivery.attempts += 1
        if not robot.active:
            delivery.status, delivery.last_error = "dead", "the robot was switched off"
            return
        try:
            robot_client(robot, self.cipher, self.timeout).send(message_of(notice, delivery, self.base_url))
        except ChannelError as e:
            delivery.last_error = e.message[:1000]
            if gives_up(delivery.attempts, e.retryable):
                delivery.status = "dead"
                log.warning("delivery %s dead after %s attempt(s): %s", delivery.id, delivery.attempts, e.message)
                if notice.project_id is not None and notice.kind != "channel_dead":
                    write_notice(s, key=f"dead:{delivery.id}", kind="channel_dead", project_id=notice.project_id,
                                 role="ops", title=f"通知渠道「{robot.name}」投递失败：{e.message[:120]}",
                                 body=f"通知「{notice.title[:80]}」未能送达，已停止重试。", at=now)
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts, self.rng)
            return
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None

    def run(self, stop: threading.Event, *, dsn: str, poll_s: float = 3.0) -> None:
        """Until `stop`: a round whenever a notice commits (LISTEN) or every `poll_s` seconds."""
        import psycopg2

        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = psycopg2.connect(dsn)
                    conn.autocommit = True
                    conn.cursor().execute("LISTEN notices")
                while self.run_once() >= self.batch and not stop.is_set():
                    pass  # a full batch: more may be due
                if io_select.select([conn], [], [], poll_s) != ([], [], []):
                    conn.poll()
                    conn.notifies.clear()
            except Exception:  # the database is away, a bug in one round: log, wait, go on
                log.exception("dispatcher round failed")
                if conn is not None:
                    conn.close()
                    conn = None
                stop.wait(poll_s)
        if conn is not None:
            conn.close()
