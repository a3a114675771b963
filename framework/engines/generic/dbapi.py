"""Rows as DB-API parameters, for the engines that load with ``executemany`` (MySQL, SQLite).

Each value goes through the column type's own SQLAlchemy bind processor (JSON to text, datetimes
to SQLite's text form, ...), so a row reads back exactly as if SQLAlchemy had written it. Aware
datetimes are stored as UTC wall time first: neither MySQL's DATETIME nor SQLite keeps an offset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Date, DateTime, Float, Numeric, Table
from sqlalchemy.engine import Connection

from ...errors import LoadError
from .canonical import InfiniteDate, InfiniteDatetime, column_kind, field_functions
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


#: the most significant digits an 8-byte float (SQLite's REAL, what SQLAlchemy stores a NUMERIC as) keeps
FLOAT_DIGITS = 15


def _guard(column: Column[Any], dialect: Any, table: Table, batch_id: str) -> Callable[[Any], Any] | None:
    """A check of the values the engine would change without a word, for the columns that can get one.

    MySQL and SQLite have no infinite timestamps or dates (PostgreSQL's ``infinity``); SQLite stores
    NaN as NULL and a NUMERIC as an 8-byte float (a value a float does not hold exactly, past 15
    significant digits, is refused); MySQL holds no NaN or
    infinity. Such a value refuses the batch in one line naming the table, the column and the value.
    Built once per table: a column that cannot get such a value has no check at all."""
    kind = column.type
    sqlite = dialect.name == "sqlite"

    def refuse(value: Any, why: str) -> LoadError:
        return LoadError(
            f"{table.fullname}: column {column.name}: {dialect.name} cannot hold {value!r} ({why}); "
            f"batch {batch_id} rolled back",
            table.fullname,
            batch_id,
            column=column.name,
        )

    if isinstance(kind, DateTime | Date):

        def no_infinity(value: Any) -> Any:
            if value.__class__ is InfiniteDatetime or value.__class__ is InfiniteDate:
                raise refuse(value.infinite_text, "it has no infinite timestamps or dates")
            return value

        return no_infinity
    if isinstance(kind, Float):

        def finite_float(value: Any) -> Any:
            if value is not None and value.__class__ is float and (value != value or value in _INFINITIES):
                if sqlite and value == value:
                    return value  # SQLite keeps an infinite REAL as it is
                raise refuse(value, "SQLite stores NaN as NULL" if sqlite else "it has no NaN or infinity")
            return value

        return finite_float
    if isinstance(kind, Numeric):

        def exact_decimal(value: Any) -> Any:
            if value.__class__ is Decimal:
                if not value.is_finite():
                    raise refuse(value, "it has no NaN or infinite numbers")
                if sqlite and len(value.as_tuple().digits) > FLOAT_DIGITS and Decimal(repr(float(value))) != value:
                    raise refuse(value, f"SQLite keeps {FLOAT_DIGITS} significant digits of a NUMERIC")
            return value

        return exact_decimal
    return None


_INFINITIES = (float("inf"), float("-inf"))


def _checked(convert: Callable[[Any], Any] | None, guard: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    if guard is None or convert is None:
        return guard or convert
    return lambda v, c=convert, g=guard: c(g(v))  # type: ignore[misc]


def make_params(
    columns: Sequence[Column[Any]], conn: Connection, lineage: Lineage, table: Table
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function: business values -> the INSERT parameters, lineage and record hash included."""
    fields = field_functions(columns)
    converters = [_checked(_converter(c, conn), _guard(c, conn.dialect, table, lineage.batch_id)) for c in columns]
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
