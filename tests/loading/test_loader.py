"""BulkDataLoader, for real: the real Pagila into bronze on SQLite, PostgreSQL and MariaDB.

Row counts and record hashes match the source; a batch loaded again replaces itself; a transform
that raises, or a process killed with SIGKILL, half way through a batch leaves bronze as it was;
tables load in parallel and one failing leaves the others loaded. Then the canonical form of the
record hash, the one-line errors, the progress display and ``datakits load``.
"""

from __future__ import annotations

import gc
import io
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from datakits.pagila_bronze import models as bronze_models
from datakits.pagila_source import models as source_models
from framework import Database, TargetUnreachable, deploy_data_objects, load_datakit
from framework.cli.main import main
from framework.engines.connect import physical_schema
from framework.engines.generic.canonical import canonical_line, canonical_text, record_hash
from framework.loading.loader import BulkDataLoader, LoadError, LoadResult, load_datakit_tables
from framework.progress import ProgressBoard, format_summary

TARGETS = ["sqlite_file", "postgres_local", "mysql_local"]
SERVER_TARGETS = ["postgres_local", "mysql_local"]
BRONZE = "br__pagila__public"


@pytest.fixture(scope="module")
def bronze():
    return load_datakit("pagila_bronze")


@pytest.fixture(scope="module")
def source_kit():
    return load_datakit("pagila_source")


@pytest.fixture
def bronze_db(bronze, database: Database) -> Database:
    """A fresh database on the target with the bronze datakit deployed."""
    result = deploy_data_objects(bronze, database)
    assert result.success, result.error
    return database


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def _key(row: Any, table) -> tuple[tuple[str, str | None], ...]:
    """A row's source key, by column name, as canonical text (PostgreSQL's datetimes are aware)."""
    mapping = row._mapping
    names = sorted(c.name for c in table.primary_key.columns if c.name != "dk_batch_id")
    return tuple((name, canonical_text(mapping[name])) for name in names)


def snapshot(db: Database, table) -> list[tuple[Any, ...]]:
    """Everything a batch could change in a bronze table: key, batch, hash and load time, sorted."""
    engine = db.engine([BRONZE])
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(table)).all()
    finally:
        engine.dispose()
    return sorted((_key(r, table), r.dk_batch_id, r.dk_record_hash, canonical_text(r.dk_loaded_at)) for r in rows)


def source_hashes(pagila: Database, source_table, bronze_table, transform=None) -> dict[tuple, str]:
    """What bronze should hold: each source row's key -> its record hash (after ``transform``)."""
    engine = pagila.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(source_table)).all()
    finally:
        engine.dispose()
    expected = {}
    for row in rows:
        record = dict(row._mapping)
        if transform is not None:
            record = transform(record)
            if record is None:
                continue
        expected[_key(row, source_table)] = record_hash(bronze_table, record)
    return expected


def bronze_rows(db: Database, table, batch_id: str | None = None) -> list[Any]:
    engine = db.engine([BRONZE])
    statement = select(table)
    if batch_id is not None:
        statement = statement.where(table.c.dk_batch_id == batch_id)
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement).all())
    finally:
        engine.dispose()


# --- The real Pagila into bronze on every engine --------------------------------------------------


@pytest.mark.parametrize("target_name", TARGETS)
def test_real_pagila_loads_into_bronze_with_matching_counts_and_hashes(
    source_kit, bronze, pagila_database: Database, bronze_db: Database
) -> None:
    results = load_datakit_tables(
        source_kit, bronze, source=pagila_database, target=bronze_db, batch_id="b1", workers=4
    )
    assert [r.error for r in results if not r.success] == []
    assert len(results) == 15
    by_name = {t.name: t for t in source_kit.tables}
    for result, table in zip(results, bronze.tables, strict=True):
        assert result.table == table.fullname and result.batch_id == "b1"
        source_table = by_name[table.name]
        expected = source_hashes(pagila_database, source_table, table)
        rows = bronze_rows(bronze_db, table)
        assert result.rows_read == result.rows_written == len(expected) == len(rows), table.name
        assert {_key(r, table): r.dk_record_hash for r in rows} == expected, table.name
        # read back from this engine, every row hashes as it did when it was loaded
        assert all(record_hash(table, r) == r.dk_record_hash for r in rows), table.name
        assert {r.dk_source_table for r in rows} == {source_table.fullname}

    # the same batch again replaces itself: same rows, same hashes, no duplicates
    before = {t.name: [s[:3] for s in snapshot(bronze_db, t)] for t in bronze.tables}
    again = load_datakit_tables(source_kit, bronze, source=pagila_database, target=bronze_db, batch_id="b1")
    assert all(r.success and r.rows_replaced == r.rows_written for r in again)
    assert {t.name: [s[:3] for s in snapshot(bronze_db, t)] for t in bronze.tables} == before

    # another batch of unchanged rows: as many rows again, each with the same hash as in b1
    loader_tables = ["rental", "film", "staff"]
    load_datakit_tables(source_kit, bronze, loader_tables, source=pagila_database, target=bronze_db, batch_id="b2")
    for name in loader_tables:
        table = next(t for t in bronze.tables if t.name == name)
        first = {_key(r, table): r.dk_record_hash for r in bronze_rows(bronze_db, table, "b1")}
        second = {_key(r, table): r.dk_record_hash for r in bronze_rows(bronze_db, table, "b2")}
        assert first == second


# --- All or nothing ---------------------------------------------------------------------------------


def _fail_at(rental_id: int):
    def fail_mid_batch(row: dict[str, Any]) -> dict[str, Any]:
        if row["rental_id"] == rental_id:
            raise ValueError("no such store")
        return row

    return fail_mid_batch


@pytest.mark.parametrize("target_name", TARGETS)
def test_a_transform_that_raises_mid_batch_leaves_bronze_unchanged(
    pagila_database: Database, bronze_db: Database
) -> None:
    rental = bronze_models.Rental.__table__
    with BulkDataLoader(pagila_database, bronze_db, batch_size=1000) as loader:
        loader.load(source_models.Rental, bronze_models.Rental, batch_id="b1")
        before = snapshot(bronze_db, rental)
        for batch in ("b1", "b2"):  # replacing a batch, and adding one
            with pytest.raises(LoadError) as caught:
                loader.load(source_models.Rental, bronze_models.Rental, _fail_at(9000), batch_id=batch)
            assert snapshot(bronze_db, rental) == before
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{BRONZE}.rental: row rental_id=9000: the transform")
    assert "raised ValueError: no such store; batch b2 rolled back" in message
    assert (caught.value.table, caught.value.batch_id, caught.value.key) == (f"{BRONZE}.rental", "b2", "rental_id=9000")
    assert len(before) == 16044


KILLED_LOAD = textwrap.dedent(
    """
    import sys, time
    from datakits.pagila_bronze.models import Rental as BronzeRental
    from datakits.pagila_source.models import Rental as SourceRental
    from framework.loading.loader import BulkDataLoader

    source, target, marker = sys.argv[1:4]
    seen = 0

    def stall(row):
        global seen
        seen += 1
        if seen == 6000:  # five chunks are written by now: wait here to be killed
            open(marker, "w").close()
            time.sleep(120)
        return row

    with BulkDataLoader(source, target, batch_size=1000) as loader:
        loader.load(SourceRental, BronzeRental, stall, batch_id="b1")
    """
)


@pytest.mark.parametrize("target_name", TARGETS)
def test_a_load_killed_mid_batch_leaves_bronze_unchanged(
    pagila_database: Database, bronze_db: Database, tmp_path: Path
) -> None:
    rental = bronze_models.Rental.__table__
    with BulkDataLoader(pagila_database, bronze_db) as loader:
        loader.load(source_models.Rental, bronze_models.Rental, batch_id="b1")
    before = snapshot(bronze_db, rental)
    marker = tmp_path / "in-the-middle"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, _url(pagila_database), _url(bronze_db), str(marker)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never reached the middle of its batch"
            time.sleep(0.05)
    finally:
        child.kill()  # SIGKILL: no cleanup, no rollback from the client
        child.communicate()
    assert child.returncode == -9
    assert snapshot(bronze_db, rental) == before


@pytest.mark.parametrize("target_name", ["mysql_local"])
def test_a_mysql_source_stops_mid_stream_without_reading_the_rest(
    pagila_database: Database, bronze_db: Database
) -> None:
    """A select over bronze on MariaDB as the source (an unbuffered SSCursor), failing half way."""
    rental = bronze_models.Rental
    with BulkDataLoader(pagila_database, bronze_db) as loader:
        loader.load(source_models.Rental, rental, batch_id="b1")
    b1 = select(rental).where(rental.dk_batch_id == "b1")
    with BulkDataLoader(bronze_db, bronze_db, batch_size=1000) as loader:
        with pytest.raises(LoadError, match=r"row rental_id=3000: the transform"):
            loader.load(b1, rental, _fail_at(3000), batch_id="copy")
        gc.collect()  # PyMySQL would read the rest of the result here, from a closed connection
        copied = loader.load(b1, rental, batch_id="copy", source_table="bronze rental b1")
    assert copied.rows_written == 16044
    first = {_key(r, rental.__table__): r.dk_record_hash for r in bronze_rows(bronze_db, rental.__table__, "b1")}
    again = {_key(r, rental.__table__): r.dk_record_hash for r in bronze_rows(bronze_db, rental.__table__, "copy")}
    assert first == again


# --- Parallel tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target_name", TARGETS)
def test_tables_load_in_parallel_and_one_failing_leaves_the_others(
    source_kit, bronze, pagila_database: Database, bronze_db: Database
) -> None:
    # On a server both tables are in flight at once: each waits for the other at its first row.
    # SQLite has one writer at a time, so there the tables take turns and nobody waits.
    both_running = threading.Barrier(2, timeout=30) if bronze_db.engine_name != "sqlite" else None

    first_row_seen = {"actor": False, "rental": False}

    def meet(table: str) -> None:
        if both_running is not None and not first_row_seen[table]:
            first_row_seen[table] = True
            both_running.wait()

    def actor(row: dict[str, Any]) -> dict[str, Any]:
        meet("actor")
        return row

    def rental(row: dict[str, Any]) -> dict[str, Any]:
        meet("rental")
        return _fail_at(12000)(row)

    results = load_datakit_tables(
        source_kit,
        bronze,
        ["actor", "rental"],
        source=pagila_database,
        target=bronze_db,
        workers=2,
        batch_id="b1",
        transforms={"actor": actor, "rental": rental},
    )
    loaded, failed = results
    assert loaded.success and loaded.rows_written == 200, loaded.error
    assert not failed.success and failed.rows_written == 0
    assert failed.error and failed.error.startswith(f"{BRONZE}.rental: row rental_id=12000: the transform")
    assert "ValueError: no such store" in failed.error
    assert len(bronze_rows(bronze_db, bronze_models.Actor.__table__)) == 200
    assert bronze_rows(bronze_db, bronze_models.Rental.__table__) == []
    summary = format_summary(results)
    assert "1 failed" in summary and f"error: {failed.error}" in summary


# --- Types: escaping for COPY, arrays, bytea, JSON elsewhere ------------------------------------


def awkward_film(row: dict[str, Any]) -> dict[str, Any] | None:
    """Text that COPY must escape, arrays with quotes and NULLs; every third film dropped."""
    if row["film_id"] % 3 == 0:
        return None
    row["title"] = f'Tab\there, back\\slash, "quote", new\nline, return\r, \\N, {row["title"]}'
    row["description"] = None if row["film_id"] % 2 else "ünïcödé ☃ 𝄞"
    row["special_features"] = ['a "quoted" one', "back\\slash", "comma, {brace}", "", None, "NULL"]
    row["rental_rate"] = Decimal("4.90")
    return row


def pictured_staff(row: dict[str, Any]) -> dict[str, Any]:
    row["picture"] = bytes(range(256)) if row["staff_id"] % 2 else b"\\x00\t\n"
    return row


@pytest.mark.parametrize("target_name", TARGETS)
def test_awkward_values_round_trip_on_every_engine(pagila_database: Database, bronze_db: Database) -> None:
    cases = [
        (source_models.Film, bronze_models.Film, awkward_film),
        (source_models.Staff, bronze_models.Staff, pictured_staff),
    ]
    with BulkDataLoader(pagila_database, bronze_db) as loader:
        for source, target, transform in cases:
            result = loader.load(source, target, transform, batch_id="odd")
            table = target.__table__
            expected = source_hashes(pagila_database, source.__table__, table, transform)
            rows = bronze_rows(bronze_db, table)
            assert result.rows_written == len(expected) == len(rows)
            assert {_key(r, table): r.dk_record_hash for r in rows} == expected
            assert all(record_hash(table, r) == r.dk_record_hash for r in rows)
    films = {r.film_id: r for r in bronze_rows(bronze_db, bronze_models.Film.__table__)}
    assert films[1].title.startswith('Tab\there, back\\slash, "quote", new\nline, return\r, \\N, ')
    assert films[1].special_features == ['a "quoted" one', "back\\slash", "comma, {brace}", "", None, "NULL"]
    assert films[2].description == "ünïcödé ☃ 𝄞" and films[1].description is None
    assert films[1].rental_rate == Decimal("4.90") and 3 not in films
    staff = {r.staff_id: r for r in bronze_rows(bronze_db, bronze_models.Staff.__table__)}
    assert staff[1].picture == bytes(range(256)) and staff[2].picture == b"\\x00\t\n"


# --- Bad input: one line each -------------------------------------------------------------------------


@pytest.mark.parametrize("target_name", SERVER_TARGETS)
def test_a_value_that_does_not_fit_names_table_and_column(pagila_database: Database, bronze_db: Database) -> None:
    engine = bronze_db.engine([BRONZE])
    actor = f"{physical_schema(engine, BRONZE)}.actor"
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # the current-state view holds the column's type there
            conn.execute(text(f'DROP VIEW "{BRONZE}".actor__current'))
            conn.execute(text(f'ALTER TABLE "{BRONZE}".actor ALTER COLUMN first_name TYPE VARCHAR(5)'))
        else:
            conn.execute(text(f"ALTER TABLE {actor} MODIFY first_name VARCHAR(5) NOT NULL"))
    engine.dispose()
    with BulkDataLoader(pagila_database, bronze_db) as loader, pytest.raises(LoadError) as caught:
        loader.load(source_models.Actor, bronze_models.Actor, batch_id="b1")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    assert message.startswith(f"{BRONZE}.actor: the target database refused the batch: ")
    assert "first_name" in message and message.endswith("batch b1 rolled back")
    assert caught.value.column == "first_name"
    assert bronze_rows(bronze_db, bronze_models.Actor.__table__) == []


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_a_source_table_that_is_missing_is_one_line(bronze_db: Database) -> None:
    with BulkDataLoader(bronze_db, bronze_db) as loader, pytest.raises(LoadError) as caught:
        loader.load(source_models.Actor, bronze_models.Actor, batch_id="b1")
    assert str(caught.value) == f"{BRONZE}.actor: source table actor does not exist in {bronze_db.safe_url}"


@pytest.mark.parametrize("target_name", TARGETS)
def test_a_target_that_is_not_deployed_is_one_line(pagila_database: Database, database: Database) -> None:
    with BulkDataLoader(pagila_database, database) as loader, pytest.raises(LoadError) as caught:
        loader.load(source_models.Actor, bronze_models.Actor, batch_id="b1")
    message = str(caught.value)
    assert message.startswith(f"{BRONZE}.actor: the target table is not deployed in ")
    assert "deploy the bronze datakit first" in message and "\n" not in message


@pytest.mark.parametrize("target_name", ["sqlite_memory"])
def test_transform_results_are_checked(pagila_database: Database, bronze_db: Database) -> None:
    def forgets(row: dict[str, Any]) -> dict[str, Any]:
        del row["last_name"]
        return row

    def misspells(row: dict[str, Any]) -> dict[str, Any]:
        row["frist_name"] = row["first_name"]
        return row

    with BulkDataLoader(pagila_database, bronze_db) as loader:
        with pytest.raises(LoadError, match=r"row actor_id=\d+: the transform gave no value for column last_name"):
            loader.load(source_models.Actor, bronze_models.Actor, forgets, batch_id="b1")
        with pytest.raises(LoadError, match="the transform gave columns the target does not have: frist_name"):
            loader.load(source_models.Actor, bronze_models.Actor, misspells, batch_id="b1")
        with pytest.raises(LoadError, match=r"batch id 'x+' must be a string of 1 to 64 characters"):
            loader.load(source_models.Actor, bronze_models.Actor, batch_id="x" * 65)
        with pytest.raises(LoadError, match="has no lineage columns"):
            loader.load(source_models.Actor, source_models.Actor, batch_id="b1")
        # a select as the source, a model instance as the target row, rows dropped
        statement = select(source_models.Actor).where(source_models.Actor.actor_id <= 50)

        def as_model(row: dict[str, Any]) -> bronze_models.Actor | None:
            if row["actor_id"] % 2:
                return None
            return bronze_models.Actor(**row, dk_batch_id="", dk_source_table="", dk_record_hash="")

        result = loader.load(statement, bronze_models.Actor, as_model, batch_id="sel", source_table="public.actor")
    assert (result.rows_read, result.rows_written, result.rows_dropped) == (50, 25, 25)
    rows = bronze_rows(bronze_db, bronze_models.Actor.__table__)
    assert len(rows) == 25 and {r.dk_source_table for r in rows} == {"public.actor"}


@pytest.mark.parametrize("target_name", ["sqlite_memory"])
def test_unknown_tables_and_unreachable_sources_are_one_line(source_kit, bronze, bronze_db: Database) -> None:
    with pytest.raises(LoadError, match="no table 'actorx' in datakit pagila_bronze; it has actor, address"):
        load_datakit_tables(source_kit, bronze, ["actorx"], source=bronze_db, target=bronze_db)
    with pytest.raises(TargetUnreachable, match=r"^source \(postgresql\+psycopg2://postgres@127.0.0.1:1/x\): "):
        load_datakit_tables(
            source_kit, bronze, ["actor"], source="postgresql://postgres@127.0.0.1:1/x", target=bronze_db
        )


# --- The record hash -------------------------------------------------------------------------------


def test_canonical_text_is_the_same_whatever_the_engine_gave() -> None:
    aware = datetime(2022, 5, 16, 15, 13, 11, 793280, tzinfo=UTC)
    assert canonical_text(aware) == "2022-05-16 15:13:11.793280+00:00"
    assert canonical_text(aware.replace(tzinfo=None)) == canonical_text(aware)  # MySQL, SQLite: naive UTC
    assert canonical_text(aware.astimezone(timezone(timedelta(hours=-5)))) == canonical_text(aware)
    assert canonical_text(datetime(2022, 1, 1, tzinfo=UTC)) == "2022-01-01 00:00:00+00:00"
    decimals = [canonical_text(Decimal(x)) for x in ("4.90", "5.00", "-0.00", "1E+2", "0.000")]
    assert decimals == ["4.9", "5", "0", "100", "0"]
    assert canonical_text(None) is None and canonical_text(True) == "true" and canonical_text(7) == "7"
    assert canonical_text(0.1) == "0.1" and canonical_text(date(2022, 2, 1)) == "2022-02-01"
    assert canonical_text(b"\x00\xff") == canonical_text(memoryview(b"\x00\xff")) == "\\x00ff"
    assert canonical_text(["b", None, 1]) == canonical_text(("b", None, 1)) == '["b",null,1]'
    assert canonical_text({"z": 1, "a": [Decimal("1.50")]}) == '{"a":["1.5"],"z":1}'
    assert canonical_line(["a\tb", None, "\\N"]) == "a\\tb\t\\N\t\\\\N"


def test_record_hash_is_stable_and_ignores_char_padding() -> None:
    row = {
        "language_id": 1,
        "name": "English             ",  # PostgreSQL pads CHAR(20); MySQL strips the spaces
        "last_update": datetime(2022, 2, 15, 10, 2, 19, tzinfo=UTC),
    }
    digest = record_hash(bronze_models.Language, row)
    assert digest == record_hash(bronze_models.Language, {**row, "name": "English"})
    # the canonical line, spelled out: a change here changes every stored hash
    assert digest == __import__("hashlib").sha256(b"1\tEnglish\t2022-02-15 10:02:19+00:00").hexdigest()


# --- Progress and the command line ---------------------------------------------------------------


def test_progress_board_and_summary() -> None:
    ok = LoadResult(f"{BRONZE}.actor", "actor", "b1", 200, 200, 0, 0.5)
    failed = LoadResult(f"{BRONZE}.rental", "rental", "b1", 7, 0, 0, 0.1, error="rental: boom")
    log = io.StringIO()
    board = ProgressBoard(log, live=False)
    board.start(ok.table, 200)
    board.update(ok.table, 100, 100)
    board.finish(ok)
    board.finish(failed)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith(f"{BRONZE}.actor [########################] 100%")
    assert lines[0].endswith("200 rows        400 rows/s ok") and lines[1].endswith("FAILED")
    screen = io.StringIO()
    live = ProgressBoard(screen, live=True, interval=0)  # rich.progress: tests/test_progress.py
    live.start("t", 10)
    live.update("t", 5, 5)
    live.close()
    assert re.search(r"\x1b\[2Kt +.* 50%.* 5 rows", screen.getvalue())
    summary = format_summary([ok, failed]).splitlines()
    assert summary[0].split() == ["table", "rows", "read", "rows", "written", "seconds", "rows/s", "status"]
    assert summary[2].split() == [f"{BRONZE}.actor", "200", "200", "0.50", "400", "ok"]
    assert summary[-2].split() == ["total", "207", "200", "1", "failed"] and summary[-1] == "error: rental: boom"


def test_datakits_load_command(pagila_database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["load", "--source", _url(pagila_database), "--datakit", "pagila_source", "--target", "sqlite_memory"]
    status = main([*argv, "--tables", "actor", "category", "--batch-id", "cli", "--workers", "2"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "loading pagila_source -> pagila_bronze, batch cli:" in out
    assert f"{BRONZE}.actor" in out and f"{BRONZE}.category" in out and "total" in out
    assert f"{BRONZE}.actor [" in err and "200 rows" in err
    assert main([*argv, "--tables", "nope"]) == 2
    assert "datakits: no table 'nope' in datakit pagila_bronze" in capsys.readouterr().err


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_datakits_load_into_a_url_needs_the_bronze_tables(
    pagila_database: Database, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["load", "--source", _url(pagila_database), "--datakit", "pagila_source", "--target", _url(database)]
    assert main([*argv, "--tables", "country"]) == 1
    assert "the target table is not deployed" in capsys.readouterr().out
    assert main([*argv, "--tables", "country", "--deploy"]) == 0
    engine = database.engine([BRONZE])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bronze_models.Country.__table__)).scalar() == 109
    engine.dispose()


@pytest.mark.parametrize("target_name", ["sqlite_memory", "postgres_local", "mysql_local"])
def test_an_atomic_batch_loads_every_table_or_none(
    source_kit, bronze, pagila_database: Database, bronze_db: Database
) -> None:
    def load(**transforms: Any) -> list[Any]:
        return load_datakit_tables(
            source_kit, bronze, ["actor", "rental"], source=pagila_database, target=bronze_db,
            batch_id="atomic", transforms=transforms, atomic=True,
        )  # fmt: skip

    failed = load(rental=_fail_at(12000))
    assert [r.success for r in failed] == [False, False]
    assert failed[0].error == f"{BRONZE}.actor: not loaded: the batch is atomic and {BRONZE}.rental failed"
    assert bronze_rows(bronze_db, bronze_models.Actor.__table__) == []  # actor had loaded: rolled back with rental
    loaded = load()
    assert [r.rows_written for r in loaded] == [200, 16044]
    assert len(bronze_rows(bronze_db, bronze_models.Actor.__table__)) == 200
