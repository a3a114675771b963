"""``--datakit /path`` and ``--datakit=/path`` give the same rootdir and ini file.

pytest picks its rootdir and ini file before any plugin's options exist, so in the space form it
reads the kit's path as a test path: the rootdir moves to the kit's folder, and the project's
ini file (its ``addopts``, markers, ``pythonpath``) is passed over. Once the plugin's options are
known the choice is made again from the real test paths, and where it differs the first one is
put right: rootdir, ini file and the ``addopts`` that came from it. This runs first thing in
``pytest_load_initial_conftests``, before conftest files, the cache or test ids depend on it.

It uses pytest's own ``determine_setup`` and the ``Config`` fields its ``parse`` sets; a pytest that
changes them fails ``tests/plugin/test_plugin_byo.py``.
"""

from __future__ import annotations

import copy
import sys

import pytest
from _pytest.config.findpaths import determine_setup


def settle(config: pytest.Config, args: list[str]) -> None:
    """Pick rootdir and ini file again from the test paths, now that ``--datakit PATH`` is known."""
    ns = config.known_args_namespace
    rootpath, inipath, inicfg, ignored = determine_setup(
        inifile=ns.inifilename,
        override_ini=ns.override_ini,
        args=ns.file_or_dir,
        rootdir_cmd_arg=ns.rootdir or None,
        invocation_dir=config.invocation_params.dir,
    )
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return
    old_confcutdir = str(config.inipath.parent) if config.inipath else str(config.rootpath)
    old_addopts = config.getini("addopts")
    for path in config.getini("pythonpath"):  # the wrong ini file's, put on sys.path by parse()
        if str(path) in sys.path:
            sys.path.remove(str(path))
    config._rootpath = rootpath
    config._inipath = inipath
    config._inicfg = inicfg
    config._ignored_config_files = ignored
    config._inicache.clear()
    config._parser.extra_info["rootdir"] = str(rootpath)
    config._parser.extra_info["inifile"] = str(inipath)
    # parse() put the wrong ini file's addopts first in args: put the right one's there instead
    if old_addopts and args[: len(old_addopts)] == old_addopts:
        del args[: len(old_addopts)]
    args[:0] = config.getini("addopts")
    config.known_args_namespace = config._parser.parse_known_args(args, namespace=copy.copy(config.option))
    if config.known_args_namespace.confcutdir in (None, old_confcutdir):
        config.known_args_namespace.confcutdir = str(inipath.parent) if inipath else str(rootpath)
    config._configure_python_path()  # the right ini file's pythonpath
