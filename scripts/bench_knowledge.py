"""Knowledge-base search at 100,000 archived cases: p50/p99 of `db.knowledge.search` (what
GET /api/knowledge/search runs, with its empty-queue check `index_pending`), for one-word, two-word and
rare-word queries, as a group-wide reader and as a reader of one project. Goal: p99 ≤ 100 ms.
A benchmark that prints, not a test.

Starts a throwaway embedded PostgreSQL (or uses BENCH_DATABASE_URL, an admin URL), creates a scratch
database and migrates it. The search rows are built set-based: BENCH_POOL (default 20,000) distinct
archive texts are generated from the seeds' vocabulary and segmented with jieba in Python (the real
`index_doc`), copied in, and BENCH_ENTRIES (default 100,000) rows are made from them with one INSERT … SELECT
over generate_series across BENCH_PROJECTS (default 10) projects. Only the search table is measured, so its
foreign key to the archive entries is dropped in this scratch database (no refund cases are made).

    .venv/bin/python -m scripts.bench_knowledge
"""

from __future__ import annotations

import io
import os
import random
import statistics
import time

import sqlalchemy as sa

from db.knowledge import index_doc, index_pending, search
from db.scratch import scratch_database
from db.session import make_engine, make_session_factory

GOAL_MS = 100.0

OPENINGS = ["客户因", "买方由于", "购房人称", "业主反映", "客户来电表示", "客户到访后提出"]
CAUSES = [
    "开发商延期交付", "学区名额没有落实", "贷款审批没通过", "首付资金未到位", "年终奖延迟发放", "配偶不同意购买",
    "父母认为户型朝向不佳", "竞品降价觉得买贵了", "样板间与交付标准不符", "公摊面积误差较大", "楼层噪音太大",
    "采光不好", "物业费太高", "地铁规划变更", "征信有问题无法按揭", "限购政策变化", "社保年限不够",
    "装修标准降低", "销售口头承诺没有兑现", "网签前发现违约金条款太高", "利率上调月供压力大", "墙面开裂",
    "阳台漏水", "车位配套不足", "投资回款未到账", "换工作去外地",
]
ACTIONS = ["要求退房", "申请退定金", "要求解除认购书", "希望换房", "提出转让房源", "要求补偿", "威胁投诉媒体",
           "委托律师发律师函", "要求退还首付"]
RESULTS = ["经协商按政策退还定金的七成", "赠送两年物业费后继续履约", "办理房源转让并减免手续费", "扣除营销服务费后退款",
           "升级智能家居包挽留成功", "客户撤回申请", "走司法程序解决", "宽限十天后补齐首付"]
LESSONS = ["认购前请共居人到场确认", "交付节点变化要提前告知", "按揭预审要前置", "销售说辞要统一并留存",
           "竞品政策要快速核实", "大额优惠需法务把关", "沟通记录至少留存两年", "情绪激动的客户先隔离接待",
           "学区信息以教育局公告为准", "年底资金紧张的客户提前关注"]
REASONS = ["family_disagreement", "funds_shortfall", "competitor_comparison", "other"]
PATHS = ["A", "B", "C", "withdrawn"]

QUERIES = {
    "a word of every case (复盘)": ["复盘"],
    "a common word (退房)": ["退房"],
    "one word (延期交付 / 学区 / 按揭 …)": ["延期交付", "学区", "按揭", "违约金", "定金", "竞品", "物业费", "征信"],
    "two words (延期交付 补偿 …)": ["延期交付 补偿", "学区 律师函", "配偶 户型", "年终奖 首付", "漏水 投诉", "按揭 利率"],
    "rare word (开裂 / 社保 …)": ["开裂", "社保", "地铁", "车位"],
}


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _text(rng: random.Random) -> tuple[str, str]:
    causes = rng.sample(CAUSES, rng.choice((1, 1, 2)))
    summary = f"{rng.choice(OPENINGS)}{'，'.join(causes)}，{rng.choice(ACTIONS)}，{rng.choice(RESULTS)}。"
    return summary, "；".join(rng.sample(LESSONS, 2))


def build(engine, pool: int, entries: int, projects: int) -> None:
    rng = random.Random(7)
    buf = io.StringIO()
    for i in range(pool):
        summary, lessons = _text(rng)
        reasons = [rng.choice(REASONS)]
        path = rng.choice(PATHS)
        case_no = f"RF2026{i % 12 + 1:02d}01-{i:06X}"
        d = index_doc(title=f"退房案件 {case_no} (路径 {path})", body=f"{summary}\n\n复盘要点: {lessons}",
                      reasons=reasons, path=path, case_no=case_no)
        row = [str(i), path, reasons[0], d.doc, d.tsv]
        buf.write("\t".join(x.replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n") for x in row) + "\n")
    buf.seek(0)
    with engine.begin() as c:
        c.execute(sa.text("ALTER TABLE knowledge_search DROP CONSTRAINT knowledge_search_entry_id_fkey"))
        c.execute(sa.text("CREATE TEMP TABLE pool (i int, path text, reason text, doc text, tsv tsvector)"))
        raw = c.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.copy_expert("COPY pool FROM STDIN", buf)
        c.execute(sa.text("""
            INSERT INTO knowledge_search (entry_id, case_id, project_id, case_no, path, reasons, title, doc, tsv,
                                          archived_at)
            SELECT g, md5(g::text)::uuid, 1 + g % :projects, 'RF' || to_char(g, 'FM00000000'), p.path,
                   jsonb_build_array(p.reason), '退房案件 RF' || to_char(g, 'FM00000000') || ' (路径 ' || p.path || ')',
                   p.doc, p.tsv, timestamptz '2024-01-01' + (g * interval '7 minutes')
            FROM generate_series(1, :n) g JOIN pool p ON p.i = (g * 7919) % :pool
        """), {"projects": projects, "n": entries, "pool": pool})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE knowledge_search"))


def main() -> None:
    n = int(os.environ.get("BENCH_ENTRIES", "100000"))
    pool = int(os.environ.get("BENCH_POOL", "20000"))
    nprojects = int(os.environ.get("BENCH_PROJECTS", "10"))
    runs = int(os.environ.get("BENCH_RUNS", "200"))
    with scratch_database("bench-knowledge", admin_url=os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = make_engine(url, pool_size=2)
        sf = make_session_factory(engine)
        t0 = time.perf_counter()
        build(engine, pool, n, nprojects)
        print(f"built {n:,} search rows ({pool:,} distinct texts segmented with jieba, {nprojects} projects) "
              f"in {time.perf_counter() - t0:.1f} s")
        rng = random.Random(11)
        worst = 0.0
        with sf() as session:
            for scope, projects in (("group-wide", None), ("one project", frozenset({3}))):
                for label, qs in QUERIES.items():
                    xs, hits = [], 0
                    for _ in range(runs):
                        q = rng.choice(qs)
                        t = time.perf_counter()
                        index_pending(session)
                        found = search(session, q, projects=projects, limit=20)
                        session.commit()
                        xs.append((time.perf_counter() - t) * 1000)
                        hits += len(found.items)
                    p99 = _pct(xs, 99)
                    worst = max(worst, p99)
                    print(f"{scope:11s} {label:38s} p50 {statistics.median(xs):6.2f} ms   p99 {p99:6.2f} ms   "
                          f"({runs} runs, {hits / runs:.0f} results a page)")
            from db.knowledge import _SEARCH_ALL, WINDOW

            for q in ("'复盘'", "'开裂'"):
                plan = session.execute(sa.text("EXPLAIN " + _SEARCH_ALL.text), {
                    "q": q, "limit": 21, "offset": 0, "window": WINDOW}).scalars().all()
                print(f"plan {q}:", " | ".join(x.strip() for x in plan[1:6]))
        print(f"goal p99 ≤ {GOAL_MS:.0f} ms over {n:,} entries: {'met' if worst <= GOAL_MS else 'NOT met'} "
              f"(worst p99 {worst:.2f} ms)")
        engine.dispose()


if __name__ == "__main__":
    main()
