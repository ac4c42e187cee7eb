"""Customer look-up at 100,000 customers: p50/p99 of exact look-up by ID number and by mobile (blind
index) and of a name-prefix search, each through `db.customers.search_customers` (page + total count).
A benchmark that prints, not a test.

Starts a throwaway embedded PostgreSQL (or uses BENCH_DATABASE_URL, an admin URL), creates a scratch
database, migrates it and seeds BENCH_CUSTOMERS (default 100,000) customers with COPY. Fernet encryption
per row is slow, so a pool of a few thousand encrypted tokens is reused; the blind indexes and masks are
computed per customer from distinct, valid ID numbers and mobiles. BENCH_RUNS (default 500) look-ups each.

    .venv/bin/python -m scripts.bench_customers
"""

from __future__ import annotations

import io
import os
import random
import statistics
import time
from datetime import date

import sqlalchemy as sa

from config.settings import get_settings
from db.customers import id_lookup_indexes, mobile_lookup_index, search_customers
from db.demo_ids import resident_id
from db.models import Project, User
from db.org import city_company_id, grant, load_access
from db.pii import PiiCipher
from db.scratch import scratch_database
from db.session import make_engine, make_session_factory
from domain.identity import mask_id_number, mask_mobile

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红文斌宇浩凯鹏飞俊峰晨欣怡佳琪子涵梓轩"
REGIONS = ("110105", "310104", "440305", "330106", "510107", "320102", "420106", "120101", "370102", "610103")
TODAY = date(2026, 11, 23)


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _identity(i: int) -> tuple[str, str]:
    """A distinct valid resident ID and mobile for customer i (i < 10 regions × 3,650 days × 1,000)."""
    region = REGIONS[i % len(REGIONS)]
    day = date(1960, 1, 1).toordinal() + (i // len(REGIONS)) // 1000
    birth = date.fromordinal(day).strftime("%Y%m%d")
    return resident_id((i // len(REGIONS)) % 1000, region=region, birth=birth), f"139{i:08d}"


def seed(engine, cipher: PiiCipher, n: int, consultants: list[int], project_id: int) -> list[tuple[str, str, str]]:
    rng = random.Random(7)
    pool = 2000
    id_tokens = [cipher.encrypt(_identity(10_000_000 + k)[0]) for k in range(pool)]
    mobile_tokens = [cipher.encrypt(_identity(10_000_000 + k)[1]) for k in range(pool)]
    buf = io.StringIO()
    samples = []
    for i in range(n):
        id_no, mob = _identity(i)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        buf.write("\t".join((
            name, "resident_id", id_tokens[i % pool], cipher.blind_index("id.resident_id", id_no), mask_id_number(id_no),
            mobile_tokens[i % pool], cipher.blind_index("mobile", mob), mask_mobile(mob),
            str(consultants[i % len(consultants)]), "ABCD"[i % 4], "[]", str(project_id),
        )) + "\n")
        if i % max(1, n // 1000) == 0:
            samples.append((id_no, mob, name[:2]))
    buf.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.copy_expert(
                "COPY customers (name, id_type, id_number_enc, id_number_bidx, id_number_masked, mobile_enc, "
                "mobile_bidx, mobile_masked, consultant_id, rating, tags, project_id) FROM STDIN", buf)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as c:
        c.execute(sa.text("ANALYZE customers"))
    return samples


def main() -> None:
    n = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
    runs = int(os.environ.get("BENCH_RUNS", "500"))
    with scratch_database("bench-customers", admin_url=os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = make_engine(url, pool_size=2)
        sf = make_session_factory(engine)
        s = get_settings()
        cipher = PiiCipher(s.data_key, s.blind_index_key)
        with sf.begin() as session:
            project = Project(name="bench-customers", city="杭州", city_company_id=city_company_id(session, "杭州公司"))
            users = [User(username=f"sales-{k}", display_name="sales", role="sales", password_hash="x") for k in range(20)]
            manager = User(username="manager", display_name="manager", role="manager", password_hash="x")
            session.add_all([project, *users, manager])
            session.flush()
            for u in (*users, manager):
                grant(session, u.id, u.role, project_id=project.id)
            consultants, manager_id, project_id = [u.id for u in users], manager.id, project.id
        t0 = time.perf_counter()
        samples = seed(engine, cipher, n, consultants, project_id)
        print(f"seeded {n:,} customers in {time.perf_counter() - t0:.1f} s")
        rng = random.Random(11)
        with sf() as session:
            viewer = session.get(User, manager_id)
            sales_viewer = session.get(User, consultants[0])
            for v in (viewer, sales_viewer):  # as the API gives every request its caller's memberships
                v.access = load_access(session, v.id)

            def timed(fn) -> list[float]:
                out = []
                for _ in range(runs):
                    id_no, mob, prefix = rng.choice(samples)
                    t = time.perf_counter()
                    fn(id_no, mob, prefix)
                    out.append((time.perf_counter() - t) * 1000)
                return out

            cases = {
                "exact look-up by ID number": lambda i, m, p: search_customers(
                    session, viewer=viewer, id_indexes=id_lookup_indexes(cipher, i, id_type=None, today=TODAY)),
                "exact look-up by mobile": lambda i, m, p: search_customers(
                    session, viewer=viewer, mobile_index=mobile_lookup_index(cipher, m)),
                "name prefix (2 chars), page of 50 + total": lambda i, m, p: search_customers(
                    session, viewer=viewer, name_prefix=p, limit=50),
                "name prefix, one consultant's customers": lambda i, m, p: search_customers(
                    session, viewer=sales_viewer, name_prefix=p[:1], limit=50),
            }
            for label, fn in cases.items():
                xs = timed(fn)
                print(f"{label:45s} p50 {statistics.median(xs):6.2f} ms   p99 {_pct(xs, 99):6.2f} ms   ({runs} runs)")
            plan = session.execute(sa.text(
                "EXPLAIN SELECT id FROM customers WHERE name LIKE :p ORDER BY name, id LIMIT 50"), {"p": samples[0][2] + "%"}).scalars().all()
            print("name-prefix plan:", " | ".join(x.strip() for x in plan[:3]))
        engine.dispose()


if __name__ == "__main__":
    main()
