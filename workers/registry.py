"""The workflow and activity lists a worker registers; the replay test uses the same lists."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from activities.followups import FollowupActivities
from activities.refund import RefundActivities
from activities.warnings import WarningActivities
from workflows.mortgage import MortgageWorkflow
from workflows.payment_followup import PaymentFollowupWorkflow
from workflows.refund_case import RefundCaseWorkflow
from workflows.warning_sweep import WarningSweepWorkflow

WORKFLOWS = [RefundCaseWorkflow, MortgageWorkflow, PaymentFollowupWorkflow, WarningSweepWorkflow]


def activities(session_factory: sessionmaker[Session]) -> list:
    refund = RefundActivities(session_factory)
    followups = FollowupActivities(session_factory)
    warnings = WarningActivities(session_factory)
    return [
        refund.apply_step,
        followups.apply_followup,
        followups.start_refund_from_followup,
        warnings.sweep_warnings,
    ]
