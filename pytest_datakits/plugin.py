"""The pytest plugin, registered as ``datakits`` through the pytest11 entry point. Hooks only.

The process that runs pytest (with pytest-xdist: the controller) hosts the run
(``framework.targets.sharing.RunHost``): one run id, the servers, their locks, the cleanup. xdist's
workers join it through ``workerinput``. Each process makes its own databases
(``framework.kits.workspace.Workspace``) when a test first asks for a datakit fixture.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any

import pytest

from framework import RunGuest, RunHost, interrupt_on_sigterm  # a run's servers: no database is reached here

from . import dbt, dbt_tests, hooks, kitpaths, markers, options, report, reuse, rootdir
from .dbt import datakit_dbt, datakit_dbt_project  # noqa: F401 (fixtures are found by name on the plugin module)
from .fixtures import (  # noqa: F401 (fixtures are found by name on the plugin module)
    _datakit_commit_isolation,
    _datakit_current_session,
    _datakit_target_name,
    _datakit_test,
    _datakit_workspace,
    datakit_connection,
    datakit_deploy,
    datakit_engine,
    datakit_factories,
    datakit_session,
    datakit_target,
)
from .state import STATE, TARGET_FIXTURE, PluginState

_HANDOVER = "datakits"
_RESTORE_SIGTERM = pytest.StashKey[Callable[[], None]]()
REUSE = pytest.StashKey[reuse.ReuseSettings]()
_WINDING_DOWN = pytest.StashKey[dict[int, Any]]()
_CONFIG: dict[str, pytest.Config] = {}  # pytest_keyboard_interrupt is given no config
pytest_plugins = ["pytest_datakits.airflow"]  # Airflow homes and the datakit_airflow fixture


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)
    dbt.add_options(parser)
    dbt_tests.add_options(parser)
    reuse.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    rootdir.settle(early_config, args)  # --datakit PATH must not move the rootdir
    kitpaths.put_kits_on_path(early_config)  # before the conftest.py files import from them


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("datakit_list_targets"):
        for line in options.describe_targets():
            print(line)
        return 0
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", markers.HELP)
    if config.getoption("help", False):
        return  # --help works whatever the datakit settings are
    settings = options.resolve(config)
    config.stash[REUSE] = reusing = reuse.resolve(config)
    if reusing.enabled:  # the embedded server's data stays, in the toolkit's own folder
        settings = replace(settings, targets=reuse.keep_servers(settings.targets, config))
    state = PluginState(settings)
    config.stash[_RESTORE_SIGTERM] = interrupt_on_sigterm()  # SIGTERM cleans up as Ctrl-C does
    _CONFIG["config"] = config
    config.stash[dbt.SETTINGS] = dbt.resolve(config)
    config.stash[dbt_tests.ENABLED] = dbt_tests.enabled(config)
    state.prepare = lambda workdir: dbt.prepare_callables(config, workdir)
    state.reuse = lambda: reuse.template_reuse(config, reusing, config.stash[dbt.SETTINGS].projects)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _HANDOVER in workerinput:
        state.handover = RunGuest(workerinput[_HANDOVER])
        state.worker = str(workerinput.get("workerid", "main"))
    else:
        state.host = RunHost(keep=state.settings.keep)
    config.stash[STATE] = state
    config.pluginmanager.register(report.Reporter(state), "datakits-reporter")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash[STATE]
    if state.host is not None and session.config.pluginmanager.has_plugin("dsession"):
        state.host.start(state.settings.targets)  # before the workers start: they share these servers


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[_HANDOVER] = node.config.stash[STATE].handover_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    output = getattr(node, "workeroutput", {}).get(_HANDOVER, {})
    node.config.stash[STATE].remote_errors.update(output.get("errors", {}))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if TARGET_FIXTURE not in metafunc.fixturenames:
        return
    targets = metafunc.config.stash[STATE].settings.targets
    try:
        mark = markers.read(metafunc.definition)
        markers.check_targets(mark, targets)
    except (TypeError, ValueError) as exc:
        problem = str(exc)
    else:
        problem = None
    if problem:  # outside the except block: the message alone, no chained traceback
        pytest.fail(f"{metafunc.definition.nodeid}: datakit marker: {problem}", pytrace=False)
    params = []
    for target in targets:
        reason = mark.skip_reason(target) or dbt.skip_reason(metafunc.fixturenames, target)
        params.append(
            pytest.param(target.name, id=target.name, marks=[pytest.mark.skip(reason=reason)] if reason else [])
        )
    metafunc.parametrize(TARGET_FIXTURE, params, indirect=True, scope="session")


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash[dbt_tests.ENABLED]:  # dbt's own tests as items (--datakit-dbt-tests)
        dbt_tests.collect(session, config.stash[dbt.SETTINGS].projects, items)
    _learn_schemas(config, items)


def _learn_schemas(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Learn the schemas of the datakits that markers add (SQLite and MySQL map them per engine)."""
    state = config.stash[STATE]
    for item in items:
        marker = item.get_closest_marker("datakit")
        if marker is None or TARGET_FIXTURE not in getattr(item, "fixturenames", ()):
            continue
        try:
            for name in markers.read(item).datakits:
                state.expect_schemas(state.datakit(name).schemas)
        except Exception:  # reported by the test that needs it
            continue


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    result = yield
    callspec = getattr(item, "callspec", None)
    if callspec is not None and TARGET_FIXTURE in callspec.params:
        result.datakit_target = callspec.params[TARGET_FIXTURE]  # travels with the report from xdist workers
    return result


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(STATE, None)
    if state is None:
        return []
    return [*report.header(state), *dbt.header(config.stash[dbt.SETTINGS]), *reuse.header(config.stash[REUSE])]


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """The run is ending on Ctrl-C (or SIGTERM): a second one must not cut its end short.

    pytest formats the first interrupt's traceback and then drops the run's databases; a second
    Ctrl-C in between (under xdist, every process gets it) printed tracebacks and left the
    databases to the next run's reaper. So from here to the end of the run both signals are ignored."""
    if threading.current_thread() is not threading.main_thread():
        return
    config = _CONFIG.get("config")
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    if config is not None and _WINDING_DOWN not in config.stash:
        config.stash[_WINDING_DOWN] = saved


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's databases once every fixture is torn down (also after Ctrl-C)."""
    state = session.config.stash[STATE]
    state.close_workspace()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_HANDOVER] = {"errors": state.errors()}


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    try:
        if state is not None:
            state.close_workspace()  # done already, unless the session never finished
            if state.host is not None:
                state.host.close()
    finally:
        for sig, handler in config.stash.get(_WINDING_DOWN, {}).items():  # the run is over: as they were
            signal.signal(sig, handler)
        config.stash.get(_RESTORE_SIGTERM, lambda: None)()
        _CONFIG.pop("config", None)
