"""Sources that are files: a folder of ``<table>.csv`` (or ``.parquet``) files, one per table of the source datakit.

    check_folder(folder, kit)            # every file read and checked against the datakit; raises on the first misfit
    stage_folder(folder, kit, database)  # then the datakit deployed into ``database`` and the rows written, in one go

Real platforms land files. Each file has a header row naming the table's columns (in any order; all
of them, no other) and is read with the datakit's types: ``12`` is an integer for an integer column,
``2024-05-01`` a date, ``12.50`` a Decimal, an empty field NULL. A file that does not fit is one
line naming the file, the row (and its line) and the column, and nothing is loaded from the folder:
every file is checked before any row is written, and the rows are written in one transaction.

A table's file may be Parquet instead (``<table>.parquet``, read through pyarrow: the ``parquet`` extra,
imported only when such a file is read): its columns are checked as a header is, its typed values
against the column's Python type (text is read as a CSV field is; a naive timestamp in a column with
time zones is UTC), and a misfit is the same one line, without a line number.

The loads then read the staged database as any source (:class:`~framework.loading.loader.BulkDataLoader`),
so lineage, batches and reruns behave as they do from a database. Files are read twice (checked, then
written in chunks) so memory holds one chunk, whatever the files' size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..engines.generic.dberrors import driver_message
from ..errors import LoadError
from ..kits.deploy import deploy_data_objects
from ..kits.discovery import Datakit
from ..targets.resolve import DatabaseTarget, resolve_target

__all__ = ["check_folder", "is_file_source", "read_table_file", "stage_folder"]

SUFFIXES = (".csv", ".parquet")

CHUNK = 5_000
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def is_file_source(value: str | Path) -> bool:
    """True when ``value`` names a folder (a file source) rather than a database URL or ``generate``."""
    text = str(value)
    return "://" not in text and Path(text).is_dir()


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("is not a boolean (true/false, t/f, 1/0)")


def _python_kind(column: Column[Any]) -> type | None:
    """The Python type of the column's values (a TypeDecorator's: its impl's), None when it does not say."""
    for type_ in (column.type, getattr(column.type, "impl_instance", None)):
        try:
            kind = type_.python_type if type_ is not None else None
        except NotImplementedError:
            continue
        if kind is not None and kind is not object:  # a TypeDecorator that does not say: ask its impl
            return kind
    return None


def _converter(column: Column[Any]) -> Callable[[str], Any]:
    """text -> the column's Python value; a ValueError (its text says why) when the text does not fit."""
    kind = _python_kind(column)
    if kind is None:
        return str
    length = getattr(column.type, "length", None)

    def text(value: str) -> str:
        if length is not None and len(value) > length:
            raise ValueError(f"is {len(value)} characters, longer than {length}")
        return value

    def number(parse: Callable[[str], Any], what: str) -> Callable[[str], Any]:
        def convert(value: str) -> Any:
            try:
                return parse(value.strip())
            except (ValueError, InvalidOperation):
                raise ValueError(f"is not {what}") from None

        return convert

    converters: dict[type, Callable[[str], Any]] = {
        str: text,
        bool: _boolean,
        int: number(int, "an integer"),
        float: number(float, "a number"),
        Decimal: number(Decimal, "a decimal number"),
        datetime: number(_timestamp(column), "a timestamp (2024-05-01 12:00:00)"),
        date: number(date.fromisoformat, "a date (2024-05-01)"),
        time: number(time.fromisoformat, "a time (12:00:00)"),
        bytes: number(bytes.fromhex, "hexadecimal bytes"),
        dict: number(json.loads, "JSON"),
        list: number(json.loads, "JSON"),
    }
    for base, convert in converters.items():
        if issubclass(kind, base) and not (base is int and kind is bool):
            return convert
    return str


def _aware(column: Column[Any]) -> bool:
    return bool(getattr(column.type, "timezone", False)) or type(column.type).__name__ == "UTCDateTime"


def _timestamp(column: Column[Any]) -> Callable[[str], datetime]:
    """ISO text -> datetime; in a column that holds time zones, a time without one is UTC."""
    aware = _aware(column)

    def convert(value: str) -> datetime:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if aware and parsed.tzinfo is None else parsed

    return convert


def _file(folder: Path, table: Table, kit: Datakit) -> Path:
    found = [path for path in (folder / f"{table.name}{suffix}" for suffix in SUFFIXES) if path.is_file()]
    if len(found) > 1:
        raise LoadError(
            f"{folder}: both {found[0].name} and {found[1].name} for table {table.fullname}; keep one "
            "(nothing was loaded)",
            table.fullname,
        )
    if not found:
        raise LoadError(
            f"{folder}: no {table.name}.csv for table {table.fullname} of datakit {_kit_name(kit)}; "
            "give one <table>.csv (or <table>.parquet) per table (nothing was loaded)",
            table.fullname,
        )
    return found[0]


def _kit_name(kit: Datakit) -> str:
    return Path(kit.name).name


def _check_names(path: Path, names: list[str], table: Table, what: str = "header") -> None:
    """The file names each of the table's columns once, and no other."""
    columns = [c.name for c in table.columns]
    unknown = [n for n in names if n not in columns]
    missing = [n for n in columns if n not in names]
    if unknown or missing or len(set(names)) != len(names):
        if unknown:
            problem = f"column {unknown[0]!r} is not in table {table.fullname}"
        elif missing:
            problem = f"lacks column {missing[0]!r}"
        else:
            problem = "names a column twice"
        raise LoadError(
            f"{path}: the {what} {problem}; it must name the columns {', '.join(columns)} (nothing was loaded)",
            table.fullname,
            column=(unknown or missing or [""])[0] or None,
        )


def read_table_file(path: Path, table: Table) -> Iterator[dict[str, Any]]:
    """The rows of one CSV or Parquet file as the table's column -> value; a :class:`LoadError` on the first misfit."""
    if path.suffix == ".parquet":
        yield from _read_parquet(path, table)
        return
    columns = {c.name: c for c in table.columns}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise LoadError(f"{path}: empty file; the first row names the columns of {table.fullname}", table.fullname)
        names = [h.strip() for h in header]
        _check_names(path, names, table)
        converters = [(n, _converter(columns[n]), columns[n].nullable) for n in names]
        for number, fields in enumerate(reader, start=1):
            if not fields:
                continue
            if len(fields) != len(names):
                raise LoadError(
                    f"{path}: row {number} (line {reader.line_num}) has {len(fields)} fields, the header "
                    f"{len(names)} (nothing was loaded)",
                    table.fullname,
                )
            row: dict[str, Any] = {}
            for (name, convert, nullable), value in zip(converters, fields, strict=True):
                if value == "":
                    if not nullable:
                        what = "is empty, but the column is NOT NULL"
                        raise _misfit(path, number, reader.line_num, table, name, what)
                    row[name] = None
                    continue
                try:
                    row[name] = convert(value)
                except ValueError as exc:
                    raise _misfit(path, number, reader.line_num, table, name, f"{value[:40]!r} {exc}") from None
            yield row


def _fitter(column: Column[Any]) -> Callable[[Any], Any]:
    """A Parquet value -> the column's Python value: text as a CSV field, typed values checked against the column."""
    from_text, kind, aware = _converter(column), _python_kind(column), _aware(column)

    def fit(value: Any) -> Any:
        if isinstance(value, str) and kind is not str:
            return from_text(value)
        if kind is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
            if kind is str:
                return from_text(value)  # its length checked
            if aware and isinstance(value, datetime) and value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value
        if kind is Decimal and isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        if kind is float and isinstance(value, int | Decimal) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"is {type(value).__name__}, the column holds {kind.__name__}")

    return fit


def _read_parquet(path: Path, table: Table) -> Iterator[dict[str, Any]]:
    """The rows of one Parquet file, read a batch at a time (pyarrow: the ``parquet`` extra)."""
    try:
        import pyarrow  # type: ignore[import-not-found,unused-ignore]
        import pyarrow.parquet  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise LoadError(
            f"{path}: reading Parquet needs pyarrow: pip install 'pytest-datakits[parquet]' (nothing was loaded)",
            table.fullname,
        ) from None
    try:
        parquet = pyarrow.parquet.ParquetFile(path)
    except (OSError, pyarrow.ArrowException) as exc:
        raise LoadError(f"{path}: not a Parquet file ({exc}) (nothing was loaded)", table.fullname) from None
    names = list(parquet.schema_arrow.names)
    _check_names(path, names, table, what="file's columns")
    columns = {c.name: c for c in table.columns}
    fits = {name: (_fitter(columns[name]), columns[name].nullable) for name in names}
    number = 0
    for batch in parquet.iter_batches(batch_size=CHUNK):
        for values in batch.to_pylist():
            number += 1
            row: dict[str, Any] = {}
            for name, value in values.items():
                fit, nullable = fits[name]
                if value is None:
                    if not nullable:
                        raise _misfit(path, number, None, table, name, "is null, but the column is NOT NULL")
                    row[name] = None
                    continue
                try:
                    row[name] = fit(value)
                except ValueError as exc:
                    raise _misfit(path, number, None, table, name, f"{str(value)[:40]!r} {exc}") from None
            yield row


def _misfit(path: Path, number: int, line: int | None, table: Table, column: str, what: str) -> LoadError:
    where = f"row {number} (line {line})" if line is not None else f"row {number}"
    return LoadError(
        f"{path}: {where}, column {column}: {what} (nothing was loaded)",
        table.fullname,
        key=f"row {number}",
        column=column,
    )


def check_folder(folder: str | Path, kit: Datakit) -> dict[str, int]:
    """Read each table's file in ``folder`` against ``kit``; rows per table, or a :class:`LoadError`."""
    base = Path(folder)
    if not base.is_dir():
        raise LoadError(f"{base}: no such folder of CSV (or Parquet) files")
    counts: dict[str, int] = {}
    for table in kit.tables:
        counts[table.name] = sum(1 for _ in read_table_file(_file(base, table, kit), table))
    return counts


def stage_folder(folder: str | Path, kit: Datakit, database: DatabaseTarget) -> dict[str, int]:
    """Check the folder, deploy ``kit`` into ``database`` and write every file's rows in one transaction."""
    counts = check_folder(folder, kit)
    target = resolve_target(database)
    deploy_data_objects(kit, target)
    engine = target.engine(kit.schemas)
    try:
        _write(engine, Path(folder), kit)
    except SQLAlchemyError as exc:
        raise LoadError(
            f"{folder}: {target.safe_url} refused the files' rows: {driver_message(exc, first_line=True)} "
            "(nothing was loaded)"
        ) from None
    finally:
        engine.dispose()
    return counts


def _write(engine: Engine, folder: Path, kit: Datakit) -> None:
    """Every file's rows in one transaction, a chunk at a time."""
    with engine.begin() as conn:
        for table in kit.tables:
            chunk: list[dict[str, Any]] = []
            for row in read_table_file(_file(folder, table, kit), table):
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    conn.execute(table.insert(), chunk)
                    chunk = []
            if chunk:
                conn.execute(table.insert(), chunk)
