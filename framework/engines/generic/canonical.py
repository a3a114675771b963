"""The record hash: one SHA-256 per row over its business columns, the same on every engine.

The hash is the lowercase hex SHA-256 of the UTF-8 bytes of the row's *canonical line*: the
business columns (the target's columns other than :data:`~framework.engines.generic.writer.LINEAGE_COLUMNS`), in
the target table's column order, each written as its canonical text and escaped as in
PostgreSQL's COPY text format (``\\`` -> ``\\\\``, tab -> ``\\t``, newline -> ``\\n``, carriage return
-> ``\\r``), joined by tabs, with SQL NULL written ``\\N``. The escaping makes the line
unambiguous: no two different rows share a line.

Canonical text of a value, by Python type:

    None                      NULL (``\\N``)
    bool                      ``true`` / ``false``
    int                       decimal digits
    float                     ``repr`` (shortest round trip): ``0.1``, ``1e+20``, ``nan``, ``inf``
    Decimal                   fixed point, normalised: no exponent, no trailing zeros or point
                              (``5.00`` -> ``5``, ``4.90`` -> ``4.9``, ``-0`` -> ``0``)
    str                       itself; in a CHAR(n) column without trailing spaces (MySQL strips
                              them on read, PostgreSQL pads them)
    datetime                  in UTC, ``YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`` (``isoformat(" ")``);
                              a naive datetime is taken to be UTC already; PostgreSQL's infinite
                              timestamps and dates (:class:`InfiniteDatetime`) ``infinity`` / ``-infinity``
    date, time                ``isoformat()``
    timedelta                 ISO 8601 duration ``P<days>DT<seconds>.<microseconds>S``
    bytes, bytearray, memoryview  ``\\x`` + lowercase hex (PostgreSQL's bytea hex form)
    list, tuple, dict         JSON: keys sorted, no spaces, non-ASCII kept; values inside by the
                              JSON rules, with the non-JSON types above as their canonical text
    UUID                      lowercase, hyphenated
    Enum member               the canonical text of its value
    anything else             ``str(value)``

So a row read back from PostgreSQL, MySQL/MariaDB or SQLite hashes the same as it did when it was
loaded, and an unchanged source row hashes the same in every batch. Floats hash the same only
where the engines give back the same float (an 8-byte float column does; a 4-byte one may not).
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, CHAR, JSON, Boolean, Column, DateTime, Integer, String
from sqlalchemy.engine import Dialect

from .writer import LINEAGE_COLUMNS

__all__ = [
    "NULL",
    "canonical_line",
    "canonical_text",
    "copy_escape",
    "record_hash",
]

#: SQL NULL in a canonical line (and in PostgreSQL's COPY text format).
NULL = "\\N"

_sha256 = hashlib.sha256


def copy_escape(text: str) -> str:
    """``text`` escaped for PostgreSQL's COPY text format (backslash, tab, newline, return)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# Text of a datetime, built from cached parts: twice as fast as isoformat(), which matters at
# three datetimes a row. The day cache is bounded; the hour:minute and second texts are fixed.
HOUR_MINUTE = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
SECOND = [f"{s:02d}" for s in range(60)]
DAYS: dict[int, str] = {}
_DAYS_LIMIT = 100_000


def day_text(value: date) -> str:
    """``YYYY-MM-DD`` of a date or datetime, through the day cache."""
    ordinal = value.toordinal()
    text = DAYS.get(ordinal)
    if text is None:
        if len(DAYS) >= _DAYS_LIMIT:
            DAYS.clear()
        text = DAYS[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


def utc_text(value: datetime) -> str:
    """Canonical text of a datetime already in UTC (aware) or taken as UTC (naive)."""
    day = DAYS.get(value.toordinal()) or day_text(value)
    micro = value.microsecond
    if micro:
        return f"{day} {HOUR_MINUTE[value.hour * 60 + value.minute]}:{SECOND[value.second]}.{micro:06d}+00:00"
    return f"{day} {HOUR_MINUTE[value.hour * 60 + value.minute]}:{SECOND[value.second]}+00:00"


def datetime_text(value: datetime) -> str:
    if value.tzinfo is not None and value.tzinfo is not UTC:
        offset = value.utcoffset()
        if offset:
            value = value.astimezone(UTC)
    return utc_text(value)


def _timedelta(value: timedelta) -> str:
    return f"P{value.days}DT{value.seconds}.{value.microseconds:06d}S"


def _json_default(value: Any) -> Any:
    text = canonical_text(value)
    return text if text is not None else None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


class InfiniteDatetime(datetime):
    """PostgreSQL's ``'infinity'`` / ``'-infinity'`` timestamp, read as itself.

    psycopg2 reads them as ``datetime.max`` / ``datetime.min``, real instants a load would then
    write as such; the PostgreSQL source reads them as these (equal to ``max`` / ``min``, so they
    sort and compare as before), whose canonical and COPY text is ``infinity`` / ``-infinity``. An
    engine that has no infinite timestamps refuses them (:func:`unheld`)."""

    infinite_text = "infinity"


class InfiniteDate(date):
    """PostgreSQL's ``'infinity'`` / ``'-infinity'`` date (see :class:`InfiniteDatetime`)."""

    infinite_text = "infinity"


def infinite(kind: type[datetime] | type[date], text: str, aware: bool = False) -> Any:
    """The infinite value ``text`` (``infinity`` or ``-infinity``) of a timestamp (aware or not) or a date."""
    negative = text.startswith("-")
    if kind is date:
        day = date.min if negative else date.max
        value: Any = InfiniteDate(day.year, day.month, day.day)
    else:
        at = datetime.min if negative else datetime.max
        value = InfiniteDatetime(*at.timetuple()[:6], at.microsecond, tzinfo=UTC if aware else None)
    value.infinite_text = "-infinity" if negative else "infinity"
    return value


_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: str,
    int: str,
    bool: lambda v: "true" if v else "false",
    float: repr,
    Decimal: _decimal,
    datetime: datetime_text,
    date: date.isoformat,
    time: time.isoformat,
    timedelta: _timedelta,
    bytes: lambda v: "\\x" + v.hex(),
    bytearray: lambda v: "\\x" + v.hex(),
    memoryview: lambda v: "\\x" + v.hex(),
    list: _json,
    tuple: _json,
    dict: _json,
    uuid.UUID: str,
    InfiniteDatetime: lambda v: v.infinite_text,
    InfiniteDate: lambda v: v.infinite_text,
}


def canonical_text(value: Any) -> str | None:
    """The canonical text of one value (see the module docstring); ``None`` for SQL NULL."""
    if value is None:
        return None
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, enum.Enum):
        return canonical_text(value.value)
    for kind, convert in _BY_TYPE.items():  # subclasses: str and int enums, datetime subclasses, ...
        if isinstance(value, kind):
            return convert(value)
    return str(value)


def canonical_field(value: Any) -> str:
    """One field of a canonical line: the canonical text, COPY-escaped, or ``\\N``."""
    text = canonical_text(value)
    return NULL if text is None else copy_escape(text)


def canonical_char_field(value: Any) -> str:
    """A field of a CHAR(n) column: trailing spaces do not count."""
    if value.__class__ is str:
        value = value.rstrip(" ")
    return canonical_field(value)


def business_columns(table_columns: Iterable[Column[Any]]) -> list[Column[Any]]:
    """The columns a record hash covers: all but the lineage columns, in column order."""
    return [c for c in table_columns if c.name not in LINEAGE_COLUMNS]


def is_char(column: Column[Any]) -> bool:
    """True for a fixed-width CHAR(n) column, whose trailing spaces do not count."""
    return isinstance(column.type, CHAR)


def field_functions(columns: Sequence[Column[Any]]) -> list[Callable[[Any], str]]:
    """For each column, the function that writes a value's field of the canonical line."""
    return [canonical_char_field if is_char(c) else canonical_field for c in columns]


def canonical_line(values: Sequence[Any], columns: Sequence[Column[Any]] | None = None) -> str:
    """The canonical line of a row's business values (CHAR columns right-trimmed when given)."""
    fields = field_functions(columns) if columns is not None else [canonical_field] * len(values)
    return "\t".join([f(v) for f, v in zip(fields, values, strict=True)])


def record_hash(table: Any, row: Any) -> str:
    """The record hash of ``row`` for the bronze ``table`` (a Table or SQLModel class).

    ``row`` is a mapping or an object with attributes (a SQLModel instance, a SQLAlchemy ``Row``)
    holding at least the table's business columns.
    """
    columns = business_columns(getattr(table, "__table__", table).columns)
    if hasattr(row, "_mapping"):
        row = row._mapping
    by_key = hasattr(row, "keys")
    values = [row[c.name] if by_key else getattr(row, c.name) for c in columns]
    return _sha256(canonical_line(values, columns).encode()).hexdigest()


# --- What each engine's writer needs to know of a column -----------------------------------------


def column_kind(column: Column[Any], dialect: Dialect) -> str:
    """``array``, ``json``, ``datetime``, ``char``, ``int``, ``str`` or ``other`` on ``dialect``."""
    impl = column.type.dialect_impl(dialect)
    if isinstance(impl, ARRAY):
        return "array"
    if isinstance(impl, JSON):
        return "json"
    kind = column.type  # the generic type: a DOMAIN over INTEGER is still an int column
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, CHAR):
        return "char"
    if isinstance(kind, Integer) and not isinstance(kind, Boolean):
        return "int"
    if isinstance(kind, String):
        return "str"
    return "other"
