"""The Pagila datakits and the table mixins on real SQLite, PostgreSQL and MariaDB/MySQL databases.

Each backend gets databases of its own for this module (a temp file, ``dkt_models_<hex>`` on the
local servers), dropped at the end. A server that does not answer is skipped with the reason.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Field, Session, SQLModel, select

import datakits.pagila_bronze as bronze
import datakits.pagila_source as source
from datakits.pagila_bronze.models import SCHEMA as BRONZE_SCHEMA
from framework.kits.mixins import LINEAGE_COLUMNS, ReferenceMixin, TransactionalMixin

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
MYSQL_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306/"

SOURCE_TABLES = [getattr(source, name).__table__ for name in source.__all__]
BRONZE_TABLES = [getattr(bronze, name).__table__ for name in bronze.__all__]


class MixinNote(TransactionalMixin, table=True):
    __tablename__ = "dkt_mixin_note"
    id: int | None = Field(default=None, primary_key=True)
    body: str = Field(sa_type=sa.String(50))


class MixinTag(ReferenceMixin, TransactionalMixin, table=True):
    __tablename__ = "dkt_mixin_tag"
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(sa_type=sa.String(50))


MIXIN_TABLES = [MixinNote.__table__, MixinTag.__table__]


def _admin_engine(url: str) -> Engine:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        engine.connect().close()
    except OperationalError as exc:
        engine.dispose()
        pytest.skip(f"no server at {engine.url.render_as_string()}: {exc.orig}")
    return engine


def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'main.db'}")

    @sa.event.listens_for(engine, "connect")
    def _attach_bronze(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"ATTACH DATABASE '{tmp_path / 'bronze.db'}' AS {BRONZE_SCHEMA}")

    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    admin = _admin_engine(PG_ADMIN_URL)
    name = f"dkt_models_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = sa.create_engine(admin.url.set(database=name))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {BRONZE_SCHEMA}")
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _mysql() -> Iterator[Engine]:
    admin = _admin_engine(MYSQL_ADMIN_URL)
    name = f"dkt_models_{uuid.uuid4().hex[:12]}"
    names = (name, f"{name}__{BRONZE_SCHEMA}")  # on MySQL a schema is a database (framework's naming)
    with admin.connect() as conn:
        for db in names:
            conn.exec_driver_sql(f"CREATE DATABASE {db}")
    engine = sa.create_engine(admin.url.set(database=name))
    try:
        yield engine.execution_options(schema_translate_map={BRONZE_SCHEMA: names[1]})
    finally:
        engine.dispose()
        with admin.connect() as conn:
            for db in names:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {db}")
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on empty databases of this module's own, with a bronze schema beside the default."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path_factory.mktemp("sqlite"))
    elif request.param == "postgresql":
        yield from _postgres()
    else:
        yield from _mysql()


# --- Without a database -------------------------------------------------------------------------


def test_mixin_columns_belong_to_each_table() -> None:
    note, tag = MixinNote.__table__.c, MixinTag.__table__.c
    assert note.updated_at is not tag.updated_at
    assert note.updated_at.table is MixinNote.__table__
    assert tag.updated_at.table is MixinTag.__table__
    assert not note.updated_at.nullable
    assert note.updated_at.onupdate is not None
    assert tag.last_update.onupdate is not None


def test_bronze_tables_are_source_columns_plus_lineage() -> None:
    sources = {t.name: t for t in SOURCE_TABLES}
    assert set(sources) == {t.name for t in BRONZE_TABLES}
    assert len(BRONZE_TABLES) == 15
    for table in BRONZE_TABLES:
        src = sources[table.name]
        assert table.schema == BRONZE_SCHEMA
        assert src.schema is None
        assert [c.name for c in table.columns] == [c.name for c in src.columns] + list(LINEAGE_COLUMNS)
        assert {c.name for c in table.primary_key} == {c.name for c in src.primary_key} | {"dk_batch_id"}
        assert not table.foreign_keys
        assert [(ix.name, [c.name for c in ix.columns]) for ix in table.indexes] == [
            (f"ix_br_{table.name}_dk_batch_id", ["dk_batch_id"])
        ]


# --- On each backend ----------------------------------------------------------------------------


def test_source_deploys_and_round_trips(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=SOURCE_TABLES)
    with Session(engine) as session:
        language = source.Language(name="English")
        actor = source.Actor(first_name="PENELOPE", last_name="GUINESS")
        session.add_all([language, actor])
        session.flush()
        film = source.Film(
            title="ACADEMY DINOSAUR",
            release_year=2006,
            language_id=language.language_id,
            rating="PG-13",
            special_features=["Trailers", "Deleted Scenes"],
        )
        session.add(film)
        session.flush()
        session.add(source.FilmActor(actor_id=actor.actor_id, film_id=film.film_id))
        session.commit()
        film_id = film.film_id

    with Session(engine) as session:
        film = session.get_one(source.Film, film_id)
        assert film.title == "ACADEMY DINOSAUR"
        assert film.release_year == 2006
        assert film.rating == "PG-13"
        assert film.special_features == ["Trailers", "Deleted Scenes"]
        assert film.rental_rate == Decimal("4.99")
        assert session.get_one(source.Language, film.language_id).name.rstrip() == "English"
        (link,) = session.exec(select(source.FilmActor)).all()
        assert session.get_one(source.Actor, link.actor_id).last_name == "GUINESS"


def test_bronze_deploys_and_keeps_one_row_per_batch(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=BRONZE_TABLES)

    def lineage(batch: str, table: str, row: str) -> dict[str, str]:
        digest = hashlib.sha256(row.encode()).hexdigest()
        return {"dk_batch_id": batch, "dk_source_table": table, "dk_record_hash": digest}

    with Session(engine) as session:
        for batch in ("b1", "b2"):
            session.add(bronze.Language(language_id=1, name="English", **lineage(batch, "language", "1")))
        session.add(
            bronze.Film(
                film_id=1,
                title="ACADEMY DINOSAUR",
                language_id=1,
                special_features=["Commentaries"],
                **lineage("b1", "film", "1"),
            )
        )
        # no foreign keys: bronze takes a link whose parents are not (yet) loaded
        session.add(bronze.FilmActor(actor_id=99, film_id=98, **lineage("b1", "film_actor", "99,98")))
        session.commit()

    with Session(engine) as session:
        rows = session.exec(select(bronze.Language).order_by(bronze.Language.dk_batch_id)).all()
        assert [r.dk_batch_id for r in rows] == ["b1", "b2"]
        assert len(rows[0].dk_record_hash) == 64
        assert rows[0].dk_loaded_at is not None
        film = session.exec(select(bronze.Film)).one()
        assert film.special_features == ["Commentaries"]
        assert film.dk_source_table == "film"

    with Session(engine) as session, pytest.raises(IntegrityError):
        session.add(bronze.Language(language_id=1, name="English", **lineage("b1", "language", "1")))
        session.commit()


def test_mixins_on_two_tables_refresh_on_update(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=MIXIN_TABLES)
    with Session(engine) as session:
        note, tag = MixinNote(body="first"), MixinTag(label="first")
        session.add_all([note, tag])
        session.commit()
        session.refresh(note)
        session.refresh(tag)
        before = {"note": (note.created_at, note.updated_at), "tag": (tag.created_at, tag.updated_at)}
        tag_last_update = tag.last_update

        time.sleep(0.002)  # the timestamps keep microseconds on every backend; make sure they move
        note.body, tag.label = "second", "second"
        session.commit()
        session.refresh(note)
        session.refresh(tag)

    for name, row in (("note", note), ("tag", tag)):
        created, updated = before[name]
        assert row.created_at == created, name
        assert row.updated_at > updated, name
    assert tag.last_update > tag_last_update
