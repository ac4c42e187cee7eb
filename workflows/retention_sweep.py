"""A short workflow a Temporal schedule starts once a day: the records-retention sweep (PIPL). Each activity call
anonymises one batch of closed refund cases past retain_until that no legal hold keeps, in one transaction
(db/retention.py); the workflow calls it until a batch comes back short, at most `max_batches` times a run
(what is left waits for the next day), and returns the counts. No case numbers or personal data in the history:
counts only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

RETENTION_SWEEP_SCHEDULE_ID = "estateflow-retention-sweep"
RETENTION_SWEEP_WORKFLOW_ID = "estateflow-retention-sweep-run"
BATCH_SIZE = 200  # cases per transaction
MAX_BATCHES = 50  # per run: 10,000 cases a day at most, and a history of a few hundred events


@dataclass(frozen=True)
class RetentionSweepInput:
    batch_size: int = BATCH_SIZE
    max_batches: int = MAX_BATCHES


@dataclass(frozen=True)
class RetentionBatch:
    """One activity call's batch."""

    limit: int = BATCH_SIZE


@dataclass(frozen=True)
class RetentionBatchResult:
    cases: int = 0  # anonymised in this batch
    held: int = 0  # taken, then left out: a hold was set on them while the batch was taken
    customers_erased: int = 0
    evidence_files: int = 0


@dataclass(frozen=True)
class RetentionSweepSummary:
    batches: int
    cases: int
    held: int
    customers_erased: int
    evidence_files: int
    more_left: bool  # the run stopped at max_batches with a full batch: the next run goes on


@workflow.defn
class RetentionSweepWorkflow:
    @workflow.run
    async def run(self, inp: RetentionSweepInput | None = None) -> RetentionSweepSummary:
        inp = inp or RetentionSweepInput()
        batches = cases = held = customers = files = 0
        more = False
        for _ in range(max(1, inp.max_batches)):
            r = await workflow.execute_activity(
                "anonymise_due_cases",
                RetentionBatch(limit=inp.batch_size),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2),
                                         maximum_attempts=5),
                result_type=RetentionBatchResult,
            )
            batches += 1
            cases, held, customers, files = cases + r.cases, held + r.held, customers + r.customers_erased, \
                files + r.evidence_files
            more = r.cases + r.held >= inp.batch_size
            if not more:
                break
        return RetentionSweepSummary(batches=batches, cases=cases, held=held, customers_erased=customers,
                                     evidence_files=files, more_left=more)
