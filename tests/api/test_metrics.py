"""/metrics after a refund case (issue 16): the case, breach and HTTP series with the right counts, read by
parsing the Prometheus text the endpoint answers; and the worker's Temporal SDK metrics on its own port."""

from __future__ import annotations

import asyncio
import socket
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from api import observability
from api.main import create_app
from config.settings import Settings
from db.models import SlaBreach, Task
from db.notice_models import NoticeDelivery
from tests.api.conftest import Api
from workers.main import build_worker, connect
from workers.telemetry import TEMPORAL_METRIC_NAMES, worker_runtime

SPEEDUP = 900  # the 30-minute intake clock runs 2 s; the 2-hour assessment clock 8 s


def scrape(text: str) -> dict[tuple[str, frozenset], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
async def fast_http(dev_env, pg_url, session_factory):
    """An app of its own (its own HTTP counters) whose SLA clocks run SPEEDUP times faster, with a worker."""
    queue = f"metrics-test-{uuid.uuid4().hex}"
    settings = Settings(database_url=pg_url, temporal_task_queue=queue, estateflow_drill_speedup=SPEEDUP,
                        metrics_cache_s=0)
    app = create_app(settings, temporal_client=dev_env.client)
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = build_worker(dev_env.client, session_factory, task_queue=queue, executor=executor)
        async with worker, app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as http:
                yield http


async def test_metrics_after_a_refund_case_count_the_case_the_breach_and_the_requests(fast_http, factory, session_factory):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    api = Api(fast_http, sc.users)
    project = str(sc.project_id)
    before = scrape((await fast_http.get("/metrics")).text)
    assert value(before, "estateflow_refund_cases_opened_total", project=project) is None

    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    # Nobody does the intake: the 30-minute clock (2 s here) runs out and the breach is written.
    for _ in range(150):
        with session_factory() as s:
            if s.scalar(select(func.count()).select_from(SlaBreach).where(SlaBreach.case_id == uuid.UUID(cid))):
                break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("no intake breach within 15 s")
    r = await api.post("frontdesk", f"/api/refund-cases/{cid}/withdraw", json={"reason": "客户决定继续购买"})
    assert r.status_code == 200 and r.json()["stage"] == "archive", r.text
    archive = await api.task("manager", cid, "archive")
    r = await api.post("manager", f"/api/tasks/{archive['id']}/complete", json={"summary": "客户撤回", "lessons": "及时跟进"})
    assert r.status_code == 200, r.text
    assert (await fast_http.get("/no/such/path/13900001111")).status_code == 404

    r = await fast_http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = scrape(r.text)
    with session_factory() as s:
        breaches = s.execute(select(SlaBreach.sla, func.count()).where(SlaBreach.case_id == uuid.UUID(cid)).group_by(SlaBreach.sla)).all()
        open_tasks = dict(s.execute(select(Task.role, func.count()).where(Task.project_id == sc.project_id, Task.status == "open")
                                    .group_by(Task.role)).all())
        sent = dict(s.execute(select(NoticeDelivery.channel, func.count()).where(NoticeDelivery.status == "sent")
                              .group_by(NoticeDelivery.channel)).all())

    # The case: opened once, closed once, now in stage closed — this project's series only.
    assert value(after, "estateflow_refund_cases_opened_total", project=project) == 1
    assert value(after, "estateflow_refund_cases_closed_total", project=project) == 1
    assert value(after, "estateflow_refund_cases", project=project, stage="closed") == 1
    assert [k for k in after if k[0] == "estateflow_refund_cases" and ("project", project) in k[1]] == [
        ("estateflow_refund_cases", frozenset({("project", project), ("stage", "closed")}))]
    # The breach: exactly the intake step's, as many as PostgreSQL holds.
    assert {sla for sla, _ in breaches} == {"intake"}
    mine = {dict(k[1])["sla"]: v for k, v in after.items()
            if k[0] == "estateflow_sla_breaches_total" and ("project", project) in k[1]}
    assert mine == {"intake": 1}
    # Open tasks by role for the project, as PostgreSQL has them (the breach's escalation task, if still open).
    assert {dict(k[1])["role"]: v for k, v in after.items()
            if k[0] == "estateflow_open_tasks" and ("project", project) in k[1]} == open_tasks
    for channel, n in sent.items():
        assert value(after, "estateflow_notices_delivered_total", channel=channel) == n
    assert value(after, "estateflow_business_metrics_up") == 1

    # HTTP: by route template and status, the raw path never a label.
    def http_count(method: str, route: str, status: str) -> float | None:
        return value(after, "estateflow_http_requests_total", method=method, route=route, status=status)

    assert http_count("POST", "/api/refund-cases", "201") == 1
    assert http_count("POST", "/api/refund-cases/{case_id}/withdraw", "200") == 1
    assert http_count("POST", "/api/tasks/{task_id}/complete", "200") == 1
    assert http_count("GET", "/metrics", "200") == 1  # the scrape before; this one is counted after it answered
    assert http_count("GET", "unmatched", "404") == 1
    assert http_count("POST", "/api/auth/token", "200") == 2  # frontdesk and manager signed in once each
    assert value(after, "estateflow_http_request_duration_seconds_count", method="POST", route="/api/refund-cases") == 1
    assert value(after, "estateflow_http_request_duration_seconds_bucket", method="POST", route="/api/refund-cases",
                 le="+Inf") == 1
    labels = {v for k in after if k[0].startswith("estateflow_http_") for _, v in k[1]}
    assert cid not in " ".join(labels) and not any("13900001111" in v for v in labels)
    # The pool of this process: as wide as configured, nothing held between requests.
    assert value(after, "estateflow_db_pool_size") == 40
    assert value(after, "estateflow_db_pool_checked_out") is not None
    # Every name the module declares is answered (the dashboard may name only these).
    names = {k[0] for k in after}
    assert observability.METRIC_NAMES <= names, observability.METRIC_NAMES - names


async def test_metrics_is_not_in_the_openapi_document_and_answers_without_a_token(http):
    assert "/metrics" not in (await http.get("/openapi.json")).json()["paths"]
    r = await http.get("/metrics")
    assert r.status_code == 200 and "estateflow_http_requests_total" in r.text
    assert r.headers["x-request-id"]


# ------------------------------------------------------------------ the worker's Temporal SDK metrics


@activity.defn(name="metrics_test_fails")
async def fails() -> None:
    raise RuntimeError("fails on purpose")


@activity.defn(name="metrics_test_works")
async def works() -> str:
    return "ok"


@workflow.defn(name="MetricsTestWorkflow", sandboxed=False)
class MetricsTestWorkflow:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(works, start_to_close_timeout=timedelta(seconds=10))
        try:
            await workflow.execute_activity(fails, start_to_close_timeout=timedelta(seconds=10),
                                            retry_policy=RetryPolicy(maximum_attempts=1))
        except Exception:  # noqa: BLE001 - the failure is what is measured
            pass
        return "done"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_worker_metrics_are_off_without_a_port():
    assert worker_runtime(Settings(worker_metrics_port=0)) is None


async def test_the_worker_serves_the_sdks_metrics_on_its_port(dev_env):
    port = free_port()
    settings = Settings(temporal_address=dev_env.client.service_client.config.target_host,
                        temporal_namespace=dev_env.client.namespace, worker_metrics_port=port)
    client = await connect(settings, runtime=worker_runtime(settings))
    queue = f"metrics-sdk-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=queue, workflows=[MetricsTestWorkflow], activities=[works, fails]):
        assert await client.execute_workflow(MetricsTestWorkflow.run, id=queue, task_queue=queue) == "done"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode())
    samples = scrape(body)
    names = {k[0] for k in samples}
    assert TEMPORAL_METRIC_NAMES <= names, TEMPORAL_METRIC_NAMES - names
    failed = sum(v for (n, labels), v in samples.items()
                 if n == "temporal_activity_execution_failed_total" and ("activity_type", "metrics_test_fails") in labels)
    assert failed == 1
    assert sum(v for (n, _), v in samples.items() if n == "temporal_workflow_task_queue_poll_succeed_total") >= 1
