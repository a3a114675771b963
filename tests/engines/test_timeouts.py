"""Every wait is bounded: a port where something answers that is not the database never hangs a command."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANG = 90  # seconds: far past every bound; reaching it means something waits forever


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a stuck proxy, a wrong service)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize("scheme", ["mysql", "postgresql"])
def test_the_cli_gives_up_on_a_silent_server(silent_port: int, scheme: str) -> None:
    target = f"{scheme}://root@127.0.0.1:{silent_port}/test"
    command = [sys.executable, "-m", "framework.cli", "deploy", "pagila_bronze", "--target", target]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=HANG)
    assert out.returncode == 2
    assert out.stderr.startswith("datakits: ") and "cannot connect" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_plugin_gives_up_on_a_silent_server(pytester: pytest.Pytester, silent_port: int) -> None:
    pytester.makepyfile("def test_x(datakit_engine):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--datakit-target=mysql://root@127.0.0.1:{silent_port}/test", timeout=HANG
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot connect*"])


@pytest.fixture(scope="module")
def dripping_port() -> Iterator[int]:
    """A port that answers a byte at a time, every half second, for ever (each read waits under its timeout)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        # a MySQL packet header (64 KiB, sequence 0), then its payload a byte at a time: never complete
        data = iter(b"\xff\xff\x00\x00")
        with conn:
            while not stop.wait(0.5):
                try:
                    conn.sendall(bytes([next(data, 0x0A)]))
                except OSError:
                    return

    def accept() -> None:
        while True:
            try:
                conn = listener.accept()[0]
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


@pytest.mark.parametrize("scheme", ["mysql", "postgresql"])
def test_the_cli_gives_up_on_a_server_that_drips_bytes(dripping_port: int, scheme: str) -> None:
    target = f"{scheme}://root@127.0.0.1:{dripping_port}/test"
    command = [sys.executable, "-m", "framework.cli", "deploy", "pagila_bronze", "--target", target]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=HANG)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("datakits: ") and "cannot connect" in out.stderr
    assert "Traceback" not in out.stderr
