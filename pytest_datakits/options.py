"""The plugin's options: each resolved flag, then environment, then ini, and where it came from.

A wrong value is a one-line ``pytest.UsageError`` that lists what is allowed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pytest

from framework import (
    ENGINES,
    DatakitError,
    TargetConfig,
    UnknownTarget,
    get_target_config,
    list_targets,
    safe_text,
    server_target,
    target_names,
    to_url,
)

if TYPE_CHECKING:
    from framework import Datakit

TARGET_ENV = "DATAKITS_TARGET"
DEFAULT_TARGET = "sqlite_memory"


@dataclass(frozen=True)
class Settings:
    """The resolved options of one pytest run."""

    targets: list[TargetConfig]
    targets_from: str
    datakits: list[Datakit]
    datakits_from: str
    keep: bool


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("datakits", "datakits: test against real, disposable databases")
    group.addoption(
        "--datakit-target",
        action="append",
        dest="datakit_targets",
        default=None,
        metavar="NAME|URL",
        help=(
            "Run each datakit test on this target (repeatable): a named target "
            f"(--datakit-list-targets) or a PostgreSQL/MySQL server URL. Else ${TARGET_ENV} "
            f"(comma-separated), ini datakit_targets, or {DEFAULT_TARGET}"
        ),
    )
    group.addoption(
        "--datakit",
        action="append",
        dest="datakit_paths",
        default=None,
        metavar="PATH|NAME",
        help="Deploy this datakit to every target at session start (repeatable). Else ini datakit_paths",
    )
    group.addoption(
        "--datakit-keep",
        action="store_true",
        dest="datakit_keep",
        default=None,
        help="Keep the run's databases after it and print how to connect (password hidden)",
    )
    group.addoption(
        "--datakit-list-targets",
        action="store_true",
        dest="datakit_list_targets",
        default=False,
        help="List the named targets and what each needs, then exit",
    )
    parser.addini("datakit_targets", "Targets to run each datakit test on (names or server URLs)", type="args")
    parser.addini("datakit_paths", "Datakits (paths or names) to deploy to every target", type="args")
    parser.addini("datakit_keep", "Keep the run's databases after it", type="bool", default=False)


def resolve(config: pytest.Config) -> Settings:
    targets, targets_from = _target_values(config)
    paths, datakits_from = _datakit_values(config)
    keep = config.getoption("datakit_keep")
    return Settings(
        targets=_dedupe([plugin_target(value, targets_from) for value in targets]),
        targets_from=targets_from,
        datakits=[_load(value, datakits_from) for value in paths],
        datakits_from=datakits_from,
        keep=bool(config.getini("datakit_keep") if keep is None else keep),
    )


def _target_values(config: pytest.Config) -> tuple[list[str], str]:
    flag = config.getoption("datakit_targets")
    if flag:
        return list(flag), "--datakit-target"
    env = os.environ.get(TARGET_ENV, "")
    if env.strip():
        return [v for v in re.split(r"[,\s]+", env) if v], TARGET_ENV
    ini = config.getini("datakit_targets")
    if ini:
        return list(ini), f"ini datakit_targets ({_ini_name(config)})"
    return [DEFAULT_TARGET], "default"


def _datakit_values(config: pytest.Config) -> tuple[list[str], str]:
    flag = config.getoption("datakit_paths")
    if flag:
        return list(flag), "--datakit"
    ini = config.getini("datakit_paths")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return [str(base / v) if (base / v).exists() else v for v in ini], f"ini datakit_paths ({_ini_name(config)})"
    return [], "default"


def _ini_name(config: pytest.Config) -> str:
    return config.inipath.name if config.inipath else "ini"


def plugin_target(value: str, source: str = "--datakit-target") -> TargetConfig:
    """A target for the plugin: a named target, or a server URL on which the run makes databases."""
    try:
        config = get_target_config(value)
    except UnknownTarget as exc:
        allowed = ", ".join(target_names())
        why = f"{exc}; " if "://" in value else ""  # what is wrong with the URL
        raise pytest.UsageError(
            f"{source}: unknown target {safe_text(value)!r}; {why}use one of {allowed}, "
            "or a postgresql:// or mysql:// server URL"
        ) from None
    if config.provisioner == "local" and "://" in value:  # a server URL, by the library's rule too
        return replace(config, name=url_id(value))
    if config.provisioner != "url":
        return config
    kind = ENGINES[config.engine]
    if not kind.has_servers:
        named = " or ".join(t.name for t in list_targets() if t.engine == kind.name)
        raise pytest.UsageError(
            f"{source}: {safe_text(value)!r} is one {kind.label} database, not a server; use {named}"
        )
    assert config.url is not None
    return server_target(config, name=url_id(config.url))


def url_id(url: str) -> str:
    """A test id for a server URL: ``postgresql-db.internal-5432`` (no user, password or database)."""
    parsed = to_url(url)
    host = parsed.host or ("socket" if parsed.query.get("host") else "localhost")
    kind = ENGINES.get(parsed.get_backend_name())
    port = parsed.port or (kind.default_port if kind else None) or 0
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{parsed.get_backend_name()}-{host}-{port}")


def _dedupe(targets: list[TargetConfig]) -> list[TargetConfig]:
    return list({t.name: t for t in targets}.values())


def _load(value: str, source: str) -> Datakit:
    from framework import load_datakit  # SQLModel and the kit's modules: only when a datakit is named

    try:
        return load_datakit(value)
    except DatakitError as exc:
        raise pytest.UsageError(f"{source}: {exc}") from None


def describe_targets() -> list[str]:
    """``--datakit-list-targets``: one line per named target."""
    width = max(len(t.name) for t in list_targets())
    lines = []
    for t in list_targets():
        where = f" {t.safe_url}" if t.url else ""
        lines.append(f"{t.name:<{width}}  {t.engine:<10}  {t.provisioner:<9}  needs {t.needs}{where}")
    lines.append("or a PostgreSQL/MySQL server URL: the run makes databases of its own there (dk_<run>_*)")
    return lines
