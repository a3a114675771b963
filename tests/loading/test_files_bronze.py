"""Files straight into bronze (``load_folder``, ``datakits load --source FOLDER``): the record hash and lineage
as a database source gives them, one line per misfit naming file, row (line) and column, nothing loaded.

Each on real PostgreSQL (COPY), MariaDB (LOAD DATA LOCAL INFILE) and SQLite (executemany).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from framework import Database, Datakit, LoadError, deploy_data_objects, load_datakit, stage_folder
from framework.kits.bronze import derive_bronze
from framework.loading.files import load_folder
from framework.loading.loader import load_datakit_tables

TARGETS = ["postgres_local", "mysql_local", "sqlite_file"]

MODELS = """
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CHAR, DateTime, SmallInteger, Text
from sqlmodel import Field, SQLModel


class Item(SQLModel, table=True):
    __tablename__ = "item"
    id: int = Field(primary_key=True)
    qty: int | None = Field(default=None, sa_type=SmallInteger)
    price: Decimal = Field(max_digits=10, decimal_places=2)
    weight: float | None = None
    ok: bool
    day: date | None = None
    at: datetime = Field(sa_type=DateTime(timezone=True))
    naive_at: datetime | None = None
    name: str = Field(max_length=20)
    code: str | None = Field(default=None, sa_type=CHAR(3))
    note: str | None = Field(default=None, sa_type=Text)
"""

HEADER = "id,qty,price,weight,ok,day,at,naive_at,name,code,note\n"
ROWS = (
    '1,+5,007.50,1.5e3,TRUE,2024-05-01,2024-05-01 12:00:00,2024-05-01T12:00:00,Ann,ab ,"tab\there"\n'
    '2,-0,.5,0.5,f,2024-02-29,2024-05-01T12:00:00+02:00,2024-05-01 12:00:00+02:00,"Bo, ""q""",x,"back\\\\slash"\n'
    '3,,-0.00,,yes,,2024-05-01,2024-05-01,Ünï,,"multi\nline"\n'
    "\n"
    '4, 12 ,1.005,-2,n,2024-01-01, 2024-12-31 23:59:59Z ,,"  spaced  ",zz,\n'
    "5,-32768,-99999999.99,0,1,0999-01-01,2024-03-31T01:30:00-05:30,1999-12-31 23:59,x,,\n"
)
FRACTIONS = "6,1,1,1,1,2024-01-01,2024-05-01 12:00:00.5,2024-05-01 12:00:00.000001,y,,\n"  # PostgreSQL keeps them


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Datakit:
    root = tmp_path_factory.mktemp("mixkit") / "mix_source"
    root.mkdir()
    (root / "__init__.py").write_text('"""Every type a file column can hold."""\n\n__datakit_modules__ = ["models"]\n')
    (root / "models.py").write_text(MODELS)
    return load_datakit(root)


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, servers: Any) -> Iterator[tuple[str, Any]]:
    _, run = servers.get(request.param)
    yield request.param, run


def folder_with(tmp_path: Path, text: str, name: str = "item.csv") -> Path:
    folder = tmp_path / "landing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def hashes(database: Database, table: Any) -> dict[int, tuple[str, str, str]]:
    engine = database.engine([table.schema])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(table.c.id, table.c.dk_record_hash, table.c.dk_batch_id, table.c.dk_source_table)
            )
            return {r[0]: (r[1], r[2], r[3]) for r in rows}
    finally:
        engine.dispose()


def test_files_hash_as_the_same_rows_from_a_database(kit: Datakit, target: tuple[str, Any], tmp_path: Path) -> None:
    """The old way (the files staged in a source database, loaded from there) and the new (straight into bronze)
    give every row the same record hash, batch and source table, byte for byte."""
    name, run = target
    text = HEADER + ROWS + (FRACTIONS if name == "postgres_local" else "")
    folder = folder_with(tmp_path, text)
    bronze = derive_bronze(kit)
    [table] = bronze.tables
    staged, old, new = (run.create_database(label) for label in ("staged", "old", "new"))
    try:
        stage_folder(folder, kit, staged)
        for database in (old, new):
            assert deploy_data_objects(bronze, database).success
        [before] = load_datakit_tables(kit, bronze, source=staged, target=old, batch_id="b1")
        assert before.success, before.error
        [after] = load_folder(folder, kit, bronze, new, batch_id="b1")
        assert after.rows_written == before.rows_written == (6 if name == "postgres_local" else 5)  # no blank row
        assert hashes(new, table) == hashes(old, table)
        [again] = load_folder(folder, kit, bronze, new, batch_id="b1")  # the same batch again replaces it
        assert again.rows_replaced == after.rows_written and hashes(new, table) == hashes(old, table)
    finally:
        for database in (staged, old, new):
            run.drop(database)


GOOD = "1,5,7.50,1.5,true,2024-05-01,2024-05-01 12:00:00,,Ann,ab,note\n"


def row(**fields: str) -> str:
    values = dict(zip(HEADER.strip().split(","), GOOD.strip().split(","), strict=True))
    values.update({"id": "2", **fields})
    return ",".join(values.values()) + "\n"


MISFITS = [
    ("infinity", row(price="Infinity"), r"column price: 'Infinity' is not a decimal number"),
    ("nan", row(price="NaN"), r"column price: 'NaN' is not a decimal number"),
    ("float-nan", row(weight="nan"), r"column weight: 'nan' is not a number"),
    ("underscore", row(qty="1_000"), r"column qty: '1_000' is not an integer"),
    ("arabic-indic", row(qty="١٢"), r"column qty: '١٢' is not an integer"),
    ("week-date", row(day="2024-W01-1"), r"column day: '2024-W01-1' is not a date \(2024-05-01\)"),
    ("compact-date", row(day="20240101"), r"column day: '20240101' is not a date"),
    ("compact-timestamp", row(at="20240101T120000"), r"column at: '20240101T120000' is not a timestamp"),
    ("no-such-day", row(day="2024-02-30"), r"column day: '2024-02-30' is not a date"),
    ("boolean", row(ok="maybe"), r"column ok: 'maybe' is not a boolean"),
    ("nul-byte", row(name="A\x00B"), r"column name: 'A\\x00B' holds a NUL byte"),
    ("too-long", row(name="x" * 140_000), r"column name: is 140000 characters, longer than 20"),
    ("overflow", row(price="123456789.00"), r"column price: '123456789.00' has more than 8 digits before the point"),
    ("out-of-range", row(qty="40000"), r"column qty: '40000' is out of the column's range -32768..32767"),
    ("not-null", row(name=""), r"column name: is empty, but the column is NOT NULL"),
    ("fields", "2,1,1\n", r": has 3 fields, the header 11"),
    (
        "duplicate-key",
        row(id="1"),
        r"column id: the target database refused it: .*(?:[Dd]uplicate|UNIQUE)",
    ),
]


def loaded(database: Database, table: Any) -> list[str]:
    engine = database.engine([table.schema])
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(select(table.c.dk_batch_id)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize(("text", "expected"), [m[1:] for m in MISFITS], ids=[m[0] for m in MISFITS])
def test_a_misfit_is_one_line_naming_file_row_and_column_and_nothing_loads(
    kit: Datakit, target: tuple[str, Any], tmp_path: Path, text: str, expected: str
) -> None:
    _, run = target
    bronze = derive_bronze(kit)
    [table] = bronze.tables
    database = run.create_database("misfit")
    try:
        assert deploy_data_objects(bronze, database).success
        good = folder_with(tmp_path / "good", HEADER + GOOD)
        load_folder(good, kit, bronze, database, batch_id="kept")
        bad = folder_with(tmp_path / "bad", HEADER + GOOD + text)
        with pytest.raises(LoadError, match=rf"item.csv: row 2 \(line 3\).*{expected}") as caught:
            load_folder(bad, kit, bronze, database, batch_id="kept")  # the same batch: replaced only if it all loads
        message = str(caught.value)
        assert "\n" not in message and message.endswith("(nothing was loaded)")
        assert len(message) < 400  # the field's 140,000 characters are not in it
        assert loaded(database, table) == ["kept"]  # the batch before is as it was
    finally:
        run.drop(database)


def test_non_utf8_text_is_one_line(kit: Datakit, target: tuple[str, Any], tmp_path: Path) -> None:
    _, run = target
    bronze = derive_bronze(kit)
    database = run.create_database("latin")
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "item.csv").write_bytes(
        (HEADER + GOOD).encode() + row(name="Jos\udce9", note="x").encode(errors="surrogateescape")
    )
    try:
        assert deploy_data_objects(bronze, database).success
        with pytest.raises(LoadError, match=r"item.csv: row 2 \(line 3\), column name: is not UTF-8 text"):
            load_folder(folder, kit, bronze, database)
        assert loaded(database, bronze.tables[0]) == []
    finally:
        run.drop(database)


def test_a_field_over_128_kb_loads_where_the_column_holds_it(
    kit: Datakit, target: tuple[str, Any], tmp_path: Path
) -> None:
    """Python's csv stops at 128 KB; pyarrow does not. MySQL's TEXT holds 64 KB: there the database's refusal
    is the one line, naming the file, row and column."""
    name, run = target
    bronze = derive_bronze(kit)
    [table] = bronze.tables
    database = run.create_database("wide")
    folder = folder_with(tmp_path, HEADER + row(note="n" * 200_000))
    try:
        assert deploy_data_objects(bronze, database).success
        if name == "mysql_local":
            expected = (
                r"item.csv: row 1 \(line 2\), column note: the target database refused it: Data (?:too long|truncated)"
            )
            with pytest.raises(LoadError, match=expected):
                load_folder(folder, kit, bronze, database)
            return
        [result] = load_folder(folder, kit, bronze, database)
        assert result.rows_written == 1
        engine = database.engine([table.schema])
        try:
            with engine.connect() as conn:
                assert conn.execute(select(table.c.note)).scalar_one() == "n" * 200_000
        finally:
            engine.dispose()
    finally:
        run.drop(database)


def datakits_load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", "load", *args], capture_output=True, text=True, timeout=300
    )


def test_datakits_load_into_a_url_warehouse(kit: Datakit, servers: Any, tmp_path: Path) -> None:
    """``--source FOLDER`` with a URL target: no database made beside it; a misfit is one line, exit 2."""
    _, run = servers.get("postgres_local")
    database = run.create_database("urlwh")
    url = database.url.render_as_string(hide_password=False)
    [table] = derive_bronze(kit).tables
    try:
        folder = folder_with(tmp_path / "good", HEADER + GOOD)
        done = datakits_load("--source", str(folder), "--datakit", kit.name, "--target", url, "--deploy")
        assert done.returncode == 0, done.stderr
        assert "files       1 rows 1 files" in done.stderr
        bad = folder_with(tmp_path / "bad", HEADER + row(price="Infinity"))
        done = datakits_load("--source", str(bad), "--datakit", kit.name, "--target", url, "--batch-id", "b2")
        assert done.returncode == 2
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("datakits: ") and "item.csv: row 1 (line 2), column price: 'Infinity'" in line
        assert len(loaded(database, table)) == 1
    finally:
        run.drop(database)


def test_where_the_server_refuses_local_infile_one_line_and_insert(
    kit: Datakit, servers: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A client without ``local_infile`` is refused LOAD DATA LOCAL by the server: one line on stderr, then the
    rows go by INSERT, with the hashes LOAD DATA gives."""
    from framework.loading.loader import BulkDataLoader

    _, sqlite = servers.get("sqlite_file")
    _, mysql = servers.get("mysql_local")
    bronze = derive_bronze(kit)
    [table] = bronze.tables
    [source_table] = kit.tables
    staged = sqlite.create_database("refused_src")
    fast, refused = mysql.create_database("fast"), mysql.create_database("refused")
    try:
        stage_folder(folder_with(tmp_path, HEADER + ROWS), kit, staged)
        for database in (fast, refused):
            assert deploy_data_objects(bronze, database).success
        with BulkDataLoader(staged, fast) as loader:
            loader.load(source_table, table, batch_id="b1")
        assert "refuses LOAD DATA" not in capfd.readouterr().err
        engine = refused.engine([table.schema], connect_args={"local_infile": False, "connect_timeout": 10})
        try:
            with BulkDataLoader(staged, engine) as loader:
                result = loader.load(source_table, table, batch_id="b1")
        finally:
            engine.dispose()
        [line] = [x for x in capfd.readouterr().err.splitlines() if "LOAD DATA" in x]
        assert "refuses LOAD DATA LOCAL INFILE" in line and "loading by INSERT instead" in line
        assert result.rows_written == 5 and hashes(refused, table) == hashes(fast, table)
    finally:
        sqlite.drop(staged)
        mysql.drop(fast)
        mysql.drop(refused)
