"""``datakits init``: the project it writes passes its own tests, in a child process, with nothing edited.

As ``django-admin startproject`` and ``dbt init`` are tested: generate into a temp folder, then run that
project's own ``pytest -n 2`` there (deploy, factory, ``datakit_dbt`` model and ``datakit_airflow`` DAG
tests on postgres_embedded). Its output goes into the failure message. A folder that is not empty is
refused in one line, nothing written.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def datakits(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.mark.slow
def test_the_scaffold_passes_its_own_tests(tmp_path: Path) -> None:
    started = time.perf_counter()
    made = datakits("init", "shop", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    project = tmp_path / "shop"
    done = subprocess.run(
        [str(BIN / "pytest"), "-n", "2", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=1200,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, f"the scaffold's pytest failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "6 passed" in done.stdout, done.stdout[-3000:]
    print(f"datakits init + the scaffold's first pytest -n 2: {seconds:.1f}s")  # a figure, not an assertion
    checked = datakits("dags", "check", cwd=project)
    assert checked.returncode == 0 and "ok " in checked.stdout, checked.stdout + checked.stderr


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    done = datakits("init", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"datakits: {tmp_path} exists and is not empty; give a new folder (nothing was written)"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
