"""Complaint keywords, the 话术 library and the knowledge-base search (issue 16): the database side.

- Knowledge base: `index_pending` segments the archive entries the trigger queued (migration 0027) into
  knowledge_search; `search` ranks the entries of the caller's projects whose lexemes hold every word of
  the query (GIN index on the tsvector, ts_rank: reasons and path weigh most, then the case number, then
  the summary and lessons; among the newest WINDOW matches), with the case number and a snippet.
- Complaint keywords: the texts of a period (intake reasons and the buyer's words, case-event notes and
  reasons, customer follow-ups, customer warnings' rule details), segmented in Python with
  domain/keywords.py; a document counts once per keyword. `keyword_report` gives the top keywords and
  their counts by ISO week (China time); `raise_rising_keyword_warnings` raises a yellow warning for the
  project's marketing for each keyword of the current week that rises (domain.keywords.rising), once per
  project, keyword and week (the warning_key is unique), with a notice to the project's marketing.
- 话术: suggestions for a case's reasons and keywords, and the used / helpful counts.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from db.followup_models import WarningRecord
from db.knowledge_models import Script, ScriptMark
from db.models import Project
from db.notices import write_notice
from domain import keywords as kw
from domain.calendar import CHINA, china_date

# ---- the knowledge base ---------------------------------------------------------------------------------

PATH_LABELS = {
    "A": "路径A 继续履约 附加权益补偿",
    "B": "路径B 协议解除 退款",
    "C": "路径C 房源转让 手续费减免",
    "withdrawn": "撤回",
}
_PATH = re.compile(r"\(路径 ([A-Za-z]+)\)")

_PENDING = text("""
    SELECT q.entry_id, e.case_id, e.title, e.body, e.created_at, c.project_id, c.case_no, c.chosen_option,
           i.reasons
    FROM knowledge_index_queue q
    JOIN knowledge_base_entries e ON e.id = q.entry_id
    JOIN refund_cases c ON c.id = e.case_id
    LEFT JOIN intake_forms i ON i.case_id = e.case_id
    ORDER BY q.entry_id
    LIMIT :limit
    FOR UPDATE OF q SKIP LOCKED
""")
_UPSERT = text("""
    INSERT INTO knowledge_search (entry_id, case_id, project_id, case_no, path, reasons, title, doc, tsv,
                                  archived_at, indexed_at)
    VALUES (:entry_id, :case_id, :project_id, :case_no, :path, CAST(:reasons AS jsonb), :title, :doc,
            CAST(:tsv AS tsvector), :archived_at, now())
    ON CONFLICT (entry_id) DO UPDATE SET case_id = EXCLUDED.case_id, project_id = EXCLUDED.project_id,
        case_no = EXCLUDED.case_no, path = EXCLUDED.path, reasons = EXCLUDED.reasons, title = EXCLUDED.title,
        doc = EXCLUDED.doc, tsv = EXCLUDED.tsv, archived_at = EXCLUDED.archived_at, indexed_at = now()
""")
_DEQUEUE = text("DELETE FROM knowledge_index_queue WHERE entry_id = ANY(:ids)")


@dataclass(frozen=True)
class IndexDoc:
    path: str
    reasons: list[str]
    doc: str  # the text shown: summary and lessons, then the reasons and the path in words
    tsv: str  # a tsvector literal


def index_doc(*, title: str, body: str, reasons: list[str], path: str, case_no: str) -> IndexDoc:
    """What one archive entry is searched and shown by (pure but for jieba)."""
    labels = " ".join(kw.REASON_LABELS.get(r, r) for r in reasons)
    terms = " ".join(kw.REASON_TERMS[r] for r in reasons if r in kw.REASON_TERMS)
    outcome = PATH_LABELS.get(path, path)
    # The title is "退房案件 <case no> (路径 X)" for every entry: only its case number is searched by.
    tsv = kw.tsvector_literal([(f"{labels} {terms} {outcome}", "A"), (case_no, "B"), (body, "D")])
    shown = body.strip()
    tail = " · ".join(x for x in (labels, outcome) if x)
    return IndexDoc(path=path, reasons=list(reasons), doc=f"{shown}\n{tail}".strip(), tsv=tsv)


def index_pending(session: Session, limit: int = 500) -> int:
    """Indexes up to `limit` queued archive entries (rows another transaction is indexing are skipped);
    flushes, the caller commits. Returns how many were indexed."""
    import json

    rows = session.execute(_PENDING, {"limit": limit}).all()
    if not rows:
        return 0
    params = []
    for r in rows:
        m = _PATH.search(r.title or "")
        path = m.group(1) if m else (r.chosen_option or "")
        d = index_doc(title=r.title, body=r.body or "", reasons=list(r.reasons or []), path=path, case_no=r.case_no)
        params.append({"entry_id": r.entry_id, "case_id": r.case_id, "project_id": r.project_id,
                       "case_no": r.case_no, "path": d.path, "reasons": json.dumps(d.reasons), "title": r.title,
                       "doc": d.doc, "tsv": d.tsv, "archived_at": r.created_at})
    session.execute(_UPSERT, params)
    session.execute(_DEQUEUE, {"ids": [r.entry_id for r in rows]})
    session.flush()
    return len(rows)


def pending_count(session: Session) -> int:
    return session.scalar(text("SELECT count(*) FROM knowledge_index_queue")) or 0


@dataclass
class Hit:
    case_id: uuid.UUID
    case_no: str
    project_id: int
    title: str
    path: str
    reasons: list[str]
    snippet: str
    archived_at: datetime
    rank: float


@dataclass
class SearchResult:
    terms: list[str]
    items: list[Hit] = field(default_factory=list)
    more: bool = False


# The ranking window: the newest WINDOW matching entries are ranked (by the planner's choice, a backward
# scan of the archive-time index that stops after WINDOW matches for a common word, or the GIN index for a
# rarer one), so a word found in every case costs the same as one found in a thousand. Older matches of a
# very common word are reached by adding a word to the query.
WINDOW = 1000

# Narrow rows through the sorts (id, time, rank); the shown columns are read for the page's rows only.
_SEARCH = """
    SELECT s.case_id, s.case_no, s.project_id, s.title, s.path, s.reasons, s.doc, s.archived_at, m.rank
    FROM (
        SELECT w.entry_id, w.archived_at, ts_rank(w.tsv, CAST(:q AS tsquery)) AS rank FROM (
            SELECT s.entry_id, s.archived_at, s.tsv
            FROM knowledge_search s
            WHERE s.tsv @@ CAST(:q AS tsquery) {scope}
            ORDER BY s.archived_at DESC, s.entry_id DESC
            LIMIT :window
        ) w
        ORDER BY rank DESC, w.archived_at DESC, w.entry_id DESC
        LIMIT :limit OFFSET :offset
    ) m JOIN knowledge_search s ON s.entry_id = m.entry_id
    ORDER BY m.rank DESC, m.archived_at DESC, m.entry_id DESC
"""
_SEARCH_ALL = text(_SEARCH.format(scope=""))
_SEARCH_SCOPED = text(_SEARCH.format(scope="AND s.project_id = ANY(:projects)"))


def search(session: Session, query: str, *, projects: frozenset[int] | None, limit: int = 20,
           offset: int = 0) -> SearchResult:
    """Archived cases of `projects` (None: all) holding every word of `query`, best first among the newest
    WINDOW that do."""
    terms = kw.query_terms(query)
    out = SearchResult(terms=terms)
    if not terms or (projects is not None and not projects):
        return out
    params = {"q": kw.tsquery_literal(terms), "limit": limit + 1, "offset": offset, "window": WINDOW}
    if projects is None:
        rows = session.execute(_SEARCH_ALL, params).all()
    else:
        rows = session.execute(_SEARCH_SCOPED, {**params, "projects": sorted(projects)}).all()
    out.more = len(rows) > limit
    out.items = [Hit(case_id=r.case_id, case_no=r.case_no, project_id=r.project_id, title=r.title, path=r.path,
                     reasons=list(r.reasons or []), snippet=kw.snippet(r.doc, terms, 80),
                     archived_at=r.archived_at, rank=float(r.rank)) for r in rows[:limit]]
    return out


# ---- complaint keywords ---------------------------------------------------------------------------------

# (project, when, reason codes, text, source) of every text a keyword can come from, in [start, end).
_DOCS = text("""
    SELECT c.project_id, i.submitted_at AS at, i.reasons, i.reason_text AS body, 'intake' AS source
    FROM intake_forms i JOIN refund_cases c ON c.id = i.case_id
    WHERE i.submitted_at >= :start AND i.submitted_at < :end
    UNION ALL
    SELECT c.project_id, e.at, NULL, concat_ws(' ', e.detail->>'note', e.detail->>'reason'), 'case_note'
    FROM case_events e JOIN refund_cases c ON c.id = e.case_id
    WHERE e.at >= :start AND e.at < :end AND (e.detail ? 'note' OR e.detail ? 'reason')
    UNION ALL
    SELECT cu.project_id, f.at, NULL, f.note, 'follow_up'
    FROM customer_follow_ups f JOIN customers cu ON cu.id = f.customer_id
    WHERE f.at >= :start AND f.at < :end AND f.note <> ''
    UNION ALL
    SELECT cu.project_id, w.raised_at,  NULL,
           (SELECT string_agg(r->>'detail', ' ') FROM jsonb_array_elements(w.rules) r), 'warning'
    FROM warnings w JOIN customers cu ON cu.id = w.customer_id
    WHERE w.raised_at >= :start AND w.raised_at < :end
""")


@dataclass(frozen=True)
class KeywordDoc:
    project_id: int
    at: datetime
    source: str
    keywords: tuple[str, ...]


def keyword_documents(session: Session, start: datetime, end: datetime,
                      projects: frozenset[int] | None = None) -> list[KeywordDoc]:
    out = []
    for r in session.execute(_DOCS, {"start": start, "end": end}):
        if projects is not None and r.project_id not in projects:
            continue
        words = kw.document_keywords(r.reasons or (), r.body or "")
        if words:
            out.append(KeywordDoc(r.project_id, r.at, r.source, tuple(words)))
    return out


def _china_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=CHINA)


@dataclass
class KeywordRow:
    keyword: str
    total: int
    weeks: list[int]
    rising: bool


@dataclass
class KeywordReport:
    weeks: list[str]  # ISO week labels, oldest first, the current week last
    week_starts: list[date]
    documents: int
    by_source: dict[str, int]
    top: list[KeywordRow]


def keyword_report(session: Session, *, now: datetime, projects: frozenset[int] | None, weeks: int = 8,
                   top: int = 20) -> KeywordReport:
    """The top keywords of the last `weeks` weeks (the current one included) with their count per week;
    `rising` marks those the rising rule picks in the current week against the one before."""
    starts = kw.week_starts(china_date(now), weeks)
    docs = keyword_documents(session, _china_midnight(starts[0]), _china_midnight(starts[-1] + timedelta(days=7)),
                             projects)
    index = {s: k for k, s in enumerate(starts)}
    per_week = [Counter() for _ in starts]
    for d in docs:
        per_week[index[kw.week_start(d.at.astimezone(CHINA).date())]].update(d.keywords)
    total = sum(per_week, Counter())
    up = {r.keyword for r in kw.rising(per_week[-1], per_week[-2] if weeks > 1 else {})}
    rows = [KeywordRow(k, n, [c.get(k, 0) for c in per_week], k in up) for k, n in kw.top(total, top)]
    return KeywordReport(weeks=[kw.week_label(s) for s in starts], week_starts=starts, documents=len(docs),
                         by_source=dict(Counter(d.source for d in docs)), top=rows)


KEYWORD_RULE = "keyword_rising"


def keyword_case_ref(project_id: int) -> str:
    return f"keywords-project-{project_id}"


def raise_rising_keyword_warnings(session: Session, now: datetime) -> list[WarningRecord]:
    """For every project, each keyword rising this week (China time) against last week: a yellow warning
    for marketing (escalating to the manager), once per project, keyword and week; a notice to the
    project's marketing people. Flushes; the caller commits. Returns the warnings raised now."""
    this = kw.week_start(china_date(now))
    last = this - timedelta(days=7)
    docs = keyword_documents(session, _china_midnight(last), _china_midnight(this + timedelta(days=7)))
    counts: dict[int, tuple[Counter, Counter]] = defaultdict(lambda: (Counter(), Counter()))
    for d in docs:
        counts[d.project_id][0 if d.at.astimezone(CHINA).date() >= this else 1].update(d.keywords)
    raised = []
    label = kw.week_label(this)
    for project_id in sorted(counts):
        now_c, last_c = counts[project_id]
        for r in kw.rising(now_c, last_c):
            key = f"keyword-rising:{project_id}:{label}:{r.keyword[:40]}"
            detail = (f"投诉关键词「{r.keyword}」本周 {r.this_week} 次，上周 {r.last_week} 次 "
                      f"(规则: 本周 ≥ {kw.RISING_MIN} 且 ≥ {kw.RISING_FACTOR} 倍上周)")
            wid = session.execute(
                pg_insert(WarningRecord)
                .values(warning_key=key, customer_id=None, case_ref=keyword_case_ref(project_id), level="yellow",
                        rules=[{"rule": KEYWORD_RULE, "score": 30, "detail": detail}], risk_score=30,
                        raised_at=now, response_due=now + timedelta(hours=24), respond_role="marketing",
                        escalate_to="manager")
                .on_conflict_do_nothing(index_elements=["warning_key"])
                .returning(WarningRecord.id)
            ).scalar()
            if wid is None:
                continue  # raised before this week
            w = session.get(WarningRecord, wid)
            write_notice(session, key=f"warning_raised:{key}", kind="warning_raised", project_id=project_id,
                         role="marketing", at=now, link="/knowledge",
                         params={"stage": "warning", "level": "yellow", "due_at": w.response_due.isoformat(),
                                 "reason": detail, "keyword": r.keyword})
            raised.append(w)
    session.flush()
    return raised


def keyword_warnings(session: Session, projects: frozenset[int] | None, *, open_only: bool = True) -> list[WarningRecord]:
    """The keyword warnings of `projects` (None: all), newest first."""
    stmt = select(WarningRecord).where(WarningRecord.case_ref.like("keywords-project-%"))
    if projects is not None:
        stmt = stmt.where(WarningRecord.case_ref.in_([keyword_case_ref(p) for p in sorted(projects)] or ["-"]))
    if open_only:
        stmt = stmt.where(WarningRecord.responded_at.is_(None))
    return list(session.scalars(stmt.order_by(WarningRecord.raised_at.desc(), WarningRecord.id.desc()).limit(200)))


# ---- 话术 ---------------------------------------------------------------------------------------------------


def visible_scripts(projects: frozenset[int] | None):
    """Scripts of the group (project_id NULL) and of `projects` (None: all)."""
    stmt = select(Script)
    if projects is not None:
        stmt = stmt.where((Script.project_id.is_(None)) | (Script.project_id.in_(sorted(projects) or [-1])))
    return stmt


def suggest(session: Session, *, project_id: int, reasons: list[str], text_: str = "", limit: int = 5) -> list[tuple[Script, int]]:
    """Approved scripts of the project or the group for these reasons and the keywords of `text_`, with
    their score (2 per reason matched, 1 per keyword), best first; none when nothing matches."""
    words = set(kw.document_keywords(reasons, text_))
    wanted = set(reasons)
    scored = []
    for s in session.scalars(visible_scripts(frozenset({project_id})).where(Script.status == "approved")):
        score = 2 * len(wanted & set(s.reason_codes or [])) + len(words & set(s.keywords or []))
        if score:
            scored.append((s, score))
    scored.sort(key=lambda x: (-x[1], x[0].id))
    return scored[:limit]


@dataclass
class Usage:
    used: int = 0
    helpful: int = 0
    not_helpful: int = 0
    cases: int = 0


def usage(session: Session, script_ids: list[int], *, since: datetime | None = None,
          until: datetime | None = None) -> dict[int, Usage]:
    """Per script: marks saying used, helpful, not helpful, and the cases they were on (a person's mark
    on a case counts once: it is one row)."""
    if not script_ids:
        return {}
    stmt = (select(ScriptMark.script_id, func.count().filter(ScriptMark.used),
                   func.count().filter(ScriptMark.helpful.is_(True)),
                   func.count().filter(ScriptMark.helpful.is_(False)),
                   func.count(func.distinct(ScriptMark.case_id)))
            .where(ScriptMark.script_id.in_(script_ids)).group_by(ScriptMark.script_id))
    if since is not None:
        stmt = stmt.where(ScriptMark.marked_at >= since)
    if until is not None:
        stmt = stmt.where(ScriptMark.marked_at < until)
    return {sid: Usage(u, h, nh, c) for sid, u, h, nh, c in session.execute(stmt)}


def mark(session: Session, *, script_id: int, case_id: uuid.UUID, user_id: int, used: bool,
         helpful: bool | None, at: datetime) -> ScriptMark:
    """The person's mark on the script for the case (one per person, script and case: a second replaces it)."""
    row = session.execute(
        pg_insert(ScriptMark)
        .values(script_id=script_id, case_id=case_id, user_id=user_id, used=used, helpful=helpful, marked_at=at)
        .on_conflict_do_update(index_elements=["script_id", "case_id", "user_id"],
                               set_={"used": used, "helpful": helpful, "marked_at": at})
        .returning(ScriptMark.id)
    ).scalar_one()
    session.flush()
    return session.get(ScriptMark, row, populate_existing=True)


def project_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Project.id).order_by(Project.id)))
