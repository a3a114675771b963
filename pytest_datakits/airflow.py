"""Airflow in the plugin: a private ``AIRFLOW_HOME`` per process and the ``datakit_airflow`` fixture.

The controller (or the only process) makes the run's folder; each process, xdist workers included,
points Airflow at ``<folder>/<worker>`` in ``pytest_configure``, before any test module imports
Airflow, whatever the environment says (workers inherit the controller's). The metadata database
is migrated once per run and copied per process (``framework.airflow.dagtest.AirflowHome``). The DAG folder
is the ini key ``datakit_airflow_dags_folder`` (default: ``dags/`` beside the ini file).

Airflow's own warnings (the in-process API server imports Starlette's test client, which warns about
httpx) are ignored around Airflow's calls only, so ``filterwarnings = error`` stays as the user set it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from framework import AirflowHome, DagRunFailed, DatakitError, sweep_workdirs

if TYPE_CHECKING:
    from framework import DagRunResult, Where

__all__ = ["AirflowRunner", "datakit_airflow"]

INI_DAGS = "datakit_airflow_dags_folder"
INI_TIMEOUT = "datakit_airflow_dag_timeout"
_WORKERINPUT = "datakits_airflow"
#: the run's homes: ``datakits-airflow-<pid>-<random>``; a killed run's are swept by the next run
HOME_PREFIX = "datakits-airflow-"
_HOME = pytest.StashKey["AirflowHome | None"]()
_OWNED = pytest.StashKey[Path]()
#: (message regex, category) of warnings Airflow's own code raises while it runs a DAG
AIRFLOW_WARNINGS: list[tuple[str, type[Warning]]] = [
    (r"Using `httpx` with `starlette.testclient` is deprecated", UserWarning),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_DAGS, "Folder of the DAGs that datakit_airflow runs (default: dags/ beside the ini file)")
    parser.addini(INI_TIMEOUT, "Seconds a DAG run of datakit_airflow may take before it is stopped (default 3600)")


def _dag_timeout(config: pytest.Config) -> dict[str, float]:
    """``run_dag``'s timeout from the ini key, when it is set (the library's default otherwise)."""
    value = str(config.getini(INI_TIMEOUT) or "").strip()
    if not value:
        return {}
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise pytest.UsageError(f"{INI_TIMEOUT} = {value!r}: give a number of seconds above 0 (e.g. 3600)")
    return {"timeout": seconds}


def _dags_folder(config: pytest.Config) -> tuple[Path, str]:
    base = config.inipath.parent if config.inipath else config.rootpath
    value = str(config.getini(INI_DAGS) or "")
    if value:
        return (base / value).resolve(), f"ini {INI_DAGS}"
    return (base / "dags").resolve(), "default"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("help", False) or importlib.util.find_spec("airflow") is None:
        config.stash[_HOME] = None
        return
    _dag_timeout(config)  # a wrong value is a usage error before anything starts
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _WORKERINPUT in workerinput:
        root, worker = Path(workerinput[_WORKERINPUT]), str(workerinput.get("workerid", "main"))
    else:
        sweep_workdirs(prefix=HOME_PREFIX)
        root, worker = Path(tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{os.getpid()}-")), "main"
        config.stash[_OWNED] = root
    home = AirflowHome(root, worker, _dags_folder(config)[0])
    home.activate()
    config.stash[_HOME] = home


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    home = node.config.stash.get(_HOME, None)
    if home is not None:
        node.workerinput[_WORKERINPUT] = str(home.root)


def pytest_report_header(config: pytest.Config) -> list[str]:
    home = config.stash.get(_HOME, None)
    if home is None:
        return []
    folder, source = _dags_folder(config)
    return [f"datakit airflow: dags folder {folder} (from {source}); homes under {home.root}"]


def pytest_unconfigure(config: pytest.Config) -> None:
    owned = config.stash.get(_OWNED, None)
    if owned is not None:
        shutil.rmtree(owned, ignore_errors=True)


@contextmanager
def airflow_warnings() -> Iterator[None]:
    """Ignore the warnings Airflow's own code raises (:data:`AIRFLOW_WARNINGS`), only for the block."""
    with warnings.catch_warnings():
        for message, category in AIRFLOW_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


class AirflowRunner:
    """What ``datakit_airflow`` gives a test: ``run_dag(...)`` through ``dag.test()``, in this process's home."""

    def __init__(self, home: AirflowHome, options: Mapping[str, float] | None = None) -> None:
        self.home = home
        self._options = dict(options or {})

    @property
    def dags_folder(self) -> Path:
        return self.home.dags_folder

    def dag(self, dag_id: str) -> Any:
        """The DAG ``dag_id`` from the DAG folder."""
        with airflow_warnings():
            return self.home.dag(dag_id)

    def run_dag(
        self,
        dag: Any,
        conf: Mapping[str, Any] | None = None,
        connections: Mapping[str, Where] | None = None,
        *,
        check: bool = True,
    ) -> DagRunResult:
        """Run ``dag`` (a DAG or an id in the DAG folder) with ``dag.test()``; each task's state and seconds.

        ``connections`` maps connection ids to databases (``{"pagila_source": db}``: a ``Database`` or
        a URL). With ``check`` (the default) a failed task fails the test with its id, its error line
        and the tail of its log; ``check=False`` returns the result of a failed run for the test to read.
        A run longer than the ini key ``datakit_airflow_dag_timeout`` (default 3600 s) is stopped and
        fails the test; Ctrl-C stops it and ends the session as interrupted.
        """
        try:
            with airflow_warnings():
                return self.home.run_dag(dag, conf, connections, check=check, **self._options)
        except DagRunFailed as exc:
            message = str(exc)
        except DatakitError as exc:
            message = f"datakit_airflow: {exc}"
        pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def datakit_airflow(pytestconfig: pytest.Config) -> AirflowRunner:
    """Run DAGs for real with ``dag.test()`` in this process's private Airflow (SQLite metadata database)."""
    home = pytestconfig.stash.get(_HOME, None)
    if home is None:
        pytest.skip("Airflow is not installed here: pip install 'pytest-datakits[airflow]'")
    try:
        with airflow_warnings():
            home.check_active()
            home.ensure_database()
    except DatakitError as exc:
        problem = str(exc)
    else:
        return AirflowRunner(home, _dag_timeout(pytestconfig))
    pytest.fail(f"datakit_airflow: {problem}", pytrace=False)
