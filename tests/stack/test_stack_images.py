"""What ``datakits stack build`` puts into a build, checked without a Docker engine: the toolkit as a wheel
(never a checkout's folder), its requirements from the installed metadata, the project's files without its
state, and only the pip settings a build can use."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from framework.stack import images
from framework.stack.project import stack_project


def test_the_toolkit_goes_into_the_image_as_a_wheel_with_pagilas_dag_and_dbt_project(tmp_path: Path) -> None:
    wheel = images.toolkit_wheel(tmp_path)
    assert wheel.suffix == ".whl" and wheel.parent == tmp_path
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "framework/stack/images.py" in names
    assert "datakits/_platform/dags/pagila_pipeline.py" in names
    assert "datakits/_platform/dbt/pagila_warehouse/dbt_project.yml" in names
    assert "datakits/_platform/compose/images/airflow/Dockerfile" in names
    assert not [name for name in names if name.endswith("/.env")]


def test_the_airflow_images_requirements_come_from_the_installed_metadata() -> None:
    wanted = images._requirements()
    named = {line.split("[")[0].split("<")[0].split(">")[0].split("=")[0] for line in wanted}
    assert {"sqlalchemy", "apache-airflow", "dbt-postgres", "celery", "pymysql"} <= named
    assert "pytest-datakits" not in named


def test_a_projects_image_holds_its_files_but_not_its_state(tmp_path: Path) -> None:
    from framework.cli.init import init_project

    root = tmp_path / "shop"
    init_project(root)
    (root / ".datakits" / "stack").mkdir(parents=True)
    (root / ".datakits" / "stack" / ".env").write_text("POSTGRES_PASSWORD=secret\n")
    (root / ".venv").mkdir()
    stage = tmp_path / "stage"
    images._stage_project(root, stage)
    copied = {str(p.relative_to(stage / "project")) for p in (stage / "project").rglob("*") if p.is_file()}
    assert "pyproject.toml" in copied and "dags/shop_pipeline.py" in copied
    assert not [name for name in copied if name.startswith((".datakits", ".venv"))]
    assert (stage / "Dockerfile").read_text().splitlines()[1] == "FROM datakits/airflow:3.3"
    assert (stage / "requirements.txt").read_text() == ""  # the toolkit, its only dependency, is in the base
    assert images.project_image(stack_project(root)) == f"datakits-project/{stack_project(root).name}:latest"


def test_only_the_pip_settings_a_build_can_reach_are_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://index.invalid/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///opt/local/simple")  # a folder of this machine's
    found = images.pip_settings()
    assert found["PIP_INDEX_URL"] == "https://index.invalid/simple"
    assert "PIP_EXTRA_INDEX_URL" not in found
