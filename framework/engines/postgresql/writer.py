"""PostgreSQL fast path: ``COPY ... FROM STDIN`` in text format, streamed chunk by chunk.

psycopg2's ``copy_expert`` pulls text from a file-like object; ours encodes one chunk of rows per
``read()``, so the rows are never all in memory. Each line is the row's canonical line (which is
valid COPY input for almost every type, see :mod:`.canonical`) plus the lineage fields; only
arrays (array literal syntax) and JSON columns (JSON text) are written differently from their
canonical text. The encoder is generated per table, one expression per column, because this loop
runs once per row and a generic loop costs twice as much.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Connection

from ..generic.canonical import (
    NULL,
    canonical_field,
    canonical_text,
    column_kind,
    copy_escape,
    datetime_text,
    infinite,
)
from ..generic.encoder import make_line_encoder
from ..generic.fields import canonical_lines, joined_lines, record_hashes
from ..generic.writer import Handoff, Lineage, RowChunks, column_list, physical_name

__all__ = ["PostgresCopyWriter", "array_literal", "make_encoder"]


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        return array_literal(value)
    text = canonical_text(value) or ""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal: ``{"a","b c",NULL}``; nested sequences become nested arrays."""
    return "{" + ",".join(_array_element(v) for v in values) + "}"


def _array_field(value: Any) -> str:
    if isinstance(value, list | tuple):
        return copy_escape(array_literal(value))
    return canonical_field(value)


def _json_field(value: Any) -> str:
    if value is None:
        return NULL
    return copy_escape(json.dumps(value, ensure_ascii=False, default=canonical_text))


_COPY = {"array": "FA(v@)", "json": "FJ(v@)"}


def make_encoder(columns: Sequence[Column[Any]], kinds: Sequence[str], lineage: str) -> Callable[[list[Any]], str]:
    """A function: a chunk of business-value rows -> their COPY text, lineage and hash included (arrays and JSON
    written as PostgreSQL reads them; see :func:`~..generic.encoder.make_line_encoder`)."""
    return make_line_encoder(columns, kinds, lineage, _COPY, {"FA": _array_field, "FJ": _json_field})


class _CopySource:
    """The file-like object ``copy_expert`` reads: one encoded chunk per ``read()``."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks

    def read(self, size: int = -1) -> Any:
        return next(self._chunks, "")

    readline = read


class PostgresCopyWriter:
    """Writes a batch into a PostgreSQL table with ``COPY ... FROM STDIN``.

    ``copy_expert`` runs on a thread of its own (:class:`~.common.Handoff`): while it waits for
    the server to take a chunk, this thread encodes the next one.
    """

    def __init__(self, conn: Connection, table: Any, columns: Sequence[Column[Any]], lineage: Lineage) -> None:
        self.conn = conn
        kinds = [column_kind(c, conn.dialect) for c in columns]
        loaded_at = datetime_text(lineage.loaded_at)
        fields = "\t".join(copy_escape(x) for x in (loaded_at, lineage.batch_id, lineage.source_table))
        self.encode = make_encoder(columns, kinds, fields)
        self.lineage_fields = fields.split("\t")
        #: file sources' column-wise fields (:meth:`write_fields`): where every column's COPY text is its canonical text
        self.takes_fields = not any(kind in _COPY for kind in kinds)
        names = [*(c.name for c in columns), "dk_loaded_at", "dk_batch_id", "dk_source_table", "dk_record_hash"]
        self.sql = f"COPY {physical_name(conn, table)} ({column_list(conn, names)}) FROM STDIN"

    def write(self, chunks: RowChunks) -> int:
        return self._copy((self.encode(chunk), len(chunk)) for chunk in chunks if chunk)

    def write_fields(self, chunks: Iterator[Sequence[Any]]) -> int:
        """Like :meth:`write`, each chunk given as the canonical fields of each business column (pyarrow string
        arrays: :mod:`~..generic.fields`); the COPY text is built column-wise, the hash per row."""
        import pyarrow as pa  # type: ignore[import-not-found,unused-ignore]

        def texts() -> Iterator[tuple[bytes, int]]:
            for fields in chunks:
                lines = canonical_lines(pa, fields)
                yield joined_lines(pa, [lines, *self.lineage_fields, record_hashes(pa, lines)]), len(lines)

        return self._copy(texts())

    def _copy(self, texts: Iterator[tuple[Any, int]]) -> int:
        """COPY the texts (each with its number of rows), on a thread of its own; the rows written."""
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def copy(items: Iterator[Any]) -> None:
            cursor.copy_expert(self.sql, _CopySource(items), size=1 << 20)

        written = 0
        handoff: Handoff[Any] = Handoff(copy)
        try:
            try:
                for text, rows in texts:
                    handoff.put(text)
                    written += rows
            except BaseException:
                handoff.abort()
                raise
            handoff.finish()
        finally:
            cursor.close()
        return written


# --- Reading: faster datetimes from psycopg2 ------------------------------------------------------

_TIMESTAMP_OIDS = {"timestamptz": 1184, "timestamp": 1114, "date": 1082}
_INFINITE = ("infinity", "-infinity")
_fast_types: dict[str, Any] = {}


def _fast_type(name: str) -> Any:
    """A psycopg2 typecaster that parses ISO timestamps with ``datetime.fromisoformat``.

    It gives the very values psycopg2's own caster gives (aware for timestamptz), in half the
    time; ``infinity`` and ``-infinity`` become :class:`InfiniteDatetime` / :class:`InfiniteDate`
    (psycopg2's own gives ``datetime.max``, a real instant a load would carry as such); other
    text that is not ISO (BC dates) goes to psycopg2's own caster.
    """
    if name not in _fast_types:
        import psycopg2.extensions as ext

        fallback = {"timestamptz": ext.PYDATETIMETZ, "timestamp": ext.PYDATETIME, "date": ext.PYDATE}[name]
        parse = date.fromisoformat if name == "date" else datetime.fromisoformat
        kind = date if name == "date" else datetime
        aware = name == "timestamptz"

        def cast(value: str | None, cursor: Any) -> Any:
            if value is None:
                return None
            try:
                return parse(value)
            except ValueError:
                if value in _INFINITE:
                    return infinite(kind, value, aware)
                return fallback(value, cursor)

        _fast_types[name] = ext.new_type((_TIMESTAMP_OIDS[name],), f"DATAKITS_{name.upper()}", cast)
    return _fast_types[name]


def prepare_source(conn: Connection, utc: bool) -> None:
    """Ready a source connection: fast timestamps; with ``utc``, UTC and ISO output for this transaction."""
    if utc:
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        conn.exec_driver_sql("SET LOCAL DateStyle = 'ISO'")
    if conn.dialect.driver == "psycopg2":
        import psycopg2.extensions as ext

        raw = conn.connection.driver_connection
        for name in _TIMESTAMP_OIDS:
            ext.register_type(_fast_type(name), raw)
