"""``datakits dbt``: dbt YAML generated from datakits, and dbt builds on any PostgreSQL target.

    datakits dbt sources DATAKIT [--project PATH | --output FILE] [--check] [--current]
    datakits dbt contracts DATAKIT --project PATH [--check]
    datakits dbt build --project PATH --target T [--select ...] [--vars JSON] [--keep]

``sources`` prints the datakit's dbt sources (or writes them into the project: a source the
project already describes is edited in its own file, the rest go to ``models/_<datakit>__sources.yml``;
or FILE; ``--current``: each bronze table read through its current-state view, ``identifier:
<table>__current``); ``contracts`` sets the models' contracts from a layer's datakit, in the project's own
properties files where a model is described, in ``_<folder>__models.yml`` where it is not
(``framework.dbt.generate``). With ``--check`` neither writes: exit 1 and a unified diff of each
file whose meaning differs from the datakit (comments, quoting and the kit path's spelling aside).
``build`` prints a line per node as it finishes (stderr) and a summary table (stdout). Errors (a
missing project, a broken model, a failing test, a target that is not PostgreSQL)
are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
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
from ..errors import DatakitError, DbtError
from ..kits.discovery import Datakit, load_datakit
from ..targets.named import TargetConfig
from ..targets.resolve import keep_note, open_target

__all__ = ["add_arguments", "format_nodes", "run"]


def add_arguments(parser: argparse.ArgumentParser, add_target_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    sub = parser.add_subparsers(dest="dbt_command", required=True)
    sources = sub.add_parser("sources", help="Write (or check) the dbt sources of a datakit")
    sources.add_argument("datakit", help="Datakit path, installed name or module")
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


def _sources(args: argparse.Namespace) -> int:
    kit = load_datakit(args.datakit)
    if not args.project and not args.output:
        if args.check:
            raise DatakitError("--check needs --project or --output: the file to compare")
        sys.stdout.write(sources_yaml(kit, current=args.current))
        return 0
    changes = source_changes(kit, project=args.project, output=args.output, current=args.current)
    where = args.project or args.output
    command = f"datakits dbt sources {kit.name} ...{' --current' if args.current else ''}"
    return _apply(kit, changes, args.check, "sources", command, where)


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
