"""Per-test isolation on PostgreSQL, three ways, side by side in one run.

The same 200 tests (each inserts 20 rows into one of 15 tables and counts them) run with:

    floor      a hand-written fixture: one database, each test in a rolled-back transaction
    datakits   this plugin's ``datakit_session`` (``--datakit-target postgres_local``)
    pgpg       pytest-postgresql's ``postgresql_noproc``: a database per test, from a template

Each suite is generated in a temp folder and run with pytest in a subprocess; the figures are
wall times of the whole ``pytest`` command (start-up included), best of ``--repeat`` rounds,
and their ratios. Needs the PostgreSQL at ``DATAKITS_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) and pytest-postgresql (the ``bench`` extra).

    python tests/benchmarks/bench_isolation.py [--repeat 3] [--tests 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from sqlalchemy.engine import make_url

TABLES = 15
ROWS = 20
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

KIT = "from sqlmodel import Field, SQLModel\n" + "".join(
    f"""

class Bench{i}(SQLModel, table=True):
    __tablename__ = "bench_{i}"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    value: int
"""
    for i in range(TABLES)
)

TESTS = """
import pytest
from sqlalchemy import func, insert, select

from bench_kit import {classes}

TABLES = [{classes}]


@pytest.mark.parametrize("n", range({tests}))
def test_insert_and_count(db, n):
    table = TABLES[n % len(TABLES)]
    db.execute(insert(table), [{{"name": f"row {{i}}", "value": i}} for i in range({rows})])
    assert db.scalar(select(func.count()).select_from(table)) == {rows}
"""

CONFTEST = {
    "floor": """
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

import bench_kit  # noqa: F401

URL = {url!r}


@pytest.fixture(scope="session")
def engine():
    admin = create_engine(URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS dkbench_floor WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE dkbench_floor"))
    engine = create_engine(URL.rsplit("/", 1)[0] + "/dkbench_floor")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE dkbench_floor WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def db(engine):
    conn = engine.connect()
    trans = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    trans.rollback()
    conn.close()
""",
    "datakits": """
import pytest


@pytest.fixture
def db(datakit_session):
    return datakit_session
""",
    "pgpg": """
import pytest
from pytest_postgresql import factories
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

import bench_kit  # noqa: F401


def _url(host, port, user, password, dbname):
    return URL.create("postgresql+psycopg", username=user, password=password, host=host, port=port, database=dbname)


def create_tables(host, port, user, dbname, password, **_):
    engine = create_engine(_url(host, port, user, password, dbname), poolclass=NullPool)
    SQLModel.metadata.create_all(engine)
    engine.dispose()


postgresql_noproc = factories.postgresql_noproc(
    host={host!r}, port={port!r}, user={user!r}, password={password!r}, dbname="dkbench_pgpg", load=[create_tables]
)
postgresql = factories.postgresql("postgresql_noproc")


@pytest.fixture
def db(postgresql):
    info = postgresql.info
    engine = create_engine(_url(info.host, info.port, info.user, info.password, info.dbname), poolclass=NullPool)
    with Session(engine) as session:
        yield session
    engine.dispose()
""",
}

INI = {
    "floor": "[pytest]\n",
    "datakits": "[pytest]\ndatakit_targets = postgres_local\ndatakit_paths = bench_kit.py\n",
    "pgpg": "[pytest]\n",
}
PLUGINS_OFF = {  # each way without the other's plugin; Faker's plugin (a second of start-up) off for all
    "floor": ["-p", "no:datakits", "-p", "no:pytest_postgresql", "-p", "no:faker"],
    "datakits": ["-p", "no:pytest_postgresql", "-p", "no:faker"],
    "pgpg": ["-p", "no:datakits", "-p", "no:faker"],
}
WAYS = ["floor", "datakits", "pgpg"]


def write_suite(folder: Path, way: str, url: str, tests: int) -> None:
    parsed = make_url(url)
    folder.mkdir(parents=True)
    classes = ", ".join(f"Bench{i}" for i in range(TABLES))
    (folder / "bench_kit.py").write_text(KIT)
    (folder / "test_bench.py").write_text(TESTS.format(classes=classes, tests=tests, rows=ROWS))
    conftest = CONFTEST[way].format(
        url=parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False),
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
    )
    (folder / "conftest.py").write_text(textwrap.dedent(conftest).lstrip())
    (folder / "pytest.ini").write_text(INI[way])


def run_suite(folder: Path, way: str, tests: int) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGINS_OFF[way]]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or f"{tests} passed" not in done.stdout:
        sys.exit(f"{way}: the suite did not pass:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best wall time of each way counts")
    parser.add_argument("--tests", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("DATAKITS_POSTGRES_URL", DEFAULT_URL)
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="datakits-bench-") as tmp:
        for way in WAYS:
            write_suite(Path(tmp) / way, way, url, args.tests)
        for _ in range(args.repeat):  # interleaved, so drift on the machine hits every way alike
            for way in WAYS:
                times[way].append(run_suite(Path(tmp) / way, way, args.tests))
    best = {way: min(found) for way, found in times.items()}
    print(f"{args.tests} tests, {ROWS} rows each into one of {TABLES} tables, PostgreSQL; best of {args.repeat}")
    for way in WAYS:
        per_test = (best[way] - best["floor"]) / args.tests * 1000
        rounds = ", ".join(f"{t:.2f}" for t in times[way])
        print(f"  {way:<9} {best[way]:6.2f} s   (+{per_test:5.2f} ms/test over the floor; rounds: {rounds})")
    print(f"  datakits / floor     {best['datakits'] / best['floor']:.2f}x   (goal: at most 1.5x)")
    print(f"  pgpg / datakits      {best['pgpg'] / best['datakits']:.1f}x   (goal: at least 10x)")


if __name__ == "__main__":
    main()
