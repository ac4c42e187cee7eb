"""Inventory control (销控) through the API: import, price lists, transitions, lock expiry, the board."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from db.inventory_models import PriceList
from db.models import Unit, UnitStateChange
from tests.api.conftest import Api
from tests.factories_inventory import (
    csv_bytes,
    new_project,
    set_lock,
    unit_rows,
    units_grid,
    xlsx_bytes,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users())


def _count_units(sf, pid: int) -> int:
    with sf() as s:
        return s.scalar(select(func.count()).select_from(Unit).where(Unit.project_id == pid))


async def _upload(api: Api, url: str, data: bytes, name: str, role: str = "manager"):
    ctype = XLSX if name.endswith(".xlsx") else "text/csv"
    return await api.post(role, url, files={"file": (name, data, ctype)})


# ---------------------------------------------------------------- import ----------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_units_then_price_list_then_publish(api, session_factory, fmt):
    pid = new_project(session_factory)
    make = csv_bytes if fmt == "csv" else xlsx_bytes
    r = await _upload(api, f"/api/projects/{pid}/units/import", make(unit_rows()), f"units.{fmt}")
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 4
    with session_factory() as s:
        units = s.scalars(select(Unit).where(Unit.project_id == pid).order_by(Unit.code)).all()
        assert {u.state for u in units} == {"not_released"}
        assert units[0].net_area == Decimal("85.50") and units[0].orientation == "南" and units[0].phase_id

    prices = make([
        ["building", "code", "unit_price", "base_price", "floor_premium", "orientation_premium", "floor_price"],
        ["1号楼", "101", "20000.00", "", "", "", "1900000"],
        ["1号楼", "102", "", "20000", "0", "-500", ""],
        ["1号楼", "201", "", "20000", "150.5", "0", ""],
        ["1号楼", "202", "21000", "", "", "", ""],
    ])
    r = await _upload(api, f"/api/projects/{pid}/price-lists/import", prices, f"prices.{fmt}")
    assert r.status_code == 201, r.text
    pl = r.json()
    assert pl["status"] == "draft" and pl["version"] == 1 and pl["items"] == 4
    # a draft changes nothing on the units
    with session_factory() as s:
        assert s.scalar(select(func.max(Unit.total_price)).where(Unit.project_id == pid)) == 0

    r = await api.get("sales", f"/api/price-lists/{pl['id']}")
    lines = {x["code"]: x for x in r.json()["lines"]}
    assert Decimal(lines["102"]["unit_price"]) == Decimal("19500.00")
    assert Decimal(lines["201"]["total_price"]) == Decimal("2015050")  # 100 m² × 20150.50

    assert (await api.post("sales", f"/api/price-lists/{pl['id']}/publish")).status_code == 403
    r = await api.post("manager", f"/api/price-lists/{pl['id']}/publish")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published" and r.json()["approved_by"] == api.users["manager"].username
    assert r.json()["applied"] == 4
    with session_factory() as s:
        u = s.scalar(select(Unit).where(Unit.project_id == pid, Unit.code == "101"))
        assert (u.unit_price, u.total_price, u.floor_price) == (Decimal("20000.00"), Decimal("2000000.00"), Decimal("1900000.00"))
        assert u.price_list_id == pl["id"]
    # published versions are immutable
    assert (await api.post("manager", f"/api/price-lists/{pl['id']}/publish")).status_code == 409
    # the next upload is version 2
    r = await _upload(api, f"/api/projects/{pid}/price-lists/import", prices, f"prices.{fmt}")
    assert r.json()["version"] == 2


async def test_import_with_bad_rows_imports_nothing_and_says_where(api, session_factory):
    pid = new_project(session_factory)
    rows = unit_rows()
    rows[1][3] = "三"  # floor, line 2
    rows[2][8] = "-5"  # gross_area, line 3
    rows[3][9] = "120"  # net_area above gross, line 4
    rows[4][4] = "101"  # duplicate code of line 2, line 5
    rows.append(["一期", "", "1单元", 3, "301", "别墅", "三室", "南", "90", "", "", ""])  # line 6
    r = await _upload(api, f"/api/projects/{pid}/units/import", csv_bytes(rows), "units.csv")
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    got = {(e["line"], e["field"]) for e in errors}
    assert {(2, "floor"), (3, "gross_area"), (4, "net_area"), (5, "code"), (6, "building"), (6, "use")} <= got
    assert all(e["message"] and e["code"] == "invalid_row" for e in errors)
    assert _count_units(session_factory, pid) == 0


async def test_import_of_existing_units_and_missing_columns_is_refused(api, session_factory):
    pid = new_project(session_factory)
    assert (await _upload(api, f"/api/projects/{pid}/units/import", xlsx_bytes(unit_rows()), "u.xlsx")).status_code == 201
    r = await _upload(api, f"/api/projects/{pid}/units/import", xlsx_bytes(unit_rows(n_floors=3)), "u.xlsx")
    assert r.status_code == 422
    assert {e["line"] for e in r.json()["errors"]} == {2, 3, 4, 5}  # the first 4 exist; floor 3 is new
    assert _count_units(session_factory, pid) == 4
    r = await _upload(api, f"/api/projects/{pid}/units/import", csv_bytes([["building", "code"], ["1号楼", "9"]]), "u.csv")
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"floor", "layout", "gross_area"}
    assert (await _upload(api, f"/api/projects/{pid}/units/import", b"x", "u.txt")).status_code == 422
    assert (await _upload(api, f"/api/projects/{pid}/units/import", xlsx_bytes(unit_rows()), "u.xlsx", role="sales")).status_code == 403


async def test_price_list_with_bad_rows_creates_no_version(api, session_factory):
    pid = new_project(session_factory)
    units = unit_rows()
    units[4][10] = "2100000"  # 202 is filed at 2,100,000
    await _upload(api, f"/api/projects/{pid}/units/import", csv_bytes(units), "u.csv")
    prices = csv_bytes([
        ["building", "code", "unit_price", "floor_price"],
        ["1号楼", "101", "20000", ""],
        ["1号楼", "999", "20000", ""],  # no such unit
        ["1号楼", "102", "abc", ""],
        ["1号楼", "201", "20000", "9999999"],  # floor price above total
        ["1号楼", "101", "20000", ""],  # duplicate
        ["1号楼", "202", "21000.01", ""],  # 2,100,001 is above the filed price
    ])
    r = await _upload(api, f"/api/projects/{pid}/price-lists/import", prices, "p.csv")
    assert r.status_code == 422, r.text
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [
        (3, "code"), (4, "unit_price"), (5, "floor_price"), (6, "code"), (7, "unit_price")]
    assert "备案价" in r.json()["errors"][-1]["message"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PriceList).where(PriceList.project_id == pid)) == 0


# ---------------------------------------------------------------- export ----------


async def test_board_xlsx_round_trip(api, session_factory):
    pid = new_project(session_factory)
    await _upload(api, f"/api/projects/{pid}/units/import", xlsx_bytes(unit_rows(n_floors=3, per_floor=2)), "u.xlsx")
    r = await api.get("finance", f"/api/projects/{pid}/board.xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.title == "销控表"
    rows = list(ws.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == 6
    first = dict(zip(header, data[0]))
    assert first["building"] == "1号楼" and first["floor"] == 3 and first["state_label"] == "未推"
    assert Decimal(str(first["gross_area"])) == Decimal("100") and first["presale_permit"] == "杭售许字(2026)第001号"
    # the export's unit columns import cleanly into a new project
    keep = [i for i, h in enumerate(header) if h in unit_rows()[0]]
    pid2 = new_project(session_factory)
    again = [[header[i] for i in keep]] + [[row[i] for i in keep] for row in data]
    r = await _upload(api, f"/api/projects/{pid2}/units/import", xlsx_bytes(again), "again.xlsx")
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 6


# ---------------------------------------------------------------- transitions ----------


async def test_transition_is_audited_with_who_from_to_why(api, session_factory):
    _, ids = units_grid(session_factory, buildings=1, floors=1, per_floor=1)
    uid = ids[0]
    r = await api.post("manager", f"/api/units/{uid}/transitions", json={"action": "hold", "reason": "领导保留"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "held" and r.json()["hold_reason"] == "领导保留"
    r = await api.get("sales", f"/api/units/{uid}/history")
    assert r.status_code == 200
    [h] = r.json()
    assert (h["from_state"], h["to_state"], h["actor"], h["reason"]) == ("available", "held", api.users["manager"].username, "领导保留")
    assert h["actor_name"] == api.users["manager"].display_name and h["at"]


async def test_transition_refusals_403_409_422(api, session_factory):
    _, ids = units_grid(session_factory, buildings=1, floors=1, per_floor=1)
    uid = ids[0]
    url = f"/api/units/{uid}/transitions"
    assert (await api.post("sales", url, json={"action": "hold", "reason": "x"})).status_code == 403  # manager only
    assert (await api.post("finance", url, json={"action": "lock"})).status_code == 403
    assert (await api.post("manager", url, json={"action": "hold", "reason": "  "})).status_code == 422  # no reason
    assert (await api.post("manager", url, json={"action": "hold"})).status_code == 422
    assert (await api.post("manager", url, json={"action": "release"})).status_code == 409  # already available
    assert (await api.post("manager", url, json={"action": "subscribe"})).status_code == 422  # not an inventory action
    assert (await api.post("manager", "/api/units/999999999/transitions", json={"action": "lock"})).status_code == 404
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(UnitStateChange).where(UnitStateChange.unit_id == uid)) == 0


async def test_sales_locks_and_only_the_locker_or_manager_unlocks(api, factory, session_factory):
    users = factory.users(extra=("sales#2",))
    api = Api(api.http, users)
    _, ids = units_grid(session_factory, buildings=1, floors=1, per_floor=1)
    url = f"/api/units/{ids[0]}/transitions"
    r = await api.post("sales", url, json={"action": "lock"})
    assert r.status_code == 200 and r.json()["state"] == "locked" and r.json()["locked_by"] == users["sales"].username
    assert (await api.post("sales#2", url, json={"action": "lock"})).status_code == 409
    assert (await api.post("sales#2", url, json={"action": "unlock"})).status_code == 403
    r = await api.post("sales", url, json={"action": "unlock"})
    assert r.status_code == 200 and r.json()["state"] == "available" and r.json()["locked_at"] is None


# ---------------------------------------------------------------- lock expiry ----------


async def test_expired_locks_go_back_to_available_with_a_system_audit_row(api, session_factory):
    pid, ids = units_grid(session_factory, buildings=1, floors=1, per_floor=3)
    now = datetime.now(timezone.utc)
    set_lock(session_factory, ids[0], locked_at=now - timedelta(hours=2))  # expired
    set_lock(session_factory, ids[1], locked_at=now - timedelta(minutes=1))  # still fresh
    set_lock(session_factory, ids[2], locked_at=now - timedelta(hours=3))  # expired, found by a transition
    r = await api.get("sales", f"/api/projects/{pid}/board")
    assert r.status_code == 200
    states = {u["id"]: u["state"] for b in r.json()["buildings"] for f in b["floors"] for u in f["units"]}
    assert states == {ids[0]: "available", ids[1]: "locked", ids[2]: "available"}
    hist = (await api.get("sales", f"/api/units/{ids[0]}/history")).json()
    assert [(h["from_state"], h["to_state"], h["actor"], h["actor_name"]) for h in hist] == [("locked", "available", "system", None)]
    assert "expired" in hist[0]["reason"]

    # the transitions endpoint expires the lock of the unit it acts on, then acts
    set_lock(session_factory, ids[0], locked_at=now - timedelta(hours=2))
    r = await api.post("sales", f"/api/units/{ids[0]}/transitions", json={"action": "lock"})
    assert r.status_code == 200, r.text
    hist = (await api.get("sales", f"/api/units/{ids[0]}/history")).json()
    assert [(h["to_state"], h["actor"]) for h in hist][-2:] == [("available", "system"), ("locked", api.users["sales"].username)]


# ---------------------------------------------------------------- the board ----------


async def test_board_groups_by_building_and_floor_and_filters(api, session_factory):
    pid, ids = units_grid(session_factory, buildings=2, floors=3, per_floor=2)
    await api.post("manager", f"/api/units/{ids[0]}/transitions", json={"action": "withdraw", "reason": "司法查封"})
    r = await api.get("frontdesk", f"/api/projects/{pid}/board")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["counts"] == {"available": 11, "not_for_sale": 1}
    assert [b["name"] for b in body["buildings"]] == ["1号楼", "2号楼"]
    floors = body["buildings"][0]["floors"]
    assert [f["floor"] for f in floors] == [3, 2, 1]
    unit = floors[-1]["units"][0]
    assert unit["code"] == "101" and unit["state"] == "not_for_sale" and unit["state_label"] == "不可售"
    assert Decimal(unit["total_price"]) == Decimal("2000000") and Decimal(unit["unit_price"]) == Decimal("20000")

    b2 = body["buildings"][1]["id"]
    r = await api.get("frontdesk", f"/api/projects/{pid}/board", params={"building_id": b2})
    assert [b["id"] for b in r.json()["buildings"]] == [b2]
    r = await api.get("frontdesk", f"/api/projects/{pid}/board", params={"state": "not_for_sale"})
    assert r.json()["counts"] == {"not_for_sale": 1}
    assert (await api.get("frontdesk", "/api/projects/999999999/board")).status_code == 404
    assert (await api.http.get(f"/api/projects/{pid}/board")).status_code == 401
