"""A pipeline declared in a project's own ``pyproject.toml``, run three ways with the same counts.

The project is what ``datakits init`` writes into a temp folder: a source datakit, a tiny dbt project
(one mart, its contract generated from a datakit), landing files in ``data/*.csv`` and
``[tool.datakits.pipelines.shop]`` (bronze left out, so derived). On the local PostgreSQL:
``datakits pipeline shop --source data``, ``run_pipeline`` and the DAG of ``pipeline_dag`` under
``datakit_airflow`` give the same rows per layer and table; a rerun of the batch changes no row.
A declaration with an unknown key, or without a source, is one line naming the key and the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from framework import (
    Database,
    PipelineError,
    declared_pipelines,
    get_pipeline,
    load_datakit,
    pipeline_dag,
    run_pipeline,
    stage_folder,
)
from framework.cli.init import init_project

EXPECTED = {"bronze": {"customers": 3, "orders": 4}, "marts": {"customer_orders": 3}}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("declared") / "shop"
    init_project(root)
    return root


@pytest.fixture(scope="module")
def databases(servers: Any, project: Path) -> Iterator[tuple[Database, Database, Database]]:
    """The landing files staged in a source database, and two empty warehouses, on the local PostgreSQL."""
    _, run = servers.get("postgres_local")
    made = [run.create_database(label) for label in ("shop_source", "shop_dw", "shop_dag_dw")]
    stage_folder(project / "data", load_datakit(project / "kits" / "shop_source"), made[0])
    yield made[0], made[1], made[2]
    for database in made:
        run.drop(database)


def state(database: Database) -> list[tuple[Any, ...]]:
    """Every bronze and mart row, with its load time: a rerun that moved anything shows here."""
    engine = database.engine()
    try:
        with engine.connect() as conn:
            rows = []
            for table in ("br__shop__public.customers", "br__shop__public.orders"):
                rows += conn.execute(text(f"SELECT *, '{table}' FROM {table} ORDER BY id, dk_batch_id")).all()
            rows += conn.execute(text("SELECT * FROM marts.customer_orders ORDER BY customer_id")).all()
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def test_the_declaration_reads_relative_to_its_file(project: Path) -> None:
    found = declared_pipelines(project)
    assert {"shop", "pagila"} <= set(found)  # pyproject.toml's and the entry point's
    shop = found["shop"]
    assert shop.source == str(project / "kits" / "shop_source") and shop.bronze is None
    assert shop.project == str(project / "warehouse") and [s.name for s in shop.dbt_steps] == ["marts"]
    assert list(shop.layer_names()) == ["marts"] and shop.dags == str(project / "dags")
    assert shop.declared_in == f"{project / 'pyproject.toml'} [tool.datakits.pipelines.shop]"


def test_the_cli_run_pipeline_and_the_dag_agree(project: Path, databases: tuple[Database, Database, Database]) -> None:
    # 1. the command, on a disposable warehouse of its own
    done = subprocess.run(
        [sys.executable, "-m", "framework.cli", "pipeline", "shop", "--source", "data", "--target", "postgres_local"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    cells = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.strip()}
    assert cells["customers"] == ["3"] and cells["orders"] == ["4"] and cells["customer_orders"] == ["3"]
    assert "dbt_marts" in cells and "files       7 rows 2 files" in done.stderr

    # 2. the library, on the warehouse of this test; then the same batch again: not one row moves
    source, warehouse, dag_warehouse = databases
    spec = get_pipeline("shop", start=project)
    summary = run_pipeline(source, warehouse, "b1", pipeline=spec)
    assert summary.rows == EXPECTED
    before = state(warehouse)
    assert run_pipeline(source, warehouse, "b1", pipeline=spec).rows == EXPECTED
    assert state(warehouse) == before

    # 3. the DAG of the factory (dags/shop_pipeline.py: pipeline_dag("shop")) under datakit_airflow, whose
    # dag.test() runs DAGs of the configured DAG folder only: so in a pytest of the project's own, as its user would
    tasks = ["deploy", "tables", "load", "marts.customer_orders", "validate", "summary"]
    assert [t.task_id for t in pipeline_dag(spec).tasks] == tasks
    (project / "tests" / "test_counts.py").write_text(DAG_TEST)
    out = project / "counts.json"
    env = {
        **os.environ,
        "SHOP_SOURCE": source.url.render_as_string(hide_password=False),
        "SHOP_WAREHOUSE": dag_warehouse.url.render_as_string(hide_password=False),
        "SHOP_OUT": str(out),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_counts.py"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=project,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    first, again, unchanged = json.loads(out.read_text())
    assert first == EXPECTED and again == EXPECTED and unchanged


DAG_TEST = """
import json
import os

from sqlalchemy import create_engine, text


def state(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT *, 'o' FROM br__shop__public.orders ORDER BY id, dk_batch_id")).all()
        rows += conn.execute(text("SELECT * FROM marts.customer_orders ORDER BY customer_id")).all()
    engine.dispose()
    return [tuple(map(str, r)) for r in rows]


def test_counts(datakit_airflow):
    connections = {"shop_source": os.environ["SHOP_SOURCE"], "shop_warehouse": os.environ["SHOP_WAREHOUSE"]}
    first = datakit_airflow.run_dag("shop_pipeline", conf={"batch_id": "b1"}, connections=connections)
    before = state(os.environ["SHOP_WAREHOUSE"])
    again = datakit_airflow.run_dag("shop_pipeline", conf={"batch_id": "b1"}, connections=connections)
    loads = [value for name, value in again.xcoms.items() if name.startswith("load[")]
    assert len(loads) == 2 and all(load["skipped"] for load in loads)
    unchanged = state(os.environ["SHOP_WAREHOUSE"]) == before
    rows = [first.xcoms["summary"]["rows"], again.xcoms["summary"]["rows"], unchanged]
    with open(os.environ["SHOP_OUT"], "w") as out:
        json.dump(rows, out)
"""


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('source = "kits/x"\ncolour = "blue"\n', "unknown key 'colour'; the keys are batches, bronze, dags"),
        ('bronze = "kits/x"\n', "no source; name the source datakit"),
        ('source = "kits/x"\ndbt_steps = ["build"]\n', "dbt_steps without a dbt_project"),
        ('source = "kits/x"\ndbt_project = "w"\ndbt_steps = ["load"]\n', "dbt step name 'load' is taken"),
    ],
)
def test_a_bad_declaration_is_one_line_naming_the_file(tmp_path: Path, table: str, expected: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[tool.datakits.pipelines.bad]\n{table}")
    with pytest.raises(PipelineError) as caught:
        declared_pipelines(tmp_path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{pyproject} [tool.datakits.pipelines.bad]: ")
    assert expected in message


def test_pipelines_lists_what_is_declared(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "framework.cli", "pipelines"], capture_output=True, text=True, cwd=project, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "shop\n  source   " in done.stdout and "pagila\n" in done.stdout
    assert f"declared {project / 'pyproject.toml'} [tool.datakits.pipelines.shop]" in done.stdout
    assert "declared entry point datakits.pipelines:pagila" in done.stdout


def test_a_dbt_steps_kinds_are_counted_in_plain_english() -> None:
    from framework.pipeline.results import DbtStep

    step = DbtStep(1.0, "gold", "gold", {"saved_query": {"success": 3}, "model": {"success": 2}})
    assert step.describe() == "2 models (2 success); 3 saved_queries (3 success)"
