"""Identifiers: quoted by the dialect's own rules in hand-built SQL, and short enough for the engine.

SQLAlchemy quotes what it compiles (tables, columns, ``CreateSchema``). The few statements it
has no construct for (``CREATE DATABASE``, ``DROP DATABASE``, ``ATTACH``) are built here, with
the quote characters and escape rule of the dialect's ``IdentifierPreparer``, and run through
``exec_driver_sql`` with ``no_parameters``, so the driver leaves ``%`` and ``:`` in a name alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect, Engine

from .engines import EngineKind, all_engines, engine_kind
from .errors import DatakitDefinitionError


def quote_identifier(dialect: Dialect, name: str) -> str:
    """``name`` quoted as the dialect quotes identifiers, its quote characters escaped."""
    preparer = dialect.identifier_preparer
    escaped = name.replace(preparer.escape_quote, preparer.escape_to_quote)
    return f"{preparer.initial_quote}{escaped}{preparer.final_quote}"


def execute_ddl(bind: Engine | Connection, statement: str) -> None:
    """Run one statement built with ``quote_identifier`` (no parameters: nothing is substituted)."""
    if isinstance(bind, Connection):
        bind.execution_options(no_parameters=True).exec_driver_sql(statement)
        return
    with bind.connect() as conn:
        conn.execution_options(no_parameters=True).exec_driver_sql(statement)


#: the longest name each engine keeps whole (its module's ``name_limit``, and why)
NAME_LIMITS = {kind.name: kind.name_limit for kind in all_engines() if kind.name_limit is not None}


def _length(kind: EngineKind, name: str) -> int:
    return len(name.encode()) if kind.name_unit == "bytes" else len(name)


def check_names(tables: Iterable[Table], engine: str) -> None:
    """Every schema, table, column, index and constraint name must fit the engine; name the first that does not."""
    kind = engine_kind(engine)
    limit = kind.name_limit
    if limit is None:
        return
    for table in tables:
        named: list[tuple[str, str]] = [("table", table.name)]
        if table.schema and not kind.maps_schemas_per_engine:  # a mapped schema (MySQL's database) is shortened to fit
            named.append(("schema", table.schema))
        named += [("column", column.name) for column in table.columns]
        named += [("index", str(index.name)) for index in table.indexes if isinstance(index.name, str)]
        named += [("constraint", str(c.name)) for c in table.constraints if isinstance(c.name, str)]
        for what, name in named:
            if _length(kind, name) > limit:
                raise DatakitDefinitionError(
                    f"{table.fullname}: {what} name {name!r} is {_length(kind, name)} {kind.name_unit}; "
                    f"{engine} keeps at most {limit}: shorten it"
                )
