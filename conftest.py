"""The repository's own pytest wiring: servers shared by the session, the real Pagila, helpers.

Tests ask for ``server`` (parametrised over targets, one server per target per session) and
``database`` (a fresh database of the session's run on that server). A target whose server is
not on this machine is skipped with the reason; the local servers are expected in CI.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2  # noqa: F401  (see below)
import pytest

from framework import Database, DatakitError, Run, RunHost, get_target_config
from framework.engines import Server
from framework.kits.discovery import forget_datakit
from framework.loading.pgdump import load_plain_dump

pytest_plugins = ["pytester"]
# psycopg2 is imported before any pytester test: pytester drops the modules a test imported, and
# psycopg2's C extension does not run twice, so a psycopg2 imported again lacks psycopg2.errors
# (which dbt, run in process, needs)

ALL_TARGETS = [
    "sqlite_memory",
    "sqlite_file",
    "postgres_local",
    "postgres_embedded",
    "postgres_process",
    "mysql_local",
    "mysql_process",
]
_labels = itertools.count()


class Servers:
    """Each target's server, started once per session by the library's own run host; stopped at the end."""

    def __init__(self) -> None:
        self.host = RunHost()  # reaps what dead runs left, holds this session's lock on each server

    def get(self, name: str) -> tuple[Server, Run]:
        config = get_target_config(name)
        try:
            return self.host.server(config), self.host.run(config)
        except DatakitError as exc:
            reason = str(exc)
        pytest.skip(f"{name} is not available here: {reason}")

    def close(self) -> None:
        self.host.close()


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    pool = Servers()
    yield pool
    pool.close()


@pytest.fixture(params=ALL_TARGETS)
def target_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(servers: Servers, target_name: str) -> Server:
    return servers.get(target_name)[0]


@pytest.fixture
def database(servers: Servers, target_name: str) -> Iterator[Database]:
    """A fresh database on the target's server, dropped after the test."""
    _, run = servers.get(target_name)
    db = run.create_database(f"t{next(_labels)}")
    yield db
    run.drop(db)


@pytest.fixture(scope="module", autouse=True)
def _forget_temporary_kits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Kits a test module made in temporary folders (projects written by init, jaffle) are unloaded after it:
    SQLModel keeps one metadata, and another module's project may have tables of the same names."""
    before = set(sys.modules)
    yield
    temporary = tmp_path_factory.getbasetemp().resolve()
    for name in {m.split(".")[0] for m in set(sys.modules) - before}:
        origin = getattr(sys.modules.get(name), "__file__", None)
        if origin and Path(origin).resolve().is_relative_to(temporary):
            forget_datakit(name)


@pytest.fixture(scope="session")
def pagila_dir() -> Path:
    """The folder of the real Pagila dump, from DATAKITS_PAGILA_DIR."""
    folder = os.environ.get("DATAKITS_PAGILA_DIR")
    if not folder or not (Path(folder) / "pagila-data.sql").exists():
        pytest.skip("the real Pagila dump is not here: set DATAKITS_PAGILA_DIR to its folder")
    return Path(folder)


@pytest.fixture(scope="session")
def pagila_database(servers: Servers, pagila_dir: Path) -> Database:
    """The real Pagila, loaded once per session into a database on the local PostgreSQL."""
    _, run = servers.get("postgres_local")
    db = run.create_database("pagila")
    load_plain_dump(db.url, pagila_dir / "pagila-schema.sql", pagila_dir / "pagila-data.sql")
    return db
