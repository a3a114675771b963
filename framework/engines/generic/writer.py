"""What the engine writers share: the lineage of a batch, table names as the engine knows them."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Connection

T = TypeVar("T")

#: Names of the lineage columns a bronze table carries (``framework.kits.mixins.BronzeLineageMixin``), in
#: column order: the writers fill them, the record hash leaves them out.
LINEAGE_COLUMNS = ("dk_loaded_at", "dk_batch_id", "dk_source_table", "dk_record_hash")

#: Chunks of rows, each row the business values in the target's column order.
RowChunks: TypeAlias = Iterator[list[Sequence[Any]]]


@dataclass(frozen=True)
class Lineage:
    """The lineage values every row of a batch shares; the record hash is per row."""

    loaded_at: datetime
    batch_id: str
    source_table: str


class Writer(Protocol):
    """An engine's fast path: writes the rows of a batch inside the caller's transaction."""

    def write(self, chunks: RowChunks) -> int:
        """Write every chunk; return the number of rows written."""
        ...


def physical_name(conn: Connection, table: Table) -> str:
    """``table``'s quoted name on this connection, its schema translated as SQLAlchemy would."""
    preparer = conn.dialect.identifier_preparer
    schema = table.schema
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    if schema in translate:
        schema = translate[schema]
    name = preparer.quote(table.name)
    return f"{preparer.quote_schema(schema)}.{name}" if schema else name


def column_list(conn: Connection, names: Iterable[str]) -> str:
    preparer = conn.dialect.identifier_preparer
    return ", ".join(preparer.quote(n) for n in names)


_END = object()
_ABORT = object()


class Aborted(Exception):
    """The producing side gave up (its own error is what the caller sees)."""


class Handoff(Generic[T]):
    """Runs ``consume(items)`` on a thread of its own; the caller ``put``\\ s the items.

    The writers hand encoded chunks to the driver this way: while the driver thread waits on the
    server with the GIL released, the loading thread encodes the next chunk, so the server's work
    and Python's overlap. At most ``depth`` items wait in between.
    """

    def __init__(self, consume: Callable[[Iterator[T]], object], depth: int = 2) -> None:
        self._consume = consume
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="datakits-writer", daemon=True)
        self._thread.start()

    def _items(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if item is _ABORT:
                raise Aborted("the load stopped")
            yield item

    def _run(self) -> None:
        try:
            self._consume(self._items())
        except BaseException as exc:
            self._error = exc
        finally:
            self._done.set()

    def _send(self, item: object) -> None:
        while True:
            if self._done.is_set():
                if self._error is not None:
                    raise self._error
                if item is _END or item is _ABORT:
                    return
                raise RuntimeError("the writer thread ended before its input did")
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def put(self, item: T) -> None:
        """Hand over one item; raises the consumer's error if it has failed."""
        self._send(item)

    def finish(self) -> None:
        """No more items: wait for the consumer; raise its error if it failed."""
        self._send(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop the consumer (its error is dropped: the caller has its own to raise)."""
        with contextlib.suppress(BaseException):
            self._send(_ABORT)
        self._thread.join()
