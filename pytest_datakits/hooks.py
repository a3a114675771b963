"""The plugin's hooks, for a ``conftest.py`` (or a plugin) to implement."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from framework import Database, TargetConfig


@pytest.hookspec
def pytest_datakit_fill_template(target: TargetConfig, database: Database) -> None:
    """Fill ``database`` with data once per run, after the datakits are deployed into it.

    ``database`` is the run's template on ``target`` (every xdist worker's database is a copy of
    it), or a process's own database where the engine cannot clone (MySQL). Load it with
    ``framework.load_datakit_tables`` / ``BulkDataLoader`` (the real Pagila, say) or
    ``generate_pagila``; dispose of the engines you open, so that the template can be copied.
    dbt projects given with ``--datakit-dbt`` are built into it afterwards.
    """
