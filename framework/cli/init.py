"""``datakits init PATH``: a new platform project that passes its own tests with nothing edited.

    datakits init PATH [--name NAME]

Writes a source datakit (a small shop: customers and orders) with factories, landing files that fit it
(``data/*.csv``), a contract datakit of the marts dbt builds, a dbt project whose sources (of the
derived bronze) and contracts (of the marts) are generated from the kits, the pipeline declared in
``pyproject.toml``, its DAG (``pipeline_dag``) and a tests folder using the plugin. Then, in PATH:
``pytest -n 2``, ``datakits pipeline NAME --source data --target postgres_embedded`` and ``datakits
dags check`` pass. The templates are :mod:`framework.cli.scaffold`. A folder that exists and is not
empty is refused, so nothing of the user's is overwritten.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

from ..dbt.generate import sources_yaml, write_contracts
from ..errors import DatakitError
from ..kits.bronze import derive_bronze
from ..kits.discovery import load_datakit
from .scaffold import FILES

__all__ = ["init_project", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``init`` to the ``datakits`` subcommands."""
    parser = sub.add_parser("init", help="Write a new platform project: kits, dbt, pipeline, DAG, tests")
    parser.add_argument("path", help="The new project's folder (it must not exist, or be empty)")
    parser.add_argument("--name", help="The pipeline's name (default: the folder's name)")
    parser.set_defaults(handler=run)


def _name(path: Path, given: str | None) -> str:
    name = given or re.sub(r"\W+", "_", path.name.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise DatakitError(f"{name!r} is not a usable name (lower case letters, digits, _): give --name")
    return name


def init_project(path: str | Path, name: str | None = None) -> list[Path]:
    """Write the project into ``path``; the files written."""
    root = Path(path).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DatakitError(f"{root} exists and is not empty; give a new folder (nothing was written)")
    project = _name(root, name)
    written: list[Path] = []
    for relative, template in FILES.items():
        target = root / relative.replace("__NAME__", project)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.replace("__NAME__", project), encoding="utf-8")
        written.append(target)
    # the dbt YAML made from the kits: the bronze datakit's sources, the marts' contracts
    source = load_datakit(root / "kits" / f"{project}_source")
    bronze = dataclasses.replace(derive_bronze(source), name=f"{project}_bronze")
    sources = root / "warehouse" / "models" / "sources.yml"
    sources.write_text(sources_yaml(bronze), encoding="utf-8")
    marts = load_datakit(root / "kits" / f"{project}_marts")
    written += [sources, *write_contracts(marts, root / "warehouse")]
    return written


def run(args: argparse.Namespace) -> int:
    written = init_project(args.path, args.name)
    root = Path(args.path).resolve()
    name = _name(root, args.name)
    print(f"wrote {len(written)} files into {root}; then, there:")
    print("    pytest -n 2")
    print(f"    datakits pipeline {name} --source data --target postgres_embedded")
    print("    datakits dags check")
    return 0
