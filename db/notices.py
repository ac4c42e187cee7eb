"""Writing notices into the outbox, in the caller's transaction (so a notice exists exactly when its cause
committed), and reading a person's in-app notices.

A notice for a role pool reaches, in-app, every active person holding that role over the project (project,
city company or group membership) and everyone standing in for one of them now; each delivery has a dedupe
key `<notice key>:<channel>:<target>`, the same on every attempt; people who chose e-mail get an e-mail
delivery too, and the project's robots that take the notice's kind one each. When a notice has e-mail or robot
deliveries, `pg_notify('notices', id)` wakes the dispatcher as the transaction commits (docs/decisions.md,
"Notifications"); in-app deliveries need no waking. A notice keeps its facts (`params`) and is worded per
reader (domain.notify.render). Reminders before deadlines are scheduled here too (`schedule_reminders`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from db.errors import NotFound
from db.models import RefundPolicyVersion
from db.notice_models import Notice, NoticeDelivery, NotificationPrefs
from domain.identity import mask_name
from domain.notify import clock_reminders, is_urgent, render, reminder_points

# One statement per notice: the notice (idempotent on its key), an in-app delivery to each recipient (the
# role's people over the project, the named people, and whoever stands in for one of them now), an e-mail
# delivery to those of them who asked for e-mail, a delivery to each of the project's robots that takes this
# kind, and pg_notify when the dispatcher has something to send. Its id and how many it must send, or no row
# when the notice was written before (an activity's retry).
_WRITE_SQL = """
    WITH n AS (
      INSERT INTO notices (notice_key, kind, project_id, case_id, task_id, role, title, body, link, params, urgent, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      ON CONFLICT (notice_key) DO NOTHING RETURNING id
    ), who AS (
      SELECT m.user_id FROM memberships m JOIN projects p ON p.id = $3
      WHERE m.role = $6 AND m.revoked_at IS NULL
        AND (m.project_id = p.id OR m.city_company_id = p.city_company_id OR m.scope = 'group')
      UNION SELECT unnest($13)
    ), reach AS (
      SELECT user_id FROM who
      UNION
      SELECT d.substitute_id FROM delegations d JOIN who ON who.user_id = d.delegator_id
      WHERE d.ended_at IS NULL AND d.starts_at <= $12 AND d.ends_at > $12
    ), people AS (
      SELECT u.id, u.email FROM reach JOIN users u ON u.id = reach.user_id AND u.active
      WHERE u.id <> ALL($14)
    ), inapp AS (
      INSERT INTO notice_deliveries (notice_id, channel, user_id, target, dedupe_key, status, sent_at, next_attempt_at)
      SELECT n.id, 'inapp', p.id, 'user:' || p.id, $1 || ':inapp:user:' || p.id, 'sent', $12, $12 FROM n, people p
      ON CONFLICT (dedupe_key) DO NOTHING
    ), mail AS (
      INSERT INTO notice_deliveries (notice_id, channel, user_id, target, dedupe_key, status, next_attempt_at)
      SELECT n.id, 'email', p.id, 'email:' || p.id, $1 || ':email:user:' || p.id, 'pending', $12
      FROM n, people p JOIN notification_prefs np ON np.user_id = p.id
      WHERE p.email IS NOT NULL AND np.channels @> CAST('["email"]' AS jsonb)
      ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1
    ), bots AS (
      INSERT INTO notice_deliveries (notice_id, channel, user_id, target, dedupe_key, status, next_attempt_at)
      SELECT n.id, r.kind, NULL, 'robot:' || r.id, $1 || ':' || r.kind || ':robot:' || r.id, 'pending', $12
      FROM n, project_robots r
      WHERE r.project_id = $3 AND r.active
        AND (jsonb_array_length(r.notice_kinds) = 0 OR r.notice_kinds @> jsonb_build_array($2))
      ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1
    ), wake AS (
      SELECT pg_notify('notices', CAST(n.id AS text)) FROM n WHERE EXISTS (SELECT 1 FROM mail) OR EXISTS (SELECT 1 FROM bots)
    )
    SELECT n.id, (SELECT count(*) FROM wake) FROM n
"""
# Prepared once per connection (its plan costs more than running it: 0.55 ms of 0.9 ms per notice), in the
# order of _WRITE_ARGS.
_WRITE_ARGS = ("key", "kind", "project_id", "case_id", "task_id", "role", "title", "body", "link", "params", "urgent",
               "at", "users", "exclude")
_PREPARE = ("PREPARE ef_write_notice(text, text, integer, uuid, bigint, text, text, text, text, jsonb, boolean,"
            " timestamptz, integer[], integer[]) AS " + _WRITE_SQL)
_WRITE = text("EXECUTE ef_write_notice(" + ", ".join(f":{a}" for a in _WRITE_ARGS) + ")")


def _prepared(session: Session) -> None:
    """PREPARE the notice statement on this connection the first time it is used there (not on connect: a
    connection may be opened before the migrations that create the tables)."""
    conn = session.connection()
    info = conn.connection.info
    if "ef_write_notice" not in info:
        conn.exec_driver_sql(_PREPARE)
        info["ef_write_notice"] = True



def write_notice(
    session: Session, *, key: str, kind: str, project_id: int, at: datetime, role: str | None = None,
    users: Sequence[int] = (), exclude: Sequence[int] = (), params: Mapping[str, Any] | None = None, title: str | None = None, body: str | None = None,
    link: str | None = None, case_id: uuid.UUID | None = None, task_id: int | None = None,
) -> int | None:
    """The notice (idempotent on `key`) to the role's people in the project and/or the named `users`, with its
    deliveries; its id, or None when it was written before (an activity's retry). The words are the Chinese
    rendering of `params` unless `title` is given; readers in English get theirs from `params`."""
    facts = dict(params or {})
    words = render(kind, facts, "zh-CN", at)
    _prepared(session)
    row = session.execute(_WRITE, {
        "key": key, "kind": kind, "project_id": project_id, "case_id": case_id, "task_id": task_id, "role": role,
        "title": (title or words[0])[:256], "body": words[1] if body is None else body, "link": link,
        "params": json.dumps(facts, ensure_ascii=False, default=str), "urgent": is_urgent(kind, facts), "at": at,
        "users": list(users), "exclude": list(exclude),
    }).first()
    return None if row is None else row[0]


def notice_kind(key: str) -> str:
    """The kind of a workflow's notice, from its key (breach:<sla>:<role>, regional_brief, ...)."""
    return "sla_breach" if key.startswith("breach:") else key.split(":", 1)[0]


# Any number of reminders in one statement that is compiled once (a multi-row VALUES is compiled per call, and
# was an eighth of the worker's Python time in the refund bench): the rows travel as one JSON array.
_INSERT_REMINDERS = text("""
    INSERT INTO reminders (reminder_key, source, source_id, project_id, user_id, role, point, fire_at, due_at, params,
                           link, case_id, status)
    SELECT r.reminder_key, r.source, r.source_id, r.project_id, r.user_id, r.role, r.point, r.fire_at, r.due_at,
           coalesce(r.params, '{}'), r.link, r.case_id, 'pending'
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(reminder_key text, source text, source_id bigint,
         project_id integer, user_id integer, role text, point integer, fire_at timestamptz, due_at timestamptz,
         params jsonb, link text, case_id uuid)
    ON CONFLICT (reminder_key) DO NOTHING
""")


def schedule_reminders(session: Session, rows: list[dict]) -> None:
    """Reminder rows (reminder_key, source, source_id, project_id, user_id | role, point, fire_at, due_at,
    params, link, case_id), idempotent on their keys, in one statement."""
    if rows:
        session.execute(_INSERT_REMINDERS, {"rows": json.dumps(rows, ensure_ascii=False, default=_json_value)})


def _json_value(v: Any) -> str:
    return v.isoformat() if isinstance(v, datetime) else str(v)


# A case's tasks with what their notices say: the case number, the unit, the masked customer.
_OPENED = text("""
    SELECT t.id, t.kind, t.role, t.title, t.due_at, t.created_at, t.task_key, r.case_no, r.policy_version, u.code, c.name
    FROM tasks t JOIN refund_cases r ON r.id = t.case_id JOIN units u ON u.id = r.unit_id
    JOIN customers c ON c.id = r.customer_id
    WHERE t.case_id = :case_id AND t.task_key = ANY(:keys)
""")


def case_facts(case_no: str, unit: str, customer_name: str, **more: Any) -> dict[str, Any]:
    """What a refund case's notices may say about it: never the customer's name unmasked."""
    return {"case_no": case_no, "unit": unit, "customer": mask_name(customer_name), **more}


_CASE = text("""
    SELECT r.case_no, u.code, c.name FROM refund_cases r JOIN units u ON u.id = r.unit_id
    JOIN customers c ON c.id = r.customer_id WHERE r.id = :case_id
""")


def case_notice_facts(session: Session, case_id: uuid.UUID) -> dict[str, Any]:
    case_no, unit, name = session.execute(_CASE, {"case_id": case_id}).one()
    return case_facts(case_no, unit, name)


def workflow_notice_facts(key: str, rec: Any) -> dict[str, Any]:
    """The facts of a notice the refund workflow asked for, from the step record that carries it: a breach
    names its clock and when it was due; the brief names nothing more."""
    if key.startswith("breach:") and rec.breach is not None:
        return {"stage": rec.breach.sla, "due_at": rec.breach.due_at.isoformat(), "escalated_to": rec.breach.escalated_to}
    return {}


def notify_opened_tasks(session: Session, case_id: uuid.UUID, project_id: int, task_keys: list[str], at: datetime) -> None:
    """A notice per task the step opened, to its pool (after any move one level up), linking to the task; and
    the reminders on its clock (the policy's points, then the breach) to whoever will hold it."""
    reminders = []
    for task_id, kind, role, title, due_at, created_at, task_key, case_no, policy, unit, name in session.execute(
            _OPENED, {"case_id": case_id, "keys": list(task_keys)}):
        stage = task_key if kind in ("assessment", "escalation") else kind  # assessment:finance, escalation:intake
        facts = case_facts(case_no, unit, name, stage=stage, role=role,
                           **({"due_at": due_at.isoformat()} if due_at else {}))
        notice = "refund_instruction" if kind == "refund_payment" else "task_opened"
        write_notice(session, key=f"task:{task_id}:opened", kind=notice, project_id=project_id, role=role, params=facts,
                     link=f"/task/{task_id}", case_id=case_id, task_id=task_id, at=at)
        if due_at is not None:
            for point, fire_at in clock_reminders(created_at, due_at, policy_points(session, policy), at):
                reminders.append(dict(
                    reminder_key=f"task:{task_id}:{point}", source="task", source_id=task_id, project_id=project_id,
                    user_id=None, role=role, point=point, fire_at=fire_at, due_at=due_at, params={**facts, "point": point},
                    link=f"/task/{task_id}", case_id=case_id))
    schedule_reminders(session, reminders)


_POLICY_POINTS: dict[str, tuple[int, ...]] = {}


def policy_points(session: Session, version: str | None) -> tuple[int, ...]:
    """The reminder points of a published refund policy (published versions never change: read once)."""
    if version is None:
        return reminder_points(None)
    if version not in _POLICY_POINTS:
        body = session.scalar(select(RefundPolicyVersion.body).where(RefundPolicyVersion.version == version))
        _POLICY_POINTS[version] = reminder_points(body)
    return _POLICY_POINTS[version]


def inbox(session: Session, user_id: int, *, unread_only: bool, limit: int, before: int | None) -> tuple[list, int]:
    """(rows of (delivery, notice), unread count): newest first, `before` a delivery id for the next page."""
    q = (select(NoticeDelivery, Notice).join(Notice, Notice.id == NoticeDelivery.notice_id)
         .where(NoticeDelivery.user_id == user_id, NoticeDelivery.channel == "inapp"))
    if unread_only:
        q = q.where(NoticeDelivery.read_at.is_(None))
    if before is not None:
        q = q.where(NoticeDelivery.id < before)
    rows = session.execute(q.order_by(NoticeDelivery.id.desc()).limit(limit)).all()
    return list(rows), unread_count(session, user_id)


def language_of(session: Session, user_id: int) -> str:
    return session.scalar(select(NotificationPrefs.language).where(NotificationPrefs.user_id == user_id)) or "zh-CN"


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(NoticeDelivery).where(
        NoticeDelivery.user_id == user_id, NoticeDelivery.channel == "inapp", NoticeDelivery.read_at.is_(None))) or 0


def mark_read(session: Session, user_id: int, delivery_id: int | None, at: datetime) -> int:
    """Mark one of the person's notices read (404 when it is not theirs), or all of them (None); how many."""
    q = update(NoticeDelivery).where(NoticeDelivery.user_id == user_id, NoticeDelivery.channel == "inapp",
                                     NoticeDelivery.read_at.is_(None))
    if delivery_id is not None:
        mine = session.scalar(select(NoticeDelivery.id).where(NoticeDelivery.id == delivery_id, NoticeDelivery.user_id == user_id,
                                                              NoticeDelivery.channel == "inapp"))
        if mine is None:
            raise NotFound(f"notification {delivery_id} does not exist")
        q = q.where(NoticeDelivery.id == delivery_id)
    return session.execute(q.values(read_at=at)).rowcount or 0
