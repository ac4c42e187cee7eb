"""The worker creates the warning-sweep schedule once, on the real dev server; a second start is a no-op."""

from __future__ import annotations

import uuid

from workers.main import ensure_warning_sweep_schedule
from workflows.warning_sweep import WARNING_SWEEP_EVERY, WARNING_SWEEP_SCHEDULE_ID


async def test_the_warning_sweep_schedule_is_created_once_every_five_minutes(dev_env):
    queue = f"schedule-test-{uuid.uuid4().hex}"
    await ensure_warning_sweep_schedule(dev_env.client, queue)
    await ensure_warning_sweep_schedule(dev_env.client, queue)  # idempotent
    handle = dev_env.client.get_schedule_handle(WARNING_SWEEP_SCHEDULE_ID)
    desc = await handle.describe()
    assert [i.every for i in desc.schedule.spec.intervals] == [WARNING_SWEEP_EVERY]
    assert desc.schedule.action.workflow == "WarningSweepWorkflow"
    await handle.delete()
