"""``datakits dags check``: every DAG file imports cleanly, every database route refused (framework.airflow.check)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..airflow.check import REPOSITORY_DAGS, check_dags
from ..errors import DatakitError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dags check`` to the ``datakits`` subcommands."""
    dags = sub.add_parser("dags", help="Airflow DAG files: check that they import cleanly")
    actions = dags.add_subparsers(dest="dags_command", required=True)
    check = actions.add_parser("check", help="Import every DAG file with databases refused; time each")
    check.add_argument("folder", nargs="?", help="Folder of DAG files (default: ./dags, else the repository's)")
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else (Path("dags") if Path("dags").is_dir() else REPOSITORY_DAGS)
    results = check_dags(folder)
    if not results:
        raise DatakitError(f"no DAG files (*.py) in {folder}")
    width = max(len(r.path) for r in results)
    for r in results:
        what = ", ".join(r.dags) if r.ok else r.problem()
        print(f"{'ok' if r.ok else 'FAILED':<6}  {r.path:<{width}}  {r.seconds:6.2f}s  {what}")
    failed = sum(1 for r in results if not r.ok)
    print(f"{len(results)} DAG file(s), {failed} failed")
    return 1 if failed else 0
