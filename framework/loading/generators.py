"""Data generators for ``datakits generate``, found like datakits: through an entry point.

A package registers one under the ``datakits.generators`` group (``pagila =
"datakits.pagila_source.generate:generate_pagila"``); the function is called as
``generate(database, scale=, seed=, progress=)`` and returns the rows written per table. The
library names no concrete generator itself.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

from ..errors import DatakitError, DatakitImportError

#: The largest scale a generator is asked for: 10,000 times Pagila is 160 million rentals (and a
#: scale of 1e300 would never end). The CLI checks it before it starts anything.
MAX_SCALE = 10_000.0

ENTRY_POINT_GROUP = "datakits.generators"


def installed_generators() -> dict[str, importlib.metadata.EntryPoint]:
    """The registered generators: name -> entry point."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def load_generator(name: str) -> Callable[..., Any]:
    """The generator function registered as ``name``."""
    found = installed_generators()
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise DatakitError(f"no generator named {name!r} ({known}); register one under '{ENTRY_POINT_GROUP}'")
    try:
        function: Callable[..., Any] = found[name].load()
    except Exception as exc:  # a generator's module may fail to import in any way; name it
        raise DatakitImportError(found[name].value, exc) from None
    return function
