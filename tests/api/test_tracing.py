"""Tracing (issue 16): one trace from the HTTP request through the workflow and the activity to the SQL, with
the SDK's own in-memory exporter; the OTLP/HTTP export to a local receiver; and nothing installed when off."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from api import observability
from api.main import create_app
from config.settings import Settings
from db.session import make_engine, make_session_factory
from tests.api.conftest import Api
from workers.main import build_worker


@pytest.fixture
async def traced(dev_env, pg_url):
    """An app and a worker whose client carries the TracingInterceptor and whose engines are instrumented,
    all on one TracerProvider writing to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = Client(**{**dev_env.client.config(), "interceptors": observability.temporal_interceptors(provider)})
    engine = make_engine(pg_url, pool_size=4)
    observability.instrument_engine(engine, provider)
    queue = f"tracing-test-{uuid.uuid4().hex}"
    app = create_app(Settings(database_url=pg_url, temporal_task_queue=queue), temporal_client=client,
                     tracer_provider=provider)
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = build_worker(client, make_session_factory(engine), task_queue=queue, executor=executor)
        async with worker, app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as http:
                yield http, exporter
    engine.dispose()


async def test_one_trace_runs_from_the_request_through_the_workflow_and_the_activity_to_the_sql(traced, factory):
    http, exporter = traced
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    api = Api(http, sc.users)
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    intake = await api.task("frontdesk", cid, "intake")
    r = await api.post("frontdesk", f"/api/tasks/{intake['id']}/complete", json={
        "reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": sc.id_number,
        "mobile": sc.mobile})
    assert r.status_code == 200, r.text

    spans = exporter.get_finished_spans()
    workflow_id = f"refund-case-{cid}"

    def one(name: str, **attrs):
        found = [s for s in spans if s.name == name and all(s.attributes.get(k) == v for k, v in attrs.items())]
        assert len(found) == 1, (name, [s.name for s in spans])
        return found[0]

    # The registration's request span (FastAPI's, named by the route template) starts the trace …
    request = one("POST /api/refund-cases")
    assert request.kind == SpanKind.SERVER and request.attributes.get("http.route") == "/api/refund-cases"
    trace_id = request.context.trace_id
    start = one("StartWorkflow:RefundCaseWorkflow")
    run = one("RunWorkflow:RefundCaseWorkflow", temporalWorkflowID=workflow_id)
    # … and the workflow, the intake update's handling, the activity it ran and that activity's SQL share it.
    handle = one("HandleUpdate:submit_intake", temporalWorkflowID=workflow_id)
    activity = one("RunActivity:apply_step", temporalWorkflowID=workflow_id)
    assert start.context.trace_id == run.context.trace_id == handle.context.trace_id == activity.context.trace_id == trace_id
    activity_sql = [s for s in spans if s.parent is not None and s.parent.span_id == activity.context.span_id
                    and s.attributes.get("db.system") == "postgresql"]
    assert activity_sql and all(s.context.trace_id == trace_id for s in activity_sql)
    assert any("INSERT INTO case_events" in (s.attributes.get("db.statement") or "") for s in activity_sql)
    # The registration's own SQL (the API's engine) is on the request's trace too.
    api_sql = [s for s in spans if s.context.trace_id == trace_id and "INSERT INTO refund_cases" in (s.attributes.get("db.statement") or "")]
    assert api_sql
    # The intake request has its own trace (it started the update); the workflow's handling links to it.
    complete = one("POST /api/tasks/{task_id}/complete")
    update = one("StartWorkflowUpdate:submit_intake")
    assert update.context.trace_id == complete.context.trace_id != trace_id
    assert any(link.context.trace_id == complete.context.trace_id for link in handle.links)


class _Receiver(BaseHTTPRequestHandler):
    got: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_spans_are_exported_over_otlp_http_when_an_endpoint_is_set():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = observability.tracer_provider(f"http://127.0.0.1:{server.server_port}/", "otlp-test")
        with provider.get_tracer("t").start_as_current_span("hello"):
            pass
        assert provider.force_flush(10_000)
    finally:
        server.shutdown()
    (path, content_type, body), = _Receiver.got
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    sent = ExportTraceServiceRequest.FromString(body)
    resource = sent.resource_spans[0]
    assert {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"] == "estateflow-otlp-test"
    assert [s.name for ss in resource.scope_spans for s in ss.spans] == ["hello"]


def test_tracing_is_off_without_an_endpoint():
    app = create_app(Settings(otel_exporter_otlp_endpoint=""))
    assert app.state.tracer_provider is None
    assert observability.tracer_provider("", "api") is None
    assert observability.temporal_interceptors(None) == []
    assert not [m for m in app.user_middleware if "OpenTelemetry" in m.cls.__name__]
