"""``derive_bronze``: the bronze datakit of any source datakit, and ``datakits load`` with no bronze kit written.

The derived Pagila bronze is the written-out ``pagila_bronze`` (no drift either way); a kit
reflected from the real Chinook loads into a derived bronze on PostgreSQL, MariaDB and SQLite with
the source's counts, and loading the batch again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chinook_sample import COUNTS, load_chinook
from sqlalchemy import ForeignKeyConstraint, Table, func, select

from framework import (
    Database,
    deploy_data_objects,
    derive_bronze,
    load_datakit,
    load_datakit_tables,
    validate_deployment,
)
from framework.cli.main import main
from framework.kits.mixins import LINEAGE_COLUMNS
from framework.kits.reflect import reflect_datakit

TARGETS = ["sqlite_file", "postgres_local", "mysql_local"]
PAGILA_COUNTS = {  # the real Pagila's (its README)
    "rental": 16044,
    "payment": 16049,
    "film_actor": 5462,
    "inventory": 4581,
    "film_category": 2367,
    "staff": 1500,
    "film": 1000,
    "address": 603,
    "city": 600,
    "customer": 599,
    "store": 500,
    "actor": 200,
    "country": 109,
    "category": 16,
    "language": 6,
}


def url_of(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


@pytest.mark.parametrize("target_name", TARGETS)
def test_derived_pagila_bronze_is_the_written_one(database: Database) -> None:
    derived = derive_bronze("pagila_source")
    written = load_datakit("pagila_bronze")
    assert {t.fullname for t in derived.tables} == {t.fullname for t in written.tables}
    assert deploy_data_objects(written, database).success
    report = validate_deployment(derived, database)
    assert report.success, report.summary()
    assert deploy_data_objects(derived, database).existing  # and deploying it over the written one: all there


def test_a_derived_table_has_no_foreign_keys_and_keys_on_the_batch() -> None:
    rental = next(t for t in derive_bronze("pagila_source").tables if t.name == "rental")
    assert not [c for c in rental.constraints if isinstance(c, ForeignKeyConstraint)]
    assert [c.name for c in rental.primary_key.columns] == ["rental_id", "dk_batch_id"]
    assert [c.name for c in rental.columns][-4:] == list(LINEAGE_COLUMNS)
    assert {i.name for i in rental.indexes} == {"ix_br_rental_dk_batch_id"}
    other = derive_bronze("pagila_source", schema="landing")
    assert {t.schema for t in other.tables} == {"landing"}


@pytest.fixture(scope="module")
def chinook_source(servers) -> Iterator[Database]:
    """The real Chinook on the local PostgreSQL, once for the module."""
    run = servers.get("postgres_local")[1]
    db = run.create_database("chinooksrc")
    engine = db.engine()
    try:
        load_chinook(engine)
    finally:
        engine.dispose()
    yield db
    run.drop(db)


@pytest.fixture(scope="module")
def chinook_kit(chinook_source: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kits") / "chinook_source"
    reflect_datakit(url_of(chinook_source), folder)
    return folder


def bronze_rows(db: Database, bronze: Table) -> list[tuple]:
    engine = db.engine([bronze.schema])
    with engine.connect() as conn:
        cols = [c for c in bronze.columns if c.name != "dk_loaded_at"]  # the load time is the one thing new
        rows = conn.execute(select(*cols).order_by(*bronze.primary_key.columns)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("target_name", TARGETS)
def test_load_a_reflected_kit_into_a_derived_bronze(
    chinook_source: Database, chinook_kit: Path, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["load", "--source", url_of(chinook_source), "--datakit", str(chinook_kit), "--target", url_of(database)]
    assert main([*args, "--deploy", "--batch-id", "b1"]) == 0, capsys.readouterr().err
    assert "chinook_bronze (derived from" in capsys.readouterr().out
    bronze = derive_bronze(load_datakit(chinook_kit))
    assert {t.schema for t in bronze.tables} == {"br__chinook__public"}
    engine = database.engine(["br__chinook__public"])
    with engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in bronze.tables}
    engine.dispose()
    assert counts == COUNTS
    before = {t.name: bronze_rows(database, t) for t in bronze.tables}
    assert main([*args, "--batch-id", "b1"]) == 0, capsys.readouterr().err  # the same batch again: replaced
    assert {t.name: bronze_rows(database, t) for t in bronze.tables} == before
    assert validate_deployment(bronze, database).success


@pytest.mark.parametrize("target_name", ["sqlite_file", "mysql_local"])
def test_the_real_pagila_reflected_loads_into_a_derived_bronze_elsewhere(
    pagila_database: Database, database: Database, tmp_path: Path
) -> None:
    # arrays, tsvector, the year domain and the rating enum, reflected from PostgreSQL: portable in bronze
    source_kit = load_datakit(reflect_datakit(url_of(pagila_database), tmp_path / "pagila_seen").path)
    bronze = derive_bronze(source_kit)
    assert deploy_data_objects(bronze, database).success
    results = load_datakit_tables(source_kit, bronze, source=pagila_database, target=database, batch_id="b1")
    assert all(r.success for r in results), [r.error for r in results if r.error]
    assert {r.table.rsplit(".", 1)[-1]: r.rows_written for r in results} == PAGILA_COUNTS


def test_deploy_and_validate_derive_bronze_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "pagila_source", "--derive-bronze", "--target", "sqlite_memory", "--validate"]) == 0
    out = capsys.readouterr().out
    assert "deployed pagila_bronze (derived from pagila_source)" in out and "15 created" in out
    assert "no drift" in out
