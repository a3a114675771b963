"""How one table loads: what to read, what to write, and the rows in between.

:func:`make_plan` checks the source and target and builds the source statement; :class:`RowStream`
turns the source's chunks into the target's (the transform, the counts, the progress); and
:func:`database_error` turns what a database said into one line.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, TypeAlias

from sqlalchemy import Column, Table, select
from sqlalchemy.sql import Select
from sqlmodel import SQLModel

from ..engines.generic.canonical import business_columns
from ..engines.generic.dberrors import driver_message
from ..engines.generic.writer import RowChunks
from ..errors import LoadError
from ..kits.mixins import LINEAGE_COLUMNS
from ..progress import Progress

__all__ = [
    "LoadError",
    "RowStream",
    "SourceFailed",
    "SourceSpec",
    "TablePlan",
    "TargetSpec",
    "Transform",
    "as_table",
    "database_error",
    "describe",
    "make_plan",
    "schemas_of",
]

SourceSpec: TypeAlias = "type[SQLModel] | Table | Select[Any]"
TargetSpec: TypeAlias = "type[SQLModel] | Table"
#: source row (a new dict per row) -> target row (mapping or object), or None to drop the row
Transform: TypeAlias = Callable[[dict[str, Any]], Any]


def as_table(spec: Any) -> Table | None:
    """The Table of a SQLModel table class or a Table; None for anything else."""
    if isinstance(spec, Table):
        return spec
    table = getattr(spec, "__table__", None)
    return table if isinstance(table, Table) else None


def schemas_of(spec: Any) -> set[str | None]:
    """The schemas a table, a table class or a select reads from."""
    table = as_table(spec)
    if table is not None:
        return {table.schema}
    if isinstance(spec, Select):
        return {t.schema for t in spec.get_final_froms() if isinstance(t, Table)}
    return set()


@dataclass
class TablePlan:
    """How one table loads: what to read, what to write, how to turn one into the other."""

    target: Table
    columns: list[Column[Any]]  # the target's business columns, in column order
    statement: Select[Any]
    source_table: Table | None
    source_label: str
    key_names: list[str]  # the source row's key, for messages
    transform: Transform | None

    @property
    def plain_columns(self) -> bool:
        """True when the statement reads a source table's columns as they are."""
        return self.source_table is not None

    @property
    def name(self) -> str:
        return self.target.fullname


def make_plan(
    source: SourceSpec, target: TargetSpec, transform: Transform | None, source_label: str | None
) -> TablePlan:
    """Check the target is a bronze table and the source has its columns; build the source statement."""
    target_table = as_table(target)
    if target_table is None:
        raise LoadError(f"target {target!r} is not a table: give a SQLModel table class or a Table")
    missing_lineage = [n for n in LINEAGE_COLUMNS if n not in target_table.c]
    if missing_lineage:
        raise LoadError(
            f"{target_table.fullname} has no lineage columns ({', '.join(missing_lineage)}): "
            "a bronze table inherits framework.kits.mixins.BronzeLineageMixin",
            target_table.fullname,
        )
    columns = business_columns(target_table.columns)
    names = [c.name for c in columns]
    source_table = as_table(source)
    if source_table is not None:
        statement: Select[Any] = select(source_table)
        key_names = [c.name for c in source_table.primary_key.columns]
        label = source_label or source_table.fullname
    elif isinstance(source, Select):
        statement = source
        froms = [f for f in source.get_final_froms() if isinstance(f, Table)]
        label = source_label or (froms[0].fullname if len(froms) == 1 else "select")
        key_names = [
            c.name
            for c in target_table.primary_key.columns
            if c.name in statement.selected_columns and c.name not in LINEAGE_COLUMNS
        ]
    else:
        raise LoadError(f"source {source!r} is not a table or a select: give a SQLModel class, a Table or a select()")
    available = statement.selected_columns
    if transform is None:
        absent = [n for n in names if n not in available]
        if absent:
            raise LoadError(
                f"{target_table.fullname}: the source {label} has no column {', '.join(absent)}; "
                "give a transform that supplies it",
                target_table.fullname,
                column=absent[0],
            )
        statement = statement.with_only_columns(*(available[n] for n in names))
    if not key_names:
        key_names = list(available.keys())[:1]
    return TablePlan(target_table, columns, statement, source_table, label, key_names, transform)


class SourceFailed(Exception):
    def __init__(self, error: BaseException) -> None:
        self.error = error
        super().__init__(str(error))


_NONE = type(None)
_not_none = functools.partial(operator.is_not, None)


def _name_of(function: Any) -> str:
    return getattr(function, "__name__", None) or repr(function)


def record_maker(names: Sequence[str]) -> Callable[[Sequence[Any]], list[dict[str, Any]]]:
    """A function: rows -> a new dict per row (``names`` -> the row's values), as ``dict(zip(names, row))``
    gives, generated as one comprehension with the names as constants (a third faster)."""
    if not names or len(names) > 250:  # a comprehension of hundreds of names gains nothing
        return lambda rows: list(map(dict, map(zip, repeat(names), rows)))
    values = [f"v{i}" for i in range(len(names))]
    pairs = ", ".join(f"{name!r}: {value}" for name, value in zip(names, values, strict=True))
    source = f"def records(rows):\n    return [{{{pairs}}} for {', '.join(values)}, in rows]\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<source records>", "exec"), namespace)
    records: Callable[[Sequence[Any]], list[dict[str, Any]]] = namespace["records"]
    return records


class RowStream:
    """Turns source chunks into target chunks, counting, applying the transform, reporting progress."""

    def __init__(self, plan: TablePlan, batch_id: str, progress: Progress | None) -> None:
        self.plan = plan
        self.batch_id = batch_id
        self.progress = progress
        self.read = 0
        self.kept = 0
        names = [c.name for c in plan.columns]
        self.names = names
        self.source_names = list(plan.statement.selected_columns.keys())
        self.allowed = set(names) | set(self.source_names)
        self.count = len(names)
        single = len(names) == 1
        item = operator.itemgetter(*names)
        attr = operator.attrgetter(*names)
        self.by_key: Callable[[Any], Sequence[Any]] = (lambda m: (item(m),)) if single else item
        self.by_attr: Callable[[Any], Sequence[Any]] = (lambda o: (attr(o),)) if single else attr
        self.records = record_maker(self.source_names)

    def chunks(self, stream: Iterable[Sequence[Any]]) -> RowChunks:
        iterator = iter(stream)
        transform = self.plan.transform
        while True:
            try:
                rows = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                raise SourceFailed(exc) from exc
            self.read += len(rows)
            out: list[Sequence[Any]] = list(rows) if transform is None else self._transform(rows, transform)
            self.kept += len(out)
            if self.progress is not None:
                self.progress.update(self.plan.name, self.read, self.kept)
            yield out

    def _transform(self, rows: Sequence[Any], transform: Transform) -> list[Sequence[Any]]:
        """The target rows of one chunk: the transform and the row building run in C builtins
        (``map``, ``itemgetter``) over the whole chunk; only a chunk that needs a closer look (rows
        dropped among results of several kinds, an error to name) goes through :meth:`_one_by_one`."""
        records = self.records(rows)
        results: list[Any] = []
        try:
            # list.extend keeps what it appended before an error: len(results) is the failing row
            results.extend(map(transform, records))
        except Exception as exc:
            self._one_by_one(rows, results)  # a bad result before the failing row is the first error
            row = rows[len(results)]
            raise self._error(row, f"the transform {_name_of(transform)} raised {describe(exc)}") from exc
        kinds = set(map(type, results))
        kept = results
        if len(kinds) == 2 and _NONE in kinds:  # rows dropped: the others are still of one kind
            kinds.discard(_NONE)
            kept = list(filter(_not_none, results))
        if len(kinds) == 1:
            kind = kinds.pop()
            try:
                if kind is dict or (kind is not _NONE and issubclass(kind, Mapping)):
                    values = list(map(self.by_key, kept))
                    if any(map(self.count.__ne__, map(len, kept))) and not all(map(self.allowed.issuperset, kept)):
                        return self._one_by_one(rows, results)  # names the first row with extra columns
                    return values
                if kind is _NONE:
                    return []
                return list(map(self.by_attr, kept))
            except (KeyError, AttributeError):
                pass  # named, with its row, below
        return self._one_by_one(rows, results)

    def _one_by_one(self, rows: Sequence[Any], results: list[Any]) -> list[Sequence[Any]]:
        """The target rows of the transform's ``results``, one at a time: rows dropped (``None``),
        mappings and objects mixed, and the error of the first result that is not a target row."""
        count, by_key, by_attr = self.count, self.by_key, self.by_attr
        out: list[Sequence[Any]] = []
        append = out.append
        for row, result in zip(rows, results, strict=False):
            if result is None:
                continue
            try:
                if result.__class__ is dict or isinstance(result, Mapping):
                    append(by_key(result))
                    if len(result) != count:
                        self._check_extra(row, result)
                else:
                    append(by_attr(result))
            except (KeyError, AttributeError) as exc:
                column = exc.args[0] if isinstance(exc, KeyError) else getattr(exc, "name", str(exc))
                raise self._error(row, f"the transform gave no value for column {column}", column) from None
        return out

    def _check_extra(self, row: Sequence[Any], result: Mapping[str, Any]) -> None:
        extra = sorted(set(result) - self.allowed)
        if extra:
            raise self._error(
                row, f"the transform gave columns the target does not have: {', '.join(map(str, extra))}", extra[0]
            )

    def _error(self, row: Sequence[Any], what: str, column: str | None = None) -> LoadError:
        record = dict(zip(self.source_names, row, strict=True))
        key = ", ".join(f"{k}={record.get(k)!r}" for k in self.plan.key_names)
        return LoadError(
            f"{self.plan.name}: row {key}: {what}; batch {self.batch_id} rolled back",
            self.plan.name,
            self.batch_id,
            key,
            column,
        )


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_COLUMN = (
    re.compile(r"column (?:\")?([A-Za-z_][\w$]*)"),  # PostgreSQL: CONTEXT ... column name: ...
    re.compile(r"column '([^']+)'"),  # MySQL: Data too long for column 'x'
    re.compile(r"constraint failed: [\w.]*?\.?(\w+)$"),  # SQLite: NOT NULL constraint failed: t.c
)


def database_error(exc: BaseException, plan: TablePlan, batch_id: str, side: str) -> LoadError:
    """One line for an error the database raised: what it said, where, and that nothing changed."""
    original = getattr(exc, "orig", None) or exc
    first = driver_message(exc, first_line=True)
    diag = getattr(original, "diag", None)
    context = " ".join((getattr(diag, "context", None) or "").split())
    column = getattr(diag, "column_name", None)
    if column is None:
        for pattern in _COLUMN:
            match = pattern.search(context) or pattern.search(first)
            if match:
                column = match.group(1)
                break
    if len(context) > 160:
        context = context[:157] + "..."
    where = f" ({context})" if context else ""
    return LoadError(
        f"{plan.name}: the {side} database refused the batch: {first}{where}; batch {batch_id} rolled back",
        plan.name,
        batch_id,
        column=column,
    )
