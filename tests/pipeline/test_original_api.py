"""The original framework's README examples, run as written (only the import lines differ).

The original framework ("Data Platform Framework", the layer-2 datakits framework) documented
these blocks in its README: "Core Functions", "Target Configuration" (predefined, custom,
environment-specific), "Layer 2 Component Testing" and "Layer 3 Pipeline Testing", and the
``deploy_datakit.py`` flags ``--list-targets`` and ``--validate``. Its paths
(``/path/to/bronze-pagila``, ``../bronze-pagila``) are this repository's datakit folders here,
and its target names are the parameter of each test.

A named disposable target in this plain API is one database per target per process, opened on
first use, shared by later calls and dropped at exit; the last tests check that with real child
processes, exiting normally and killed with SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from framework import (
    DatakitError,
    TargetError,
    close_process_databases,
    create_custom_target,
    create_engine_for_target,
    deploy_data_objects,
    discover_datakit_modules,
    discover_sqlmodel_classes,
    get_ci_target,
    get_development_target,
    get_integration_target,
    get_target_config,
    open_target,
    reap,
    validate_deployment,
    validate_pipeline_flow,
)
from framework.targets.process import process_database
from framework.targets.runs import lock_key, run_id_of

ROOT = Path(__file__).resolve().parents[2]
BRONZE_PAGILA = str(ROOT / "datakits" / "pagila_bronze")  # the README's /path/to/bronze-pagila
SOURCE_PAGILA = str(ROOT / "datakits" / "pagila_source")
TARGETS = ["sqlite_memory", "postgres_local", "postgres_embedded", "mysql_local", "postgres_container"]


def _docker_reason() -> str | None:
    try:
        from framework.engines.generic.containers import docker_reachable

        return docker_reachable()
    except ImportError:
        return "the 'containers' extra is not installed"


@pytest.fixture(scope="module", autouse=True)
def _drop_process_databases() -> Iterator[None]:
    """The plain API keeps its databases until exit; this module gives them back when it is done."""
    yield
    close_process_databases()


@pytest.fixture(params=TARGETS)
def target_name(request: pytest.FixtureRequest) -> str:
    """A target of the README that is on this machine (skipped with the reason otherwise)."""
    name = str(request.param)
    if name == "postgres_container":
        reason = _docker_reason()
        if reason:
            pytest.skip(f"postgres_container needs a Docker engine: {reason}")
    try:
        process_database(get_target_config(name))  # what the plain API opens on first use, kept for the tests
    except TargetError as exc:
        pytest.skip(f"{name} is not available here: {exc}")
    return name


def test_core_functions(target_name: str) -> None:
    # Discover datakit objects
    modules = discover_datakit_modules(BRONZE_PAGILA)
    table_classes = discover_sqlmodel_classes(modules)

    # Configure target
    target_config = get_target_config(target_name)

    # Deploy and validate
    result = deploy_data_objects(table_classes, target_config)
    validation = validate_deployment(table_classes, target_config)

    assert result.success and result["success"]
    assert len(result["created"]) + len(result["existing"]) == len(table_classes) == 15
    assert validation["success"], validation.summary()  # deploy, then validate: the same database
    assert dict(validation)["checked"] == validation.checked


def test_create_engine_for_target(target_name: str) -> None:
    modules = discover_datakit_modules(BRONZE_PAGILA)
    table_classes = discover_sqlmodel_classes(modules)
    target_config = get_target_config(target_name)
    deploy_data_objects(table_classes, target_config)

    engine = create_engine_for_target(target_config)
    try:
        film = next(c for c in table_classes if c.__tablename__ == "film").__table__  # type: ignore[attr-defined]
        with engine.connect() as conn:  # the process's database, the datakit's schema mapped
            assert conn.execute(select(func.count()).select_from(film)).scalar() == 0
    finally:
        engine.dispose()


def test_custom_target_configuration() -> None:
    # Custom targets
    config = create_custom_target("postgres", "test_db", host="localhost", port=5433, user="postgres", password="test")

    assert (config.engine, config.provisioner) == ("postgresql", "url")
    assert config.safe_url == "postgresql+psycopg2://postgres:***@localhost:5433/test_db"  # password hidden


def test_custom_target_reaches_that_very_database(servers) -> None:
    """A custom target is that very database: deploy and validate go straight into it."""
    _, run = servers.get("postgres_local")
    db = run.create_database("custom")
    try:
        config = create_custom_target(
            "postgres", db.name, host=db.url.host, port=db.url.port, user=db.url.username, password="test"
        )
        kit = discover_sqlmodel_classes(discover_datakit_modules(BRONZE_PAGILA))
        assert deploy_data_objects(kit, config)["success"]
        assert validate_deployment(kit, config)["success"]
        engine = create_engine_for_target(config)
        try:
            assert "film" in inspect(engine).get_table_names(schema="br__pagila__public")
        finally:
            engine.dispose()
    finally:
        run.drop(db)


def test_environment_specific_targets() -> None:
    # Environment-specific
    config = get_ci_target()  # SQLite in-memory
    assert config.name == "sqlite_memory"
    config = get_development_target()  # Local PostgreSQL
    assert config.name == "postgres_local"
    config = get_integration_target()  # a container where a Docker engine is up, else embedded
    assert config.name == ("postgres_container" if _docker_reason() is None else "postgres_embedded")


def test_ci_target_deploys() -> None:
    tables = discover_sqlmodel_classes(discover_datakit_modules(BRONZE_PAGILA))
    assert deploy_data_objects(tables, get_ci_target())["success"]
    assert validate_deployment(tables, get_ci_target())["success"]


# --- Layer 2 Component Testing, as the README wrote it ---------------------------------------------


def test_bronze_pagila_tables() -> None:
    target = get_target_config("sqlite_memory")

    modules = discover_datakit_modules(BRONZE_PAGILA)
    tables = discover_sqlmodel_classes(modules)

    result = deploy_data_objects(tables, target)
    assert result["success"]

    validation = validate_deployment(tables, target)
    assert validation["success"]


def test_the_plain_api_takes_a_target_name_too() -> None:
    """``deploy_data_objects(kit, "sqlite_memory")``: a name means the same as its TargetConfig."""
    tables = discover_sqlmodel_classes(discover_datakit_modules(BRONZE_PAGILA))
    assert deploy_data_objects(tables, "sqlite_memory")["success"]
    assert validate_deployment(tables, get_target_config("sqlite_memory"))["success"]


# --- Layer 3 Pipeline Testing ------------------------------------------------------------------------


def test_full_pipeline(target_name: str) -> None:
    target = get_target_config(target_name)
    bronze_modules = discover_datakit_modules(BRONZE_PAGILA)
    source_modules = discover_datakit_modules(SOURCE_PAGILA)  # the README's second layer

    # Deploy bronze layer
    bronze_tables = discover_sqlmodel_classes(bronze_modules)
    deploy_data_objects(bronze_tables, target)

    # Deploy the second layer
    source_tables = discover_sqlmodel_classes(source_modules)
    deploy_data_objects(source_tables, target)

    # Run pipeline validation
    report = validate_pipeline_flow(target)

    assert report["success"], report.summary()
    checked = set(report.checked)
    assert {t.__table__.fullname for t in bronze_tables} <= checked  # type: ignore[attr-defined]
    assert {t.__table__.fullname for t in source_tables} <= checked  # type: ignore[attr-defined]


def test_pipeline_flow_needs_a_deploy_first() -> None:
    with open_target("sqlite_memory") as db, pytest.raises(DatakitError, match="deploy_data_objects first"):
        validate_pipeline_flow(db)


# --- The original command line -----------------------------------------------------------------------


def _datakits(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "framework.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_cli_list_targets() -> None:
    for out in (_datakits("--list-targets"), _datakits("deploy", "--list-targets")):
        assert out.returncode == 0, out.stderr
        assert "sqlite_memory" in out.stdout and "postgres_container" in out.stdout


def test_cli_deploy_validate() -> None:
    out = _datakits("deploy", BRONZE_PAGILA, "--target", "sqlite_memory", "--validate")
    assert out.returncode == 0, out.stderr
    assert "15 created" in out.stdout and "no drift" in out.stdout


def test_cli_custom_target_validate_cleanup(servers) -> None:
    """The README's custom-target command (``--target-type postgres --database ... --validate --cleanup``)."""
    _, run = servers.get("postgres_local")
    db = run.create_database("cli_custom")
    try:
        where = ["--host", str(db.url.host), "--port", str(db.url.port), "--user", str(db.url.username)]
        out = _datakits(
            "deploy",
            BRONZE_PAGILA,
            "--target-type",
            "postgres",
            "--database",
            str(db.name),
            *where,
            "--validate",
            "--cleanup",
        )
        assert out.returncode == 0, out.stderr
        assert "15 created" in out.stdout and "no drift" in out.stdout and "dropped 15 tables" in out.stdout
    finally:
        run.drop(db)


# --- A process that used the plain API leaves no database ----------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from framework import create_engine_for_target, deploy_data_objects, get_target_config, load_datakit
    target = get_target_config(sys.argv[1])
    deploy_data_objects(load_datakit("pagila_bronze"), target)
    engine = create_engine_for_target(target)
    print(engine.url.database, flush=True)
    engine.dispose()
    if sys.argv[2] == "wait":
        sys.stdin.readline()  # killed here
    """
)
EXIT_TARGETS = ["sqlite_file", "postgres_local", "mysql_local"]


def _plain_api_child(target_name: str) -> subprocess.CompletedProcess[str]:
    """A process that deploys through the plain API on ``target_name`` and exits normally."""
    return subprocess.run(
        [sys.executable, "-c", CHILD, target_name, "exit"], capture_output=True, text=True, timeout=120
    )


def _name_of(url_database: str) -> str:
    """A database name from its URL's database: SQLite's is the file path."""
    return Path(url_database).stem if url_database.endswith(".db") else url_database


@pytest.mark.parametrize("target_name", EXIT_TARGETS)
def test_a_process_that_exits_drops_its_database(server, target_name: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, target_name, "exit"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    name = _name_of(out.stdout.strip())
    assert run_id_of(name), out.stdout
    assert server.list_databases(name) == []  # dropped by the child's exit hook


def _killed_plain_api_child(server, target_name: str) -> str:
    """The name of the database a plain-API process left on ``server`` when it was killed (SIGKILL)."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, target_name, "wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        name = _name_of(proc.stdout.readline().strip())
        run_id = run_id_of(name)
        assert run_id, f"child printed {name!r}"
        assert name in server.list_databases(name)  # alive: the database is there
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert name in server.list_databases(name)  # the exit hook never ran
    for _ in range(100):  # the server notices the dead connection and frees its lock
        if server.lock_is_free(lock_key(run_id)):
            break
        time.sleep(0.1)
    return name


@pytest.mark.parametrize("target_name", EXIT_TARGETS)
def test_a_killed_process_is_reaped_by_the_next_run(server, target_name: str) -> None:
    name = _killed_plain_api_child(server, target_name)
    out = _plain_api_child(target_name)
    assert out.returncode == 0, out.stderr
    assert server.list_databases(name) == []  # the next run reaped it
    assert server.list_databases(_name_of(out.stdout.strip())) == []


@pytest.mark.parametrize("target_name", ["postgres_local", "mysql_local"])
def test_reap_reaches_a_server_by_url(server, target_name: str) -> None:
    name = _killed_plain_api_child(server, target_name)
    url = server.admin_url.render_as_string(hide_password=False)  # the server, as the plugin names it
    assert name in reap(url)
    assert server.list_databases(name) == []
