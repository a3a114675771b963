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

from ..engines.connect import check_connection, ensure_schemas, physical_schema
from ..engines.generic.dberrors import library_error
from ..engines.identifiers import check_names
from ..engines.urls import safe_url, with_driver
from ..errors import DatakitDefinitionError, DeployError
from ..results import MappingResult
from ..targets.resolve import Target, resolve_target
from ..targets.runs import Database
from .current import DEFAULT_BATCHES, BatchMode, bronze_tables, check_batch_mode, deploy_current, drop_current
from .discovery import Datakit

Tables: TypeAlias = Datakit | Iterable[type[SQLModel] | Table]
__all__ = ["CleanupResult", "DeployResult", "Tables", "Target", "cleanup_deployment", "deploy_data_objects"]


@dataclass
class DeployResult(MappingResult):
    """What a deploy did: the tables it created and those that were there already.

    ``current``: the bronze tables' ``dk_batches`` tables and current-state views
    (``<table>__current``, :mod:`framework.kits.current`), made or replaced by this deploy.

    A deploy that returns succeeded (``success`` is always true); one that fails raises
    ``DeployError``. Read it as attributes or as a mapping (``result["created"]``).
    """

    target: str
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    current: list[str] = field(default_factory=list)
    _extra_keys = ("success",)

    @property
    def success(self) -> bool:
        return True


@dataclass
class CleanupResult(MappingResult):
    """The tables a cleanup dropped (those of the datakit that were there)."""

    target: str
    dropped: list[str] = field(default_factory=list)
    _extra_keys = ("success",)

    @property
    def success(self) -> bool:
        return True


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
    database = resolve_target(target)
    owned = not isinstance(database, Engine)
    engine = database.engine(schemas) if isinstance(database, Database) else database
    label = safe_url(engine.url)
    try:
        check_connection(engine, label)
        yield engine, label
    finally:
        if owned:
            engine.dispose()


def check_types(tables: list[Table], engine: Engine) -> None:
    """Every column type must compile for the engine, every name fit it; name the first that does not."""
    check_names(tables, engine.dialect.name)
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


def refused(
    exc: BaseException, label: str, tables: list[Table], what: str = "the database refused the DDL"
) -> DeployError:
    """The ``DeployError`` for DDL the database refused: the target, the tables, what it said."""
    names = [t.fullname for t in tables]
    return library_error(exc, DeployError, label, what, target=label, tables=names)


#: what this process deployed, per database (its URL, password included: never shown)
_deployed: dict[str, dict[str, Table]] = {}


def _key(url: URL) -> str:
    return with_driver(url).render_as_string(hide_password=False)


def deployed_tables(database: Database | Engine) -> list[Table]:
    """The tables this process deployed into ``database`` (by ``deploy_data_objects``), in order."""
    return list(_deployed.get(_key(database.url), {}).values())


def _metadata_of(tables: list[Table]) -> Any:
    return tables[0].metadata


def deploy_data_objects(tables: Tables, target: Target, *, batches: BatchMode = DEFAULT_BATCHES) -> DeployResult:
    """Create the datakit's own tables (and their schemas and types) in ``target``; idempotent.

    Bronze tables (lineage columns, ``dk_batch_id`` in the key) get their schema's ``dk_batches``
    table and a current-state view each, ``<table>__current``, of the kind ``batches`` says
    (``"full"`` or ``"incremental"``: :mod:`framework.kits.current`); a view there is replaced.

    Raises ``DeployError`` (with the target, password hidden, and the tables) when the database
    refuses the DDL; the tables created before the refusal stay.
    """
    table_list = as_tables(tables)
    mode = check_batch_mode(batches)
    started = time.perf_counter()
    with connected(target, table_list) as (engine, label):
        check_types(table_list, engine)
        ensure_schemas(engine, {t.schema for t in table_list})
        before = existing_tables(engine, table_list)
        try:
            _metadata_of(table_list).create_all(engine, tables=table_list, checkfirst=True)
            with engine.begin() as conn:
                current = deploy_current(conn, engine, table_list, mode)
        except (DBAPIError, OperationalError) as exc:
            names = [t.fullname for t in table_list]
            raise library_error(
                exc, DeployError, label, "the database refused the DDL", target=label, tables=names
            ) from None
        created = [t.fullname for t in table_list if t.fullname not in before]
        _deployed.setdefault(_key(engine.url), {}).update({t.fullname: t for t in table_list})
    return DeployResult(label, created, sorted(before), time.perf_counter() - started, current)


def cleanup_deployment(tables: Tables, target: Target) -> CleanupResult:
    """Drop the datakit's own tables (nothing else) from ``target``."""
    table_list = as_tables(tables)
    with connected(target, table_list) as (engine, label):
        present = existing_tables(engine, table_list)
        for table in table_list:
            _deployed.get(_key(engine.url), {}).pop(table.fullname, None)
        try:
            if bronze_tables(table_list):
                with engine.begin() as conn:
                    drop_current(conn, engine, table_list)
            _metadata_of(table_list).drop_all(engine, tables=table_list, checkfirst=True)
        except (DBAPIError, OperationalError) as exc:
            raise refused(exc, label, table_list, "the database refused to drop the tables") from None
    return CleanupResult(label, sorted(present))
