"""A small jaffle-shop dbt project that the toolkit did not write, and its two datakits, as files.

``write_jaffle(folder)`` writes ``folder/jaffle`` (seeds, staging models on ``source()``, two marts,
a hand-written ``models/schema.yml`` with descriptions, tests, meta and comments, and a
``models/sources.yml``) and ``folder/kits/jaffle_source`` (the raw tables, default schema) and
``folder/kits/jaffle_marts`` (the marts' contract; its foreign keys are tested by dbt).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

SCHEMA_YML = """\
version: 2

models:
  # the marts: what the business reads
  - name: customers
    description: One row per customer, with their first order.
    meta:
      owner: analytics
    columns:
      - name: customer_id
        description: The customer's id.
        data_tests:
          - unique
      - name: first_name
        description: "Given name"   # as typed at sign-up
  - name: orders
    description: One row per order.
    columns:
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['placed', 'shipped', 'completed', 'returned']
"""

SOURCES_YML = """\
version: 2
sources:
  - name: jaffle_source
    description: Raw data as the shop's app writes it.  # loaded nightly
    tables:
      - name: raw_customers
        description: Customers, one row each.
"""

FILES = {
    "dbt_project.yml": """
        name: jaffle
        version: "1.0.0"
        config-version: 2
        profile: jaffle
        models:
          jaffle:
            staging:
              +materialized: view
            marts:
              +materialized: table
        flags:
          send_anonymous_usage_stats: false
    """,
    "seeds/raw_customers.csv": """
        id,first_name,last_name
        1,Michael,P.
        2,Shawn,M.
        3,Kathleen,P.
    """,
    "seeds/raw_orders.csv": """
        id,user_id,order_date,status
        1,1,2018-01-01,returned
        2,3,2018-01-02,completed
        3,1,2018-01-04,placed
    """,
    "models/staging/stg_customers.sql": """
        select id as customer_id, first_name, last_name from {{ source('jaffle_source', 'raw_customers') }}
    """,
    "models/staging/stg_orders.sql": """
        select id as order_id, user_id as customer_id, order_date, status
        from {{ source('jaffle_source', 'raw_orders') }}
    """,
    "models/marts/customers.sql": """
        select c.customer_id, c.first_name, c.last_name,
               min(o.order_date) as first_order, count(o.order_id) as number_of_orders
        from {{ ref('stg_customers') }} as c
        left join {{ ref('stg_orders') }} as o using (customer_id)
        group by 1, 2, 3
    """,
    "models/marts/orders.sql": """
        select order_id, customer_id, order_date, status from {{ ref('stg_orders') }}
    """,
}

SOURCE_KIT = '''
"""Jaffle shop's raw tables, in the default schema."""
from datetime import date

from sqlmodel import Field, SQLModel


class RawCustomers(SQLModel, table=True):
    """A customer as the app writes it."""

    __tablename__ = "raw_customers"
    id: int = Field(primary_key=True)
    first_name: str
    last_name: str


class RawOrders(SQLModel, table=True):
    __tablename__ = "raw_orders"
    id: int = Field(primary_key=True)
    user_id: int
    order_date: date
    status: str = Field(description="placed, shipped, completed or returned")
'''

MARTS_KIT = '''
"""Jaffle shop's marts: what dbt builds."""
from datetime import date

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from framework import tested_by_dbt


@tested_by_dbt
class Customers(SQLModel, table=True):
    """One customer and their orders."""

    __tablename__ = "customers"
    customer_id: int = Field(primary_key=True)
    first_name: str
    last_name: str
    first_order: date | None = None
    number_of_orders: int = Field(sa_type=BigInteger)


@tested_by_dbt
class Orders(SQLModel, table=True):
    __tablename__ = "orders"
    order_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key="customers.customer_id")
    order_date: date
    status: str
'''


def write_jaffle(folder: Path) -> Path:
    """Write the project and the two datakits under ``folder``; return the project's folder."""
    project = folder / "jaffle"
    for name, body in FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    (project / "models" / "schema.yml").write_text(SCHEMA_YML)
    (project / "models" / "sources.yml").write_text(SOURCES_YML)
    for name, body in (("jaffle_source", SOURCE_KIT), ("jaffle_marts", MARTS_KIT)):
        kit = folder / "kits" / name
        kit.mkdir(parents=True, exist_ok=True)
        (kit / "__init__.py").write_text(body.lstrip())
    return project
