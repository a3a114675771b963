"""Declarations that are wrong, broken or hostile: one line each, and every command goes on.

- A third party's ``datakits.pipelines`` entry point that raises on load, or whose value is not a
  declaration, is one logged line naming it and its distribution; ``datakits pipelines``, ``datakits
  pipeline pagila`` and ``datakits dags check`` go on with the others. The distribution is a real one:
  a ``.dist-info`` folder (METADATA + entry_points.txt) on ``PYTHONPATH`` of a child process.
- A ``pyproject.toml`` whose ``[tool]``, ``[tool.datakits]`` or ``pipelines`` is not a table, or whose
  generator is not a ``datakits.generators`` name or ``module:function`` of the project (``os:system``),
  is one line naming the key and the file, exit 2.
- A pipeline name with an escape code or a newline is refused where it is declared, shown escaped.
- A ``pyproject.toml`` pipeline named as an installed one (``pagila``) wins, and says so in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from framework import PipelineError, declared_pipelines
from framework.cli.sources import _generator
from framework.errors import DatakitError

REPOSITORY = Path(__file__).resolve().parents[2]


def datakits(*args: str, cwd: Path, path: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@pytest.fixture
def broken_distribution(tmp_path: Path) -> Path:
    """A folder holding an installed distribution ``brokenkits`` with two broken pipeline entry points."""
    site = tmp_path / "site"
    info = site / "brokenkits-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenkits\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(
        "[datakits.pipelines]\nexploding = brokenkits_boom:PIPELINE\nwrongtype = brokenkits_five:PIPELINE\n"
    )
    (site / "brokenkits_boom.py").write_text('raise RuntimeError("this package is broken")\n')
    (site / "brokenkits_five.py").write_text("PIPELINE = 5\n")
    return site


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("skipped entry point datakits.pipelines:")]


def _assert_named(stderr: str) -> None:
    lines = _warnings(stderr)
    assert len(lines) == 2, stderr
    exploding, wrongtype = sorted(lines)
    assert "exploding (brokenkits_boom:PIPELINE) of brokenkits 1.2" in exploding
    assert "RuntimeError: this package is broken" in exploding
    assert "wrongtype (brokenkits_five:PIPELINE) of brokenkits 1.2" in wrongtype
    assert "a pipeline is a table of keys" in wrongtype
    assert "Traceback" not in stderr


def test_a_broken_entry_point_is_one_line_and_pipelines_go_on(broken_distribution: Path, tmp_path: Path) -> None:
    done = datakits("pipelines", cwd=tmp_path, path=broken_distribution)
    assert done.returncode == 0, done.stderr
    assert "pagila\n  source   " in done.stdout and "exploding" not in done.stdout
    _assert_named(done.stderr)


def test_a_broken_entry_point_lets_pipeline_pagila_run(broken_distribution: Path, tmp_path: Path) -> None:
    # pagila is found and its run goes on to the next check (here: the dbt project given is not there)
    args = ["pipeline", "pagila", "--source", "generate", "--target", "postgres_local", "--project", "/no/such/dbt"]
    done = datakits(*args, cwd=tmp_path, path=broken_distribution, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "datakits: no dbt project /no/such/dbt" in done.stderr
    _assert_named(done.stderr)


def test_the_broken_entry_point_asked_for_is_one_line(broken_distribution: Path, tmp_path: Path) -> None:
    args = ["pipeline", "exploding", "--source", "generate", "--target", "postgres_local"]
    done = datakits(*args, cwd=tmp_path, path=broken_distribution)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("datakits: ")]
    assert len(errors) == 1 and "exploding (brokenkits_boom:PIPELINE) of brokenkits 1.2" in errors[0], done.stderr
    assert "Traceback" not in done.stderr


def test_a_broken_entry_point_lets_dags_check_pass(broken_distribution: Path) -> None:
    done = datakits("dags", "check", "dags", cwd=REPOSITORY, path=broken_distribution, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok" in done.stdout and "pagila_pipeline.py" in done.stdout
    assert "Traceback" not in done.stderr


# --- pyproject.toml declarations -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[tool.datakits]\npipelines = "x"\n', "pipelines in [tool.datakits] must be a table"),
        ("[tool]\ndatakits = 5\n", "datakits in [tool] must be a table"),
        (
            '[tool.datakits.pipelines.p]\nsource = "kits/x"\ngenerator = "os:system"\n',
            "[tool.datakits.pipelines.p]: generator 'os:system': no module os in ",
        ),
        (
            '[tool.datakits.pipelines.p]\nsource = "kits/x"\ngenerator = "__import__(\'os\')"\n',
            "generator \"__import__('os')\" is not a name registered under datakits.generators",
        ),
        (
            '[tool.datakits.pipelines."evil\\u001b[31mred\\nline"]\nsource = "kits/x"\n',
            "pipeline name 'evil\\x1b[31mred\\nline': use letters, digits",
        ),
    ],
    ids=["pipelines-a-string", "datakits-a-number", "generator-os-system", "generator-not-a-name", "escape-in-name"],
)
def test_a_bad_pyproject_is_one_line_naming_the_key_and_file(tmp_path: Path, text: str, expected: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    if "[tool]\n" not in text:
        with pytest.raises(PipelineError) as caught:
            declared_pipelines(tmp_path)
        assert expected in str(caught.value) and "\n" not in str(caught.value)
    done = datakits("pipelines", cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"datakits: {pyproject}") and expected in done.stderr, done.stderr
    assert "\x1b" not in done.stderr


def test_a_generator_is_a_function_of_the_project(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text(
        "import os\nsystem = os.system\nclass NotOne:\n    pass\n"
        "def wrong(a, b, c, d):\n    return {}\ndef make(target, scale=1.0, seed=0):\n    return {'t': 1}\n"
    )
    (tmp_path / "pyproject.toml").write_text('[tool.datakits.pipelines.p]\nsource = "kits/x"\ngenerator = "gen:make"\n')
    spec = declared_pipelines(tmp_path)["p"]
    assert spec.generator == "gen:make" and spec.generator_from == str(tmp_path.resolve())
    assert _generator("gen:make", spec.generator_from)(None) == {"t": 1}
    for name in ("system", "NotOne", "wrong"):
        with pytest.raises(DatakitError, match=rf"generator gen:{name} is not a generator: a Python function"):
            _generator(f"gen:{name}", spec.generator_from)


def test_a_pyproject_pipeline_shadowing_an_installed_one_says_so(tmp_path: Path) -> None:
    kits = tmp_path / "kits"
    kits.mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.datakits.pipelines.pagila]\nsource = "kits/mine"\n')
    child = tmp_path / "deeper" / "down"
    child.mkdir(parents=True)
    done = datakits("pipelines", cwd=child)
    assert done.returncode == 0, done.stderr
    assert f"declared {tmp_path / 'pyproject.toml'} [tool.datakits.pipelines.pagila]" in done.stdout
    lines = [line for line in done.stderr.splitlines() if "shadows" in line]
    assert lines == [
        f"pipeline 'pagila' of {tmp_path / 'pyproject.toml'} shadows the one of entry point "
        f"datakits.pipelines:pagila (datakits.pipelines:PAGILA) of pytest-datakits {_version()}"
    ], done.stderr


def _version() -> str:
    from importlib.metadata import version

    return version("pytest-datakits")
