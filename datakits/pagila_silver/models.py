"""The 15 Pagila tables in the silver layer (schema ``silver``), as SQLModel classes.

dbt builds these tables (``dbt/pagila_warehouse/models/silver_core``); the classes are their
contract. Each is the latest version of each business key in bronze (by load time, then batch
id), typed and cleaned: text trimmed, Pagila's two customer flags made one boolean, the
``mpaa_rating`` enum and the ``year`` domain as plain types, ``special_features`` as one
comma-separated text, no full-text vector, no staff password or picture. Foreign keys are the
relationships between the tables; ``datakits dbt contracts`` makes them dbt ``relationships``
tests (dbt rebuilds tables, so they are not constraints in the database).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, SmallInteger
from sqlmodel import Field, SQLModel

from datakits.fields import optional_text as _text_or_none
from datakits.fields import text as _text
from framework.mixins import TIMESTAMPTZ

SCHEMA = "silver"
_ARGS = {"schema": SCHEMA}


def _fk(target: str) -> str:
    return f"{SCHEMA}.{target}"


def _updated(*, nullable: bool = False) -> Any:
    description = "When the source last changed the row"
    if nullable:
        return Field(default=None, sa_type=TIMESTAMPTZ, description=description)
    return Field(sa_type=TIMESTAMPTZ, description=description)


class Actor(SQLModel, table=True):
    """Actors, one row per actor."""

    __tablename__ = "actor"
    __table_args__ = _ARGS
    actor_id: int = Field(primary_key=True)
    first_name: str = _text()
    last_name: str = _text()
    last_update: datetime = _updated()


class Country(SQLModel, table=True):
    """Countries, one row per country."""

    __tablename__ = "country"
    __table_args__ = _ARGS
    country_id: int = Field(primary_key=True)
    country: str = _text()
    last_update: datetime = _updated()


class City(SQLModel, table=True):
    """Cities, each in a country."""

    __tablename__ = "city"
    __table_args__ = _ARGS
    city_id: int = Field(primary_key=True)
    city: str = _text()
    country_id: int = Field(foreign_key=_fk("country.country_id"))
    last_update: datetime = _updated()


class Address(SQLModel, table=True):
    """Addresses of customers, staff and stores; empty optional text is NULL."""

    __tablename__ = "address"
    __table_args__ = _ARGS
    address_id: int = Field(primary_key=True)
    address: str = _text()
    address2: str | None = _text_or_none()
    district: str = _text()
    city_id: int = Field(foreign_key=_fk("city.city_id"))
    postal_code: str | None = _text_or_none()
    phone: str = _text()
    last_update: datetime = _updated()


class Category(SQLModel, table=True):
    """Film categories."""

    __tablename__ = "category"
    __table_args__ = _ARGS
    category_id: int = Field(primary_key=True)
    name: str = _text()
    last_update: datetime = _updated()


class Language(SQLModel, table=True):
    """Languages; Pagila's CHAR(20) name trimmed to text."""

    __tablename__ = "language"
    __table_args__ = _ARGS
    language_id: int = Field(primary_key=True)
    name: str = _text()
    last_update: datetime = _updated()


class Store(SQLModel, table=True):
    """Stores, each with a manager and an address."""

    __tablename__ = "store"
    __table_args__ = _ARGS
    store_id: int = Field(primary_key=True)
    manager_staff_id: int
    address_id: int = Field(foreign_key=_fk("address.address_id"))
    last_update: datetime = _updated()


class Staff(SQLModel, table=True):
    """Staff members, without their password and picture."""

    __tablename__ = "staff"
    __table_args__ = _ARGS
    staff_id: int = Field(primary_key=True)
    first_name: str = _text()
    last_name: str = _text()
    address_id: int = Field(foreign_key=_fk("address.address_id"))
    email: str | None = _text_or_none()
    store_id: int = Field(foreign_key=_fk("store.store_id"))
    active: bool
    username: str = _text()
    last_update: datetime = _updated()


class Customer(SQLModel, table=True):
    """Customers; ``active`` is true when Pagila's ``activebool`` and ``active`` both say so."""

    __tablename__ = "customer"
    __table_args__ = _ARGS
    customer_id: int = Field(primary_key=True)
    store_id: int = Field(foreign_key=_fk("store.store_id"))
    first_name: str = _text()
    last_name: str = _text()
    email: str | None = _text_or_none()
    address_id: int = Field(foreign_key=_fk("address.address_id"))
    active: bool = Field(description="Pagila's activebool and active (1) as one flag")
    create_date: date
    last_update: datetime | None = _updated(nullable=True)


class Film(SQLModel, table=True):
    """Films; the rating as text, special features as one comma-separated text."""

    __tablename__ = "film"
    __table_args__ = _ARGS
    film_id: int = Field(primary_key=True)
    title: str = _text()
    description: str | None = _text_or_none()
    release_year: int | None = None
    language_id: int = Field(foreign_key=_fk("language.language_id"))
    original_language_id: int | None = Field(default=None, foreign_key=_fk("language.language_id"))
    rental_duration: int = Field(sa_type=SmallInteger, description="Days a rental may last")
    rental_rate: Decimal = Field(sa_type=Numeric(4, 2))
    length: int | None = Field(default=None, sa_type=SmallInteger, description="Minutes")
    replacement_cost: Decimal = Field(sa_type=Numeric(5, 2))
    rating: str | None = _text_or_none("MPAA rating: G, PG, PG-13, R or NC-17")
    special_features: str | None = _text_or_none("Comma-separated, in Pagila's order")
    last_update: datetime = _updated()


class FilmActor(SQLModel, table=True):
    """Which actors play in which films."""

    __tablename__ = "film_actor"
    __table_args__ = _ARGS
    actor_id: int = Field(primary_key=True, foreign_key=_fk("actor.actor_id"))
    film_id: int = Field(primary_key=True, foreign_key=_fk("film.film_id"))
    last_update: datetime = _updated()


class FilmCategory(SQLModel, table=True):
    """The category of each film."""

    __tablename__ = "film_category"
    __table_args__ = _ARGS
    film_id: int = Field(primary_key=True, foreign_key=_fk("film.film_id"))
    category_id: int = Field(primary_key=True, foreign_key=_fk("category.category_id"))
    last_update: datetime = _updated()


class Inventory(SQLModel, table=True):
    """Copies of films held by stores."""

    __tablename__ = "inventory"
    __table_args__ = _ARGS
    inventory_id: int = Field(primary_key=True)
    film_id: int = Field(foreign_key=_fk("film.film_id"))
    store_id: int = Field(foreign_key=_fk("store.store_id"))
    last_update: datetime = _updated()


class Rental(SQLModel, table=True):
    """Rentals of inventory by customers; ``return_date`` is NULL while out."""

    __tablename__ = "rental"
    __table_args__ = _ARGS
    rental_id: int = Field(primary_key=True)
    rental_date: datetime = Field(sa_type=TIMESTAMPTZ)
    inventory_id: int = Field(foreign_key=_fk("inventory.inventory_id"))
    customer_id: int = Field(foreign_key=_fk("customer.customer_id"))
    return_date: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)
    staff_id: int = Field(foreign_key=_fk("staff.staff_id"))
    last_update: datetime = _updated()


class Payment(SQLModel, table=True):
    """Payments: Pagila's monthly partitions as one table, keyed by payment id."""

    __tablename__ = "payment"
    __table_args__ = _ARGS
    payment_id: int = Field(primary_key=True)
    customer_id: int = Field(foreign_key=_fk("customer.customer_id"))
    staff_id: int = Field(foreign_key=_fk("staff.staff_id"))
    rental_id: int = Field(foreign_key=_fk("rental.rental_id"))
    amount: Decimal = Field(sa_type=Numeric(5, 2))
    payment_date: datetime = Field(sa_type=TIMESTAMPTZ)
