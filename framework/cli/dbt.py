"""``datakits dbt``: dbt YAML generated from datakits, and dbt builds on any PostgreSQL target.

    datakits dbt sources DATAKIT [--derive-bronze] [--source-name N] [--current] [--project PATH | --output F] [--check]
    datakits dbt contracts DATAKIT --project PATH [--check]
    datakits dbt build --project PATH --target T [--select ...] [--vars JSON] [--keep]

``sources`` prints the datakit's dbt sources (or writes them into the project: a source the
project already describes is edited in its own file, the rest go to ``models/_<datakit>__sources.yml``
or the file already generated from the datakit; or FILE). With ``--derive-bronze`` (or a DATAKIT
``X_bronze`` that is no datakit while ``X_source`` is) they are the sources of the bronze datakit
derived from the source datakit, as a pipeline without ``bronze`` and ``datakits init`` derive it;
``--source-name`` names the dbt source (default: the datakit's name); ``--current`` reads each
bronze table through its current-state view (``identifier: <table>__current``). ``contracts`` sets the
models' contracts from a layer's datakit, in the project's own properties files where a model is
described, in ``_<folder>__models.yml`` where it is not (``framework.dbt.generate``). With
``--check`` neither writes: exit 1 and a unified diff of each file whose meaning differs from the
datakit (comments, quoting and the kit path's spelling aside). ``build`` prints a line per node as
it finishes (stderr) and a summary table (stdout). Errors (a missing project, a broken model, a
failing test, a target that is not PostgreSQL, ``--vars`` that is not a JSON object) are one line on
stderr and exit status 2, as is a file that cannot be read or written (nothing is written then:
``framework.dbt.writing``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..dbt.generate import (
    FileChange,
    contract_changes,
    drift_of,
    kit_label,
    source_changes,
    sources_yaml,
    write_changes,
)
from ..dbt.runner import DbtNode, DbtResult, failure_message, postgres_targets, project_dir, run_dbt
from ..engines import engine_kind
from ..errors import DatakitError, DatakitNotFound, DbtError
from ..kits.bronze import add_derive_flag, derive_bronze, kit_short_name
from ..kits.discovery import Datakit, load_datakit
from ..targets.named import TargetConfig
from ..targets.resolve import keep_note, open_target

__all__ = ["add_arguments", "format_nodes", "run"]


def add_arguments(parser: argparse.ArgumentParser, add_target_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    sub = parser.add_subparsers(dest="dbt_command", required=True)
    sources = sub.add_parser("sources", help="Write (or check) the dbt sources of a datakit")
    sources.add_argument("datakit", help="Datakit path, installed name or module")
    add_derive_flag(sources)
    sources.add_argument("--source-name", metavar="NAME", help="The dbt source's name (default: the datakit's)")
    where = sources.add_mutually_exclusive_group()
    where.add_argument("--project", help="dbt project: write models/_<datakit>__sources.yml there")
    where.add_argument("--output", help="Write to this file (default: print)")
    sources.add_argument("--check", action="store_true", help="Write nothing; exit 1 when the file differs")
    sources.add_argument(
        "--current",
        action="store_true",
        help="Read each bronze table's current state: identifier <table>__current (one row per key)",
    )
    contracts = sub.add_parser("contracts", help="Write (or check) the model contracts of a layer's datakit")
    contracts.add_argument("datakit", help="Datakit path, installed name or module")
    contracts.add_argument("--project", required=True, help="dbt project folder (with dbt_project.yml)")
    contracts.add_argument("--check", action="store_true", help="Write nothing; exit 1 and the differences")
    build = sub.add_parser("build", help="dbt build (or another command) against a PostgreSQL target")
    build.add_argument("--project", required=True, help="dbt project folder (with dbt_project.yml)")
    build.add_argument("--select", "-s", nargs="+", help="dbt node selection")
    build.add_argument("--vars", help="dbt variables, as JSON")
    build.add_argument("--command", dest="dbt_args", default="build", help="dbt command (default: build)")
    build.add_argument("--keep", action="store_true", help="Keep a disposable database and print its URL")
    add_target_flags(build)


def run(args: argparse.Namespace, target: Callable[[argparse.Namespace], TargetConfig]) -> int:
    if args.dbt_command == "sources":
        return _sources(args)
    if args.dbt_command == "contracts":
        return _contracts(args)
    return _build(args, target(args))


def _bronze(source: Datakit) -> Datakit:
    """The bronze datakit derived from ``source``, named as ``datakits init`` names it (``shop_bronze``)."""
    return dataclasses.replace(derive_bronze(source), name=f"{kit_short_name(source)}_bronze")


def sources_kit(name: str, derive: bool = False) -> Datakit:
    """The datakit whose sources are written: ``name``; with ``derive``, or when ``name`` is an ``X_bronze``
    that is no datakit while ``X_source`` is, the bronze datakit derived from the source datakit."""
    if derive:
        return _bronze(load_datakit(name))
    try:
        return load_datakit(name)
    except DatakitNotFound:
        stripped = name.rstrip("/\\")
        if not stripped.endswith("_bronze"):
            raise
        try:
            source = load_datakit(stripped.removesuffix("bronze") + "source")
        except DatakitNotFound:
            source_name = stripped.removesuffix("bronze") + "source"
            raise DatakitNotFound(
                f"{name}: no such datakit, nor a source datakit {source_name} to derive it from"
            ) from None
    return _bronze(source)


def _sources(args: argparse.Namespace) -> int:
    kit = sources_kit(args.datakit, args.derive_bronze)
    name = args.source_name
    if name is not None and not name.strip():
        raise DatakitError("--source-name is empty; give the dbt source's name")
    if not args.project and not args.output:
        if args.check:
            raise DatakitError("--check needs --project or --output: the file to compare")
        sys.stdout.write(sources_yaml(kit, name=name, current=args.current))
        return 0
    changes = source_changes(kit, project=args.project, output=args.output, name=name, current=args.current)
    where = args.project or args.output
    flags = (" --derive-bronze" if args.derive_bronze else "") + (f" --source-name {name}" if name else "")
    flags += " --current" if args.current else ""
    return _apply(kit, changes, args.check, "sources", f"datakits dbt sources {args.datakit}{flags} ...", where)


def _contracts(args: argparse.Namespace) -> int:
    kit = load_datakit(args.datakit)
    changes = contract_changes(kit, args.project)
    return _apply(
        kit,
        changes,
        args.check,
        "model contracts",
        f"datakits dbt contracts {kit.name} --project {args.project}",
        args.project,
    )


def _apply(kit: Datakit, changes: list[FileChange], check: bool, what: str, command: str, where: str) -> int:
    """Write the changes, or with ``check`` print a diff of each and exit 1 when any says something else."""
    label = kit_label(kit)
    if check:
        drift = drift_of(kit, changes)
        if drift:
            print(f"{len(drift)} file(s) differ from the datakit {label}:")
            for item in drift:
                print(str(item).rstrip())
            print(f"run: {command}")
            return 1
        print(f"the {what} in {where} match the datakit {label}")
        return 0
    written = write_changes(changes)
    for path in written:
        print(f"{'removed' if not path.exists() else 'wrote'} {path}")
    print(f"{len(written)} file(s) written from {label}" if written else f"unchanged: they match {label}")
    return 0


def _progress_line(node: DbtNode) -> None:
    rows = f"{node.rows_affected:>9,} rows" if node.rows_affected is not None and node.builds else " " * 14
    print(f"  {node.resource_type:<9} {node.name:<48} {node.status:<8} {rows} {node.seconds:7.2f}s", file=sys.stderr)


def format_nodes(result: DbtResult) -> str:
    """A summary table: per resource type, how many ran, passed, failed, and the seconds; then the total."""
    head = ("resource", "nodes", "ok", "failed", "skipped", "seconds")
    rows = []
    for kind in sorted({n.resource_type for n in result.nodes}):
        nodes = result.of_type(kind)
        failed = sum(1 for n in nodes if n.failed)
        skipped = sum(1 for n in nodes if n.status == "skipped")
        seconds = sum(n.seconds for n in nodes)
        rows.append(
            (kind, str(len(nodes)), str(len(nodes) - failed - skipped), str(failed), str(skipped), f"{seconds:.2f}")
        )
    failed_total = len(result.failed)
    total = ("total", str(len(result.nodes)), "", str(failed_total), "", f"{result.seconds:.2f}")
    widths = [max(len(r[i]) for r in [head, *rows, total]) for i in range(len(head))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), rule, *(fmt(r) for r in rows), rule, fmt(total)])


def _build(args: argparse.Namespace, config: TargetConfig) -> int:
    project = project_dir(args.project)
    if engine_kind(config.engine).dbt_adapter is None:
        raise DbtError(
            f"dbt here runs on PostgreSQL targets ({', '.join(postgres_targets())} or a postgresql:// URL); "
            f"{config.name} is {config.engine}"
        )
    try:
        variables = json.loads(args.vars) if args.vars else None
    except json.JSONDecodeError as exc:
        raise DatakitError(f"--vars is not JSON: {exc}") from None
    if variables is not None and not isinstance(variables, dict):
        kind = type(variables).__name__
        raise DatakitError(f'--vars must be a JSON object of dbt variables (\'{{"key": "value"}}\'), not a {kind}')
    with open_target(config, keep=args.keep) as database, tempfile.TemporaryDirectory(prefix="datakits-dbt-") as tmp:
        where = f"{config.name} ({database.safe_url})" if config.disposable else database.safe_url
        print(f"dbt {args.dbt_args} {project} on {where}", file=sys.stderr)
        result = run_dbt(
            project,
            database,
            tuple(args.dbt_args.split()),
            select=args.select,
            vars=variables,
            check=False,
            progress=_progress_line,
            state_dir=Path(tmp) if config.disposable else None,  # a database of this command's only
        )
        print(format_nodes(result))
        if args.keep and config.disposable:
            print(keep_note(config, database))
    if result.failed:
        raise DbtError(failure_message(result))
    if args.select and not result.nodes:  # dbt itself ends "successfully" having run nothing
        print(f"datakits: dbt selected nothing with --select {' '.join(args.select)}; check it", file=sys.stderr)
        return 1
    return 0
