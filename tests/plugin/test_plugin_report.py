"""What the plugin prints: the header, the summary per target, unreachable targets, kept databases."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from plugin_helpers import drop_kept, leftovers, run_ids

from framework.targets.runs import run_tag

PASSWORD = "s3cret-pw"
# the local server trusts 127.0.0.1, so a URL with a password reaches it and shows the hiding
PG_WITH_PASSWORD = f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/postgres"

SUITE = """
import pytest


def test_passes(datakit_target):
    print("URL", datakit_target.url)
    assert "{password}" not in datakit_target.url


def test_fails(datakit_session):
    assert False, "on purpose"


@pytest.mark.datakit(engines="mysql")
def test_skipped(datakit_session):
    pass
"""


def test_header_and_summary_per_target(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE.format(password=PASSWORD))
    result = run("-rP", "--datakit-target=sqlite_memory", f"--datakit-target={PG_WITH_PASSWORD}")
    result.assert_outcomes(passed=2, failed=2, skipped=2)
    result.stdout.fnmatch_lines(
        [
            f"pytest-datakits {version('pytest-datakits')}",  # the installed distribution's, from its metadata
            "datakit targets (from --datakit-target): sqlite_memory (sqlite, memory), "
            "postgresql-127.0.0.1-5432 (postgresql, local postgresql+psycopg2://postgres:***@127.0.0.1:5432/postgres)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= datakits =*",
            "sqlite_memory              1 passed, 1 failed, 1 skipped in * s",
            "postgresql-127.0.0.1-5432  1 passed, 1 failed, 1 skipped in * s",
        ]
    )
    assert PASSWORD not in result.stdout.str() + result.stderr.str()
    [run_id] = run_ids(result)  # the printed URL: dk_<run>_t1_main
    assert leftovers(run_id) == [], "a failing test leaves nothing behind"


UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["n0", "n2"])
def test_an_unreachable_target_is_reported_once(run, pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(3))
        def test_needs_it(datakit_session, n):
            pass
        """
    )
    result = run("--datakit-target=sqlite_memory", f"--datakit-target={UNREACHABLE}", *workers)
    result.assert_outcomes(passed=3, errors=3)
    out = result.stdout.str()
    reason = "postgresql-127.0.0.1-1 (postgresql+psycopg2://postgres@127.0.0.1:1/postgres): cannot connect: *"
    result.stdout.fnmatch_lines(["*ERROR at setup of test_needs_it[[]postgresql-127.0.0.1-1-0]*", reason])
    summary = out.split("= datakits =")[1].split("short test summary info")[0]
    assert summary.count("cannot connect") == 1, summary
    result.stdout.fnmatch_lines(
        ["postgresql-127.0.0.1-1  0 passed, 0 failed, 0 skipped, 3 errors in * s", f"error: {reason}"]
    )


def test_keep_keeps_the_databases_and_says_how_to_connect(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_it(datakit_session):
            pass
        """
    )
    targets = ["sqlite_memory", "sqlite_file", PG_WITH_PASSWORD, "mysql_local"]
    result = run("--datakit-keep", "--datakit=pagila_bronze", *[f"--datakit-target={t}" for t in targets])
    [run_id] = run_ids(result)
    run = f"{run_id}_{run_tag(run_id)}"  # a run's databases: dkkeep_<run id>_<its tag>_<label>
    try:
        result.assert_outcomes(passed=4)
        result.stdout.fnmatch_lines_random(
            [
                f"kept: postgresql+psycopg2://postgres:***@127.0.0.1:5432/dkkeep_{run}_t2_main",
                f"kept: mysql+pymysql://root@127.0.0.1:3306/dkkeep_{run}_t3_main",
                f"kept: sqlite+pysqlite:///*/dkkeep_{run}_t1_main.db",
                "not kept: the memory databases of sqlite_memory end with this run",
            ]
        )
        assert PASSWORD not in result.stdout.str()
        kept = leftovers(run_id)
        assert f"dkkeep_{run}_t2_main" in kept and f"dkkeep_{run}_t3_main" in kept
    finally:
        drop_kept(run_id)
    assert leftovers(run_id) == []


CRASHING = """
import os


def test_ok(datakit_target):
    pass


def test_crashes(datakit_target):
    os._exit(1)  # the worker dies: xdist reports the test as failed, without the test's own report
"""


def test_a_crashed_worker_is_counted_for_its_target(run, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CRASHING)
    result = run("-n", "2", "--datakit-target=sqlite_memory")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["sqlite_memory  1 passed, 1 failed, 0 skipped in *"])
