"""A short workflow a Temporal schedule starts every few minutes: one sweep of the early warnings
(customer signals re-evaluated; warnings nobody answered by their deadline escalated once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

WARNING_SWEEP_SCHEDULE_ID = "estateflow-warning-sweep"
WARNING_SWEEP_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class SweepSummary:
    customers_checked: int
    escalated: int


@workflow.defn
class WarningSweepWorkflow:
    @workflow.run
    async def run(self) -> SweepSummary:
        return await workflow.execute_activity(
            "sweep_warnings",
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3),
            result_type=SweepSummary,
        )
