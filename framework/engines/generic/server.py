"""What the PostgreSQL and MySQL servers share: an admin engine, a run's lock connection, stop.

A run's lock lives on one connection of its own (``HeldLock``). Idle connections get closed
(MySQL's ``wait_timeout``, PostgreSQL's ``idle_session_timeout``, a proxy, an administrator's
``pg_terminate_backend``), and a closed lock connection frees the lock, after which any reaper
would take the run for dead. So the lock connection turns those timeouts off for its own session,
pings the server every ``KEEPALIVE`` seconds from a thread, and when the connection is lost
opens a new one and takes the lock back at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from ...errors import TargetError
from .connect import check_engine, engine_for
from .identifiers import execute_ddl, quote_identifier
from .urls import safe_server_url

if TYPE_CHECKING:
    from .protocols import EngineKind

KEEPALIVE = 1.0  # seconds between two pings of a lock connection (and the longest a lost lock stays free)


@dataclass(frozen=True)
class LockSql:
    """How one engine takes, tries, and releases a named lock, and keeps its session from timing out."""

    acquire: str  # waits; returns 1 once held
    try_acquire: str  # does not wait; returns 1 when held
    release: str
    session: Sequence[str] = ()  # settings for the lock's own session (failures are ignored)


class HeldLock:
    """A server-side lock held by one open connection, kept alive, and taken back when lost."""

    def __init__(self, engine: Engine, sql: LockSql, key: str, label: str, interval: float = KEEPALIVE) -> None:
        self._engine = engine
        self._sql = sql
        self._key = key
        self._label = label
        self._interval = interval
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        self.retaken = 0  # how often the lock was lost and taken back
        self._conn: Connection | None = self._take(self._sql.acquire)
        if self._conn is None:
            raise TargetError(f"{label}: could not take the run's lock {key!r}", label)
        self._thread = threading.Thread(target=self._watch, name=f"datakits-lock-{key}", daemon=True)
        self._thread.start()

    def _take(self, acquire: str) -> Connection | None:
        """A new connection holding the lock, or None when another session holds it."""
        conn = self._engine.connect()
        try:
            for statement in self._sql.session:
                with contextlib.suppress(Exception):  # an older server without the setting
                    conn.execute(text(statement))
            if conn.execute(text(acquire), {"k": self._key}).scalar() == 1:
                return conn
        except BaseException:
            conn.close()
            raise
        conn.close()
        return None

    def _watch(self) -> None:
        while not self._stopped.wait(self._interval):
            with self._guard:
                if self._stopped.is_set():
                    return
                self._keep()

    def _keep(self) -> None:
        """Ping the lock connection; when it is gone, take the lock back on a new one."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return
            except Exception:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
        try:
            self._conn = self._take(self._sql.try_acquire)
        except Exception:  # the server is out of reach: try again at the next tick
            self._conn = None
        if self._conn is not None:
            self.retaken += 1

    def release(self) -> None:
        self._stopped.set()
        with self._guard:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                conn.execute(text(self._sql.release), {"k": self._key})
            except Exception:  # the connection died: the server released the lock with it
                pass
            finally:
                with contextlib.suppress(Exception):
                    conn.close()


class SqlServer:
    engine = ""
    lock_sql = LockSql("", "", "")

    def __init__(
        self, admin_url: URL, *, kind: EngineKind, label: str, on_stop: Callable[[], None] | None = None
    ) -> None:
        self._admin_url = admin_url
        self.label = label
        self._on_stop = on_stop
        self._admin: Engine = engine_for(kind, admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    @property
    def admin_url(self) -> URL:
        return self._admin_url

    def quote(self, name: str) -> str:
        """``name`` as a quoted identifier of this engine, for ``_ddl``."""
        return quote_identifier(self._admin.dialect, name)

    def _ddl(self, statement: str) -> None:
        execute_ddl(self._admin, statement)

    def check(self) -> None:
        check_engine(self._admin, safe_server_url(self._admin.url), self.label)

    def database_url(self, name: str) -> URL:
        return self._admin_url.set(database=name)

    def _scalar(self, sql: str, **params: object) -> object:
        with self._admin.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def _column(self, sql: str, **params: object) -> list[str]:
        with self._admin.connect() as conn:
            return [row[0] for row in conn.execute(text(sql), params)]

    def hold_lock(self, key: str) -> HeldLock:
        return HeldLock(self._admin, self.lock_sql, key, self.label)

    def stop(self) -> None:
        self._admin.dispose()
        if self._on_stop is not None:
            self._on_stop()
