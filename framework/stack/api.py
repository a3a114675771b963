"""Airflow 3's REST API, the little the stack needs: a token, trigger a DAG run, poll it, its task instances.

A token comes from the simple auth manager (``POST /auth/token`` with the admin's user and password); every
other call is ``/api/v2`` with ``Authorization: Bearer``. Standard library only (urllib).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..errors import StackError

TERMINAL = ("success", "failed")


class Unanswered(StackError):
    """The API server did not answer (down, or too busy within the timeout)."""


@dataclass(frozen=True)
class TaskRun:
    """One task instance of a DAG run (a mapped task has one per map index)."""

    task_id: str
    map_index: int
    state: str | None
    start: datetime | None
    end: datetime | None
    hostname: str = ""  # the machine (container) whose worker ran its last try
    try_number: int = 0  # 1 on the first try; more when it was retried
    label: str = ""  # a mapped task's rendered map index (its map_index_template): a load's table

    @property
    def seconds(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None


@dataclass(frozen=True)
class DagRun:
    dag_id: str
    run_id: str
    state: str
    start: datetime | None
    end: datetime | None
    conf: dict[str, Any]

    @property
    def seconds(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None


class AirflowApi:
    """The API server at ``base_url`` (``http://127.0.0.1:PORT``), as ``username``."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self._token: str | None = None

    def token(self) -> str:
        """A JWT from the simple auth manager (cached)."""
        if self._token is None:
            body = self._call(
                "POST", "/auth/token", {"username": self.username, "password": self._password}, auth=False
            )
            self._token = str(body["access_token"])
        return self._token

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/api/v2/monitor/health", auth=False)

    def wait_dag(self, dag_id: str, timeout: float = 300, poll: float = 2.0) -> dict[str, Any]:
        """Wait until the DAG processor has parsed ``dag_id``; the DAG's details."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._call("GET", f"/api/v2/dags/{quote(dag_id)}")
            except StackError as exc:
                if not isinstance(exc, Unanswered) and "HTTP 404" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StackError(
                        f"DAG {dag_id!r} was not parsed within {timeout:.0f} s (is it in dags/?)"
                    ) from None
            time.sleep(poll)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> DagRun:
        """Unpause ``dag_id`` and trigger a run of it now; the run as created."""
        self._call("PATCH", f"/api/v2/dags/{quote(dag_id)}", {"is_paused": False})
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if run_id:
            body["dag_run_id"] = run_id
        return _dag_run(self._call("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", body))

    def run(self, dag_id: str, run_id: str) -> DagRun:
        return _dag_run(self._call("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}"))

    def runs(self, dag_id: str, limit: int = 5) -> list[DagRun]:
        body = self._call("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns?order_by=-start_date&limit={limit}")
        return [_dag_run(item) for item in body["dag_runs"]]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 1800, poll: float = 2.0) -> DagRun:
        """Poll the run until it succeeds or fails (or ``timeout`` seconds pass: a StackError)."""
        deadline = time.monotonic() + timeout
        state = "unknown"
        while True:
            try:
                found = self.run(dag_id, run_id)
            except Unanswered:  # a busy API server (the run's own tasks load it): ask again
                found = None
            if found is not None and found.state in TERMINAL:
                return found
            state = found.state if found is not None else state
            if time.monotonic() > deadline:
                raise StackError(f"run {run_id} of {dag_id} still {state} after {timeout:.0f} s")
            time.sleep(poll)

    def task_runs(self, dag_id: str, run_id: str) -> list[TaskRun]:
        body = self._call("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances?limit=1000")
        return sorted(
            (_task_run(item) for item in body["task_instances"]),
            key=lambda task: (task.start.timestamp() if task.start else float("inf"), task.task_id, task.map_index),
        )

    def task_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[TaskRun]:
        """Every try of one task instance, the first first (a retried task has more than one)."""
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"
        body = self._call("GET", f"{path}/{map_index}/tries" if map_index >= 0 else f"{path}/tries")
        return sorted((_task_run(item) for item in body["task_instances"]), key=lambda task: task.try_number)

    def task_log(self, dag_id: str, run_id: str, task: TaskRun, lines: int = 8, try_number: int = 1) -> list[str]:
        """The last ``lines`` events of a task instance's log (what the UI shows), as text."""
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task.task_id)}"
        body = self._call("GET", f"{path}/logs/{try_number}?full_content=true&map_index={task.map_index}")
        events = [item.get("event", "") if isinstance(item, dict) else str(item) for item in body.get("content", [])]
        return [" ".join(event.split())[:300] for event in events if event.strip()][-lines:]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = " ".join(exc.read().decode(errors="replace").split())[:300]
            raise StackError(f"{method} {path.split('?')[0]}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unanswered(f"the Airflow API server at {self.base_url} does not answer ({reason})") from None
        return json.loads(text) if text else {}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _task_run(item: dict[str, Any]) -> TaskRun:
    return TaskRun(
        task_id=item["task_id"],
        map_index=int(item.get("map_index", -1)),
        state=item.get("state"),
        start=_time(item.get("start_date")),
        end=_time(item.get("end_date")),
        hostname=item.get("hostname") or "",
        try_number=int(item.get("try_number") or 0),
        label=str(item.get("rendered_map_index") or ""),
    )


def _dag_run(item: dict[str, Any]) -> DagRun:
    return DagRun(
        dag_id=item["dag_id"],
        run_id=item["dag_run_id"],
        state=item["state"],
        start=_time(item.get("start_date")),
        end=_time(item.get("end_date")),
        conf=item.get("conf") or {},
    )
