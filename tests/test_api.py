"""The library's public surface: names, targets and their overrides."""

from __future__ import annotations

import pytest

import framework
from framework import TargetConfig, UnknownTarget, create_custom_target, get_target_config, list_targets

PUBLIC = {
    "declared_pipelines",
    "dbt_step",
    "pipeline_dag",
    "stage_folder",
    "load_folder",  # issue 27: files straight into bronze
    "load_bronze_files",
    "AirflowHome",
    "DagRunFailed",
    "DagRunResult",
    "StackError",
    "AuthenticationFailed",
    "BronzeDatakit",
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
    "ProvisionerUnavailable",
    "Run",
    "TargetConfig",
    "TargetError",
    "TargetUnreachable",
    "UnknownTarget",
    "ValidationResult",
    "cleanup_deployment",
    "create_custom_target",
    "deploy_data_objects",
    "derive_bronze",
    "discover_datakit_modules",
    "discover_sqlmodel_classes",
    "get_target_config",
    "list_targets",
    "load_datakit",
    "make_engine",
    "open_target",
    "reap",
    "reap_server",
    "safe_url",
    "start_server",
    "validate_deployment",
    "TemporalMixin",
    "history_of",
    "history_table",
    "temporal_exclude",
    "track_history",
    "BulkDataLoader",
    "LoadError",
    "LoadResult",
    "load_datakit_tables",
    "close_process_databases",
    "create_engine_for_target",
    "get_ci_target",
    "get_development_target",
    "get_integration_target",
    "validate_pipeline_flow",
    # the session API the plugin stands on (its contract: pytest_datakits imports only these)
    "ProvisionedTarget",
    "RunGuest",
    "RunHost",
    "ServerSource",
    "TestDatabase",
    "Workspace",
    "DbtStep",
    "DeployStep",
    "Pipeline",
    "PipelineError",
    "PipelineSummary",
    "TableLoad",
    "ValidateStep",
    "connection_uri",
    "dbt_gold",
    "dbt_silver",
    "deploy_warehouse",
    "get_pipeline",
    "tables_to_load",
    # issue 28: what a kit author imports, all from here (docs/datakits.md, "What a kit imports")
    "BronzeLineageMixin",
    "ReferenceMixin",
    "TransactionalMixin",
    "TIMESTAMPTZ",
    "FOREIGN_KEYS",
    "TESTED",
    "tested_by_dbt",  # issue 18: foreign keys that dbt tests, declared on a contract datakit
    "load_bronze_table",
    "run_pipeline",
    "summarize_warehouse",
    "url_from_connection",
    "validate_warehouse",
    "DbtError",
    "DbtNode",
    "DbtResult",
    "run_dbt",
}


def test_public_api_is_what_we_say() -> None:
    assert set(framework.__all__) == PUBLIC
    assert all(hasattr(framework, name) for name in PUBLIC)


def test_framework_does_not_import_pytest() -> None:
    import subprocess
    import sys

    code = "import sys, framework, framework.cli.main, framework.kits.validate; print('pytest' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_named_targets() -> None:
    targets = {t.name: t for t in list_targets()}
    assert set(targets) == {
        "sqlite_memory",
        "sqlite_file",
        "postgres_embedded",
        "postgres_local",
        "postgres_process",
        "postgres_container",
        "mysql_local",
        "mysql_process",
        "mysql_container",
    }
    assert {t.engine for t in targets.values()} == {"sqlite", "postgresql", "mysql"}
    assert all(t.disposable for t in targets.values())


def test_environment_overrides_local_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAKITS_POSTGRES_URL", "postgresql://me:pw@db.internal:6543/admin")
    monkeypatch.setenv("DATAKITS_MYSQL_URL", "mysql+pymysql://me:pw@db.internal:3307/admin")
    assert get_target_config("postgres_local").url == "postgresql://me:pw@db.internal:6543/admin"
    assert get_target_config("postgres_local").safe_url == "postgresql://me:***@db.internal:6543/admin"
    assert "pw" not in get_target_config("mysql_local").describe()


def test_a_url_is_a_target_of_its_own() -> None:
    config = get_target_config("postgresql://u:pw@h/dw")
    assert config.engine == "postgresql" and not config.disposable and "pw" not in config.name


def test_custom_target() -> None:
    config = create_custom_target("postgres", "dw", host="h", port=5433, user="u", password="pw")
    assert isinstance(config, TargetConfig) and config.engine == "postgresql"
    assert config.safe_url == "postgresql+psycopg2://u:***@h:5433/dw"
    assert create_custom_target("sqlite", "/tmp/x.db").url == "sqlite:////tmp/x.db"
    with pytest.raises(UnknownTarget, match="oracle"):
        create_custom_target("oracle", "x")
    with pytest.raises(TypeError, match="colour"):
        create_custom_target("mysql", "x", colour="blue")


def test_unknown_target_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTarget, match="sqlite_memory"):
        get_target_config("nope")


# words the plugin reads to check its options; not part of the library's public surface
PLUGIN_INTERNALS = {
    "DbtTest",  # issue 18: dbt's tests as items (pytest_datakits.dbt_tests)
    "ENGINES",
    "ISOLATIONS",
    "Prepare",
    "Where",
    "dbt_parse_dir",  # issue 20: the plugin keeps dbt's parse warm across its runs
    "dbt_state_dir",
    "engine_names",
    "import_root",
    "interrupt_on_sigterm",
    "kept_data_dir",  # issue 26: --datakit-reuse keeps the embedded cluster in the toolkit's own folder
    "postgres_targets",
    "safe_text",
    "server_target",
    "sweep_workdirs",
    "target_names",
    "TemplateReuse",  # issue 18: --datakit-reuse (pytest_datakits.reuse)
    "template_notes",
    "failing_rows",
    "list_dbt_tests",
    "project_inputs",  # issue 26: what dbt reads for a project, the kept template's key (pytest_datakits.reuse)
    "to_url",
}


def test_the_plugin_stands_on_the_public_api() -> None:
    """Everything pytest_datakits imports from framework is exported, so this file guards its contract."""
    import ast
    from pathlib import Path

    imported: set[str] = set()
    for path in (Path(__file__).resolve().parents[1] / "pytest_datakits").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "framework":
                imported |= {alias.name for alias in node.names}
    assert imported, "the plugin imports nothing from framework?"
    assert imported - PLUGIN_INTERNALS <= set(framework.__all__)
