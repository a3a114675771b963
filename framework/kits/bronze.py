"""The bronze datakit of any source datakit, built at run time: :func:`derive_bronze`.

A bronze table holds what the source gives, batch after batch, so it is the source table's
columns (names, types, nullability) plus the lineage columns of
:class:`~framework.kits.mixins.BronzeLineageMixin`, and nothing that could refuse a source row: no
foreign keys, uniques, checks, indexes or server defaults of the source. Its primary key is the
source key plus ``dk_batch_id``, and it has an index on ``dk_batch_id`` (a batch is replaced by
its id). The tables of source schema ``s`` go to ``br__<kit>__<s>`` (``public`` for the default
schema), where ``<kit>`` is the kit's name without ``_source``: ``pagila_source`` gives
``br__pagila__public``, exactly what the written-out ``pagila_bronze`` has.

A type that one engine cannot hold (a reflected PostgreSQL ``text[]``, ``tsvector``, domain; a
MySQL ``LONGTEXT``) keeps itself where it can and gets a portable variant elsewhere (JSON for an
array, the domain's own type, else the type of the same Python kind), so a bronze kit deploys on
PostgreSQL, MySQL/MariaDB and SQLite alike.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    Time,
    event,
)
from sqlalchemy.dialects import postgresql, registry
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError, UnsupportedCompilationError
from sqlalchemy.types import ARRAY, TypeEngine
from sqlmodel.main import get_column_from_field

from ..engines import all_engines
from ..errors import DatakitDefinitionError
from .discovery import Datakit, load_datakit
from .mixins import LINEAGE_COLUMNS, BronzeLineageMixin

__all__ = ["BronzeDatakit", "bronze_schema", "derive_bronze", "kit_short_name"]

#: each engine's SQLAlchemy dialect names, and a dialect to compile types for
_DIALECTS: dict[tuple[str, ...], Dialect] = {kind.dialects: registry.load(kind.dialects[0])() for kind in all_engines()}
_BY_PYTHON: list[tuple[type, TypeEngine[Any]]] = [
    (bool, Boolean()),
    (int, BigInteger()),
    (float, Float()),
    (Decimal, Numeric()),
    (datetime, DateTime()),
    (date, Date()),
    (time, Time()),
    (bytes, LargeBinary()),
    (dict, JSON(none_as_null=True)),
    (list, JSON(none_as_null=True)),
]


@dataclass(frozen=True)
class BronzeDatakit(Datakit):
    """A datakit built at run time: its tables, not SQLModel classes (``classes`` is empty)."""

    derived_tables: tuple[Table, ...] = ()
    source: str = ""

    @property
    def tables(self) -> list[Table]:
        return list(self.derived_tables)


def kit_short_name(kit: Datakit) -> str:
    """The kit's own name: its package's last part, without ``_source`` (``pagila_source`` -> ``pagila``)."""
    name = kit.modules[0].__name__.rsplit(".", 1)[-1] if kit.modules else kit.name
    name = name.rsplit("/", 1)[-1]
    return name[: -len("_source")] if name.endswith("_source") and len(name) > len("_source") else name


def bronze_schema(kit: Datakit, schema: str | None) -> str:
    """``br__<kit>__<schema>``: where the bronze tables of a source schema go."""
    return f"br__{kit_short_name(kit)}__{schema or 'public'}"


def _compiles(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    try:
        type_.compile(dialect=dialect)
    except (CompileError, UnsupportedCompilationError):
        return False
    return True


def _generic(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """A type every engine holds, for the same Python values."""
    if isinstance(type_, ARRAY):
        return JSON(none_as_null=True)
    try:
        kind = type_.python_type
    except NotImplementedError:
        return Text()
    return next((generic for python, generic in _BY_PYTHON if issubclass(kind, python)), Text())


def portable_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """``type_`` where an engine holds it; a portable variant on the engines that cannot."""
    fine = [names for names, dialect in _DIALECTS.items() if _compiles(type_, dialect)]
    if len(fine) == len(_DIALECTS):
        return type_
    names = [name for names in fine for name in names]
    return _generic(type_).with_variant(type_, *names) if names else _generic(type_)


def _lineage_columns() -> list[Column[Any]]:
    columns = []
    for name in LINEAGE_COLUMNS:
        column = get_column_from_field(BronzeLineageMixin.model_fields[name])
        column.name = column.key = name
        column.primary_key = False  # the table's key names dk_batch_id with the source key
        columns.append(column)
    return columns


def _bronze_table(source: Table, metadata: MetaData, schema: str) -> Table:
    key = [c.name for c in source.primary_key.columns]
    if not key:
        raise DatakitDefinitionError(f"table {source.fullname!r} has no primary key: bronze keys on it; give it one")
    clash = [c.name for c in source.columns if c.name in LINEAGE_COLUMNS]
    if clash:
        raise DatakitDefinitionError(f"table {source.fullname!r} has lineage column names already: {', '.join(clash)}")
    domains: list[postgresql.DOMAIN] = []
    columns = []
    for c in source.columns:
        type_ = c.type
        if isinstance(type_, postgresql.DOMAIN):  # a reflected domain: created on PostgreSQL only, as Pagila's
            domain = copy.copy(type_)
            domain.create_type = False
            domains.append(domain)
            type_ = portable_type(type_.data_type).with_variant(domain, "postgresql")
        else:
            type_ = portable_type(type_)
        columns.append(Column(c.name, type_, nullable=False if c.primary_key else c.nullable, autoincrement=False))
    table = Table(
        source.name,
        metadata,
        *columns,
        *_lineage_columns(),
        PrimaryKeyConstraint(*key, "dk_batch_id", name=f"{source.name}_pkey"),
        Index(f"ix_br_{source.name}_dk_batch_id", "dk_batch_id"),
        schema=schema,
        comment=source.comment,
    )
    for listener in source.dispatch.before_create:  # what the source's own hooks create first (a domain, say)
        if not isinstance(getattr(getattr(listener, "func", listener), "__self__", None), TypeEngine):
            event.listen(table, "before_create", listener)  # (a type's own hooks come with the type)
    if domains:
        event.listen(table, "before_create", _domain_creator(domains))
    return table


def _domain_creator(domains: list[postgresql.DOMAIN]) -> Any:
    def create_domains(target: Table, connection: Any, **kw: Any) -> None:
        if connection.dialect.name == "postgresql":
            for domain in domains:
                domain.create(connection, checkfirst=True)

    return create_domains


def derive_bronze(source_kit: Datakit | str, schema: str | None = None) -> BronzeDatakit:
    """The bronze datakit of ``source_kit`` (a Datakit, a path or a name).

    ``schema`` puts every table in that schema; by default the tables of source schema ``s``
    go to ``br__<kit>__<s>`` (see the module docstring).
    """
    kit = source_kit if isinstance(source_kit, Datakit) else load_datakit(source_kit)
    metadata = MetaData()
    tables: list[Table] = []
    for source in kit.tables:
        target = schema or bronze_schema(kit, source.schema)
        if f"{target}.{source.name}" in metadata.tables:
            raise DatakitDefinitionError(
                f"two tables named {source.name!r} would meet in bronze schema {target!r}; give no schema="
            )
        tables.append(_bronze_table(source, metadata, target))
    name = f"{kit_short_name(kit)}_bronze (derived from {kit.name})"
    return BronzeDatakit(name, (), (), derived_tables=tuple(tables), source=kit.name)


def add_derive_flag(parser: Any) -> None:
    """``--derive-bronze``: the command works on the bronze datakit of the datakit given."""
    parser.add_argument(
        "--derive-bronze",
        action="store_true",
        help="Use the bronze datakit derived from this (source) datakit: br__<kit>__<schema>",
    )
