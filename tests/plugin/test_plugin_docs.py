"""The getting-started page's example test file runs, as the page says, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "test_getting_started.py"
README_EXAMPLE = ROOT / "docs" / "examples" / "test_readme.py"


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


def test_the_readme_plugin_example_runs_as_shown(run, pytester: pytest.Pytester) -> None:
    code = README_EXAMPLE.read_text()
    assert f"```python\n{code}```" in (ROOT / "README.md").read_text()  # the README shows this very file
    pytester.makepyfile(test_readme=code)
    result = run(
        "--datakit", "pagila_bronze", "--datakit-target", "sqlite_memory", "--datakit-target", "postgres_local"
    )
    result.assert_outcomes(passed=2)


def test_the_getting_started_fixture_overrides_run_as_shown(run, pytester: pytest.Pytester) -> None:
    """Every conftest snippet of the page (the overrides, the session seed) together, under the page's config."""
    import re

    page = (ROOT / "docs" / "getting-started.md").read_text()
    snippets = [b for b in re.findall(r"```python\n(.*?)```", page, re.S) if "@pytest.fixture" in b]
    assert len(snippets) >= 3, "the page's fixture examples moved: update this test"
    pytester.makeconftest("\n\n".join(snippets))
    pytester.makepyfile(
        test_seeded="""
        from sqlalchemy import text


        def test_the_session_seed_is_there(seeded, datakit_session, datakit_factories):
            name = datakit_session.execute(text("SELECT name FROM language WHERE language_id = 99")).scalar()
            assert name.strip() == "Klingon"  # a char(20)
        """
    )
    result = run(
        "--datakit", "pagila_source", "--datakit-target", "sqlite_memory", "--datakit-target", "postgres_local"
    )
    result.assert_outcomes(passed=2)
