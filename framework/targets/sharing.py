"""One run's servers, shared by the processes of that run (pytest-xdist's workers, say).

One process *hosts* the run (``RunHost``): it lives the whole run, starts each target's server
once, reaps what dead runs left there, and holds the run's lock on every server until the end,
when it drops every database of the run and stops the servers it started. The other processes
of the run (each a ``RunGuest``) reach the same servers through the host's *handover* (its run id,
work folder and servers' admin URLs, as plain JSON-able data) and create databases of their own there under the
same run id, without locking or reaping: the host's lock covers them, so no concurrent run reaps
them, and a run that is killed outright is reaped by the next one.

Both are a ``ServerSource``: ``framework.kits.workspace.Workspace`` asks one for servers. What the
processes of a run make once for all of them (the template database each copies) goes through
:func:`once_per_run`: the first process to get there makes it, the others wait and share the outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout
from sqlalchemy.engine import make_url

from ..engines import Server
from ..errors import DatakitError, DeployError, TargetError
from .named import TargetConfig
from .provisioning import start_server
from .runs import KEEP_PREFIX, PREFIX, Run

WORKDIR_PREFIX = "datakits-run-"
TEMPLATE_WAIT = 600.0  # seconds a process waits for another to make what the run shares


class ServerSource(Protocol):
    """Where a process of a run finds each target's server."""

    run_id: str
    workdir: Path
    keep: bool

    def server(self, target: TargetConfig) -> Server: ...


@dataclass
class Started:
    """A server the host started (or reached), its run, and how long that took."""

    server: Server
    run: Run
    seconds: float


class RunHost:
    """The process that owns a run: starts servers lazily, holds the run's locks, cleans up."""

    def __init__(self, run_id: str | None = None, *, keep: bool = False, workdir: Path | None = None) -> None:
        self.run_id = run_id or secrets.token_hex(4)
        self.keep = keep
        sweep_workdirs()
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{self.run_id}-{os.getpid()}-"))
        self.started: dict[str, Started] = {}
        self.errors: dict[str, TargetError] = {}

    def server(self, target: TargetConfig) -> Server:
        """The target's server, started on first use; a failure is remembered and raised again."""
        if target.name in self.errors:
            raise self.errors[target.name]
        if target.name not in self.started:
            begun = time.perf_counter()
            try:
                server = start_server(target)
                try:
                    run = Run(server, self.run_id, keep=self.keep)  # reaps dead runs, takes the lock
                except BaseException:
                    server.stop()
                    raise
            except DatakitError as exc:
                error = exc if isinstance(exc, TargetError) else TargetError(str(exc), target.name)
                self.errors[target.name] = error
                raise error from None
            self.started[target.name] = Started(server, run, time.perf_counter() - begun)
        return self.started[target.name].server

    def run(self, target: TargetConfig) -> Run:
        """The run's claim (its lock, its databases) on the target's server, started on first use."""
        self.server(target)
        return self.started[target.name].run

    def start(self, targets: Iterable[TargetConfig]) -> None:
        """Start the servers the other processes will share (failures are kept, not raised)."""
        for target in targets:
            if not target.per_process:
                with contextlib.suppress(TargetError):
                    self.server(target)

    def handover(self, targets: Iterable[TargetConfig]) -> dict[str, Any]:
        """What another process of this run needs to reach its servers (contains passwords)."""
        servers: dict[str, dict[str, str | None]] = {}
        for target in targets:
            found = self.started.get(target.name)
            admin = found.server.admin_url if found else None
            error = self.errors.get(target.name)
            servers[target.name] = {
                "admin_url": admin.render_as_string(hide_password=False) if admin is not None else None,
                "error": str(error) if error else None,
            }
        return {"run_id": self.run_id, "workdir": str(self.workdir), "keep": self.keep, "servers": servers}

    def databases(self) -> dict[str, list[str]]:
        """The run's databases on each started server: target name -> URLs, password hidden."""
        from ..engines.urls import safe_url

        prefix = f"{KEEP_PREFIX if self.keep else PREFIX}{self.run_id}_"
        found: dict[str, list[str]] = {}
        for name, started in self.started.items():
            names = started.server.list_databases(prefix)
            if names:
                found[name] = [safe_url(started.server.database_url(n)) for n in names]
        return found

    def close(self) -> None:
        """Drop the run's databases (unless kept), release its locks, stop the servers."""
        prefix = f"{PREFIX}{self.run_id}_"
        failures: list[Exception] = []
        for started in self.started.values():  # every server gets its turn, whatever the others do
            try:
                if not self.keep:
                    for name in started.server.list_databases(prefix):
                        started.server.drop_database(name)
                started.run.close()
            except Exception as exc:
                failures.append(exc)
            finally:
                started.server.stop()
        self.started.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if failures:
            raise failures[0]


class RunGuest:
    """A process of a run that another process hosts: the host's servers, by their handover's admin URLs."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.run_id: str = data["run_id"]
        self.workdir = Path(data["workdir"])
        self.keep: bool = bool(data.get("keep", False))
        self._servers: dict[str, dict[str, str | None]] = data["servers"]
        self._reached: dict[str, Server] = {}

    def server(self, target: TargetConfig) -> Server:
        if target.name not in self._reached:
            self._reached[target.name] = self._reach(target)
        return self._reached[target.name]

    def _reach(self, target: TargetConfig) -> Server:
        from ..engines import server_for_url
        from ..engines.sqlite.server import SqliteFiles, SqliteMemory

        if target.per_process:
            return SqliteMemory(target.name)
        info = self._servers.get(target.name) or {}
        if info.get("error"):
            raise TargetError(str(info["error"]), target.name)
        if target.provisioner == "file":
            return SqliteFiles()
        if not info.get("admin_url"):
            raise TargetError(f"{target.name}: the run's host did not start this target", target.name)
        return server_for_url(make_url(str(info["admin_url"])), label=target.name)

    def close(self) -> None:
        """Let go of the servers (the host stops them)."""
        for server in self._reached.values():
            server.stop()
        self._reached.clear()


def once_per_run(
    source: ServerSource, label: str, make: Callable[[], str | None], target: str, what: str = "template"
) -> str | None:
    """Run ``make`` in the first process of the run to get here; the others wait and share its outcome.

    The work folder holds a lock file and a marker with the outcome: a failure of the first
    process is raised, with its message, as a ``DeployError`` in every process of the run; what
    ``make`` returns (a note on what it did) is returned in every process (see :func:`run_notes`).
    """
    marker = source.workdir / f"{label}.json"
    try:
        with FileLock(source.workdir / f"{label}.lock", timeout=TEMPLATE_WAIT):
            if not marker.exists():
                error = note = None
                try:
                    note = make()
                except DatakitError as exc:
                    error = str(exc)
                marker.write_text(json.dumps({"error": error, "note": note}))
            outcome = json.loads(marker.read_text())
    except Timeout:
        raise TargetError(f"{target}: the run's {what} was not ready in {TEMPLATE_WAIT:.0f} s", target) from None
    if outcome["error"]:
        raise DeployError(outcome["error"])
    return outcome.get("note")


def run_notes(workdir: Path) -> dict[str, str]:
    """What the run made once for all its processes, by label: the notes :func:`once_per_run` kept."""
    notes = {}
    for marker in sorted(workdir.glob("*.json")):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            note = json.loads(marker.read_text()).get("note")
            if note:
                notes[marker.stem] = str(note)
    return notes


def sweep_workdirs(root: Path | None = None, prefix: str = WORKDIR_PREFIX) -> list[Path]:
    """Remove the work folders of runs whose host process is gone (killed runs leave them).

    A work folder is named ``<prefix>...-<pid>-<random>``, as ``tempfile.mkdtemp`` makes it.
    """
    removed = []
    for folder in (root or Path(tempfile.gettempdir())).glob(f"{prefix}*"):
        try:
            pid = int(folder.name.rsplit("-", 2)[-2])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
