"""The daily retention sweep through its workflow, on the time-skipping test server with the real activity and
PostgreSQL: due cases anonymised in batches, a held case and one not yet due left alone, a second run a no-op."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from temporalio.worker import Worker

from db.models import CaseEvent, Customer, IntakeForm, RefundCase
from db.retention import set_hold
from tests.api.test_anonymise import SAID, closed_case, everything_about
from workers.registry import WORKFLOWS, activities, workflow_runner
from workflows.retention_sweep import RetentionSweepInput, RetentionSweepWorkflow


async def test_the_sweep_workflow_anonymises_due_cases_in_batches_and_leaves_held_and_recent_ones(
        env, session_factory, factory, executor, tmp_path):
    now = datetime.now(timezone.utc)
    due = [closed_case(factory, session_factory, retain_until=now - timedelta(days=1 + i), data_dir=tmp_path)
           for i in range(3)]
    held = closed_case(factory, session_factory, retain_until=now - timedelta(days=1), data_dir=tmp_path)
    recent = closed_case(factory, session_factory, retain_until=now + timedelta(days=30), data_dir=tmp_path)
    with session_factory.begin() as s:
        set_hold(s, case_id=held.case_id, reason="诉讼保全", actor=held.scenario.users["legal"], now=now)

    queue = f"test-{uuid.uuid4().hex}"
    async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS,
                      activities=activities(session_factory, data_dir=tmp_path), activity_executor=executor,
                      workflow_runner=workflow_runner(env.client.data_converter)):
        first = await env.client.execute_workflow(
            RetentionSweepWorkflow.run, RetentionSweepInput(batch_size=2, max_batches=20),
            id=f"retention-{queue}", task_queue=queue)
        # As the schedule starts it: no input (the defaults).
        second = await env.client.execute_workflow(RetentionSweepWorkflow.run, id=f"retention-again-{queue}",
                                                   task_queue=queue)

    assert first.cases >= 3 and first.batches >= 2 and first.evidence_files >= 3 and first.customers_erased >= 3
    assert not first.more_left
    assert (second.cases, second.batches, second.more_left) == (0, 1, False)
    with session_factory() as s:
        for c in due:
            assert s.get(RefundCase, c.case_id).anonymised_at is not None
            assert s.get(IntakeForm, c.case_id).reason_text == "" and s.get(Customer, c.customer_id).name == ""
            assert not c.evidence_file.exists()
            assert len(s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.case_id,
                                                         CaseEvent.kind == "anonymised")).all()) == 1
        for c in (held, recent):
            assert s.get(RefundCase, c.case_id).anonymised_at is None and c.evidence_file.is_file()
    for c in (held, recent):
        assert SAID in everything_about(session_factory, c)
