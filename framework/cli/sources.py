"""What ``--source`` names, for ``datakits pipeline`` and ``datakits load``: a database, generated data, or files.

    --source postgresql://me@db:5432/shop     that very database (it is read, never written)
    --source generate[:SCALE]                 a database filled by the pipeline's generator (scale 1 default)
    --source ./landing                        a folder of <table>.csv files, read with the source datakit's types

Generated data goes into a database of the run's own on the target's server (a named target), created
beside the warehouse and dropped with it; the loads then read it like any source. Files need no such
database: they load straight into bronze (:func:`framework.loading.files.load_folder`), any target.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ..errors import DatakitError, PipelineError
from ..kits.discovery import Datakit
from ..loading.files import is_file_source, stage_folder
from ..loading.generators import MAX_SCALE, load_generator
from ..targets.named import TargetConfig, server_target, url_target
from ..targets.resolve import resolve_target
from ..targets.runs import Database, Run

__all__ = ["Source", "databases", "fill_source", "parse_source"]


@dataclass(frozen=True)
class Source:
    url: str | None = None  # a source database
    scale: float | None = None  # or generated data at this scale
    folder: Path | None = None  # or a folder of files

    @property
    def staged(self) -> bool:
        """True when the run makes the source database itself (generated data); files go straight into bronze."""
        return self.scale is not None


def parse_source(value: str) -> Source:
    """``generate``, ``generate:0.5``, a folder or a database URL; a :class:`PipelineError` for anything else."""
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
    if is_file_source(value):
        return Source(folder=Path(value).resolve())
    if "://" not in value:
        raise PipelineError(
            f"--source {value!r} is neither a database URL (postgresql://...), generate[:SCALE] "
            "nor a folder of <table>.csv files"
        )
    target = url_target(value)  # checks that it parses and names an engine we have
    if target.disposable:  # a source is read, so it is a database, never a server to make one on
        raise PipelineError(f"--source {target.safe_url} names a server, not a database: give the database (…/NAME)")
    assert target.url is not None
    return Source(url=target.url)


@contextmanager
def databases(
    config: TargetConfig, source: Source, keep: bool, label: str = "warehouse"
) -> Iterator[tuple[Database, Database | None]]:
    """The target database and, for generated data or files, an empty source database beside it."""
    from ..targets.provisioning import start_server

    if not config.disposable:
        if not source.staged:
            yield resolve_target(config), None
            return
        try:  # that very warehouse (run after run), the source staged in a database of the run's own beside it
            server_config = server_target(config)
        except DatakitError:
            what = "generate" if source.scale is not None else str(source.folder)
            raise PipelineError(
                f"--source {what} makes its database on the target's server: give a named target "
                "(postgres_embedded, postgres_local, ...) or a PostgreSQL or MySQL URL"
            ) from None
        server = start_server(server_config)
        try:
            with Run(server, keep=keep) as run:
                yield resolve_target(config), run.create_database("source")
        finally:
            server.stop()
        return
    server = start_server(config)
    try:
        with Run(server, keep=keep) as run:
            staged = run.create_database("source") if source.staged else None
            yield run.create_database(label), staged
    finally:
        if not keep:
            server.stop()


def _generator(spec: str, base: str | None = None) -> Callable[..., Any]:
    """A ``datakits.generators`` name, or ``module:function`` of a module in the project's folder ``base``.

    The function must be a Python function taking ``(target, scale=..., seed=...)``: never any callable
    (``os:system``)."""
    if ":" not in spec:
        return load_generator(spec)
    module, function = spec.split(":", 1)
    if base is not None and base not in sys.path:
        sys.path.insert(0, base)  # the project's own modules, as pytest's rootdir-relative imports
    try:
        found = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise DatakitError(f"generator {spec}: {type(exc).__name__}: {exc}") from None
    try:
        fits = inspect.isfunction(found) and bool(inspect.signature(found).bind(None, scale=1.0, seed=0))
    except TypeError:
        fits = False
    if not fits:
        raise DatakitError(
            f"generator {spec} is not a generator: a Python function taking (target, scale=..., seed=...)"
        )
    return cast("Callable[..., Any]", found)


def fill_source(
    source: Source,
    database: Database,
    kit: Datakit,
    *,
    generator: str | None,
    name: str,
    generator_from: str | None = None,
    seed: int = 0,
    say: Callable[[str], None] | None = None,
) -> None:
    """Fill the run's source database: the generator's rows, or the folder's files (checked whole first)."""
    report = say or (lambda line: print(line, file=sys.stderr, flush=True))
    started = time.perf_counter()
    if source.folder is not None:
        counts = stage_folder(source.folder, kit, database)
        what = f"{len(counts)} files from {source.folder}"
    else:
        assert source.scale is not None
        if generator is None:
            raise PipelineError(f"{name} has no generator: give --source URL or a folder of CSV files")
        counts = _generator(generator, generator_from)(database, scale=source.scale, seed=seed)
        what = f"at scale {source.scale:g}"
    verb = "files   " if source.folder is not None else "generate"
    seconds = time.perf_counter() - started
    report(f"{verb}    {sum(counts.values()):,} rows {what} into {database.safe_url}  {seconds:6.2f}s")
