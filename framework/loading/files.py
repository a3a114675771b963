"""Sources that are files: a folder of ``<table>.csv`` (or ``.parquet``) files, one per table of the source datakit.

    load_folder(folder, source_kit, bronze_kit, target)   # the files straight into bronze: a batch, all or nothing
    check_folder(folder, kit)                             # every file read and checked; rows per table
    stage_folder(folder, kit, database)                   # the files into the source datakit's own tables

Real platforms land files. Each file has a header row naming the table's columns (in any order; all
of them, no other) and is read with the datakit's types (:mod:`.fileread`: pyarrow, checked column by
column, read once, a record batch at a time). A file that does not fit is one line naming the file, the
row (and its line) and the column.

:func:`load_folder` streams each file into its bronze table through the engine's fast writer (COPY on
PostgreSQL, ``LOAD DATA LOCAL INFILE`` on MySQL/MariaDB, ``executemany`` on SQLite), with the lineage
columns and the record hash computed as a database source's rows are: nothing is staged anywhere, so
any warehouse works, a URL one too. The tables of a folder load in one transaction: a file that does not
fit, or a row the database refuses (its words, with the file, row and column), leaves every table as it
was. Loading the same batch id again replaces it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..engines import engine_kind
from ..engines.connect import check_connection, physical_schema
from ..engines.generic.canonical import field_functions
from ..engines.generic.dberrors import driver_message
from ..engines.generic.writer import Lineage, RowChunks
from ..errors import LoadError
from ..kits.deploy import deploy_data_objects
from ..kits.discovery import Datakit, load_datakit
from ..progress import Progress
from ..results import LoadResult
from ..targets.resolve import DatabaseTarget, resolve_target
from .fileread import NOTHING, Checked, FileReader, require_pyarrow
from .loader import check_batch_id, new_batch_id, pair_datakit_tables
from .plan import TablePlan, make_plan

__all__ = ["check_folder", "is_file_source", "load_folder", "stage_folder", "table_file"]

SUFFIXES = (".csv", ".parquet")


def is_file_source(value: str | Path) -> bool:
    """True when ``value`` names a folder (a file source) rather than a database URL or ``generate``."""
    text = str(value)
    return "://" not in text and Path(text).is_dir()


def _kit_name(kit: Datakit) -> str:
    return Path(kit.name).name


def table_file(folder: Path, table: Table, kit: Datakit) -> Path:
    """``folder``'s file of ``table``: ``<table>.csv`` or ``<table>.parquet``; a :class:`LoadError` for none or both."""
    found = [path for path in (folder / f"{table.name}{suffix}" for suffix in SUFFIXES) if path.is_file()]
    if len(found) > 1:
        raise LoadError(
            f"{folder}: both {found[0].name} and {found[1].name} for table {table.fullname}; keep one {NOTHING}",
            table.fullname,
        )
    if not found:
        raise LoadError(
            f"{folder}: no {table.name}.csv for table {table.fullname} of datakit {_kit_name(kit)}; "
            f"give one <table>.csv (or <table>.parquet) per table {NOTHING}",
            table.fullname,
        )
    return found[0]


def _folder(folder: str | Path) -> Path:
    base = Path(folder)
    if not base.is_dir():
        raise LoadError(f"{base}: no such folder of CSV (or Parquet) files")
    return base


def _row_chunks(reader: FileReader, names: Sequence[str]) -> RowChunks:
    """The file's rows, a record batch at a time, each row the values of ``names`` in order."""
    for _, columns in reader.batches():
        yield list(zip(*(columns[n].values() for n in names), strict=True))


def check_folder(folder: str | Path, kit: Datakit) -> dict[str, int]:
    """Read each table's file in ``folder`` against ``kit``; rows per table, or a :class:`LoadError`."""
    base = _folder(folder)
    counts: dict[str, int] = {}
    for table in kit.tables:
        reader = FileReader(table_file(base, table, kit), table)
        for _ in reader.batches():
            pass
        counts[table.name] = reader.rows
    return counts


def stage_folder(folder: str | Path, kit: Datakit, database: DatabaseTarget) -> dict[str, int]:
    """Deploy ``kit`` into ``database`` and write every file's rows into its tables, in one transaction.

    For a source database filled from files (a test's fixture, a DAG's fill); loading files into bronze
    needs no such database (:func:`load_folder`). Every file is checked before the first row is written."""
    base = _folder(folder)
    counts = check_folder(base, kit)
    target = resolve_target(database)
    deploy_data_objects(kit, target)
    engine = target.engine(kit.schemas)
    try:
        with engine.begin() as conn:
            for table in kit.tables:
                reader = FileReader(table_file(base, table, kit), table)
                names = [c.name for c in table.columns]
                for _, columns in reader.batches():
                    rows = zip(*(columns[n].values() for n in names), strict=True)
                    conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
    except SQLAlchemyError as exc:
        raise LoadError(
            f"{folder}: {target.safe_url} refused the files' rows: {driver_message(exc, first_line=True)} {NOTHING}"
        ) from None
    finally:
        engine.dispose()
    return counts


def load_folder(
    folder: str | Path,
    source_kit: Datakit | str | Path,
    target_kit: Datakit | str | Path,
    target: DatabaseTarget,
    tables: Sequence[str] | None = None,
    *,
    batch_id: str | None = None,
    progress: Progress | None = None,
) -> list[LoadResult]:
    """Load the files of ``folder`` into ``target_kit``'s bronze tables in ``target``, as one batch.

    ``source_kit`` types the files (one ``<table>.csv`` or ``.parquet`` per table it shares with
    ``target_kit``; ``tables`` picks some). The bronze tables must be deployed. The tables load one after
    the other in one transaction: a :class:`LoadError` (one line: the file, row and column) leaves them
    all as they were. Returns one :class:`LoadResult` per table, in order."""
    base = _folder(folder)
    source = source_kit if isinstance(source_kit, Datakit) else load_datakit(source_kit)
    pairs = pair_datakit_tables(source, target_kit, tables)
    files = [table_file(base, table, source) for table, _ in pairs]  # every file there before anything is read
    require_pyarrow(files[0], pairs[0][1].fullname)
    plans = [make_plan(source_table, bronze, None, None) for source_table, bronze in pairs]
    batch = check_batch_id(new_batch_id() if batch_id is None else batch_id)
    database = resolve_target(target)
    engine = database.engine({bronze.schema for _, bronze in pairs})
    results: list[LoadResult] = []
    try:
        check_connection(engine, "target")
        with engine.connect() as conn:
            inspector = inspect(conn)
            absent = [
                b.fullname
                for _, b in pairs
                if not inspector.has_table(b.name, schema=physical_schema(engine, b.schema))
            ]
        if absent:
            raise LoadError(
                f"{', '.join(absent)}: not deployed in {database.safe_url}; deploy the bronze datakit first "
                "(datakits deploy ..., --deploy, or deploy_data_objects)",
                absent[0],
                batch,
            )
        with engine_kind(engine.dialect.name).write_lock(engine), engine.connect() as conn, conn.begin():
            for plan, path, (source_table, _) in zip(plans, files, pairs, strict=True):
                results.append(_load_file(conn, plan, path, source_table, batch, progress))
    finally:
        engine.dispose()
    if progress is not None:
        for result in results:
            progress.finish(result)
    return results


def _load_file(
    conn: Connection, plan: TablePlan, path: Path, source_table: Table, batch: str, progress: Progress | None
) -> LoadResult:
    started = time.perf_counter()
    reader = FileReader(path, source_table)
    if progress is not None:
        progress.start(plan.name, None)
    replaced = conn.execute(delete(plan.target).where(plan.target.c.dk_batch_id == batch)).rowcount
    lineage = Lineage(datetime.now(UTC), batch, plan.source_label)
    writer = engine_kind(conn.dialect.name).writer(conn, plan.target, plan.columns, lineage)
    names = [c.name for c in plan.columns]

    def chunks() -> RowChunks:
        for chunk in _row_chunks(reader, names):
            yield chunk
            if progress is not None:
                progress.update(plan.name, reader.rows, reader.rows)

    def field_chunks() -> Iterator[list[Any]]:
        python = field_functions(plan.columns)
        for _, columns in reader.batches():
            yield [_fields(reader, columns[n], f) for n, f in zip(names, python, strict=True)]
            if progress is not None:
                progress.update(plan.name, reader.rows, reader.rows)

    driver_error: type[BaseException] = conn.dialect.loaded_dbapi.Error
    write_fields = getattr(writer, "write_fields", None) if getattr(writer, "takes_fields", False) else None
    try:
        written = write_fields(field_chunks()) if write_fields is not None else writer.write(chunks())
    except (DBAPIError, driver_error) as exc:
        raise _refused(exc, reader, plan, batch) from None
    seconds = time.perf_counter() - started
    return LoadResult(plan.name, plan.source_label, batch, reader.rows, written, max(replaced, 0), seconds)


def _fields(reader: FileReader, column: Checked, python: Callable[[Any], str]) -> Any:
    """A column's canonical fields: column-wise where the reader can, else from its Python values."""
    fields = column.fields()
    if fields is None:
        fields = reader.pa.array([python(v) for v in column.values()], reader.pa.string())
    return fields


_ROW = (re.compile(r"\bCOPY \S+, line (\d+)"), re.compile(r"\bat row (\d+)"))
_COLUMN = (
    re.compile(r"\bline \d+, column (\w+)"),  # PostgreSQL's COPY context
    re.compile(r"column '([^']+)'"),  # MySQL: Data too long for column 'x' at row 3
    re.compile(r"constraint failed: [\w.]*?\.?(\w+)$"),  # SQLite: NOT NULL constraint failed: t.c
)
_DUPLICATE = re.compile(r"duplicate key|Duplicate entry|UNIQUE constraint failed", re.IGNORECASE)


def _refused(exc: BaseException, reader: FileReader, plan: TablePlan, batch: str) -> LoadError:
    """What the database said of a file's rows, as one line naming the file, the row (its line) and the column."""
    original = getattr(exc, "orig", None) or exc
    said = driver_message(exc, first_line=True)
    diag = getattr(original, "diag", None)
    context = " ".join((getattr(diag, "context", None) or "").split())
    row: int | None = None
    for pattern in _ROW:
        match = pattern.search(context) or pattern.search(said)
        if match:
            row = int(match.group(1))
            break
    column = getattr(diag, "column_name", None)
    for pattern in _COLUMN:
        found = pattern.search(context) or pattern.search(said)
        if column is None and found:
            column = found.group(1)
    keys = [c.name for c in plan.target.primary_key.columns if c.name in reader.columns]
    if _DUPLICATE.search(said) and keys:
        row, column = _first_duplicate(reader, keys) or row, ", ".join(keys)
    what = f"the target database refused it: {said}; batch {batch} rolled back"
    if row is None:
        text = f"{reader.path}: the target database refused its rows: {said}; batch {batch} rolled back {NOTHING}"
        return LoadError(text, plan.name, batch, column=column)
    error = reader.misfit(row, column, what)
    error.table, error.batch_id = plan.name, batch
    return error


def _first_duplicate(reader: FileReader, keys: list[str]) -> int | None:
    seen: set[tuple[Any, ...]] = set()
    for number, key in reader.key_rows(keys):
        if key in seen:
            return number
        seen.add(key)
    return None
