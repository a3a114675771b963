"""``datakits init PATH``: a new platform project that passes its own tests with nothing edited.

    datakits init PATH [--name NAME] [--from URL]
    datakits init --update [PATH]

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

The files that are the same for every source are a template folder, ``templates/project`` (real files,
rendered by copier: :mod:`framework.cli.template`); what depends on the tables (the reflected kit, the
staging kit and models, the factories, the dbt sources and contracts) is made from the kits after it
(:mod:`framework.cli.render`, :mod:`framework.dbt.generate`). The project becomes a git repository with
one commit, so that ``datakits init --update`` can later merge a newer template into it (copier's
three-way update: the user's edits stay). A folder that exists and is not empty is refused, so nothing
of the user's is overwritten; a failure on the way takes away what this command wrote and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re
from pathlib import Path

from sqlalchemy.exc import ArgumentError

from ..dbt.generate import source_name, sources_yaml, write_contracts
from ..engines.urls import engine_of, safe_text, safe_url, to_url
from ..errors import DatakitError
from ..kits.bronze import BronzeDatakit, derive_bronze
from ..kits.discovery import Datakit, load_datakit
from ..kits.reflect import reflect_datakit
from .render import contract_kit_source, factories_source, model_test_table, staging_model_sql
from .template import git_commit_all, render, update

#: the layer dbt builds in a project reflected from a database
LAYER = "staging"

__all__ = ["init_project", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``init`` to the ``datakits`` subcommands."""
    parser = sub.add_parser("init", help="Write a new platform project: kits, dbt, pipeline, DAG, tests")
    parser.add_argument(
        "path", nargs="?", help="The new project's folder (it must not exist, or be empty); with --update: the project"
    )
    parser.add_argument("--name", help="The pipeline's name (default: the folder's name)")
    parser.add_argument(
        "--from",
        dest="source_url",
        metavar="URL",
        help="Reflect the source datakit from this database (a URL with the database) instead of the example shop",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="Bring the project (default: this folder) to this version's template, keeping your edits (commit first)",
    )
    parser.set_defaults(handler=run)


#: the longest pipeline name: bronze's schema ``br__NAME__public`` must fit PostgreSQL's 63 bytes
MAX_NAME = 40


def _name(path: Path, given: str | None) -> str:
    name = given or re.sub(r"\W+", "_", path.name.lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise DatakitError(f"{name[:60]!r} is not a usable name (lower case letters, digits, _): give --name")
    if len(name) > MAX_NAME:
        raise DatakitError(f"the name {name[:20]}... has {len(name)} characters: give a --name of {MAX_NAME} at most")
    return name


def _check_folder(root: Path) -> None:
    """A folder init may write into: new, or empty; never below a file."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DatakitError(f"{root} exists and is not empty; give a new folder (nothing was written)")
    for parent in root.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DatakitError(f"{parent} is a file, so {root} cannot be made; give a folder (nothing was written)")
            break


def _check_source(url: str) -> None:
    try:
        to_url(url)
    except (ArgumentError, ValueError):
        raise DatakitError(
            f"--from {safe_text(url)!r} is not a database URL (e.g. postgresql://user@host/db)"
        ) from None


class _Written(list[Path]):
    """The files init wrote, in order: a failure takes away these (and the folders they made), nothing else."""

    def undo(self, root: Path, root_existed: bool) -> None:
        folders: set[Path] = set()
        for path in self:
            path.unlink(missing_ok=True)
            folders.update(p for p in path.parents if p.is_relative_to(root) and p != root)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):  # not empty: something of someone else's is in it
                folder.rmdir()
        if not root_existed:
            with contextlib.suppress(OSError):
                root.rmdir()


def _put(written: _Written, path: Path, text: str) -> None:
    """Write one file of the project, noted first so that a failure half-way takes it away too."""
    written.append(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _render(written: _Written, root: Path, answers: dict[str, str]) -> None:
    """The template's files (templates/project, by copier), their answers in .copier-answers.yml."""
    render(root, answers, written=written)  # each file noted before it is written


def _bronze(root: Path, name: str) -> tuple[Datakit, BronzeDatakit]:
    source = load_datakit(root / "kits" / f"{name}_source")
    return source, dataclasses.replace(derive_bronze(source), name=f"{name}_bronze")


def _generated(written: _Written, root: Path, name: str, bronze: BronzeDatakit, layer: str) -> None:
    """The dbt YAML made from the kits: the bronze datakit's sources, the layer's contracts."""
    _put(written, root / "warehouse" / "models" / "sources.yml", sources_yaml(bronze))
    kit = load_datakit(root / "kits" / f"{name}_{layer}")  # named as the README's command names it, from root:
    kit = dataclasses.replace(kit, name=f"kits/{name}_{layer}")  # the generated header then matches a --check
    written += write_contracts(kit, root / "warehouse")


def _example(written: _Written, root: Path, name: str) -> None:
    _render(written, root, {"name": name, "flavour": "example", "layer": "marts", "source": "data"})
    _, bronze = _bronze(root, name)
    _generated(written, root, name, bronze, "marts")


def _driver(url: str) -> str:
    """The install extra of the source's driver, for the project's dependencies (SQLite needs none)."""
    return {"postgresql": "postgres", "mysql": "mysql"}.get(engine_of(url), "")


def _from_database(written: _Written, root: Path, name: str, url: str) -> None:
    """The source kit reflected from ``url``; staging kit, models and factories made from its tables."""
    written += [root / "kits" / f"{name}_source" / f for f in ("__init__.py", "models.py")]  # what reflect writes
    reflected_kit = reflect_datakit(url, root / "kits" / f"{name}_source")
    source, bronze = _bronze(root, name)
    tested, class_name = model_test_table(source)  # the table the dbt model test rebuilds, and its class
    answers = {"name": name, "flavour": "from", "layer": LAYER, "source": safe_url(url), "driver": _driver(url)}
    _render(written, root, {**answers, "table": str(tested), "class_name": str(class_name)})
    made = {
        root / "kits" / f"{name}_source" / "factories.py": factories_source(
            source, f"{name}_source.models", f"factory_boy factories of {name}_source, made from its column types."
        ),
        root / "kits" / f"{name}_staging" / "models.py": contract_kit_source(
            source,
            LAYER,
            f"The staging tables dbt builds (warehouse/models/staging): each table of {name}_source, its columns "
            "and key.\n\nWritten by `datakits init --from` from the reflected tables; no foreign keys, uniques or "
            "indexes: dbt rebuilds\nthe tables, so those are tests. Regenerate the contracts after an edit:\n"
            f"datakits dbt contracts kits/{name}_staging --project warehouse\n",
        ),
    }
    bronze_source = source_name(bronze, None)
    for table in source.tables:
        made[root / "warehouse" / "models" / LAYER / f"{table.name}.sql"] = staging_model_sql(table, bronze_source)
    for path, text in made.items():
        _put(written, path, text)
    skipped = [f"{table} ({why})" for table, why in sorted(reflected_kit.skipped.items())]
    if skipped:
        print(f"left out of the source kit: {', '.join(skipped)}")
    _generated(written, root, name, bronze, LAYER)


def init_project(path: str | Path, name: str | None = None, source_url: str | None = None) -> list[Path]:
    """Write the project into ``path`` (the example shop, or reflected from ``source_url``); the files written.

    A failure on the way takes away the files this call wrote and the folders it made for them, and
    nothing else: a file someone else put into the folder meanwhile stays (issue 26).
    """
    root = Path(path).resolve()
    _check_folder(root)
    project = _name(root, name)
    if source_url is not None:
        _check_source(source_url)
    existed = root.exists()
    written = _Written()
    try:
        if source_url:
            _from_database(written, root, project, source_url)
        else:
            _example(written, root, project)
    except OSError as exc:  # a folder that cannot be written, a full disk: one line, not a traceback
        written.undo(root, existed)
        raise DatakitError(f"cannot write {exc.filename or root}: {exc.strerror or exc} (nothing was kept)") from None
    except BaseException:
        written.undo(root, existed)
        raise
    return list(dict.fromkeys(written))


def update_project(path: str | Path = ".") -> None:
    """``datakits init --update``: the project at ``path`` brought to the installed toolkit's template."""
    root = Path(path).resolve()
    old, new = update(root)
    if old == new:
        print(f"{root} is on the template of {new} already: nothing to update")
        return
    conflicts = [p for p in root.rglob("*.rej") if ".git" not in p.parts]
    print(f"updated {root} from the template of {old} to {new}: review it with `git diff`, then commit")
    print("    where the template and your edits changed the same lines, git diff shows <<<<<<< markers")
    if conflicts:
        print(f"    rejected changes: {', '.join(str(p.relative_to(root)) for p in conflicts)}")


def run(args: argparse.Namespace) -> int:
    if args.update:
        if args.name or args.source_url:
            raise DatakitError("--update takes no --name or --from: it keeps the project's own answers")
        update_project(args.path or ".")
        return 0
    if not args.path:
        raise DatakitError("give the new project's folder: datakits init PATH")
    written = init_project(args.path, args.name, args.source_url)
    root = Path(args.path).resolve()
    if not git_commit_all(root, f"datakits init {' '.join(['--from URL'] if args.source_url else [])}".strip()):
        print("git is not installed: the project is not a git repository, so datakits init --update cannot merge")
    name = _name(root, args.name)
    source = safe_url(args.source_url) if args.source_url else "data"
    print(f"wrote {len(written)} files into {root}; then, there:")
    print("    pytest -n 2")
    print(f"    datakits pipeline {name} --source {source} --target postgres_embedded")
    print("    datakits dags check")
    return 0
