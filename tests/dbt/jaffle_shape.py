"""The YAML of a project shaped like dbt-labs' jaffle-shop: staging sources named ``ecom``, marts with data
tests, unit tests written with flow mappings (``{ a: 1 }``, over several lines), semantic models, metrics
and comments. ``write_jaffle_shape(folder)`` writes it and the datakits of its sources and marts.
"""

from __future__ import annotations

from pathlib import Path

SOURCES_YML = """\
version: 2

sources:
  - name: ecom
    description: E-commerce data  # loaded by the app
    tables:
      - name: raw_customers
        description: One record per person who has ordered.
      - name: raw_orders
        loaded_at_field: ordered_at
"""

CUSTOMERS_YML = """\
models:
  - name: customers
    description: One row per customer.
    columns:
      - name: customer_id
        description: The unique key.
        data_tests:
          - not_null
          - unique
      - name: number_of_orders   # counted in the orders CTE
        description: How many orders.
"""

ORDERS_YML = """\
models:
  - name: orders
    description: One row per order.
    config: { materialized: table, tags: ['marts'] }
    columns:
      - name: order_id
        data_tests:
          - not_null
          - unique
      - name: order_total
        data_tests:
          - accepted_values:
              arguments:
                values: [5, 10]
                quote: false
      - name: customer_id
        description: The customer who ordered.
        data_tests:
          - relationships:
              arguments:
                to: ref('stg_customers')
                field: customer_id

unit_tests:
  - name: test_order_totals   # the totals add up
    model: orders
    given:
      - input: ref('stg_orders')
        rows:
          - { order_id: 1, customer_id: 1, order_total: 10 }
          - {
              order_id: 2,
              customer_id: 1,
              order_total: 5
            }
    expect:
      rows:
        - { order_id: 1, order_total: 10 }
        - {order_id: 2, order_total: 5}

semantic_models:
  - name: orders
    defaults:
      agg_time_dimension: ordered_at
    model: ref('orders')
    entities:
      - name: order_id
        type: primary
      - name: customer
        expr: customer_id
        type: foreign
    dimensions:
      - name: ordered_at
        type: time
        type_params: { time_granularity: day }
    measures:
      - { name: order_count, expr: 1, agg: sum }

metrics:
  - name: orders
    label: Orders
    type: simple
    type_params:
      measure: order_count   # every order
"""

TIME_SPINE_YML = """\
models:
  - name: metricflow_time_spine
    description: One row per day.
    time_spine:
      standard_granularity_column: date_day
    columns:
      - name: date_day
        granularity: day
"""

SOURCE_KIT = '''
"""The shop's app tables."""
from sqlmodel import Field, SQLModel


class RawCustomers(SQLModel, table=True):
    __tablename__ = "raw_customers"
    id: int = Field(primary_key=True)
    name: str


class RawOrders(SQLModel, table=True):
    __tablename__ = "raw_orders"
    id: int = Field(primary_key=True)
    customer: int
    ordered_at: str
    order_total: int
'''

MARTS_KIT = '''
"""The marts."""
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class Customers(SQLModel, table=True):
    __tablename__ = "customers"
    customer_id: int = Field(primary_key=True)
    first_name: str
    number_of_orders: int = Field(sa_type=BigInteger)


class Orders(SQLModel, table=True):
    __tablename__ = "orders"
    order_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customers.customer_id")
    order_total: int
'''

FILES = {
    "dbt_project.yml": "name: shape\nversion: '1.0'\nconfig-version: 2\nprofile: shape\n",
    "models/staging/__sources.yml": SOURCES_YML,
    "models/staging/stg_customers.sql": "select id as customer_id, name as first_name\n"
    "from {{ source('ecom', 'raw_customers') }}",
    "models/staging/stg_orders.sql": "select id as order_id, customer as customer_id, order_total\n"
    "from {{ source('ecom', 'raw_orders') }}",
    "models/marts/customers.yml": CUSTOMERS_YML,
    "models/marts/orders.yml": ORDERS_YML,
    "models/marts/customers.sql": "select customer_id, first_name, 0::bigint as number_of_orders\n"
    "from {{ ref('stg_customers') }}",
    "models/utils/metricflow_time_spine.yml": TIME_SPINE_YML,
    "models/utils/metricflow_time_spine.sql": "select current_date as date_day",
    "models/marts/orders.sql": "select order_id, customer_id, order_total from {{ ref('stg_orders') }}",
}


def write_jaffle_shape(folder: Path) -> Path:
    """The project (``folder/shape``) and its kits (``folder/kits/shop_source``, ``folder/kits/shop_marts``)."""
    project = folder / "shape"
    for name, body in FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    for name, body in (("shop_source", SOURCE_KIT), ("shop_marts", MARTS_KIT)):
        kit = folder / "kits" / name
        kit.mkdir(parents=True, exist_ok=True)
        (kit / "__init__.py").write_text(body.lstrip())
    return project
