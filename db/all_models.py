"""Imports every model module so that Base.metadata is complete (Alembic, the schema check, and every
process that opens a session: a flush resolves foreign keys across all of them)."""

from db import (  # noqa: F401
    auth_models,
    commission_models,
    contract_models,
    customer_models,
    discount_models,
    evidence_models,
    followup_models,
    idempotency_models,
    inventory_models,
    knowledge_models,
    models,
    notice_models,
    org_models,
    reception_models,
    retention_models,
    sales_policy_models,
    signin_models,
)
