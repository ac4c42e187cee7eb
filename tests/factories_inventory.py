"""Factory helpers for the inventory tests: fresh projects, units and files per test."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy.orm import Session, sessionmaker

from db.models import Building, Project, Unit, UnitState
from db.org import city_company_id


def new_project(sf: sessionmaker[Session]) -> int:
    with sf.begin() as s:
        p = Project(name=f"库存项目-{uuid.uuid4().hex[:8]}", city="杭州", city_company_id=city_company_id(s, "测试城市公司"),
                    marketing_budget=Decimal("1000000"))
        s.add(p)
        s.flush()
        return p.id


def units_grid(sf: sessionmaker[Session], *, buildings: int = 2, floors: int = 3, per_floor: int = 2,
               state: str = UnitState.AVAILABLE, price: Decimal = Decimal("20000")) -> tuple[int, list[int]]:
    """A fresh project with buildings × floors × per_floor units, all in `state`."""
    pid = new_project(sf)
    ids = []
    with sf.begin() as s:
        for b in range(1, buildings + 1):
            bld = Building(project_id=pid, name=f"{b}号楼")
            s.add(bld)
            s.flush()
            for f in range(1, floors + 1):
                for k in range(1, per_floor + 1):
                    u = Unit(project_id=pid, building_id=bld.id, code=f"{f}{k:02d}", floor=f, layout="三室两厅",
                             gross_area=Decimal("100.00"), unit_price=price, total_price=price * 100, state=state)
                    s.add(u)
                    s.flush()
                    ids.append(u.id)
    return pid, ids


def set_lock(sf: sessionmaker[Session], unit_id: int, *, locked_at: datetime, by: str = "someone") -> None:
    with sf.begin() as s:
        u = s.get(Unit, unit_id)
        u.state, u.locked_at, u.locked_by = UnitState.LOCKED, locked_at, by


def csv_bytes(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


UNIT_HEADER = ["phase", "building", "entrance", "floor", "code", "use", "layout", "orientation", "gross_area", "net_area",
               "filed_price", "presale_permit"]


def unit_rows(n_floors: int = 2, per_floor: int = 2, building: str = "1号楼") -> list[list[object]]:
    rows: list[list[object]] = [UNIT_HEADER]
    for f in range(1, n_floors + 1):
        for k in range(1, per_floor + 1):
            rows.append(["一期", building, "1单元", f, f"{f}{k:02d}", "住宅", "三室两厅", "南", "100.00", "85.50", "",
                         "杭售许字(2026)第001号"])
    return rows
