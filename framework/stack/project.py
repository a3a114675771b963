"""Whose stack it is: the project a ``datakits stack`` command runs for, its compose project name, its state folder.

    project = stack_project()        # from the working folder upward, as `datakits pipelines` looks
    project.name                     # datakits-shop-1a2b3c4d: the folder's name and a hash of its path
    project.state                    # <project>/.datakits/stack: the env file (0600), the task logs

The project is the folder of the nearest ``pyproject.toml`` with a ``[tool.datakits]`` table (where the
pipelines are declared), else of the nearest ``pyproject.toml``; its state lives in ``.datakits/stack/``
there, which ignores itself in git (a ``.gitignore`` of ``*``, as ``.pytest_cache`` does). Outside any
project the state goes to the user's data folder (platformdirs), under the working folder's name and hash.
Never into the installed package: ``pip uninstall`` leaves no password behind, and two projects (or two
checkouts) on one machine get two compose projects that never share a container, volume or password.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..pipeline.declared import find_pyproject

__all__ = ["StackProject", "compose_name", "make_state", "stack_project"]

STATE = Path(".datakits") / "stack"
ENV_FILE = ".env"
LOGS = "logs"


@dataclass(frozen=True)
class StackProject:
    """A project's stack: its folder, its compose project name and the folder its state lives in."""

    folder: Path
    name: str
    state: Path

    @property
    def env_file(self) -> Path:
        return self.state / ENV_FILE

    @property
    def logs(self) -> Path:
        """Airflow's task logs, mounted into every Airflow container."""
        return self.state / LOGS


def make_state(state: Path) -> None:
    """The state folder ``state`` (0700) and its logs folder; a project's ``.datakits/`` ignores itself in git."""
    (state / LOGS).mkdir(parents=True, exist_ok=True, mode=0o700)
    state.chmod(0o700)
    top = state.parent
    if state.name == STATE.name and top.name == STATE.parent.name and not (top / ".gitignore").exists():
        (top / ".gitignore").write_text("# written by datakits: its state stays out of git\n*\n")


def compose_name(folder: Path) -> str:
    """``datakits-<folder name>-<8 hex of its path>``, in the characters compose takes."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", folder.name.lower()).strip("-_")[:30] or "project"
    return f"datakits-{slug}-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"


def _data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("datakits", appauthor=False))


def stack_project(start: str | Path | None = None) -> StackProject:
    """The stack of the project around ``start`` (default: the working folder); see the module's docstring."""
    here = Path(start or os.getcwd()).resolve()
    pyproject = find_pyproject(here) or _any_pyproject(here)
    if pyproject is not None:
        folder = pyproject.parent
        return StackProject(folder, compose_name(folder), folder / STATE)
    name = compose_name(here)
    return StackProject(here, name, _data_dir() / "stacks" / name)


def _any_pyproject(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate / "pyproject.toml"
    return None
