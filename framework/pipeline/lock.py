"""One pipeline run at a time per warehouse: a server-side lock, held like a run's claim.

Two runs into one warehouse at once race on DDL (two ``CREATE TYPE``/``CREATE TABLE`` of the same
name) and roll each other back; after a round where both fail, bronze is loaded and silver and gold
are missing. So :func:`run_pipeline <framework.pipeline.steps.run_pipeline>` first takes a lock on
the warehouse's server (a PostgreSQL advisory lock in the warehouse database, a MySQL ``GET_LOCK``
named after it), on a connection of its own kept alive the way a run's claim is
(:class:`~framework.engines.generic.server.HeldLock`). A second run waits for it, says so in one line,
and gives up with one line after ``DATAKITS_PIPELINE_WAIT`` seconds (default 900). A run that dies
lets go with its connection. SQLite has no server to hold the lock (and the dbt steps need PostgreSQL).
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

__all__ = ["WAIT", "WAIT_ENV", "warehouse_lock"]

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


@contextmanager
def warehouse_lock(
    database: Database, report: Callable[[str], None] | None = None, wait: float | None = None
) -> Iterator[None]:
    """Hold the warehouse's pipeline lock for the block; wait at most ``wait`` seconds for it."""
    engine = database.engine(poolclass=NullPool)
    try:
        sql = _lock_sql(engine.dialect.name)
        if sql is None:
            yield
            return
        check_connection(engine, "warehouse")
        name = engine.url.database or ""
        key = "datakits_pipeline_" + hashlib.sha256(name.encode()).hexdigest()[:16]  # GET_LOCK: 64 characters
        limit = _wait() if wait is None else wait
        deadline = time.monotonic() + limit
        said = False
        while True:
            try:
                held = HeldLock(engine, sql, key, database.safe_url)
                break
            except TargetError:  # another pipeline run holds it
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
        try:
            yield
        finally:
            held.release()
    finally:
        engine.dispose()
