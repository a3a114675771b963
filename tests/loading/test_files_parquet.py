"""``<table>.parquet`` beside ``<table>.csv``: read through pyarrow (the ``parquet`` extra), checked as CSV is.

The Parquet tests skip, saying so, when pyarrow is not installed (``pip install -e '.[parquet]'``); the
one line a Parquet file gives without pyarrow is tested whatever is installed.
"""

from __future__ import annotations

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

NO_PYARROW = "pyarrow is not installed (the parquet extra: pip install -e '.[parquet]')"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Datakit:
    root = tmp_path_factory.mktemp("parquet") / "shop"
    init_project(root)  # the example shop: customers (id, name, signed_up) and orders
    return load_datakit(root / "kits" / "shop_source")


@pytest.fixture
def database(servers: Any) -> Iterator[Database]:
    _, run = servers.get("postgres_local")
    made = run.create_database("parquet")
    yield made
    run.drop(made)


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


def tables_in(database: Database) -> list[str]:
    engine = database.engine()
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


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
    with pytest.raises(LoadError, match=r"customers.parquet: reading Parquet needs pyarrow: pip install") as caught:
        stage_folder(tmp_path, kit, database)
    assert "'pytest-datakits[parquet]'" in str(caught.value)
    assert tables_in(database) == []
