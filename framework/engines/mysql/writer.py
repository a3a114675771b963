"""MySQL/MariaDB fast path: multi-row INSERTs.

PyMySQL's ``executemany`` on an ``INSERT ... VALUES (%s, ...)`` statement sends one multi-row
INSERT per megabyte of rows, so a chunk of rows costs a handful of round trips. The source side
streams with an unbuffered cursor (SQLAlchemy's ``stream_results`` gives PyMySQL's SSCursor).
"""

from __future__ import annotations

from ..generic.dbapi import ExecutemanyWriter

__all__ = ["MysqlInsertWriter"]


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
