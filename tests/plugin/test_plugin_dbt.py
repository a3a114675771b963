"""dbt in the plugin, as users run it: a template filled with the real Pagila by a conftest.py hook,
the warehouse built into it once per run with ``--datakit-dbt``, tests reading gold in rollback
isolation, and a test that makes rows with factories, commits, and builds silver with
``datakit_dbt`` in a fresh database; with and without ``-n 2``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "dbt" / "pagila_warehouse"

CONFTEST = """
from framework import load_datakit_tables

SOURCE = {source!r}  # the real Pagila, loaded by the outer test run


def pytest_datakit_fill_template(target, database):
    if target.engine != "postgresql":
        return  # dbt runs on PostgreSQL; elsewhere the template keeps its empty tables
    results = load_datakit_tables("pagila_source", "pagila_bronze", source=SOURCE, target=database, batch_id="b1")
    assert all(r.success for r in results)
"""

GOLD = """
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.datakit(engines="postgresql")


def count(connection, table):
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_gold_is_built_in_the_template(datakit_connection):
    assert count(datakit_connection, "gold.fact_rental") == 16044
    assert count(datakit_connection, "gold.dim_customer WHERE is_current") == 599


def test_a_rollback_test_may_change_gold(datakit_connection):
    datakit_connection.execute(text("DELETE FROM gold.fact_rental WHERE rental_id < 1000"))
    assert count(datakit_connection, "gold.fact_rental") < 16044


def test_and_the_next_one_sees_it_whole(datakit_connection):
    assert count(datakit_connection, "gold.fact_rental") == 16044
"""

SILVER = """
from sqlalchemy import text

from datakits.pagila_source.factories import CustomerFactory, RentalFactory
from framework import load_datakit_tables


def count(connection, table):
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_rows_made_by_factories_reach_silver(datakit_factories, datakit_connection, datakit_dbt):
    assert datakit_dbt.database.name.endswith("_dbt")  # fresh, under the same name in each dbt test
    customer = CustomerFactory(first_name="  Zoe  ", email="")
    rentals = RentalFactory.create_batch(3, customer=customer)
    datakit_factories.session.commit()
    db = datakit_dbt.database
    loaded = load_datakit_tables("pagila_source", "pagila_bronze", source=db, target=db, batch_id="b2")
    assert all(r.success for r in loaded)
    result = datakit_dbt.build(select="silver_core")
    assert len(result.of_type("model")) == 15 and not result.failed
    row = datakit_connection.execute(
        text("SELECT first_name, email FROM silver.customer WHERE customer_id = :c"), {"c": customer.customer_id}
    ).one()
    assert tuple(row) == ("Zoe", None)  # the latest batch wins, trimmed, empty text as NULL
    ids = [r.rental_id for r in rentals]
    found = datakit_connection.execute(
        text("SELECT count(*) FROM silver.rental WHERE customer_id = :c AND rental_id = ANY(:ids)"),
        {"c": customer.customer_id, "ids": ids},
    ).scalar()
    assert found == 3


def test_the_next_dbt_test_starts_from_the_template(datakit_connection, datakit_dbt):
    assert count(datakit_connection, "br__pagila__public.rental") == 16044
    result = datakit_dbt.build(select="fact_rental")
    assert result.node("fact_rental").rows_affected == 16044


def test_a_failing_dbt_test_is_one_line(datakit_connection, datakit_dbt):
    datakit_connection.execute(text("UPDATE br__pagila__public.customer SET store_id = 999 WHERE customer_id = 1"))
    datakit_dbt.build(select="customer")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, pagila_database) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.format(source=pagila_database.url.render_as_string(hide_password=False)))
    pytester.makepyfile(test_gold=GOLD, test_silver=SILVER)
    return pytester


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_dbt_suite_builds_once_and_tests_read_gold_and_build_silver(suite, run, workers: list[str]) -> None:
    ini = f"datakit_paths = pagila_source pagila_bronze\ndatakit_dbt_projects = {PROJECT}"
    result = run(
        *workers, "-rs", "--datakit-target", "postgres_local", "--datakit-target", "sqlite_memory", ini=ini, timeout=600
    )
    result.stdout.fnmatch_lines(
        [
            f"datakit dbt projects (from ini datakit_dbt_projects (tox.ini)): {PROJECT}",
            "dbt build on postgresql*/dk_*_t0_*_dbt: 1 node(s) failed: test "
            "relationships_customer_store_id__store_id__ref_store_ fail: Got 1 result, configured to fail if != 0",
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 5 and outcomes["failed"] == 1
    # on SQLite: the gold tests by their marker, the dbt tests with dbt's reason
    assert outcomes["skipped"] == 6
    result.stdout.fnmatch_lines(["*dbt here runs on PostgreSQL targets (postgres_embedded, *), not sqlite_memory*"])


def test_a_dbt_test_without_a_project_fails_in_one_line(pytester: pytest.Pytester, run) -> None:
    pytester.makepyfile("def test_needs_a_project(datakit_dbt):\n    pass\n")
    result = run("--datakit-target", "postgres_local")
    result.stdout.fnmatch_lines(
        ["*datakit_dbt needs a dbt project: give --datakit-dbt PATH, ini datakit_dbt_projects*"]
    )
    assert result.parseoutcomes()["errors"] == 1


def test_a_path_that_is_not_a_dbt_project_is_a_usage_error(pytester: pytest.Pytester, run) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = run("--datakit-dbt", "nowhere")
    result.stderr.fnmatch_lines(["*--datakit-dbt: 'nowhere' is not a dbt project (no dbt_project.yml in *nowhere)"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "dbt"


def test_the_docs_example_runs_on_the_embedded_server(pytester: pytest.Pytester, run) -> None:
    pytester.makeconftest((EXAMPLE / "conftest.py").read_text())
    pytester.makepyfile(test_warehouse=(EXAMPLE / "test_warehouse.py").read_text())
    ini = f"datakit_paths = pagila_source pagila_bronze\ndatakit_dbt_projects = {PROJECT}"
    result = run("--datakit-target", "postgres_embedded", ini=ini, timeout=600)
    result.assert_outcomes(passed=3)
