"""The example of docs/dbt.md; the test suite runs it (tests/plugin/test_plugin_dbt.py).

Tests that read what dbt built run in the default rollback isolation: the warehouse is in the
template already. A test that runs dbt itself asks for ``datakit_dbt`` and gets a fresh copy
of the template (dbt opens its own connections and commits).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from datakits.pagila_bronze import Customer
from pytest_datakits import DatakitDbt

pytestmark = pytest.mark.datakit(engines="postgresql")


def count(connection: Connection, sql: str) -> int:
    return int(connection.execute(text(f"SELECT count(*) FROM {sql}")).scalar_one())


def test_every_rental_is_a_fact(datakit_connection: Connection) -> None:
    assert count(datakit_connection, "gold.fact_rental") == count(datakit_connection, "public.rental") > 0


def test_each_customer_has_one_current_version(datakit_connection: Connection) -> None:
    customers = count(datakit_connection, "silver.customer")
    assert count(datakit_connection, "gold.dim_customer WHERE is_current") == customers


def test_a_new_bronze_batch_reaches_silver(datakit_session: Session, datakit_dbt: DatakitDbt) -> None:
    """Write a bronze row as a loader would, commit it, build the one silver model, read it back."""
    datakit_session.add(
        Customer(
            customer_id=1,  # a newer version of customer 1
            store_id=1,
            first_name="  Ada ",
            last_name="Lovelace",
            email="",
            address_id=1,
            activebool=True,
            active=1,
            create_date=date(2024, 1, 1),
            dk_loaded_at=datetime.now(UTC),
            dk_batch_id="b2",
            dk_source_table="customer",
            dk_record_hash="0" * 64,
        )
    )
    datakit_session.commit()
    result = datakit_dbt.build(select="customer")  # the model and its tests
    assert result.node("customer").status == "success" and not result.failed
    row = datakit_session.execute(text("SELECT first_name, email FROM silver.customer WHERE customer_id = 1")).one()
    assert tuple(row) == ("Ada", None)
