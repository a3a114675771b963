"""A dbt project written against raw tables (jaffle-shop's shape) reads bronze's current state, run after run.

The project in ``jaffle/`` (sources customers and orders, staging models with ``unique`` tests on their
keys, a mart of orders per customer) runs through ``datakits pipeline`` (the real CLI) three times into
the same warehouse on the local PostgreSQL, with a row changed, one added and one removed in the landing
files between runs. After each run its dbt tests have passed and its mart equals a plain dbt build
(``dbt seed`` of the same CSV files, then ``dbt build``) in another database: of that run's files for
``batches = "full"``; of every key's latest row so far for ``"incremental"`` (a removed row stays).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from framework import Database, run_dbt

PROJECT = Path(__file__).parent / "jaffle"
REPOSITORY = Path(__file__).resolve().parents[2]
CUSTOMERS = ["id", "name"]
ORDERS = ["id", "customer_id", "ordered_at", "amount"]

#: the landing files of each run: run 2 changes customer 2 and order 2, adds customer 4 with order 6,
#: removes customer 3 and its order 5; run 3 changes customer 1, adds order 7, removes order 1
RUNS: list[dict[str, list[list[str]]]] = [
    {
        "customers": [["1", "Ann"], ["2", "Bo"], ["3", "Cy"]],
        "orders": [
            ["1", "1", "2024-01-02", "10.50"],
            ["2", "1", "2024-01-05", "20.00"],
            ["3", "2", "2024-01-06", "7.25"],
            ["4", "2", "2024-02-01", "3.00"],
            ["5", "3", "2024-02-03", "99.99"],
        ],
    },
    {
        "customers": [["1", "Ann"], ["2", "Bob"], ["4", "Di"]],
        "orders": [
            ["1", "1", "2024-01-02", "10.50"],
            ["2", "1", "2024-01-05", "25.00"],
            ["3", "2", "2024-01-06", "7.25"],
            ["4", "2", "2024-02-01", "3.00"],
            ["6", "4", "2024-03-01", "42.00"],
        ],
    },
    {
        "customers": [["1", "Anne"], ["2", "Bob"], ["4", "Di"]],
        "orders": [
            ["2", "1", "2024-01-05", "25.00"],
            ["3", "2", "2024-01-06", "7.25"],
            ["4", "2", "2024-02-01", "3.00"],
            ["6", "4", "2024-03-01", "42.00"],
            ["7", "4", "2024-03-09", "5.00"],
        ],
    },
]
MART = "SELECT customer_id, customer_name, order_count, lifetime_value, first_order FROM {schema}.customers ORDER BY 1"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def _write_files(folder: Path, files: dict[str, list[list[str]]]) -> None:
    _write_csv(folder / "customers.csv", CUSTOMERS, files["customers"])
    _write_csv(folder / "orders.csv", ORDERS, files["orders"])


def _expected_files(mode: str, run: int) -> dict[str, list[list[str]]]:
    """What the current state holds after ``run``: that run's files (full), or every key's latest row (incremental)."""
    if mode == "full":
        return RUNS[run]
    merged: dict[str, dict[str, list[str]]] = {"customers": {}, "orders": {}}
    for files in RUNS[: run + 1]:
        for table, rows in files.items():
            merged[table].update({row[0]: row for row in rows})
    return {table: sorted(rows.values(), key=lambda r: int(r[0])) for table, rows in merged.items()}


def _copy_project(into: Path, mode: str) -> Path:
    shutil.copytree(PROJECT, into, ignore=shutil.ignore_patterns("__pycache__", "target", "logs"))
    pyproject = into / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('batches = "full"', f'batches = "{mode}"'))
    return into


def _plain_project(into: Path, files: dict[str, list[list[str]]]) -> Path:
    """The same dbt project reading seeds of the same CSV files instead of bronze: a plain dbt build."""
    shutil.copytree(PROJECT / "warehouse", into, ignore=shutil.ignore_patterns("target", "logs"))
    (into / "models" / "staging" / "__sources.yml").write_text(  # jaffle-shop's own names: raw_customers, raw_orders
        "version: 2\nsources:\n  - name: jaffle_bronze\n    schema: public\n    tables:\n"
        "      - {name: customers, identifier: raw_customers}\n      - {name: orders, identifier: raw_orders}\n"
    )
    with (into / "dbt_project.yml").open("a") as project:  # typed as the landing files' datakit types them
        project.write("seeds:\n  jaffle:\n    raw_orders:\n      +column_types: {amount: 'numeric(10,2)'}\n")
    _write_files(into / "seeds", files)
    for table in ("customers", "orders"):
        (into / "seeds" / f"{table}.csv").rename(into / "seeds" / f"raw_{table}.csv")
    return into


def _rows(database: Database, schema: str) -> list[tuple[Any, ...]]:
    engine = database.engine()
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(MART.format(schema=schema)))]
    finally:
        engine.dispose()


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _pipeline(command: list[str], project: Path, landing: Path, warehouse: Database, batch: str) -> str:
    args = [*command, "pipeline", "jaffle", "--source", str(landing), "--target", _url(warehouse), "--batch-id", batch]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def _three_runs(mode: str, command: list[str], tmp_path: Path, make_database: Callable[[str], Database]) -> None:
    project = _copy_project(tmp_path / "jaffle", mode)
    warehouse = make_database("jaffle_wh")
    for run in range(len(RUNS)):
        landing = tmp_path / f"landing{run}"
        _write_files(landing, RUNS[run])
        log = _pipeline(command, project, landing, warehouse, f"run-{3 - run}")  # ids sort against load order
        assert " test " in log and "FAILED" not in log  # the dbt tests ran, and passed (exit 0 says so too)
        plain = make_database(f"jaffle_plain{run}")
        plain_project = _plain_project(tmp_path / f"plain{run}", _expected_files(mode, run))
        run_dbt(plain_project, plain, ("seed",))  # dbt seed && dbt build
        run_dbt(plain_project, plain, ("build",))
        expected = _rows(plain, "public")
        assert _rows(warehouse, "public") == expected, f"run {run + 1} ({mode})"
        assert len(expected) == len(_expected_files(mode, run)["customers"])
    sources = (project / "warehouse" / "models" / "staging" / "__sources.yml").read_text()
    assert "identifier: customers__current" in sources and "# the landing files" in sources


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_raw_tables_dbt_project_reads_the_current_state_run_after_run(
    mode: str, tmp_path: Path, make_database: Callable[[str], Database]
) -> None:
    _three_runs(mode, [sys.executable, "-m", "framework.cli"], tmp_path, make_database)


@pytest.mark.slow
def test_the_same_from_a_wheel_installed_outside_the_repository(
    tmp_path: Path, make_database: Callable[[str], Database]
) -> None:
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPOSITORY)], capture_output=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("pytest_datakits-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = str(env_dir / "bin" / "python")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", f"{wheel}[dbt,files]"], capture_output=True, text=True, timeout=1800
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    outside = tmp_path / "outside"
    outside.mkdir()
    _three_runs("full", [str(env_dir / "bin" / "datakits")], outside, make_database)
