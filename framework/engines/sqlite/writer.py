"""SQLite fast path: ``executemany`` per chunk, all in the batch's one transaction.

SQLite has one writer per database at a time, and a second writer waits at most its busy timeout
(or fails at once on a shared in-memory database). So loads into one SQLite database take turns:
:func:`write_lock` gives the lock every load into that database holds for its transaction: the
tables of a parallel load into one SQLite database are written one after the other.
"""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from ..generic.dbapi import ExecutemanyWriter

__all__ = ["SqliteWriter", "write_lock"]

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def write_lock(engine: Engine) -> threading.Lock:
    """The lock that loads into ``engine``'s SQLite database take turns on."""
    key = engine.url.database or ""
    with _guard:
        return _locks.setdefault(key, threading.Lock())


class SqliteWriter(ExecutemanyWriter):
    """Writes a batch into a SQLite table with ``executemany``."""

    placeholder = "?"
    threaded = False  # SQLite works without waiting on a server: nothing to overlap
