"""A project's price lists with their state (issue 15): draft, in force, or superseded.

The state is derived, not stored: of a project's published versions the last published is in force and
every earlier one is superseded (by the next one published); drafts are drafts. Nothing is written on
publication beyond what db/inventory.py already writes, so an old version can never be left saying
"published" next to a newer one."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from api.deps import SessionDep, Staff
from db.errors import NotFound
from db.inventory_models import PriceList, PriceListItem, PriceListStatus
from db.models import Project

router = APIRouter(tags=["price_lists"])


class PriceListRow(BaseModel):
    id: int
    version: int
    state: str  # in_force / superseded / draft
    status: str  # as stored: draft / published
    items: int
    created_by: str
    created_at: datetime
    approved_by: str | None
    published_at: datetime | None
    superseded_by: int | None  # the version that replaced it


def price_list_states(lists: list[PriceList]) -> dict[int, tuple[str, int | None]]:
    """{id: (state, superseded_by version)} by publication order (published_at, then version)."""
    published = sorted((p for p in lists if p.status == PriceListStatus.PUBLISHED),
                       key=lambda p: (p.published_at or datetime.min, p.version))
    out: dict[int, tuple[str, int | None]] = {p.id: ("draft", None) for p in lists}
    for i, p in enumerate(published):
        out[p.id] = ("in_force", None) if i == len(published) - 1 else ("superseded", published[i + 1].version)
    return out


@router.get("/api/projects/{project_id}/price-lists", response_model=list[PriceListRow],
            summary="A project's price lists, newest first, each in force, superseded or draft")
def list_price_lists(project_id: int, session: SessionDep, _: Staff) -> list[PriceListRow]:
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    lists = list(session.scalars(select(PriceList).where(PriceList.project_id == project_id)
                                 .order_by(PriceList.version.desc())))
    counts = dict(session.execute(select(PriceListItem.price_list_id, func.count())
                                  .where(PriceListItem.price_list_id.in_([p.id for p in lists] or [-1]))
                                  .group_by(PriceListItem.price_list_id)).all())
    states = price_list_states(lists)
    return [PriceListRow(id=p.id, version=p.version, state=states[p.id][0], status=p.status, items=counts.get(p.id, 0),
                         created_by=p.created_by, created_at=p.created_at, approved_by=p.approved_by,
                         published_at=p.published_at, superseded_by=states[p.id][1]) for p in lists]
