"""Hostile input gets a 4xx with a message, never a 500: loose types, NUL and control characters, numbers
beyond their column, malformed JSON; every response says nosniff and refuses framing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.evidence import clean_filename
from tests.api.conftest import Api


@pytest.fixture
def world(factory, http):
    factory.policy()
    sc = factory.scenario(deposit=Decimal("50000"))
    return sc, Api(http, sc.users)


def field_errors(r) -> dict[str, str]:
    return {e["field"]: e["message"] for e in r.json()["errors"]}


async def test_a_boolean_is_not_an_id(world):
    sc, api = world
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": True})
    assert r.status_code == 422 and "not true or false" in field_errors(r)["body.unit_id"]


async def test_an_id_beyond_its_column_is_refused_in_the_body(world):
    sc, api = world
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": 2**31})
    assert r.status_code == 422 and "between" in field_errors(r)["body.unit_id"]


@pytest.mark.parametrize("url, field", [
    ("/api/units/lookup?project_id=1&q=%00abc", "query.q"),
    ("/api/refund-cases?stage=%00", "query.stage"),
    ("/api/customers?q=%00", "query.q"),
    ("/api/refund-cases?stage=a%1Bb", "query.stage"),
])
async def test_control_characters_in_query_parameters_are_refused(world, url, field):
    sc, api = world
    r = await api.get("manager", url)
    assert r.status_code == 422, r.text
    assert "control characters" in field_errors(r)[field]


@pytest.mark.parametrize("url, field", [
    ("/api/refund-cases?offset=1180591620717411303424", "query.offset"),
    ("/api/tasks/99999999999999/complete", "path.task_id"),
])
async def test_numbers_beyond_their_column_are_refused(world, url, field):
    sc, api = world
    r = await (api.get("manager", url) if "offset" in url else api.post("manager", url, json={}))
    assert r.status_code == 422, r.text
    assert "between" in field_errors(r)[field]


async def test_a_nul_in_a_json_string_is_refused(world):
    sc, api = world
    r = await api.post("sales", "/api/customers", json={"name": "张\u0000三", "id_number": sc.id_number, "mobile": sc.mobile})
    assert r.status_code == 422 and "U+0000" in field_errors(r)["body.name"]


async def test_a_direction_override_in_a_json_string_is_refused(world):
    sc, api = world
    r = await api.post("sales", "/api/customers", json={"name": "张\u202e三", "id_number": sc.id_number, "mobile": sc.mobile})
    assert r.status_code == 422 and "U+202E" in field_errors(r)["body.name"]


async def test_a_nul_in_the_sign_in_form_is_refused(http):
    r = await http.post("/api/auth/token", data={"username": "man\x00ager", "password": "x"})
    assert r.status_code == 422 and "control characters" in field_errors(r)["body.username"]


async def test_malformed_json_names_the_position_not_a_field(world):
    sc, api = world
    r = await api.http.post("/api/refund-cases", content=b'{"unit_id": 1,,}', headers={
        **await api.as_("frontdesk"), "content-type": "application/json"})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("the request body is not valid JSON at character")
    assert [e["field"] for e in body["errors"]] == ["body"]


async def test_every_response_says_nosniff_and_refuses_framing(http):
    for r in (await http.get("/api/health"), await http.get("/api/tasks"), await http.get("/api/refund-policy")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_evidence_file_names_lose_direction_overrides_and_controls():
    assert clean_filename("账单\u202efdp.exe", ".pdf") == "账单fdp.exe"
    assert clean_filename("a\u0000b\u0085c\u2066.pdf", ".pdf") == "a_b_c.pdf"
    assert clean_filename("e\u0301.pdf", ".pdf") == "\u00e9.pdf"  # NFC
