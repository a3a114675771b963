"""SQLite's shared in-memory databases: one per name in this process, kept alive while it is held."""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import URL

memory_keepers: dict[str, sqlite3.Connection] = {}


def is_memory_sqlite(url: URL) -> bool:
    db = url.database or ""
    return db in ("", ":memory:") or "mode=memory" in db or url.query.get("mode") == "memory"


def memory_url(name: str) -> URL:
    """A shared-cache in-memory SQLite database that every connection of this process sees."""
    return URL.create("sqlite+pysqlite", database=f"file:{name}?mode=memory&cache=shared", query={"uri": "true"})


def keep_memory_alive(uri: str) -> None:
    """A shared in-memory database lives while a connection holds it: hold one per database."""
    if uri not in memory_keepers:
        memory_keepers[uri] = sqlite3.connect(uri, uri=True, check_same_thread=False)


def release_memory(name: str) -> None:
    """Forget the in-memory database ``name`` and its attached schemas."""
    for uri in [u for u in memory_keepers if u.startswith(f"file:{name}?") or u.startswith(f"file:{name}__")]:
        memory_keepers.pop(uri).close()
