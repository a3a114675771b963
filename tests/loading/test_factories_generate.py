"""Pagila factories and the Pagila generator, for real on SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, and_, func, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from datakits.pagila_source.factories import (
    PAGILA_FACTORIES,
    ActorFactory,
    FilmActorFactory,
    FilmCategoryFactory,
    FilmFactory,
    PaymentFactory,
    RentalFactory,
    bind_factories,
    current_session,
)
from datakits.pagila_source.generate import REAL_COUNTS, TABLES, generate_pagila, pagila_rows, row_counts
from datakits.pagila_source.models import Rental
from framework import Database, DatakitError, deploy_data_objects, load_datakit, validate_deployment
from framework.cli.main import main

ENGINES = ["sqlite_memory", "postgres_local", "mysql_local"]
T = {t.name: t for t in TABLES}


@pytest.fixture(scope="module")
def source():
    return load_datakit("pagila_source")


def _counts(conn: Connection) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def _orphans(conn: Connection) -> dict[str, int]:
    """Child rows whose foreign key points at no parent, per foreign key (all should be 0)."""
    found = {}
    for table in TABLES:
        for fk in table.foreign_key_constraints:
            parent: Table = fk.referred_table
            pairs = list(zip(fk.columns, fk.elements, strict=True))
            joined = table.outerjoin(parent, and_(*(c == e.column for c, e in pairs)))
            missing = (
                select(func.count())
                .select_from(joined)
                .where(and_(*(c.isnot(None) for c, _ in pairs)), pairs[0][1].column.is_(None))
            )
            found[fk.name or f"{table.name}->{parent.name}"] = conn.execute(missing).scalar_one()
    return found


def _payments_match_rentals(conn: Connection) -> int:
    """Payments whose customer or staff differs from their rental's (should be 0)."""
    payment, rental = T["payment"], T["rental"]
    return conn.execute(
        select(func.count())
        .select_from(payment.join(rental, payment.c.rental_id == rental.c.rental_id))
        .where((payment.c.customer_id != rental.c.customer_id) | (payment.c.staff_id != rental.c.staff_id))
    ).scalar_one()


# --- factories ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target_name", ENGINES)
def test_factories_keep_referential_integrity_and_roll_back(source, database: Database) -> None:
    assert deploy_data_objects(source, database).success
    engine = database.engine()
    try:
        with Session(engine) as session, bind_factories(session):
            rentals = RentalFactory.create_batch(4)
            payments = PaymentFactory.create_batch(3)  # each makes its own rental chain
            again = PaymentFactory(rental=rentals[0])  # a second payment for a rental
            FilmActorFactory.create_batch(2)
            FilmCategoryFactory(film=FilmFactory())
            assert all(r.rental_id for r in rentals) and len({p.payment_id for p in [*payments, again]}) == 4
            assert again.rental_id == rentals[0].rental_id and again.customer_id == rentals[0].customer_id

            conn = session.connection()
            counts = _counts(conn)
            assert counts["rental"] == 7 and counts["payment"] == 4 and counts["film_actor"] == 2
            assert set(_orphans(conn).values()) == {0}
            assert _payments_match_rentals(conn) == 0
            rental, inventory, customer, staff = T["rental"], T["inventory"], T["customer"], T["staff"]
            same_store = conn.execute(
                select(func.count())
                .select_from(
                    rental.join(inventory, rental.c.inventory_id == inventory.c.inventory_id)
                    .join(customer, rental.c.customer_id == customer.c.customer_id)
                    .join(staff, rental.c.staff_id == staff.c.staff_id)
                )
                .where(customer.c.store_id == inventory.c.store_id, staff.c.store_id == inventory.c.store_id)
            ).scalar_one()
            assert same_store == 7  # customer and staff of the rented item's store

            session.rollback()
            assert set(_counts(session.connection()).values()) == {0}
    finally:
        engine.dispose()


@pytest.mark.parametrize("target_name", ["sqlite_memory"])
def test_binding_commit_and_unbound(source, database: Database) -> None:
    assert deploy_data_objects(source, database).success
    engine = database.engine()
    try:
        with Session(engine) as session, bind_factories(session, persistence="commit") as bound:
            assert bound is session is current_session()
            ActorFactory.create_batch(2)
        with engine.connect() as conn:  # committed: another connection sees them
            assert conn.execute(text("SELECT count(*) FROM actor")).scalar() == 2
        for factory_class in PAGILA_FACTORIES:  # unbinding puts the defaults back and lets the session go
            assert factory_class._meta.sqlalchemy_session_persistence == "flush"
            assert factory_class._meta.sqlalchemy_session_factory is None
            assert factory_class._meta.sqlalchemy_session is None
        with pytest.raises(RuntimeError, match="No session provided"):  # factory_boy's own message
            ActorFactory()
        built = RentalFactory.build()  # no session needed: parents built, not saved
        assert built.rental_id is None and built.return_date > built.rental_date
        with pytest.raises(ValueError, match="persistence"), Session(engine) as session:
            bind_factories(session, persistence="later")
        with pytest.raises(RuntimeError, match="no session is bound"):
            current_session()
    finally:
        engine.dispose()


# --- generator ----------------------------------------------------------------------------------


def test_row_counts_follow_the_scale() -> None:
    assert row_counts(1) == REAL_COUNTS
    ten = row_counts(10)
    assert ten["rental"] == 160_440 and ten["payment"] == 160_490 and ten["store"] == 5000
    assert ten["language"] == 6 and ten["category"] == 16
    tiny = row_counts(0.0001)
    assert min(tiny.values()) >= 1 and tiny["staff"] >= tiny["store"]
    assert tiny["film_actor"] <= tiny["actor"] * tiny["film"]
    with pytest.raises(DatakitError, match="scale"):
        row_counts(0)


def _materialise(scale: float, seed: int) -> dict[str, list[dict]]:
    return {table.name: list(rows) for table, rows in pagila_rows(scale, seed)}


def test_rows_are_deterministic_for_a_seed() -> None:
    first, again, other = _materialise(0.05, 3), _materialise(0.05, 3), _materialise(0.05, 4)
    assert first == again
    assert first["rental"] != other["rental"] and first["film"] != other["film"]
    assert {len(rows) for rows in first.values()} == set(row_counts(0.05).values())
    keys = [(r["rental_date"], r["inventory_id"], r["customer_id"]) for r in first["rental"]]
    assert len(set(keys)) == len(keys)  # the unique index holds
    assert [s["store_id"] for s in first["store"]][:2] == [0, 1]  # store and staff ids start at 0, like Pagila
    assert {s["manager_staff_id"] for s in first["store"]} <= {s["staff_id"] for s in first["staff"]}


def _plain(value: object) -> object:
    """Datetimes as naive UTC (SQLite and MySQL keep no time zone), the rest as it is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


def _same_rows(conn: Connection, table: str, expected: list[dict], skip: tuple[str, ...] = ()) -> None:
    key = list(T[table].primary_key.columns)
    found = conn.execute(select(T[table]).order_by(*key)).mappings().all()
    assert len(found) == len(expected)
    order = sorted(expected, key=lambda row: tuple(row[c.name] for c in key))
    for live, made in zip(found, order, strict=True):
        columns = [c for c in made if c not in skip]
        assert {c: _plain(live[c]) for c in columns} == {c: _plain(made[c]) for c in columns}


@pytest.mark.parametrize(
    ("target_name", "copy"),
    [("sqlite_memory", None), ("postgres_local", None), ("postgres_local", False), ("mysql_local", None)],
    ids=["sqlite", "postgres-copy", "postgres-insert", "mysql"],
)
def test_generate_small_scale_with_integrity(source, database: Database, copy: bool | None) -> None:
    counts = generate_pagila(database, scale=0.05, seed=7, copy=copy)  # deploys pagila_source itself
    assert counts == row_counts(0.05)
    assert counts["rental"] == round(REAL_COUNTS["rental"] * 0.05)
    expected = _materialise(0.05, 7)
    engine = database.engine()
    try:
        with engine.connect() as conn:
            assert _counts(conn) == counts
            assert set(_orphans(conn).values()) == {0}, _orphans(conn)
            assert _payments_match_rentals(conn) == 0
            store, staff = T["store"], T["staff"]
            managers = conn.execute(
                select(func.count()).select_from(store.join(staff, store.c.manager_staff_id == staff.c.staff_id))
            ).scalar_one()
            assert managers == counts["store"]
            # the database holds the very rows the seed makes, on every engine and by either path
            for table in ("store", "staff", "customer", "rental", "payment", "film_actor"):
                _same_rows(conn, table, expected[table])
            _same_rows(conn, "film", expected["film"], skip=("fulltext",))  # PostgreSQL sorts a tsvector
            assert conn.execute(select(func.min(T["staff"].c.staff_id))).scalar_one() == 0

        # factories add to generated data: keys continue after the generated ones
        with Session(engine) as session, bind_factories(session):
            payment = PaymentFactory()
            assert payment.payment_id == counts["payment"] + 1
            assert payment.rental_id == counts["rental"] + 1
            session.rollback()
    finally:
        engine.dispose()
    report = validate_deployment(source, database)
    assert report.success, report.summary()

    with pytest.raises(DatakitError, match="already hold rows"):
        generate_pagila(database, scale=0.01)


@pytest.mark.parametrize("target_name", ["sqlite_memory"])
def test_copy_needs_postgres(database: Database) -> None:
    with pytest.raises(DatakitError, match="COPY needs PostgreSQL"):
        generate_pagila(database, scale=0.01, copy=True)


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_cli_generate_into_a_url(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = database.url.render_as_string(hide_password=False)
    assert main(["generate", "pagila", "--scale", "0.02", "--seed", "1", "--target", url]) == 0
    out = capsys.readouterr().out
    assert "rental" in out and f"{row_counts(0.02)['rental']:>10,} rows" in out
    assert f"generated {sum(row_counts(0.02).values()):,} rows in" in out
    assert main(["generate", "pagila", "--scale", "-1", "--target", url]) == 2
    assert "scale must be a number above 0" in capsys.readouterr().err


def test_generators_register_through_an_entry_point() -> None:
    from framework.loading.generators import installed_generators, load_generator

    assert load_generator("pagila") is generate_pagila  # pyproject's datakits.generators entry point
    assert "pagila" in installed_generators()
    with pytest.raises(DatakitError, match=r"no generator named 'nope' .*pagila"):
        load_generator("nope")


def test_factories_on_the_real_pagila(pagila_database: Database) -> None:
    """The factories write into the real Pagila too (its partitioned payment table included)."""
    engine = pagila_database.engine()
    try:
        with Session(engine) as session, bind_factories(session):
            before = _counts(session.connection())
            payments = PaymentFactory.create_batch(3)
            conn = session.connection()
            assert _counts(conn)["payment"] == before["payment"] + 3
            assert set(_orphans(conn).values()) == {0}
            for payment in payments:  # (the real data itself does not always match rental and payment staff)
                rental = session.get(Rental, payment.rental_id)
                assert rental and (rental.customer_id, rental.staff_id) == (payment.customer_id, payment.staff_id)
            assert len({p.payment_id for p in payments}) == 3
            session.rollback()
            assert _counts(session.connection()) == before
    finally:
        engine.dispose()
