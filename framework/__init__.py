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

A kit author needs nothing below this module either: what a datakit's ``models.py`` writes (the column
mixins, ``TIMESTAMPTZ``, ``TemporalMixin``, ``tested_by_dbt`` and its ``FOREIGN_KEYS``/``TESTED`` words)
is exported here with the rest (docs/datakits.md, "What a kit imports"). The wings' module paths are
not promised: a moved module's old path is kept working with a DeprecationWarning (``moved.py``).
"""

import importlib
from typing import TYPE_CHECKING, Any

from .moved import install as _install_moved_paths

if TYPE_CHECKING:  # what each name is, for type checkers and import-linter; at run time see _LAZY
    from .airflow.dagtest import AirflowHome, DagRunResult
    from .airflow.factory import pipeline_dag
    from .dbt.inputs import project_inputs as project_inputs
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
    from .kits.mixins import TIMESTAMPTZ, BronzeLineageMixin, ReferenceMixin, TransactionalMixin
    from .kits.temporal import TemporalMixin, history_of, history_table, temporal_exclude, track_history
    from .kits.validate import FOREIGN_KEYS, TESTED, Drift, ValidationResult, tested_by_dbt, validate_deployment
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
    from .targets.provisioning.embedded import kept_data_dir as kept_data_dir  # the plugin's --datakit-reuse
    from .targets.resolve import open_target, reap
    from .targets.runs import Database, Run, reap_server
    from .targets.sharing import RunGuest, RunHost, ServerSource
    from .targets.sharing import sweep_workdirs as sweep_workdirs

#: each public name -> the module it lives in (``module:attribute`` where it is renamed), imported on first use
_LAZY: dict[str, str] = {
    "AirflowHome": ".airflow.dagtest",
    "DagRunResult": ".airflow.dagtest",
    "pipeline_dag": ".airflow.factory",
    "project_inputs": ".dbt.inputs",
    "DbtTest": ".dbt.listing",
    "failing_rows": ".dbt.listing",
    "list_dbt_tests": ".dbt.listing:list_tests",
    "DbtNode": ".dbt.runner",
    "DbtResult": ".dbt.runner",
    "run_dbt": ".dbt.runner",
    "dbt_parse_dir": ".dbt.runner",
    "dbt_state_dir": ".dbt.runner",
    "postgres_targets": ".dbt.runner",
    "ENGINES": ".engines",
    "engine_names": ".engines",
    "make_engine": ".engines.connect",
    "safe_text": ".engines.urls",
    "safe_url": ".engines.urls",
    "to_url": ".engines.urls",
    "AuthenticationFailed": ".errors",
    "DagRunFailed": ".errors",
    "DatakitDefinitionError": ".errors",
    "DatakitError": ".errors",
    "DatakitImportError": ".errors",
    "DatakitNotFound": ".errors",
    "DbtError": ".errors",
    "DeployError": ".errors",
    "LoadError": ".errors",
    "PipelineError": ".errors",
    "ProvisionerUnavailable": ".errors",
    "StackError": ".errors",
    "TargetError": ".errors",
    "TargetUnreachable": ".errors",
    "UnknownTarget": ".errors",
    "BronzeDatakit": ".kits.bronze",
    "derive_bronze": ".kits.bronze",
    "CleanupResult": ".kits.deploy",
    "DeployResult": ".kits.deploy",
    "cleanup_deployment": ".kits.deploy",
    "deploy_data_objects": ".kits.deploy",
    "Datakit": ".kits.discovery",
    "discover_datakit_modules": ".kits.discovery",
    "discover_sqlmodel_classes": ".kits.discovery",
    "load_datakit": ".kits.discovery",
    "import_root": ".kits.discovery",
    "TIMESTAMPTZ": ".kits.mixins",
    "BronzeLineageMixin": ".kits.mixins",
    "ReferenceMixin": ".kits.mixins",
    "TransactionalMixin": ".kits.mixins",
    "TemporalMixin": ".kits.temporal",
    "history_of": ".kits.temporal",
    "history_table": ".kits.temporal",
    "temporal_exclude": ".kits.temporal",
    "track_history": ".kits.temporal",
    "FOREIGN_KEYS": ".kits.validate",
    "TESTED": ".kits.validate",
    "Drift": ".kits.validate",
    "ValidationResult": ".kits.validate",
    "tested_by_dbt": ".kits.validate",
    "validate_deployment": ".kits.validate",
    "ISOLATIONS": ".kits.workspace",
    "Prepare": ".kits.workspace",
    "ProvisionedTarget": ".kits.workspace",
    "TestDatabase": ".kits.workspace",
    "Workspace": ".kits.workspace",
    "TemplateReuse": ".kits.workspace",
    "template_notes": ".kits.workspace",
    "load_folder": ".loading.files",
    "stage_folder": ".loading.files",
    "BulkDataLoader": ".loading.loader",
    "LoadResult": ".loading.loader",
    "load_datakit_tables": ".loading.loader",
    "declared_pipelines": ".pipeline.declared",
    "create_engine_for_target": ".pipeline.flow",
    "validate_pipeline_flow": ".pipeline.flow",
    "DbtStep": ".pipeline.steps",
    "DeployStep": ".pipeline.steps",
    "Pipeline": ".pipeline.steps",
    "PipelineSummary": ".pipeline.steps",
    "TableLoad": ".pipeline.steps",
    "ValidateStep": ".pipeline.steps",
    "connection_uri": ".pipeline.steps",
    "dbt_gold": ".pipeline.steps",
    "dbt_silver": ".pipeline.steps",
    "dbt_step": ".pipeline.steps",
    "deploy_warehouse": ".pipeline.steps",
    "get_pipeline": ".pipeline.steps",
    "load_bronze_files": ".pipeline.steps",
    "load_bronze_table": ".pipeline.steps",
    "run_pipeline": ".pipeline.steps",
    "summarize_warehouse": ".pipeline.steps",
    "tables_to_load": ".pipeline.steps",
    "url_from_connection": ".pipeline.steps",
    "validate_warehouse": ".pipeline.steps",
    "Where": ".pipeline.steps",
    "interrupt_on_sigterm": ".signals",
    "TargetConfig": ".targets.named",
    "create_custom_target": ".targets.named",
    "get_ci_target": ".targets.named",
    "get_development_target": ".targets.named",
    "get_integration_target": ".targets.named",
    "get_target_config": ".targets.named",
    "list_targets": ".targets.named",
    "server_target": ".targets.named",
    "target_names": ".targets.named",
    "close_process_databases": ".targets.process",
    "start_server": ".targets.provisioning",
    "kept_data_dir": ".targets.provisioning.embedded",
    "open_target": ".targets.resolve",
    "reap": ".targets.resolve",
    "Database": ".targets.runs",
    "Run": ".targets.runs",
    "reap_server": ".targets.runs",
    "RunGuest": ".targets.sharing",
    "RunHost": ".targets.sharing",
    "ServerSource": ".targets.sharing",
    "sweep_workdirs": ".targets.sharing",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use: ``import framework`` (and the plugin's start) stays light."""
    where = _LAZY.get(name)
    if where is None:
        try:  # a subpackage reached as an attribute: framework.engines
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(module, __name__), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "FOREIGN_KEYS",
    "TESTED",
    "TIMESTAMPTZ",
    "AirflowHome",
    "AuthenticationFailed",
    "BronzeDatakit",
    "BronzeLineageMixin",
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
    "ReferenceMixin",
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
    "TransactionalMixin",
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

_install_moved_paths()  # 0.1's module paths (framework.mixins ...) keep importing, with a DeprecationWarning
