"""The one registry of engines: every name an engine goes by, and its package.

Adding an engine is a new package ``framework/engines/<name>/`` and one line in ``ENGINES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from sqlalchemy.engine import URL

from . import mysql, postgresql, sqlite
from .generic.protocols import EngineKind, Server
from .generic.urls import to_url

#: every name an engine goes by -> the engine: its own name first, then the names users and tools
#: give it (``postgres``: Airflow's conn_type, dbt's adapter, the original framework's word;
#: ``mariadb``: SQLAlchemy's MariaDB dialect). The one place that knows which engines there are.
ENGINES: Mapping[str, EngineKind] = MappingProxyType(
    {
        "sqlite": sqlite.ENGINE,
        "postgresql": postgresql.ENGINE,
        "postgres": postgresql.ENGINE,
        "mysql": mysql.ENGINE,
        "mariadb": mysql.ENGINE,
    }
)


def engine_names() -> tuple[str, ...]:
    """The engines, by their own names: ``sqlite``, ``postgresql``, ``mysql``."""
    return tuple(dict.fromkeys(kind.name for kind in ENGINES.values()))


def engine_kind(name: str) -> EngineKind:
    """The engine an engine name or alias stands for (``postgres`` is ``postgresql``, ``mariadb`` is ``mysql``)."""
    if name not in ENGINES:
        raise ValueError(f"engine {name!r} is not supported; use one of {', '.join(engine_names())}")
    return ENGINES[name]


def all_engines() -> list[EngineKind]:
    """Every engine, in the order of :func:`engine_names`."""
    return [engine_kind(name) for name in engine_names()]


def server_for_url(url: URL, label: str, stop: Callable[[], None] | None = None) -> Server:
    """The server behind a PostgreSQL or MySQL URL (its database is the admin database)."""
    return engine_kind(to_url(url).get_backend_name()).url_server(url, label, stop)
