"""The ``datakit`` marker: checked by calling a function with its signature (a wrong argument is a TypeError)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from framework import ENGINES, engine_names, list_targets, target_names

if TYPE_CHECKING:
    from framework import TargetConfig

SIGNATURE = "datakit(targets=None, engines=None, datakits=None, isolation='rollback')"
HELP = (
    f"{SIGNATURE}: run the test only on these targets or engines (skipped elsewhere, with the reason), "
    "deploy more datakits for it, or isolate it by 'rollback' (default), 'commit' (tables emptied after it) "
    "or 'fresh' (a database of its own)"
)


@dataclass(frozen=True)
class DatakitMark:
    targets: tuple[str, ...] | None = None
    engines: tuple[str, ...] | None = None
    datakits: tuple[str, ...] = ()
    isolation: str = "rollback"

    def skip_reason(self, target: TargetConfig) -> str | None:
        """Why a test so marked does not run on ``target``, or None when it does."""
        if self.targets is not None and target.name not in self.targets:
            return f"needs target {' or '.join(self.targets)}, not {target.name}"
        if self.engines is not None and target.engine not in self.engines:
            return f"needs engine {' or '.join(self.engines)}, not {target.engine} ({target.name})"
        return None


DEFAULT = DatakitMark()


def datakit(
    targets: str | Sequence[str] | None = None,
    engines: str | Sequence[str] | None = None,
    datakits: str | Path | Sequence[str | Path] | None = None,
    isolation: str = "rollback",
) -> DatakitMark:
    """The marker's arguments, checked and normalised."""
    engine_list = _names(engines)
    if engine_list is not None:
        unknown = [e for e in engine_list if e not in ENGINES]
        if unknown:
            raise ValueError(f"engines: unknown engine {unknown[0]!r}; use {', '.join(engine_names())}")
        engine_list = tuple(ENGINES[e].name for e in engine_list)  # postgres is postgresql, mariadb is mysql
    from framework import ISOLATIONS  # the workspace's: imported when a marker is first read

    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation: {isolation!r} is not one of {', '.join(ISOLATIONS)}")
    return DatakitMark(_names(targets), engine_list, _names(datakits) or (), isolation)


def check_targets(mark: DatakitMark, configured: Sequence[TargetConfig]) -> None:
    """A marker's target names must be named targets or this run's targets (typos are errors)."""
    known = set(target_names()) | {t.name for t in configured}
    for name in mark.targets or ():
        if name not in known:
            raise ValueError(f"targets: unknown target {name!r}; use one of {', '.join(sorted(known))}")
    if mark.targets is not None and mark.engines is not None:
        engine_of = {t.name: t.engine for t in [*list_targets(), *configured]}
        if all(engine_of[name] not in mark.engines for name in mark.targets):
            found = ", ".join(f"{name} is {engine_of[name]}" for name in mark.targets)
            raise ValueError(
                f"targets and engines exclude each other ({found}, not {' or '.join(mark.engines)}): "
                "the test would run nowhere"
            )


def read(node: pytest.Item | pytest.Function) -> DatakitMark:
    if sum(1 for mark in node.own_markers if mark.name == "datakit") > 1:
        raise ValueError("more than one datakit marker on this test (only one would count); merge them into one")
    marker = node.get_closest_marker("datakit")
    return DEFAULT if marker is None else datakit(*marker.args, **marker.kwargs)


def _names(value: str | Path | Sequence[str | Path] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | Path):
        return (str(value),)
    return tuple(str(v) for v in value)
