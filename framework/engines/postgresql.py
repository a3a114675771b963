"""PostgreSQL: native schemas, databases cloned from a template, transactional DDL, COPY loads."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, create_engine, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.schema import CreateSchema

if TYPE_CHECKING:
    from ..loading.common import Lineage, Writer
    from . import EngineKind


class PostgreSQL:
    name = "postgresql"
    maps_schemas_per_engine = False
    can_clone = True
    transactional_ddl = True
    has_servers = True
    driver_module = "psycopg2"
    extra = "postgres"

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        return create_engine(url, **options)

    def physical_schema(self, database: str, schema: str) -> str:
        return schema

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        for schema in schemas:
            conn.execute(CreateSchema(schema, if_not_exists=True))

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        quote = conn.dialect.identifier_preparer.format_table
        conn.execute(text(f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY"))

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        from ..errors import LoadError

        if conn.dialect.driver != "psycopg2":
            raise LoadError(
                f"{table.fullname}: loading into PostgreSQL needs the psycopg2 driver (the 'postgres' extra)"
            )
        from ..loading.postgres import PostgresCopyWriter

        return PostgresCopyWriter(conn, table, columns, lineage)

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        return nullcontext()

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        from ..loading.postgres import prepare_source

        prepare_source(conn, utc=utc)

    def abandon_stream(self, conn: Connection) -> None:
        return None


ENGINE: EngineKind = PostgreSQL()  # checked against the Protocol by mypy
