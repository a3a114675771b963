"""``datakits dags check``: every DAG file imports, defines a DAG and touches no database while it is parsed.

    datakits dags check [FOLDER]        # default: the DAG folder pyproject.toml declares, else ./dags

Each file is parsed by Airflow's ``DagBag`` in a child process of its own (Airflow imported first, so
the figure is the file's own cost), with an empty ``AIRFLOW_HOME``, and with every way to a database
refused: the DB-API ``connect`` of sqlite3, psycopg2 and PyMySQL, SQLAlchemy's ``Engine.connect``
and sockets.
A file passes when it imports, defines at least one DAG and tried none of them. Exit status 1 when a
file fails, 2 when the folder or Airflow (the ``airflow`` extra) is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DatakitError

__all__ = ["DagFileCheck", "check_dag_file", "check_dags"]

TIMEOUT = 120.0


@dataclass
class DagFileCheck:
    """One DAG file: the DAGs it defines, the seconds its import took, and what went wrong."""

    path: str
    seconds: float = 0.0
    dags: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)  # databases or sockets it tried to reach
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.touched and bool(self.dags)

    def problem(self) -> str:
        if self.touched:
            return f"touched a database at parse time ({', '.join(self.touched)}); connect inside the tasks"
        return self.error or "defines no DAG"


def dag_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def check_dag_file(path: Path, timeout: float = TIMEOUT) -> DagFileCheck:
    """Import ``path`` in a child process with every database refused; see the module docstring."""
    with tempfile.TemporaryDirectory(prefix="datakits-dags-check-") as home:
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGS_FOLDER": str(path.parent),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        try:
            done = subprocess.run(
                [sys.executable, "-m", "framework.airflow.check", str(path)],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return DagFileCheck(str(path), timeout, error=f"did not finish importing in {timeout:g}s")
    lines = done.stdout.strip().splitlines()
    try:
        data: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return DagFileCheck(str(path), error=f"the check process failed: {tail}")
    return DagFileCheck(**data)


def check_dags(folder: Path) -> list[DagFileCheck]:
    """Check every ``*.py`` file of ``folder`` (not those starting with ``_``)."""
    if importlib.util.find_spec("airflow") is None:
        raise DatakitError("checking DAGs needs Airflow: pip install 'pytest-datakits[airflow]'")
    if not folder.is_dir():
        raise DatakitError(f"no DAG folder {folder}; give the folder that holds the DAG files")
    return [check_dag_file(path) for path in dag_files(folder)]


# --- The child process ----------------------------------------------------------------------------


def _refuse(touched: list[str]) -> None:
    """Make every way to a database record itself and fail."""
    import socket
    import sqlite3

    from sqlalchemy.engine import Engine

    def guard(name: str, original: Any) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            touched.append(name)
            raise ConnectionRefusedError(f"datakits dags check: {name} at parse time")

        refused.__wrapped__ = original  # type: ignore[attr-defined]
        return refused

    sqlite3.connect = guard("sqlite3.connect", sqlite3.connect)
    Engine.connect = guard("Engine.connect", Engine.connect)  # type: ignore[method-assign]
    Engine.raw_connection = guard("Engine.raw_connection", Engine.raw_connection)  # type: ignore[method-assign]
    socket.socket.connect = guard("socket.connect", socket.socket.connect)  # type: ignore[method-assign]
    for module, function in (("psycopg2", "connect"), ("pymysql", "connect")):
        if importlib.util.find_spec(module) is not None:
            loaded = importlib.import_module(module)
            setattr(loaded, function, guard(f"{module}.{function}", getattr(loaded, function)))


def _child(path: str) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag  # Airflow's own cost is not the DAG file's

    touched: list[str] = []
    _refuse(touched)
    started = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)  # parses as the scheduler does
    seconds = time.perf_counter() - started
    lines = [line for e in bag.import_errors.values() for line in str(e).splitlines() if line.strip()]
    error = " ".join(lines[-1].split()) if lines else None  # a traceback's last line: the exception
    return asdict(DagFileCheck(path, seconds, sorted(bag.dag_ids), touched, error))


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1])))
