"""SQLite: databases in memory (shared by every connection of the process) or in temp files.

A schema is an attached database (see ``framework.engines.connect``), so a database here is a family:
the main file or memory database plus one per schema, all named ``<name>`` / ``<name>__<schema>``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from sqlalchemy.engine import URL

from .memory import keep_memory_alive, memory_keepers, memory_url, release_memory

ROOT = Path(tempfile.gettempdir()) / "datakits-sqlite"


class _FileLock:
    def __init__(self, handle: IO[str], path: Path | None = None) -> None:
        self._handle = handle
        self._path = path

    def release(self) -> None:
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._handle.close()


class SqliteMemory:
    """In-memory databases of this process; nothing outlives it, so there is nothing to reap."""

    engine = "sqlite"
    admin_url = None

    def __init__(self, label: str = "sqlite_memory") -> None:
        self.label = label
        self._names: set[str] = set()

    def check(self) -> None:
        return None

    def database_url(self, name: str) -> URL:
        return memory_url(name)

    def create_database(self, name: str, template: str | None = None) -> URL:
        self._names.add(name)
        keep_memory_alive(f"file:{name}?mode=memory&cache=shared")
        if template:
            for uri in [u for u in list(memory_keepers) if _family(u, template)]:
                suffix = uri[len(f"file:{template}") :]
                keep_memory_alive(f"file:{name}{suffix}")
                memory_keepers[uri].backup(memory_keepers[f"file:{name}{suffix}"])
        return memory_url(name)

    def drop_database(self, name: str) -> None:
        self._names.discard(name)
        release_memory(name)

    def list_databases(self, prefix: str) -> list[str]:
        return sorted(n for n in self._names if n.startswith(prefix))

    def in_use(self, names: Sequence[str]) -> bool:
        return True  # only this process can see its memory databases

    def hold_lock(self, key: str) -> _FileLock:
        return _FileLock(open(os.devnull))

    def lock_is_free(self, key: str) -> bool:
        return False  # only this process can see its memory databases

    def stop(self) -> None:
        for name in list(self._names):
            self.drop_database(name)


def _family(uri: str, name: str) -> bool:
    return uri.startswith(f"file:{name}?") or uri.startswith(f"file:{name}__")


class SqliteFiles:
    """Database files in a temp folder; a run's folder holds a lock file while the run lives."""

    engine = "sqlite"
    admin_url = None

    def __init__(self, root: Path = ROOT, label: str = "sqlite_file") -> None:
        self.root = root
        self.label = label

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.db"

    def database_url(self, name: str) -> URL:
        return URL.create("sqlite+pysqlite", database=str(self._path(name)))

    def create_database(self, name: str, template: str | None = None) -> URL:
        self.root.mkdir(parents=True, exist_ok=True)
        if template:
            for source in self.root.glob(f"{template}*.db"):
                if source.stem == template or source.stem.startswith(f"{template}__"):
                    target = self.root / (name + source.name[len(template) :])
                    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
                        src.backup(dst)
        else:
            sqlite3.connect(self._path(name)).close()
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        for path in self.root.glob(f"{name}*"):
            if path.name.split(".")[0] == name or path.name.startswith(f"{name}__"):
                path.unlink(missing_ok=True)

    def list_databases(self, prefix: str) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.stem for p in self.root.glob(f"{prefix}*.db") if "__" not in p.stem)

    def in_use(self, names: Sequence[str]) -> bool:
        return False  # who has a file open cannot be told; the run's flock says whether it lives

    def _lock_path(self, key: str) -> Path:
        return self.root / f"{key}.lock"

    def hold_lock(self, key: str) -> _FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self._lock_path(key), "w")  # noqa: SIM115 (held open for the run: the lock)
        fcntl.flock(handle, fcntl.LOCK_EX)
        return _FileLock(handle, self._lock_path(key))

    def lock_is_free(self, key: str) -> bool:
        path = self._lock_path(key)
        if not path.exists():
            return True
        with open(path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
        path.unlink(missing_ok=True)
        return True

    def stop(self) -> None:
        return None
