"""The jaffle shop's landing files: customers and their orders."""

from datetime import date
from decimal import Decimal

from sqlalchemy import Numeric
from sqlmodel import Field, SQLModel


class Customer(SQLModel, table=True):
    """A customer of the shop."""

    __tablename__ = "customers"
    id: int = Field(primary_key=True)
    name: str


class Order(SQLModel, table=True):
    """One order of a customer."""

    __tablename__ = "orders"
    id: int = Field(primary_key=True)
    customer_id: int
    ordered_at: date
    amount: Decimal = Field(sa_type=Numeric(10, 2))
