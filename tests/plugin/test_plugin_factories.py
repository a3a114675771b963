"""factory_boy factories create into the test's session and their rows go with its rollback."""

from __future__ import annotations

import pytest

from pytest_datakits import current_session
from pytest_datakits.factories import bind_factories

SUITE = """
import factory
import pytest
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import func, select

from datakits.pagila_bronze import Actor, Customer
from pytest_datakits import current_session


class CustomerFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Customer

    customer_id = factory.Sequence(lambda n: n + 1)
    store_id = 1
    first_name = factory.Sequence(lambda n: f"first {n}")
    last_name = "Doe"
    address_id = 1
    dk_batch_id = "b1"
    dk_source_table = "customer"
    dk_record_hash = "h" * 64


class ActorFactory(SQLAlchemyModelFactory):  # names the session itself, and commits
    class Meta:
        model = Actor
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "commit"

    actor_id = factory.Sequence(lambda n: n + 1)
    first_name = "a"
    last_name = "b"
    dk_batch_id = "b1"
    dk_source_table = "actor"
    dk_record_hash = "h" * 64


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("n", range(3))
def test_create_batch_lands_in_the_test(datakit_factories, datakit_session, n):
    assert count(datakit_session, Customer) == 0
    customers = CustomerFactory.create_batch(50)
    assert all(c.customer_id for c in customers)  # flushed: the rows are in the database
    assert count(datakit_session, Customer) == 50
    assert CustomerFactory in datakit_factories.bound and datakit_factories.session is datakit_session


@pytest.mark.parametrize("n", range(2))
def test_a_factory_that_commits(datakit_session, n):
    assert count(datakit_session, Actor) == 0
    ActorFactory.create_batch(3)
    assert count(datakit_session, Actor) == 3
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["n0", "n2"])
def test_factories_use_the_test_session(run, pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(SUITE)
    result = run(
        "--datakit=pagila_bronze", "--datakit-target=sqlite_memory", "--datakit-target=postgres_local", *workers
    )
    result.assert_outcomes(passed=10)


class _Session:
    """Stands in for a SQLAlchemy session: bind_factories only hands it over."""


def test_bind_factories_restores_the_factories() -> None:
    import factory
    from factory.alchemy import SQLAlchemyModelFactory

    from datakits.pagila_bronze import Store

    class StoreFactory(SQLAlchemyModelFactory):
        class Meta:
            model = Store

        store_id = factory.Sequence(int)

    session = _Session()
    with bind_factories(session) as bound:  # type: ignore[arg-type]
        assert StoreFactory in bound.bound
        assert StoreFactory._meta.sqlalchemy_session_factory() is session
        assert StoreFactory._meta.sqlalchemy_session_persistence == "flush"
        assert current_session() is session
    assert StoreFactory._meta.sqlalchemy_session_factory is None
    assert StoreFactory._meta.sqlalchemy_session_persistence is None
    with pytest.raises(RuntimeError, match="no datakit session is active"):
        current_session()
