"""Declared dbt steps take dbt's selection and run flags; a test that reads a later step's model says so."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_current_state import PROJECT, RUNS, _write_files

from framework import Database
from framework.errors import PipelineError
from framework.pipeline.declared import DbtSelection, pipeline_from_mapping


def test_a_step_table_takes_dbts_flags(tmp_path: Path) -> None:
    steps = [
        "staging",
        {"name": "marts", "select": "marts", "exclude": "tag:slow", "indirect_selection": "cautious"},
        {"name": "again", "vars": {"day": "2024-01-01"}, "full_refresh": True},
    ]
    spec = pipeline_from_mapping("p", {"source": "s", "dbt_project": "w", "dbt_steps": steps}, tmp_path, "here.toml")
    assert spec.dbt_steps[0] == DbtSelection("staging", "staging")
    assert spec.dbt_steps[1].flags() == ("--exclude", "tag:slow", "--indirect-selection", "cautious")
    assert spec.dbt_steps[2].select is None and spec.dbt_steps[2].vars == {"day": "2024-01-01"}
    assert spec.dbt_steps[2].flags() == ("--full-refresh",)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"name": "x", "indirect_selection": "lazy"}, "indirect_selection must be one of eager, cautious, buildable"),
        ({"name": "x", "selct": "a"}, "unknown key 'selct'; the keys are name, select, exclude"),
        ({"name": "x", "vars": "a=1"}, "vars must be a table"),
        ({"name": "x", "full_refresh": "yes"}, "full_refresh must be true or false"),
    ],
)
def test_a_wrong_step_key_is_one_line(step: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=message):
        pipeline_from_mapping("p", {"source": "s", "dbt_project": "w", "dbt_steps": [step]}, tmp_path, "here.toml")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"batches": "delta"}, "batches must be one of full, incremental"),
        ({"dbt_sources": "latest"}, "dbt_sources must be one of history, current"),
    ],
)
def test_batches_and_dbt_sources_are_checked(keys: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=message):
        pipeline_from_mapping("p", {"source": "s", "dbt_project": "w", **keys}, tmp_path, "here.toml")
    with pytest.raises(PipelineError, match="dbt_sources without a dbt_project"):
        pipeline_from_mapping("p", {"source": "s", "dbt_sources": "current"}, tmp_path, "here.toml")
    spec = pipeline_from_mapping("p", {"source": "s"}, tmp_path, "here.toml")
    assert spec.batches == "full" and spec.dbt_sources is None  # the defaults


def _project(tmp_path: Path, steps: str) -> Path:
    import shutil

    project = tmp_path / "jaffle"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", "target", "logs"))
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"dbt_steps = {steps}\n")
    return project


def _pipeline(project: Path, landing: Path, warehouse: Database, batch: str) -> subprocess.CompletedProcess[str]:
    url = warehouse.url.render_as_string(hide_password=False)
    args = ["pipeline", "jaffle", "--source", str(landing), "--target", url, "--batch-id", batch]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "framework.cli", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=900, env=env)


def test_two_steps_on_postgres_local(tmp_path: Path, make_database: Callable[[str], Database]) -> None:
    landing = tmp_path / "landing"
    _write_files(landing, RUNS[0])
    # jaffle's stg_customers has a relationships test to the mart customers: dbt's eager selection runs it in staging
    eager = _project(tmp_path / "eager", '["staging", "marts"]')
    failed = _pipeline(eager, landing, make_database("steps_eager"), "b1")
    assert failed.returncode == 2
    line = failed.stderr.strip().splitlines()[-1]
    assert line.startswith("datakits: test relationships_stg_customers_customer_id__customer_id__ref_customers_")
    assert line.endswith(  # "staging" names the test itself (its folder): excluding it is the way
        'reads model customers, built by the later step "marts": give step "staging" exclude = '
        '"relationships_stg_customers_customer_id__customer_id__ref_customers_" or move the test'
    )
    by_name = _project(tmp_path / "by_name", '["stg_customers stg_orders", "marts"]')
    failed = _pipeline(by_name, landing, make_database("steps_by_name"), "b1")
    assert failed.returncode == 2
    assert (
        failed.stderr.strip()
        .splitlines()[-1]
        .endswith(  # selected for its model: cautious leaves it out
            'reads model customers, built by the later step "marts": '
            'give step "stg_customers" indirect_selection = "cautious" or move the test'
        )
    )
    steps = (
        '[{name = "staging", select = "stg_customers stg_orders", indirect_selection = "cautious", '
        'vars = {unused = 1}}, {name = "marts", select = "marts", exclude = "stg_orders"}]'
    )
    cautious = _project(tmp_path / "cautious", steps)
    done = _pipeline(cautious, landing, make_database("steps_cautious"), "b1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "relationships_stg_customers_customer_id__customer_id__ref_customers_" in done.stderr  # ran, in marts
    assert "dbt_staging" in done.stderr and "dbt_marts" in done.stderr
