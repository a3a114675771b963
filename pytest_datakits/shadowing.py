"""A user's module named ``framework`` or ``datakits`` that comes first on ``sys.path``: one line, not a failed load.

pytest puts the ini file's ``pythonpath`` (and ``python -m pytest`` the working folder) on ``sys.path``
before it loads plugins, so a project with a top-level ``framework/`` of its own would hide this
distribution's library, and the plugin would die in an import deep inside it. This runs before the
plugin imports ``framework``: it finds what Python would import under each name without importing it,
and when that is not the module beside this package, raises ``pytest.UsageError`` (pytest prints
``ERROR: <the line>``) naming the file that shadows and what to do. Standard library only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["check_shadowing", "shadowing"]

#: this distribution's top-level packages, installed beside ``pytest_datakits``
NAMES = ("framework", "datakits")


def _origin(name: str) -> Path | None:
    module = sys.modules.get(name)
    if module is not None:
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", []) or []), None)
    else:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        where = (
            spec.origin
            if spec.origin not in (None, "namespace")
            else next(iter(spec.submodule_search_locations or []), None)
        )
    return Path(where).resolve() if where else None


def shadowing(name: str, home: Path | None = None) -> str | None:
    """One line when ``name`` imports from somewhere other than beside ``home`` (this package's folder); else None."""
    ours = (home or Path(__file__).resolve().parent.parent) / name
    found = _origin(name)
    if found is None or found == ours or ours in found.parents:
        return None
    if not ours.exists():  # not installed beside us (a partial install): nothing to compare with
        return None
    return (
        f"{found} shadows pytest-datakits' own `{name}` package ({ours}): it comes first on sys.path; "
        f"rename your `{name}` (kits go in a folder of your own, e.g. kits/) or take its folder off "
        "sys.path (pytest's pythonpath, PYTHONPATH, python -m pytest's working folder)"
    )


def check_shadowing() -> None:
    """Raise ``pytest.UsageError`` with :func:`shadowing`'s line for the first name that is shadowed."""
    for name in NAMES:
        problem = shadowing(name)
        if problem is not None:
            import pytest

            raise pytest.UsageError(problem)
