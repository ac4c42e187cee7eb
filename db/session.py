"""One engine per process; the request or the activity owns the transaction.

Every connection an engine opens carries lock_timeout, statement_timeout and
idle_in_transaction_session_timeout (libpq `options`, so they cost no round trip and hold for every
transaction): no statement waits for a row lock, or runs, without bound, and a session left idle inside
a transaction is ended by PostgreSQL itself. The pool waits at most pool_timeout for a free connection,
then raises sqlalchemy.exc.TimeoutError (the API answers 503 with Retry-After)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

# The defaults of config.settings.Settings (db_*): the worker, the scripts and the tests get them too.
LOCK_TIMEOUT_MS = 3000
STATEMENT_TIMEOUT_MS = 15000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60000
POOL_TIMEOUT_S = 5.0


def timeout_options(*, lock_timeout_ms: int, statement_timeout_ms: int, idle_in_transaction_timeout_ms: int) -> str:
    """The libpq `options` string that sets the three timeouts for the session (0 = no limit)."""
    return (
        f"-c lock_timeout={int(lock_timeout_ms)} -c statement_timeout={int(statement_timeout_ms)} "
        f"-c idle_in_transaction_session_timeout={int(idle_in_transaction_timeout_ms)}"
    )


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = POOL_TIMEOUT_S,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    idle_in_transaction_timeout_ms: int = IDLE_IN_TRANSACTION_TIMEOUT_MS,
) -> Engine:
    from sqlalchemy.engine import make_url

    options = timeout_options(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms,
                              idle_in_transaction_timeout_ms=idle_in_transaction_timeout_ms)
    given = make_url(url).query.get("options")  # a DATABASE_URL's own ?options=... is kept, ours appended
    if given:
        options = f"{given if isinstance(given, str) else ' '.join(given)} {options}"
    # pool_recycle instead of pre-ping: a ping per checkout costs a round trip on every request.
    return create_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout, pool_recycle=1800,
        # A server that does not answer at all (a host down, not a refused port) fails a connect in 5 s.
        connect_args={"options": options, "connect_timeout": 5},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Every mapper must be known before the first flush: units.phase_id points at phases, and a process
    # (the worker) that imported only db.models failed the archive step with NoReferencedTableError.
    import db.all_models  # noqa: F401

    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
