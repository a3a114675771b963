"""pytest-datakits' deployment library: targets, provisioning, discovery, deploy and validate.

It knows nothing of pytest; the plugin (``pytest_datakits``), the ``datakits`` CLI and the Airflow
DAGs all build on it.
"""

from .bronze import BronzeDatakit, derive_bronze
from .connect import make_engine
from .deploy import CleanupResult, DeployResult, cleanup_deployment, deploy_data_objects
from .discovery import Datakit, discover_datakit_modules, discover_sqlmodel_classes, load_datakit
from .errors import (
    AuthenticationFailed,
    DatakitDefinitionError,
    DatakitError,
    DatakitImportError,
    DatakitNotFound,
    DeployError,
    LoadError,
    ProvisionerUnavailable,
    TargetError,
    TargetUnreachable,
    UnknownTarget,
)
from .loader import BulkDataLoader, LoadResult, load_datakit_tables
from .provisioning import start_server
from .runs import Database, Run, open_target, reap, reap_server
from .targets import TargetConfig, create_custom_target, get_target_config, list_targets
from .temporal import TemporalMixin, history_of, history_table, temporal_exclude, track_history
from .urls import safe_url
from .validate import Drift, ValidationResult, validate_deployment

__all__ = [
    "AuthenticationFailed",
    "BronzeDatakit",
    "BulkDataLoader",
    "CleanupResult",
    "Database",
    "Datakit",
    "DatakitDefinitionError",
    "DatakitError",
    "DatakitImportError",
    "DatakitNotFound",
    "DeployError",
    "DeployResult",
    "Drift",
    "LoadError",
    "LoadResult",
    "ProvisionerUnavailable",
    "Run",
    "TargetConfig",
    "TargetError",
    "TargetUnreachable",
    "TemporalMixin",
    "UnknownTarget",
    "ValidationResult",
    "cleanup_deployment",
    "create_custom_target",
    "deploy_data_objects",
    "derive_bronze",
    "discover_datakit_modules",
    "discover_sqlmodel_classes",
    "get_target_config",
    "history_of",
    "history_table",
    "list_targets",
    "load_datakit",
    "load_datakit_tables",
    "make_engine",
    "open_target",
    "reap",
    "reap_server",
    "safe_url",
    "start_server",
    "temporal_exclude",
    "track_history",
    "validate_deployment",
]
