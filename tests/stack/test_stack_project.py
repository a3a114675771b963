"""Whose stack: the compose project name and the state folder come from the project, never the installed package.

No Docker engine is needed: ``datakits stack config`` runs compose's ``config`` only (it starts nothing),
from a project in a temp folder; it skips, saying so, where no compose is installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import framework
from framework.errors import StackError
from framework.stack import Stack, compose_command
from framework.stack.compose import MASKED, read_env, write_env
from framework.stack.project import compose_name, stack_project

CLI = [sys.executable, "-m", "framework.cli", "stack"]


def project(folder: Path, declared: bool = True) -> Path:
    folder.mkdir(parents=True)
    table = '\n[tool.datakits.pipelines.shop]\nsource = "kits/shop_source"\n' if declared else ""
    (folder / "pyproject.toml").write_text(f'[project]\nname = "shop"\n{table}')
    (folder / "src").mkdir()
    return folder


def test_a_project_names_its_stack_and_keeps_its_state_in_its_folder(tmp_path: Path) -> None:
    one = project(tmp_path / "one" / "My Shop")
    two = project(tmp_path / "two" / "My Shop", declared=False)
    found = stack_project(one / "src")  # from a folder inside: the pyproject.toml's folder counts
    assert found.folder == one and found.state == one / ".datakits" / "stack"
    assert found.env_file == one / ".datakits" / "stack" / ".env"
    assert re.fullmatch(r"datakits-my-shop-[0-9a-f]{8}", found.name)
    other = stack_project(two)
    assert other.folder == two and other.name != found.name  # same folder name, another path: another stack
    assert compose_name(two) == other.name


def test_outside_any_project_the_state_goes_to_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    bare = tmp_path / "bare"
    bare.mkdir()
    found = stack_project(bare)
    assert found.folder == bare
    assert found.state == tmp_path / "data" / "datakits" / "stacks" / found.name


def test_the_stack_of_the_working_folder_writes_its_env_file_there_0600_and_git_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "shop")
    monkeypatch.chdir(root)
    stack = Stack()
    assert stack.project == stack_project(root).name and stack.env_file == root / ".datakits" / "stack" / ".env"
    stack.make_state()
    assert write_env(stack.env_file)
    assert stack.env_file.stat().st_mode & 0o777 == 0o600
    assert (root / ".datakits" / "stack").stat().st_mode & 0o777 == 0o700
    assert stack.logs_dir.is_dir() and (root / ".datakits" / ".gitignore").read_text().splitlines()[-1] == "*"
    package = Path(framework.__file__).resolve().parents[1]
    assert not stack.env_file.is_relative_to(package / "framework")
    env = read_env(stack.env_file)
    assert env["AIRFLOW_API_SECRET_KEY"] != env["AIRFLOW_JWT_SECRET"]


def _compose_or_skip() -> None:
    try:
        compose_command()
    except StackError as exc:
        pytest.skip(f"datakits stack config runs compose's config: {exc}")


def test_stack_config_prints_the_projects_compose_configuration_with_secrets_hidden(tmp_path: Path) -> None:
    _compose_or_skip()
    root = project(tmp_path / "shop")
    env = {**os.environ, "POSTGRES_PASSWORD": "from-the-shell-2718"}  # the shell's never reaches compose
    done = subprocess.run([*CLI, "config"], cwd=root, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert not (root / ".datakits").exists()  # config writes nothing: no env file, no state
    name = stack_project(root).name
    assert done.stdout.startswith(f"# compose project {name}; env file {root}/.datakits/stack/.env")
    assert f"{root}/.datakits/stack/logs:/opt/airflow/logs" in done.stdout
    assert "from-the-shell-2718" not in done.stdout
    assert "airflow-triggerer:" in done.stdout and f"user: {os.getuid()}:0" in done.stdout
    assert done.stdout.count("healthcheck:") == done.stdout.count("start_period:") >= 8
    assert "AIRFLOW__API__SECRET_KEY: '***'" in done.stdout

    # once up has written the env file: not one of its secrets shows; the Celery services do with --executor celery
    stack = Stack(project=name, env_file=root / ".datakits" / "stack" / ".env")
    stack.make_state()
    write_env(stack.env_file)
    done = subprocess.run(
        [*CLI, "config", "--executor", "celery", "--workers", "3"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    secrets = [value for key, value in read_env(stack.env_file).items() if key in MASKED]
    assert len(secrets) == len(MASKED) and not [s for s in secrets if s in done.stdout]
    assert "airflow-worker:" in done.stdout and "redis:" in done.stdout and "3 replicas" in done.stdout
