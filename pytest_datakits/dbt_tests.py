"""``--datakit-dbt-tests`` (ini ``datakit_dbt_tests``): dbt's own data tests and unit tests as pytest items.

Each data test and unit test of the ``--datakit-dbt`` projects (``dbt ls``) is an item per
PostgreSQL target, named by its dbt node: ``dbt::customers::unique_customers_customer_id[postgres_embedded]``.
They check the target's template as it was built (deployed, filled, dbt-built; the template's own
build leaves the tests out), in a database of their own cloned from it: never this process's
database, which the Python tests change (a ``commit`` test's clean-up empties the datakits' tables).
The first such item of a process clones it, runs ``dbt test`` once for all the items of its project
that the session selected, reads the failing rows and drops it; each item reports its own node. A
failing data test fails with dbt's message and its first failing rows; a failing unit test with dbt's
diff of expected and actual rows; a warn-severity test that warns passes with a :class:`DbtTestWarning`
that shows its rows (a ``filterwarnings = error`` makes it fail, as dbt's ``--warn-error`` does).
They run under xdist and count in the per-target summary.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from framework import ENGINES, DatakitError

from .state import STATE

if TYPE_CHECKING:  # dbt's runner and listing are imported when dbt's tests are collected
    from framework import DbtNode, DbtTest

ENABLED = pytest.StashKey[bool]()
_RUNS = pytest.StashKey["Runs"]()
FRESH_LABEL = "dbt_tests"  # the same name in each run of a process: dbt's partial parsing stays warm


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("datakits")
    group.addoption(
        "--datakit-dbt-tests",
        action="store_true",
        dest="datakit_dbt_tests",
        default=None,
        help="Collect the data tests and unit tests of the --datakit-dbt projects as pytest items, "
        "one per PostgreSQL target. Else ini datakit_dbt_tests",
    )
    parser.addini("datakit_dbt_tests", "Collect dbt's data tests and unit tests as pytest items", type="bool")


def enabled(config: pytest.Config) -> bool:
    flag = config.getoption("datakit_dbt_tests")
    return bool(config.getini("datakit_dbt_tests") if flag is None else flag)


class DbtTestFailed(Exception):
    """A dbt test that failed: its message is the whole report."""


class DbtTestWarning(UserWarning):
    """A warn-severity dbt test that found rows: dbt's message and the first failing rows."""


class DbtTestItem(pytest.Item):
    """One dbt data test or unit test on one target."""

    def __init__(self, *, test: DbtTest, project: Path, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test
        self.project = project
        self.target = target

    def runtest(self) -> None:
        runs = self.config.stash.setdefault(_RUNS, Runs())
        node, report = runs.result(self)
        if node is None:
            raise DbtTestFailed(f"dbt did not run {self.test.unique_id} (is it disabled?)")
        if node.status == "skipped":
            pytest.skip(f"dbt skipped {self.test.name}: {node.message or 'an upstream node failed'}")
        if node.failed:
            raise DbtTestFailed(report)
        if node.status == "warn":
            # shown at the project, not at this line of the plugin
            warnings.warn_explicit(DbtTestWarning(report), DbtTestWarning, str(self.project), 0)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DbtTestFailed | DbtTestWarning | DatakitError):  # warnings as errors
            from framework import safe_text

            return safe_text(str(excinfo.value))
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.project, None, self.name


def _report(node: DbtNode, database: Any) -> str:
    """What a failing or warning node found: dbt's message, and a data test's first failing rows."""
    from framework import failing_rows

    head = f"dbt {node.resource_type} {node.name} {node.status}"
    if node.resource_type == "unit_test" or not node.compiled_sql:
        return f"{head}:\n{node.detail or node.message or 'no message'}"
    try:
        columns, rows = failing_rows(database, node.compiled_sql)
    except Exception as exc:  # the rows are a help; dbt's verdict stands without them
        return f"{head}: {node.message}\n(its failing rows could not be read: {type(exc).__name__}: {exc})"
    widths = [max(len(str(v)) for v in [c, *(r[i] for r in rows)]) for i, c in enumerate(columns)]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return f"{head}: {node.message}\nfailing rows (first {len(rows)}):\n" + "\n".join(lines)


@dataclass
class Runs:
    """This process's ``dbt test`` runs: one per project and target, for every item the session selected.

    Each runs in a database of its own, cloned from the target's template and dropped after; what a
    failing or warning node found is read there, before the drop.
    """

    done: dict[tuple[Path, str], dict[str, tuple[DbtNode, str]]] = field(default_factory=dict)

    def result(self, item: DbtTestItem) -> tuple[DbtNode | None, str]:
        key = (item.project, item.target)
        if key not in self.done:
            self.done[key] = self._run(item, key)
        node, report = self.done[key].get(item.test.unique_id, (None, ""))
        return node, report

    def _run(self, item: DbtTestItem, key: tuple[Path, str]) -> dict[str, tuple[DbtNode, str]]:
        from framework import dbt_parse_dir, dbt_state_dir, run_dbt

        workspace = item.config.stash[STATE].workspace()
        mine = [i for i in item.session.items if isinstance(i, DbtTestItem) and (i.project, i.target) == key]
        everything = len(mine) == len(listed(item.config, item.project))
        base = workspace.source.workdir / "dbt" / workspace.worker
        with workspace.test_database(item.target, "fresh", fresh_label=FRESH_LABEL) as test:
            test.connection.commit()  # nothing of ours open while dbt works
            database = test.database
            result = run_dbt(
                item.project,
                database,
                ("test",),
                select=None if everything else sorted({i.test.name for i in mine}),
                check=False,
                state_dir=dbt_state_dir(item.project, database.url, base),
                parse_dir=dbt_parse_dir(item.project, database.url),
            )
            return {
                n.unique_id: (n, _report(n, database) if n.failed or n.status == "warn" else "") for n in result.nodes
            }


_LISTED = pytest.StashKey["dict[Path, list[DbtTest]]"]()


def listed(config: pytest.Config, project: Path) -> list[DbtTest]:
    cache = config.stash.setdefault(_LISTED, {})
    if project not in cache:
        from framework import list_dbt_tests

        cache[project] = list_dbt_tests(project)
    return cache[project]


def collect(session: pytest.Session, projects: list[Path], items: list[pytest.Item]) -> None:
    """Add an item per dbt test, project and PostgreSQL target."""
    targets = [t for t in session.config.stash[STATE].settings.targets if ENGINES[t.engine].dbt_adapter]
    added: list[pytest.Item] = []
    for project in projects:
        try:
            tests = listed(session.config, project)
        except DatakitError as exc:
            raise pytest.UsageError(f"--datakit-dbt-tests: {exc}") from None
        for target in targets:
            for test in tests:
                name = f"dbt::{test.model}::{test.name}[{target.name}]"
                added.append(
                    DbtTestItem.from_parent(
                        session, name=name, nodeid=name, test=test, project=project, target=target.name
                    )
                )
    items.extend(added)
    if added:  # counted as collected, as the files' items are
        report = pytest.CollectReport("dbt", "passed", None, list(added))
        session.config.hook.pytest_collectreport(report=report)
