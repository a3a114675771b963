"""The ``datakits`` command: targets, deploy, validate, reap.

    datakits targets                  (or --list-targets, the original framework's flag)
    datakits deploy PATH|NAME --target T [--derive-bronze] [--validate] [--cleanup] [--keep]
                                      [--batches full|incremental]
    datakits validate PATH|NAME --target T [--derive-bronze] [--ignore-extra-tables]
    datakits reap --target T [--templates]
    datakits load --source URL --datakit NAME --target T [--tables ...] [--batch-id ...] [--workers N]
    datakits generate pagila --scale S --target T [--seed N] [--keep]
    datakits pipeline NAME --source URL|generate[:SCALE]|FOLDER --target T [--batch-id B] [--workers N]
    datakits pipelines                        the declared pipelines (pyproject.toml, entry points)
    datakits init PATH [--name NAME]          a new platform project that passes its own tests
    datakits stack up|trigger|status|down     the local compose stack (framework.cli.stack)
    datakits dags check [FOLDER]
    datakits dbt sources|contracts|build ...   (framework.cli.dbt)
    datakits reflect URL [--schema S ...] [--tables ...] --out PATH [--force]

A named target is disposable (a database of this run's own, dropped at the end), and so is a
server URL (a PostgreSQL or MySQL URL without a database, as the plugin takes it); a URL with a
database, or the connection flags ``--target-type --host --port --database --user --password``,
mean that very database. Errors are one line on stderr and exit status 2 (bad input) or 1 (drift, refused DDL).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..engines import ENGINES
from ..engines.urls import safe_text
from ..errors import DatakitError, DeployError
from ..kits.bronze import add_derive_flag, derive_bronze
from ..kits.current import BATCH_MODES, DEFAULT_BATCHES
from ..kits.deploy import cleanup_deployment, deploy_data_objects
from ..kits.discovery import load_datakit
from ..kits.validate import validate_deployment
from ..loading.generators import MAX_SCALE, installed_generators, load_generator
from ..signals import interrupt_on_sigterm
from ..targets.named import SERVER_URL, TargetConfig, create_custom_target, list_targets
from ..targets.resolve import keep_note, open_target, reap_report, target_config
from . import dbt as dbt_command
from .dags import register as register_dags
from .init import register as register_init
from .load import add_load_arguments, run_load
from .pipeline import register as register_pipeline
from .reflect import add_arguments as add_reflect_arguments
from .stack import register as register_stack


def _add_target_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", "-t", help="Target name or SQLAlchemy URL (see 'datakits targets')")
    group = parser.add_argument_group("connection flags (instead of --target: that very database)")
    group.add_argument("--target-type", choices=list(ENGINES), help="Engine")
    group.add_argument("--host", help="Server host")
    group.add_argument("--port", type=int, help="Server port")
    group.add_argument("--database", help="Database name (SQLite: file path)")
    group.add_argument("--user", help="User name")
    group.add_argument("--password", help="Password (never printed)")


def _target(args: argparse.Namespace) -> TargetConfig:
    if args.target_type:
        if not args.database:
            raise DatakitError("--target-type needs --database (for SQLite, the file path)")
        return create_custom_target(
            args.target_type,
            args.database,
            host=args.host,
            port=args.port,
            user=args.user,
            password=args.password,
        )
    if not args.target:
        raise DatakitError("give --target NAME|URL or the connection flags (--target-type ... --database ...)")
    return target_config(args.target)


def _version() -> str:
    """The installed distribution's version, from its metadata (pyproject.toml is the one place it is written)."""
    try:
        return version("pytest-datakits")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datakits", description="Deploy and validate datakits on any target")
    parser.add_argument("--version", action="version", version=f"datakits {_version()}")
    parser.add_argument("--list-targets", action="store_true", help="List the named targets (as 'datakits targets')")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("targets", help="List the named targets")
    deploy = sub.add_parser("deploy", help="Deploy a datakit's tables")
    deploy.add_argument("datakit", nargs="?", help="Datakit path, installed name or module")
    deploy.add_argument("--list-targets", action="store_true", help="List the named targets and exit")
    deploy.add_argument("--validate", action="store_true", help="Validate after deploying")
    deploy.add_argument("--cleanup", action="store_true", help="Drop the datakit's tables at the end")
    deploy.add_argument("--keep", action="store_true", help="Keep a disposable database and print its URL")
    deploy.add_argument(
        "--batches",
        choices=BATCH_MODES,
        default=DEFAULT_BATCHES,
        help="What a bronze batch is, for the <table>__current views: the whole table (full, default) or new rows",
    )
    add_derive_flag(deploy)
    _add_target_flags(deploy)
    validate = sub.add_parser("validate", help="Validate a deployed datakit against its contract")
    validate.add_argument("datakit", help="Datakit path, installed name or module")
    validate.add_argument(
        "--ignore-extra-tables",
        action="store_true",
        help="Tables of the datakit's schemas that it does not have are not drift (a schema shared with "
        "dbt's seeds and staging, or another team's tables)",
    )
    add_derive_flag(validate)
    _add_target_flags(validate)
    reaper = sub.add_parser("reap", help="Drop databases left by dead runs on a target's server")
    reaper.add_argument(
        "--templates", action="store_true", help="Drop the kept templates too (pytest --datakit-reuse keeps them)"
    )
    _add_target_flags(reaper)
    load = sub.add_parser("load", help="Load source tables into bronze tables, in parallel, in one batch")
    add_load_arguments(load)
    _add_target_flags(load)
    generate = sub.add_parser("generate", help="Fill a database with generated data (Pagila at any scale)")
    generate.add_argument("dataset", choices=sorted(installed_generators()), help="What to generate")
    generate.add_argument("--scale", type=float, default=1.0, help="Times the real row counts (default 1)")
    generate.add_argument("--seed", type=int, default=0, help="Random seed: the same seed, the same rows (default 0)")
    generate.add_argument("--keep", action="store_true", help="Keep a disposable database and print its URL")
    _add_target_flags(generate)
    register_pipeline(sub)
    register_init(sub)
    register_stack(sub)
    register_dags(sub)
    dbt_command.add_arguments(
        sub.add_parser("dbt", help="dbt sources and contracts from datakits; dbt build"), _add_target_flags
    )
    add_reflect_arguments(sub)
    return parser


def _cmd_targets() -> int:
    rows = [(t.name, t.engine, t.provisioner, t.needs) for t in list_targets()]
    widths = [max(len(r[i]) for r in [*rows, ("target", "engine", "provisioner", "needs")]) for i in range(3)]
    print(f"{'target':<{widths[0]}}  {'engine':<{widths[1]}}  {'provisioner':<{widths[2]}}  needs")
    for name, engine, provisioner, needs in rows:
        print(f"{name:<{widths[0]}}  {engine:<{widths[1]}}  {provisioner:<{widths[2]}}  {needs}")
    print("Any SQLAlchemy URL is a target too: that very database.")
    return 0


#: the one rule for URLs, said whenever a command needs the other kind
ONE_RULE = "a URL without a database is a server (a disposable database is made there), one with a database is it"


def _cmd_deploy(args: argparse.Namespace, validate_only: bool = False) -> int:
    kit = load_datakit(args.datakit)
    if args.derive_bronze:
        kit = derive_bronze(kit)
    config = _target(args)
    if validate_only and config.needs == SERVER_URL:
        raise DatakitError(f"{config.safe_url} names a server, not a database (no database in the URL); {ONE_RULE}")
    status = 0
    with open_target(config, keep=getattr(args, "keep", False)) as database:
        where = f"{config.name} ({database.safe_url})" if config.disposable else database.safe_url
        if not validate_only:
            try:
                result = deploy_data_objects(kit, database, batches=args.batches)
            except DeployError as exc:  # refused DDL: status 1, as drift
                print(f"datakits: {exc}", file=sys.stderr)
                return 1
            print(
                f"deployed {kit.name} to {where}: {len(result.created)} created, "
                f"{len(result.existing)} already there ({result.seconds:.2f}s)"
            )
        if validate_only or args.validate:
            report = validate_deployment(kit, database, ignore_extra_tables=getattr(args, "ignore_extra_tables", False))
            print(f"validate {kit.name}: {report.summary()}")
            status = 0 if report.success else 1
        if getattr(args, "cleanup", False):
            dropped = cleanup_deployment(kit, database)
            print(f"cleanup: dropped {len(dropped.dropped)} tables")
        if getattr(args, "keep", False) and config.disposable:
            print(keep_note(config, database))
    return status


def _kept_data(config: TargetConfig) -> TargetConfig:
    """An embedded target whose data pytest --datakit-reuse keeps for this folder's project: that server,
    with its kept templates (``kept_data_dir``: in the toolkit's own folder)."""
    from ..targets.provisioning.embedded import kept_data_dir

    folder = kept_data_dir(Path.cwd(), config.name, make=False)
    if config.provisioner == "embedded" and folder.is_dir():
        return replace(config, options={**config.options, "data_dir": str(folder)})
    return config


def _cmd_generate(args: argparse.Namespace) -> int:
    """Generate into a URL (that database) or a named target (a disposable database: --keep to keep it)."""
    if not (0 < args.scale <= MAX_SCALE):  # every argument is checked before anything starts
        raise DatakitError(f"--scale {args.scale:g}: the scale must be a number above 0 and at most {MAX_SCALE:g}")
    generate = load_generator(args.dataset)  # registered through the datakits.generators entry point
    config = _target(args)
    with open_target(config, keep=args.keep) as database:
        where = f"{config.name} ({database.safe_url})" if config.disposable else database.safe_url
        print(f"generating {args.dataset} at scale {args.scale:g} (seed {args.seed}) into {where}")
        started = time.perf_counter()
        counts = generate(
            database,
            scale=args.scale,
            seed=args.seed,
            progress=lambda table, rows, seconds: print(f"  {table:<16} {rows:>10,} rows  {seconds:7.2f}s"),
        )
        seconds = time.perf_counter() - started
        total = sum(counts.values())
        print(f"generated {total:,} rows in {seconds:.2f}s ({total / max(seconds, 1e-9):,.0f} rows/s)")
        if args.keep and config.disposable:
            print(keep_note(config, database))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``datakits`` command; its exit status."""
    # this process's pyarrow (file sources) allocates from malloc: its default pool keeps 30 MB more at peak
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        status = _main(argv)
        sys.stdout.flush()  # a reader that left (`datakits validate ... | head`) shows here, not at exit
        return status
    except BrokenPipeError:  # the reader left: say nothing more (Python's advice for SIGPIPE)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    restore = interrupt_on_sigterm()  # SIGTERM (timeout, docker stop) cleans up as Ctrl-C does
    try:
        if getattr(args, "handler", None) is not None:  # subcommands that live in modules of their own
            return int(args.handler(args))
        if args.command == "targets" or args.list_targets:  # --list-targets: the original framework's flag
            return _cmd_targets()
        if args.command is None:
            parser.error("give a command (targets, deploy, validate, reap, load, generate) or --list-targets")
        if args.command == "deploy" and not args.datakit:
            raise DatakitError("deploy needs a datakit: datakits deploy PATH|NAME --target T (or --list-targets)")
        if args.command == "reap":
            reaped = reap_report(_kept_data(_target(args)), templates=args.templates)
            dropped = reaped.dropped
            print(f"reaped {len(dropped)} database(s) of dead runs" + (f": {', '.join(dropped)}" if dropped else ""))
            if reaped.skipped:
                print(f"left alone (no run makes such names): {', '.join(map(repr, reaped.skipped))}")
            if reaped.removed_templates:
                print(
                    f"removed {len(reaped.removed_templates)} kept template(s): {', '.join(reaped.removed_templates)}"
                )
            if reaped.templates:
                hint = "in use, left alone" if args.templates else "remove them with --templates"
                print(f"kept templates ({hint}): {', '.join(reaped.templates)}")
            return 0
        if args.command == "generate":
            return _cmd_generate(args)
        if args.command == "load":
            return run_load(args, _target(args))
        if args.command == "dbt":
            return dbt_command.run(args, _target)
        return _cmd_deploy(args, validate_only=args.command == "validate")
    except DatakitError as exc:
        print(f"datakits: {safe_text(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("datakits: interrupted; databases of this run were dropped", file=sys.stderr)
        return 130
    finally:
        restore()
