"""Records retention (PIPL): legal holds, and the anonymisation of refund cases past `retain_until`.

A closed case is kept until `retain_until` (closed_at + the policy's record_retention_days, two years by
default). After that, unless legal holds it, the daily sweep (workflows/retention_sweep.py, or
`python -m scripts.anonymise`) removes the personal data the case holds and keeps what statistics need:

removed                                                   kept
- intake form: the buyer's own words (reason_text) and     the reason codes, willingness, the identity checks'
  the recording reference                                  results, who took it and when
- free text in the case's events, assessments, options     kinds, actors, times, amounts, stages, codes, paths
  and outcome (notes, reasons, summaries, minutes, file    (events of legal holds and of the anonymisation itself
  names, bank references, …)                               are kept whole: they are the record of retention)
- evidence files: the bytes on disk; the row stays as a    type, size, who uploaded it and when
  tombstone (no file name, no hash, no note)
- the refund instruction's bank reference and the reason   amounts, dates, status, who paid and approved
  for a different amount
- notices and reminders of the case: the (masked) customer kind, times, links; the words re-rendered without it
  name and any free text among their facts
- the knowledge-base entry's text and the brief's summary  title, tags, the brief's figures
- the customer record (name, ID number and mobile with     the row (statistics count customers), consultant,
  their blind indexes; co-owners / co-residents; notes of  rating, tags (plus 已匿名), source channel, the visits',
  visits, calls and follow-ups; warnings' free text) —     calls' and follow-ups' times and topics, the reveal
  only when nothing of theirs is still live: no active     audit
  subscription, no subscription or case of theirs that is
  not itself anonymised, no contact in the last retention
  period

Each case gets `anonymised_at` and an `anonymised` case event that lists what was removed as counts, never
values. A batch is one transaction of at most `limit` cases taken FOR UPDATE SKIP LOCKED, so two sweeps at once
share the work instead of doing it twice, and a second run finds nothing to do. A legal hold and the sweep
serialise on the case row: the hold route locks it, the sweep re-reads the holds after locking its batch.

The caller owns the transaction: nothing here commits (the evidence files of a batch are removed last, just
before the caller commits: a failed commit leaves a case not yet anonymised, which the next run finishes)."""

from __future__ import annotations

import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.customer_models import CustomerCall, CustomerCoParty, CustomerFollowUp, CustomerVisit
from db.errors import Conflict, Invalid, NotFound
from db.evidence import evidence_path, evidence_root
from db.evidence_models import CaseEvidence
from db.followup_models import WarningRecord
from db.models import (
    CaseEvent,
    Customer,
    IntakeForm,
    KnowledgeBaseEntry,
    RefundCase,
    RefundInstruction,
    RegionalBrief,
    Subscription,
    SubscriptionStatus,
    User,
)
from db.notice_models import Notice, Reminder
from db.pii import PiiCipher
from db.retention_models import LegalHold
from domain.notify import render

BATCH = 200  # cases per transaction
ANONYMISED_TAG = "已匿名"  # on a customer record whose personal data was removed
ERASED_FILE_NAME = "（保存期满已删除）"  # an evidence tombstone's name, shown where the file's name was
SYSTEM = "system"

# Events kept whole: they are the record of why and when the case's data were kept or removed.
KEPT_KINDS = frozenset({"legal_hold_set", "legal_hold_lifted", "anonymised"})
# Keys whose values are what a person typed (or a file's name, a bank's reference): removed wherever they are.
FREE_TEXT_KEYS = frozenset({
    "note", "reason", "reason_text", "recording_ref", "summary", "lessons", "minutes", "response", "description",
    "difference_reason", "bank_reference", "filename",
})
# Texts the system wrote under those keys (outcome reasons the web app translates): not personal, kept.
_SYSTEM_TEXTS = frozenset({"city GM did not approve a site settlement", "the buyer refused every offer"})
_SYSTEM_TEXT_PATTERNS = (re.compile(r"every \w+ who may decide this case registered or assessed it \(four eyes\)"),)
# Facts of a notice or reminder that name the customer or carry free text.
NOTICE_PERSONAL_FACTS = frozenset({"customer", "reason", "note"})


def _is_system_text(value: Any) -> bool:
    return isinstance(value, str) and (value in _SYSTEM_TEXTS or any(p.fullmatch(value) for p in _SYSTEM_TEXT_PATTERNS))


def scrub(value: Any) -> tuple[Any, int]:
    """`value` (JSON) without the free text under FREE_TEXT_KEYS, at any depth; and how many values went."""
    if isinstance(value, dict):
        out, n = {}, 0
        for k, v in value.items():
            if k in FREE_TEXT_KEYS and v not in (None, "", [], {}) and not _is_system_text(v):
                n += 1
                continue
            out[k], m = scrub(v)
            n += m
        return out, n
    if isinstance(value, list):
        items = [scrub(v) for v in value]
        return [v for v, _ in items], sum(m for _, m in items)
    return value, 0


# ------------------------------------------------------------------ legal holds


def active_hold(session: Session, case_id: uuid.UUID) -> LegalHold | None:
    return session.scalar(select(LegalHold).where(LegalHold.case_id == case_id, LegalHold.lifted_at.is_(None)))


def _locked_case(session: Session, case_id: uuid.UUID) -> RefundCase:
    """The case, its row locked until the commit: a hold and the sweep on one case serialise here."""
    case = session.get(RefundCase, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(f"refund case {case_id} does not exist")
    return case


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        err = Invalid(f"give the reason for {what}")
        err.errors = ({"field": "body.reason", "code": "required", "message": f"give the reason for {what}"},)
        raise err
    return text


def _audit(session: Session, case_id: uuid.UUID, kind: str, key: str, actor: str, at: datetime, detail: dict) -> None:
    session.execute(pg_insert(CaseEvent).values(case_id=case_id, event_key=key, kind=kind, actor=actor, at=at,
                                                detail=detail).on_conflict_do_nothing(index_elements=["case_id", "event_key"]))


def _name(session: Session, user_id: int | None) -> str | None:
    return None if user_id is None else session.scalar(select(User.display_name).where(User.id == user_id))


def set_hold(session: Session, *, case_id: uuid.UUID, reason: str, actor: User, now: datetime,
             on_behalf_of: str | None = None) -> LegalHold:
    """Put the case on legal hold: its records are kept past retain_until until the hold is lifted. 409 when it is
    held already, or its personal data were already removed."""
    reason = _reason(reason, "the legal hold")
    case = _locked_case(session, case_id)
    if case.anonymised_at is not None:
        raise Conflict(f"refund case {case.case_no} was anonymised on {case.anonymised_at:%Y-%m-%d}: its personal "
                       "data are gone, there is nothing left to hold")
    if (held := active_hold(session, case.id)) is not None:
        raise Conflict(f"refund case {case.case_no} is already on legal hold since {held.set_at:%Y-%m-%d %H:%M} "
                       f"(set by {_name(session, held.set_by)}: {held.reason}); lift that hold first")
    hold = LegalHold(case_id=case.id, reason=reason, set_by=actor.id, set_at=now)
    session.add(hold)
    session.flush()
    _audit(session, case.id, "legal_hold_set", f"legal_hold_set:{hold.id}", actor.username, now,
           {"hold_id": hold.id, "reason": reason, **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})})
    return hold


def lift_hold(session: Session, *, case_id: uuid.UUID, reason: str, actor: User, now: datetime,
              on_behalf_of: str | None = None) -> LegalHold:
    """Lift the case's active hold, with a reason: the next daily sweep anonymises the case if it is past
    retain_until. 409 when the case has no active hold."""
    reason = _reason(reason, "lifting the legal hold")
    case = _locked_case(session, case_id)
    hold = session.scalar(select(LegalHold).where(LegalHold.case_id == case.id, LegalHold.lifted_at.is_(None))
                          .with_for_update())
    if hold is None:
        raise Conflict(f"refund case {case.case_no} is not on legal hold: there is nothing to lift")
    hold.lifted_by, hold.lifted_at, hold.lift_reason = actor.id, now, reason
    session.flush()
    _audit(session, case.id, "legal_hold_lifted", f"legal_hold_lifted:{hold.id}", actor.username, now,
           {"hold_id": hold.id, "reason": reason, "held_since": hold.set_at.isoformat(),
            **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})})
    return hold


def list_holds(session: Session, *, active: bool | None, projects: frozenset[int] | None, limit: int, offset: int):
    """Holds with their case (newest first): rows of (LegalHold, case_no, project_id, retain_until,
    anonymised_at). `projects` None: every project."""
    q = (select(LegalHold, RefundCase.case_no, RefundCase.project_id, RefundCase.retain_until, RefundCase.anonymised_at)
         .join(RefundCase, RefundCase.id == LegalHold.case_id)
         .order_by(LegalHold.set_at.desc(), LegalHold.id.desc()).limit(limit).offset(offset))
    if active is not None:
        q = q.where(LegalHold.lifted_at.is_(None) if active else LegalHold.lifted_at.is_not(None))
    if projects is not None:
        q = q.where(RefundCase.project_id.in_(sorted(projects) or [-1]))
    return session.execute(q).all()


# ------------------------------------------------------------------ the anonymisation


@dataclass
class CaseAnonymised:
    case_id: uuid.UUID
    case_no: str
    removed: Counter = field(default_factory=Counter)
    customer: str = "kept"  # erased | kept | already_erased
    kept_because: list[str] = field(default_factory=list)
    customer_removed: Counter = field(default_factory=Counter)


@dataclass
class BatchResult:
    cases: list[CaseAnonymised] = field(default_factory=list)
    held: int = 0  # due cases a hold (set while the batch was taken) kept out of it

    @property
    def customers_erased(self) -> int:
        return sum(1 for c in self.cases if c.customer == "erased" and c.customer_removed)

    @property
    def files_removed(self) -> int:
        return sum(c.removed["evidence_files"] for c in self.cases)


def _due(now: datetime):
    """Closed cases past retain_until, not yet anonymised, without an active hold."""
    return and_(
        RefundCase.stage == "closed", RefundCase.retain_until.is_not(None), RefundCase.retain_until < now,
        RefundCase.anonymised_at.is_(None),
        ~exists().where(LegalHold.case_id == RefundCase.id, LegalHold.lifted_at.is_(None)),
    )


def due_cases(session: Session, *, now: datetime, limit: int | None = None) -> list:
    """What a sweep at `now` would anonymise (no locks, nothing changed): rows (id, case_no, retain_until)."""
    q = select(RefundCase.id, RefundCase.case_no, RefundCase.retain_until).where(_due(now)).order_by(
        RefundCase.retain_until, RefundCase.id)
    return session.execute(q.limit(limit) if limit else q).all()


def held_past_retention(session: Session, *, now: datetime) -> list:
    """Closed cases past retain_until that an active hold keeps: rows (case_no, retain_until, reason, set_at)."""
    return session.execute(
        select(RefundCase.case_no, RefundCase.retain_until, LegalHold.reason, LegalHold.set_at)
        .join(LegalHold, and_(LegalHold.case_id == RefundCase.id, LegalHold.lifted_at.is_(None)))
        .where(RefundCase.stage == "closed", RefundCase.retain_until < now, RefundCase.anonymised_at.is_(None))
        .order_by(RefundCase.retain_until)
    ).all()


def anonymise_due(session: Session, *, now: datetime, cipher: PiiCipher, data_dir: Path,
                  limit: int = BATCH) -> BatchResult:
    """One batch: at most `limit` due cases, taken FOR UPDATE SKIP LOCKED (rows another sweep or a hold holds are
    left to them), anonymised. The caller commits."""
    picked = session.execute(
        select(RefundCase.id).where(_due(now)).order_by(RefundCase.retain_until, RefundCase.id).limit(limit)
        .with_for_update(skip_locked=True, of=RefundCase)
    ).scalars().all()
    result = BatchResult()
    if not picked:
        return result
    # Locked now: a hold set from here on waits for this commit. One committed between the query's snapshot and
    # the lock is seen by this new statement.
    held = set(session.scalars(select(LegalHold.case_id).where(LegalHold.case_id.in_(picked),
                                                                LegalHold.lifted_at.is_(None))))
    result.held = len(held)
    ids = [i for i in picked if i not in held]
    if not ids:
        return result
    cases = {c.id: c for c in session.scalars(select(RefundCase).where(RefundCase.id.in_(ids)))}
    done = {i: CaseAnonymised(case_id=i, case_no=cases[i].case_no) for i in ids}
    files = _case_data(session, cases, done, now, data_dir)
    session.flush()
    _customers(session, cases, done, now, cipher)
    for i in ids:
        d = done[i]
        detail: dict[str, Any] = {"removed": dict(sorted((k, v) for k, v in d.removed.items() if v)),
                                  "customer": d.customer}
        if d.kept_because:
            detail["customer_kept_because"] = d.kept_because
        if d.customer_removed:
            detail["customer_removed"] = dict(sorted((k, v) for k, v in d.customer_removed.items() if v))
        _audit(session, i, "anonymised", "anonymised", SYSTEM, now, detail)
        result.cases.append(d)
    session.flush()
    _remove_files(files, data_dir, ids)
    return result


def _case_data(session: Session, cases: dict[uuid.UUID, RefundCase], done: dict[uuid.UUID, CaseAnonymised],
               now: datetime, data_dir: Path) -> list[Path]:
    """Remove the personal data the cases hold (not the customer's record); the evidence files to delete."""
    ids = list(cases)
    for case_id in session.scalars(
            update(IntakeForm).where(IntakeForm.case_id.in_(ids), or_(IntakeForm.reason_text != "",
                                                                      IntakeForm.recording_ref != ""))
            .values(reason_text="", recording_ref="").returning(IntakeForm.case_id)):
        done[case_id].removed["intake_texts"] += 1
    for ev in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids), CaseEvent.kind.not_in(KEPT_KINDS))):
        clean, n = scrub(ev.detail or {})
        if n:
            ev.detail = clean
            done[ev.case_id].removed["event_texts"] += n
    for case in cases.values():
        for column in ("assessments", "options", "outcome"):
            clean, n = scrub(getattr(case, column))
            if n:
                setattr(case, column, clean)
                done[case.id].removed["case_texts"] += n
        case.anonymised_at = now
    files = []
    for ev in session.scalars(select(CaseEvidence).where(CaseEvidence.case_id.in_(ids))):
        files.append(evidence_path(data_dir, ev))
        if ev.sha256 or ev.note or ev.filename != ERASED_FILE_NAME:
            ev.filename, ev.note, ev.sha256 = ERASED_FILE_NAME, None, ""
            done[ev.case_id].removed["evidence_files"] += 1
    for case_id in session.scalars(
            update(RefundInstruction).where(RefundInstruction.case_id.in_(ids), or_(
                RefundInstruction.bank_reference.is_not(None), RefundInstruction.difference_reason.is_not(None)))
            .values(bank_reference=None, difference_reason=None).returning(RefundInstruction.case_id)):
        done[case_id].removed["refund_bank_details"] += 1
    for n in session.scalars(select(Notice).where(Notice.case_id.in_(ids))):
        params = {k: v for k, v in (n.params or {}).items() if k not in NOTICE_PERSONAL_FACTS}
        if params != (n.params or {}):
            n.params = params
            n.title, n.body = render(n.kind, params, "zh-CN", n.created_at)
            done[n.case_id].removed["notices"] += 1
    for r in session.scalars(select(Reminder).where(Reminder.case_id.in_(ids))):
        params = {k: v for k, v in (r.params or {}).items() if k not in NOTICE_PERSONAL_FACTS}
        if params != (r.params or {}):
            r.params = params
            done[r.case_id].removed["reminders"] += 1
    for case_id in session.scalars(
            update(KnowledgeBaseEntry).where(KnowledgeBaseEntry.case_id.in_(ids), KnowledgeBaseEntry.body != "")
            .values(body="").returning(KnowledgeBaseEntry.case_id)):
        done[case_id].removed["archive_texts"] += 1
    for b in session.scalars(select(RegionalBrief).where(RegionalBrief.case_id.in_(ids))):
        clean, n = scrub(b.body or {})
        if n:
            b.body = clean
            done[b.case_id].removed["archive_texts"] += n
    return files


def _keep_reasons(session: Session, customer_id: int, now: datetime) -> list[str]:
    """Why the customer's record must stay (empty: it may be erased). Runs after the batch's cases were marked, so
    they count as anonymised; a contract hangs on a subscription, so the subscription rules cover contracts."""
    anonymised_case_of = exists().where(RefundCase.subscription_id == Subscription.id,
                                        RefundCase.anonymised_at.is_not(None))
    checks = {
        "active_subscription": exists().where(Subscription.customer_id == customer_id,
                                              Subscription.status == SubscriptionStatus.ACTIVE),
        "subscription_not_past_retention": exists().where(Subscription.customer_id == customer_id,
                                                          Subscription.status != SubscriptionStatus.ACTIVE,
                                                          ~anonymised_case_of),
        "case_not_past_retention": exists().where(RefundCase.customer_id == customer_id,
                                                  RefundCase.anonymised_at.is_(None)),
    }
    # A contact within the last retention period (the longest of the customer's cases): a customer who came back.
    period = select(func.max(RefundCase.retain_until - RefundCase.closed_at)).where(
        RefundCase.customer_id == customer_id).scalar_subquery()
    since = literal(now, RefundCase.retain_until.type) - period
    checks["recent_contact"] = or_(
        exists().where(CustomerVisit.customer_id == customer_id, CustomerVisit.visited_at > since),
        exists().where(CustomerCall.customer_id == customer_id, CustomerCall.called_at > since),
        exists().where(CustomerFollowUp.customer_id == customer_id, CustomerFollowUp.at > since),
    )
    row = session.execute(select(*(c.label(k) for k, c in checks.items()))).one()
    return [k for k in checks if row._mapping[k]]


def _customers(session: Session, cases: dict[uuid.UUID, RefundCase], done: dict[uuid.UUID, CaseAnonymised],
               now: datetime, cipher: PiiCipher) -> None:
    """Erase the customers of the batch's cases who have nothing live left. Their rows are locked in id order
    first, so two sweeps anonymising two cases of one customer decide one after the other: the second sees the
    first's case as anonymised (committed) and erases the record the first had to keep."""
    by_customer: dict[int, list[uuid.UUID]] = {}
    for case in sorted(cases.values(), key=lambda c: (c.retain_until, str(c.id))):
        by_customer.setdefault(case.customer_id, []).append(case.id)
    locked = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(sorted(by_customer)))
                                                .order_by(Customer.id).with_for_update(of=Customer))}
    for customer_id, case_ids in sorted(by_customer.items()):
        customer = locked.get(customer_id)
        if customer is None:
            continue
        first = done[case_ids[0]]
        if ANONYMISED_TAG in (customer.tags or []) and not customer.id_number_masked and not customer.name:
            for i in case_ids:
                done[i].customer = "already_erased"
            continue
        reasons = _keep_reasons(session, customer_id, now)
        if reasons:
            for i in case_ids:
                done[i].customer, done[i].kept_because = "kept", reasons
            continue
        removed = first.customer_removed
        removed["name_id_mobile"] += 1
        empty = cipher.encrypt("")  # a reveal shows nothing rather than failing on a missing token
        customer.name, customer.id_number_enc, customer.id_number_bidx, customer.id_number_masked = "", empty, "", ""
        customer.mobile_enc, customer.mobile_bidx, customer.mobile_masked = cipher.encrypt(""), "", ""
        customer.tags = [*(customer.tags or []), ANONYMISED_TAG]
        removed["co_parties"] += session.execute(
            delete(CustomerCoParty).where(CustomerCoParty.customer_id == customer_id)).rowcount
        for model in (CustomerVisit, CustomerCall, CustomerFollowUp):
            removed["contact_notes"] += session.execute(
                update(model).where(model.customer_id == customer_id, model.note != "").values(note="")).rowcount
        removed["warning_texts"] += session.execute(
            update(WarningRecord).where(WarningRecord.customer_id == customer_id, or_(
                WarningRecord.response_note.is_not(None), WarningRecord.downgrade_reason.is_not(None)))
            .values(response_note=None, downgrade_reason=None)).rowcount
        for i in case_ids:
            done[i].customer = "erased"


def _remove_files(files: list[Path], data_dir: Path, case_ids: list[uuid.UUID]) -> None:
    """The batch's evidence files, then each case's folder (with any file an interrupted upload left there)."""
    for path in files:
        path.unlink(missing_ok=True)
    root = evidence_root(data_dir).resolve()
    for case_id in case_ids:
        folder = (root / str(case_id)).resolve()
        if folder.parent == root and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
