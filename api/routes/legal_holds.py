"""Legal holds on refund cases (法律保全): while one is active, the daily retention sweep leaves the case's records
as they are, past retain_until (db/retention.py). Legal sets and lifts them, each with a reason, on the case's
timeline; legal, HQ risk control and ops see them. A case of a project where the caller holds no role is a 404
(the `case_id` path parameter is scoped by require_roles, as on every case route)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import acting_person, visible_projects
from api.deps import SessionDep, release_connection, require_roles
from api.strict import Reason, RequestModel
from db.models import RefundCase, User
from db.refund_cases import get_case
from db.retention import lift_hold, list_holds, set_hold
from db.retention_models import LegalHold

router = APIRouter(prefix="/api", tags=["legal_holds"])

HOLDERS = ("legal",)  # set and lift
VIEWERS = ("legal", "hqrisk", "ops")  # domain.permissions.ACTIONS["legal_holds"]
Holder = Annotated[User, Depends(require_roles(*HOLDERS))]
Viewer = Annotated[User, Depends(require_roles(*VIEWERS))]


class LegalHoldIn(RequestModel):
    reason: Reason = Field(min_length=1, max_length=2000,
                        description="why: the matter (a lawsuit, a regulator's inquiry, its number); not the customer's "
                                    "personal data — the reason is kept after the case is anonymised")


class LegalHoldOut(BaseModel):
    id: int
    case_id: uuid.UUID
    case_no: str
    project_id: int
    reason: str
    set_by: int
    set_by_name: str | None
    set_at: datetime
    active: bool
    lifted_by: int | None = None
    lifted_by_name: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None
    retain_until: datetime | None = Field(default=None, description="when the case's records would otherwise go")


def _out(session: Session, rows: list[tuple]) -> list[LegalHoldOut]:
    """rows of (LegalHold, case_no, project_id, retain_until)."""
    ids = {h.set_by for h, *_ in rows} | {h.lifted_by for h, *_ in rows if h.lifted_by is not None}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).tuples().all()) if ids else {}
    return [
        LegalHoldOut(id=h.id, case_id=h.case_id, case_no=case_no, project_id=project_id, reason=h.reason,
                     set_by=h.set_by, set_by_name=names.get(h.set_by), set_at=h.set_at, active=h.lifted_at is None,
                     lifted_by=h.lifted_by, lifted_by_name=names.get(h.lifted_by), lifted_at=h.lifted_at,
                     lift_reason=h.lift_reason, retain_until=retain_until)
        for h, case_no, project_id, retain_until, *_ in rows
    ]


def _one(session: Session, hold: LegalHold) -> LegalHoldOut:
    case = session.get(RefundCase, hold.case_id)
    return _out(session, [(hold, case.case_no, case.project_id, case.retain_until)])[0]


def _behalf(session: Session, user: User, case_id: uuid.UUID) -> str | None:
    """The colleague a substitute acts for (the timeline shows 李（代 王）), else None."""
    case = get_case(session, case_id=case_id)  # 404 for a case that does not exist
    return acting_person(session, user, "legal", case.project_id).on_behalf_of_username


_CONFLICT_SET = {409: {"description": "The case is already on legal hold, or its personal data were already removed "
                                      "(`conflict`; the message says which, and who set the hold)."}}
_CONFLICT_LIFT = {409: {"description": "The case is not on legal hold (`conflict`)."}}


@router.post("/refund-cases/{case_id}/legal-hold", status_code=status.HTTP_201_CREATED, response_model=LegalHoldOut,
             summary="Put a refund case on legal hold: its records are kept past retain_until until it is lifted",
             responses=_CONFLICT_SET)
def set_legal_hold(case_id: uuid.UUID, body: LegalHoldIn, session: SessionDep, user: Holder) -> LegalHoldOut:
    behalf = _behalf(session, user, case_id)
    hold = set_hold(session, case_id=case_id, reason=body.reason, actor=user, now=datetime.now(timezone.utc),
                    on_behalf_of=behalf)
    out = _one(session, hold)
    session.commit()
    return out


@router.post("/refund-cases/{case_id}/legal-hold/lift", response_model=LegalHoldOut, responses=_CONFLICT_LIFT,
             summary="Lift a refund case's legal hold, with a reason: the daily sweep may then anonymise it")
def lift_legal_hold(case_id: uuid.UUID, body: LegalHoldIn, session: SessionDep, user: Holder) -> LegalHoldOut:
    behalf = _behalf(session, user, case_id)
    hold = lift_hold(session, case_id=case_id, reason=body.reason, actor=user, now=datetime.now(timezone.utc),
                     on_behalf_of=behalf)
    out = _one(session, hold)
    session.commit()
    return out


@router.get("/legal-holds", response_model=list[LegalHoldOut],
            summary="Legal holds of the caller's projects, newest first (`active=true`: those in force)")
def legal_holds(
    session: SessionDep,
    user: Viewer,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[LegalHoldOut]:
    rows = list_holds(session, active=active, projects=visible_projects(user), limit=limit, offset=offset)
    out = _out(session, rows)
    release_connection(session)
    return out
