"""Subscriptions (认购): selling a unit, never twice, at a price under control (issue 15).

Without discount rows the subscription is written at once at the list total (201). With discount rows the
price is the list total less the rows, in order; a discount request is written, the unit held (保留) for it,
and its approval workflow started (202): the subscription is written when it is approved."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.access import check_body_scope
from api.clock import china_today
from api.deps import ClientDep, SessionDep, SettingsDep, require_roles
from api.strict import RequestModel
from api.temporal_calls import rpc_timeout, run_async
from db.customers import co_parties_of, visible_customer
from db.discounts import SubscriptionForm, add_ack_file, check_form, co_residents, create_request, unit_quote
from db.errors import Conflict, NotFound, TooLarge
from db.evidence import limit_text
from db.models import Unit, User
from db.sales_policy import sales_policy
from db.subscriptions import subscribe
from domain.permissions import ACTIONS
from domain.pricing import DiscountRow
from domain.refund import DepositKind
from workflows.discount_approval import DiscountApprovalInput, DiscountApprovalWorkflow, discount_workflow_id

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/subscriptions", tags=["subscriptions"])
Seller = Annotated[User, Depends(require_roles(*ACTIONS["subscribe"]))]


class DiscountRowIn(RequestModel):
    reason: str = Field(min_length=1, max_length=200)
    kind: Literal["amount", "percent"]
    value: Decimal = Field(gt=0, max_digits=14, decimal_places=2)  # CNY to the fen, or a percentage


class SubscriptionCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: int
    customer_id: int
    deposit_kind: DepositKind
    deposit_amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    co_resident_ack: bool = False  # 共居人知情确认书 signed
    co_resident_ack_file_id: int | None = None  # its signed file (POST /api/subscriptions/ack-files)
    signing_deadline: date | None = None  # default: a week from today
    discounts: list[DiscountRowIn] = Field(default_factory=list, max_length=10)  # applied in order
    co_buyer_ids: list[int] = Field(default_factory=list, max_length=10)  # the buyer's co-owners (共有人)


class SubscriptionOut(BaseModel):
    id: int
    unit_id: int
    customer_id: int
    consultant_id: int
    price: Decimal
    deposit_kind: str
    deposit_amount: Decimal
    stage: str
    status: str
    subscribed_at: datetime
    co_resident_ack: bool
    signing_deadline: date | None


class PendingOut(BaseModel):
    """A subscription with a discount, awaiting its approval."""

    discount_request_id: int
    status: str
    level: str
    list_price: Decimal
    final_price: Decimal


class QuoteIn(RequestModel):
    unit_id: int
    discounts: list[DiscountRowIn] = Field(default_factory=list, max_length=10)
    customer_id: int | None = None  # given: whether the co-resident acknowledgment is required for this buyer


class QuoteRowOut(BaseModel):
    seq: int
    reason: str
    kind: str
    value: Decimal
    deduction: Decimal
    price_after: Decimal


class CoPartyOut(BaseModel):
    id: int
    relation: str
    name: str


class QuoteOut(BaseModel):
    unit_id: int
    unit_code: str
    unit_state: str
    list_price: Decimal
    floor_price: Decimal | None
    filed_price: Decimal | None
    rows: list[QuoteRowOut]
    final_price: Decimal
    discount: Decimal
    share: Decimal
    below_floor: bool
    level: str | None  # the approval needed: None, manager, citygm, hqrisk
    manager_discount_limit: Decimal
    discount_approval_minutes: int
    co_resident_ack_required: bool  # for this buyer (when customer_id is given), else the policy's setting
    co_parties: list[CoPartyOut]  # the buyer's co-owners and co-residents (when customer_id is given)


class AckFileOut(BaseModel):
    id: int
    customer_id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


def _rows(rows: list[DiscountRowIn]) -> list[DiscountRow]:
    return [DiscountRow(reason=r.reason, kind=r.kind, value=r.value) for r in rows]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut,
             summary="Subscribe a unit (认购), with discount rows for approval",
             responses={202: {"model": PendingOut, "description": "With discounts: the request awaits its approval."},
                        404: {"description": "The unit, or the customer for this person, does not exist (`not_found`)."},
                        409: {"description": "The unit is not for sale, or was sold a moment ago (`conflict`)."},
                        422: {"description": "A field is wrong (`invalid`, each in `errors`); above the filed price."}})
def create_subscription(body: SubscriptionCreate, session: SessionDep, client: ClientDep, settings: SettingsDep,
                        user: Seller):
    check_body_scope(session, user, unit_id=body.unit_id, customer_id=body.customer_id)
    visible_customer(session, body.customer_id, user)  # a consultant subscribes their own customers only (404)
    form = SubscriptionForm(
        unit_id=body.unit_id, customer_id=body.customer_id, deposit_kind=body.deposit_kind,
        deposit_amount=body.deposit_amount, discounts=_rows(body.discounts), co_buyer_ids=list(body.co_buyer_ids),
        co_resident_ack=body.co_resident_ack, co_resident_ack_file_id=body.co_resident_ack_file_id,
        signing_deadline=body.signing_deadline,
    )
    try:
        checked = check_form(session, form, user, today=china_today())
        if checked.quote.level is None:
            sub = subscribe(
                session, unit_id=body.unit_id, customer_id=body.customer_id, consultant=user,
                deposit_kind=body.deposit_kind, deposit_amount=body.deposit_amount, today=china_today(),
                co_resident_ack=body.co_resident_ack, deadline=body.signing_deadline, price=checked.quote.final_price,
                co_buyer_ids=body.co_buyer_ids, ack_file_id=body.co_resident_ack_file_id,
            )
            session.commit()
            session.refresh(sub)
            return SubscriptionOut.model_validate(sub, from_attributes=True)
        now = datetime.now(timezone.utc)
        req = create_request(session, form, checked, user, now=now)
    except (IntegrityError, OperationalError):
        session.rollback()
        raise Conflict(f"unit {body.unit_id} was sold to someone else a moment ago") from None
    except BaseException:
        session.rollback()
        raise
    out = PendingOut(discount_request_id=req.id, status=req.status, level=req.level, list_price=req.list_price,
                     final_price=req.final_price)
    inp = DiscountApprovalInput(request_id=req.id, requested_by=user.id, level=req.level,
                                step_minutes=req.step_minutes, opened_at=now)
    workflow_id = discount_workflow_id(req.id)

    # As a refund case's registration: the workflow starts before the commit; a failed start leaves nothing
    # written, a failed commit terminates the workflow (docs/decisions.md, "Registration starts the workflow").
    async def start():
        return await client.start_workflow(DiscountApprovalWorkflow.run, inp, id=workflow_id,
                                           task_queue=settings.temporal_task_queue, rpc_timeout=rpc_timeout())

    try:
        run_async(start)
    except WorkflowAlreadyStartedError:
        session.rollback()
        raise Conflict(f"discount request {req.id} is already under approval") from None
    except BaseException:
        session.rollback()
        _terminate(client, workflow_id, "the discount request was not written")
        raise
    try:
        session.commit()
    except BaseException:
        session.rollback()
        _terminate(client, workflow_id, "the discount request was not committed")
        raise
    return JSONResponse(status_code=status.HTTP_202_ACCEPTED, content=out.model_dump(mode="json"))


def _terminate(client, workflow_id: str, reason: str) -> None:
    async def terminate():
        await client.get_workflow_handle(workflow_id).terminate(reason, rpc_timeout=rpc_timeout())

    try:
        run_async(terminate)
    except Exception as err:  # noqa: BLE001 - not started, or the engine is away: its writes fail on the key
        log.warning("terminating %s: %s", workflow_id, err)


@router.post("/quote", response_model=QuoteOut, summary="The price a subscription would have, and its approval",
             responses={404: {"description": "The unit or the customer does not exist for this person (`not_found`)."},
                        422: {"description": "A discount row is wrong, or the price is above the filed price."}})
def quote_subscription(body: QuoteIn, session: SessionDep, user: Seller) -> QuoteOut:
    check_body_scope(session, user, unit_id=body.unit_id, customer_id=body.customer_id)
    unit = session.get(Unit, body.unit_id)
    if unit is None:
        raise NotFound(f"unit {body.unit_id} does not exist")
    policy = sales_policy(session, unit.project_id)
    parties: list[CoPartyOut] = []
    ack_required = policy.co_resident_ack_required
    if body.customer_id is not None:
        visible_customer(session, body.customer_id, user)
        parties = [CoPartyOut(id=p.id, relation=p.relation, name=p.name) for p in co_parties_of(session, body.customer_id)]
        ack_required = ack_required and bool(co_residents(session, body.customer_id))
    q = unit_quote(session, unit, _rows(body.discounts), policy)
    return QuoteOut(
        unit_id=unit.id, unit_code=unit.code, unit_state=unit.state, list_price=q.list_price,
        floor_price=q.floor_price, filed_price=q.filed_price,
        rows=[QuoteRowOut(seq=r.seq, reason=r.reason, kind=r.kind, value=r.value, deduction=r.deduction,
                          price_after=r.price_after) for r in q.rows],
        final_price=q.final_price, discount=q.discount, share=q.share, below_floor=q.below_floor, level=q.level,
        manager_discount_limit=policy.manager_discount_limit, discount_approval_minutes=policy.discount_approval_minutes,
        co_resident_ack_required=ack_required, co_parties=parties,
    )


@router.post("/ack-files", status_code=status.HTTP_201_CREATED, response_model=AckFileOut,
             summary="Upload a buyer's signed co-resident acknowledgment (共居人知情确认书)",
             responses={404: {"description": "The customer does not exist for this person (`not_found`)."},
                        413: {"description": "The file is above the size limit (`too_large`)."},
                        422: {"description": "The file is empty or not a PDF, JPEG, PNG or WebP image (`invalid`)."}})
def upload_ack_file(request: Request, session: SessionDep, settings: SettingsDep, user: Seller,
                    customer_id: Annotated[int, Form(ge=1, le=2**31 - 1)], file: UploadFile = File(...)) -> AckFileOut:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.evidence_max_bytes + 64 * 1024:
        raise TooLarge(f"the file is larger than the {limit_text(settings.evidence_max_bytes)} limit")
    check_body_scope(session, user, customer_id=customer_id)
    customer = visible_customer(session, customer_id, user)
    ack = add_ack_file(session, customer=customer, src=file.file, filename=file.filename, user=user,
                       data_dir=settings.data_dir, max_bytes=settings.evidence_max_bytes, now=datetime.now(timezone.utc))
    return AckFileOut.model_validate(ack, from_attributes=True)
