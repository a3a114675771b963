"""``--datakit-dbt-tests`` checks the data it is meant to check: dbt's tests run in a database of their
own, cloned from the template as it was built, never in a database a Python test of the same process
changed (an ``isolation="commit"`` test, whose clean-up empties the datakit's tables, goes first here).
A failing ``not_null``, source test and ``store_failures`` test fail; a warn-severity test that warns
passes with a ``DbtTestWarning`` showing its failing rows.
"""

from __future__ import annotations

import pytest

KIT = """
from sqlmodel import Field, SQLModel


class RawOrders(SQLModel, table=True):
    __tablename__ = "raw_orders"
    id: int = Field(primary_key=True)
    customer: str | None = None
    amount: int
"""

CONFTEST = """
from sqlalchemy import text


def pytest_datakit_fill_template(target, database):
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO raw_orders (id, customer, amount) VALUES "
                "(1, 'ann', 10), (2, NULL, 20), (3, 'bob', 30), (4, 'bob', 40)"
            )
        )
    engine.dispose()
"""

# first in the file, so first in the process: its clean-up empties raw_orders in this process's database
TESTS = """
import pytest
from sqlalchemy import text


@pytest.mark.datakit(isolation="commit")
def test_commit_isolation_goes_first(datakit_connection):
    assert datakit_connection.execute(text("SELECT count(*) FROM raw_orders")).scalar() == 4
"""

PROJECT = {
    "shop/dbt_project.yml": """name: shop
version: "1.0.0"
config-version: 2
profile: shop
flags:
  send_anonymous_usage_stats: false
""",
    "shop/models/sources.yml": """version: 2
sources:
  - name: shop
    schema: public
    tables:
      - name: raw_orders
        columns:
          - name: customer
            data_tests: [not_null]
""",
    "shop/models/orders.sql": "select id, customer, amount from {{ source('shop', 'raw_orders') }}\n",
    "shop/models/schema.yml": """version: 2
models:
  - name: orders
    columns:
      - name: id
        data_tests: [unique]
      - name: customer
        data_tests:
          - not_null
          - unique:
              config:
                severity: warn
      - name: amount
        data_tests:
          - accepted_values:
              arguments:
                values: [10, 20, 30]
              config:
                store_failures: true
""",
}

INI = "datakit_paths = kits/shop\ndatakit_dbt_projects = shop\ndatakit_dbt_tests = true"


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(**{"kits/shop/__init__": KIT}, test_orders=TESTS)
    pytester.makeconftest(CONFTEST)
    for name, body in PROJECT.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return pytester


def test_failing_dbt_tests_fail_after_a_commit_test_and_a_warning_shows_its_rows(shop, run) -> None:
    # warnings are errors in these runs (as dbt's --warn-error): here the dbt test's warning is shown
    shown = ["-W", "default::pytest_datakits.DbtTestWarning"]
    result = run("-rA", *shown, "--datakit-target", "postgres_local", ini=INI, timeout=600)
    for name in (
        "test_orders.py::test_commit_isolation_goes_first?postgres_local?",
        "dbt::orders::unique_orders_id?postgres_local?",
        "dbt::orders::unique_orders_customer?postgres_local?",  # warns
    ):
        result.stdout.fnmatch_lines([f"PASSED {name}"])
    for name in (
        "dbt::orders::not_null_orders_customer?postgres_local?",  # a model's test
        "dbt::*::source_not_null_shop_raw_orders_customer?postgres_local?",  # a source's test
        "dbt::orders::accepted_values_orders_amount__10__20__30?postgres_local?",  # store_failures
    ):
        result.stdout.fnmatch_lines([f"FAILED {name}*"])
    result.assert_outcomes(passed=3, failed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "dbt::orders::unique_orders_customer?postgres_local?",
            "*/shop:0: DbtTestWarning: dbt test unique_orders_customer warn: Got 1 result, configured to warn if != 0",
            "*failing rows (first 1):",
            "*unique_field | n_records",
            "*bob          | 2",
        ]
    )

    # with warnings as errors (this ini's filterwarnings), the warning fails its item, as dbt's --warn-error does
    strict = run("-k", "unique_orders_customer", "--datakit-target", "postgres_local", ini=INI, timeout=600)
    strict.assert_outcomes(failed=1, deselected=5)
    strict.stdout.fnmatch_lines(
        [
            "dbt test unique_orders_customer warn: Got 1 result, configured to warn if != 0",
            "failing rows (first 1):",
        ]
    )
    assert "Traceback" not in strict.stdout.str()
