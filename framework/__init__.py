"""pytest-datakits' deployment library: targets, provisioning, discovery, deploy and validate.

It knows nothing of pytest; the plugin (``pytest_datakits``), the ``datakits`` CLI and the Airflow
DAGs all build on it.
"""

from .bronze import BronzeDatakit, derive_bronze
from .connect import make_engine
from .dagtest import AirflowHome, DagRunResult
from .dbt import DbtNode, DbtResult, run_dbt
from .deploy import CleanupResult, DeployResult, cleanup_deployment, deploy_data_objects
from .discovery import Datakit, discover_datakit_modules, discover_sqlmodel_classes, load_datakit
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
from .flow import create_engine_for_target, validate_pipeline_flow
from .loader import BulkDataLoader, LoadResult, load_datakit_tables
from .pipeline import (
    DbtStep,
    DeployStep,
    Pipeline,
    PipelineSummary,
    TableLoad,
    ValidateStep,
    connection_uri,
    dbt_gold,
    dbt_silver,
    deploy_warehouse,
    get_pipeline,
    load_bronze_table,
    run_pipeline,
    summarize_warehouse,
    tables_to_load,
    url_from_connection,
    validate_warehouse,
)
from .process_targets import close_process_databases
from .provisioning import start_server
from .runs import Database, Run, open_target, reap, reap_server
from .sharing import RunGuest, RunHost, ServerSource
from .targets import (
    TargetConfig,
    create_custom_target,
    get_ci_target,
    get_development_target,
    get_integration_target,
    get_target_config,
    list_targets,
)
from .temporal import TemporalMixin, history_of, history_table, temporal_exclude, track_history
from .urls import safe_url
from .validate import Drift, ValidationResult, validate_deployment
from .workspace import ProvisionedTarget, TestDatabase, Workspace

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
    "load_bronze_table",
    "load_datakit",
    "load_datakit_tables",
    "make_engine",
    "open_target",
    "reap",
    "reap_server",
    "run_dbt",
    "run_pipeline",
    "safe_url",
    "start_server",
    "summarize_warehouse",
    "tables_to_load",
    "temporal_exclude",
    "track_history",
    "url_from_connection",
    "validate_deployment",
    "validate_pipeline_flow",
    "validate_warehouse",
]
