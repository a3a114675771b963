"""``--datakit-create`` and ``--datakit-reuse`` at once, on one server: the reuse run never fails with
``template database ... does not exist``; it clones a kept template or builds its own.

The race is made to happen every time: the create run replaces the kept template (drops it, keeps
its new one) while the reuse run copies it. The outer test holds a lock on the kept template's
database object (``COMMENT ON DATABASE`` in an open transaction) so that the create run's ``DROP``
queues first and the reuse run's ``CREATE DATABASE ... TEMPLATE`` queues behind it; then it lets go.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from plugin_helpers import INI, QUIET, server_engine
from sqlalchemy import text
from sqlalchemy.engine import Connection

from framework import get_target_config
from framework.targets.provisioning import start_server
from framework.targets.runs import kept_templates

KIT = """
from sqlmodel import Field, SQLModel


class RawItems(SQLModel, table=True):
    __tablename__ = "raw_items"
    id: int = Field(primary_key=True)
"""

CONFTEST = """
from sqlalchemy import text


def pytest_datakit_fill_template(target, database):
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO raw_items (id) VALUES (1), (2), (3)"))
    engine.dispose()
"""

TESTS = """
from sqlalchemy import text


def test_the_template_is_filled(datakit_connection):
    assert datakit_connection.execute(text("SELECT count(*) FROM raw_items")).scalar() == 3
"""

WAIT = 300.0  # seconds the outer test waits for an inner run to reach the lock (a bound, not a measure)


@pytest.fixture
def project(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    pytester.makepyfile(**{"kits/items/__init__": KIT}, test_items=TESTS)
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI.format(extra="datakit_paths = kits/items"))
    yield pytester
    server = start_server(get_target_config("postgres_local"))  # this project's kept templates, and only them
    try:
        for name in kept_templates(server, f"{pytester.path}|postgres_local"):
            server.drop_database(name)
    finally:
        server.stop()


def _start(pytester: pytest.Pytester, flag: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "pytest", *QUIET, "-p", "no:randomly", flag, "--datakit-target", "postgres_local"]
    return pytester.popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _waiting(conn: Connection, kept: str) -> list[str]:
    """The lock modes that sessions wait for on the kept template's database object."""
    rows = conn.execute(
        text(
            "SELECT l.mode FROM pg_locks l JOIN pg_database d ON d.oid = l.objid "
            "WHERE l.locktype = 'object' AND l.classid = 'pg_database'::regclass AND d.datname = :kept "
            "AND NOT l.granted ORDER BY l.pid"
        ),
        {"kept": kept},
    )
    return [row[0] for row in rows]


def _wait_for(what: str, done: Callable[[], bool], runs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        ended = [r for r in runs if r.poll() is not None]
        if ended or time.monotonic() > deadline:
            output = b"".join(r.communicate()[0] for r in ended).decode(errors="replace")
            pytest.fail(f"no inner run reached {what}: {output[-3000:]}")
        time.sleep(0.2)


def test_a_reuse_run_beside_a_create_run_never_misses_its_template(project: pytest.Pytester) -> None:
    first = project.runpytest_subprocess(*QUIET, "--datakit-reuse", "--datakit-target", "postgres_local", timeout=300)
    first.assert_outcomes(passed=1)
    server = start_server(get_target_config("postgres_local"))
    try:
        (kept,) = kept_templates(server, f"{project.path}|postgres_local")
    finally:
        server.stop()

    engine = server_engine("postgres_local")
    runs: list[subprocess.Popen[bytes]] = []
    try:
        with engine.connect() as holder:
            holder.execute(text(f"COMMENT ON DATABASE {kept} IS 'held by the test'"))  # open: holds the object lock
            runs.append(_start(project, "--datakit-create"))
            with engine.connect() as watch:
                watch = watch.execution_options(isolation_level="AUTOCOMMIT")
                # the create run built its template and drops the kept one it replaces: it waits
                dropping = ["AccessExclusiveLock"]
                _wait_for("the drop of the kept template", lambda: _waiting(watch, kept) == dropping, runs)
                runs.append(_start(project, "--datakit-reuse"))
                # the reuse run listed the kept template and copies it: it waits behind the drop
                _wait_for("the copy of the kept template", lambda: len(_waiting(watch, kept)) == 2, runs)
            holder.rollback()  # the drop goes first, then the copy
        outputs = [run.communicate(timeout=WAIT)[0].decode(errors="replace") for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
        engine.dispose()
    created, reused = outputs
    assert runs[0].returncode == 0, created
    assert runs[1].returncode == 0, reused
    assert "does not exist" not in reused
    assert "1 passed" in reused
    assert "template: built (deploy, fill) and kept as" in reused or "template: cloned the kept template" in reused
