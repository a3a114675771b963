"""PostgreSQL: databases cloned with CREATE DATABASE ... TEMPLATE, runs told apart by advisory locks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import URL

from ..generic.server import LockSql, SqlServer

# a run's lock: a session-level advisory lock on a 64-bit hash of its key
_LOCK_KEY = "hashtextextended(:k, 7311)"


class PostgresServer(SqlServer):
    engine = "postgresql"
    lock_sql = LockSql(
        acquire=f"SELECT 1 FROM (SELECT pg_advisory_lock({_LOCK_KEY})) AS held",
        try_acquire=f"SELECT CASE WHEN pg_try_advisory_lock({_LOCK_KEY}) THEN 1 ELSE 0 END",
        release=f"SELECT pg_advisory_unlock({_LOCK_KEY})",
        session=(
            "SET idle_session_timeout = 0",
            "SET idle_in_transaction_session_timeout = 0",
            # the server's end of the keepalives: a holder that vanished lets go in about 25 s, not 2 hours
            "SET tcp_keepalives_idle = 10",
            "SET tcp_keepalives_interval = 5",
            "SET tcp_keepalives_count = 3",
            "SET tcp_user_timeout = 30000",
            "SET client_connection_check_interval = 5000",
            # the lock session's own statements are bounded
            "SET statement_timeout = '30s'",
            "SET lock_timeout = '30s'",
        ),
    )

    def create_database(self, name: str, template: str | None = None) -> URL:
        clause = f" TEMPLATE {self.quote(template)}" if template else ""
        self._ddl(f"CREATE DATABASE {self.quote(name)}{clause}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        self._ddl(f"DROP DATABASE IF EXISTS {self.quote(name)} WITH (FORCE)")

    def list_databases(self, prefix: str) -> list[str]:
        return self._column("SELECT datname FROM pg_database WHERE starts_with(datname, :p) ORDER BY datname", p=prefix)

    def in_use(self, names: Sequence[str]) -> bool:
        """True while any session is connected to one of ``names``."""
        return bool(self._scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(:n)", n=list(names)))

    def lock_is_free(self, key: str) -> bool:
        # pg_locks is cluster-wide: a run holding its lock from any database counts as live
        held = self._scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            f"AND ((classid::bigint << 32) | objid::bigint) = {_LOCK_KEY}",
            k=key,
        )
        return held == 0
