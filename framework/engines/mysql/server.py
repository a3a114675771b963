"""MySQL/MariaDB: a database per run (plus one per schema), runs told apart by GET_LOCK."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import URL

from ..generic.server import LockSql, SqlServer


class MysqlServer(SqlServer):
    engine = "mysql"
    lock_sql = LockSql(
        acquire="SELECT GET_LOCK(:k, 10)",
        try_acquire="SELECT GET_LOCK(:k, 0)",
        release="SELECT RELEASE_LOCK(:k)",
        session=(
            # idle closes only a holder that stopped pinging (every KEEPALIVE s): a vanished one lets go in 60 s
            "SET SESSION wait_timeout = 60",
            "SET SESSION lock_wait_timeout = 30",
            "SET SESSION max_statement_time = 30",  # MariaDB
            "SET SESSION max_execution_time = 30000",  # MySQL
        ),
    )

    def create_database(self, name: str, template: str | None = None) -> URL:
        # MySQL cannot clone a database: the caller deploys into it instead of copying a template
        self._ddl(f"CREATE DATABASE {self.quote(name)} CHARACTER SET utf8mb4")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        # a schema of the database lives in a database of its own, named <name>__<schema>
        for real in [name, *self.list_databases(f"{name}__")]:
            self._ddl(f"DROP DATABASE IF EXISTS {self.quote(real)}")

    def list_databases(self, prefix: str) -> list[str]:
        return [d for d in self._column("SHOW DATABASES") if d.startswith(prefix)]

    def in_use(self, names: Sequence[str]) -> bool:
        """True while any session uses one of ``names`` (or a schema database of one) as its database."""
        sessions = self._column("SELECT DB FROM information_schema.PROCESSLIST WHERE DB IS NOT NULL")
        return any(db == name or db.startswith(f"{name}__") for db in sessions for name in names)

    def lock_is_free(self, key: str) -> bool:
        return bool(self._scalar("SELECT IS_FREE_LOCK(:k)", k=key))
