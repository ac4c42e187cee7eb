"""The ways out and back of a refund case through HTTP (issue 14): withdraw (409 after the outcome, 403 for a
role that may not, 422 without a reason or with another case's evidence), void by two people (403 for the
same person), a refusal and a new offer (422 for one option), return and correct an assessment, and the
timeline that tells it all with people's names."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from api.security import hash_password
from db.models import RefundCase, Task, Unit, User
from db.org import grant
from tests.api.conftest import Api
from tests.api.test_refund_api import assess_all, intake_body, register
from tests.factories import TEST_PASSWORD


@pytest.fixture
def world(factory, http):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    return sc, Api(http, sc.users)


async def post(api: Api, role: str, path: str, body: dict) -> tuple[int, dict]:
    r = await api.post(role, path, json=body)
    return r.status_code, r.json()


async def test_withdraw_puts_the_unit_back_and_after_the_outcome_is_409(world, session_factory):
    sc, api = world
    case = await register(api, sc)
    cid = case["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    status, body = await post(api, "finance", f"/api/refund-cases/{cid}/withdraw", {"reason": "x"})
    assert status == 403
    status, body = await post(api, "frontdesk", f"/api/refund-cases/{cid}/withdraw", {"reason": ""})
    assert status == 422 and body["errors"][0]["field"] == "body.reason"
    status, body = await post(api, "frontdesk", f"/api/refund-cases/{cid}/withdraw", {"reason": "想通了", "evidence_ids": [987654]})
    assert status == 422 and "987654" in body["message"]
    status, body = await post(api, "frontdesk", f"/api/refund-cases/{cid}/withdraw", {"reason": "客户冷静后决定继续购买"})
    assert status == 200, body
    assert body["stage"] == "archive" and [t["kind"] for t in body["open_tasks"]] == ["archive"]
    with session_factory() as s:
        assert s.get(Unit, sc.unit_id).state == "subscribed"
    status, body = await post(api, "manager", f"/api/refund-cases/{cid}/withdraw", {"reason": "again"})
    assert status == 409 and "outcome" in body["message"]
    # The workflow's refusal carries its stable code to the API, worded in Chinese too.
    assert body["key"] == "case.withdraw_after_outcome" and body["message_zh"] == "案件已有结果，不能再撤回"
    detail = (await api.get("manager", f"/api/refund-cases/{cid}")).json()
    assert detail["outcome"]["path"] == "withdrawn"


async def test_a_void_approved_by_the_person_who_asked_is_403_and_by_another_ends_the_case(world, session_factory):
    """The city GM who is also a manager of the project asks; they may not approve their own request; the other
    city GM may."""
    sc, api = world
    tag = uuid.uuid4().hex[:6]
    with session_factory.begin() as s:
        pw = hash_password(TEST_PASSWORD)
        both, other = (User(username=f"{k}-{tag}", display_name=f"{k}{tag}", role="citygm", password_hash=pw)
                       for k in ("gm-and-manager", "gm-other"))
        s.add_all([both, other])
        s.flush()
        project = s.get(Unit, sc.unit_id).project_id
        grant(s, both.id, "citygm", project_id=project)
        grant(s, both.id, "manager", project_id=project)
        grant(s, other.id, "citygm", project_id=project)
    api.users.update({"both": both, "other": other})
    case = await register(api, sc)
    cid = case["id"]
    status, body = await post(api, "both", f"/api/refund-cases/{cid}/void", {"reason": "登记错了房号"})
    assert status == 200, body
    [task] = [t for t in body["open_tasks"] if t["kind"] == "void_approval"]
    r = await api.post("both", f"/api/tasks/{task['id']}/complete", json={"approve": True})
    assert r.status_code == 403 and "four eyes" in r.json()["message"]
    r = await api.post("other", f"/api/tasks/{task['id']}/complete", json={"approve": True, "note": "核实"})
    assert r.status_code == 200, r.text
    with session_factory() as s:
        row = s.get(RefundCase, uuid.UUID(cid))
        assert row.stage == "closed" and row.outcome["path"] == "voided"
        assert s.get(Unit, sc.unit_id).state == "subscribed"
        assert set(s.scalars(select(Task.status).where(Task.case_id == row.id))) <= {"done", "cancelled"}


async def test_a_refusal_opens_a_new_offer_which_still_needs_two_options(world):
    sc, api = world
    case = await register(api, sc)
    cid = case["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    await assess_all(api, cid)
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "0"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    r = await api.complete("manager", cid, "choice", {"refused": True, "option": "A"})
    assert r.status_code == 422
    r = await api.complete("manager", cid, "choice", {"refused": True, "note": "都不接受"})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "solution"
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "B"}]})
    assert r.status_code == 422 and "option" in r.json()["message"]
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "3000"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text


async def test_return_and_correct_through_the_api_and_the_timeline_tells_the_story(world):
    sc, api = world
    case = await register(api, sc)
    cid = case["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    await assess_all(api, cid, loss="60000.00")
    status, body = await post(api, "legal", f"/api/refund-cases/{cid}/assessments/marketing/return", {"reason": "x"})
    assert status == 403
    status, body = await post(api, "manager", f"/api/refund-cases/{cid}/assessments/marketing/return",
                              {"reason": "舆情评级需要补充依据"})
    assert status == 200, body
    assert [t["kind"] for t in body["open_tasks"]] == ["assessment"] and body["stage"] == "assessment"
    r = await api.complete("marketing", cid, "assessment", {"opinion_risk": "low"})
    assert r.status_code == 200, r.text
    status, body = await post(api, "finance", f"/api/refund-cases/{cid}/assessments/finance/correct",
                              {"commission_accrued": "9000.00", "contract_confirmed": True})
    assert status == 200, body
    assert body["stage"] == "solution"
    status, body = await post(api, "legal", f"/api/refund-cases/{cid}/assessments/finance/correct",
                              {"commission_accrued": "1.00"})
    assert status == 403  # only finance corrects finance
    detail = (await api.get("manager", f"/api/refund-cases/{cid}")).json()
    assert detail["loss_total"] == "9000.00" and detail["assessments"]["finance"]["loss"]["total"] == "9000.00"
    assert detail["registered_by"] == sc.users["frontdesk"].display_name
    timeline = (await api.get("manager", f"/api/refund-cases/{cid}/timeline")).json()["entries"]
    kinds = [e["kind"] for e in timeline if e["source"] == "case"]
    assert kinds[0] == "registered" and "assessment_returned" in kinds and "assessment_corrected" in kinds
    first = next(e for e in timeline if e["source"] == "case")
    assert first["actor_name"] == sc.users["frontdesk"].display_name  # a person's name beside the login


async def test_the_timeline_of_a_case_whose_engine_history_is_gone_comes_from_postgresql(world, dev_env, session_factory):
    """Temporal's retention deletes a closed run's history; here the run is deleted outright. The timeline is
    then the case's own record with a note, never a 500."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest

    sc, api = world
    case = await register(api, sc)
    cid = case["id"]
    assert (await api.post("frontdesk", f"/api/refund-cases/{cid}/withdraw", json={"reason": "不退了"})).status_code == 200
    with session_factory() as s:
        workflow_id = s.get(RefundCase, uuid.UUID(cid)).workflow_id
    client = dev_env.client
    await client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
        namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=workflow_id)))
    for _ in range(100):  # deletion is asynchronous on the server
        try:
            await client.get_workflow_handle(workflow_id).describe()
        except Exception:
            break
        await asyncio.sleep(0.1)
    r = await api.get("manager", f"/api/refund-cases/{cid}/timeline")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["engine_history"] == "expired" and "expired" in body["note"]
    assert [e["kind"] for e in body["entries"]] == ["registered", "withdrawal"]
    assert all(e["source"] == "case" for e in body["entries"])


async def test_the_worker_sets_the_namespace_retention_explicitly(dev_env):
    """Not the server's default (the dev server keeps a closed run one day): the setting's days."""
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    from workers.main import ensure_retention

    client = dev_env.client
    await ensure_retention(client, client.namespace, 45)
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    assert described.config.workflow_execution_retention_ttl.seconds == 45 * 86400
    await ensure_retention(client, client.namespace, 30)  # idempotent, and back to the default for the other tests
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    assert described.config.workflow_execution_retention_ttl.seconds == 30 * 86400
