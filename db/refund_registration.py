"""Registering a refund case, shared by the API (create_case) and the follow-up workflows' activity.

The case row, the unit to 退房中 and the intake task are written in one transaction; the
RefundCaseWorkflow is started BEFORE the commit and terminated if the commit fails, so a failed
start leaves nothing written and a failed commit leaves no workflow running.

Async-safe: the database work runs in a worker thread (asyncio.to_thread), the Temporal calls on the
caller's event loop. One session is used throughout, never concurrently.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from db.errors import Conflict, NotFound
from db.models import CaseEvent, RefundCase, Subscription, User
from db.refund_cases import open_refund_case, published_policy, workflow_input
from domain.refund import case_deadlines
from workflows.contracts import RefundCaseInput
from workflows.refund_case import RefundCaseWorkflow

ORIGIN_API = "api"  # registered by a person through POST /api/refund-cases
ALREADY_OPEN = "this subscription already has an open refund case"


def open_case_of(session: Session, subscription_id: int) -> RefundCase | None:
    """The subscription's open (not closed) refund case, if any."""
    return session.scalars(
        select(RefundCase).where(RefundCase.subscription_id == subscription_id, RefundCase.stage != "closed")
    ).first()


def _prepare(
    session: Session, *, subscription_id: int, registered_by_user_id: int, speedup: int, origin: str, existing_ok: bool
) -> tuple[uuid.UUID, str | None, RefundCaseInput | None]:
    """Open the case in `session` (not committed). (case_id, None, None) when an open case already exists
    and existing_ok."""
    if existing_ok:
        existing = open_case_of(session, subscription_id)
        if existing is not None:
            return existing.id, None, None
    user = session.get(User, registered_by_user_id)
    if user is None:
        raise NotFound(f"user {registered_by_user_id} does not exist")
    policy = published_policy(session)
    now = datetime.now(timezone.utc)
    try:
        case = open_refund_case(
            session, subscription_id=subscription_id, registered_by=user, registered_at=now, policy=policy,
            deadlines=case_deadlines(policy, now, speedup),
        )
    except IntegrityError:
        session.rollback()
        if existing_ok and (existing := open_case_of(session, subscription_id)) is not None:
            return existing.id, None, None
        raise Conflict(ALREADY_OPEN) from None
    except Conflict:
        # e.g. the unit is already 退房中: a concurrent registration for this subscription won the race.
        if existing_ok:
            session.rollback()
            if (existing := open_case_of(session, subscription_id)) is not None:
                return existing.id, None, None
        raise
    if origin != ORIGIN_API:
        # Where the case came from (a follow-up), visible on the case's timeline.
        session.add(CaseEvent(case_id=case.id, event_key="origin", kind="registered", actor=user.username, at=now,
                              detail={"origin": origin}))
        session.flush()
    sub = session.get(Subscription, subscription_id)
    inp = workflow_input(case=case, sub=sub, registered_by=user, policy=policy, speedup=speedup)
    return case.id, case.workflow_id, inp


def _commit(session: Session, case_id: uuid.UUID, run_id: str | None) -> None:
    case = session.get(RefundCase, case_id)
    case.run_id = run_id
    session.commit()


async def register_refund_case(
    *,
    session_factory: sessionmaker[Session],
    client: Client,
    subscription_id: int,
    registered_by_user_id: int,
    task_queue: str,
    speedup: int,
    origin: str,
    existing_ok: bool = True,
) -> uuid.UUID:
    """Register a refund case for the subscription and start its workflow; returns the case id.

    Idempotent when existing_ok (the default): if the subscription already has an open case, its id is
    returned and nothing is written or started. With existing_ok=False that is a Conflict (the API's behaviour).
    """
    session = session_factory()
    try:
        case_id, workflow_id, inp = await asyncio.to_thread(
            _prepare, session, subscription_id=subscription_id, registered_by_user_id=registered_by_user_id,
            speedup=speedup, origin=origin, existing_ok=existing_ok,
        )
        if workflow_id is None:
            return case_id
        handle = await client.start_workflow(RefundCaseWorkflow.run, inp, id=workflow_id, task_queue=task_queue)
        try:
            await asyncio.to_thread(_commit, session, case_id, handle.first_execution_run_id or handle.result_run_id)
        except Exception:
            await client.get_workflow_handle(workflow_id).terminate("registration was not committed")
            raise
        return case_id
    finally:
        await asyncio.to_thread(session.close)
