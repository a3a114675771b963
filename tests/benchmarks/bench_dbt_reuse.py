"""The dbt developer's loop on postgres_embedded: a rerun with ``--datakit-reuse``, and one model after a warm parse.

    python tests/benchmarks/bench_dbt_reuse.py

1. The repository's dbt tests (docs/examples/dbt: generated Pagila filled into the template, the
   warehouse built by dbt, tests reading gold and one building silver with ``datakit_dbt``) run
   twice in child processes, the first with ``--datakit-create`` (it deploys, fills and builds the
   template and keeps it), the second with ``--datakit-reuse`` (it clones it). Wall time of each
   child process, side by side, and the ratio (goal: the second at least 5x faster); for the whole
   suite, then for the tests that only read the warehouse (the silver build in the other test parses
   the project cold in each run: its database's name, which dbt's manifest holds, is the run's own).
2. ``datakit_dbt.build(select=<model>)`` in a test after a warm parse: the same build twice in one
   test, the second timed (goal: under 0.5 s).

The embedded server's data folder and the kept template live in a temp cache folder, removed at
the end. A benchmark, not a test: nothing asserts; it prints.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "dbt"
PROJECT = ROOT / "dbt" / "pagila_warehouse"

ONE_MODEL = """
import time


def test_one_model_after_a_warm_parse(datakit_dbt):
    datakit_dbt.build(select="{model}")  # the parse of this process's state folder gets warm
    started = time.perf_counter()
    datakit_dbt.build(select="{model}")
    print(f"BENCH one model: {{time.perf_counter() - started:.3f}}")
"""


def pytest_run(folder: Path, cache: Path, *args: str) -> tuple[float, str]:
    command = [
        sys.executable, "-m", "pytest", str(folder), "-q", "-s", "-p", "no:faker", "-p", "no:pytest_postgresql",
        "-o", f"cache_dir={cache}", "--rootdir", str(folder),
        "--datakit", "pagila_source", "--datakit", "pagila_bronze", "--datakit-dbt", str(PROJECT),
        "--datakit-target", "postgres_embedded", *args,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"pytest exited with {done.returncode}")
    return seconds, done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reuse-") as tmp:
        folder, cache = Path(tmp) / "suite", Path(tmp) / "cache"
        shutil.copytree(EXAMPLE, folder)
        suites = [("the whole suite", ()), ("the tests that read the warehouse", ("-k", "not reaches_silver"))]
        for number, (what, select) in enumerate(suites, 1):
            first, out1 = pytest_run(folder, cache, "--datakit-create", *select)
            second, out2 = pytest_run(folder, cache, "--datakit-reuse", *select)
            notes = [re.search(r"template: (.*)", out).group(1) for out in (out1, out2)]  # type: ignore[union-attr]
            print(f"1.{number} docs/examples/dbt, {what}, on postgres_embedded: wall time of the child process")
            print(f"   first run (--datakit-create)  {first:7.2f} s   template: {notes[0]}")
            print(f"   second run (--datakit-reuse)  {second:7.2f} s   template: {notes[1]}")
            print(f"   second / first: 1/{first / second:.1f}  (goal: 1/5 or better)")

        (folder / "test_one_model.py").write_text(ONE_MODEL.format(model=os.environ.get("BENCH_MODEL", "dim_store")))
        _, out3 = pytest_run(folder, cache, "--datakit-reuse", "-k", "one_model")
        one = float(re.search(r"BENCH one model: ([0-9.]+)", out3).group(1))  # type: ignore[union-attr]
        print("2. datakit_dbt.build(select=<one model>) after a warm parse, in process")
        print(f"   {one:.3f} s  (goal: under 0.5 s)")


if __name__ == "__main__":
    main()
