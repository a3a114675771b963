"""``datakits init``: the project it writes passes its own tests, in a child process, with nothing edited.

As ``django-admin startproject`` and ``dbt init`` are tested: generate into a temp folder, then run that
project's own ``pytest -n 2`` there (deploy, factory, ``datakit_dbt`` model and ``datakit_airflow`` DAG
tests on postgres_embedded). Its output goes into the failure message. A folder that is not empty is
refused in one line, nothing written.

``datakits init PATH --from URL``: the source is a small shop made here on the local PostgreSQL
(``DATAKITS_POSTGRES_URL``, default ``postgres@127.0.0.1:5432``), in a database of its own that is dropped
at the end: three tables, a foreign key (and one that is part of a composite key), integer, serial, text,
varchar, numeric, timestamptz and boolean columns, a unique and a check constraint, rows in each. Then, in
the project, with nothing edited: its own ``pytest -n 2``, ``datakits pipeline NAME --source URL --target
postgres_embedded`` (rows per layer against the source's) and ``datakits dags check``. Bad ``--from`` input
is one line, and nothing is written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from framework import make_engine

BIN = Path(sys.executable).parent
SERVER = os.environ.get("DATAKITS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def datakits(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=900
    )


def own_pytest(project: Path, passed: int, started: float, what: str) -> None:
    """The project's own ``pytest -n 2`` in a child process: ``passed`` tests pass (its output if not)."""
    done = subprocess.run(
        [str(BIN / "pytest"), "-n", "2", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=1200,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, f"the project's pytest failed:\n{done.stdout[-8000:]}\n{done.stderr[-2000:]}"
    # the example's stack test (marker stack) skips, saying so, unless asked for with -m stack
    assert re.search(rf"= {passed} passed(, 1 skipped)? in ", done.stdout), done.stdout[-3000:]
    print(f"{what} + the project's first pytest -n 2: {seconds:.1f}s")  # a figure, not an assertion


@pytest.mark.slow
def test_the_scaffold_passes_its_own_tests(tmp_path: Path) -> None:
    started = time.perf_counter()
    made = datakits("init", "shop", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    project = tmp_path / "shop"
    own_pytest(project, 6, started, "datakits init")
    checked = datakits("dags", "check", cwd=project)
    assert checked.returncode == 0 and "ok " in checked.stdout, checked.stdout + checked.stderr


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    done = datakits("init", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"datakits: {tmp_path} exists and is not empty; give a new folder (nothing was written)"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


SHOP = """
CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email varchar(80) UNIQUE,
    vip boolean NOT NULL DEFAULT false,
    signed_up timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    amount numeric(10, 2) NOT NULL CHECK (amount >= 0),
    placed_at timestamptz,
    paid boolean
);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE TABLE order_notes (
    order_id integer REFERENCES orders (id),
    line integer,
    note text,
    PRIMARY KEY (order_id, line)
);
INSERT INTO customers (name, email, vip) VALUES ('Ann', 'ann@example.org', true), ('Bo', NULL, false),
    ('Cy', 'cy@example.org', false);
INSERT INTO orders VALUES (1, 1, 12.50, '2024-03-01 10:00+00', true), (2, 1, 7.25, NULL, false),
    (3, 2, 30.00, '2024-03-09 09:15+00', NULL), (4, 3, 5.00, '2024-03-21 12:00+00', true);
INSERT INTO order_notes VALUES (1, 1, 'gift'), (1, 2, 'fast'), (3, 1, NULL);
"""
COUNTS = {"customers": 3, "orders": 4, "order_notes": 3}


@pytest.fixture
def shop_url() -> Iterator[str]:
    """A database of this test's own with the shop in it; its URL. Dropped at the end."""
    admin = make_engine(sa.make_url(SERVER).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL at {admin.url.render_as_string()}: {exc.orig}")
    name = f"dkt_init_from_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(SERVER).set(database=name)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(SHOP)
        yield url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def summary_rows(stdout: str) -> dict[str, dict[str, int]]:
    """The rows per table and layer in the summary table ``datakits pipeline`` prints."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("table "))
    layers = lines[header].split()[1:]
    rows: dict[str, dict[str, int]] = {layer: {} for layer in layers}
    for line in lines[header + 2 :]:
        if line.startswith("-"):
            break
        table, *counts = line.split()
        for layer, count in zip(layers, counts, strict=True):
            rows[layer][table] = int(count.replace(",", ""))
    return rows


@pytest.mark.slow
def test_a_project_reflected_from_a_database_passes_its_own_tests(tmp_path: Path, shop_url: str) -> None:
    started = time.perf_counter()
    made = datakits("init", "shop", "--from", shop_url, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    project = tmp_path / "shop"
    # 4 deploy (kit, bronze per table), 3 factory, 4 dbt model (staging per table, a rebuild), 1 DAG test
    own_pytest(project, 12, started, "datakits init --from")

    ran = datakits("pipeline", "shop", "--source", shop_url, "--target", "postgres_embedded", cwd=project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert summary_rows(ran.stdout) == {"bronze": COUNTS, "staging": COUNTS}, ran.stdout
    assert "validate    7 tables, no drift" in ran.stderr, ran.stderr  # bronze 3 and its dk_batches, staging 3

    checked = datakits("dags", "check", cwd=project)
    assert checked.returncode == 0 and "ok " in checked.stdout, checked.stdout + checked.stderr
    contracts = datakits("dbt", "contracts", "kits/shop_staging", "--project", "warehouse", "--check", cwd=project)
    assert contracts.returncode == 0, contracts.stdout + contracts.stderr


def test_the_generated_kits_and_models_fit_the_reflected_tables(tmp_path: Path, shop_url: str) -> None:
    made = datakits("init", "shop", "--from", shop_url, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    project = tmp_path / "shop"
    models = sorted(p.name for p in (project / "warehouse" / "models" / "staging").glob("*.sql"))
    assert models == ["customers.sql", "order_notes.sql", "orders.sql"]
    notes = (project / "warehouse" / "models" / "staging" / "order_notes.sql").read_text()
    assert "select distinct on (order_id, line)" in notes
    assert "from {{ source('shop_bronze', 'order_notes') }}" in notes
    staging = (project / "kits" / "shop_staging" / "models.py").read_text()
    assert "__table_args__ = {'schema': 'staging'}" in staging
    assert "ForeignKey" not in staging  # keys only: dbt makes no foreign keys
    factories = (project / "kits" / "shop_source" / "factories.py").read_text()
    assert 'order_id = factory.SelfAttribute("orders_row.id")' in factories
    assert "FACTORIES = [CustomersFactory, OrdersFactory, OrderNotesFactory]" in factories
    assert f"--source {shop_url}" in made.stdout  # no password in it to hide here


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres@127.0.0.1:5432", "names a server, not a database"),
        ("postgresql://postgres:secret@127.0.0.1:1/shop", "cannot connect"),
    ],
)
def test_bad_from_is_one_line_and_writes_nothing(tmp_path: Path, url: str, says: str) -> None:
    done = datakits("init", "shop", "--from", url, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    assert "secret" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["shop", "--name", "a" * 300], "has 300 characters: give a --name of 40 at most"),
        (["mine.txt/shop"], "mine.txt is a file, so"),
        (["shop", "--from", "not a url"], "--from 'not a url' is not a database URL"),
    ],
    ids=["name-of-300", "below-a-file", "from-not-a-url"],
)
def test_bad_init_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str], says: str) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    done = datakits("init", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_a_failed_init_takes_away_only_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 26 item 8: a file the user writes into the folder while ``init --from`` connects survives its failure."""
    from framework.cli import init

    admin = make_engine(sa.make_url(SERVER).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL at {admin.url.render_as_string()}: {exc.orig}")
    name = f"dkt_init_fail_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(SERVER).set(database=name)
    engine = make_engine(url)
    project = tmp_path / "shop"
    real = init.reflect_datakit

    def user_writes_meanwhile(*args: object, **kwargs: object) -> object:
        (project / "kits").mkdir(parents=True)
        (project / "kits" / "notes.md").write_text("mine")  # the user, while init is connected
        (project / "todo.txt").write_text("mine too")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(init, "reflect_datakit", user_writes_meanwhile)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE log (line text)")  # no primary key: reflect refuses, init fails
        with pytest.raises(init.DatakitError, match="no table with a primary key"):
            init.init_project(project, source_url=url.render_as_string(hide_password=False))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*")) == ["kits", "kits/notes.md", "todo.txt"]


MYSQL_SERVER = os.environ.get("DATAKITS_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")

#: Chinook's shape as its MySQL script writes it, and MySQL's own types: mixed-case tables, columns and
#: keys (one composite), charsets and collations PostgreSQL has not, unsigned integers, ENUM, SET, TINYINT
CHINOOK = """
CREATE TABLE `Artist` (
  `ArtistId` INT UNSIGNED NOT NULL,
  `Name` VARCHAR(120) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci,
  PRIMARY KEY (`ArtistId`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `Album` (
  `AlbumId` INT UNSIGNED NOT NULL,
  `Title` VARCHAR(160) COLLATE utf8mb4_unicode_ci NOT NULL,
  `ArtistId` INT UNSIGNED NOT NULL,
  PRIMARY KEY (`AlbumId`),
  CONSTRAINT `FK_AlbumArtistId` FOREIGN KEY (`ArtistId`) REFERENCES `Artist` (`ArtistId`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
CREATE TABLE `Track` (
  `TrackId` INT UNSIGNED NOT NULL,
  `Name` VARCHAR(200) NOT NULL,
  `AlbumId` INT UNSIGNED,
  `MediaType` ENUM('MPEG audio file','Protected AAC audio file','AAC audio file') NOT NULL,
  `Flags` SET('explicit','live','remastered'),
  `Milliseconds` INT NOT NULL,
  `Bytes` BIGINT UNSIGNED,
  `UnitPrice` DECIMAL(10,2) UNSIGNED NOT NULL,
  `AddedAt` DATETIME NOT NULL,
  `Notes` TEXT CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  `Rating` TINYINT UNSIGNED,
  PRIMARY KEY (`TrackId`),
  CONSTRAINT `FK_TrackAlbumId` FOREIGN KEY (`AlbumId`) REFERENCES `Album` (`AlbumId`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `Playlist` (
  `PlaylistId` INT UNSIGNED NOT NULL,
  `Name` VARCHAR(120) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  PRIMARY KEY (`PlaylistId`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `PlaylistTrack` (
  `PlaylistId` INT UNSIGNED NOT NULL,
  `TrackId` INT UNSIGNED NOT NULL,
  `Position` SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (`PlaylistId`, `TrackId`),
  CONSTRAINT `FK_PlaylistTrackPlaylistId` FOREIGN KEY (`PlaylistId`) REFERENCES `Playlist` (`PlaylistId`),
  CONSTRAINT `FK_PlaylistTrackTrackId` FOREIGN KEY (`TrackId`) REFERENCES `Track` (`TrackId`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `Artist` VALUES (1, 'AC/DC'), (2, 'Accept'), (3, 'Aerosmith');
INSERT INTO `Album` VALUES (1, 'For Those About To Rock We Salute You', 1), (2, 'Balls to the Wall', 2),
  (3, 'Restless and Wild', 2);
INSERT INTO `Track` VALUES
  (1, 'For Those About To Rock', 1, 'MPEG audio file', 'live', 343719, 11170334, 0.99, '2009-01-01 00:00:00',
   'première', 5),
  (2, 'Balls to the Wall', 2, 'Protected AAC audio file', 'explicit,remastered', 342562, 5510424, 0.99,
   '2009-01-02 10:00:00', NULL, NULL),
  (3, 'Fast As a Shark', 3, 'AAC audio file', NULL, 230619, 3990994, 0.99, '2009-01-03 00:00:00', 'ok', 3);
INSERT INTO `Playlist` VALUES (1, 'Music'), (2, 'Movies');
INSERT INTO `PlaylistTrack` VALUES (1, 1, 1), (1, 2, 2), (2, 3, 1);
"""
CHINOOK_COUNTS = {"Artist": 3, "Album": 3, "Track": 3, "Playlist": 2, "PlaylistTrack": 3}


@pytest.fixture
def chinook_url() -> Iterator[str]:
    """A MariaDB/MySQL database of this test's own with the Chinook-shaped tables in it; dropped at the end."""
    admin = make_engine(sa.make_url(MYSQL_SERVER))
    try:
        admin.connect().close()
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no MySQL/MariaDB at {admin.url.render_as_string()}: {exc.orig}")
    name = f"dkt_init_my_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(MYSQL_SERVER).set(database=name)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in CHINOOK.split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
        yield url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


@pytest.mark.slow
def test_a_project_reflected_from_mariadb_passes_its_own_tests(tmp_path: Path, chinook_url: str) -> None:
    """Issue 31: collations, charsets, unsigned, ENUM, SET and mixed-case keys, with nothing edited."""
    started = time.perf_counter()
    made = datakits("init", "chinook", "--from", chinook_url, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    project = tmp_path / "chinook"
    assert (
        "pytest-datakits[embedded,dbt,airflow,factories,pytest,files,reflect,mysql]"
        in (project / "pyproject.toml").read_text()
    )
    # 1 + 5 deploy, 5 factory, 5 + 1 dbt model, 1 DAG test
    own_pytest(project, 18, started, "datakits init --from MariaDB")

    ran = datakits("pipeline", "chinook", "--source", chinook_url, "--target", "postgres_embedded", cwd=project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert summary_rows(ran.stdout) == {"bronze": CHINOOK_COUNTS, "staging": CHINOOK_COUNTS}, ran.stdout
    assert "validate    11 tables, no drift" in ran.stderr, ran.stderr

    checked = datakits("dags", "check", cwd=project)
    assert checked.returncode == 0 and "ok " in checked.stdout, checked.stdout + checked.stderr


def test_a_folder_named_platform_is_not_named_twice(tmp_path: Path) -> None:
    """A folder named *platform gives the distribution chinook-platform, not chinook_platform-platform."""
    import tomllib

    done = subprocess.run(
        [sys.executable, "-m", "framework.cli", "init", str(tmp_path / "chinook_platform")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    project = tomllib.loads((tmp_path / "chinook_platform" / "pyproject.toml").read_text())["project"]
    assert project["name"] == "chinook-platform"
