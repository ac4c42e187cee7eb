"""The notice dispatcher alone in a process of its own, as the worker runs it (a LISTEN loop), for the kill
test: `python -m tests.faults.run_dispatcher <database url> <public base url>`."""

from __future__ import annotations

import sys
import threading

from sqlalchemy.engine import make_url

from db.session import make_engine, make_session_factory
from tests.factories import cipher
from workers.dispatcher import Dispatcher


def main() -> None:
    url, base = sys.argv[1], sys.argv[2]
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    dispatcher = Dispatcher(make_session_factory(make_engine(url, pool_size=2)), cipher(), base_url=base, timeout=5.0)
    print("dispatching", flush=True)
    dispatcher.run(threading.Event(), dsn=dsn, poll_s=0.5)


if __name__ == "__main__":
    main()
