"""MySQL/MariaDB fast paths: ``LOAD DATA LOCAL INFILE`` (:class:`MysqlLoadDataWriter`), else multi-row INSERTs.

PyMySQL's ``executemany`` on an ``INSERT ... VALUES (%s, ...)`` statement sends one multi-row
INSERT per megabyte of rows, so a chunk of rows costs a handful of round trips. The source side
streams with an unbuffered cursor (SQLAlchemy's ``stream_results`` gives PyMySQL's SSCursor).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    CHAR,
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    PickleType,
    String,
    Table,
    Time,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.engine import Connection

from ..generic.canonical import copy_escape, datetime_text
from ..generic.dbapi import ExecutemanyWriter, make_check
from ..generic.encoder import make_line_encoder
from ..generic.fields import canonical_lines, joined_lines, record_hashes
from ..generic.writer import Lineage, RowChunks, column_list, physical_name

__all__ = ["MysqlInsertWriter", "MysqlLoadDataWriter"]


class MysqlInsertWriter(ExecutemanyWriter):
    """Writes a batch into a MySQL/MariaDB table with multi-row INSERTs."""

    placeholder = "%s"


def abandon_stream(driver_connection: object) -> None:
    """Let go of an unbuffered result half read, without reading the rest.

    PyMySQL reads an SSCursor's remaining rows when the cursor is closed or collected: on a big
    table, the whole table, and on a connection already closed, an error in ``__del__``. MySQL
    has no way to stop sending but closing the connection, so the caller closes it; this marks
    the result finished first, so that PyMySQL does not try to read it.
    """
    result = getattr(driver_connection, "_result", None)
    if getattr(result, "unbuffered_active", False):
        result.unbuffered_active = False  # type: ignore[union-attr]


# --- LOAD DATA LOCAL INFILE -----------------------------------------------------------------------

#: what MariaDB and MySQL say when the server (or the client) has LOCAL INFILE off
_REFUSED_CODES = {1148, 3948, 4166, 2068}
_told: set[str] = set()
_told_lock = threading.Lock()


def _load_data_kind(column: Column[Any], dialect: Any) -> str | None:
    """How a column's value is written in LOAD DATA text; None for a type written only by INSERT (its bind
    processor makes what is stored: bytes, JSON, UUID, Enum, ...)."""
    kind = column.type
    if isinstance(kind, Enum | JSON | ARRAY | LargeBinary | Uuid | Interval | PickleType) or isinstance(
        column.type.dialect_impl(dialect), JSON
    ):
        return None
    while isinstance(kind, TypeDecorator):  # SQLModel's AutoString, UTCDateTime: their impl's
        kind = kind.impl_instance
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, CHAR):
        return "char"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, String):
        return "str"
    if isinstance(kind, Numeric | Float | Date | Time):
        return "other"
    return None


def _mysql_datetime(field: str) -> str:
    """A canonical datetime field (UTC, ``+00:00``) as MySQL's DATETIME reads it: its UTC wall time."""
    return field[:-6] if field.endswith("+00:00") else field


def _mysql_bool(value: Any) -> str:
    return "\\N" if value is None else ("1" if value else "0")


class MysqlLoadDataWriter:
    """Writes a batch with one ``LOAD DATA LOCAL INFILE`` per table, its text streamed through a named pipe.

    The statement runs on a thread of its own; this thread encodes the rows (the same lines as the COPY
    writer: canonical fields, lineage, hash) into the pipe PyMySQL reads the file from. With ``LOCAL`` the
    server turns a refused row into a warning and goes on, so the writer checks: a warning or a row not
    written is an error (its words, ``at row N``). Where the server refuses ``LOCAL INFILE``, one line on
    stderr says so and the rows go by INSERT (:class:`MysqlInsertWriter`)."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[Column[Any]], lineage: Lineage) -> None:
        self.conn, self.table, self.columns, self.lineage = conn, table, columns, lineage
        dialect = conn.dialect
        kinds = [_load_data_kind(c, dialect) for c in columns]
        self.usable = all(kind is not None for kind in kinds)
        self.takes_fields = self.usable  # file sources' column-wise fields (write_fields)
        loaded_at = _mysql_datetime(datetime_text(lineage.loaded_at))
        self.lineage_fields = [copy_escape(x) for x in (loaded_at, lineage.batch_id, lineage.source_table)]
        encoder_kinds = [k if k in ("int", "str", "char", "datetime") else "other" for k in kinds if k is not None]
        self.kinds = [k or "other" for k in kinds]
        if self.usable:
            # a datetime's canonical field is UTC with +00:00: MySQL's DATETIME takes its wall time (inline: per value)
            written = {"datetime": "(c@[:-6] if c@.endswith(UTC_ZONE) else c@)", "bool": "MB(v@)"}
            self.encode = make_line_encoder(
                columns,
                [("bool" if k == "bool" else e) for k, e in zip(self.kinds, encoder_kinds, strict=True)],
                "\t".join(self.lineage_fields),
                written,
                {"MB": _mysql_bool, "UTC_ZONE": "+00:00"},
            )
        self.check = make_check(columns, dialect, table, lineage.batch_id)
        names = [*(c.name for c in columns), "dk_loaded_at", "dk_batch_id", "dk_source_table", "dk_record_hash"]
        self.into = f"INTO TABLE {physical_name(conn, table)} CHARACTER SET utf8mb4 " + (
            f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({column_list(conn, names)})"
        )

    def _fallback(self) -> MysqlInsertWriter:
        return MysqlInsertWriter(self.conn, self.table, self.columns, self.lineage)

    def write(self, chunks: RowChunks) -> int:
        if not self.usable:
            return self._fallback().write(chunks)
        check = self.check

        def texts() -> Iterator[tuple[bytes, int]]:
            for chunk in chunks:
                if chunk:
                    if check is not None:
                        for row in chunk:
                            check(row)
                    yield self.encode(chunk).encode(), len(chunk)

        return self._load(texts(), lambda: self._fallback().write(chunks))

    def write_fields(self, chunks: Iterator[Sequence[Any]]) -> int:
        """Like :meth:`write`, each chunk given as the canonical fields of each business column (pyarrow string
        arrays: :mod:`~..generic.fields`); the text is built column-wise, the hash per row."""
        import pyarrow as pa  # type: ignore[import-not-found,unused-ignore]

        pc = pa.compute

        def mysql(field: Any, kind: str) -> Any:
            if kind == "datetime":
                return pc.if_else(pc.ends_with(field, "+00:00"), pc.utf8_slice_codeunits(field, 0, -6), field)
            if kind == "bool":
                return pc.if_else(pc.equal(field, "true"), "1", pc.if_else(pc.equal(field, "false"), "0", field))
            return field

        def texts() -> Iterator[tuple[bytes, int]]:
            for fields in chunks:
                lines = canonical_lines(pa, fields)
                written = [mysql(f, k) for f, k in zip(fields, self.kinds, strict=True)]
                yield joined_lines(pa, [*written, *self.lineage_fields, record_hashes(pa, lines)]), len(lines)

        def insert() -> int:
            raise RuntimeError("unreachable: file sources' rows are written by LOAD DATA here")

        return self._load(texts(), insert)

    def _load(self, texts: Iterator[tuple[bytes, int]], fallback: Callable[[], int]) -> int:
        raw = self.conn.connection.driver_connection
        folder = tempfile.mkdtemp(prefix="datakits-load-")
        pipe = os.path.join(folder, "rows")
        os.mkfifo(pipe, 0o600)
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            cursor = raw.cursor()  # type: ignore[union-attr]
            try:
                quoted = pipe.replace("\\", "\\\\").replace("'", "\\'")
                cursor.execute(f"LOAD DATA LOCAL INFILE '{quoted}' {self.into}")
                outcome["rows"] = cursor.rowcount
                if getattr(getattr(cursor, "_result", None), "warning_count", 0):
                    cursor.execute("SHOW WARNINGS LIMIT 1")
                    outcome["warning"] = cursor.fetchone()
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                cursor.close()
                done.set()

        thread = threading.Thread(target=run, name="datakits-load-data", daemon=True)
        thread.start()
        written = 0
        try:
            fd = _open_writer(pipe, done)
            if fd is None:  # the statement ended before it read the pipe: refused, or failed
                thread.join()
                error = outcome.get("error")
                if error is not None and _refused(error):
                    _tell(self.conn, error)
                    return fallback()
                raise error if error is not None else RuntimeError("LOAD DATA ended without reading its rows")
            try:
                for text, rows in texts:
                    _write_all(fd, text)
                    written += rows
            finally:
                with contextlib.suppress(OSError):
                    os.close(fd)
            thread.join()
        finally:
            if thread.is_alive():  # an error on this side: let the statement end on what it has
                _drain(pipe)
                thread.join()
            with contextlib.suppress(OSError):
                os.unlink(pipe)
                os.rmdir(folder)
        if "error" in outcome:
            raise outcome["error"]
        warning = outcome.get("warning")
        if warning is not None:
            _, code, message = warning
            raise _driver_error(raw, int(code), str(message))
        if outcome.get("rows") != written:
            raise _driver_error(raw, 1062, f"LOAD DATA wrote {outcome.get('rows')} of {written} rows (duplicate key)")
        return written


def _refused(error: BaseException) -> bool:
    code = error.args[0] if error.args and isinstance(error.args[0], int) else None
    text = str(error).lower()
    return code in _REFUSED_CODES or "local_infile" in text or "local data" in text or "load_local" in text


def _tell(conn: Connection, error: BaseException) -> None:
    """One line per server: LOCAL INFILE refused, the rows go by INSERT."""
    where = conn.engine.url.render_as_string(hide_password=True)
    with _told_lock:
        if where in _told:
            return
        _told.add(where)
    said = " ".join(str(error).split())[:160]
    print(
        f"datakits: {where} refuses LOAD DATA LOCAL INFILE ({said}); loading by INSERT instead "
        "(set local_infile=ON on the server for LOAD DATA speed)",
        file=sys.stderr,
        flush=True,
    )


def _driver_error(raw: Any, code: int, message: str) -> BaseException:
    errors = sys.modules[type(raw).__module__.split(".")[0] + ".err"]
    kind = errors.IntegrityError if code in (1062, 1048, 1451, 1452) else errors.DataError
    error: BaseException = kind(code, message)
    return error


def _open_writer(pipe: str, done: threading.Event) -> int | None:
    """The pipe opened for writing once the statement opens it for reading; None if the statement ends first."""
    while True:
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            if done.wait(0.002):
                return None
            continue
        os.set_blocking(fd, True)
        return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _drain(pipe: str) -> None:
    """Open the pipe's other end so that a reader or writer waiting on it goes on."""
    with contextlib.suppress(OSError):
        fd = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
        os.close(fd)
