"""Runs on a shared server: a killed run is reaped by the next one; live runs never touch each other."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from framework import Run, deploy_data_objects, load_datakit, validate_deployment
from framework.targets.runs import run_id_of

SERVER_TARGETS = ["sqlite_file", "postgres_local", "mysql_local"]

CHILD = textwrap.dedent(
    """
    import sys, time
    from framework import Run, deploy_data_objects, get_target_config, load_datakit, start_server
    server = start_server(get_target_config(sys.argv[1]))
    run = Run(server, reap=False)
    db = run.create_database("main")
    deploy_data_objects(load_datakit("pagila_bronze"), db)
    print(db.name, flush=True)
    sys.stdin.readline()  # wait to be killed (or told to go on)
    from framework import validate_deployment
    print("valid" if validate_deployment(load_datakit("pagila_bronze"), db).success else "drift", flush=True)
    run.close()
    """
)


@contextmanager
def _child(target: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A child process holding a live run with one deployed database; killed at the end."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, target], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        name = proc.stdout.readline().strip()
        assert run_id_of(name), f"child printed {name!r}"
        try:
            yield proc, name
        finally:
            proc.kill()


@pytest.mark.parametrize("target_name", SERVER_TARGETS)
def test_a_killed_run_is_reaped_by_the_next(server, target_name: str) -> None:
    with _child(target_name) as (proc, name):
        assert name in server.list_databases(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    # the lock died with the child's connection; the next run on this server reaps its database
    with Run(server) as nxt:
        assert name in nxt.reaped
    assert server.list_databases(name) == []


@pytest.mark.parametrize("target_name", SERVER_TARGETS)
def test_concurrent_runs_do_not_touch_each_other(server, target_name: str) -> None:
    with _child(target_name) as (proc, name):
        with Run(server) as other:  # starting a run reaps, but never a live run's databases
            assert name not in other.reaped
            mine = other.create_database("mine")
            deploy_data_objects(load_datakit("pagila_bronze"), mine)
            assert name in server.list_databases(name)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "valid"  # the child's database is whole
        assert proc.wait(timeout=30) == 0
        assert server.list_databases(name) == []  # and it cleaned up after itself


def test_sqlite_memory_is_one_database_for_every_connection(servers) -> None:
    _, run = servers.get("sqlite_memory")
    db = run.create_database("shared")
    kit = load_datakit("pagila_bronze")
    deploy_data_objects(kit, db)  # deploy on one engine, validate through another: same database
    assert validate_deployment(kit, db).success
    run.drop(db)
