"""Contracts (商品房买卖合同): 网签, 备案, loan disbursement, payment plan and receipts (issue 3).

Roles: sales/manager sign; the manager files; finance records receipts and the loan disbursement;
sales/manager/finance set the payment plan; all staff read."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.clock import china_today
from api.access import check_body_scope, visible_projects
from api.deps import SessionDep, Staff, require_roles
from api.strict import RequestModel
from db.contract_models import Contract
from db.contracts import (
    allocations_of,
    contracts_by_filing,
    file_contract,
    get_contract,
    instalments_of,
    receipts_of,
    record_loan_disbursement,
    record_receipt,
    set_payment_plan,
    sign_contract,
)
from db.models import User
from domain.late_fee import days_overdue
from domain.payments import (
    PaymentMethod,
    PlannedInstalment,
    accruing_late_fee,
    contract_stage,
    filing_status,
)

router = APIRouter(prefix="/api/contracts", tags=["contracts"])

SOON_DAYS = 7


Signers = Annotated[User, Depends(require_roles("sales", "manager"))]
Filers = Annotated[User, Depends(require_roles("manager"))]
Finance = Annotated[User, Depends(require_roles("finance"))]
Planners = Annotated[User, Depends(require_roles("sales", "manager", "finance"))]


class ContractCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")
    subscription_id: int
    contract_no: str = Field(min_length=1, max_length=64)
    signed_on: date


class FileBody(RequestModel):
    model_config = ConfigDict(extra="forbid")
    filed_on: date | None = None  # default: today (China)


class LoanBody(RequestModel):
    model_config = ConfigDict(extra="forbid")
    disbursed_at: datetime | None = None  # default: now
    amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)


class InstalmentIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    due_on: date
    amount_due: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    label: str = Field(default="", max_length=64)


class PlanBody(RequestModel):
    model_config = ConfigDict(extra="forbid")
    method: PaymentMethod
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=120)


class ReceiptBody(RequestModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    received_on: date
    reference: str = Field(default="", max_length=128)


class AllocationOut(BaseModel):
    instalment_seq: int
    amount: Decimal
    days_overdue: int
    late_fee: Decimal


class ReceiptOut(BaseModel):
    id: int
    amount: Decimal
    received_on: date
    reference: str
    allocations: list[AllocationOut]


class InstalmentOut(BaseModel):
    seq: int
    label: str
    due_on: date
    amount_due: Decimal
    amount_paid: Decimal
    outstanding: Decimal
    status: str  # paid / overdue / due
    late_fee: Decimal  # charged on the parts paid late (computed, never typed in)
    days_overdue: int  # of the unpaid part, as of `as_of`
    accruing_late_fee: Decimal  # the unpaid part's late fee so far, as of `as_of`


class PlanOut(BaseModel):
    method: str | None
    total_due: Decimal
    total_paid: Decimal
    outstanding: Decimal
    late_fee_total: Decimal
    instalments: list[InstalmentOut]


class ContractOut(BaseModel):
    id: int
    subscription_id: int
    unit_id: int
    contract_no: str
    stage: str
    price: Decimal
    deposit_amount: Decimal
    paid_amount: Decimal  # deposit + receipts
    daily_late_fee_rate: Decimal
    signed_on: date
    filing_due: date
    filed_on: date | None
    filing_status: str
    loan_disbursed_at: datetime | None
    loan_amount: Decimal | None
    as_of: date
    payment_plan: PlanOut
    receipts: list[ReceiptOut]


class ContractSummary(BaseModel):
    id: int
    subscription_id: int
    unit_id: int
    contract_no: str
    stage: str
    signed_on: date
    filing_due: date
    filed_on: date | None
    filing_status: str
    days_to_filing_due: int


Z = Decimal("0.00")


def read_contract(session: Session, c: Contract, as_of: date) -> ContractOut:
    rate = Decimal(c.daily_late_fee_rate)
    rows = instalments_of(session, contract_id=c.id)
    allocs = allocations_of(session, contract_id=c.id)
    receipts = receipts_of(session, contract_id=c.id)
    seq_of = {r.id: r.seq for r in rows}
    fee_by_ins: dict[int, Decimal] = {}
    allocs_by_receipt: dict[int, list[AllocationOut]] = {}
    for a in allocs:
        fee_by_ins[a.instalment_id] = fee_by_ins.get(a.instalment_id, Z) + Decimal(a.late_fee)
        allocs_by_receipt.setdefault(a.receipt_id, []).append(
            AllocationOut(instalment_seq=seq_of[a.instalment_id], amount=a.amount, days_overdue=a.days_overdue, late_fee=a.late_fee)
        )
    ins_out = []
    for r in rows:
        outstanding = Decimal(r.amount_due) - Decimal(r.amount_paid)
        overdue_days = days_overdue(r.due_on, as_of) if outstanding > 0 else 0
        ins_out.append(
            InstalmentOut(
                seq=r.seq, label=r.label, due_on=r.due_on, amount_due=r.amount_due, amount_paid=r.amount_paid,
                outstanding=outstanding,
                status="paid" if outstanding == 0 else ("overdue" if overdue_days > 0 else "due"),
                late_fee=fee_by_ins.get(r.id, Z), days_overdue=overdue_days,
                accruing_late_fee=accruing_late_fee(outstanding=outstanding, due_on=r.due_on, as_of=as_of, daily_rate=rate),
            )
        )
    received = sum((Decimal(x.amount) for x in receipts), Z)
    total_due = sum((Decimal(r.amount_due) for r in rows), Z)
    return ContractOut(
        id=c.id, subscription_id=c.subscription_id, unit_id=c.unit_id, contract_no=c.contract_no,
        stage=contract_stage(loan_disbursed=c.loan_disbursed_at is not None),
        price=c.price, deposit_amount=c.deposit_amount, paid_amount=Decimal(c.deposit_amount) + received,
        daily_late_fee_rate=rate, signed_on=c.signed_on, filing_due=c.filing_due, filed_on=c.filed_on,
        filing_status=filing_status(due=c.filing_due, filed_on=c.filed_on, today=as_of, soon_days=SOON_DAYS).value,
        loan_disbursed_at=c.loan_disbursed_at, loan_amount=c.loan_amount, as_of=as_of,
        payment_plan=PlanOut(
            method=c.payment_method, total_due=total_due, total_paid=sum((Decimal(r.amount_paid) for r in rows), Z),
            outstanding=total_due - sum((Decimal(r.amount_paid) for r in rows), Z),
            late_fee_total=sum(fee_by_ins.values(), Z), instalments=ins_out,
        ),
        receipts=[
            ReceiptOut(id=x.id, amount=x.amount, received_on=x.received_on, reference=x.reference, allocations=allocs_by_receipt.get(x.id, []))
            for x in receipts
        ],
    )


def summary(c: Contract, today: date) -> ContractSummary:
    return ContractSummary(
        id=c.id, subscription_id=c.subscription_id, unit_id=c.unit_id, contract_no=c.contract_no,
        stage=contract_stage(loan_disbursed=c.loan_disbursed_at is not None), signed_on=c.signed_on,
        filing_due=c.filing_due, filed_on=c.filed_on,
        filing_status=filing_status(due=c.filing_due, filed_on=c.filed_on, today=today, soon_days=SOON_DAYS).value,
        days_to_filing_due=(c.filing_due - today).days,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContractOut, summary="Online-sign a contract (网签)",
             responses={404: {"description": "The subscription does not exist (`not_found`)."}})
def create_contract(body: ContractCreate, session: SessionDep, user: Signers) -> ContractOut:
    check_body_scope(session, user, subscription_id=body.subscription_id)
    today = china_today()
    c = sign_contract(session, subscription_id=body.subscription_id, contract_no=body.contract_no, signed_on=body.signed_on, signer=user, today=today)
    session.commit()
    return read_contract(session, c, today)


@router.get("", response_model=list[ContractSummary], summary="Contracts, e.g. those whose filing (备案) is overdue or due soon")
def list_contracts(
    session: SessionDep,
    user: Staff,
    filing_overdue: bool = False,
    filing_due_within: Annotated[int | None, Query(ge=0, le=366)] = None,
    project_id: int | None = None,
    as_of: date | None = None,
) -> list[ContractSummary]:
    today = as_of or china_today()
    rows = contracts_by_filing(session, today=today, overdue_only=filing_overdue, due_within_days=filing_due_within,
                               project_id=project_id, projects=visible_projects(user))
    return [summary(c, today) for c in rows]


@router.get("/{contract_id}", response_model=ContractOut, summary="A contract with its payment plan, receipts and late fees")
def read(contract_id: int, session: SessionDep, user: Staff, as_of: date | None = None) -> ContractOut:
    return read_contract(session, get_contract(session, contract_id=contract_id), as_of or china_today())


@router.post("/{contract_id}/file", response_model=ContractOut, summary="File the contract (备案): unit → 已备案")
def file(contract_id: int, session: SessionDep, user: Filers, body: FileBody | None = None) -> ContractOut:
    today = china_today()
    c = file_contract(session, contract_id=contract_id, filed_on=(body.filed_on if body and body.filed_on else today), actor=user, today=today)
    session.commit()
    return read_contract(session, c, today)


@router.post("/{contract_id}/loan-disbursed", response_model=ContractOut, summary="Record the loan disbursement (放款)")
def loan_disbursed(contract_id: int, session: SessionDep, user: Finance, body: LoanBody | None = None) -> ContractOut:
    now = datetime.now(timezone.utc)
    c = record_loan_disbursement(
        session, contract_id=contract_id, disbursed_at=(body.disbursed_at if body and body.disbursed_at else now),
        amount=body.amount if body else None, actor=user, now=now,
    )
    session.commit()
    return read_contract(session, c, china_today())


@router.post("/{contract_id}/payment-plan", response_model=ContractOut, summary="Set the payment plan (sum = price − deposit)")
def payment_plan(contract_id: int, body: PlanBody, session: SessionDep, user: Planners) -> ContractOut:
    set_payment_plan(
        session, contract_id=contract_id, method=body.method,
        instalments=[PlannedInstalment(i.due_on, i.amount_due, i.label) for i in body.instalments], actor=user,
    )
    session.commit()
    return read_contract(session, get_contract(session, contract_id=contract_id), china_today())


@router.post("/{contract_id}/receipts", status_code=status.HTTP_201_CREATED, response_model=ContractOut, summary="Record a receipt (finance)")
def receipts(contract_id: int, body: ReceiptBody, session: SessionDep, user: Finance) -> ContractOut:
    """A receipt on a contract; one whose payments a follow-up tracks takes them through it (409 naming the plan:
    POST /api/payment-plans/{plan}/payments writes the receipt and tells the follow-up together)."""
    today = china_today()
    record_receipt(session, contract_id=contract_id, amount=body.amount, received_on=body.received_on, reference=body.reference, actor=user, today=today)
    session.commit()
    return read_contract(session, get_contract(session, contract_id=contract_id), today)
