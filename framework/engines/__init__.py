"""One module per engine behind one ``Protocol``: what the library needs to know of an engine.

    sqlite.py       schemas are attached databases; shared in-memory databases; clone by backup
    postgresql.py   schemas are schemas; clone by CREATE DATABASE ... TEMPLATE; COPY for loads
    mysql.py        schemas are databases of their own; no clone; DDL commits at once

Callers ask :func:`engine_kind` for an engine's facts instead of comparing engine names. A new
engine touches:

    framework/engines/<engine>.py     the module: an ``ENGINE`` that satisfies ``EngineKind``
    framework/engines/__init__.py     its names in ``ENGINES``, the one registry (aliases included)
    framework/servers/<engine>.py     if it has servers: the ``Server`` its ``url_server`` returns
    framework/loading/<engine>.py     its ``writer`` (or it reuses another engine's)

Optional, for named targets of the engine: a line per target in ``framework.targets`` and, for
``*_process``, a recipe in ``framework.provisioning.process`` (it starts server binaries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Column, Table
from sqlalchemy.engine import URL, Connection, Dialect, Engine

from . import mysql, postgresql, sqlite  # (they import this module's names only to type-check)

if TYPE_CHECKING:
    from ..loading.common import Lineage, Writer
    from ..servers import Server


class EngineKind(Protocol):
    """The facts and moves of one engine family."""

    name: str  # sqlite | postgresql | mysql: the word TargetConfig.engine holds
    label: str  # how messages name it (SQLite, PostgreSQL, MySQL/MariaDB)
    dialects: tuple[str, ...]  # SQLAlchemy's dialect names for it (``with_variant`` needs each)
    #: an engine must be told every schema when it is made (SQLite attaches them, MySQL translates them)
    maps_schemas_per_engine: bool
    can_clone: bool  # a database can be copied from a template
    transactional_ddl: bool  # CREATE TABLE inside a transaction goes away with its rollback
    has_servers: bool  # a URL may name a server that holds databases (SQLite's URL is one file)
    driver_module: str  # the driver the project installs, and the extra that brings it
    extra: str
    url_driver: str | None  # the drivername pinned when a URL names none (None: SQLAlchemy's default)
    default_port: int | None  # the server's port when a URL gives none (None: no servers)
    #: the longest schema, table, column, index or constraint name kept whole (None: no limit to check)
    name_limit: int | None
    name_unit: str  # what name_limit counts: "bytes" (UTF-8) or "characters"
    integer_key_is_rowid: bool  # a one-column INTEGER primary key is the row id: never NULL, whatever reflection says
    adds_foreign_key_indexes: bool  # the engine indexes each foreign key itself (not a datakit's index)
    history_triggers: bool  # framework.temporal's plpgsql triggers write history tables here
    dbt_adapter: str | None  # the dbt adapter installed for it (dbt-postgres), None: dbt does not run on it here
    image_env: str | None  # the variable naming its container image (None: no container target)
    default_image: str | None  # the official image its container target starts by default

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        """An engine on ``url`` on which ``schemas`` resolve."""

    def connect_args(self, timeout: int) -> dict[str, Any]:
        """The driver's connect arguments: every wait of a connection's start bounded by ``timeout`` seconds."""

    def url_server(self, url: URL, label: str, on_stop: Callable[[], None] | None) -> Server:
        """The server a URL names (its database is the admin database); ValueError where URLs name databases."""

    def container(self, image: str) -> Any:
        """A testcontainers container of ``image``, not started (the ``containers`` extra)."""

    def physical_schema(self, database: str, schema: str) -> str:
        """The name the engine itself knows ``schema`` of ``database`` by."""

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        """Create ``schemas`` (in the engine's own terms) where they are missing."""

    def connected_schemas(self, conn: Connection) -> set[str] | None:
        """The schemas fixed when ``conn``'s engine was made (SQLite's attached ones); None: made as needed."""

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        """Delete every row of ``tables`` in the caller's transaction, whatever their foreign keys."""

    def type_name(self, name: str, dialect: Dialect) -> str:
        """A compiled type name (upper case, one space) in the terms validate compares: the engine's synonyms as one."""

    def shown_type(self, name: str) -> str:
        """A compiled type name as the database spells it in its own DDL."""

    def partitions(self, engine: Engine, schema: str | None) -> set[str]:
        """The tables in ``schema`` that are partitions of another (part of their table, not tables)."""

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        """The loader's fastest way to write one batch into ``table``."""

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        """What loads into one database hold while they write (SQLite: one writer at a time)."""

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        """Set up a connection that streams source rows (PostgreSQL: text out of COPY-friendly types)."""

    def abandon_stream(self, conn: Connection) -> None:
        """Let go of a source stream read half way, before the connection is dropped."""


#: every name an engine goes by -> the engine: its own name first, then the names users and tools
#: give it (``postgres``: Airflow's conn_type, dbt's adapter, the original framework's word;
#: ``mariadb``: SQLAlchemy's MariaDB dialect). The one place that knows which engines there are.
ENGINES: Mapping[str, EngineKind] = MappingProxyType(
    {
        "sqlite": sqlite.ENGINE,
        "postgresql": postgresql.ENGINE,
        "postgres": postgresql.ENGINE,
        "mysql": mysql.ENGINE,
        "mariadb": mysql.ENGINE,
    }
)


def engine_names() -> tuple[str, ...]:
    """The engines, by their own names: ``sqlite``, ``postgresql``, ``mysql``."""
    return tuple(dict.fromkeys(kind.name for kind in ENGINES.values()))


def engine_kind(name: str) -> EngineKind:
    """The engine an engine name or alias stands for (``postgres`` is ``postgresql``, ``mariadb`` is ``mysql``)."""
    if name not in ENGINES:
        raise ValueError(f"engine {name!r} is not supported; use one of {', '.join(engine_names())}")
    return ENGINES[name]


def all_engines() -> list[EngineKind]:
    """Every engine, in the order of :func:`engine_names`."""
    return [engine_kind(name) for name in engine_names()]
