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

MODELS = '''
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
'''

HEADER = "id,qty,price,weight,ok,day,at,naive_at,name,code,note\n"
ROWS = (
    '1,+5,007.50,1.5e3,TRUE,2024-05-01,2024-05-01 12:00:00,2024-05-01T12:00:00,Ann,ab ,"tab\there"\n'
    '2,-0,.5,0.5,f,2024-02-29,2024-05-01T12:00:00+02:00,2024-05-01 12:00:00+02:00,"Bo, ""q""",x,"back\\\\slash"\n'
    '3,,-0.00,,yes,,2024-05-01,2024-05-01,Ünï,,"multi\nline"\n'
    '\n'
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
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def hashes(database: Database, table: Any) -> dict[int, tuple[str, str, str]]:
    engine = database.engine([table.schema])
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.dk_record_hash, table.c.dk_batch_id, table.c.dk_source_table))
            return {r[0]: (r[1], r[2], r[3]) for r in rows}
    finally:
        engine.dispose()


def test_files_hash_as_the_same_rows_from_a_database(
    kit: Datakit, target: tuple[str, Any], tmp_path: Path
) -> None:
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
