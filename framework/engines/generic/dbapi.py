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


_INFINITIES = (float("inf"), float("-inf"))


def _refusal(
    column: Column[Any], dialect: Any, table: Table, batch_id: str
) -> tuple[str, Callable[[Any], None]] | None:
    """For a column that can get a value the engine would change without a word: the cheap test
    (a Python expression on ``v``) that picks such values out, and the function that looks closer
    and refuses the batch in one line naming the table, the column and the value. None otherwise.

    MySQL and SQLite have no infinite timestamps or dates (PostgreSQL's ``infinity``); SQLite
    stores NaN as NULL and a NUMERIC as an 8-byte float (a value a float does not hold exactly is
    refused); MySQL holds no NaN or infinity."""
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

        def infinite(value: Any) -> None:
            raise refuse(value.infinite_text, "it has no infinite timestamps or dates")

        return "v.__class__ is INFINITE_DATETIME or v.__class__ is INFINITE_DATE", infinite
    if isinstance(kind, Float):

        def not_finite(value: Any) -> None:
            if value.__class__ is not float or (sqlite and value == value):
                return  # SQLite keeps an infinite REAL as it is
            raise refuse(value, "SQLite stores NaN as NULL" if sqlite else "it has no NaN or infinity")

        return "v != v or v in INFINITIES", not_finite
    if isinstance(kind, Numeric):

        def inexact(value: Any) -> None:
            if not value.is_finite():
                raise refuse(value, "it has no NaN or infinite numbers")
            if Decimal(repr(float(value))) != value:
                raise refuse(value, f"SQLite keeps {FLOAT_DIGITS} significant digits of a NUMERIC")

        if sqlite:  # more than 15 digits take more than 16 characters (a sign or a point besides): a cheap test
            return f"v.__class__ is DECIMAL and (not v.is_finite() or len(str(v)) > {FLOAT_DIGITS + 1})", inexact
        return "v.__class__ is DECIMAL and not v.is_finite()", inexact
    return None


def make_check(
    columns: Sequence[Column[Any]], dialect: Any, table: Table, batch_id: str
) -> Callable[[Sequence[Any]], None] | None:
    """One function per table that checks a row's values the engine cannot hold (see :func:`_refusal`);
    generated, one cheap test per column that can get such a value, so a row costs one call."""
    body: list[str] = []
    namespace: dict[str, Any] = {
        "INFINITE_DATETIME": InfiniteDatetime,
        "INFINITE_DATE": InfiniteDate,
        "INFINITIES": _INFINITIES,
        "DECIMAL": Decimal,
    }
    for i, column in enumerate(columns):
        found = _refusal(column, dialect, table, batch_id)
        if found is None:
            continue
        test, refuse = found
        namespace[f"refuse{i}"] = refuse
        body += [f"    v = row[{i}]", f"    if {test}:", f"        refuse{i}(v)"]
    if not body:
        return None
    exec(compile("\n".join(["def check(row):", *body]), f"<value check for {table.fullname}>", "exec"), namespace)
    check: Callable[[Sequence[Any]], None] = namespace["check"]
    return check


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
    found = make_check(columns, conn.dialect, table, lineage.batch_id)

    def params(values: Sequence[Any]) -> tuple[Any, ...]:
        line = "\t".join([f(v) for f, v in zip(fields, values, strict=True)])
        out = list(values)
        for i, convert in converted:
            out[i] = convert(out[i])
        return (*out, *tail, _sha256(line.encode()).hexdigest())

    if found is None:
        return params
    check: Callable[[Sequence[Any]], None] = found

    def checked_params(values: Sequence[Any]) -> tuple[Any, ...]:
        check(values)
        line = "\t".join([f(v) for f, v in zip(fields, values, strict=True)])
        out = list(values)
        for i, convert in converted:
            out[i] = convert(out[i])
        return (*out, *tail, _sha256(line.encode()).hexdigest())

    return checked_params


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
