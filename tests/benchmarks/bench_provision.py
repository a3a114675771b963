"""Seconds to provision each target and to deploy the 15 Pagila bronze tables into it.

    python tests/benchmarks/bench_provision.py [--runs 5] [--targets sqlite_memory,postgres_local,...]

Per target, each run starts the server (or reaches it), opens a run with its database, deploys
pagila_bronze, then drops everything and stops the server. Prints the median of the runs side by
side, and each target's total relative to sqlite_memory. A benchmark, not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import statistics
import time

from framework import DatakitError, Run, deploy_data_objects, get_target_config, load_datakit, start_server

TARGETS = [
    "sqlite_memory",
    "sqlite_file",
    "postgres_local",
    "postgres_embedded",
    "postgres_process",
    "postgres_container",
    "mysql_local",
    "mysql_process",
    "mysql_container",
]


def measure(target: str, runs: int) -> tuple[float, float] | str:
    kit = load_datakit("pagila_bronze")
    provision: list[float] = []
    deploy: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            server = start_server(get_target_config(target))
        except DatakitError as exc:
            return str(exc).split(";")[0]
        run = Run(server)
        database = run.create_database("bench")
        provisioned = time.perf_counter()
        result = deploy_data_objects(kit, database)
        deployed = time.perf_counter()
        assert result.success and len(result.created) == 15, result
        run.close()
        server.stop()
        provision.append(provisioned - started)
        deploy.append(deployed - provisioned)
    return statistics.median(provision), statistics.median(deploy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--targets", default=",".join(TARGETS))
    args = parser.parse_args()
    rows = {t: measure(t, args.runs) for t in args.targets.split(",")}
    base = rows.get("sqlite_memory")
    base_total = sum(base) if isinstance(base, tuple) else None
    print(f"median of {args.runs} runs; deploy = the 15 pagila_bronze tables")
    print(f"{'target':<20} {'provision s':>12} {'deploy s':>10} {'total s':>9} {'x sqlite_memory':>16}")
    for target, row in rows.items():
        if isinstance(row, str):
            print(f"{target:<20} {'unavailable: ' + row}")
            continue
        total = sum(row)
        ratio = f"{total / base_total:.1f}x" if base_total else "-"
        print(f"{target:<20} {row[0]:>12.3f} {row[1]:>10.3f} {total:>9.3f} {ratio:>16}")


if __name__ == "__main__":
    main()
