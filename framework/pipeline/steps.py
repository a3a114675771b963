"""The medallion pipeline's steps as plain functions: what the Airflow DAG, ``datakits pipeline`` and tests call.

    deploy_warehouse -> tables_to_load -> load_bronze_table (one per table) -> dbt_silver -> dbt_gold
                     -> validate_warehouse -> summarize_warehouse
    deploy_warehouse -> load_bronze_files (a folder of files: every table at once) -> dbt_silver -> ...

Each step takes URLs (or :class:`~framework.targets.runs.Database` objects, or any target that
:func:`framework.targets.resolve.resolve_target` reads) and returns a small result
(:mod:`framework.pipeline.results`) that serialises to JSON (``result.to_dict()``, an Airflow XCom;
``Type.from_dict(d)`` reads it back).
A result never carries a password: databases are shown with :func:`~framework.engines.urls.safe_url`.
A step that fails raises an error of :mod:`framework.errors` with a one-line message, and leaves
nothing half-done: a table loads as one batch, in one transaction (:class:`~framework.loading.loader.BulkDataLoader`);
a table that already holds the batch id is left as it is, so rerunning the pipeline with the same
batch id changes no row. What runs where is a :class:`~framework.pipeline.declared.Pipeline`: its datakits
per layer, its dbt project and steps; pipelines are declared in ``pyproject.toml`` or by an entry point
(:mod:`framework.pipeline.declared`; Pagila is one).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.engine import URL, Engine

from ..dbt.generate import source_changes, write_changes
from ..dbt.listing import project_manifest
from ..dbt.nodes import INDIRECT
from ..dbt.runner import DbtNode, DbtResult, failure_message, prepare_dbt, run_dbt
from ..engines import ENGINES
from ..engines.connect import check_connection, ensure_schemas, physical_schema
from ..engines.urls import with_driver
from ..errors import DatakitError, DbtError, PipelineError
from ..kits.bronze import BronzeDatakit
from ..kits.deploy import deploy_data_objects
from ..kits.discovery import Datakit
from ..kits.validate import validate_deployment
from ..loading.files import is_file_source, load_folder
from ..loading.loader import BulkDataLoader, pair_datakit_tables
from ..targets.resolve import DatabaseTarget, resolve_target
from ..targets.runs import Database
from .declared import DbtSelection, Pipeline, get_pipeline
from .lock import warehouse_lock
from .results import DbtStep, DeployStep, PipelineSummary, TableLoad, ValidateStep

__all__ = [
    "DbtStep",
    "DeployStep",
    "Pipeline",
    "PipelineSummary",
    "TableLoad",
    "ValidateStep",
    "connection_uri",
    "dbt_gold",
    "dbt_silver",
    "dbt_step",
    "deploy_warehouse",
    "get_pipeline",
    "load_bronze_files",
    "load_bronze_table",
    "point_dbt_sources",
    "run_pipeline",
    "summarize_warehouse",
    "tables_to_load",
    "url_from_connection",
    "validate_warehouse",
    "warm_dbt",
]

#: A database a step works on: a :class:`Database`, a SQLAlchemy URL (text or ``URL``), or a named
#: target or ``TargetConfig`` (this process's database there), as ``framework.targets.resolve`` reads them.
Where: TypeAlias = DatabaseTarget


# --- Where the data is -----------------------------------------------------------------------------


def _engine(database: Database, tables: Iterable[Table], role: str) -> Engine:
    engine = database.engine({t.schema for t in tables})
    try:
        check_connection(engine, role)
    except DatakitError:
        engine.dispose()
        raise
    return engine


def _table(kit: Datakit, name: str) -> Table:
    for table in kit.tables:
        if table.name == name:
            return table
    raise PipelineError(f"no table {name!r} in datakit {kit.name}; it has {', '.join(t.name for t in kit.tables)}")


def url_from_connection(connection: Any) -> str:
    """A SQLAlchemy URL (password included: never print it) from an Airflow ``Connection``.

    Duck-typed (``conn_type``, ``host``, ``port``, ``login``, ``password``, ``schema``, ``extra_dejson``),
    so this library needs no Airflow: ``AIRFLOW_CONN_PAGILA_SOURCE=postgresql://user@host:5432/pagila``
    gives ``postgresql+psycopg2://user@host:5432/pagila``; extras become URL query options (``host=/socket``).
    """
    kind = ENGINES.get(connection.conn_type or "")  # Airflow's postgres is postgresql
    if kind is None:
        raise PipelineError(
            f"connection {getattr(connection, 'conn_id', '?')!r} is of type {connection.conn_type!r}; "
            "give a postgresql:// (or mysql://) connection"
        )
    extra = {k: str(v) for k, v in (connection.extra_dejson or {}).items()}
    url = URL.create(
        kind.name,
        username=connection.login or None,
        password=connection.password or None,
        host=connection.host or None,
        port=connection.port or None,
        database=connection.schema or None,
        query=extra,
    )
    return with_driver(url).render_as_string(hide_password=False)


def connection_uri(where: Where) -> str:
    """An Airflow connection URI (``AIRFLOW_CONN_<ID>``) for a database: the inverse of :func:`url_from_connection`."""
    url = resolve_target(where).url
    scheme = url.get_backend_name()
    return url.set(drivername=scheme).render_as_string(hide_password=False)


# --- The steps -------------------------------------------------------------------------------------


def deploy_warehouse(warehouse: Where, pipeline: str | Pipeline = "pagila") -> DeployStep:
    """Deploy the bronze datakit and the contract layers' schemas (silver, gold) into the warehouse; idempotent."""
    spec = get_pipeline(pipeline)
    started = time.perf_counter()
    database = resolve_target(warehouse)
    kit = spec.kit("bronze")
    # raises DeployError, one line, when the DDL is refused; bronze's current-state views as the pipeline's batches say
    result = deploy_data_objects(kit, database, batches=spec.batches)
    contract_tables = [t for name in spec.layer_names() for t in spec.kit(name).tables]
    if contract_tables:
        engine = _engine(database, contract_tables, "warehouse")
        try:
            ensure_schemas(engine, {t.schema for t in contract_tables})
        finally:
            engine.dispose()
    written = point_dbt_sources(spec) if spec.dbt_sources else []
    seconds = time.perf_counter() - started
    return DeployStep(seconds, database.safe_url, list(result.created), list(result.existing), written)


def point_dbt_sources(pipeline: str | Pipeline = "pagila") -> list[str]:
    """Point the dbt project's sources of bronze where the pipeline's ``dbt_sources`` says; the files written.

    ``"current"``: each bronze table's entry reads its current-state view (``identifier: <table>__current``);
    ``"history"``: the table itself. What ``datakits dbt sources BRONZE --project P [--current]`` writes: the
    project's own source entry of that name is edited in place, else ``models/_<kit>__sources.yml``."""
    spec = get_pipeline(pipeline)
    kit = spec.kit("bronze")
    if isinstance(kit, BronzeDatakit):  # named as the scaffold names it: <kit>_bronze, not "(derived from ...)"
        kit = dataclasses.replace(kit, name=kit.name.split(" (derived from ", 1)[0])
    changes = source_changes(kit, project=spec.project_path(), current=spec.dbt_sources == "current")
    return [str(path) for path in write_changes(changes)]


def tables_to_load(source: Where, pipeline: str | Pipeline = "pagila") -> list[str]:
    """The bronze tables to load, each found in the source (which is read here, so a bad source fails here)."""
    spec = get_pipeline(pipeline)
    pairs = pair_datakit_tables(spec.kit("source"), spec.kit("bronze"))
    database = resolve_target(source)
    engine = _engine(database, [s for s, _ in pairs], "source")
    try:
        inspector = inspect(engine)
        missing = [
            s.fullname for s, _ in pairs if not inspector.has_table(s.name, schema=physical_schema(engine, s.schema))
        ]
    finally:
        engine.dispose()
    if missing:
        kit = Path(spec.kit("source").name).name
        raise PipelineError(
            f"source {database.safe_url} lacks {len(missing)} of the {kit} tables ({', '.join(missing)}); "
            "point it at a loaded source database",
            step="tables",
        )
    return [target.name for _, target in pairs]


def load_bronze_table(
    source: Where, warehouse: Where, table: str, batch_id: str, pipeline: str | Pipeline = "pagila"
) -> TableLoad:
    """Load one source table into bronze as batch ``batch_id``: all or nothing; once per batch id."""
    spec = get_pipeline(pipeline)
    started = time.perf_counter()
    target = _table(spec.kit("bronze"), table)
    [(source_table, _)] = pair_datakit_tables(spec.kit("source"), spec.kit("bronze"), [table])
    database = resolve_target(warehouse)
    with BulkDataLoader(resolve_target(source), database) as loader:
        engine = _engine(database, [target], "warehouse")
        try:
            with engine.connect() as conn:
                held = conn.execute(
                    select(func.count()).select_from(target).where(target.c.dk_batch_id == batch_id)
                ).scalar_one()
        finally:
            engine.dispose()
        if held:  # the batch committed whole before: loading it again would only move dk_loaded_at
            return TableLoad(time.perf_counter() - started, table, batch_id, 0, 0, skipped=True)
        result = loader.load(source_table, target, batch_id=batch_id)
    return TableLoad(time.perf_counter() - started, table, batch_id, result.rows_read, result.rows_written)


def dbt_step(
    warehouse: Where,
    step: str,
    pipeline: str | Pipeline = "pagila",
    progress: Callable[[DbtNode], None] | None = None,
    *,
    node: str | None = None,
) -> DbtStep:
    """Build the pipeline's dbt step ``step`` (its selection: models, snapshots, their tests); raises ``DbtError``.

    ``progress`` gets each node as it finishes (a long step shows its progress per node). ``node`` (a
    :class:`~framework.dbt.nodes.NodeTask`'s ``select``) builds that one node of the step and those of its
    tests whose other parents are upstream of it (``--indirect-selection buildable``), as a DAG's node task does."""
    spec = get_pipeline(pipeline)
    selection = spec.dbt_step(step)
    started = time.perf_counter()
    project = spec.project_path()
    result = run_dbt(
        project,
        resolve_target(warehouse),
        ("build", *[f for f in selection.flags() if not node], *(INDIRECT if node else ())),
        select=node or selection.select,
        vars=selection.vars,
        progress=progress,
        check=False,
    )
    if result.failed:
        failures = {n.unique_id: n.message or n.status for n in result.failed}
        raise DbtError(_later_step_hint(spec, selection, result) or failure_message(result), failures, result)
    return DbtStep(time.perf_counter() - started, selection.name, node or selection.select or "", result.counts())


def _later_step_hint(spec: Pipeline, step: DbtSelection, result: DbtResult) -> str | None:
    """One line per failing test that reads a model a later step builds, saying so; None when there is none."""
    later = spec.dbt_steps[[s.name for s in spec.dbt_steps].index(step.name) + 1 :]
    if not later or not any(n.resource_type == "test" for n in result.failed):
        return None
    manifest = _manifest(result, spec.project_path())
    if manifest is None:
        return None
    built = {n.unique_id for n in result.nodes if n.builds}
    lines = []
    for node in result.failed:
        if node.resource_type != "test":
            continue
        reads = manifest.get("nodes", {}).get(node.unique_id, {}).get("depends_on", {}).get("nodes", [])
        for model in (m for m in reads if m.startswith("model.") and m not in built):
            owner = next((s for s in later if _selects(s, manifest["nodes"].get(model, {}))), None)
            if owner is not None:
                named = _selects(step, manifest["nodes"].get(node.unique_id, {}))  # by its folder, say
                fix = f'exclude = "{node.name}"' if named else 'indirect_selection = "cautious"'
                lines.append(
                    f'test {node.name} reads model {model.rsplit(".", 1)[-1]}, built by the later step "{owner.name}": '
                    f'give step "{step.name}" {fix} or move the test'
                )
                break
    return "; ".join(lines) or None


def _manifest(result: DbtResult, project: Path) -> dict[str, Any] | None:
    """The run's manifest when dbt wrote one beside its results, else the project's as a listing parses it."""
    path = result.target_path / "manifest.json" if result.target_path is not None else None
    try:
        if path is not None and path.is_file():
            found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return found
    except (OSError, ValueError):
        pass
    return project_manifest(project)


def _selects(step: DbtSelection, node: Mapping[str, Any]) -> bool:
    """Whether ``step``'s selection names the node: by name, a folder of its path, ``path:``, ``tag:``
    (a plain reading of dbt's syntax: enough to name the step in a message, not to run one)."""
    if step.select is None:
        return True
    fqn = node.get("fqn", [])
    for word in step.select.replace(",", " ").split():
        word = word.strip("+@").removeprefix("fqn:")
        if word.startswith("tag:"):
            if word[4:] in node.get("tags", []):
                return True
        elif word.startswith("path:"):
            if str(node.get("original_file_path", "")).startswith(word[5:].rstrip("/")):
                return True
        elif word == node.get("name") or word in fqn[1:]:
            return True
    return False


def dbt_silver(warehouse: Where, pipeline: str | Pipeline = "pagila") -> DbtStep:
    """Build silver from bronze with dbt (the step ``silver``: models, the snapshot, their tests)."""
    return dbt_step(warehouse, "silver", pipeline)


def dbt_gold(warehouse: Where, pipeline: str | Pipeline = "pagila") -> DbtStep:
    """Build gold (dimensions and facts) from silver with dbt (the step ``gold``)."""
    return dbt_step(warehouse, "gold", pipeline)


def validate_warehouse(warehouse: Where, pipeline: str | Pipeline = "pagila") -> ValidateStep:
    """Check bronze and the contract layers (silver, gold) against their datakits; a :class:`PipelineError` on drift."""
    spec = get_pipeline(pipeline)
    started = time.perf_counter()
    database = resolve_target(warehouse)
    checked: dict[str, int] = {}
    problems: list[str] = []
    for kit in spec.layer_kits().values():
        report = validate_deployment(kit, database, report_extra_tables=False)
        checked[kit.name] = len(report.checked)
        problems += [f"{kit.name}: {drift}" for drift in report.drift]
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise PipelineError(f"{database.safe_url} drifted from its datakits ({len(problems)}): {shown}", "validate")
    return ValidateStep(time.perf_counter() - started, checked)


def summarize_warehouse(
    warehouse: Where, steps: Mapping[str, float] | None = None, pipeline: str | Pipeline = "pagila"
) -> PipelineSummary:
    """Rows per table of each layer in the warehouse (tables not built yet are left out), with ``steps``' seconds."""
    spec = get_pipeline(pipeline)
    started = time.perf_counter()
    database = resolve_target(warehouse)
    kits = spec.layer_kits()
    engine = _engine(database, [t for kit in kits.values() for t in kit.tables], "warehouse")
    rows: dict[str, dict[str, int]] = {}
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            for layer, kit in kits.items():
                counts = rows.setdefault(layer, {})
                for table in kit.tables:
                    if inspector.has_table(table.name, schema=physical_schema(engine, table.schema)):
                        counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()
    return PipelineSummary(time.perf_counter() - started, rows, dict(steps or {}))


# --- All the steps in order (the CLI; the DAG runs them as tasks) ---------------------------------


def run_pipeline(
    source: Where,
    warehouse: Where,
    batch_id: str,
    *,
    pipeline: str | Pipeline = "pagila",
    workers: int = 4,
    report: Callable[[str], None] | None = None,
) -> PipelineSummary:
    """Every step, in order, the loads ``workers`` at a time; ``report`` gets a line per step and per table.

    A load that fails lets the others finish (each is its own batch), then raises its error.
    One run at a time per warehouse: a second waits for the first (:mod:`framework.pipeline.lock`).
    """
    with warehouse_lock(resolve_target(warehouse), report) as lock:
        return _run_steps(source, warehouse, batch_id, pipeline, workers, report, lock.check if lock else None)


def warm_dbt(warehouse: Where, pipeline: str | Pipeline = "pagila") -> None:
    """Import dbt and parse the pipeline's project now, for its dbt steps in this process.

    The pipeline calls it in the thread that waits for the loads: dbt's cold start (its import and a parse,
    2 s and more) then overlaps them. Not in a thread of its own: importing dbt changes warnings filters,
    which are the whole process's. Nothing when the pipeline has no dbt steps. Never raises: what is wrong
    (no dbt project, a model that does not parse) is the dbt step's to say."""
    spec = get_pipeline(pipeline)
    if spec.dbt_steps:
        with contextlib.suppress(DatakitError):
            prepare_dbt(spec.project_path(), resolve_target(warehouse))


def _load_tables(
    source: Where,
    warehouse: Where,
    batch_id: str,
    spec: Pipeline,
    workers: int,
    tables: list[str],
    errors: list[DatakitError],
    say: Callable[[str], None],
    check: Callable[[], None],
) -> None:
    stopped = False
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="datakits-pipeline") as pool:
        futures = [pool.submit(load_bronze_table, source, warehouse, table, batch_id, spec) for table in tables]
        warm_dbt(warehouse, spec)  # while the loads wait on the databases
        for table, future in zip(tables, futures, strict=True):
            try:
                if not stopped:
                    check()
            except DatakitError as exc:  # lost the lock: the loads running finish, no other starts
                stopped = True
                for rest in futures:
                    rest.cancel()
                errors.insert(0, exc)
            if future.cancelled():
                continue
            try:
                done = future.result()
            except DatakitError as exc:
                errors.append(exc)
                say(f"load        {table:<16} FAILED: {exc}")
                continue
            what = "batch already loaded" if done.skipped else f"{done.rows_written:>9,} rows"
            say(f"load        {table:<16} {what}  {done.seconds:6.2f}s")


def load_bronze_files(
    folder: str | Path, warehouse: Where, batch_id: str, pipeline: str | Pipeline = "pagila"
) -> list[TableLoad]:
    """Load a folder of ``<table>.csv`` (or ``.parquet``) files into bronze as batch ``batch_id``, every table
    in one transaction (:func:`~framework.loading.files.load_folder`); a table that holds the batch already
    is left as it is. Raises :class:`~framework.errors.LoadError` (one line: file, row, column), nothing loaded."""
    spec = get_pipeline(pipeline)
    started = time.perf_counter()
    bronze = spec.kit("bronze")
    database = resolve_target(warehouse)
    engine = _engine(database, list(bronze.tables), "warehouse")
    try:
        with engine.connect() as conn:
            held = {
                t.name
                for t in bronze.tables
                if conn.execute(select(func.count()).select_from(t).where(t.c.dk_batch_id == batch_id)).scalar_one()
            }
    finally:
        engine.dispose()
    todo = [t.name for t in bronze.tables if t.name not in held]
    results = load_folder(folder, spec.kit("source"), bronze, database, todo, batch_id=batch_id) if todo else []
    loads = [TableLoad(r.seconds, r.table.rsplit(".", 1)[-1], batch_id, r.rows_read, r.rows_written) for r in results]
    skipped = [TableLoad(time.perf_counter() - started, name, batch_id, skipped=True) for name in sorted(held)]
    return loads + skipped


def _run_steps(
    source: Where,
    warehouse: Where,
    batch_id: str,
    pipeline: str | Pipeline,
    workers: int,
    report: Callable[[str], None] | None,
    check: Callable[[], None] | None = None,
) -> PipelineSummary:
    """The steps; ``check`` between two (it raises when the run lost the warehouse's lock)."""
    spec = get_pipeline(pipeline)
    say = report or (lambda line: None)
    check = check or (lambda: None)
    steps: dict[str, float] = {}
    check()
    deployed = deploy_warehouse(warehouse, spec)
    steps["deploy"] = deployed.seconds
    say(f"deploy      {len(deployed.created)} created, {len(deployed.existing)} there  {deployed.seconds:6.2f}s")
    started = time.perf_counter()
    errors: list[DatakitError] = []
    if not isinstance(source, Database) and is_file_source(str(source)):
        steps["tables"] = 0.0
        say(f"tables      {len(spec.kit('bronze').tables)} to load from the files in {source}")
        warm_dbt(warehouse, spec)  # files load in this thread: dbt's cold start first
        check()
        loads = load_bronze_files(Path(str(source)), warehouse, batch_id, spec)
        for done in loads:
            what = "batch already loaded" if done.skipped else f"{done.rows_written:>9,} rows"
            say(f"load        {done.table:<16} {what}  {done.seconds:6.2f}s")
        rows, files = sum(d.rows_written for d in loads), sum(not d.skipped for d in loads)
        say(f"files       {rows:,} rows {files} files from {source}  {time.perf_counter() - started:6.2f}s")
    else:
        tables = tables_to_load(source, spec)
        steps["tables"] = time.perf_counter() - started
        say(f"tables      {len(tables)} to load from {resolve_target(source).safe_url}")
        started = time.perf_counter()
        _load_tables(source, warehouse, batch_id, spec, workers, tables, errors, say, check)
    steps["load"] = time.perf_counter() - started
    if errors:
        raise errors[0]
    lines = threading.Lock()  # dbt reports nodes from its own threads: one line at a time

    def node_line(node: DbtNode) -> None:
        with lines:
            say(f"  {node.resource_type:<9} {node.name:<40} {node.status:<7} {node.seconds:6.2f}s")

    for selection in spec.dbt_steps:
        check()
        name = f"dbt_{selection.name}"
        built = dbt_step(warehouse, selection.name, spec, progress=node_line if report else None)
        steps[name] = built.seconds
        say(f"{name:<11} {built.describe()}  {built.seconds:6.2f}s")
    check()
    validated = validate_warehouse(warehouse, spec)
    steps["validate"] = validated.seconds
    say(f"validate    {sum(validated.checked.values())} tables, no drift  {validated.seconds:6.2f}s")
    return summarize_warehouse(warehouse, steps, spec)
