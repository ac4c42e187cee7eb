"""Calling the workflow engine from sync routes: every call runs on the app's event loop, bounded twice
(each RPC by `rpc_timeout()`, the whole call by the call timeout), and comes back as an HTTP answer:
a validator's refusal as 403/409/422, an engine that did not answer in time as 503 with Retry-After.

A refusal is a Temporal ApplicationError: `type` the category, `message` the English. When its `details[0]`
is `{"key": …, "params": {…}}` (a code of domain/messages.py), the answer carries that key and parameters;
otherwise it carries the message (whose key the error body recognises, or is the category).

A route calls the engine holding no database connection (see api.deps.release_connection): the thread
waits for the event loop, which is never starved, and for the engine, which is bounded here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from anyio import from_thread
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from db.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, ServiceUnavailable
from domain.messages import MessageError
from workflows.contracts import ErrorType, StepResult

_BY_TYPE: dict[str, type[ServiceError]] = {
    ErrorType.FORBIDDEN: Forbidden,
    ErrorType.CONFLICT: Conflict,
    ErrorType.INVALID: Invalid,
}

# RPC statuses that say "the engine is busy, away or slow", not "your request is wrong".
_UNAVAILABLE = {
    RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED, RPCStatusCode.ABORTED,
}
RETRY_AFTER_S = 5


@dataclass
class EngineTimeouts:
    rpc_s: float = 5.0  # Settings.temporal_rpc_timeout_s
    call_s: float = 10.0  # Settings.temporal_call_timeout_s


TIMEOUTS = EngineTimeouts()


def configure(*, rpc_timeout_s: float, call_timeout_s: float) -> None:
    """Set by the app's lifespan from Settings (one process, one set of bounds)."""
    TIMEOUTS.rpc_s, TIMEOUTS.call_s = rpc_timeout_s, call_timeout_s


def rpc_timeout() -> timedelta:
    """The deadline to pass as `rpc_timeout=` on every client call."""
    return timedelta(seconds=TIMEOUTS.rpc_s)


def engine_unavailable(what: str = "the workflow engine", *, maybe_done: bool = False) -> ServiceUnavailable:
    if what == "the workflow engine":
        key = "service.engine_timeout_maybe_done" if maybe_done else "service.engine_timeout"
        return ServiceUnavailable(key=key, retry_after=RETRY_AFTER_S)
    tail = " It may still have been recorded: reload before you repeat it." if maybe_done else ""
    return ServiceUnavailable(f"{what} did not answer in time; try again in a few seconds.{tail}",
                              retry_after=RETRY_AFTER_S)


def refusal(cause: ApplicationError) -> ServiceError:
    """A workflow's refusal as the service error of its category (`type`; a conflict when unknown), with the
    key and parameters of `details[0]` when it carries a known code and exactly its parameters."""
    kind = _BY_TYPE.get(cause.type or "", Conflict)
    details = _details(cause)
    first = details[0] if details else None
    if isinstance(first, dict) and isinstance(first.get("key"), str) and isinstance(first.get("params", {}), dict):
        try:
            return kind(key=first["key"], params=first.get("params") or {})
        except (MessageError, TypeError):  # a code this API does not know (yet): the words as they came
            pass
    return kind(cause.message)


def _details(cause: ApplicationError) -> tuple:
    try:
        return tuple(cause.details or ())
    except Exception:  # noqa: BLE001 - details that do not decode are no reason to lose the refusal
        return ()


async def _bounded(fn, args, timeout_s: float):
    try:
        async with asyncio.timeout(timeout_s):
            return await fn(*args)
    except TimeoutError:
        raise engine_unavailable() from None


def run_async(fn, *args, timeout_s: float | None = None):
    """Run a coroutine function on the app's event loop from a sync route, within the call timeout.

    An engine that does not answer in time, or answers "unavailable / deadline exceeded", is a
    ServiceUnavailable (503 with Retry-After); other errors come through unchanged."""
    try:
        return from_thread.run(_bounded, fn, args, timeout_s or TIMEOUTS.call_s)
    except RPCTimeoutOrCancelledError:
        raise engine_unavailable(maybe_done=True) from None
    except RPCError as err:
        if err.status in _UNAVAILABLE:
            raise engine_unavailable() from None
        raise


def run_update(
    client: Client,
    *,
    workflow_id: str,
    update: Any,
    payload: Any,
    update_id: str | None = None,
    result_type: type = StepResult,
    not_found: str = "the case's workflow has finished or does not exist",
) -> Any:
    """Send a human step to a workflow; the validator's refusal comes back as 403/409/422, an engine that
    did not answer in time as 503 (the update id makes a repeat of the same step harmless)."""

    async def call() -> Any:
        handle = client.get_workflow_handle(workflow_id)
        return await handle.execute_update(update, payload, id=update_id, result_type=result_type,
                                           rpc_timeout=rpc_timeout())

    try:
        return run_async(call)
    except ServiceUnavailable:
        raise engine_unavailable(maybe_done=True) from None  # the update may have been accepted
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise refusal(cause) from None
        raise Conflict(str(cause or err)) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(not_found) from None
        raise
