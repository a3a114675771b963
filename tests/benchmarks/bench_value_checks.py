"""The loader's value checks (``framework.engines.generic.dbapi.make_check``): per-row cost, side by side.

    .venv/bin/python tests/benchmarks/bench_value_checks.py

Builds the INSERT parameters of 200,000 ordinary rows (a timestamp, a date, a NUMERIC, a float, a
string) for SQLite and MySQL with the checks and without them, best of three each, interleaved,
and prints the microseconds per row and their ratio. Nothing is written to a database.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, DateTime, Float, Integer, MetaData, Numeric, String, Table, create_engine

from framework.engines.generic import dbapi
from framework.engines.generic.writer import Lineage

ROWS = 200_000


def main() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime),
        Column("d", Date),
        Column("amount", Numeric(12, 2)),
        Column("ratio", Float),
        Column("name", String(20)),
        Column("dk_loaded_at", DateTime),
        Column("dk_batch_id", String(64)),
        Column("dk_source_table", String(64)),
        Column("dk_record_hash", String(64)),
    )
    columns = [table.c[n] for n in ("id", "at", "d", "amount", "ratio", "name")]
    rows = [(i, datetime(2024, 1, 2, 3, 4, 5), date(2024, 1, 2), Decimal("12.50"), 0.5, "abc") for i in range(ROWS)]
    lineage = Lineage(datetime.now(UTC), "b1", "t")
    for url in ("sqlite://", "mysql+pymysql://"):  # the dialect only: no connection is made for MySQL
        engine = create_engine(url)
        conn = engine.connect() if url.startswith("sqlite") else _Dialect(engine.dialect)
        checked = dbapi.make_params(columns, conn, lineage, table)  # type: ignore[arg-type]
        original = dbapi.make_check
        dbapi.make_check = lambda *args, **kwargs: None  # type: ignore[assignment]
        plain = dbapi.make_params(columns, conn, lineage, table)  # type: ignore[arg-type]
        dbapi.make_check = original
        best: dict[str, float] = {}
        for name, function in (("checked", checked), ("plain", plain)) * 3:
            started = time.perf_counter()
            for row in rows:
                function(row)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
        per_row = {name: seconds / ROWS * 1e6 for name, seconds in best.items()}
        print(
            f"{engine.dialect.name:<7} plain {per_row['plain']:.2f} us/row  checked {per_row['checked']:.2f} us/row  "
            f"ratio {best['checked'] / best['plain']:.3f}"
        )


class _Dialect:
    """Just enough of a Connection for make_params: its dialect."""

    def __init__(self, dialect: object) -> None:
        self.dialect = dialect


if __name__ == "__main__":
    main()
