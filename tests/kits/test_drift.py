"""The drift report on every engine: foreign keys (missing, to the wrong table, extra), extra tables in
the default schema, the wording of unnamed uniques, and types in the database's own names."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Numeric, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from framework import Database, validate_deployment
from framework.cli.main import main

TARGETS = ["sqlite_file", "postgres_local", "mysql_local"]


class DriftKit(SQLModel, registry=registry()):
    """A small kit of its own: an artist, a label, an album that refers to the artist."""


class Artist(DriftKit, table=True):
    artist_id: int = Field(primary_key=True)


class Label(DriftKit, table=True):
    label_id: int = Field(primary_key=True)


class Album(DriftKit, table=True):
    __table_args__ = (UniqueConstraint("title"),)
    album_id: int = Field(primary_key=True)
    title: str = Field(max_length=160)
    artist_id: int = Field(foreign_key="artist.artist_id")
    price: Decimal = Field(sa_type=Numeric(10, 2))


KIT = [Artist, Label, Album]


def build(database: Database, album_tail: str, price: str = "NUMERIC(10,2)", extra: bool = False) -> None:
    """The kit's tables written by hand, with the album table ending in ``album_tail``."""
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE artist (artist_id INTEGER NOT NULL PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE label (label_id INTEGER NOT NULL PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE album (album_id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(160) NOT NULL, "
                f"artist_id INTEGER NOT NULL, price {price} NOT NULL{album_tail})"
            )
        )
        if extra:
            conn.execute(text("CREATE TABLE stray (id INTEGER NOT NULL PRIMARY KEY)"))
    engine.dispose()


def drift_of(database: Database) -> list[str]:
    return [str(d) for d in validate_deployment(KIT, database).drift]


UNIQUE = ", UNIQUE (title)"


@pytest.mark.parametrize("target_name", TARGETS)
def test_as_written_there_is_no_drift(database: Database) -> None:
    build(database, f"{UNIQUE}, FOREIGN KEY (artist_id) REFERENCES artist (artist_id)")
    assert drift_of(database) == []


@pytest.mark.parametrize("target_name", TARGETS)
def test_a_missing_foreign_key_is_reported(database: Database) -> None:
    build(database, UNIQUE)
    assert drift_of(database) == ["album: foreign key on (artist_id) to artist (artist_id) is missing"]


@pytest.mark.parametrize("target_name", TARGETS)
def test_a_foreign_key_to_the_wrong_table_is_reported(database: Database) -> None:
    build(database, f"{UNIQUE}, CONSTRAINT album_to_label FOREIGN KEY (artist_id) REFERENCES label (label_id)")
    assert drift_of(database) == [
        "album: foreign key album_to_label on (artist_id) refers to label (label_id), expected artist (artist_id)"
    ]


@pytest.mark.parametrize("target_name", TARGETS)
def test_an_unnamed_unique_and_a_type_read_as_the_database_says(database: Database) -> None:
    build(database, ", FOREIGN KEY (artist_id) REFERENCES artist (artist_id)", price="NUMERIC(12,2)")
    native = "DECIMAL" if database.engine_name == "mysql" else "NUMERIC"
    assert sorted(drift_of(database)) == [
        f"album.price: type is {native}(12,2), expected {native}(10,2)",
        "album: unique on (title) is missing",
    ]


@pytest.mark.parametrize("target_name", TARGETS)
def test_validate_reports_an_extra_table_in_the_default_schema(
    database: Database, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(database, f"{UNIQUE}, FOREIGN KEY (artist_id) REFERENCES artist (artist_id)", extra=True)
    kit = tmp_path / "drift_kit.py"
    kit.write_text(
        "from sqlalchemy.orm import registry\nfrom sqlmodel import Field, SQLModel\n\n\n"
        "class Base(SQLModel, registry=registry()):\n    pass\n\n\n"
        "class Artist(Base, table=True):\n    artist_id: int = Field(primary_key=True)\n"
    )
    url = database.url.render_as_string(hide_password=False)
    assert main(["validate", str(kit), "--target", url]) == 1
    out = capsys.readouterr().out
    assert "  - stray: table is not in the datakit" in out
    assert "  - album: table is not in the datakit" in out and "label" in out


def test_tested_foreign_keys_come_in_the_same_order_every_run() -> None:
    """A table's foreign keys are a set: "tested by dbt" lines follow their columns, not the set's order."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table
    from sqlalchemy.dialects import postgresql

    from framework.kits.validate import tested_by_dbt, tested_foreign_keys

    meta = MetaData()
    for name in ("a", "b", "c", "d"):
        Table(name, meta, Column("id", Integer, primary_key=True))
    columns = [Column(f"{name}_id", Integer, ForeignKey(f"{name}.id")) for name in ("d", "b", "c", "a")]
    fact = tested_by_dbt(Table("fact", meta, Column("id", Integer, primary_key=True), *columns))
    lines = tested_foreign_keys(fact, postgresql.dialect())
    assert [line.split("(")[1].split(")")[0] for line in lines] == ["a_id", "b_id", "c_id", "d_id"]
