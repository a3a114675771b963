"""The Pagila DAG for real: ``dag.test()`` of ``dags/pagila_pipeline.py`` through ``datakit_airflow``.

Per warehouse target (``postgres_embedded``, the server at 127.0.0.1:5432), once: the real Pagila
(loaded on the local server, ``pagila_database``) is the source; three runs of the DAG:

1. batch ``b1``: every task succeeds; gold holds what the dbt issue's build holds; no password in
   any log line or XCom (the connections carry one; trust auth ignores it);
2. batch ``b1`` again: every load says the batch was there; no row of bronze, silver, snapshots or
   gold changed;
3. the source connection pointing at a database that does not exist: the run fails in ``tables``,
   the first task that reads the source, with one line; the warehouse is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from framework import Database
from pytest_datakits.airflow import AirflowRunner

WAREHOUSES = ["postgres_embedded", "postgres_local"]
PASSWORD = "pw-that-must-never-show-2718"
SCHEMAS = ("br__pagila__public", "silver", "snapshots", "gold")


def with_password(database: Database, name: str | None = None) -> URL:
    url = database.url.set(password=PASSWORD)
    return url.set(database=name) if name else url


def fingerprint(database: Database) -> dict[str, tuple[int, str]]:
    """Every table of the warehouse's layers: its row count and an md5 of all its rows, in order."""
    engine = database.engine()
    found: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema = ANY(:schemas) AND table_type = 'BASE TABLE'"
                ),
                {"schemas": list(SCHEMAS)},
            ).all()
            for schema, table in tables:
                rows = "string_agg(t::text, '|' ORDER BY t::text)"
                sql = f'SELECT count(*), md5(coalesce({rows}, \'\')) FROM "{schema}"."{table}" t'
                count, digest = conn.execute(text(sql)).one()
                found[f"{schema}.{table}"] = (count, digest)
    finally:
        engine.dispose()
    return found


def scalar(database: Database, sql: str) -> Any:
    engine = database.engine()
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=WAREHOUSES)
def warehouse(request: pytest.FixtureRequest, servers: Any) -> Iterator[Database]:
    _, run = servers.get(request.param)
    database = run.create_database("dag_warehouse")
    yield database
    run.drop(database)


def test_the_pagila_dag_runs_reruns_and_fails_cleanly(
    warehouse: Database, pagila_database: Database, datakit_airflow: AirflowRunner
) -> None:
    connections = {"pagila_source": with_password(pagila_database), "pagila_warehouse": with_password(warehouse)}

    first = datakit_airflow.run_dag("pagila_pipeline", conf={"batch_id": "b1"}, connections=connections)
    states = first.states()
    assert set(states.values()) == {"success"}
    assert {"deploy", "tables", "validate", "summary"} <= set(states)
    # dbt per node (the default): a task per model and snapshot, upstream first, and the tests no model's task runs
    assert {"silver.customer", "silver.customer_snapshot", "silver.tests", "gold.fact_rental", "gold.tests"} <= set(
        states
    )
    order = list(states)  # by start: a node's task after those it reads
    assert order.index("silver.customer") < order.index("silver.customer_snapshot") < order.index("gold.dim_customer")
    assert {name for name in states if name.startswith("load[")} == {f"load[{i}]" for i in range(15)}
    summary = first.xcoms["summary"]
    assert summary["rows"]["gold"]["fact_rental"] == 16_044
    assert summary["rows"]["bronze"]["payment"] == summary["rows"]["silver"]["payment"] == 16_049
    assert scalar(warehouse, "SELECT count(*) FROM gold.dim_customer WHERE is_current") == 599
    assert PASSWORD not in first.log
    assert PASSWORD not in json.dumps(first.xcoms)
    before = fingerprint(warehouse)
    assert before["gold.fact_rental"][0] == 16_044

    second = datakit_airflow.run_dag("pagila_pipeline", conf={"batch_id": "b1"}, connections=connections)
    assert set(second.states().values()) == {"success"}
    loads = [value for name, value in second.xcoms.items() if name.startswith("load[")]
    assert len(loads) == 15 and all(load["skipped"] for load in loads)
    assert fingerprint(warehouse) == before

    missing = {**connections, "pagila_source": with_password(pagila_database, "dk_no_such_database")}
    third = datakit_airflow.run_dag("pagila_pipeline", conf={"batch_id": "b2"}, connections=missing, check=False)
    assert not third.success
    assert [task.name for task in third.failed] == ["tables"]
    assert third.task("deploy").state == "success"
    error = third.task("tables").error
    assert error is not None and "\n" not in error
    assert error.startswith("TargetUnreachable: ") and 'database "dk_no_such_database" does not exist' in error
    assert PASSWORD not in third.log
    assert fingerprint(warehouse) == before
