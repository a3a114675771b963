"""What the PostgreSQL and MySQL servers share: an admin engine, a lock connection, stop."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from ..connect import check_connection, make_engine


class HeldLock:
    """A server-side lock held by one open connection; releasing it closes the connection."""

    def __init__(self, conn: Connection, release_sql: str, key: str) -> None:
        self._conn = conn
        self._release_sql = release_sql
        self._key = key

    def release(self) -> None:
        try:
            self._conn.execute(text(self._release_sql), {"k": self._key})
        finally:
            self._conn.close()


class SqlServer:
    engine = ""

    def __init__(self, admin_url: URL, *, label: str, on_stop: Callable[[], None] | None = None) -> None:
        self._admin_url = admin_url
        self.label = label
        self._on_stop = on_stop
        self._admin: Engine = make_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    @property
    def admin_url(self) -> URL:
        return self._admin_url

    def check(self) -> None:
        check_connection(self._admin, self.label)

    def database_url(self, name: str) -> URL:
        return self._admin_url.set(database=name)

    def _scalar(self, sql: str, **params: object) -> object:
        with self._admin.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def _execute(self, sql: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(sql))

    def _column(self, sql: str, **params: object) -> list[str]:
        with self._admin.connect() as conn:
            return [row[0] for row in conn.execute(text(sql), params)]

    def _hold(self, acquire_sql: str, release_sql: str, key: str) -> HeldLock:
        conn = self._admin.connect()
        conn.execute(text(acquire_sql), {"k": key})
        return HeldLock(conn, release_sql, key)

    def stop(self) -> None:
        self._admin.dispose()
        if self._on_stop is not None:
            self._on_stop()
