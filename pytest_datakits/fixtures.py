"""The fixtures: a few lines each around ``framework.kits.workspace``.

Session scope (one per target, per process): ``datakit_target``, ``datakit_engine``.
Per test: ``datakit_connection``, ``datakit_session``, ``datakit_deploy``, ``datakit_factories``.
A user may override ``datakit_session`` and ``datakit_factories`` in a conftest.py (build on
``datakit_connection``); the ``_datakit_*`` fixtures are the plugin's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from framework import DatakitError  # framework.errors alone: the library is imported name by name

from . import dbt, markers
from .factories import DatakitFactories, active, bind_factories, use_session
from .state import STATE

if TYPE_CHECKING:  # imported when a test first uses them: a start without datakit tests stays light
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

    from framework import Datakit, DeployResult, ProvisionedTarget, TestDatabase, Workspace

_MARK = pytest.StashKey[markers.DatakitMark]()


def _error(exc: DatakitError) -> NoReturn:
    """The test errors with the library's one-line message (call it outside the except block)."""
    from framework import safe_text

    pytest.fail(safe_text(str(exc)), pytrace=False)


@pytest.fixture(scope="session")
def _datakit_target_name(request: pytest.FixtureRequest) -> str:
    """The target this test runs on (pytest_generate_tests parametrises it).

    A test that reaches the datakit fixtures only through ``request.getfixturevalue`` is not
    parametrised (pytest cannot see the fixtures when it collects it): it runs on the first target.
    """
    param = getattr(request, "param", None)
    return str(param) if param is not None else request.config.stash[STATE].settings.targets[0].name


@pytest.fixture(scope="session")
def _datakit_workspace(pytestconfig: pytest.Config) -> Workspace:
    return pytestconfig.stash[STATE].workspace()


@pytest.fixture(scope="session")
def datakit_target(_datakit_workspace: Workspace, _datakit_target_name: str) -> ProvisionedTarget:
    """The provisioned target: ``name``, ``engine``, ``url`` (password hidden), ``database``."""
    try:
        return _datakit_workspace.target(_datakit_target_name)
    except DatakitError as exc:
        error = exc
    _error(error)


@pytest.fixture(scope="session")
def datakit_engine(_datakit_workspace: Workspace, datakit_target: ProvisionedTarget) -> Engine:
    """The engine of this process's database on the target, the datakits deployed."""
    return _datakit_workspace.engine(datakit_target.name)


@pytest.fixture
def _datakit_test(
    request: pytest.FixtureRequest, _datakit_workspace: Workspace, datakit_target: ProvisionedTarget
) -> Iterator[TestDatabase]:
    item = request.node
    mark = item.stash.get(_MARK, None)
    if mark is None:
        mark = item.stash[_MARK] = markers.read(item)
    state = request.config.stash[STATE]
    with ExitStack() as stack:
        try:
            kits = [state.datakit(name) for name in mark.datakits]
            isolation, label = dbt.isolation(item, request.fixturenames, mark.isolation)  # dbt tests are fresh
            test = stack.enter_context(_datakit_workspace.test_database(datakit_target.name, isolation, kits, label))
        except DatakitError as exc:
            error = exc
        else:
            yield test
            return
    _error(error)


@pytest.fixture(autouse=True)
def _datakit_commit_isolation(request: pytest.FixtureRequest) -> None:
    """A ``commit`` test that takes only ``datakit_engine`` still gets its tables emptied after it."""
    names = request.fixturenames
    if "datakit_engine" not in names or "_datakit_test" in names:
        return
    try:
        isolation = markers.read(request.node).isolation
    except (TypeError, ValueError):  # a wrong marker fails the test at collection
        return
    if isolation == "commit":
        request.getfixturevalue("_datakit_test")  # its teardown empties the tables


@pytest.fixture
def datakit_connection(_datakit_test: TestDatabase) -> Connection:
    """The test's connection, inside a transaction rolled back after the test (by default)."""
    return _datakit_test.connection


@pytest.fixture
def datakit_session(datakit_connection: Connection) -> Iterator[Session]:
    """A SQLModel session on the test's connection; its ``commit()`` is a savepoint."""
    from sqlmodel import Session

    with Session(bind=datakit_connection, join_transaction_mode="create_savepoint") as session, active(session):
        yield session


@pytest.fixture(autouse=True)
def _datakit_current_session(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever ``datakit_session`` a test gets (the plugin's, or a conftest.py override), it is the
    one ``current_session`` returns."""
    if "datakit_session" not in request.fixturenames:
        yield
        return
    with use_session(request.getfixturevalue("datakit_session")):
        yield


@pytest.fixture
def datakit_deploy(request: pytest.FixtureRequest, _datakit_test: TestDatabase) -> Callable[..., list[DeployResult]]:
    """``datakit_deploy("pagila_source")``: deploy more datakits into the test's database."""
    from framework import Datakit

    state = request.config.stash[STATE]

    def deploy(*datakits: str | Path | Datakit) -> list[DeployResult]:
        kits = [kit if isinstance(kit, Datakit) else state.datakit(kit) for kit in datakits]
        return _datakit_test.deploy(*kits)

    return deploy


@pytest.fixture
def datakit_factories(datakit_session: Session) -> Iterator[DatakitFactories]:
    """factory_boy factories without a session of their own create into ``datakit_session``."""
    with bind_factories(datakit_session) as factories:
        yield factories
