"""What a target argument means, the same everywhere in the library; and opening and reaping one.

The one resolver: every wing that takes a target argument comes here, and resolving never climbs
back up (named targets, runs, provisioning and the process's databases all sit below this module).

    "postgres_local"           a named target: this process's database there (framework.targets.process)
    "postgresql://.../dw"      a URL (text or ``sqlalchemy.URL``): that very database
    "postgresql://host:5432"   a server's URL (no database): this process's database there, as a name
    TargetConfig               a named one as its name; a URL target as its URL
    Database                   itself
    Engine                     itself, used as it is (its schema mapping is yours)

``deploy_data_objects``, ``validate_deployment``, ``cleanup_deployment``, ``BulkDataLoader``,
``create_engine_for_target`` and the pipeline steps (every form but an ``Engine``) take any of
these and call :func:`resolve_target`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias, overload

from sqlalchemy.engine import URL, Engine

from ..engines import engine_kind
from ..engines.connect import make_engine
from ..engines.urls import to_url, with_driver
from ..errors import TargetError
from ..signals import interrupt_on_sigterm
from .named import TargetConfig, get_target_config, server_target, url_target
from .process import process_database
from .provisioning import start_server
from .runs import Database, Reaped, Run, sweep_server

#: a target that resolves to a :class:`Database` (every form but an ``Engine``)
DatabaseTarget: TypeAlias = Database | TargetConfig | URL | str
Target: TypeAlias = Database | Engine | TargetConfig | URL | str


def target_config(target: str | URL | TargetConfig) -> TargetConfig:
    """The target a name, a URL or a ``TargetConfig`` stands for."""
    if isinstance(target, TargetConfig):
        return target
    if isinstance(target, URL):
        return url_target(target)
    return get_target_config(target)


@overload
def resolve_target(target: Engine) -> Engine: ...
@overload
def resolve_target(target: DatabaseTarget) -> Database: ...
def resolve_target(target: Target) -> Database | Engine:
    """The database ``target`` means: opened for the process when it is a named disposable target."""
    if isinstance(target, (Database, Engine)):
        return target
    config = target_config(target)
    if config.disposable:
        return process_database(config)
    assert config.url, f"{config.name} has no URL"
    return Database(with_driver(to_url(config.url)))


# --- What one does with a target: open a database there, reap its server -----------------------


@contextmanager
def open_target(target: str | URL | TargetConfig, label: str = "main", keep: bool = False) -> Iterator[Database]:
    """A database on ``target`` for the length of the block.

    A named target gets a disposable database, dropped at the end (kept with ``keep=True``);
    a URL target is that very database and is never dropped. For the length of the block SIGTERM
    raises ``KeyboardInterrupt`` in the main thread (``interrupt_on_sigterm``, unless the program
    chose a handler of its own), so a script killed by ``timeout`` or ``docker stop`` still drops
    its database and stops the servers it started (``postgres_embedded`` would outlive it).
    """
    config = target_config(target)
    if not config.disposable:
        assert config.url
        yield Database(make_engine(config.url).url)
        return
    restore = interrupt_on_sigterm()
    try:
        server = start_server(config)
        try:
            with Run(server, keep=keep) as run:
                yield run.create_database(label)
        finally:
            if not keep:
                server.stop()
    finally:
        restore()


def keep_note(config: TargetConfig, database: Database) -> str:
    """What became of a database opened with ``keep=True``, for the user (password hidden)."""
    if config.outlives_run:
        return f"kept: {database.safe_url} (password hidden); it is yours now: drop it when you are done"
    return f"not kept: the {config.provisioner} server of {config.name} goes away with this command"


def reap(target: str | URL | TargetConfig, grace: float | None = None) -> list[str]:
    """Drop the databases that dead runs left on ``target``'s server (a named target or a server URL);
    return their names."""
    return reap_report(target, grace).dropped


def reap_report(target: str | URL | TargetConfig, grace: float | None = None, *, templates: bool = False) -> Reaped:
    """``reap``, and the ``dk_*`` names it left alone because no run makes such names; the kept
    templates there (``--datakit-reuse``), dropped with ``templates``."""
    config = target_config(target)
    if not config.disposable and engine_kind(config.engine).has_servers:
        config = server_target(config)  # a PostgreSQL or MySQL URL: the server it is on
    if not config.disposable:
        raise TargetError(f"{config.name} is a database, not a server: there is nothing to reap", config.name)
    server = start_server(config)
    try:
        return sweep_server(server, grace=grace, templates=templates)
    finally:
        server.stop()
