"""A datakit given by path imports in conftest.py files: its import root goes on ``sys.path`` first.

``--datakit /tmp/chinook_kit`` (or ini ``datakit_paths``) and then ``from chinook_kit.models import
Album`` in a conftest.py: conftest files load before the plugin's ``pytest_configure``, so the
kit's folder is put on the import path in ``pytest_load_initial_conftests``, as discovery would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def put_kits_on_path(config: pytest.Config) -> None:
    flags = getattr(config.known_args_namespace, "datakit_paths", None) or []
    found = [Path(v) for v in flags]
    if not flags:
        base = config.inipath.parent if config.inipath else config.rootpath
        found = [base / v for v in config.getini("datakit_paths")]
    for path in found:
        if path.exists():
            from framework import import_root  # only when a kit is given by path: a start without stays light

            root = str(import_root(path))
            if root not in sys.path:
                sys.path.insert(0, root)
