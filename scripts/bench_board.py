"""The 销控 board for a 2,000-unit project: p50/p99 of the board query. A benchmark that prints, not a test.

Starts a throwaway embedded PostgreSQL (or uses BENCH_DATABASE_URL, an admin URL), creates a scratch
database, migrates it, creates one project with BENCH_UNITS units (default 2,000: 5 buildings × 40 floors ×
10 units, a few locked/sold/held), then times BENCH_RUNS (default 200) board requests' work: lock expiry,
the one SQL query, grouping by building/floor and JSON encoding. Also the XLSX export, fewer times.

    .venv/bin/python -m scripts.bench_board
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from db.inventory import board, board_rows, board_xlsx, expire_locks
from db.models import Building, Project, Unit, UnitState
from db.org import city_company_id
from db.scratch import scratch_database
from db.session import make_engine, make_session_factory
from domain.units import LOCK_TTL


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    n_units = int(os.environ.get("BENCH_UNITS", "2000"))
    runs = int(os.environ.get("BENCH_RUNS", "200"))
    with scratch_database("bench-board", admin_url=os.environ.get("BENCH_DATABASE_URL")) as url:
        engine = make_engine(url)
        sf = make_session_factory(engine)
        states = [UnitState.AVAILABLE] * 7 + [UnitState.SUBSCRIBED, UnitState.HELD, UnitState.LOCKED]
        now = datetime.now(timezone.utc)
        with sf.begin() as s:
            p = Project(name="bench-board", city="杭州", city_company_id=city_company_id(s, "杭州公司"))
            s.add(p)
            s.flush()
            pid, made, b = p.id, 0, 0
            while made < n_units:
                b += 1
                bld = Building(project_id=pid, name=f"{b}号楼")
                s.add(bld)
                s.flush()
                rows = []
                for floor in range(1, 41):
                    for k in range(1, 11):
                        if made >= n_units:
                            break
                        st = states[made % len(states)]
                        rows.append(dict(project_id=pid, building_id=bld.id, code=f"{floor}{k:02d}", floor=floor,
                                         layout="三室两厅", gross_area=Decimal("98.50"), unit_price=Decimal("21000.00"),
                                         total_price=Decimal("2068500"), state=st,
                                         locked_at=now if st == UnitState.LOCKED else None))
                        made += 1
                s.execute(sa.insert(Unit), rows)
        print(f"project {pid}: {n_units} units in {b} buildings; {runs} runs")

        def one() -> int:
            with sf() as s:
                if expire_locks(s, now=datetime.now(timezone.utc), ttl=LOCK_TTL, project_id=pid):
                    s.commit()
                rows = board_rows(s, project_id=pid)
                body = json.dumps({"project_id": pid, "buildings": board(rows)}, default=str, ensure_ascii=False)
                return len(body)

        for _ in range(10):  # warm-up
            one()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            size = one()
            times.append((time.perf_counter() - t0) * 1000)
        print(f"board JSON  ({size / 1024:.0f} KiB): p50 {statistics.median(times):.1f} ms  p99 {_pct(times, 99):.1f} ms  "
              f"max {max(times):.1f} ms")
        with sf() as s:
            sql_times = []
            for _ in range(runs):
                t1 = time.perf_counter()
                board_rows(s, project_id=pid)
                sql_times.append((time.perf_counter() - t1) * 1000)
        print(f"query only: p50 {statistics.median(sql_times):.1f} ms  p99 {_pct(sql_times, 99):.1f} ms")
        x_times = []
        for _ in range(max(5, runs // 20)):
            with sf() as s:
                t0 = time.perf_counter()
                board_xlsx(board_rows(s, project_id=pid), title="bench")
                x_times.append((time.perf_counter() - t0) * 1000)
        print(f"board.xlsx: p50 {statistics.median(x_times):.1f} ms  p99 {_pct(x_times, 99):.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
