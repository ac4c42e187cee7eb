"""Front-desk look-ups: projects with their buildings, a unit (and its active subscription) by what the
buyer says ("101", "1-101", "1号楼-101", "1号楼"), and the sales office's intake QR code."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import segno
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import and_, case, func, or_, select

from api.access import project_filter
from api.deps import SessionDep, SettingsDep, Staff
from db.errors import Invalid, NotFound
from db.models import (
    UNIT_STATE_LABELS,
    Building,
    CaseStage,
    Customer,
    Project,
    RefundCase,
    Subscription,
    SubscriptionStatus,
    Unit,
    User,
)
from domain.identity import mask_name

router = APIRouter(tags=["look-up"])


LIMIT = 20
MAX_Q = 40
# "1号楼-101", "1 - 101", "1/101", "1号楼 101", and the same with full-width or dash variants.
_SEPARATOR = re.compile(r"\s*[-－—–_/／\s]\s*")
# "1号楼101": split after a building suffix when there is no separator.
_SUFFIXED = re.compile(r"^(.+?(?:号楼|栋|幢|座|号))\s*([0-9A-Za-z]+)$")
# A building's bare name: "1号楼" → "1", "A座" → "A".
_BUILDING_SUFFIX = "(号楼|栋|幢|座|号|楼)$"


# ---------------------------------------------------------------- projects ----------


class BuildingRef(BaseModel):
    id: int
    name: str


class ProjectOut(BaseModel):
    id: int
    name: str
    city: str
    buildings: list[BuildingRef]


@router.get("/api/projects", response_model=list[ProjectOut], summary="Projects (sales offices) and their buildings")
def list_projects(session: SessionDep, user: Staff) -> list[ProjectOut]:
    """The projects where the caller holds a role (all of them for group-wide roles)."""
    mine = project_filter(Project.id, user)
    projects = session.scalars(select(Project).where(*([mine] if mine is not None else [])).order_by(Project.id)).all()
    buildings: dict[int, list[BuildingRef]] = {}
    for b in session.scalars(select(Building).order_by(Building.project_id, Building.id)):
        buildings.setdefault(b.project_id, []).append(BuildingRef(id=b.id, name=b.name))
    return [ProjectOut(id=p.id, name=p.name, city=p.city, buildings=buildings.get(p.id, [])) for p in projects]


# ---------------------------------------------------------------- unit look-up ----------


class SubscriptionBrief(BaseModel):
    id: int
    subscribed_at: datetime
    stage: str
    deposit_kind: str
    deposit_amount: Decimal
    paid_amount: Decimal
    price: Decimal
    customer_name: str  # masked
    customer_mobile: str  # masked
    consultant: str
    open_case_id: uuid.UUID | None


class UnitMatch(BaseModel):
    unit_id: int
    label: str
    building: str
    code: str
    floor: int
    layout: str
    state: str
    state_label: str
    subscription: SubscriptionBrief | None


def _split(q: str) -> tuple[str, str] | None:
    """(building, code) when the query names both, else None."""
    parts = _SEPARATOR.split(q, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parts[1]
    m = _SUFFIXED.match(q)
    if m:
        return m.group(1), m.group(2)
    return None


def _rank(q: str) -> tuple[Any, Any]:
    """(where, rank): lower rank is a better match."""
    bare = func.regexp_replace(Building.name, _BUILDING_SUFFIX, "")
    pair = _split(q)
    if pair is not None:
        b, c = pair
        b_bare = re.sub(_BUILDING_SUFFIX, "", b) or b
        b_rank = case((or_(Building.name == b, bare == b_bare), 0), else_=1)
        c_rank = case((Unit.code == c, 0), (Unit.code.istartswith(c, autoescape=True), 1), else_=2)
        where = and_(
            or_(Building.name == b, bare == b_bare, Building.name.icontains(b, autoescape=True)),
            Unit.code.icontains(c, autoescape=True),
        )
        return where, b_rank * 3 + c_rank
    rank = case(
        (Unit.code == q, 0),
        (or_(Building.name == q, bare == q), 1),
        (Unit.code.istartswith(q, autoescape=True), 2),
        (Unit.code.icontains(q, autoescape=True), 3),
        else_=4,
    )
    where = or_(Unit.code.icontains(q, autoescape=True), Building.name.icontains(q, autoescape=True))
    return where, rank


@router.get("/api/units/lookup", response_model=list[UnitMatch],
            summary="Find a unit by what the buyer says: 101, 1-101, 1号楼-101 or the building; best match first",
            responses={404: {"description": "The project does not exist (`not_found`)."}})
def lookup_units(project_id: int, session: SessionDep, _: Staff, q: str = "") -> list[UnitMatch]:
    q = q.strip()
    if not q:
        raise Invalid("q: type the unit to look up, e.g. 101, 1-101 or 1号楼-101")
    if len(q) > MAX_Q:
        raise Invalid(f"q: at most {MAX_Q} characters")
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    where, rank = _rank(q)
    open_case = (
        select(RefundCase.id)
        .where(RefundCase.subscription_id == Subscription.id, RefundCase.stage != CaseStage.CLOSED)
        .limit(1)
        .correlate(Subscription)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Unit, Building.name, Subscription, Customer.name, Customer.mobile_masked, User.display_name,
               open_case.label("open_case_id"))
        .join(Building, Building.id == Unit.building_id)
        .outerjoin(Subscription, and_(Subscription.unit_id == Unit.id, Subscription.status == SubscriptionStatus.ACTIVE))
        .outerjoin(Customer, Customer.id == Subscription.customer_id)
        .outerjoin(User, User.id == Subscription.consultant_id)
        .where(Unit.project_id == project_id, where)
        .order_by(rank, Building.id, Unit.floor, Unit.code, Unit.id)
        .limit(LIMIT)
    ).all()
    out = []
    for unit, building, sub, customer_name, mobile_masked, consultant, case_id in rows:
        brief = None
        if sub is not None:
            brief = SubscriptionBrief(
                id=sub.id, subscribed_at=sub.subscribed_at, stage=sub.stage, deposit_kind=sub.deposit_kind,
                deposit_amount=sub.deposit_amount, paid_amount=sub.paid_amount, price=sub.price,
                customer_name=mask_name(customer_name or ""), customer_mobile=mobile_masked or "",
                consultant=consultant or "", open_case_id=case_id,
            )
        out.append(UnitMatch(
            unit_id=unit.id, label=f"{building}-{unit.code}", building=building, code=unit.code, floor=unit.floor,
            layout=unit.layout, state=unit.state, state_label=UNIT_STATE_LABELS.get(unit.state, unit.state),
            subscription=brief,
        ))
    return out


# ---------------------------------------------------------------- intake QR code ----------


def intake_url(settings, request: Request, project_id: int) -> str:
    base = settings.public_base_url.strip() or str(request.base_url)
    return f"{base.rstrip('/')}/app/#/intake?project={project_id}"


@router.get("/api/projects/{project_id}/intake-qr.svg", response_class=Response,
            summary="The sales office's QR code for the intake form (SVG); the URL is in X-Intake-Url",
            responses={200: {"description": "The QR code as an SVG image",
                             "content": {"image/svg+xml": {"schema": {"type": "string"}}},
                             "headers": {"X-Intake-Url": {"description": "the address the code points at",
                                                          "schema": {"type": "string"}}}}})
def intake_qr(project_id: int, request: Request, session: SessionDep, settings: SettingsDep, _: Staff) -> Response:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    url = intake_url(settings, request, project_id)
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="svg", scale=8, border=4, title=f"{project.name} intake")
    return Response(content=buf.getvalue(), media_type="image/svg+xml", headers={
        "X-Intake-Url": url,
        "Cache-Control": "private, max-age=300",
    })
