"""postgres_container and mysql_container: real servers in Docker containers, images from `bash .ci/docker-images`.

Skipped only when no Docker engine answers; a missing image fails with how to build it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework import ProvisionerUnavailable, Run, deploy_data_objects, load_datakit, validate_deployment
from framework.targets.named import get_target_config
from framework.targets.provisioning import container, start_server

TARGETS = ["postgres_container", "mysql_container"]
ROOT = Path(__file__).resolve().parents[2]


def _no_engine() -> str | None:
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the 'containers' extra is not installed"
    return container.docker_reachable()


NO_ENGINE = _no_engine()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(NO_ENGINE is not None, reason=f"no Docker engine: {NO_ENGINE}")]

CHILD = textwrap.dedent(
    """
    import os, sys, time
    import docker
    from framework.targets.provisioning import container, start_server
    from framework.targets.named import get_target_config

    server = start_server(get_target_config(sys.argv[1]))
    client = docker.from_env()
    mine = client.containers.list(filters={"label": f"{container.OWNER}={os.getpid()}"})
    print(*[c.id for c in mine], flush=True)
    time.sleep(600)
    """
)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import docker

    docker_client = docker.from_env(timeout=30)
    yield docker_client
    docker_client.close()


def _ids(client: Any, pid: int) -> set[str]:
    """The containers (running or not) that the process ``pid`` started."""
    return {c.id for c in client.containers.list(all=True, filters={"label": f"{container.OWNER}={pid}"})}


def _exists(client: Any, container_id: str) -> bool:
    return bool(client.containers.list(all=True, filters={"id": container_id}))


@pytest.mark.parametrize("name", TARGETS)
def test_target_deploys_pagila_bronze_and_leaves_no_container(name: str, client: Any) -> None:
    bronze = load_datakit("pagila_bronze")
    before = _ids(client, os.getpid())
    started = time.monotonic()
    server = start_server(get_target_config(name))
    print(f"{name} started in {time.monotonic() - started:.2f} s")
    (ours,) = _ids(client, os.getpid()) - before
    try:
        with Run(server) as run:
            database = run.create_database("containers")
            result = deploy_data_objects(bronze, database)
            assert result.success
            assert len(result.created) == 15
            report = validate_deployment(bronze, database)
            assert report.success, report.summary()
            assert len(report.checked) == 16  # the 15 tables and bronze's dk_batches
        assert server.list_databases(f"dk_{run.run_id}_") == []
    finally:
        server.stop()
    assert not _exists(client, ours), f"{name}: container {ours[:12]} outlived server.stop()"
    server.stop()  # idempotent


@pytest.mark.parametrize("name", TARGETS)
def test_next_start_removes_the_container_of_a_killed_process(name: str, client: Any) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, name], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        line = child.stdout.readline().decode() if child.stdout else ""  # bounded by the start timeout
        if not line.strip():
            child.wait()
            err = child.stderr.read().decode() if child.stderr else ""
            pytest.fail(f"the child failed to start {name}: {err[-2000:]}")
        (orphan,) = line.split()
        assert _ids(client, child.pid) == {orphan}
        child.send_signal(signal.SIGKILL)
        child.wait()

    # nobody stopped it, so it is left over (unless a parallel worker's start removed it already)
    if "PYTEST_XDIST_WORKER" not in os.environ:
        assert _exists(client, orphan), "the killed child's container should outlive it until the next start"
    server = start_server(get_target_config(name))
    try:
        assert not _exists(client, orphan), f"the next start left the orphan container {orphan[:12]}"
    finally:
        server.stop()


def test_the_default_image_falls_back_to_the_local_one(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATAKITS_POSTGRES_IMAGE", raising=False)
    config = get_target_config("postgres_container")
    assert config.options["image"] == "postgres:15"  # the official one, as a user with Docker gets it
    if container._has_image(client, "postgres:15") or not container._has_image(client, "datakits/postgres:15"):
        pytest.skip("this checks the fallback where the engine has datakits/postgres:15 and not postgres:15")
    assert container._image(client, config) == "datakits/postgres:15"  # no pull


def test_a_missing_image_names_both_ways_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAKITS_MYSQL_IMAGE", "datakits/no-such-image:0")  # named by the user: never pulled
    with pytest.raises(ProvisionerUnavailable) as caught:
        start_server(get_target_config("mysql_container"))
    message = str(caught.value)
    assert "datakits/no-such-image:0" in message and "docker pull" in message
    assert "bash .ci/docker-images" in message and "DATAKITS_MYSQL_IMAGE=datakits/mariadb:10.11" in message
