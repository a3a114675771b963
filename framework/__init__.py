"""pytest-datakits' deployment library: its public API.

It knows nothing of pytest; the plugin (``pytest_datakits``), the ``datakits`` CLI and the Airflow
DAGs all build on it. The plugin and the DAGs import from here only (import-linter checks it).
The wings, by stage of the flow (arrows point down only; see ``pyproject.toml``'s import-linter
contracts)::

    cli/        the ``datakits`` command
    airflow/    dag.test() for tests, the DAG check, the DAG factory of declared pipelines
    pipeline/   the medallion steps, declared pipelines, their results, the original flow API
    dbt/        running dbt, the YAML generated from datakits     loading/   source -> bronze
    kits/       what a datakit is and does: discovery, deploy, validate, reflect, bronze, workspace
    targets/    where: named targets, the one resolver, runs, provisioning, sharing a run
    engines/    one package per engine (its facts, server, writer), the generic bases below them
    stack/      the compose stack
    errors, progress, results, signals    the ground floor
"""

from .airflow.dagtest import AirflowHome, DagRunResult
from .airflow.factory import pipeline_dag
from .dbt.listing import DbtTest as DbtTest
from .dbt.listing import failing_rows as failing_rows
from .dbt.listing import list_tests as list_dbt_tests  # noqa: F401 (plumbing for the plugin)
from .dbt.runner import DbtNode, DbtResult, run_dbt

# plumbing the plugin reads to check its options and wire its fixtures: importable, not in __all__
from .dbt.runner import dbt_parse_dir as dbt_parse_dir
from .dbt.runner import dbt_state_dir as dbt_state_dir
from .dbt.runner import postgres_targets as postgres_targets
from .engines import ENGINES as ENGINES
from .engines import engine_names as engine_names
from .engines.connect import make_engine
from .engines.urls import safe_text as safe_text
from .engines.urls import safe_url
from .engines.urls import to_url as to_url
from .errors import (
    AuthenticationFailed,
    DagRunFailed,
    DatakitDefinitionError,
    DatakitError,
    DatakitImportError,
    DatakitNotFound,
    DbtError,
    DeployError,
    LoadError,
    PipelineError,
    ProvisionerUnavailable,
    StackError,
    TargetError,
    TargetUnreachable,
    UnknownTarget,
)
from .kits.bronze import BronzeDatakit, derive_bronze
from .kits.deploy import CleanupResult, DeployResult, cleanup_deployment, deploy_data_objects
from .kits.discovery import Datakit, discover_datakit_modules, discover_sqlmodel_classes, load_datakit
from .kits.discovery import import_root as import_root
from .kits.temporal import TemporalMixin, history_of, history_table, temporal_exclude, track_history
from .kits.validate import Drift, ValidationResult, tested_by_dbt, validate_deployment
from .kits.workspace import ISOLATIONS as ISOLATIONS
from .kits.workspace import Prepare as Prepare
from .kits.workspace import ProvisionedTarget, TestDatabase, Workspace
from .kits.workspace import TemplateReuse as TemplateReuse
from .kits.workspace import template_notes as template_notes
from .loading.files import load_folder, stage_folder
from .loading.loader import BulkDataLoader, LoadResult, load_datakit_tables
from .pipeline.declared import declared_pipelines
from .pipeline.flow import create_engine_for_target, validate_pipeline_flow
from .pipeline.steps import (
    DbtStep,
    DeployStep,
    Pipeline,
    PipelineSummary,
    TableLoad,
    ValidateStep,
    connection_uri,
    dbt_gold,
    dbt_silver,
    dbt_step,
    deploy_warehouse,
    get_pipeline,
    load_bronze_files,
    load_bronze_table,
    run_pipeline,
    summarize_warehouse,
    tables_to_load,
    url_from_connection,
    validate_warehouse,
)
from .pipeline.steps import Where as Where
from .signals import interrupt_on_sigterm as interrupt_on_sigterm
from .targets.named import (
    TargetConfig,
    create_custom_target,
    get_ci_target,
    get_development_target,
    get_integration_target,
    get_target_config,
    list_targets,
)
from .targets.named import server_target as server_target
from .targets.named import target_names as target_names
from .targets.process import close_process_databases
from .targets.provisioning import start_server
from .targets.resolve import open_target, reap
from .targets.runs import Database, Run, reap_server
from .targets.sharing import RunGuest, RunHost, ServerSource
from .targets.sharing import sweep_workdirs as sweep_workdirs

__all__ = [
    "AirflowHome",
    "AuthenticationFailed",
    "BronzeDatakit",
    "BulkDataLoader",
    "CleanupResult",
    "DagRunFailed",
    "DagRunResult",
    "Database",
    "Datakit",
    "DatakitDefinitionError",
    "DatakitError",
    "DatakitImportError",
    "DatakitNotFound",
    "DbtError",
    "DbtNode",
    "DbtResult",
    "DbtStep",
    "DeployError",
    "DeployResult",
    "DeployStep",
    "Drift",
    "LoadError",
    "LoadResult",
    "Pipeline",
    "PipelineError",
    "PipelineSummary",
    "ProvisionedTarget",
    "ProvisionerUnavailable",
    "Run",
    "RunGuest",
    "RunHost",
    "ServerSource",
    "StackError",
    "TableLoad",
    "TargetConfig",
    "TargetError",
    "TargetUnreachable",
    "TemporalMixin",
    "TestDatabase",
    "UnknownTarget",
    "ValidateStep",
    "ValidationResult",
    "Workspace",
    "cleanup_deployment",
    "close_process_databases",
    "connection_uri",
    "create_custom_target",
    "create_engine_for_target",
    "dbt_gold",
    "dbt_silver",
    "dbt_step",
    "declared_pipelines",
    "deploy_data_objects",
    "deploy_warehouse",
    "derive_bronze",
    "discover_datakit_modules",
    "discover_sqlmodel_classes",
    "get_ci_target",
    "get_development_target",
    "get_integration_target",
    "get_pipeline",
    "get_target_config",
    "history_of",
    "history_table",
    "list_targets",
    "load_bronze_files",
    "load_bronze_table",
    "load_datakit",
    "load_datakit_tables",
    "load_folder",
    "make_engine",
    "open_target",
    "pipeline_dag",
    "reap",
    "reap_server",
    "run_dbt",
    "run_pipeline",
    "safe_url",
    "stage_folder",
    "start_server",
    "summarize_warehouse",
    "tables_to_load",
    "temporal_exclude",
    "tested_by_dbt",
    "track_history",
    "url_from_connection",
    "validate_deployment",
    "validate_pipeline_flow",
    "validate_warehouse",
]
