"""The worker's telemetry (issue 16): the Temporal SDK's own metrics on a Prometheus endpoint of the worker's
Runtime, the SDK's TracingInterceptor on its client (and so on the worker), its engine's SQL spans, and the
same structured JSON logs as the API (api/observability.py)."""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from api.observability import configure_logging, instrument_engine, temporal_interceptors, tracer_provider
from config.settings import Settings

# Series the worker's endpoint answers once it has polled and run work (the dashboard names only these;
# tests/api/test_metrics.py reads them from a running worker). Durations are in seconds, counters end in _total.
TEMPORAL_METRIC_NAMES = frozenset({
    "temporal_workflow_task_execution_latency_bucket",
    "temporal_workflow_task_schedule_to_start_latency_bucket",
    "temporal_workflow_task_queue_poll_succeed_total",
    "temporal_activity_execution_failed_total",
    "temporal_activity_execution_latency_bucket",
    "temporal_worker_task_slots_available",
    "temporal_request_total",
})


def metrics_bind_address(settings: Settings) -> str | None:
    if not settings.worker_metrics_port:
        return None
    return f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"


def worker_runtime(settings: Settings) -> Runtime | None:
    """A Runtime serving the SDK's metrics at http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics, or None
    (the SDK's default runtime, no endpoint) when WORKER_METRICS_PORT is 0."""
    bind = metrics_bind_address(settings)
    if bind is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
        bind_address=bind, counters_total_suffix=True, durations_as_seconds=True,
    )))


def setup(settings: Settings):
    """Logging for the worker process, and its TracerProvider (None: tracing off)."""
    configure_logging("worker", fmt=settings.log_format, level=settings.log_level)
    return tracer_provider(settings.otel_exporter_otlp_endpoint, "worker")


__all__ = ["TEMPORAL_METRIC_NAMES", "instrument_engine", "setup", "temporal_interceptors", "worker_runtime"]
