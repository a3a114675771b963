"""``datakits init PATH``: a new platform project that passes its own tests with nothing edited.

    datakits init PATH [--name NAME] [--from URL]

Without ``--from``: a source datakit (a small shop: customers and orders) with factories, landing files
that fit it (``data/*.csv``), a contract datakit of the marts dbt builds, a dbt project whose sources (of
the derived bronze) and contracts (of the marts) are generated from the kits, the pipeline declared in
``pyproject.toml``, its DAG (``pipeline_dag``) and a tests folder using the plugin. Then, in PATH:
``pytest -n 2``, ``datakits pipeline NAME --source data --target postgres_embedded`` and ``datakits
dags check`` pass.

With ``--from URL``: the source datakit is reflected from that database (``reflect_datakit``; its
tables with a primary key), its factories made from the column types, and dbt builds a staging layer:
one model per source table (the latest version of each key in bronze), whose contract datakit
(``kits/NAME_staging``) is the source's tables in schema ``staging``, columns and keys only. Then
``datakits pipeline NAME --source URL --target postgres_embedded`` runs from that same database.

The templates are :mod:`framework.cli.scaffold` and :mod:`framework.cli.scaffold_from`. A folder that
exists and is not empty is refused, so nothing of the user's is overwritten; a failure on the way
takes away what this command wrote.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
from pathlib import Path

from ..dbt.generate import source_name, sources_yaml, write_contracts
from ..engines.urls import safe_url
from ..errors import DatakitError
from ..kits.bronze import BronzeDatakit, derive_bronze
from ..kits.discovery import Datakit, load_datakit
from ..kits.reflect import reflect_datakit
from .render import contract_kit_source, factories_source, model_test_table, staging_model_sql
from .scaffold import EXAMPLE, Flavour, fill
from .scaffold_from import reflected

__all__ = ["init_project", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``init`` to the ``datakits`` subcommands."""
    parser = sub.add_parser("init", help="Write a new platform project: kits, dbt, pipeline, DAG, tests")
    parser.add_argument("path", help="The new project's folder (it must not exist, or be empty)")
    parser.add_argument("--name", help="The pipeline's name (default: the folder's name)")
    parser.add_argument(
        "--from",
        dest="source_url",
        metavar="URL",
        help="Reflect the source datakit from this database (a URL with the database) instead of the example shop",
    )
    parser.set_defaults(handler=run)


def _name(path: Path, given: str | None) -> str:
    name = given or re.sub(r"\W+", "_", path.name.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise DatakitError(f"{name!r} is not a usable name (lower case letters, digits, _): give --name")
    return name


def _write(root: Path, name: str, flavour: Flavour) -> list[Path]:
    written = []
    for relative, template in flavour.templates().items():
        target = root / fill(relative, name, flavour)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fill(template, name, flavour), encoding="utf-8")
        written.append(target)
    return written


def _bronze(root: Path, name: str) -> tuple[Datakit, BronzeDatakit]:
    source = load_datakit(root / "kits" / f"{name}_source")
    return source, dataclasses.replace(derive_bronze(source), name=f"{name}_bronze")


def _generated(root: Path, name: str, bronze: BronzeDatakit, layer: str) -> list[Path]:
    """The dbt YAML made from the kits: the bronze datakit's sources, the layer's contracts."""
    sources = root / "warehouse" / "models" / "sources.yml"
    sources.write_text(sources_yaml(bronze), encoding="utf-8")
    kit = load_datakit(root / "kits" / f"{name}_{layer}")  # named as the README's command names it, from root:
    kit = dataclasses.replace(kit, name=f"kits/{name}_{layer}")  # the generated header then matches a --check
    return [sources, *write_contracts(kit, root / "warehouse")]


def _example(root: Path, name: str) -> list[Path]:
    written = _write(root, name, EXAMPLE)
    _, bronze = _bronze(root, name)
    return written + _generated(root, name, bronze, EXAMPLE.layer)


def _from_database(root: Path, name: str, url: str) -> list[Path]:
    """The source kit reflected from ``url``; staging kit, models and factories made from its tables."""
    reflected_kit = reflect_datakit(url, root / "kits" / f"{name}_source")
    source, bronze = _bronze(root, name)
    flavour = reflected(safe_url(url), *model_test_table(source))
    written = [root / "kits" / f"{name}_source" / f for f in ("__init__.py", "models.py")]
    written += _write(root, name, flavour)
    made = {
        root / "kits" / f"{name}_source" / "factories.py": factories_source(
            source, f"{name}_source.models", f"factory_boy factories of {name}_source, made from its column types."
        ),
        root / "kits" / f"{name}_staging" / "models.py": contract_kit_source(
            source,
            flavour.layer,
            f"The staging tables dbt builds (warehouse/models/staging): each table of {name}_source, its columns "
            "and key.\n\nWritten by `datakits init --from` from the reflected tables; no foreign keys, uniques or "
            "indexes: dbt rebuilds\nthe tables, so those are tests. Regenerate the contracts after an edit:\n"
            f"datakits dbt contracts kits/{name}_staging --project warehouse\n",
        ),
    }
    bronze_source = source_name(bronze, None)
    for table in source.tables:
        made[root / "warehouse" / "models" / flavour.layer / f"{table.name}.sql"] = staging_model_sql(
            table, bronze_source
        )
    for path, text in made.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    skipped = [f"{table} ({why})" for table, why in sorted(reflected_kit.skipped.items())]
    if skipped:
        print(f"left out of the source kit: {', '.join(skipped)}")
    return written + list(made) + _generated(root, name, bronze, flavour.layer)


def init_project(path: str | Path, name: str | None = None, source_url: str | None = None) -> list[Path]:
    """Write the project into ``path`` (the example shop, or reflected from ``source_url``); the files written."""
    root = Path(path).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DatakitError(f"{root} exists and is not empty; give a new folder (nothing was written)")
    project = _name(root, name)
    existed = root.exists()
    try:
        return _from_database(root, project, source_url) if source_url else _example(root, project)
    except BaseException:
        if existed:  # empty before: leave it empty
            for child in root.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(root, ignore_errors=True)
        raise


def run(args: argparse.Namespace) -> int:
    written = init_project(args.path, args.name, args.source_url)
    root = Path(args.path).resolve()
    name = _name(root, args.name)
    source = safe_url(args.source_url) if args.source_url else "data"
    print(f"wrote {len(written)} files into {root}; then, there:")
    print("    pytest -n 2")
    print(f"    datakits pipeline {name} --source {source} --target postgres_embedded")
    print("    datakits dags check")
    return 0
