"""The CPU a held lock's watcher thread costs, the old way and the new, side by side in one run.

A pipeline run holds its warehouse lock (two sessions, two watcher threads) for the whole run, and a
run's claim holds one more. The watcher used to wake every second to ping the server (``SELECT 1``);
it now sleeps on the lock connection's socket (``select``), waking when the server writes or closes
it, or to ping every ``KEEPALIVE`` seconds. Each way holds a lock on the PostgreSQL at
``DATAKITS_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) for ``--seconds``,
and the watcher thread's own CPU time is read from its thread CPU clock (``pthread_getcpuclockid``).

    python tests/benchmarks/bench_lock_watcher.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import time

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from framework.engines.generic.server import HeldLock
from framework.engines.postgresql.server import PostgresServer

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class OldWatcher(HeldLock):
    """The watcher as it was: wake every second, ping, take the lock back when lost."""

    def _watch(self) -> None:
        while not self._stopped.wait(1.0):
            with self._guard:
                if self._stopped.is_set():
                    return
                self._keep()


def watcher_cpu(kind: type[HeldLock], url: str, seconds: float) -> float:
    """CPU seconds of the watcher thread over ``seconds`` of holding a lock."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    held = kind(engine, PostgresServer.lock_sql, f"bench_watcher_{os.getpid()}_{kind.__name__}", "bench")
    try:
        assert held._thread.ident is not None
        clock = time.pthread_getcpuclockid(held._thread.ident)
        start = time.clock_gettime(clock)
        time.sleep(seconds)
        return time.clock_gettime(clock) - start
    finally:
        held.release()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    url = os.environ.get("DATAKITS_POSTGRES_URL", DEFAULT_URL).replace("postgresql://", "postgresql+psycopg2://")
    old = watcher_cpu(OldWatcher, url, args.seconds)
    new = watcher_cpu(HeldLock, url, args.seconds)
    print(f"watcher CPU over {args.seconds:g}s of holding a lock (one thread):")
    print(f"  old  wake every 1 s + SELECT 1       {old * 1000:8.2f} ms")
    print(f"  new  select() on the lock's socket   {new * 1000:8.2f} ms")
    print(f"  old / new                            {old / new if new else float('inf'):8.1f}x")


if __name__ == "__main__":
    main()
