"""Inventory control (销控): import, price lists, transitions, lock expiry and the board.

Every function is keyword-only after the session and leaves the transaction to the caller."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.errors import Conflict, Forbidden, Invalid, NotFound
from db.inventory_models import Phase, PriceList, PriceListItem, PriceListStatus
from db.ledger import set_unit_state
from db.models import (
    UNIT_STATE_LABELS,
    Building,
    Project,
    Unit,
    UnitState,
    UnitStateChange,
    User,
)
from domain.pricing import (
    PricingError,
    check_floor_price,
    parse_decimal,
    total_price,
    unit_price,
)
from domain.units import (
    INVENTORY_ACTIONS,
    LOCKED,
    SYSTEM,
    ReasonMissing,
    RoleNotAllowed,
    TransitionError,
    UnknownAction,
    WrongState,
    check_transition,
)

USES = ("住宅", "商业", "车位")


# ---------------------------------------------------------------- tables (CSV / XLSX) ----------


@dataclass
class RowError:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """An item of the error body's `errors`: the column as the field, the reason as the message, and
        the line (the header is line 1)."""
        return {"field": self.column or "file", "code": "invalid_row", "message": self.reason, "line": self.line}


class ImportRejected(Invalid):
    """A file with bad rows: nothing is imported; `errors` says where (line, column) and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(key="import.rows_rejected", params={"count": len(errors)})
        self.rows = errors
        self.errors = tuple(e.as_dict() for e in errors)


def read_table(data: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, {header: value}) for every non-empty row; line 1 is the header."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable workbook is the user's file
            raise Invalid(key="import.unreadable_xlsx", params={"reason": str(e) or e.__class__.__name__}) from None
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid(key="import.csv_not_utf8") from None
        rows = [tuple(r) for r in csv.reader(io.StringIO(text))]
    else:
        raise Invalid(key="import.wrong_type")
    if not rows:
        raise Invalid(key="import.empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    out = []
    for i, r in enumerate(rows[1:], start=2):
        values = {h: (v.strip() if isinstance(v, str) else v) for h, v in zip(header, r) if h}
        if all(v is None or v == "" for v in values.values()):
            continue
        out.append((i, values))
    return out


def _blank(v: Any) -> bool:
    return v is None or v == ""


class _Row:
    """Reads typed cells of one row, collecting errors instead of stopping at the first."""

    def __init__(self, line: int, values: dict[str, Any], errors: list[RowError]) -> None:
        self.line, self.values, self.errors = line, values, errors

    def err(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def text(self, col: str, *, required: bool = True, max_len: int = 32) -> str | None:
        v = self.values.get(col)
        if _blank(v):
            if required:
                self.err(col, "required")
            return None
        s = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
        if len(s) > max_len:
            self.err(col, f"longer than {max_len} characters")
            return None
        return s

    def _decimal(self, col: str, *, required: bool, not_a: str) -> Decimal | None:
        """The cell as a Decimal; None (with the error noted) when blank-but-required or unreadable."""
        v = self.values.get(col)
        if _blank(v):
            if required:
                self.err(col, "required")
            return None
        try:
            return parse_decimal(v, col)
        except PricingError:
            self.err(col, f"{v!r} is not {not_a}")
            return None

    def integer(self, col: str, *, required: bool = True) -> int | None:
        d = self._decimal(col, required=required, not_a="a whole number")
        if d is None:
            return None
        if d != d.to_integral_value():
            self.err(col, f"{self.values.get(col)!r} is not a whole number")
            return None
        return int(d)

    def money(self, col: str, *, required: bool = True, places: int = 2) -> Decimal | None:
        d = self._decimal(col, required=required, not_a="a number")
        if d is None:
            return None
        if d <= 0:
            self.err(col, "must be above zero")
            return None
        if -d.as_tuple().exponent > places and d != d.quantize(Decimal(1).scaleb(-places)):
            self.err(col, f"more than {places} decimal places")
            return None
        return d


def _check_columns(rows: list[tuple[int, dict[str, Any]]], required: tuple[str, ...]) -> None:
    if not rows:
        raise ImportRejected([RowError(1, "", "the file has no data rows")])
    missing = [c for c in required if c not in rows[0][1]]
    if missing:
        raise ImportRejected([RowError(1, c, "missing column") for c in missing])


def _project(session: Session, project_id: int) -> Project:
    p = session.get(Project, project_id)
    if p is None:
        raise NotFound(key="record.not_found", params={"record": "project", "id": project_id})
    return p


# ---------------------------------------------------------------- unit import ----------

UNIT_COLUMNS = ("phase", "building", "entrance", "floor", "code", "use", "layout", "orientation", "gross_area",
                "net_area", "filed_price", "presale_permit")
UNIT_REQUIRED = ("building", "floor", "code", "layout", "gross_area")


def import_units(session: Session, *, project_id: int, rows: list[tuple[int, dict[str, Any]]], actor: str) -> list[Unit]:
    """Create units (未推, no price until a price list is published). Any bad row: nothing is written."""
    _project(session, project_id)
    _check_columns(rows, UNIT_REQUIRED)
    errors: list[RowError] = []
    parsed = []
    seen: dict[tuple[str, str], int] = {}
    for line, values in rows:
        r = _Row(line, values, errors)
        rec = {
            "phase": r.text("phase", required=False), "building": r.text("building"),
            "entrance": r.text("entrance", required=False, max_len=16), "floor": r.integer("floor"),
            "code": r.text("code", max_len=16), "use": r.text("use", required=False, max_len=16),
            "layout": r.text("layout"), "orientation": r.text("orientation", required=False, max_len=16),
            "gross_area": r.money("gross_area"), "net_area": r.money("net_area", required=False),
            "filed_price": r.money("filed_price", required=False),
            "presale_permit": r.text("presale_permit", required=False, max_len=64),
        }
        if rec["use"] is not None and rec["use"] not in USES:
            r.err("use", f"must be one of {'/'.join(USES)}")
        if rec["gross_area"] and rec["net_area"] and rec["net_area"] > rec["gross_area"]:
            r.err("net_area", "the net area (套内) cannot exceed the gross area (建筑面积)")
        if rec["building"] and rec["code"]:
            key = (rec["building"], rec["code"])
            if key in seen:
                r.err("code", f"unit {rec['building']} {rec['code']} already appears on line {seen[key]}")
            seen[key] = line
        parsed.append((line, rec))
    buildings = {b.name: b for b in session.scalars(select(Building).where(Building.project_id == project_id))}
    if buildings and seen:
        existing = set(session.execute(
            select(Building.name, Unit.code).join(Unit, Unit.building_id == Building.id)
            .where(Building.project_id == project_id)
        ).all())
        for line, rec in parsed:
            if (rec["building"], rec["code"]) in existing:
                errors.append(RowError(line, "code", f"unit {rec['building']} {rec['code']} already exists"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.line, e.column)))
    phases = {p.name: p for p in session.scalars(select(Phase).where(Phase.project_id == project_id))}
    units = []
    for _, rec in parsed:
        b = buildings.get(rec["building"])
        if b is None:
            b = buildings[rec["building"]] = Building(project_id=project_id, name=rec["building"])
            session.add(b)
            session.flush()
        ph = None
        if rec["phase"]:
            ph = phases.get(rec["phase"])
            if ph is None:
                ph = phases[rec["phase"]] = Phase(project_id=project_id, name=rec["phase"])
                session.add(ph)
                session.flush()
        u = Unit(
            project_id=project_id, building_id=b.id, phase_id=ph.id if ph else None, entrance=rec["entrance"],
            code=rec["code"], floor=rec["floor"], use=rec["use"] or "住宅", layout=rec["layout"],
            orientation=rec["orientation"], gross_area=rec["gross_area"], net_area=rec["net_area"],
            filed_price=rec["filed_price"], presale_permit=rec["presale_permit"],
            unit_price=Decimal("0"), total_price=Decimal("0"), state=UnitState.NOT_RELEASED,
        )
        units.append(u)
    session.add_all(units)
    session.flush()
    return units


# ---------------------------------------------------------------- price lists ----------

PRICE_REQUIRED = ("building", "code")


def import_price_list(session: Session, *, project_id: int, rows: list[tuple[int, dict[str, Any]]], actor: str) -> PriceList:
    """A new draft version. Each row gives `unit_price`, or `base_price` with optional `floor_premium`,
    `orientation_premium`, `view_premium`; `floor_price` (底价, a total) is optional. Totals are computed
    (gross area × unit price, to the yuan). Any bad row: nothing is written."""
    _project(session, project_id)
    _check_columns(rows, PRICE_REQUIRED)
    units = {
        (bname, u.code): u
        for u, bname in session.execute(
            select(Unit, Building.name).join(Building, Unit.building_id == Building.id).where(Unit.project_id == project_id)
        ).all()
    }
    errors: list[RowError] = []
    items: list[PriceListItem] = []
    seen: dict[int, int] = {}
    for line, values in rows:
        r = _Row(line, values, errors)
        bname, code = r.text("building"), r.text("code", max_len=16)
        unit = units.get((bname, code)) if bname and code else None
        if bname and code and unit is None:
            r.err("code", f"no unit {bname} {code} in this project")
        elif unit is not None:
            if unit.id in seen:
                r.err("code", f"unit {bname} {code} already priced on line {seen[unit.id]}")
            seen[unit.id] = line
        n_before = len(errors)
        if not _blank(values.get("unit_price")):
            price = r.money("unit_price")
        else:
            base = r.money("base_price")
            prem = {}
            for col in ("floor_premium", "orientation_premium", "view_premium"):
                v = values.get(col)
                if _blank(v):
                    prem[col] = Decimal("0")
                    continue
                try:
                    prem[col] = parse_decimal(v, col)
                except PricingError as e:
                    r.err(col, str(e))
            price = None
            if base is not None and len(errors) == n_before:
                try:
                    price = unit_price(base, **prem)
                except PricingError as e:
                    r.err("base_price", str(e))
        floor = r.money("floor_price", required=False)
        if unit is None or price is None or len(errors) > n_before:
            continue
        try:
            total = total_price(Decimal(unit.gross_area), price)
            check_floor_price(total=total, floor_price=floor)
        except PricingError as e:
            r.err("floor_price" if "floor price" in str(e) else "unit_price", str(e))
            continue
        if unit.filed_price is not None and total > unit.filed_price:
            r.err("unit_price", f"the total {total} is above the filed price (备案价) {unit.filed_price}")
            continue
        items.append(PriceListItem(unit_id=unit.id, unit_price=price, total_price=total, floor_price=floor))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.line, e.column)))
    # Versions per project are serialised by the project row lock.
    session.get(Project, project_id, with_for_update=True)
    version = (session.scalar(select(func.max(PriceList.version)).where(PriceList.project_id == project_id)) or 0) + 1
    pl = PriceList(project_id=project_id, version=version, status=PriceListStatus.DRAFT, created_by=actor)
    session.add(pl)
    session.flush()
    for it in items:
        it.price_list_id = pl.id
    session.add_all(items)
    session.flush()
    return pl


PRICEABLE_STATES = (UnitState.NOT_RELEASED, UnitState.AVAILABLE, UnitState.LOCKED, UnitState.HELD, UnitState.NOT_FOR_SALE)


def publish_price_list(session: Session, *, price_list_id: int, approver: User) -> tuple[PriceList, int]:
    """Approve a draft and apply its prices to the units; returns the list and how many units got prices.
    A published version never changes."""
    pl = session.get(PriceList, price_list_id, with_for_update=True)
    if pl is None:
        raise NotFound(key="record.not_found", params={"record": "price list", "id": price_list_id})
    if pl.status != PriceListStatus.DRAFT:
        raise Conflict(key="price_list.immutable", params={"version": pl.version, "status": pl.status})
    # One statement: prices go to every unit of the list that is not sold; a sold unit keeps the price
    # its subscription/contract captured (the board shows what it was sold at).
    result = session.execute(
        update(Unit)
        .where(Unit.id == PriceListItem.unit_id, PriceListItem.price_list_id == pl.id, Unit.state.in_(PRICEABLE_STATES))
        .values(unit_price=PriceListItem.unit_price, total_price=PriceListItem.total_price,
                floor_price=PriceListItem.floor_price, price_list_id=pl.id)
        .execution_options(synchronize_session=False)
    )
    applied = result.rowcount
    pl.status = PriceListStatus.PUBLISHED
    pl.approved_by = approver.username
    pl.published_at = func.now()
    session.flush()
    session.refresh(pl)
    return pl, applied


def price_list_items(session: Session, *, price_list_id: int) -> tuple[PriceList, list[dict[str, Any]]]:
    pl = session.get(PriceList, price_list_id)
    if pl is None:
        raise NotFound(key="record.not_found", params={"record": "price list", "id": price_list_id})
    rows = session.execute(
        select(PriceListItem, Unit.code, Building.name)
        .join(Unit, Unit.id == PriceListItem.unit_id).join(Building, Building.id == Unit.building_id)
        .where(PriceListItem.price_list_id == pl.id).order_by(Building.name, Unit.floor, Unit.code)
    ).all()
    return pl, [
        {"unit_id": it.unit_id, "building": b, "code": c, "unit_price": it.unit_price, "total_price": it.total_price,
         "floor_price": it.floor_price}
        for it, c, b in rows
    ]


# ---------------------------------------------------------------- transitions and locks ----------


def expire_locks(session: Session, *, now: datetime, ttl: timedelta, project_id: int | None = None,
                 unit_id: int | None = None) -> list[int]:
    """Flip locks older than `ttl` back to 可售, each with an audit row by "system". Lazy: called at the
    start of the board query and of a transition. Rows another transaction holds are skipped (it will
    see them next time)."""
    q = select(Unit).where(Unit.state == LOCKED, Unit.locked_at <= now - ttl)
    if project_id is not None:
        q = q.where(Unit.project_id == project_id)
    if unit_id is not None:
        q = q.where(Unit.id == unit_id)
    expired = session.scalars(q.with_for_update(skip_locked=True)).all()
    for u in expired:
        to = check_transition("unlock", current=u.state, role=SYSTEM)
        set_unit_state(session, u, to, actor=SYSTEM, reason=f"lock by {u.locked_by} expired after {ttl}", at=now)
        u.locked_at = u.locked_by = None
    if expired:
        session.flush()
    return [u.id for u in expired]


def transition_unit(session: Session, *, unit_id: int, action: str, reason: str, user: User, now: datetime,
                    ttl: timedelta) -> Unit:
    """One inventory action on one unit under a row lock, audited by db.ledger.set_unit_state."""
    if action not in INVENTORY_ACTIONS:
        raise Invalid(key="unit.not_inventory_action", params={"action": action, "allowed": sorted(INVENTORY_ACTIONS)})
    expire_locks(session, now=now, ttl=ttl, unit_id=unit_id)
    unit = session.get(Unit, unit_id, with_for_update=True, populate_existing=True)
    if unit is None:
        raise NotFound(key="record.not_found", params={"record": "unit", "id": unit_id})
    try:
        to = check_transition(action, current=unit.state, role=user.role, reason=reason)
    except TransitionError as e:
        key, params = e.about_unit(unit.code)  # a wrong state names the unit: unit.transition_not_allowed
        kind = {RoleNotAllowed: Forbidden, WrongState: Conflict, ReasonMissing: Invalid, UnknownAction: Invalid}
        cls = kind.get(type(e), Conflict)
        raise (cls(key=key, params=params) if key else cls(str(e))) from None
    if action == "unlock" and user.role == "sales" and unit.locked_by != user.username:
        raise Forbidden(key="unit.locked_by_other", params={"unit": unit.code, "holder": unit.locked_by})
    default_reason = {"lock": "锁定", "unlock": "解锁", "release": "推盘"}.get(action, action)
    set_unit_state(session, unit, to, actor=user.username, reason=(reason or "").strip() or default_reason, at=now)
    if action == "lock":
        unit.locked_at, unit.locked_by = now, user.username
    elif action == "unlock":
        unit.locked_at = unit.locked_by = None
    if action == "hold":
        unit.hold_reason = reason.strip()
    elif action == "unhold":
        unit.hold_reason = None
    session.flush()
    return unit


def unit_history(session: Session, *, unit_id: int) -> list[UnitStateChange]:
    if session.get(Unit, unit_id) is None:
        raise NotFound(key="record.not_found", params={"record": "unit", "id": unit_id})
    return list(session.scalars(
        select(UnitStateChange).where(UnitStateChange.unit_id == unit_id).order_by(UnitStateChange.at, UnitStateChange.id)
    ))


# ---------------------------------------------------------------- the board ----------

BOARD_COLUMNS = ("phase", "building", "entrance", "floor", "code", "use", "layout", "orientation", "gross_area",
                 "net_area", "unit_price", "total_price", "filed_price", "presale_permit", "state", "state_label")


def board_rows(session: Session, *, project_id: int, building_id: int | None = None,
               state: str | None = None) -> list[dict[str, Any]]:
    """One query: every unit of the project with its building and phase, ordered for display."""
    _project(session, project_id)
    q = (
        select(
            Unit.id, Unit.building_id, Building.name.label("building"), Phase.name.label("phase"), Unit.entrance,
            Unit.floor, Unit.code, Unit.use, Unit.layout, Unit.orientation, Unit.gross_area, Unit.net_area,
            Unit.unit_price, Unit.total_price, Unit.filed_price, Unit.presale_permit, Unit.state, Unit.locked_at,
            Unit.locked_by, Unit.hold_reason,
        )
        .join(Building, Building.id == Unit.building_id)
        .outerjoin(Phase, Phase.id == Unit.phase_id)
        .where(Unit.project_id == project_id)
        .order_by(Building.name, Unit.building_id, Unit.floor.desc(), Unit.entrance, Unit.code)
    )
    if building_id is not None:
        q = q.where(Unit.building_id == building_id)
    if state is not None:
        q = q.where(Unit.state == state)
    labels = {str(k): v for k, v in UNIT_STATE_LABELS.items()}
    out = []
    for row in session.execute(q).mappings():
        d = dict(row)
        d["state_label"] = labels.get(d["state"], d["state"])
        out.append(d)
    return out


def board(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group board rows by building, then floor (top floor first)."""
    buildings: dict[int, dict[str, Any]] = {}
    for r in rows:
        b = buildings.get(r["building_id"])
        if b is None:
            b = buildings[r["building_id"]] = {"id": r["building_id"], "name": r["building"], "floors": {}}
        b["floors"].setdefault(r["floor"], []).append({
            k: r[k] for k in ("id", "code", "entrance", "phase", "use", "layout", "orientation", "gross_area", "net_area",
                              "unit_price", "total_price", "state", "state_label", "locked_by", "hold_reason")
        })
    return [
        {"id": b["id"], "name": b["name"], "floors": [{"floor": f, "units": us} for f, us in b["floors"].items()]}
        for b in buildings.values()
    ]


def board_xlsx(rows: list[dict[str, Any]], *, title: str) -> bytes:
    """The 销控表 as a workbook: one row per unit, the state cell coloured, money and areas as numbers.
    Write-only mode: streamed rows, ~6× faster than a normal workbook for a 2,000-unit project."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    colours = {"available": "C6EFCE", "locked": "FFEB9C", "subscribed": "FFC7CE", "signed": "F4B084", "filed": "D9D9D9",
               "delivered": "BFBFBF", "held": "BDD7EE", "refunding": "E4DFEC", "not_for_sale": "808080"}
    fills = {k: PatternFill("solid", fgColor=v) for k, v in colours.items()}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("销控表")
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for h in BOARD_COLUMNS:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header.append(c)
    ws.append(header)
    for r in rows:
        values = [r[k] for k in BOARD_COLUMNS]
        fill = fills.get(r["state"])
        if fill is not None:
            c = WriteOnlyCell(ws, value=values[-1])
            c.fill = fill
            values[-1] = c
        ws.append(values)
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
