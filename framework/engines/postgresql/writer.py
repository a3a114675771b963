"""PostgreSQL fast path: ``COPY ... FROM STDIN`` in text format, streamed chunk by chunk.

psycopg2's ``copy_expert`` pulls text from a file-like object; ours encodes one chunk of rows per
``read()``, so the rows are never all in memory. Each line is the row's canonical line (which is
valid COPY input for almost every type, see :mod:`.canonical`) plus the lineage fields; only
arrays (array literal syntax) and JSON columns (JSON text) are written differently from their
canonical text. The encoder is generated per table, one expression per column, because this loop
runs once per row and a generic loop costs twice as much.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Connection

from ..generic.canonical import (
    DAYS,
    HOUR_MINUTE,
    NULL,
    SECOND,
    canonical_char_field,
    canonical_field,
    canonical_text,
    column_kind,
    copy_escape,
    datetime_text,
    day_text,
    infinite,
)
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


# One statement per column kind, setting c<i> (the canonical field) from v<i> (the value); "@" is i.
_CANONICAL = {
    "int": "c@ = str(v@) if v@.__class__ is int else F(v@)",
    "str": (
        'c@ = v@ if v@.__class__ is str and "\\\\" not in v@ and "\\t" not in v@ and "\\n" not in v@ '
        'and "\\r" not in v@ else F(v@)'
    ),
    # p@ / q@: the column's last datetime and its text, reused while the value repeats (an audit
    # column such as last_update often holds one value for many rows); a new value costs one compare
    "datetime": """if v@.__class__ is datetime and (v@.tzinfo is UTC or v@.tzinfo is None):
    if v@ != p@:
        d = DAYS.get(v@.toordinal()) or DAY(v@)
        m = v@.microsecond
        hms = HM[v@.hour * 60 + v@.minute] + ":" + SS[v@.second]
        q@ = f"{d} {hms}.{m:06d}+00:00" if m else f"{d} {hms}+00:00"
        p@ = v@
    c@ = q@
else:
    c@ = F(v@)""",
    "char": "c@ = FC(v@)",
}
_COPY = {"array": "FA(v@)", "json": "FJ(v@)"}


def make_encoder(columns: Sequence[Column[Any]], kinds: Sequence[str], lineage: str) -> Callable[[list[Any]], str]:
    """A function: a chunk of business-value rows -> their COPY text, lineage and hash included.

    ``lineage`` is the COPY text of the lineage fields that come between the business fields and
    the hash (load time, batch id, source table), already escaped.
    """
    count = len(columns)
    body: list[str] = []
    for i, kind in enumerate(kinds):
        statement = _CANONICAL.get(kind, "c@ = F(v@)").replace("@", str(i))
        body += ["        " + line for line in statement.splitlines()]
    line = "\\t".join(f"{{c{i}}}" for i in range(count))
    body.append(f'        line = f"{line}"')
    if any(kind in _COPY for kind in kinds):
        fields = [_COPY[kind].replace("@", str(i)) if kind in _COPY else f"c{i}" for i, kind in enumerate(kinds)]
        copy_line = "\\t".join("{" + field + "}" for field in fields)
        body.append(f'        ap(f"{copy_line}\\t{{LINEAGE}}\\t{{sha(line.encode()).hexdigest()}}\\n")')
    else:
        body.append('        ap(f"{line}\\t{LINEAGE}\\t{sha(line.encode()).hexdigest()}\\n")')
    unpack = ", ".join(f"v{i}" for i in range(count)) + ("," if count == 1 else "")
    remembered = [f"p{i} = q{i} = None" for i, kind in enumerate(kinds) if kind == "datetime"]
    source = "\n".join(
        [
            "def encode(rows):",
            "    out = []",
            "    ap = out.append",
            *("    " + line for line in remembered),
            "    for row in rows:",
            f"        {unpack} = row",
            *body,
            '    return "".join(out)',
        ]
    )
    namespace: dict[str, Any] = {
        "F": canonical_field,
        "FC": canonical_char_field,
        "FA": _array_field,
        "FJ": _json_field,
        "DAYS": DAYS,
        "DAY": day_text,
        "HM": HOUR_MINUTE,
        "SS": SECOND,
        "UTC": UTC,
        "datetime": datetime,
        "sha": hashlib.sha256,
        "LINEAGE": lineage,
    }
    name = columns[0].table.name if columns else "?"
    exec(compile(source, f"<copy encoder for {name}>", "exec"), namespace)
    encoder: Callable[[list[Any]], str] = namespace["encode"]
    return encoder


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
        names = [*(c.name for c in columns), "dk_loaded_at", "dk_batch_id", "dk_source_table", "dk_record_hash"]
        self.sql = f"COPY {physical_name(conn, table)} ({column_list(conn, names)}) FROM STDIN"

    def write(self, chunks: RowChunks) -> int:
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def copy(texts: Iterator[str]) -> None:
            cursor.copy_expert(self.sql, _CopySource(texts), size=1 << 20)

        written = 0
        handoff: Handoff[str] = Handoff(copy)
        try:
            try:
                for chunk in chunks:
                    if chunk:
                        handoff.put(self.encode(chunk))
                        written += len(chunk)
            except BaseException:
                handoff.abort()
                raise
            handoff.finish()
        finally:
            cursor.close()
        return written

    def write_fields(self, chunks: Iterator[Sequence[Any]]) -> int:
        """Like :meth:`write`, each chunk given as the canonical fields of each business column (pyarrow string
        arrays: :mod:`~..generic.fields`); the COPY text is built column-wise, the hash per row."""
        import pyarrow as pa  # type: ignore[import-not-found,unused-ignore]

        def texts() -> Iterator[bytes]:
            for fields in chunks:
                lines = canonical_lines(pa, fields)
                yield joined_lines(pa, [lines, *self.lineage_fields, record_hashes(pa, lines)])

        return self._copy(texts())

    def _copy(self, texts: Iterator[Any]) -> int:
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def copy(items: Iterator[Any]) -> None:
            cursor.copy_expert(self.sql, _CopySource(items), size=1 << 20)

        written = 0
        handoff: Handoff[Any] = Handoff(copy)
        try:
            try:
                for text in texts:
                    handoff.put(text)
                    written += text.count(b"\n") if isinstance(text, bytes) else 0
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
