"""The Airflow 3 DAG of any declared pipeline: one factory, so a DAG file is a few lines.

    from framework import pipeline_dag

    pipeline_dag("jaffle")       # the DAG ``jaffle_pipeline``, declared at import time, like @dag

    deploy -> tables -> load.expand(table=...) -> <each dbt step> -> validate -> summary

A dbt step is a task group with a task per model, seed and snapshot (``dbt_tasks="node"``, the default),
each building its node and then its tests (``dbt build --select <node>``), in the manifest's dependency
order, as astronomer-cosmos renders a project; or one task per step (``dbt_tasks="step"``). The nodes are
read from the project's kept parse when the DAG file is parsed (:func:`framework.dbt.nodes.plan_nodes`):
one parse per process, none per task. Every dbt task is retried (``dbt_retries``, default the pipeline's,
2): a model is built as a new table swapped in, a snapshot merges, so a retry after a lost worker rebuilds
it whole. A failing model fails its own task; only what is downstream of it does not run.

Where the data is: the Airflow connections ``<name>_source`` and ``<name>_warehouse``
(``AIRFLOW_CONN_JAFFLE_SOURCE=postgresql://user:password@host:5432/shop``); a run's params
``source_conn_id`` / ``warehouse_conn_id`` name other connections. The batch id is the run id unless
the ``batch_id`` param gives one; a rerun with the same batch id changes no row. Every task returns a
small JSON result (the XCom); databases appear in results and logs with the password hidden.

The pipeline is found by name from the DAG file's folder upward (its ``pyproject.toml``), then among
the entry points, when the file is parsed; parsing touches no database and loads no datakit: the
tasks read connections and datakits when they run. Airflow is imported only inside the factory.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..dbt.nodes import plan_nodes
from ..errors import PipelineError
from ..pipeline.declared import DBT_TASKS, Pipeline, get_pipeline
from ..pipeline.steps import (
    DeployStep,
    PipelineSummary,
    dbt_step,
    deploy_warehouse,
    load_bronze_table,
    summarize_warehouse,
    tables_to_load,
    url_from_connection,
    validate_warehouse,
)

__all__ = ["pipeline_dag"]

log = logging.getLogger(__name__)

#: ``node`` or ``step`` for every DAG of the factory in this environment, over the pipelines' declared ``dbt_tasks``
DBT_TASKS_ENV = "DATAKITS_DBT_TASKS"


def _caller_file(depth: int = 2) -> Path | None:
    """The file of the code that called the factory (the DAG file), to find its ``pyproject.toml``."""
    name = sys._getframe(depth).f_globals.get("__file__")
    return Path(name).resolve() if name else None


def pipeline_dag(
    pipeline: str | Pipeline = "pagila",
    *,
    dag_id: str | None = None,
    source_conn_id: str | None = None,
    warehouse_conn_id: str | None = None,
    tags: Iterable[str] = (),
    near: str | Path | None = None,
    dbt_tasks: str | None = None,
    dbt_retries: int | None = None,
    **dag_arguments: Any,
) -> Any:
    """The Airflow 3 DAG of a declared pipeline (a name, found from ``near``, default the calling file, or a Pipeline).

    ``dag_id`` defaults to ``<name>_pipeline``; the connections to ``<name>_source`` and ``<name>_warehouse``.
    ``dag_arguments`` go to Airflow's ``DAG`` as they are (``schedule``, ``start_date``, ...; default: no schedule).
    ``dbt_tasks`` (``"node"`` or ``"step"``) and ``dbt_retries`` default to the pipeline's declared keys;
    the environment variable ``DATAKITS_DBT_TASKS`` overrides the declared ``dbt_tasks`` (a stack's, a benchmark's).
    """
    from airflow.sdk import Connection, Param, TaskGroup, dag, get_current_context, task

    spec = get_pipeline(pipeline, start=near or _caller_file())
    rendering = dbt_tasks or os.environ.get(DBT_TASKS_ENV, "").strip() or spec.dbt_tasks
    if rendering not in DBT_TASKS:
        where = "dbt_tasks" if dbt_tasks else DBT_TASKS_ENV
        raise PipelineError(f"{where}={rendering!r}; use one of {', '.join(map(repr, DBT_TASKS))}")
    retries = spec.dbt_retries if dbt_retries is None else dbt_retries
    source_id = source_conn_id or f"{spec.name}_source"
    warehouse_id = warehouse_conn_id or f"{spec.name}_warehouse"

    # every task is retried: each is idempotent (deploy creates what is missing, tables/validate/summary only
    # read), so a task lost to its worker, or to an API server too busy to answer its start, is simply run again
    AGAIN: dict[str, Any] = {"retries": 2, "retry_delay": timedelta(seconds=5)}

    def url(role: str) -> str:
        """The URL of the ``source`` or ``warehouse`` connection this run uses (never logged)."""
        params = get_current_context()["params"]
        return url_from_connection(Connection.get(params[f"{role}_conn_id"]))

    def batch_id() -> str:
        context = get_current_context()
        return str(context["params"].get("batch_id") or context["run_id"])

    dag_arguments.setdefault("schedule", None)
    dag_arguments.setdefault("catchup", False)
    dag_arguments.setdefault("doc_md", f"Pipeline {spec.name} ({spec.declared_in}), source to gold.\n\n{__doc__}")

    @dag(
        dag_id=dag_id or f"{spec.name}_pipeline",
        tags=["datakits", spec.name, *tags],
        params={
            "source_conn_id": Param(source_id, type="string", description=f"Connection of the {spec.name} source"),
            "warehouse_conn_id": Param(warehouse_id, type="string", description="Connection of the warehouse"),
            "batch_id": Param(None, type=["null", "string"], maxLength=64, description="Default: the run id"),
        },
        **dag_arguments,
    )
    def medallion() -> None:
        # one XCom per task, its JSON result: a task typed to return a dict would push each of its keys too
        @task(multiple_outputs=False, **AGAIN)
        def deploy() -> dict[str, Any]:
            result = deploy_warehouse(url("warehouse"), spec)
            created, there = len(result.created), len(result.existing)
            log.info("deployed into %s: %d created, %d there", result.warehouse, created, there)
            return result.to_dict()

        @task(**AGAIN)
        def tables() -> list[str]:
            return tables_to_load(url("source"), spec)

        # a load whose worker died (a killed container, a lost machine) is retried on any worker: its batch is one
        # transaction, so the dead attempt left nothing and the retry loads the table whole
        @task(
            map_index_template="{{ table_name }}", multiple_outputs=False, retries=2, retry_delay=timedelta(seconds=5)
        )
        def load(table: str) -> dict[str, Any]:
            get_current_context()["table_name"] = table  # type: ignore[typeddict-unknown-key]
            result = load_bronze_table(url("source"), url("warehouse"), table, batch_id(), spec)
            log.info("%s: %s", table, "batch already loaded" if result.skipped else f"{result.rows_written} rows")
            return result.to_dict()

        # a dbt task whose worker died is retried: a model is a new table swapped in at its end, a snapshot one
        # merge, each in a transaction; so the dead attempt left the old table, and the retry builds it whole
        @task(multiple_outputs=False, retries=retries, retry_delay=timedelta(seconds=5))
        def dbt_build(name: str, node: str | None = None) -> dict[str, Any]:
            return dbt_step(url("warehouse"), name, spec, node=node).to_dict()

        def dbt_group(name: str) -> tuple[Any, list[Any]]:
            """The step as a task group, a task per node, upstream first; the group and its tasks' results."""
            plan = plan_nodes(spec.project_path(), spec.dbt_step(name).select)
            with TaskGroup(group_id=name, tooltip=f"dbt build of {name}, node by node") as group:
                made: dict[str, Any] = {}
                for node in plan:
                    one = dbt_build.override(task_id=node.name)(name, node.select)
                    for up in node.upstream:
                        made[up] >> one
                    made[node.unique_id] = one
            return group, list(made.values())

        @task(multiple_outputs=False, **AGAIN)
        def validate() -> dict[str, Any]:
            return validate_warehouse(url("warehouse"), spec).to_dict()

        @task(multiple_outputs=False, **AGAIN)
        def summary(deployed: dict[str, Any], loads: list[dict[str, Any]], *built: dict[str, Any]) -> dict[str, Any]:
            steps = {
                "deploy": DeployStep.from_dict(deployed).seconds,
                "load": sum(float(one["seconds"]) for one in loads),  # the tasks' own seconds, added up
            }
            for step in built[:-1]:  # a step's task, or each of its node tasks: their seconds added up
                key = f"dbt_{step['layer']}"
                steps[key] = steps.get(key, 0.0) + float(step["seconds"])
            steps["validate"] = float(built[-1]["seconds"])
            result: PipelineSummary = summarize_warehouse(url("warehouse"), steps, spec)
            log.info("pipeline summary\n%s", result.table())
            return result.to_dict()

        deployed = deploy()
        names = tables()
        deployed >> names
        previous = load.expand(table=names)
        loaded = previous
        built = []
        for step in spec.dbt_steps:
            if rendering == "node":
                done, results = dbt_group(step.name)
            else:
                done = dbt_build.override(task_id=step.name)(step.name)
                results = [done]
            previous >> done
            built += results
            previous = done
        validated = validate()
        previous >> validated
        summary(deployed, loaded, *built, validated)  # type: ignore[arg-type]  # XComArgs, resolved at run time

    return medallion()
