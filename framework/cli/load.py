"""``datakits load``: load a source datakit's tables into its bronze datakit, with progress.

    datakits load --source URL --datakit pagila_source --target T [--tables ...] [--batch-id ...] [--workers N]
                  [--atomic]
    datakits load --source URL --datakit ./kits/shop_source --target T     # bronze derived: br__shop__public
    datakits load --source ./landing --datakit ./kits/shop_source --target T   # a folder of <table>.csv files

A progress line per table on stderr (rows, rows/s), the summary table on stdout. A named target is
a disposable database: the bronze datakit is deployed into it first. A URL target must have the
bronze tables already, or be given ``--deploy``. Exit status 1 when a table failed to load.
A folder source is read with the source datakit's types and written straight into bronze, every table in
one transaction (``framework.loading.files.load_folder``), into a named target or a URL warehouse alike; a
file that does not fit, or a row the database refuses, is one line naming the file, row and column, and
nothing is loaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..engines.sqlite.memory import is_memory_sqlite
from ..engines.urls import to_url
from ..errors import DatakitError, DatakitNotFound
from ..kits.bronze import add_derive_flag, derive_bronze
from ..kits.deploy import deploy_data_objects
from ..kits.discovery import Datakit, load_datakit
from ..loading.files import is_file_source, load_folder
from ..loading.loader import DEFAULT_BATCH_SIZE, check_batch_id, load_datakit_tables, new_batch_id
from ..progress import ProgressBoard, format_summary
from ..results import LoadResult
from ..targets.named import TargetConfig
from ..targets.resolve import keep_note, open_target, target_config
from ..targets.runs import Database

__all__ = ["add_load_arguments", "run_load"]


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help="Source database URL, or a folder of <table>.csv files")
    parser.add_argument("--datakit", required=True, help="Source datakit: path, installed name or module")
    parser.add_argument(
        "--target-datakit",
        help="Bronze datakit (default: the written one, NAME_source -> NAME_bronze, if any; else derived)",
    )
    add_derive_flag(parser)
    parser.add_argument("--tables", nargs="+", metavar="TABLE", help="Tables to load (default: all of them)")
    parser.add_argument("--batch-id", help="Batch id (default: the time and a random suffix); the same id replaces")
    parser.add_argument("--workers", type=int, default=4, help="Tables loading at once (default 4)")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"Rows per chunk (default {DEFAULT_BATCH_SIZE})"
    )
    parser.add_argument("--deploy", action="store_true", help="Deploy the bronze datakit first (a URL target)")
    parser.add_argument("--keep", action="store_true", help="Keep a disposable database and print its URL")
    parser.add_argument(
        "--atomic",
        action="store_true",
        help="Load the whole batch in one transaction: all tables or none (else each table is all or nothing)",
    )


def _bronze_datakit(args: argparse.Namespace, source_kit: Datakit) -> Datakit:
    """--target-datakit; else a written bronze kit named after the source (pagila_source -> pagila_bronze);
    else (or with --derive-bronze) the bronze kit derived from the source kit."""
    if args.target_datakit:
        if args.derive_bronze:
            raise DatakitError("give --target-datakit or --derive-bronze, not both")
        return load_datakit(args.target_datakit)
    name = str(args.datakit)
    if not args.derive_bronze and name.endswith("_source"):
        try:
            return load_datakit(name[: -len("source")] + "bronze")
        except DatakitNotFound:
            pass
    return derive_bronze(source_kit)


def _check_source(source: TargetConfig) -> None:
    """A source is only read: a SQLite file that is not there is an error, never a new empty file."""
    if source.engine != "sqlite" or not source.url:
        return
    url = to_url(source.url)
    if is_memory_sqlite(url):
        raise DatakitError(f"--source {source.safe_url}: an in-memory SQLite database is empty; give a file")
    if not Path(url.database or "").is_file():
        raise DatakitError(f"--source {source.safe_url}: no such SQLite file; a source is read, never created")


def run_load(args: argparse.Namespace, config: TargetConfig) -> int:
    if args.workers < 1 or args.batch_size < 1:
        raise DatakitError("--workers and --batch-size must be at least 1")
    source_kit = load_datakit(args.datakit)
    target_kit = _bronze_datakit(args, source_kit)
    batch_id = new_batch_id() if args.batch_id is None else check_batch_id(args.batch_id)  # "" is no batch id
    if is_file_source(args.source):  # files: read and written straight into bronze, no database in between
        return _load_files(args, config, Path(args.source).resolve(), source_kit, target_kit, batch_id)
    source = target_config(args.source)
    if source.disposable:
        raise DatakitError(
            f"--source {args.source if '://' not in args.source else source.safe_url} is not a "
            "database: give the source database's URL, or a folder of CSV files (a URL without a database is a server)"
        )
    _check_source(source)
    with open_target(config, keep=args.keep) as database:
        results = _load(args, config, database, source, source_kit, target_kit, batch_id)
    return 0 if all(r.success for r in results) else 1


def _load_files(
    args: argparse.Namespace,
    config: TargetConfig,
    folder: Path,
    source_kit: Datakit,
    target_kit: Datakit,
    batch_id: str,
) -> int:
    with open_target(config, keep=args.keep) as database:
        where = f"{config.name} ({database.safe_url})" if config.disposable else database.safe_url
        if config.disposable or args.deploy:
            deploy_data_objects(target_kit, database)
        print(f"loading {source_kit.name} -> {target_kit.name}, batch {batch_id}: {folder} -> {where}")
        started = time.perf_counter()
        results = load_folder(
            folder, source_kit, target_kit, database, args.tables, batch_id=batch_id, progress=ProgressBoard()
        )
        rows, seconds = sum(r.rows_written for r in results), time.perf_counter() - started
        say = f"files       {rows:,} rows {len(results)} files from {folder} into {database.safe_url}  {seconds:6.2f}s"
        print(say, file=sys.stderr, flush=True)
        print(format_summary(results))
        if args.keep and config.disposable:
            print(keep_note(config, database))
    return 0 if all(r.success for r in results) else 1


def _load(
    args: argparse.Namespace,
    config: TargetConfig,
    database: Database,
    source: TargetConfig | Database,
    source_kit: Datakit,
    target_kit: Datakit,
    batch_id: str,
) -> list[LoadResult]:
    where = f"{config.name} ({database.safe_url})" if config.disposable else database.safe_url
    if config.disposable or args.deploy:
        deploy_data_objects(target_kit, database)
    print(f"loading {source_kit.name} -> {target_kit.name}, batch {batch_id}: {source.safe_url} -> {where}")
    results = load_datakit_tables(
        source_kit,
        target_kit,
        args.tables,
        source=source,
        target=database,
        workers=args.workers,
        batch_id=batch_id,
        batch_size=args.batch_size,
        progress=ProgressBoard(),
        atomic=args.atomic,
    )
    print(format_summary(results))
    if args.keep and config.disposable:
        print(keep_note(config, database))
    return results
