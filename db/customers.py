"""Customers with their personal data encrypted, a blind index for exact look-up and masks for display."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from db.models import Customer
from db.pii import PiiCipher
from domain.identity import (
    IdType,
    mask_id_number,
    mask_mobile,
    normalize_id_number,
    normalize_mobile,
)


def new_customer(
    session: Session,
    cipher: PiiCipher,
    *,
    name: str,
    id_type: IdType | str,
    id_number: str,
    mobile: str,
    consultant_id: int | None,
    today: date,
    project_id: int,
    rating: str = "B",
) -> Customer:
    """Validates (raises domain.identity.InvalidIdentity) and stores a customer; flushes, never commits."""
    id_type = IdType(id_type)
    id_norm = normalize_id_number(id_type, id_number, today=today)
    mobile_norm = normalize_mobile(mobile)
    customer = Customer(
        name=name,
        id_type=id_type.value,
        id_number_enc=cipher.encrypt(id_norm),
        id_number_bidx=cipher.blind_index(f"id.{id_type.value}", id_norm),
        id_number_masked=mask_id_number(id_norm),
        mobile_enc=cipher.encrypt(mobile_norm),
        mobile_bidx=cipher.blind_index("mobile", mobile_norm),
        mobile_masked=mask_mobile(mobile_norm),
        consultant_id=consultant_id,
        project_id=project_id,
        rating=rating,
        tags=[],
    )
    session.add(customer)
    session.flush()
    return customer


def identity_matches(cipher: PiiCipher, customer: Customer, *, id_number: str, mobile: str, today: date) -> tuple[bool, bool]:
    """(ID matches, mobile matches) the buyer on record; compares blind indexes, never clear text."""
    id_norm = normalize_id_number(customer.id_type, id_number, today=today)
    mobile_norm = normalize_mobile(mobile)
    id_ok = cipher.blind_index(f"id.{customer.id_type}", id_norm) == customer.id_number_bidx
    phone_ok = cipher.blind_index("mobile", mobile_norm) == customer.mobile_bidx
    return id_ok, phone_ok


# --- the customers API (issue 3): registration, search, visibility, reveal audit, sales records ---------

from datetime import datetime, timezone  # noqa: E402

from sqlalchemy import and_, false, func, or_, select, text, true, type_coerce  # noqa: E402
from sqlalchemy.dialects.postgresql import JSONB  # noqa: E402

from db.customer_models import (  # noqa: E402
    CustomerCall,
    CustomerCoParty,
    CustomerFollowUp,
    CustomerProfile,
    CustomerReveal,
    CustomerVisit,
)
from db.errors import Conflict, Forbidden, Invalid, NotFound  # noqa: E402
from db.org import load_access  # noqa: E402
from db.reminders import schedule_appointment  # noqa: E402
from db.models import User  # noqa: E402
from domain import customers as rules  # noqa: E402
from domain.identity import InvalidIdentity  # noqa: E402


def _invalid(err: Exception) -> Invalid:
    return Invalid(str(err))


def id_lookup_indexes(cipher: PiiCipher, id_number: str, *, id_type: str | None, today: date) -> list[str]:
    """Blind indexes an ID number may be stored under: of the given type, or of every type it is valid for.

    Raises Invalid (with the reason) when the number is valid for no type."""
    kinds = [IdType(id_type)] if id_type else list(IdType)
    out, first_error = [], None
    for kind in kinds:
        try:
            norm = normalize_id_number(kind, id_number, today=today)
        except InvalidIdentity as e:
            first_error = first_error or e
            continue
        out.append(cipher.blind_index(f"id.{kind.value}", norm))
    if not out:
        raise _invalid(first_error)
    return out


def mobile_lookup_index(cipher: PiiCipher, mobile: str) -> str:
    try:
        return cipher.blind_index("mobile", normalize_mobile(mobile))
    except InvalidIdentity as e:
        raise _invalid(e) from None


def _check_consultant(session: Session, consultant_id: int, project_id: int) -> User:
    """An active person who is a sales consultant in the project (by a membership of any scope)."""
    u = session.get(User, consultant_id)
    if u is None or not u.active or "sales" not in load_access(session, u.id).roles_in(project_id):
        raise Invalid(f"user {consultant_id} is not an active sales consultant of this project")
    return u


def register_customer(
    session: Session,
    cipher: PiiCipher,
    *,
    actor: User,
    project_id: int,
    name: str,
    id_type: str,
    id_number: str,
    mobile: str,
    source_channel: str,
    consultant_id: int | None,
    today: date,
) -> Customer:
    """Validates, refuses a duplicate ID (same blind index: 409) and stores customer + profile; flushes only.

    The duplicate check holds a transaction-level advisory lock on the blind index, so two concurrent
    registrations of the same ID are serialised (no unique index: older rows may share an ID)."""
    if actor.role == "sales":
        if consultant_id not in (None, actor.id):
            raise Forbidden("a sales consultant registers customers for themselves only")
        consultant_id = actor.id
    if not name.strip():
        raise Invalid("name is empty")
    if consultant_id is not None:
        _check_consultant(session, consultant_id, project_id)
    try:
        kind = IdType(id_type)
    except ValueError:
        raise Invalid(f"unknown ID type {id_type!r}") from None
    try:
        id_norm = normalize_id_number(kind, id_number, today=today)
        normalize_mobile(mobile)
    except InvalidIdentity as e:
        raise _invalid(e) from None
    bidx = cipher.blind_index(f"id.{kind.value}", id_norm)
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": bidx})
    taken = select(Customer.id).where(Customer.id_number_bidx == bidx, Customer.project_id == project_id).limit(1)
    if session.scalar(taken) is not None:
        raise Conflict("a customer with this ID number is already registered in this project")
    c = new_customer(
        session, cipher, name=name.strip(), id_type=kind, id_number=id_number, mobile=mobile,
        consultant_id=consultant_id, today=today, project_id=project_id,
    )
    session.add(CustomerProfile(customer_id=c.id, source_channel=source_channel, created_by=actor.id))
    session.flush()
    return c


def visible_customer(session: Session, customer_id: int, user: User, *, for_update: bool = False) -> Customer:
    """The customer if this user may see it; 404 otherwise, so existence is not leaked."""
    stmt = select(Customer).where(Customer.id == customer_id)
    if for_update:
        stmt = stmt.with_for_update()
    c = session.scalar(stmt)
    missing = f"customer {customer_id} not found"
    if c is None:
        raise NotFound(missing)
    held = user.access.roles_in(c.project_id)  # type: ignore[attr-defined]
    seeing = [r for r in held if rules.can_see(r, user.id, c.consultant_id)]
    if not seeing:
        raise NotFound(missing)
    allowed = getattr(user, "allowed", (user.role,))
    role = next((r for r in (user.role, *allowed) if r in seeing and r in allowed), None)
    if role is None:
        raise Forbidden(f"in this project you are {', '.join(sorted(held))}; allowed: {', '.join(allowed)}")
    user.role = role  # the role this person acts in for this customer's project
    return c


def profile_of(session: Session, customer_id: int) -> CustomerProfile | None:
    return session.get(CustomerProfile, customer_id)


def _in(column, ids: frozenset[int] | None):
    return true() if ids is None else column.in_(sorted(ids)) if ids else false()


def _visible_to(viewer: User):
    """The customers a person may see: every customer of a project where they hold a role that sees all, and
    their own customers in a project where they are a consultant."""
    access = viewer.access  # type: ignore[attr-defined]
    return or_(
        _in(Customer.project_id, access.projects_for(rules.SEES_ALL)),
        and_(Customer.consultant_id == viewer.id, _in(Customer.project_id, access.projects_for(["sales"]))),
    )


def search_customers(
    session: Session,
    *,
    viewer: User,
    id_indexes: list[str] | None = None,
    mobile_index: str | None = None,
    name_prefix: str | None = None,
    rating: str | None = None,
    consultant_id: int | None = None,
    tag: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Customer], int]:
    conds = [_visible_to(viewer)]
    if id_indexes is not None:
        conds.append(Customer.id_number_bidx.in_(id_indexes))
    if mobile_index is not None:
        conds.append(Customer.mobile_bidx == mobile_index)
    if name_prefix:
        conds.append(Customer.name.like(rules.like_prefix(name_prefix.strip()), escape="\\"))
    if rating:
        conds.append(Customer.rating == rating)
    if consultant_id is not None:
        conds.append(Customer.consultant_id == consultant_id)
    if tag:
        conds.append(type_coerce(Customer.tags, JSONB).contains([tag]))
    total = session.scalar(select(func.count()).select_from(Customer).where(*conds))
    order = (Customer.name, Customer.id) if name_prefix else (Customer.id.desc(),)
    rows = session.scalars(select(Customer).where(*conds).order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


def reveal(
    session: Session, cipher: PiiCipher, customer: Customer, *, field: str, purpose: str, actor: User
) -> tuple[str, int]:
    """Writes the audit row, then returns (clear value, audit row id); the caller commits before answering."""
    if actor.role not in rules.REVEAL_ROLES:
        raise Forbidden(f"role {actor.role} may not reveal personal data; allowed: {', '.join(rules.REVEAL_ROLES)}")
    if field not in rules.REVEALABLE_FIELDS:
        raise Invalid(f"field must be one of {', '.join(rules.REVEALABLE_FIELDS)}")
    try:
        purpose = rules.check_purpose(purpose)
    except rules.RuleViolation as e:
        raise _invalid(e) from None
    audit = CustomerReveal(customer_id=customer.id, field=field, purpose=purpose,
                           revealed_by=actor.id, revealed_by_role=actor.role)
    session.add(audit)
    session.flush()
    return cipher.decrypt(customer.id_number_enc if field == "id_number" else customer.mobile_enc), audit.id


def reveals_of(session: Session, customer_id: int) -> list[tuple[CustomerReveal, str]]:
    rows = session.execute(
        select(CustomerReveal, User.username).join(User, User.id == CustomerReveal.revealed_by)
        .where(CustomerReveal.customer_id == customer_id).order_by(CustomerReveal.id)
    ).all()
    return [(r, name) for r, name in rows]


def assign_consultant(session: Session, customer: Customer, consultant_id: int) -> None:
    _check_consultant(session, consultant_id, customer.project_id)
    customer.consultant_id = consultant_id
    session.flush()


def set_rating(customer: Customer, rating: str, actor: User) -> None:
    if not rules.may_rate(actor.role, actor.id, customer.consultant_id):
        raise Forbidden("only the customer's consultant or a manager may rate the customer")
    try:
        customer.rating = rules.check_rating(rating)
    except rules.RuleViolation as e:
        raise _invalid(e) from None


def set_tags(customer: Customer, tags: list[str], actor: User) -> None:
    if not (actor.role in ("manager", "frontdesk") or rules.may_rate(actor.role, actor.id, customer.consultant_id)):
        raise Forbidden("only the customer's consultant, front desk or a manager may tag the customer")
    try:
        new = rules.normalize_tags(tags)
        rules.check_tag_change(customer.tags or [], new, actor.role)
    except rules.RuleViolation as e:
        raise _invalid(e) from None
    customer.tags = new


def add_co_party(
    session: Session, cipher: PiiCipher, customer: Customer, *, relation: str, name: str,
    id_type: str | None, id_number: str | None, mobile: str | None, today: date,
) -> CustomerCoParty:
    if relation not in rules.CO_PARTY_RELATIONS:
        raise Invalid(f"relation must be one of {', '.join(rules.CO_PARTY_RELATIONS)}")
    p = CustomerCoParty(customer_id=customer.id, relation=relation, name=name.strip())
    try:
        if id_number:
            if not id_type:
                raise Invalid("id_type is required with id_number")
            norm = normalize_id_number(id_type, id_number, today=today)
            p.id_type, p.id_number_enc, p.id_number_masked = IdType(id_type).value, cipher.encrypt(norm), mask_id_number(norm)
        if mobile:
            norm_m = normalize_mobile(mobile)
            p.mobile_enc, p.mobile_masked = cipher.encrypt(norm_m), mask_mobile(norm_m)
    except InvalidIdentity as e:
        raise _invalid(e) from None
    session.add(p)
    session.flush()
    return p


def co_parties_of(session: Session, customer_id: int) -> list[CustomerCoParty]:
    return list(session.scalars(
        select(CustomerCoParty).where(CustomerCoParty.customer_id == customer_id).order_by(CustomerCoParty.id)
    ))


def add_visit(session: Session, customer: Customer, *, visited_at: datetime, group_size: int, note: str, actor: User) -> CustomerVisit:
    v = CustomerVisit(customer_id=customer.id, visited_at=visited_at, group_size=group_size, note=note, recorded_by=actor.id)
    session.add(v)
    session.flush()
    return v


def visits_of(session: Session, customer_id: int) -> list[tuple[CustomerVisit, str]]:
    """Oldest first, each with "first" / "repeat" computed from the whole history."""
    rows = list(session.scalars(
        select(CustomerVisit).where(CustomerVisit.customer_id == customer_id)
        .order_by(CustomerVisit.visited_at, CustomerVisit.id)
    ))
    kinds = rules.visit_kinds([(v.id, v.visited_at) for v in rows])
    return [(v, kinds[v.id]) for v in rows]


def add_call(session: Session, customer: Customer, *, called_at: datetime, direction: str,
             duration_seconds: int | None, note: str, actor: User) -> CustomerCall:
    c = CustomerCall(customer_id=customer.id, called_at=called_at, direction=direction,
                     duration_seconds=duration_seconds, note=note, recorded_by=actor.id)
    session.add(c)
    session.flush()
    return c


def calls_of(session: Session, customer_id: int) -> list[CustomerCall]:
    return list(session.scalars(
        select(CustomerCall).where(CustomerCall.customer_id == customer_id).order_by(CustomerCall.called_at, CustomerCall.id)
    ))


def add_follow_up(session: Session, customer: Customer, *, at: datetime, channel: str, note: str, topics: list[str],
                  next_appointment_at: datetime | None, actor: User) -> CustomerFollowUp:
    try:
        topics = rules.normalize_topics(topics)
        rules.check_appointment(at, next_appointment_at)
    except rules.RuleViolation as e:
        raise _invalid(e) from None
    f = CustomerFollowUp(customer_id=customer.id, at=at, channel=channel, note=note, topics=topics,
                         next_appointment_at=next_appointment_at, recorded_by=actor.id)
    session.add(f)
    session.flush()
    if next_appointment_at is not None:
        schedule_appointment(session, follow_up_id=f.id, customer_id=customer.id, project_id=customer.project_id,
                             customer_name=customer.name, consultant_id=actor.id, at=next_appointment_at,
                             now=datetime.now(timezone.utc))
    return f


def follow_ups_of(session: Session, customer_id: int) -> list[CustomerFollowUp]:
    return list(session.scalars(
        select(CustomerFollowUp).where(CustomerFollowUp.customer_id == customer_id)
        .order_by(CustomerFollowUp.at, CustomerFollowUp.id)
    ))


# --- queries for the early-warning rules (domain/warnings.py) ----------------------------------------


def _has_topic(topic: str):
    return type_coerce(CustomerFollowUp.topics, JSONB).contains([topic])


def refund_policy_inquiry_times(session: Session, customer_id: int, since: datetime) -> list[datetime]:
    """When the customer asked about the refund policy (follow-ups tagged asked_refund_policy) since `since`."""
    return list(session.scalars(
        select(CustomerFollowUp.at).where(
            CustomerFollowUp.customer_id == customer_id,
            CustomerFollowUp.at >= since,
            _has_topic(rules.ASKED_REFUND_POLICY),
        ).order_by(CustomerFollowUp.at)
    ))


def topic_times(session: Session, customer_id: int, topic: str, since: datetime) -> list[datetime]:
    """When follow-ups tagged `topic` were recorded since `since`, oldest first."""
    return list(session.scalars(
        select(CustomerFollowUp.at).where(
            CustomerFollowUp.customer_id == customer_id, CustomerFollowUp.at >= since, _has_topic(topic),
        ).order_by(CustomerFollowUp.at)
    ))


def refund_policy_inquiries(session: Session, customer_id: int, since: datetime) -> int:
    """How many follow-ups since `since` are tagged asked_refund_policy."""
    return int(session.scalar(
        select(func.count()).select_from(CustomerFollowUp).where(
            CustomerFollowUp.customer_id == customer_id,
            CustomerFollowUp.at >= since,
            _has_topic(rules.ASKED_REFUND_POLICY),
        )
    ) or 0)


def last_visit(session: Session, customer_id: int) -> datetime | None:
    """When the customer's most recent visit was, or None."""
    return session.scalar(select(func.max(CustomerVisit.visited_at)).where(CustomerVisit.customer_id == customer_id))


def visit_count(session: Session, customer_id: int, start: datetime, end: datetime) -> int:
    """Visiting groups in [start, end)."""
    return int(session.scalar(
        select(func.count()).select_from(CustomerVisit).where(
            CustomerVisit.customer_id == customer_id, CustomerVisit.visited_at >= start, CustomerVisit.visited_at < end,
        )
    ) or 0)


def next_appointment(session: Session, customer_id: int, now: datetime) -> datetime | None:
    """The earliest appointment booked by any follow-up that is still ahead of `now`, or None."""
    return session.scalar(
        select(func.min(CustomerFollowUp.next_appointment_at)).where(
            CustomerFollowUp.customer_id == customer_id, CustomerFollowUp.next_appointment_at >= now,
        )
    )


# --- needs, the consultant's list, import (issue 15) ------------------------------------------------

from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from db.customer_models import CustomerNeeds  # noqa: E402
from domain.calendar import CHINA  # noqa: E402


def needs_error(errors: list[tuple[str, str]], *, prefix: str = "body.") -> Invalid:
    """A 422 with one item per field: what is wrong with it, in words."""
    err = Invalid("; ".join(f"{f}: {m}" for f, m in errors))
    err.errors = tuple({"field": f"{prefix}{f}", "code": "invalid", "message": m} for f, m in errors)
    return err


def needs_of(session: Session, customer_id: int) -> CustomerNeeds | None:
    return session.get(CustomerNeeds, customer_id)


def set_needs(session: Session, customer: Customer, needs: rules.Needs, *, actor: User) -> CustomerNeeds:
    """Replace the customer's needs (one row per customer); flushes only."""
    row = session.get(CustomerNeeds, customer.id, with_for_update=True)
    if row is None:
        row = CustomerNeeds(customer_id=customer.id)
        session.add(row)
    row.budget_min, row.budget_max = needs.budget_min, needs.budget_max
    row.layouts, row.area_min, row.area_max = list(needs.layouts), needs.area_min, needs.area_max
    row.purpose, row.concerns, row.note = needs.purpose, list(needs.concerns), needs.note
    row.updated_by, row.updated_at = actor.id, datetime.now(timezone.utc)
    session.flush()
    return row


@dataclass(frozen=True)
class MyCustomerRow:
    customer: Customer
    last_contact_at: datetime | None
    appointment_at: datetime | None
    appointment_note: str | None
    state: str


_LAST_CONTACT = text("""
    SELECT c.id,
           GREATEST((SELECT max(v.visited_at) FROM customer_visits v WHERE v.customer_id = c.id),
                    (SELECT max(k.called_at) FROM customer_calls k WHERE k.customer_id = c.id),
                    (SELECT max(f.at) FROM customer_follow_ups f WHERE f.customer_id = c.id)) AS last_contact,
           b.next_appointment_at, b.note
      FROM customers c
      LEFT JOIN LATERAL (SELECT f.next_appointment_at, f.note FROM customer_follow_ups f
                          WHERE f.customer_id = c.id AND f.next_appointment_at IS NOT NULL
                          ORDER BY f.at DESC, f.id DESC LIMIT 1) b ON true
     WHERE c.id = ANY(:ids)
""")


def my_customers(session: Session, *, viewer: User, consultant_id: int | None, now: datetime,
                 state: str | None = None) -> list[MyCustomerRow]:
    """The customers a person works with: a consultant their own; front desk and a manager every customer they
    may see (or one consultant's). Each with the last contact (visit, call or follow-up) and the appointment
    booked by the latest follow-up that booked one; due and overdue first (domain/customers.py)."""
    conds = [_visible_to(viewer)]
    if viewer.role == "sales":
        conds.append(Customer.consultant_id == viewer.id)
    elif consultant_id is not None:
        conds.append(Customer.consultant_id == consultant_id)
    customers = {c.id: c for c in session.scalars(select(Customer).where(*conds))}
    if not customers:
        return []
    today = now.astimezone(CHINA).date()
    out = []
    for cid, last, appt, note in session.execute(_LAST_CONTACT, {"ids": sorted(customers)}).all():
        st = rules.appointment_state(appt, last, now, today, CHINA)
        if state is None or st == state:
            out.append(MyCustomerRow(customers[cid], last, appt if st != "none" else None,
                                     note if st != "none" else None, st))
    out.sort(key=lambda r: rules.appointment_sort_key(r.state, r.appointment_at, r.last_contact_at, r.customer.id))
    return out


# --- import from XLSX / CSV: every row or none -------------------------------------------------------

IMPORT_REQUIRED = ("name", "mobile", "channel")
IMPORT_COLUMNS = ("name", "mobile", "id_type", "id_number", "channel", "consultant", "budget_min", "budget_max",
                  "layouts", "area_min", "area_max", "purpose", "concerns", "note")
# The Chinese headers a sales office's own sheet has, to the columns above.
IMPORT_HEADERS = {"姓名": "name", "客户姓名": "name", "手机": "mobile", "手机号": "mobile", "证件类型": "id_type",
                  "证件号": "id_number", "证件号码": "id_number", "身份证号": "id_number", "渠道": "channel",
                  "来源渠道": "channel", "置业顾问": "consultant", "预算下限": "budget_min", "预算上限": "budget_max",
                  "意向户型": "layouts", "户型": "layouts", "面积下限": "area_min", "面积上限": "area_max",
                  "购房目的": "purpose", "置业目的": "purpose", "关注点": "concerns", "备注": "note"}


def id_optional() -> bool:
    """Whether a customer may be recorded without an ID number (the customers table allows it)."""
    return bool(Customer.__table__.c.id_number_enc.nullable)


def import_customers(session: Session, cipher: PiiCipher, *, project_id: int, rows: list[tuple[int, dict[str, Any]]],
                     actor: User, today: date) -> list[Customer]:
    """Create the customers of a sheet (with their needs). Any bad row — a missing or invalid field, a mobile or
    ID already in the project or earlier in the file (by blind index) — and nothing is written; the error
    names every bad row's line, column and reason. A consultant's import is theirs; a manager may name a
    consultant (login) per row."""
    from db.inventory import ImportRejected, RowError, _check_columns, _Row  # the unit import's reader

    rows = [(line, {IMPORT_HEADERS.get(k, k): v for k, v in values.items()}) for line, values in rows]
    _check_columns(rows, IMPORT_REQUIRED + (() if id_optional() else ("id_number",)))
    errors: list[RowError] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen_mobile: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    consultants: dict[str, int | None] = {}
    for line, values in rows:
        r = _Row(line, values, errors)
        name = r.text("name", max_len=64)
        mobile_raw = r.text("mobile")
        channel = r.text("channel")
        id_number = r.text("id_number", required=not id_optional(), max_len=64)
        id_type = r.text("id_type", required=False) or IdType.RESIDENT_ID.value
        rec: dict[str, Any] = {"name": name.strip() if name else name, "channel": channel, "id_type": id_type}
        if mobile_raw is not None:
            try:
                m = normalize_mobile(mobile_raw)
            except InvalidIdentity as e:
                r.err("mobile", str(e))
            else:
                rec["mobile"], rec["mobile_bidx"] = m, cipher.blind_index("mobile", m)
                if rec["mobile_bidx"] in seen_mobile:
                    r.err("mobile", f"the same mobile is already on line {seen_mobile[rec['mobile_bidx']]}")
                seen_mobile.setdefault(rec["mobile_bidx"], line)
        if id_number is not None:
            try:
                kind = IdType(id_type)
                norm = normalize_id_number(kind, id_number, today=today)
            except ValueError as e:  # InvalidIdentity is a ValueError too
                r.err("id_number" if isinstance(e, InvalidIdentity) else "id_type",
                      str(e) if isinstance(e, InvalidIdentity) else f"unknown ID type {id_type!r}")
            else:
                rec["id_number"], rec["id_bidx"] = norm, cipher.blind_index(f"id.{kind.value}", norm)
                if rec["id_bidx"] in seen_id:
                    r.err("id_number", f"the same ID number is already on line {seen_id[rec['id_bidx']]}")
                seen_id.setdefault(rec["id_bidx"], line)
        login = r.text("consultant", required=False, max_len=64)
        rec["consultant_id"] = actor.id if actor.role == "sales" else None
        if login is not None:
            if actor.role == "sales" and login != actor.username:
                r.err("consultant", "a consultant imports customers for themselves only")
            elif actor.role != "sales":
                if login not in consultants:
                    u = session.scalar(select(User).where(User.username == login))
                    ok = u is not None and u.active and "sales" in load_access(session, u.id).roles_in(project_id)
                    consultants[login] = u.id if ok else None
                if consultants[login] is None:
                    r.err("consultant", f"{login} is not an active sales consultant of this project")
                rec["consultant_id"] = consultants[login]
        budget_min, budget_max = r.money("budget_min", required=False), r.money("budget_max", required=False)
        area_min, area_max = r.money("area_min", required=False), r.money("area_max", required=False)
        needs, faults = rules.check_needs(
            budget_min=budget_min, budget_max=budget_max, layouts=rules.split_list(values.get("layouts")),
            area_min=area_min, area_max=area_max, purpose=r.text("purpose", required=False),
            concerns=rules.split_list(values.get("concerns")), note=r.text("note", required=False, max_len=2000) or "",
        )
        for f, m in faults:
            r.err(f, m)
        rec["needs"] = needs
        parsed.append((line, rec))
    # Already in the project (by blind index): serialise with concurrent registrations of the same numbers.
    keys = sorted({rec[k] for _, rec in parsed for k in ("mobile_bidx", "id_bidx") if rec.get(k)})
    for k in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": k})
    if keys:
        taken_mobile = set(session.scalars(select(Customer.mobile_bidx).where(
            Customer.project_id == project_id, Customer.mobile_bidx.in_([r["mobile_bidx"] for _, r in parsed if r.get("mobile_bidx")]))))
        taken_id = set(session.scalars(select(Customer.id_number_bidx).where(
            Customer.project_id == project_id, Customer.id_number_bidx.in_([r["id_bidx"] for _, r in parsed if r.get("id_bidx")]))))
        for line, rec in parsed:
            if rec.get("mobile_bidx") in taken_mobile:
                errors.append(RowError(line, "mobile", "a customer with this mobile is already registered in this project"))
            if rec.get("id_bidx") in taken_id:
                errors.append(RowError(line, "id_number", "a customer with this ID number is already registered in this project"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.line, e.column)))
    out = []
    for _, rec in parsed:
        has_id = rec.get("id_number") is not None
        c = Customer(
            name=rec["name"], id_type=IdType(rec["id_type"]).value if has_id else None,
            id_number_enc=cipher.encrypt(rec["id_number"]) if has_id else None,
            id_number_bidx=rec.get("id_bidx"), id_number_masked=mask_id_number(rec["id_number"]) if has_id else None,
            mobile_enc=cipher.encrypt(rec["mobile"]), mobile_bidx=rec["mobile_bidx"], mobile_masked=mask_mobile(rec["mobile"]),
            consultant_id=rec["consultant_id"], project_id=project_id, rating="B", tags=[],
        )
        session.add(c)
        out.append((c, rec))
    session.flush()
    for c, rec in out:
        session.add(CustomerProfile(customer_id=c.id, source_channel=rec["channel"], created_by=actor.id))
        n: rules.Needs = rec["needs"]
        if n != rules.Needs():
            session.add(CustomerNeeds(customer_id=c.id, budget_min=n.budget_min, budget_max=n.budget_max,
                                      layouts=list(n.layouts), area_min=n.area_min, area_max=n.area_max,
                                      purpose=n.purpose, concerns=list(n.concerns), note=n.note, updated_by=actor.id))
    session.flush()
    return [c for c, _ in out]


# --- a customer's records in one read (the customer page) ---------------------------------------------

_RECORDS = {
    "subscriptions": text("""
        SELECT s.id, s.unit_id, u.code AS unit_code, b.name AS building, s.price, s.deposit_amount, s.deposit_kind,
               s.paid_amount, s.stage, s.status, s.subscribed_at, s.signing_deadline
          FROM subscriptions s JOIN units u ON u.id = s.unit_id JOIN buildings b ON b.id = u.building_id
         WHERE s.customer_id = :c ORDER BY s.subscribed_at, s.id"""),
    "contracts": text("""
        SELECT k.id, k.subscription_id, k.contract_no, k.price, k.signed_on, k.filing_due, k.filed_on,
               k.loan_disbursed_at, k.payment_method,
               (SELECT coalesce(sum(i.amount_due), 0) FROM contract_instalments i WHERE i.contract_id = k.id) AS amount_due,
               (SELECT coalesce(sum(i.amount_paid), 0) FROM contract_instalments i WHERE i.contract_id = k.id) AS amount_paid,
               (SELECT min(i.due_on) FROM contract_instalments i WHERE i.contract_id = k.id AND i.amount_paid < i.amount_due) AS next_due_on
          FROM contracts k JOIN subscriptions s ON s.id = k.subscription_id
         WHERE s.customer_id = :c ORDER BY k.signed_on, k.id"""),
    "cases": text("""
        SELECT id, case_no, stage, registered_at, closed_at, chosen_option
          FROM refund_cases WHERE customer_id = :c ORDER BY registered_at, id"""),
    "mortgages": text("""
        SELECT followup_id AS id, kind, stage, updated_at FROM followups WHERE customer_id = :c ORDER BY updated_at"""),
    "warnings": text("""
        SELECT id, level, risk_score, raised_at, response_due, responded_at, rules FROM warnings
         WHERE customer_id = :c ORDER BY raised_at DESC, id DESC"""),
}


def records_of(session: Session, customer_id: int) -> dict[str, list[dict[str, Any]]]:
    """The customer's subscriptions, contracts (with what is due and paid), refund cases, mortgages and payment
    plans, and warnings; money as Decimal."""
    out: dict[str, list[dict[str, Any]]] = {}
    for k, q in _RECORDS.items():
        out[k] = [dict(r._mapping) for r in session.execute(q, {"c": customer_id})]
    return out

