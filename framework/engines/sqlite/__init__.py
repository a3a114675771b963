"""SQLite: a schema is an attached database; in-memory databases shared by the process; no server.

A schema ``s`` of a database is the file ``<file>__s.db`` beside the main file, or the shared
in-memory database ``<name>__s``, attached on every connection as ``s``. A shared in-memory
database lives while a connection holds it: :func:`keep_memory_alive` holds one per database.

SQLite has one writer, and a connection inside a transaction (a read is enough) keeps every other
from writing: a file makes the writer wait (the driver's 5 s busy timeout), then "database is
locked"; a shared in-memory database refuses at once ("database table is locked"). The driver's
error gets :data:`LOCKED_NOTE` added, which says what to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, create_engine, event, text
from sqlalchemy.engine import URL, Connection, Dialect, Engine, ExceptionContext
from sqlalchemy.pool import NullPool

from ...errors import TargetError
from ..generic.identifiers import quote_identifier
from .memory import is_memory_sqlite, keep_memory_alive

if TYPE_CHECKING:
    from ..generic.process import ProcessRecipe
    from ..generic.protocols import EngineKind, Server
    from ..generic.writer import Lineage, Writer

LOCKED_NOTE = (
    "SQLite lets a connection write only while no other connection of the database is inside a transaction "
    "(a read begins one): commit or roll back that transaction first "
    "(in a commit test: datakit_session.commit() before writing through datakit_engine)"
)


def note_lock(context: ExceptionContext) -> None:
    """Add :data:`LOCKED_NOTE` to a "database is locked" or "database table is locked" error."""
    error, original = context.sqlalchemy_exception, context.original_exception
    locked = isinstance(original, sqlite3.OperationalError) and "locked" in str(original)
    if error is not None and locked and LOCKED_NOTE not in getattr(error, "__notes__", ()):
        error.add_note(LOCKED_NOTE)


def schema_target(url: URL, schema: str) -> str:
    """What is attached as ``schema``: a file beside the main one, or a shared in-memory database."""
    db = url.database or ""
    if db.startswith("file:") and "mode=memory" in db:
        name = db[len("file:") :].split("?", 1)[0]
        return f"file:{name}__{schema}?mode=memory&cache=shared"
    path = Path(db)
    return str(path.with_name(f"{path.stem}__{schema}{path.suffix or '.db'}"))


class SQLite:
    name = "sqlite"
    label = "SQLite"
    dialects: tuple[str, ...] = ("sqlite",)
    maps_schemas_per_engine = True
    can_clone = True
    transactional_ddl = True
    has_servers = False
    driver_module = "sqlite3"
    extra = ""  # in the standard library
    url_driver: str | None = None  # sqlite:// is pysqlite, in the standard library
    default_port: int | None = None
    name_limit: int | None = None  # SQLite keeps any length
    name_unit = "characters"
    integer_key_is_rowid = True
    adds_foreign_key_indexes = False
    history_triggers = False
    dbt_adapter: str | None = None
    image_env: str | None = None
    default_image: str | None = None

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        memory = is_memory_sqlite(url)
        if memory and (url.database or "") in ("", ":memory:"):
            raise TargetError("a bare :memory: SQLite URL is private to one connection; use the sqlite_memory target")
        if memory:
            options.setdefault("poolclass", NullPool)
            keep_memory_alive(url.database or "")
        attach = {s: schema_target(url, s) for s in schemas}
        for target in attach.values():
            if memory:
                keep_memory_alive(target)
        engine = create_engine(url, **options)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # let SQLAlchemy drive transactions (SAVEPOINT works), as its SQLite docs recommend
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for schema, target in attach.items():
                cursor.execute(f"ATTACH DATABASE ? AS {quote_identifier(engine.dialect, schema)}", (target,))
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        event.listen(engine, "handle_error", note_lock)

        return engine

    def connect_args(self, timeout: int) -> dict[str, Any]:
        return {}

    def url_server(self, url: URL, label: str, on_stop: Callable[[], None] | None) -> Server:
        raise ValueError(f"{label}: a SQLite URL is a database, not a server")

    def process_recipe(self, target: str) -> Callable[[Path], ProcessRecipe]:
        raise TargetError(f"{target}: the process provisioner runs PostgreSQL or MySQL only", target)

    def container(self, image: str) -> Any:
        raise ValueError("SQLite runs in this process: there is no SQLite container")

    def physical_schema(self, database: str, schema: str) -> str:
        return schema

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        return None  # SQLite creates attached files on ATTACH

    def connected_schemas(self, conn: Connection) -> set[str] | None:
        return {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))  # checked at commit, when all are empty
        for table in tables:
            conn.execute(table.delete())

    def type_name(self, name: str, dialect: Dialect) -> str:
        return name

    def shown_type(self, name: str) -> str:
        return name

    def partitions(self, engine: Engine, schema: str | None) -> set[str]:
        return set()

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        from .writer import SqliteWriter

        return SqliteWriter(conn, table, columns, lineage)

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        from .writer import write_lock

        return write_lock(engine)

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        return None

    def abandon_stream(self, conn: Connection) -> None:
        return None


ENGINE: EngineKind = SQLite()  # checked against the Protocol by mypy
