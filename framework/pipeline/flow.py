"""The original framework's helpers over what this process deployed where.

    create_engine_for_target(target)   an engine on the database ``target`` means, its schemas mapped
    validate_pipeline_flow(target)     validate every datakit this process deployed on ``target``, together

Both take any target (see ``framework.targets.resolve``): on a named disposable target they reach the
database the plain API opened for the process, so they see what ``deploy_data_objects`` put there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Engine

from ..engines.urls import safe_url
from ..errors import DatakitError
from ..kits.deploy import deployed_tables
from ..kits.validate import ValidationResult, validate_deployment
from ..targets.resolve import Target, resolve_target

__all__ = ["create_engine_for_target", "validate_pipeline_flow"]


def create_engine_for_target(target: Target, schemas: Iterable[str | None] | None = None) -> Engine:
    """A new engine on ``target``'s database; dispose of it when done.

    ``schemas`` are those the engine must resolve (SQLite and MySQL map them per engine); by
    default, the schemas of every table this process deployed there. An ``Engine`` is returned
    as it is.
    """
    database = resolve_target(target)
    if isinstance(database, Engine):
        return database
    if schemas is None:
        schemas = {t.schema for t in deployed_tables(database)}
    return database.engine(schemas)


def validate_pipeline_flow(target: Target, report_extra_tables: bool = True) -> ValidationResult:
    """Validate, in one report, every datakit this process deployed on ``target``."""
    database = resolve_target(target)
    tables = deployed_tables(database)
    if not tables:
        shown = safe_url(database.url)
        raise DatakitError(f"nothing was deployed on {shown} by this process; call deploy_data_objects first")
    return validate_deployment(tables, database, report_extra_tables=report_extra_tables)
