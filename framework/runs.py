"""Runs: a run's claim on a server, the databases it creates there, and reaping dead runs.

A run takes a server-side lock named after its id and holds it for its whole life
(``pg_advisory_lock``, ``GET_LOCK``, or a file lock for SQLite files). Its databases are named
``dk_<run id>_<label>``. Any run may drop the databases of a run whose lock is free: that run is
dead (killed with SIGKILL, say); a live run's lock is never free, so its databases are safe.
A run asked to keep its databases names them ``dkkeep_<run id>_<label>``: no reaper touches those.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import URL, Engine

from .connect import make_engine
from .errors import TargetError
from .servers import RunLock, Server
from .targets import TargetConfig
from .urls import engine_of, safe_url

PREFIX = "dk_"
KEEP_PREFIX = "dkkeep_"
_NAME = re.compile(r"^dk_([0-9a-f]{8})_")
_LABEL = re.compile(r"^[a-z0-9_]{1,24}$")


def lock_key(run_id: str) -> str:
    return f"datakits_run_{run_id}"


def run_id_of(database_name: str) -> str | None:
    match = _NAME.match(database_name)
    return match.group(1) if match else None


@dataclass
class Database:
    """A database the library deploys into: its URL, and the run that owns it, if any."""

    url: URL
    name: str | None = None
    run: Run | None = field(default=None, repr=False)

    @property
    def engine_name(self) -> str:
        return engine_of(self.url)

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    def engine(self, schemas: Iterable[str | None] = (), **kwargs: object) -> Engine:
        """A new engine on this database on which ``schemas`` resolve (see ``framework.connect``)."""
        return make_engine(self.url, schemas, **kwargs)


class Run:
    """One run's databases on one server. Reaps dead runs' databases when it starts."""

    def __init__(
        self, server: Server, run_id: str | None = None, *, reap: bool = True, keep: bool = False, hold: bool = True
    ) -> None:
        self.server = server
        self.run_id = run_id or secrets.token_hex(4)
        self.keep = keep
        self.reaped: list[str] = reap_server(server) if reap else []
        # hold=False: another process of the same run holds its lock (pytest-xdist's controller, say)
        self._lock: RunLock | None = server.hold_lock(lock_key(self.run_id)) if hold else None
        self.databases: dict[str, Database] = {}

    def database_name(self, label: str) -> str:
        if not _LABEL.match(label):
            raise ValueError(f"database label {label!r} must be 1-24 characters of a-z, 0-9 and _")
        return f"{KEEP_PREFIX if self.keep else PREFIX}{self.run_id}_{label}"

    def create_database(self, label: str, template: Database | None = None) -> Database:
        """A new database of this run; a copy of ``template`` where the engine can clone."""
        name = self.database_name(label)
        url = self.server.create_database(name, template=template.name if template else None)
        database = Database(url, name=name, run=self)
        self.databases[name] = database
        return database

    def drop(self, database: Database) -> None:
        if database.name:
            self.server.drop_database(database.name)
            self.databases.pop(database.name, None)

    def close(self) -> None:
        """Drop this run's databases (unless it keeps them) and release its lock."""
        if not self.keep:
            for database in list(self.databases.values()):
                self.drop(database)
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reap_server(server: Server, exclude: Iterable[str] = ()) -> list[str]:
    """Drop the databases of every dead run on ``server``; return their names."""
    runs: dict[str, list[str]] = {}
    for name in server.list_databases(PREFIX):
        run_id = run_id_of(name)
        if run_id and run_id not in set(exclude):
            runs.setdefault(run_id, []).append(name)
    dropped: list[str] = []
    for run_id, names in runs.items():
        if server.lock_is_free(lock_key(run_id)):
            for name in names:
                server.drop_database(name)
                dropped.append(name)
    return dropped


@contextmanager
def open_target(target: str | URL | TargetConfig, label: str = "main", keep: bool = False) -> Iterator[Database]:
    """A database on ``target`` for the length of the block.

    A named target gets a disposable database, dropped at the end (kept with ``keep=True``);
    a URL target is that very database and is never dropped.
    """
    from .provisioning import start_server
    from .resolve import target_config

    config = target_config(target)
    if not config.disposable:
        assert config.url
        yield Database(make_engine(config.url).url)
        return
    server = start_server(config)
    try:
        with Run(server, keep=keep) as run:
            yield run.create_database(label)
    finally:
        if not keep:
            server.stop()


def keep_note(config: TargetConfig, database: Database) -> str:
    """What became of a database opened with ``keep=True``, for the user (password hidden)."""
    if config.outlives_run:
        return f"kept: {database.safe_url} (password hidden); it is yours now: drop it when you are done"
    return f"not kept: the {config.provisioner} server of {config.name} goes away with this command"


def reap(target: str | URL | TargetConfig) -> list[str]:
    """Drop the databases that dead runs left on ``target``'s server (a named target or a server URL)."""
    from .engines import engine_kind
    from .provisioning import start_server
    from .resolve import target_config
    from .targets import server_target

    config = target_config(target)
    if not config.disposable and engine_kind(config.engine).has_servers:
        config = server_target(config)  # a PostgreSQL or MySQL URL: the server it is on
    if not config.disposable:
        raise TargetError(f"{config.name} is a database, not a server: there is nothing to reap", config.name)
    server = start_server(config)
    try:
        return reap_server(server)
    finally:
        server.stop()
