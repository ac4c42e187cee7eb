"""A project's price lists with their state (issue 15): in force, superseded (by publication order), draft."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from db.inventory_models import PriceList
from tests.api.conftest import Api


async def test_a_projects_price_lists_are_in_force_superseded_or_draft(factory, http, session_factory):
    sc = factory.scenario()
    api = Api(http, sc.users)
    t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    with session_factory.begin() as s:
        rows = [PriceList(project_id=sc.project_id, version=1, status="published", created_by="m", approved_by="m",
                          published_at=t0),
                PriceList(project_id=sc.project_id, version=2, status="published", created_by="m", approved_by="m",
                          published_at=t0 + timedelta(days=30)),
                PriceList(project_id=sc.project_id, version=3, status="draft", created_by="m")]
        s.add_all(rows)
    r = await api.get("sales", f"/api/projects/{sc.project_id}/price-lists")
    assert r.status_code == 200, r.text
    assert [(x["version"], x["state"], x["superseded_by"]) for x in r.json()] == [
        (3, "draft", None), (2, "in_force", None), (1, "superseded", 2)]
    r = await api.get("sales", "/api/projects/987654321/price-lists")
    assert r.status_code == 404
