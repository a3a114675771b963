"""Progress of table loads on stderr (a bar per table: rows and rows/s) and the summary table.

:class:`Progress` is what :class:`~framework.loading.loader.BulkDataLoader` reports to; :class:`ProgressBoard`
draws it. On a terminal the board is a :mod:`rich.progress` display: one line per table, redrawn in
place, fitted to the terminal's width (a long table name is cut with an ellipsis; a line never wraps),
safe to call from several threads. Elsewhere, or when ``CI`` is set (CI logs that claim a terminal), it
prints one plain line per table when that table is done.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

from .results import LoadResult

__all__ = ["Progress", "ProgressBoard", "format_summary", "is_live"]

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


def is_live(stream: TextIO) -> bool:
    """Redraw in place on ``stream``: a terminal, and not under CI (``CI`` set), nor ``TERM=dumb``."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return terminal and not ci and os.environ.get("TERM") != "dumb"


class ProgressBoard:
    """Draws a progress line per table on ``stream`` (stderr by default): live on a terminal, else plain lines.

    The live display starts with the first table and stops once every table started is done (or at
    :meth:`close`, or at the end of a ``with`` block), leaving the last frame on the screen."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 0.2, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.live = is_live(self.stream) if live is None else live
        self._lines: dict[str, _Line] = {}
        self._tasks: dict[str, TaskID] = {}
        self._rich: RichProgress | None = None
        self._last = 0.0
        self._lock = threading.Lock()

    def start(self, table: str, total: int | None) -> None:
        with self._lock:
            self._lines[table] = line = _Line(total)
            if self.live:
                self._show(table, line, force=True)

    def update(self, table: str, rows_read: int, rows_written: int) -> None:
        with self._lock:
            line = self._lines.setdefault(table, _Line())
            line.read = rows_read
            if self.live:
                self._show(table, line)

    def finish(self, result: LoadResult) -> None:
        with self._lock:
            line = self._lines.setdefault(result.table, _Line())
            line.read, line.seconds = result.rows_read, result.seconds
            line.status = "ok" if result.success else "FAILED"
            if self.live:
                self._show(result.table, line, force=True)
                if all(done.seconds is not None for done in self._lines.values()):
                    self._stop()
            else:
                self.stream.write(line.render(result.table, len(result.table)) + "\n")
                self.stream.flush()

    def close(self) -> None:
        """Stop the live display (it stops by itself once every table is done)."""
        with self._lock:
            self._stop()

    def __enter__(self) -> ProgressBoard:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _board(self) -> RichProgress:
        if self._rich is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
            from rich.table import Column

            console = Console(file=self.stream, force_terminal=True, highlight=False, soft_wrap=False)
            # the numbers keep their width; the name and the bar share what is left of the terminal's
            self._rich = Progress(
                TextColumn(
                    "{task.description}",
                    markup=False,
                    table_column=Column(ratio=3, no_wrap=True, overflow="ellipsis", min_width=5),
                ),
                BarColumn(bar_width=None, table_column=Column(ratio=1, max_width=24)),
                TaskProgressColumn(table_column=Column(no_wrap=True, width=4)),
                TextColumn("{task.fields[rows]:>11,} rows", table_column=Column(no_wrap=True)),
                TextColumn("{task.fields[rate]:>10,.0f} rows/s", table_column=Column(no_wrap=True)),
                TextColumn("{task.fields[status]}", markup=False, table_column=Column(no_wrap=True, width=6)),
                console=console,
                expand=True,
                auto_refresh=False,  # redrawn on updates, at most every ``interval``: no thread of its own
                redirect_stdout=False,
                redirect_stderr=False,
            )
        if not self._rich.live.is_started:
            self._rich.start()
        return self._rich

    def _show(self, table: str, line: _Line, force: bool = False) -> None:
        board = self._board()
        seconds = line.seconds if line.seconds is not None else time.perf_counter() - line.started
        rate = line.read / seconds if seconds > 0 else 0.0
        total = line.total if line.seconds is None else (line.total or line.read)
        if table not in self._tasks:
            self._tasks[table] = board.add_task(table, total=total, rows=0, rate=0.0, status="")
        board.update(
            self._tasks[table], total=total, completed=line.read, rows=line.read, rate=rate, status=line.status
        )
        now = time.perf_counter()
        if force or now - self._last >= self.interval:
            self._last = now
            board.refresh()

    def _stop(self) -> None:
        if self._rich is not None and self._rich.live.is_started:
            self._rich.refresh()
            self._rich.stop()


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
