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

each with its ratio to the CLI. Goals (issue 20): the CLI under 8 s on ``postgres_local``, a second
``run_pipeline`` under 6 s, the first ``dag.test()`` within 1.2x the CLI and the second within 1.0x.
It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="postgres_local", help="postgres_local (default) or postgres_embedded")
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
            for label, env in (
                ("datakits pipeline (child process)", {}),
                ("  the same, dbt parsed per database (before)", {"DATAKITS_DBT_PARSE": "per-database"}),
            ):
                # as users run it: a named target makes (and drops) a database of its own; the embedded server
                # is this process's, so the child gets a fresh database on it by URL
                if args.target == "postgres_local":
                    figures[label] = _cli(source_url, "postgres_local", env)
                else:
                    warehouse = run.create_database(f"cli{len(figures)}")
                    figures[label] = _cli(source_url, warehouse.url.render_as_string(hide_password=False), env)

            for number, label in enumerate(("run_pipeline first in process", "run_pipeline second"), 1):
                warehouse = run.create_database(f"inproc{number}")
                started = time.perf_counter()
                run_pipeline(source, warehouse, "bench")
                figures[label] = time.perf_counter() - started

            for number, label in enumerate(("dag.test() first in process", "dag.test() second"), 1):
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

    cli = figures["datakits pipeline (child process)"]
    width = max(len(k) for k in figures)
    print(f"real Pagila -> gold on {args.target} ({os.cpu_count()} cores)")
    for name, seconds in figures.items():
        print(f"  {name:<{width}}  {seconds:7.2f} s   {seconds / cli:5.2f}x the CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
