"""Customers (issue 3, DOMAIN §3 and §8): registration, masked read-outs, blind-index look-up, audited
reveal, consultant visibility, rating, tags, co-owners / co-residents, visits, calls and follow-ups.
Recording a visit, call or follow-up re-evaluates the customer's early warning (db/warnings.py) in the
same transaction.

Responses carry only masked numbers; the one exception is the reveal, which is audited first and
answered with `Cache-Control: no-store`. Nothing here logs personal data.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from api.access import choose_project
from api.clock import china_today
from api.deps import CipherDep, SessionDep, Staff, require_roles
from api.errors import reads_only
from api.strict import RequestModel
from db import customers as svc
from db.errors import Forbidden, Invalid, NotFound
from db.models import Customer, Project, User
from db.warnings import evaluate_customer_warnings
from domain import customers as rules
from domain.calendar import CHINA
from domain.identity import IdType
from domain.permissions import ACTIONS

router = APIRouter(tags=["customers"])


Registrar = Annotated[User, Depends(require_roles("frontdesk", "sales", "manager"))]
Manager = Annotated[User, Depends(require_roles("manager"))]
Recorder = Annotated[User, Depends(require_roles("frontdesk", "sales", "manager"))]
RevealLog = Annotated[User, Depends(require_roles(*rules.REVEAL_LOG_ROLES))]
MY_CUSTOMERS_ROLES = ACTIONS["my_customers"]  # sales, manager, frontdesk
Importer = Annotated[User, Depends(require_roles("manager", "sales"))]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _today() -> date:
    return china_today()


# --- schemas ---------------------------------------------------------------------------------


class CustomerIn(RequestModel):
    name: str = Field(min_length=1, max_length=64)
    id_type: str = "resident_id"
    id_number: str = Field(min_length=1, max_length=64)
    mobile: str = Field(min_length=1, max_length=32)
    source_channel: str = Field(min_length=1, max_length=32)
    consultant_id: int | None = None
    project_id: int | None = Field(default=None, description="the project (required when the caller works in several)")


class CoPartyIn(RequestModel):
    relation: Literal["co_owner", "co_resident"]
    name: str = Field(min_length=1, max_length=64)
    id_type: str | None = None
    id_number: str | None = Field(default=None, max_length=64)
    mobile: str | None = Field(default=None, max_length=32)


class CoPartyOut(BaseModel):
    id: int
    relation: str
    name: str
    id_type: str | None
    id_number_masked: str | None
    mobile_masked: str | None


class CustomerOut(BaseModel):
    id: int
    name: str
    id_type: str | None  # None: recorded without an ID number (where the record allows it)
    id_number_masked: str | None
    mobile_masked: str
    source_channel: str | None
    consultant_id: int | None
    rating: str
    tags: list[str]
    project_id: int


class NeedsOut(BaseModel):
    budget_min: Decimal | None
    budget_max: Decimal | None
    layouts: list[str]
    area_min: Decimal | None
    area_max: Decimal | None
    purpose: str | None
    concerns: list[str]
    note: str
    updated_by: int
    updated_at: datetime


class CustomerDetail(CustomerOut):
    co_parties: list[CoPartyOut]
    last_visit_at: datetime | None
    next_appointment_at: datetime | None
    needs: NeedsOut | None = None


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    total: int
    limit: int
    offset: int


class RevealIn(RequestModel):
    field: Literal["id_number", "mobile"]
    purpose: str = Field(max_length=500)


class RevealOut(BaseModel):
    field: str
    value: str
    audit_id: int


class RevealLogOut(BaseModel):
    id: int
    field: str
    purpose: str
    revealed_by: int
    revealed_by_username: str
    revealed_by_role: str
    revealed_at: datetime


class ConsultantIn(RequestModel):
    consultant_id: int


class RatingIn(RequestModel):
    rating: str = Field(min_length=1, max_length=1)


class TagsIn(RequestModel):
    tags: list[str] = Field(max_length=50)


class VisitIn(RequestModel):
    visited_at: datetime | None = None
    group_size: int = Field(default=1, ge=1, le=100)
    note: str = Field(default="", max_length=2000)


class VisitOut(BaseModel):
    id: int
    visited_at: datetime
    group_size: int
    kind: Literal["first", "repeat"]
    note: str
    recorded_by: int


class CallIn(RequestModel):
    called_at: datetime | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    duration_seconds: int | None = Field(default=None, ge=0)
    note: str = Field(default="", max_length=2000)


class CallOut(BaseModel):
    id: int
    called_at: datetime
    direction: str
    duration_seconds: int | None
    note: str
    recorded_by: int


class FollowUpIn(RequestModel):
    at: datetime | None = None
    channel: Literal["phone", "wechat", "visit", "sms", "other"] = "phone"
    note: str = Field(default="", max_length=2000)
    topics: list[str] = Field(default_factory=list, max_length=20)
    next_appointment_at: datetime | None = None


class FollowUpOut(BaseModel):
    id: int
    at: datetime
    channel: str
    note: str
    topics: list[str]
    next_appointment_at: datetime | None
    recorded_by: int


def _aware(t: datetime | None) -> datetime | None:
    """A naive datetime is China time (the sales office's clock)."""
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=CHINA)
    return t


def _out(session, c: Customer) -> CustomerOut:
    p = svc.profile_of(session, c.id)
    return CustomerOut(
        id=c.id, name=c.name, id_type=c.id_type, id_number_masked=c.id_number_masked, mobile_masked=c.mobile_masked,
        source_channel=p.source_channel if p else None, consultant_id=c.consultant_id, rating=c.rating,
        tags=list(c.tags or []), project_id=c.project_id,
    )


def _co(p) -> CoPartyOut:
    return CoPartyOut(id=p.id, relation=p.relation, name=p.name, id_type=p.id_type,
                      id_number_masked=p.id_number_masked, mobile_masked=p.mobile_masked)


def _detail(session, c: Customer) -> CustomerDetail:
    return CustomerDetail(
        **_out(session, c).model_dump(),
        co_parties=[_co(p) for p in svc.co_parties_of(session, c.id)],
        last_visit_at=svc.last_visit(session, c.id),
        next_appointment_at=svc.next_appointment(session, c.id, _now()),
        needs=_needs(svc.needs_of(session, c.id)),
    )


# --- customers -------------------------------------------------------------------------------


@router.post("/api/customers", response_model=CustomerDetail, status_code=status.HTTP_201_CREATED,
             summary="Register a customer (validated ID and mobile; a duplicate ID is refused)")
def create_customer(body: CustomerIn, user: Registrar, session: SessionDep, cipher: CipherDep) -> CustomerDetail:
    project_id = choose_project(user, body.project_id)
    c = svc.register_customer(
        session, cipher, actor=user, project_id=project_id, name=body.name, id_type=body.id_type, id_number=body.id_number,
        mobile=body.mobile, source_channel=body.source_channel.strip(), consultant_id=body.consultant_id, today=_today(),
    )
    out = _detail(session, c)
    session.commit()
    return out


@router.get("/api/customers", response_model=CustomerPage,
            summary="Customers visible to the caller: exact look-up by ID or mobile, name prefix, filters")
def list_customers(
    user: Staff,
    session: SessionDep,
    cipher: CipherDep,
    id_number: str | None = Query(default=None, max_length=64),
    id_type: str | None = Query(default=None),
    mobile: str | None = Query(default=None, max_length=32),
    q: str | None = Query(default=None, max_length=64, description="name prefix"),
    rating: Literal["A", "B", "C", "D"] | None = None,
    consultant_id: int | None = None,
    tag: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> CustomerPage:
    if id_type is not None and id_type not in {t.value for t in IdType}:
        raise Invalid(f"unknown ID type {id_type!r}")
    id_indexes = svc.id_lookup_indexes(cipher, id_number, id_type=id_type, today=_today()) if id_number else None
    mobile_index = svc.mobile_lookup_index(cipher, mobile) if mobile else None
    rows, total = svc.search_customers(
        session, viewer=user, id_indexes=id_indexes, mobile_index=mobile_index, name_prefix=q, rating=rating,
        consultant_id=consultant_id, tag=tag, limit=limit, offset=offset,
    )
    return CustomerPage(items=[_out(session, c) for c in rows], total=total, limit=limit, offset=offset)


class LookupIn(RequestModel):
    id_number: str | None = Field(default=None, max_length=64)
    id_type: str | None = None
    mobile: str | None = Field(default=None, max_length=32)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


@router.post("/api/customers/lookup", response_model=CustomerPage,
             summary="Exact look-up by ID number or mobile with the numbers in the body (kept out of access logs)")
@reads_only
def lookup_customers(body: LookupIn, user: Staff, session: SessionDep, cipher: CipherDep) -> CustomerPage:
    if not body.id_number and not body.mobile:
        raise Invalid("give id_number or mobile")
    return list_customers(user, session, cipher, id_number=body.id_number, id_type=body.id_type, mobile=body.mobile,
                          q=None, rating=None, consultant_id=None, tag=None, limit=body.limit, offset=body.offset)


@router.get("/api/customers/{customer_id}", response_model=CustomerDetail, summary="One customer, masked")
def get_customer(customer_id: int, user: Staff, session: SessionDep) -> CustomerDetail:
    return _detail(session, svc.visible_customer(session, customer_id, user))


@router.post("/api/customers/{customer_id}/reveal", response_model=RevealOut,
             summary="Reveal a clear ID number or mobile (manager, finance, legal); every reveal is audited")
def reveal(customer_id: int, body: RevealIn, user: Staff, session: SessionDep, cipher: CipherDep,
           response: Response) -> RevealOut:
    if user.role not in rules.REVEAL_ROLES:
        raise Forbidden(f"role {user.role} may not reveal personal data; allowed: {', '.join(rules.REVEAL_ROLES)}")
    c = svc.visible_customer(session, customer_id, user)
    value, audit_id = svc.reveal(session, cipher, c, field=body.field, purpose=body.purpose, actor=user)
    session.commit()  # the audit row is written before the value leaves
    response.headers["Cache-Control"] = "no-store"
    return RevealOut(field=body.field, value=value, audit_id=audit_id)


@router.get("/api/customers/{customer_id}/reveals", response_model=list[RevealLogOut],
            summary="Who revealed this customer's personal data, when, which field and why")
def list_reveals(customer_id: int, user: RevealLog, session: SessionDep) -> list[RevealLogOut]:
    svc.visible_customer(session, customer_id, user)
    return [
        RevealLogOut(id=r.id, field=r.field, purpose=r.purpose, revealed_by=r.revealed_by, revealed_by_username=name,
                     revealed_by_role=r.revealed_by_role, revealed_at=r.revealed_at)
        for r, name in svc.reveals_of(session, customer_id)
    ]


@router.put("/api/customers/{customer_id}/consultant", response_model=CustomerOut,
            summary="Assign or reassign the customer's consultant (manager)")
def put_consultant(customer_id: int, body: ConsultantIn, user: Manager, session: SessionDep) -> CustomerOut:
    return _change(session, customer_id, user, lambda c: svc.assign_consultant(session, c, body.consultant_id))


def _change(session, customer_id: int, user: User, change) -> CustomerOut:
    """Lock the customer the caller may see, apply one change, answer with the result, commit."""
    c = svc.visible_customer(session, customer_id, user, for_update=True)
    change(c)
    session.flush()
    out = _out(session, c)
    session.commit()
    return out


@router.put("/api/customers/{customer_id}/rating", response_model=CustomerOut,
            summary="Rate the customer A–D (their consultant or a manager)")
def put_rating(customer_id: int, body: RatingIn, user: Staff, session: SessionDep) -> CustomerOut:
    return _change(session, customer_id, user, lambda c: svc.set_rating(c, body.rating, user))


@router.put("/api/customers/{customer_id}/tags", response_model=CustomerOut,
            summary="Replace the customer's tags (only a manager may remove 敏感)")
def put_tags(customer_id: int, body: TagsIn, user: Staff, session: SessionDep) -> CustomerOut:
    return _change(session, customer_id, user, lambda c: svc.set_tags(c, body.tags, user))


@router.post("/api/customers/{customer_id}/co-parties", response_model=CoPartyOut, status_code=status.HTTP_201_CREATED,
             summary="Add a co-owner (共有人) or co-resident (共居人)")
def post_co_party(customer_id: int, body: CoPartyIn, user: Recorder, session: SessionDep, cipher: CipherDep) -> CoPartyOut:
    c = svc.visible_customer(session, customer_id, user)
    p = svc.add_co_party(session, cipher, c, relation=body.relation, name=body.name, id_type=body.id_type,
                         id_number=body.id_number, mobile=body.mobile, today=_today())
    out = _co(p)
    session.commit()
    return out


@router.get("/api/customers/{customer_id}/co-parties", response_model=list[CoPartyOut], summary="Co-owners and co-residents")
def get_co_parties(customer_id: int, user: Staff, session: SessionDep) -> list[CoPartyOut]:
    svc.visible_customer(session, customer_id, user)
    return [_co(p) for p in svc.co_parties_of(session, customer_id)]


# --- visits, calls, follow-ups ------------------------------------------------------------------


def _visits(session, customer_id: int) -> list[VisitOut]:
    return [
        VisitOut(id=v.id, visited_at=v.visited_at, group_size=v.group_size, kind=kind, note=v.note, recorded_by=v.recorded_by)
        for v, kind in svc.visits_of(session, customer_id)
    ]


@router.post("/api/customers/{customer_id}/visits", response_model=VisitOut, status_code=status.HTTP_201_CREATED,
             summary="Record a visit (one visiting group); first / repeat is computed from the history")
def post_visit(customer_id: int, body: VisitIn, user: Recorder, session: SessionDep) -> VisitOut:
    c = svc.visible_customer(session, customer_id, user, for_update=True)
    v = svc.add_visit(session, c, visited_at=_aware(body.visited_at) or _now(), group_size=body.group_size,
                      note=body.note, actor=user)
    out = next(x for x in _visits(session, c.id) if x.id == v.id)
    evaluate_customer_warnings(session, customer_id=c.id, now=_now())  # same transaction as the visit
    session.commit()
    return out


@router.get("/api/customers/{customer_id}/visits", response_model=list[VisitOut], summary="Visits, oldest first")
def get_visits(customer_id: int, user: Staff, session: SessionDep) -> list[VisitOut]:
    svc.visible_customer(session, customer_id, user)
    return _visits(session, customer_id)


def _call(c) -> CallOut:
    return CallOut(id=c.id, called_at=c.called_at, direction=c.direction, duration_seconds=c.duration_seconds,
                   note=c.note, recorded_by=c.recorded_by)


@router.post("/api/customers/{customer_id}/calls", response_model=CallOut, status_code=status.HTTP_201_CREATED,
             summary="Record a call")
def post_call(customer_id: int, body: CallIn, user: Recorder, session: SessionDep) -> CallOut:
    c = svc.visible_customer(session, customer_id, user)
    call = svc.add_call(session, c, called_at=_aware(body.called_at) or _now(), direction=body.direction,
                        duration_seconds=body.duration_seconds, note=body.note, actor=user)
    out = _call(call)
    evaluate_customer_warnings(session, customer_id=c.id, now=_now())  # same transaction as the call
    session.commit()
    return out


@router.get("/api/customers/{customer_id}/calls", response_model=list[CallOut], summary="Calls, oldest first")
def get_calls(customer_id: int, user: Staff, session: SessionDep) -> list[CallOut]:
    svc.visible_customer(session, customer_id, user)
    return [_call(c) for c in svc.calls_of(session, customer_id)]


def _fu(f) -> FollowUpOut:
    return FollowUpOut(id=f.id, at=f.at, channel=f.channel, note=f.note, topics=list(f.topics or []),
                       next_appointment_at=f.next_appointment_at, recorded_by=f.recorded_by)


@router.post("/api/customers/{customer_id}/follow-ups", response_model=FollowUpOut, status_code=status.HTTP_201_CREATED,
             summary="Record a follow-up with topic tags and an optional next appointment")
def post_follow_up(customer_id: int, body: FollowUpIn, user: Recorder, session: SessionDep) -> FollowUpOut:
    c = svc.visible_customer(session, customer_id, user)
    f = svc.add_follow_up(session, c, at=_aware(body.at) or _now(), channel=body.channel, note=body.note,
                          topics=body.topics, next_appointment_at=_aware(body.next_appointment_at), actor=user)
    out = _fu(f)
    evaluate_customer_warnings(session, customer_id=c.id, now=_now())  # same transaction as the follow-up
    session.commit()
    return out


@router.get("/api/customers/{customer_id}/follow-ups", response_model=list[FollowUpOut], summary="Follow-ups, oldest first")
def get_follow_ups(customer_id: int, user: Staff, session: SessionDep) -> list[FollowUpOut]:
    svc.visible_customer(session, customer_id, user)
    return [_fu(f) for f in svc.follow_ups_of(session, customer_id)]


# --- needs and preferences, the consultant's list, import, the customer's records (issue 15) -------------

Worker = Annotated[User, Depends(require_roles(*MY_CUSTOMERS_ROLES))]


class NeedsIn(RequestModel):
    """What the customer is looking for; every field optional (a PUT replaces the whole record)."""

    budget_min: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2, description="total, CNY")
    budget_max: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2, description="total, CNY")
    layouts: list[str] = Field(default_factory=list, max_length=rules.MAX_LAYOUTS, description="e.g. 三室两厅")
    area_min: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=2, description="gross m²")
    area_max: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=2, description="gross m²")
    purpose: str | None = Field(default=None, max_length=16, description=f"one of {', '.join(rules.PURPOSES)}")
    concerns: list[str] = Field(default_factory=list, max_length=len(rules.CONCERNS),
                                description=f"of {', '.join(rules.CONCERNS)}")
    note: str = Field(default="", max_length=rules.MAX_NEEDS_NOTE)


def _needs(n) -> NeedsOut | None:
    if n is None:
        return None
    return NeedsOut(budget_min=n.budget_min, budget_max=n.budget_max, layouts=list(n.layouts or []), area_min=n.area_min,
                    area_max=n.area_max, purpose=n.purpose, concerns=list(n.concerns or []), note=n.note or "",
                    updated_by=n.updated_by, updated_at=n.updated_at)


@router.get("/api/customers/{customer_id}/needs", response_model=NeedsOut | None,
            summary="The customer's needs and preferences (null when none recorded)")
def get_needs(customer_id: int, user: Staff, session: SessionDep) -> NeedsOut | None:
    svc.visible_customer(session, customer_id, user)
    return _needs(svc.needs_of(session, customer_id))


@router.put("/api/customers/{customer_id}/needs", response_model=NeedsOut,
            summary="Record the customer's needs: budget, layouts, area, purpose, concerns (422 per field)")
def put_needs(customer_id: int, body: NeedsIn, user: Recorder, session: SessionDep) -> NeedsOut:
    c = svc.visible_customer(session, customer_id, user, for_update=True)
    needs, faults = rules.check_needs(**body.model_dump())
    if faults:
        raise svc.needs_error(faults)
    row = svc.set_needs(session, c, needs, actor=user)
    out = _needs(row)
    session.commit()
    return out


class MyCustomerOut(CustomerOut):
    last_contact_at: datetime | None
    appointment_at: datetime | None = Field(description="the appointment booked by the latest follow-up, unless met")
    appointment_note: str | None
    appointment_state: Literal["overdue", "due_today", "upcoming", "none"]
    needs: NeedsOut | None


class MyCustomerPage(BaseModel):
    items: list[MyCustomerOut]
    total: int
    due: int = Field(description="overdue and due today")
    limit: int
    offset: int


@router.get("/api/my/customers", response_model=MyCustomerPage,
            summary="The customers a person works with: the last contact and the next appointment, due and overdue first")
def my_customers(
    user: Worker, session: SessionDep,
    consultant_id: int | None = Query(default=None, description="front desk, manager: one consultant's customers"),
    state: Literal["overdue", "due_today", "upcoming", "none"] | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> MyCustomerPage:
    rows = svc.my_customers(session, viewer=user, consultant_id=consultant_id, now=_now(), state=state)
    page = rows[offset:offset + limit]
    items = [MyCustomerOut(**_out(session, r.customer).model_dump(), last_contact_at=r.last_contact_at,
                           appointment_at=r.appointment_at, appointment_note=r.appointment_note,
                           appointment_state=r.state, needs=_needs(svc.needs_of(session, r.customer.id)))
             for r in page]
    due = sum(1 for r in rows if r.state in ("overdue", "due_today"))
    return MyCustomerPage(items=items, total=len(rows), due=due, limit=limit, offset=offset)


class CustomerImportResult(BaseModel):
    imported: int
    customer_ids: list[int]


_IMPORT_422 = {422: {"description": "Bad rows (`invalid`: `errors` has one item per bad cell: `line`, the column as "
                                    "`field`, the reason as `message`), or an unreadable file; nothing is imported."}}


@router.post("/api/projects/{project_id}/customers/import", status_code=status.HTTP_201_CREATED,
             response_model=CustomerImportResult, responses=_IMPORT_422,
             summary="Import customers from XLSX/CSV: name, mobile, ID (optional where allowed), channel, needs; all or nothing")
def import_customers(project_id: int, user: Importer, session: SessionDep, cipher: CipherDep,
                     file: UploadFile = File(...)) -> CustomerImportResult:
    from api.routes.inventory import _read_upload
    from db.inventory import ImportRejected, read_table

    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    data, name = _read_upload(file)
    try:
        created = svc.import_customers(session, cipher, project_id=project_id, rows=read_table(data, name), actor=user,
                                       today=_today())
    except ImportRejected:
        session.rollback()
        raise
    ids = [c.id for c in created]
    session.commit()
    return CustomerImportResult(imported=len(ids), customer_ids=ids)


class CustomerRecords(BaseModel):
    subscriptions: list[dict]
    contracts: list[dict]
    cases: list[dict]
    mortgages: list[dict]
    warnings: list[dict]


@router.get("/api/customers/{customer_id}/records", response_model=CustomerRecords,
            summary="The customer's subscriptions, contracts (due / paid), refund cases, mortgages and warnings")
def get_records(customer_id: int, user: Staff, session: SessionDep) -> CustomerRecords:
    svc.visible_customer(session, customer_id, user)
    return CustomerRecords(**svc.records_of(session, customer_id))
