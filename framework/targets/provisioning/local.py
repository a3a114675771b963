"""An existing server reached by URL; the run creates databases of its own there and drops them."""

from __future__ import annotations

from sqlalchemy.exc import ArgumentError

from ...engines import Server, engine_kind, server_for_url
from ...engines.urls import safe_text, to_url, with_driver
from ...errors import TargetError
from ..named import TargetConfig
from . import require


def start(config: TargetConfig) -> Server:
    assert config.url, f"{config.name} has no URL"
    kind = engine_kind(config.engine)
    require(kind.driver_module, kind.extra, config.name)
    try:
        url = with_driver(to_url(config.url))
    except (ArgumentError, ValueError):  # DATAKITS_POSTGRES_URL=garbage, say
        where = {"postgresql": "DATAKITS_POSTGRES_URL", "mysql": "DATAKITS_MYSQL_URL"}.get(config.engine, "its URL")
        raise TargetError(
            f"{config.name}: {safe_text(config.url)!r} ({where}) is not a database URL; "
            f"give one such as {config.engine}://user@host:port",
            config.name,
        ) from None
    return server_for_url(url, label=config.name)
