"""MySQL/MariaDB: a schema is a database of its own, no cloning, DDL commits at once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.schema import CreateSchema

if TYPE_CHECKING:
    from ..loading.common import Lineage, Writer
    from . import EngineKind


NAME_LIMIT = 64


def schema_database(database: str, schema: str) -> str:
    """The MySQL database that holds ``schema`` of ``database`` (at most 64 characters)."""
    name = f"{database}__{schema}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    room = NAME_LIMIT - len(database) - len(digest) - 3
    if room < 4:
        raise ValueError(f"MySQL database name {database!r} is too long to hold schemas")
    return f"{database}__{schema[:room]}_{digest}"


def _lift_handshake_timeouts(dbapi_connection: Any, _record: Any) -> None:
    """Connected: a query may take as long as it takes (PyMySQL has no public setter for this)."""
    if hasattr(dbapi_connection, "_read_timeout") and hasattr(dbapi_connection, "_write_timeout"):
        dbapi_connection._read_timeout = None
        dbapi_connection._write_timeout = None


class MySQL:
    name = "mysql"
    maps_schemas_per_engine = True
    can_clone = False
    transactional_ddl = False
    has_servers = True
    driver_module = "pymysql"
    extra = "mysql"

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _lift_handshake_timeouts)
        if schemas:
            base = url.database or ""
            mapping: dict[str | None, str | None] = {s: schema_database(base, s) for s in schemas}
            engine = engine.execution_options(schema_translate_map=mapping)
        return engine

    def physical_schema(self, database: str, schema: str) -> str:
        return schema_database(database, schema)

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        for schema in schemas:
            conn.execute(CreateSchema(schema_database(database, schema), if_not_exists=True))

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        try:
            for table in tables:
                conn.execute(table.delete())
        finally:
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        from ..loading.mysql import MysqlInsertWriter

        return MysqlInsertWriter(conn, table, columns, lineage)

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        return nullcontext()

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        return None

    def abandon_stream(self, conn: Connection) -> None:
        from ..loading.mysql import abandon_stream

        abandon_stream(conn.connection.driver_connection)


ENGINE: EngineKind = MySQL()  # checked against the Protocol by mypy
