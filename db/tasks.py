"""The inbox: tasks in a person's role pools (by project) and the ones they claimed; claim, release,
reassign. A task belongs to a role pool of a project; one eligible person may claim it. Every change of
hands is a conditional UPDATE, so of concurrent claims exactly one wins, and is audited on the case's
timeline (case_events)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.models import CaseEvent, RefundCase, Task, TaskStatus, User
from db.notices import case_notice_facts, write_notice
from db.org import load_access
from domain.access import Access
from domain.paging import decode_cursor, encode_cursor

# Tasks without a deadline sort after every dated one.
FAR = datetime(9999, 12, 31, tzinfo=timezone.utc)
_SORT = func.coalesce(Task.due_at, literal(FAR, Task.due_at.type))


def pool_filter(access: Access, roles: frozenset[str] | None = None):
    """Open tasks of the person's role pools: for each role they hold, that role's tasks in the projects
    where they hold it (all projects for a group-wide role)."""
    clauses = []
    for role, projects in access.pools(roles):
        if projects is None:
            clauses.append(Task.role == role)
        elif projects:
            clauses.append(and_(Task.role == role, Task.project_id.in_(sorted(projects))))
    return or_(*clauses) if clauses else literal(False)


def inbox(
    session: Session, user: User, *, view: str, kind: str | None, case_id: uuid.UUID | None, project_id: int | None,
    overdue: bool | None, limit: int, cursor: str | None, now: datetime,
) -> tuple[list, int, str | None]:
    """(rows of Task, case_no, claimant's name; total matching; next cursor). view: mine (claimed by me),
    pool (unclaimed in my pools), all (both). A substitute's "mine" holds the tasks their absent colleagues
    claimed, and their pools the colleagues' roles (db.org.load_access)."""
    access: Access = user.access  # type: ignore[attr-defined]
    mine = Task.claimed_by.in_(sorted({user.id} | access.delegators))  # and those of colleagues I stand in for
    pool = and_(Task.claimed_by.is_(None), pool_filter(access))
    conds = [Task.status == TaskStatus.OPEN, {"mine": mine, "pool": pool}.get(view, or_(mine, pool))]
    if kind:
        conds.append(Task.kind == kind)
    if case_id is not None:
        conds.append(Task.case_id == case_id)
    if project_id is not None:
        conds.append(Task.project_id == project_id)
    if overdue is not None:
        conds.append(Task.due_at < now if overdue else or_(Task.due_at.is_(None), Task.due_at >= now))
    total = session.scalar(select(func.count()).select_from(Task).where(*conds)) or 0
    page = [*conds]
    if cursor:
        due, last_id = decode_cursor(cursor)
        key = due if due is not None else FAR
        page.append(or_(_SORT > key, and_(_SORT == key, Task.id > last_id)))
    claimant = User.__table__.alias("claimant")
    rows = session.execute(
        select(Task, RefundCase.case_no, claimant.c.display_name)
        .join(RefundCase, RefundCase.id == Task.case_id)
        .outerjoin(claimant, claimant.c.id == Task.claimed_by)
        .where(*page)
        .order_by(_SORT, Task.id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1][0].due_at, rows[-1][0].id) if more and rows else None
    return rows, int(total), nxt


def eligible(access: Access, task) -> bool:
    """May this person take the task: they hold its role in its project."""
    return task.role in access.roles_in(task.project_id)


def _audit(session: Session, task: Task, kind: str, actor: User, at: datetime, detail: dict) -> None:
    """A change of hands on the case's timeline (a key of its own: each claim, release or reassignment is one)."""
    session.execute(pg_insert(CaseEvent).values(
        case_id=task.case_id, event_key=f"{kind}:{task.id}:{uuid.uuid4().hex}", kind=kind,
        actor=actor.username, at=at, detail={"task_id": task.id, "task_kind": task.kind, **detail},
    ))


def _tell(session: Session, task: Task, kind: str, at: datetime, *, role: str | None = None, users: list[int] = (),
          exclude: list[int] = (), **facts) -> None:
    """A change of hands as a notice: to the pool (but not the one who took it) or to the people it concerns."""
    stage = task.task_key if task.kind in ("assessment", "escalation") else task.kind
    write_notice(session, key=f"{kind}:{task.id}:{uuid.uuid4().hex}", kind=kind, project_id=task.project_id, at=at,
                 role=role, users=users, exclude=exclude, params={**case_notice_facts(session, task.case_id), "stage": stage, **facts},
                 link=f"/task/{task.id}", case_id=task.case_id, task_id=task.id)


def _open_task(session: Session, task_id: int) -> Task:
    t = session.get(Task, task_id)
    if t is None:
        raise NotFound(key="record.not_found", params={"record": "task", "id": task_id})
    if t.status != TaskStatus.OPEN:
        raise Conflict(key="task.not_open", params={"task_id": task_id})
    return t


def _name(session: Session, user_id: int | None) -> str:
    return session.scalar(select(User.display_name).where(User.id == user_id)) or "another person"


def claim(session: Session, user: User, task_id: int, now: datetime) -> Task:
    """Claim an open, unclaimed task of one of the person's pools: one winner of concurrent claims (409 for the
    others, naming the winner). Claiming a task one already holds is a no-op."""
    t = _open_task(session, task_id)
    if not eligible(user.access, t):  # type: ignore[attr-defined]
        raise Forbidden(key="task.not_in_pool", params={"role": t.role})
    if t.claimed_by == user.id:
        return t
    won = session.execute(
        update(Task).where(Task.id == task_id, Task.status == TaskStatus.OPEN, Task.claimed_by.is_(None))
        .values(claimed_by=user.id, claimed_at=now).returning(Task.id)
    ).first()
    if won is None:
        session.rollback()
        holder = session.scalar(select(Task.claimed_by).where(Task.id == task_id))
        raise Conflict(key="task.already_claimed", params={"task_id": task_id, "holder": _name(session, holder)})
    _audit(session, t, "task_claimed", user, now, {})
    _tell(session, t, "task_claimed", now, role=t.role, exclude=[user.id], who=user.display_name)
    session.flush()
    session.refresh(t)
    return t


def release(session: Session, user: User, task_id: int, now: datetime) -> Task:
    """Give a claimed task back to its pool: by its claimant, or by a manager of its project."""
    t = _open_task(session, task_id)
    if t.claimed_by is None:
        return t
    if t.claimed_by != user.id and "manager" not in user.access.roles_in(t.project_id):  # type: ignore[attr-defined]
        raise Forbidden(key="task.release_not_allowed", params={"task_id": task_id, "holder": _name(session, t.claimed_by)})
    previous = t.claimed_by
    t.claimed_by, t.claimed_at = None, None
    _audit(session, t, "task_released", user, now, {"from_user_id": previous, "from": _name(session, previous)})
    session.flush()
    return t


def reassign(session: Session, user: User, task_id: int, to_user_id: int, reason: str, now: datetime) -> Task:
    """The project's manager gives an open task to an eligible, active person, with a reason (audited)."""
    t = _open_task(session, task_id)
    if "manager" not in user.access.roles_in(t.project_id):  # type: ignore[attr-defined]
        raise Forbidden(key="task.reassign_not_manager")
    if not reason.strip():
        raise Invalid(key="task.reassign_reason_required")
    target = session.get(User, to_user_id)
    if target is None or not target.active:
        raise NotFound(key="record.not_found", params={"record": "user", "id": to_user_id})
    if t.role not in load_access(session, target.id).roles_in(t.project_id):
        raise Invalid(key="task.reassign_not_eligible", params={"name": target.display_name, "role": t.role})
    previous = t.claimed_by
    t.claimed_by, t.claimed_at = target.id, now
    _audit(session, t, "task_reassigned", user, now, {
        "from_user_id": previous, "from": _name(session, previous) if previous else None,
        "to_user_id": target.id, "to": target.display_name, "reason": reason.strip(),
    })
    _tell(session, t, "task_reassigned", now, users=[target.id], who=user.display_name, reason=reason.strip()[:200])
    if previous and previous != target.id:  # the one who held it hears who holds it now
        _tell(session, t, "task_claimed", now, users=[previous], who=target.display_name)
    session.flush()
    return t
