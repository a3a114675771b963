"""Connect to a database of any engine, with its schemas mapped to what the engine has.

How each engine does it is in its package, ``framework/engines/<engine>/``:

- PostgreSQL: schemas are native.
- MySQL/MariaDB: a schema is a database of its own, named ``<database>__<schema>`` (shortened
  with a hash to fit 64 characters), reached through ``schema_translate_map``.
- SQLite: a schema is an attached database: the file ``<file>__<schema>.db`` beside the main
  file, or a shared in-memory database ``<name>__<schema>``, attached on every connection.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import URL, Engine

from .generic.connect import check_engine, engine_for
from .registry import engine_kind
from .urls import engine_of, safe_url, to_url, with_driver


def make_engine(url: str | URL, schemas: Iterable[str | None] = (), **kwargs: object) -> Engine:
    """An engine for ``url`` on which the given schemas resolve, whatever the engine."""
    parsed = with_driver(to_url(url))
    return engine_for(engine_kind(engine_of(parsed)), parsed, schemas, **kwargs)


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
    check_engine(engine, safe_url(engine.url), label)
