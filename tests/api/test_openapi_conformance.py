"""Issue 10, an honest OpenAPI document: Schemathesis sends generated requests to EVERY operation of the app's
own document (GET /openapi.json) and checks each answer against it — no server error, a documented status,
the documented content type, a body that matches the documented schema.

The requests go in-process to the shared API app (the `http` fixture: the real dev server, the embedded
PostgreSQL and a worker), through a `requests` adapter that hands Schemathesis' prepared request to the
app's httpx client on the test's event loop, so the app's lifespan, pool and engine client are the ones
every other API test uses. Each operation is exercised as two roles (manager and frontdesk, each with a
bearer token from POST /api/auth/token):

- `positive`: data valid for the document (mostly 404s for random ids, 403s, 409s, 422s from the rules);
- `negative`: data the document refuses (wrong types, missing fields: 422);
- `records`: positive data, with the path's ids naming real records made for this test (a refund case and
  its intake task, a customer, a contract, a price list, a unit, a project, a loan, an evidence file), so
  that success answers are checked too. Uploads in this pass send a real file (a PDF for evidence, a CSV of
  units or prices for the imports); in the other passes they send whatever bytes Schemathesis makes.

Examples are bounded (MAX_EXAMPLES per operation, role and pass; CONFORMANCE_MAX_EXAMPLES overrides it),
Hypothesis runs derandomized and seeded (SEED), as Schemathesis' own `--generation-deterministic --seed` do,
so every run sends the same requests, and nothing is excluded. The figures are printed; the test fails on
any server error or conformance failure, with each one's request and response.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import pytest
import requests
import requests.adapters
import schemathesis
import urllib3
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.settings import PROJECT_ROOT
from tests.api.conftest import Api
from tests.factories_inventory import UNIT_HEADER, csv_bytes, new_project, unit_rows

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("manager", "frontdesk")
MAX_EXAMPLES = int(os.environ.get("CONFORMANCE_MAX_EXAMPLES", "30"))
SEED = 20261123
BASE = "http://test"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Operations Schemathesis cannot exercise, with the reason. Empty: every operation runs.
NOT_EXERCISED: dict[str, str] = {}

# Dates and times at the edges, besides Schemathesis' own (uniform over years 1–9999, so it almost never
# draws an edge): year 1 in a zone east of UTC is year 0 in UTC, 9999-12-31 west of UTC is year 10000, and
# either side of the range the API accepts (api.strict: 1900-01-01 to 2199-12-31).
EDGE_DATES = ["0001-01-01", "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "9999-12-31"]
EDGE_TIMES = ["00:00:00+14:00", "23:59:59-14:00", "12:00:00Z", "00:00:00"]
ZONES = st.sampled_from([None, timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-14))])
schemathesis.openapi.format("date", st.sampled_from(EDGE_DATES) | st.dates().map(str))
schemathesis.openapi.format("date-time", st.builds("{}T{}".format, st.sampled_from(EDGE_DATES), st.sampled_from(EDGE_TIMES))
                            | st.datetimes(timezones=ZONES).map(datetime.isoformat))


class LoopAdapter(requests.adapters.HTTPAdapter):
    """Sends a prepared request (the exact bytes Schemathesis built) to the app through the test's httpx
    client, on the event loop that owns it, and hands the answer back as a `requests` response."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        super().__init__()
        self.http = http

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        r = anyio.from_thread.run(lambda: self.http.request(request.method, request.url, headers=dict(request.headers),
                                                            content=body or b""))
        headers = [(k, v) for k, v in r.headers.multi_items() if k.lower() not in ("content-encoding", "transfer-encoding")]
        raw = urllib3.HTTPResponse(body=io.BytesIO(r.content), headers=headers, status=r.status_code,
                                   reason=r.reason_phrase, version=11, preload_content=False, decode_content=False)
        return self.build_response(request, raw)


def bridge(http: httpx.AsyncClient) -> requests.Session:
    session = requests.Session()
    session.mount("http://", LoopAdapter(http))
    return session


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    examples: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, failure title) -> first report
    server_errors: int = 0
    no_input: list[str] = field(default_factory=list)  # (operation, pass) with no input of that kind at all


async def records(factory, http) -> tuple[dict[str, Any], dict[str, dict]]:
    """Real records for the `records` pass: path parameter values, and upload bodies by operation."""
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    signed = factory.scenario(deposit=Decimal("50000"), users=sc.users)
    api = Api(http, sc.users)
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    case = r.json()
    r = await api.post("frontdesk", f"/api/refund-cases/{case['id']}/evidence",
                       files={"file": ("id-scan.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    evidence_id = r.json()["id"]
    r = await api.post("sales", "/api/contracts", json={
        "subscription_id": signed.subscription_id, "contract_no": f"HT-{uuid.uuid4().hex[:10]}", "signed_on": "2026-11-02"})
    assert r.status_code == 201, r.text
    contract_id = r.json()["id"]
    project_id = new_project(factory.sf)
    r = await api.post("manager", f"/api/projects/{project_id}/units/import",
                       files={"file": ("units.csv", csv_bytes(unit_rows()), "text/csv")})
    assert r.status_code == 201, r.text
    prices = csv_bytes([["building", "code", "unit_price"], ["1号楼", "101", "20000"]])
    r = await api.post("manager", f"/api/projects/{project_id}/price-lists/import",
                       files={"file": ("prices.csv", prices, "text/csv")})
    assert r.status_code == 201, r.text
    price_list_id = r.json()["id"]
    loan_id = f"conf-{uuid.uuid4().hex[:12]}"
    r = await api.post("finance", "/api/mortgages", json={
        "loan_id": loan_id, "contract_id": contract_id, "requested_on": "2026-11-20", "bank": "工商银行",
        "loan_amount": "1000000"})
    assert r.status_code == 201, r.text
    ids = {
        "case_id": case["id"], "task_id": case["open_tasks"][0]["id"], "project_id": sc.project_id,
        "unit_id": sc.unit_id, "customer_id": sc.customer_id, "contract_id": contract_id,
        "price_list_id": price_list_id, "evidence_id": evidence_id, "loan_id": loan_id,
    }
    more_units = csv_bytes([UNIT_HEADER, ["一期", "2号楼", "1单元", 1, "101", "住宅", "三室两厅", "南", "100.00", "", "", ""]])
    uploads = {
        "POST /api/refund-cases/{case_id}/evidence": {"file": PDF, "note": "signed form"},
        "POST /api/projects/{project_id}/units/import": {"file": more_units},
        "POST /api/projects/{project_id}/price-lists/import": {"file": prices},
    }
    return ids, uploads


def explore(schema, http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, Any],
            uploads: dict[str, dict], tally: Tally) -> None:
    """Runs in a worker thread: Hypothesis drives each operation; requests go to the loop through `bridge`."""
    session = bridge(http)
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label  # "GET /api/..."
        if label in NOT_EXERCISED:
            continue
        tally.operations.add(label)
        names = [p.name for p in operation.path_parameters]
        known = {n: ids[n] for n in names if n in ids}
        passes = [("positive", {"generation_mode": GenerationMode.POSITIVE}),
                  ("negative", {"generation_mode": GenerationMode.NEGATIVE})]
        if known or label in uploads:
            extra: dict[str, Any] = {"path_parameters": known} if known else {}
            if label in uploads:
                extra.update(body=uploads[label], media_type="multipart/form-data")
            passes.append(("records", {"generation_mode": GenerationMode.POSITIVE, **extra}))
        for role in ROLES:
            for pass_name, kwargs in passes:
                exercise(operation.as_strategy(**kwargs), label, role, pass_name, tokens[role], session, tally)


def exercise(strategy, label: str, role: str, pass_name: str, token: str, session: requests.Session, tally: Tally) -> None:
    """MAX_EXAMPLES cases of one operation, role and pass: each sent and checked; failures are kept, not raised,
    so that one run reports every failing operation."""

    @seed(SEED)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        tally.examples += 1
        try:
            response = case.call(base_url=BASE, session=session)
        except Exception as exc:  # the app raised instead of answering: a server error too
            tally.server_errors += 1
            key = (label, f"Unhandled {type(exc).__name__}")
            tally.failures.setdefault(key, f"[{role}, {pass_name}] {type(exc).__name__}: {exc}\n"
                                           f"    {case.as_curl_command(base_url=BASE)}")
            return
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # a FailureGroup: keep the first report of each kind
            for f in getattr(failure, "exceptions", [failure]):
                key = (label, getattr(f, "title", type(f).__name__))
                tally.failures.setdefault(key, f"[{role}, {pass_name}] {failure}")

    try:
        run()
    except Unsatisfiable:  # e.g. no negative input exists: every value the document allows is also accepted
        tally.no_input.append(f"{label} [{pass_name}, {role}]")


@pytest.fixture
async def conformance_world(factory, http):
    ids, uploads = await records(factory, http)
    users = factory.users()
    tokens = {}
    for role in ROLES:
        r = await http.post("/api/auth/token", data={"username": users[role].username, "password": "test-password"})
        assert r.status_code == 200, r.text
        tokens[role] = r.json()["access_token"]
    return ids, uploads, tokens


async def test_every_operation_answers_as_its_openapi_document_says(http, conformance_world, capsys):
    ids, uploads, tokens = conformance_world
    document = (await http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops}
    tally = Tally()
    t0 = time.perf_counter()
    await anyio.to_thread.run_sync(explore, schema, http, tokens, ids, uploads, tally)
    took = time.perf_counter() - t0
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
    with capsys.disabled():
        print(f"\nschemathesis: {len(tally.operations)} of {len(operations)} operations, {tally.examples} examples "
              f"({len(ROLES)} roles; positive, negative and records passes; max {MAX_EXAMPLES} each; seed {SEED}) "
              f"in {took:.0f} s; statuses {statuses}; {tally.server_errors} server errors, "
              f"{len(tally.failures)} distinct failures")
        if tally.no_input:
            print("no input of the pass's kind exists for: " + "; ".join(sorted(set(tally.no_input))))
        for (op, title), report in sorted(tally.failures.items()):
            print(f"--- {op}: {title}\n{report[:3000]}")
    assert tally.operations == operations - set(NOT_EXERCISED), "operations not exercised"
    assert tally.server_errors == 0 and not tally.failures, f"{len(tally.failures)} failures (printed above)"


# ---------------------------------------------------------------- the document and /docs ----------


async def test_every_error_response_is_documented_with_the_one_error_body(http):
    doc = (await http.get("/openapi.json")).json()
    assert "HTTPValidationError" not in str(doc) and "ValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["ErrorBody"]["required"] == [
        "code", "message", "errors", "detail", "key", "params", "message_zh"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            responses, where = op["responses"], f"{method.upper()} {path}"
            assert {"422", "500"} <= set(responses), where
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert schema == "ErrorBody" or set(doc["components"]["schemas"][schema]["required"]) >= {
                    "code", "message", "errors", "detail", "key", "params", "message_zh"}, where
            if op.get("security"):
                assert "WWW-Authenticate" in responses["401"]["headers"] and "403" in responses, where
            if "503" in responses:
                assert responses["503"]["headers"]["Retry-After"]["required"] is True, where
            if "{" in path:
                assert "404" in responses, where
            if "multipart/form-data" in op.get("requestBody", {}).get("content", {}):
                assert "413" in responses, where
    assert "503" not in doc["paths"]["/api/health/live"]["get"]["responses"]  # it asks no dependency
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert list(doc["paths"]["/api/projects/{project_id}/stats.xlsx"]["get"]["responses"]["200"]["content"]) == [xlsx]


async def test_docs_load_nothing_from_another_host_and_their_assets_answer(http):
    r = await http.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    for ref in refs:
        asset = await http.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 0, ref
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    (inline,) = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert script_src == ["'self'", f"'sha256-{digest}'"]
    assert (await http.get("/redoc")).status_code == 404  # it would load a CDN script and web fonts


BROWSER_CHECK = r"""
import json, socket, threading, time, uvicorn
from playwright.sync_api import sync_playwright
from api.main import create_app
from config.settings import Settings

app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
thread = threading.Thread(target=server.run, daemon=True)
thread.start()
while not server.started:
    time.sleep(0.05)
console, requests = [], []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    page = browser.new_page()
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"http://127.0.0.1:{port}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=60000)
    page.wait_for_selector(".opblock", timeout=60000)
    out = {"title": page.inner_text(".swagger-ui .info .title"), "operations": page.locator(".opblock").count(),
           "console": console, "hosts": sorted({u.split("/")[2] for u in requests}), "port": port,
           "expected": sum(len(ops) for ops in app.openapi()["paths"].values())}
    browser.close()
server.should_exit = True
thread.join(10)
print(json.dumps(out))
"""


def test_docs_render_in_a_browser_under_their_csp():
    """Swagger UI from the app's own assets, in headless chromium: it renders every operation, and nothing
    is refused by the Content-Security-Policy or fetched from another host (a subprocess: sync Playwright
    runs an event loop of its own)."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.fail(f"{chromium} is missing: run `bash scripts/ensure_browser.sh` (make test does)")
    done = subprocess.run([sys.executable, "-c", f"CHROMIUM = {chromium!r}\n" + BROWSER_CHECK], cwd=PROJECT_ROOT,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["title"].startswith("EstateFlow") and out["operations"] == out["expected"], out
    assert out["console"] == [], out["console"]  # a CSP refusal would be logged here
    assert out["hosts"] == [f"127.0.0.1:{out['port']}"], out["hosts"]


async def test_what_schemathesis_found_stays_fixed(factory, http):
    """Dates at the edges were stored as years PostgreSQL keeps and Python cannot read (10000, 1 BC): the
    POST answered 500 and so did every later read of the customer; `as_of=9999-12-31` overflowed. Bodies
    that cannot be decoded answer 400, which is now documented."""
    sc = factory.scenario(deposit=Decimal("50000"))
    api = Api(http, sc.users)
    visits = f"/api/customers/{sc.customer_id}/visits"
    for at in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00", "2199-12-31T23:00:00-14:00"):
        r = await api.post("sales", visits, json={"visited_at": at})
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": "body.visited_at", "code": "value_error",
                                       "message": "Value error, must be between 1900-01-01 and 2199-12-31"}]
    assert (await api.post("sales", visits, json={"visited_at": "2026-11-23T10:00:00"})).status_code == 201
    assert (await api.get("sales", visits)).status_code == 200
    r = await api.get("manager", "/api/contracts?as_of=9999-12-31&filing_due_within=366")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.as_of", r.text
    r = await api.http.post(visits, content=b'{"note": "\xff\xfe"}', headers={
        **await api.as_("sales"), "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "bad_request", r.text
