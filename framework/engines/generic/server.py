"""What the PostgreSQL and MySQL servers share: an admin engine, a run's lock connection, stop.

A run's lock lives on one connection of its own (``HeldLock``). Idle connections get closed
(MySQL's ``wait_timeout``, PostgreSQL's ``idle_session_timeout``, a proxy, an administrator's
``pg_terminate_backend``), and a closed lock connection frees the lock, after which any reaper
would take the run for dead. So the lock connection turns the idle timeouts off for its own session
(MySQL: a ``wait_timeout`` a few pings long, so a holder that died lets go within a minute), bounds its
statements, and sets TCP keepalives on both ends (a holder cut off by the network finds out, and the server
frees the lock, within about half a minute, not the system's two hours). A thread waits on the
connection's socket (no CPU: it wakes when the server writes or closes, and to ping every ``KEEPALIVE``
seconds); when the connection is lost it opens a new one and takes the lock back at once, or, for a lock
that must not be taken back (``retake=False``: the pipeline's), marks it ``lost``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
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

KEEPALIVE = 10.0  # seconds between two pings of a lock connection (a closed one is seen at once)
RETRY = 1.0  # seconds between two tries to take a lost lock back (the longest it then stays free)
# TCP keepalives on a lock connection: probe after 10 s idle, every 5 s, give up after 3 unanswered
# (about 25 s); data unacknowledged for 30 s ends it too (TCP_USER_TIMEOUT)
TCP_KEEPALIVE = {"TCP_KEEPIDLE": 10, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3, "TCP_USER_TIMEOUT": 30_000}


@dataclass(frozen=True)
class LockSql:
    """How one engine takes, tries, and releases a named lock, and keeps its session from timing out."""

    acquire: str  # waits; returns 1 once held
    try_acquire: str  # does not wait; returns 1 when held
    release: str
    session: Sequence[str] = ()  # settings for the lock's own session (failures are ignored)


def _socket_of(conn: Connection) -> int | None:
    """The file descriptor of the connection's socket (psycopg2, PyMySQL), or None."""
    dbapi = conn.connection.dbapi_connection
    for get in (lambda: dbapi.fileno(), lambda: dbapi._sock.fileno()):  # type: ignore[union-attr]
        try:
            fd = get()
        except Exception:  # not this driver's way
            continue
        if isinstance(fd, int) and fd >= 0:
            return fd
    return None


def _set_keepalive(fd: int) -> None:
    """TCP keepalives (and a user timeout) on the socket ``fd``; nothing on a Unix socket."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:  # the same socket, our own fd
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in TCP_KEEPALIVE.items():
            if hasattr(socket, name):  # Linux has them all; others some
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


class HeldLock:
    """A server-side lock held by one open connection, kept alive, and taken back (or marked lost) when lost."""

    def __init__(
        self,
        engine: Engine,
        sql: LockSql,
        key: str,
        label: str,
        interval: float = KEEPALIVE,
        *,
        retake: bool = True,
    ) -> None:
        self._engine = engine
        self._sql = sql
        self._key = key
        self._label = label
        self._interval = interval
        self._retake = retake
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        self.lost = threading.Event()  # set when the connection was lost and the lock not taken back
        self.retaken = 0  # how often the lock was lost and taken back
        self._conn: Connection | None = self._take(self._sql.acquire)
        if self._conn is None:
            raise TargetError(f"{label}: could not take the run's lock {key!r}", label)
        self._wake_r, self._wake_w = os.pipe()  # release() wakes the watcher at once
        self._thread = threading.Thread(target=self._watch, name=f"datakits-lock-{key}", daemon=True)
        self._thread.start()

    def _take(self, acquire: str) -> Connection | None:
        """A new connection holding the lock, or None when another session holds it."""
        conn = self._engine.connect()
        try:
            fd = _socket_of(conn)
            if fd is not None:
                _set_keepalive(fd)
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
        """Sleep on the lock's socket: wake when the server writes or closes it, to ping, or to stop."""
        try:
            while not self._stopped.is_set():
                conn = self._conn
                fd = None if conn is None else _socket_of(conn)
                if fd is None:  # no connection (or no socket to wait on): try again after a while
                    select.select([self._wake_r], [], [], RETRY if conn is None else self._interval)
                    ready = False
                else:
                    ready = fd in select.select([fd, self._wake_r], [], [], self._interval)[0]
                with self._guard:
                    if self._stopped.is_set():
                        return
                    self._keep()
                    if self.lost.is_set():
                        return
                if ready and self._conn is conn:  # the server wrote something harmless: no busy loop on it
                    self._stopped.wait(RETRY)
        finally:
            os.close(self._wake_r)

    def _keep(self) -> None:
        """Ping the lock connection; when it is gone, take the lock back on a new one (or mark it lost)."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return
            except Exception:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
        if not self._retake:
            self.lost.set()
            return
        try:
            self._conn = self._take(self._sql.try_acquire)
        except Exception:  # the server is out of reach: try again at the next tick
            self._conn = None
        if self._conn is not None:
            self.retaken += 1

    def release(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        with contextlib.suppress(OSError):  # the watcher may have ended (lock lost)
            os.write(self._wake_w, b"x")
        os.close(self._wake_w)
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
