"""Complaint keywords and search terms (domain/keywords.py): jieba with the domain dictionary, pure."""

from __future__ import annotations

from collections import Counter
from datetime import date

from domain import keywords as kw

SEEDED_REASONS = [
    "开发商延期交付，客户要求退房并退还定金",
    "学区名额没有落实，要求退房",
    "贷款审批没通过，资金未到位，想退房",
    "配偶不同意，家庭意见不统一，要求退定金",
    "网签前发现违约金条款太高，按揭利率也变了",
    "延期交付又没有补偿，客户很生气",
]


def test_domain_terms_are_whole_words():
    text = "开发商延期交付导致学区名额落空，网签后按揭贷款审批不过，客户要求退房并退还定金和违约金"
    words = kw.segment(text)
    for term in ("延期交付", "学区", "网签", "按揭", "贷款", "退房", "定金", "违约金"):
        assert term in words, (term, words)


def test_keywords_drop_stop_words_single_characters_punctuation_and_names():
    got = kw.keywords("王先生说：我们的房子，延期交付了！延期交付！")
    assert got == ["房子", "延期交付"]  # once each, in order; 王先生 / 我们 / 的 / 说 / punctuation gone


def test_segmentation_is_deterministic_and_context_free():
    a = kw.keywords("学区承诺没有兑现")
    b = kw.keywords("学区承诺没有兑现")
    assert a == b == ["学区", "承诺", "兑现"]
    # the HMM is off: an unknown name is never glued into a "new word"
    assert kw.keywords("孙晓燕要求退房") == ["退房"]


def test_reason_codes_count_as_their_terms():
    assert kw.document_keywords(["funds_shortfall", "other"], "年终奖没发") == ["资金未到位", "年终奖"]
    assert kw.document_keywords(["family_disagreement"], "家庭分歧") == ["家庭分歧"]  # counted once


def test_top_terms_of_a_seeded_set_of_intake_reasons():
    counts = kw.count_documents(kw.keywords(t) for t in SEEDED_REASONS)
    top = kw.top(counts, 4)
    assert top[0] == ("退房", 3)
    assert ("延期交付", 2) in top and ("定金", 2) in top
    assert counts["学区"] == 1 and counts["违约金"] == 1 and counts["按揭"] == 1


def test_rising_rule():
    this = Counter({"延期交付": 6, "学区": 5, "定金": 9, "贷款": 4})
    last = Counter({"延期交付": 3, "学区": 3, "定金": 4})
    got = kw.rising(this, last)
    # 定金 9 ≥ 2×4, 延期交付 6 ≥ 2×3; 学区 5 < 2×3; 贷款 4 < 5 (the minimum)
    assert [(r.keyword, r.this_week, r.last_week) for r in got] == [("定金", 9, 4), ("延期交付", 6, 3)]
    assert kw.rising(Counter({"网签": 5}), Counter()) == [kw.Rising("网签", 5, 0)]


def test_weeks_are_iso_weeks_from_monday():
    assert kw.week_start(date(2026, 12, 6)) == date(2026, 11, 30)  # a Sunday → its Monday
    assert kw.week_label(date(2026, 11, 30)) == "2026-W49"
    assert kw.week_starts(date(2026, 12, 2), 3) == [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]


def test_search_terms_match_between_document_and_query():
    doc = kw.index_terms("开发商延期交付，客户退房 RF20261201-A1B2C3")
    for q in ("延期交付", "交付延期", "退房", "RF20261201-A1B2C3"):
        assert set(kw.query_terms(q)) <= set(doc), (q, kw.query_terms(q), doc)
    assert kw.query_terms("的 了 吗") == []


def test_tsvector_and_tsquery_literals_quote_and_weigh():
    assert kw.tsvector_literal([("退房", "A"), ("退房 定金", "D")]) == "'退房':1A,2 '定金':3"
    assert kw.tsquery_literal(["退房", "o'neil"]) == "'退房' & 'o''neil'"


def test_snippet_centres_on_the_first_hit():
    text = "甲" * 100 + "延期交付" + "乙" * 100
    s = kw.snippet(text, ["延期交付"], 40)
    assert "延期交付" in s and s.startswith("…") and s.endswith("…")
    assert kw.snippet("短文本", ["无"], 40) == "短文本"
