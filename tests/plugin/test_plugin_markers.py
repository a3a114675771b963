"""The datakit marker: restrict to engines or targets (skipped elsewhere, with the reason), add
datakits; ``datakit_deploy`` inside a test; a wrong marker argument is an error naming it."""

from __future__ import annotations

import pytest

TARGETS = ["sqlite_memory", "sqlite_file", "postgres_local", "mysql_local"]

SUITE = """
import pytest
from sqlalchemy import func, inspect, select

from datakits.pagila_source import Language


@pytest.mark.datakit(engines="postgresql")
def test_postgres_only(datakit_target):
    assert datakit_target.engine == "postgresql"


@pytest.mark.datakit(targets=["sqlite_file", "mysql_local"])
def test_two_targets(datakit_target):
    assert datakit_target.name in ("sqlite_file", "mysql_local")


@pytest.mark.datakit(engines="mariadb")
class TestOnMysql:
    def test_in_a_class(self, datakit_target):
        assert datakit_target.engine == "mysql"


@pytest.mark.datakit(datakits=["pagila_source"])
def test_more_datakits(datakit_session):
    datakit_session.add(Language(name="English"))
    datakit_session.commit()
    assert datakit_session.scalar(select(func.count()).select_from(Language)) == 1


def test_deploy_inside_a_test(datakit_deploy, datakit_connection):
    [result] = datakit_deploy("pagila_source")
    assert result.success
    assert inspect(datakit_connection).has_table("language")


def test_without_datakits():
    pass
"""


def test_markers_restrict_and_add(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=SUITE)
    result = run("--strict-markers", "-rs", "--datakit=pagila_bronze", *[f"--datakit-target={t}" for t in TARGETS])
    # 4 targets x 5 datakit tests + 1 plain test; postgres_only runs once, two_targets twice, the class once
    result.assert_outcomes(passed=1 + 1 + 2 + 1 + 4 + 4, skipped=3 + 2 + 3)
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED * needs engine postgresql, not sqlite (sqlite_memory)",
            "SKIPPED * needs engine postgresql, not mysql (mysql_local)",
            "SKIPPED * needs target sqlite_file or mysql_local, not postgres_local",
            "SKIPPED * needs engine mysql, not postgresql (postgres_local)",
        ]
    )
    result.stdout.fnmatch_lines(["postgres_local * 3 passed, 0 failed, 2 skipped in * s"])


BAD = {
    "test_bad_keyword": ('engine="postgresql"', "*datakit() got an unexpected keyword argument 'engine'"),
    "test_bad_engine": ('engines="oracle"', "*engines: unknown engine 'oracle'; use sqlite, postgresql, mysql"),
    "test_bad_isolation": ('isolation="snapshot"', "*isolation: 'snapshot' is not one of rollback, commit, fresh"),
    "test_bad_target": ('targets="postgres_locl"', "*targets: unknown target 'postgres_locl'; use one of *"),
    "test_nowhere": (
        'targets=["postgres_local"], engines=["mysql"]',
        "*targets and engines exclude each other (postgres_local is postgresql, not mysql): the test would run nowhere",
    ),
    "test_stacked": (
        'engines="postgresql")\n@pytest.mark.datakit(isolation="commit"',
        "*more than one datakit marker on this test (only one would count); merge them into one",
    ),
}


def test_a_wrong_marker_is_a_collection_error_naming_it(run, pytester: pytest.Pytester) -> None:
    for name, (arguments, _) in BAD.items():
        pytester.makepyfile(
            **{name: f"import pytest\n\n@pytest.mark.datakit({arguments})\ndef test_it(datakit_session):\n    pass\n"}
        )
    result = run("--collect-only")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    for name, (_, message) in BAD.items():
        result.stdout.fnmatch_lines([f"*{name}.py::test_it: datakit marker: {message.lstrip('*')}"])
    assert "During handling" not in result.stdout.str()
