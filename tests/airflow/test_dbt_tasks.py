"""dbt in the DAG, per node and per step, run for real with ``dag.test()`` in the project ``datakits init`` writes.

The project (a temp folder) gets a second pipeline, ``shaky``: a copy of its dbt project with three models
more in the marts step: ``flaky`` fails its first attempt only (a sequence counts the attempts; no rollback
resets a sequence), ``broken`` fails every attempt, ``after_broken`` reads it. In the project's own pytest
(``datakit_airflow`` runs the DAGs of its DAG folder), on the local PostgreSQL:

1. ``stack_shop_pipeline`` (``dbt_tasks`` left out: per node): the marts step is a task group with a task
   per model; the run succeeds;
2. ``shop_steps`` (``pipeline_dag(..., dbt_tasks="step")``): one task ``marts``; the same rows per layer;
3. ``shaky_pipeline`` (``dbt_retries = 1``): ``flaky`` fails, is retried and succeeds (two tries);
   ``broken`` fails its two tries; only what is downstream of it (``after_broken``, validate, summary)
   does not run; ``customer_orders`` is built.

dbt parses each project once in that process (a spy on the runner's parse counts the calls): the DAG file's
planning parses it, every node task after uses the kept parse.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework import Database, PipelineError, get_pipeline, load_datakit, pipeline_dag, stage_folder
from framework.cli.init import init_project
from framework.dbt.nodes import plan_nodes

EXPECTED = {"bronze": {"customers": 3, "orders": 4}, "marts": {"customer_orders": 3}}

FLAKY = """{{ config(pre_hook=before_begin("create sequence if not exists public.flaky_attempts")) }}
-- fails its first attempt only: the sequence counts the attempts, and no rollback resets a sequence
select 1 / (nextval('public.flaky_attempts') - 1) as attempt
"""
BROKEN = "-- fails every attempt\nselect 1 / cast(random() * 0 as integer) as never\n"
AFTER_BROKEN = "select * from {{ ref('broken') }}\n"

SHAKY = """
[tool.datakits.pipelines.shaky]
source = "kits/stack_shop_source"
dbt_project = "shaky_warehouse"
dbt_steps = ["marts"]
layers = ["kits/stack_shop_marts"]
dbt_retries = 1
"""

# a DAG file names Airflow: Airflow's safe mode skips a file that does not say "airflow" and "dag"
DAG_FILE = '"""An Airflow DAG."""\nfrom framework import pipeline_dag\n\npipeline_dag({})\n'
STEPS_DAG = DAG_FILE.format('"stack_shop", dag_id="shop_steps", dbt_tasks="step"')
SHAKY_DAG = DAG_FILE.format('"shaky"')

INNER_TEST = """
import json
import os

import framework.dbt.runner as runner

PARSED = []
_parse = runner._parse


def counting_parse(project, *args, **kwargs):
    PARSED.append(project.name)
    return _parse(project, *args, **kwargs)


def test_the_dags(datakit_airflow):
    runner._parse = counting_parse  # a spy: dbt parses for real
    source = os.environ["SHOP_SOURCE"]
    out = {}
    dags = [("stack_shop_pipeline", "stack_shop"), ("shop_steps", "stack_shop"), ("shaky_pipeline", "shaky")]
    for dag_id, pipeline in dags:
        connections = {f"{pipeline}_source": source, f"{pipeline}_warehouse": os.environ["SHOP_WH_" + dag_id]}
        run = datakit_airflow.run_dag(dag_id, conf={"batch_id": "b1"}, connections=connections, check=False)
        out[dag_id] = {
            "state": run.state,
            "states": run.states(),
            "errors": {t.name: t.error for t in run.failed},
            "rows": run.xcoms.get("summary", {}).get("rows"),
            "tries": {t.name: t.tries for t in run.tasks},
        }
    out["parsed"] = PARSED
    with open(os.environ["SHOP_OUT"], "w") as file:
        json.dump(out, file)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dbt_tasks") / "stack_shop"
    init_project(root)
    shaky = root / "shaky_warehouse"
    shutil.copytree(root / "warehouse", shaky)
    models = shaky / "models" / "marts"
    (models / "flaky.sql").write_text(FLAKY)
    (models / "broken.sql").write_text(BROKEN)
    (models / "after_broken.sql").write_text(AFTER_BROKEN)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace("\n[tool.pytest.ini_options]", SHAKY + "\n[tool.pytest.ini_options]"))
    (root / "dags" / "shop_steps.py").write_text(STEPS_DAG)
    (root / "dags" / "shaky_pipeline.py").write_text(SHAKY_DAG)
    return root


@pytest.fixture(scope="module")
def databases(servers: Any, project: Path) -> Iterator[dict[str, Database]]:
    _, run = servers.get("postgres_local")
    names = ("source", "stack_shop_pipeline", "shop_steps", "shaky_pipeline")
    made = {name: run.create_database(f"dt_{name}"[:24].rstrip("_")) for name in names}
    stage_folder(project / "data", load_datakit(project / "kits" / "stack_shop_source"), made["source"])
    yield made
    for database in made.values():
        run.drop(database)


def test_a_step_renders_as_a_task_per_node_in_dependency_order(project: Path) -> None:
    spec = get_pipeline("shaky", start=project)
    assert spec.dbt_tasks == "node" and spec.dbt_retries == 1
    plan = plan_nodes(spec.project_path(), "marts")
    assert [(t.name, t.resource_type) for t in plan] == [
        ("broken", "model"),
        ("customer_orders", "model"),
        ("flaky", "model"),
        ("after_broken", "model"),
    ]
    assert plan[-1].upstream == ("model.stack_shop_warehouse.broken",)
    assert plan_nodes(spec.project_path(), "marts") == plan  # kept: in this process, and on disk for the next
    extra = spec.project_path() / "models" / "marts" / "extra.sql"
    extra.write_text("select * from {{ ref('flaky') }}\n")
    try:  # a changed project is planned again, never from a kept plan
        again = {t.name: t.upstream for t in plan_nodes(spec.project_path(), "marts")}
        assert again["extra"] == ("model.stack_shop_warehouse.flaky",)
    finally:
        extra.unlink()
    assert plan_nodes(spec.project_path(), "marts") == plan
    dag = pipeline_dag(spec, dag_id="shaky_nodes")
    tasks = {t.task_id: t for t in dag.tasks}
    assert list(tasks) == [
        "deploy",
        "tables",
        "load",
        "marts.broken",
        "marts.customer_orders",
        "marts.flaky",
        "marts.after_broken",
        "validate",
        "summary",
    ]
    assert tasks["marts.after_broken"].upstream_task_ids == {"marts.broken"}
    assert tasks["marts.customer_orders"].upstream_task_ids == {"load"}
    assert {tasks[f"marts.{name}"].retries for name in ("broken", "flaky", "after_broken")} == {1}
    steps = pipeline_dag(spec, dag_id="shaky_steps", dbt_tasks="step", dbt_retries=3)
    assert [t.task_id for t in steps.tasks] == ["deploy", "tables", "load", "marts", "validate", "summary"]
    assert steps.task_dict["marts"].retries == 3
    with pytest.raises(PipelineError, match=r"^dbt_tasks='model'; use one of 'node', 'step'$"):
        pipeline_dag(spec, dag_id="shaky_wrong", dbt_tasks="model")


def test_per_node_and_per_step_agree_and_a_failing_model_stops_only_its_downstream(
    project: Path, databases: dict[str, Database]
) -> None:
    (project / "tests" / "test_the_dags.py").write_text(INNER_TEST)
    out = project / "dags.json"
    env = {**os.environ, "SHOP_OUT": str(out), "SHOP_SOURCE": databases["source"].url.render_as_string(False)}
    env.update({f"SHOP_WH_{dag_id}": databases[dag_id].url.render_as_string(False) for dag_id in databases})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_the_dags.py"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=project,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    found = json.loads(out.read_text())

    nodes, steps, shaky = found["stack_shop_pipeline"], found["shop_steps"], found["shaky_pipeline"]
    assert nodes["state"] == "success" and steps["state"] == "success"
    assert "marts.customer_orders" in nodes["states"] and "marts" not in nodes["states"]
    assert "marts" in steps["states"] and "marts.customer_orders" not in steps["states"]
    assert nodes["rows"] == steps["rows"] == EXPECTED

    assert shaky["state"] == "failed"
    states = shaky["states"]
    assert states["marts.flaky"] == "success" and shaky["tries"]["marts.flaky"] == 2
    assert states["marts.broken"] == "failed" and shaky["tries"]["marts.broken"] == 2
    assert "division by zero" in shaky["errors"]["marts.broken"]
    assert states["marts.customer_orders"] == "success"
    assert {states[name] for name in ("marts.after_broken", "validate", "summary")} == {"upstream_failed"}
    assert {name: state for name, state in states.items() if state == "failed"} == {"marts.broken": "failed"}

    assert sorted(found["parsed"]) == ["shaky_warehouse", "warehouse"]  # once per project, not per task


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"dbt_tasks": "model"}, "dbt_tasks = 'model'; use one of 'node', 'step'"),
        ({"dbt_retries": -1}, "dbt_retries = -1; give a whole number, 0 or more (e.g. 2)"),
        ({"dbt_retries": "2"}, "dbt_retries = '2'; give a whole number, 0 or more (e.g. 2)"),
    ],
)
def test_a_wrong_dbt_tasks_or_dbt_retries_is_one_line_naming_the_key_and_the_file(
    tmp_path: Path, keys: dict[str, Any], message: str
) -> None:
    from framework.pipeline.declared import pipeline_from_mapping

    where = str(tmp_path / "pyproject.toml")
    with pytest.raises(PipelineError) as caught:
        pipeline_from_mapping("shop", {"source": "kits/shop", **keys}, tmp_path, where)
    assert str(caught.value) == f"{where} [tool.datakits.pipelines.shop]: {message}"
