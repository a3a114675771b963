"""The reaper and the names it acts on, on servers these tests start themselves.

Hand-made ``dk_*`` databases and changed server settings would disturb every other run on a
shared server, so each test here uses a ``postgres_process`` / ``mysql_process`` server of its
module's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, text

from framework import Run, deploy_data_objects, start_server
from framework.engines import Server
from framework.engines.connect import make_engine
from framework.errors import ProvisionerUnavailable
from framework.targets.named import get_target_config
from framework.targets.runs import lock_key, parse_name, run_id_of, sweep_server

pytestmark = pytest.mark.slow
OWN = ["postgres_process", "mysql_process"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=OWN)
def own(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A server of this module's own: nothing done to it reaches another run."""
    try:
        server = start_server(get_target_config(request.param))
    except ProvisionerUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


def _quote_char(server: Server) -> str:
    return '"' if server.engine == "postgresql" else "`"


def _reap_cli(server: Server) -> subprocess.CompletedProcess[str]:
    """``datakits reap`` aimed at ``server`` (the local target's URL pointed at it)."""
    assert server.admin_url is not None
    variable, target = (
        ("DATAKITS_POSTGRES_URL", "postgres_local")
        if server.engine == "postgresql"
        else ("DATAKITS_MYSQL_URL", "mysql_local")
    )
    env = {**os.environ, variable: server.admin_url.render_as_string(hide_password=False), "DATAKITS_REAP_GRACE": "0"}
    command = [sys.executable, "-m", "framework.cli", "reap", "--target", target]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_names_with_quotes_are_quoted_and_left_alone(own: Server) -> None:
    q = _quote_char(own)
    odd = [f"dk_deadbeef_q{q}x", "dk_deadbeef_p%:x", f"dk_0123abcd_{q}; drop database x; --"]
    for name in odd:
        own.create_database(name)
    dead = Run(own, reap=False, hold=False).create_database("main")  # a run whose lock nobody holds
    try:
        out = _reap_cli(own)
        assert out.returncode == 0, out.stderr
        assert "Traceback" not in out.stderr + out.stdout
        assert f"reaped 1 database(s) of dead runs: {dead.name}" in out.stdout
        for name in odd:
            assert repr(name) in out.stdout  # reported
        assert sorted(own.list_databases("dk_")) == sorted(odd)  # and left as they were
    finally:
        for name in odd:
            own.drop_database(name)
    assert own.list_databases("dk_") == []


def test_schema_names_are_quoted_in_ddl(own: Server) -> None:
    q = _quote_char(own)
    schema = f"x{q}; create role dk_pwned; --" if own.engine == "postgresql" else f"x{q}y"
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), schema=schema)
    with Run(own, reap=False) as run:
        db = run.create_database("main")
        result = deploy_data_objects([table], db)
        assert result.success, result.error
        engine = db.engine([schema])
        try:
            with engine.begin() as conn:
                conn.execute(table.insert().values(id=1))
                assert conn.execute(table.select()).scalar() == 1
                if own.engine == "postgresql":
                    assert conn.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = 'dk_pwned'")).scalar() == 0
        finally:
            engine.dispose()
    assert own.list_databases("dk_") == []


def test_only_names_a_run_makes_are_candidates(own: Server) -> None:
    run = Run(own, reap=False, hold=False)
    made = run.create_database("t0_gw1")
    assert parse_name(made.name or "") == (run.run_id, made.name)
    assert run_id_of(f"{made.name}__br__pagila__public") == run.run_id  # a MySQL schema database of it
    lookalikes = ["dk_20240101_backup", "dk_0123abcd_ffffff_main", f"dk_{run.run_id}_main"]
    assert [run_id_of(name) for name in lookalikes] == [None, None, None]
    for name in lookalikes:
        own.create_database(name)
    session = make_engine(own.database_url("dk_20240101_backup")).connect()  # somebody works in the hand-made database
    try:
        found = sweep_server(own, grace=0)
        assert found.dropped == [made.name]
        assert sorted(found.skipped) == sorted(lookalikes)
        assert session.execute(text("SELECT 1")).scalar() == 1  # that session was not terminated
    finally:
        session.close()
        for name in lookalikes:
            own.drop_database(name)


def _set_idle_timeout(server: Server, seconds: int | None) -> None:
    """The server's idle-connection timeout (None: back to the default), for new sessions."""
    assert server.admin_url is not None
    engine = make_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if server.engine == "postgresql":
                value = "DEFAULT" if seconds is None else f"'{seconds}s'"
                conn.execute(text(f"ALTER SYSTEM SET idle_session_timeout = {value}"))
                conn.execute(text("SELECT pg_reload_conf()"))
            else:
                conn.execute(text(f"SET GLOBAL wait_timeout = {28800 if seconds is None else seconds}"))
    finally:
        engine.dispose()


def _kill_lock_holder(server: Server, key: str) -> None:
    """Cut the connection that holds the lock ``key``, as an administrator or a proxy would."""
    assert server.admin_url is not None
    engine = make_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if server.engine == "postgresql":
                pid = conn.execute(
                    text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(:k, 7311)"
                    ),
                    {"k": key},
                ).scalar()
                assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            else:
                holder = conn.execute(text("SELECT IS_USED_LOCK(:k)"), {"k": key}).scalar()
                conn.execute(text(f"KILL {int(holder)}"))
    finally:
        engine.dispose()


def test_a_live_run_keeps_its_claim_past_idle_timeouts(own: Server) -> None:
    _set_idle_timeout(own, 1)
    try:
        with Run(own, reap=False) as run:
            db = run.create_database("main")
            time.sleep(3)  # an idle run, between two tests
            assert not own.lock_is_free(lock_key(run.run_id))
            assert sweep_server(own, grace=0).dropped == []
            assert db.name in own.list_databases(db.name or "")
        assert own.list_databases(db.name or "") == []  # and it ends as usual
    finally:
        _set_idle_timeout(own, None)


def test_a_run_takes_its_lock_back_when_its_connection_is_cut(own: Server) -> None:
    with Run(own, reap=False) as run:
        db = run.create_database("main")
        _kill_lock_holder(own, lock_key(run.run_id))
        assert sweep_server(own).dropped == []  # a reaper right then: the run has its lock back within the grace
        assert not own.lock_is_free(lock_key(run.run_id))
        assert db.name in own.list_databases(db.name or "")
    assert own.list_databases(db.name or "") == []
