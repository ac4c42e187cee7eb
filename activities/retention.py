"""The records-retention sweep's activity: one batch of due refund cases anonymised, in one transaction
(db/retention.py). Idempotent: a retried or concurrent call finds only what nobody else has done or holds."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from db.pii import PiiCipher
from db.retention import anonymise_due
from workflows.retention_sweep import RetentionBatch, RetentionBatchResult


class RetentionActivities:
    def __init__(self, session_factory: sessionmaker[Session], *, cipher: PiiCipher | None = None,
                 data_dir: Path | None = None) -> None:
        if cipher is None or data_dir is None:
            from config.settings import get_settings

            settings = get_settings()
            cipher = cipher or PiiCipher(settings.data_key, settings.blind_index_key)
            data_dir = data_dir or settings.data_dir
        self._sessions, self._cipher, self._data_dir = session_factory, cipher, Path(data_dir)

    @activity.defn(name="anonymise_due_cases")
    def anonymise_due_cases(self, batch: RetentionBatch) -> RetentionBatchResult:
        # The worker's own clock, not the workflow's: a run's time can be skipped ahead (tests) or replayed, and
        # nothing may be removed before its retain_until.
        now = datetime.now(timezone.utc)
        with self._sessions.begin() as s:
            r = anonymise_due(s, now=now, cipher=self._cipher, data_dir=self._data_dir, limit=batch.limit)
        if r.cases or r.held:
            activity.logger.info("retention sweep: %d cases anonymised, %d held, %d customers erased, %d files removed",
                                 len(r.cases), r.held, r.customers_erased, r.files_removed)
        return RetentionBatchResult(cases=len(r.cases), held=r.held, customers_erased=r.customers_erased,
                                    evidence_files=r.files_removed)
