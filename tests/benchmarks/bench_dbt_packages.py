"""A dbt project with a vendored dbt_utils-like package: the kept parse against a parse per database, on postgres_local.

    python tests/benchmarks/bench_dbt_packages.py [--models 40] [--databases 4]

Issue 31: a project whose ``dbt_packages/`` named ``target.database`` (dbt_utils does) was parsed per
database. A project of ``--models`` models with the package of ``tests/dbt/vendored.py`` is built with
``run_dbt`` on ``--databases`` fresh databases in one process, twice, interleaved: with the kept parse
(the default: the manifest searched for the parse profile's placeholders decides) and with
``DATAKITS_DBT_PARSE=per-database`` (what such a project got before). Wall time of each series, the
ratio, and how many parses each took; then the cost of finding the project's inputs (every file dbt reads,
hashed) per run. A benchmark, not a test: nothing asserts; it prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "dbt"))

from vendored import NUMBERS_SQL, NUMBERS_YML, write_dbt_utils  # noqa: E402

from framework import Run, get_target_config, run_dbt, start_server  # noqa: E402
from framework.dbt import runner  # noqa: E402
from framework.dbt.inputs import project_inputs  # noqa: E402
from framework.dbt.parsing import PARSE_ENV  # noqa: E402


def write_project(folder: Path, models: int) -> Path:
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(
        'name: bench_packages\nversion: "1.0.0"\nconfig-version: 2\nprofile: bench_packages\n'
        "models:\n  bench_packages:\n    +materialized: view\nflags:\n  send_anonymous_usage_stats: false\n"
    )
    (folder / "models" / "numbers.sql").write_text(NUMBERS_SQL)
    (folder / "models" / "numbers.yml").write_text(NUMBERS_YML)
    previous = "numbers"
    for number in range(models):
        name = f"m{number:03d}"
        (folder / "models" / f"{name}.sql").write_text(f"select n + 1 as n, seen from {{{{ ref('{previous}') }}}}\n")
        previous = name
    write_dbt_utils(folder)
    return folder


def series(project: Path, run, count: int, per_database: bool) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    parses = 0
    real = runner._parse

    def counted(*args):  # type: ignore[no-untyped-def]
        nonlocal parses
        parses += 1
        return real(*args)

    runner._parse = counted  # type: ignore[assignment]
    if per_database:
        os.environ[PARSE_ENV] = "per-database"
    databases = [run.create_database(f"bp{number}") for number in range(count)]
    try:
        started = time.perf_counter()
        for database in databases:
            run_dbt(project, database, ("build",))
        return time.perf_counter() - started, parses
    finally:
        runner._parse = real  # type: ignore[assignment]
        os.environ.pop(PARSE_ENV, None)
        for database in databases:
            run.drop(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--databases", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        os.environ[runner.STATE_ROOT_ENV] = str(Path(temp) / "states")
        project = write_project(Path(temp) / "bench_packages", args.models)
        server = start_server(get_target_config("postgres_local"))
        with Run(server) as run:
            warm = run.create_database("bpwarm")
            run_dbt(project, warm, ("parse",))  # dbt imported before the first series
            run.drop(warm)
            rows = []
            for kind in ("kept", "per-database", "kept", "per-database"):
                seconds, parses = series(project, run, args.databases, kind == "per-database")
                rows.append((kind, seconds, parses))
                runner._KEPT.clear()  # each series starts as a new process would (partial parsing warm on disk)
        print(f"{args.models + 1} models and dbt_utils-like package, dbt build on {args.databases} fresh databases:")
        for kind, seconds, parses in rows:
            print(f"  {kind:<13} {seconds:7.2f} s   {seconds / args.databases:5.2f} s a database   {parses} parse(s)")
        kept = sum(s for k, s, _ in rows if k == "kept")
        per = sum(s for k, s, _ in rows if k == "per-database")
        print(f"  per-database / kept: {per / kept:.2f}x")
        calls = 50
        started = time.perf_counter()
        for _ in range(calls):
            found = project_inputs(project)
        each = (time.perf_counter() - started) / calls
        print(f"  finding the inputs ({len(found.files)} files, hashed) per run: {each * 1000:.1f} ms")
        pagila = ROOT / "dbt" / "pagila_warehouse"
        started = time.perf_counter()
        for _ in range(calls):
            found = project_inputs(pagila)
        each = (time.perf_counter() - started) / calls
        print(f"  the same for dbt/pagila_warehouse ({len(found.files)} files): {each * 1000:.1f} ms")


if __name__ == "__main__":
    main()
