"""MySQL/MariaDB: a schema is a database of its own, no cloning, DDL commits at once."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Double, Table, create_engine, event, text
from sqlalchemy.dialects.mysql import types as mysql_types
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.schema import CreateSchema

from ..generic.connect import bad_option

if TYPE_CHECKING:
    from pathlib import Path

    from ..generic.process import ProcessRecipe
    from ..generic.protocols import EngineKind, Server
    from ..generic.writer import Lineage, Writer


NAME_LIMIT = 64
IMAGE = "mariadb:10.11"
_INT_WIDTH = re.compile(r"^(TINYINT|SMALLINT|MEDIUMINT|INT|INTEGER|BIGINT)\(\d+\)")


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


class _Double(mysql_types.DOUBLE):
    """MySQL's DOUBLE for a generic ``Double``/``DOUBLE PRECISION`` with a precision and no scale (what
    PostgreSQL reflects, ``precision=53``): SQLAlchemy's MySQL DOUBLE takes both or neither and raised
    ``ArgumentError`` at deploy and load. A precision alone only says it is 8 bytes, which DOUBLE is."""

    def __init__(self, precision: int | None = None, scale: int | None = None, **kwargs: Any) -> None:
        super().__init__(precision=precision if scale is not None else None, scale=scale, **kwargs)


def _unescape(name: Any) -> Any:
    return name.replace("``", "`") if isinstance(name, str) and "``" in name else name


def _read_backticks(dialect: Any) -> None:
    """Names with a backtick as they are: SQLAlchemy reads columns, keys and constraints from ``SHOW CREATE
    TABLE`` and keeps the backtick doubled there (``a``b`` for ``a`b``), so validate saw a missing and an
    extra column. Wraps this engine's dialect's parse step (reflection of every table goes through it)."""
    original = dialect._setup_parser

    def setup_parser(connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> Any:
        state = original(connection, table_name, schema, **kw)
        if not getattr(state, "_datakits_unescaped", False):  # the state is cached: fix it once
            for column in state.columns:
                column["name"] = _unescape(column["name"])
            for key in state.keys:
                key["name"] = _unescape(key.get("name"))
                key["columns"] = [(_unescape(c[0]), *c[1:]) for c in key["columns"]]
            for fk in state.fk_constraints:
                fk["name"] = _unescape(fk.get("name"))
                fk["local"] = [_unescape(c) for c in fk["local"]]
                fk["foreign"] = [_unescape(c) for c in fk["foreign"]]
            for check in state.ck_constraints:
                check["name"] = _unescape(check.get("name"))
            state._datakits_unescaped = True
        return state

    dialect._setup_parser = setup_parser


def _bounded_connect(timeout: float) -> Callable[..., Any]:
    """A ``do_connect`` handler: PyMySQL's connect with its whole handshake bounded by ``timeout``.

    PyMySQL's read timeout bounds each read, so a server (or a proxy) that drips a byte a second
    keeps a connect waiting for ever; a timer shuts the socket at the deadline instead."""

    def connect(dialect: Dialect, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        if dialect.driver != "pymysql":
            return None  # another driver connects as it does
        pymysql = dialect.loaded_dbapi
        try:
            conn = pymysql.connections.Connection(*cargs, **cparams, defer_connect=True)
        except (ValueError, TypeError, AttributeError, LookupError, OSError) as exc:
            raise bad_option(pymysql, exc) from None  # ?charset=bogus, ?ssl_ca=/missing
        fired = threading.Event()

        def cut() -> None:
            fired.set()
            sock = getattr(conn, "_sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(timeout, cut)
        timer.daemon = True
        timer.start()
        try:
            conn.connect()
        except Exception:
            if fired.is_set():
                raise pymysql.err.OperationalError(
                    2013, f"the server did not finish its handshake within {timeout:g}s"
                ) from None
            raise
        finally:
            timer.cancel()
        return conn

    return connect


class MySQL:
    name = "mysql"
    maps_schemas_per_engine = True
    can_clone = False
    transactional_ddl = False
    has_servers = True
    driver_module = "pymysql"
    extra = "mysql"
    label = "MySQL/MariaDB"
    dialects: tuple[str, ...] = ("mysql", "mariadb")
    url_driver: str | None = "mysql+pymysql"
    default_port: int | None = 3306
    # MySQL refuses a longer name with a traceback; a schema's database is shortened to fit (schema_database)
    name_limit: int | None = NAME_LIMIT
    name_unit = "characters"
    integer_key_is_rowid = False
    adds_foreign_key_indexes = True
    history_triggers = False
    dbt_adapter: str | None = None
    image_env: str | None = "DATAKITS_MYSQL_IMAGE"
    default_image: str | None = IMAGE

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        engine = create_engine(url, **options)
        engine.dialect.colspecs = {**engine.dialect.colspecs, Double: _Double}  # this engine's, not every MySQL's
        _read_backticks(engine.dialect)
        timeout = (options.get("connect_args") or {}).get("connect_timeout")
        if timeout:
            event.listen(engine, "do_connect", _bounded_connect(float(timeout)))
        event.listen(engine, "connect", _lift_handshake_timeouts)
        if schemas:
            base = url.database or ""
            mapping: dict[str | None, str | None] = {s: schema_database(base, s) for s in schemas}
            engine = engine.execution_options(schema_translate_map=mapping)
        return engine

    def connect_args(self, timeout: int) -> dict[str, Any]:
        """PyMySQL: ``connect_timeout`` bounds the TCP connect only, so the read and write timeouts bound
        the handshake too (something that is not MySQL, or a server that never greets); ``make_engine``
        lifts them once connected, so a long query is not cut short."""
        # Pagila's ids start at 0: an explicit 0 must stay 0, not become the next auto-increment value
        mode = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
        return {
            "connect_timeout": timeout,
            "read_timeout": timeout,
            "write_timeout": timeout,
            "local_infile": True,
            "init_command": mode,
        }

    def url_server(self, url: URL, label: str, on_stop: Callable[[], None] | None) -> Server:
        from .server import MysqlServer

        return MysqlServer(url, kind=self, label=label, on_stop=on_stop)

    def process_recipe(self, target: str) -> Callable[[Path], ProcessRecipe]:
        from .process import recipe_maker

        return recipe_maker(target)

    def container(self, image: str) -> Any:
        from ..generic.containers import testcontainers_module

        return testcontainers_module("mysql").MySqlContainer(
            image, username="root", password="datakits", dbname="datakits"
        )

    def physical_schema(self, database: str, schema: str) -> str:
        return schema_database(database, schema)

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        for schema in schemas:
            conn.execute(CreateSchema(schema_database(database, schema), if_not_exists=True))

    def connected_schemas(self, conn: Connection) -> set[str] | None:
        return set((conn.get_execution_options().get("schema_translate_map") or {}).keys())

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        try:
            for table in tables:
                conn.execute(table.delete())
        finally:
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))

    def type_name(self, name: str, dialect: Dialect) -> str:
        if name in ("BOOL", "BOOLEAN", "TINYINT(1)"):
            return "BOOLEAN"
        name = _INT_WIDTH.sub(r"\1", name)
        if name in ("DOUBLE PRECISION", "REAL"):
            return "DOUBLE"  # MySQL's names for DOUBLE (REAL unless REAL_AS_FLOAT)
        if name == "JSON" and getattr(dialect, "is_mariadb", False):
            return "LONGTEXT"  # MariaDB's JSON is LONGTEXT with a json_valid() check
        return name

    def shown_type(self, name: str) -> str:
        return re.sub(r"^NUMERIC\b", "DECIMAL", name)  # MySQL keeps DECIMAL

    def partitions(self, engine: Engine, schema: str | None) -> set[str]:
        return set()  # MySQL's partitions are not tables

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        from .writer import MysqlLoadDataWriter

        return MysqlLoadDataWriter(conn, table, columns, lineage)

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        return nullcontext()

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        return None

    def abandon_stream(self, conn: Connection) -> None:
        from .writer import abandon_stream

        abandon_stream(conn.connection.driver_connection)


ENGINE: EngineKind = MySQL()  # checked against the Protocol by mypy
