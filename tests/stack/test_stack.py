"""The compose stack for real: images built here, up, healthy, pagila_pipeline triggered through /api/v2.

One stack for the whole module (it is the expensive part), under a compose project of its own
(``datakits-test-<a hash of this checkout's path>``, on ports free when the module loads) so that neither a
developer's stack (``datakits``) nor the stack test of another checkout on the same machine is touched. It
runs on the CeleryExecutor with 2 workers (one is killed mid-run), then, after a restart, on the
LocalExecutor. The Pagila DAG runs with dbt per node (the default): in the run whose worker is killed during a
load, the other worker is killed too, later, while it runs a dbt model's task; both are retried and the run
succeeds with every row once. Skips, saying why, when no Docker engine answers or no compose is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from framework.errors import StackError
from framework.stack import AirflowApi, Stack, TaskRun, compose_command, engine_reason
from framework.stack.compose import CELERY_IMAGES, IMAGES, ROOT, write_env

PROJECT = "datakits-test-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]  # one per checkout


def _free_ports(names: list[str]) -> dict[str, int]:
    """Ports nothing listens on now, one per name (held together while chosen, so they differ)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in names]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return {name: sock.getsockname()[1] for name, sock in zip(names, sockets, strict=True)}


PORTS = _free_ports(
    [
        "DATAKITS_STACK_POSTGRES_PORT",
        "DATAKITS_STACK_MARIADB_PORT",
        "DATAKITS_STACK_AIRFLOW_PORT",
        "DATAKITS_STACK_REDIS_PORT",
    ]
)
CLI = [sys.executable, "-m", "framework.cli", "stack"]
DAG = "pagila_pipeline"
BATCH = "stack-batch-1"
BATCH_KILLED = "stack-batch-2"  # loaded while a worker is killed
WORKERS = 2
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
    return all(
        subprocess.run(["docker", "image", "inspect", i], capture_output=True).returncode == 0
        for i in IMAGES + CELERY_IMAGES
    )


def _build_images() -> None:
    """`.ci/docker-images` builds (or, when nothing changed, only checks) every image: root only."""
    if os.geteuid() != 0:
        if not _images_present():
            images = ", ".join(IMAGES + CELERY_IMAGES)
            pytest.skip(f"the images {images} are missing and only root can build them (.ci/docker-images)")
        return
    started = time.monotonic()
    done = subprocess.run(["bash", str(ROOT / ".ci" / "docker-images")], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(done.stdout.rstrip())
    print(f"image build (.ci/docker-images): {time.monotonic() - started:.1f} s")


def _kill_a_run_mid_start(stack: Stack) -> None:
    """A run SIGKILLed while it starts the stack: its process group dies with containers left behind."""
    write_env(stack.env_file, stack.ports)  # the test's ports, not the default ones a developer's stack may hold
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
    found = Stack(project=PROJECT, env_file=env_file, ports=PORTS, executor="celery", workers=WORKERS)
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


def _bronze_batch(stack: Stack, batch: str) -> dict[str, tuple[int, int]]:
    """Per bronze table: the batch's rows and its distinct rows (by record hash: a row loaded twice has its twin's)."""
    engine = _warehouse(stack)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' AND table_schema LIKE 'br\\_%' AND table_name <> 'dk_batches'"
                )
            ).all()
            return {
                f"{schema}.{table}": tuple(
                    connection.execute(
                        text(
                            f'SELECT count(*), count(DISTINCT dk_record_hash) FROM "{schema}"."{table}" '
                            "WHERE dk_batch_id = :b"
                        ),
                        {"b": batch},
                    ).one()
                )
                for schema, table in tables
            }
    finally:
        engine.dispose()


def _published_addresses(stack: Stack) -> set[str]:
    """The host addresses every published port of the stack's containers listens on."""
    done = subprocess.run(["docker", "inspect", *stack.resources()["containers"]], capture_output=True, text=True)
    return {
        binding["HostIp"]
        for item in json.loads(done.stdout)
        for bindings in (item["NetworkSettings"]["Ports"] or {}).values()
        for binding in bindings or []
    }


def _kill_a_busy_worker(stack: Stack, api: AirflowApi, run_id: str, timeout: float = 600) -> str:
    """``docker kill`` a worker while it runs loads (both its slots when it can be caught so); its hostname.

    A task the killed worker had taken but not yet started stays queued until the scheduler's queued timeout:
    catching the worker with both of its slots running loads leaves it none such."""
    workers = {worker.hostname: worker for worker in stack.workers_running()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            loads = [t for t in api.task_runs(DAG, run_id) if t.task_id == "load"]
        except StackError:  # a busy API server: ask again
            loads = []
        running = [t.hostname for t in loads if t.state == "running" and t.hostname in workers]
        finished = [t for t in loads if t.state in ("success", "failed", "up_for_retry")]
        busiest = max(set(running), key=running.count, default=None)
        if busiest and (running.count(busiest) >= 2 or len(finished) >= len(loads) * 2 // 3):
            subprocess.run(["docker", "kill", workers[busiest].container], capture_output=True, check=True)
            print(f"killed worker {busiest} while it ran {running.count(busiest)} load(s)")
            return busiest
        if loads and len(finished) == len(loads):
            break
        time.sleep(0.2)
    raise AssertionError(f"no worker was caught running a load: {[(t.map_index, t.state) for t in loads]}")


def _kill_a_worker_in_dbt(stack: Stack, api: AirflowApi, run_id: str, victim: str, timeout: float = 900) -> str:
    """Once every load is done, start the worker killed during a load again; then ``docker kill`` the worker
    that runs a dbt model's task (a task of the silver or gold group); its hostname."""
    deadline = time.monotonic() + timeout
    restarted = False
    while time.monotonic() < deadline:
        try:
            tasks = api.task_runs(DAG, run_id)
        except StackError:
            tasks = []
        loads = [t for t in tasks if t.task_id == "load"]
        if not restarted and loads and all(t.state == "success" for t in loads):
            [container] = [s.container for s in stack.services() if s.hostname == victim]
            subprocess.run(["docker", "start", container], capture_output=True, check=True)
            restarted = True
        workers = {worker.hostname: worker for worker in stack.workers_running()}
        models = [
            t
            for t in tasks
            if t.task_id.startswith(("silver.", "gold.")) and not t.task_id.endswith(".tests") and t.try_number == 1
        ]
        running = [t for t in models if t.state == "running" and t.hostname in workers]
        if restarted and running:
            subprocess.run(["docker", "kill", workers[running[0].hostname].container], capture_output=True, check=True)
            print(f"killed worker {running[0].hostname} while it ran {running[0].task_id}")
            return running[0].hostname
        if models and all(t.state == "success" for t in models):
            break
        time.sleep(0.2)
    raise AssertionError("no worker was caught running a dbt model's task")


def _run_pipeline(api: AirflowApi, batch: str, kill: Stack | None = None) -> tuple[float, list[TaskRun], str, str, str]:
    """Trigger the DAG for ``batch`` and wait for success (with ``kill``, a worker of that stack is killed
    during a load, and one during a dbt model); the run's seconds, its task instances, its run id and the
    killed workers' hostnames."""
    api.wait_dag(DAG)
    started = api.trigger(DAG, {"batch_id": batch})
    victim = _kill_a_busy_worker(kill, api, started.run_id) if kill is not None else ""
    dbt_victim = _kill_a_worker_in_dbt(kill, api, started.run_id, victim) if kill is not None else ""
    done = api.wait_run(DAG, started.run_id, timeout=1800)
    tasks = api.task_runs(DAG, started.run_id)
    failed = [t for t in tasks if t.state == "failed"]
    logs = {f"{t.task_id}[{t.map_index}]": api.task_log(DAG, started.run_id, t) for t in failed}
    assert done.state == "success", f"run {done.run_id}: {done.state}; failed tasks and their logs' last lines: {logs}"
    return done.seconds or 0.0, tasks, started.run_id, victim, dbt_victim


@pytest.mark.stack
@pytest.mark.slow
@needs_docker
def test_stack_runs_the_pipeline_on_celery_survives_a_killed_worker_and_a_restart_and_leaves_nothing(
    stack: Stack,
) -> None:
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

    # up on the CeleryExecutor: PostgreSQL, MariaDB, Redis, airflow-init, API server, scheduler, DAG processor, workers
    before = _counts(stack)
    seconds_to_healthy = stack.up(timeout=900)
    up = _counts(stack)
    print(f"up to healthy (CeleryExecutor, {WORKERS} workers): {seconds_to_healthy:.1f} s; resources: {before} -> {up}")
    assert up == {"containers": 8 + WORKERS, "networks": 1, "volumes": 3}  # task logs: a folder, not a volume
    assert stack.logs_dir.is_dir()
    assert _published_addresses(stack) == {"127.0.0.1"}
    env = stack.env()
    [redis] = [service.container for service in stack.services() if service.name == "redis"]
    unauthenticated = subprocess.run(["docker", "exec", redis, "redis-cli", "ping"], capture_output=True, text=True)
    assert "NOAUTH" in unauthenticated.stdout + unauthenticated.stderr, "the broker answers without its password"
    workers = {worker.hostname for worker in stack.workers_running()}
    assert len(workers) == WORKERS

    api = AirflowApi(f"http://127.0.0.1:{stack.port('airflow')}", "admin", env["AIRFLOW_ADMIN_PASSWORD"])
    assert api.token()
    seconds, tasks, _, _, _ = _run_pipeline(api, BATCH)
    loads = [t for t in tasks if t.task_id == "load"]
    models = [t for t in tasks if t.task_id.startswith(("silver.", "gold."))]
    print(f"DAG run on {WORKERS} Celery workers: {seconds:.1f} s; {len(loads)} mapped loads, {len(models)} dbt tasks")
    assert {"silver.customer", "silver.customer_snapshot", "gold.fact_rental"} <= {t.task_id for t in models}
    assert {t.label for t in loads} >= {"payment", "rental"}  # a mapped load is shown by its table
    assert {t.hostname for t in loads} == workers, "the mapped loads did not run on both workers"
    assert len(loads) >= 2 and _overlap(loads), "the mapped loads did not run in parallel"

    first = _fingerprint(stack)
    gold = {name: rows for name, (rows, _) in first.items() if name.startswith("gold.")}
    print("gold rows:", gold)
    expected = _source_rows(stack, GOLD_FROM_SOURCE)
    assert {name: gold.get(name) for name in expected} == expected

    # a worker killed mid-run (docker kill: no warm shutdown): its loads fail on the missed heartbeat, are retried
    # on the other worker, and the run succeeds with every row of the batch loaded once
    seconds, tasks, run_id, victim, dbt_victim = _run_pipeline(api, BATCH_KILLED, kill=stack)
    survivor = (workers - {victim}).pop()
    print(f"DAG run with worker {victim} killed during a load, {dbt_victim} during a dbt model: {seconds:.1f} s")
    assert [worker.hostname for worker in stack.workers_running()] == sorted(workers - {dbt_victim})
    killed_models = [t for t in tasks if t.task_id.startswith(("silver.", "gold.")) and t.try_number > 1]
    assert killed_models, "no dbt task was retried after its worker was killed"
    for model in killed_models:
        tries = api.task_tries(DAG, run_id, model.task_id)
        assert tries[0].hostname == dbt_victim and tries[0].state == "failed", tries
        assert tries[-1].hostname != dbt_victim and tries[-1].state == "success", tries
    retried = [t for t in tasks if t.task_id == "load" and t.try_number > 1]
    assert retried, "no load was retried after its worker was killed"
    for load in retried:
        tries = api.task_tries(DAG, run_id, "load", load.map_index)
        assert tries[0].hostname == victim and tries[0].state == "failed", tries
        assert tries[-1].hostname == survivor and tries[-1].state == "success", tries
    assert {t.hostname for t in tasks if t.task_id == "load" and t.start and t.start > retried[0].start} <= {survivor}
    loaded = _bronze_batch(stack, BATCH_KILLED)
    assert loaded == _bronze_batch(stack, BATCH), "the batch loaded around the killed worker differs from the first"
    assert all(rows == distinct > 0 for rows, distinct in loaded.values()), f"duplicate or missing rows: {loaded}"
    after_kill = _fingerprint(stack)
    assert {name: after_kill[name][0] for name in expected} == expected

    # restart on the LocalExecutor: down without -v keeps the data; Redis and the workers are gone; the same
    # batch again changes no row
    stack.down(volumes=False)
    assert _counts(stack)["volumes"] == 3 and _counts(stack)["containers"] == 0
    local = Stack(project=PROJECT, env_file=stack.env_file)
    print(f"up again to healthy (LocalExecutor): {local.up(timeout=900):.1f} s")
    assert _counts(local)["containers"] == 7 and not local.workers_running()
    assert _fingerprint(local) == after_kill, "the warehouse changed across down/up"
    seconds_again, _, _, _, _ = _run_pipeline(api, BATCH_KILLED)
    print(f"second run, same batch id, LocalExecutor: {seconds_again:.1f} s")
    assert _fingerprint(local) == after_kill, "a second run with the same batch id changed rows"

    local.down(volumes=True)
    assert _counts(local) == before == {"containers": 0, "networks": 0, "volumes": 0}


def test_stack_up_refuses_bad_executor_flags_in_one_line(tmp_path: Path) -> None:
    for flags, message in [
        (["--executor", "kubernetes"], "--executor must be one of local, celery, not 'kubernetes'"),
        (["--workers", "2"], "--workers needs --executor celery"),
        (["--executor", "celery", "--workers", "0"], "--workers must be at least 1, not 0"),
    ]:
        done = subprocess.run(
            [*CLI, "--env-file", str(tmp_path / ".env"), "up", *flags],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and message in done.stderr
    assert not (tmp_path / ".env").exists()


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


def test_an_env_file_from_before_the_broker_gets_its_password_appended(tmp_path: Path) -> None:
    from framework.stack.compose import read_env

    env_file = tmp_path / ".env"
    assert write_env(env_file)
    old = [line for line in env_file.read_text().splitlines() if not line.startswith("REDIS_PASSWORD=")]
    env_file.write_text("\n".join(old) + "\n")  # as written before Redis was part of the stack
    before = read_env(env_file)
    assert write_env(env_file)  # appended
    after = read_env(env_file)
    assert {k: v for k, v in after.items() if k != "REDIS_PASSWORD"} == before
    assert len(after["REDIS_PASSWORD"]) == 32
    assert not write_env(env_file)  # complete: left as it is
    assert env_file.stat().st_mode & 0o777 == 0o600
