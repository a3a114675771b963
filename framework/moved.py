"""The module paths of 0.1 kept importable, each name with a DeprecationWarning naming its new place.

0.2.0 moved ``framework``'s flat modules into wings (``framework/kits``, ``loading``, ``targets``...).
A kit written against the 0.1 docs (``from framework.mixins import BronzeLineageMixin``, ``from
framework.validate import FOREIGN_KEYS, TESTED``) keeps importing until :data:`REMOVED_IN` at the
earliest: :data:`MOVED` maps each old module to where its names are now, and a finder on
``sys.meta_path`` (installed by ``framework/__init__.py``, after the ordinary finders, so it never
hides a real module) makes the old path a module whose ``__getattr__`` hands out the very same
objects with a ``DeprecationWarning`` (as SQLAlchemy and pytest keep a moved name). Three old modules
became packages of the same name (``framework.pipeline``, ``framework.dbt``, ``framework.targets``):
their ``__getattr__`` calls :func:`moved_name` for the names listed in :data:`PACKAGE_NAMES`.

The policy is in docs/upgrading.md; tests/test_moved.py lists every path here. Nothing is imported
until a name is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "PACKAGE_NAMES", "REMOVED_IN", "install", "moved_name"]

#: the release that may remove these paths (one more minor release at least)
REMOVED_IN = "0.3.0"

#: old module -> the modules its names are in now, looked up in this order
MOVED: dict[str, tuple[str, ...]] = {
    # named by the 0.1 docs and the Pagila kits
    "framework.mixins": ("framework.kits.mixins",),
    "framework.validate": ("framework.kits.validate",),
    "framework.deploy": ("framework.kits.deploy",),
    "framework.reflect": ("framework.kits.reflect",),
    "framework.loader": ("framework.loading.loader",),
    "framework.pgdump": ("framework.loading.pgdump",),
    "framework.resolve": ("framework.targets.resolve",),
    "framework.identifiers": ("framework.engines.identifiers", "framework.engines.generic.dberrors"),
    "framework.servers": ("framework.engines.generic.protocols", "framework.engines.registry"),
    # the other flat modules of 0.1 that moved into a wing
    "framework.bronze": ("framework.kits.bronze",),
    "framework.discovery": ("framework.kits.discovery",),
    "framework.isolation": ("framework.kits.isolation",),
    "framework.temporal": ("framework.kits.temporal",),
    "framework.workspace": ("framework.kits.workspace",),
    "framework.generators": ("framework.loading.generators",),
    "framework.flow": ("framework.pipeline.flow",),
    "framework.pipeline_results": ("framework.pipeline.results",),
    "framework.dbtgen": ("framework.dbt.generate",),
    "framework.dagtest": ("framework.airflow.dagtest",),
    "framework.dags_check": ("framework.airflow.check",),
    "framework.runs": ("framework.targets.runs",),
    "framework.sharing": ("framework.targets.sharing",),
    "framework.process_targets": ("framework.targets.process",),
    "framework.provisioning": ("framework.targets.provisioning",),
    "framework.provisioning.container": ("framework.targets.provisioning.container",),
    "framework.provisioning.embedded": ("framework.targets.provisioning.embedded",),
    "framework.provisioning.local": ("framework.targets.provisioning.local",),
    "framework.provisioning.process": ("framework.targets.provisioning.process",),
    "framework.servers.mysql": ("framework.engines.mysql.server",),
    "framework.servers.postgresql": ("framework.engines.postgresql.server",),
    "framework.servers.sqlite": ("framework.engines.sqlite.server",),
    "framework.connect": ("framework.engines.connect",),
    "framework.urls": ("framework.engines.urls", "framework.engines.generic.urls"),
    "framework.dberrors": ("framework.engines.generic.dberrors",),
}

#: an old module that is a package of the same name now: the old names it forwards, and where they are
PACKAGE_NAMES: dict[str, tuple[str, frozenset[str]]] = {
    "framework.pipeline": (
        "framework.pipeline.steps",
        frozenset(
            [
                "DbtStep",
                "DeployStep",
                "Pipeline",
                "PipelineSummary",
                "TableLoad",
                "ValidateStep",
                "Where",
                "connection_uri",
                "dbt_gold",
                "dbt_silver",
                "deploy_warehouse",
                "get_pipeline",
                "load_bronze_table",
                "run_pipeline",
                "summarize_warehouse",
                "tables_to_load",
                "url_from_connection",
                "validate_warehouse",
            ]
        ),
    ),
    "framework.dbt": (
        "framework.dbt.runner",
        frozenset(["DbtNode", "DbtResult", "dbt_state_dir", "postgres_targets", "project_dir", "run_dbt"]),
    ),
    "framework.targets": (
        "framework.targets.named",
        frozenset(
            [
                "TargetConfig",
                "list_targets",
                "target_names",
                "get_target_config",
                "get_ci_target",
                "get_development_target",
                "get_integration_target",
                "server_target",
                "create_custom_target",
            ]
        ),
    ),
}


def _new_path(name: str, module: str) -> str:
    """Where to import ``name`` from now: the public API when it is there, else its module."""
    public = sys.modules.get("framework")
    return "framework" if name in getattr(public, "__all__", ()) else module


def _warn(old: str, name: str, module: str, stacklevel: int) -> None:
    if sys._getframe(stacklevel).f_code.co_filename.startswith("<frozen importlib"):
        return  # ``from package import name`` asks twice, first from the import system: warn once, at the user's line
    warnings.warn(
        f"{old}.{name} is deprecated: import {name} from {_new_path(name, module)} (the old path goes in "
        f"{REMOVED_IN} at the earliest; see docs/upgrading.md)",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def _lookup(old: str, name: str, modules: Sequence[str], stacklevel: int) -> object:
    """``name`` from the first of ``modules`` that has it, warned about ``stacklevel`` frames up."""
    for module in modules:
        found = importlib.import_module(module)
        if hasattr(found, name):
            _warn(old, name, module, stacklevel + 1)
            return getattr(found, name)
    raise AttributeError(f"module {old!r} (moved to {modules[0]}) has no attribute {name!r}")


def moved_name(package: str, name: str) -> object:
    """An old module's name asked of the package that took its path (its ``__getattr__`` calls this)."""
    module, names = PACKAGE_NAMES[package]
    if name not in names:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return _lookup(package, name, (module,), stacklevel=3)  # the caller of the package's __getattr__


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        old, modules = module.__name__, MOVED[module.__name__]
        module.__doc__ = f"Deprecated: moved to {', '.join(modules)} (this path goes in {REMOVED_IN})."
        if any(other.startswith(f"{old}.") for other in MOVED):
            module.__path__ = []  # its old submodules are found by the finder too

        def __getattr__(name: str) -> object:
            if name.startswith("__") and name != "__all__":
                raise AttributeError(name)
            return _lookup(old, name, modules, stacklevel=2)  # the caller of this __getattr__

        def __dir__() -> list[str]:
            return sorted({n for m in modules for n in dir(importlib.import_module(m)) if not n.startswith("_")})

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = __dir__  # type: ignore[method-assign]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(), is_package=fullname in _PARENTS)


_PARENTS = {old.rpartition(".")[0] for old in MOVED}


def install() -> None:
    """Put the finder of the old paths on ``sys.meta_path``, last (once)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
