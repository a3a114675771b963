"""``datakits dags check``: every DAG file imports cleanly, every database route refused (framework.airflow.check)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..airflow.check import check_dags
from ..errors import DatakitError
from ..pipeline.declared import find_pyproject, pipelines_from_pyproject


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dags check`` to the ``datakits`` subcommands."""
    dags = sub.add_parser("dags", help="Airflow DAG files: check that they import cleanly")
    actions = dags.add_subparsers(dest="dags_command", required=True)
    check = actions.add_parser("check", help="Import every DAG file with databases refused; time each")
    check.add_argument(
        "folder", nargs="?", help="Folder of DAG files (default: what pyproject.toml declares, else ./dags)"
    )
    check.set_defaults(handler=run)


def default_folder() -> Path:
    """The DAG folder the nearest ``pyproject.toml``'s pipelines declare (``dags = ...``), else ``./dags``.

    Never an installed package's folder: an entry point's pipeline (Pagila in a wheel) is not this project's.
    """
    pyproject = find_pyproject()
    declared = pipelines_from_pyproject(pyproject) if pyproject is not None else {}
    folders = list(dict.fromkeys(p.dags for p in declared.values() if p.dags))
    if len(folders) > 1:
        raise DatakitError(f"the pipelines of {pyproject} declare {len(folders)} DAG folders; give one")
    return Path(folders[0]) if folders else Path("dags")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else default_folder()
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
