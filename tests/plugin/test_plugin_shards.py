"""One suite in shards at once (pytest-split: ``--splits 2 --group i``), as CI's machines run it, on shared servers.

Each shard is a run of its own (its run id, its databases, its lock on each server), so shards on N machines may
share one PostgreSQL and one MariaDB server, and ``datakits reap`` looping beside them drops nothing of a live
shard. The suite's durations come from a first, whole run (``--store-durations``), as a repository stores them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from plugin_helpers import INI, QUIET, RUN_ID, leftovers

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 2
TARGETS = ["--datakit=pagila_bronze", "--datakit-target=postgres_local", "--datakit-target=mysql_local"]

SUITE = """
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datakits.pagila_bronze import Actor


def _note(datakit_target):
    # the process's database, whose name holds the run id (no password: the URL hides it)
    Path("urls").mkdir(exist_ok=True)
    Path("urls", f"{os.getpid()}-{datakit_target.name}").write_text(datakit_target.url)


@pytest.mark.parametrize("n", range(5))
def test_rows_are_the_tests_own(datakit_session, datakit_target, n):
    _note(datakit_target)
    lineage = {"dk_batch_id": "b1", "dk_source_table": "actor", "dk_record_hash": "0" * 64}
    datakit_session.add(Actor(actor_id=n, first_name="A", last_name="B", **lineage))
    datakit_session.commit()
    assert datakit_session.scalar(select(func.count()).select_from(Actor)) == 1


@pytest.mark.datakit(isolation="fresh")
@pytest.mark.parametrize("n", range(2))
def test_a_database_of_its_own(datakit_session, datakit_target, n):
    _note(datakit_target)
    assert datakit_session.scalar(select(func.count()).select_from(Actor)) == 0
"""


def _passed(report: Path) -> list[str]:
    """The ids of the tests a JUnit XML report says passed (a test case with no failure, error or skip)."""
    return [
        f"{case.get('classname')}::{case.get('name')}"
        for case in ET.parse(report).getroot().iter("testcase")
        if not any(child.tag in ("failure", "error", "skipped") for child in case)
    ]


def _pytest(folder: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pytest", *QUIET, "-n", "2", *TARGETS, f"--junitxml={name}.xml", *args]
    log = (folder / f"{name}.log").open("wb")
    env = {k: v for k, v in os.environ.items() if k != "DATAKITS_TARGET"}
    try:
        return subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env)
    finally:
        log.close()


def _finish(folder: Path, name: str, proc: subprocess.Popen[bytes]) -> list[str]:
    code = proc.wait(timeout=600)
    assert code == 0, (folder / f"{name}.log").read_text()[-3000:]
    return _passed(folder / f"{name}.xml")


class Reaper(threading.Thread):
    """``datakits reap --target T`` over and over, each target in turn, until stopped; what each call said."""

    def __init__(self, targets: list[str]) -> None:
        super().__init__(daemon=True)
        self.targets = targets
        self.stop = threading.Event()
        self.calls: list[subprocess.CompletedProcess[str]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for target in self.targets:
                command = [sys.executable, "-m", "framework.cli", "reap", "--target", target]
                self.calls.append(subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120))


def _run_ids(folder: Path, since: float) -> set[str]:
    return {
        match.group(1)
        for path in (folder / "urls").iterdir()
        if path.stat().st_mtime >= since and (match := RUN_ID.search(path.read_text()))
    }


def test_two_shards_at_once_share_the_servers_and_pass_every_test_once(pytester: pytest.Pytester) -> None:
    folder = pytester.path
    pytester.makepyfile(test_shards=SUITE)
    pytester.makeini(INI.format(extra=""))

    # one whole run, which stores the durations the shards split by (.test_durations, as a repository keeps it)
    started = time.monotonic()
    whole = set(_finish(folder, "whole", _pytest(folder, "whole", "--store-durations")))
    one_run = time.monotonic() - started
    assert len(whole) == 14 and (folder / ".test_durations").exists()
    whole_runs = _run_ids(folder, 0)
    assert len(whole_runs) == 1

    # the shards at once, each -n 2 and a run of its own, with the reaper looping beside them
    reaper = Reaper(["postgres_local", "mysql_local"])
    reaper.start()
    since = time.time()
    started = time.monotonic()
    shards = [
        _pytest(folder, f"shard{i}", f"--splits={SHARDS}", f"--group={i}", "--splitting-algorithm=least_duration")
        for i in range(1, SHARDS + 1)
    ]
    passed = [_finish(folder, f"shard{i}", proc) for i, proc in enumerate(shards, start=1)]
    both = time.monotonic() - started
    reaper.stop.set()
    reaper.join(timeout=150)
    print(f"the suite's {len(whole)} tests, -n 2: one run {one_run:.1f} s; {SHARDS} shards at once {both:.1f} s")

    assert all(passed), f"a shard ran no test: {passed}"
    every = [test for shard in passed for test in shard]
    twice = sorted({test for test in every if every.count(test) > 1})
    assert sorted(every) == sorted(whole), (
        f"not every test passed once: twice {twice}, never {sorted(whole - set(every))}"
    )
    shard_runs = _run_ids(folder, since) - whole_runs
    assert len(shard_runs) == SHARDS, f"each shard is a run of its own: {shard_runs}"

    assert len(reaper.calls) >= 2, "the reaper did not loop beside the shards"
    for call in reaper.calls:
        assert call.returncode == 0, f"{call.args[-1]}: {call.stdout} {call.stderr}"
        assert not any(run in call.stdout for run in shard_runs), f"the reaper touched a shard: {call.stdout}"
    left = {run: leftovers(run) for run in shard_runs | whole_runs}
    assert not any(left.values()), f"databases left: {left}"
