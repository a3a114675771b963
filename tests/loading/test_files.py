"""A folder of ``<table>.csv`` files as a source: read with the datakit's types, all of it or nothing.

A wrong header, a value that does not fit its column, and a missing file are each one line naming the
file (and the row and column), through the library and through ``datakits load``; nothing is loaded.

``<table>.parquet`` beside them: read through pyarrow (the ``files`` extra), checked as CSV is. Those
tests skip, saying so, when pyarrow is not installed (``pip install -e '.[files]'``); the one line a
Parquet file gives without pyarrow is tested whatever is installed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from framework import Database, Datakit, LoadError, load_datakit, stage_folder
from framework.cli.init import init_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files") / "shop"
    init_project(root)
    return root


@pytest.fixture(scope="module")
def kit(project: Path) -> Datakit:
    return load_datakit(project / "kits" / "shop_source")


@pytest.fixture
def database(servers: Any) -> Iterator[Database]:
    _, run = servers.get("postgres_local")
    made = run.create_database("files")
    yield made
    run.drop(made)


def load(project: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    kit = str(project / "kits" / "shop_source")
    command = ["load", "--source", str(folder), "--datakit", kit, "--target", "postgres_local"]
    python = [sys.executable, "-m", "framework.cli"]
    return subprocess.run([*python, *command], capture_output=True, text=True, timeout=300)


def tables_in(database: Database) -> list[str]:
    engine = database.engine()
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def broken(project: Path, tmp_path: Path, name: str, text_: str | None) -> Path:
    """The project's landing files with ``name`` replaced by ``text_`` (removed when None)."""
    folder = tmp_path / "landing"
    folder.mkdir()
    for path in (project / "data").glob("*.csv"):
        (folder / path.name).write_text(path.read_text())
    if text_ is None:
        (folder / name).unlink()
    else:
        (folder / name).write_text(text_)
    return folder


def test_files_load_with_the_datakits_types(project: Path, kit: Datakit, database: Database) -> None:
    assert stage_folder(project / "data", kit, database) == {"customers": 3, "orders": 4}
    engine = database.engine()
    try:
        with engine.connect() as conn:
            amount, day = conn.execute(text("SELECT amount, ordered_at::date FROM orders WHERE id = 1")).one()
    finally:
        engine.dispose()
    assert amount == Decimal("12.50") and str(day) == "2024-03-01"


BAD = [
    (
        "customers.csv",
        "id,full_name,signed_up\n1,Ann,2024-01-05\n",
        r"customers.csv: the header column 'full_name' is not in table customers; it must name the columns id, name",
    ),
    (
        "orders.csv",
        "id,customer_id,amount,ordered_at\n1,1,12.50,2024-03-01 10:00:00\n2,1,lots,2024-03-04 16:30:00\n",
        r"orders.csv: row 2 \(line 3\), column amount: 'lots' is not a decimal number \(nothing was loaded\)",
    ),
    ("orders.csv", None, r"landing: no orders.csv for table orders of datakit shop_source; give one <table>.csv"),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD, ids=["wrong-header", "bad-value", "missing-file"])
def test_a_file_that_does_not_fit_is_one_line_and_nothing_loads(
    project: Path, kit: Datakit, database: Database, tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    folder = broken(project, tmp_path, name, content)
    with pytest.raises(LoadError, match=expected) as caught:
        stage_folder(folder, kit, database)
    assert "\n" not in str(caught.value)
    assert tables_in(database) == []  # checked whole before anything was written: not even a table

    done = load(project, folder)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("datakits: ") and caught.value.args[0] in line


def test_datakits_load_reads_a_folder(project: Path) -> None:
    done = load(project, project / "data")
    assert done.returncode == 0, done.stderr
    assert "files       7 rows 2 files" in done.stderr
    assert "loading " in done.stdout and "br__shop__public" in done.stdout


NO_PYARROW = "pyarrow is not installed (the files extra: pip install -e '.[files]')"


def customers() -> dict[str, list[Any]]:
    return {"id": [1, 2], "name": ["Ann", "Bo"], "signed_up": [date(2024, 1, 5), date(2024, 2, 11)]}


def orders() -> dict[str, list[Any]]:
    return {
        "id": [1, 2, 3],
        "customer_id": [1, 1, 2],
        "amount": [Decimal("12.50"), Decimal("7.25"), Decimal("30.00")],
        "ordered_at": [datetime(2024, 3, 1, 10), datetime(2024, 3, 4, 16, 30), datetime(2024, 3, 9, 9, 15)],
    }


def write(folder: Path, name: str, columns: dict[str, list[Any]]) -> None:
    pyarrow = pytest.importorskip("pyarrow", reason=NO_PYARROW)
    parquet = pytest.importorskip("pyarrow.parquet", reason=NO_PYARROW)
    folder.mkdir(exist_ok=True)
    parquet.write_table(pyarrow.table(columns), folder / f"{name}.parquet")


def test_parquet_files_load_with_the_datakits_types(kit: Datakit, database: Database, tmp_path: Path) -> None:
    write(tmp_path, "customers", customers())
    (tmp_path / "orders.csv").write_text("id,customer_id,amount,ordered_at\n1,2,5.00,2024-03-21 12:00:00\n")
    assert stage_folder(tmp_path, kit, database) == {"customers": 2, "orders": 1}  # Parquet and CSV side by side
    other = tmp_path / "again"
    write(other, "customers", customers())
    write(other, "orders", orders())
    engine = database.engine()
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE orders; DROP TABLE customers"))
        assert stage_folder(other, kit, database) == {"customers": 2, "orders": 3}
        with engine.connect() as conn:
            amount, at = conn.execute(text("SELECT amount, ordered_at FROM orders WHERE id = 2")).one()
    finally:
        engine.dispose()
    assert amount == Decimal("7.25")
    assert at == datetime(2024, 3, 4, 16, 30, tzinfo=UTC)  # naive in the file, the column holds time zones: UTC


BAD = [
    ("customers", {"id": [1], "full_name": ["Ann"], "signed_up": [date(2024, 1, 5)]}, "the file's columns column"),
    ("orders", {**orders(), "amount": ["12.50", "lots", "1"]}, r"row 2, column amount: 'lots' is not a decimal"),
    ("orders", {**orders(), "customer_id": [1, None, 2]}, r"row 2, column customer_id: is null, but the column is NOT"),
    ("orders", {**orders(), "customer_id": ["1", "2", "x"]}, r"row 3, column customer_id: 'x' is not an integer"),
    ("orders", {**orders(), "id": [1.5, 2.5, 3.5]}, r"row 1, column id: '1.5' is float, the column holds int"),
]


@pytest.mark.parametrize(
    ("name", "columns", "expected"), BAD, ids=["wrong-column", "bad-text", "null", "bad-int-text", "wrong-type"]
)
def test_a_parquet_file_that_does_not_fit_is_one_line_and_nothing_loads(
    kit: Datakit, database: Database, tmp_path: Path, name: str, columns: dict[str, list[Any]], expected: str
) -> None:
    write(tmp_path, "customers", customers())
    write(tmp_path, "orders", orders())
    write(tmp_path, name, columns)
    with pytest.raises(LoadError, match=expected) as caught:
        stage_folder(tmp_path, kit, database)
    assert "\n" not in str(caught.value) and f"{name}.parquet" in str(caught.value)
    assert str(caught.value).endswith("(nothing was loaded)")
    assert tables_in(database) == []


def test_a_table_with_both_files_is_one_line(kit: Datakit, database: Database, tmp_path: Path) -> None:
    write(tmp_path, "customers", customers())
    write(tmp_path, "orders", orders())
    (tmp_path / "orders.csv").write_text("id,customer_id,amount,ordered_at\n")
    with pytest.raises(LoadError, match=r"both orders.csv and orders.parquet for table orders; keep one"):
        stage_folder(tmp_path, kit, database)
    assert tables_in(database) == []


def test_without_pyarrow_a_parquet_file_names_the_extra(
    kit: Datakit, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what `import pyarrow` meets where it is not installed
    (tmp_path / "customers.parquet").write_bytes(b"PAR1")
    (tmp_path / "orders.csv").write_text("id,customer_id,amount,ordered_at\n")
    with pytest.raises(LoadError, match=r"customers.parquet: reading files needs pyarrow: pip install") as caught:
        stage_folder(tmp_path, kit, database)
    assert "'pytest-datakits[files]'" in str(caught.value)
    assert tables_in(database) == []
