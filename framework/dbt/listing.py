"""The data tests and unit tests of a dbt project, as dbt lists them (``dbt ls``), and their failing rows.

The plugin's ``--datakit-dbt-tests`` collects each as a pytest item. Listing parses the project
only (no database is reached); its state folder is keyed as every other (``runner.dbt_state_dir``),
so that a second listing in the same or a later process finds partial parsing warm.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..errors import DbtError
from ..targets.runs import Database
from .runner import (
    _LOCK,
    _check_psycopg2,
    _environ,
    _environment,
    _one_line,
    _private_dir,
    _project_name,
    _write_profile,
    dbt_state_dir,
    make_private,
    project_dir,
    state_root,
)

#: the database a listing's profile names: dbt ls never connects to it
LISTING_URL = make_url("postgresql+psycopg2://datakits@localhost:5432/datakits_listing")


@dataclass(frozen=True)
class DbtTest:
    """One data test or unit test of a project: its dbt id, its name and the model it tests."""

    unique_id: str
    name: str
    model: str  # the model it is attached to (a singular test: the first model it reads; else the project)
    resource_type: str  # test | unit_test


def _model_of(item: dict[str, Any], project_name: str) -> str:
    attached = item.get("attached_node")
    if attached:
        return str(attached).split(".")[-1]
    if item.get("resource_type") == "unit_test":
        return str(item["unique_id"]).split(".")[2]
    nodes = [n for n in (item.get("depends_on") or {}).get("nodes", []) if n.startswith(("model.", "snapshot."))]
    return nodes[0].split(".")[-1] if nodes else project_name


def list_tests(project: str | Path) -> list[DbtTest]:
    """Every data test and unit test of ``project``, sorted by model, then name."""
    project = project_dir(project)
    state = dbt_state_dir(project, LISTING_URL, state_root())
    _private_dir(state)
    cli = [
        "ls",
        "--resource-types",
        "test",
        "unit_test",
        "--output",
        "json",
        "--output-keys",
        "unique_id",
        "name",
        "resource_type",
        "depends_on",
        "attached_node",
        "--project-dir",
        str(project),
        "--target-path",
        str(state / "target"),
        "--log-path",
        str(state / "logs"),
        "--log-level",
        "none",
        "--quiet",
    ]
    with FileLock(state / ".lock"), _LOCK, _environ(_environment(None)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = _write_profile(state, _project_name(project), LISTING_URL, 1)
        try:
            from dbt.cli.main import dbtRunner
        except ImportError:
            raise DbtError("dbt is not installed: pip install 'pytest-datakits[dbt]'") from None
        _check_psycopg2()
        result = dbtRunner().invoke([*cli, "--profiles-dir", str(profiles)])
        make_private(state)
    if result.exception is not None or not result.success:
        problem = _one_line(str(result.exception or "dbt ls failed"))
        raise DbtError(f"listing the tests of dbt project {project}: {problem}")
    name = _project_name(project)
    found = []
    lines: list[Any] = list(result.result) if isinstance(result.result, list) else []
    for line in lines:
        item = json.loads(line) if isinstance(line, str) else dict(line)
        found.append(DbtTest(item["unique_id"], item["name"], _model_of(item, name), item["resource_type"]))
    return sorted(found, key=lambda t: (t.model, t.name, t.unique_id))


def failing_rows(database: Database, sql: str, limit: int = 10) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The first ``limit`` rows a failing data test's query returns: its columns and rows."""
    engine = database.engine()
    try:
        with engine.connect() as connection:
            found = connection.execute(text(f"SELECT * FROM ({sql}) AS dbt_test_failures LIMIT {int(limit)}"))
            return list(found.keys()), [tuple(row) for row in found]
    finally:
        engine.dispose()


def project_manifest(project: str | Path) -> dict[str, Any] | None:
    """The project's ``manifest.json`` as the listing's parse wrote it (nodes, their ``depends_on``, ``fqn``,
    ``tags``); None when it cannot be had. It reaches no database (:func:`list_tests` parses only)."""
    project = project_dir(project)
    try:
        list_tests(project)
        path = dbt_state_dir(project, LISTING_URL, state_root()) / "target" / "manifest.json"
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (DbtError, OSError, ValueError):
        return None
    return loaded
