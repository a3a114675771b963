"""A server in a container, through testcontainers; the image is configurable per target."""

from __future__ import annotations

import os
import socket

from ..errors import ProvisionerUnavailable
from ..servers import Server, server_for_url
from ..targets import TargetConfig
from ..urls import to_url, with_driver
from . import require

NO_ENGINE = (
    "{target} needs a Docker engine and none is reachable ({reason}); "
    "targets that work without one: sqlite_memory, sqlite_file, postgres_embedded, postgres_local, "
    "postgres_process, mysql_local, mysql_process"
)


def docker_reachable() -> str | None:
    """None when a Docker engine answers, else the reason it does not."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        path = host[len("unix://") :]
        with socket.socket(socket.AF_UNIX) as probe:
            probe.settimeout(5)
            try:
                probe.connect(path)
            except OSError as exc:
                return f"{path}: {exc.strerror or exc}"
    import docker

    try:
        client = docker.from_env(timeout=5)
    except Exception as exc:  # docker raises many kinds; any of them means "no engine"
        return " ".join(str(exc).split())[:160] or type(exc).__name__
    try:
        client.ping()
    except Exception as exc:
        return " ".join(str(exc).split())[:160] or type(exc).__name__
    finally:
        client.close()
    return None


def start(config: TargetConfig) -> Server:
    require("testcontainers", "containers", config.name)
    require("docker", "containers", config.name)
    reason = docker_reachable()
    if reason is not None:
        raise ProvisionerUnavailable(NO_ENGINE.format(target=config.name, reason=reason), config.name)
    image = str(config.options["image"])
    if config.engine == "postgresql":
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer(image, driver="psycopg2").start()
        url, stop = pg.get_connection_url(), pg.stop
    else:
        from testcontainers.mysql import MySqlContainer

        my = MySqlContainer(image, username="root", password="datakits", dbname="datakits").start()
        url, stop = my.get_connection_url(), my.stop
    return server_for_url(with_driver(to_url(url)), label=config.name, stop=stop)
