"""The wheel carries what its commands need, and runs them from an empty folder outside the repository.

pyproject.toml lists its packages (so that it can map dbt/, dags/ and compose/ into the wheel as
``datakits/_platform``): every package of the tree must be on that list. The slow test builds the wheel,
installs it with the ``embedded``, ``dbt`` and ``airflow`` extras into a fresh virtual environment in a
temp folder (pip's cache makes it quick), and from an empty folder runs Pagila to gold on
postgres_embedded; ``datakits dags check`` there looks for ./dags, never in site-packages; the stack
finds its compose file in the package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_in_the_wheel() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("framework", "pytest_datakits", "datakits")
        for path in (ROOT / top).rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def run(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=timeout)


def build_wheel(folder: Path) -> Path:
    """The project's wheel, built into ``folder/dist``."""
    built = run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "dist"), str(ROOT), cwd=folder
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (folder / "dist").glob("pytest_datakits-*.whl")
    return wheel


@pytest.fixture
def reachable_tmp() -> Iterator[Path]:
    """A temp folder of the test's own that other users may pass through (not list): run as root, the
    embedded server runs as user pgserver, who must reach the binaries in the venv, and the toolkit opens
    no folder it did not make (pytest's ``pytest-of-<user>`` is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="dk-wheel-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_the_wheel_runs_pagila_from_an_empty_folder(reachable_tmp: Path) -> None:
    tmp_path = reachable_tmp
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path).returncode == 0
    installed = run(str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[embedded,dbt,airflow]", cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]
    datakits = str(venv / "bin" / "datakits")
    empty = tmp_path / "empty"
    empty.mkdir()

    listed = run(datakits, "pipelines", cwd=empty)
    assert listed.returncode == 0, listed.stderr
    assert f"dbt      {venv}" in listed.stdout and "_platform/dbt/pagila_warehouse" in listed.stdout

    done = run(datakits, "pipeline", "pagila", "--source", "generate:0.1", "--target", "postgres_embedded", cwd=empty)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.strip()}
    assert "fact_rental" in rows and "dbt_gold" in rows and "pipeline pagila done in" in done.stdout

    checked = run(datakits, "dags", "check", cwd=empty)  # ./dags is not there: said so, site-packages not read
    assert checked.returncode == 2 and checked.stderr.strip().startswith("datakits: no DAG folder dags;"), checked
    packaged = next(venv.glob("lib/python*/site-packages/datakits/_platform/dags"))
    checked = run(datakits, "dags", "check", str(packaged), cwd=empty)
    assert checked.returncode == 0 and "pagila_pipeline" in checked.stdout, checked.stdout + checked.stderr

    python = str(venv / "bin" / "python")
    code = "from framework.stack.compose import COMPOSE_FILE; print(COMPOSE_FILE)"
    compose = run(python, "-c", code, cwd=empty).stdout.strip()
    assert compose.startswith(str(venv)) and Path(compose).is_file()


def test_the_wheel_carries_the_project_template(tmp_path: Path) -> None:
    """``datakits init`` renders framework/cli/templates/project from the installed package: every file of it
    (dotfiles and names with copier's [[ ]] and [% %] in them too) is package data in the wheel."""
    import zipfile

    wheel = build_wheel(tmp_path)
    template = ROOT / "framework" / "cli" / "templates" / "project"
    expected = {str(p.relative_to(ROOT)) for p in template.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert len(expected) > 20
    in_wheel = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("framework/cli/templates/")}
    assert in_wheel == expected


UPDATE_FROM_THE_WHEEL = """
import shutil, sys
from pathlib import Path
from framework.cli.template import TEMPLATE, update
newer = Path(sys.argv[1])
shutil.copytree(TEMPLATE, newer)
(newer / "tests" / "test_added_later.py.jinja").write_text("def test_later() -> None:\\n    pass\\n")
print(update(Path.cwd(), newer, "99.0.0"))
"""


@pytest.mark.slow
def test_init_and_update_from_the_wheel_outside_the_repository(tmp_path: Path) -> None:
    """The template comes from site-packages, its history from the project's bundle: no repository, no network."""
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path).returncode == 0
    installed = run(str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[dbt]", cwd=tmp_path)  # init writes dbt YAML
    assert installed.returncode == 0, installed.stderr[-3000:]
    made = run(str(venv / "bin" / "datakits"), "init", "shop", cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    project = tmp_path / "shop"
    (project / "tests" / "test_source.py").write_text((project / "tests" / "test_source.py").read_text() + "# mine\n")
    git = ["git", "-c", "user.name=me", "-c", "user.email=me@example.org"]
    assert run(*git, "commit", "-qam", "mine", cwd=project).returncode == 0
    same = run(str(venv / "bin" / "datakits"), "init", "--update", cwd=project)
    assert same.returncode == 0 and "already" in same.stdout, same.stdout + same.stderr
    updated = run(str(venv / "bin" / "python"), "-c", UPDATE_FROM_THE_WHEEL, str(tmp_path / "newer"), cwd=project)
    assert updated.returncode == 0, updated.stderr[-3000:]
    assert "site-packages" not in (project / ".copier-answers.yml").read_text()
    assert (project / "tests" / "test_added_later.py").is_file()
    assert (project / "tests" / "test_source.py").read_text().endswith("# mine\n")
