"""One pipeline run at a time per warehouse: a server-side lock, held like a run's claim.

Two runs into one warehouse at once race on DDL (two ``CREATE TYPE``/``CREATE TABLE`` of the same
name) and roll each other back; after a round where both fail, bronze is loaded and silver and gold
are missing. So :func:`run_pipeline <framework.pipeline.steps.run_pipeline>` first takes a lock on
the warehouse's server (PostgreSQL advisory locks in the warehouse database, MySQL ``GET_LOCK``s
named after it), on connections of its own kept alive the way a run's claim is
(:class:`~framework.engines.generic.server.HeldLock`: TCP keepalives, bounded statements, a watcher
asleep on the socket). A second run waits for it, says so in one line, and gives up with one line
after ``DATAKITS_PIPELINE_WAIT`` seconds (default 900). A run that dies lets go with its connections.
SQLite has no server to hold the lock (and the dbt steps need PostgreSQL).

The lock is two locks on two sessions: the *gate* and the *presence*. A run takes the gate, then the
presence, and holds both to its end. When either session is lost (an administrator's
``pg_terminate_backend``, a proxy, the network), the run does not take it back: it stops at its next
step with one line saying it lost the lock (:meth:`PipelineLock.check`). A second run that got the freed
gate still waits for the presence, which the first run lets go only when it has stopped: two runs are
never in the warehouse at once unless both of the first run's sessions are cut.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.pool import NullPool

from ..engines.connect import check_connection
from ..engines.generic.server import HeldLock, LockSql
from ..errors import PipelineError, TargetError
from ..targets.runs import Database

__all__ = ["WAIT", "WAIT_ENV", "PipelineLock", "warehouse_lock"]

WAIT = 900.0  # seconds a run waits for another run on the same warehouse
WAIT_ENV = "DATAKITS_PIPELINE_WAIT"
POLL = 0.5


def _lock_sql(dialect: str) -> LockSql | None:
    if dialect == "postgresql":
        from ..engines.postgresql.server import PostgresServer

        sql = PostgresServer.lock_sql
    elif dialect == "mysql":
        from ..engines.mysql.server import MysqlServer

        sql = MysqlServer.lock_sql
    else:
        return None
    return LockSql(sql.try_acquire, sql.try_acquire, sql.release, sql.session)  # never block: we poll


def _wait() -> float:
    value = os.environ.get(WAIT_ENV, "").strip()
    if not value:
        return WAIT
    try:
        return max(0.0, float(value))
    except ValueError:
        raise PipelineError(f"{WAIT_ENV}={value!r} is not a number of seconds") from None


class PipelineLock:
    """The warehouse's pipeline lock as held by one run: :meth:`check` between steps."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.held: list[HeldLock] = []

    @property
    def lost(self) -> bool:
        return any(held.lost.is_set() for held in self.held)

    def check(self) -> None:
        """Raise :class:`PipelineError` when the lock was lost: another run may be coming in."""
        if self.lost:
            raise PipelineError(
                f"lost the pipeline lock on {self.label} (its session was ended: an administrator, a proxy or "
                "the network); stopped here so that no other run works beside this one; run it again",
                step="lock",
            )

    def release(self) -> None:
        for held in reversed(self.held):
            held.release()


@contextmanager
def warehouse_lock(
    database: Database, report: Callable[[str], None] | None = None, wait: float | None = None
) -> Iterator[PipelineLock | None]:
    """Hold the warehouse's pipeline lock for the block; wait at most ``wait`` seconds for it.

    Yields the :class:`PipelineLock` (None on SQLite): call its ``check()`` between steps; the block's end
    checks too, so a run that lost the lock fails."""
    engine = database.engine(poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        sql = _lock_sql(engine.dialect.name)
        if sql is None:
            yield None
            return
        check_connection(engine, "warehouse")
        name = engine.url.database or ""
        key = "datakits_pipeline_" + hashlib.sha256(name.encode()).hexdigest()[:16]  # GET_LOCK: 64 characters
        limit = _wait() if wait is None else wait
        deadline = time.monotonic() + limit
        lock = PipelineLock(database.safe_url)
        said = False
        try:
            for part in (key, key + "_presence"):  # the gate, then the presence (the holder's own)
                while True:
                    try:
                        lock.held.append(HeldLock(engine, sql, part, database.safe_url, retake=False))
                        break
                    except TargetError:  # another pipeline run holds it (or has not stopped yet)
                        if not said and report is not None:
                            report(f"waiting     another pipeline run holds {database.safe_url}; up to {limit:g}s")
                        said = True
                        if time.monotonic() >= deadline:
                            raise PipelineError(
                                f"another pipeline run still holds {database.safe_url} after {limit:g}s; "
                                f"wait for it, or set {WAIT_ENV}",
                                step="lock",
                            ) from None
                        time.sleep(POLL)
            yield lock
            lock.check()
        finally:
            lock.release()
    finally:
        engine.dispose()
