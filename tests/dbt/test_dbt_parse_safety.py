"""A kept parse never builds what plain dbt would not (``framework.dbt.parsing``, ``framework.dbt.inputs``).

Each form that reads the connection at parse time, and each change a kept parse used to miss in one
process, is built with ``run_dbt`` (the kept parse) and with a plain ``dbt build`` (``dbtRunner``, a
profile of its own, partial parsing off), each on a real PostgreSQL database of its own; the tables
built and their rows must be the same, the database's own name put for ``<db>``.
"""

from __future__ import annotations

import logging
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from vendored import NUMBERS_SQL, NUMBERS_YML, write_dbt_utils

from framework import Database, run_dbt
from framework.dbt import runner
from framework.dbt.parsing import PLACEHOLDER

BASE = {
    "dbt_project.yml": """
        name: forms
        version: "1.0.0"
        config-version: 2
        profile: forms
        models:
          forms:
            +materialized: table
        flags:
          send_anonymous_usage_stats: false
    """,
    "models/plain.sql": "select 1 as n\n",
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return folder


@pytest.fixture
def databases(servers) -> Iterator[list[Database]]:
    """Three databases of this test: two for run_dbt, one for plain dbt."""
    _, run = servers.get("postgres_local")
    made = [run.create_database(f"safe_{label}") for label in "abc"]
    yield made
    for database in made:
        run.drop(database)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The projects parsed with the parse profile in this test (each call of the runner's parse)."""
    seen: list[Path] = []
    real = runner._parse

    def counted(project, *args):  # type: ignore[no-untyped-def]
        seen.append(project)
        return real(project, *args)

    monkeypatch.setattr(runner, "_parse", counted)
    return seen


def built(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """Each table of ``public`` and its rows, the database's name put as ``<db>``."""
    name = str(database.name)
    engine = database.engine()
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text("select table_name from information_schema.tables where table_schema = 'public'")
            ).scalars()
            found = {}
            for table in sorted(tables):
                rows = connection.execute(text(f'select * from public."{table}" order by 1')).all()
                found[table.replace(name, "<db>")] = [
                    tuple(v.replace(name, "<db>") if isinstance(v, str) else v for v in row) for row in rows
                ]
            return found
    finally:
        engine.dispose()


def plain_build(project: Path, database: Database, folder: Path) -> None:
    """``dbt build`` as a user runs it: dbtRunner, a profile of its own, no kept parse, no partial parsing."""
    from dbt.cli.main import dbtRunner

    url = database.url
    profile = {
        "target": "plain",
        "outputs": {
            "plain": {
                "type": "postgres",
                "host": url.host or "127.0.0.1",
                "port": url.port or 5432,
                "user": url.username or "postgres",
                "password": url.password or "",
                "dbname": url.database,
                "schema": "public",
                "threads": 4,
            }
        },
    }
    name = yaml.safe_load((project / "dbt_project.yml").read_text())["profile"]
    (folder / "profiles").mkdir(parents=True, exist_ok=True)
    (folder / "profiles" / "profiles.yml").write_text(yaml.safe_dump({name: profile}))
    args = ["build", "--project-dir", str(project), "--profiles-dir", str(folder / "profiles")]
    args += ["--target-path", str(folder / "target"), "--log-path", str(folder / "logs"), "--no-partial-parse"]
    result = dbtRunner().invoke([*args, "--log-level", "none"])
    assert result.success, result.exception


def same_as_plain(project: Path, ours: Database, plain: Database, folder: Path) -> dict[str, list[tuple[object, ...]]]:
    plain_build(project, plain, folder)
    found = built(ours)
    assert found == built(plain)
    return found


READS = {
    "target.get('dbname')": "{{ config(alias='sales_' ~ target.get('dbname')) }}\nselect 1 as n\n",
    "target['dbname']": "{{ config(alias='sales_' ~ target['dbname']) }}\nselect 1 as n\n",
    "adapter.config.credentials.database": (
        "{{ config(alias='sales_' ~ adapter.config.credentials.database) }}\nselect 1 as n\n"
    ),
    "a macro of its own": "{{ config(alias='sales_' ~ database_name()) }}\nselect 1 as n\n",
    "a package's macro": "{{ config(alias='sales_' ~ helpers.database_name()) }}\nselect 1 as n\n",
    "a meta config, through a package's macro": (
        "{{ config(meta={'built_in': helpers.database_name()}, tags=[helpers.database_name()]) }}\nselect 1 as n\n"
    ),
}
MACRO = "{% macro database_name() %}{{ return(target.get('dbname')) }}{% endmacro %}\n"
PACKAGE = {
    "dbt_packages/helpers/dbt_project.yml": 'name: helpers\nversion: "1.0.0"\nconfig-version: 2\n',
    "dbt_packages/helpers/macros/database_name.sql": MACRO,
}


@pytest.mark.parametrize("form", list(READS))
def test_a_model_that_reads_the_connection_at_parse_time_builds_what_plain_dbt_builds(
    form: str, tmp_path: Path, databases: list[Database], parses: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    files = {**BASE, "models/sales.sql": READS[form], **PACKAGE}
    if form == "a macro of its own":
        files["macros/database_name.sql"] = MACRO
    project = _write(tmp_path / "forms", files)
    first, second, plain = databases
    caplog.set_level(logging.INFO, logger="framework.dbt")
    for database in (first, second):
        run_dbt(project, database, ("build",))
    found = same_as_plain(project, second, plain, tmp_path / "plain")
    if "meta" not in form:
        assert "sales_<db>" in found  # its real name, never the placeholder's
    assert not any(PLACEHOLDER in table for table in built(first))
    said = [r.getMessage() for r in caplog.records if "parsed per database" in r.getMessage()]
    assert len(said) == 1, said  # said once for the project
    if "package" in form:  # no text of the project says so: the manifest does
        assert "its parse wrote the connection into model.forms.sales" in said[0]
        assert parses == [project]  # parsed once with the parse profile, then per database by dbt
    else:
        assert "reads the connection" in said[0]


def test_a_project_without_connection_reads_keeps_one_parse(
    tmp_path: Path, databases: list[Database], parses: list[Path]
) -> None:
    project = _write(tmp_path / "forms", {**BASE, **PACKAGE, "models/sales.sql": "select 2 as n\n"})
    first, second, plain = databases
    for database in (first, second):
        run_dbt(project, database, ("build",))
    assert same_as_plain(project, second, plain, tmp_path / "plain") == {"plain": [(1,)], "sales": [(2,)]}
    assert parses == [project]
    assert str(project) not in runner.PER_DATABASE


def _same_size_edit(path: Path, old: str, new: str) -> None:
    before = path.stat()
    body = path.read_text()
    assert len(old) == len(new)
    path.write_text(body.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


CHANGES = [
    "computed env_var name",
    "edit under models/logs/",
    "same-size edit, mtime kept",
    "macro outside the project",
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_a_kept_parse_used_to_miss_builds_what_plain_dbt_builds(
    change: str,
    tmp_path: Path,
    databases: list[Database],
    parses: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = dict(BASE)
    if change == "computed env_var name":
        files["models/sales.sql"] = "{% set name = 'DK_SAFE_' ~ 'COLOR' %}select '{{ env_var(name, 'none') }}' as c\n"
        files["models/schema.yml"] = """
            version: 2
            models:
              - name: sales
                config:
                  alias: "sales_{{ env_var('DK_SAFE_' ~ 'COLOR', 'none') }}"
        """
        monkeypatch.setenv("DK_SAFE_COLOR", "red")
    elif change == "edit under models/logs/":
        files["models/logs/sales.sql"] = "select 'old' as c\n"
    elif change == "same-size edit, mtime kept":
        files["models/sales.sql"] = "select 'old' as c\n"
    else:
        files["dbt_project.yml"] = (
            textwrap.dedent(BASE["dbt_project.yml"]) + 'macro-paths: ["macros", "../shared_macros"]\n'
        )
        files["../shared_macros/color.sql"] = "{% macro color() %}'old'{% endmacro %}\n"
        files["models/sales.sql"] = "select {{ color() }} as c\n"
    project = _write(tmp_path / "forms", files)
    first, second, plain = databases
    run_dbt(project, first, ("build",))

    if change == "computed env_var name":
        monkeypatch.setenv("DK_SAFE_COLOR", "blue")
    elif change == "edit under models/logs/":
        (project / "models" / "logs" / "sales.sql").write_text("select 'new' as c\n")
    elif change == "same-size edit, mtime kept":
        _same_size_edit(project / "models" / "sales.sql", "'old'", "'new'")
    else:
        (tmp_path / "shared_macros" / "color.sql").write_text("{% macro color() %}'new'{% endmacro %}\n")
    run_dbt(project, second, ("build",))

    found = same_as_plain(project, second, plain, tmp_path / "plain")
    assert found.get("sales") == [("new",)] or found.get("sales_blue") == [("blue",)], found
    if change == "computed env_var name":
        assert parses == []  # which variables it reads cannot be known: dbt parses per database
    else:
        assert parses == [project, project]  # the change was seen: parsed again


def test_a_project_with_a_vendored_dbt_utils_keeps_one_parse(
    tmp_path: Path, databases: list[Database], parses: list[Path]
) -> None:
    """dbt_utils names target.database (a default argument, a branch a run takes, its README): the parse is
    kept all the same, since nothing of the connection is in the manifest it leaves (issue 31)."""
    project = _write(tmp_path / "forms", {**BASE, "models/numbers.sql": NUMBERS_SQL, "models/numbers.yml": NUMBERS_YML})
    write_dbt_utils(project)
    first, second, plain = databases
    for database in (first, second):
        result = run_dbt(project, database, ("build",))
        assert result.counts() == {"model": {"success": 2}, "test": {"pass": 1}}
    assert parses == [project]  # once, for both databases
    assert str(project) not in runner.PER_DATABASE
    found = same_as_plain(project, second, plain, tmp_path / "plain")
    assert found["numbers"] == [(1, 0), (2, 0), (3, 0)]
