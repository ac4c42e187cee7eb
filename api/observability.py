"""Observability (issue 16): Prometheus metrics at /metrics, OpenTelemetry traces, structured JSON logs.

Metrics. Two kinds, read differently (docs/decisions.md, "Observability"):
- HTTP metrics are this process's own: requests by method, route *template* and status, and a latency
  histogram, counted by `ObservabilityMiddleware`. Each API process is scraped on its own (Prometheus finds
  every replica of the `api` service through DNS); queries sum over instances.
- Business metrics (cases, breaches, open tasks, notices) are PostgreSQL's: `BusinessCollector` reads them at
  scrape time with one bounded query each, so every process answers the same numbers and no event counted
  in a process that died is lost. Dashboards take `max` over instances of these, never `sum`.
- The connection pool's use is per process (`PoolCollector`), read from the engine at scrape time.

Traces. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then FastAPI and SQLAlchemy are instrumented and the
Temporal client carries the SDK's TracingInterceptor, all on one TracerProvider exporting OTLP/HTTP.
Off, nothing is installed (no middleware, no event listener, no interceptor).

Logs. One JSON object per line (structlog over the standard library's logging, so every existing logger
is structured too), with the request id, trace id, the ids in the route's path, and the workflow id in a
worker. A last processor masks what looks like a mobile or an ID number (whole or masked) anywhere in a
line, as a safety net: the code logs no personal data in the first place (tests/test_logs_no_pii.py).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import time
import uuid
from typing import Any, Callable, Iterable

import prometheus_client
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

# The _created series double every counter for nothing a dashboard uses.
prometheus_client.disable_created_metrics()

log = logging.getLogger("estateflow.api")

# ---------------------------------------------------------------------------------------------- metric names

HTTP_REQUESTS = "estateflow_http_requests"  # counter: _total
HTTP_DURATION = "estateflow_http_request_duration_seconds"  # histogram
CASES = "estateflow_refund_cases"  # gauge {project, stage}
CASES_OPENED = "estateflow_refund_cases_opened"  # counter {project}
CASES_CLOSED = "estateflow_refund_cases_closed"  # counter {project}
SLA_BREACHES = "estateflow_sla_breaches"  # counter {project, sla}
OPEN_TASKS = "estateflow_open_tasks"  # gauge {project, role}
OVERDUE_TASKS = "estateflow_overdue_tasks"  # gauge {project, role}
NOTICES_DELIVERED = "estateflow_notices_delivered"  # counter {channel}
NOTICES_FAILED = "estateflow_notices_failed"  # counter {channel}
NOTICES_PENDING = "estateflow_notices_pending"  # gauge {channel}
PROJECT_INFO = "estateflow_project_info"  # gauge 1 {project, name}
BUSINESS_SCRAPE_OK = "estateflow_business_metrics_up"  # gauge 1 / 0
BUSINESS_SCRAPE_SECONDS = "estateflow_business_metrics_scrape_seconds"  # gauge
POOL_SIZE = "estateflow_db_pool_size"  # gauge: pool_size + max_overflow
POOL_CHECKED_OUT = "estateflow_db_pool_checked_out"  # gauge
POOL_OVERFLOW = "estateflow_db_pool_overflow"  # gauge

# Every series name /metrics can answer (a counter's with its _total, a histogram's with _bucket/_sum/_count):
# the Grafana dashboard may name only these (tests/test_compose.py).
METRIC_NAMES = frozenset({
    f"{HTTP_REQUESTS}_total", f"{HTTP_DURATION}_bucket", f"{HTTP_DURATION}_sum", f"{HTTP_DURATION}_count",
    CASES, f"{CASES_OPENED}_total", f"{CASES_CLOSED}_total", f"{SLA_BREACHES}_total", OPEN_TASKS, OVERDUE_TASKS,
    f"{NOTICES_DELIVERED}_total", f"{NOTICES_FAILED}_total", NOTICES_PENDING, PROJECT_INFO, BUSINESS_SCRAPE_OK,
    BUSINESS_SCRAPE_SECONDS, POOL_SIZE, POOL_CHECKED_OUT, POOL_OVERFLOW,
})

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests not logged at INFO (Prometheus and the orchestrator ask every few seconds).
_QUIET_ROUTES = frozenset({"/metrics", "/api/health/live", "/api/health/ready", "/api/health"})
UNMATCHED = "unmatched"  # a path no route answers: one label value, whatever was asked


class HttpMetrics:
    """This process's HTTP counters, registered in the app's own registry (one app per process in
    production; in the tests every app counts its own)."""

    def __init__(self) -> None:
        self.requests = Counter(HTTP_REQUESTS, "HTTP requests answered, by method, route template and status",
                                ["method", "route", "status"], registry=None)
        self.duration = Histogram(HTTP_DURATION, "HTTP request latency by method and route template",
                                  ["method", "route"], buckets=LATENCY_BUCKETS, registry=None)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


def route_template(scope: dict) -> str:
    """The route the router matched (`/api/refund-cases/{case_id}`, a mount's prefix), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


# ---------------------------------------------------------------------------------------------- business

# One query per family, each bounded by the transaction's statement timeout. Projects are labelled by id
# (estateflow_project_info carries the name); every label set is bounded by projects x a fixed vocabulary.
_Q_CASES = text("SELECT project_id, stage, count(*) FROM refund_cases GROUP BY project_id, stage")
_Q_BREACHES = text(
    "SELECT c.project_id, b.sla, count(*) FROM sla_breaches b JOIN refund_cases c ON c.id = b.case_id "
    "GROUP BY c.project_id, b.sla"
)
_Q_TASKS = text(
    "SELECT project_id, role, count(*), count(*) FILTER (WHERE due_at < now()) FROM tasks "
    "WHERE status = 'open' GROUP BY project_id, role"
)
_Q_NOTICES = text("SELECT channel, status, count(*) FROM notice_deliveries GROUP BY channel, status")
_Q_PROJECTS = text("SELECT id, name FROM projects")
SCRAPE_STATEMENT_TIMEOUT_MS = 2000
NOTICE_CHANNELS = frozenset({"inapp", "wecom", "dingtalk", "email"})


class BusinessCollector(Collector):
    """Reads the sales office's numbers from PostgreSQL at scrape time; answers from the last reading when
    asked again within `cache_s` (several scrapers, several API processes)."""

    def __init__(self, engine_of: Callable[[], Engine | None], *, cache_s: float = 10.0) -> None:
        self._engine_of = engine_of
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._last: tuple[float, list[Metric]] | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # no describe-time query: registering must not touch the database

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self._cache_s:
                return list(self._last[1])
            metrics = self._read()
            self._last = (now, metrics)
            return list(metrics)

    def _read(self) -> list[Metric]:
        up = GaugeMetricFamily(BUSINESS_SCRAPE_OK, "1 when the business metrics were read from PostgreSQL")
        took = GaugeMetricFamily(BUSINESS_SCRAPE_SECONDS, "How long reading the business metrics took")
        engine = self._engine_of()
        if engine is None:
            up.add_metric([], 0)
            return [up]
        start = time.perf_counter()
        try:
            with engine.connect() as conn, conn.begin():
                conn.execute(text(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}"))
                cases = conn.execute(_Q_CASES).all()
                breaches = conn.execute(_Q_BREACHES).all()
                tasks = conn.execute(_Q_TASKS).all()
                notices = conn.execute(_Q_NOTICES).all()
                projects = conn.execute(_Q_PROJECTS).all()
        except Exception as err:  # noqa: BLE001 - a scrape answers "down", it does not fail the endpoint
            log.warning("business metrics not read: %s", err.__class__.__name__)
            up.add_metric([], 0)
            return [up]
        by_stage = GaugeMetricFamily(CASES, "Refund cases now in each stage", labels=["project", "stage"])
        opened = CounterMetricFamily(CASES_OPENED, "Refund cases registered", labels=["project"])
        closed = CounterMetricFamily(CASES_CLOSED, "Refund cases closed", labels=["project"])
        opened_n: dict[str, int] = {}
        closed_n: dict[str, int] = {}
        for project_id, stage, n in cases:
            p = str(project_id)
            by_stage.add_metric([p, stage], n)
            opened_n[p] = opened_n.get(p, 0) + n
            if stage == "closed":
                closed_n[p] = closed_n.get(p, 0) + n
        for p, n in sorted(opened_n.items()):
            opened.add_metric([p], n)
            closed.add_metric([p], closed_n.get(p, 0))
        breach = CounterMetricFamily(SLA_BREACHES, "SLA deadlines missed, by step", labels=["project", "sla"])
        for project_id, sla, n in breaches:
            breach.add_metric([str(project_id), sla], n)
        open_tasks = GaugeMetricFamily(OPEN_TASKS, "Open tasks by role pool and project", labels=["project", "role"])
        overdue = GaugeMetricFamily(OVERDUE_TASKS, "Open tasks past their due time", labels=["project", "role"])
        for project_id, role, n, late in tasks:
            open_tasks.add_metric([str(project_id), role], n)
            overdue.add_metric([str(project_id), role], late)
        delivered = CounterMetricFamily(NOTICES_DELIVERED, "Notice deliveries sent", labels=["channel"])
        failed = CounterMetricFamily(NOTICES_FAILED, "Notice deliveries given up (dead letters)", labels=["channel"])
        pending = GaugeMetricFamily(NOTICES_PENDING, "Notice deliveries waiting to be sent", labels=["channel"])
        counts = {(channel, status): n for channel, status, n in notices}
        for channel in sorted(NOTICE_CHANNELS | {c for c, _ in counts}):  # the known channels even at 0
            delivered.add_metric([channel], counts.get((channel, "sent"), 0))
            failed.add_metric([channel], counts.get((channel, "dead"), 0))
            pending.add_metric([channel], counts.get((channel, "pending"), 0))
        info = GaugeMetricFamily(PROJECT_INFO, "A project's name by its id", labels=["project", "name"])
        for project_id, name in projects:
            info.add_metric([str(project_id), name], 1)
        up.add_metric([], 1)
        took.add_metric([], time.perf_counter() - start)
        return [by_stage, opened, closed, breach, open_tasks, overdue, delivered, failed, pending, info, up, took]


class PoolCollector(Collector):
    """This process's connection pool, read from the engine at scrape time."""

    def __init__(self, engine_of: Callable[[], Engine | None]) -> None:
        self._engine_of = engine_of

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        engine = self._engine_of()
        pool = getattr(engine, "pool", None)
        if pool is None or not hasattr(pool, "checkedout"):
            return []
        size = GaugeMetricFamily(POOL_SIZE, "Connections the pool may hold (pool_size + max_overflow)")
        out = GaugeMetricFamily(POOL_CHECKED_OUT, "Connections in use")
        over = GaugeMetricFamily(POOL_OVERFLOW, "Connections open beyond pool_size")
        size.add_metric([], pool.size() + max(getattr(pool, "_max_overflow", 0), 0))
        out.add_metric([], pool.checkedout())
        over.add_metric([], max(pool.overflow(), 0))
        return [size, out, over]


def metrics_registry(http: HttpMetrics, engine_of: Callable[[], Engine | None], *, cache_s: float) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(http.requests)
    registry.register(http.duration)
    registry.register(BusinessCollector(engine_of, cache_s=cache_s))
    registry.register(PoolCollector(engine_of))
    prometheus_client.ProcessCollector(registry=registry)
    return registry


# ---------------------------------------------------------------------------------------------- logging

# The request being served (its ASGI scope, which the router fills with the route and path parameters).
_SCOPE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("estateflow_scope", default=None)

_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?1[3-9][0-9]{9}(?![0-9])")
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MASKED = re.compile(r"[0-9A-Za-z]*\*{2,}[0-9A-Za-z]*")
_NOT_REDACTED = frozenset({"timestamp", "trace_id", "span_id", "request_id", "level", "logger", "service"})


# Opaque ids of known shapes — a UUID (a case's, a workflow's "refund-case-<uuid>"), a 32-hex trace id or uuid4
# hex, a 40/64-hex digest — are no one's data, yet about one in two hundred random UUIDs holds eleven digits that
# read as a mobile ("…-13811851124b"). They are left whole; only the text between them is searched. Only these
# lengths: a mobile glued to a few hex letters ("13957146283abcde") is still caught.
_OPAQUE_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9A-Za-z])"
)


def _redact_plain(value: str) -> str:
    value = _MASKED.sub("[masked]", value)
    value = _RESIDENT_ID.sub("[id-number]", value)
    return _MOBILE.sub("[mobile]", value)


def _redact_text(value: str) -> str:
    out, at = [], 0
    for m in _OPAQUE_ID.finditer(value):
        out += (_redact_plain(value[at:m.start()]), m.group())
        at = m.end()
    out.append(_redact_plain(value[at:]))
    return "".join(out)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(v) for v in value]
    return value


def redact_pii(_logger: Any, _method: str, event_dict: dict) -> dict:
    """The safety net: a mobile, an ID number or a masked one (138****5678) anywhere in a line is replaced."""
    return {k: (v if k in _NOT_REDACTED else _redact(v)) for k, v in event_dict.items()}


def add_trace_context(_logger: Any, _method: str, event_dict: dict) -> dict:
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event_dict.setdefault("span_id", format(ctx.span_id, "016x"))
    return event_dict


def add_request_context(_logger: Any, _method: str, event_dict: dict) -> dict:
    """The record ids in the matched route's path (case_id, task_id, …): ids, never personal data."""
    scope = _SCOPE.get()
    if scope is not None:
        for name, value in (scope.get("path_params") or {}).items():
            if name.endswith("_id"):
                event_dict.setdefault(name, str(value))
    return event_dict


def add_temporal_context(_logger: Any, _method: str, event_dict: dict) -> dict:
    """In a worker: the workflow (and the refund case it runs) a log line belongs to."""
    record = event_dict.get("_record")
    found: dict = {}
    for attr in ("temporal_activity", "temporal_workflow"):
        extra = getattr(record, attr, None) if record is not None else None
        if isinstance(extra, dict):
            found = extra
            break
    if not found:
        from temporalio import activity

        try:
            if activity.in_activity():
                info = activity.info()
                found = {"workflow_id": info.workflow_id, "activity_type": info.activity_type}
        except Exception:  # noqa: BLE001 - outside an activity context
            found = {}
    for key in ("workflow_id", "run_id", "workflow_type", "activity_type"):
        if found.get(key):
            event_dict.setdefault(key, found[key])
    workflow_id = event_dict.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id.startswith("refund-case-"):
        event_dict.setdefault("case_id", workflow_id[len("refund-case-"):])
    return event_dict


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


_HANDLER_FLAG = "_estateflow_log_handler"


def _shared_processors(service: str) -> list:
    def add_service(_l: Any, _m: str, event_dict: dict) -> dict:
        event_dict.setdefault("service", service)
        return event_dict

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
        add_request_context,
        add_trace_context,
        add_temporal_context,
    ]


def log_formatter(service: str, fmt: str = "json") -> logging.Formatter:
    renderer = (structlog.processors.JSONRenderer(serializer=json.dumps, ensure_ascii=False, default=str)
                if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(service),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_pii,
            renderer,
        ],
    )


def configure_logging(service: str, *, fmt: str = "json", level: str = "INFO",
                      handler: logging.Handler | None = None) -> logging.Handler:
    """Every log line of the process, ours and the libraries', through one structured handler on the root
    logger (installed once; calling again replaces it). Returns the handler."""
    structlog.configure(
        processors=[*_shared_processors(service), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = handler or _StderrHandler()
    handler.setFormatter(log_formatter(service, fmt))
    setattr(handler, _HANDLER_FLAG, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own lines through the same handler; its access line is replaced by ours (route template, no
    # query string: a query may carry a mobile).
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # The Temporal SDK's loggers put the workflow / activity on the record (temporal_*); not also on the message.
    from temporalio import activity, workflow

    activity.logger.activity_info_on_message = False
    workflow.logger.workflow_info_on_message = False
    return handler


_http_log = structlog.get_logger("estateflow.http")


def _request_id(scope: dict) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            given = value.decode("latin-1")
            # Strict: nothing that reads as a mobile or an ID number anywhere, ids or not (the id is logged
            # unredacted on every line of the request; refusing one only means a fresh id).
            if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", given) and _redact_plain(given) == given:
                return given
            break
    return uuid.uuid4().hex


class ObservabilityMiddleware:
    """Pure ASGI: a request id (X-Request-ID, given or new) bound for the request's log lines, the HTTP
    metrics by route template, and one access line per request."""

    def __init__(self, app, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        status = 500

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        token = _SCOPE.set(scope)
        start = time.perf_counter()
        try:
            with structlog.contextvars.bound_contextvars(request_id=rid):
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    elapsed = time.perf_counter() - start
                    route = route_template(scope)
                    method = scope.get("method", "GET")
                    method = method if method in _METHODS else "OTHER"
                    self.metrics.observe(method, route, status, elapsed)
                    level = logging.DEBUG if route in _QUIET_ROUTES and status < 500 else logging.INFO
                    _http_log.log(level, "request", method=method, route=route, status=status,
                                  duration_ms=round(elapsed * 1000, 1))
        finally:
            _SCOPE.reset(token)


# ---------------------------------------------------------------------------------------------- tracing

_PROVIDERS: dict[tuple[str, str], Any] = {}
_PROVIDERS_LOCK = threading.Lock()


def tracer_provider(endpoint: str, service: str):
    """The process's TracerProvider exporting OTLP/HTTP to `endpoint` (a base URL; /v1/traces is appended),
    or None when no endpoint is set: tracing off."""
    endpoint = (endpoint or "").strip()
    if not endpoint:
        return None
    with _PROVIDERS_LOCK:
        key = (service, endpoint)
        if key not in _PROVIDERS:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            provider = TracerProvider(resource=Resource.create({"service.name": f"estateflow-{service}",
                                                                "service.namespace": "estateflow"}))
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
            _PROVIDERS[key] = provider
        return _PROVIDERS[key]


def instrument_engine(engine: Engine, provider) -> None:
    """SQL statements as spans, on this engine only (the instrumentor's own entry point is once per process;
    the tests build several engines)."""
    if provider is None:
        return
    from opentelemetry import metrics
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = metrics.NoOpMeter("estateflow").create_up_down_counter("db.client.connections.usage")
    EngineTracer(provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine, usage)


def temporal_interceptors(provider) -> list:
    """The Temporal SDK's TracingInterceptor on the provider's tracer (client and, through the client, the
    worker), or none when tracing is off."""
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("temporalio"))]


# ---------------------------------------------------------------------------------------------- the app


def install(app, settings, *, provider=None) -> None:
    """Wire the app: /metrics (left out of the OpenAPI document), the request middleware, and — when tracing
    is on — FastAPI's instrumentation. The engine is instrumented and the Temporal client intercepted in the
    lifespan (`app.state.tracer_provider`)."""
    from fastapi.responses import Response

    provider = provider if provider is not None else tracer_provider(settings.otel_exporter_otlp_endpoint, "api")
    app.state.tracer_provider = provider
    http = HttpMetrics()
    registry = metrics_registry(http, lambda: getattr(app.state, "engine", None), cache_s=settings.metrics_cache_s)
    app.state.metrics_registry = registry

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:  # sync: the business collector queries PostgreSQL on a worker thread
        return Response(prometheus_client.generate_latest(registry), media_type=prometheus_client.CONTENT_TYPE_LATEST)

    app.add_middleware(ObservabilityMiddleware, metrics=http)
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="/metrics,/api/health",
                                           exclude_spans=["receive", "send"])
