"""Docker and testcontainers, as the engines' containers and the container provisioner need them."""

from __future__ import annotations

import importlib
import os
import socket
from typing import Any


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


def testcontainers_module(module: str) -> Any:
    """testcontainers' module for ``module`` (``postgres``, ``mysql``), wherever this version keeps it."""
    try:
        return importlib.import_module(f"testcontainers.community.{module}")
    except ImportError:  # testcontainers before its modules moved under community
        return importlib.import_module(f"testcontainers.{module}")
