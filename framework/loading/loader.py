"""Load source rows into bronze tables: :class:`BulkDataLoader` and :func:`load_datakit_tables`.

A *batch* is one load of a table with a batch id. It runs in one transaction on the target:
delete the rows of that batch id (so loading a batch again replaces it), stream the source rows
in, commit. An error, or a process killed half way, leaves the table as it was.

    source --server-side cursor, in chunks--> transform --> encode --> driver thread --> bronze
                                                              PostgreSQL: COPY FROM STDIN
                                                              MySQL: LOAD DATA LOCAL INFILE (a pipe)
                                                              SQLite: executemany (no thread)

The writer fills the lineage columns (:data:`~framework.kits.mixins.LINEAGE_COLUMNS`): the load time,
the batch id, the source table and the record hash (see :mod:`framework.engines.generic.canonical`).
In the same transaction the batch is recorded in the schema's ``dk_batches`` table, numbered in load
order (:func:`~framework.kits.current.record_batch`): what the current-state views read.

A transform is a plain function: it gets each source row as a new ``dict`` (column -> value; it
may change it and give it back) and returns the target row (a mapping, or an object with the
target's columns as attributes, such as a SQLModel instance), or ``None`` to drop the row. The
target row must hold every business column of the target (the target's columns but the lineage
columns). Without a transform, the target's business columns are taken from the source by name.
The transform runs over a whole chunk of rows (``batch_size``) before its results are checked, so
on an error it has seen the rest of that chunk too; the error still names the first bad row.

Where the time goes, and what keeps it down (``tests/benchmarks/bench_loader.py``): the source
driver's parsing, the transform with its dict per row, and the COPY text with the hash per row,
all on the loading thread. The transform and the target rows are built by C builtins per chunk
(:class:`~.plan.RowStream`), the COPY encoder is generated per table and reuses the text of a
repeated datetime, and the cycle collector runs rarely during a load (:mod:`.collector`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ..engines import engine_kind
from ..engines.connect import check_connection
from ..engines.generic.writer import Lineage, Writer
from ..engines.urls import safe_url
from ..errors import DatakitError, LoadError
from ..kits.current import batches_table, is_bronze, record_batch
from ..kits.discovery import Datakit, load_datakit
from ..progress import Progress
from ..results import LoadResult
from ..targets.resolve import Target, resolve_target
from .collector import rare_collections
from .plan import (
    RowStream,
    SourceFailed,
    SourceSpec,
    TablePlan,
    TargetSpec,
    Transform,
    as_table,
    database_error,
    describe,
    make_plan,
    schemas_of,
)
from .source import SourceStream, count_rows

__all__ = [
    "BulkDataLoader",
    "LoadError",
    "LoadResult",
    "Target",
    "Transform",
    "load_datakit_tables",
    "new_batch_id",
    "pair_datakit_tables",
]

DEFAULT_BATCH_SIZE = 5_000
BATCH_ID_LIMIT = 64  # dk_batch_id is VARCHAR(64)


def new_batch_id() -> str:
    """A batch id from the clock and a random suffix: ``20240501T120000Z-1a2b3c``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def check_batch_id(batch_id: str) -> str:
    """``batch_id`` when it is one (1 to 64 characters); a :class:`LoadError` otherwise (``""`` too)."""
    if not isinstance(batch_id, str) or not batch_id or len(batch_id) > BATCH_ID_LIMIT:
        raise LoadError(f"batch id {batch_id!r} must be a string of 1 to {BATCH_ID_LIMIT} characters")
    return batch_id


# --- Connections ----------------------------------------------------------------------------------


class _Engines:
    """Engines on one database, one per set of schemas (MySQL and SQLite map schemas per engine)."""

    def __init__(self, spec: Target, role: str) -> None:
        self.spec = resolve_target(spec)
        self.role = role
        self._engines: dict[frozenset[str | None], Engine] = {}
        self._lock = threading.Lock()

    def engine(self, schemas: Iterable[str | None]) -> Engine:
        if isinstance(self.spec, Engine):
            return self.spec
        key = frozenset(schemas)
        with self._lock:
            if key not in self._engines:
                engine = self.spec.engine(key)
                check_connection(engine, self.role)
                self._engines[key] = engine
            return self._engines[key]

    def close(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _physical_schema(engine: Engine, schema: str | None) -> str | None:
    translate = engine.get_execution_options().get("schema_translate_map") or {}
    return translate.get(schema, schema)


def _has_table(engine: Engine, table: Table) -> bool:
    with engine.connect() as conn:
        return inspect(conn).has_table(table.name, schema=_physical_schema(engine, table.schema))


def _writer(conn: Connection, plan: TablePlan, lineage: Lineage) -> Writer:
    try:
        kind = engine_kind(conn.dialect.name)
    except ValueError:
        raise LoadError(f"{plan.name}: no loader for {conn.dialect.name}") from None
    return kind.writer(conn, plan.target, plan.columns, lineage)


# --- The loader -----------------------------------------------------------------------------------


class BulkDataLoader:
    """Loads tables from a source database into bronze tables of a target database.

    ``source`` and ``target`` are what the library accepts everywhere (``framework.targets.resolve``): a
    :class:`Database`, an ``Engine`` (used as it is: its schema mapping is yours), a URL, a
    ``TargetConfig`` or a target name (the process's database there). Engines the loader creates
    map the tables' schemas (``make_engine``) and are disposed of by :meth:`close`.
    """

    def __init__(self, source: Target, target: Target, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self._source = _Engines(source, "source")
        self._target = _Engines(target, "target")
        self.batch_size = batch_size

    def __enter__(self) -> BulkDataLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._source.close()
        self._target.close()

    def load(
        self,
        source: SourceSpec,
        target: TargetSpec,
        transform: Transform | None = None,
        *,
        batch_id: str | None = None,
        batch_size: int | None = None,
        source_table: str | None = None,
        progress: Progress | None = None,
    ) -> LoadResult:
        """Load one batch of ``source`` (a table class, Table or select) into ``target``.

        Raises :class:`LoadError` (the target unchanged) when the batch cannot load.
        ``source_table`` is what ``dk_source_table`` records (default: the source's table name).
        """
        batch = check_batch_id(new_batch_id() if batch_id is None else batch_id)
        plan = make_plan(source, target, transform, source_table)
        started = time.perf_counter()
        try:
            result = self._load(plan, batch, batch_size or self.batch_size, progress)
        except LoadError as exc:
            if progress is not None:
                failed = LoadResult(plan.name, plan.source_label, batch, error=str(exc))
                failed.seconds = time.perf_counter() - started
                progress.finish(failed)
            raise
        if progress is not None:
            progress.finish(result)
        return result

    def _load(
        self,
        plan: TablePlan,
        batch_id: str,
        batch_size: int,
        progress: Progress | None,
        conn: Connection | None = None,
    ) -> LoadResult:
        """Load one table in a transaction of its own, or inside ``conn``'s (an atomic batch)."""
        started = time.perf_counter()
        source_engine = self._source.engine(schemas_of(plan.statement))
        target_engine = self._target.engine({plan.target.schema})
        if plan.source_table is not None and not _has_table(source_engine, plan.source_table):
            raise LoadError(
                f"{plan.name}: source table {plan.source_table.fullname} does not exist in "
                f"{safe_url(source_engine.url)}",
                plan.name,
                batch_id,
            )
        if not _has_table(target_engine, plan.target):
            raise LoadError(
                f"{plan.name}: the target table is not deployed in {safe_url(target_engine.url)}; "
                "deploy the bronze datakit first (datakits deploy ... or deploy_data_objects)",
                plan.name,
                batch_id,
            )
        # the batch is numbered in load order where the schema keeps its batches (framework.kits.current)
        numbered = is_bronze(plan.target) and _has_table(target_engine, batches_table(plan.target.schema))
        if progress is not None:
            progress.start(plan.name, count_rows(source_engine, plan.statement))
        rows = RowStream(plan, batch_id, progress)
        lineage = Lineage(datetime.now(UTC), batch_id, plan.source_label)
        lock = engine_kind(target_engine.dialect.name).write_lock(target_engine) if conn is None else nullcontext()
        driver_error: type[BaseException] = target_engine.dialect.loaded_dbapi.Error
        try:
            with (
                SourceStream(source_engine, plan.statement, batch_size, plain_columns=plan.plain_columns) as stream,
                lock,
                _transaction(target_engine, conn) as into,
            ):
                replaced = into.execute(delete(plan.target).where(plan.target.c.dk_batch_id == batch_id)).rowcount
                with rare_collections():
                    written = _writer(into, plan, lineage).write(rows.chunks(stream))
                if numbered:
                    record_batch(into, plan.target, batch_id, lineage.loaded_at, written)
        except SourceFailed as exc:
            raise database_error(exc.error, plan, batch_id, "source") from None
        except (DBAPIError, driver_error) as exc:
            raise database_error(exc, plan, batch_id, "target") from None
        return LoadResult(
            plan.name, plan.source_label, batch_id, rows.read, written, max(replaced, 0), time.perf_counter() - started
        )

    def load_tables(
        self,
        pairs: Sequence[tuple[SourceSpec, TargetSpec]],
        *,
        transforms: Mapping[str, Transform] | None = None,
        workers: int = 4,
        batch_id: str | None = None,
        batch_size: int | None = None,
        progress: Progress | None = None,
        atomic: bool = False,
    ) -> list[LoadResult]:
        """Load several tables in one batch, ``workers`` at a time, each in its own transaction.

        A table that fails is reported in its result (``error``) and leaves the others alone.
        ``transforms`` maps a target table's name (``rental``) or full name to its transform.
        ``atomic=True`` loads the tables one after the other in one transaction: one table that
        fails (or a kill) leaves every table of the batch as it was.
        """
        batch = check_batch_id(new_batch_id() if batch_id is None else batch_id)
        size = batch_size or self.batch_size
        transforms = transforms or {}
        for source, target in pairs:  # an unreachable database is one error, not one per table
            self._source.engine(schemas_of(source))
            self._target.engine(schemas_of(target))
        if atomic:
            return self._load_atomic(pairs, transforms, batch, size, progress)

        def one(pair: tuple[SourceSpec, TargetSpec]) -> LoadResult:
            source, target = pair
            target_table = as_table(target)
            name = target_table.fullname if target_table is not None else repr(target)
            started = time.perf_counter()
            try:
                short = target_table.name if target_table is not None else name
                plan = make_plan(source, target, transforms.get(name, transforms.get(short)), None)
                result = self._load(plan, batch, size, progress)
            except DatakitError as exc:
                result = LoadResult(name, _source_name(source), batch, error=str(exc))
            except Exception as exc:  # anything else still belongs to this table only
                result = LoadResult(name, _source_name(source), batch, error=f"{name}: {describe(exc)}")
            if result.error is not None:
                result.seconds = time.perf_counter() - started
            if progress is not None:
                progress.finish(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="datakits-load") as pool:
            return list(pool.map(one, pairs))

    def _load_atomic(
        self,
        pairs: Sequence[tuple[SourceSpec, TargetSpec]],
        transforms: Mapping[str, Transform],
        batch: str,
        size: int,
        progress: Progress | None,
    ) -> list[LoadResult]:
        names = [_target_name(target) for _, target in pairs]
        engine = self._target.engine({s for _, target in pairs for s in schemas_of(target)})
        results: list[LoadResult] = []
        failure: LoadResult | None = None
        try:
            with engine_kind(engine.dialect.name).write_lock(engine), engine.connect() as conn, conn.begin():
                for (source, target), name in zip(pairs, names, strict=True):
                    short = name.rsplit(".", 1)[-1]
                    plan = make_plan(source, target, transforms.get(name, transforms.get(short)), None)
                    results.append(self._load(plan, batch, size, progress, conn=conn))
        except Exception as exc:
            current = min(len(results), len(names) - 1)  # the table in flight (the last one while committing)
            failed = names[current]
            error = str(exc) if isinstance(exc, DatakitError) else f"{failed}: {describe(exc)}"
            failure = LoadResult(failed, _source_name(pairs[current][0]), batch, error=error)
        if failure is not None:  # rolled back: no table of the batch is loaded
            note = f"not loaded: the batch is atomic and {failure.table} failed"
            results = [
                failure
                if name == failure.table
                else LoadResult(name, _source_name(src), batch, error=f"{name}: {note}")
                for (src, _), name in zip(pairs, names, strict=True)
            ]
        for result in results:
            if progress is not None:
                progress.finish(result)
        return results

    def load_datakit_tables(
        self,
        source_kit: Datakit | str | Path,
        target_kit: Datakit | str | Path,
        tables: Sequence[str] | None = None,
        *,
        transforms: Mapping[str, Transform] | None = None,
        workers: int = 4,
        batch_id: str | None = None,
        batch_size: int | None = None,
        progress: Progress | None = None,
        atomic: bool = False,
    ) -> list[LoadResult]:
        """Load the target datakit's tables from the source datakit's tables of the same name."""
        pairs = pair_datakit_tables(source_kit, target_kit, tables)
        return self.load_tables(
            pairs,
            transforms=transforms,
            workers=workers,
            batch_id=batch_id,
            batch_size=batch_size,
            progress=progress,
            atomic=atomic,
        )


def _target_name(target: Any) -> str:
    table = as_table(target)
    return table.fullname if table is not None else repr(target)


@contextmanager
def _transaction(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """A connection in a transaction of its own, or ``conn`` as it is (the caller's transaction)."""
    if conn is not None:
        yield conn
        return
    with engine.connect() as own, own.begin():
        yield own


def _source_name(source: Any) -> str:
    table = as_table(source)
    return table.fullname if table is not None else "select"


def pair_datakit_tables(
    source_kit: Datakit | str | Path, target_kit: Datakit | str | Path, tables: Sequence[str] | None = None
) -> list[tuple[Table, Table]]:
    """(source, target) tables paired by table name; ``tables`` picks some, by name."""
    source = source_kit if isinstance(source_kit, Datakit) else load_datakit(source_kit)
    target = target_kit if isinstance(target_kit, Datakit) else load_datakit(target_kit)
    by_name = {t.name: t for t in source.tables}
    targets = {t.name: t for t in target.tables}
    if tables is None:
        names = [n for n in targets if n in by_name]
        if not names:
            raise LoadError(f"datakits {source.name} and {target.name} have no table name in common")
    else:
        names = list(dict.fromkeys(tables))
        for name in names:
            if name not in targets:
                raise LoadError(f"no table {name!r} in datakit {target.name}; it has {', '.join(sorted(targets))}")
            if name not in by_name:
                raise LoadError(f"no table {name!r} in datakit {source.name} to load {target.name}.{name} from")
    return [(by_name[n], targets[n]) for n in names]


def load_datakit_tables(
    source_kit: Datakit | str | Path,
    target_kit: Datakit | str | Path,
    tables: Sequence[str] | None = None,
    *,
    source: Target,
    target: Target,
    workers: int = 4,
    transforms: Mapping[str, Transform] | None = None,
    batch_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    atomic: bool = False,
) -> list[LoadResult]:
    """Load ``target_kit``'s tables from ``source_kit``'s tables of the same name, in one batch.

    What the CLI and the Airflow DAGs call. Returns one :class:`LoadResult` per table, in order;
    a failed table has ``error`` set and its bronze table unchanged. Each table is all or nothing;
    ``atomic=True`` makes the whole batch so (see ``BulkDataLoader.load_tables``).
    """
    with BulkDataLoader(source, target, batch_size=batch_size) as loader:
        return loader.load_datakit_tables(
            source_kit,
            target_kit,
            tables,
            transforms=transforms,
            workers=workers,
            batch_id=batch_id,
            progress=progress,
            atomic=atomic,
        )
