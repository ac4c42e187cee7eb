"""`make run`: the whole system with demo data; a service that dies is restarted (with backoff), one Ctrl-C
stops it all. Data survives restarts in .data/."""

from __future__ import annotations

import signal
import sys

from config.settings import get_settings
from scripts.seed import DEMO_PASSWORD, DEMO_PEOPLE, DEMO_USERS
from scripts.stack import Stack


def main() -> int:
    settings = get_settings()
    stack = Stack(settings)
    # Ctrl-C and SIGTERM (what the tests and service managers send) both stop everything, restarts included.
    signal.signal(signal.SIGINT, stack.interrupt)
    signal.signal(signal.SIGTERM, stack.interrupt)
    try:
        print("Starting EstateFlow: PostgreSQL, Temporal, migrations, worker, API ...", flush=True)
        if dev := settings.development_keys():
            print(f"Development keys in use ({', '.join(dev)}): fine for a demo on this machine; a deployment "
                  "sets its own and ENVIRONMENT=production, which refuses these.", flush=True)
        seeded = stack.start()
        ui = settings.temporal_ui_base
        print(
            f"""
EstateFlow is running{' (demo data seeded)' if seeded else ''}.
  API            {stack.api_url}            (interactive docs: {stack.api_url}/docs)
  Refund policy  {stack.api_url}/api/refund-policy
  Temporal UI    {ui}
  Database       {stack.database_url}
  Logs           {stack.log_dir}
  Pid files      {stack.pid_dir}
  Drill speedup  {settings.estateflow_drill_speedup}x (ESTATEFLOW_DRILL_SPEEDUP)

Demo logins (password: {DEMO_PASSWORD}):
"""
            + "\n".join(f"  {u:<10} {name}" for u, name in DEMO_USERS.items())
            + f"\n  ... and {len(DEMO_PEOPLE)} more: admin, xixi.*, sz.* (the other projects; scripts/seed.py)"
            + "\n\nA service that dies is restarted (see the supervisor lines below). Press Ctrl-C to stop everything.",
            flush=True,
        )
        stack.wait()  # returns, or raises KeyboardInterrupt, once a signal asked to stop
    except KeyboardInterrupt:
        pass
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
