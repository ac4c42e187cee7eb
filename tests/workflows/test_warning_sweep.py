"""The warning sweep: unanswered warnings escalate once, at their deadline, from a scheduled workflow."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.binaries import temporal_test_server
from db.followup_models import FollowupAction, WarningRecord
from db.warnings import escalate_overdue_warnings
from workers.registry import WORKFLOWS, activities
from workflows.warning_sweep import WarningSweepWorkflow


def warning(session_factory, *, due: datetime, responded: bool = False) -> WarningRecord:
    key = f"test-{uuid.uuid4().hex}"
    with session_factory.begin() as s:
        w = WarningRecord(
            warning_key=key, customer_id=None, case_ref=f"customer-{uuid.uuid4().hex[:6]}", level="yellow",
            rules=[{"rule": "refund_policy_inquiries", "score": 20, "detail": {}}], risk_score=20,
            raised_at=due - timedelta(hours=4), response_due=due, respond_role="sales", escalate_to="manager",
            responded_at=due - timedelta(hours=1) if responded else None,
        )
        s.add(w)
        s.flush()
        s.expunge(w)
        return w


def escalations(session_factory, w: WarningRecord) -> list[FollowupAction]:
    with session_factory() as s:
        return s.scalars(select(FollowupAction).where(FollowupAction.followup_id == w.case_ref, FollowupAction.kind == "escalation")).all()


def test_an_unanswered_warning_escalates_once_at_its_deadline_and_an_answered_one_never(session_factory):
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    late = warning(session_factory, due=now - timedelta(minutes=1))
    not_yet = warning(session_factory, due=now + timedelta(minutes=1))
    answered = warning(session_factory, due=now - timedelta(hours=1), responded=True)
    with session_factory.begin() as s:
        ids = escalate_overdue_warnings(s, now=now)
    assert late.id in ids and not_yet.id not in ids and answered.id not in ids
    assert [a.role for a in escalations(session_factory, late)] == ["manager"]
    with session_factory.begin() as s:
        assert late.id not in escalate_overdue_warnings(s, now=now + timedelta(hours=1))
    assert len(escalations(session_factory, late)) == 1
    assert escalations(session_factory, answered) == []


async def test_the_sweep_workflow_escalates_through_its_activity(session_factory):
    w = warning(session_factory, due=datetime.now(timezone.utc) - timedelta(minutes=5))
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter
    ) as env:
        queue = f"test-{uuid.uuid4().hex}"
        with ThreadPoolExecutor(max_workers=2) as ex:
            async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(session_factory), activity_executor=ex):
                summary = await env.client.execute_workflow(WarningSweepWorkflow.run, id=f"sweep-{queue}", task_queue=queue)
    assert summary.escalated >= 1
    assert [a.role for a in escalations(session_factory, w)] == ["manager"]


