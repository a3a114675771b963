"""MySQL/MariaDB from this machine's binaries: ``mariadb-install-db`` (or ``mysqld --initialize-insecure``)
into a private folder, the server on a free port with a temp folder of its own."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path

from sqlalchemy.engine import URL

from ...errors import ProvisionerUnavailable
from ..generic.process import ProcessRecipe, find_binary

MISSING = (
    "MariaDB or MySQL server binaries (mariadbd and mariadb-install-db, or mysqld); "
    "install them, e.g. Debian's mariadb-server package"
)


def binaries() -> tuple[str, str | None] | None:
    """(server, install-db script) for MariaDB; (server, None) for MySQL, which initializes itself."""
    server = find_binary("mariadbd", "mysqld")
    if server is None:
        return None
    if is_mariadb(server):
        install_db = find_binary("mariadb-install-db", "mysql_install_db")
        return (server, install_db) if install_db else None
    return server, None


@cache
def is_mariadb(server: str) -> bool:
    try:
        out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return True
    return "mariadb" in out.lower()


def recipe(folder: Path, server: str, install_db: str | None) -> ProcessRecipe:
    data = f"--datadir={folder / 'data'}"
    (folder / "tmp").mkdir(exist_ok=True)  # a /tmp of its own: servers started at once collide in a shared one
    tmpdir = f"--tmpdir={folder / 'tmp'}"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    if install_db is not None:
        init = [install_db, "--no-defaults", data, tmpdir, "--auth-root-authentication-method=normal"]
        init += ["--skip-test-db", "--skip-name-resolve", *as_root]
    else:  # MySQL: root@localhost with an empty password
        init = [server, "--no-defaults", "--initialize-insecure", data, tmpdir, *as_root]
    return ProcessRecipe(
        init=init,
        serve=lambda port: [
            *(server, "--no-defaults", data, tmpdir, f"--port={port}", "--bind-address=127.0.0.1"),
            *(f"--socket={folder / 'mysqld.sock'}", f"--pid-file={folder / 'mysqld.pid'}"),
            *("--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", *as_root),
            *([] if install_db is not None else ["--mysqlx=OFF"]),  # MySQL's X port would collide
        ],
        url=lambda port: URL.create("mysql+pymysql", username="root", host="127.0.0.1", port=port, database="mysql"),
        stop_signal=signal.SIGTERM,
        death_signal=signal.SIGTERM,
        run_as=None,
    )


def recipe_maker(target: str) -> Callable[[Path], ProcessRecipe]:
    """A recipe per folder, or ProvisionerUnavailable naming what to install."""
    found = binaries()
    if found is None:
        raise ProvisionerUnavailable(f"{target} needs {MISSING}, or use mysql_container", target)
    return lambda folder: recipe(folder, *found)
