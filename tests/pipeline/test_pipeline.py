"""The pipeline's steps as plain functions (``framework.pipeline.steps``), without Airflow and without dbt.

On the local PostgreSQL, from the real Pagila: a table loads once per batch id (a rerun changes no
row, another batch id adds one), a source that is missing or empty fails in one line without the
password, results survive a JSON round trip (they are XComs), and Airflow connections turn into the
URLs the steps take and back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from framework import (
    Database,
    DbtStep,
    DeployStep,
    PipelineError,
    PipelineSummary,
    TableLoad,
    TargetUnreachable,
    ValidateStep,
    connection_uri,
    deploy_warehouse,
    get_pipeline,
    load_bronze_table,
    tables_to_load,
    url_from_connection,
)

SECRET = "pw-never-printed-1618"


@pytest.fixture
def warehouse(servers: Any) -> Iterator[Database]:
    _, run = servers.get("postgres_local")
    database = run.create_database("steps_warehouse")
    yield database
    run.drop(database)


def bronze_rental(database: Database) -> tuple[int, Any, int]:
    engine = database.engine()
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT count(*), max(dk_loaded_at), count(DISTINCT dk_batch_id) FROM br__pagila__public.rental")
            ).one()
            return int(row[0]), row[1], int(row[2])
    finally:
        engine.dispose()


def test_a_table_loads_once_per_batch_id(pagila_database: Database, warehouse: Database) -> None:
    deployed = deploy_warehouse(warehouse)
    assert len(deployed.created) == 15 and deployed.existing == []
    assert deploy_warehouse(warehouse).created == []  # idempotent
    assert tables_to_load(pagila_database)[:3] == ["actor", "address", "category"]

    first = load_bronze_table(pagila_database, warehouse, "rental", "b1")
    assert (first.rows_read, first.rows_written, first.skipped) == (16_044, 16_044, False)
    after_first = bronze_rental(warehouse)

    again = load_bronze_table(pagila_database, warehouse, "rental", "b1")
    assert again.skipped and again.rows_written == 0
    assert bronze_rental(warehouse) == after_first  # not one row moved, not even its load time

    other = load_bronze_table(pagila_database, warehouse, "rental", "b2")
    assert other.rows_written == 16_044
    assert bronze_rental(warehouse)[0::2] == (32_088, 2)


def test_a_missing_source_is_one_line_without_the_password(pagila_database: Database) -> None:
    missing = pagila_database.url.set(password=SECRET, database="dk_no_such_source")
    with pytest.raises(TargetUnreachable) as caught:
        tables_to_load(missing)
    message = str(caught.value)
    assert "\n" not in message and SECRET not in message
    assert 'database "dk_no_such_source" does not exist' in message


def test_a_source_without_the_tables_names_them(warehouse: Database) -> None:
    with pytest.raises(PipelineError, match=r"lacks 15 of the pagila_source tables \(actor, address"):
        tables_to_load(warehouse)


def test_a_missing_dbt_project_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"^no dbt project .*nowhere: no dbt_project.yml in .*; give the project"):
        get_pipeline("pagila").with_project(tmp_path / "nowhere").project_path()
    with pytest.raises(PipelineError, match=r"unknown pipeline 'nope'; use one of pagila"):
        get_pipeline("nope")


def test_results_are_json_and_read_back() -> None:
    results = [
        DeployStep(0.5, "postgresql+psycopg2://u:***@h/db", ["br.a"], ["br.b"]),
        TableLoad(0.2, "rental", "b1", 10, 10, False),
        DbtStep(3.0, "silver", "silver_core", {"model": {"success": 15}, "test": {"pass": 40}}),
        ValidateStep(1.0, {"pagila_gold": 7}),
        PipelineSummary(0.1, {"gold": {"fact_rental": 16_044}}, {"deploy": 0.5}),
    ]
    for result in results:
        assert type(result).from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert results[2].nodes == 55
    assert results[2].describe() == "15 models (15 success); 40 tests (40 pass)"
    table = results[4].table()
    assert "fact_rental" in table and "16,044" in table and "deploy" in table


def test_connections_turn_into_urls_and_back(pagila_database: Database) -> None:
    from airflow.sdk import Connection

    socket = Database(pagila_database.url.set(password=SECRET, host=None, query={"host": "/tmp/pg socket"}))
    for database in (Database(pagila_database.url.set(password=SECRET)), socket):
        connection = Connection(conn_id="pagila_source", uri=connection_uri(database))
        assert connection.password == SECRET
        url = url_from_connection(connection)
        assert url == database.url.render_as_string(hide_password=False)
    with pytest.raises(PipelineError, match=r"connection 'http_thing' is of type 'http'"):
        url_from_connection(Connection(conn_id="http_thing", uri="http://example.invalid/x"))
