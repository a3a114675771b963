"""The interfaces an engine package implements: ``EngineKind`` (its facts and moves) and ``Server``.

``EngineKind`` is what :func:`framework.engines.engine_kind` returns; ``Server`` is a place where a
run creates, lists, clones and drops databases of its own (a provisioner brings one to life, a
``Run`` uses it). mypy checks each engine's ``ENGINE`` against ``EngineKind``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Column, Table
from sqlalchemy.engine import URL, Connection, Dialect, Engine

from .process import ProcessRecipe
from .writer import Lineage, Writer


class RunLock(Protocol):
    def release(self) -> None: ...


class Server(Protocol):
    """A database server (or SQLite's stand-in) that holds disposable databases."""

    engine: str
    label: str

    @property
    def admin_url(self) -> URL | None: ...

    def check(self) -> None: ...
    def database_url(self, name: str) -> URL: ...
    def create_database(self, name: str, template: str | None = None) -> URL: ...
    def drop_database(self, name: str) -> None: ...
    def list_databases(self, prefix: str) -> list[str]: ...
    def in_use(self, names: Sequence[str]) -> bool: ...
    def hold_lock(self, key: str) -> RunLock: ...
    def lock_is_free(self, key: str) -> bool: ...
    def stop(self) -> None: ...


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
    history_triggers: bool  # framework.kits.temporal's plpgsql triggers write history tables here
    dbt_adapter: str | None  # the dbt adapter installed for it (dbt-postgres), None: dbt does not run on it here
    image_env: str | None  # the variable naming its container image (None: no container target)
    default_image: str | None  # the official image its container target starts by default

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        """An engine on ``url`` on which ``schemas`` resolve."""

    def connect_args(self, timeout: int) -> dict[str, Any]:
        """The driver's connect arguments: every wait of a connection's start bounded by ``timeout`` seconds."""

    def url_server(self, url: URL, label: str, on_stop: Callable[[], None] | None) -> Server:
        """The server a URL names (its database is the admin database); ValueError where URLs name databases."""

    def process_recipe(self, target: str) -> Callable[[Path], ProcessRecipe]:
        """How to run a throwaway server of this engine from the machine's binaries (``*_process`` targets):
        a recipe per data folder; ProvisionerUnavailable naming what to install, TargetError where there is none."""

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
