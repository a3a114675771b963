"""``datakit_airflow`` as users run it: DAGs from the ini's folder, a failed task failing the test with its
id, error line and log tail, and a private Airflow home per xdist worker whatever the environment says."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
