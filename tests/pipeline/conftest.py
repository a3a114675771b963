from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from framework import Database


@pytest.fixture
def make_database(servers: Any) -> Iterator[Callable[[str], Database]]:
    """Databases of the test's own on the local PostgreSQL (``make_database("label")``), dropped after it."""
    _, run = servers.get("postgres_local")
    made: list[Database] = []

    def make(label: str) -> Database:
        made.append(run.create_database(label))
        return made[-1]

    yield make
    for database in made:
        run.drop(database)
