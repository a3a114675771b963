"""The files ``datakits init`` writes: a new platform project, as Django's ``project_template`` does.

Templates are plain text here, so the wheel needs no data files for them. ``__NAME__`` is the
project's name, ``__LAYER__`` the dbt-built layer (``marts``, or ``staging`` for ``--from``);
:func:`fill` puts in the values of a :class:`Flavour`. The shared templates are here with those of the
example shop (:data:`EXAMPLE`); those of a project reflected from a database are in
:mod:`framework.cli.scaffold_from`. The generated parts (the dbt sources of the bronze datakit, the
contracts of the layer's kit) are made from the kits by :mod:`framework.dbt.generate` after the kits
are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PYPROJECT = """\
[project]
name = "__NAME__-platform"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["pytest-datakits[embedded,dbt,airflow,factories,pytest,files]"]

# The pipeline, source -> bronze -> __LAYER__: `datakits pipelines` lists it, dags/__NAME___pipeline.py schedules it,
# `datakits pipeline __NAME__ --source __SOURCE__ --target postgres_embedded` runs it.
[tool.datakits.pipelines.__NAME__]
source = "kits/__NAME___source"     # the datakit of what is read (__ABOUT_SOURCE__)
                                    # bronze: left out, so derived from the source (br____NAME____public)
dbt_project = "warehouse"           # builds the __LAYER__ from bronze
dbt_steps = ["__LAYER__"]               # dbt selections, built in order
layers = ["kits/__NAME_____LAYER__"]    # the contract of what dbt builds, validated after it
dags = "dags"

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = ["-ra"]
datakit_paths = ["kits/__NAME___source"]
datakit_targets = ["postgres_embedded"]
datakit_dbt_projects = ["warehouse"]
"""

GITIGNORE = """\
__pycache__/
.venv/
.pytest_cache/
"""

README = """\
# __NAME__: a data platform tested with pytest-datakits

Written by `datakits init`. Source -> bronze -> __LAYER__, declared in `pyproject.toml`:

__LAYOUT__
    warehouse/              the dbt project; its sources and contracts are generated from the kits:
                            datakits dbt contracts kits/__NAME_____LAYER__ --project warehouse
    dags/                   the Airflow DAG: `pipeline_dag("__NAME__")`
    tests/                  deploy, factory, dbt model and DAG tests on real, disposable databases

Run it:

    pytest -n 2
    datakits pipeline __NAME__ --source __SOURCE__ --target postgres_embedded
    datakits dags check
"""

EXAMPLE_LAYOUT = """\
    kits/__NAME___source/   the source datakit: the tables that land (data/*.csv fit it)
    kits/__NAME___marts/    the contract of the marts dbt builds (validated after each run)
    data/                   landing files, one <table>.csv per source table"""

SOURCE_INIT = '''\
"""The __NAME__ source system: the tables that land, as SQLModel classes (the source datakit)."""

__datakit_modules__ = ["models"]  # factories.py is for tests; the datakit is its models
'''

SOURCE_MODELS = '''\
"""The __NAME__ source's tables. Edit them to your system's; `datakits reflect URL` writes them from a database."""

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel


class Customer(SQLModel, table=True):
    """A customer of the shop."""

    __tablename__ = "customers"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=80)
    signed_up: date


class Order(SQLModel, table=True):
    """An order a customer placed."""

    __tablename__ = "orders"
    id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    amount: Decimal = Field(max_digits=10, decimal_places=2)
    ordered_at: datetime
'''

SOURCE_FACTORIES = '''\
"""factory_boy factories of the source tables, for tests (the datakit_factories fixture binds them)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from .models import Customer, Order


class CustomerFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Customer

    id = factory.Sequence(lambda n: 1000 + n)
    name = factory.Sequence(lambda n: f"customer {n}")
    signed_up = date(2024, 1, 1)


class OrderFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Order

    id = factory.Sequence(lambda n: 1000 + n)
    customer_id = factory.LazyAttribute(lambda o: CustomerFactory().id)
    amount = Decimal("10.00")
    ordered_at = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
'''

MARTS_INIT = '''\
"""The __NAME__ marts: what dbt builds from bronze (warehouse/models/marts), as a contract datakit."""
'''

MARTS_MODELS = '''\
"""The marts' tables: dbt builds them, `validate_deployment` checks them, `datakits dbt contracts` writes
their dbt contracts (warehouse/models/marts/_marts__models.yml) from these classes."""

from decimal import Decimal

from sqlmodel import Field, SQLModel


class CustomerOrders(SQLModel, table=True):
    """Each customer with the number and total of their orders."""

    __tablename__ = "customer_orders"
    __table_args__ = {"schema": "marts"}
    customer_id: int = Field(primary_key=True)
    name: str = Field(max_length=80)
    orders: int
    amount: Decimal = Field(max_digits=12, decimal_places=2)
'''

DBT_PROJECT = """\
name: __NAME___warehouse
version: "1.0.0"
config-version: 2
profile: __NAME___warehouse

model-paths: ["models"]
macro-paths: ["macros"]

models:
  __NAME___warehouse:
    __LAYER__:
      +schema: __LAYER__
      +materialized: table

flags:
  send_anonymous_usage_stats: false
"""

SCHEMA_MACRO = """\
{#- A model's schema is the one it names (__LAYER__), not <target schema>_<name>. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
"""

MART_SQL = """\
-- Each customer with the number and total of their orders; bronze keeps every batch, so take each key's latest.
with customers as (
    select distinct on (id) id, name
    from {{ source('__NAME___bronze', 'customers') }}
    order by id, dk_loaded_at desc
),

orders as (
    select distinct on (id) id, customer_id, amount
    from {{ source('__NAME___bronze', 'orders') }}
    order by id, dk_loaded_at desc
)

select
    c.id as customer_id,
    c.name,
    cast(count(o.id) as integer) as orders,
    cast(coalesce(sum(o.amount), 0) as numeric(12, 2)) as amount
from customers as c
left join orders as o on o.customer_id = c.id
group by c.id, c.name
"""

CUSTOMERS_CSV = """\
id,name,signed_up
1,Ann,2024-01-05
2,Bo,2024-02-11
3,Cy,2024-03-20
"""

ORDERS_CSV = """\
id,customer_id,amount,ordered_at
1,1,12.50,2024-03-01 10:00:00
2,1,7.25,2024-03-04 16:30:00
3,2,30.00,2024-03-09 09:15:00
4,3,5.00,2024-03-21 12:00:00
"""

DAG = '''\
"""The __NAME__ pipeline on Airflow 3: deploy -> tables -> load (mapped) -> __LAYER__ -> validate -> summary.

Connections ``__NAME___source`` and ``__NAME___warehouse``; params ``batch_id`` (default: the run id).
"""

from framework import pipeline_dag

pipeline_dag("__NAME__")
'''

CONFTEST = '''\
"""Once per run the template database gets __FILLED_WITH__ in its source tables, loaded into bronze;
the plugin then builds the dbt project into it (ini datakit_dbt_projects) before the workers copy it."""

from pathlib import Path

from framework import Database, TargetConfig, deploy_data_objects, derive_bronze, load_datakit, load_datakit_tables
__CONFTEST_IMPORTS__

ROOT = Path(__file__).resolve().parents[1]


def pytest_datakit_fill_template(target: TargetConfig, database: Database) -> None:
    source = load_datakit(ROOT / "kits" / "__NAME___source")
    bronze = derive_bronze(source)
__CONFTEST_FILL__
    deploy_data_objects(bronze, database)
    results = load_datakit_tables(source, bronze, source=database, target=database, batch_id="b1")
    assert all(r.success for r in results), [r.error for r in results if r.error]
'''

TEST_SOURCE = '''\
"""The source datakit deploys, and the landing files fit it."""

from sqlalchemy import text
from sqlalchemy.engine import Connection


def test_the_landing_files_are_in_the_source(datakit_connection: Connection) -> None:
    assert datakit_connection.execute(text("SELECT count(*) FROM customers")).scalar_one() == 3
    assert datakit_connection.execute(text("SELECT count(*) FROM orders")).scalar_one() == 4


def test_bronze_holds_batch_b1(datakit_connection: Connection) -> None:
    sql = "SELECT count(*) FROM br____NAME____public.orders WHERE dk_batch_id = 'b1'"
    assert datakit_connection.execute(text(sql)).scalar_one() == 4
'''

TEST_FACTORIES = '''\
"""Factories write rows into the test's own transaction; the rollback takes them away."""

from sqlmodel import Session, func, select

from __NAME___source.factories import OrderFactory
from __NAME___source.models import Customer, Order


def test_an_order_brings_its_customer(datakit_factories: object, datakit_session: Session) -> None:
    order = OrderFactory()
    assert datakit_session.get(Customer, order.customer_id) is not None
    assert datakit_session.scalar(select(func.count()).select_from(Order)) == 5  # 4 landed + this one
'''

TEST_MARTS = '''\
"""The marts dbt builds: read from the template, and rebuilt after a new bronze row (datakit_dbt)."""

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from pytest_datakits import DatakitDbt

pytestmark = pytest.mark.datakit(engines="postgresql")


def test_orders_per_customer(datakit_connection: Connection) -> None:
    rows = datakit_connection.execute(text("SELECT name, orders FROM marts.customer_orders ORDER BY name")).all()
    assert [tuple(r) for r in rows] == [("Ann", 2), ("Bo", 1), ("Cy", 1)]


def test_a_new_bronze_order_reaches_the_mart(datakit_session: Session, datakit_dbt: DatakitDbt) -> None:
    datakit_session.execute(
        text(
            "INSERT INTO br____NAME____public.orders (id, customer_id, amount, ordered_at, dk_loaded_at, "
            "dk_batch_id, dk_source_table, dk_record_hash) "
            "VALUES (5, 2, 1.50, now(), now(), 'b2', 'orders', repeat('0', 64))"
        )
    )
    datakit_session.commit()
    result = datakit_dbt.build(select="customer_orders")
    assert not result.failed
    row = datakit_session.execute(text("SELECT orders, amount FROM marts.customer_orders WHERE name = 'Bo'")).one()
    assert (row.orders, str(row.amount)) == (2, "31.50")
'''

TEST_DAG = '''\
"""The DAG of dags/__NAME___pipeline.py, run for real with dag.test(): __DAG_WHAT__ to __LAYER__, twice."""

from pathlib import Path

__DAG_IMPORTS__
from pytest_datakits.airflow import AirflowRunner

ROOT = Path(__file__).resolve().parents[1]


def test_the_dag_takes___DAG_TEST__(datakit_airflow: AirflowRunner) -> None:
    with open_target("postgres_embedded", "dag_source") as source, open_target("postgres_embedded", "dag_dw") as dw:
__DAG_FILL__
        connections = {"__NAME___source": source, "__NAME___warehouse": dw}
        first = datakit_airflow.run_dag("__NAME___pipeline", conf={"batch_id": "b1"}, connections=connections)
        rows = first.xcoms["summary"]["rows"]
__DAG_EXPECT__
        again = datakit_airflow.run_dag("__NAME___pipeline", conf={"batch_id": "b1"}, connections=connections)
        assert again.xcoms["summary"]["rows"] == rows  # the same batch again changes no row
'''

#: the files every project has: path -> template
COMMON: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    ".gitignore": GITIGNORE,
    "README.md": README,
    "warehouse/dbt_project.yml": DBT_PROJECT,
    "warehouse/macros/generate_schema_name.sql": SCHEMA_MACRO,
    "dags/__NAME___pipeline.py": DAG,
    "tests/conftest.py": CONFTEST,
    "tests/test_dag.py": TEST_DAG,
}


@dataclass(frozen=True)
class Flavour:
    """What one kind of project writes: its own files, the layer dbt builds, the values of the placeholders."""

    layer: str
    files: Mapping[str, str]
    values: Mapping[str, str] = field(default_factory=dict)

    def templates(self) -> dict[str, str]:
        return {**COMMON, **self.files}


def fill(template: str, name: str, flavour: Flavour) -> str:
    """A template with its placeholders filled: the flavour's (which may hold ``__NAME__``), then the names."""
    for key, value in flavour.values.items():
        template = template.replace(key, value)
    return template.replace("__LAYER__", flavour.layer).replace("__NAME__", name)


CONFTEST_STAGE = """\
    stage_folder(ROOT / "data", source, database)  # data/*.csv, read with the datakit's types"""

DAG_EXPECT = """\
        assert rows["bronze"] == {"customers": 3, "orders": 4}
        assert rows["marts"] == {"customer_orders": 3}"""

#: the example shop: landing files, marts
EXAMPLE = Flavour(
    layer="marts",
    files={
        "kits/__NAME___source/__init__.py": SOURCE_INIT,
        "kits/__NAME___source/models.py": SOURCE_MODELS,
        "kits/__NAME___source/factories.py": SOURCE_FACTORIES,
        "kits/__NAME___marts/__init__.py": MARTS_INIT,
        "kits/__NAME___marts/models.py": MARTS_MODELS,
        "warehouse/models/marts/customer_orders.sql": MART_SQL,
        "data/customers.csv": CUSTOMERS_CSV,
        "data/orders.csv": ORDERS_CSV,
        "tests/test_source.py": TEST_SOURCE,
        "tests/test_factories.py": TEST_FACTORIES,
        "tests/test_marts.py": TEST_MARTS,
    },
    values={
        "__SOURCE__": "data",
        "__ABOUT_SOURCE__": "the landing files in data/ fit it",
        "__LAYOUT__": EXAMPLE_LAYOUT,
        "__FILLED_WITH__": "the landing files",
        "__CONFTEST_IMPORTS__": "from framework import stage_folder",
        "__CONFTEST_FILL__": CONFTEST_STAGE,
        "__DAG_WHAT__": "source files",
        "__DAG_TEST__": "the_landing_files_to_the_marts",
        "__DAG_IMPORTS__": "from framework import load_datakit, open_target, stage_folder",
        "__DAG_FILL__": '        stage_folder(ROOT / "data", load_datakit(ROOT / "kits" / "__NAME___source"), source)',
        "__DAG_EXPECT__": DAG_EXPECT,
    },
)
