"""Servers: places where a run creates, lists, clones and drops databases of its own.

One small module per engine behind the ``Server`` protocol. A provisioner (see
``framework.provisioning``) brings a server to life; a ``Run`` (``framework.runs``) uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.engine import URL


class RunLock(Protocol):
    def release(self) -> None: ...


class Server(Protocol):
    """A database server (or SQLite's stand-in) that holds disposable databases."""

    engine: str
    label: str

    @property
    def admin_url(self) -> URL | None: ...

    def check(self) -> None: ...
    def database_url(self, name: str) -> URL: ...
    def create_database(self, name: str, template: str | None = None) -> URL: ...
    def drop_database(self, name: str) -> None: ...
    def list_databases(self, prefix: str) -> list[str]: ...
    def in_use(self, names: Sequence[str]) -> bool: ...
    def hold_lock(self, key: str) -> RunLock: ...
    def lock_is_free(self, key: str) -> bool: ...
    def stop(self) -> None: ...


def server_for_url(url: URL, label: str, stop: Callable[[], None] | None = None) -> Server:
    """The server behind a PostgreSQL or MySQL URL (its database is the admin database)."""
    from ..engines import engine_kind
    from ..urls import engine_of

    return engine_kind(engine_of(url)).url_server(url, label, stop)
