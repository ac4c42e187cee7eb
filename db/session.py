"""One engine per process; the request or the activity owns the transaction."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    # pool_recycle instead of pre-ping: a ping per checkout costs a round trip on every request.
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=1800, future=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Every mapper must be known before the first flush: units.phase_id points at phases, and a process
    # (the worker) that imported only db.models failed the archive step with NoReferencedTableError.
    import db.all_models  # noqa: F401

    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
