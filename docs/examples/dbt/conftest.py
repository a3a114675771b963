"""The conftest.py of docs/dbt.md's example: the run's template gets Pagila-shaped data in bronze.

The tests of the folder (test_warehouse.py) run with the bronze and source datakits deployed and
the warehouse project built into the template once per run:

    pytest docs/examples/dbt --datakit pagila_source --datakit pagila_bronze \
        --datakit-dbt dbt/pagila_warehouse --datakit-target postgres_local
"""

from __future__ import annotations

from datakits.pagila_source.generate import generate_pagila
from framework import Database, TargetConfig, load_datakit_tables


def pytest_datakit_fill_template(target: TargetConfig, database: Database) -> None:
    """Once per run, before the workers copy the template: Pagila at a tenth of its size, loaded into bronze."""
    if target.engine != "postgresql":
        return  # dbt runs on PostgreSQL
    generate_pagila(database, scale=0.1, seed=1)  # into the source tables (pagila_source)
    results = load_datakit_tables("pagila_source", "pagila_bronze", source=database, target=database, batch_id="b1")
    assert all(r.success for r in results), [r.error for r in results if r.error]
