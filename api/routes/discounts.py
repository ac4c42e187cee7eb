"""Subscription discounts and their approvals (issue 15): the approver's list, a request with its rows and
steps, and the decision (approve / reject with a note), sent to the request's workflow as an update."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.access import acting_person, act_in, project_filter
from api.deps import ClientDep, SessionDep, SettingsDep, release_connection, require_roles
from api.strict import RequestModel
from api.temporal_calls import rpc_timeout, run_async, run_update
from db.discount_models import DiscountRequest, DiscountStatus
from db.discounts import rows_of, steps_of
from db.errors import NotFound
from db.models import Customer, Unit, User
from domain.identity import mask_name
from domain.permissions import ACTIONS
from domain.pricing import APPROVAL_LEVELS
from workflows.discount_approval import (
    DiscountApprovalInput,
    DiscountApprovalWorkflow,
    DiscountDecision,
    DiscountStepResult,
    discount_workflow_id,
)

router = APIRouter(tags=["discounts"])
READERS = tuple(dict.fromkeys((*ACTIONS["discount_approvals"], *ACTIONS["subscribe"])))
Reader = Annotated[User, Depends(require_roles(*READERS))]
Approver = Annotated[User, Depends(require_roles(*ACTIONS["discount_approvals"]))]


class RowOut(BaseModel):
    seq: int
    reason: str
    kind: str
    value: Decimal
    deduction: Decimal
    price_after: Decimal


class StepOut(BaseModel):
    seq: int
    role: str
    opened_at: datetime
    due_at: datetime
    outcome: str | None
    decided_by: str | None
    closed_at: datetime | None
    note: str | None


class RequestOut(BaseModel):
    id: int
    project_id: int
    unit_id: int
    unit_code: str
    customer_id: int
    customer_name: str  # masked
    requested_by: str
    requested_at: datetime
    deposit_kind: str
    deposit_amount: Decimal
    list_price: Decimal
    final_price: Decimal
    discount: Decimal
    floor_price: Decimal | None
    filed_price: Decimal | None
    below_floor: bool
    level: str
    current_level: str
    status: str
    due_at: datetime | None  # the open step's clock
    decision_note: str | None
    subscription_id: int | None
    rows: list[RowOut] = []
    steps: list[StepOut] = []


class RequestList(BaseModel):
    items: list[RequestOut]


class DecisionIn(RequestModel):
    note: str = Field(default="", max_length=1000)


def _out(session, req: DiscountRequest, *, detail: bool) -> RequestOut:
    code, name = session.execute(select(Unit.code, Customer.name).join(Customer, Customer.id == req.customer_id)
                                 .where(Unit.id == req.unit_id)).one()
    steps = steps_of(session, req.id)
    # People by their names (the screen shows them), not their logins.
    names = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({req.requested_by, *(s.decided_by for s in steps if s.decided_by)}))).all())
    open_step = next((s for s in steps if s.outcome is None), None)
    return RequestOut(
        id=req.id, project_id=req.project_id, unit_id=req.unit_id, unit_code=code, customer_id=req.customer_id,
        customer_name=mask_name(name), requested_by=names.get(req.requested_by, ""), requested_at=req.requested_at,
        deposit_kind=req.deposit_kind, deposit_amount=req.deposit_amount, list_price=req.list_price,
        final_price=req.final_price, discount=req.list_price - req.final_price, floor_price=req.floor_price,
        filed_price=req.filed_price, below_floor=req.floor_price is not None and req.final_price < req.floor_price,
        level=req.level, current_level=req.current_level, status=req.status,
        due_at=open_step.due_at if open_step and req.status == DiscountStatus.PENDING else None,
        decision_note=req.decision_note, subscription_id=req.subscription_id,
        rows=[RowOut.model_validate(r, from_attributes=True) for r in rows_of(session, req.id)],
        steps=[StepOut(seq=s.seq, role=s.role, opened_at=s.opened_at, due_at=s.due_at, outcome=s.outcome,
                       decided_by=names.get(s.decided_by) if s.decided_by else None, closed_at=s.closed_at,
                       note=s.note) for s in steps] if detail else [],
    )


def _request(session, request_id: int, user: User, roles) -> DiscountRequest:
    req = session.get(DiscountRequest, request_id)
    missing = f"discount request {request_id} does not exist"
    if req is None:
        raise NotFound(missing)
    act_in(user, req.project_id, missing, roles)
    if user.role == "sales" and req.requested_by != user.id:
        raise NotFound(missing)  # a consultant sees their own requests only
    return req


@router.get("/api/discount-requests", response_model=RequestList, summary="Discount requests: to decide, or one's own")
def list_requests(
    session: SessionDep, user: Reader,
    status: Annotated[Literal["pending", "approved", "rejected", "lapsed"] | None, Query()] = "pending",
    mine: Annotated[bool, Query(description="the requests I made (else: those at my level, to decide)")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RequestList:
    """An approver's list: pending requests now at their level or below (the level decides or a higher one), in
    the projects where they approve. A consultant's list (or `mine`): their own requests."""
    stmt = select(DiscountRequest).order_by(DiscountRequest.requested_at.desc(), DiscountRequest.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(DiscountRequest.status == status)
    held = [r for r in APPROVAL_LEVELS if r in user.access.roles]  # type: ignore[attr-defined]
    if mine or not held:
        where = project_filter(DiscountRequest.project_id, user, READERS)
        stmt = stmt.where(DiscountRequest.requested_by == user.id)
    else:
        where = project_filter(DiscountRequest.project_id, user, ACTIONS["discount_approvals"])
        # The levels this person decides: their own and those below (a higher level decides a lower one's).
        top = max(APPROVAL_LEVELS.index(r) for r in held)
        stmt = stmt.where(DiscountRequest.current_level.in_(APPROVAL_LEVELS[: top + 1]))
    if where is not None:
        stmt = stmt.where(where)
    reqs = list(session.scalars(stmt))
    items = [_out(session, r, detail=True) for r in reqs]
    release_connection(session)
    return RequestList(items=items)


@router.get("/api/discount-requests/{request_id}", response_model=RequestOut, summary="A discount request")
def get_request(request_id: int, session: SessionDep, user: Reader) -> RequestOut:
    req = _request(session, request_id, user, READERS)
    out = _out(session, req, detail=True)
    release_connection(session)
    return out


def _start(client, settings, inp: DiscountApprovalInput) -> None:
    async def start():
        await client.start_workflow(DiscountApprovalWorkflow.run, inp, id=discount_workflow_id(inp.request_id),
                                    task_queue=settings.temporal_task_queue, rpc_timeout=rpc_timeout())

    try:
        run_async(start)
    except WorkflowAlreadyStartedError:
        pass


def _decide(session, client, settings, request_id: int, user: User, approve: bool, note: str) -> RequestOut:
    req = _request(session, request_id, user, ACTIONS["discount_approvals"])
    actor = acting_person(session, user, user.role, req.project_id)
    workflow_id = req.workflow_id
    unstarted = req.status == DiscountStatus.PENDING and not steps_of(session, req.id)
    inp = DiscountApprovalInput(request_id=req.id, requested_by=req.requested_by, level=req.current_level,
                                step_minutes=req.step_minutes, opened_at=datetime.now(timezone.utc))
    release_connection(session)
    decision = DiscountDecision(actor=actor, approve=approve, note=note)
    missing = f"discount request {request_id} is no longer awaiting a decision"
    try:
        run_update(client, workflow_id=workflow_id, update=DiscountApprovalWorkflow.decide, payload=decision,
                   result_type=DiscountStepResult, not_found=missing)
    except NotFound:
        if not unstarted:
            raise
        # A pending request whose workflow never started (demo data seeded before the engine was up): start
        # it now, its clock from now, and send the decision.
        _start(client, settings, inp)
        run_update(client, workflow_id=workflow_id, update=DiscountApprovalWorkflow.decide, payload=decision,
                   result_type=DiscountStepResult, not_found=missing)
    session.expire_all()
    out = _out(session, session.get(DiscountRequest, request_id), detail=True)
    release_connection(session)
    return out


_DECISION_RESPONSES = {403: {"description": "Not this level's, or your own request (four eyes) (`forbidden`)."},
                       404: {"description": "No such request for this person (`not_found`)."},
                       409: {"description": "Already decided (`conflict`)."},
                       422: {"description": "A rejection without its reason (`invalid`)."}}


@router.post("/api/discount-requests/{request_id}/approve", response_model=RequestOut, responses=_DECISION_RESPONSES,
             summary="Approve a discount: the subscription is written at the approved price")
def approve_request(request_id: int, body: DecisionIn, session: SessionDep, client: ClientDep, settings: SettingsDep,
                   user: Approver) -> RequestOut:
    return _decide(session, client, settings, request_id, user, True, body.note)


@router.post("/api/discount-requests/{request_id}/reject", response_model=RequestOut, responses=_DECISION_RESPONSES,
             summary="Reject a discount (with its reason): the unit is released")
def reject_request(request_id: int, body: DecisionIn, session: SessionDep, client: ClientDep, settings: SettingsDep,
                   user: Approver) -> RequestOut:
    return _decide(session, client, settings, request_id, user, False, body.note)
