"""The 15 tables of the real Pagila database (schema ``public``), as SQLModel classes.

Each table comes in two parts:

- ``<Table>Base``: a non-table class with the columns, in Pagila's column order, with Pagila's
  types and nullability. The bronze datakit (``datakits.pagila_bronze``) builds its tables on
  these, so the columns are written once.
- ``<Table>``: the source table: the base plus what only the source has, in ``__table_args__``:
  foreign keys, unique indexes and indexes, under Pagila's names.

On PostgreSQL the tables match a database loaded from Pagila's dump. The same classes deploy on
SQLite and MySQL/MariaDB, where PostgreSQL-only types get a portable variant:

    text[] (film.special_features)   JSON
    tsvector (film.fulltext)         TEXT; its gist index is created on PostgreSQL only
    domain year (film.release_year)  INTEGER
    enum mpaa_rating (film.rating)   ENUM on MySQL, VARCHAR on SQLite

Not modelled: payment's monthly partitions (Pagila's payment foreign keys and indexes are on the
partitions, not on the partitioned parent, so ``Payment`` has none), views, functions and
triggers (so nothing refreshes ``last_update`` on update, and ``film.fulltext`` is not computed:
give it a value or keep the default, an empty document). Keys use autoincrement integers where
Pagila uses ``nextval``; payment's key is composite, so ``payment_id`` must be given.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CHAR,
    JSON,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from framework import TIMESTAMPTZ

# --- Types -------------------------------------------------------------------------------------

#: ``text[]`` on PostgreSQL, a JSON list elsewhere (``None`` is SQL NULL, not JSON ``null``).
TEXT_ARRAY = JSON(none_as_null=True).with_variant(postgresql.ARRAY(Text()), "postgresql")

#: ``tsvector`` on PostgreSQL, plain text elsewhere.
TSVECTOR = Text().with_variant(postgresql.TSVECTOR(), "postgresql")

#: Pagila's ``year`` domain. ``create_type=False``: SQLAlchemy would otherwise try to create (and
#: drop) the domain on every engine, so :func:`create_year_domain` creates it on PostgreSQL only.
YEAR_DOMAIN = postgresql.DOMAIN(
    "year",
    Integer(),
    constraint_name="year_check",
    check="VALUE >= 1901 AND VALUE <= 2155",
    create_type=False,
)
YEAR = Integer().with_variant(YEAR_DOMAIN, "postgresql")

#: Pagila's ``mpaa_rating`` enum: a named type on PostgreSQL, ``ENUM`` on MySQL, VARCHAR on SQLite.
MPAA_RATING = Enum("G", "PG", "PG-13", "R", "NC-17", name="mpaa_rating")


def create_year_domain(target: Table, connection: Connection, **kw: Any) -> None:
    """``before_create`` hook of each table with a ``year`` column: create the domain on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        YEAR_DOMAIN.create(connection, checkfirst=True)


def _fk(column: str, target: str, name: str, *, cascade: bool = True) -> ForeignKeyConstraint:
    """A one-column foreign key; Pagila's cascade updates and restrict deletes (all but one)."""
    return ForeignKeyConstraint(
        [column],
        [target],
        name=name,
        onupdate="CASCADE" if cascade else None,
        ondelete="RESTRICT" if cascade else None,
    )


def _text_index(name: str, column: str) -> Index:
    """An index on a TEXT column. MySQL cannot index TEXT whole: there it indexes a 255-character prefix."""
    return Index(name, column, mysql_length=255, mariadb_length=255)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _last_update(*, nullable: bool = False) -> Any:
    """Pagila's ``last_update timestamptz DEFAULT now()``; a trigger refreshes it there, not here."""
    return Field(
        default_factory=_utcnow,
        sa_type=TIMESTAMPTZ,
        nullable=nullable,
        sa_column_kwargs={"server_default": func.now()},
    )


# --- Column definitions shared with the bronze datakit -------------------------------------------


class ActorBase(SQLModel):
    actor_id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(sa_type=Text)
    last_name: str = Field(sa_type=Text)
    last_update: datetime = _last_update()


class AddressBase(SQLModel):
    address_id: int | None = Field(default=None, primary_key=True)
    address: str = Field(sa_type=Text)
    address2: str | None = Field(default=None, sa_type=Text)
    district: str = Field(sa_type=Text)
    city_id: int
    postal_code: str | None = Field(default=None, sa_type=Text)
    phone: str = Field(sa_type=Text)
    last_update: datetime = _last_update()


class CategoryBase(SQLModel):
    category_id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=Text)
    last_update: datetime = _last_update()


class CityBase(SQLModel):
    city_id: int | None = Field(default=None, primary_key=True)
    city: str = Field(sa_type=Text)
    country_id: int
    last_update: datetime = _last_update()


class CountryBase(SQLModel):
    country_id: int | None = Field(default=None, primary_key=True)
    country: str = Field(sa_type=Text)
    last_update: datetime = _last_update()


class CustomerBase(SQLModel):
    customer_id: int | None = Field(default=None, primary_key=True)
    store_id: int
    first_name: str = Field(sa_type=Text)
    last_name: str = Field(sa_type=Text)
    email: str | None = Field(default=None, sa_type=Text)
    address_id: int
    activebool: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    create_date: date = Field(default_factory=date.today, sa_column_kwargs={"server_default": text("(CURRENT_DATE)")})
    last_update: datetime | None = _last_update(nullable=True)
    active: int | None = None


class FilmBase(SQLModel):
    film_id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    release_year: int | None = Field(default=None, sa_type=YEAR)
    language_id: int
    original_language_id: int | None = None
    rental_duration: int = Field(default=3, sa_type=SmallInteger, sa_column_kwargs={"server_default": text("3")})
    rental_rate: Decimal = Field(
        default=Decimal("4.99"), sa_type=Numeric(4, 2), sa_column_kwargs={"server_default": text("4.99")}
    )
    length: int | None = Field(default=None, sa_type=SmallInteger)
    replacement_cost: Decimal = Field(
        default=Decimal("19.99"), sa_type=Numeric(5, 2), sa_column_kwargs={"server_default": text("19.99")}
    )
    rating: str | None = Field(default="G", sa_type=MPAA_RATING, sa_column_kwargs={"server_default": "G"})
    last_update: datetime = _last_update()
    special_features: list[str] | None = Field(default=None, sa_type=TEXT_ARRAY)
    fulltext: str = Field(default="", sa_type=TSVECTOR)


class FilmActorBase(SQLModel):
    actor_id: int = Field(primary_key=True)
    film_id: int = Field(primary_key=True)
    last_update: datetime = _last_update()


class FilmCategoryBase(SQLModel):
    film_id: int = Field(primary_key=True)
    category_id: int = Field(primary_key=True)
    last_update: datetime = _last_update()


class InventoryBase(SQLModel):
    inventory_id: int | None = Field(default=None, primary_key=True)
    film_id: int
    store_id: int
    last_update: datetime = _last_update()


class LanguageBase(SQLModel):
    language_id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=CHAR(20))
    last_update: datetime = _last_update()


class PaymentBase(SQLModel):
    payment_id: int = Field(primary_key=True)
    customer_id: int
    staff_id: int
    rental_id: int
    amount: Decimal = Field(sa_type=Numeric(5, 2))
    payment_date: datetime = Field(primary_key=True, sa_type=TIMESTAMPTZ)


class RentalBase(SQLModel):
    rental_id: int | None = Field(default=None, primary_key=True)
    rental_date: datetime = Field(sa_type=TIMESTAMPTZ)
    inventory_id: int
    customer_id: int
    return_date: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)
    staff_id: int
    last_update: datetime = _last_update()


class StaffBase(SQLModel):
    staff_id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(sa_type=Text)
    last_name: str = Field(sa_type=Text)
    address_id: int
    email: str | None = Field(default=None, sa_type=Text)
    store_id: int
    active: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    username: str = Field(sa_type=Text)
    password: str | None = Field(default=None, sa_type=Text)
    last_update: datetime = _last_update()
    picture: bytes | None = Field(default=None, sa_type=LargeBinary)


class StoreBase(SQLModel):
    store_id: int | None = Field(default=None, primary_key=True)
    manager_staff_id: int
    address_id: int
    last_update: datetime = _last_update()


# --- Source tables: the bases plus foreign keys and indexes --------------------------------------


class Actor(ActorBase, table=True):
    __tablename__ = "actor"
    __table_args__ = (_text_index("idx_actor_last_name", "last_name"),)


class Address(AddressBase, table=True):
    __tablename__ = "address"
    __table_args__ = (
        _fk("city_id", "city.city_id", "address_city_id_fkey"),
        Index("idx_fk_city_id", "city_id"),
    )


class Category(CategoryBase, table=True):
    __tablename__ = "category"


class City(CityBase, table=True):
    __tablename__ = "city"
    __table_args__ = (
        _fk("country_id", "country.country_id", "city_country_id_fkey"),
        Index("idx_fk_country_id", "country_id"),
    )


class Country(CountryBase, table=True):
    __tablename__ = "country"


class Customer(CustomerBase, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        _fk("address_id", "address.address_id", "customer_address_id_fkey"),
        _fk("store_id", "store.store_id", "customer_store_id_fkey"),
        Index("idx_fk_address_id", "address_id"),
        Index("idx_fk_store_id", "store_id"),
        _text_index("idx_last_name", "last_name"),
    )


class Film(FilmBase, table=True):
    __tablename__ = "film"
    __table_args__ = (
        _fk("language_id", "language.language_id", "film_language_id_fkey"),
        _fk("original_language_id", "language.language_id", "film_original_language_id_fkey"),
        Index("film_fulltext_idx", "fulltext", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("idx_fk_language_id", "language_id"),
        Index("idx_fk_original_language_id", "original_language_id"),
        _text_index("idx_title", "title"),
    )


event.listen(Film.__table__, "before_create", create_year_domain)  # type: ignore[attr-defined]


class FilmActor(FilmActorBase, table=True):
    __tablename__ = "film_actor"
    __table_args__ = (
        _fk("actor_id", "actor.actor_id", "film_actor_actor_id_fkey"),
        _fk("film_id", "film.film_id", "film_actor_film_id_fkey"),
        Index("idx_fk_film_id", "film_id"),
    )


class FilmCategory(FilmCategoryBase, table=True):
    __tablename__ = "film_category"
    __table_args__ = (
        _fk("category_id", "category.category_id", "film_category_category_id_fkey"),
        _fk("film_id", "film.film_id", "film_category_film_id_fkey"),
    )


class Inventory(InventoryBase, table=True):
    __tablename__ = "inventory"
    __table_args__ = (
        _fk("film_id", "film.film_id", "inventory_film_id_fkey"),
        _fk("store_id", "store.store_id", "inventory_store_id_fkey"),
        Index("idx_store_id_film_id", "store_id", "film_id"),
    )


class Language(LanguageBase, table=True):
    __tablename__ = "language"


class Payment(PaymentBase, table=True):
    __tablename__ = "payment"
    # Pagila's key order (payment_date first, the partitioning column), not the column order.
    __table_args__ = (PrimaryKeyConstraint("payment_date", "payment_id", name="payment_pkey"),)


class Rental(RentalBase, table=True):
    __tablename__ = "rental"
    __table_args__ = (
        _fk("customer_id", "customer.customer_id", "rental_customer_id_fkey"),
        _fk("inventory_id", "inventory.inventory_id", "rental_inventory_id_fkey"),
        _fk("staff_id", "staff.staff_id", "rental_staff_id_fkey"),
        Index("idx_fk_inventory_id", "inventory_id"),
        Index(
            "idx_unq_rental_rental_date_inventory_id_customer_id",
            "rental_date",
            "inventory_id",
            "customer_id",
            unique=True,
        ),
    )


class Staff(StaffBase, table=True):
    __tablename__ = "staff"
    __table_args__ = (
        _fk("address_id", "address.address_id", "staff_address_id_fkey"),
        _fk("store_id", "store.store_id", "staff_store_id_fkey", cascade=False),
    )


class Store(StoreBase, table=True):
    __tablename__ = "store"
    __table_args__ = (
        _fk("address_id", "address.address_id", "store_address_id_fkey"),
        Index("idx_unq_manager_staff_id", "manager_staff_id", unique=True),
    )
