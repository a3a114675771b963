"""The load progress board (``framework.progress``) on rich: fitted to the terminal, thread-safe, plain in CI.

A terminal gets a live display, a line per table redrawn in place, never wider than the terminal (a
wrapped line used to break the redraw); a stream that is not a terminal, or ``CI`` set, gets one plain
line per table when it is done, without an escape code.
"""

from __future__ import annotations

import io
import re
import threading

import pytest

from framework.progress import ProgressBoard, is_live
from framework.results import LoadResult

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a CI runner's pseudo-terminal does."""

    def isatty(self) -> bool:
        return True


def frames(text: str) -> list[str]:
    """Every line the board drew, its escape codes taken out."""
    return [line for line in re.split(r"[\r\n]", ANSI.sub("", text)) if line.strip()]


def result(table: str, rows: int, ok: bool = True) -> LoadResult:
    return LoadResult(table, table, "b1", rows, rows if ok else 0, 0, 0.5, error=None if ok else f"{table}: boom")


def test_live_lines_fit_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "60")
    screen = Terminal()
    long_name = "br__a_very_long_bronze_schema_name.a_table_with_a_long_name_indeed"
    board = ProgressBoard(screen, interval=0)
    assert board.live
    board.start(long_name, 1000)
    board.start("short", None)
    board.update(long_name, 500, 500)
    board.finish(result("short", 3))
    board.finish(result(long_name, 1000))
    drawn = frames(screen.getvalue())
    assert drawn and all(len(line) <= 60 for line in drawn), [len(line) for line in drawn]
    assert any(line.startswith("br__a_") and "…" in line for line in drawn)
    last = drawn[-2:]  # the final frame: a line per table, each done
    assert sorted(line.split()[0][:5] for line in last) == ["br__a", "short"], drawn
    assert all(line.rstrip().endswith("rows/s ok") for line in last), last
    assert screen.getvalue().endswith("\x1b[?25h")  # the live display stopped: the cursor is back


@pytest.mark.parametrize("ci", ["true", "1"])
def test_plain_lines_under_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    screen = Terminal()
    board = ProgressBoard(screen)
    assert not board.live and not is_live(screen)
    board.start("actor", 200)
    board.update("actor", 100, 100)
    board.finish(result("actor", 200))
    board.finish(result("rental", 7, ok=False))
    lines = screen.getvalue().splitlines()
    assert "\x1b" not in screen.getvalue()
    assert len(lines) == 2 and lines[0].startswith("actor [########################] 100%")
    assert lines[1].endswith("FAILED")


def test_not_a_terminal_is_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    log = io.StringIO()
    board = ProgressBoard(log)
    assert not board.live
    board.start("actor", 2)
    board.finish(result("actor", 2))
    assert log.getvalue() == "actor [########################] 100%           2 rows          4 rows/s ok\n"


def test_many_threads_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    screen = Terminal()
    board = ProgressBoard(screen, live=True, interval=0)
    tables = [f"table_{i}" for i in range(8)]

    def load(table: str) -> None:
        board.start(table, 400)
        for rows in range(0, 401, 20):
            board.update(table, rows, rows)
        board.finish(result(table, 400))

    threads = [threading.Thread(target=load, args=(t,)) for t in tables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last = frames(screen.getvalue())[-len(tables) :]
    assert sorted(line.split()[0] for line in last) == tables
    assert all("400 rows" in line and line.rstrip().endswith("ok") for line in last), last
    assert all(len(line) <= 100 for line in frames(screen.getvalue()))
