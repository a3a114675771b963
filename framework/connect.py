"""Connect to a database of any engine, with its schemas mapped to what the engine has.

- PostgreSQL: schemas are native.
- MySQL/MariaDB: a schema is a database of its own, named ``<database>__<schema>`` (shortened
  with a hash to fit 64 characters), reached through ``schema_translate_map``.
- SQLite: a schema is an attached database: the file ``<file>__<schema>.db`` beside the main
  file, or a shared in-memory database ``<name>__<schema>``, attached on every connection.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema

from .dberrors import driver_message
from .errors import AuthenticationFailed, TargetError, TargetUnreachable
from .identifiers import quote_identifier
from .urls import HIDDEN, connect_args, engine_of, safe_url, secrets_of, to_url, with_driver

MYSQL_NAME_LIMIT = 64
_AUTH_MARKERS = ("password authentication failed", "access denied", "authentication failed", "no password")
memory_keepers: dict[str, sqlite3.Connection] = {}


def mysql_schema_database(database: str, schema: str) -> str:
    """The MySQL database that holds ``schema`` of ``database`` (at most 64 characters)."""
    name = f"{database}__{schema}"
    if len(name) <= MYSQL_NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    room = MYSQL_NAME_LIMIT - len(database) - len(digest) - 3
    if room < 4:
        raise ValueError(f"MySQL database name {database!r} is too long to hold schemas")
    return f"{database}__{schema[:room]}_{digest}"


def is_memory_sqlite(url: URL) -> bool:
    db = url.database or ""
    return db in ("", ":memory:") or "mode=memory" in db or url.query.get("mode") == "memory"


def memory_url(name: str) -> URL:
    """A shared-cache in-memory SQLite database that every connection of this process sees."""
    return URL.create("sqlite+pysqlite", database=f"file:{name}?mode=memory&cache=shared", query={"uri": "true"})


def _sqlite_schema_target(url: URL, schema: str) -> str:
    db = url.database or ""
    if db.startswith("file:") and "mode=memory" in db:
        name = db[len("file:") :].split("?", 1)[0]
        return f"file:{name}__{schema}?mode=memory&cache=shared"
    path = Path(db)
    return str(path.with_name(f"{path.stem}__{schema}{path.suffix or '.db'}"))


def keep_memory_alive(uri: str) -> None:
    """A shared in-memory database lives while a connection holds it: hold one per database."""
    if uri not in memory_keepers:
        memory_keepers[uri] = sqlite3.connect(uri, uri=True, check_same_thread=False)


def release_memory(name: str) -> None:
    """Forget the in-memory database ``name`` and its attached schemas."""
    for uri in [u for u in memory_keepers if u.startswith(f"file:{name}?") or u.startswith(f"file:{name}__")]:
        memory_keepers.pop(uri).close()


def make_engine(url: str | URL, schemas: Iterable[str | None] = (), **kwargs: object) -> Engine:
    """An engine for ``url`` on which the given schemas resolve, whatever the engine."""
    parsed = with_driver(to_url(url))
    named = sorted({s for s in schemas if s})
    engine_kind = engine_of(parsed)
    options: dict[str, Any] = {"connect_args": connect_args(parsed), **kwargs}
    if engine_kind == "sqlite":
        return _sqlite_engine(parsed, named, options)
    engine = create_engine(parsed, **options)
    if engine_kind == "mysql":
        event.listen(engine, "connect", _lift_handshake_timeouts)
    if engine_kind == "mysql" and named:
        base = parsed.database or ""
        mapping: dict[str | None, str | None] = {s: mysql_schema_database(base, s) for s in named}
        engine = engine.execution_options(schema_translate_map=mapping)
    return engine


def _lift_handshake_timeouts(dbapi_connection: Any, _record: Any) -> None:
    """Connected: a query may take as long as it takes (PyMySQL has no public setter for this)."""
    if hasattr(dbapi_connection, "_read_timeout") and hasattr(dbapi_connection, "_write_timeout"):
        dbapi_connection._read_timeout = None
        dbapi_connection._write_timeout = None


def _sqlite_engine(url: URL, schemas: list[str], options: dict[str, Any]) -> Engine:
    memory = is_memory_sqlite(url)
    if memory and (url.database or "") in ("", ":memory:"):
        raise TargetError("a bare :memory: SQLite URL is private to one connection; use the sqlite_memory target")
    if memory:
        options.setdefault("poolclass", NullPool)
        keep_memory_alive(url.database or "")
    attach = {s: _sqlite_schema_target(url, s) for s in schemas}
    for target in attach.values():
        if memory:
            keep_memory_alive(target)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy drive transactions (SAVEPOINT works), as its SQLite docs recommend
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for schema, target in attach.items():
            cursor.execute(f"ATTACH DATABASE ? AS {quote_identifier(engine.dialect, schema)}", (target,))
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def ensure_schemas(engine: Engine, schemas: Iterable[str | None]) -> None:
    """Create the schemas the tables need, in the engine's own terms."""
    named = sorted({s for s in schemas if s})
    kind = engine.dialect.name
    if not named or kind == "sqlite":  # SQLite creates attached files on ATTACH
        return
    with engine.begin() as conn:
        for schema in named:
            if kind == "postgresql":
                conn.execute(CreateSchema(schema, if_not_exists=True))
            else:
                real = mysql_schema_database(engine.url.database or "", schema)
                conn.execute(CreateSchema(real, if_not_exists=True))


def physical_schema(engine: Engine, schema: str | None) -> str | None:
    """The name the engine itself knows ``schema`` by (for reflection)."""
    if schema and engine.dialect.name == "mysql":
        return mysql_schema_database(engine.url.database or "", schema)
    return schema


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
