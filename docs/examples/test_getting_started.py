"""The example of docs/getting-started.md; the test suite runs it (tests/plugin/test_plugin_docs.py).

Run it yourself, from the repository root, on SQLite and on the local PostgreSQL:

    pytest docs/examples/test_getting_started.py --datakit pagila_bronze \
        --datakit-target sqlite_memory --datakit-target postgres_local
"""

from __future__ import annotations

import factory
import pytest
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import func, select
from sqlmodel import Session

from datakits.pagila_bronze import Customer
from pytest_datakits import DatakitFactories, ProvisionedTarget


class CustomerFactory(SQLAlchemyModelFactory):
    """No session here: ``datakit_factories`` hands it the test's session."""

    class Meta:
        model = Customer

    customer_id = factory.Sequence(lambda n: n + 1)
    store_id = 1
    first_name = factory.Sequence(lambda n: f"Customer {n}")
    last_name = "Smith"
    address_id = 1
    dk_batch_id = "batch-1"
    dk_source_table = "customer"
    dk_record_hash = "0" * 64


def count_customers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_every_test_starts_empty(datakit_session: Session) -> None:
    assert count_customers(datakit_session) == 0


def test_commit_all_you_like(datakit_session: Session) -> None:
    datakit_session.add(CustomerFactory.build())
    datakit_session.commit()  # a savepoint inside the test's transaction, which is rolled back
    assert count_customers(datakit_session) == 1


def test_factories_create_into_the_test(datakit_factories: DatakitFactories) -> None:
    CustomerFactory.create_batch(50)
    assert count_customers(datakit_factories.session) == 50


@pytest.mark.datakit(engines="postgresql")
def test_only_on_postgresql(datakit_target: ProvisionedTarget, datakit_session: Session) -> None:
    assert datakit_target.engine == "postgresql"  # skipped on the other targets, with the reason
    assert datakit_session.scalar(select(func.version())).startswith("PostgreSQL")


@pytest.mark.datakit(isolation="fresh")
def test_a_database_of_its_own(datakit_target: ProvisionedTarget, datakit_session: Session) -> None:
    assert datakit_session.get_bind().engine.url.database != datakit_target.database.url.database
    datakit_session.add(CustomerFactory.build())
    datakit_session.commit()  # for real: this database is dropped after the test
    assert count_customers(datakit_session) == 1
