"""PostgreSQL: databases cloned with CREATE DATABASE ... TEMPLATE, runs told apart by advisory locks."""

from __future__ import annotations

from sqlalchemy.engine import URL

from ._sql import HeldLock, SqlServer

# a run's lock: a session-level advisory lock on a 64-bit hash of its key
_LOCK_KEY = "hashtextextended(:k, 7311)"


class PostgresServer(SqlServer):
    engine = "postgresql"

    def create_database(self, name: str, template: str | None = None) -> URL:
        clause = f' TEMPLATE "{template}"' if template else ""
        self._execute(f'CREATE DATABASE "{name}"{clause}')
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def list_databases(self, prefix: str) -> list[str]:
        return self._column("SELECT datname FROM pg_database WHERE starts_with(datname, :p) ORDER BY datname", p=prefix)

    def hold_lock(self, key: str) -> HeldLock:
        return self._hold(f"SELECT pg_advisory_lock({_LOCK_KEY})", f"SELECT pg_advisory_unlock({_LOCK_KEY})", key)

    def lock_is_free(self, key: str) -> bool:
        # pg_locks is cluster-wide: a run holding its lock from any database counts as live
        held = self._scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            f"AND ((classid::bigint << 32) | objid::bigint) = {_LOCK_KEY}",
            k=key,
        )
        return held == 0
