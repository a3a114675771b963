"""The 15 Pagila tables in the bronze layer (schema ``br__pagila__public``), as SQLModel classes.

A bronze table is the source table's columns (the shared ``<Table>Base`` classes of
:mod:`datakits.pagila_source.models`, same names, types and nullability) plus the lineage
columns of :class:`~framework.kits.mixins.BronzeLineageMixin`, and nothing that could reject what the
source gives: no foreign keys, no unique constraints, none of the source's indexes. The primary
key is the source key plus ``dk_batch_id`` (one row per source row per batch), and each table has
an index on ``dk_batch_id``, since a batch is replaced by its id.

The mixin is listed first so that its columns come after the source columns.
"""

from sqlalchemy import Index, event

from datakits.pagila_source.models import (
    ActorBase,
    AddressBase,
    CategoryBase,
    CityBase,
    CountryBase,
    CustomerBase,
    FilmActorBase,
    FilmBase,
    FilmCategoryBase,
    InventoryBase,
    LanguageBase,
    PaymentBase,
    RentalBase,
    StaffBase,
    StoreBase,
    create_year_domain,
)
from framework import BronzeLineageMixin

SCHEMA = "br__pagila__public"


def _bronze_args(table: str) -> tuple[Index, dict[str, str]]:
    """The bronze ``__table_args__``: the batch index and the schema."""
    return (Index(f"ix_br_{table}_dk_batch_id", "dk_batch_id"), {"schema": SCHEMA})


class Actor(BronzeLineageMixin, ActorBase, table=True):
    __tablename__ = "actor"
    __table_args__ = _bronze_args("actor")


class Address(BronzeLineageMixin, AddressBase, table=True):
    __tablename__ = "address"
    __table_args__ = _bronze_args("address")


class Category(BronzeLineageMixin, CategoryBase, table=True):
    __tablename__ = "category"
    __table_args__ = _bronze_args("category")


class City(BronzeLineageMixin, CityBase, table=True):
    __tablename__ = "city"
    __table_args__ = _bronze_args("city")


class Country(BronzeLineageMixin, CountryBase, table=True):
    __tablename__ = "country"
    __table_args__ = _bronze_args("country")


class Customer(BronzeLineageMixin, CustomerBase, table=True):
    __tablename__ = "customer"
    __table_args__ = _bronze_args("customer")


class Film(BronzeLineageMixin, FilmBase, table=True):
    __tablename__ = "film"
    __table_args__ = _bronze_args("film")


event.listen(Film.__table__, "before_create", create_year_domain)  # type: ignore[attr-defined]


class FilmActor(BronzeLineageMixin, FilmActorBase, table=True):
    __tablename__ = "film_actor"
    __table_args__ = _bronze_args("film_actor")


class FilmCategory(BronzeLineageMixin, FilmCategoryBase, table=True):
    __tablename__ = "film_category"
    __table_args__ = _bronze_args("film_category")


class Inventory(BronzeLineageMixin, InventoryBase, table=True):
    __tablename__ = "inventory"
    __table_args__ = _bronze_args("inventory")


class Language(BronzeLineageMixin, LanguageBase, table=True):
    __tablename__ = "language"
    __table_args__ = _bronze_args("language")


class Payment(BronzeLineageMixin, PaymentBase, table=True):
    __tablename__ = "payment"
    __table_args__ = _bronze_args("payment")


class Rental(BronzeLineageMixin, RentalBase, table=True):
    __tablename__ = "rental"
    __table_args__ = _bronze_args("rental")


class Staff(BronzeLineageMixin, StaffBase, table=True):
    __tablename__ = "staff"
    __table_args__ = _bronze_args("staff")


class Store(BronzeLineageMixin, StoreBase, table=True):
    __tablename__ = "store"
    __table_args__ = _bronze_args("store")
