"""Health and the published refund policy (公示: public by design, like the notice on the sales-office wall)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select, text

from api.deps import ClientDep, SessionDep, release_connection
from api.temporal_calls import run_async
from db.models import RefundPolicyVersion
from db.refund_cases import published_policy
from domain.refund import policy_to_body

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/health", summary="Database and Temporal reachability")
def health(session: SessionDep, client: ClientDep) -> dict:
    db_ok = session.execute(text("select 1")).scalar() == 1
    release_connection(session)  # no connection held while the engine answers

    async def temporal_ok() -> bool:
        try:
            return await client.service_client.check_health()
        except Exception:
            return False

    t_ok = run_async(temporal_ok)
    return {"status": "ok" if db_ok and t_ok else "degraded", "database": db_ok, "temporal": t_ok}


@router.get("/refund-policy", summary="The published refund policy in force")
def refund_policy(session: SessionDep) -> dict:
    policy = published_policy(session)
    row = session.scalar(select(RefundPolicyVersion).where(RefundPolicyVersion.version == policy.version))
    return {
        "version": policy.version,
        "approved_by": row.approved_by,
        "published_at": row.published_at.isoformat(),
        **policy_to_body(policy),
        "rules": [
            "订金/意向金 is refunded in full; 定金 follows the tiers (Civil Code art. 586 caps it at 20% of the price).",
            "Where neither side is at fault (e.g. a purchase-restriction policy change) the deposit is refunded in full.",
            "A developer fault, or a disbursed loan, goes to legal.",
            "A refund share above the tier needs the city-company general manager's approval.",
        ],
    }
