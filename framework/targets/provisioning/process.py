"""A throwaway PostgreSQL or MariaDB/MySQL server started from the machine's own binaries.

Each server lives in a fresh folder ``datakits-process-<engine>-<random>`` under the temp dir,
listens on a free port of 127.0.0.1 only, and is stopped (and its folder deleted) by
``Server.stop()``, or at interpreter exit when nobody stopped it.

Crash safety (Linux): the server is started in a session of its own (so a Ctrl-C in the
terminal reaches the run, which stops the server in order, and not the server) and with
``PR_SET_PDEATHSIG``, so the kernel stops it when the process that started it dies, even by
SIGKILL. The kernel ties that signal to the *thread* that forked the server, so it is only set
when ``start`` runs on the main thread; a server started from another thread relies on
``stop()``, the exit hook and the sweep below.
Every folder holds an ``owner`` file (the starting process's pid and start time); each
``start`` removes leftover folders whose owner is dead, stopping a server still running there.

PostgreSQL and MariaDB refuse to run as root: as root, PostgreSQL runs as the ``postgres``
system user (else ``nobody``) and MariaDB with ``--user=root``, which it allows.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from ...engines import Server, engine_kind, server_for_url
from ...engines.connect import check_connection, make_engine
from ...engines.generic.process import ProcessRecipe
from ...errors import TargetError, TargetUnreachable
from ..named import TargetConfig
from . import require

PREFIX = "datakits-process-"
OWNER_FILE = "owner"  # "<pid> <start time>" of the process that started the server
SERVER_FILE = "server.pid"  # "<pid> <start time>" of the server
LOG_FILE = "server.log"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
INIT_TIMEOUT = 120.0
# a folder without an owner file younger than this is still being set up (the owner file is written
# right after the folder is made: a folder without one for longer is an orphan)
_ORPHAN_GRACE = 60.0
_PR_SET_PDEATHSIG = 1


def start(config: TargetConfig) -> Server:
    _sweep()
    recipe_for = _recipe_maker(config)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{config.engine}-"))
    _write_identity(folder / OWNER_FILE, os.getpid())
    running = _Running(folder)
    try:
        recipe = recipe_for(folder)
        running.stop_signal = recipe.stop_signal
        if recipe.run_as is not None:
            os.chown(folder, *recipe.run_as)
        _initialize(recipe, folder, config.name)
        url = _launch(recipe, running, config.name)
    except BaseException:
        running.stop()
        raise
    return server_for_url(url, label=config.name, stop=running.stop)


def _recipe_maker(config: TargetConfig) -> Callable[[Path], ProcessRecipe]:
    """How to run the target's engine from this machine's binaries (its engine package knows), or why it cannot."""
    kind = engine_kind(config.engine)
    require(kind.driver_module, kind.extra, config.name)
    return kind.process_recipe(config.name)


# --- running ---------------------------------------------------------------------------------


class _Running:
    """One server process and its folder; ``stop`` shuts it down and deletes the folder, once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.stop_signal: int = signal.SIGTERM
        self._lock = threading.Lock()
        self._stopped = False
        atexit.register(self.stop)

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        self._halt()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _halt(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(self.stop_signal)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _preexec(death_signal: int) -> Callable[[], None] | None:
    """Ask the kernel to signal the child when we die (only from the main thread: see the docstring)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None
    parent = os.getpid()

    def set_death_signal() -> None:  # runs in the child, after it dropped privileges
        prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:  # we died before the signal was armed
            os._exit(1)

    return set_death_signal


def _as(recipe: ProcessRecipe) -> dict[str, object]:
    if recipe.run_as is None:
        return {}
    return {"user": recipe.run_as[0], "group": recipe.run_as[1], "extra_groups": []}


def _initialize(recipe: ProcessRecipe, folder: Path, name: str) -> None:
    """Run the init command (initdb, mariadb-install-db) in a session of its own; when it is cut short
    (a timeout, Ctrl-C, SIGTERM) its whole process group is killed before the folder is removed:
    mariadb-install-db is a script whose ``mariadbd --bootstrap`` would go on writing into the
    folder after it is deleted, leaving a data folder without an owner file."""
    proc = subprocess.Popen(
        recipe.init,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the terminal is for us; we stop the server ourselves
        preexec_fn=_preexec(signal.SIGKILL),
        **_as(recipe),  # type: ignore[call-overload]
    )
    try:
        out, _ = proc.communicate(timeout=INIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise TargetError(f"{name}: {Path(recipe.init[0]).name} took over {INIT_TIMEOUT:.0f} s", name) from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        tail = _tail(out.decode(errors="replace"))
        raise TargetError(f"{name}: {Path(recipe.init[0]).name} failed ({proc.returncode}): {tail}", name)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group ``proc`` leads (it and what it started), and wait until it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


def _launch(recipe: ProcessRecipe, running: _Running, name: str) -> URL:
    """Start the server on a free port (another if that one got taken) and wait until it answers."""
    log_path = running.folder / LOG_FILE
    for _attempt in range(3):
        port = _free_port()
        with open(log_path, "ab") as log:
            running.process = subprocess.Popen(
                recipe.serve(port),
                cwd=running.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal is for us; we stop the server ourselves
                preexec_fn=_preexec(recipe.death_signal),
                **_as(recipe),  # type: ignore[call-overload]
            )
        _write_identity(running.folder / SERVER_FILE, running.process.pid)
        url = recipe.url(port)
        code = _wait(running.process, url, name, log_path)
        if code is None:
            return url
        log_text = _read(log_path)
        running.process = None
        if "already in use" not in log_text.lower():
            raise TargetUnreachable(f"{name}: the server exited with code {code}: {_tail(log_text)}", name)
    raise TargetUnreachable(f"{name}: no free port found in 3 attempts", name)


def _wait(proc: subprocess.Popen[bytes], url: URL, name: str, log_path: Path) -> int | None:
    """None once the server answers; its exit code if it exits first."""
    engine = make_engine(url, poolclass=NullPool)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while (code := proc.poll()) is None:
            try:
                check_connection(engine, name)
                return None
            except TargetUnreachable as exc:
                if time.monotonic() > deadline:
                    log = _tail(_read(log_path))
                    raise TargetUnreachable(f"{exc} (after {START_TIMEOUT:.0f} s); server log: {log}", name) from None
            time.sleep(0.1)
        return code
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = 5) -> str:
    """The server's own error lines if it wrote any (not the advice it prints after them), else its last lines."""
    errors = [line.strip() for line in text.splitlines() if "[ERROR]" in line or line.lstrip().startswith("ERROR")]
    chosen = errors[:2] or [line.strip() for line in text.strip().splitlines()[-lines:]]
    return " | ".join(chosen) or "(empty)"


# --- leftovers -------------------------------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The process's start time (tells a pid from a later reuse); None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _write_identity(path: Path, pid: int) -> None:
    path.write_text(f"{pid} {_start_time(pid) or ''}\n")


def _alive(path: Path) -> int | None:
    """The pid recorded in ``path`` if that very process still runs."""
    try:
        pid_text, _, started = path.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    now = _start_time(pid)
    return pid if now is not None and now == started else None


def _sweep() -> None:
    """Delete the folders of servers whose starting process died, stopping any still running."""
    if _start_time(os.getpid()) is None:  # no /proc: liveness cannot be told, leave everything be
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner = folder / OWNER_FILE
        try:
            if not owner.exists() and time.time() - folder.stat().st_mtime < _ORPHAN_GRACE:
                continue
        except OSError:
            continue
        if _alive(owner) is not None:
            continue
        pid = _alive(folder / SERVER_FILE)
        if pid is not None and not _kill(pid, signal.SIGQUIT if "postgresql" in folder.name else signal.SIGTERM):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _kill(pid: int, sig: int) -> bool:
    """Stop an orphaned server (not our child): its shutdown signal, then SIGKILL. True once gone."""
    started = _start_time(pid)
    for sig_now, wait in ((sig, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig_now)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _start_time(pid) != started:
                return True
            time.sleep(0.1)
    return False
