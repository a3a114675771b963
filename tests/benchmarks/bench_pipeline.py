"""The whole real-Pagila pipeline, source -> gold, on postgres_embedded: ``datakits pipeline`` vs ``dag.test()``.

    DATAKITS_PAGILA_DIR=../shared/pagila python tests/benchmarks/bench_pipeline.py

One embedded PostgreSQL; the real Pagila loaded once into a source database there; each pipeline
builds a fresh warehouse database on the same server. Printed side by side, in one run:

- ``datakits pipeline`` as users run it (a child process: start-up, imports and all);
- ``run_pipeline`` in this process (the same steps, no process start);
- ``dag.test()`` of ``dags/pagila_pipeline.py`` through ``framework.airflow.dagtest`` (the metadata database
  migrated beforehand, not timed): the first run in the process (Airflow's in-process API server
  is imported then) and a second one;

and the ratio of each ``dag.test()`` to the CLI. Goals: the CLI under 30 s, ``dag.test()`` within 1.5x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    folder = os.environ.get("DATAKITS_PAGILA_DIR")
    if not folder or not (Path(folder) / "pagila-data.sql").exists():
        print("set DATAKITS_PAGILA_DIR to the folder of the real Pagila dump (../shared/pagila)")
        return 2
    from framework.airflow.dagtest import AirflowHome

    home = AirflowHome(Path(tempfile.mkdtemp(prefix="bench-airflow-")), "bench", ROOT / "dags")
    home.activate()  # before Airflow is imported

    from framework import Run, get_target_config, run_pipeline, start_server
    from framework.loading.pgdump import load_plain_dump

    server = start_server(get_target_config("postgres_embedded"))
    figures: dict[str, float] = {}
    try:
        with Run(server) as run:
            source = run.create_database("source")
            load_plain_dump(source.url, Path(folder) / "pagila-schema.sql", Path(folder) / "pagila-data.sql")
            home.ensure_database()  # migrated here, not timed

            warehouse = run.create_database("cli")
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "framework.cli",
                    "pipeline",
                    "pagila",
                    "--source",
                    source.url.render_as_string(hide_password=False),
                    "--target",
                    warehouse.url.render_as_string(hide_password=False),
                    "--batch-id",
                    "bench",
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            figures["datakits pipeline (child process)"] = time.perf_counter() - started
            if done.returncode != 0:
                print(done.stderr)
                return 1

            warehouse = run.create_database("inproc")
            started = time.perf_counter()
            run_pipeline(source, warehouse, "bench")
            figures["run_pipeline (in process)"] = time.perf_counter() - started

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
    print(f"real Pagila -> gold on postgres_embedded ({os.cpu_count()} cores)")
    for name, seconds in figures.items():
        print(f"  {name:<{width}}  {seconds:7.2f} s   {seconds / cli:5.2f}x the CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
