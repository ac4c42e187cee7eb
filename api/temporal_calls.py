"""Calling the workflow from sync routes: updates run on the app's event loop, refusals become HTTP errors."""

from __future__ import annotations

from typing import Any

from anyio import from_thread
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from db.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from workflows.contracts import ErrorType, StepResult

_BY_TYPE: dict[str, type[ServiceError]] = {
    ErrorType.FORBIDDEN: Forbidden,
    ErrorType.CONFLICT: Conflict,
    ErrorType.INVALID: Invalid,
}


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
    """Send a human step to a workflow; the validator's refusal comes back as 403/409/422."""

    async def call() -> Any:
        handle = client.get_workflow_handle(workflow_id)
        return await handle.execute_update(update, payload, id=update_id, result_type=result_type)

    try:
        return from_thread.run(call)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise _BY_TYPE.get(cause.type or "", Conflict)(cause.message) from None
        raise Conflict(str(cause or err)) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(not_found) from None
        raise


def run_async(fn, *args):
    """Run a coroutine function on the app's event loop from a sync route."""
    return from_thread.run(fn, *args)
