"""Drive the plugin as users do: pytest in a subprocess, in a temp folder (pytester).

Tests write their files with ``pytester.makepyfile`` and call ``run(*args, ini=...)``. Each inner
run turns warnings into errors and leaves out plugins that only cost start-up time here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plugin_helpers import INI, QUIET


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATAKITS_TARGET", raising=False)


@pytest.fixture
def run(pytester: pytest.Pytester) -> Callable[..., pytest.RunResult]:
    """``run(*args, ini="")``: pytest in a subprocess in the pytester folder."""

    def run(*args: str, ini: str = "", timeout: float = 240) -> pytest.RunResult:
        pytester.makeini(INI.format(extra=ini))
        return pytester.runpytest_subprocess(*QUIET, *args, timeout=timeout)

    return run
