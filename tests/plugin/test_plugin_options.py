"""Options: one group in --help, flag -> environment -> ini -> default, one-line usage errors."""

from __future__ import annotations

import pytest

TARGET_TEST = """
def test_x(datakit_target):
    pass
"""


def test_help_lists_the_options_in_one_group(run) -> None:
    result = run("--help")
    result.stdout.fnmatch_lines(
        [
            "datakits: test against real, disposable databases:",
            "*--datakit-target=NAME|URL*",
            "*--datakit=PATH|NAME*",
            "*--datakit-keep*",
            "*--datakit-list-targets*",
        ]
    )
    result.stdout.fnmatch_lines(["*datakit_targets (args):*", "*datakit_paths (args):*", "*datakit_keep (bool):*"])


def test_list_targets_prints_them_and_exits(run) -> None:
    result = run("--datakit-list-targets")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["sqlite_memory *sqlite *memory *needs nothing", "postgres_local *postgresql *local *needs a running*"]
    )
    assert "collected" not in result.stdout.str()


def test_default_target_is_sqlite_memory(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TARGET_TEST)
    result = run("--collect-only")
    result.stdout.fnmatch_lines(
        ["datakit targets (from default): sqlite_memory (sqlite, memory)", "*test_x[[]sqlite_memory]*"]
    )


def test_ini_then_environment_then_flag(run, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(TARGET_TEST)
    ini = "datakit_targets = sqlite_file postgres_local"
    result = run("--collect-only", ini=ini)
    result.stdout.fnmatch_lines(
        [
            "datakit targets (from ini datakit_targets (tox.ini)): sqlite_file *, postgres_local *",
            "*test_x[[]sqlite_file]*",
            "*test_x[[]postgres_local]*",
        ]
    )
    monkeypatch.setenv("DATAKITS_TARGET", "mysql_local, sqlite_memory")
    result = run("--collect-only", ini=ini)
    result.stdout.fnmatch_lines(["datakit targets (from DATAKITS_TARGET): mysql_local *, sqlite_memory *"])
    result = run("--collect-only", "--datakit-target=postgres_embedded", "--datakit-target", "sqlite_file", ini=ini)
    result.stdout.fnmatch_lines(
        ["datakit targets (from --datakit-target): postgres_embedded *, sqlite_file *", "*test_x[[]postgres_embedded]*"]
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--datakit-target=nope"],
            None,
            "ERROR: --datakit-target: unknown target 'nope'; use one of sqlite_memory, *",
        ),
        ([], "nope", "ERROR: DATAKITS_TARGET: unknown target 'nope'; use one of sqlite_memory, *"),
        (
            ["--datakit-target=sqlite:///x.db"],
            None,
            "ERROR: --datakit-target: 'sqlite:///x.db' is one SQLite database*",
        ),
        (["--datakit=nope"], None, "ERROR: --datakit: no datakit named 'nope'*pagila_bronze*"),
    ],
    ids=["flag", "env", "sqlite-url", "datakit"],
)
def test_a_bad_value_is_a_one_line_usage_error(run, monkeypatch, args, env, message) -> None:
    if env:
        monkeypatch.setenv("DATAKITS_TARGET", env)
    result = run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_datakits_from_ini_resolve_against_the_ini_folder(run, pytester: pytest.Pytester) -> None:
    pytester.mkpydir("mykit")
    pytester.path.joinpath("mykit", "models.py").write_text(
        "from sqlmodel import Field, SQLModel\n\n\n"
        "class Widget(SQLModel, table=True):\n    id: int | None = Field(default=None, primary_key=True)\n"
    )
    pytester.makepyfile(
        """
        from sqlalchemy import inspect

        def test_widget_table_is_there(datakit_engine):
            assert "widget" in inspect(datakit_engine).get_table_names()
        """
    )
    result = run("-v", ini="datakit_paths = mykit")
    result.stdout.fnmatch_lines(["datakits (from ini datakit_paths (tox.ini)): *mykit", "*1 passed*"])


def test_the_plugin_can_be_turned_off(run) -> None:
    result = run("-p", "no:datakits", "--help")
    assert "--datakit-target" not in result.stdout.str()


def test_public_names() -> None:
    import pytest_datakits

    assert set(pytest_datakits.__all__) == {
        "DatakitDbt",
        "DatakitFactories",
        "DbtTestWarning",  # issue 26: a warn-severity dbt test's warning (--datakit-dbt-tests)
        "ProvisionedTarget",
        "current_session",
        "use_session",
    }
    assert all(hasattr(pytest_datakits, name) for name in pytest_datakits.__all__)
