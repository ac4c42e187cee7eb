"""The FastAPI app: thin — validate, authorise, read PostgreSQL, start workflows and send them updates."""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import logging
import re
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api import errors, observability, temporal_calls
from api.deps import Gate
from api.routes import (
    admin,
    auth,
    commissions,
    contracts,
    customers,
    delegations,
    discounts,
    evidence,
    followups,
    inventory,
    knowledge,
    legal_holds,
    lookup,
    me,
    notifications,
    policies,
    price_lists,
    reception,
    refund_cases,
    refund_instructions,
    reports,
    retention_pool,
    robots,
    sales_policy,
    stats,
    subscriptions,
    system,
    tasks,
    work_calendar,
)
from api.static import PrecompressedStaticFiles
from api.strict import guard_params
from config.settings import PROJECT_ROOT, Settings, get_settings
from db.pii import PiiCipher
from db.session import make_engine, make_session_factory

API_DESCRIPTION = (
    "Every error response has one body, `ErrorBody`: `code` (a short stable machine code), `message` "
    "(readable), `errors` (the fields or file rows at fault) and `detail` (the same as `message`, kept for "
    "older clients). Sign in at `POST /api/auth/token` and send `Authorization: Bearer <token>`."
)

WEB_DIST = PROJECT_ROOT / "web" / "dist"
WEB_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# /docs: Swagger UI from the app's own assets (the PyPI package fastapi-offline ships them), never a CDN.
DOCS_ASSETS = "/docs/assets"
DOCS_ASSETS_DIR = importlib.resources.files("fastapi_offline") / "static"

log = logging.getLogger("estateflow.api")


def docs_page(openapi_url: str, title: str) -> tuple[bytes, str]:
    """The Swagger UI page (FastAPI's, with local assets) and its Content-Security-Policy: only this
    origin, plus the page's one inline script by its hash."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url, title=title,
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        # No online validator badge (it would load an image from validator.swagger.io).
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body)
    scripts = re.findall(rb"<script>(.*?)</script>", html, flags=re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in scripts)
    csp = (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return html, csp


def create_app(settings: Settings | None = None, *, temporal_client: Client | None = None,
               tracer_provider=None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (make run sets it for the embedded PostgreSQL)")
        observability.configure_logging("api", fmt=settings.log_format, level=settings.log_level)
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
        observability.instrument_engine(engine, app.state.tracer_provider)
        temporal_calls.configure(rpc_timeout_s=settings.temporal_rpc_timeout_s,
                                 call_timeout_s=settings.temporal_call_timeout_s)
        app.state.registration_gate = Gate(
            settings.registration_concurrency, settings.registration_wait_s,
            "too many refund registrations are in progress; try again in a few seconds",
        )
        app.state.settings = settings
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        # Readiness asks PostgreSQL on a connection of its own: under a burst every pooled connection and
        # route thread may be taken, and a health check queued behind them reads as "down" to a load balancer.
        app.state.health_engine = make_engine(settings.database_url, pool_size=1, max_overflow=1,
                                              pool_timeout=system.HEALTH_CHECK_S)
        app.state.health_sessions = make_session_factory(app.state.health_engine)
        app.state.cipher = PiiCipher(settings.data_key, settings.blind_index_key)
        app.state.temporal = temporal_client or await Client.connect(
            settings.temporal_target, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter,
            interceptors=observability.temporal_interceptors(app.state.tracer_provider),
        )
        yield
        engine.dispose()
        app.state.health_engine.dispose()

    app = FastAPI(title="EstateFlow", version="0.1.0", lifespan=lifespan, dependencies=[Depends(guard_params)],
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None, description=API_DESCRIPTION)

    errors.install(app, pool_timeout_s=settings.db_pool_timeout_s)
    # /metrics, request ids and the access line, and (OTEL_EXPORTER_OTLP_ENDPOINT set) FastAPI's spans.
    observability.install(app, settings, provider=tracer_provider)

    for module in (auth, me, system, refund_cases, tasks, subscriptions, inventory, customers, contracts, followups,
                   stats, lookup, evidence, refund_instructions, admin, delegations, notifications, robots,
                   policies, legal_holds, sales_policy, reception, discounts, price_lists, work_calendar,
                   commissions, reports, knowledge, retention_pool):
        app.include_router(module.router)
    app.include_router(delegations.people_router)
    app.include_router(notifications.settings_router)
    # The staff web app (web/, built by `make run` / `make test` into web/dist): static files calling this
    # same API, so it has no rules of its own.
    if (WEB_DIST / "index.html").exists():
        app.mount("/app", PrecompressedStaticFiles(directory=WEB_DIST, html=True), name="web")
    else:
        @app.get("/app/{rest:path}", include_in_schema=False)
        async def web_not_built(rest: str = "") -> PlainTextResponse:
            return PlainTextResponse("The web app is not built yet: `make run` builds it (cd web && npm ci && npm run build).",
                                     status_code=503)

    fastapi_openapi = app.openapi

    def openapi() -> dict:
        """FastAPI's document, with every operation's error statuses and the one error body (api/errors.py)."""
        if app.openapi_schema is None:
            app.openapi_schema = errors.document_errors(fastapi_openapi(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    docs_html, docs_csp = docs_page(app.openapi_url or "/openapi.json", f"{app.title} API")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html)

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(DOCS_ASSETS_DIR)), name="docs-assets")

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
            # The hashed bundles never change under their name; the page and the rest revalidate, so a deploy
            # is seen at the next load.
            immutable = request.url.path.startswith("/app/assets/") and response.status_code == 200
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        elif request.url.path == "/docs" or request.url.path.startswith("/docs/"):
            response.headers["Content-Security-Policy"] = docs_csp
            response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/app/")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:  # what a browser asks for before it reads the page's <link rel=icon>
        return RedirectResponse("/app/favicon.svg", status_code=301)

    return app


def __getattr__(name: str):
    # `uvicorn api.main:app` builds the app on first access, so importing this module reads no settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
