"""``--datakit-dbt-tests`` on Pagila's dbt project: every data test and unit test collected as an item
named by its dbt node, run on the template (the real Pagila, dbt-built), under xdist; one test broken
on purpose (in a copy of the project) is one failed item whose failure shows its failing rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "dbt" / "pagila_warehouse"

CONFTEST = """
from framework import load_datakit_tables

SOURCE = {source!r}  # the real Pagila, loaded by the outer test run


def pytest_datakit_fill_template(target, database):
    results = load_datakit_tables("pagila_source", "pagila_bronze", source=SOURCE, target=database, batch_id="b1")
    assert all(r.success for r in results)
"""


@pytest.fixture
def pagila_suite(pytester: pytest.Pytester, pagila_database) -> Path:
    pytester.makeconftest(CONFTEST.format(source=pagila_database.url.render_as_string(hide_password=False)))
    project = pytester.path / "pagila_warehouse"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    broken = project / "tests" / "dim_customer_one_current_version.sql"  # broken on purpose, in the copy
    broken.write_text(broken.read_text().replace("<> 1", "= 1 and customer_id <= 3"))
    return project


def test_every_dbt_test_is_an_item_and_a_broken_one_fails_with_its_rows(pagila_suite: Path, run) -> None:
    ini = (
        f"datakit_paths = pagila_source pagila_bronze\ndatakit_dbt_projects = {pagila_suite}\ndatakit_dbt_tests = true"
    )
    collected = run("--collect-only", "-q", "--datakit-target", "postgres_local", ini=ini, timeout=600)
    ids = [line for line in collected.stdout.lines if line.startswith("dbt::")]
    assert len(ids) == 75  # 72 data tests and 3 unit tests, on the one PostgreSQL target
    assert "dbt::customer::unique_customer_customer_id[postgres_local]" in ids
    assert "dbt::fact_rental::fact_rental_measures_duration_lateness_and_amount[postgres_local]" in ids  # a unit test
    assert "dbt::dim_customer::dim_customer_one_current_version[postgres_local]" in ids  # a singular test

    result = run("-n", "2", "--datakit-target", "postgres_local", ini=ini, timeout=900)
    result.assert_outcomes(passed=74, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ dbt::dim_customer::dim_customer_one_current_version?postgres_local? _*",  # ? for [ and ]
            "dbt test dim_customer_one_current_version fail: Got 3 results, configured to fail if != 0",
            "failing rows (first 3):",
            "customer_id",
            "-----------",
        ]
    )
    out = result.stdout.str()
    rows = out[out.index("failing rows (first 3):") :].splitlines()[3:6]
    assert sorted(r.strip() for r in rows) == ["1", "2", "3"]  # the customers the broken test picks
    result.stdout.fnmatch_lines(["postgres_local  74 passed, 1 failed, 0 skipped in *"])
