"""One parse of a dbt project serves every warehouse database (``framework.dbt.parsing``), on the local PostgreSQL.

Each test has a project of its own (its path is part of the parse key), so what another test parsed
in this process is never what these count.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from framework import Database, run_dbt
from framework.dbt import runner
from framework.dbt.parsing import PARSE_ENV, PLACEHOLDER_DATABASE

PROJECT = {
    "dbt_project.yml": """
        name: parse_once
        version: "1.0.0"
        config-version: 2
        profile: parse_once
        flags:
          send_anonymous_usage_stats: false
    """,
    # ephemeral: a run injects its CTE into the nodes that read it (a kept parse must not keep that)
    "models/base.sql": """
        {{ config(materialized='ephemeral') }}
        select 1 as id, '{{ env_var("DK_PARSE_NOTE", "none") }}' as note
    """,
    "models/top.sql": """
        select id, note from {{ ref('base') }}
    """,
    "models/schema.yml": """
        version: 2
        models:
          - name: top
            columns:
              - name: id
                data_tests: [unique, not_null]
    """,
}


def _project(folder: Path, files: dict[str, str] = PROJECT) -> Path:
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return folder


@pytest.fixture
def two_databases(servers) -> Iterator[tuple[Database, Database]]:
    _, run = servers.get("postgres_local")
    first, second = run.create_database("parse_a"), run.create_database("parse_b")
    yield first, second
    run.drop(first)
    run.drop(second)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The projects parsed with the parse profile in this test (each call of the runner's kept parse)."""
    seen: list[Path] = []
    real = runner._parse

    def counted(project, *args):  # type: ignore[no-untyped-def]
        seen.append(project)
        return real(project, *args)

    monkeypatch.setattr(runner, "_parse", counted)
    return seen


def _rows(database: Database, sql: str) -> list[tuple[object, ...]]:
    engine = database.engine()
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_one_parse_builds_two_databases_each_under_its_own_name(
    tmp_path: Path, two_databases: tuple[Database, Database], parses: list[Path]
) -> None:
    project = _project(tmp_path / "parse_once")
    for database in two_databases:
        result = run_dbt(project, database, ("build",))
        assert result.counts() == {"model": {"success": 1}, "test": {"pass": 2}}
        assert _rows(database, "select id, note from public.top") == [(1, "none")]
        compiled = result.node("unique_top_id").compiled_sql or ""
        assert f'"{database.name}"."public"."top"' in compiled
        assert PLACEHOLDER_DATABASE not in compiled
    assert parses == [project]  # once, for both


def test_an_edited_model_or_a_changed_variable_is_parsed_again(
    tmp_path: Path,
    two_databases: tuple[Database, Database],
    parses: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_databases
    project = _project(tmp_path / "parse_once")
    run_dbt(project, first, ("build",))
    (project / "models" / "top.sql").write_text("select id, note, 2 as extra from {{ ref('base') }}\n")
    run_dbt(project, second, ("build",))
    assert _rows(second, "select id, note, extra from public.top") == [(1, "none", 2)]
    monkeypatch.setenv("DK_PARSE_NOTE", "changed")
    run_dbt(project, first, ("build",))
    assert _rows(first, "select note, extra from public.top") == [("changed", 2)]
    assert len(parses) == 3
    run_dbt(project, second, ("build",), select="top")
    assert len(parses) == 3  # nothing changed since


@pytest.mark.parametrize("why", ["reads target.dbname", "per-database"])
def test_a_project_that_reads_the_connection_is_parsed_per_database(
    why: str,
    tmp_path: Path,
    two_databases: tuple[Database, Database],
    parses: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = dict(PROJECT)
    if why == "per-database":
        monkeypatch.setenv(PARSE_ENV, "per-database")
    else:
        files["models/top.sql"] = "select id, note, '{{ target.dbname }}' as built_in from {{ ref('base') }}\n"
    project = _project(tmp_path / "parse_once", files)
    for database in two_databases:
        run_dbt(project, database, ("build",))
        if why != "per-database":
            assert _rows(database, "select built_in from public.top") == [(database.name,)]
    assert parses == []  # dbt parsed for each database itself


def test_a_process_keeps_a_bounded_number_of_parses(
    tmp_path: Path, two_databases: tuple[Database, Database], parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "MAX_KEPT", 1)
    first, second = _project(tmp_path / "one" / "parse_once"), _project(tmp_path / "two" / "parse_once")
    database = two_databases[0]
    for project in (first, second, first):
        run_dbt(project, database, ("build",), select="top")
    assert parses == [first, second, first]  # the first was dropped for the second, then parsed again
    assert len(runner._KEPT) <= 1


def test_the_parse_outlives_the_state_folders_of_many_databases(
    tmp_path: Path, servers, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each database has a state folder of its own and only the most recently used are kept: the
    parse's folder, used by every run, stays among them, so a new process still finds it warm."""
    monkeypatch.setenv(runner.STATE_ROOT_ENV, str(tmp_path / "states"))
    project = _project(tmp_path / "parse_once")
    _, run = servers.get("postgres_local")
    for i in range(runner.MAX_STATES + 2):
        database = run.create_database(f"parse_{i}")
        try:
            run_dbt(project, database, ("build",), select="top")
        finally:
            run.drop(database)
    parse_state = runner.dbt_parse_dir(project, database.url)
    assert (parse_state / "target" / "partial_parse.msgpack").exists()
    assert parses == [project]


def test_a_given_state_folder_holds_the_parse_and_the_next_database_reuses_it(
    tmp_path: Path, two_databases: tuple[Database, Database], parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(runner.STATE_ROOT_ENV, str(tmp_path / "default-root"))
    project = _project(tmp_path / "parse_once")
    for number, database in enumerate(two_databases):
        state = tmp_path / f"state{number}"
        run_dbt(project, database, ("build",), state_dir=state)
        assert _rows(database, "select id from public.top") == [(1,)]
    assert parses == [project]  # in the first given folder, kept for the second database
    assert (tmp_path / "state0" / "target" / "partial_parse.msgpack").exists()
    assert not (tmp_path / "default-root").exists()  # every file dbt wrote is where the caller said
