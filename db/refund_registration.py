"""Registering a refund case, shared by the API (create_case) and the follow-up workflows' activity.

The case row, the unit to 退房中 and the intake task are written in one transaction; the
RefundCaseWorkflow is started BEFORE the commit and terminated if the commit fails, so a failed
start leaves nothing written and a failed commit leaves no workflow running.

No hang: the whole registration runs in ONE thread on ONE connection (`register_in_session`): prepare
(takes the unit's row lock, bounded by lock_timeout), start the workflow (the thread waits for the event
loop, which is never starved, and for the engine, bounded by the caller's timeouts), commit. While the
unit lock is held nothing waits for another thread or another pooled connection, and on any failure the
transaction is rolled back in this same thread before the error leaves, so the lock goes with it. The
API calls it from its route thread with the request's session; the activity from one worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from db.errors import Conflict, NotFound
from db.models import CaseEvent, RefundCase, Subscription, User
from db.policies import in_force_for_subscription
from db.refund_cases import open_refund_case, workflow_input
from domain.refund import case_deadlines
from workflows.contracts import RefundCaseInput
from workflows.refund_case import RefundCaseWorkflow

log = logging.getLogger("estateflow.registration")

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
    now = datetime.now(timezone.utc)
    policy = in_force_for_subscription(session, subscription_id, now)
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


def _commit(session: Session, case_id: uuid.UUID, run_id: str | None,
            before_commit: Callable[[Session, uuid.UUID], None] | None = None) -> None:
    case = session.get(RefundCase, case_id)
    case.run_id = run_id
    if before_commit is not None:
        before_commit(session, case_id)  # e.g. the caller's Idempotency-Key, in the same transaction
    session.commit()


T = TypeVar("T")
# Runs a coroutine function on the event loop that owns `client`, from this (non-loop) thread, within a
# bounded time, and returns its result; raises on failure or timeout.
RunOnLoop = Callable[[Callable[[], Awaitable[T]]], T]


def register_in_session(
    session: Session,
    *,
    client: Client,
    run_on_loop: RunOnLoop,
    rpc_timeout: timedelta,
    subscription_id: int,
    registered_by_user_id: int,
    task_queue: str,
    speedup: int,
    origin: str,
    existing_ok: bool = True,
    before_commit: Callable[[Session, uuid.UUID], None] | None = None,
) -> uuid.UUID:
    """Blocking: register the case in `session` and start its workflow; call it from a thread, never the loop.
    `before_commit(session, case_id)` writes along with the case, in its transaction.

    DB errors (a lock_timeout on the unit row included) come out unchanged, after the rollback."""
    try:
        case_id, workflow_id, inp = _prepare(
            session, subscription_id=subscription_id, registered_by_user_id=registered_by_user_id,
            speedup=speedup, origin=origin, existing_ok=existing_ok,
        )
    except BaseException:
        _rollback(session)  # here, in this thread: the unit lock must not wait for anyone's thread
        raise
    if workflow_id is None:  # the open case that already existed; nothing was written
        session.rollback()
        return case_id

    async def start():
        return await client.start_workflow(RefundCaseWorkflow.run, inp, id=workflow_id, task_queue=task_queue,
                                           rpc_timeout=rpc_timeout)

    try:
        handle = run_on_loop(start)
    except BaseException:
        _rollback(session)
        # A start that timed out may still have reached the engine: make sure no workflow runs for a case
        # that was never written (the id is this case's own, so nothing else can be hit).
        _terminate_quietly(client, run_on_loop, workflow_id, rpc_timeout, "registration did not complete")
        raise
    try:
        _commit(session, case_id, handle.first_execution_run_id or handle.result_run_id, before_commit)
    except BaseException:
        _rollback(session)
        _terminate_quietly(client, run_on_loop, workflow_id, rpc_timeout, "registration was not committed")
        raise
    return case_id


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except Exception as err:  # a connection PostgreSQL already ended: the original error is the one to report
        log.warning("rollback after a failed registration: %s", err)


TERMINATE_BUDGET_S = 2.0  # after a failed start the engine is usually away: do not double the caller's wait


def _terminate_quietly(client: Client, run_on_loop: RunOnLoop, workflow_id: str, rpc_timeout: timedelta, reason: str) -> None:
    """Best effort. If it fails too, a workflow that did start runs for a case that was never written; its
    writes fail on the case's foreign key and keep retrying, so nothing reaches PostgreSQL (terminate it
    from the Temporal UI; the key ties it to no case row)."""
    budget = min(rpc_timeout, timedelta(seconds=TERMINATE_BUDGET_S))

    async def terminate():
        async with asyncio.timeout(TERMINATE_BUDGET_S):
            await client.get_workflow_handle(workflow_id).terminate(reason, rpc_timeout=budget)

    try:
        run_on_loop(terminate)
    except Exception as err:  # not started (NOT_FOUND), or the engine is away: the case was not written either way
        log.warning("terminating %s after a failed registration: %s", workflow_id, err)


# The activity's bounds on its engine calls (the API passes its own, from Settings).
ENGINE_RPC_TIMEOUT = timedelta(seconds=5)
ENGINE_CALL_TIMEOUT_S = 10.0


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

    For async callers (the follow-ups' activity): the registration runs in one thread of the loop's
    executor, which it waits for BEFORE it opens a session, so it holds nothing while it waits; the
    engine calls are sent back to this loop, bounded."""
    loop = asyncio.get_running_loop()

    def on_loop(fn: Callable[[], Awaitable[T]]) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(ENGINE_CALL_TIMEOUT_S):
                return await fn()

        return asyncio.run_coroutine_threadsafe(bounded(), loop).result()

    def run() -> uuid.UUID:
        with session_factory() as session:
            return register_in_session(
                session, client=client, run_on_loop=on_loop, rpc_timeout=ENGINE_RPC_TIMEOUT,
                subscription_id=subscription_id, registered_by_user_id=registered_by_user_id,
                task_queue=task_queue, speedup=speedup, origin=origin, existing_ok=existing_ok,
            )

    return await asyncio.to_thread(run)
