"""postgres_process and mysql_process: real throwaway servers from the machine's own binaries."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from framework.engines import Server
from framework.engines.connect import make_engine
from framework.engines.mysql import process as mysql_process
from framework.errors import ProvisionerUnavailable
from framework.targets.named import get_target_config
from framework.targets.provisioning import process, start_server

pytestmark = pytest.mark.slow
TARGETS = ["postgres_process", "mysql_process"]
ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import os, sys, tempfile, time
    from pathlib import Path
    from framework.errors import ProvisionerUnavailable
    from framework.targets.provisioning import process, start_server
    from framework.targets.named import get_target_config

    try:
        server = start_server(get_target_config(sys.argv[1]))
    except ProvisionerUnavailable as exc:
        print("SKIP", exc, flush=True)
        sys.exit(0)
    folders = [
        f for f in Path(tempfile.gettempdir()).glob(process.PREFIX + "*")
        if (f / process.OWNER_FILE).read_text().split()[0] == str(os.getpid())
    ]
    print(server.admin_url.port, *folders, flush=True)
    time.sleep(600)
    """
)


def _start(name: str) -> Server:
    try:
        return start_server(get_target_config(name))
    except ProvisionerUnavailable as exc:
        pytest.skip(str(exc))


def _folders_of(pid: int) -> set[Path]:
    """The server folders whose owner file names ``pid``."""
    found = set()
    for folder in Path(tempfile.gettempdir()).glob(f"{process.PREFIX}*"):
        owner = folder / process.OWNER_FILE
        if owner.exists() and owner.read_text().split()[0] == str(pid):
            found.add(folder)
    return found


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.mark.parametrize("name", TARGETS)
def test_server_serves_a_database_and_stops_clean(name: str) -> None:
    before = _folders_of(os.getpid())
    started = time.monotonic()
    server = _start(name)
    print(f"{name} started in {time.monotonic() - started:.2f} s")
    (folder,) = _folders_of(os.getpid()) - before
    assert server.admin_url is not None
    port = server.admin_url.port
    assert port is not None and _accepts(port)
    try:
        url = server.create_database("dk_proc_test")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
                conn.execute(text("INSERT INTO t VALUES (1, 'one'), (2, 'two')"))
                assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
        finally:
            engine.dispose()
        assert server.list_databases("dk_proc_") == ["dk_proc_test"]
        server.drop_database("dk_proc_test")
        assert server.list_databases("dk_proc_") == []
    finally:
        server.stop()
    assert not _accepts(port)
    assert not folder.exists()
    server.stop()  # idempotent


@pytest.mark.parametrize("name", TARGETS)
def test_server_dies_with_its_parent_and_the_next_start_sweeps_its_folder(name: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, name], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        line = child.stdout.readline().decode() if child.stdout else ""  # bounded by the start timeout
        if line.startswith("SKIP "):
            child.wait()
            pytest.skip(line[5:].strip())
        if not line:
            child.wait()
            err = child.stderr.read().decode() if child.stderr else ""
            pytest.fail(f"the child failed to start {name}: {err[-2000:]}")
        port_text, folder_text = line.split()
        port, folder = int(port_text), Path(folder_text)
        server_pid = int((folder / process.SERVER_FILE).read_text().split()[0])
        assert _accepts(port)
        child.send_signal(signal.SIGKILL)
        child.wait()

    deadline = time.monotonic() + 20
    while (_accepts(port) or not _gone(server_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _accepts(port), f"{name} still listens on {port} after its parent was killed"
    assert _gone(server_pid), f"{name} (pid {server_pid}) outlived its parent"
    # nobody stopped it, so its folder is left over (unless a parallel worker's start swept it already)
    server = _start(name)
    try:
        assert not folder.exists(), "the next start did not remove the leftover folder"
    finally:
        server.stop()


INSTALLING = textwrap.dedent(
    """
    from framework.signals import interrupt_on_sigterm
    from framework.targets.named import get_target_config
    from framework.targets.provisioning import start_server

    interrupt_on_sigterm()  # as the CLI and the plugin do
    start_server(get_target_config("mysql_process"))
    """
)


def _init_running(folder: Path, marker: bytes = b"") -> bool:
    """True while a process of the init step (mariadb-install-db, its mariadbd --bootstrap) works in ``folder``."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        found = any(str(folder).encode() in a for a in args) and not any(b"--port=" in a for a in args)
        if found and any(marker in a for a in args):
            return True
    return False


def test_sigterm_during_mariadb_install_db_leaves_no_folder() -> None:
    """mariadb-install-db's ``mariadbd --bootstrap`` went on writing into the deleted folder: a data
    folder without an owner file, which the sweep skipped for 600 s."""
    if mysql_process.binaries() is None:
        pytest.skip("no MariaDB/MySQL server binaries here")
    before = set(Path(tempfile.gettempdir()).glob(f"{process.PREFIX}mysql-*"))
    child = subprocess.Popen([sys.executable, "-c", INSTALLING], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        folder = None
        while folder is None or not _init_running(folder, b"--bootstrap"):  # the server, mid-install
            assert child.poll() is None and time.monotonic() < deadline, "the install never started"
            made = set(Path(tempfile.gettempdir()).glob(f"{process.PREFIX}mysql-*")) - before
            folder = next(iter(made), None)
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGTERM)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    time.sleep(2)  # what still ran would write its files by now
    assert not folder.exists(), sorted(p.name for p in folder.rglob("*"))[:10]
    assert not _init_running(folder)


def test_the_sweep_removes_a_folder_that_never_got_its_owner_file() -> None:
    """The owner file is written right after the folder is made: a folder without one for a minute is
    an orphan (a killed install's leftovers), not a server being set up (the sweep waited 600 s)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{process.PREFIX}mysql-"))
    (folder / "data").mkdir()
    (folder / "data" / "ibdata1").write_bytes(b"\0" * 1024)
    young = Path(tempfile.mkdtemp(prefix=f"{process.PREFIX}mysql-"))  # one being set up right now
    try:
        old = time.time() - 120
        os.utime(folder, (old, old))
        process._sweep()
        assert not folder.exists()
        assert young.exists()
    finally:
        for path in (folder, young):
            shutil.rmtree(path, ignore_errors=True)
