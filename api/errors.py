"""One error body for every error response, the handlers that produce it, and its place in the OpenAPI
document.

Every 4xx and 5xx the API sends is an `ErrorBody`:

    {"code": "not_found", "message": "unit 7 does not exist", "errors": [], "detail": "unit 7 does not exist",
     "key": "record.not_found", "params": {"record": "unit", "id": 7}, "message_zh": "房源 7 不存在，或您无权查看"}

- `code`: the category, a short stable machine code (`validation_error`, `invalid`, `unauthorized`,
  `forbidden`, `not_found`, `method_not_allowed`, `conflict`, `too_large`, `unavailable`, `internal_error`, …);
- `message`: what went wrong, in English words a person can act on;
- `errors`: one item per field (or per file row) at fault, else empty;
- `detail`: the same as `message`, kept for older clients (many tests read it);
- `key`: the refusal's stable dotted code in domain/messages.py (`unit.transition_not_allowed`), or the
  category `code` when it has none; `params`: that code's parameters (empty for a category); `message_zh`:
  the message in Chinese. A client shows the words of `key` and `params` in its reader's language.

Where the key comes from: the ServiceError's own `key` (its message rendered from the catalogue); else the
English message recognised as an entry's template (a raise site that has no key yet, require_roles' 403, a
workflow's refusal); else the category, with its Chinese words and the English beside.

Sources: ServiceError (db/errors.py, with Retry-After when set), request validation (FastAPI's and
api/strict.py's), database errors (db/errors.from_db_error), Starlette/FastAPI HTTPException (401 with
WWW-Authenticate, 403 from require_roles, 404/405 for unknown routes and methods) and, for anything
else, `CatchAll`: logged with a reference, answered 500 `internal_error` without any detail.

`document_errors` adds to each operation of the OpenAPI document the error statuses it can answer,
from what the route depends on (token, roles, session, engine, path parameters, uploads); a route that
answers another status says so in its own `responses=`.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request, routing
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.params import File
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.errors import ServiceError, from_db_error
from domain.messages import CATALOGUE, generic_zh, recognise, render, validation_zh

log = logging.getLogger("estateflow.api")


# ---------------------------------------------------------------- the body ----------


class ErrorItem(BaseModel):
    """One field (or one row of an imported file) at fault."""

    field: str = Field(description="where: `body.unit_id`, `query.q`, `path.task_id`, `body` (malformed JSON), "
                                   "or a column of an imported file")
    code: str = Field(description="what kind of fault: pydantic's error type (`missing`, `int_parsing`, "
                                  "`value_error`, `json_invalid`, …) or `invalid_row` for a file row")
    message: str = Field(description="what is wrong with it, readable")
    line: int | None = Field(default=None, description="file imports only: the row's line (the header is line 1)")


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str = Field(description="the category, a short stable machine code, e.g. `validation_error`, `invalid`, "
                                  "`unauthorized`, `forbidden`, `not_found`, `conflict`, `too_large`, `unavailable`, "
                                  "`internal_error`")
    message: str = Field(description="what went wrong, in English words a person can act on")
    errors: list[ErrorItem] = Field(description="the fields (or file rows) at fault; empty when none is")
    detail: str = Field(description="same as message, kept for older clients")
    key: str = Field(description="the refusal's stable dotted code, e.g. `unit.transition_not_allowed`, "
                                 "`task.already_claimed`, `auth.role_forbidden`; the category `code` when it has "
                                 "none. A client shows the words of `key` and `params` in its reader's language")
    params: dict[str, Any] = Field(description="the parameters of `key`, e.g. `{\"from\": \"locked\", \"action\": "
                                               "\"lock\", \"allowed\": [\"available\"]}`; empty for a category")
    message_zh: str = Field(description="the message in Chinese")


CODE_BY_STATUS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid",
    429: "too_many_requests", 500: "internal_error", 503: "unavailable",
}


def describe(code: str, message: str, key: str | None = None,
             params: dict[str, Any] | None = None) -> tuple[str, dict[str, Any], str]:
    """(key, params, message_zh) of an error: its own key; else the key its English message is the template
    of; else the category, in Chinese with the English beside."""
    if key is None and (found := recognise(message)) is not None:
        key, params = found
    if key is not None and key in CATALOGUE:
        try:
            return key, dict(params or {}), render(key, params, "zh")
        except ValueError:  # parameters that are not the key's (a newer sender): the category instead
            pass
    return code, {}, generic_zh(code, message)


def error_content(code: str, message: str, errors: Iterable[dict[str, Any]] = (), /, *, key: str | None = None,
                  params: dict[str, Any] | None = None, message_zh: str | None = None, **extra: Any) -> dict[str, Any]:
    errors = list(errors)
    key, params, zh = describe(code, message, key, params)
    body = ErrorBody(code=code, message=message, errors=[ErrorItem(**e) for e in errors], detail=message,
                     key=key, params=params, message_zh=message_zh or zh)
    return {**body.model_dump(mode="json", exclude_none=True), **extra}


def error_response(status_code: int, code: str, message: str, /, *, errors: Iterable[dict[str, Any]] = (),
                   headers: dict[str, str] | None = None, key: str | None = None, params: dict[str, Any] | None = None,
                   message_zh: str | None = None, **extra: Any) -> JSONResponse:
    """An ErrorBody response; `key`/`params` its code in domain/messages.py (else recognised from `message`, else
    the category); `extra` adds fields for a body that extends it (readiness: status, database, …)."""
    content = error_content(code, message, errors, key=key, params=params, message_zh=message_zh, **extra)
    return JSONResponse(status_code=status_code, content=content, headers=headers)


# ---------------------------------------------------------------- request validation ----------


def _json_message(err: dict) -> str:
    """Malformed JSON: where it broke, as a character position (not a field name)."""
    at = next((p for p in err.get("loc", ())[1:] if isinstance(p, int)), None)
    reason = (err.get("ctx") or {}).get("error") or "JSON decode error"
    where = f" at character {at}" if at is not None else ""
    return f"the request body is not valid JSON{where}: {reason}"


def _readable(err: dict) -> str:
    if err.get("type") == "json_invalid":
        return _json_message(err)
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


def _error_item(err: dict) -> dict[str, Any]:
    code = str(err.get("type") or "invalid")
    if code == "json_invalid":
        return {"field": "body", "code": code, "message": _json_message(err)}
    return {"field": ".".join(str(p) for p in err.get("loc", ())), "code": code, "message": str(err.get("msg"))}


# ---------------------------------------------------------------- handlers ----------


async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(exc.status_code, exc.code, exc.message, errors=exc.errors, headers=headers or None,
                          key=exc.key, params=exc.params)


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    items = [_error_item(e) for e in errors]
    return error_response(422, "validation_error", "; ".join(_readable(e) for e in errors), errors=items,
                          key="validation_error", params={}, message_zh=validation_zh(items))


async def http_exception(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's and FastAPI's HTTPException: unknown routes (404) and methods (405, with Allow), the
    missing or expired token (401, with WWW-Authenticate), require_roles (403). Headers are kept."""
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    code = CODE_BY_STATUS.get(exc.status_code, "error")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


def install(app: FastAPI, *, pool_timeout_s: float | None) -> None:
    """Every error handler, and the catch-all for the rest."""

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        # A row lock not granted within lock_timeout: 409 try again; the pool, statement_timeout, a lost
        # connection: 503 with Retry-After; a value PostgreSQL refuses: 422. Anything else is a bug: CatchAll.
        err = from_db_error(exc, pool_timeout_s=pool_timeout_s)
        if err is None:
            raise exc
        if err.status_code >= 500:
            log.warning("%s %s: %s (%s)", request.method, request.url.path, err.message, exc.__class__.__name__)
        return await service_error(request, err)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_exception)
    for db_exc in (sa_exc.TimeoutError, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DataError):
        app.add_exception_handler(db_exc, database_error)
    app.add_middleware(CatchAll)


INTERNAL_MESSAGE = CATALOGUE["service.internal_error"].en  # "… (reference {ref}) …"


class CatchAll:
    """Any exception no handler took: logged (with the traceback and a reference), answered with a 500
    `internal_error` body that names the reference and nothing else — no exception text, no stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            ref = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", ref, scope.get("method"), scope.get("path"))
            if started:  # part of a response is out: nothing sane can follow; the server closes the connection
                raise
            response = error_response(500, "internal_error", render("service.internal_error", {"ref": ref}),
                                      key="service.internal_error", params={"ref": ref})
            await response(scope, receive, send)


# ---------------------------------------------------------------- the OpenAPI document ----------

_ERROR_REF = "#/components/schemas/ErrorBody"
_RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer", "minimum": 0}}

# What each status means wherever it is documented; a route's own `responses=` description wins.
DESCRIPTIONS = {
    400: "The request body could not be read at all: JSON that is not UTF-8, malformed multipart or form data "
         "(`bad_request`).",
    401: "Not signed in, or the token has expired (`unauthorized`, key `auth.not_signed_in`; "
         "`WWW-Authenticate: Bearer`).",
    403: "The caller's role may not do this, or they must change their password first (`forbidden`; `key` says "
         "which: `auth.role_forbidden` with `params.role` and `params.allowed`, `auth.must_change_password`, …).",
    404: "A record the request names does not exist, or is not visible to the caller (`not_found`; key "
         "`record.not_found` with `params.record` and `params.id`).",
    409: "The record's state does not allow this, someone else changed it first, or it was busy "
         "(`conflict`; `key` says which, e.g. `unit.transition_not_allowed`, `task.already_claimed`, `record.busy` "
         "with `Retry-After`).",
    413: "The upload is above its size limit (`too_large`; the message names the limit).",
    422: "The request is malformed (`validation_error`: `errors` names each field) or its values break a rule "
         "(`invalid`; `key` says which).",
    500: "An unexpected error (`internal_error`): logged on the server under the reference in the message.",
    503: "A dependency (PostgreSQL, the connection pool, the workflow engine) did not answer within its bound "
         "(`unavailable`); try again after `Retry-After` seconds.",
}
CHANGES_STATE = {"POST", "PUT", "PATCH", "DELETE"}


def reads_only(endpoint):
    """Mark a POST route that changes nothing (a sign-in, a look-up with the query in the body): no 409."""
    endpoint.__reads_only__ = True
    return endpoint


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _is_upload(route: Any) -> bool:
    def files(dependant: Dependant) -> Iterator[bool]:
        for p in dependant.body_params:
            yield isinstance(p.field_info, File)
        for dep in dependant.dependencies:
            yield from files(dep)

    return any(files(route.dependant))


def error_statuses(route: Any) -> set[int]:
    """The error statuses a route (an APIRoute, or FastAPI's RouteContext of an included one) can answer,
    from what it depends on and what it declares."""
    from api.deps import get_client, get_current_user, get_session  # the dependencies, read (not changed)

    calls = list(_calls(route.dependant))
    token = any(isinstance(c, SecurityBase) for c in calls) or get_current_user in calls
    statuses = {422, 500}  # 422: api.strict.guard_params checks every route's query, even undeclared names
    if route.body_field is not None:
        statuses.add(400)
    if token:
        statuses.add(401)
    # require_roles refuses a role; get_current_user refuses everything but the change itself to a person who
    # must change their password first.
    if get_current_user in calls or any(getattr(c, "__qualname__", "").startswith("require_roles.") for c in calls):
        statuses.add(403)
    if route.dependant.path_params:
        statuses.add(404)
    if route.methods & CHANGES_STATE and not getattr(route.endpoint, "__reads_only__", False):
        statuses.add(409)
    if _is_upload(route):
        statuses.add(413)
    if get_session in calls or get_client in calls or get_current_user in calls:
        statuses.add(503)
    statuses |= {int(s) for s in route.responses if str(s).isdigit() and int(s) >= 400}
    return statuses


def document_errors(openapi: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """Add the error responses, with the ErrorBody schema, to every operation; replace FastAPI's
    HTTPValidationError (the 422 it documents is not what this API answers)."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    body_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    components.update(body_schema.pop("$defs", {}))
    components["ErrorBody"] = body_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for route in routing.iter_route_contexts(list(routes)):  # as get_openapi walks them (included routers too)
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        statuses = error_statuses(route)
        for method in route.methods:
            operation = openapi["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                doc = responses.setdefault(str(status), {})
                declared = route.responses.get(status) or route.responses.get(str(status)) or {}
                if not declared.get("description"):
                    doc["description"] = DESCRIPTIONS.get(status, doc.get("description") or "Error")
                if "model" not in declared:  # a route-declared model (an ErrorBody extension) stays
                    doc["content"] = {"application/json": {"schema": {"$ref": _ERROR_REF}}}
                headers = doc.setdefault("headers", {})
                if status == 401:
                    headers.setdefault("WWW-Authenticate", {
                        "description": "`Bearer` when the token is missing, malformed or expired", "schema": {"type": "string"}})
                if status == 409:
                    headers.setdefault("Retry-After", copy.deepcopy(_RETRY_AFTER))
                if status == 503:
                    headers.setdefault("Retry-After", {**copy.deepcopy(_RETRY_AFTER), "required": True})
                if not headers:
                    doc.pop("headers")
            operation["responses"] = dict(sorted(responses.items()))
    return openapi
