"""The refund is paid, not just instructed (issue 14): finance records the payment against the instruction;
the same amount pays it (the case's refund-payment task done, its outcome and timeline show it); a different
amount without a reason is 422, with one it waits for a second person (the recorder may not approve: 403);
the instructions still to pay export to XLSX for the bank batch."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from api.security import hash_password
from db.models import RefundCase, RefundInstruction, Task, Unit, User
from db.org import grant
from domain.calendar import china_date
from tests.api.test_case_ways_out_api import world  # noqa: F401  (fixture)
from tests.api.test_refund_api import assess_all, intake_body, register
from tests.factories import TEST_PASSWORD


async def instructed(api, sc) -> tuple[str, dict]:
    """A case through path B: its id and its refund instruction."""
    case = await register(api, sc)
    cid = case["id"]
    assert (await api.complete("frontdesk", cid, "intake", intake_body(sc))).status_code == 200
    await assess_all(api, cid)
    r = await api.complete("manager", cid, "solution", {"options": [{"kind": "A", "compensation": "6000.00"}, {"kind": "B"}]})
    assert r.status_code == 200, r.text
    assert (await api.complete("manager", cid, "choice", {"option": "B"})).status_code == 200
    [instruction] = (await api.get("finance", "/api/refund-instructions", params={"case_id": cid})).json()
    return cid, instruction


async def test_paying_the_instructed_amount_closes_the_payment_and_shows_on_the_case(world, session_factory):
    sc, api = world
    cid, ins = await instructed(api, sc)
    path = f"/api/refund-instructions/{ins['id']}/payment"
    today = china_date(datetime.now(timezone.utc))
    r = await api.post("finance", path, json={"amount": ins["amount"], "paid_on": (today + timedelta(days=1)).isoformat(),
                                              "bank_reference": "B1"})
    assert r.status_code == 422 and "future" in r.json()["message"]
    r = await api.post("manager", path, json={"amount": ins["amount"], "paid_on": today.isoformat(), "bank_reference": "B1"})
    assert r.status_code == 403
    r = await api.post("finance", path, json={"amount": ins["amount"], "paid_on": today.isoformat(), "bank_reference": "ICBC-20261203-0001"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "paid"
    r = await api.post("finance", path, json={"amount": ins["amount"], "paid_on": today.isoformat(), "bank_reference": "again"})
    assert r.status_code == 409
    with session_factory() as s:
        case = s.get(RefundCase, uuid.UUID(cid))
        assert case.outcome["refund_paid"] == {"amount": ins["amount"], "paid_on": today.isoformat(),
                                               "bank_reference": "ICBC-20261203-0001"}
        assert s.scalars(select(Task.status).where(Task.case_id == case.id, Task.task_key == "refund_payment")).one() == "done"
    [listed] = (await api.get("manager", "/api/refund-instructions", params={"case_id": cid})).json()
    assert (listed["status"], listed["paid_amount"], listed["bank_reference"]) == ("paid", ins["amount"], "ICBC-20261203-0001")
    kinds = [e["kind"] for e in (await api.get("manager", f"/api/refund-cases/{cid}/timeline")).json()["entries"]]
    assert "refund_paid" in kinds


async def test_a_different_amount_needs_a_reason_and_a_second_person(world, session_factory):
    sc, api = world
    cid, ins = await instructed(api, sc)
    path = f"/api/refund-instructions/{ins['id']}/payment"
    body = {"amount": "1.00", "paid_on": china_date(datetime.now(timezone.utc)).isoformat(), "bank_reference": "B2"}
    r = await api.post("finance", path, json=body)
    assert r.status_code == 422 and "needs a reason" in r.json()["message"]
    r = await api.post("finance", path, json={**body, "difference_reason": "客户要求分两笔退款，本笔为首笔"})
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    r = await api.post("finance", f"{path}/approve")
    assert r.status_code == 403 and "four eyes" in r.json()["message"]
    r = await api.post("manager", f"{path}/approve")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    with session_factory() as s:
        row = s.get(RefundInstruction, ins["id"])
        assert row.difference_approved_by == sc.users["manager"].id and str(row.paid_amount) == "1.00"


async def test_instructions_to_pay_export_for_the_bank_batch(world):
    sc, api = world
    cid, ins = await instructed(api, sc)
    r = await api.get("finance", "/api/refund-instructions/export.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("指令号", "案件号", "客户", "金额（元）")
    [mine] = [row for row in rows[1:] if row[0] == ins["id"]]
    assert str(mine[3]) in (ins["amount"], ins["amount"].rstrip("0").rstrip(".")) and mine[2].endswith("*")


async def test_the_payment_task_has_a_deadline_and_the_review_meeting_takes_attendees_and_minutes(world, session_factory):
    sc, api = world
    cid, ins = await instructed(api, sc)
    with session_factory() as s:
        due, created = s.execute(select(Task.due_at, Task.created_at).where(
            Task.case_id == uuid.UUID(cid), Task.task_key == "refund_payment")).one()
    assert due is not None and abs((due - created) - timedelta(days=7)) < timedelta(minutes=1)
    r = await api.complete("manager", cid, "archive", {"summary": "客户资金问题，按阶梯退款", "lessons": "认购前核实资金"})
    assert r.status_code == 200, r.text
    [meeting] = [t for t in r.json()["open_tasks"] if t["kind"] == "review_meeting"]
    assert meeting["due_at"] is not None
    r = await api.post("manager", f"/api/tasks/{meeting['id']}/complete", json={"minutes": "复盘：资金核实前置"})
    assert r.status_code == 422 and "attended" in r.json()["message"]
    r = await api.post("manager", f"/api/tasks/{meeting['id']}/complete", json={
        "attendees": [sc.users["manager"].id, sc.users["finance"].id], "minutes": "复盘：认购前核实资金来源"})
    assert r.status_code == 200, r.text
    timeline = (await api.get("manager", f"/api/refund-cases/{cid}/timeline")).json()["entries"]
    [review] = [e for e in timeline if e["kind"] == "review_meeting"]
    assert review["detail"]["attendees"] == [sc.users["manager"].display_name, sc.users["finance"].display_name]
