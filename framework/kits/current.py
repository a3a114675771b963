"""The current state of bronze: a view per bronze table, one row per key, next to the history.

A bronze table keeps every batch (its key is the source key plus ``dk_batch_id``). Beside each one,
in the same schema, a deploy makes the view ``<table>__current``: the table's columns (lineage
included), one row per source key. What "current" means is the batches' kind (:data:`BATCH_MODES`):

- ``full`` (the default): each batch is the whole table, so the current state is the latest batch
  of the table, as it is: a key missing from it is gone, and an empty batch empties the view.
- ``incremental``: a batch brings changed and new rows only, so the latest row of each key wins,
  and a key is never gone.

"Latest" is load order, never the batch id's text: the loader records each batch of each table in
the schema's ``dk_batches`` table (:func:`record_batch`), with a sequence number, in the batch's own
transaction; loading the same batch id again keeps its number (a rerun replaces the batch where it
stands). Rows no batch record names (written by hand) rank below recorded ones, by ``dk_loaded_at``.

Views are plain SQL with a window function: PostgreSQL, MySQL 8 / MariaDB 10.2+, SQLite 3.25+.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    column,
    func,
    literal,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from ..engines.connect import physical_schema
from ..errors import DatakitDefinitionError
from .mixins import LINEAGE_COLUMNS, TIMESTAMPTZ

__all__ = [
    "BATCHES",
    "BATCH_MODES",
    "CURRENT_SUFFIX",
    "DEFAULT_BATCHES",
    "BatchMode",
    "batches_table",
    "check_batch_mode",
    "current_name",
    "current_select",
    "deploy_current",
    "drop_current",
    "is_bronze",
    "record_batch",
]

BatchMode = Literal["full", "incremental"]
BATCH_MODES: tuple[BatchMode, ...] = ("full", "incremental")
DEFAULT_BATCHES: BatchMode = "full"
BATCHES = "dk_batches"
CURRENT_SUFFIX = "__current"


def check_batch_mode(value: object, where: str = "batches") -> BatchMode:
    """``value`` when it is a batch mode; one line naming the allowed values otherwise."""
    if value not in BATCH_MODES:
        raise DatakitDefinitionError(f"{where} = {value!r}: use one of {', '.join(repr(m) for m in BATCH_MODES)}")
    return value  # type: ignore[return-value]


def is_bronze(table: Table) -> bool:
    """A bronze table: it has the lineage columns and ``dk_batch_id`` in its key (the batches table is not)."""
    names = set(table.columns.keys())
    return set(LINEAGE_COLUMNS) <= names and "dk_batch_id" in table.primary_key.columns and table.name != BATCHES


def current_name(table: Table) -> str:
    """The current-state view's name: ``<table>__current``, in the table's schema."""
    return f"{table.name}{CURRENT_SUFFIX}"


@functools.cache
def batches_table(schema: str | None) -> Table:
    """The ``dk_batches`` table of a bronze schema: one row per table per batch, numbered in load order."""
    return Table(
        BATCHES,
        MetaData(),
        Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
        Column("table_name", String(128), nullable=False),
        Column("batch_id", String(64), nullable=False),
        Column("loaded_at", TIMESTAMPTZ, nullable=False),
        Column("rows_written", BigInteger(), nullable=False),
        UniqueConstraint("table_name", "batch_id", name=f"{BATCHES}_table_batch_key"),
        schema=schema,
        comment="The batches loaded into each bronze table of this schema, in load order (seq)",
    )


def record_batch(conn: Connection, target: Table, batch_id: str, loaded_at: Any, rows: int) -> None:
    """Record a batch of ``target`` in its schema's ``dk_batches``, in the caller's transaction.

    A batch id recorded before keeps its place (its ``seq``); its row count and time are updated.
    The loader calls it for every batch it writes into a bronze table whose schema has the table.
    """
    batches = batches_table(target.schema)
    which = and_(batches.c.table_name == target.name, batches.c.batch_id == batch_id)
    values = {"loaded_at": loaded_at, "rows_written": rows}
    # a plain read first, then a change by the primary key or an insert: no UPDATE of a row that is not
    # there, whose gap lock would deadlock InnoDB's parallel loads of other tables
    seq = conn.execute(select(batches.c.seq).where(which)).scalar()
    if seq is None:
        conn.execute(batches.insert().values(table_name=target.name, batch_id=batch_id, **values))
    else:
        conn.execute(update(batches).where(batches.c.seq == seq).values(**values))


def current_select(source: Table, mode: BatchMode, schema: str | None) -> Select[Any]:
    """The current state of ``source`` (a bronze table) as a SELECT, its tables in ``schema`` (the physical one)."""
    names = [c.name for c in source.columns]
    key = [c.name for c in source.primary_key.columns if c.name != "dk_batch_id"]
    rows = table(source.name, *(column(n) for n in names), schema=schema).alias("t")
    batches = table(BATCHES, column("seq"), column("table_name"), column("batch_id"), schema=schema).alias("b")
    own = batches.c.table_name == literal(source.name, String())
    if mode == "full":
        recorded = select(batches.c.batch_id).where(own).order_by(batches.c.seq.desc()).limit(1).scalar_subquery()
        other = table(source.name, column("dk_batch_id"), column("dk_loaded_at"), schema=schema).alias("x")
        latest_row = (
            select(other.c.dk_batch_id)
            .order_by(other.c.dk_loaded_at.desc(), other.c.dk_batch_id.desc())
            .limit(1)
            .scalar_subquery()
        )
        return select(*(rows.c[n] for n in names)).where(rows.c.dk_batch_id == func.coalesce(recorded, latest_row))
    rank = (
        func.row_number()
        .over(
            partition_by=[rows.c[k] for k in key],
            order_by=[
                func.coalesce(batches.c.seq, literal(0, Integer())).desc(),
                rows.c.dk_loaded_at.desc(),
                rows.c.dk_batch_id.desc(),
            ],
        )
        .label("dk_rank")
    )
    joined = rows.outerjoin(batches, and_(own, batches.c.batch_id == rows.c.dk_batch_id))
    ranked = select(*(rows.c[n] for n in names), rank).select_from(joined).subquery("ranked")
    return select(*(ranked.c[n] for n in names)).where(ranked.c.dk_rank == 1)


def _quoted(conn: Connection, schema: str | None, name: str) -> str:
    preparer = conn.dialect.identifier_preparer
    return f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)


def _view_sql(conn: Connection, engine: Engine, source: Table, mode: BatchMode) -> tuple[str, str]:
    """(the view's quoted name, its SELECT's text) on this connection's engine."""
    schema = physical_schema(engine, source.schema)
    # SQLite resolves a view's tables in the view's own (attached) database: no schema in its body
    body_schema = None if conn.dialect.name == "sqlite" else schema
    select_ = current_select(source, mode, body_schema)
    body = select_.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    return _quoted(conn, schema, current_name(source)), str(body)


def bronze_tables(tables: Iterable[Table]) -> list[Table]:
    return [t for t in tables if is_bronze(t)]


def deploy_current(conn: Connection, engine: Engine, tables: Iterable[Table], mode: BatchMode) -> list[str]:
    """Create (or replace) the ``dk_batches`` table and the current-state view of each bronze table; their names."""
    bronze = bronze_tables(tables)
    made: list[str] = []
    for schema in sorted({t.schema for t in bronze}, key=lambda s: s or ""):
        batches = batches_table(schema)
        batches.create(conn, checkfirst=True)
        made.append(batches.fullname)
    for source in bronze:
        name, body = _view_sql(conn, engine, source, mode)
        if conn.dialect.name == "sqlite":  # no CREATE OR REPLACE there; nothing depends on a view in SQLite
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE VIEW {name} AS {body}")
        else:  # replaced in place: a dbt view reading it stays
            conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {name} AS {body}")
        made.append(f"{source.schema}.{current_name(source)}" if source.schema else current_name(source))
    return made


def drop_current(conn: Connection, engine: Engine, tables: Iterable[Table]) -> None:
    """Drop the current-state views of the bronze tables (before the tables); the batches table with the last."""
    bronze = bronze_tables(tables)
    for source in bronze:
        name = _quoted(conn, physical_schema(engine, source.schema), current_name(source))
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    for schema in {t.schema for t in bronze}:
        batches_table(schema).drop(conn, checkfirst=True)
