"""MySQL/MariaDB: a database per run (plus one per schema), runs told apart by GET_LOCK."""

from __future__ import annotations

from sqlalchemy.engine import URL

from ._sql import HeldLock, SqlServer


class MysqlServer(SqlServer):
    engine = "mysql"

    def create_database(self, name: str, template: str | None = None) -> URL:
        # MySQL cannot clone a database: the caller deploys into it instead of copying a template
        self._execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        # a schema of the database lives in a database of its own, named <name>__<schema>
        for real in [name, *self.list_databases(f"{name}__")]:
            self._execute(f"DROP DATABASE IF EXISTS `{real}`")

    def list_databases(self, prefix: str) -> list[str]:
        return [d for d in self._column("SHOW DATABASES") if d.startswith(prefix)]

    def hold_lock(self, key: str) -> HeldLock:
        return self._hold("SELECT GET_LOCK(:k, 10)", "SELECT RELEASE_LOCK(:k)", key)

    def lock_is_free(self, key: str) -> bool:
        return bool(self._scalar("SELECT IS_FREE_LOCK(:k)", k=key))
