"""dbt on postgres_embedded with the real Pagila: the whole build, and the per-test cost of one model.

    DATAKITS_PAGILA_DIR=../shared/pagila python tests/benchmarks/bench_dbt.py [--tests 20] [--model fact_rental]

In one run on one embedded server: the real Pagila loaded into a source database, bronze loaded
from it with load_datakit_tables, then

1. the whole silver + gold build (``run_dbt(..., ("build",))``): in a cold process (a new Python
   that imports dbt and parses the project with no partial parse), then warm in this process
   (dbt imported, partial parsing warm);
2. the per-test cost of ``datakit_dbt.build(select=<one model>)``: what the plugin does for each
   dbt test (drop the test's database, copy it again from the template under the same name, build
   one model and its tests in process, partial parsing warm), median over ``--tests`` tests,
   against the same per-test work with the build through a ``dbt build`` subprocess.

Prints the figures and the ratios side by side. A benchmark, not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from framework import (
    Run,
    deploy_data_objects,
    get_target_config,
    load_datakit,
    load_datakit_tables,
    run_dbt,
    start_server,
)
from framework.loading.pgdump import load_plain_dump

PROJECT = Path(__file__).resolve().parents[2] / "dbt" / "pagila_warehouse"
COLD = """
import sys, time
from sqlalchemy.engine import make_url
from framework import Database, run_dbt
started = time.perf_counter()
result = run_dbt(sys.argv[1], Database(make_url(sys.argv[2])), ("build",), state_dir=sys.argv[3])
print(f"{time.perf_counter() - started:.3f} {len(result.nodes)}")
"""


def per_test(
    run: Run, template, model: str, state: Path, tests: int, *, child: bool
) -> tuple[list[float], list[float]]:
    """Seconds per test, whole and of it the copy of the database."""
    seconds, copies = [], []
    database = run.create_database("bench_test", template=template)
    run_dbt(PROJECT, database, ("build",), select=model, state_dir=state, subprocess=child)  # parse once
    for _ in range(tests):
        started = time.perf_counter()
        run.drop(database)
        database = run.create_database("bench_test", template=template)
        copied = time.perf_counter()
        run_dbt(PROJECT, database, ("build",), select=model, state_dir=state, subprocess=child)
        seconds.append(time.perf_counter() - started)
        copies.append(copied - started)
    run.drop(database)
    return seconds, copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=20, help="dbt tests to time per way (default 20)")
    parser.add_argument("--model", default="fact_rental", help="the one model a test builds (default fact_rental)")
    args = parser.parse_args()
    pagila = Path(os.environ.get("DATAKITS_PAGILA_DIR", "../shared/pagila"))
    server = start_server(get_target_config("postgres_embedded"))
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-"))
    try:
        with Run(server) as run:
            source = run.create_database("bench_source")
            load_plain_dump(source.url, pagila / "pagila-schema.sql", pagila / "pagila-data.sql")
            template = run.create_database("bench_tpl")
            deploy_data_objects(load_datakit("pagila_bronze"), template)
            started = time.perf_counter()
            loaded = load_datakit_tables("pagila_source", "pagila_bronze", source=source, target=template, workers=2)
            load_seconds = time.perf_counter() - started
            rows = sum(r.rows_written for r in loaded)

            url = template.url.render_as_string(hide_password=False)
            done = subprocess.run(
                [sys.executable, "-c", COLD, str(PROJECT), url, str(work / "whole")],
                capture_output=True,
                text=True,
                check=True,
            )
            cold_seconds, nodes = float(done.stdout.split()[0]), int(done.stdout.split()[1])
            warm = []
            for _ in range(3):
                result = run_dbt(PROJECT, template, ("build",), state_dir=work / "whole")
                warm.append(result.seconds)
            warm_seconds = statistics.median(warm)

            in_process = per_test(run, template, args.model, work / "test", args.tests, child=False)
            child = per_test(run, template, args.model, work / "child", args.tests, child=True)
    finally:
        server.stop()

    print(f"postgres_embedded, the real Pagila: {rows:,} bronze rows loaded in {load_seconds:.2f}s")
    print(f"whole silver + gold build ({nodes} nodes):")
    print(f"  cold process (import dbt, full parse, build)   {cold_seconds:7.2f} s")
    print(
        f"  warm, in process (median of 3)                 {warm_seconds:7.2f} s   cold / warm = "
        f"{cold_seconds / warm_seconds:.1f}x"
    )
    med_in, med_child = statistics.median(in_process[0]), statistics.median(child[0])
    print(f"per dbt test: re-copy the database from the template, build {args.model} (median of {args.tests}):")
    print(
        f"  datakit_dbt.build, in process, parsing warm    {med_in:7.2f} s   "
        f"(of which the copy {statistics.median(in_process[1]):.2f} s)"
    )
    print(
        f"  the same through a dbt build subprocess        {med_child:7.2f} s   subprocess / in process = "
        f"{med_child / med_in:.1f}x"
    )
    print(f"(load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
