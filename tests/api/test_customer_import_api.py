"""Customer import from XLSX (issue 15): every row or none, each bad row with its line, column and reason;
duplicates (by blind index) within the file and against the project refused; needs come with the customers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.customer_models import CustomerNeeds
from db.models import Customer
from tests.api.conftest import Api
from tests.factories_customers import customer_body, fresh_mobile, fresh_resident_id
from tests.factories_inventory import csv_bytes, xlsx_bytes

HEADER = ["姓名", "手机", "证件号码", "渠道", "预算下限", "预算上限", "意向户型", "面积下限", "面积上限", "购房目的", "关注点", "备注"]


@pytest.fixture
def api(http, factory) -> Api:
    return Api(http, factory.users(extra=("sales#2",)), factory.project_id())


def _row(name="张三", mobile=None, id_number=None, channel="自然来访", **over) -> list:
    row = {"姓名": name, "手机": mobile or fresh_mobile(), "证件号码": id_number or fresh_resident_id(), "渠道": channel,
           "预算下限": 3000000, "预算上限": "4000000", "意向户型": "三室两厅、四室", "面积下限": 89, "面积上限": 120,
           "购房目的": "改善", "关注点": "学区, 交付", "备注": ""}
    row.update(over)
    return [row[h] for h in HEADER]


async def upload(api: Api, role: str, rows: list[list], *, name: str = "客户.xlsx", project_id: int | None = None):
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows)
    return await api.post(role, f"/api/projects/{project_id or api.project_id}/customers/import",
                          files={"file": (name, data, "application/octet-stream")})


def _count(session_factory, project_id: int) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(Customer).where(Customer.project_id == project_id))


async def test_a_good_sheet_imports_every_customer_with_needs_masked(api, session_factory):
    rows = [HEADER, _row("张三"), _row("李四", 购房目的="投资", 关注点="")]
    r = await upload(api, "sales", rows)
    assert r.status_code == 201, r.text
    ids = r.json()["customer_ids"]
    assert r.json()["imported"] == 2 and len(ids) == 2
    c = (await api.get("sales", f"/api/customers/{ids[0]}")).json()
    assert c["consultant_id"] == api.users["sales"].id and c["source_channel"] == "自然来访"
    assert c["needs"]["layouts"] == ["三室两厅", "四室"] and c["needs"]["concerns"] == ["school_district", "delivery"]
    assert c["needs"]["budget_min"] == "3000000.00" and c["needs"]["purpose"] == "upgrade"
    assert rows[1][1] not in r.text and rows[1][1] not in str(c)
    with session_factory() as s:
        assert s.get(CustomerNeeds, ids[1]).purpose == "investment"


async def test_bad_rows_are_refused_with_line_column_and_reason_and_nothing_is_imported(api, session_factory):
    dup_mobile = fresh_mobile()
    existing = customer_body(api.project_id)
    r = await api.post("manager", "/api/customers", json=existing)
    assert r.status_code == 201, r.text
    before = _count(session_factory, api.project_id)
    rows = [
        HEADER,
        _row("好行", mobile=dup_mobile),                              # line 2: fine by itself
        _row("重复", mobile=dup_mobile),                              # line 3: same mobile as line 2
        _row("坏号", mobile="12345678901"),                           # line 4
        _row("校验", id_number="110105194912310021"),                 # line 5: check digit
        _row("", 预算下限=5000000, 预算上限=4000000),                 # line 6: no name; budget range
        _row("已有", mobile=existing["mobile"]),                      # line 7: already in the project
        _row("目的", 购房目的="炒房", 面积下限="abc"),                 # line 8
    ]
    r = await upload(api, "manager", rows)
    assert r.status_code == 422, r.text
    body = r.json()
    got = {(e["line"], e["field"]) for e in body["errors"]}
    assert got == {(3, "mobile"), (4, "mobile"), (5, "id_number"), (6, "name"), (6, "budget_max"), (7, "mobile"),
                   (8, "purpose"), (8, "area_min")}, body["errors"]
    by = {(e["line"], e["field"]): e["message"] for e in body["errors"]}
    assert "already on line 2" in by[(3, "mobile")]
    assert "already registered in this project" in by[(7, "mobile")]
    assert "check digit" in by[(5, "id_number")]
    assert body["key"] == "import.rows_rejected" and "nothing was imported" in body["message"]
    assert existing["mobile"] not in r.text and "110105194912310021" not in r.text
    assert _count(session_factory, api.project_id) == before


async def test_missing_columns_unreadable_files_and_roles(api):
    r = await upload(api, "manager", [["姓名", "渠道"], ["张三", "来访"]])
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"mobile"}
    r = await api.post("manager", f"/api/projects/{api.project_id}/customers/import",
                       files={"file": ("x.xlsx", b"not a workbook", "application/octet-stream")})
    assert r.status_code == 422 and r.json()["key"] == "import.unreadable_xlsx"
    assert (await upload(api, "finance", [HEADER, _row()])).status_code == 403
    assert (await upload(api, "manager", [HEADER, _row()], project_id=10**8)).status_code == 404


async def test_a_manager_assigns_consultants_by_login_and_a_consultant_only_themselves(api):
    header = [*HEADER, "置业顾问"]
    sales2 = api.users["sales#2"].username
    r = await upload(api, "manager", [header, [*_row("甲"), sales2], [*_row("乙"), ""]], name="客户.csv")
    assert r.status_code == 201, r.text
    a, b = r.json()["customer_ids"]
    assert (await api.get("manager", f"/api/customers/{a}")).json()["consultant_id"] == api.users["sales#2"].id
    assert (await api.get("manager", f"/api/customers/{b}")).json()["consultant_id"] is None
    r = await upload(api, "manager", [header, [*_row("丙"), "nobody-at-all"]])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "consultant"
    r = await upload(api, "sales", [header, [*_row("丁"), sales2]])
    assert r.status_code == 422 and "for themselves only" in r.json()["errors"][0]["message"]
