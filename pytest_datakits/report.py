"""What the plugin prints: the report header (targets and where their setting came from) and a
summary per target (passed / failed / skipped and seconds; errors once; kept databases)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest

from .state import PluginState, TargetStats


def header(state: PluginState) -> list[str]:
    settings = state.settings
    targets = ", ".join(t.describe() for t in settings.targets)
    lines = [
        f"pytest-datakits {version('pytest-datakits')}",
        f"datakit targets (from {settings.targets_from}): {targets}",
    ]
    if settings.datakits:
        lines.append(f"datakits (from {settings.datakits_from}): {', '.join(k.name for k in settings.datakits)}")
    return lines


class Reporter:
    """Counts each target's results (the reports carry their target, from xdist workers too)."""

    def __init__(self, state: PluginState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = getattr(report, "datakit_target", None) or self._target_in_id(report.nodeid)
        if name:
            self.state.stats.setdefault(name, TargetStats()).add(report)

    def _target_in_id(self, nodeid: str) -> str | None:
        """The target in a test id, for reports made without the test (xdist's for a crashed worker)."""
        params = nodeid.rpartition("[")[2].rstrip("]") if nodeid.endswith("]") else ""
        for target in self.state.settings.targets:
            name = target.name
            if params == name or params.startswith(f"{name}-") or params.endswith(f"-{name}") or f"-{name}-" in params:
                return name
        return None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = summary(self.state)
        if lines:
            terminalreporter.write_sep("=", "datakits")
            for line in lines:
                terminalreporter.line(line)


def summary(state: PluginState) -> list[str]:
    targets = state.settings.targets
    width = max(len(t.name) for t in targets)
    lines = []
    for target in targets:
        stats = state.stats.get(target.name)
        if stats is not None:
            counts = f"{stats.passed} passed, {stats.failed} failed, {stats.skipped} skipped"
            errors = f", {stats.errors} errors" if stats.errors else ""
            lines.append(f"{target.name:<{width}}  {counts}{errors} in {stats.seconds:.2f} s")
    if state.host is not None and any(state.host.workdir.glob("*.json")):  # what each template was
        from framework import template_notes  # built, kept, cloned from a kept one

        for name, note in template_notes(state.host.workdir, targets).items():
            lines.append(f"{name:<{width}}  template: {note}")
    for name, reason in sorted(state.errors().items()):
        lines.append(f"error: {reason}" if reason.startswith(name) else f"error: {name}: {reason}")
    if state.settings.keep and state.host is not None:
        kept = state.host.databases()
        for target in targets:
            if target.outlives_run:
                lines.extend(f"kept: {url}" for url in kept.get(target.name, []))
            elif target.name in kept or target.name in state.stats:
                lines.append(f"not kept: the {target.provisioner} databases of {target.name} end with this run")
    return lines
