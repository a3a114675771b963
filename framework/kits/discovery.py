"""Find datakits (by path, importable name or installed entry point) and their SQLModel tables."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sqlalchemy import Table
from sqlalchemy.exc import ArgumentError
from sqlmodel import SQLModel

from ..errors import DatakitDefinitionError, DatakitImportError, DatakitNotFound

ENTRY_POINT_GROUP = "datakits.kits"
_NO_PK = re.compile(r"primary key columns for mapped table '([^']+)'")


@dataclass(frozen=True)
class Datakit:
    """A datakit: its name, its modules and its table classes."""

    name: str
    modules: tuple[ModuleType, ...]
    classes: tuple[type[SQLModel], ...]

    @property
    def tables(self) -> list[Table]:
        return [cls.__table__ for cls in self.classes]  # type: ignore[attr-defined]

    @property
    def schemas(self) -> set[str | None]:
        return {t.schema for t in self.tables}


def installed_datakits() -> dict[str, str]:
    """Datakits installed through the ``datakits.kits`` entry point: name -> module."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ArgumentError as exc:
        match = _NO_PK.search(str(exc))
        if match:
            raise DatakitDefinitionError(
                f"table {match.group(1)!r} in {name} has no primary key; mark a column Field(primary_key=True)"
            ) from None
        raise DatakitImportError(name, exc) from None
    except DatakitNotFound:
        raise
    except Exception as exc:  # a datakit may fail to import in any way; name it and the error
        raise DatakitImportError(name, exc) from None


def _walk(package: ModuleType) -> list[ModuleType]:
    """The package and its submodules: those it names in ``__datakit_modules__``, else all of them."""
    named = getattr(package, "__datakit_modules__", None)
    if named is not None:
        return [package, *(_import(f"{package.__name__}.{name}") for name in named)]
    modules = [package]
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=f"{package.__name__}."):
        modules.append(_import(info.name))
    return modules


def _module_name_for(path: Path) -> tuple[Path, str]:
    """The sys.path entry and dotted name under which ``path`` imports as itself."""
    path = path.resolve()
    parts = [path.stem if path.is_file() else path.name]
    parent = path.parent
    if path.is_file() and path.name == "__init__.py":
        parts, parent = [path.parent.name], path.parent.parent
    while (parent / "__init__.py").exists():
        parts.insert(0, parent.name)
        parent = parent.parent
    return parent, ".".join(parts)


def _forget_another(top: str, root: Path) -> None:
    """Forget what another package named ``top`` left, so the kit at ``root`` imports as itself.

    Another project's kit of the same name may have been imported in this process (it is forgotten), or
    its modules may be gone while its classes are still mapped (pytester drops the modules a run
    imported; SQLModel's metadata keeps their tables): those tables and classes are removed."""
    loaded = sys.modules.get(top)
    if loaded is not None:
        places = [getattr(loaded, "__file__", None), *(getattr(loaded, "__path__", None) or [])]
        if not any(place and Path(place).resolve().is_relative_to(root / top) for place in places):
            forget_datakit(top)  # another folder's package of that name
    _drop_unloaded_classes(top)


def forget_datakit(package: str) -> None:
    """Unload the datakit package ``package``: its modules, its tables in SQLModel's metadata, its classes.

    SQLModel keeps every table class in one metadata, so two kits with a table of the same name and schema
    cannot be loaded in one process at once. A test suite that loads several projects' kits (made in
    temporary folders) forgets each when done with it, as SQLModel's own tests clear its metadata."""
    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        del sys.modules[name]
    _drop_unloaded_classes(package)


def _drop_unloaded_classes(package: str) -> None:
    """Remove the tables and classes of ``package`` whose module is not loaded (any more)."""
    registry = SQLModel._sa_registry
    for mapper in list(registry.mappers):
        cls = mapper.class_
        module = cls.__module__
        if (module == package or module.startswith(f"{package}.")) and module not in sys.modules:
            table = getattr(cls, "__table__", None)
            if table is not None and table.metadata is SQLModel.metadata:
                SQLModel.metadata.remove(table)
            registry._dispose_cls(cls)  # the string look-up of its class name goes with it
    importlib.invalidate_caches()


def import_root(path: str | Path) -> Path:
    """The ``sys.path`` entry under which a datakit at ``path`` imports as itself."""
    return _module_name_for(Path(path))[0]


def discover_datakit_modules(path_or_name: str | Path) -> list[ModuleType]:
    """The modules of a datakit given as a path, an installed datakit name, or a module name."""
    text = str(path_or_name)
    path = Path(text)
    looks_like_path = isinstance(path_or_name, Path) or "/" in text or text.endswith(".py")
    if path.exists():
        root, name = _module_name_for(path)
        _forget_another(name.split(".")[0], root)
        if str(root) in sys.path and sys.path[0] != str(root):
            sys.path.remove(str(root))
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return _walk(_import(name))
    if looks_like_path:
        raise DatakitNotFound(f"datakit path {text!r} does not exist; give a folder or .py file, or a name")
    module = installed_datakits().get(text, text)
    try:
        found = importlib.util.find_spec(module) is not None
    except (ModuleNotFoundError, ValueError):
        found = False
    except Exception as exc:  # the parent package itself fails to import
        raise DatakitImportError(module, exc) from None
    if not found and text in installed_datakits():  # installed, yet not importable: its package is shadowed
        top = module.split(".")[0]
        spec = importlib.util.find_spec(top)
        where = (spec.origin or next(iter(spec.submodule_search_locations or []), "?")) if spec else "nowhere"
        raise DatakitNotFound(
            f"datakit {text!r} is installed as {module}, but `{top}` imports from {where}, which shadows the "
            f"installed package: rename your `{top}` or take its folder off sys.path"
        )
    if not found:
        known = ", ".join(sorted(installed_datakits())) or "none installed"
        raise DatakitNotFound(
            f"no datakit named {text!r}: not a path, an installed datakit ({known}) or an importable module"
        )
    return _walk(_import(module))


def discover_sqlmodel_classes(modules: list[ModuleType]) -> list[type[SQLModel]]:
    """The SQLModel table classes defined in ``modules``, in definition order, each once."""
    names = {m.__name__ for m in modules}
    found: dict[type[SQLModel], None] = {}
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, SQLModel)
                and hasattr(value, "__table__")
                and value.__module__ in names
            ):
                found[value] = None
    return list(found)


def load_datakit(path_or_name: str | Path) -> Datakit:
    """Discover a datakit and check that it has tables."""
    modules = discover_datakit_modules(path_or_name)
    classes = discover_sqlmodel_classes(modules)
    if not classes:
        raise DatakitDefinitionError(
            f"datakit {str(path_or_name)!r} has no tables: define SQLModel classes with table=True"
        )
    return Datakit(str(path_or_name), tuple(modules), tuple(classes))
