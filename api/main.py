"""The FastAPI app: thin — validate, authorise, read PostgreSQL, start workflows and send them updates."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

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
from config.settings import PROJECT_ROOT, Settings, get_settings
from db.errors import ServiceError
from db.pii import PiiCipher
from db.session import make_engine, make_session_factory

WEB_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _readable(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


def create_app(settings: Settings | None = None, *, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (make run sets it for the embedded PostgreSQL)")
        engine = make_engine(settings.database_url, pool_size=20)
        app.state.settings = settings
        app.state.session_factory = make_session_factory(engine)
        app.state.cipher = PiiCipher(settings.data_key, settings.blind_index_key)
        app.state.temporal = temporal_client or await Client.connect(
            settings.temporal_target, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
        yield
        engine.dispose()

    app = FastAPI(title="EstateFlow", version="0.1.0", lifespan=lifespan)

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return JSONResponse(
            status_code=422,
            content={"detail": "; ".join(_readable(e) for e in errors), "errors": [
                {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")} for e in errors
            ]},
        )

    for module in (auth, system, refund_cases, tasks, subscriptions, inventory, customers, contracts, followups, stats,
                   lookup, evidence, refund_instructions):
        app.include_router(module.router)
    # The staff web app: static files calling this same API, so it has no rules of its own.
    app.mount("/app", StaticFiles(directory=PROJECT_ROOT / "web", html=True), name="web")

    @app.middleware("http")
    async def web_headers(request: Request, call_next):
        response = await call_next(request)
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
