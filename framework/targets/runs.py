"""Runs: a run's claim on a server, the databases it creates there, and reaping dead runs.

A run takes a server-side lock named after its id and holds it for its whole life
(``pg_advisory_lock``, ``GET_LOCK``, or a file lock for SQLite files), on a connection that is
kept alive and takes the lock back at once if the server drops it (``framework.engines.generic.server``).
Its databases are named ``dk_<run id>_<tag>_<label>``: the tag is a check of the run id, so a
database a person made by hand (``dk_20240101_backup``) never passes for a run's.

A reaper (any run starting, or ``datakits reap``) drops a run's databases only when all of these
hold: the name is exactly what a run makes; the run's lock is free; nobody is connected to any of
its databases; and all of that is still so ``grace`` seconds later (longer than a live run needs
to take a lost lock back). Names under ``dk_`` that no run could have made are skipped and
reported, never dropped. A run asked to keep its databases names them ``dkkeep_<run id>_...``:
no reaper touches those.

A *kept template* (``--datakit-reuse``: a run's deployed, filled and dbt-built template, kept for
the next run to clone) is named ``dktpl_<scope>_<content>``: no reaper drops it; ``datakits reap``
lists them, and drops them with ``--templates``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import URL, Engine

from ..engines import RunLock, Server
from ..engines.connect import make_engine
from ..engines.urls import engine_of, safe_url
from ..errors import TargetError

PREFIX = "dk_"
KEEP_PREFIX = "dkkeep_"
TEMPLATE_PREFIX = "dktpl_"
_TEMPLATE = re.compile(r"^dktpl_[0-9a-f]{8}_[0-9a-f]{12}$")
GRACE = 3.0  # seconds a dead-looking run must stay so before it is reaped (> 2 lock keepalives)
GRACE_ENV = "DATAKITS_REAP_GRACE"
_RUN_ID = re.compile(r"^[0-9a-f]{8}$")
# dk_<run id>_<tag>_<label>, and on MySQL <that>__<schema> for each schema of the database
_NAME = re.compile(r"^dk_([0-9a-f]{8})_([0-9a-f]{6})_([a-z0-9_]{1,24}?)(__[A-Za-z0-9_$]{1,64})?$")
_LABEL = re.compile(r"^[a-z0-9_]{1,24}$")


def lock_key(run_id: str) -> str:
    return f"datakits_run_{run_id}"


def run_tag(run_id: str) -> str:
    """The check that follows a run id in its database names (tells them from hand-made ones)."""
    return hashlib.sha256(f"pytest-datakits run {run_id}".encode()).hexdigest()[:6]


def parse_name(database_name: str) -> tuple[str, str] | None:
    """(run id, database) for a database a run made (``database`` without a MySQL schema suffix)."""
    match = _NAME.match(database_name)
    if match is None or match.group(2) != run_tag(match.group(1)):
        return None
    return match.group(1), database_name[: match.start(4)] if match.group(4) else database_name


def run_id_of(database_name: str) -> str | None:
    """The id of the run that made ``database_name``; None for any name a run does not make."""
    parsed = parse_name(database_name)
    return parsed[0] if parsed else None


@dataclass
class Database:
    """A database the library deploys into: its URL, and the run that owns it, if any."""

    url: URL
    name: str | None = None
    run: Run | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # the URL's own repr would show a password in its query string
        return f"Database(url={self.safe_url!r}, name={self.name!r})"

    @property
    def engine_name(self) -> str:
        return engine_of(self.url)

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    def engine(self, schemas: Iterable[str | None] = (), **kwargs: object) -> Engine:
        """A new engine on this database on which ``schemas`` resolve (see ``framework.engines.connect``)."""
        return make_engine(self.url, schemas, **kwargs)


class Run:
    """One run's databases on one server. Reaps dead runs' databases when it starts."""

    def __init__(
        self, server: Server, run_id: str | None = None, *, reap: bool = True, keep: bool = False, hold: bool = True
    ) -> None:
        self.server = server
        self.run_id = run_id or secrets.token_hex(4)
        if not _RUN_ID.match(self.run_id):
            raise ValueError(f"run id {self.run_id!r} must be 8 characters of 0-9 and a-f")
        self.keep = keep
        self.reaped: list[str] = reap_server(server) if reap else []
        # hold=False: another process of the same run holds its lock (pytest-xdist's controller, say)
        self._lock: RunLock | None = server.hold_lock(lock_key(self.run_id)) if hold else None
        self.databases: dict[str, Database] = {}

    def database_name(self, label: str) -> str:
        if not _LABEL.match(label) or "__" in label:
            raise ValueError(f"database label {label!r} must be 1-24 characters of a-z, 0-9 and single _")
        return f"{KEEP_PREFIX if self.keep else PREFIX}{self.run_id}_{run_tag(self.run_id)}_{label}"

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


def kept_template_name(scope: str, content: str) -> str:
    """The name of a kept template: ``scope`` (a project's target) and ``content`` (what went into it) hashed."""
    scope_hash = hashlib.sha256(scope.encode()).hexdigest()[:8]
    return f"{TEMPLATE_PREFIX}{scope_hash}_{hashlib.sha256(content.encode()).hexdigest()[:12]}"


def kept_templates(server: Server, scope: str | None = None) -> list[str]:
    """The kept templates on ``server`` (of one ``scope``, if given)."""
    prefix = kept_template_name(scope, "")[: len(TEMPLATE_PREFIX) + 9] if scope is not None else TEMPLATE_PREFIX
    return [name for name in server.list_databases(prefix) if _TEMPLATE.match(name)]


@dataclass
class Reaped:
    """What a reaper did on one server: the databases it dropped, and the names it left alone."""

    dropped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # under dk_, but no run makes such a name
    templates: list[str] = field(default_factory=list)  # kept templates there (dktpl_*), left alone
    removed_templates: list[str] = field(default_factory=list)  # kept templates dropped (templates=True)


def reap_server(server: Server, exclude: Iterable[str] = (), grace: float | None = None) -> list[str]:
    """Drop the databases of every dead run on ``server``; return their names."""
    return sweep_server(server, exclude, grace).dropped


def sweep_server(
    server: Server, exclude: Iterable[str] = (), grace: float | None = None, *, templates: bool = False
) -> Reaped:
    """Drop the databases of every dead run on ``server`` (see the module docstring for "dead");
    list the kept templates there, and with ``templates`` drop them too (those nobody is copying)."""
    excluded = set(exclude)
    result = Reaped()
    for name in kept_templates(server):
        if templates and not server.in_use([name]):
            server.drop_database(name)
            result.removed_templates.append(name)
        else:
            result.templates.append(name)
    runs: dict[str, set[str]] = {}
    for name in server.list_databases(PREFIX):
        parsed = parse_name(name)
        if parsed is None:
            result.skipped.append(name)
        elif parsed[0] not in excluded:
            runs.setdefault(parsed[0], set()).add(parsed[1])
    dead = _dead(server, runs)
    wait = _grace() if grace is None else grace
    if dead and wait > 0:
        time.sleep(wait)  # a live run whose lock connection was cut takes its lock back meanwhile
        dead = _dead(server, dead)
    for databases in dead.values():
        for name in sorted(databases):
            server.drop_database(name)
            result.dropped.append(name)
    return result


def _dead(server: Server, runs: dict[str, set[str]]) -> dict[str, set[str]]:
    """The runs whose lock is free and whose databases nobody is connected to."""
    return {
        run_id: names
        for run_id, names in runs.items()
        if server.lock_is_free(lock_key(run_id)) and not server.in_use(sorted(names))
    }


def _grace() -> float:
    value = os.environ.get(GRACE_ENV, "")
    try:
        return max(0.0, float(value)) if value.strip() else GRACE
    except ValueError:
        raise TargetError(f"{GRACE_ENV}={value!r} is not a number of seconds") from None
