"""The records-retention sweep by hand, for ops: `python -m scripts.anonymise [--dry-run] [--batch N]`.

The same work as the daily RetentionSweepWorkflow (db/retention.py): closed refund cases past retain_until that
no legal hold keeps lose their personal data, in batches of N per transaction, until none is left. It prints
each case it anonymised with what was removed (counts), and the cases a hold keeps. `--dry-run` changes
nothing: it lists what a run would take. Safe beside the scheduled sweep (rows are taken FOR UPDATE SKIP
LOCKED) and safe to repeat. Needs DATABASE_URL (`make run` prints it on its `Database` line) and the
worker's DATA_KEY, BLIND_INDEX_KEY and DATA_DIR (the evidence files)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from config.settings import get_settings
from db.pii import PiiCipher
from db.retention import BATCH, anonymise_due, due_cases, held_past_retention
from db.session import make_engine, make_session_factory


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "nothing left to remove"


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.anonymise", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="list what would be anonymised; change nothing")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"cases per transaction (default {BATCH})")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    settings = get_settings()
    if not settings.database_url:
        print("DATABASE_URL is not set (make run prints it on its `Database` line)", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    sessions = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    print(f"records retention at {now:%Y-%m-%d %H:%M} UTC{' (dry run: nothing is changed)' if args.dry_run else ''}",
          file=out)
    try:
        with sessions() as s:
            held = held_past_retention(s, now=now)
            due = due_cases(s, now=now) if args.dry_run else []
        for row in due:
            print(f"  due   {row.case_no}  (retain until {row.retain_until:%Y-%m-%d})", file=out)
        total = customers = files = 0
        if not args.dry_run:
            cipher = PiiCipher(settings.data_key, settings.blind_index_key)
            while True:
                with sessions.begin() as s:
                    r = anonymise_due(s, now=now, cipher=cipher, data_dir=settings.data_dir, limit=args.batch)
                for c in r.cases:
                    who = {"erased": "customer record erased", "already_erased": "customer record already erased",
                           "kept": f"customer record kept ({', '.join(c.kept_because)})"}[c.customer]
                    print(f"  done  {c.case_no}: {_counts(c.removed)}; {who}"
                          + (f" [{_counts(c.customer_removed)}]" if c.customer_removed else ""), file=out)
                total, customers, files = total + len(r.cases), customers + r.customers_erased, files + r.files_removed
                if len(r.cases) + r.held < args.batch:
                    break
        for row in held:
            print(f"  held  {row.case_no}  (retain until {row.retain_until:%Y-%m-%d}; on hold since "
                  f"{row.set_at:%Y-%m-%d}: {row.reason})", file=out)
        if args.dry_run:
            print(f"{len(due)} case(s) due, {len(held)} kept by a legal hold", file=out)
        else:
            print(f"{total} case(s) anonymised, {customers} customer record(s) erased, {files} evidence file(s) "
                  f"removed; {len(held)} kept by a legal hold", file=out)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
