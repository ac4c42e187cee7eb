"""The workflow and activity lists a worker registers; the replay test uses the same lists."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from activities.refund import RefundActivities
from workflows.refund_case import RefundCaseWorkflow

WORKFLOWS = [RefundCaseWorkflow]


def activities(session_factory: sessionmaker[Session]) -> list:
    refund = RefundActivities(session_factory)
    return [refund.apply_step]
