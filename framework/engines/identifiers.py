"""Names short enough for the engine: every schema, table, column, index and constraint name checked.

Quoting for hand-built SQL is :mod:`framework.engines.generic.identifiers` (importable from here).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table

from ..errors import DatakitDefinitionError
from .generic.identifiers import execute_ddl, quote_identifier
from .generic.protocols import EngineKind
from .registry import all_engines, engine_kind

__all__ = ["NAME_LIMITS", "check_names", "execute_ddl", "quote_identifier"]

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
