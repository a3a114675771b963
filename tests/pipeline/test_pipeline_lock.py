"""Two ``datakits pipeline`` runs into one warehouse at once take turns (``framework.pipeline.lock``).

They used to race on DDL (``pg_type_typname_nsp_index``, "relation already exists") and roll each
other back. Now the second waits for the first, says so in one line, and both end with the counts
one run gives; a run that waits too long gives up with one line.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

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
