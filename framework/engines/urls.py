"""URL helpers that ask the engine: render without passwords, classify engines, pin drivers, bound waits.

The helpers that need no engine (``to_url``, ``safe_text``, ``secrets_of``) live in
:mod:`framework.engines.generic.urls` and are importable from here too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL

from .generic.urls import CONNECT_TIMEOUT, HIDDEN, SECRET_KEYS, safe_server_url, safe_text, secrets_of, to_url
from .registry import ENGINES, engine_kind

__all__ = [
    "CONNECT_TIMEOUT",
    "HIDDEN",
    "SECRET_KEYS",
    "connect_args",
    "engine_of",
    "safe_text",
    "safe_url",
    "secrets_of",
    "to_url",
    "with_driver",
]


def safe_url(url: str | URL) -> str:
    """The URL as text with the password replaced by ``***``, in the query string too."""
    parsed = to_url(url)
    kind = ENGINES.get(parsed.get_backend_name())
    if kind is not None and not kind.has_servers:  # one file (SQLite): show paths and memory names as they are
        return f"{parsed.drivername}:///{parsed.database or ''}"
    return safe_server_url(parsed)


def engine_of(url: str | URL) -> str:
    """The engine family of a URL: ``sqlite``, ``postgresql`` or ``mysql`` (MariaDB included)."""
    return engine_kind(to_url(url).get_backend_name()).name


def with_driver(url: URL) -> URL:
    """Pin the driver the project installs (psycopg2, pymysql) when the URL names none."""
    if "+" in url.drivername or url.drivername not in ENGINES:
        return url
    pinned = ENGINES[url.drivername].url_driver
    return url.set(drivername=pinned) if pinned else url


def connect_args(url: URL) -> dict[str, Any]:
    """The driver's arguments: every wait of a connection's start bounded by ``CONNECT_TIMEOUT``
    (each engine's package says how its driver is told)."""
    return engine_kind(engine_of(url)).connect_args(CONNECT_TIMEOUT)
