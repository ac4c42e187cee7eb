"""Inventory control (销控, DOMAIN §2): unit and price-list import, price-list publishing, unit
transitions with their audit history, and the sales-control board (JSON and XLSX).

Lock expiry is lazy: `db.inventory.expire_locks` runs at the start of the board query and of every
transition, flipping locks older than `domain.units.LOCK_TTL` back to 可售 with an audit row by "system"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from api.deps import SessionDep, Staff, require_roles
from api.strict import RequestModel
from db.errors import NotFound, TooLarge
from db.inventory import (
    ImportRejected,
    board,
    board_rows,
    board_xlsx,
    expire_locks,
    import_price_list,
    import_units,
    price_list_items,
    publish_price_list,
    read_table,
    transition_unit,
    unit_history,
)
from db.models import Project, Unit, UnitState, UnitStateChange, User
from db.people import display_names
from domain.units import LOCK_TTL

router = APIRouter(tags=["inventory"])

Manager = Annotated[User, Depends(require_roles("manager"))]
Locker = Annotated[User, Depends(require_roles("sales", "manager"))]

MAX_UPLOAD = 5 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ttl(request: Request) -> timedelta:
    """The lock TTL; `app.state.lock_ttl` may override the default (drills, tests)."""
    return getattr(request.app.state, "lock_ttl", LOCK_TTL)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_200 = {200: {"description": "The workbook (an attachment)",
                   "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}
# The board's lazy lock expiry writes: a unit row another request holds is a 409 "try again".
_BUSY_409 = {409: {"description": "A unit of the board is being changed by another request (`conflict`, with "
                                  "`Retry-After`); try again."}}
_BAD_ROWS_422 = {422: {"description": "The request is malformed (`validation_error`), the file is not a readable CSV "
                                      "or XLSX (`invalid`), or it has bad rows (`invalid`: `errors` has one item per bad "
                                      "cell: `line`, the column as `field`, the reason as `message`); nothing is imported."}}


def _read_upload(file: UploadFile) -> tuple[bytes, str]:
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise TooLarge(key="upload.too_large", params={"limit": f"{MAX_UPLOAD // (1024 * 1024)} MB"})
    return data, file.filename or ""


# ---------------------------------------------------------------- import / price lists ----------


class ImportResult(BaseModel):
    imported: int
    unit_ids: list[int]


class PriceListOut(BaseModel):
    id: int
    project_id: int
    version: int
    status: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    published_at: datetime | None
    items: int | None = None
    applied: int | None = None


class PriceListItemOut(BaseModel):
    unit_id: int
    building: str
    code: str
    unit_price: Decimal
    total_price: Decimal
    floor_price: Decimal | None


class PriceListDetail(PriceListOut):
    lines: list[PriceListItemOut]


@router.post("/api/projects/{project_id}/units/import", status_code=status.HTTP_201_CREATED, response_model=ImportResult,
             summary="Import units from CSV/XLSX (all rows or nothing)", responses=_BAD_ROWS_422)
def import_units_route(project_id: int, session: SessionDep, user: Manager, file: UploadFile = File(...)) -> Any:
    data, name = _read_upload(file)
    try:
        units = import_units(session, project_id=project_id, rows=read_table(data, name), actor=user.username)
    except ImportRejected:
        session.rollback()
        raise
    ids = [u.id for u in units]
    session.commit()
    return ImportResult(imported=len(ids), unit_ids=ids)


@router.post("/api/projects/{project_id}/price-lists/import", status_code=status.HTTP_201_CREATED,
             response_model=PriceListOut, summary="Import a price list as a new draft version (all rows or nothing)",
             responses=_BAD_ROWS_422)
def import_price_list_route(project_id: int, session: SessionDep, user: Manager, file: UploadFile = File(...)) -> Any:
    data, name = _read_upload(file)
    try:
        pl = import_price_list(session, project_id=project_id, rows=read_table(data, name), actor=user.username)
    except ImportRejected:
        session.rollback()
        raise
    n = len(price_list_items(session, price_list_id=pl.id)[1])
    session.commit()
    session.refresh(pl)
    return PriceListOut.model_validate(pl, from_attributes=True).model_copy(update={"items": n})


@router.post("/api/price-lists/{price_list_id}/publish", response_model=PriceListOut,
             summary="Approve a draft price list and apply its prices to unsold units")
def publish_route(price_list_id: int, session: SessionDep, user: Manager) -> PriceListOut:
    pl, applied = publish_price_list(session, price_list_id=price_list_id, approver=user)
    session.commit()
    session.refresh(pl)
    return PriceListOut.model_validate(pl, from_attributes=True).model_copy(update={"applied": applied})


@router.get("/api/price-lists/{price_list_id}", response_model=PriceListDetail, summary="One price list version")
def get_price_list(price_list_id: int, session: SessionDep, _: Staff) -> PriceListDetail:
    pl, lines = price_list_items(session, price_list_id=price_list_id)
    return PriceListDetail(**PriceListOut.model_validate(pl, from_attributes=True).model_dump(exclude={"items"}),
                           items=len(lines), lines=[PriceListItemOut(**x) for x in lines])


# ---------------------------------------------------------------- transitions ----------


class TransitionIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=32)
    reason: str = Field(default="", max_length=500)


class UnitOut(BaseModel):
    id: int
    code: str
    state: str
    locked_at: datetime | None
    locked_by: str | None
    hold_reason: str | None


class StateChangeOut(BaseModel):
    id: int
    from_state: str
    to_state: str
    actor: str
    actor_name: str | None = None  # the person's name; null for system
    reason: str
    at: datetime


@router.post("/api/units/{unit_id}/transitions", response_model=UnitOut,
             summary="An inventory action on a unit (release/lock/unlock/hold/unhold/withdraw/restore), audited")
def transition_route(unit_id: int, body: TransitionIn, request: Request, session: SessionDep, user: Staff) -> UnitOut:
    # The role check is the state machine's (domain.units.TRANSITIONS: lock/unlock also sales): 403 from there.
    unit = transition_unit(session, unit_id=unit_id, action=body.action, reason=body.reason, user=user, now=_now(),
                           ttl=_ttl(request))
    session.commit()
    return UnitOut.model_validate(unit, from_attributes=True)


@router.get("/api/units/{unit_id}/history", response_model=list[StateChangeOut], summary="A unit's audited state changes")
def history_route(unit_id: int, session: SessionDep, _: Staff) -> list[StateChangeOut]:
    changes = unit_history(session, unit_id=unit_id)
    names = display_names(session, (c.actor for c in changes))
    return [StateChangeOut.model_validate(c, from_attributes=True).model_copy(update={"actor_name": names.get(c.actor)})
            for c in changes]


# ---------------------------------------------------------------- the board ----------


class BoardUnit(BaseModel):
    id: int
    code: str
    entrance: str | None
    phase: str | None
    use: str | None
    layout: str
    orientation: str | None
    gross_area: Decimal
    net_area: Decimal | None
    unit_price: Decimal
    total_price: Decimal
    state: str
    state_label: str
    locked_by: str | None
    hold_reason: str | None


class BoardFloor(BaseModel):
    floor: int
    units: list[BoardUnit]


class BoardBuilding(BaseModel):
    id: int
    name: str
    floors: list[BoardFloor]


class BoardOut(BaseModel):
    project_id: int
    counts: dict[str, int]
    buildings: list[BoardBuilding]


def _board_rows(session, request: Request, project_id: int, building_id: int | None, state: str | None):
    if session.get(Project, project_id) is None:
        raise NotFound(key="record.not_found", params={"record": "project", "id": project_id})
    if expire_locks(session, now=_now(), ttl=_ttl(request), project_id=project_id):
        session.commit()
    return board_rows(session, project_id=project_id, building_id=building_id, state=state)


class BoardVersionOut(BaseModel):
    project_id: int
    version: int
    changed_at: datetime | None


def _board_version(session, project_id: int, now: datetime, ttl: timedelta):
    """(version, changed_at, a lock has lapsed) in one statement: the newest audit row over the project's
    units — one backward probe of ix_unit_state_changes_unit_id_id per unit — and whether the board's lazy
    lock expiry has work to do (a lapsed lock would otherwise never move the version)."""
    newest = (
        select(UnitStateChange.id)
        .where(UnitStateChange.unit_id == Unit.id)
        .order_by(UnitStateChange.id.desc())
        .limit(1)
        .correlate(Unit)
        .scalar_subquery()
    )
    top = select(func.max(newest)).where(Unit.project_id == project_id).scalar_subquery()
    lapsed = select(Unit.id).where(Unit.project_id == project_id, Unit.state == UnitState.LOCKED,
                                   Unit.locked_at <= now - ttl).exists()
    row = session.execute(
        select(Project.id, UnitStateChange.id, UnitStateChange.at, lapsed)
        .outerjoin(UnitStateChange, UnitStateChange.id == top)
        .where(Project.id == project_id)
    ).first()
    if row is None:
        raise NotFound(key="record.not_found", params={"record": "project", "id": project_id})
    return row[1] or 0, row[2], bool(row[3])


# Declared before the board route; the paths do not overlap, but a poll must never hit a heavier route.
@router.get("/api/projects/{project_id}/board/version", response_model=BoardVersionOut,
            summary="The board's change version (the newest unit state change): poll it, reload the board when it moves",
            responses=_BUSY_409)
def board_version_route(project_id: int, request: Request, session: SessionDep, _: Staff) -> BoardVersionOut:
    now, ttl = _now(), _ttl(request)
    version, changed_at, lapsed = _board_version(session, project_id, now, ttl)
    if lapsed and expire_locks(session, now=now, ttl=ttl, project_id=project_id):
        session.commit()
        version, changed_at, _lapsed = _board_version(session, project_id, now, ttl)
    return BoardVersionOut(project_id=project_id, version=version, changed_at=changed_at)


@router.get("/api/projects/{project_id}/board", response_model=BoardOut, summary="The 销控 board, by building and floor",
            responses=_BUSY_409)
def board_route(project_id: int, request: Request, session: SessionDep, _: Staff, building_id: int | None = None,
                state: str | None = None) -> Any:
    rows = _board_rows(session, request, project_id, building_id, state)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    # The grouped dicts already have the response's shape; skip re-validating 2,000 units.
    return JSONResponse(_jsonable({"project_id": project_id, "counts": counts, "buildings": board(rows)}))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


@router.get("/api/projects/{project_id}/board.xlsx", summary="The 销控表 as an XLSX workbook",
            response_class=Response, responses={**_XLSX_200, **_BUSY_409})
def board_xlsx_route(project_id: int, request: Request, session: SessionDep, _: Staff, building_id: int | None = None,
                     state: str | None = None) -> Response:
    rows = _board_rows(session, request, project_id, building_id, state)
    project = session.get(Project, project_id)
    data = board_xlsx(rows, title=f"{project.name} 销控表")
    filename = quote(f"{project.name}-销控表.xlsx")
    return Response(content=data, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})
