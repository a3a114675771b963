"""What dbt reads for a project (``framework.dbt.inputs``): the list both caches are keyed by."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from vendored import write_dbt_utils

from framework.dbt.inputs import project_inputs, read_files


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return folder


PROJECT = {
    "dbt_project.yml": """
        name: shop
        config-version: 2
        profile: shop
        macro-paths: ["macros", "../shared_macros"]
        target-path: build
    """,
    "models/a.sql": "select 1\n",
    "models/logs/b.sql": "select 2\n",
    "models/target/c.sql": "select 3\n",
    "macros/m.sql": "{% macro m() %}1{% endmacro %}\n",
    "seeds/s.csv": "a\n1\n",
    "selectors.yml": "selectors: []\n",
    "build/compiled.sql": "the project's own target-path: dbt writes it, never reads it\n",
    "logs/dbt.log": "the project's own log-path\n",
    "notes/todo.txt": "in no configured path\n",
    "../shared_macros/shared.sql": "{% macro shared() %}2{% endmacro %}\n",
}


def test_every_configured_path_is_read_wherever_it_points_and_nothing_is_skipped_by_its_name(tmp_path: Path) -> None:
    project = _write(tmp_path / "shop", PROJECT)
    write_dbt_utils(project)
    found = set(read_files(project))
    assert {
        "dbt_project.yml",
        "selectors.yml",
        "packages.yml",
        "package-lock.yml",
        "models/a.sql",
        "models/logs/b.sql",  # dbt reads a models/logs/ folder
        "models/target/c.sql",
        "macros/m.sql",
        "seeds/s.csv",
        "../shared_macros/shared.sql",
        "dbt_packages/dbt_utils/dbt_project.yml",
        "dbt_packages/dbt_utils/macros/sql/get_relations_by_prefix.sql",
    } <= found
    assert not {"build/compiled.sql", "logs/dbt.log", "notes/todo.txt"} & found
    assert "dbt_packages/dbt_utils/integration_tests/dbt_project.yml" not in found  # in no path of the package's


def test_a_same_size_edit_with_its_mtime_put_back_changes_the_inputs(tmp_path: Path) -> None:
    project = _write(tmp_path / "shop", PROJECT)
    before = project_inputs(project)
    model = project / "models" / "a.sql"
    stamp = model.stat()
    model.write_text("select 9\n")
    os.utime(model, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    after = project_inputs(project)
    assert after != before and after.digest != before.digest
    assert after.changes(before) == ["models/a.sql changed"]


def test_a_dbt_project_yml_that_cannot_be_read_reads_the_whole_folder(tmp_path: Path) -> None:
    project = _write(tmp_path / "shop", {**PROJECT, "dbt_project.yml": "model-paths: ['{{ env_var(\"P\") }}']\n"})
    assert "notes/todo.txt" in read_files(project)


@pytest.mark.parametrize(
    ("jinja", "names", "computed", "reads"),
    [
        ("{{ env_var('A') }}", {"A"}, False, False),
        ("{{ env_var(\"A\", 'default') }}", {"A"}, False, False),
        ("{% set n = 'A' %}{{ env_var(n) }}", set(), True, False),
        ("{{ env_var('A' ~ suffix) }}", set(), True, False),
        ("{{ target.get('dbname') }}", set(), False, True),
        ("{{ target['host'] }}", set(), False, True),
        ("{{ adapter.config.credentials.database }}", set(), False, True),
        ("{{ target.schema }}{{ target.name }}", set(), False, False),
        ("{{ config(unique_key='target') }}", set(), False, False),
        ("select target from t -- target.database outside Jinja", set(), False, False),
    ],
)
def test_the_jinja_is_read_for_env_vars_and_connection_reads(
    tmp_path: Path, jinja: str, names: set[str], computed: bool, reads: bool
) -> None:
    project = _write(tmp_path / "shop", {**PROJECT, "models/a.sql": jinja + "\n"})
    found = project_inputs(project)
    assert found.env_names == names
    assert bool(found.computed_env) == computed
    assert ("models/a.sql" in found.reads_connection) == reads


def test_a_package_that_names_the_connection_is_not_a_read_of_the_project(tmp_path: Path) -> None:
    project = _write(tmp_path / "shop", PROJECT)
    write_dbt_utils(project)
    assert project_inputs(project).reads_connection == ()  # the manifest decides for packages (parsing.baked_in)
