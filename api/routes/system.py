"""Health and the published refund policy (公示: public by design, like the notice on the sales-office wall)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import ClientDep, SessionDep
from api.errors import ErrorBody, error_response
from api.routes.policies import VERSION, public_page

router = APIRouter(prefix="/api", tags=["system"])


HEALTH_CHECK_S = 3.0  # each dependency answers within this, or counts as down


class LiveOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ok"]
    database: bool
    temporal: bool


class NotReadyOut(ErrorBody):
    """The error body, with which dependency is down."""

    status: Literal["unavailable"]
    database: bool
    temporal: bool


_NOT_READY = {503: {"model": NotReadyOut, "description": "PostgreSQL or Temporal is down (`unavailable`; the "
                                                          "message names which); try again after `Retry-After`"}}


@router.get("/health/live", response_model=LiveOut, summary="Liveness: the API process answers (no dependency is asked)")
async def live() -> LiveOut:
    return LiveOut(status="ok")


@router.get(
    "/health/ready", response_model=ReadyOut,
    summary="Readiness: PostgreSQL and Temporal answer; 503 with Retry-After and the missing dependency otherwise",
    responses=_NOT_READY,
)
async def ready(request: Request, client: ClientDep) -> JSONResponse:
    return await _readiness(request, client)


@router.get("/health", response_model=ReadyOut, summary="Same as /api/health/ready (kept for existing monitors)",
            responses=_NOT_READY)
async def health(request: Request, client: ClientDep) -> JSONResponse:
    return await _readiness(request, client)


# Readiness never queues behind the routes: it runs on the event loop, asks PostgreSQL from a thread of its own
# on a connection of its own (app.state.health_engine), and Temporal with an awaited health check.
_HEALTH_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


async def _readiness(request: Request, client) -> JSONResponse:
    state = request.app.state
    sessions = getattr(state, "health_sessions", None) or state.session_factory
    db_check = asyncio.get_running_loop().run_in_executor(_HEALTH_THREADS, _database_answers, sessions)
    try:
        t_ok = await asyncio.wait_for(client.service_client.check_health(timeout=timedelta(seconds=HEALTH_CHECK_S)),
                                      HEALTH_CHECK_S + 1)
    except Exception:  # refused, timed out, unavailable: down, as far as a caller can tell
        t_ok = False
    db_ok = await db_check
    down = [name for name, ok in (("PostgreSQL", db_ok), ("Temporal", t_ok)) if not ok]
    if not down:
        return JSONResponse({"status": "ok", "database": db_ok, "temporal": t_ok})
    message = f"{' and '.join(down)} {'is' if len(down) == 1 else 'are'} not reachable; try again shortly"
    return error_response(503, "unavailable", message, headers={"Retry-After": "5"},
                          status="unavailable", database=db_ok, temporal=t_ok)


def _database_answers(session_factory) -> bool:
    try:
        with session_factory() as session:
            session.execute(text(f"SET LOCAL statement_timeout = {int(HEALTH_CHECK_S * 1000)}"))
            return session.execute(text("select 1")).scalar() == 1
    except Exception:  # refused, timed out, pool exhausted: down, as far as a caller can tell
        return False


class PolicyTierOut(BaseModel):
    stage: str
    min_share: Decimal
    max_share: Decimal
    note: str


class RefundPolicyOut(BaseModel):
    """Minutes, the escalation threshold (CNY) and the tiers' shares (0–1, as decimal strings), and the rules
    written from these figures in English and Chinese."""

    version: str
    approved_by: str
    published_at: datetime
    effective_from: datetime
    scope: str = Field(description="group / city / project: whom this version covers")
    scope_name: str
    state: str = Field(description="in_force, or scheduled / superseded when a version was named")
    intake_minutes: int
    assessment_minutes: int
    solution_minutes: int
    archive_minutes: int
    escalation_loss_threshold: Decimal
    min_options: int
    record_retention_days: int
    choice_minutes: int
    contract_cancellation_minutes: int
    refund_payment_minutes: int
    choice_working_days: int | None
    contract_cancellation_working_days: int | None
    refund_payment_working_days: int | None
    rework_minutes: int
    escalation_response_minutes: int
    review_meeting_minutes: int
    max_offer_rounds: int
    retention_pool_share: Decimal
    reminder_points: list[int] = Field(description="per cent of each clock at which its holder is reminded, then "
                                                   "the breach (100)")
    tiers: list[PolicyTierOut]
    rules: list[str]
    rules_zh: list[str] = Field(description="the same rules in Chinese, for the 公示 page in Chinese")


@router.get("/refund-policy", response_model=RefundPolicyOut,
            summary="The published refund policy (公示): in force for a project (default: the group's), or a named "
                    "published version",
            responses={404: {"description": "No such project or published version (`not_found`)."},
                       409: {"description": "No refund policy has been published yet (`conflict`)."}})
def refund_policy(session: SessionDep, project_id: Annotated[int | None, Query(ge=1)] = None,
                  version: Annotated[str | None, Query(pattern=VERSION)] = None) -> dict:
    return public_page(session, project_id=project_id, version=version)
