"""Benchmark: BulkDataLoader against the floor of each engine and SQLModel ``session.add_all``, side by side.

    python tests/benchmarks/bench_loader.py [--rows 1000000] [--add-all-rows 100000] [--repeat 3]
                                            [--engine postgresql|mysql|all] [--no-memory]

Generates ``--rows`` rental-shaped rows with ``generate_series`` in a database of its own on the
local PostgreSQL (the ``postgres_local`` target; dropped at the end), then loads them into the
bronze ``rental`` table and prints rows/s and ratios, side by side in one run.

PostgreSQL (``--engine postgresql``, the default), into bronze on the same database:

- the loader, with lineage and a transform (``BulkDataLoader.load``), and without a transform;
- raw COPY through psycopg2: ``COPY (SELECT ...) TO STDOUT`` piped into ``COPY ... FROM STDIN``,
  the same bronze rows, lineage and hash computed by the server: the floor;
- SQLModel ``session.add_all`` in batches of 1,000 with the same lineage (what the original
  framework did), on the first ``--add-all-rows`` rows (it is too slow for a million).

MySQL/MariaDB (``--engine mysql``; ``all`` runs both), from the same PostgreSQL source into bronze
on a database of its own on the local server (the ``mysql_local`` target):

- the loader with and without the transform (its writer: ``LOAD DATA LOCAL INFILE`` through a named pipe);
- raw ``LOAD DATA LOCAL INFILE`` fed through a pipe from ``COPY (SELECT ...) TO STDOUT``, lineage
  and hash computed by PostgreSQL: the floor;
- raw ``executemany`` of the same server-hashed rows (PyMySQL's multi-row INSERT, what the
  loader's writer sends), for the cost of the statement path itself.

Each way runs ``--repeat`` times, in turn, and the best run of each counts: other work on the
machine only ever slows a run down. Then (PostgreSQL) the loader's peak memory (peak RSS of a child
process per size, reset just before its load) at a tenth of the rows and at all of them. It prints
figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from datakits.pagila_bronze.models import Rental as BronzeRental  # noqa: E402
from datakits.pagila_source.models import Rental as SourceRental  # noqa: E402
from framework import deploy_data_objects, make_engine, open_target  # noqa: E402
from framework.engines.connect import physical_schema  # noqa: E402
from framework.engines.generic.canonical import canonical_line  # noqa: E402
from framework.loading.loader import BulkDataLoader  # noqa: E402

COLUMNS = "rental_id, rental_date, inventory_id, customer_id, return_date, staff_id, last_update"
BRONZE = '"br__pagila__public".rental'

SOURCE_DDL = """
CREATE TABLE public.rental (
    rental_id integer PRIMARY KEY,
    rental_date timestamptz NOT NULL,
    inventory_id integer NOT NULL,
    customer_id integer NOT NULL,
    return_date timestamptz,
    staff_id integer NOT NULL,
    last_update timestamptz NOT NULL DEFAULT now()
)
"""
SOURCE_ROWS = """
INSERT INTO public.rental
SELECT g,
       timestamptz '2022-01-01' + g * interval '37 seconds',
       g % 4581,
       g % 599,
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE timestamptz '2022-01-03' + g * interval '41 seconds' + (g % 1000) * interval '1 microsecond' END,
       g % 7,
       timestamptz '2022-05-16 15:13:11.79328+00'
FROM generate_series(1, :rows) AS g
"""


def clean_rental(row: dict[str, Any]) -> dict[str, Any] | None:
    """A typical small bronze transform: a return before the rental is no return; keep every row."""
    returned = row["return_date"]
    if returned is not None and returned < row["rental_date"]:
        row["return_date"] = None
    return row


def truncate(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {BRONZE}"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def run_loader(
    url: str, rows: int, batch: str, transform: Any = clean_rental, target: str | None = None
) -> tuple[float, int]:
    """The loader from the source at ``url`` into bronze at ``target`` (default: the same database)."""
    statement = select(SourceRental).where(SourceRental.rental_id <= rows)  # type: ignore[arg-type]
    started = time.perf_counter()
    with BulkDataLoader(url, target or url) as loader:
        result = loader.load(statement, BronzeRental, transform, batch_id=batch, source_table="public.rental")
    return time.perf_counter() - started, result.rows_written


def run_raw_copy(url: str) -> float:
    """COPY out of the source into COPY into bronze, through a pipe; the server hashes each row."""
    import psycopg2

    dsn = make_engine(url).url.set(drivername="postgresql").render_as_string(hide_password=False)
    line = f"concat_ws(E'\\t', {COLUMNS})"
    query = (
        f"SELECT {COLUMNS}, now(), 'bench-raw', 'public.rental', "
        f"encode(sha256(convert_to({line}, 'UTF8')), 'hex') FROM public.rental"
    )
    target = f"{BRONZE} ({COLUMNS}, dk_loaded_at, dk_batch_id, dk_source_table, dk_record_hash)"
    source, sink = psycopg2.connect(dsn), psycopg2.connect(dsn)
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    with os.fdopen(read_fd, "rb", buffering=1 << 16) as reader, os.fdopen(write_fd, "wb", buffering=1 << 16) as writer:

        def copy_out() -> None:
            try:
                source.cursor().copy_expert(f"COPY ({query}) TO STDOUT", writer)
            finally:
                writer.close()

        thread = threading.Thread(target=copy_out)
        thread.start()
        sink.cursor().copy_expert(f"COPY {target} FROM STDIN", reader, size=1 << 16)
        thread.join()
    sink.commit()
    seconds = time.perf_counter() - started
    source.close()
    sink.close()
    return seconds


# --- MySQL/MariaDB: the same source, bronze on the local server -----------------------------------

BRONZE_SCHEMA = "br__pagila__public"


def mysql_connect(url: str) -> Any:
    """A PyMySQL connection to the database that holds the bronze schema on the server at ``url``."""
    import pymysql

    engine = make_engine(url, [BRONZE_SCHEMA])
    parsed = engine.url
    database = physical_schema(engine, BRONZE_SCHEMA)
    engine.dispose()
    return pymysql.connect(
        host=parsed.host,
        port=parsed.port or 3306,
        user=parsed.username,
        password=parsed.password or "",
        database=database,
        local_infile=True,
        autocommit=False,
    )


def truncate_mysql(url: str) -> None:
    conn = mysql_connect(url)
    with conn.cursor() as cursor:
        cursor.execute("TRUNCATE TABLE rental")
    conn.commit()
    conn.close()


def _server_hashed_rows(pg_url: str) -> tuple[Any, str]:
    """A psycopg2 connection and the query of the bronze rows as MySQL takes them: UTC wall times,
    lineage and a SHA-256 computed by PostgreSQL."""
    import psycopg2

    dsn = make_engine(pg_url).url.set(drivername="postgresql").render_as_string(hide_password=False)
    wall = {c: f"({c} AT TIME ZONE 'UTC')" for c in ("rental_date", "return_date", "last_update")}
    columns = ", ".join(wall.get(c.strip(), c.strip()) for c in COLUMNS.split(","))
    line = f"concat_ws(E'\\t', {COLUMNS})"
    query = (
        f"SELECT {columns}, (now() AT TIME ZONE 'UTC'), 'bench-raw', 'public.rental', "
        f"encode(sha256(convert_to({line}, 'UTF8')), 'hex') FROM public.rental"
    )
    return psycopg2.connect(dsn), query


def run_raw_load_data(pg_url: str, my_url: str) -> float:
    """COPY out of the PostgreSQL source, through a named pipe, into ``LOAD DATA LOCAL INFILE``."""
    import tempfile

    source, query = _server_hashed_rows(pg_url)
    sink = mysql_connect(my_url)
    target = f"rental ({COLUMNS}, dk_loaded_at, dk_batch_id, dk_source_table, dk_record_hash)"
    with tempfile.TemporaryDirectory() as folder:
        fifo = os.path.join(folder, "rows")
        os.mkfifo(fifo)
        started = time.perf_counter()

        def copy_out() -> None:
            with open(fifo, "wb", buffering=1 << 16) as writer:
                source.cursor().copy_expert(f"COPY ({query}) TO STDOUT", writer)

        thread = threading.Thread(target=copy_out, daemon=True)  # blocks on the pipe if LOAD DATA fails
        thread.start()
        with sink.cursor() as cursor:
            cursor.execute(f"LOAD DATA LOCAL INFILE '{fifo}' INTO TABLE {target}")
        thread.join()
        sink.commit()
        seconds = time.perf_counter() - started
    source.close()
    sink.close()
    return seconds


def run_raw_executemany(pg_url: str, my_url: str, chunk: int = 5_000) -> float:
    """The server-hashed rows, read with a named cursor, written by PyMySQL's ``executemany``."""
    source, query = _server_hashed_rows(pg_url)
    sink = mysql_connect(my_url)
    names = f"{COLUMNS}, dk_loaded_at, dk_batch_id, dk_source_table, dk_record_hash"
    insert = f"INSERT INTO rental ({names}) VALUES ({', '.join(['%s'] * 11)})"
    started = time.perf_counter()
    with source.cursor("bench") as reader, sink.cursor() as writer:
        reader.execute(query)
        while rows := reader.fetchmany(chunk):
            writer.executemany(insert, rows)
    sink.commit()
    seconds = time.perf_counter() - started
    source.close()
    sink.close()
    return seconds


def run_add_all(url: str, rows: int) -> float:
    """SQLModel objects, ``session.add_all`` and a commit per 1,000 rows, lineage computed in Python."""
    engine = make_engine(url, [BronzeRental.__table__.schema])  # type: ignore[attr-defined]
    source = make_engine(url)
    names = [c.name for c in SourceRental.__table__.columns]  # type: ignore[attr-defined]
    business = [c for c in BronzeRental.__table__.columns if not c.name.startswith("dk_")]  # type: ignore[attr-defined]
    started = time.perf_counter()
    loaded_at = datetime.now(UTC)
    with source.connect() as conn, Session(engine) as session:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            select(SourceRental).where(SourceRental.rental_id <= rows)  # type: ignore[arg-type]
        )
        for chunk in result.partitions():
            objects = []
            for row in chunk:
                record = clean_rental(dict(zip(names, row, strict=True)))
                assert record is not None
                digest = hashlib.sha256(canonical_line([record[c.name] for c in business], business).encode())
                objects.append(
                    BronzeRental(
                        **record,
                        dk_loaded_at=loaded_at,
                        dk_batch_id="bench-add-all",
                        dk_source_table="public.rental",
                        dk_record_hash=digest.hexdigest(),
                    )
                )
            session.add_all(objects)
            session.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    source.dispose()
    return seconds


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` figure in KiB (Linux), or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def child_memory(url: str, rows: int) -> None:
    """In a child process: load ``rows`` rows; print RSS before and its peak during the load, as JSON.

    On Linux the peak is reset just before the load (``/proc/self/clear_refs``), so imports do not
    count; elsewhere it is the process's ``ru_maxrss``.
    """
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    run_loader(url, 1000, "bench-mem-warm-up")  # the first load compiles and imports what loads need
    before = _status_kib("VmRSS")
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    seconds, written = run_loader(url, rows, f"bench-mem-{rows}")
    peak = _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": written, "before_kib": before or peak, "peak_kib": peak, "seconds": seconds}))


def measure_memory(url: str, rows: int) -> dict[str, Any]:
    truncate(url)
    out = subprocess.run(
        [sys.executable, __file__, "--child-memory", url, "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def best_of(ways: dict[str, Any], repeat: int, before: Any) -> dict[str, list[float]]:
    """Each way ``repeat`` times, in turn (``before`` each run): the runs' seconds, by way."""
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeat):
        for name, way in ways.items():
            before()
            times[name].append(way())
    return times


def report(title: str, rows: dict[str, int], times: dict[str, list[float]], floor: str) -> dict[str, float]:
    """One table: rows/s of each way (its best run) and its ratio to ``floor``; the rates, by way."""
    rate = {name: rows[name] / min(seconds) for name, seconds in times.items()}
    width = max(map(len, times))
    print(f"\n{title}: best of each (all runs in seconds after the ratio)")
    for name, seconds in times.items():
        runs = " ".join(f"{t:.2f}" for t in seconds)
        print(
            f"{name:<{width}}  {rows[name]:>10,} rows  {min(seconds):7.2f}s  {rate[name]:>10,.0f} rows/s"
            f"  {rate[name] / rate[floor]:5.2f}x   [{runs}]"
        )
    return rate


def bench_postgresql(url: str, args: argparse.Namespace) -> None:
    ways = {
        "loader (lineage + transform)": lambda: run_loader(url, args.rows, "bench-loader")[0],
        "loader (lineage, no transform)": lambda: run_loader(url, args.rows, "bench-plain", transform=None)[0],
        "raw COPY (psycopg2, server hash)": lambda: run_raw_copy(url),
    }
    times = best_of(ways, args.repeat, lambda: truncate(url))
    truncate(url)
    add_rows = min(args.add_all_rows, args.rows)
    add_all_name = f"SQLModel add_all x1000 ({add_rows:,} rows)"
    times[add_all_name] = [run_add_all(url, add_rows)]
    rows = {name: args.rows for name in times} | {add_all_name: add_rows}
    rate = report(f"PostgreSQL, {args.rows:,} rows", rows, times, "raw COPY (psycopg2, server hash)")
    loader, plain, raw, add_all = rate.values()
    print(f"\nloader / raw COPY: {loader / raw:.2f}x (goal 0.8x or better); without the transform {plain / raw:.2f}x")
    print(f"loader / add_all:  {loader / add_all:.1f}x (goal 5x or better)")

    if not args.no_memory:
        small = measure_memory(url, max(1, args.rows // 10))
        large = measure_memory(url, args.rows)
        print()
        for m in (small, large):
            print(
                f"peak RSS while loading {m['rows']:>10,} rows: {m['peak_kib'] / 1024:7.1f} MiB "
                f"(RSS before the load {m['before_kib'] / 1024:.1f} MiB, load {m['seconds']:.1f}s)"
            )
        print(f"peak at {large['rows']:,} / peak at {small['rows']:,}: {large['peak_kib'] / small['peak_kib']:.2f}x")


def bench_mysql(url: str, args: argparse.Namespace) -> None:
    with open_target("mysql_local", label="bench") as mysql:
        deploy_data_objects([BronzeRental], mysql)
        my_url = mysql.url.render_as_string(hide_password=False)
        floor = "raw LOAD DATA LOCAL INFILE (server hash)"
        ways = {
            "loader (lineage + transform)": lambda: run_loader(url, args.rows, "bench-loader", target=my_url)[0],
            "loader (lineage, no transform)": lambda: run_loader(url, args.rows, "bench-plain", None, my_url)[0],
            floor: lambda: run_raw_load_data(url, my_url),
            "raw executemany (server hash)": lambda: run_raw_executemany(url, my_url),
        }
        times = best_of(ways, args.repeat, lambda: truncate_mysql(my_url))
        rate = report(
            f"MySQL/MariaDB ({mysql.safe_url}), {args.rows:,} rows", dict.fromkeys(times, args.rows), times, floor
        )
        loader, plain, load_data, executemany = rate.values()
        print(
            f"\nloader / LOAD DATA: {loader / load_data:.2f}x; without the transform {plain / load_data:.2f}x; "
            f"loader / raw executemany {loader / executemany:.2f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows to generate and load")
    parser.add_argument("--add-all-rows", type=int, default=100_000, help="Rows for session.add_all")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each fast way; the best counts")
    parser.add_argument(
        "--engine", choices=["postgresql", "mysql", "all"], default="postgresql", help="The target engine(s)"
    )
    parser.add_argument("--no-memory", action="store_true", help="Skip the peak-memory runs")
    parser.add_argument("--child-memory", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.child_memory, args.rows)
        return 0

    with open_target("postgres_local", label="bench") as database:
        url = database.url.render_as_string(hide_password=False)
        engine = make_engine(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(SOURCE_DDL))
            conn.execute(text(SOURCE_ROWS), {"rows": args.rows})
            conn.execute(text("ANALYZE public.rental"))
        engine.dispose()
        deploy_data_objects([BronzeRental], database)
        print(f"generated {args.rows:,} rental rows in {time.perf_counter() - started:.1f}s ({database.safe_url})")
        # Other work on the machine slows a run at random: each way runs --repeat times, in turn,
        # and the best time of each counts (the least disturbed).
        if args.engine in ("postgresql", "all"):
            bench_postgresql(url, args)
        if args.engine in ("mysql", "all"):
            bench_mysql(url, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
