"""The notice dispatcher: fires the reminders that are due (db/reminders.py) and delivers the outbox's robot
and e-mail deliveries, at least once.

A loop in the worker process (a thread): woken by PostgreSQL `LISTEN notices` (each notice's transaction
runs `pg_notify` at commit), with a poll every few seconds as the fallback (a missed wake-up, a retry coming
due). Each round claims due deliveries with `FOR UPDATE SKIP LOCKED` (several worker processes never send the
same one at once), sends them, and marks each in the same transaction. A crash after sending and before the
commit leaves the row pending: it is sent again, with the same dedupe key, so a receiver can drop the repeat.
A retryable failure is retried with exponential backoff and jitter; a permanent one, or the last attempt,
dead-letters the delivery and tells ops in-app (a `channel_dead` notice). Why here and not a Temporal
workflow: docs/decisions.md, "Notifications"."""

from __future__ import annotations

import html
import logging
import random
import select as io_select
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import User
from db.notice_models import Notice, NoticeDelivery, NotificationPrefs, ProjectRobot
from db.notices import write_notice
from db.pii import PiiCipher
from db.reminders import fire_due, next_fire_at
from domain.notify import gives_up, quiet_until, render, retry_delay
from workers.channels import ChannelError, Message, batch
from workers.channels.email import EmailSender
from workers.channels.wecom import fits as robot_fits  # DingTalk takes more; the smaller limit serves both
from workers.channels.dingtalk import DingTalkRobot
from workers.channels.wecom import WeComRobot

log = logging.getLogger("estateflow.dispatcher")
ROBOT_CHANNELS = ("wecom", "dingtalk")
SENT_CHANNELS = (*ROBOT_CHANNELS, "email")  # in-app deliveries are delivered by being written
PER_MINUTE = 20  # what a WeCom or DingTalk robot takes; beyond it, the rest wait for the next minute
MIN_GAP = timedelta(seconds=1)  # between two messages to one robot: a burst collects into one message


def robot_client(robot: ProjectRobot, cipher: PiiCipher, timeout: float = 5.0):
    url = cipher.decrypt(robot.webhook_enc)
    if robot.kind == "wecom":
        return WeComRobot(url, timeout=timeout)
    return DingTalkRobot(url, cipher.decrypt(robot.secret_enc) if robot.secret_enc else None, timeout=timeout)


def message_of(notice: Notice, delivery: NoticeDelivery, base_url: str, *, lang: str = "zh-CN",
               now: datetime | None = None) -> Message:
    """The notice in the reader's language (from its facts, the time left counted now), with the link to the
    task or record in the web app (which asks for a sign-in first) and the delivery's dedupe key."""
    link = f"{base_url.rstrip('/')}/app/#{notice.link}" if notice.link and base_url else None
    if notice.params:
        title, body = render(notice.kind, notice.params, lang, now or datetime.now(timezone.utc))
    else:
        title, body = notice.title, notice.body or ""
    html_body = "<br>".join(html.escape(line) for line in body.splitlines())
    return Message(title=title, markdown=body.replace("\n", "  \n"), text=body, html=html_body, link=link,
                   dedupe_key=delivery.dedupe_key)


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], cipher: PiiCipher, *, base_url: str,
                 mailer: EmailSender | None = None, batch: int = 200, per_message: int = 20, timeout: float = 5.0,
                 now: Callable[[], datetime] | None = None, rng: random.Random | None = None) -> None:
        self.sf, self.cipher, self.base_url, self.batch, self.timeout = session_factory, cipher, base_url, batch, timeout
        self.mailer, self.per_message = mailer, per_message
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.rng = rng or random.Random()

    def run_once(self) -> int:
        """One round: fire the reminders that are due (into notices), then claim the due deliveries, send and
        mark them. How many rows were taken (a full batch: call again)."""
        now = self.now()
        with self.sf.begin() as s:
            fired = fire_due(s, now, limit=self.batch)
        with self.sf.begin() as s:
            rows = s.execute(
                select(NoticeDelivery, Notice).join(Notice, Notice.id == NoticeDelivery.notice_id)
                .where(NoticeDelivery.status == "pending", NoticeDelivery.next_attempt_at <= now,
                       NoticeDelivery.channel.in_(SENT_CHANNELS))
                .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True, of=NoticeDelivery)
            ).all()
            to_robots: dict[str, list[tuple[NoticeDelivery, Notice]]] = defaultdict(list)
            for delivery, notice in rows:
                if delivery.channel == "email":
                    self._mail(s, delivery, notice, now)
                else:
                    to_robots[delivery.target].append((delivery, notice))
            if to_robots:
                robots = {f"robot:{r.id}": r for r in s.scalars(select(ProjectRobot).where(
                    func.concat("robot:", ProjectRobot.id).in_(list(to_robots))))}
                for target, items in to_robots.items():
                    self._to_robot(s, robots[target], items, now)
        return max(fired, len(rows))

    def _to_robot(self, s: Session, robot: ProjectRobot, items: list[tuple[NoticeDelivery, Notice]], now: datetime) -> None:
        """A robot's due deliveries, within its pace: at most 20 messages a minute and a second between two, so
        that a burst collects into few messages; each message at most `per_message` notices and never longer
        than the robot takes (a longer one would be cut, and the notices at its end lost). What does not fit
        waits for the robot's next free moment."""
        target = f"robot:{robot.id}"
        recent = s.scalars(select(func.min(NoticeDelivery.sent_at)).where(  # a row per message sent in the last minute
            NoticeDelivery.target == target, NoticeDelivery.status == "sent", NoticeDelivery.sent_at > now - timedelta(minutes=1))
            .group_by(NoticeDelivery.message_key)).all()
        room = PER_MINUTE - len(recent)
        if room <= 0 or (recent and now < max(recent) + MIN_GAP):
            wait = min(recent) + timedelta(minutes=1) if room <= 0 else max(recent) + MIN_GAP
            for delivery, _ in items:
                delivery.next_attempt_at = max(wait, now + timedelta(milliseconds=50))
            return
        rendered = {d.id: message_of(n, d, self.base_url, now=now) for d, n in items}  # each notice worded once
        messages = self._chunks(items, rendered)
        for chunk in messages[:1]:  # one now; the next after the gap (the round after)
            self._send(s, chunk, robot, now, rendered)
        for chunk in messages[1:]:
            for delivery, _ in chunk:
                delivery.next_attempt_at = now + MIN_GAP

    def _chunks(self, items: list[tuple[NoticeDelivery, Notice]],
                rendered: dict[int, Message]) -> list[list[tuple[NoticeDelivery, Notice]]]:
        """Consecutive messages of at most `per_message` notices whose robot content fits its byte limit."""
        out: list[list[tuple[NoticeDelivery, Notice]]] = []
        for item in items:
            if out and len(out[-1]) < self.per_message and robot_fits(batch(rendered[d.id] for d, _ in out[-1] + [item])):
                out[-1].append(item)
            else:
                out.append([item])
        return out

    def _send(self, s: Session, items: list[tuple[NoticeDelivery, Notice]], robot: ProjectRobot, now: datetime,
              rendered: dict[int, Message]) -> None:
        for delivery, _ in items:
            delivery.attempts += 1
        if not robot.active:
            for delivery, _ in items:
                delivery.status, delivery.last_error = "dead", "the robot was switched off"
            return
        try:
            message = batch(rendered[d.id] for d, _ in items)
            robot_client(robot, self.cipher, self.timeout).send(message)
        except ChannelError as e:
            self._failed(s, items, f"「{robot.name}」", e, now)
            return
        for delivery, _ in items:
            delivery.status, delivery.sent_at, delivery.last_error, delivery.message_key = "sent", now, None, message.dedupe_key

    def _mail(self, s: Session, delivery: NoticeDelivery, notice: Notice, now: datetime) -> None:
        """An e-mail to a person, in their language; outside their quiet hours unless it is urgent."""
        user = s.get(User, delivery.user_id)
        prefs = s.get(NotificationPrefs, delivery.user_id)
        if user is None or not user.active or not user.email or prefs is None or "email" not in (prefs.channels or []):
            delivery.status, delivery.last_error = "dead", "the person no longer receives e-mail"
            return
        later = None if notice.urgent else quiet_until(now, prefs.quiet_start, prefs.quiet_end)
        if later is not None:  # quiet hours: wait for their end, no attempt spent
            delivery.next_attempt_at = later
            return
        if self.mailer is None:
            delivery.last_error, delivery.next_attempt_at = "no SMTP server is configured (SMTP_HOST)", now + timedelta(minutes=5)
            return
        delivery.attempts += 1
        try:
            self.mailer.send(message_of(notice, delivery, self.base_url, lang=prefs.language, now=now), user.email)
        except ChannelError as e:
            self._failed(s, [(delivery, notice)], f"邮件（{self.mailer.host}）", e, now)
            return
        delivery.status, delivery.sent_at, delivery.last_error, delivery.message_key = "sent", now, None, delivery.dedupe_key

    def _failed(self, s: Session, items: list[tuple[NoticeDelivery, Notice]], channel: str, e: ChannelError,
                now: datetime) -> None:
        """Retry later with backoff, or (a permanent refusal, the last attempt) dead-letter and tell ops once."""
        dead = []
        for delivery, notice in items:
            delivery.last_error = e.message[:1000]
            if gives_up(delivery.attempts, e.retryable):
                delivery.status = "dead"
                dead.append((delivery, notice))
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts, self.rng)
        if not dead:
            return
        first, notice = dead[0]
        log.warning("%s deliveries dead (first %s) after %s attempt(s): %s", len(dead), first.id, first.attempts, e.message)
        if notice.project_id is not None and notice.kind != "channel_dead":
            more = f" 等 {len(dead)} 条" if len(dead) > 1 else ""
            write_notice(s, key=f"dead:{first.id}", kind="channel_dead", project_id=notice.project_id, role="ops",
                         title=f"通知渠道{channel}投递失败：{e.message[:120]}",
                         body=f"通知「{notice.title[:80]}」{more}未能送达，已停止重试。", at=now)

    def _wait(self, poll_s: float) -> float:
        """Until the next poll, or sooner: the next reminder (a drill's clocks run in seconds), or the next
        delivery that was held back (a robot's pace, a backoff)."""
        with self.sf() as s:
            held = s.scalar(select(func.min(NoticeDelivery.next_attempt_at)).where(
                NoticeDelivery.status == "pending", NoticeDelivery.channel.in_(SENT_CHANNELS)))
            at = min((t for t in (next_fire_at(s), held) if t is not None), default=None)
        if at is None:
            return poll_s
        return min(poll_s, max(0.05, (at - self.now()).total_seconds()))

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
                if io_select.select([conn], [], [], self._wait(poll_s)) != ([], [], []):
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
