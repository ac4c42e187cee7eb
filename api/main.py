"""The FastAPI app: thin — validate, authorise, read PostgreSQL, start workflows and send them updates."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api import temporal_calls
from api.deps import Gate
from api.routes import (
    auth,
    contracts,
    customers,
    evidence,
    followups,
    inventory,
    lookup,
    refund_cases,
    refund_instructions,
    stats,
    subscriptions,
    system,
    tasks,
)
from api.strict import guard_params
from config.settings import PROJECT_ROOT, Settings, get_settings
from db.errors import ServiceError, from_db_error
from db.pii import PiiCipher
from db.session import make_engine, make_session_factory

WEB_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

log = logging.getLogger("estateflow.api")


def _readable(err: dict) -> str:
    if err.get("type") == "json_invalid":
        return _json_message(err)
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


def _json_message(err: dict) -> str:
    """Malformed JSON: where it broke, as a character position (not a field name)."""
    at = next((p for p in err.get("loc", ())[1:] if isinstance(p, int)), None)
    reason = (err.get("ctx") or {}).get("error") or "JSON decode error"
    where = f" at character {at}" if at is not None else ""
    return f"the request body is not valid JSON{where}: {reason}"


def _error_item(err: dict) -> dict:
    if err.get("type") == "json_invalid":
        return {"field": "body", "message": _json_message(err)}
    return {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg")}


def create_app(settings: Settings | None = None, *, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (make run sets it for the embedded PostgreSQL)")
        # Threads and connections, sized together (docs/decisions.md, "Bounded waits"): a sync route runs
        # on one of api_threads tokens and holds at most one connection, and no request holds a
        # connection between two thread hops, so with pool_size + max_overflow >= api_threads a route
        # never waits for a connection; pool_timeout is the fail-fast guard should that ever not hold.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        if settings.db_pool_size + settings.db_max_overflow < settings.api_threads:
            log.warning("DB_POOL_SIZE + DB_MAX_OVERFLOW (%d) < API_THREADS (%d): routes may wait for a connection "
                        "(at most DB_POOL_TIMEOUT_S, then 503)", settings.db_pool_size + settings.db_max_overflow,
                        settings.api_threads)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_s, lock_timeout_ms=settings.db_lock_timeout_ms,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            idle_in_transaction_timeout_ms=settings.db_idle_in_transaction_timeout_ms,
        )
        temporal_calls.configure(rpc_timeout_s=settings.temporal_rpc_timeout_s,
                                 call_timeout_s=settings.temporal_call_timeout_s)
        app.state.registration_gate = Gate(
            settings.registration_concurrency, settings.registration_wait_s,
            "too many refund registrations are in progress; try again in a few seconds",
        )
        app.state.settings = settings
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        app.state.cipher = PiiCipher(settings.data_key, settings.blind_index_key)
        app.state.temporal = temporal_client or await Client.connect(
            settings.temporal_target, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
        yield
        engine.dispose()

    app = FastAPI(title="EstateFlow", version="0.1.0", lifespan=lifespan, dependencies=[Depends(guard_params)])

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message}, headers=headers)

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        # A row lock not granted within lock_timeout: 409 try again; the pool, statement_timeout, a lost
        # connection: 503 with Retry-After. Anything else is a bug and stays a 500.
        err = from_db_error(exc, pool_timeout_s=settings.db_pool_timeout_s)
        if err is None:
            raise exc
        if err.status_code >= 500:
            log.warning("%s %s: %s (%s)", request.method, request.url.path, err.message, exc.__class__.__name__)
        return await service_error(request, err)

    for db_exc in (sa_exc.TimeoutError, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DataError):
        app.add_exception_handler(db_exc, database_error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return JSONResponse(
            status_code=422,
            content={"detail": "; ".join(_readable(e) for e in errors), "errors": [_error_item(e) for e in errors]},
        )

    for module in (auth, system, refund_cases, tasks, subscriptions, inventory, customers, contracts, followups, stats,
                   lookup, evidence, refund_instructions):
        app.include_router(module.router)
    # The staff web app: static files calling this same API, so it has no rules of its own.
    app.mount("/app", StaticFiles(directory=PROJECT_ROOT / "web", html=True), name="web")

    @app.middleware("http")
    async def web_headers(request: Request, call_next):
        response = await call_next(request)
        # Every response: the declared type is the type (no sniffing), and no page of ours in a frame.
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if request.url.path.startswith("/app"):
            # Only the app's own scripts and styles run; the QR image is a blob, charts are inline SVG.
            response.headers["Content-Security-Policy"] = WEB_CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["Cache-Control"] = "no-cache"  # revalidate: a deploy is seen at the next load
        return response

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/app/")

    return app


def __getattr__(name: str):
    # `uvicorn api.main:app` builds the app on first access, so importing this module reads no settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
