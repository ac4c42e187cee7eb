"""No personal data in any log line (issue 16): a refund case whose customer has a known name, mobile and ID
number is driven through the API (and its worker) with every log line captured in the JSON format the
processes write; none holds the name, the mobile, the ID number, or a fragment of the mobile longer than four
digits (a masked form such as 139****6283 included). And the lines carry what ops needs: request id, the
case, and in a worker the workflow."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import httpx
import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from api import observability
from api.main import create_app
from config.settings import Settings
from db.customers import new_customer
from db.demo_ids import resident_id
from db.models import Subscription
from tests.api.conftest import Api, dev_env  # noqa: F401 - the real Temporal dev server
from tests.factories import cipher
from workers.main import build_worker

NAME = "司马观澜"
MOBILE = "13957146283"
ID_NUMBER = resident_id(417, region="330106", birth="19790523")

# Fields that are ours, never data: a timestamp's microseconds or a hex id could look like a digit fragment.
_OWN_FIELDS = ("timestamp", "request_id", "trace_id", "span_id")
_HEXISH = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-f]{16,}")


def windows(digits: str, n: int) -> set[str]:
    return {digits[i:i + n] for i in range(len(digits) - n + 1)}


def pii_in(line: str) -> list[str]:
    record = json.loads(line)
    for key in _OWN_FIELDS:
        record.pop(key, None)
    text = _HEXISH.sub("#", json.dumps(record, ensure_ascii=False))
    found = [v for v in (NAME, MOBILE, ID_NUMBER, ID_NUMBER[:17]) if v in text]
    found += [w for w in windows(MOBILE, 5) if w in text]  # 139****6283 shows 3 and 4: allowed; 5 never
    found += [w for w in windows(ID_NUMBER, 6) if w in text]
    return found


@pytest.fixture
async def captured(dev_env, pg_url, session_factory):  # noqa: F811
    """An app and its worker, every log line of the process captured as the JSON the processes write."""
    buf = io.StringIO()
    capture = logging.StreamHandler(buf)
    capture.setFormatter(observability.log_formatter("api"))
    queue = f"pii-test-{uuid.uuid4().hex}"
    app = create_app(Settings(database_url=pg_url, temporal_task_queue=queue), temporal_client=dev_env.client)
    root = logging.getLogger()
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = build_worker(dev_env.client, session_factory, task_queue=queue, executor=executor)
        async with worker, app.router.lifespan_context(app):
            level = root.level
            root.addHandler(capture)
            root.setLevel(logging.DEBUG)
            try:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as http:
                    yield http, buf
            finally:
                root.removeHandler(capture)
                root.setLevel(level)


async def test_a_refund_case_through_the_api_logs_no_personal_data(captured, factory, session_factory):
    http, buf = captured
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    with session_factory.begin() as s:  # the buyer: a customer with the known name, mobile and ID number
        customer = new_customer(s, cipher(), name=NAME, id_type="resident_id", id_number=ID_NUMBER, mobile=MOBILE,
                                consultant_id=sc.users["sales"].id, today=date(2026, 11, 23), project_id=sc.project_id)
        s.get(Subscription, sc.subscription_id).customer_id = customer.id
    api = Api(http, sc.users)

    # The look-up by mobile and by ID number (in the query string), and a request id that is a mobile.
    r = await http.get("/api/customers", params={"mobile": MOBILE}, headers={**await api.as_("sales"), "X-Request-ID": MOBILE})
    assert r.status_code == 200 and r.headers["x-request-id"] != MOBILE, r.text
    assert (await api.get("sales", "/api/customers", params={"id_number": ID_NUMBER})).status_code == 200
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    intake = {"reasons": ["funds_shortfall"], "willing_to_consider": "negotiate", "id_number": ID_NUMBER}
    # A wrong mobile is refused (the refusal is logged), then the right one in its masked-looking spelling.
    r = await api.complete("frontdesk", cid, "intake", {**intake, "mobile": "13900000000"})
    assert r.status_code in (403, 409, 422), r.text
    r = await api.complete("frontdesk", cid, "intake", {**intake, "mobile": f"+86 {MOBILE}"})
    assert r.status_code == 200, r.text
    for role, body in (("finance", {"commission_accrued": "12000.00", "contract_confirmed": True}),
                       ("legal", {"fault": "buyer"}), ("marketing", {"opinion_risk": "medium"})):
        assert (await api.complete(role, cid, "assessment", body)).status_code == 200
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    assert (await api.complete("manager", cid, "choice", {"option": "B"})).status_code == 200
    r = await api.complete("manager", cid, "archive", {"summary": "客户资金未到位", "lessons": "认购前核实资金"})
    assert r.status_code == 200, r.text
    detail = (await api.get("ops", f"/api/refund-cases/{cid}")).json()
    assert detail["stage"] == "closed"
    assert (await api.get("sales", f"/api/customers/{customer.id}")).status_code in (200, 404)

    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    assert len(lines) > 20
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    leaks = {line: found for line in lines if (found := pii_in(line))}
    assert not leaks, leaks
    requests = [r for r in records if r.get("event") == "request"]
    assert requests and all(r["request_id"] and r["route"] and r["status"] for r in requests)
    assert all("?" not in r["route"] and MOBILE not in r["route"] for r in requests)
    assert any(r.get("case_id") == cid for r in requests)  # from the route's {case_id}
    assert any(r.get("route") == "/api/tasks/{task_id}/complete" and r.get("task_id") for r in requests)
    assert not [r for r in records if r.get("request_id") == MOBILE]


@contextlib.contextmanager
def logged(name: str):
    """A logger of its own writing through the API's formatter: yields it and the records it wrote."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(observability.log_formatter("api"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    records: list[dict] = []
    try:
        yield logger, records
    finally:
        logger.removeHandler(handler)
        records.extend(json.loads(line) for line in buf.getvalue().splitlines())


def test_the_safety_net_masks_what_looks_like_a_mobile_or_an_id_number():
    with logged("estateflow.test-pii") as (logger, records):
        logger.warning("buyer %s / +86 %s / %s / %s / %s", MOBILE, MOBILE, ID_NUMBER, "139****6283", "330106********1234")
    [record] = records
    assert record["event"] == "buyer [mobile] / [mobile] / [id-number] / [masked] / [masked]"
    assert record["level"] == "warning" and record["logger"] == "estateflow.test-pii"


def test_the_safety_net_leaves_ids_whole_even_when_their_digits_read_as_a_mobile():
    # A real CI failure: this case's UUID ends in 13811851124b, eleven digits that read as a mobile.
    case_uuid, trace = "6c793ba8-4513-43d2-a94e-13811851124b", "0af7651916cd43dd8448eb211c80319c"
    digest = "13912346283" + "ab" * 10 + "0" * 9  # 40 hex: a digest's shape
    with logged("estateflow.test-pii-ids") as (logger, records):
        logger.info("refund-case-%s %s %s mobile %s", case_uuid, trace, digest, MOBILE)
        # Not an id's shape: a mobile glued to a few hex letters is still a mobile.
        logger.info("key=%sabcde id=abcde%s", MOBILE, MOBILE)
    first, second = records
    assert first["event"] == f"refund-case-{case_uuid} {trace} {digest} mobile [mobile]"
    assert second["event"] == "key=[mobile]abcde id=abcde[mobile]"


@pytest.mark.parametrize("case_id", [str(uuid.uuid4()), "6c793ba8-4513-43d2-a94e-13811851124b"])
def test_a_workers_activity_lines_carry_the_workflow_and_the_case(case_id):
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(observability.log_formatter("worker"))
    loggers = [activity.logger.logger, logging.getLogger("estateflow.test-activity")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:  # INFO whether or not an earlier test configured logging
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)

    @activity.defn
    def step() -> None:
        activity.logger.info("step written")
        logging.getLogger("estateflow.test-activity").info("from a library inside the activity")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(ActivityEnvironment.default_info(), workflow_id=f"refund-case-{case_id}")
    try:
        env.run(step)
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
    records = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert len(records) == 2
    for record in records:
        assert record["workflow_id"] == f"refund-case-{case_id}" and record["case_id"] == case_id
        assert record["service"] == "worker"


@pytest.mark.parametrize("given, kept", [
    ("0af7651916cd43dd8448eb211c80319c", True),  # a client's own id
    ("req-42.retry_1", True),
    (MOBILE, False),
    (f"{MOBILE}abcde", False),  # a mobile glued to letters is still one: refused, a fresh id instead
    (f"abcde-{ID_NUMBER}", False),
    ("a" * 65, False),  # too long
])
def test_a_given_request_id_is_kept_only_when_nothing_in_it_reads_as_personal_data(given, kept):
    rid = observability._request_id({"headers": [(b"x-request-id", given.encode())]})
    if kept:
        assert rid == given
    else:
        assert rid != given and re.fullmatch(r"[0-9a-f]{32}", rid)
