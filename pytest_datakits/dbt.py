"""dbt in the plugin: ``--datakit-dbt`` / ini ``datakit_dbt_projects``, the template's filling, ``datakit_dbt``.

- Before the workers copy the run's template, the plugin calls ``pytest_datakit_fill_template``
  (a conftest.py fills it with data) and builds each ``--datakit-dbt`` project into it, so tests
  that read silver and gold run in ordinary rollback isolation.
- ``datakit_dbt``: dbt bound to the test's database (``.build(select=...)``, ``.run``, ``.test``,
  ``.seed``, ``.snapshot``). dbt opens its own connections and commits, so a test that uses it
  is ``isolation="fresh"`` unless its marker says otherwise; the fresh database has the same name
  in each test of a process, so dbt's partial parsing (one target folder per database) stays warm.
- dbt runs on PostgreSQL: on other targets a test that uses ``datakit_dbt`` is skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from framework import ENGINES, DatakitError, DbtError

if TYPE_CHECKING:  # dbt's runner is imported when a run first needs dbt: a start without stays light
    from sqlalchemy.engine import Connection

    from framework import Database, DbtResult, Prepare, ProvisionedTarget, TargetConfig, TestDatabase, Workspace

FIXTURE = "datakit_dbt"
FRESH_LABEL = "dbt"


@dataclass(frozen=True)
class DbtSettings:
    projects: list[Path]
    projects_from: str


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("datakits")
    group.addoption(
        "--datakit-dbt",
        action="append",
        dest="datakit_dbt_projects",
        default=None,
        metavar="PATH",
        help="Build this dbt project into each PostgreSQL template once per run (repeatable); the "
        "datakit_dbt fixture's project. Else ini datakit_dbt_projects",
    )
    parser.addini("datakit_dbt_projects", "dbt projects to build into each PostgreSQL template", type="args")


def resolve(config: pytest.Config) -> DbtSettings:
    flag = config.getoption("datakit_dbt_projects")
    if flag:
        values, source, base = list(flag), "--datakit-dbt", Path.cwd()
    else:
        values = list(config.getini("datakit_dbt_projects"))
        source = f"ini datakit_dbt_projects ({config.inipath.name if config.inipath else 'ini'})"
        base = config.inipath.parent if config.inipath else config.rootpath
    projects = []
    for value in values:
        path = (base / value).resolve()
        if not (path / "dbt_project.yml").is_file():
            raise pytest.UsageError(f"{source}: {value!r} is not a dbt project (no dbt_project.yml in {path})")
        projects.append(path)
    return DbtSettings(projects, source if values else "default")


def header(settings: DbtSettings) -> list[str]:
    if not settings.projects:
        return []
    return [f"datakit dbt projects (from {settings.projects_from}): {', '.join(str(p) for p in settings.projects)}"]


def skip_reason(fixturenames: Sequence[str], target: TargetConfig) -> str | None:
    """Why a test that uses ``datakit_dbt`` does not run on ``target``, or None when it does."""
    if FIXTURE in fixturenames and ENGINES[target.engine].dbt_adapter is None:
        from framework import postgres_targets

        return f"dbt here runs on PostgreSQL targets ({', '.join(postgres_targets())}), not {target.name}"
    return None


def isolation(item: pytest.Item, fixturenames: Sequence[str], marked: str) -> tuple[str, str | None]:
    """The isolation of a test and its fresh database's stable label: a dbt test is fresh by default."""
    if FIXTURE not in fixturenames:
        return marked, None
    marker = item.get_closest_marker("datakit")
    explicit = marker is not None and ("isolation" in marker.kwargs or len(marker.args) >= 4)
    return (marked if explicit else "fresh"), FRESH_LABEL


def prepare_callables(config: pytest.Config, workdir: Path) -> list[Prepare]:
    """What the plugin does to each template: the conftest's filling, then the dbt builds.

    Asked for when this process first needs a database (after collection, when every
    conftest.py that implements ``pytest_datakit_fill_template`` is known).
    """
    settings = config.stash[SETTINGS]
    tests_are_items = bool(config.getoption("datakit_dbt_tests") or config.getini("datakit_dbt_tests"))

    def fill(target: TargetConfig, database: Database) -> None:
        config.hook.pytest_datakit_fill_template(target=target, database=database)

    def build(target: TargetConfig, database: Database) -> None:
        from framework import dbt_parse_dir, dbt_state_dir, run_dbt

        if ENGINES[target.engine].dbt_adapter is None:
            return  # dbt runs on PostgreSQL; tests reading its tables on other targets find them missing
        # with --datakit-dbt-tests, dbt's tests are items of their own: the template's build leaves them out
        args = (
            ("build", "--exclude", "resource_type:test", "resource_type:unit_test") if tests_are_items else ("build",)
        )
        for project in settings.projects:
            base = workdir / "dbt" / "template"
            state = dbt_state_dir(project, database.url, base)
            run_dbt(project, database, args, state_dir=state, parse_dir=dbt_parse_dir(project, database.url))

    fill.step = "fill"  # type: ignore[attr-defined]  # named in the run's report of its template
    build.step = "dbt build"  # type: ignore[attr-defined]
    filling = bool(config.hook.pytest_datakit_fill_template.get_hookimpls())
    return [*([fill] if filling else []), *([build] if settings.projects else [])]


def _fail(error: DatakitError) -> NoReturn:
    pytest.fail(str(error), pytrace=False)


@dataclass
class DatakitDbt:
    """dbt bound to one test's database. Each method returns a :class:`~framework.DbtResult`.

    A failing node fails the test with dbt's one-line message (``check=False`` returns the result
    instead). In fresh isolation the test's connection is committed first, so that dbt sees what
    the test wrote and no lock of the test's blocks dbt's DDL.
    """

    project: Path
    database: Database
    state_dir: Path
    connection: Connection | None = field(default=None, repr=False)

    def __call__(
        self,
        *args: str,
        select: str | Sequence[str] | None = None,
        vars: dict[str, Any] | None = None,
        check: bool = True,
    ) -> DbtResult:
        from framework import dbt_parse_dir, run_dbt

        if self.connection is not None and self.connection.in_transaction():
            self.connection.commit()
        try:
            return run_dbt(
                self.project,
                self.database,
                args or ("build",),
                select=select,
                vars=vars,
                check=check,
                state_dir=self.state_dir,
                parse_dir=dbt_parse_dir(self.project, self.database.url, vars),  # warm across runs
            )
        except DbtError as exc:
            error = exc
        _fail(error)

    def build(self, select: str | Sequence[str] | None = None, **kwargs: Any) -> DbtResult:
        return self("build", select=select, **kwargs)

    def run(self, select: str | Sequence[str] | None = None, **kwargs: Any) -> DbtResult:
        return self("run", select=select, **kwargs)

    def test(self, select: str | Sequence[str] | None = None, **kwargs: Any) -> DbtResult:
        return self("test", select=select, **kwargs)

    def seed(self, select: str | Sequence[str] | None = None, **kwargs: Any) -> DbtResult:
        return self("seed", select=select, **kwargs)

    def snapshot(self, select: str | Sequence[str] | None = None, **kwargs: Any) -> DbtResult:
        return self("snapshot", select=select, **kwargs)


def make_handle(project: Path, test: TestDatabase, workdir: Path, worker: str) -> DatakitDbt:
    from framework import dbt_state_dir

    base = workdir / "dbt" / worker
    connection = test.connection if test.isolation == "fresh" else None
    return DatakitDbt(project, test.database, dbt_state_dir(project, test.database.url, base), connection)


def no_project() -> NoReturn:
    pytest.fail(
        "datakit_dbt needs a dbt project: give --datakit-dbt PATH, ini datakit_dbt_projects, "
        "or override the datakit_dbt_project fixture",
        pytrace=False,
    )


SETTINGS = pytest.StashKey[DbtSettings]()


@pytest.fixture
def datakit_dbt_project(pytestconfig: pytest.Config) -> Path:
    """The dbt project of ``datakit_dbt``: the first ``--datakit-dbt`` project. Override it in a conftest.py."""
    projects = pytestconfig.stash[SETTINGS].projects
    if not projects:
        no_project()
    return projects[0]


@pytest.fixture
def datakit_dbt(
    _datakit_test: TestDatabase,
    _datakit_workspace: Workspace,
    datakit_target: ProvisionedTarget,
    datakit_dbt_project: Path,
) -> DatakitDbt:
    """dbt bound to the test's database: ``datakit_dbt.build(select="silver_core")`` returns a DbtResult."""
    reason = skip_reason([FIXTURE], datakit_target.config)
    if reason:
        pytest.skip(reason)
    return make_handle(
        Path(datakit_dbt_project), _datakit_test, _datakit_workspace.source.workdir, _datakit_workspace.worker
    )
