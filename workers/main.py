"""The worker process: `python -m workers.main`. Builds its dependencies, registers the lists in
workers/registry.py, and shuts down gracefully on SIGINT / SIGTERM (finishing running activities)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from sqlalchemy.engine import make_url
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import UpdateNamespaceRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.worker import Worker

from config.settings import Settings, get_settings
from db.pii import PiiCipher
from db.session import make_engine, make_session_factory
from workers import telemetry
from workers.channels.email import EmailSender
from workers.dispatcher import Dispatcher
from workers.registry import WORKFLOWS, activities, data_converter, workflow_runner
from workflows.retention_sweep import (
    RETENTION_SWEEP_SCHEDULE_ID,
    RETENTION_SWEEP_WORKFLOW_ID,
    RetentionSweepWorkflow,
)
from workflows.warning_sweep import (
    WARNING_SWEEP_EVERY,
    WARNING_SWEEP_SCHEDULE_ID,
    WarningSweepWorkflow,
)

log = logging.getLogger("estateflow.worker")


async def connect(settings: Settings, *, runtime=None, interceptors=()) -> Client:
    """`runtime`: the SDK's metrics endpoint (telemetry.worker_runtime); `interceptors`: tracing, when on — a
    client's interceptors are the worker's too."""
    return await Client.connect(
        settings.temporal_target, namespace=settings.temporal_namespace, data_converter=data_converter,
        runtime=runtime, interceptors=list(interceptors),
    )


def build_worker(client: Client, session_factory, *, task_queue: str, executor: ThreadPoolExecutor) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(client.data_converter),
        activities=activities(session_factory),
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def ensure_warning_sweep_schedule(client: Client, task_queue: str) -> None:
    """The early-warning sweep runs every few minutes from a Temporal schedule (created once; idempotent)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WarningSweepWorkflow.run, id="estateflow-warning-sweep-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=WARNING_SWEEP_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(WARNING_SWEEP_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        pass


def retention_sweep_spec(at_hour: int) -> ScheduleSpec:
    """Daily at `at_hour` China time, written in UTC (China keeps UTC+8 all year): no time-zone data needed on
    the server."""
    return ScheduleSpec(calendars=[ScheduleCalendarSpec(hour=[ScheduleRange((at_hour - 8) % 24)],
                                                        comment=f"daily at {at_hour:02d}:00 China time")])


async def ensure_retention_sweep_schedule(client: Client, task_queue: str, at_hour: int) -> None:
    """The records-retention sweep runs daily from a Temporal schedule (created once; idempotent). An existing
    schedule gets the hour now configured (ANONYMISE_AT_HOUR) and keeps its state (paused by ops stays paused)."""
    spec = retention_sweep_spec(at_hour)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(RetentionSweepWorkflow.run, id=RETENTION_SWEEP_WORKFLOW_ID,
                                           task_queue=task_queue),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(RETENTION_SWEEP_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        def new_hour(given: ScheduleUpdateInput) -> ScheduleUpdate | None:
            current = given.description.schedule
            if current.spec.calendars == spec.calendars:
                return None  # nothing to change
            current.spec = spec
            return ScheduleUpdate(schedule=current)

        await client.get_schedule_handle(RETENTION_SWEEP_SCHEDULE_ID).update(new_hour)


async def ensure_retention(client: Client, namespace: str, days: int) -> None:
    """The namespace keeps closed runs' histories `days` days: set explicitly, not left to the server's default
    (the dev server's is one day). Idempotent."""
    await client.workflow_service.update_namespace(UpdateNamespaceRequest(
        namespace=namespace,
        config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=days * 86400)),  # only what is set
    ))


async def main() -> None:
    settings = get_settings()
    tracing = telemetry.setup(settings)  # JSON logs; the TracerProvider when OTEL_EXPORTER_OTLP_ENDPOINT is set
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set (make run sets it for the embedded PostgreSQL)")
    engine = make_engine(settings.database_url, pool_size=16)
    telemetry.instrument_engine(engine, tracing)
    client = await connect(settings, runtime=telemetry.worker_runtime(settings),
                           interceptors=telemetry.temporal_interceptors(tracing))
    if settings.worker_metrics_port:
        log.info("Temporal SDK metrics on http://%s/metrics", telemetry.metrics_bind_address(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    session_factory = make_session_factory(engine)
    # The notice dispatcher: a thread of this process (docs/decisions.md, "Notifications").
    mailer = EmailSender(settings.smtp_host, settings.smtp_port, settings.smtp_username or None,
                         settings.smtp_password or None, settings.smtp_sender, settings.smtp_starttls) if settings.smtp_host else None
    dispatcher = Dispatcher(session_factory, PiiCipher(settings.data_key, settings.blind_index_key),
                            base_url=settings.public_base_url, mailer=mailer)
    stop_dispatch = threading.Event()
    dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    dispatch = threading.Thread(target=dispatcher.run, args=(stop_dispatch,), kwargs={"dsn": dsn}, name="dispatcher",
                                daemon=True)
    dispatch.start()
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, session_factory, task_queue=settings.temporal_task_queue, executor=executor)
        await ensure_warning_sweep_schedule(client, settings.temporal_task_queue)
        await ensure_retention_sweep_schedule(client, settings.temporal_task_queue, settings.anonymise_at_hour)
        await ensure_retention(client, settings.temporal_namespace, settings.temporal_retention_days)
        async with worker:
            log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_target)
            await stop.wait()
            log.info("shutting down")
    stop_dispatch.set()
    dispatch.join(timeout=10)
    engine.dispose()


def run() -> None:
    """uvloop's event loop when installed (it comes with uvicorn[standard]): the worker's own loop carries every
    poll, completion and activity hand-off, and uvloop's costs less CPU per callback than asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


if __name__ == "__main__":
    run()
