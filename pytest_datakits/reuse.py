"""``--datakit-reuse`` / ``--datakit-create`` (ini ``datakit_reuse``): keep each target's template between runs.

pytest-django's ``--reuse-db`` / ``--create-db`` pair, for the template a run deploys, fills
(``pytest_datakit_fill_template``) and builds with dbt (``--datakit-dbt``): with reuse, a run keeps
it after it ends and the next run clones it, when nothing that went into it changed. What went into
it is hashed: the datakits' DDL (by the library), and here the dbt projects' files and the fill
hook's source. ``--datakit-create`` builds it anew and keeps that. The embedded server's data folder
is kept for the project in the toolkit's own folder (``framework.kept_data_dir``:
``<temp>/datakits-embedded-<uid>/<target>-<project hash>/data``, never in the user's folders) so
that its kept templates are there next time. ``datakits reap --target T`` lists kept templates;
``--templates`` removes them.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from framework import DatakitError, TargetConfig, kept_data_dir

if TYPE_CHECKING:
    from framework import TemplateReuse

SKIPPED = {"target", "logs", "dbt_packages", "dbt_modules", "__pycache__"}


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


def _files(project: Path) -> list[Path]:
    found = []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).parts
        if path.is_file() and not any(p in SKIPPED or p.startswith(".") for p in relative[:-1]):
            found.append(path)
    return found


def fingerprint(config: pytest.Config, projects: list[Path]) -> str:
    """A hash of what the library cannot see went into a template: the dbt projects' files, the fill hook's source."""
    digest = hashlib.sha256()
    for project in projects:
        for path in _files(project):
            digest.update(f"\0{path.relative_to(project)}\0".encode())
            digest.update(path.read_bytes())
    for impl in config.hook.pytest_datakit_fill_template.get_hookimpls():
        try:
            source = inspect.getsource(impl.function)
        except (OSError, TypeError):  # no source to read: never reuse on a guess
            source = f"{impl.plugin_name}:{id(impl.function)}"
        digest.update(f"\0fill\0{source}".encode())
    return digest.hexdigest()


def template_reuse(config: pytest.Config, settings: ReuseSettings, projects: list[Path]) -> TemplateReuse | None:
    if not settings.enabled:
        return None
    from framework import TemplateReuse

    return TemplateReuse(str(config.rootpath), fingerprint(config, projects), create=settings.create)
