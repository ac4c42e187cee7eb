"""Issue 10: every error response has one body — `{"code", "message", "errors", "detail", "key", "params",
"message_zh"}`, `detail` equal to `message` — whatever produced it: request validation, a service rule,
require_roles, the token check, an unknown route or method, an upload too large, a database that is down, or a
bug (500, nothing leaked). Its codes: tests/api/test_error_codes.py."""

from __future__ import annotations

import logging
import socket
import uuid
from decimal import Decimal

import pytest

from api.errors import ErrorBody, service_error
from db.errors import Conflict
from tests.api.conftest import Api
from tests.api.test_bounded_waits import own_app


@pytest.fixture
def api(factory, http) -> Api:
    factory.policy()
    return Api(http, factory.scenario(deposit=Decimal("50000")).users)


def error_body(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    ErrorBody.model_validate(body)
    assert {"code", "message", "errors", "detail", "key", "params", "message_zh"} <= set(body)
    assert body["code"] == code and body["detail"] == body["message"] and body["message"]
    assert body["key"] and isinstance(body["params"], dict) and body["message_zh"]
    return body


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_malformed_request_names_each_field_with_pydantic_s_error_type(http):
    r = await http.post("/api/auth/token", data={"username": "manager"})
    body = error_body(r, 422, "validation_error")
    assert body["message"] == "password: Field required"
    assert body["errors"] == [{"field": "body.password", "code": "missing", "message": "Field required"}]


async def test_strict_input_and_malformed_json_keep_their_readable_text(api):
    r = await api.post("frontdesk", "/api/refund-cases", json={"unit_id": True})
    body = error_body(r, 422, "validation_error")
    assert body["errors"][0]["field"] == "body.unit_id" and body["errors"][0]["code"] == "value_error"
    assert "not true or false" in body["message"]
    r = await api.http.post("/api/refund-cases", content=b'{"unit_id": 1,,}', headers={
        **await api.as_("frontdesk"), "content-type": "application/json"})
    body = error_body(r, 422, "validation_error")
    assert body["message"].startswith("the request body is not valid JSON at character")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("body", "json_invalid")]
    r = await api.get("manager", "/api/refund-cases?stage=a%00b")  # api.strict.guard_params
    body = error_body(r, 422, "validation_error")
    assert body["errors"] == [{"field": "query.stage", "code": "value_error",
                               "message": "must not contain control characters (U+0000)"}]


async def test_a_broken_rule_is_invalid_and_a_missing_record_not_found(api):
    body = error_body(await api.get("frontdesk", "/api/units/lookup?project_id=1&q=%20"), 422, "invalid")
    assert body["errors"] == [] and body["message"].startswith("q: type the unit")
    case_id = uuid.uuid4()
    body = error_body(await api.get("manager", f"/api/refund-cases/{case_id}"), 404, "not_found")
    assert body["message"] == f"refund case {case_id} does not exist"


async def test_no_token_a_bad_token_and_a_wrong_password_are_401(http, api):
    r = await http.get("/api/tasks")
    error_body(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = await http.get("/api/tasks", headers={"Authorization": "Bearer not-a-token"})
    body = error_body(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer" and "sign in again" in body["message"]
    r = await http.post("/api/auth/token", data={"username": api.users["manager"].username, "password": "wrong"})
    assert error_body(r, 401, "unauthorized")["message"] == "wrong username or password"


async def test_a_role_refused_by_require_roles_is_403_naming_who_may(api):
    body = error_body(await api.get("frontdesk", "/api/refund-instructions"), 403, "forbidden")
    assert body["message"] == "role frontdesk may not do this; allowed: finance, manager, citygm, hqrisk, ops"


async def test_unknown_routes_and_methods_keep_their_status_and_headers(http):
    error_body(await http.get("/api/nowhere"), 404, "not_found")
    r = await http.delete("/api/tasks")
    error_body(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]


async def test_an_upload_above_its_limit_is_413_too_large(api):
    r = await api.post("manager", "/api/projects/1/units/import",
                       files={"file": ("units.csv", b"x" * (5 * 1024 * 1024 + 1), "text/csv")})
    assert error_body(r, 413, "too_large")["message"] == "the file is larger than the 5 MB limit"


async def test_a_busy_record_is_409_with_retry_after():
    r = await service_error(None, Conflict("another request is changing the same record", retry_after=1))
    assert r.status_code == 409 and r.headers["Retry-After"] == "1"
    assert r.body.startswith(b'{"code":"conflict","message":"another request is changing the same record"')
    r = await service_error(None, Conflict(key="record.busy", retry_after=1))
    assert r.status_code == 409 and r.headers["Retry-After"] == "1"
    assert b'"key":"record.busy"' in r.body


async def test_with_the_database_down_the_answer_is_503_unavailable_with_retry_after(dev_env, factory):
    users = factory.users()
    async with own_app(f"postgresql+psycopg2://nobody@127.0.0.1:{closed_port()}/estateflow", dev_env.client) as (app, http):
        from api.security import create_access_token

        token = create_access_token(user_id=users["manager"].id, role="manager", session_id="any",
                                    secret=app.state.settings.secret_key, minutes=5)
        r = await http.get("/api/refund-cases", headers={"Authorization": f"Bearer {token}"})
        error_body(r, 503, "unavailable")
        assert int(r.headers["Retry-After"]) > 0
        r = await http.get("/api/health/ready")  # the readiness body extends the error body
        body = error_body(r, 503, "unavailable")
        assert body["database"] is False and body["temporal"] is True and body["status"] == "unavailable"
        assert "PostgreSQL" in body["message"] and int(r.headers["Retry-After"]) > 0


async def test_a_bug_is_logged_and_answered_500_without_its_details(dev_env, caplog):
    async with own_app(f"postgresql+psycopg2://nobody@127.0.0.1:{closed_port()}/estateflow", dev_env.client) as (app, http):
        def boom() -> dict:
            raise RuntimeError("password=hunter2 in /srv/secret.py")

        app.add_api_route("/api/boom", boom, methods=["GET"])
        with caplog.at_level(logging.ERROR, logger="estateflow.api"):
            r = await http.get("/api/boom")
        body = error_body(r, 500, "internal_error")
        assert "hunter2" not in r.text and "RuntimeError" not in r.text and "secret" not in r.text
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        ref = body["message"].split("reference ")[1].split(")")[0]
        assert body["key"] == "service.internal_error" and body["params"] == {"ref": ref} and ref in body["message_zh"]
        logged = [rec for rec in caplog.records if ref in rec.getMessage()]
        assert logged and logged[0].exc_info and "hunter2" in str(logged[0].exc_info[1])
