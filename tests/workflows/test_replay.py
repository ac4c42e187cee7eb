"""Replay the recorded workflow histories (tests/histories/<set>/*.json) against today's workflow code.

A failure here means a code change would break cases already running in production (non-determinism):
version the change with workflow.patched() instead of editing the recorded files. After an intended,
versioned change, re-record with `make histories` and commit the result.
Refund-case sets: v1, v2, v3, v4 (scripts/record_histories.py); follow-ups: followups-v1, followups-v2,
followups-v3 (scripts/record_followup_histories.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workers.registry import WORKFLOWS

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
# Required histories per family of sets: the refund sets are named v1, v2, ...; other families
# "<family>-v1", ... (scripts/record_followup_histories.py records "followups-v2"; v1 is kept for replay).
REQUIRED = {
    "refund": {
        "path_a",
        "path_b_deposit",
        "path_b_online_signed",
        "path_c",
        "gm_approval",
        "gm_rejected_legal",
        "sla_breaches",
    },
    "followups": {
        "mortgage_disbursed",
        "mortgage_late_documents_rejected",
        "payment_plan_run1",  # one file per continued-as-new run
        "payment_plan_run2",
        "payment_plan_run3",
        "payment_plan_inability",
    },
    # Issue 15: a discount's approval (scripts/record_discount_histories.py).
    "discounts": {"approved_by_manager", "escalated_then_approved", "rejected_at_the_top_after_its_clock"},
}
# Histories a single set requires on top of its family's (the workflow version they exercise is newer).
REQUIRED_IN_SET = {
    "followups-v2": {  # the follow-up starts the refund case itself (subscription_id on the input)
        "payment_plan_inability_refund",
        "mortgage_rejected_refund",
        "mortgage_disbursed_contract",  # the disbursement is written to the contract
    },
}
REQUIRED_IN_SET["followups-v3"] = REQUIRED_IN_SET["followups-v2"]
# Issue 15: the mortgage's documents deadline in its input (working days).
REQUIRED_IN_SET["followups-v4"] = REQUIRED_IN_SET["followups-v3"] | {"mortgage_documents_due_late"}
REQUIRED_IN_SET["v4"] = {"withdrawn", "voided", "reoffered_legal", "returned_corrected"}  # issue 14's ways out and back
REQUIRED_IN_SET["v5"] = REQUIRED_IN_SET["v4"] | {"working_days"}  # escalation codes, working-day clocks
FILES = sorted(HISTORIES.glob("*/*.json"))  # one folder per workflow version (see scripts/record_histories.py)
SETS = sorted({p.parent.name for p in FILES})


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text(encoding="utf-8"))


def family(set_name: str) -> str:
    return set_name.rpartition("-")[0] or "refund"


def test_every_workflow_version_has_every_required_history():
    assert {"v1", "v2", "v3", "followups-v1", "followups-v2", "followups-v3"} <= set(SETS)
    for name in SETS:
        assert family(name) in REQUIRED, f"{name}: unknown history set (expected v<N> or <family>-v<N>)"
        required = REQUIRED[family(name)] | REQUIRED_IN_SET.get(name, set())
        missing = required - {p.stem for p in FILES if p.parent.name == name}
        assert not missing, f"{name}: missing recorded histories (run `make histories`): {sorted(missing)}"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
async def test_recorded_history_replays_against_the_current_workflow(path: Path):
    history = load(path)
    assert history.events, f"{path.name} holds no events"
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


# Unsandboxed: the sandbox would re-import this test module, which it need not validate.
@workflow.defn(name="RefundCaseWorkflow", sandboxed=False)
class _ChangedRefundCaseWorkflow:
    """A deliberately incompatible 'new version': it completes at once where the recorded run started a timer."""

    @workflow.run
    async def run(self, inp: dict) -> str:
        return "changed"


async def test_replay_detects_an_incompatible_workflow_change():
    history = load(HISTORIES / "v1" / "path_b_deposit.json")
    replayer = Replayer(workflows=[_ChangedRefundCaseWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert isinstance(result.replay_failure, workflow.NondeterminismError), repr(result.replay_failure)
