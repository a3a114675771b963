"""The whole real-Pagila pipeline, source -> gold: the CLI, ``run_pipeline`` and ``dag.test()``, side by side.

    DATAKITS_PAGILA_DIR=../shared/pagila python tests/benchmarks/bench_pipeline.py [--target postgres_local]

The real Pagila is loaded once into a source database on the target's server; each pipeline builds a
fresh warehouse database there. Printed side by side, in one run:

- ``datakits pipeline`` as users run it (a child process: start-up, imports and all), twice: with dbt's
  parse kept across warehouse databases (now) and with ``DATAKITS_DBT_PARSE=per-database`` (the old
  approach: each new database parsed cold);
- ``run_pipeline`` in this process, a first and a second time (the same steps, no process start);
- ``dag.test()`` of ``dags/pagila_pipeline.py`` through ``framework.airflow.dagtest`` (the metadata
  database migrated beforehand, not timed): the first run in the process (Airflow's in-process API
  server is built then) and a second one;

- the SQL floor (issue 29): the same warehouse built by SQL alone on one connection: the raw rows by
  ``CREATE DATABASE ... TEMPLATE`` of the source, bronze's DDL, the rows copied into bronze with
  ``INSERT ... SELECT`` (lineage and a sha256 record hash computed by the server), then the very SQL dbt
  ran for every model, snapshot and test of each step (``target/run/``, taken from an untimed build of
  the same project), in the order dbt finished them;

each with its ratio to the CLI, and the CLI's ratio to the floor. Goals (issue 29): the CLI within 2x of
the floor, the first ``dag.test()`` within 1.2x the CLI and the second within 0.8x. It prints figures; it
asserts nothing. ``--floor-only`` prints the floor and the CLI alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _cli(source: str, warehouse: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "framework.cli", "pipeline", "pagila", "--source", source, "--target", warehouse],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return seconds


def _floor_sql(run: Any, source: Any) -> list[str]:
    """The statements of the SQL floor, taken from an untimed build into a database of its own."""
    from sqlalchemy import Engine, event

    from framework import get_pipeline, run_dbt
    from framework.pipeline.steps import deploy_warehouse

    spec = get_pipeline("pagila")
    prep = run.create_database("floorprep", template=source)  # the raw rows in public, as in the floor
    ddl: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.lstrip().upper().startswith(("CREATE", "COMMENT", "ALTER")):
            ddl.append(statement)

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        deploy_warehouse(prep)
    finally:
        event.remove(Engine, "before_cursor_execute", keep)
    copies = []
    for table in spec.kit("bronze").tables:
        columns = [c.name for c in table.columns]
        lineage = {
            "dk_batch_id": "'floor'",
            "dk_source_table": f"'{table.name}'",
            "dk_record_hash": "encode(sha256(convert_to(s::text, 'UTF8')), 'hex')",
            "dk_loaded_at": "now()",
        }
        values = [lineage.get(c, f's."{c}"') for c in columns]
        names = ", ".join(f'"{c}"' for c in columns)
        copies.append(
            f'INSERT INTO "{table.schema}"."{table.name}" ({names}) '
            f'SELECT {", ".join(values)} FROM public."{table.name}" s'
        )
    with prep.engine().begin() as conn:
        for statement in copies:
            conn.exec_driver_sql(statement)
    built: list[str] = []
    for step in spec.dbt_steps:
        state = Path(tempfile.mkdtemp(prefix="bench-floor-"))
        run_dbt(spec.project_path(), prep, ("build",), select=step.select, state_dir=state, subprocess=True)
        target = next(state.rglob("run_results.json")).parent
        manifest = json.loads((target / "manifest.json").read_text())["nodes"]
        for result in json.loads((target / "run_results.json").read_text())["results"]:
            node = manifest.get(result["unique_id"])
            if node is None:
                continue
            # where dbt writes a node's run SQL: target/run/<package>/<file>, or <file>/<path> for a test in YAML
            path = node["original_file_path"]
            if Path(node["path"]).name != Path(path).name:
                path = f"{path}/{node['path']}"
            written = target / "run" / node["package_name"] / path
            if node["resource_type"] in ("model", "snapshot", "seed"):  # dbt makes the schema first
                built.append(f'CREATE SCHEMA IF NOT EXISTS "{node["schema"]}"')
            if written.is_file():
                # dbt builds a table as <name>__dbt_tmp and renames it: the floor makes it under its name at once
                sql = written.read_text().replace(f'"{prep.name}"', '"__FLOOR__"').replace('__dbt_tmp"', '"')
                built.append(sql)
    return [*ddl, *copies, "__DBT__", *built]


def _floor(source: Any, statements: list[str]) -> float:
    """Seconds for the SQL floor: a database from the source as template, bronze, dbt's SQL."""
    import psycopg2

    server = source.url.set(database="postgres")
    name = f"{source.name}_floor"
    started = time.perf_counter()
    admin = psycopg2.connect(server.render_as_string(hide_password=False).replace("+psycopg2", ""))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.name}"')
    conn = psycopg2.connect(
        source.url.set(database=name).render_as_string(hide_password=False).replace("+psycopg2", "")
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                if statement != "__DBT__":
                    cursor.execute(statement.replace("__FLOOR__", name))
        return time.perf_counter() - started
    finally:
        conn.close()
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="postgres_local", help="postgres_local (default) or postgres_embedded")
    parser.add_argument("--floor-only", action="store_true", help="Only the CLI and the SQL floor, interleaved")
    parser.add_argument("--rounds", type=int, default=3, help="Interleaved rounds of the CLI and the floor (median)")
    args = parser.parse_args()
    folder = os.environ.get("DATAKITS_PAGILA_DIR")
    if not folder or not (Path(folder) / "pagila-data.sql").exists():
        print("set DATAKITS_PAGILA_DIR to the folder of the real Pagila dump (../shared/pagila)")
        return 2
    from framework.airflow.dagtest import AirflowHome

    home = AirflowHome(Path(tempfile.mkdtemp(prefix="bench-airflow-")), "bench", ROOT / "dags")
    home.activate()  # before Airflow is imported

    from framework import Run, get_target_config, run_pipeline, start_server
    from framework.loading.pgdump import load_plain_dump

    server = start_server(get_target_config(args.target))
    figures: dict[str, float] = {}
    try:
        with Run(server) as run:
            source = run.create_database("source")
            load_plain_dump(source.url, Path(folder) / "pagila-schema.sql", Path(folder) / "pagila-data.sql")
            home.ensure_database()  # migrated here, not timed
            source_url = source.url.render_as_string(hide_password=False)
            statements = _floor_sql(run, source)  # untimed: dbt's SQL of the same project, once
            clis, floors = [], []
            for _ in range(args.rounds):  # interleaved: A B A B ..., the median of each
                clis.append(_cli(source_url, "postgres_local", {}) if args.target == "postgres_local" else 0.0)
                floors.append(_floor(source, statements))
            figures["SQL floor (template, bronze SQL, dbt's SQL)"] = sorted(floors)[len(floors) // 2]
            if args.target == "postgres_local":
                figures[f"datakits pipeline, median of {args.rounds}"] = sorted(clis)[len(clis) // 2]
            for label, env in (
                ()
                if args.floor_only
                else (
                    ("datakits pipeline (child process)", {}),
                    ("  the same, dbt parsed per database (before)", {"DATAKITS_DBT_PARSE": "per-database"}),
                )
            ):
                # as users run it: a named target makes (and drops) a database of its own; the embedded server
                # is this process's, so the child gets a fresh database on it by URL
                if args.target == "postgres_local":
                    figures[label] = _cli(source_url, "postgres_local", env)
                else:
                    warehouse = run.create_database(f"cli{len(figures)}")
                    figures[label] = _cli(source_url, warehouse.url.render_as_string(hide_password=False), env)

            for number, label in enumerate(
                ("run_pipeline first in process", "run_pipeline second") * (not args.floor_only), 1
            ):
                warehouse = run.create_database(f"inproc{number}")
                started = time.perf_counter()
                run_pipeline(source, warehouse, "bench")
                figures[label] = time.perf_counter() - started

            for number, label in enumerate(
                ("dag.test() first in process", "dag.test() second") * (not args.floor_only), 1
            ):
                warehouse = run.create_database(f"dag{number}")
                started = time.perf_counter()
                home.run_dag(
                    "pagila_pipeline",
                    conf={"batch_id": "bench"},
                    connections={"pagila_source": source, "pagila_warehouse": warehouse},
                )
                figures[label] = time.perf_counter() - started
    finally:
        server.stop()

    cli = figures.get("datakits pipeline (child process)") or next(v for k, v in figures.items() if "median" in k)
    floor = figures["SQL floor (template, bronze SQL, dbt's SQL)"]
    width = max(len(k) for k in figures)
    print(f"real Pagila -> gold on {args.target} ({os.cpu_count()} cores)")
    for name, seconds in figures.items():
        print(
            f"  {name:<{width}}  {seconds:7.2f} s   {seconds / cli:5.2f}x the CLI   {seconds / floor:5.2f}x the floor"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
