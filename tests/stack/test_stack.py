"""The compose stack for real: images built here, up, healthy, pagila_pipeline triggered through /api/v2.

One stack for the whole module (it is the expensive part), under a compose project of its own
(``datakits-test``, ports 25432/23306/28080) so that a developer's stack (``datakits``) is never touched.
Skips, saying why, when no Docker engine answers or no compose is installed.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from framework.errors import StackError
from framework.stack import AirflowApi, Stack, TaskRun, compose_command, engine_reason
from framework.stack.compose import IMAGES, ROOT

PROJECT = "datakits-test"
PORTS = {
    "DATAKITS_STACK_POSTGRES_PORT": 25432,
    "DATAKITS_STACK_MARIADB_PORT": 23306,
    "DATAKITS_STACK_AIRFLOW_PORT": 28080,
}
CLI = [sys.executable, "-m", "framework.cli", "stack"]
DAG = "pagila_pipeline"
BATCH = "stack-batch-1"
# gold tables with one row per row of a source table (whichever Pagila the stack holds: dump or generated)
GOLD_FROM_SOURCE = {
    "gold.fact_payment": "payment",
    "gold.fact_rental": "rental",
    "gold.dim_customer": "customer",
    "gold.dim_film": "film",
    "gold.dim_staff": "staff",
    "gold.dim_store": "store",
}


def _why_not() -> str | None:
    reason = engine_reason()
    if reason is not None:
        return f"no Docker engine answers: {reason}"
    try:
        compose_command()
    except StackError as exc:
        return str(exc)
    return None


WHY_NOT = _why_not()
needs_docker = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))


def _images_present() -> bool:
    return all(subprocess.run(["docker", "image", "inspect", i], capture_output=True).returncode == 0 for i in IMAGES)


def _build_images() -> None:
    """`.ci/docker-images` builds (or, when nothing changed, only checks) every image: root only."""
    if os.geteuid() != 0:
        if not _images_present():
            pytest.skip(f"the images {', '.join(IMAGES)} are missing and only root can build them (.ci/docker-images)")
        return
    started = time.monotonic()
    done = subprocess.run(["bash", str(ROOT / ".ci" / "docker-images")], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(done.stdout.rstrip())
    print(f"image build (.ci/docker-images): {time.monotonic() - started:.1f} s")


def _kill_a_run_mid_start(stack: Stack) -> None:
    """A run SIGKILLed while it starts the stack: its process group dies with containers left behind."""
    child = subprocess.Popen(
        [*CLI, "--project", stack.project, "--env-file", str(stack.env_file), "up"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not stack.resources()["containers"] and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.5)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert stack.resources()["containers"], "the killed run had started no container"


def _counts(stack: Stack) -> dict[str, int]:
    return {kind: len(ids) for kind, ids in stack.resources().items()}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _build_images()
    env_file = tmp_path_factory.mktemp("stack") / ".env"
    found = Stack(project=PROJECT, env_file=env_file, ports=PORTS)
    found.remove_leftovers()  # what an earlier, killed run left (only what carries the stack's labels)
    yield found
    found.remove_leftovers()  # a failed test must not leave a stack either


def _warehouse(stack: Stack, database: str = "warehouse"):  # type: ignore[no-untyped-def]
    password = stack.env()["POSTGRES_PASSWORD"]
    return create_engine(f"postgresql+psycopg2://datakits:{password}@127.0.0.1:{stack.port('postgres')}/{database}")


def _source_rows(stack: Stack, tables: dict[str, str]) -> dict[str, int]:
    """Rows of source tables in the stack's ``pagila``, keyed by the gold table that must hold as many."""
    engine = _warehouse(stack, "pagila")
    try:
        with engine.connect() as connection:
            return {
                gold: connection.execute(text(f"SELECT count(*) FROM {source}")).scalar_one()
                for gold, source in tables.items()
            }
    finally:
        engine.dispose()


def _fingerprint(stack: Stack) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of the contents of every table in the warehouse, each row whole but for
    ``dk_loaded_at`` (the time its batch was loaded: reloading a batch replaces its rows with equal ones)."""
    engine = _warehouse(stack)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ).all()
            found = {}
            for schema, table in tables:
                name = f'"{schema}"."{table}"'
                rows, digest = connection.execute(
                    text(
                        f"SELECT count(*), md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM "
                        f"(SELECT (to_jsonb(t) - 'dk_loaded_at')::text AS r FROM {name} t) rows"
                    )
                ).one()
                found[f"{schema}.{table}"] = (rows, digest)
    finally:
        engine.dispose()
    return found


def _overlap(tasks: list[TaskRun]) -> bool:
    """Whether two of the tasks ran at the same time."""
    spans = sorted((t.start, t.end) for t in tasks if t.start and t.end)
    return any(later_start < earlier_end for (_, earlier_end), (later_start, _) in itertools.pairwise(spans))


def _run_pipeline(api: AirflowApi) -> tuple[float, list[TaskRun]]:
    api.wait_dag(DAG)
    started = api.trigger(DAG, {"batch_id": BATCH})
    done = api.wait_run(DAG, started.run_id, timeout=1800)
    tasks = api.task_runs(DAG, started.run_id)
    failed = [t for t in tasks if t.state == "failed"]
    logs = {f"{t.task_id}[{t.map_index}]": api.task_log(DAG, started.run_id, t) for t in failed}
    assert done.state == "success", f"run {done.run_id}: {done.state}; failed tasks and their logs' last lines: {logs}"
    return done.seconds or 0.0, tasks


@pytest.mark.stack
@pytest.mark.slow
@needs_docker
def test_stack_runs_the_pipeline_survives_a_restart_and_leaves_nothing(stack: Stack) -> None:
    # a killed run's stack is removed by the next start, and nothing unlabelled is touched
    bystander = subprocess.run(
        ["docker", "create", "--label", f"com.docker.compose.project={PROJECT}", IMAGES[0]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()  # carries the project's label but not the stack's: not ours to remove
    try:
        _kill_a_run_mid_start(stack)
        removed = stack.remove_leftovers()
        assert removed["containers"], "nothing of the killed run was removed"
        assert _counts(stack) == {"containers": 0, "networks": 0, "volumes": 0}
        assert subprocess.run(["docker", "inspect", bystander], capture_output=True).returncode == 0
    finally:
        subprocess.run(["docker", "rm", "-f", bystander], capture_output=True)
    stack.env_file.unlink()  # the killed run wrote it; a fresh stack gets fresh passwords

    before = _counts(stack)
    seconds_to_healthy = stack.up(timeout=900)
    up = _counts(stack)
    print(f"up to healthy: {seconds_to_healthy:.1f} s; resources of the stack: {before} -> {up}")
    assert up["containers"] == 6 and up["networks"] == 1 and up["volumes"] == 4

    env = stack.env()
    api = AirflowApi(f"http://127.0.0.1:{stack.port('airflow')}", "admin", env["AIRFLOW_ADMIN_PASSWORD"])
    assert api.token()
    seconds, tasks = _run_pipeline(api)
    loads = [t for t in tasks if t.map_index >= 0]
    print(f"DAG run under the scheduler: {seconds:.1f} s; {len(loads)} mapped loads")
    assert len(loads) >= 2 and _overlap(loads), "the mapped loads did not run in parallel"

    first = _fingerprint(stack)
    gold = {name: rows for name, (rows, _) in first.items() if name.startswith("gold.")}
    print("gold rows:", gold)
    expected = _source_rows(stack, GOLD_FROM_SOURCE)
    assert {name: gold.get(name) for name in expected} == expected

    # restart: down without -v keeps the data; the same batch again changes no row
    stack.down(volumes=False)
    assert _counts(stack)["volumes"] == 4 and _counts(stack)["containers"] == 0
    print(f"up again to healthy: {stack.up(timeout=900):.1f} s")
    assert _fingerprint(stack) == first, "the warehouse changed across down/up"
    seconds_again, _ = _run_pipeline(api)
    print(f"second run, same batch id: {seconds_again:.1f} s")
    assert _fingerprint(stack) == first, "a second run with the same batch id changed rows"

    stack.down(volumes=True)
    assert _counts(stack) == before == {"containers": 0, "networks": 0, "volumes": 0}


def test_stack_refuses_bad_conf_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "--env-file", str(tmp_path / ".env"), "trigger", "--conf", "[1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--conf is not JSON" in done.stderr
