"""Benchmark: a folder of CSV files into bronze, against the floor of each engine, side by side in one run.

    python tests/benchmarks/bench_files.py [--rows 1000000] [--repeat 2] [--old-rows 100000]
                                           [--engine postgresql|mysql|all] [--memory-rows 0]

Writes a ``--rows``-row, 7-column CSV (``sale.csv``: integers, a decimal, a timestamp with zone, a date,
text, nullable text with commas) and a one-table source datakit in a temporary folder, then times:

PostgreSQL (the local server, ``postgres_local``):

- ``datakits load --source FOLDER --datakit KIT --target postgres_local``: the whole command in a child
  process (a database of its own made, the bronze datakit deployed, the file loaded, the database
  dropped) and the load itself (the ``files ...`` line it prints);
- the same into a URL warehouse (``--target postgresql://...@127.0.0.1:5432/DB --deploy``);
- ``psql -c '\\copy sale FROM file CSV HEADER'`` into a plain table of the same columns: the floor;
- the old path, for reference, on the first ``--old-rows`` rows: the file staged in a source database
  (``stage_folder``) then loaded from there (``load_datakit_tables``).

MySQL/MariaDB (``mysql_local``): ``datakits load`` there, and ``LOAD DATA LOCAL INFILE`` of the same file
into a plain table (PyMySQL, ``local_infile``): the floor.

Each way runs ``--repeat`` times in turn; the best run counts. ``--memory-rows N`` also writes an N-row
file and prints the peak RSS of a child process that loads it (``resource.getrusage(RUSAGE_CHILDREN)``),
beside the peak RSS at ``--rows``: memory stays flat as the file grows. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PG = "postgresql://postgres@127.0.0.1:5432"
MY = "mysql+pymysql://root@127.0.0.1:3306"
MODELS = """
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class Sale(SQLModel, table=True):
    __tablename__ = "sale"
    id: int = Field(primary_key=True)
    customer_id: int
    amount: Decimal = Field(max_digits=10, decimal_places=2)
    sold_at: datetime = Field(sa_type=DateTime(timezone=True))
    day: date
    name: str = Field(max_length=40)
    note: str | None = Field(default=None, max_length=200)
"""
PLAIN = (
    "CREATE TABLE sale (id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric(10,2) NOT NULL, "
    "sold_at {stamp} NOT NULL, day date NOT NULL, name varchar(40) NOT NULL, note varchar(200))"
)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("id,customer_id,amount,sold_at,day,name,note\n")
        for i in range(1, rows + 1):
            month, day = 1 + i % 12, 1 + i % 28
            note = "" if i % 3 else '"note, with a comma"'
            out.write(
                f"{i},{i % 4581},{i % 997}.{i % 100:02d},2024-{month:02d}-{day:02d} {i % 24:02d}:{i % 60:02d}:"
                f"{i * 7 % 60:02d},2024-{month:02d}-{day:02d},customer {i % 1000},{note}\n"
            )


def make_kit(base: Path) -> Path:
    kit = base / "kits" / "land_source"
    kit.mkdir(parents=True)
    (kit / "__init__.py").write_text('"""A landing system of one table."""\n\n__datakit_modules__ = ["models"]\n')
    (kit / "models.py").write_text(MODELS)
    return kit


def datakits(*args: str) -> tuple[float, float, int]:
    """``datakits ARGS`` in a child process: (its seconds, the load's seconds it printed, its peak RSS in KiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "framework.cli", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"datakits {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    found = re.search(r"^files .* (\d+\.\d+)s$", done.stderr, re.MULTILINE)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, float(found.group(1)) if found else seconds, rss if rss > before else before


def psql(database: str, *commands: str) -> None:
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", database]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, check=True, capture_output=True)


def pg_database() -> str:
    name = f"bench_files_{secrets.token_hex(3)}"
    psql("postgres", f"CREATE DATABASE {name}")
    return name


def drop_pg(name: str) -> None:
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def best(label: str, run: Callable[[], float], repeat: int) -> float:
    """The best of ``repeat`` runs (other work on the machine only ever slows a run down)."""
    seconds = min(run() for _ in range(repeat))
    print(f"  {label:<58} {seconds:7.2f} s", flush=True)
    return seconds


def bench_postgresql(folder: Path, kit: Path, args: argparse.Namespace) -> None:
    print(f"\nPostgreSQL, {args.rows:,} rows ({(folder / 'sale.csv').stat().st_size / 1e6:.0f} MB):")
    plain = pg_database()
    url_db = pg_database()
    try:
        psql(plain, PLAIN.format(stamp="timestamptz"))

        def copy() -> float:
            psql(plain, "TRUNCATE sale")
            started = time.perf_counter()
            psql(plain, f"\\copy sale FROM '{folder / 'sale.csv'}' CSV HEADER")
            return time.perf_counter() - started

        command = ["load", "--source", str(folder), "--datakit", str(kit)]
        whole: list[float] = []

        def named() -> float:
            seconds, load, _ = datakits(*command, "--target", "postgres_local")
            whole.append(seconds)
            return load

        def url() -> float:
            return datakits(*command, "--target", f"{PG}/{url_db}", "--deploy")[1]

        floor = best("psql \\copy (plain table, the floor)", copy, args.repeat)
        load = best("datakits load --source FOLDER --target postgres_local", named, args.repeat)
        print(f"  {'  the whole command (make, deploy, load, drop)':<58} {min(whole):7.2f} s")
        into_url = best("datakits load --source FOLDER --target postgresql://.../db", url, args.repeat)
        print(f"  load / \\copy: {load / floor:.2f}x (named target), {into_url / floor:.2f}x (URL warehouse)")
        if args.old_rows:
            old_path(folder, kit, args.old_rows, plain)
    finally:
        drop_pg(plain)
        drop_pg(url_db)


def old_path(folder: Path, kit: Path, rows: int, plain: str) -> None:
    """The old way on the first ``rows`` rows: staged in a source database, then loaded from there."""
    from framework import deploy_data_objects, load_datakit, stage_folder
    from framework.kits.bronze import derive_bronze
    from framework.loading.files import load_folder
    from framework.loading.loader import load_datakit_tables
    from framework.targets.runs import Database

    small = folder.parent / "old"
    small.mkdir(exist_ok=True)
    with (folder / "sale.csv").open() as source, (small / "sale.csv").open("w") as out:
        for number, line in enumerate(source):
            if number > rows:
                break
            out.write(line)
    source_kit = load_datakit(kit)
    bronze = derive_bronze(source_kit)
    staged, into = pg_database(), pg_database()
    try:
        staged_db, into_db = Database(f"{PG}/{staged}"), Database(f"{PG}/{into}")
        deploy_data_objects(bronze, into_db)
        started = time.perf_counter()
        stage_folder(small, source_kit, staged_db)
        load_datakit_tables(source_kit, bronze, source=staged_db, target=into_db, batch_id="old")
        old = time.perf_counter() - started
        started = time.perf_counter()
        load_folder(small, source_kit, bronze, into_db, batch_id="new")
        new = time.perf_counter() - started
        print(
            f"  old path (stage_folder + loader), {rows:,} rows: {old:.2f} s ({rows / old:,.0f} rows/s); "
            f"load_folder: {new:.2f} s ({rows / new:,.0f} rows/s): {old / new:.1f}x faster"
        )
    finally:
        drop_pg(staged)
        drop_pg(into)


def bench_mysql(folder: Path, kit: Path, args: argparse.Namespace) -> None:
    import pymysql

    print(f"\nMySQL/MariaDB, {args.rows:,} rows:")
    name = f"bench_files_{secrets.token_hex(3)}"
    conn = pymysql.connect(host="127.0.0.1", user="root", local_infile=True, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
            cursor.execute(f"USE {name}")
            cursor.execute(PLAIN.format(stamp="datetime"))

        def load_data() -> float:
            with conn.cursor() as cursor:
                cursor.execute("TRUNCATE sale")
                started = time.perf_counter()
                cursor.execute(
                    f"LOAD DATA LOCAL INFILE '{folder / 'sale.csv'}' INTO TABLE sale FIELDS TERMINATED BY ',' "
                    "OPTIONALLY ENCLOSED BY '\"' IGNORE 1 LINES "
                    "(id, customer_id, amount, sold_at, day, name, @note) SET note = NULLIF(@note, '')"
                )
                conn.commit()
                return time.perf_counter() - started

        def loader() -> float:
            command = ["load", "--source", str(folder), "--datakit", str(kit), "--target", "mysql_local"]
            return datakits(*command)[1]

        floor = best("LOAD DATA LOCAL INFILE (plain table, the floor)", load_data, args.repeat)
        load = best("datakits load --source FOLDER --target mysql_local", loader, args.repeat)
        print(f"  load / LOAD DATA: {load / floor:.2f}x")
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


def memory(folder: Path, kit: Path, args: argparse.Namespace) -> None:
    """Peak RSS of a child that loads the file, at ``--rows`` and at ``--memory-rows``."""
    print("\nPeak RSS of `datakits load --source FOLDER --target postgres_local` (a child process each):")
    big = folder.parent / "big"
    big.mkdir(exist_ok=True)
    write_csv(big / "sale.csv", args.memory_rows)
    for where, rows in ((folder, args.rows), (big, args.memory_rows)):
        script = (
            "import resource, subprocess, sys; "
            f"subprocess.run([sys.executable, '-m', 'framework.cli', 'load', '--source', {str(where)!r}, "
            f"'--datakit', {str(kit)!r}, '--target', 'postgres_local'], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
        size = (where / "sale.csv").stat().st_size / 1e6
        print(f"  {rows:>12,} rows ({size:,.0f} MB): peak RSS {int(done.stdout.split()[-1]) / 1024:,.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--old-rows", type=int, default=100_000, help="Rows for the old path (0: skip it)")
    parser.add_argument("--engine", choices=["postgresql", "mysql", "all"], default="all")
    parser.add_argument("--memory-rows", type=int, default=0, help="Rows of a second, bigger file for peak RSS")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-files-"))
    try:
        kit = make_kit(base)
        folder = base / "landing"
        folder.mkdir()
        started = time.perf_counter()
        write_csv(folder / "sale.csv", args.rows)
        print(
            f"wrote {args.rows:,} rows in {time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.1f}"
        )
        if args.engine in ("postgresql", "all"):
            bench_postgresql(folder, kit, args)
        if args.engine in ("mysql", "all"):
            bench_mysql(folder, kit, args)
        if args.memory_rows:
            memory(folder, kit, args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
