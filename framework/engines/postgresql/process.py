"""PostgreSQL from this machine's binaries: ``initdb`` into a private folder, ``postgres`` on a free port."""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL

from ...errors import ProvisionerUnavailable, TargetError
from ..generic.process import ProcessRecipe, unprivileged

MISSING = "PostgreSQL server binaries (initdb, postgres); install them, e.g. Debian's postgresql package"


def bindir() -> Path | None:
    """The folder holding initdb and postgres: the ones on PATH, else the newest Debian version."""
    candidates = []
    if found := shutil.which("initdb"):
        candidates.append(Path(os.path.realpath(found)).parent)
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if re.fullmatch(r"[\d.]+", p.parent.name)]
    candidates += sorted(versions, key=lambda p: [int(x) for x in p.parent.name.split(".")], reverse=True)
    return next((d for d in candidates if (d / "initdb").is_file() and (d / "postgres").is_file()), None)


def recipe(folder: Path, binaries: Path) -> ProcessRecipe:
    data = str(folder / "data")
    settings = ["listen_addresses=127.0.0.1", "fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    return ProcessRecipe(
        init=[str(binaries / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
        serve=lambda port: [
            *(str(binaries / "postgres"), "-D", data, "-p", str(port), "-k", str(folder)),
            *(arg for setting in settings for arg in ("-c", setting)),
        ],
        url=lambda port: URL.create(
            "postgresql+psycopg2", username="postgres", host="127.0.0.1", port=port, database="postgres"
        ),
        stop_signal=signal.SIGINT,
        death_signal=signal.SIGQUIT,  # immediate shutdown
        run_as=_run_as(),
    )


def _run_as() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        return unprivileged("postgres", "nobody")
    except TargetError:
        raise TargetError(
            "running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL"
        ) from None


def recipe_maker(target: str) -> Callable[[Path], ProcessRecipe]:
    """A recipe per folder, or ProvisionerUnavailable naming what to install."""
    found = bindir()
    if found is None:
        raise ProvisionerUnavailable(f"{target} needs {MISSING}, or use postgres_embedded", target)
    return lambda folder: recipe(folder, found)
