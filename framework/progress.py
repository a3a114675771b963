"""Progress of table loads on stderr (a bar per table: rows and rows/s) and the summary table.

:class:`Progress` is what :class:`~framework.loading.loader.BulkDataLoader` reports to; :class:`ProgressBoard`
draws it. On a terminal the board redraws one line per table in place; elsewhere (CI logs) it
prints one line per table when that table is done. It is safe to call from several threads.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from .results import LoadResult

__all__ = ["Progress", "ProgressBoard", "format_summary"]

BAR_WIDTH = 24


class Progress(Protocol):
    """Receives a load's progress: a table starts, reads and writes rows, finishes."""

    def start(self, table: str, total: int | None) -> None:
        """``table`` starts; ``total`` is the source's row count when known."""

    def update(self, table: str, rows_read: int, rows_written: int) -> None:
        """Rows read from the source and handed to the target so far."""

    def finish(self, result: LoadResult) -> None:
        """``result.table`` is done, loaded or failed."""


@dataclass
class _Line:
    total: int | None = None
    read: int = 0
    started: float = field(default_factory=time.perf_counter)
    status: str = ""
    seconds: float | None = None

    def render(self, name: str, width: int) -> str:
        seconds = self.seconds if self.seconds is not None else time.perf_counter() - self.started
        rate = self.read / seconds if seconds > 0 else 0.0
        if self.total:
            share = min(1.0, self.read / self.total)
            filled = int(share * BAR_WIDTH)
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:>4.0%}"
        else:
            bar = f"[{'.' * BAR_WIDTH}]     "
        return f"{name:<{width}} {bar} {self.read:>11,} rows {rate:>10,.0f} rows/s {self.status}".rstrip()


class ProgressBoard:
    """Draws a progress line per table on ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 0.2, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.live = self.stream.isatty() if live is None else live
        self._lines: dict[str, _Line] = {}
        self._drawn = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def start(self, table: str, total: int | None) -> None:
        with self._lock:
            self._lines[table] = _Line(total)
            self._draw(force=True)

    def update(self, table: str, rows_read: int, rows_written: int) -> None:
        with self._lock:
            line = self._lines.setdefault(table, _Line())
            line.read = rows_read
            self._draw()

    def finish(self, result: LoadResult) -> None:
        with self._lock:
            line = self._lines.setdefault(result.table, _Line())
            line.read, line.seconds = result.rows_read, result.seconds
            line.status = "ok" if result.success else "FAILED"
            if self.live:
                self._draw(force=True)
            else:
                self.stream.write(line.render(result.table, len(result.table)) + "\n")
                self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        if not self.live:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        width = max((len(n) for n in self._lines), default=0)
        out = [f"\x1b[{self._drawn}F"] if self._drawn else []
        out += [f"\x1b[2K{line.render(name, width)}\n" for name, line in self._lines.items()]
        self._drawn = len(self._lines)
        self.stream.write("".join(out))
        self.stream.flush()


def format_summary(results: Iterable[LoadResult]) -> str:
    """The results as a table (table, rows read, rows written, seconds, rows/s, status), then the errors."""
    results = list(results)
    head = ("table", "rows read", "rows written", "seconds", "rows/s", "status")
    rows = [
        (
            r.table,
            f"{r.rows_read:,}",
            f"{r.rows_written:,}",
            f"{r.seconds:.2f}",
            f"{r.rows_per_second:,.0f}",
            "ok" if r.success else "FAILED",
        )
        for r in results
    ]
    read = sum(r.rows_read for r in results)
    written = sum(r.rows_written for r in results)
    failed = sum(1 for r in results if not r.success)
    total = ("total", f"{read:,}", f"{written:,}", "", "", f"{failed} failed" if failed else "ok")
    widths = [max(len(row[i]) for row in [head, *rows, total]) for i in range(len(head))]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            row[0].ljust(widths[0]),
            *(cell.rjust(w) for cell, w in zip(row[1:-1], widths[1:-1], strict=True)),
            row[-1],
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [fmt(head), rule, *(fmt(r) for r in rows), rule, fmt(total)]
    lines += [f"error: {r.error}" for r in results if r.error]
    return "\n".join(lines)
