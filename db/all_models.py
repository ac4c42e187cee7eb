"""Imports every model module so that Base.metadata is complete (Alembic, the schema check)."""

from db import models  # noqa: F401

for _name in ("inventory_models", "customer_models", "contract_models", "followup_models", "evidence_models"):
    try:
        __import__(f"db.{_name}")
    except ModuleNotFoundError as err:  # a module not written yet
        if err.name != f"db.{_name}":
            raise
