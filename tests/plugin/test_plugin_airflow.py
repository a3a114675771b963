"""``datakit_airflow`` as users run it: DAGs from the ini's folder, a failed task failing the test with its
id, error line and log tail, and a private Airflow home per xdist worker whatever the environment says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from plugin_helpers import INI, QUIET

DAGS = """
from airflow.sdk import Param, dag, task


@dag(schedule=None, params={"n": Param(3, type="integer")})
def tiny():
    @task
    def numbers(params=None):
        return list(range(params["n"]))

    @task
    def square(x):
        return x * x

    @task
    def total(squares):
        return sum(squares)

    total(square.expand(x=numbers()))


@dag(schedule=None)
def boom():
    @task
    def explode():
        print("about to explode")
        raise ValueError("the boom line")

    @task
    def after():
        return 1

    explode() >> after()


tiny()
boom()
"""

HOME_CHECK = """
import os
from pathlib import Path

def home_of(datakit_airflow):
    home = Path(os.environ["AIRFLOW_HOME"])
    assert home == datakit_airflow.home.home
    assert home != Path("/tmp/not-the-home-the-plugin-uses")
    assert (home.parent / "template" / "airflow.db").is_file()  # migrated once, for the run
    assert (home / "airflow.db").is_file()  # this process's copy
    return home
"""


@pytest.fixture
def dags(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("AIRFLOW_HOME", "/tmp/not-the-home-the-plugin-uses")  # what an inherited env would say
    (pytester.path / "flows").mkdir()
    (pytester.path / "flows" / "tiny.py").write_text(DAGS)
    pytester.makepyfile(homecheck=HOME_CHECK)
    return pytester


def test_dags_from_the_ini_folder_run_and_a_failed_task_fails_the_test(
    dags: pytest.Pytester, run: Callable[..., pytest.RunResult]
) -> None:
    dags.makepyfile(
        test_dags="""
        from homecheck import home_of

        def test_tiny(datakit_airflow):
            result = datakit_airflow.run_dag("tiny", conf={"n": 4})
            assert result.success
            assert result.xcoms["total"] == 14
            assert set(result.states()) == {"numbers", "square[0]", "square[1]", "square[2]", "square[3]", "total"}
            assert all(seconds >= 0 for seconds in result.durations().values())
            assert home_of(datakit_airflow).name == "main"

        def test_boom(datakit_airflow):
            datakit_airflow.run_dag("boom")

        def test_boom_read_back(datakit_airflow):
            result = datakit_airflow.run_dag("boom", check=False)
            assert result.states() == {"explode": "failed", "after": "upstream_failed"}
            assert result.task("explode").error == "ValueError: the boom line"
        """
    )
    result = run("-p", "no:logging", ini="datakit_airflow_dags_folder = flows")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "datakit airflow: dags folder */flows (from ini datakit_airflow_dags_folder); homes under *",
            "*DAG boom: task explode failed: ValueError: the boom line",
            "*log tail of explode:",
            "*about to explode*",
        ]
    )


def test_each_xdist_worker_has_its_own_home_copied_from_one_migration(
    dags: pytest.Pytester, run: Callable[..., pytest.RunResult]
) -> None:
    dags.makepyfile(
        test_workers="""
        import os
        from homecheck import home_of

        def test_one(datakit_airflow):
            assert datakit_airflow.run_dag("tiny").xcoms["total"] == 5
            assert home_of(datakit_airflow).name == os.environ["PYTEST_XDIST_WORKER"]

        def test_two(datakit_airflow):
            assert datakit_airflow.run_dag("tiny", conf={"n": 2}).xcoms["total"] == 1
            assert home_of(datakit_airflow).name == os.environ["PYTEST_XDIST_WORKER"]
        """
    )
    result = run("-n", "2", "--dist", "each", "-p", "no:logging", ini="datakit_airflow_dags_folder = flows")
    result.assert_outcomes(passed=4)


HANGING = """
import time
from pathlib import Path

from airflow.sdk import dag, task


@dag(schedule=None)
def hangs():
    @task
    def wait_for_ever():
        Path("started").write_text("yes")
        time.sleep(600)

    @task
    def after():
        return 1

    wait_for_ever() >> after()


hangs()
"""


def test_a_hanging_dag_run_is_stopped_at_the_ini_timeout(
    pytester: pytest.Pytester, run: Callable[..., pytest.RunResult]
) -> None:
    (pytester.path / "flows").mkdir()
    (pytester.path / "flows" / "hangs.py").write_text(HANGING)
    pytester.makepyfile("def test_hangs(datakit_airflow):\n    datakit_airflow.run_dag('hangs')\n")
    result = run("-p", "no:logging", ini="datakit_airflow_dags_folder = flows\ndatakit_airflow_dag_timeout = 3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*datakit_airflow: DAG hangs did not finish within 3s; its tasks were stopped*"])


def test_a_bad_dag_timeout_is_a_usage_error(pytester: pytest.Pytester, run: Callable[..., pytest.RunResult]) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = run(ini="datakit_airflow_dag_timeout = soon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*datakit_airflow_dag_timeout = 'soon': give a number of seconds above 0*"])


def test_ctrl_c_in_a_dag_run_ends_the_session_as_interrupted(pytester: pytest.Pytester) -> None:
    """Airflow alone turns the KeyboardInterrupt into the task's failure ("task failed", exit 1)."""
    (pytester.path / "flows").mkdir()
    (pytester.path / "flows" / "hangs.py").write_text(HANGING)
    pytester.makepyfile("def test_hangs(datakit_airflow):\n    datakit_airflow.run_dag('hangs')\n")
    pytester.makeini(INI.format(extra="datakit_airflow_dags_folder = flows"))
    log_path = pytester.path / "log.txt"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", *QUIET, "-p", "no:logging"],
            cwd=pytester.path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while not (pytester.path / "started").exists():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = log_path.read_text()
    assert status == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output and "task failed" not in output.lower(), output


LEAKY = """
import os
from urllib.parse import urlsplit

from airflow.sdk import dag, task


@dag(schedule=None)
def leaky():
    @task
    def show():
        uri = os.environ["AIRFLOW_CONN_WAREHOUSE"]
        print("the uri:", uri)
        print("the password:", urlsplit(uri).password)
        raise ValueError("after printing it")

    show()


leaky()
"""


def test_a_password_a_dag_prints_is_masked_in_the_log_tail(
    pytester: pytest.Pytester, run: Callable[..., pytest.RunResult]
) -> None:
    (pytester.path / "flows").mkdir()
    (pytester.path / "flows" / "leaky.py").write_text(LEAKY)
    secret = "Pw-S3cret/99"  # percent-encoded in the URI
    pytester.makepyfile(
        """
        def test_leaky(datakit_airflow):
            datakit_airflow.run_dag("leaky", connections={"warehouse": "postgresql://u:Pw-S3cret%2F99@127.0.0.1/x"})
        """
    )
    result = run("-p", "no:logging", ini="datakit_airflow_dags_folder = flows")
    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + result.stderr.str()
    assert "the password: ***" in shown and "after printing it" in shown, shown
    assert secret not in shown and "Pw-S3cret%2F99" not in shown
