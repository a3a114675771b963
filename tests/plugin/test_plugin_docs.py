"""The getting-started page's example test file runs, as the page says, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "test_getting_started.py"


def test_getting_started_example_runs(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_getting_started=EXAMPLE.read_text())
    result = run(
        "-rs",
        "-n",
        "2",
        ini="datakit_targets = sqlite_memory postgres_local\ndatakit_paths = pagila_bronze",
    )
    result.assert_outcomes(passed=9, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * needs engine postgresql, not sqlite (sqlite_memory)"])


AIRFLOW_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "airflow" / "test_pagila_dag.py"


def test_pipeline_dag_example_runs(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_pagila_dag=AIRFLOW_EXAMPLE.read_text())
    dags = Path(__file__).resolve().parents[2] / "dags"
    result = run("-p", "no:logging", ini=f"datakit_airflow_dags_folder = {dags}", timeout=900)
    result.assert_outcomes(passed=1)
