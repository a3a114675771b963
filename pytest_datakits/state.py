"""What the plugin keeps per pytest process: the settings, the run it hosts or joins, the results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .options import Settings

if TYPE_CHECKING:  # the library's session machinery is imported when a test first needs a database
    from framework import Datakit, Prepare, RunGuest, RunHost, TemplateReuse, Workspace

TARGET_FIXTURE = "_datakit_target_name"


@dataclass
class TargetStats:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def add(self, report: pytest.TestReport) -> None:
        self.seconds += report.duration
        fixture = report.when in ("setup", "teardown")
        if report.when == "call" and report.passed:
            self.passed += 1
        elif report.failed and not fixture:  # a crashed worker's test is reported as failed, when "???"
            self.failed += 1
        if report.skipped:
            self.skipped += 1
        elif report.failed and fixture:
            self.errors += 1


@dataclass
class PluginState:
    """One per pytest process: the controller (or the only process) hosts the run; a worker joins it."""

    settings: Settings
    host: RunHost | None = None
    handover: RunGuest | None = None
    worker: str = "main"
    stats: dict[str, TargetStats] = field(default_factory=dict)
    remote_errors: dict[str, str] = field(default_factory=dict)  # from xdist workers
    prepare: Callable[[Path], list[Prepare]] | None = None  # what each template gets after the deploy
    reuse: Callable[[], TemplateReuse | None] | None = None  # --datakit-reuse: keep templates between runs
    _kits: dict[str, Datakit] = field(default_factory=dict)
    _schemas: set[str | None] = field(default_factory=set)
    _workspace: Workspace | None = None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            from framework import Workspace

            source = self.handover or self.host
            assert source is not None
            prepare = self.prepare(source.workdir) if self.prepare is not None else []
            reuse = self.reuse() if self.reuse is not None else None
            self._workspace = Workspace(
                source,
                self.settings.targets,
                self.settings.datakits,
                worker=self.worker,
                schemas=self._schemas,
                # xdist workers copy one template; alone, deploy directly, unless there is a template to
                # prepare or to keep
                shared=self.handover is not None or bool(prepare) or reuse is not None,
                prepare=prepare,
                reuse=reuse,
            )
        return self._workspace

    def datakit(self, name: str | Path) -> Datakit:
        """A datakit named by a marker or ``datakit_deploy``, loaded once per process."""
        key = str(name)
        if key not in self._kits:
            from framework import load_datakit

            self._kits[key] = load_datakit(name)
        return self._kits[key]

    def expect_schemas(self, schemas: set[str | None]) -> None:
        self._schemas |= schemas
        if self._workspace is not None:
            self._workspace.expect_schemas(schemas)

    def errors(self) -> dict[str, str]:
        """Each target that failed in this run, with the reason (once)."""
        found = dict(self.remote_errors)
        if self.host is not None:
            found.update({name: str(error) for name, error in self.host.errors.items()})
        if self._workspace is not None:
            found.update(self._workspace.errors())
        return found

    def close_workspace(self) -> None:
        try:
            if self._workspace is not None:
                self._workspace.close()
        finally:
            if self.handover is not None:
                self.handover.close()

    def handover_data(self) -> dict[str, Any]:
        assert self.host is not None
        return self.host.handover(self.settings.targets)


STATE = pytest.StashKey[PluginState]()
