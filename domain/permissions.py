"""What each role may do, by action (pure): the one list `/api/me` answers from, so the web app keeps no copy
of its own. The API's routes name the same roles in their `require_roles`; tests/unit/test_permissions.py
checks that the two agree."""

from __future__ import annotations

from collections.abc import Iterable

STAFF = ("frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops")

ACTIONS: dict[str, tuple[str, ...]] = {
    "intake": ("frontdesk", "sales", "manager", "citygm"),  # register a refund case (REGISTRARS)
    "cases": STAFF,
    "board": STAFF,
    "warnings": ("sales", "manager", "citygm", "hqrisk", "ops"),
    "stats": ("manager", "marketing", "finance", "citygm", "hqrisk", "ops", "sales"),
    "refunds": ("finance", "manager", "citygm", "hqrisk", "ops"),
    "qr": ("frontdesk", "manager"),
    "evidence": ("frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm"),
    "temporal": ("ops", "hqrisk", "manager"),
    "revise_loss": ("finance",),
    "reassign_tasks": ("manager",),
    "admin": ("admin", "ops"),
    "robots": ("manager", "ops", "admin"),  # a project's WeCom / DingTalk robots (api/routes/robots.py)
    # Legal holds on refund cases (api/routes/legal_holds.py): these see them; only legal sets and lifts one.
    "legal_holds": ("legal", "hqrisk", "ops"),
    # Refund-policy versions (api/routes/policies.py): these read them; legal and HQ risk write drafts; legal
    # approves (never its own draft) and publishes.
    "policies": ("legal", "hqrisk", "citygm", "manager", "finance", "marketing", "ops"),
    "author_policy": ("legal", "hqrisk"),
    # The sales office's daily workspace (issue 15).
    "reception": ("frontdesk", "sales", "manager"),  # walk-ins and the rotation on a phone
    "rotation": ("manager", "frontdesk"),  # set today's duty order, mark absent / back
    "partners": ("manager", "frontdesk", "sales", "marketing"),  # channel partners and their registrations (报备)
    "my_customers": ("sales", "manager", "frontdesk"),  # customers, needs, follow-ups and appointments
    "subscribe": ("sales", "manager"),  # a subscription from the board, with a discount request
    "discount_approvals": ("manager", "citygm", "hqrisk"),
    "finance_desk": ("finance", "manager", "citygm"),  # contracts, instalments, receipts, mortgages pipeline
    "calendar": ("ops", "admin"),  # the statutory holiday schedule of a new year
    # Insight (issue 16).
    "reports": ("manager", "citygm", "hqrisk", "ops", "marketing", "finance"),  # SLA, reasons, money, keywords
    "dashboard": ("manager", "citygm", "hqrisk", "ops"),  # the live dashboard
    "scripts": ("marketing", "legal", "manager", "frontdesk", "sales", "finance"),  # 话术 (written by marketing/legal)
    "knowledge": STAFF,  # search over archived cases
    # A project's retention pool (api/routes/retention_pool.py): these read it; finance, the city GM and HQ risk
    # set the marketing budget that funds it.
    "retention_pool": ("manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops"),
    "fund_retention_pool": ("finance", "citygm", "hqrisk"),
}


def actions_of(roles: Iterable[str]) -> list[str]:
    """The actions any of these roles may take, in ACTIONS order."""
    held = set(roles)
    return [a for a, allowed in ACTIONS.items() if held & set(allowed)]
