"""factory_boy factories for the 15 Pagila source tables, bound to the session of the moment.

Needs the ``factories`` extra (factory-boy, which brings Faker)::

    from datakits.pagila_source.factories import RentalFactory, bind_factories

    with Session(engine) as session, bind_factories(session):
        rentals = RentalFactory.create_batch(10)  # each with its inventory, customer and staff chain
        session.rollback()                        # and they are gone

Binding: the factories have no session of their own. :func:`bind_factories` points every factory's
``sqlalchemy_session_factory`` at :func:`current_session` (which returns the bound session, held
in a ``ContextVar``) for the length of the binding, and puts back what was there at the end; it
also releases the session factory_boy keeps from the last create. factory_boy calls the session
factory on every create, so nothing is tied to a global session. Persistence is ``"flush"``: rows
get their ids and are visible in the session, and the caller's rollback removes them;
``bind_factories(session, persistence="commit")`` commits after each object instead.

In pytest, the plugin's ``datakit_factories`` fixture binds them to the test's session (it binds
every ``SQLAlchemyModelFactory`` that has no session of its own, these included); outside it, or
for a session of your own::

    @pytest.fixture
    def pagila_factories(my_session):
        with bind_factories(my_session) as session:
            yield session

Foreign keys: each child factory has its parents as ``SubFactory`` parameters, and takes the key
from the parent it made: ``RentalFactory()`` makes an inventory (with its film and store), a
customer and a staff member (both of the inventory's store). Give a parent to reuse it:
``RentalFactory(inventory=inv, customer=cust)``; to give a bare id, set the parent to ``None``:
``RentalFactory(inventory=None, inventory_id=7)`` (otherwise an unused parent is made).

Keys: autoincrement keys are left to the database. ``payment_id`` (not autoincrement) and
``store.manager_staff_id`` (unique, no foreign key in the datakit) take the next value after the
largest one in the bound session, so factories can add to a generated Pagila.

``build()`` works without a session (no ids: foreign keys stay ``None``).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, ClassVar

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .generate import AMOUNTS, CATEGORIES, FEATURES, LANGUAGES, RATINGS, RENTAL_RATES
from .models import (
    Actor,
    Address,
    Category,
    City,
    Country,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    Inventory,
    Language,
    Payment,
    Rental,
    Staff,
    Store,
)

__all__ = [
    "PAGILA_FACTORIES",
    "ActorFactory",
    "AddressFactory",
    "CategoryFactory",
    "CityFactory",
    "CountryFactory",
    "CustomerFactory",
    "FactoryBinding",
    "FilmActorFactory",
    "FilmCategoryFactory",
    "FilmFactory",
    "InventoryFactory",
    "LanguageFactory",
    "PagilaFactory",
    "PaymentFactory",
    "RentalFactory",
    "StaffFactory",
    "StoreFactory",
    "bind_factories",
    "current_session",
]

_session: ContextVar[Session | None] = ContextVar("datakits_pagila_factories_session", default=None)
_PERSISTENCE = ("flush", "commit")


def current_session() -> Session:
    """The session :func:`bind_factories` bound (the factories' ``sqlalchemy_session_factory`` meanwhile)."""
    session = _session.get()
    if session is None:
        raise RuntimeError(
            "no session is bound to the Pagila factories: use 'with bind_factories(session): ...' "
            "(or the pytest fixture that does it), or call .build() for unsaved objects"
        )
    return session


def _tsvector(title: str) -> str:
    """A tsvector literal of the title's words: ``'academy':1 'dinosaur':2``."""
    words = ["".join(ch for ch in w.lower() if ch.isalpha()) for w in title.split()]
    return " ".join(f"'{w}':{i}" for i, w in enumerate(words, 1) if w)


def _options(factory_class: type[SQLAlchemyModelFactory]) -> Any:
    """A factory's options (``SQLAlchemyOptions``; typed as the base ``FactoryOptions``)."""
    return factory_class._meta


class PagilaFactory(SQLAlchemyModelFactory):
    """Base of the Pagila factories: no session of their own (see :func:`bind_factories`), flush after each create."""

    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"

    #: Keys that are not autoincrement: when not given, one more than the largest in the session.
    _next_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        missing = [key for key in cls._next_keys if kwargs.get(key) is None]
        options = _options(cls)
        session_factory = options.sqlalchemy_session_factory
        session = session_factory() if session_factory else options.sqlalchemy_session
        if missing and session is not None:  # (without a session, factory_boy says so)
            for key in missing:
                kwargs[key] = int(session.scalar(select(func.max(getattr(model_class, key)))) or 0) + 1
        return super()._create(model_class, *args, **kwargs)


# --- reference data -----------------------------------------------------------------------------


class LanguageFactory(PagilaFactory):
    class Meta:
        model = Language

    name = factory.Iterator(LANGUAGES)


class CategoryFactory(PagilaFactory):
    class Meta:
        model = Category

    name = factory.Iterator(CATEGORIES)


class CountryFactory(PagilaFactory):
    class Meta:
        model = Country

    country = factory.Faker("country")


class CityFactory(PagilaFactory):
    class Meta:
        model = City

    class Params:
        country = factory.SubFactory(CountryFactory)

    city = factory.Faker("city")
    country_id = factory.SelfAttribute("country.country_id")


class AddressFactory(PagilaFactory):
    class Meta:
        model = Address

    class Params:
        city = factory.SubFactory(CityFactory)

    address = factory.Faker("street_address")
    district = factory.Faker("state")
    city_id = factory.SelfAttribute("city.city_id")
    postal_code = factory.Faker("postcode")
    phone = factory.Faker("numerify", text="############")


class ActorFactory(PagilaFactory):
    class Meta:
        model = Actor

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class FilmFactory(PagilaFactory):
    class Meta:
        model = Film

    class Params:
        language = factory.SubFactory(LanguageFactory)

    title = factory.Faker("catch_phrase")
    description = factory.Faker("sentence", nb_words=12)
    release_year = factory.Faker("random_int", min=2000, max=2024)
    language_id = factory.SelfAttribute("language.language_id")
    rental_duration = factory.Faker("random_int", min=3, max=7)
    rental_rate = factory.Iterator(RENTAL_RATES)
    length = factory.Faker("random_int", min=46, max=185)
    replacement_cost = factory.Faker("pydecimal", left_digits=2, right_digits=2, min_value=9, max_value=29)
    rating = factory.Iterator(RATINGS)
    special_features = factory.Faker("random_elements", elements=FEATURES, length=2, unique=True)
    fulltext = factory.LazyAttribute(lambda film: _tsvector(film.title))


class FilmActorFactory(PagilaFactory):
    class Meta:
        model = FilmActor

    class Params:
        actor = factory.SubFactory(ActorFactory)
        film = factory.SubFactory(FilmFactory)

    actor_id = factory.SelfAttribute("actor.actor_id")
    film_id = factory.SelfAttribute("film.film_id")


class FilmCategoryFactory(PagilaFactory):
    class Meta:
        model = FilmCategory

    class Params:
        film = factory.SubFactory(FilmFactory)
        category = factory.SubFactory(CategoryFactory)

    film_id = factory.SelfAttribute("film.film_id")
    category_id = factory.SelfAttribute("category.category_id")


# --- stores, people, stock ------------------------------------------------------------------------


class StoreFactory(PagilaFactory):
    class Meta:
        model = Store

    class Params:
        address = factory.SubFactory(AddressFactory)

    _next_keys = ("manager_staff_id",)  # unique; no foreign key in the datakit (nor in Pagila)

    manager_staff_id = None
    address_id = factory.SelfAttribute("address.address_id")


class StaffFactory(PagilaFactory):
    class Meta:
        model = Staff

    class Params:
        address = factory.SubFactory(AddressFactory)
        store = factory.SubFactory(StoreFactory)

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    address_id = factory.SelfAttribute("address.address_id")
    email = factory.Faker("email")
    store_id = factory.SelfAttribute("store.store_id")
    active = True
    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.Faker("sha1")
    picture = None


class CustomerFactory(PagilaFactory):
    class Meta:
        model = Customer

    class Params:
        store = factory.SubFactory(StoreFactory)
        address = factory.SubFactory(AddressFactory)

    store_id = factory.SelfAttribute("store.store_id")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Faker("email")
    address_id = factory.SelfAttribute("address.address_id")
    activebool = True
    create_date = date(2022, 2, 14)
    active = 1


class InventoryFactory(PagilaFactory):
    class Meta:
        model = Inventory

    class Params:
        film = factory.SubFactory(FilmFactory)
        store = factory.SubFactory(StoreFactory)

    film_id = factory.SelfAttribute("film.film_id")
    store_id = factory.SelfAttribute("store.store_id")


# --- business ---------------------------------------------------------------------------------------


class RentalFactory(PagilaFactory):
    """A rental of an inventory item, by a customer and a staff member of the item's store."""

    class Meta:
        model = Rental

    class Params:
        inventory = factory.SubFactory(InventoryFactory)
        customer = factory.SubFactory(CustomerFactory, store=None, store_id=factory.SelfAttribute("..store_id"))
        staff = factory.SubFactory(StaffFactory, store=None, store_id=factory.SelfAttribute("..store_id"))
        store_id = factory.SelfAttribute("inventory.store_id")
        days = factory.Faker("random_int", min=1, max=9)

    rental_date = factory.Faker(
        "date_time_between",
        start_date=datetime(2022, 5, 24, tzinfo=UTC),
        end_date=datetime(2022, 8, 24, tzinfo=UTC),
        tzinfo=UTC,
    )
    inventory_id = factory.SelfAttribute("inventory.inventory_id")
    customer_id = factory.SelfAttribute("customer.customer_id")
    return_date = factory.LazyAttribute(lambda rental: rental.rental_date + timedelta(days=rental.days))
    staff_id = factory.SelfAttribute("staff.staff_id")


class PaymentFactory(PagilaFactory):
    """A payment for a rental, by its customer to its staff member, dated 2022-01..07 (Pagila's partitions)."""

    class Meta:
        model = Payment

    class Params:
        rental = factory.SubFactory(RentalFactory)

    _next_keys = ("payment_id",)  # part of the key, not autoincrement

    payment_id = None
    customer_id = factory.SelfAttribute("rental.customer_id")
    staff_id = factory.SelfAttribute("rental.staff_id")
    rental_id = factory.SelfAttribute("rental.rental_id")
    amount = factory.Iterator(AMOUNTS)
    payment_date = factory.Faker(
        "date_time_between",
        start_date=datetime(2022, 1, 1, tzinfo=UTC),
        end_date=datetime(2022, 7, 31, tzinfo=UTC),
        tzinfo=UTC,
    )


#: Every Pagila factory, parents before children.
PAGILA_FACTORIES: tuple[type[PagilaFactory], ...] = (
    LanguageFactory,
    CategoryFactory,
    CountryFactory,
    CityFactory,
    AddressFactory,
    ActorFactory,
    FilmFactory,
    FilmActorFactory,
    FilmCategoryFactory,
    StoreFactory,
    StaffFactory,
    CustomerFactory,
    InventoryFactory,
    RentalFactory,
    PaymentFactory,
)


class FactoryBinding:
    """The factories bound to one session; :meth:`unbind` (or the end of the ``with`` block) lets go."""

    def __init__(self, session: Session, persistence: str) -> None:
        if persistence not in _PERSISTENCE:
            raise ValueError(f"persistence must be one of {', '.join(_PERSISTENCE)}, not {persistence!r}")
        self.session = session
        self._token: Token[Session | None] | None = _session.set(session)
        self._saved = {
            f: (_options(f).sqlalchemy_session_factory, _options(f).sqlalchemy_session_persistence)
            for f in PAGILA_FACTORIES
        }
        for factory_class in PAGILA_FACTORIES:
            _options(factory_class).sqlalchemy_session_factory = current_session
            _options(factory_class).sqlalchemy_session_persistence = persistence

    def unbind(self) -> None:
        if self._token is None:
            return
        try:
            _session.reset(self._token)
        except ValueError:  # reset from another context: just let go
            _session.set(None)
        self._token = None
        for factory_class, (session_factory, persistence) in self._saved.items():
            _options(factory_class).sqlalchemy_session_factory = session_factory
            _options(factory_class).sqlalchemy_session_persistence = persistence
            _options(factory_class).sqlalchemy_session = None  # factory_boy keeps the last session it used

    def __enter__(self) -> Session:
        return self.session

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.unbind()


def bind_factories(session: Session, persistence: str = "flush") -> FactoryBinding:
    """Bind every Pagila factory to ``session`` now; as a context manager, until the block ends.

    ``persistence``: ``"flush"`` (the default: the caller's rollback removes the rows) or ``"commit"``.
    """
    return FactoryBinding(session, persistence)
