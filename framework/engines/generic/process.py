"""A server run from this machine's binaries: the recipe an engine package gives, and finding binaries.

``framework.targets.provisioning.process`` runs a recipe (a private folder, a free port, the
server's life bound to ours); each engine package says how its server is initialised and started
(``framework/engines/<engine>/process.py``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import URL

from ...errors import TargetError

SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


@dataclass(frozen=True)
class ProcessRecipe:
    """How one throwaway server is initialised, started and stopped."""

    init: list[str]  # prepares the data folder
    serve: Callable[[int], list[str]]  # the server's command line for a port
    url: Callable[[int], URL]
    stop_signal: int  # fast shutdown
    death_signal: int  # sent by the kernel when our process dies
    run_as: tuple[int, int] | None  # (uid, gid) to drop to, or None


def find_binary(*names: str) -> str | None:
    """The first of ``names`` on PATH or in the usual sbin/bin folders."""
    for name in names:
        if found := shutil.which(name) or shutil.which(name, path=os.pathsep.join(SEARCH_DIRS)):
            return found
    return None


def unprivileged(*users: str) -> tuple[int, int]:
    """(uid, gid) of the first of ``users`` that exists: a server that refuses to run as root runs as it."""
    for name in users:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise TargetError(f"running as root, and none of the users {', '.join(users)} exists to run the server")
