"""An existing server reached by URL; the run creates databases of its own there and drops them."""

from __future__ import annotations

from ...engines import Server, engine_kind, server_for_url
from ...engines.urls import to_url, with_driver
from ..named import TargetConfig
from . import require


def start(config: TargetConfig) -> Server:
    assert config.url, f"{config.name} has no URL"
    kind = engine_kind(config.engine)
    require(kind.driver_module, kind.extra, config.name)
    return server_for_url(with_driver(to_url(config.url)), label=config.name)
