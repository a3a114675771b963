"""Two ``datakits pipeline`` runs into one warehouse at once take turns (``framework.pipeline.lock``).

They used to race on DDL (``pg_type_typname_nsp_index``, "relation already exists") and roll each
other back. Now the second waits for the first, says so in one line, and both end with the counts
one run gives; a run that waits too long gives up with one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from framework import Database
from framework.errors import PipelineError
from framework.pipeline.lock import warehouse_lock


@pytest.fixture
def source_and_warehouse(servers: Any) -> Iterator[tuple[Database, Database]]:
    from datakits.pagila_source.generate import generate_pagila

    _, run = servers.get("postgres_local")
    source = run.create_database("lock_source")
    warehouse = run.create_database("lock_warehouse")
    generate_pagila(source, scale=0.05, seed=3)
    yield source, warehouse
    run.drop(source)
    run.drop(warehouse)


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def _summary(stdout: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in stdout.splitlines() if line.strip()}


def test_two_pipelines_into_one_warehouse_take_turns(source_and_warehouse: tuple[Database, Database]) -> None:
    source, warehouse = source_and_warehouse
    command = [sys.executable, "-m", "framework.cli", "pipeline", "pagila", "--source", _url(source)]
    command += ["--target", _url(warehouse), "--batch-id", "lock-1", "--workers", "2"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    done = [run.communicate(timeout=900) for run in runs]
    for run, (_, err) in zip(runs, done, strict=True):
        assert run.returncode == 0, err
    first, second = (_summary(out) for out, _ in done)
    counts = {k: v for k, v in first.items() if k in ("rental", "payment", "customer", "fact_rental", "dim_customer")}
    assert counts and counts == {k: v for k, v in second.items() if k in counts}  # the same counts as one run
    waited = [err for _, err in done if "another pipeline run holds" in err]
    assert len(waited) == 1, [err for _, err in done]


def test_a_run_that_waits_too_long_gives_up_in_one_line(source_and_warehouse: tuple[Database, Database]) -> None:
    _, warehouse = source_and_warehouse
    lines: list[str] = []
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with warehouse_lock(warehouse):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        with (
            pytest.raises(PipelineError, match=r"another pipeline run still holds .* after 1s"),
            warehouse_lock(warehouse, lines.append, wait=1),
        ):
            pass
        assert len(lines) == 1 and "waiting" in lines[0]
    finally:
        release.set()
        holder.join()
    with warehouse_lock(warehouse, lines.append, wait=1):  # let go: the next takes it at once
        pass
    assert len(lines) == 1


# --- A holder that loses its lock stops before another run comes in ----------------------------------

# A run in a process of its own: it writes a row per step into the warehouse, checking its lock first,
# until it is told to stop (the file ``stop`` exists) or loses the lock (one line, exit 1).
_HOLDER = """
import pathlib, sys, time
from sqlalchemy import create_engine, text
from framework.errors import PipelineError
from framework.pipeline.lock import warehouse_lock
from framework.targets.resolve import resolve_target

url, stop = sys.argv[1], pathlib.Path(sys.argv[2])
work = create_engine(url, isolation_level="AUTOCOMMIT")
try:
    with warehouse_lock(resolve_target(url)) as lock:
        print("held", flush=True)
        while not stop.exists():
            lock.check()
            with work.connect() as conn:
                conn.execute(text("INSERT INTO steps (run) VALUES ('first')"))
            time.sleep(0.05)
except PipelineError as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
"""


def _lock_pids(warehouse: Database) -> dict[str, int | None]:
    """The sessions holding the warehouse's pipeline locks: gate and presence, by name."""
    import hashlib

    key = "datakits_pipeline_" + hashlib.sha256((warehouse.url.database or "").encode()).hexdigest()[:16]
    engine = warehouse.engine(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return {
                name: conn.execute(
                    text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(:k, 7311)"
                    ),
                    {"k": part},
                ).scalar()
                for name, part in (("gate", key), ("presence", key + "_presence"))
            }
    finally:
        engine.dispose()


def _terminate(warehouse: Database, pid: int) -> None:
    engine = warehouse.engine(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        engine.dispose()


def _count(warehouse: Database) -> int:
    engine = warehouse.engine()
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM steps WHERE run = 'first'")).scalar() or 0)
    finally:
        engine.dispose()


@pytest.mark.parametrize("session", ["gate", "presence"])
def test_a_run_that_loses_its_lock_stops_before_another_comes_in(
    source_and_warehouse: tuple[Database, Database], tmp_path: Path, session: str
) -> None:
    _, warehouse = source_and_warehouse
    engine = warehouse.engine(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE steps (id serial PRIMARY KEY, run text)"))
    engine.dispose()
    stop = tmp_path / "stop"
    first = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, _url(warehouse), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "held"
        pid = _lock_pids(warehouse)[session]
        assert pid is not None  # the gate and the presence: two sessions hold the lock
        _terminate(warehouse, pid)  # as an administrator would
        with warehouse_lock(warehouse, wait=120):  # a second run
            at_entry = _count(warehouse)
            assert first.wait(timeout=120) == 1  # the first had stopped: it wrote no step after this one came in
            assert _count(warehouse) == at_entry
    finally:
        stop.touch()
        if first.poll() is None:
            first.kill()
        _, err = first.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("lost the pipeline lock on "), err
    assert "Traceback" not in err


def test_the_lock_sessions_have_keepalives_and_bounded_statements(
    source_and_warehouse: tuple[Database, Database],
) -> None:
    import socket

    from framework.engines.generic.server import _socket_of

    _, warehouse = source_and_warehouse
    with warehouse_lock(warehouse) as lock:
        assert lock is not None and len(lock.held) == 2
        for held in lock.held:
            with held._guard:  # the watcher's connection: not while it pings
                conn = held._conn
                assert conn is not None
                settings = {
                    name: conn.execute(text(f"SHOW {name}")).scalar()
                    for name in ("statement_timeout", "lock_timeout", "tcp_keepalives_idle", "tcp_keepalives_count")
                }
            assert settings == {
                "statement_timeout": "30s",
                "lock_timeout": "30s",
                "tcp_keepalives_idle": "10",
                "tcp_keepalives_count": "3",
            }
            fd = _socket_of(conn)
            assert fd is not None
            with socket.socket(fileno=os.dup(fd)) as sock:  # the client's end: the kernel's own settings
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 10
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 5
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3


def test_on_mysql_the_lock_sessions_have_keepalives_and_a_lost_one_is_seen(servers: Any) -> None:
    import socket

    from framework.engines.generic.server import _socket_of

    _, run = servers.get("mysql_local")
    warehouse = run.create_database("lock_mysql")
    try:
        with warehouse_lock(warehouse) as lock:
            assert lock is not None and len(lock.held) == 2
            for held in lock.held:
                with held._guard:  # the watcher's connection: not while it pings
                    conn = held._conn
                    assert conn is not None
                    assert conn.execute(text("SELECT @@SESSION.wait_timeout")).scalar() == 60
                    fd = _socket_of(conn)
                    assert fd is not None
                    with socket.socket(fileno=os.dup(fd)) as sock:
                        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 10
                    session = conn.execute(text("SELECT CONNECTION_ID()")).scalar()
            gate = lock.held[-1]  # the presence, the last one asked
            engine = warehouse.engine(isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"KILL {int(session)}"))  # as an administrator would
            engine.dispose()
            assert gate.lost.wait(30)  # seen at once by the watcher asleep on the socket
            with pytest.raises(PipelineError, match=r"^lost the pipeline lock on "):
                lock.check()
    except PipelineError as exc:  # the block's end checks too
        assert str(exc).startswith("lost the pipeline lock on ")
    finally:
        run.drop(warehouse)


def test_run_pipeline_stops_at_its_next_step_when_it_loses_the_lock(
    source_and_warehouse: tuple[Database, Database],
) -> None:
    from framework import run_pipeline

    source, warehouse = source_and_warehouse
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if line.startswith("deploy"):  # the run is in the warehouse: an administrator ends its lock session
            pid = _lock_pids(warehouse)["gate"]
            assert pid is not None
            _terminate(warehouse, pid)

    with pytest.raises(PipelineError, match=r"^lost the pipeline lock on .*; run it again$"):
        run_pipeline(source, warehouse, "lost-1", workers=2, report=report)
    assert not any(line.startswith(("dbt_", "validate", "  model")) for line in lines), lines
    with warehouse_lock(warehouse, wait=5):  # and it let go of the rest: the next run comes in at once
        pass
