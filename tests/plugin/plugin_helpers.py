"""Helpers for the plugin's tests: what an inner run left behind, and its run ids."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from framework.engines.sqlite.server import ROOT as SQLITE_ROOT
from framework.targets.named import get_target_config

# start-up time only (Faker's plugin alone takes a second); never part of what is tested
QUIET = ["-p", "no:cacheprovider", "-p", "no:faker", "-p", "no:pytest_postgresql"]
INI = """
[pytest]
filterwarnings =
    error
    ignore::platformdirs.api.RuntimeDirWarning
{extra}
"""
RUN_ID = re.compile(r"dk(?:keep)?_([0-9a-f]{8})_")


def run_ids(result: pytest.RunResult) -> set[str]:
    """The run ids in the database names an inner run printed."""
    return set(RUN_ID.findall(result.stdout.str()))


def server_engine(target: str) -> Engine:
    url = get_target_config(target).url
    assert url
    return create_engine(url, poolclass=NullPool)


def leftovers(run_id: str) -> list[str]:
    """Databases and files of run ``run_id`` still on the local servers and in the SQLite folder."""
    found = []
    for target, sql in [
        ("postgres_local", "SELECT datname FROM pg_database WHERE datname LIKE :p"),
        ("mysql_local", "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
    ]:
        engine = server_engine(target)
        try:
            with engine.connect() as conn:
                found += [row[0] for row in conn.execute(text(sql), {"p": f"dk%{run_id}%"})]
        finally:
            engine.dispose()
    if SQLITE_ROOT.exists():
        found += [p.name for p in SQLITE_ROOT.iterdir() if run_id in p.name and not p.name.endswith(".lock")]
    return found


def drop_kept(run_id: str) -> None:
    """Drop what ``--datakit-keep`` left (kept databases are the user's to drop)."""
    for target in ("postgres_local", "mysql_local"):
        engine = server_engine(target)
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                sql = (
                    "SELECT datname FROM pg_database WHERE datname LIKE :p"
                    if target == "postgres_local"
                    else "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"
                )
                for (name,) in conn.execute(text(sql), {"p": f"dkkeep_{run_id}%"}).all():
                    quote = '"' if target == "postgres_local" else "`"
                    conn.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        finally:
            engine.dispose()
    for path in SQLITE_ROOT.glob(f"dkkeep_{run_id}*") if SQLITE_ROOT.exists() else []:
        path.unlink()
