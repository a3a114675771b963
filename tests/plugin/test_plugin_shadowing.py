"""A project's own ``framework`` or ``datakits`` first on sys.path: one line naming it, not a failed plugin load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("name", ["framework", "datakits"])
def test_a_shadowing_package_is_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ERROR: {tmp_path / name / '__init__.py'} shadows pytest-datakits' own `{name}`")
    assert "Error while loading plugin" not in done.stdout + done.stderr
