"""Connect to a database of any engine, with its schemas mapped to what the engine has.

How each engine does it is in its module, ``framework/engines/<engine>.py``:

- PostgreSQL: schemas are native.
- MySQL/MariaDB: a schema is a database of its own, named ``<database>__<schema>`` (shortened
  with a hash to fit 64 characters), reached through ``schema_translate_map``.
- SQLite: a schema is an attached database: the file ``<file>__<schema>.db`` beside the main
  file, or a shared in-memory database ``<name>__<schema>``, attached on every connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from .dberrors import driver_message
from .engines import engine_kind
from .engines.mysql import NAME_LIMIT, schema_database
from .engines.sqlite import (  # noqa: F401 (their home was here: servers.sqlite and tests import them from here)
    is_memory_sqlite,
    keep_memory_alive,
    memory_keepers,
    memory_url,
    release_memory,
)
from .errors import AuthenticationFailed, TargetError, TargetUnreachable
from .urls import HIDDEN, connect_args, engine_of, safe_url, secrets_of, to_url, with_driver

_AUTH_MARKERS = ("password authentication failed", "access denied", "authentication failed", "no password")
MYSQL_NAME_LIMIT = NAME_LIMIT
mysql_schema_database = schema_database  # the MySQL database that holds a schema (framework.engines.mysql)


def make_engine(url: str | URL, schemas: Iterable[str | None] = (), **kwargs: object) -> Engine:
    """An engine for ``url`` on which the given schemas resolve, whatever the engine."""
    parsed = with_driver(to_url(url))
    named = sorted({s for s in schemas if s})
    options: dict[str, Any] = {"connect_args": connect_args(parsed), **kwargs}
    return engine_kind(engine_of(parsed)).make_engine(parsed, named, options)


def ensure_schemas(engine: Engine, schemas: Iterable[str | None]) -> None:
    """Create the schemas the tables need, in the engine's own terms."""
    named = sorted({s for s in schemas if s})
    if not named:
        return
    with engine.begin() as conn:
        engine_kind(engine.dialect.name).create_schemas(conn, engine.url.database or "", named)


def physical_schema(engine: Engine, schema: str | None) -> str | None:
    """The name the engine itself knows ``schema`` by (for reflection)."""
    if not schema:
        return schema
    return engine_kind(engine.dialect.name).physical_schema(engine.url.database or "", schema)


def check_connection(engine: Engine, label: str | None = None) -> None:
    """Connect once; turn the driver's failure into one clear line."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        raise connection_error(exc, engine.url, label) from None


def connection_error(exc: BaseException, url: URL, label: str | None = None) -> TargetError:
    shown = safe_url(url)
    where = shown if not label or label == shown else f"{label} ({shown})"
    detail = driver_message(exc)
    for secret in secrets_of(url):
        detail = detail.replace(secret, HIDDEN)
    if any(marker in detail.lower() for marker in _AUTH_MARKERS):
        return AuthenticationFailed(f"{where}: the server refused the user or password; check the credentials", label)
    return TargetUnreachable(f"{where}: cannot connect: {detail}", label)
