"""Helpers for the contract tests: unique contract numbers and the common HTTP steps."""

from __future__ import annotations

import uuid
from datetime import date

from tests.api.conftest import Api


def contract_no() -> str:
    return f"HT-{uuid.uuid4().hex[:10].upper()}"


def plan_body(*instalments: tuple[date, str], method: str = "combination") -> dict:
    return {
        "method": method,
        "instalments": [{"due_on": d.isoformat(), "amount_due": a, "label": f"第{i}期"} for i, (d, a) in enumerate(instalments, 1)],
    }


async def sign(api: Api, subscription_id: int, *, signed_on: date = date(2026, 11, 2), role: str = "sales", no: str | None = None) -> dict:
    r = await api.post(role, "/api/contracts", json={"subscription_id": subscription_id, "contract_no": no or contract_no(), "signed_on": signed_on.isoformat()})
    assert r.status_code == 201, r.text
    return r.json()


async def set_plan(api: Api, contract_id: int, body: dict, *, role: str = "sales") -> dict:
    r = await api.post(role, f"/api/contracts/{contract_id}/payment-plan", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def receive(api: Api, contract_id: int, amount: str, received_on: date, *, reference: str = "") -> dict:
    r = await api.post("finance", f"/api/contracts/{contract_id}/receipts", json={"amount": amount, "received_on": received_on.isoformat(), "reference": reference})
    assert r.status_code == 201, r.text
    return r.json()
