"""Refund instructions: what finance must pay back, one per case (path B)."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.access import project_filter
from api.deps import SessionDep, require_roles
from api.schemas import MoneyIn
from api.strict import RequestModel
from db import refund_payments as payments
from db.models import Customer, RefundCase, RefundInstruction, User
from domain.calendar import CHINA, china_date
from domain.identity import mask_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/api/refund-instructions", tags=["refund cases"])
READERS = ("finance", "manager", "citygm", "hqrisk", "ops")


class RefundInstructionOut(BaseModel):
    id: int
    case_id: uuid.UUID
    case_no: str
    customer_name: str
    amount: Decimal
    share: Decimal
    route: str
    policy_version: str
    status: str
    created_at: datetime
    paid_amount: Decimal | None = None
    paid_on: date | None = None
    bank_reference: str | None = None
    voucher_evidence_id: int | None = Field(default=None, description="the bank voucher (a file of the case)")


@router.get("", response_model=list[RefundInstructionOut], summary="Refund instructions, newest first")
def list_instructions(
    session: SessionDep,
    user: Annotated[User, Depends(require_roles(*READERS))],
    case_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RefundInstructionOut]:
    q = (
        select(RefundInstruction, RefundCase.case_no, Customer.name)
        .join(RefundCase, RefundCase.id == RefundInstruction.case_id)
        .join(Customer, Customer.id == RefundInstruction.customer_id)
        .order_by(RefundInstruction.created_at.desc(), RefundInstruction.id.desc())
        .limit(limit)
    )
    if case_id is not None:
        q = q.where(RefundInstruction.case_id == case_id)
    mine = project_filter(RefundCase.project_id, user)
    if mine is not None:
        q = q.where(mine)
    return [
        RefundInstructionOut(
            id=r.id, case_id=r.case_id, case_no=case_no, customer_name=mask_name(name), amount=r.amount, share=r.share,
            route=r.route, policy_version=r.policy_version, status=r.status, created_at=r.created_at,
            paid_amount=r.paid_amount, paid_on=r.paid_on, bank_reference=r.bank_reference,
            voucher_evidence_id=r.voucher_evidence_id,
        )
        for r, case_no, name in session.execute(q).all()
    ]


class PaymentIn(RequestModel):
    amount: MoneyIn = Field(gt=0, max_digits=12, decimal_places=2)
    paid_on: date
    bank_reference: str = Field(min_length=1, max_length=64, description="the bank's transfer reference (流水号)")
    voucher_evidence_id: int | None = Field(default=None, description="the voucher, uploaded as evidence of the case")
    difference_reason: str | None = Field(default=None, max_length=2000,
                                          description="required when the amount differs from the instruction's")


class PaymentOut(BaseModel):
    id: int
    case_id: uuid.UUID
    status: str
    amount: Decimal
    paid_amount: Decimal | None
    paid_on: date | None
    bank_reference: str | None


def _payment_out(r: RefundInstruction) -> PaymentOut:
    return PaymentOut(id=r.id, case_id=r.case_id, status=r.status, amount=r.amount, paid_amount=r.paid_amount,
                      paid_on=r.paid_on, bank_reference=r.bank_reference)


@router.post("/{instruction_id}/payment", response_model=PaymentOut, summary="Finance records the refund as paid",
             description="The amount must be the instruction's: a different one needs `difference_reason` (422 "
             "without) and stays `pending_approval` until a second person approves it.")
def record_payment(instruction_id: int, body: PaymentIn, session: SessionDep,
                   user: Annotated[User, Depends(require_roles("finance"))]) -> PaymentOut:
    now = datetime.now(timezone.utc)
    r = payments.record_payment(session, instruction_id=instruction_id, amount=body.amount, paid_on=body.paid_on,
                                bank_reference=body.bank_reference, voucher_evidence_id=body.voucher_evidence_id,
                                difference_reason=body.difference_reason, actor=user, now=now,
                                today=china_date(now))
    out = _payment_out(r)
    session.commit()
    return out


@router.post("/{instruction_id}/payment/approve", response_model=PaymentOut,
             summary="A second person approves a payment of a different amount (not the one who recorded it)")
def approve_payment(instruction_id: int, session: SessionDep,
                    user: Annotated[User, Depends(require_roles(*payments.APPROVERS))]) -> PaymentOut:
    r = payments.approve_difference(session, instruction_id=instruction_id, actor=user, now=datetime.now(timezone.utc))
    out = _payment_out(r)
    session.commit()
    return out


@router.get("/export.xlsx", summary="Refund instructions still to pay, for the bank batch (XLSX)",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_instructions(session: SessionDep, user: Annotated[User, Depends(require_roles(*READERS))],
                        status: Literal["issued", "pending_approval", "paid"] = "issued") -> Response:
    from openpyxl import Workbook

    q = (select(RefundInstruction, RefundCase.case_no, Customer.name)
         .join(RefundCase, RefundCase.id == RefundInstruction.case_id)
         .join(Customer, Customer.id == RefundInstruction.customer_id)
         .where(RefundInstruction.status == status).order_by(RefundInstruction.created_at, RefundInstruction.id))
    mine = project_filter(RefundCase.project_id, user)
    if mine is not None:
        q = q.where(mine)
    wb = Workbook()
    ws = wb.active
    ws.title = "退款指令"
    ws.append(["指令号", "案件号", "客户", "金额（元）", "退款比例", "路径", "政策版本", "状态", "开具时间"])
    for r, case_no, name in session.execute(q).all():
        ws.append([r.id, case_no, mask_name(name), r.amount, str(r.share), r.route,
                   r.policy_version, r.status, r.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")])
    for row in ws.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = "#,##0.00"
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="refund-instructions-{status}.xlsx"'})
