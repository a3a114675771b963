"""Run Airflow DAGs for real in tests, without a scheduler: ``dag.test()`` in a private ``AIRFLOW_HOME``.

    home = AirflowHome(root, worker="gw0", dags_folder=Path("dags"))
    home.activate()                     # before Airflow is first imported in this process
    result = home.run_dag("pagila_pipeline", conf={...}, connections={"pagila_source": source_db})
    result.states()                     # {"deploy": "success", "load[0]": "success", ...}

Airflow reads ``AIRFLOW_HOME`` and its database setting once, at its first import; so each process
(each pytest-xdist worker) gets its own home and SQLite metadata database, set unconditionally
(workers inherit the controller's environment). The database is migrated once per run, into
``<root>/template`` by ``airflow db migrate`` in a child process, under a file lock, and copied for
each process: no worker migrates. Connections are given as ``AIRFLOW_CONN_<ID>`` for the length of
the run. What the tasks log is captured, cut per task, and kept with each task's state and seconds;
a failed task's error line is the last line of its traceback. Airflow is imported only inside the
functions here, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from filelock import FileLock

from ..engines.urls import safe_text, secrets_of, to_url
from ..errors import DagRunFailed, DatakitError

if TYPE_CHECKING:  # the pipeline's steps (SQLModel, the loaders) come with the first DAG run, not the plugin's start
    from ..pipeline.steps import Where

__all__ = ["DAG_TIMEOUT", "AirflowHome", "DagRunResult", "DagRunTimeout", "RunGuard", "TaskRun", "airflow_environment"]

MIGRATE_TIMEOUT = 600
DAG_TIMEOUT = 3600.0  # seconds a DAG run may take in a test (the plugin's ini key datakit_airflow_dag_timeout)
LOG_TAIL = 15
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+) map_index=(-?\d+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+) map_index=(-?\d+)")
_FAILED = "Task failed with exception"


def airflow_environment(home: Path, dags_folder: Path) -> dict[str, str]:
    """The settings that point Airflow at ``home`` (config, logs, SQLite metadata database) and ``dags_folder``."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


@dataclass
class TaskRun:
    """One task instance of a run: its state, seconds, and (failed) error line; its log lines."""

    task_id: str
    map_index: int
    state: str
    seconds: float
    error: str | None = None
    log: list[str] = field(default_factory=list, repr=False)
    tries: int = 1  # the attempts Airflow made: 2 for a task that was retried once

    @property
    def name(self) -> str:
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"


@dataclass
class DagRunResult:
    """What ``dag.test()`` did: the run's state, each task instance, the XComs (``return_value``) and the log."""

    dag_id: str
    run_id: str
    state: str
    tasks: list[TaskRun]
    xcoms: dict[str, Any] = field(default_factory=dict, repr=False)  # task name -> its JSON return value
    log: str = field(default="", repr=False)

    @property
    def success(self) -> bool:
        return self.state == "success"

    @property
    def failed(self) -> list[TaskRun]:
        return [t for t in self.tasks if t.state == "failed"]

    def states(self) -> dict[str, str]:
        return {t.name: t.state for t in self.tasks}

    def durations(self) -> dict[str, float]:
        return {t.name: t.seconds for t in self.tasks}

    def task(self, name: str) -> TaskRun:
        for t in self.tasks:
            if name in (t.name, t.task_id):
                return t
        raise KeyError(f"no task {name!r} in this run; it has {', '.join(t.name for t in self.tasks)}")

    def failure(self) -> str:
        """The first failed task: its id and error line, then the tail of its log."""
        failed = self.failed
        if not failed:
            return f"DAG {self.dag_id} run {self.run_id} ended {self.state} with no failed task"
        first = failed[0]
        others = f" (and {len(failed) - 1} more failed)" if len(failed) > 1 else ""
        tail = "\n".join(f"    {line[:300]}" for line in _short_tracebacks(first.log)[-LOG_TAIL:])
        return (
            f"DAG {self.dag_id}: task {first.name} failed{others}: {first.error}\n  log tail of {first.name}:\n{tail}"
        )


@dataclass
class AirflowHome:
    """A private Airflow for one process of a test run: ``<root>/<worker>``, its database a copy of the template."""

    root: Path
    worker: str
    dags_folder: Path
    _dags: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def home(self) -> Path:
        return self.root / self.worker

    @property
    def database(self) -> Path:
        return self.home / "airflow.db"

    @property
    def template(self) -> Path:
        return self.root / "template" / "airflow.db"

    def environment(self) -> dict[str, str]:
        return airflow_environment(self.home, self.dags_folder)

    def activate(self) -> None:
        """Point this process's Airflow here; call it before Airflow is first imported."""
        self.home.mkdir(parents=True, exist_ok=True)
        os.environ.update(self.environment())

    def check_active(self) -> None:
        """A :class:`DatakitError` when Airflow was imported before :meth:`activate` (it reads its settings once)."""
        from airflow import settings

        wanted = self.environment()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        if str(settings.SQL_ALCHEMY_CONN) != wanted:
            raise DatakitError(
                f"Airflow was imported before its test home was set (it uses {settings.SQL_ALCHEMY_CONN}); "
                "import airflow inside tests and fixtures, not at the top of a conftest.py"
            )

    def ensure_database(self) -> Path:
        """This process's metadata database: the run's migrated template, copied (migrated once per run)."""
        if self.database.exists():
            return self.database
        self.template.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.template) + ".lock"):
            if not self.template.exists():
                _migrate(self.template.parent, self.dags_folder)
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.template, self.database)
        return self.database

    def dag(self, dag_id: str) -> Any:
        """The DAG ``dag_id`` from the DAG folder, parsed once per process."""
        if dag_id not in self._dags:
            from airflow.dag_processing.dagbag import DagBag

            bag = DagBag(dag_folder=str(self.dags_folder), safe_mode=False)
            if bag.import_errors:
                path, error = next(iter(bag.import_errors.items()))
                lines = [line for line in str(error).splitlines() if line.strip()]
                raise DatakitError(f"DAG file {path} does not import: {lines[-1].strip() if lines else error}")
            self._dags.update(bag.dags)
            if dag_id not in self._dags:
                found = ", ".join(sorted(self._dags)) or "none"
                raise DatakitError(f"no DAG {dag_id!r} in {self.dags_folder} (found: {found})")
        return self._dags[dag_id]

    def run_dag(
        self,
        dag: Any,
        conf: Mapping[str, Any] | None = None,
        connections: Mapping[str, Where] | None = None,
        *,
        check: bool = True,
        timeout: float | None = DAG_TIMEOUT,
    ) -> DagRunResult:
        """``dag.test()`` of ``dag`` (a DAG or a DAG id in the DAG folder) with ``connections`` set.

        A run that takes longer than ``timeout`` seconds is stopped (:class:`DagRunTimeout`); Ctrl-C
        stops it and raises ``KeyboardInterrupt`` (Airflow alone would fail the task and go on).

        ``connections`` maps a connection id to a database (a :class:`~framework.targets.runs.Database` or
        URL). With ``check`` a run that did not succeed raises :class:`DagRunFailed` with the first
        failed task's id, its error line and the tail of its log.
        """
        from ..pipeline.steps import connection_uri

        self.check_active()
        self.ensure_database()
        dag_object = self.dag(dag) if isinstance(dag, str) else dag
        env = {
            f"AIRFLOW_CONN_{conn_id.upper()}": connection_uri(where) for conn_id, where in (connections or {}).items()
        }
        guard = RunGuard(timeout)
        try:
            with _environment(env), _captured() as log, guard:
                run = dag_object.test(run_conf=dict(conf or {}))
        except KeyboardInterrupt:
            if guard.reason is None:
                raise
        guard.raise_for(dag_object.dag_id)
        text = mask_secrets(log.getvalue(), env.values())
        result = _result(run, text)
        if check and not result.success:
            raise DagRunFailed(result.failure(), result)
        return result


class DagRunTimeout(DatakitError):
    """A DAG run did not finish within its timeout; its tasks were stopped."""


class RunGuard:
    """Ends ``dag.test()`` on Ctrl-C and at a deadline, whatever its tasks do.

    ``dag.test()`` runs the tasks in this process and turns a ``KeyboardInterrupt`` inside one into
    that task's failure, then runs the next. So while it runs, SIGINT (or the deadline, from a
    timer thread, as a SIGINT sent to the main thread) records why, raises ``KeyboardInterrupt``
    in whatever runs, and goes on raising every half second until ``dag.test()`` returns. Only in
    the main thread (signals are handled there); elsewhere it does nothing."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout if timeout and timeout > 0 else None
        self.reason: str | None = None
        self._done = threading.Event()
        self._old: Any = None
        self._active = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> RunGuard:
        if self._active:
            self._old = signal.signal(signal.SIGINT, self._stop)
            self._thread = threading.Thread(target=self._watch, name="datakits-dag-guard", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._active:
            self._thread.join()  # no signal of ours comes after the old handler is back
            signal.signal(signal.SIGINT, self._old)

    def _stop(self, signum: int, frame: Any) -> None:
        if self._done.is_set():
            return
        self.reason = self.reason or "interrupted"
        raise KeyboardInterrupt

    def _watch(self) -> None:
        """At the deadline, and every half second once stopped, a SIGINT to the main thread."""
        main = threading.main_thread().ident
        started = time.monotonic()
        while not self._done.wait(0.5):
            if self.reason is None and self.timeout is not None and time.monotonic() - started >= self.timeout:
                self.reason = "timeout"
            if self.reason is not None and main is not None and not self._done.is_set():
                signal.pthread_kill(main, signal.SIGINT)  # a real signal: it wakes a sleeping task too

    def raise_for(self, dag_id: str) -> None:
        """After the run: ``KeyboardInterrupt`` for Ctrl-C, :class:`DagRunTimeout` for the deadline."""
        if self.reason == "interrupted":
            raise KeyboardInterrupt
        if self.reason == "timeout":
            raise DagRunTimeout(f"DAG {dag_id} did not finish within {self.timeout:g}s; its tasks were stopped")


def mask_secrets(text: str, uris: Iterable[str]) -> str:
    """``text`` with the passwords of the connections ``uris`` shown as ``***``, as Airflow's own log
    masking shows a connection's password: as given, and percent-encoded as in a URI."""
    secrets: set[str] = set()
    for uri in uris:
        for secret in secrets_of(to_url(uri)):
            if len(secret) >= 3:  # as Airflow: a very short one would mask ordinary words
                secrets |= {secret, quote(secret, safe=""), quote_plus(secret)}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return safe_text(text)


def _migrate(home: Path, dags_folder: Path) -> None:
    env = {**os.environ, **airflow_environment(home, dags_folder)}
    command = [sys.executable, "-m", "airflow", "db", "migrate"]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=MIGRATE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DatakitError(f"airflow db migrate did not finish in {MIGRATE_TIMEOUT}s") from None
    if done.returncode != 0 or not (home / "airflow.db").exists():
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()] or ["no output"]
        raise DatakitError(f"airflow db migrate failed: {lines[-1].strip()}")


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Airflow's output (structlog on stdout, stdlib logging through the root handler) into one buffer."""
    buffer = io.StringIO()
    # only Airflow's plain stream handler: pytest's own capture handlers are subclasses and stay as they are
    handlers = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    streams = [h.setStream(buffer) for h in handlers]
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)


def _sections(text: str) -> dict[tuple[str, int], list[str]]:
    """Each task's log lines, between dag.test()'s 'starting' and 'end task' lines."""
    sections: dict[tuple[str, int], list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        start = _START.search(line)
        if start:
            current = sections.setdefault((start.group(1), int(start.group(2))), [])
            continue
        if _END.search(line):
            current = None
            continue
        if current is not None:
            current.append(line.rstrip())
    return sections


def _short_tracebacks(lines: list[str], keep: int = 3) -> list[str]:
    """The log with each traceback cut to its last ``keep`` lines (the frame that raised and the error)."""
    out: list[str] = []
    block: list[str] | None = None
    for line in [*lines, ""]:
        if block is not None and (_STAMP.match(line) or not line.strip()):
            out += [block[0], "    ...", *block[1:][-keep:]] if len(block) > keep + 1 else block
            block = None
        if "Traceback (most recent call last)" in line:
            block = [line]
        elif block is not None:
            block.append(line)
        elif line.strip():
            out.append(line)
    return out


def _error_line(lines: list[str]) -> str | None:
    """The last line of the task's traceback: ``TargetUnreachable: source (...): cannot connect: ...``."""
    marks = [i for i, line in enumerate(lines) if _FAILED in line] or [
        i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line
    ]
    if not marks:
        return None
    trace: list[str] = []
    for line in lines[marks[-1] + 1 :]:
        if _STAMP.match(line):
            break
        if line.strip():
            trace.append(line.strip())
    if not trace:
        return None
    return re.sub(r"^(?:[A-Za-z_][\w]*\.)+(\w+: )", r"\1", trace[-1])


def _result(run: Any, text: str) -> DagRunResult:
    sections = _sections(text)
    tasks = []
    for ti in sorted(run.get_task_instances(), key=lambda t: (t.start_date is None, t.start_date, t.map_index)):
        state = str(getattr(ti.state, "value", ti.state))
        lines = sections.get((ti.task_id, ti.map_index), [])
        error = _error_line(lines) if state == "failed" else None
        tries = max(int(ti.try_number or 1), 1)
        tasks.append(TaskRun(ti.task_id, ti.map_index, state, float(ti.duration or 0.0), error, lines, tries))
    state = str(getattr(run.state, "value", run.state))
    return DagRunResult(run.dag_id, run.run_id, state, tasks, _xcoms(run), text)


def _xcoms(run: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    found: dict[str, Any] = {}
    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value"
            )
        )
        for row in rows:
            value = row.value
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            found[row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"] = value
    return found
