"""Front-desk look-ups, the intake QR code, evidence uploads on refund cases and the board's change version."""

from __future__ import annotations

import hashlib
import io
import struct
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from db.errors import ServiceError
from db.evidence import add_evidence
from db.evidence_models import CaseEvidence
from db.models import (
    Building,
    CaseEvent,
    Customer,
    RefundCase,
    Subscription,
    Unit,
    UnitState,
    UnitStateChange,
)
from domain.identity import mask_name
from tests.api.conftest import Api
from tests.factories_inventory import set_lock, units_grid


def png(width: int = 2, height: int = 2, pad: int = 0) -> bytes:
    """A valid PNG; `pad` adds an ancillary chunk to make it larger."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    if pad:
        body += chunk(b"tEXt", b"pad\x00" + b"x" * pad)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


@pytest.fixture
def app_settings(http):
    """Changes the test app's settings for one test (`monkeypatch` cannot: it deletes the key on undo,
    as the app's State keeps attributes in a dict of its own)."""
    state = http._transport.app.state
    original = state.settings

    def update(**changes) -> None:
        state.settings = state.settings.model_copy(update=changes)

    yield update
    state.settings = original


@pytest.fixture
def storage(app_settings, tmp_path):
    """Evidence under tmp_path; `storage(n)` sets the size limit."""
    app_settings(data_dir=tmp_path)

    def limit(n: int) -> None:
        app_settings(evidence_max_bytes=n)

    limit.root = tmp_path
    return limit


def files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- look-up ----------


@pytest.fixture
def office(factory, http, session_factory):
    """1号楼 and 2号楼, floors 1–2, units x01/x02; 1号楼-101 has an active subscription."""
    users = factory.users()
    pid, _ = units_grid(session_factory, buildings=2, floors=2, per_floor=2)
    customer_id, _, _ = factory.customer(consultant_id=users["sales"].id)
    with session_factory.begin() as s:
        unit = s.scalars(
            select(Unit).join(Building, Building.id == Unit.building_id)
            .where(Unit.project_id == pid, Building.name == "1号楼", Unit.code == "101")
        ).one()
        unit.state = UnitState.SUBSCRIBED
        sub = Subscription(unit_id=unit.id, customer_id=customer_id, consultant_id=users["sales"].id,
                           price=Decimal("2000000"), deposit_amount=Decimal("50000"), deposit_kind="定金",
                           paid_amount=Decimal("50000"), stage="deposit_paid", status="active",
                           subscribed_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
        s.add(sub)
        s.flush()
        customer = s.get(Customer, customer_id)
        return {"pid": pid, "unit_id": unit.id, "sub_id": sub.id, "customer_name": customer.name,
                "mobile_masked": customer.mobile_masked, "api": Api(http, users), "users": users}


async def lookup(o, q: str, role: str = "frontdesk"):
    return await o["api"].get(role, "/api/units/lookup", params={"project_id": o["pid"], "q": q})


async def test_lookup_by_unit_code_puts_exact_matches_first_with_the_masked_subscription(office):
    r = await lookup(office, "101")
    assert r.status_code == 200, r.text
    items = r.json()
    assert [i["label"] for i in items[:2]] == ["1号楼-101", "2号楼-101"]
    first = items[0]
    assert (first["unit_id"], first["building"], first["code"], first["floor"], first["layout"]) == (
        office["unit_id"], "1号楼", "101", 1, "三室两厅")
    assert (first["state"], first["state_label"]) == ("subscribed", "已认购")
    sub = first["subscription"]
    assert sub["id"] == office["sub_id"] and sub["stage"] == "deposit_paid" and sub["deposit_kind"] == "定金"
    assert (sub["deposit_amount"], sub["paid_amount"], sub["price"]) == ("50000.00", "50000.00", "2000000.00")
    assert sub["customer_name"] == mask_name(office["customer_name"]) != office["customer_name"]
    assert sub["customer_mobile"] == office["mobile_masked"] and "****" in sub["customer_mobile"]
    assert sub["consultant"] == office["users"]["sales"].display_name
    assert sub["open_case_id"] is None and sub["subscribed_at"].startswith("2026-11-01")
    assert items[1]["subscription"] is None and items[1]["state_label"] == "可售"


@pytest.mark.parametrize("q", ["1号楼-101", "1-101", "1号楼 101", "1号楼101", " 1号楼－101 "])
async def test_lookup_by_building_and_code(office, q):
    r = await lookup(office, q)
    assert r.status_code == 200, r.text
    assert [i["label"] for i in r.json()] == ["1号楼-101"]
    assert r.json()[0]["subscription"]["id"] == office["sub_id"]


async def test_lookup_by_building_lists_its_units(office):
    r = await lookup(office, "2号楼")
    assert [i["label"] for i in r.json()] == ["2号楼-101", "2号楼-102", "2号楼-201", "2号楼-202"]
    r = await lookup(office, "0")  # every code contains a 0
    assert len(r.json()) == 8


async def test_lookup_shows_the_open_refund_case(office, factory):
    factory.policy()
    r = await office["api"].post("frontdesk", "/api/refund-cases", json={"unit_id": office["unit_id"]})
    assert r.status_code == 201, r.text
    [item] = (await lookup(office, "1号楼-101")).json()
    assert item["subscription"]["open_case_id"] == r.json()["id"] and item["state"] == "refunding"


async def test_lookup_refusals(office):
    for q in ("", "   "):
        r = await lookup(office, q)
        assert r.status_code == 422 and "101" in r.json()["detail"], r.text
    r = await office["api"].get("frontdesk", "/api/units/lookup", params={"project_id": office["pid"]})
    assert r.status_code == 422
    r = await office["api"].get("frontdesk", "/api/units/lookup", params={"project_id": 999999999, "q": "101"})
    assert r.status_code == 404
    assert (await lookup(office, "9999")).json() == []
    assert (await lookup(office, "%")).json() == []  # LIKE wildcards are literal
    assert (await office["api"].http.get("/api/units/lookup", params={"project_id": office["pid"], "q": "1"})).status_code == 401


async def test_projects_list_their_buildings(office):
    r = await office["api"].get("ops", "/api/projects")
    assert r.status_code == 200
    [p] = [p for p in r.json() if p["id"] == office["pid"]]
    assert p["city"] == "杭州" and [b["name"] for b in p["buildings"]] == ["1号楼", "2号楼"]


# ---------------------------------------------------------------- QR code ----------


async def test_intake_qr_is_an_svg_for_the_intake_url(office, app_settings):
    r = await office["api"].get("frontdesk", f"/api/projects/{office['pid']}/intake-qr.svg")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["x-intake-url"] == f"http://test/app/#/intake?project={office['pid']}"
    root = ElementTree.fromstring(r.content)
    assert root.tag.endswith("svg") and root.find("{http://www.w3.org/2000/svg}path") is not None

    app_settings(public_base_url="https://sales.example.com/ef/")
    r = await office["api"].get("frontdesk", f"/api/projects/{office['pid']}/intake-qr.svg")
    assert r.headers["x-intake-url"] == f"https://sales.example.com/ef/app/#/intake?project={office['pid']}"
    assert (await office["api"].get("frontdesk", "/api/projects/999999999/intake-qr.svg")).status_code == 404


# ---------------------------------------------------------------- evidence ----------


@pytest.fixture
def case(factory, http):
    factory.policy()
    sc = factory.scenario()
    return sc, Api(http, sc.users)


async def open_case(api: Api, sc) -> str:
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": sc.unit_id})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def nothing_stored(session_factory, case_id: str, root) -> None:
    with session_factory() as s:
        cid = uuid.UUID(case_id)
        assert s.scalar(select(func.count()).select_from(CaseEvidence).where(CaseEvidence.case_id == cid)) == 0
        assert s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == cid, CaseEvent.kind == "evidence_uploaded")) == 0
    assert files_under(root) == []


async def test_png_upload_is_stored_listed_and_downloaded_byte_for_byte(case, storage, session_factory):
    sc, api = case
    cid = await open_case(api, sc)
    data = png()
    name = "身份证 正面.png"
    r = await api.post("sales", f"/api/refund-cases/{cid}/evidence", files={"file": (name, data, "image/png")},
                       data={"note": "客户身份证扫描件"})
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["case_id"] == cid and ev["filename"] == name and ev["content_type"] == "image/png"
    assert ev["size_bytes"] == len(data) and ev["sha256"] == hashlib.sha256(data).hexdigest()
    assert ev["uploaded_by"] == sc.users["sales"].id and ev["note"] == "客户身份证扫描件" and ev["uploaded_at"]

    stored = files_under(storage.root)
    assert len(stored) == 1 and stored[0].parent == storage.root / "evidence" / cid
    assert stored[0].name.endswith(".png") and "身份证" not in stored[0].name

    # A JPEG declared as something else is stored as what it is.
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
    r = await api.post("finance", f"/api/refund-cases/{cid}/evidence",
                       files={"file": ("../../etc/passwd", jpeg, "application/octet-stream")})
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/jpeg" and r.json()["filename"] == "passwd" and r.json()["note"] is None

    r = await api.get("ops", f"/api/refund-cases/{cid}/evidence")
    assert r.status_code == 200
    assert [e["id"] for e in r.json()] == [ev["id"], r.json()[1]["id"]] and r.json()[0] == ev

    r = await api.get("hqrisk", f"/api/evidence/{ev['id']}")
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    cd = r.headers["content-disposition"]
    assert cd.startswith("inline;") and f"filename*=UTF-8''{quote(name, safe='')}" in cd

    with session_factory() as s:
        [event] = s.scalars(select(CaseEvent).where(CaseEvent.case_id == uuid.UUID(cid),
                                                    CaseEvent.kind == "evidence_uploaded",
                                                    CaseEvent.detail["evidence_id"].as_integer() == ev["id"])).all()
        assert event.actor == sc.users["sales"].username
        assert event.detail["filename"] == name and event.detail["size_bytes"] == len(data)


async def test_refused_uploads_leave_nothing_behind(case, storage, session_factory):
    sc, api = case
    cid = await open_case(api, sc)
    url = f"/api/refund-cases/{cid}/evidence"

    r = await api.post("frontdesk", url, files={"file": ("scan.png", b"just some text, honestly", "image/png")})
    assert r.status_code == 422 and r.json()["detail"] == "the file is not a PDF, JPEG, PNG or WebP image"
    r = await api.post("frontdesk", url, files={"file": ("empty.pdf", b"", "application/pdf")})
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = await api.post("frontdesk", url, files={"file": ("a.png", png(), "image/png")}, data={"note": "x" * 501})
    assert r.status_code == 422 and "note" in r.json()["detail"]

    storage(1024)  # a 1 KB limit
    r = await api.post("frontdesk", url, files={"file": ("big.png", png(pad=2000), "image/png")})
    assert r.status_code == 413 and r.json()["detail"] == "the file is larger than the 1 KB limit", r.text
    r = await api.post("frontdesk", url, files={"file": ("huge.png", png(pad=200_000), "image/png")})
    assert r.status_code == 413, r.text  # refused on Content-Length, before parsing
    nothing_stored(session_factory, cid, storage.root)

    r = await api.post("frontdesk", url, files={"file": ("ok.png", png(), "image/png")})
    assert r.status_code == 201  # under the limit


async def test_the_default_limit_reads_in_mb(case, storage):
    sc, api = case
    cid = await open_case(api, sc)
    r = await api.post("frontdesk", f"/api/refund-cases/{cid}/evidence",
                       files={"file": ("big.pdf", b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "application/pdf")})
    assert r.status_code == 413 and r.json()["detail"] == "the file is larger than the 10 MB limit"


async def test_evidence_roles_unknown_and_closed_cases(case, storage, session_factory):
    sc, api = case
    cid = await open_case(api, sc)
    url = f"/api/refund-cases/{cid}/evidence"
    for role in ("ops", "hqrisk"):
        r = await api.post(role, url, files={"file": ("a.png", png(), "image/png")})
        assert r.status_code == 403, r.text
    for role in ("frontdesk", "legal", "marketing", "citygm", "manager"):
        r = await api.post(role, url, files={"file": ("a.png", png(), "image/png")})
        assert r.status_code == 201, (role, r.text)
    assert (await api.post("sales", url)).status_code == 422  # no file
    missing = f"/api/refund-cases/{uuid.uuid4()}/evidence"
    assert (await api.post("sales", missing, files={"file": ("a.png", png(), "image/png")})).status_code == 404
    assert (await api.get("sales", missing)).status_code == 404
    assert (await api.get("sales", "/api/evidence/999999999")).status_code == 404

    with session_factory.begin() as s:
        s.get(RefundCase, uuid.UUID(cid)).stage = "closed"
    n = len(files_under(storage.root))
    r = await api.post("sales", url, files={"file": ("late.png", png(), "image/png")})
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    assert len(files_under(storage.root)) == n


async def test_a_failed_commit_removes_the_file(case, storage, session_factory):
    sc, api = case
    cid = await open_case(api, sc)
    with session_factory() as s:
        def broken_commit():
            raise ServiceError("the database went away")

        s.commit = broken_commit
        with pytest.raises(ServiceError):
            add_evidence(s, case_id=uuid.UUID(cid), src=io.BytesIO(png()), filename="a.png", note=None,
                         user=sc.users["frontdesk"], data_dir=storage.root, max_bytes=1024 * 1024)
    nothing_stored(session_factory, cid, storage.root)


# ---------------------------------------------------------------- board version ----------


async def test_board_version_moves_with_every_unit_transition(http, factory, session_factory):
    api = Api(http, factory.users())
    pid, ids = units_grid(session_factory, buildings=1, floors=1, per_floor=2)
    url = f"/api/projects/{pid}/board/version"
    r = await api.get("ops", url)
    assert r.status_code == 200, r.text
    assert r.json() == {"project_id": pid, "version": 0, "changed_at": None}

    r = await api.post("manager", f"/api/units/{ids[0]}/transitions", json={"action": "hold", "reason": "领导保留"})
    assert r.status_code == 200, r.text
    v1 = (await api.get("sales", url)).json()
    with session_factory() as s:
        newest = s.scalar(select(func.max(UnitStateChange.id)).where(UnitStateChange.unit_id.in_(ids)))
    assert v1["version"] == newest > 0 and v1["changed_at"]

    # Another project's change does not move this board.
    _, other = units_grid(session_factory, buildings=1, floors=1, per_floor=1)
    await api.post("manager", f"/api/units/{other[0]}/transitions", json={"action": "hold", "reason": "x"})
    assert (await api.get("sales", url)).json() == v1

    await api.post("sales", f"/api/units/{ids[1]}/transitions", json={"action": "lock"})
    v2 = (await api.get("sales", url)).json()
    assert v2["version"] > v1["version"]

    # A lock that lapsed moves the version too (the board's lazy expiry runs on the poll).
    set_lock(session_factory, ids[1], locked_at=datetime.now(timezone.utc) - timedelta(hours=2))
    v3 = (await api.get("sales", url)).json()
    assert v3["version"] > v2["version"]
    with session_factory() as s:
        assert s.get(Unit, ids[1]).state == "available"
    assert (await api.get("sales", url)).json() == v3

    assert (await api.get("sales", "/api/projects/999999999/board/version")).status_code == 404
