"""Pagila, source to gold, on Airflow 3: the library's pipeline steps as TaskFlow tasks.

    deploy -> tables -> load.expand(table=...) -> dbt_silver -> dbt_gold -> validate -> summary

Where the data is: the Airflow connections ``pagila_source`` and ``pagila_warehouse``
(``AIRFLOW_CONN_PAGILA_SOURCE=postgresql://user:password@host:5432/pagila``); a run's params
``source_conn_id`` / ``warehouse_conn_id`` name other connections. The batch id is the run id unless
the ``batch_id`` param gives one; a rerun with the same batch id changes no row. A ``load`` whose worker
died (a killed container, a lost machine) is retried, on any worker: its table's batch is one transaction,
so the dead attempt left nothing and the retry loads it whole. Every task returns a
small JSON result (the XCom); databases appear in results and logs with the password hidden.

Parsing this file touches no database: the tasks only read connections when they run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import Connection, Param, dag, get_current_context, task

from framework import (
    DeployStep,
    PipelineSummary,
    dbt_gold,
    dbt_silver,
    deploy_warehouse,
    load_bronze_table,
    summarize_warehouse,
    tables_to_load,
    url_from_connection,
    validate_warehouse,
)

log = logging.getLogger(__name__)


def _url(role: str) -> str:
    """The URL of the ``source`` or ``warehouse`` connection this run uses (never logged)."""
    params = get_current_context()["params"]
    return url_from_connection(Connection.get(params[f"{role}_conn_id"]))


def _batch_id() -> str:
    context = get_current_context()
    return str(context["params"].get("batch_id") or context["run_id"])


@dag(
    dag_id="pagila_pipeline",
    schedule=None,
    catchup=False,
    tags=["datakits", "pagila"],
    doc_md=__doc__,
    params={
        "source_conn_id": Param("pagila_source", type="string", description="Connection of the Pagila source"),
        "warehouse_conn_id": Param("pagila_warehouse", type="string", description="Connection of the warehouse"),
        "batch_id": Param(None, type=["null", "string"], maxLength=64, description="Default: the run id"),
    },
)
def pagila_pipeline() -> None:
    @task
    def deploy() -> dict[str, Any]:
        result = deploy_warehouse(_url("warehouse"))
        log.info(
            "deployed bronze into %s: %d created, %d there", result.warehouse, len(result.created), len(result.existing)
        )
        return result.to_dict()

    @task
    def tables() -> list[str]:
        return tables_to_load(_url("source"))

    @task(map_index_template="{{ table_name }}", retries=2, retry_delay=timedelta(seconds=5))
    def load(table: str) -> dict[str, Any]:
        get_current_context()["table_name"] = table  # type: ignore[typeddict-unknown-key]
        result = load_bronze_table(_url("source"), _url("warehouse"), table, _batch_id())
        log.info("%s: %s", table, "batch already loaded" if result.skipped else f"{result.rows_written} rows")
        return result.to_dict()

    @task
    def silver() -> dict[str, Any]:
        return dbt_silver(_url("warehouse")).to_dict()

    @task
    def gold() -> dict[str, Any]:
        return dbt_gold(_url("warehouse")).to_dict()

    @task
    def validate() -> dict[str, Any]:
        return validate_warehouse(_url("warehouse")).to_dict()

    @task
    def summary(
        deployed: dict[str, Any],
        loads: list[dict[str, Any]],
        built_silver: dict[str, Any],
        built_gold: dict[str, Any],
        validated: dict[str, Any],
    ) -> dict[str, Any]:
        steps = {
            "deploy": DeployStep.from_dict(deployed).seconds,
            "load": sum(float(one["seconds"]) for one in loads),  # the tasks' own seconds, added up
            "dbt_silver": float(built_silver["seconds"]),
            "dbt_gold": float(built_gold["seconds"]),
            "validate": float(validated["seconds"]),
        }
        result: PipelineSummary = summarize_warehouse(_url("warehouse"), steps)
        log.info("pipeline summary\n%s", result.table())
        return result.to_dict()

    deployed = deploy()
    names = tables()
    deployed >> names
    loaded = load.expand(table=names)
    built_silver = silver()
    loaded >> built_silver
    built_gold = gold()
    built_silver >> built_gold
    validated = validate()
    built_gold >> validated
    summary(deployed, loaded, built_silver, built_gold, validated)


pagila_pipeline()
