"""Complaint keywords and search terms from Chinese text (issue 16), pure: jieba with the office's domain
dictionary (domain/keywords_data/dict.txt: 退房, 定金, 贷款, 学区, 延期交付, 网签, 按揭, 违约金 …) and a
stop-word list (domain/keywords_data/stopwords.txt).

One tokenizer, built once per process on first use, with the HMM off: a span of characters the dictionaries
do not know falls into single characters (dropped) instead of guessed "new words", so the same text always
gives the same words whatever surrounds it (a report run twice agrees, a search matches what was indexed),
and people's names — unknown words — do not become keywords.

- `keywords(text)`: the complaint keywords of a text — words of two or more characters with a Chinese
  character in them, not stop words, each once (a keyword counts documents, not repetitions).
- `index_terms(text)` / `query_terms(text)`: the lexemes of the knowledge-base search — the document in
  jieba's search mode (延期交付 also gives 延期 and 交付), the query in its precise mode, so every word of a
  query is a lexeme of any document that holds it; ASCII words (case numbers) lower-cased and kept.
- `rising(this_week, last_week)`: the week-on-week rule that raises a warning for marketing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "keywords_data"
DICT_FILE = DATA / "dict.txt"
STOPWORDS_FILE = DATA / "stopwords.txt"

# A keyword rises when this week's count is at least RISING_MIN and at least RISING_FACTOR × last week's.
RISING_MIN = 5
RISING_FACTOR = 2

# The intake form's reason codes (api/schemas.py Reason) as the keyword each one counts for.
REASON_TERMS: dict[str, str] = {
    "family_disagreement": "家庭分歧",
    "funds_shortfall": "资金未到位",
    "competitor_comparison": "竞品",
}
REASON_LABELS: dict[str, str] = {
    "family_disagreement": "家庭意见不统一",
    "funds_shortfall": "资金未到位",
    "competitor_comparison": "竞品对比",
    "other": "其他",
}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ASCII_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_lock = threading.Lock()


@cache
def stopwords() -> frozenset[str]:
    return frozenset(w.strip() for w in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines() if w.strip())


@cache
def domain_terms() -> tuple[str, ...]:
    return tuple(line.split()[0] for line in DICT_FILE.read_text(encoding="utf-8").splitlines() if line.strip())


def _tokenizer():
    """The process's one jieba tokenizer with the domain dictionary (built under a lock on first use)."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _lock:
            if _TOKENIZER is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                tk.load_userdict(str(DICT_FILE))
                _TOKENIZER = tk
    return _TOKENIZER


_TOKENIZER = None


def segment(text: str) -> list[str]:
    """jieba's precise mode, HMM off, whitespace dropped."""
    if not text:
        return []
    return [w for w in _tokenizer().lcut(text, HMM=False) if w.strip()]


_TITLE = re.compile(r"^.(先生|女士|小姐|总|姐|哥)$")  # 王先生, 李女士: a person, not a complaint


def is_keyword(word: str) -> bool:
    return len(word) >= 2 and bool(_CJK.search(word)) and word not in stopwords() and not _TITLE.match(word)


def keywords(text: str) -> list[str]:
    """The text's complaint keywords, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for w in segment(text):
        if is_keyword(w):
            seen.setdefault(w, None)
    return list(seen)


def document_keywords(reasons: Iterable[str] = (), *texts: str) -> list[str]:
    """A document's keywords: the terms of its reason codes, then the keywords of its texts; each once."""
    seen: dict[str, None] = {}
    for code in reasons:
        term = REASON_TERMS.get(code)
        if term:
            seen.setdefault(term, None)
    for t in texts:
        for w in keywords(t or ""):
            seen.setdefault(w, None)
    return list(seen)


def _search_word(word: str) -> str | None:
    if _ASCII_WORD.match(word):
        return word.lower() if len(word) >= 2 else None
    return word if is_keyword(word) else None


def index_terms(text: str) -> list[str]:
    """The search lexemes of a document, in order, repeats kept (their positions rank): search mode."""
    if not text:
        return []
    out = []
    for w in _tokenizer().cut_for_search(text, HMM=False):
        term = _search_word(w.strip())
        if term:
            out.append(term)
    return out


def query_terms(text: str, limit: int = 8) -> list[str]:
    """The search lexemes of a query, each once, at most `limit`: precise mode."""
    seen: dict[str, None] = {}
    for w in segment(text or ""):
        term = _search_word(w)
        if term:
            seen.setdefault(term, None)
    return list(seen)[:limit]


def tsquery_literal(terms: Iterable[str]) -> str:
    """A tsquery in PostgreSQL's literal syntax that needs every term (cast with ::tsquery: no parser, no
    dictionary touches the lexemes, so they match the jieba words stored in the tsvector exactly)."""
    return " & ".join(_quote(t) for t in terms)


def tsvector_literal(weighted: Iterable[tuple[str, str]], max_positions: int = 16383) -> str:
    """A tsvector literal from (text, weight) parts in order: each part's index terms at their positions
    (1-based, across parts), with the part's weight (A–D). Cast with ::tsvector."""
    positions: dict[str, list[str]] = {}
    pos = 0
    for text, weight in weighted:
        for term in index_terms(text):
            pos += 1
            if pos > max_positions:
                break
            ps = positions.setdefault(term, [])
            if len(ps) < 256:  # PostgreSQL keeps at most 256 positions per lexeme
                ps.append(f"{pos}{'' if weight == 'D' else weight}")
    return " ".join(f"{_quote(t)}:{','.join(ps)}" for t, ps in positions.items())


def _quote(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def snippet(text: str, terms: Iterable[str], width: int = 60) -> str:
    """About `width` characters of `text` around the first of `terms` found in it (the start otherwise),
    with … where it was cut; whitespace runs become one space."""
    flat = " ".join(text.split())
    hits = [i for i in (flat.lower().find(t.lower()) for t in terms if t) if i >= 0]
    if len(flat) <= width:
        return flat
    start = max(0, min(hits) - width // 3) if hits else 0
    end = min(len(flat), start + width)
    start = max(0, end - width)
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")


# ---- weeks and the rising rule --------------------------------------------------------------------


def week_start(d: date) -> date:
    """The Monday of d's ISO week."""
    return d - timedelta(days=d.weekday())


def week_label(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def week_starts(today: date, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first, this week last."""
    this = week_start(today)
    return [this - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


@dataclass(frozen=True)
class Rising:
    keyword: str
    this_week: int
    last_week: int


def rising(this_week: Mapping[str, int], last_week: Mapping[str, int], *,
           min_count: int = RISING_MIN, factor: int = RISING_FACTOR) -> list[Rising]:
    """Keywords with this week's count ≥ min_count and ≥ factor × last week's; most frequent first."""
    out = [Rising(k, n, last_week.get(k, 0)) for k, n in this_week.items()
           if n >= min_count and n >= factor * last_week.get(k, 0)]
    return sorted(out, key=lambda r: (-r.this_week, r.keyword))


def count_documents(docs: Iterable[Iterable[str]]) -> Counter[str]:
    """How many documents hold each keyword."""
    c: Counter[str] = Counter()
    for kws in docs:
        c.update(set(kws))
    return c


def top(counter: Mapping[str, int], n: int) -> list[tuple[str, int]]:
    """The n most frequent, ties by the word (deterministic)."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def is_week_of(at: datetime, monday: date, tz) -> bool:
    return week_start(at.astimezone(tz).date()) == monday
