"""Temporal tables: a history table per tracked table, written by triggers on PostgreSQL.

Mark a table class as tracked by inheriting :class:`TemporalMixin` (or call :func:`track_history`
on a ``Table``); mark the columns whose changes are not history with :func:`temporal_exclude`::

    class Account(TemporalMixin, SQLModel, table=True):
        account_id: int | None = Field(default=None, primary_key=True)
        owner: str
        seen_at: datetime | None = Field(default=None, sa_column_kwargs=temporal_exclude())

The history table ``<name>_history`` lives in the tracked table's schema. It has the tracked
table's columns with the very same types (excluded columns left out), all nullable, without the
tracked table's keys, defaults or constraints, plus:

    history_id   autoincrement primary key (the order of changes)
    operation    'I' insert, 'U' update, 'D' delete
    valid_from   when this version of the row began (the transaction's time)
    valid_to     when it ended: NULL while the row still holds these values

Each insert writes a version; an update that changes a tracked column closes the open version
and writes a new one (an update that changes only excluded columns writes nothing); a delete
closes the open version and writes a 'D' row holding the last values (``valid_from`` =
``valid_to`` = the time of the delete).

Creating the tracked table (``metadata.create_all``, ``deploy_data_objects``) creates its history
table too, and on PostgreSQL the plpgsql function and the trigger that write it; dropping the
tracked table drops them. On SQLite and MySQL/MariaDB the history table is created but nothing
writes it: there are no triggers there (write history yourself, or test temporal behaviour on
PostgreSQL).

The history tables belong to :data:`HISTORY_METADATA`, not to the tracked table's metadata, so
``SQLModel.metadata`` and datakit discovery see only the datakit's own tables. Find a tracked
table's history with :func:`history_table` (or ``table.info["temporal_history"]``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Table,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper
from sqlmodel import SQLModel

from ..engines import engine_kind
from ..errors import DatakitDefinitionError
from .mixins import TIMESTAMPTZ

__all__ = [
    "HISTORY_COLUMNS",
    "HISTORY_METADATA",
    "TEMPORAL_EXCLUDE",
    "TemporalMixin",
    "history_of",
    "history_table",
    "pg_trigger_ddl",
    "temporal_exclude",
    "track_history",
    "tracked_columns",
]

#: The ``Column.info`` key that leaves a column out of the history.
TEMPORAL_EXCLUDE = "temporal_exclude"

#: The columns every history table adds: ``history_id`` first, the others after the tracked columns.
HISTORY_COLUMNS = ("history_id", "operation", "valid_from", "valid_to")

#: The metadata that holds every history table (kept apart from ``SQLModel.metadata``).
HISTORY_METADATA = MetaData()

_PG_NAME_LIMIT = 63
#: PostgreSQL types without an equality operator: compared as text in the update check.
_NO_EQUALITY = ("JSON", "XML", "POINT", "LINE", "LSEG", "BOX", "PATH", "POLYGON", "CIRCLE")
_HISTORY_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


def temporal_exclude(**sa_column_kwargs: Any) -> dict[str, Any]:
    """``sa_column_kwargs`` that mark a column as not tracked (merged with any you pass).

    ``Field(default=None, sa_column_kwargs=temporal_exclude(server_default="x"))``
    """
    info = {**sa_column_kwargs.pop("info", {}), TEMPORAL_EXCLUDE: True}
    return {**sa_column_kwargs, "info": info}


def tracked_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` whose values the history keeps (all but the excluded ones)."""
    return [c for c in table.columns if not c.info.get(TEMPORAL_EXCLUDE)]


def _name(base: str, suffix: str) -> str:
    """``base + suffix``, shortened with a hash to fit PostgreSQL's 63 characters."""
    name = base + suffix
    if len(name) <= _PG_NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{base[: _PG_NAME_LIMIT - len(suffix) - 9]}_{digest}{suffix}"


def history_table(table: Table) -> Table:
    """The history table of ``table`` (built once, then the same object); see the module docs."""
    found = table.info.get("temporal_history")
    if isinstance(found, Table):
        return found
    columns = tracked_columns(table)
    clash = sorted({c.name for c in columns} & set(HISTORY_COLUMNS))
    if clash:
        raise DatakitDefinitionError(
            f"table {table.fullname!r} has column(s) {', '.join(clash)}, which its history table adds; "
            "rename them or mark them temporal_exclude"
        )
    key = [c.name for c in table.primary_key.columns if not c.info.get(TEMPORAL_EXCLUDE)]
    name = _name(table.name, "_history")
    history = Table(
        name,
        HISTORY_METADATA,
        Column("history_id", _HISTORY_ID, primary_key=True, autoincrement=True),
        *(Column(c.name, c.type, nullable=True, autoincrement=False, comment=c.comment) for c in columns),
        Column("operation", CHAR(1), nullable=False),
        Column("valid_from", TIMESTAMPTZ, nullable=False),
        Column("valid_to", TIMESTAMPTZ, nullable=True),
        *([Index(_name(name, "_key"), *key)] if key else []),
        schema=table.schema,
        info={"temporal_of": table},
        comment=f"history of {table.fullname} (framework.kits.temporal)",
    )
    table.info["temporal_history"] = history
    return history


def _quote(name: str) -> str:
    return str(postgresql.dialect().identifier_preparer.quote(name))


def _qualified(schema: str | None, name: str) -> str:
    return f"{_quote(schema)}.{_quote(name)}" if schema else _quote(name)


def pg_trigger_ddl(table: Table) -> tuple[str, str]:
    """PostgreSQL DDL for ``table``'s history: (create function and trigger, drop function)."""
    history = history_table(table)
    columns = tracked_columns(table)
    names = [c.name for c in columns]
    key = [c.name for c in table.primary_key.columns if c.name in names]
    function = _qualified(table.schema, _name(table.name, "_history_fn"))
    trigger = _quote(_name(table.name, "_history_trg"))
    target = _qualified(table.schema, history.name)
    column_list = ", ".join(_quote(n) for n in names)

    def values(row: str) -> str:
        return ", ".join(f"{row}.{_quote(n)}" for n in names)

    def differs(column: Column[Any]) -> str:
        cast = "::text" if _compiled(column).upper().split("(")[0] in _NO_EQUALITY else ""
        return f"NEW.{_quote(column.name)}{cast} IS DISTINCT FROM OLD.{_quote(column.name)}{cast}"

    changed = " OR ".join(differs(c) for c in columns) or "FALSE"
    close = (
        f"UPDATE {target} SET valid_to = now() WHERE valid_to IS NULL AND "
        + " AND ".join(f"{_quote(k)} IS NOT DISTINCT FROM OLD.{_quote(k)}" for k in key)
        + ";"
        if key
        else ""
    )
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {target} ({column_list}, operation, valid_from)
        VALUES ({values("NEW")}, 'I', now());
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT ({changed}) THEN
            RETURN NEW;  -- only excluded columns changed: no new version
        END IF;
        {close}
        INSERT INTO {target} ({column_list}, operation, valid_from)
        VALUES ({values("NEW")}, 'U', now());
        RETURN NEW;
    ELSE
        {close}
        INSERT INTO {target} ({column_list}, operation, valid_from, valid_to)
        VALUES ({values("OLD")}, 'D', now(), now());
        RETURN OLD;
    END IF;
END
$fn$;
DROP TRIGGER IF EXISTS {trigger} ON {_qualified(table.schema, table.name)};
CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {_qualified(table.schema, table.name)}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    return create, f"DROP FUNCTION IF EXISTS {function}() CASCADE"


def _compiled(column: Column[Any]) -> str:
    return str(column.type.compile(dialect=postgresql.dialect()))


def _after_create(table: Table, connection: Connection, **kw: Any) -> None:
    history = history_table(table)
    history.create(connection, checkfirst=True)
    if engine_kind(connection.dialect.name).history_triggers:
        create, _ = pg_trigger_ddl(table)
        connection.execute(text(create))


def _after_drop(table: Table, connection: Connection, **kw: Any) -> None:
    # the trigger went with the table; the function and the history table are left to drop
    if engine_kind(connection.dialect.name).history_triggers:
        _, drop = pg_trigger_ddl(table)
        connection.execute(text(drop))
    history_table(table).drop(connection, checkfirst=True)


def track_history(table: Table) -> Table:
    """Keep a history of ``table``: build its history table and hook its DDL; return the history."""
    if table.info.get("temporal"):
        return history_table(table)
    history = history_table(table)
    table.info["temporal"] = True
    event.listen(table, "after_create", _after_create)
    event.listen(table, "after_drop", _after_drop)
    return history


class TemporalMixin(SQLModel):
    """Marks a table class as tracked: its history table and (on PostgreSQL) triggers come with it."""


@event.listens_for(TemporalMixin, "after_mapper_constructed", propagate=True)
def _track_mapped(mapper: Mapper[Any], cls: type) -> None:
    local = mapper.local_table
    if isinstance(local, Table):
        track_history(local)


def history_of(model: type[SQLModel] | Table) -> Table:
    """The history table of a tracked table class or ``Table``."""
    table = model if isinstance(model, Table) else inspect(model).local_table
    if not isinstance(table, Table) or not table.info.get("temporal"):
        raise DatakitDefinitionError(f"{getattr(table, 'fullname', model)!r} is not tracked: inherit TemporalMixin")
    return history_table(table)
