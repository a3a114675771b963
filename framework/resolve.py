"""What a target argument means, the same everywhere in the library.

    "postgres_local"           a named target: this process's database there (framework.process_targets)
    "postgresql://.../dw"      a URL (text or ``sqlalchemy.URL``): that very database
    "postgresql://host:5432"   a server's URL (no database): this process's database there, as a name
    TargetConfig               a named one as its name; a URL target as its URL
    Database                   itself
    Engine                     itself, used as it is (its schema mapping is yours)

``deploy_data_objects``, ``validate_deployment``, ``cleanup_deployment``, ``BulkDataLoader``,
``create_engine_for_target`` and the pipeline steps (every form but an ``Engine``) take any of
these and call :func:`resolve_target`.
"""

from __future__ import annotations

from typing import TypeAlias, overload

from sqlalchemy.engine import URL, Engine

from .runs import Database
from .targets import TargetConfig, get_target_config, url_target
from .urls import to_url, with_driver

#: a target that resolves to a :class:`Database` (every form but an ``Engine``)
DatabaseTarget: TypeAlias = Database | TargetConfig | URL | str
Target: TypeAlias = Database | Engine | TargetConfig | URL | str


def target_config(target: str | URL | TargetConfig) -> TargetConfig:
    """The target a name, a URL or a ``TargetConfig`` stands for."""
    if isinstance(target, TargetConfig):
        return target
    if isinstance(target, URL):
        return url_target(target)
    return get_target_config(target)


@overload
def resolve_target(target: Engine) -> Engine: ...
@overload
def resolve_target(target: DatabaseTarget) -> Database: ...
def resolve_target(target: Target) -> Database | Engine:
    """The database ``target`` means: opened for the process when it is a named disposable target."""
    if isinstance(target, (Database, Engine)):
        return target
    config = target_config(target)
    if config.disposable:
        from .process_targets import process_database

        return process_database(config)
    assert config.url, f"{config.name} has no URL"
    return Database(with_driver(to_url(config.url)))
