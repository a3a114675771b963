"""This process's databases on named disposable targets: where the plain API deploys.

``deploy_data_objects(kit, "postgres_local")`` needs a database, and a named target is a place
where databases are made. The first call on a named target opens one for the whole process, as
``open_target`` does: the target's server is started (or reached), a ``Run`` reaps what dead runs
left there and takes its lock, and the run creates ``dk_<run id>_main``. Later calls on the same
target get that same database, so a deploy and then a validate see the same tables (on
``sqlite_memory`` too). It is dropped, and the server stopped, when the process exits (``atexit``)
or when :func:`close_process_databases` is called. A process killed outright (SIGKILL) cannot
drop it, but its run's lock dies with it: the next run on that server reaps the database.

``open_target`` (framework.targets.resolve) stays the explicit form: a database for the length of a ``with`` block.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass

from ..engines import Server
from .named import TargetConfig
from .provisioning import start_server
from .runs import Database, Run

LABEL = "main"


@dataclass
class _Opened:
    server: Server
    run: Run
    database: Database


_lock = threading.Lock()
_opened: dict[tuple[str, str, str | None], _Opened] = {}
_owner = os.getpid()
_hooked = False


def _key(config: TargetConfig) -> tuple[str, str, str | None]:
    return config.name, config.provisioner, config.url


def process_database(config: TargetConfig) -> Database:
    """The process's database on the named target ``config``, opened on first use."""
    global _owner, _hooked
    with _lock:
        if _owner != os.getpid():  # a forked child: the parent's runs are the parent's to close
            _opened.clear()
            _owner = os.getpid()
        key = _key(config)
        if key not in _opened:
            server = start_server(config)
            try:
                run = Run(server)  # reaps dead runs' databases, takes this run's lock
                try:
                    database = run.create_database(LABEL)
                except BaseException:
                    run.close()
                    raise
            except BaseException:
                server.stop()
                raise
            _opened[key] = _Opened(server, run, database)
            if not _hooked:
                atexit.register(close_process_databases)
                _hooked = True
        return _opened[key].database


def process_databases() -> dict[str, Database]:
    """The databases this process opened through the plain API: target name -> database."""
    with _lock:
        if _owner != os.getpid():
            return {}
        return {key[0]: opened.database for key, opened in _opened.items()}


def close_process_databases() -> list[str]:
    """Drop every database the plain API opened in this process and stop their servers.

    Runs at interpreter exit; call it earlier to start afresh. Returns the dropped names.
    """
    with _lock:
        if _owner != os.getpid():
            return []
        opened = list(_opened.values())
        _opened.clear()
    dropped: list[str] = []
    failures: list[Exception] = []
    for item in opened:  # every target gets its turn, whatever the others do
        try:
            item.run.close()
            dropped.append(item.database.name or "")
        except Exception as exc:
            failures.append(exc)
        finally:
            item.server.stop()
    if failures:
        raise failures[0]
    return dropped
