"""Rows as DB-API parameters, for the engines that load with ``executemany`` (MySQL, SQLite).

Each value goes through the column type's own SQLAlchemy bind processor (JSON to text, datetimes
to SQLite's text form, ...), so a row reads back exactly as if SQLAlchemy had written it. Aware
datetimes are stored as UTC wall time first: neither MySQL's DATETIME nor SQLite keeps an offset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Connection

from .canonical import column_kind, field_functions
from .writer import Handoff, Lineage, RowChunks, column_list, physical_name

_sha256 = hashlib.sha256


def utc_naive(value: Any) -> Any:
    """An aware datetime as naive UTC wall time; anything else as it is."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _converter(column: Column[Any], conn: Connection) -> Callable[[Any], Any] | None:
    dialect = conn.dialect
    kind = column_kind(column, dialect)
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if kind == "datetime":
        if process is None:
            return utc_naive
        return lambda v, p=process: p(utc_naive(v))  # type: ignore[misc]
    if kind == "json" and process is not None:
        return lambda v, p=process: None if v is None else p(v)  # type: ignore[misc]
    return process


def make_params(
    columns: Sequence[Column[Any]], conn: Connection, lineage: Lineage, table: Table
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function: business values -> the INSERT parameters, lineage and record hash included."""
    fields = field_functions(columns)
    converters = [_converter(c, conn) for c in columns]
    converted = [(i, f) for i, f in enumerate(converters) if f is not None]
    loaded_at_convert = _converter(table.c.dk_loaded_at, conn)
    loaded_at = loaded_at_convert(lineage.loaded_at) if loaded_at_convert else lineage.loaded_at
    tail = (loaded_at, lineage.batch_id, lineage.source_table)

    def params(values: Sequence[Any]) -> tuple[Any, ...]:
        line = "\t".join([f(v) for f, v in zip(fields, values, strict=True)])
        out = list(values)
        for i, convert in converted:
            out[i] = convert(out[i])
        return (*out, *tail, _sha256(line.encode()).hexdigest())

    return params


class ExecutemanyWriter:
    """Writes a batch with one ``executemany`` per chunk of rows on the DB-API cursor."""

    placeholder = "?"
    #: Execute on a thread of its own (:class:`~.common.Handoff`) while the next chunk is prepared.
    threaded = True

    def __init__(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> None:
        self.conn = conn
        self.params = make_params(columns, conn, lineage, table)
        names = [*(c.name for c in columns), "dk_loaded_at", "dk_batch_id", "dk_source_table", "dk_record_hash"]
        marks = ", ".join([self.placeholder] * len(names))
        self.sql = f"INSERT INTO {physical_name(conn, table)} ({column_list(conn, names)}) VALUES ({marks})"

    def write(self, chunks: RowChunks) -> int:
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        params, written = self.params, 0
        try:
            if not self.threaded:
                for chunk in chunks:
                    if chunk:
                        cursor.executemany(self.sql, [params(values) for values in chunk])
                        written += len(chunk)
                return written

            def execute(batches: Iterator[list[tuple[Any, ...]]]) -> None:
                for batch in batches:
                    cursor.executemany(self.sql, batch)

            handoff: Handoff[list[tuple[Any, ...]]] = Handoff(execute)
            try:
                for chunk in chunks:
                    if chunk:
                        handoff.put([params(values) for values in chunk])
                        written += len(chunk)
            except BaseException:
                handoff.abort()
                raise
            handoff.finish()
            return written
        finally:
            cursor.close()
