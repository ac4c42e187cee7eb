"""Shared fixtures: a real embedded PostgreSQL (fresh database per run) and small factories."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from db.scratch import scratch_database
from db.session import make_engine, make_session_factory
from tests.factories import Factory


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A fresh migrated database for the run: on TEST_DATABASE_URL's server, else a throwaway embedded
    cluster — tests never touch the demo data."""
    with scratch_database("estateflow-test", admin_url=os.environ.get("TEST_DATABASE_URL")) as url:
        yield url


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


def pytest_collection_modifyitems(config, items):
    """The browser tests run last: they start the whole system and are the slowest, so a broken rule
    shows up first in the faster tests."""
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid.replace("\\", "/"))
