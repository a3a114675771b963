"""Deploy a datakit's tables into a database, and take them away again."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from sqlalchemy import Table, inspect
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import CompileError, DBAPIError, OperationalError, UnsupportedCompilationError
from sqlmodel import SQLModel

from .connect import check_connection, ensure_schemas, make_engine, physical_schema
from .discovery import Datakit
from .errors import DatakitDefinitionError, DeployError
from .runs import Database, url_of
from .targets import TargetConfig
from .urls import safe_url

Tables: TypeAlias = Datakit | Iterable[type[SQLModel] | Table]
Target: TypeAlias = Database | Engine | TargetConfig | URL | str


@dataclass
class DeployResult:
    """What a deploy did: the tables it created and those that were there already."""

    success: bool
    target: str
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


@dataclass
class CleanupResult:
    success: bool
    target: str
    dropped: list[str] = field(default_factory=list)
    error: str | None = None


def as_tables(tables: Tables) -> list[Table]:
    """Tables from a Datakit, SQLModel classes or Table objects; never empty."""
    items: list[Any] = list(tables.tables if isinstance(tables, Datakit) else tables)
    result = [item if isinstance(item, Table) else item.__table__ for item in items]  # type: ignore[attr-defined,unused-ignore]
    if not result:
        raise DatakitDefinitionError("no tables to deploy: the datakit defines no SQLModel table classes")
    return result


@contextmanager
def connected(target: Target, tables: list[Table]) -> Iterator[tuple[Engine, str]]:
    """An engine on ``target`` with the tables' schemas mapped, checked to answer."""
    schemas = {t.schema for t in tables}
    owned = True
    if isinstance(target, Database):
        engine = target.engine(schemas)
    elif isinstance(target, Engine):
        engine, owned = target, False
    elif isinstance(target, TargetConfig):
        engine = make_engine(url_of(target), schemas)
    else:
        engine = make_engine(target, schemas)
    label = safe_url(engine.url)
    try:
        check_connection(engine, label)
        yield engine, label
    finally:
        if owned:
            engine.dispose()


def check_types(tables: list[Table], engine: Engine) -> None:
    """Every column type must compile for the engine; name the first that does not."""
    for table in tables:
        if not table.primary_key.columns:
            raise DatakitDefinitionError(f"table {table.fullname!r} has no primary key; give it one")
        for column in table.columns:
            try:
                column.type.compile(dialect=engine.dialect)
            except (CompileError, UnsupportedCompilationError) as exc:
                reason = str(exc).splitlines()[0]
                raise DatakitDefinitionError(
                    f"{table.fullname}.{column.name}: type {type(column.type).__name__} cannot be stored on "
                    f"{engine.dialect.name} ({reason}); give it a variant with .with_variant(...)"
                ) from None


def existing_tables(engine: Engine, tables: list[Table]) -> set[str]:
    inspector = inspect(engine)
    found: set[str] = set()
    for schema in {t.schema for t in tables}:
        names = set(inspector.get_table_names(schema=physical_schema(engine, schema)))
        found |= {t.fullname for t in tables if t.schema == schema and t.name in names}
    return found


def _metadata_of(tables: list[Table]) -> Any:
    return tables[0].metadata


def deploy_data_objects(tables: Tables, target: Target) -> DeployResult:
    """Create the datakit's own tables (and their schemas and types) in ``target``; idempotent."""
    table_list = as_tables(tables)
    started = time.perf_counter()
    with connected(target, table_list) as (engine, label):
        check_types(table_list, engine)
        ensure_schemas(engine, {t.schema for t in table_list})
        before = existing_tables(engine, table_list)
        try:
            _metadata_of(table_list).create_all(engine, tables=table_list, checkfirst=True)
        except (DBAPIError, OperationalError) as exc:
            detail = " ".join(str(getattr(exc, "orig", exc)).split())
            created = sorted(existing_tables(engine, table_list) - before)
            error = f"{label}: the database refused the DDL: {detail}"
            return DeployResult(False, label, created, sorted(before), time.perf_counter() - started, error)
        created = [t.fullname for t in table_list if t.fullname not in before]
    return DeployResult(True, label, created, sorted(before), time.perf_counter() - started)


def cleanup_deployment(tables: Tables, target: Target) -> CleanupResult:
    """Drop the datakit's own tables (nothing else) from ``target``."""
    table_list = as_tables(tables)
    with connected(target, table_list) as (engine, label):
        present = existing_tables(engine, table_list)
        try:
            _metadata_of(table_list).drop_all(engine, tables=table_list, checkfirst=True)
        except (DBAPIError, OperationalError) as exc:
            detail = " ".join(str(getattr(exc, "orig", exc)).split())
            raise DeployError(f"{label}: the database refused to drop the tables: {detail}") from None
    return CleanupResult(True, label, sorted(present))
