"""The workflow and activity lists a worker registers; the replay test uses the same lists."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from activities.refund import RefundActivities
from workflows.refund_case import RefundCaseWorkflow

WORKFLOWS = [RefundCaseWorkflow]


def activities(session_factory: sessionmaker[Session]) -> list:
    refund = RefundActivities(session_factory)
    return [refund.apply_step]


# Follow-ups (mortgage cases, payment plans): appended here, registered on the same task queue.
from activities.followups import FollowupActivities  # noqa: E402
from workflows.mortgage import MortgageWorkflow  # noqa: E402

WORKFLOWS.append(MortgageWorkflow)
_activities_before_followups = activities


def activities(session_factory: sessionmaker[Session]) -> list:  # noqa: F811
    followups = FollowupActivities(session_factory)
    return [*_activities_before_followups(session_factory), followups.apply_followup, followups.start_refund_from_followup]

from workflows.payment_followup import PaymentFollowupWorkflow  # noqa: E402

WORKFLOWS.append(PaymentFollowupWorkflow)
