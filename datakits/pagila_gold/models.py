"""The Pagila gold layer (schema ``gold``): dimensions and facts, as SQLModel classes.

dbt builds these tables (``dbt/pagila_warehouse/models/gold_dimensions`` and ``gold_facts``);
the classes are their contract. ``dim_customer`` is a type 2 slowly changing dimension made from
a dbt snapshot of silver customer with its address, city and country: one row per version of a
customer, ``valid_to`` NULL and ``is_current`` true on the current one. The facts carry the
dimensions' natural keys (``customer_id`` joins the current ``dim_customer`` row) and a
``*_date_key`` into ``dim_date``.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, SmallInteger, Text
from sqlmodel import Field, SQLModel

from datakits.fields import optional_text as _text_or_none
from datakits.fields import text as _text
from framework.mixins import TIMESTAMPTZ

SCHEMA = "gold"
_ARGS = {"schema": SCHEMA}


def _fk(target: str) -> str:
    return f"{SCHEMA}.{target}"


def _key() -> Any:
    return Field(primary_key=True)


class DimDate(SQLModel, table=True):
    """One row per calendar day from the first to the last rental or payment."""

    __tablename__ = "dim_date"
    __table_args__ = _ARGS
    date_key: int = Field(primary_key=True, description="The day as YYYYMMDD")
    date_day: date
    year: int
    quarter: int
    month: int
    day_of_month: int
    day_of_week: int = Field(description="ISO day of the week: 1 is Monday, 7 is Sunday")
    day_name: str = _text()
    month_name: str = _text()
    is_weekend: bool


class DimCustomer(SQLModel, table=True):
    """Customers as a type 2 slowly changing dimension: one row per version, the current one open."""

    __tablename__ = "dim_customer"
    __table_args__ = _ARGS
    customer_key: str = Field(primary_key=True, sa_type=Text, description="One version of one customer")
    customer_id: int
    store_id: int
    first_name: str = _text()
    last_name: str = _text()
    email: str | None = _text_or_none()
    active: bool
    create_date: date
    address: str = _text()
    address2: str | None = _text_or_none()
    district: str = _text()
    postal_code: str | None = _text_or_none()
    phone: str = _text()
    city: str = _text()
    country: str = _text()
    valid_from: datetime = Field(sa_type=DateTime, description="When this version was first seen")
    valid_to: datetime | None = Field(default=None, sa_type=DateTime, description="When a newer version replaced it")
    is_current: bool = Field(description="True on the version in force now")


class DimFilm(SQLModel, table=True):
    """Films with their language and category."""

    __tablename__ = "dim_film"
    __table_args__ = _ARGS
    film_id: int = _key()
    title: str = _text()
    description: str | None = _text_or_none()
    release_year: int | None = None
    language: str = _text()
    original_language: str | None = _text_or_none()
    category: str | None = _text_or_none("The film's category (Pagila gives each film at most one)")
    rental_duration: int = Field(sa_type=SmallInteger, description="Days a rental may last")
    rental_rate: Decimal = Field(sa_type=Numeric(4, 2))
    length: int | None = Field(default=None, sa_type=SmallInteger, description="Minutes")
    replacement_cost: Decimal = Field(sa_type=Numeric(5, 2))
    rating: str | None = _text_or_none()
    special_features: str | None = _text_or_none()


class DimStore(SQLModel, table=True):
    """Stores with their address and manager."""

    __tablename__ = "dim_store"
    __table_args__ = _ARGS
    store_id: int = _key()
    manager_staff_id: int
    manager_name: str | None = _text_or_none()
    address: str = _text()
    district: str = _text()
    postal_code: str | None = _text_or_none()
    phone: str = _text()
    city: str = _text()
    country: str = _text()


class DimStaff(SQLModel, table=True):
    """Staff members with their store and address."""

    __tablename__ = "dim_staff"
    __table_args__ = _ARGS
    staff_id: int = _key()
    first_name: str = _text()
    last_name: str = _text()
    email: str | None = _text_or_none()
    store_id: int = Field(foreign_key=_fk("dim_store.store_id"))
    active: bool
    username: str = _text()
    city: str = _text()
    country: str = _text()


class FactRental(SQLModel, table=True):
    """One row per rental: keys to the dimensions, how long it lasted and what was paid for it."""

    __tablename__ = "fact_rental"
    __table_args__ = _ARGS
    rental_id: int = _key()
    rental_date: datetime = Field(sa_type=TIMESTAMPTZ)
    return_date: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)
    rental_date_key: int = Field(foreign_key=_fk("dim_date.date_key"))
    customer_id: int
    film_id: int = Field(foreign_key=_fk("dim_film.film_id"))
    store_id: int = Field(foreign_key=_fk("dim_store.store_id"))
    staff_id: int = Field(foreign_key=_fk("dim_staff.staff_id"))
    inventory_id: int
    rental_days: Decimal | None = Field(
        default=None, sa_type=Numeric(8, 2), description="Days from rental to return; NULL while out"
    )
    is_late: bool | None = Field(default=None, description="Returned after the film's rental duration")
    amount: Decimal = Field(sa_type=Numeric(8, 2), description="Sum of the rental's payments (0 when none)")
    payment_count: int


class FactPayment(SQLModel, table=True):
    """One row per payment."""

    __tablename__ = "fact_payment"
    __table_args__ = _ARGS
    payment_id: int = _key()
    payment_date: datetime = Field(sa_type=TIMESTAMPTZ)
    payment_date_key: int = Field(foreign_key=_fk("dim_date.date_key"))
    customer_id: int
    staff_id: int = Field(foreign_key=_fk("dim_staff.staff_id"))
    rental_id: int = Field(foreign_key=_fk("fact_rental.rental_id"))
    amount: Decimal = Field(sa_type=Numeric(5, 2))
