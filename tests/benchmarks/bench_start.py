"""What the plugin adds to pytest's start, and ``datakits --help`` to Python's, side by side.

    python tests/benchmarks/bench_start.py [--runs 7] [--before OTHER_VENV/bin/python]

On an empty test folder (one test that uses no fixture of the plugin's), interleaved (A B A B ...):
``python -m pytest -p no:datakits`` vs ``python -m pytest`` (the plugin on), and ``python -c pass``
vs ``datakits --help``. Prints the medians and the ratios (the goal: the plugin adds at most 10%;
``datakits --help`` is compared with Python's bare start). ``--before`` adds the same two commands from
another environment (another checkout's venv: the code before a change) to the same interleaving.
To find what a start imports: ``python -X importtime -c 'import pytest_datakits.plugin'``. A
benchmark, not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
DATAKITS = str(Path(PYTHON).with_name("datakits"))


def _time(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", help="the python of another environment, measured side by side")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-start-"))
    try:
        (folder / "test_plain.py").write_text("def test_plain():\n    assert True\n")
        (folder / "pytest.ini").write_text("[pytest]\n")
        pytest = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        cases = {
            "pytest -p no:datakits": [*pytest, "-p", "no:datakits"],
            "pytest (plugin on)": pytest,
            "python -c pass": [PYTHON, "-c", "pass"],
            "datakits --help": [DATAKITS, "--help"],
        }
        if args.before:
            before = Path(args.before)
            cases["before: pytest -p no:datakits"] = [str(before), *pytest[1:], "-p", "no:datakits"]
            cases["before: pytest (plugin on)"] = [str(before), *pytest[1:]]
            cases["before: datakits --help"] = [str(before.with_name("datakits")), "--help"]
        times: dict[str, list[float]] = {name: [] for name in cases}
        for command in cases.values():  # warm the file cache and the bytecode once
            _time(command, folder)
        for _ in range(args.runs):  # interleaved: A B C D A B C D ...
            for name, command in cases.items():
                times[name].append(_time(command, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    median = {name: statistics.median(found) for name, found in times.items()}
    load = os.getloadavg()[0]
    print(f"{args.runs} interleaved runs each, load {load:.1f}, medians:")
    for name, seconds in median.items():
        print(f"  {name:<32} {seconds:6.3f} s")
    plugin = median["pytest (plugin on)"] / median["pytest -p no:datakits"]
    print(f"pytest with the plugin / without:       {plugin:.2f}x (goal <= 1.10x)")
    cli = median["datakits --help"] - median["python -c pass"]
    print(f"datakits --help / python -c pass:       {median['datakits --help'] / median['python -c pass']:.2f}x")
    print(f"datakits --help beyond Python's start:  {cli:.3f} s")
    if args.before:
        was = median["before: pytest (plugin on)"] / median["before: pytest -p no:datakits"]
        print(f"before: pytest with the plugin / without: {was:.2f}x")
        cli_was = median["before: datakits --help"] / median["python -c pass"]
        print(f"before: datakits --help / python -c pass: {cli_was:.2f}x")


if __name__ == "__main__":
    main()
