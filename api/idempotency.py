"""Idempotency-Key: a client's retry of the same request gets the first answer, not a second effect.

Same key + same person + same request (method, path, body) → the stored answer; same key with a different
request → 422. The key is scoped to the person, so two people's keys never collide. Only the answer and an
HMAC of the request are kept — never the body, which may hold an ID number or a mobile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.errors import Invalid
from db.idempotency_models import IdempotentResponse

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=128,
        pattern=r"^[!-~]+$",  # visible ASCII: a UUID or any opaque token the client made
        description="A key the client makes for one intended action; a retry with the same key and body "
        "gets the first answer instead of a second effect.",
    ),
]


def fingerprint(secret: str, *, method: str, path: str, body: BaseModel | None) -> str:
    payload = json.dumps(body.model_dump(mode="json") if body is not None else None, sort_keys=True, ensure_ascii=False)
    return hmac.new(secret.encode(), f"{method} {path}\n{payload}".encode(), hashlib.sha256).hexdigest()


def key_digest(user_id: int, key: str) -> str:
    """A short stable id for (person, key), safe to put in workflow update ids and logs."""
    return hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()[:32]


REF = "_ref"  # a stored answer that is a reference to the record it made, rebuilt on replay


def replay(
    session: Session, *, user_id: int, key: str, fp: str, rebuild: Callable[[dict], BaseModel] | None = None
) -> JSONResponse | None:
    """The stored answer for this person's key, or None; a key reused for another request is refused.
    A reference (see `claim`) is answered by `rebuild(ref)`: the record as it is now."""
    row = session.get(IdempotentResponse, (user_id, key))
    if row is None:
        return None
    if row.fingerprint != fp:
        raise Invalid(f"the {HEADER} {key!r} was already used for a different request; use a new key for a new action")
    body = row.body
    if isinstance(body, dict) and REF in body and rebuild is not None:
        body = rebuild(body[REF]).model_dump(mode="json")
    return JSONResponse(status_code=row.status_code, content=body, headers={REPLAYED_HEADER: "true"})


def claim(session: Session, *, user_id: int, key: str, fp: str, status_code: int, ref: dict) -> None:
    """Keep a reference to the record this request makes, in the request's own transaction: the key and
    the record commit together, so a crash between the commit and the answer cannot lose the key."""
    session.execute(
        pg_insert(IdempotentResponse)
        .values(user_id=user_id, key=key, fingerprint=fp, status_code=status_code, body={REF: ref})
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
    )


def remember(session: Session, *, user_id: int, key: str, fp: str, status_code: int, body: BaseModel) -> None:
    """Keep the answer (in its own short transaction); the first one stored wins."""
    session.execute(
        pg_insert(IdempotentResponse)
        .values(user_id=user_id, key=key, fingerprint=fp, status_code=status_code, body=body.model_dump(mode="json"))
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
    )
    session.commit()
