"""PostgreSQL: native schemas, databases cloned from a template, transactional DDL, COPY loads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, create_engine, event, text
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.schema import CreateSchema

from ..generic.connect import bad_option

if TYPE_CHECKING:
    from pathlib import Path

    from ..generic.process import ProcessRecipe
    from ..generic.protocols import EngineKind, Server
    from ..generic.writer import Lineage, Writer

IMAGE = "postgres:15"  # the official image, pulled as testcontainers does


def _connect_or_say_why(dialect: Dialect, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
    """psycopg2's connect, with a port that answers what is not PostgreSQL (``\\xff``: psycopg2 cannot
    even decode libpq's message) failing as a connection error, not a ``UnicodeDecodeError``."""
    try:
        return dialect.connect(*cargs, **cparams)
    except UnicodeDecodeError:
        raise dialect.loaded_dbapi.OperationalError(
            "the server's answer is not PostgreSQL's protocol (is something else on that port?)"
        ) from None
    except (ValueError, TypeError) as exc:  # a NUL in a name (%00), an option psycopg2 refuses
        raise bad_option(dialect.loaded_dbapi, exc) from None


class PostgreSQL:
    name = "postgresql"
    maps_schemas_per_engine = False
    can_clone = True
    transactional_ddl = True
    has_servers = True
    driver_module = "psycopg2"
    extra = "postgres"
    label = "PostgreSQL"
    dialects: tuple[str, ...] = ("postgresql",)
    url_driver: str | None = "postgresql+psycopg2"
    default_port: int | None = 5432
    # PostgreSQL cuts a longer name to 63 bytes without an error (two columns could become one name)
    name_limit: int | None = 63
    name_unit = "bytes"
    integer_key_is_rowid = False
    adds_foreign_key_indexes = False
    history_triggers = True
    dbt_adapter: str | None = "postgres"
    image_env: str | None = "DATAKITS_POSTGRES_IMAGE"
    default_image: str | None = IMAGE

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        engine = create_engine(url, **options)
        event.listen(engine, "do_connect", _connect_or_say_why)
        return engine

    def connect_args(self, timeout: int) -> dict[str, Any]:
        """libpq: ``connect_timeout`` bounds each attempt; TCP keepalives and ``tcp_user_timeout``
        notice a server that went away under an open connection."""
        return {
            "connect_timeout": timeout,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 30_000,  # milliseconds
        }

    def url_server(self, url: URL, label: str, on_stop: Callable[[], None] | None) -> Server:
        from .server import PostgresServer

        return PostgresServer(url, kind=self, label=label, on_stop=on_stop)

    def process_recipe(self, target: str) -> Callable[[Path], ProcessRecipe]:
        from .process import recipe_maker

        return recipe_maker(target)

    def container(self, image: str) -> Any:
        from ..generic.containers import testcontainers_module

        return testcontainers_module("postgres").PostgresContainer(image, driver="psycopg2")

    def physical_schema(self, database: str, schema: str) -> str:
        return schema

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        for schema in schemas:
            conn.execute(CreateSchema(schema, if_not_exists=True))

    def connected_schemas(self, conn: Connection) -> set[str] | None:
        return None  # CREATE SCHEMA, in the transaction

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        quote = conn.dialect.identifier_preparer.format_table
        conn.execute(text(f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY"))

    def type_name(self, name: str, dialect: Dialect) -> str:
        return name.rsplit(".", 1)[1] if "." in name else name  # a schema-qualified enum or domain

    def shown_type(self, name: str) -> str:
        return name

    def partitions(self, engine: Engine, schema: str | None) -> set[str]:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relispartition AND n.nspname = coalesce(:s, current_schema())"
                ),
                {"s": schema},
            )
            return {r[0] for r in rows}

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        from ...errors import LoadError

        if conn.dialect.driver != "psycopg2":
            raise LoadError(
                f"{table.fullname}: loading into PostgreSQL needs the psycopg2 driver (the 'postgres' extra)"
            )
        from .writer import PostgresCopyWriter

        return PostgresCopyWriter(conn, table, columns, lineage)

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        return nullcontext()

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        from .writer import prepare_source

        prepare_source(conn, utc=utc)

    def abandon_stream(self, conn: Connection) -> None:
        return None


ENGINE: EngineKind = PostgreSQL()  # checked against the Protocol by mypy
