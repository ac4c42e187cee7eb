"""The migrations build exactly the schema the models describe (hand-written migrations included)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import db.all_models  # noqa: F401
from db.models import Base


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_end_in_a_single_head():
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_heads()
    assert len(heads) == 1, f"merge the migration heads: {heads}"


def test_one_active_subscription_per_unit_is_a_partial_unique_index(engine):
    with engine.connect() as conn:
        idx = {i["name"]: i for i in sa.inspect(conn).get_indexes("subscriptions")}
    assert idx["uq_subscription_active_unit"]["unique"]
