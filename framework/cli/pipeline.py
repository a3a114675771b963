"""``datakits pipeline``: the whole medallion pipeline without Airflow, with progress and a summary.

    datakits pipeline pagila --source URL|generate[:SCALE] --target T [--batch-id B] [--workers N] [--project PATH]

The same steps the DAG runs (:mod:`framework.pipeline.steps`), in order: a progress line per step and per
table on stderr, the summary table (rows per table in bronze, silver and gold; seconds per step) on
stdout. A named target is disposable: the warehouse is a database of this run's own, dropped at the
end (``--keep`` keeps it); ``--source generate`` first fills a source database on the same server
with generated data. A URL target is that very database. Bad input is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..engines import engine_kind
from ..errors import PipelineError
from ..loading.generators import MAX_SCALE
from ..loading.loader import check_batch_id, new_batch_id
from ..pipeline.steps import PIPELINES, Pipeline, get_pipeline, run_pipeline
from ..targets.named import TargetConfig, url_target
from ..targets.resolve import keep_note, resolve_target, target_config
from ..targets.runs import Database, Run

__all__ = ["add_arguments", "register", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pipeline", choices=sorted(PIPELINES), help="Which pipeline")
    parser.add_argument(
        "--source", required=True, help="Source database URL, or generate[:SCALE] (generated data, scale 1 default)"
    )
    parser.add_argument("--target", "-t", required=True, help="Warehouse: a target name or a PostgreSQL URL")
    parser.add_argument(
        "--batch-id", help="Batch id (default: the time and a random suffix); the same id changes nothing"
    )
    parser.add_argument("--workers", type=int, default=4, help="Tables loading at once (default 4)")
    parser.add_argument("--project", help="The dbt project (default: the pipeline's, in the repository)")
    parser.add_argument("--seed", type=int, default=0, help="Random seed of --source generate (default 0)")
    parser.add_argument("--keep", action="store_true", help="Keep the disposable databases and print their URLs")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pipeline`` to the ``datakits`` subcommands."""
    parser = sub.add_parser("pipeline", help="Run a whole pipeline: source -> bronze -> silver -> gold")
    add_arguments(parser)
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Source:
    url: str | None = None  # a source database
    scale: float | None = None  # or generated data at this scale


def parse_source(value: str) -> Source:
    """``generate``, ``generate:0.5`` or a database URL; a :class:`PipelineError` for anything else."""
    if value == "generate" or value.startswith("generate:"):
        text = value.partition(":")[2] or "1"
        try:
            scale = float(text)
        except ValueError:
            scale = -1.0
        if not 0 < scale <= MAX_SCALE:
            raise PipelineError(
                f"--source {value}: the scale must be a number above 0 and at most {MAX_SCALE:g} (generate:0.5)"
            )
        return Source(scale=scale)
    if "://" not in value:
        raise PipelineError(f"--source {value!r} is neither a database URL (postgresql://...) nor generate[:SCALE]")
    target = url_target(value)  # checks that it parses and names an engine we have
    if target.disposable:  # a source is read, so it is a database, never a server to make one on
        raise PipelineError(f"--source {target.safe_url} names a server, not a database: give the database (…/NAME)")
    assert target.url is not None
    return Source(url=target.url)


def _warehouse_target(value: str) -> TargetConfig:
    config = target_config(value)
    if engine_kind(config.engine).dbt_adapter is None:  # the dbt steps
        raise PipelineError(
            f"--target {config.name}: the pipeline's dbt steps run on PostgreSQL; "
            "use postgres_embedded, postgres_local, postgres_process, postgres_container or a postgresql:// URL"
        )
    return config


@contextmanager
def _databases(config: TargetConfig, source: Source, keep: bool) -> Iterator[tuple[Database, Database | None]]:
    """The warehouse and, for ``generate``, an empty source database beside it."""
    if not config.disposable:
        if source.scale is not None:
            raise PipelineError(
                "--source generate makes its database on the target's server: give a named target "
                "(postgres_embedded, postgres_local, ...), or a --source URL with a URL target"
            )
        yield resolve_target(config), None
        return
    from ..targets.provisioning import start_server

    server = start_server(config)
    try:
        with Run(server, keep=keep) as run:
            generated = run.create_database("source") if source.scale is not None else None
            yield run.create_database("warehouse"), generated
    finally:
        if not keep:
            server.stop()


def _generate(spec: Pipeline, database: Database, scale: float, seed: int) -> None:
    if spec.generator is None:
        raise PipelineError(f"pipeline {spec.name} has no generator: give --source URL")
    module, function = spec.generator.split(":")
    generate = getattr(importlib.import_module(module), function)
    started = time.perf_counter()
    counts = generate(database, scale=scale, seed=seed)
    _say(
        f"generate    {sum(counts.values()):,} rows at scale {scale:g} into {database.safe_url}  "
        f"{time.perf_counter() - started:6.2f}s"
    )


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise PipelineError("--workers must be at least 1")
    spec = get_pipeline(args.pipeline).with_project(args.project)
    spec.project_path()  # a missing dbt project is an error before anything starts
    source = parse_source(args.source)
    config = _warehouse_target(args.target)
    batch_id = new_batch_id() if args.batch_id is None else check_batch_id(args.batch_id)
    started = time.perf_counter()
    with _databases(config, source, args.keep) as (warehouse, generated):
        if generated is not None:
            assert source.scale is not None
            _generate(spec, generated, source.scale, args.seed)
        where = f"{config.name} ({warehouse.safe_url})" if config.disposable else warehouse.safe_url
        _say(f"pipeline {spec.name}, batch {batch_id}: -> {where}")
        summary = run_pipeline(
            generated or resolve_target(str(source.url)),  # that very database (parse_source)
            warehouse,
            batch_id,
            pipeline=spec,
            workers=args.workers,
            report=_say,
        )
        print(summary.table())
        print(f"pipeline {spec.name} done in {time.perf_counter() - started:.2f}s (batch {batch_id})")
        if args.keep and config.disposable:
            print(keep_note(config, warehouse))
    return 0
