"""Read a source through a server-side cursor, in chunks.

``stream_results`` with ``yield_per`` gives a named (server-side) cursor on PostgreSQL and an
unbuffered SSCursor on MySQL, so memory holds one chunk whatever the table's size.

The chunks are read on the loading thread itself. A reader thread that fetches ahead gained
nothing when measured (a million rental rows, with and without one): the driver turns text into
Python values while holding the GIL, so the threads only take turns. The writers' own thread, which
waits on the target server with the GIL released, is where overlapping pays (see ``Handoff``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Executable, func, select
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.sql import Select

from ..engines import engine_kind


def count_rows(engine: Engine, statement: Select[Any]) -> int:
    """The number of rows ``statement`` gives (for progress; it may change while loading)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(statement.subquery())).scalar_one())


class SourceStream:
    """Chunks of rows of ``statement``; use it as a context manager, which closes the cursor.

    ``plain_columns`` says the statement reads columns as they are (a whole table): then on
    PostgreSQL the session may read them in UTC, which the encoders are fastest with. A select
    of the caller's own keeps the session as it is: its expressions may depend on the time zone.
    """

    def __init__(self, engine: Engine, statement: Executable, chunk_size: int, *, plain_columns: bool = False) -> None:
        self._engine = engine
        self._statement = statement
        self._chunk_size = chunk_size
        self._plain_columns = plain_columns
        self._conn: Connection | None = None
        self._result: Result[Any] | None = None
        self._done = False

    def __enter__(self) -> SourceStream:
        conn = self._engine.connect()
        self._conn = conn
        try:
            engine_kind(conn.dialect.name).prepare_source(conn, utc=self._plain_columns)
            options = conn.execution_options(stream_results=True, yield_per=self._chunk_size)
            self._result = options.execute(self._statement)
        except BaseException:
            self.close()
            raise
        return self

    def __iter__(self) -> Iterator[Sequence[Any]]:
        assert self._result is not None, "use SourceStream as a context manager"
        yield from self._result.partitions()
        self._done = True
        self.close()  # end the read transaction now, before the load commits (one SQLite file)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if not self._done and self._result is not None:
            # stopped early: drop the connection rather than drain an unbuffered cursor
            engine_kind(conn.dialect.name).abandon_stream(conn)
            conn.invalidate()
        conn.close()

    def __exit__(self, *exc: object) -> None:
        self.close()
