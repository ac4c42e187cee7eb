"""One engine per process; the request or the activity owns the transaction."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    # pool_recycle instead of pre-ping: a ping per checkout costs a round trip on every request.
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=1800, future=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
