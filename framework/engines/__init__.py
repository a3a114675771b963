"""Engines: everything the library knows of one database engine, one package each.

Like SQLAlchemy's ``dialects/<name>/``: all of one engine in one folder, the generic machinery
below it, the registry above it::

    registry.py       ENGINES: every name an engine goes by (aliases included) -> its package
    sqlite/           schemas are attached databases; shared in-memory databases; clone by backup
    postgresql/       schemas are schemas; clone by CREATE DATABASE ... TEMPLATE; COPY for loads
    mysql/            schemas are databases of their own; no clone; DDL commits at once
      __init__.py       its facts and moves: an ``ENGINE`` that satisfies ``EngineKind``
      server.py         the ``Server`` its URLs name (create, clone, drop, list databases; a run's lock)
      writer.py         the loader's fast path into it
      process.py        how its server runs from this machine's binaries (the ``*_process`` targets)
    generic/          what the engines build on: the interfaces (protocols.py), engine creation and
                      one-line connection errors (connect.py), the SQL server base (server.py), the
                      writer base and the canonical record text (writer.py, dbapi.py, canonical.py), the
                      process recipe, identifiers, driver errors, URL text, testcontainers
    urls.py, connect.py, identifiers.py    the front doors that ask the registry which engine a URL is

**Adding an engine** is a new package ``framework/engines/<name>/`` (an ``ENGINE`` that satisfies
``EngineKind``, its ``server.py`` and ``process.py`` if it has servers, its ``writer.py`` or another
engine's) and one line in ``registry.ENGINES``; nothing else. Named targets for it (``<name>_local`` ...) are lines in
``framework.targets.named``. Callers ask :func:`engine_kind` for an engine's facts instead of
comparing engine names. Arrows point down only: an engine package imports ``generic`` and never
the registry or another engine.
"""

from .generic.protocols import EngineKind, RunLock, Server
from .registry import ENGINES, all_engines, engine_kind, engine_names, server_for_url

__all__ = ["ENGINES", "EngineKind", "RunLock", "Server", "all_engines", "engine_kind", "engine_names", "server_for_url"]
