"""The example of docs/pipeline.md: the Pagila DAG, source to gold, on a disposable PostgreSQL.

The suite runs it (tests/plugin/test_plugin_docs.py) as a user would:

    pytest docs/examples/airflow      # with datakit_airflow_dags_folder pointing at dags/
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from datakits.pagila_source.generate import generate_pagila
from framework import Database, open_target
from pytest_datakits.airflow import AirflowRunner


@pytest.fixture(scope="module")
def pagila() -> Iterator[Database]:
    """A database of its own on an embedded PostgreSQL, with generated Pagila in its source tables."""
    with open_target("postgres_embedded") as database:  # dropped, and the server stopped, at the end
        generate_pagila(database, scale=0.1, seed=1)
        yield database


def test_the_dag_takes_pagila_to_gold(datakit_airflow: AirflowRunner, pagila: Database) -> None:
    # the warehouse layers go beside the source, in schemas of their own
    connections = {"pagila_source": pagila, "pagila_warehouse": pagila}
    result = datakit_airflow.run_dag("pagila_pipeline", conf={"batch_id": "b1"}, connections=connections)

    assert set(result.states().values()) == {"success"}  # a failed task would have failed the test
    rows = result.xcoms["summary"]["rows"]
    assert rows["gold"]["fact_rental"] == rows["silver"]["rental"] == rows["bronze"]["rental"] > 0
    assert sum(name.startswith("load[") for name in result.states()) == 15  # one mapped load per table
