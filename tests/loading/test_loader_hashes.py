"""The record hash and the lineage the loader writes are the reference's, byte for byte.

The reference is the definition in :mod:`framework.engines.generic.canonical`, applied one row at a
time: ``sha256(canonical_line(values, columns))`` of the source row (after the transform). The
loader gets there another way (per chunk: the transform through ``map``, PostgreSQL's generated
COPY encoder with its cached datetime texts, the executemany parameters elsewhere), so awkward
values load on PostgreSQL, MariaDB and SQLite, without a transform, with one that gives dicts, one
that drops rows, and one that drops rows and mixes dicts and objects, in chunks of 7 rows; every
hash must be the reference's. Then the COPY encoder against the reference without a database, the
row an error names, and the collector threshold a load sets and puts back.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import CHAR, DateTime, LargeBinary, Numeric, Text, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from framework import Database, deploy_data_objects
from framework.engines.generic.canonical import (
    InfiniteDatetime,
    business_columns,
    canonical_line,
    column_kind,
    infinite,
)
from framework.engines.postgresql.writer import make_encoder
from framework.kits.mixins import TIMESTAMPTZ, BronzeLineageMixin
from framework.loading import collector
from framework.loading.loader import BulkDataLoader, LoadError


class SourceBase(SQLModel, registry=registry()):
    """The source's tables, in a MetaData of their own."""


class BronzeBase(SQLModel, registry=registry()):
    """The bronze tables, in a MetaData of their own."""


class OddColumns(SQLModel):
    id: int = Field(primary_key=True)
    name: str | None = Field(default=None, sa_type=Text)
    code: str | None = Field(default=None, sa_type=CHAR(5))
    flag: bool | None = None
    amount: Decimal | None = Field(default=None, sa_type=Numeric(12, 4))
    ratio: float | None = Field(default=None, sa_type=DOUBLE_PRECISION(precision=53))
    at: datetime | None = Field(default=None, sa_type=DateTime)
    at_tz: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)
    day: date | None = None
    blob: bytes | None = Field(default=None, sa_type=LargeBinary)
    updated: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)


class Odd(OddColumns, SourceBase, table=True):
    __tablename__ = "odd"


class BronzeOdd(BronzeLineageMixin, OddColumns, BronzeBase, table=True):
    __tablename__ = "odd"


NAMES = [
    "plain",
    "tab\there",
    "new\nline and return\r",
    "back\\slash and \\N and \\t",
    "ünïcödé ☃ 𝄞",
    "",
    "   leading and trailing   ",
    '"quoted", {braced}',
    None,
]
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), timezone(timedelta(hours=1))]


def odd_rows(count: int = 45) -> list[dict[str, Any]]:
    """Rows with every awkward value, runs of equal timestamps among them (the encoder reuses a
    repeated datetime's text), and a row of NULLs."""
    base = datetime(2024, 3, 10, 23, 59, 58, 123456)
    rows = []
    for i in range(1, count + 1):
        at = base + timedelta(seconds=i // 3, microseconds=0 if i % 4 == 0 else i)
        rows.append(
            {
                "id": i,
                "name": NAMES[i % len(NAMES)],
                "code": ["ab", "abcde", "a b", "", None][i % 5],
                "flag": [True, False, None][i % 3],
                "amount": [Decimal("5.0000"), Decimal("-0.0000"), Decimal("1234.5600"), Decimal("-12.3400"), None][
                    i % 5
                ],
                "ratio": [0.1, -2.5, 1e20, 1 / 3, None, 0.0][i % 6],
                "at": None if i % 11 == 0 else at,
                "at_tz": None if i % 13 == 0 else at.replace(tzinfo=ZONES[i % len(ZONES)]),
                "day": [date(2024, 2, 29), date(1999, 12, 31), None][i % 3],
                "blob": [b"", bytes(range(256)), b"\\x00\t\n", None][i % 4],
                "updated": datetime(2022, 2, 15, 9, 57, 20, tzinfo=UTC) if i < 30 else datetime(2022, 2, 15, 9, 57, 21),
            }
        )
    rows[-1] = {"id": count + 1} | {k: None for k in rows[0] if k != "id"}
    return rows


def _naive_utc(row: dict[str, Any]) -> dict[str, Any]:
    at = row["updated"]
    if at is not None and at.tzinfo is None:
        row["updated"] = at.replace(tzinfo=UTC)
    return row


def to_dicts(row: dict[str, Any]) -> dict[str, Any]:
    """Every row a dict with a value changed: the chunk-wise path all through."""
    row["name"] = None if row["name"] is None else row["name"] + "\t→\\"
    row["flag"] = None if row["flag"] is None else not row["flag"]
    return row


def drops(row: dict[str, Any]) -> dict[str, Any] | None:
    """Rows dropped among dicts: the chunk-wise path on the rows kept."""
    return None if row["id"] % 4 == 0 else row


def drops_and_mixes(row: dict[str, Any]) -> Any:
    """Rows dropped, dicts and objects mixed: the row-by-row path."""
    if row["id"] % 5 == 0:
        return None
    row["amount"] = Decimal("4.90") if row["id"] % 2 else row["amount"]
    return SimpleNamespace(**row) if row["id"] % 7 == 0 else row


def reference_hashes(source: Database, transform: Callable[[dict[str, Any]], Any] | None) -> dict[int, str]:
    """Each source row's id -> the reference record hash: the canonical line of one row, hashed."""
    columns = business_columns(BronzeOdd.__table__.columns)  # type: ignore[attr-defined]
    engine = source.engine()
    try:
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(Odd.__table__))]  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    expected = {}
    for record in rows:
        result = record if transform is None else transform(dict(record))
        if result is None:
            continue
        get = result.get if isinstance(result, dict) else lambda name, r=result: getattr(r, name)
        line = canonical_line([get(c.name) for c in columns], columns)
        expected[record["id"]] = hashlib.sha256(line.encode()).hexdigest()
    return expected


@pytest.fixture(scope="module")
def odd_source(servers: Any) -> Any:
    _, run = servers.get("postgres_local")
    db = run.create_database("hashes_source")
    assert deploy_data_objects([Odd], db).success
    engine = db.engine()
    with engine.begin() as conn:
        conn.execute(Odd.__table__.insert(), odd_rows())  # type: ignore[attr-defined]
    engine.dispose()
    yield db
    run.drop(db)


@pytest.mark.parametrize("target_name", ["postgres_local", "mysql_local", "sqlite_file"])
def test_record_hashes_and_lineage_are_the_reference_byte_for_byte(odd_source: Database, database: Database) -> None:
    assert deploy_data_objects([BronzeOdd], database).success
    table = BronzeOdd.__table__  # type: ignore[attr-defined]
    started = datetime.now(UTC)
    cases: list[tuple[str, Any]] = [("plain", None), ("dicts", to_dicts), ("drops", drops), ("mixed", drops_and_mixes)]
    with BulkDataLoader(odd_source, database, batch_size=7) as loader:
        for batch, transform in cases:
            result = loader.load(Odd, BronzeOdd, transform, batch_id=batch)
            expected = reference_hashes(odd_source, transform)
            engine = database.engine([None])
            with engine.connect() as conn:
                rows = conn.execute(select(table).where(table.c.dk_batch_id == batch)).all()
            engine.dispose()
            assert result.rows_written == len(expected) == len(rows), batch
            assert {r.id: r.dk_record_hash for r in rows} == expected, batch
            assert {(r.dk_batch_id, r.dk_source_table) for r in rows} == {(batch, "odd")}
            [loaded_at] = {_naive_utc({"updated": r.dk_loaded_at})["updated"] for r in rows}  # one per batch
            assert started - timedelta(seconds=5) <= loaded_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert len(expected) < len(odd_rows())  # the last case dropped rows


def test_the_copy_encoder_gives_the_reference_lines_and_hashes() -> None:
    columns = business_columns(BronzeOdd.__table__.columns)  # type: ignore[attr-defined]
    kinds = [column_kind(c, postgresql.dialect()) for c in columns]
    lineage = "2024-01-01 00:00:00+00:00\tb1\todd"
    encode = make_encoder(columns, kinds, lineage)
    rows = [tuple(r[c.name] for c in columns) for r in odd_rows()]
    # equal instants that must not share a text: naive and aware, UTC and another zone, an infinite
    # timestamp equal to datetime.max, and a datetime subclass
    edge = rows[0]
    at = datetime(2024, 1, 1, 12, 0, 0, 5, tzinfo=UTC)
    for at_tz, updated in [
        (at, at),
        (at.astimezone(timezone(timedelta(hours=2))), at.replace(tzinfo=None)),
        (datetime.max.replace(tzinfo=UTC), datetime.max),
        (infinite(datetime, "infinity", aware=True), infinite(datetime, "infinity")),
        (datetime.max.replace(tzinfo=UTC), datetime.max),
        (infinite(datetime, "-infinity", aware=True), InfiniteDatetime(2024, 1, 1)),
    ]:
        rows.append((*edge[:7], at_tz, *edge[8:10], updated))
    lines = encode(rows).split("\n")
    assert lines.pop() == ""
    assert len(lines) == len(rows)
    for row, line in zip(rows, lines, strict=True):
        reference = canonical_line(row, columns)
        digest = hashlib.sha256(reference.encode()).hexdigest()
        assert line == f"{reference}\t{lineage}\t{digest}"


def test_a_load_raises_the_collector_threshold_and_puts_it_back() -> None:
    before = gc.get_threshold()
    inside: list[tuple[int, int, int]] = []
    entered, leave = threading.Event(), threading.Event()

    def other_load() -> None:
        with collector.rare_collections():
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=other_load)
    thread.start()
    try:
        assert entered.wait(10)
        with collector.rare_collections():
            inside.append(gc.get_threshold())
        inside.append(gc.get_threshold())  # the other load still runs
    finally:
        leave.set()
        thread.join()
    assert inside == [(collector.LOADING_THRESHOLD, *before[1:])] * 2
    assert gc.get_threshold() == before


@pytest.mark.parametrize("target_name", ["sqlite_memory"])
def test_the_first_bad_row_of_a_chunk_is_the_one_named(odd_source: Database, database: Database) -> None:
    """Rows 8 to 14 make the second chunk: the error names the row, wherever it is in its chunk."""

    def raises_at_ten(row: dict[str, Any]) -> dict[str, Any]:
        if row["id"] == 10:
            raise ValueError("ten")
        return row

    def forgets_nine_raises_at_ten(row: dict[str, Any]) -> dict[str, Any]:
        if row["id"] == 9:
            del row["name"]
        return raises_at_ten(row)

    def extra_at_twelve(row: dict[str, Any]) -> dict[str, Any]:
        if row["id"] == 12:
            row["nmae"] = row["name"]
        return row

    assert deploy_data_objects([BronzeOdd], database).success
    with BulkDataLoader(odd_source, database, batch_size=7) as loader:
        with pytest.raises(LoadError, match=r"^odd: row id=10: the transform raises_at_ten raised ValueError: ten;"):
            loader.load(Odd, BronzeOdd, raises_at_ten, batch_id="b1")
        with pytest.raises(LoadError, match=r"^odd: row id=9: the transform gave no value for column name;"):
            loader.load(Odd, BronzeOdd, forgets_nine_raises_at_ten, batch_id="b1")
        with pytest.raises(LoadError, match=r"^odd: row id=12: the transform gave columns the target does not"):
            loader.load(Odd, BronzeOdd, extra_at_twelve, batch_id="b1")
