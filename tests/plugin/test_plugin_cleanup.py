"""Ctrl-C leaves nothing behind; a killed run is reaped by the next run (the library's reaper)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from plugin_helpers import INI, QUIET, RUN_ID, leftovers

TARGETS = ["--datakit-target=postgres_local", "--datakit-target=mysql_local", "--datakit-target=sqlite_file"]

BLOCKING = """
import os
import time
from pathlib import Path

from datakits.pagila_bronze import Actor


def test_blocks(datakit_session, datakit_target):
    datakit_session.add(Actor(actor_id=1, first_name="a", last_name="b", dk_batch_id="b1", dk_source_table="actor",
                              dk_record_hash="h" * 64))
    datakit_session.flush()  # a transaction open on the database, as in a real test
    Path(f"ready-{os.getpid()}").write_text(datakit_target.url)
    time.sleep(120)
"""


def _start(pytester: pytest.Pytester, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """pytest in its own process group (as a terminal runs it), once a test holds its database."""
    pytester.makepyfile(test_blocking=BLOCKING)
    pytester.makeini(INI.format(extra=""))
    command = [sys.executable, "-m", "pytest", *QUIET, "--datakit=pagila_bronze", *TARGETS, *args]
    log = (pytester.path / "log.txt").open("wb")
    proc = subprocess.Popen(command, cwd=pytester.path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 60
    while not (ready := list(pytester.path.glob("ready-*"))):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((pytester.path / "log.txt").read_text())
        time.sleep(0.1)
    time.sleep(0.3)
    match = RUN_ID.search(ready[0].read_text())
    assert match
    return proc, match.group(1)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["n0", "n2"])
def test_ctrl_c_leaves_nothing_behind(pytester: pytest.Pytester, workers: list[str]) -> None:
    proc, run_id = _start(pytester, *workers)
    assert leftovers(run_id), "the run has databases while it runs"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole process group
    assert proc.wait(timeout=60) == pytest.ExitCode.INTERRUPTED
    assert "KeyboardInterrupt" in (pytester.path / "log.txt").read_text()
    assert leftovers(run_id) == []
    assert not list(Path(tempfile.gettempdir()).glob(f"datakits-airflow-{proc.pid}-*"))
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"datakits-run-{run_id}-*"))


def test_a_killed_run_is_reaped_by_the_next(pytester: pytest.Pytester, run) -> None:
    proc, run_id = _start(pytester)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert leftovers(run_id), "a killed run leaves its databases"
    homes = list(Path(tempfile.gettempdir()).glob(f"datakits-airflow-{proc.pid}-*"))
    assert homes, "a killed run leaves its Airflow home"
    (pytester.path / "test_blocking.py").unlink()
    pytester.makepyfile(test_next="def test_next(datakit_target):\n    pass\n")
    run("--datakit=pagila_bronze", *TARGETS).assert_outcomes(passed=3)
    assert leftovers(run_id) == []
    assert not any(home.exists() for home in homes)
