"""The loader carries values exactly where the target can hold them, and refuses the batch where not.

PostgreSQL to PostgreSQL: ``'infinity'`` and ``'-infinity'`` timestamps and dates stay infinite
(psycopg2 read them as ``datetime.max``/``min``, and they were written as those instants), NaN and
a 30-digit numeric stay as they are. Into SQLite (NaN became NULL, a 30-digit numeric a float) and
MySQL (no infinite timestamps, no NaN): the batch is refused in one line naming the table, the
column and the value, and the target is left as it was. A ``double precision`` column deploys,
loads and validates on MySQL (it raised SQLAlchemy's ArgumentError).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import DateTime, Numeric, func, select, text
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from framework import Database, deploy_data_objects, validate_deployment
from framework.engines.generic.canonical import record_hash
from framework.kits.mixins import TIMESTAMPTZ, BronzeLineageMixin
from framework.loading.loader import BulkDataLoader, LoadError


class SourceBase(SQLModel, registry=registry()):
    """The source's tables, in a MetaData of their own."""


class BronzeBase(SQLModel, registry=registry()):
    """The bronze tables, in a MetaData of their own."""


class MeasureColumns(SQLModel):
    id: int = Field(primary_key=True)
    at: datetime | None = Field(default=None, sa_type=DateTime)
    at_tz: datetime | None = Field(default=None, sa_type=TIMESTAMPTZ)
    day: date | None = None
    ratio: float | None = Field(default=None, sa_type=DOUBLE_PRECISION(precision=53))
    amount: Decimal | None = Field(default=None, sa_type=Numeric(40, 10))


class Measure(MeasureColumns, SourceBase, table=True):
    __tablename__ = "measure"


class BronzeMeasure(BronzeLineageMixin, MeasureColumns, BronzeBase, table=True):
    __tablename__ = "measure"


ORDINARY = "(1, '2024-01-02 03:04:05.5', '2024-01-02 03:04:05+00', '2024-01-02', 0.5, 123456789012.345)"
ODD = {
    2: "(2, 'infinity', '-infinity', 'infinity', 1, 1)",
    3: "(3, '-infinity', NULL, '-infinity', 1, 1)",
    4: "(4, NULL, NULL, NULL, 'NaN', 1)",
    5: "(5, NULL, NULL, NULL, 1, 123456789012345678901234567890)",
}


@pytest.fixture
def source(servers: Any) -> Any:
    _, run = servers.get("postgres_local")
    db = run.create_database("values_source")
    assert deploy_data_objects([Measure], db).success
    engine = db.engine()
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO measure VALUES {ORDINARY}, {', '.join(ODD.values())}"))
    engine.dispose()
    yield db
    run.drop(db)


def _read(db: Database, sql: str) -> list[Any]:
    engine = db.engine()
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_postgres_to_postgres_carries_infinity_nan_and_long_numerics(source: Database, database: Database) -> None:
    assert deploy_data_objects([BronzeMeasure], database).success
    with BulkDataLoader(source, database) as loader:
        assert loader.load(Measure, BronzeMeasure, batch_id="b1").rows_written == 5
    rows = _read(
        database, "SELECT id, at::text, at_tz::text, day::text, ratio::text, amount::text FROM measure ORDER BY id"
    )
    odd = {row[0]: row[1:] for row in rows}
    assert odd[2][:3] == ("infinity", "-infinity", "infinity")
    assert odd[3][0] == "-infinity" and odd[3][2] == "-infinity"
    assert odd[4][3] == "NaN"
    assert odd[5][4] == "123456789012345678901234567890.0000000000"
    # an ordinary row's record hash is what it always was: the canonical line of its values
    engine = database.engine()
    with engine.connect() as conn:
        row = conn.execute(select(BronzeMeasure.__table__).where(BronzeMeasure.__table__.c.id == 1)).one()
    engine.dispose()
    assert row.dk_record_hash == record_hash(BronzeMeasure, row)


@pytest.mark.parametrize(
    ("target_name", "row", "column", "shown"),
    [
        ("sqlite_file", 2, "at", "'infinity'"),
        ("sqlite_file", 3, "at", "'-infinity'"),
        ("sqlite_file", 4, "ratio", "nan"),
        ("sqlite_file", 5, "amount", "Decimal('123456789012345678901234567890.0000000000')"),
        ("mysql_local", 2, "at", "'infinity'"),
        ("mysql_local", 3, "day", "'-infinity'"),
        ("mysql_local", 4, "ratio", "nan"),
    ],
)
def test_a_value_the_target_cannot_hold_refuses_the_batch_in_one_line(
    source: Database, database: Database, target_name: str, row: int, column: str, shown: str
) -> None:
    assert deploy_data_objects([BronzeMeasure], database).success
    chosen = select(Measure.__table__).where(Measure.__table__.c.id.in_([1, row]))
    with BulkDataLoader(source, database) as loader:
        if column == "day":  # the timestamps of row 3 are refused first otherwise
            chosen = chosen.with_only_columns(
                *(c if c.name != "at" else func.cast(None, DateTime).label("at") for c in chosen.selected_columns)
            )
        with pytest.raises(LoadError) as caught:
            loader.load(chosen, BronzeMeasure, batch_id="b1")
        message = str(caught.value)
        assert "\n" not in message and message.startswith(f"measure: column {column}: "), message
        assert f"cannot hold {shown}" in message and message.endswith("batch b1 rolled back"), message
        assert caught.value.column == column
        assert _read(database, "SELECT count(*) FROM measure") == [(0,)]  # as it was
        # the values it can hold load exactly: the ordinary row, a 15-digit numeric on SQLite
        assert loader.load(select(Measure.__table__).where(Measure.__table__.c.id == 1), BronzeMeasure).rows_written
    [(ratio, amount)] = _read(database, "SELECT ratio, amount FROM measure")
    assert ratio == 0.5 and Decimal(str(amount)) == Decimal("123456789012.345")


@pytest.mark.parametrize("target_name", ["mysql_local"])
def test_double_precision_deploys_loads_and_validates_on_mysql(source: Database, database: Database) -> None:
    assert deploy_data_objects([BronzeMeasure], database).success
    assert validate_deployment([BronzeMeasure], database).success
    with BulkDataLoader(source, database) as loader:
        assert loader.load(select(Measure.__table__).where(Measure.__table__.c.id == 1), BronzeMeasure).rows_written
