"""A server in a container, through testcontainers; the image is configurable per target.

The default images are the official ``postgres:15`` and ``mariadb:10.11``, pulled as testcontainers
does when the engine does not have them, unless the engine has the locally built stand-in
(``datakits/postgres:15``, ``datakits/mariadb:10.11``, from ``bash .ci/docker-images``, for machines
that reach no image registry): then that one is used and nothing is pulled. An image the user names
(``DATAKITS_POSTGRES_IMAGE``, ``DATAKITS_MYSQL_IMAGE``) is used as it is, never pulled. Ryuk,
testcontainers' reaper, runs only if its image is already there (else
``TESTCONTAINERS_RYUK_DISABLED=true``, unless the user set it). Crash safety is ours either way: each
container is labelled with the process that started it (``datakits.owner``), and every start removes
the containers whose owner has died.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...engines import Server, engine_kind, server_for_url
from ...engines.generic.containers import docker_reachable
from ...engines.urls import to_url, with_driver
from ...errors import ProvisionerUnavailable
from ..named import LOCAL_IMAGES, TargetConfig, list_targets
from . import require

NO_ENGINE = (
    "{target} needs a Docker engine and none is reachable ({reason}): start one (as root, "
    "`bash .ci/docker-images` installs and starts dockerd and builds the local images), or use a target "
    "that needs none: {others}"
)
NO_IMAGE = (
    "{target} needs the image {image}, which the Docker engine does not have: {how}, or build the local one "
    "with `bash .ci/docker-images` and set {env}={local}"
)
PULL = "`docker pull {image}` where a registry is reachable"
GIVEN = "`docker pull {image}` or `docker load` it"
OWNER = "datakits.owner"  # pid of the process that started the container
OWNER_STARTED = "datakits.owner-started"  # that process's start time: tells it from a later reuse of the pid
HOST = "datakits.host"  # the machine of that process: pids mean nothing elsewhere
BOOT = "datakits.boot"  # its boot: after a reboot every owner is dead
RYUK_ENV = "TESTCONTAINERS_RYUK_DISABLED"
POLL_ENV = "TC_POOLING_INTERVAL"  # sic: testcontainers' name


def start(config: TargetConfig) -> Server:
    require("testcontainers", "containers", config.name)
    require("docker", "containers", config.name)
    reason = docker_reachable()
    if reason is not None:
        raise ProvisionerUnavailable(
            NO_ENGINE.format(target=config.name, reason=reason, others=_no_docker()), config.name
        )
    import docker

    client = docker.from_env(timeout=30)
    try:
        image = _image(client, config)
        reap_orphans(client)
        _configure_testcontainers(client)
    finally:
        client.close()

    container = engine_kind(config.engine).container(image)
    container.with_kwargs(labels=owner_labels())
    try:
        container.start()
    except BaseException:
        container.stop()  # removes it: a start that failed leaves nothing behind
        raise
    url = with_driver(to_url(container.get_connection_url()))
    return server_for_url(url, label=config.name, stop=_once(container.stop))


def _no_docker() -> str:
    """The named targets that need no Docker engine."""
    return ", ".join(t.name for t in list_targets() if t.provisioner != "container")


def owner_labels(pid: int | None = None) -> dict[str, str]:
    """The labels that tie a container to the process ``pid`` (this one by default) on this machine."""
    pid = os.getpid() if pid is None else pid
    return {OWNER: str(pid), OWNER_STARTED: _started(pid) or "", HOST: socket.gethostname(), BOOT: _boot_id()}


def reap_orphans(client: Any) -> list[str]:
    """Remove the containers of datakits whose starting process on this machine has died; their ids."""
    if _started(os.getpid()) is None:  # no /proc: liveness cannot be told, leave everything be
        return []
    removed = []
    for found in client.containers.list(all=True, filters={"label": OWNER}):
        labels = found.labels
        if labels.get(HOST) != socket.gethostname():
            continue
        if labels.get(BOOT) == _boot_id() and labels.get(OWNER, "").isdigit():
            started = _started(int(labels[OWNER]))
            if started is not None and started == labels.get(OWNER_STARTED):
                continue  # its owner still runs
        try:
            found.remove(force=True, v=True)
        except Exception:  # removed meanwhile by another reaper, or being removed: either way not ours to keep
            continue
        removed.append(str(found.id))
    return removed


def _once(stop: Callable[[], None]) -> Callable[[], None]:
    done = False

    def stop_once() -> None:
        nonlocal done
        if not done:
            done = True
            stop()

    return stop_once


def _image(client: Any, config: TargetConfig) -> str:
    """The image to start: the one given if the engine has it; the official default, else its local stand-in,
    else pulled (as testcontainers does)."""
    image = str(config.options["image"])
    local = LOCAL_IMAGES.get(image)
    if _has_image(client, image):
        return image
    if local is not None and _has_image(client, local):
        return local
    kind = engine_kind(config.engine)
    env = kind.image_env
    fallback = local or LOCAL_IMAGES[str(kind.default_image)]
    how = (PULL if local is not None else GIVEN).format(image=image)
    missing = ProvisionerUnavailable(
        NO_IMAGE.format(target=config.name, image=image, how=how, env=env, local=fallback), config.name
    )
    if local is None:  # an image the user named: never pulled behind their back
        raise missing
    try:
        client.images.pull(image)
    except Exception:  # no registry, no network, no such tag: all the same to the user
        raise missing from None
    return image


def _has_image(client: Any, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def _configure_testcontainers(client: Any) -> None:
    """Where the user has not chosen: no Ryuk unless its image is there (it would be pulled), and a
    readiness poll every 0.1 s instead of 1 s (the servers are up in about a second), same time limit."""
    from testcontainers.core.config import testcontainers_config as tc

    if RYUK_ENV not in os.environ and not _has_image(client, tc.ryuk_image):
        os.environ[RYUK_ENV] = "true"
        tc.ryuk_disabled = True
    if POLL_ENV not in os.environ and tc.sleep_time == 1:
        tc.max_tries, tc.sleep_time = tc.max_tries * 10, 0.1


def _started(pid: int) -> str | None:
    """The process's start time (clock ticks since boot); None if it is gone, a zombie, or /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
