"""What dbt reads for a project: its files, by content, and the environment variables they read.

The one list both caches are keyed by: the kept parse (:mod:`framework.dbt.parsing`, the runner) and
the plugin's kept template (``--datakit-reuse``). A cache keyed by less than this gives old results
on new inputs, so the list errs on the side of more:

- the project's own files: ``dbt_project.yml``, ``packages.yml``, ``dependencies.yml``,
  ``package-lock.yml``, ``selectors.yml``, ``.dbtignore``, and every file under each configured path
  (``model-paths``, ``macro-paths``, ``seed-paths``, ``snapshot-paths``, ``test-paths``,
  ``analysis-paths``, ``docs-paths``, ``asset-paths``, ``function-paths``; dbt's defaults where unset),
  wherever a path points (``../shared_macros`` too). Nothing is skipped by its name (dbt reads a
  ``models/logs/`` folder); only the project's own ``target-path`` and ``log-path`` are left out;
- each installed package under ``packages-install-path`` (``dbt_packages``), the same way;
- where ``dbt_project.yml`` cannot be read, or a path in it is Jinja, the whole project folder.

Each file is hashed (SHA-256 of its bytes; a same-size edit with its modification time put back is
seen). The Jinja in them (``{{ ... }}``, ``{% ... %}``) is read for ``env_var('NAME')`` calls: the
names (their values, now, are part of a key), and whether a name is computed (``env_var(name)``: the
names cannot be known, so no cache can be keyed by them).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ProjectInputs", "project_inputs", "read_files"]

#: a project's files read from its folder, besides its configured paths
ROOT_FILES = (
    "dbt_project.yml",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "selectors.yml",
    ".dbtignore",
)
#: dbt's configured paths and their defaults (``docs-paths`` defaults to all the others)
PATH_KEYS: dict[str, tuple[str, ...]] = {
    "model-paths": ("models",),
    "macro-paths": ("macros",),
    "seed-paths": ("seeds",),
    "snapshot-paths": ("snapshots",),
    "test-paths": ("tests",),
    "analysis-paths": ("analyses",),
    "function-paths": ("functions",),
    "asset-paths": (),
    "docs-paths": (),
}

_JINJA = re.compile(rb"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_ENV_CALL = re.compile(rb"""\benv_var\s*\(\s*(['"])([^'"]+)\1\s*[,)]""")
_ENV_WORD = re.compile(rb"\benv_var\b")
_STRING = re.compile(rb"'[^']*'|\"[^\"]*\"")
#: the connection read in Jinja: ``target`` but for the names every run shares, the credentials
_CONNECTION = re.compile(
    rb"\btarget\b(?!\s*\.\s*(?:name|schema|type|threads|target_name|profile_name)\b)"
    rb"|\bcredentials\b|\badapter\s*\.\s*config\b"
)


@dataclass(frozen=True)
class _Scan:
    env_names: frozenset[str]
    computed_env: bool
    reads_connection: bool


@dataclass(frozen=True)
class ProjectInputs:
    """What dbt reads for one project, as found now."""

    project: Path
    files: Mapping[str, str]  # the file as shown (relative to the project) -> SHA-256 of its bytes
    env_names: frozenset[str]  # the names of env_var('NAME') calls in the Jinja of those files
    computed_env: tuple[str, ...]  # files that call env_var with a computed name
    reads_connection: tuple[str, ...]  # the project's own files (not its packages) whose Jinja reads the connection
    digest: str = field(default="", compare=False)  # one hash of the files

    def environment(self, extra: Iterable[str] = ()) -> tuple[tuple[str, str | None], ...]:
        """The values, now, of the variables the files read (and of ``extra``), by name."""
        return tuple((name, os.environ.get(name)) for name in sorted({*self.env_names, *extra}))

    def changes(self, before: ProjectInputs) -> list[str]:
        """What changed since ``before``: ``models/x.sql changed``, ``... added``, ``... removed``."""
        found = [f"{name} {'changed' if name in before.files else 'added'}" for name, digest in self.files.items()
                 if before.files.get(name) != digest]
        found += [f"{name} removed" for name in before.files if name not in self.files]
        return sorted(found)


def _config(project: Path) -> dict[str, Any] | None:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load((project / "dbt_project.yml").read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _installed(config: dict[str, Any] | None) -> str:
    """Where the project's packages are installed (relative to it)."""
    return str((config or {}).get("packages-install-path") or (config or {}).get("modules-path") or "dbt_packages")


def _paths(value: Any, default: Iterable[str]) -> list[str] | None:
    """A configured path list as strings; None where it is not one (Jinja, another type)."""
    if value is None:
        return list(default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    if any("{{" in v or "{%" in v for v in value):
        return None
    return list(value)


def _walk(root: Path, skip: set[str]) -> Iterable[Path]:
    """Every file under ``root`` (a file itself, too), as dbt walks it (symlinked folders not followed),
    leaving out the folders in ``skip`` (real paths)."""
    if root.is_file():
        yield root
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(folder, d)) not in skip]
        for name in files:
            yield Path(folder) / name


def read_files(project: Path, packages: bool = True, config: dict[str, Any] | None = None) -> dict[str, Path]:
    """The files dbt reads for ``project``: name as shown (relative to ``project``) -> path. See the module.
    ``config``: its ``dbt_project.yml`` as read (else read here)."""
    project = project.resolve()
    config = config if config is not None else _config(project)
    found: dict[str, Path] = {}

    def add(path: Path) -> None:
        found.setdefault(os.path.relpath(path, project), path)

    installed = _installed(config)
    own = {
        os.path.realpath(project / str((config or {}).get(key) or default))
        for key, default in (("target-path", "target"), ("log-path", "logs"))
    }
    own.add(os.path.realpath(project / installed))  # walked as packages below
    roots: list[str] | None = [] if config is not None else None
    for key, default in PATH_KEYS.items():
        if roots is None:
            break
        paths = _paths((config or {}).get(key), default)
        roots = None if paths is None else [*roots, *paths]
    if roots is None:  # cannot tell which paths dbt reads: every file of the project
        roots = ["."]
    for name in ROOT_FILES:
        if (project / name).is_file():
            add(project / name)
    for root in dict.fromkeys(roots):
        path = project / root
        if path.exists():
            for file in _walk(path, own):
                add(file)
    folder = project / installed
    if packages and folder.is_dir():
        for package in sorted(folder.iterdir()):
            if not package.is_dir():
                add(package)
            elif (package / "dbt_project.yml").is_file():
                for path in read_files(package, packages=False).values():
                    add(path)
            else:
                for path in _walk(package, set()):
                    add(path)
    return dict(sorted(found.items()))


_SCANS: dict[str, _Scan] = {}  # by content hash: a file's Jinja is read once per content in a process


def _scan(data: bytes, digest: str) -> _Scan:
    known = _SCANS.get(digest)
    if known is not None:
        return known
    names: set[str] = set()
    computed = reads = False
    for block in _JINJA.findall(data):
        calls = _ENV_CALL.findall(block)
        names.update(name.decode("utf-8", "replace") for _, name in calls)
        computed = computed or len(_ENV_WORD.findall(block)) > len(calls)
        # a string is not a read: unique_key='target' names a column
        reads = reads or bool(_CONNECTION.search(_STRING.sub(b"''", block)))
    scan = _Scan(frozenset(names), computed, reads)
    if len(_SCANS) > 50_000:
        _SCANS.clear()
    _SCANS[digest] = scan
    return scan


def project_inputs(project: Path) -> ProjectInputs:
    """What dbt reads for ``project`` now (see the module): every file hashed, the Jinja read for env vars."""
    project = project.resolve()
    files: dict[str, str] = {}
    names: set[str] = set()
    computed: list[str] = []
    reads: list[str] = []
    whole = hashlib.sha256()
    config = _config(project)
    installed = os.path.relpath(project / _installed(config), project)
    for shown, path in read_files(project, config=config).items():
        try:
            data = path.read_bytes()
        except OSError as exc:  # unreadable now: its state is part of the key
            data = f"\0unreadable: {type(exc).__name__}".encode()
        digest = hashlib.sha256(data).hexdigest()
        files[shown] = digest
        whole.update(f"{shown}\0{digest}\0".encode())
        scan = _scan(data, digest)
        names |= scan.env_names
        if scan.computed_env:
            computed.append(shown)
        if scan.reads_connection and not shown.startswith(installed + os.sep) and not shown.endswith(".md"):
            reads.append(shown)
    return ProjectInputs(project, files, frozenset(names), tuple(computed), tuple(reads), whole.hexdigest())
