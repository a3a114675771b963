"""``datakits pipeline`` and ``datakits pipelines``: any declared pipeline without Airflow, with progress and a summary.

    datakits pipelines                                  # what is declared: name, datakits, dbt project, where
    datakits pipeline NAME --source URL|generate[:SCALE]|FOLDER --target T [--batch-id B] [--workers N] [--project PATH]

The same steps the DAG runs (:mod:`framework.pipeline.steps`), in order: a progress line per step and per
table on stderr, the summary table (rows per table in each layer; seconds per step) on stdout. A named
target is disposable: the warehouse is a database of this run's own, dropped at the end (``--keep`` keeps
it); ``--source generate`` first fills a source database on the same server (:mod:`framework.cli.sources`);
``--source FOLDER`` (``<table>.csv`` files) loads straight into bronze, into a named target or a URL. A URL
target is that very database. Bad input is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..engines import engine_kind
from ..errors import PipelineError
from ..loading.loader import check_batch_id, new_batch_id
from ..pipeline.declared import Pipeline, declared_pipelines, get_pipeline
from ..pipeline.steps import run_pipeline
from ..targets.named import TargetConfig
from ..targets.resolve import keep_note, resolve_target, target_config
from .sources import Source, databases, fill_source, parse_source

__all__ = ["add_arguments", "parse_source", "register", "run", "run_list"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pipeline", help="Which declared pipeline (see 'datakits pipelines')")
    parser.add_argument(
        "--source",
        required=True,
        help="Source database URL, generate[:SCALE] (generated data, scale 1 default), or a folder of <table>.csv",
    )
    parser.add_argument("--target", "-t", required=True, help="Warehouse: a target name or a PostgreSQL URL")
    parser.add_argument(
        "--batch-id", help="Batch id (default: the time and a random suffix); the same id changes nothing"
    )
    parser.add_argument("--workers", type=int, default=4, help="Tables loading at once (default 4)")
    parser.add_argument("--project", help="The dbt project (default: the one the pipeline declares)")
    parser.add_argument("--seed", type=int, default=0, help="Random seed of --source generate (default 0)")
    parser.add_argument("--keep", action="store_true", help="Keep the disposable databases and print their URLs")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``pipeline`` and ``pipelines`` to the ``datakits`` subcommands."""
    parser = sub.add_parser("pipeline", help="Run a declared pipeline: source -> bronze -> dbt layers -> validate")
    add_arguments(parser)
    parser.set_defaults(handler=run)
    listing = sub.add_parser("pipelines", help="List the declared pipelines (pyproject.toml, entry points)")
    listing.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    found = declared_pipelines()
    for spec in sorted(found.values(), key=lambda p: p.name):
        bronze = spec.bronze or f"derived from {spec.source}"
        steps = ", ".join(s.name for s in spec.dbt_steps) or "none"
        print(f"{spec.name}")
        print(f"  source   {spec.source}")
        print(f"  bronze   {bronze}")
        print(f"  layers   {', '.join(f'{k}={v}' for k, v in spec.layer_names().items()) or 'none'}")
        print(f"  dbt      {spec.project or 'none'} (steps: {steps})")
        print(f"  dags     {spec.dags or 'none'}")
        print(f"  declared {spec.declared_in}")
    print(f"{len(found)} pipeline(s)")
    return 0


def _warehouse_target(value: str, spec: Pipeline) -> TargetConfig:
    config = target_config(value)
    if spec.dbt_steps and engine_kind(config.engine).dbt_adapter is None:  # the dbt steps
        raise PipelineError(
            f"--target {config.name}: the pipeline's dbt steps run on PostgreSQL; "
            "use postgres_embedded, postgres_local, postgres_process, postgres_container or a postgresql:// URL"
        )
    return config


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise PipelineError("--workers must be at least 1")
    spec = get_pipeline(args.pipeline).with_project(args.project)
    if spec.dbt_steps:
        spec.project_path()  # a missing dbt project is an error before anything starts
    source: Source = parse_source(args.source)
    if source.scale is not None and spec.generator is None:
        raise PipelineError(f"pipeline {spec.name} has no generator: give --source URL or a folder of CSV files")
    config = _warehouse_target(args.target, spec)
    batch_id = new_batch_id() if args.batch_id is None else check_batch_id(args.batch_id)
    started = time.perf_counter()
    with databases(config, source, args.keep) as (warehouse, staged):
        if staged is not None:
            fill_source(
                source,
                staged,
                spec.kit("source"),
                generator=spec.generator,
                generator_from=spec.generator_from,
                name=f"pipeline {spec.name}",
                seed=args.seed,
                say=_say,
            )
        where = f"{config.name} ({warehouse.safe_url})" if config.disposable else warehouse.safe_url
        _say(f"pipeline {spec.name}, batch {batch_id}: -> {where}")
        summary = run_pipeline(
            staged or (str(source.folder) if source.folder else resolve_target(str(source.url))),
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
            if staged is not None:  # the generated (or staged) source is kept too: say where
                print(keep_note(config, staged).replace("kept:", "kept source:", 1))
    return 0
