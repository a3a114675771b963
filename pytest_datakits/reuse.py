"""``--datakit-reuse`` / ``--datakit-create`` (ini ``datakit_reuse``): keep each target's template between runs.

pytest-django's ``--reuse-db`` / ``--create-db`` pair, for the template a run deploys, fills
(``pytest_datakit_fill_template``) and builds with dbt (``--datakit-dbt``): with reuse, a run keeps
it after it ends and the next run clones it, when nothing that went into it changed. What went into
it is hashed: the datakits' DDL (by the library), and here (:func:`inputs`) every file dbt reads for
each project (``framework.project_inputs``: configured paths wherever they are, installed packages),
the values of the environment variables they read, the fill hook's modules and the modules of the
project they import (by content), the files declared in ini ``datakit_reuse_inputs`` (globs relative
to the ini file: the files the fill hook reads), and the versions of dbt and of this package. When
unsure (a project that calls ``env_var`` with a computed name, a fill hook without a source file),
the template is rebuilt, and the summary says why. ``--datakit-create`` builds it anew and keeps that.
The embedded server's data folder
is kept for the project in the toolkit's own folder (``framework.kept_data_dir``:
``<temp>/datakits-embedded-<uid>/<target>-<project hash>/data``, never in the user's folders) so
that its kept templates are there next time. ``datakits reap --target T`` lists kept templates;
``--templates`` removes them.
"""

from __future__ import annotations

import ast
import contextlib
import glob
import hashlib
import inspect
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from framework import DatakitError, TargetConfig, kept_data_dir, project_inputs

if TYPE_CHECKING:
    from framework import TemplateReuse

INPUTS_INI = "datakit_reuse_inputs"
RECORD = "reuse-inputs.json"  # in the cache folder: the last templates' inputs, to say what changed


@dataclass(frozen=True)
class ReuseSettings:
    enabled: bool
    create: bool
    source: str


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("datakits")
    group.addoption(
        "--datakit-reuse",
        action="store_true",
        dest="datakit_reuse",
        default=None,
        help="Keep each target's template (deployed, filled, dbt-built) after the run and clone it in the "
        "next run when nothing that went into it changed. Else ini datakit_reuse",
    )
    group.addoption(
        "--datakit-create",
        action="store_true",
        dest="datakit_create",
        default=False,
        help="Build each target's template anew and keep it (as --datakit-reuse does), even if a kept one matches",
    )
    parser.addini("datakit_reuse", "Keep each target's template between runs (see --datakit-reuse)", type="bool")
    parser.addini(
        INPUTS_INI,
        "Files the fill hook reads (globs relative to the ini file; a folder: its files): a change rebuilds "
        "the kept template",
        type="args",
    )


def resolve(config: pytest.Config) -> ReuseSettings:
    flag = config.getoption("datakit_reuse")
    create = bool(config.getoption("datakit_create"))
    if create:
        return ReuseSettings(True, True, "--datakit-create")
    if flag:
        return ReuseSettings(True, False, "--datakit-reuse")
    if config.getini("datakit_reuse"):
        return ReuseSettings(True, False, "ini datakit_reuse")
    return ReuseSettings(False, False, "default")


def header(settings: ReuseSettings) -> list[str]:
    if not settings.enabled:
        return []
    what = "built anew and kept" if settings.create else "kept, and cloned when unchanged"
    return [f"datakit templates (from {settings.source}): {what}"]


def cache_dir(config: pytest.Config) -> Path:
    """The project's cache folder for datakits (pytest's, when its cache is on): the record of the last inputs."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("datakits"))
    return config.rootpath / ".pytest_cache" / "d" / "datakits"


def keep_servers(targets: list[TargetConfig], config: pytest.Config) -> list[TargetConfig]:
    """The embedded targets with a data folder that stays, in the toolkit's own folder (kept for this project)."""
    kept = []
    for target in targets:
        if target.provisioner == "embedded" and not target.options.get("data_dir"):
            try:
                data = kept_data_dir(config.rootpath, target.name)
            except DatakitError as exc:
                raise pytest.UsageError(f"--datakit-reuse: {exc}") from None
            target = replace(target, options={**target.options, "data_dir": str(data)})
        kept.append(target)
    return kept


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _label(path: Path, root: Path) -> str:
    return os.path.relpath(path, root)


def _module_file(base: Path, dotted: str) -> list[Path]:
    """The files importing ``dotted`` from ``base`` reads (its packages' ``__init__.py`` too), or none."""
    parts = dotted.split(".")
    found = []
    for number in range(1, len(parts) + 1):
        path = base.joinpath(*parts[:number])
        if (path / "__init__.py").is_file():
            found.append(path / "__init__.py")
        elif path.with_name(path.name + ".py").is_file():
            found.append(path.with_name(path.name + ".py"))
        elif not path.is_dir():  # a namespace package's folder goes on
            return found if number > 1 else []
    return found


def _imported(path: Path, bases: list[Path]) -> list[Path]:
    """The files of the modules ``path`` imports (anywhere in it, functions too) found under ``bases``."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    found: list[Path] = []
    for node in ast.walk(tree):
        wanted: list[tuple[list[Path], str]] = []
        if isinstance(node, ast.Import):
            wanted = [([path.parent, *bases], alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative: from the importing file's package
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            module = node.module or ""
            names = [module] if module else []
            names += [f"{module}.{a.name}" if module else a.name for a in node.names]
            wanted = [([base], name) for name in names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            wanted = [([path.parent, *bases], name) for name in names]
        for where, name in wanted:
            for base in where:
                files = _module_file(base, name)
                if files:
                    found += files
                    break
    return found


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _hook_modules(config: pytest.Config, root: Path) -> tuple[dict[str, Path], list[str]]:
    """The fill hook's modules and, walked by their imports, the modules of the project (files under the
    rootdir) they import; and why a hook cannot be followed."""
    bases = [Path(p).resolve() for p in sys.path if p and _under(Path(p).resolve(), root)]
    bases.append(root)
    todo: list[Path] = []
    unsure: list[str] = []
    for impl in config.hook.pytest_datakit_fill_template.get_hookimpls():
        try:
            file = inspect.getsourcefile(impl.function)
        except TypeError:
            file = None
        if not file or not Path(file).is_file():
            unsure.append(f"the fill hook of {impl.plugin_name} has no source file")
            continue
        todo.append(Path(file).resolve())
    found: dict[str, Path] = {}
    while todo:
        path = todo.pop()
        label = _label(path, root)
        if label in found:
            continue
        found[label] = path
        if _under(path, root):  # the project's: follow its imports; an installed module is its version
            todo += [p.resolve() for p in _imported(path, bases)]
    return found, unsure


def _declared(config: pytest.Config, root: Path) -> dict[str, Path | None]:
    """The files of ini ``datakit_reuse_inputs`` (globs relative to the ini file; a folder: its files)."""
    base = config.inipath.parent if config.inipath else config.rootpath
    found: dict[str, Path | None] = {}
    for pattern in config.getini(INPUTS_INI):
        matches = sorted(glob.glob(os.path.join(base, pattern), recursive=True))
        if not matches:
            found[f"{pattern} (no file)"] = None  # a file appearing there later changes the key
        for match in matches:
            path = Path(match)
            files = [path] if path.is_file() else [Path(d) / f for d, _, fs in os.walk(path) for f in fs]
            for file in files:
                found[_label(file.resolve(), root)] = file
    return found


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("pytest-datakits", "dbt-core", "dbt-adapters", "dbt-postgres"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} none")
    return ", ".join(found)


def inputs(config: pytest.Config, projects: list[Path]) -> tuple[dict[str, str], list[str]]:
    """What goes into a template beyond the datakits' DDL, each input -> a hash of it; and why the
    template cannot be reused at all (nothing, mostly). Environment variables by name, never their value."""
    root = config.rootpath.resolve()
    found: dict[str, str] = {"versions": _digest(_versions().encode())}
    unsure: list[str] = []
    salt = f"{root}".encode()
    for project in projects:
        read = project_inputs(project)
        for name, digest in read.files.items():
            found[_label(project / name, root)] = digest
        dbt_names = {name for name in os.environ if name.startswith("DBT_")}
        for name, value in read.environment(dbt_names):
            found[f"env {name}"] = _digest(salt + b"\0" + (value.encode() if value is not None else b"\0unset"))
        unsure += [
            f"{_label(project / name, root)} calls env_var with a computed name (which variables it reads is unknown)"
            for name in read.computed_env
        ]
    modules, why = _hook_modules(config, root)
    unsure += why
    for label, path in [*modules.items(), *_declared(config, root).items()]:
        try:
            found[label] = _digest(path.read_bytes()) if path is not None else "none"
        except OSError as exc:
            found[label] = f"unreadable: {type(exc).__name__}"
    return dict(sorted(found.items())), unsure


def fingerprint(config: pytest.Config, projects: list[Path]) -> str:
    """A hash of what the library cannot see went into a template (:func:`inputs`); a new one each run when unsure."""
    return _key(*inputs(config, projects))


def _key(found: dict[str, str], unsure: list[str]) -> str:
    digest = hashlib.sha256(json.dumps(found, sort_keys=True).encode())
    if unsure:
        digest.update(os.urandom(16))  # never matches a kept template: rebuilt
    return digest.hexdigest()


def _changes(before: dict[str, str], now: dict[str, str]) -> list[str]:
    found = [f"{name} {'changed' if name in before else 'added'}" for name in now if before.get(name) != now[name]]
    return sorted([*found, *(f"{name} removed" for name in before if name not in now)])


def _why(config: pytest.Config, fingerprint: str, found: dict[str, str], unsure: list[str]) -> str:
    """What changed since the inputs recorded before these (in the project's cache folder), in a few words;
    nothing where these inputs were recorded by an earlier run (what changed then is the datakits' DDL)."""
    if unsure:
        return f"not reusable: {unsure[0]}"
    record = cache_dir(config) / RECORD
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid {os.getpid()}"  # the workers of one run share it
    try:
        entries = [e for e in json.loads(record.read_text()) if isinstance(e, dict)]
    except (OSError, ValueError, TypeError):
        entries = []
    known = [number for number, e in enumerate(entries) if e.get("fingerprint") == fingerprint]
    if known and entries[known[0]].get("run") != run:
        return ""
    if known:
        previous = entries[known[0] - 1] if known[0] > 0 else None
    else:
        previous = entries[-1] if entries else None
        entries = [*entries[-3:], {"fingerprint": fingerprint, "inputs": found, "run": run}]
        with contextlib.suppress(OSError):
            record.parent.mkdir(parents=True, exist_ok=True)
            partial = record.with_name(f".{record.name}.{os.getpid()}")
            partial.write_text(json.dumps(entries))
            os.replace(partial, record)
    if previous is None or not isinstance(previous.get("inputs"), dict):
        return ""
    changes = _changes(previous["inputs"], found)
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return ", ".join(changes[:3]) + more


def template_reuse(config: pytest.Config, settings: ReuseSettings, projects: list[Path]) -> TemplateReuse | None:
    if not settings.enabled:
        return None
    from framework import TemplateReuse

    found, unsure = inputs(config, projects)
    key = _key(found, unsure)
    return TemplateReuse(str(config.rootpath), key, create=settings.create, why=_why(config, key, found, unsure))
