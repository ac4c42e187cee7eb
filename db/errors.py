"""Service errors carry their HTTP status and a short machine code; one handler in api/ turns them into
the error body (api/errors.py: `{"code", "message", "errors", "detail", "key", "params", "message_zh"}`).

`key`, when given, is the refusal's stable code in the catalogue (domain/messages.py) and `params` its
parameters (JSON-safe); the English `message` is then rendered from the catalogue, and the Chinese is
`message_zh`. A call site that passes only a message still works: the body's `key` is then recognised from
the message, or is the category `code`.

`retry_after` (seconds), when set, becomes a Retry-After header: the request was fine, something it
waited for (a row lock, a pooled connection, the workflow engine) was not free within its bound.
`errors`, when set, are the body's per-field (or per-row) errors: dicts with field, code, message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.messages import json_safe, render


class ServiceError(Exception):
    status_code = 400
    code = "bad_request"  # the error body's `code`: short, stable, for machines (the category)
    retry_after: int | None = None
    errors: tuple[dict, ...] = ()
    headers: dict[str, str] | None = None  # more headers of the answer (Retry-After comes from retry_after)

    def __init__(self, message: str | None = None, *, key: str | None = None,
                 params: Mapping[str, Any] | None = None, retry_after: int | None = None) -> None:
        """`message` (English), or `key` (a code of domain/messages.py) and its `params`, not both: the
        message of a key is its English template filled in. An unknown key or the wrong parameters are a
        MessageError (a programming mistake the tests catch)."""
        if key is not None:
            if message is not None:
                raise TypeError("give a message or a key, not both: the key's message is the catalogue's")
            params = {k: json_safe(v) for k, v in (params or {}).items()}
            message = render(key, params)
        elif message is None:
            raise TypeError("a ServiceError needs a message or a key")
        elif params:
            raise TypeError("params belong to a key")
        super().__init__(message)
        self.message = message
        self.key = key
        self.params: dict[str, Any] = dict(params or {})
        if retry_after is not None:
            self.retry_after = retry_after

    def message_in(self, lang: str) -> str | None:
        """The message in `lang` ("en", "zh"), when the error has a key; None otherwise."""
        return render(self.key, self.params, lang) if self.key else None


class Unauthorized(ServiceError):
    """401: not signed in, a wrong password, a session that ended."""

    status_code = 401
    code = "unauthorized"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Invalid(ServiceError):
    status_code = 422
    code = "invalid"


class TooLarge(ServiceError):
    """413: an upload above its size limit (the message names the limit)."""

    status_code = 413
    code = "too_large"


class ServiceUnavailable(ServiceError):
    """503: a dependency (database, pool, workflow engine) did not answer within its bound; try again."""

    status_code = 503
    code = "unavailable"
    retry_after = 5


# SQLSTATEs a person can simply retry: the row was being changed by someone else.
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout (or NOWAIT) fired
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
QUERY_CANCELED = "57014"  # statement_timeout fired
IDLE_IN_TRANSACTION_TIMEOUT = "25P03"

BUSY_RECORD = render("record.busy")  # "another request is changing the same record right now; try again in a moment"


def pgcode(err: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a SQLAlchemy DBAPIError (or a bare psycopg2 error), if any."""
    orig = getattr(err, "orig", err)
    return getattr(orig, "pgcode", None)


def is_lock_timeout(err: BaseException) -> bool:
    return pgcode(err) in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED, SERIALIZATION_FAILURE)


def from_db_error(err: BaseException, *, pool_timeout_s: float | None = None) -> ServiceError | None:
    """A database failure as the answer a person can act on, or None (a bug: let it be a 500).

    - a row lock not granted within lock_timeout, a deadlock, a serialization failure: 409, try again;
    - no pooled connection within pool_timeout: 503 with Retry-After;
    - statement_timeout, a connection PostgreSQL ended (idle-in-transaction timeout, restart), the server
      unreachable: 503 with Retry-After.
    """
    from sqlalchemy import exc as sa_exc

    if isinstance(err, sa_exc.TimeoutError):  # QueuePool limit ... connection timed out
        if pool_timeout_s:
            return ServiceUnavailable(key="service.db_pool_busy", params={"seconds": f"{pool_timeout_s:g}"},
                                      retry_after=2)
        return ServiceUnavailable(key="service.db_pool_busy_now", retry_after=2)
    if not isinstance(err, sa_exc.DBAPIError):
        return None
    if isinstance(err, sa_exc.DataError):  # a value PostgreSQL refuses (out of range, malformed): the input's fault
        return Invalid(key="request.value_out_of_range")
    code = pgcode(err)
    if is_lock_timeout(err):
        return Conflict(key="record.busy", retry_after=1)
    if code == QUERY_CANCELED:
        return ServiceUnavailable(key="service.db_slow", retry_after=5)
    if isinstance(err, (sa_exc.OperationalError, sa_exc.InterfaceError)) or err.connection_invalidated:
        return ServiceUnavailable(key="service.db_unreachable", retry_after=5)
    return None
