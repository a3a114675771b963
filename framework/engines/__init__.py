"""One module per engine behind one ``Protocol``: what the library needs to know of an engine.

    sqlite.py       schemas are attached databases; shared in-memory databases; clone by backup
    postgresql.py   schemas are schemas; clone by CREATE DATABASE ... TEMPLATE; COPY for loads
    mysql.py        schemas are databases of their own; no clone; DDL commits at once

Adding an engine is a new module here and one line in ``_MODULES`` (its URLs, its driver's
connect arguments and its servers are in ``framework.urls`` and ``framework.servers``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Column, Table
from sqlalchemy.engine import URL, Connection, Engine

if TYPE_CHECKING:
    from ..loading.common import Lineage, Writer

_MODULES = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


class EngineKind(Protocol):
    """The facts and moves of one engine family."""

    name: str  # sqlite | postgresql | mysql
    #: an engine must be told every schema when it is made (SQLite attaches them, MySQL translates them)
    maps_schemas_per_engine: bool
    can_clone: bool  # a database can be copied from a template
    transactional_ddl: bool  # CREATE TABLE inside a transaction goes away with its rollback
    has_servers: bool  # a URL may name a server that holds databases (SQLite's URL is one file)
    driver_module: str  # the driver the project installs, and the extra that brings it
    extra: str

    def make_engine(self, url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
        """An engine on ``url`` on which ``schemas`` resolve."""

    def physical_schema(self, database: str, schema: str) -> str:
        """The name the engine itself knows ``schema`` of ``database`` by."""

    def create_schemas(self, conn: Connection, database: str, schemas: list[str]) -> None:
        """Create ``schemas`` (in the engine's own terms) where they are missing."""

    def empty_tables(self, conn: Connection, tables: list[Table]) -> None:
        """Delete every row of ``tables`` in the caller's transaction, whatever their foreign keys."""

    def writer(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> Writer:
        """The loader's fastest way to write one batch into ``table``."""

    def write_lock(self, engine: Engine) -> AbstractContextManager[Any]:
        """What loads into one database hold while they write (SQLite: one writer at a time)."""

    def prepare_source(self, conn: Connection, utc: bool) -> None:
        """Set up a connection that streams source rows (PostgreSQL: text out of COPY-friendly types)."""

    def abandon_stream(self, conn: Connection) -> None:
        """Let go of a source stream read half way, before the connection is dropped."""


def engine_kind(name: str) -> EngineKind:
    """The engine module for an engine or dialect name (``mariadb`` is ``mysql``)."""
    if name not in _MODULES:
        raise ValueError(f"engine {name!r} is not supported; use one of sqlite, postgresql, mysql")
    module = importlib.import_module(f".{_MODULES[name]}", __name__)
    kind: EngineKind = module.ENGINE
    return kind
