"""Ctrl-C and SIGTERM stop ``datakits`` in order: its one interrupted line, status 130, nothing left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from framework import get_target_config, start_server
from framework.targets.provisioning import process

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("target", "sig"),
    [pytest.param("postgres_process", signal.SIGINT, marks=pytest.mark.slow), ("mysql_local", signal.SIGTERM)],
    ids=["ctrl-c-process", "sigterm-local"],
)
def test_an_interrupted_generate_ends_in_order(target: str, sig: signal.Signals) -> None:
    command = [sys.executable, "-m", "framework.cli", "generate", "pagila", "--scale", "5", "--target", target]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        if not first.startswith("generating"):
            proc.kill()
            pytest.skip(f"{target} is not available here: {proc.stderr.read().strip()}")
        name = re.search(r"/(dk_\w+)\)", first)
        assert name, first
        folders = [f for f in Path(tempfile.gettempdir()).glob(f"{process.PREFIX}*") if _owned_by(f, proc.pid)]
        while "film" not in proc.stdout.readline():  # well into the load: a transaction open
            assert proc.poll() is None, proc.stderr.read()
        os.killpg(proc.pid, sig)  # to the whole process group, as a terminal or `timeout` does
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["datakits: interrupted; databases of this run were dropped"]
    assert [f for f in folders if f.exists()] == []
    if target == "mysql_local":
        server = start_server(get_target_config(target))
        try:
            assert server.list_databases(name.group(1)) == []
        finally:
            server.stop()


def _owned_by(folder: Path, pid: int) -> bool:
    try:
        return (folder / process.OWNER_FILE).read_text().split()[0] == str(pid)
    except (OSError, IndexError):
        return False
