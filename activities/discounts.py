"""The discount approval's activity (workflows/discount_approval.py): each step in one transaction,
idempotent on (request, step)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.discounts import apply_step
from db.errors import NotFound
from workflows.discount_approval import DiscountStepRecord, DiscountStepResult


class DiscountActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name="apply_discount_step")
    def apply_discount_step(self, rec: DiscountStepRecord) -> DiscountStepResult:
        try:
            with self._sessions.begin() as s:
                return apply_step(s, rec)
        except NotFound as err:
            # The request's row is written in the API's transaction, which commits just after the start:
            # retried until it is there (the workflow's retry policy).
            raise ApplicationError(str(err), type="NotFound") from None
