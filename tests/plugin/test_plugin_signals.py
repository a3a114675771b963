"""Ctrl-C and SIGTERM end a run like a normal exit: pytest's interrupted status, no traceback, nothing left.

pytest runs in a session of its own, as a terminal or CI job runs it, and the signal goes to its
whole process group (what Ctrl-C, ``timeout`` and ``docker stop`` do). The run has local, process
and embedded targets, all up when the signal comes.
"""

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

from framework.targets.provisioning import embedded, process

pytestmark = pytest.mark.slow
TARGETS = ["sqlite_file", "postgres_local", "mysql_local", "postgres_process", "mysql_process", "postgres_embedded"]
LAST = TARGETS[-1]

SUITE = f"""
import os
import time
from pathlib import Path

from datakits.pagila_bronze import Actor


def test_blocks(datakit_session, datakit_target):
    datakit_session.add(Actor(actor_id=1, first_name="a", last_name="b", dk_batch_id="b1", dk_source_table="actor",
                              dk_record_hash="h" * 64))
    datakit_session.flush()  # a transaction open on every target's database, as in a real test
    if datakit_target.name == {LAST!r}:  # the last target: every server is up by now
        Path("ready").write_text(datakit_target.url)
        time.sleep(120)
"""


def _servers_of(pid: int) -> tuple[list[Path], list[int]]:
    """The server folders the process ``pid`` made, and the pids of the servers running in them."""
    folders, pids = [], []
    root = Path(tempfile.gettempdir())
    for folder in [*root.glob(f"{process.PREFIX}*"), *root.glob(f"{embedded.PREFIX}*")]:
        owner = folder / process.OWNER_FILE
        try:
            if owner.read_text().split()[0] != str(pid):
                continue
            pid_file = folder / process.SERVER_FILE
            if not pid_file.exists():
                pid_file = folder / "data" / "postmaster.pid"
            pids.append(int(pid_file.read_text().split()[0]))
        except (OSError, IndexError, ValueError):
            continue
        folders.append(folder)
    return folders, pids


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGINT, []), (signal.SIGTERM, []), (signal.SIGTERM, ["-n", "2"])],
    ids=["ctrl-c", "sigterm", "sigterm-n2"],
)
def test_a_signal_ends_the_run_like_a_normal_exit(
    pytester: pytest.Pytester, sig: signal.Signals, workers: list[str]
) -> None:
    pytester.makepyfile(test_blocking=SUITE)
    pytester.makeini(INI.format(extra=""))
    command = [sys.executable, "-m", "pytest", *QUIET, *workers, "--datakit=pagila_bronze"]
    command += [f"--datakit-target={t}" for t in TARGETS]
    log_path = pytester.path / "log.txt"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=pytester.path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        while not (pytester.path / "ready").exists():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        match = RUN_ID.search((pytester.path / "ready").read_text())
        assert match
        run_id = match.group(1)
        folders, servers = _servers_of(proc.pid)
        assert len(folders) == 3 and len(servers) == 3, f"three servers up: {folders}"
        assert leftovers(run_id), "the run has databases while it runs"
        os.killpg(proc.pid, sig)  # to the whole process group
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = log_path.read_text()
    assert status == pytest.ExitCode.INTERRUPTED, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert "KeyboardInterrupt" in output
    assert leftovers(run_id) == []
    assert [f for f in folders if f.exists()] == []
    assert [pid for pid in servers if _running(pid)] == []
    assert not list(Path(tempfile.gettempdir()).glob(f"datakits-run-{run_id}-*"))


TWICE = """
import time
from pathlib import Path


def test_blocks(datakit_session, datakit_target):
    Path("ready").write_text(datakit_target.url)
    time.sleep(120)


def test_blocks_too(datakit_session):
    time.sleep(120)
"""


def test_a_second_ctrl_c_under_xdist_prints_no_traceback(pytester: pytest.Pytester) -> None:
    """The second Ctrl-C came while pytest formatted the first: tracebacks, and the run's end cut short."""
    pytester.makepyfile(test_twice=TWICE)
    pytester.makeini(INI.format(extra=""))
    command = [sys.executable, "-m", "pytest", *QUIET, "-n", "2", "--datakit-target=postgres_local"]
    command += ["--datakit-target=mysql_local"]
    log_path = pytester.path / "log.txt"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=pytester.path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        while not (pytester.path / "ready").exists():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        match = RUN_ID.search((pytester.path / "ready").read_text())
        assert match
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)  # while the first is being handled
        os.killpg(proc.pid, signal.SIGINT)
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = log_path.read_text()
    assert status == pytest.ExitCode.INTERRUPTED, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert leftovers(match.group(1)) == []
