"""Reflect a live database and report where it drifts from a datakit's contract.

Per table: missing or extra; per column: missing, extra, type (compared in the engine's own
terms, shown in the database's own names), nullability; per table: primary key, unique
constraints, indexes and foreign keys (missing, extra, or pointing at another table or column).
Foreign keys that dbt tests rather than the database holds (:func:`tested_by_dbt`) are listed as
tested by dbt, not compared. A bronze schema's ``dk_batches`` table and each bronze table's
current-state view (:mod:`framework.kits.current`) are part of the contract: a missing view, or one
whose columns are not the table's, is drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Constraint, Index, Table, UniqueConstraint, inspect
from sqlalchemy.engine import Dialect, Engine, Inspector
from sqlalchemy.types import TypeEngine

from ..engines import engine_kind
from ..engines.connect import physical_schema
from ..results import MappingResult
from .current import batches_table, bronze_tables, current_name
from .deploy import Tables, Target, as_tables, connected

_T = TypeVar("_T")


@dataclass(frozen=True)
class Drift:
    """One difference between the contract and the live database."""

    table: str
    kind: str  # missing_table extra_table missing_column extra_column type nullable primary_key
    #            missing_unique extra_unique missing_index extra_index
    #            missing_foreign_key extra_foreign_key foreign_key
    #            missing_view view_columns (a bronze table's current-state view)
    detail: str
    column: str | None = None
    expected: str | None = None
    actual: str | None = None

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.detail}"


@dataclass
class ValidationResult(MappingResult):
    """The tables checked and every drift found; ``success`` when there is none."""

    success: bool
    target: str
    checked: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    #: foreign keys of the datakit that dbt tests (``relationships``) rather than the database holds
    tested: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{len(self.checked)} tables on {self.target}: "
        tested = "".join(f"\n  tested by dbt: {t}" for t in self.tested)
        if self.success:
            return head + "no drift" + tested
        return head + f"{len(self.drift)} drift(s)\n" + "\n".join(f"  - {d}" for d in self.drift) + tested


_ALIASES = {
    "INT": "INTEGER",
    "BOOL": "BOOLEAN",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "TIME WITHOUT TIME ZONE": "TIME",
    "CHARACTER VARYING": "VARCHAR",
    "DOUBLE PRECISION": "FLOAT",
}


def type_name(type_: TypeEngine[Any], dialect: Dialect) -> str:
    """A type as the engine spells it, normalised so that equal types compare equal."""
    try:
        name = type_.compile(dialect=dialect)
    except Exception:  # an unknown reflected type: fall back to its class name
        name = type(type_).__name__
    name = " ".join(name.upper().replace('"', "").split())
    name = re.sub(r" (COLLATE|CHARACTER SET) \S+", "", name)
    name = re.sub(r"^NUMERIC\b", "DECIMAL", name)
    name = engine_kind(dialect.name).type_name(name, dialect)
    return _ALIASES.get(name, name)


def shown_type(type_: TypeEngine[Any], dialect: Dialect) -> str:
    """A type as the database spells it in DDL (``NUMERIC(10,2)`` on PostgreSQL, ``DECIMAL(10,2)`` on MySQL)."""
    try:
        name = type_.compile(dialect=dialect)
    except Exception:  # an unknown reflected type: its class name
        return type(type_).__name__
    return engine_kind(dialect.name).shown_type(re.sub(r",\s+", ",", " ".join(name.split())))


def _creates_on(item: Index | Constraint, dialect: Dialect) -> bool:
    condition = getattr(item, "_ddl_if", None)
    if condition is None or condition.dialect is None:
        return True
    allowed = condition.dialect if isinstance(condition.dialect, (list, tuple, set)) else [condition.dialect]
    return dialect.name in allowed


def _expected_keys(table: Table, dialect: Dialect) -> tuple[dict[tuple[str, ...], str], dict[tuple[str, ...], str]]:
    uniques: dict[tuple[str, ...], str] = {}
    indexes: dict[tuple[str, ...], str] = {}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and _creates_on(constraint, dialect):
            uniques[tuple(c.name for c in constraint.columns)] = str(constraint.name or "")
    for index in table.indexes:
        if _creates_on(index, dialect):
            cols = tuple(str(getattr(c, "name", c)) for c in index.expressions)
            (uniques if index.unique else indexes)[cols] = str(index.name)
    return uniques, indexes


def _actual_keys(
    inspector: Inspector, name: str, schema: str | None
) -> tuple[dict[tuple[str, ...], str], dict[tuple[str, ...], str]]:
    uniques: dict[tuple[str, ...], str] = {}
    indexes: dict[tuple[str, ...], str] = {}
    fks = [(fk.get("name"), tuple(fk["constrained_columns"])) for fk in inspector.get_foreign_keys(name, schema=schema)]
    for uc in inspector.get_unique_constraints(name, schema=schema):
        uniques[tuple(str(c) for c in uc["column_names"])] = str(uc["name"])
    for ix in inspector.get_indexes(name, schema=schema):
        cols = tuple(str(c) for c in ix["column_names"] if c is not None) or tuple(
            str(e) for e in ix.get("expressions", [])
        )
        if ix["unique"]:
            uniques.setdefault(cols, str(ix["name"]))
        elif not foreign_key_index(str(ix["name"]), cols, fks, inspector.dialect.name):
            indexes[cols] = str(ix["name"])
    return uniques, indexes


def foreign_key_index(
    name: str, columns: tuple[str, ...], foreign_keys: list[tuple[str | None, tuple[str, ...]]], engine: str
) -> bool:
    """Whether an index is the one MySQL adds for a foreign key: named after it, or after its first
    column when the key has a generated name. Such an index is MySQL's, not a datakit's."""
    if not engine_kind(engine).adds_foreign_key_indexes:
        return False
    return any(name == fk_name or (columns == cols and name == cols[0]) for fk_name, cols in foreign_keys)


def partitions(engine: Engine, schema: str | None) -> set[str]:
    """The partitions of partitioned tables in ``schema`` (PostgreSQL's): part of their table, not tables."""
    return engine_kind(engine.dialect.name).partitions(engine, schema)


def _compare_table(table: Table, inspector: Inspector, schema: str | None, dialect: Dialect) -> list[Drift]:
    drift: list[Drift] = []
    where = table.fullname
    live = {c["name"]: c for c in inspector.get_columns(table.name, schema=schema)}
    got_pk = sorted(inspector.get_pk_constraint(table.name, schema=schema).get("constrained_columns") or [])
    rowid = engine_kind(dialect.name).integer_key_is_rowid and len(got_pk) == 1 and got_pk[0] in live
    if rowid and type_name(live[got_pk[0]]["type"], dialect) == "INTEGER":
        live[got_pk[0]]["nullable"] = (
            False  # INTEGER PRIMARY KEY is the rowid: never NULL, though SQLite says it may be
        )
    for column in table.columns:
        actual = live.get(column.name)
        if actual is None:
            drift.append(Drift(where, "missing_column", "column is missing", column.name))
            continue
        if type_name(column.type, dialect) != type_name(actual["type"], dialect):
            want, got = shown_type(column.type, dialect), shown_type(actual["type"], dialect)
            drift.append(Drift(where, "type", f"type is {got}, expected {want}", column.name, want, got))
        if bool(column.nullable) != bool(actual["nullable"]):
            want_n = "NULL" if column.nullable else "NOT NULL"
            got_n = "NULL" if actual["nullable"] else "NOT NULL"
            drift.append(Drift(where, "nullable", f"is {got_n}, expected {want_n}", column.name, want_n, got_n))
    for extra in sorted(live.keys() - {c.name for c in table.columns}):
        drift.append(Drift(where, "extra_column", "column is not in the datakit", extra))
    want_pk = sorted(c.name for c in table.primary_key.columns)
    if want_pk != got_pk:
        drift.append(
            Drift(
                where,
                "primary_key",
                f"primary key is {got_pk}, expected {want_pk}",
                None,
                str(want_pk),
                str(got_pk),
            )
        )
    want_u, want_i = _expected_keys(table, dialect)
    got_u, got_i = _actual_keys(inspector, table.name, schema)
    for kind, want_k, got_k in (("unique", want_u, got_u), ("index", want_i, got_i)):
        for cols in want_k.keys() - got_k.keys():
            detail = f"{_named(kind, want_k[cols])} on ({', '.join(cols)}) is missing"
            drift.append(Drift(where, f"missing_{kind}", detail, None, want_k[cols]))
        for cols in got_k.keys() - want_k.keys():
            detail = f"{_named(kind, got_k[cols])} on ({', '.join(cols)}) is not in the datakit"
            drift.append(Drift(where, f"extra_{kind}", detail, None, None, got_k[cols]))
    drift += _compare_foreign_keys(table, inspector, schema, dialect)
    return drift


#: ``Table.info`` key and value: "this table's foreign keys are checked by tests, not held as constraints"
FOREIGN_KEYS = "dk_foreign_keys"
TESTED = "tested"


def tested_by_dbt(table_class: _T) -> _T:
    """Declare that a contract datakit's table has its foreign keys tested by dbt, not created.

    dbt rebuilds its tables, so a layer it builds holds its foreign keys as ``relationships``
    tests (``datakits dbt contracts`` writes them). Use it on the class (``@tested_by_dbt``) or
    call it with a ``Table``; ``validate_deployment`` then reports each such key as "tested by
    dbt" instead of missing. It sets ``table.info[FOREIGN_KEYS] = TESTED``, which a class may
    also put in its ``__table_args__``.
    """
    table = getattr(table_class, "__table__", table_class)
    if not isinstance(table, Table):
        raise TypeError(f"tested_by_dbt takes a SQLModel table class or a Table, not {table_class!r}")
    table.info[FOREIGN_KEYS] = TESTED
    return table_class


def _named(kind: str, name: str | None) -> str:
    return f"{kind} {name}" if name else kind


def _wanted_foreign_keys(table: Table, dialect: Dialect) -> dict[tuple[str, ...], tuple[str | None, str]]:
    want: dict[tuple[str, ...], tuple[str | None, str]] = {}
    # a set: by its columns, so "tested by dbt" lines and drift come in the same order every run
    for fk in sorted(table.foreign_key_constraints, key=lambda fk: [c.name for c in fk.columns]):
        if _creates_on(fk, dialect):
            refs = [e.column for e in fk.elements]
            want[tuple(c.name for c in fk.columns)] = (
                str(fk.name) if fk.name else None,
                f"{refs[0].table.name} ({', '.join(c.name for c in refs)})",
            )
    return want


def tested_foreign_keys(table: Table, dialect: Dialect) -> list[str]:
    """The foreign keys of a table declared :func:`tested_by_dbt`, one line each (none otherwise)."""
    if table.info.get(FOREIGN_KEYS) != TESTED:
        return []
    return [
        f"{table.fullname}: {_named('foreign key', name)} on ({', '.join(cols)}) to {referred}"
        for cols, (name, referred) in _wanted_foreign_keys(table, dialect).items()
    ]


def _compare_foreign_keys(table: Table, inspector: Inspector, schema: str | None, dialect: Dialect) -> list[Drift]:
    """Foreign keys, by their columns: missing, extra, or referring to another table or columns.

    A table whose ``info`` says its foreign keys are ``TESTED`` (:func:`tested_by_dbt`: a layer
    that dbt rebuilds, where they are ``relationships`` tests rather than constraints) has none
    to compare: they are reported as tested by dbt."""
    if table.info.get(FOREIGN_KEYS) == TESTED:
        return []
    want = _wanted_foreign_keys(table, dialect)
    got: dict[tuple[str, ...], tuple[str | None, str]] = {}
    for live in inspector.get_foreign_keys(table.name, schema=schema):
        referred = f"{live['referred_table']} ({', '.join(live['referred_columns'])})"
        got[tuple(live["constrained_columns"])] = (live.get("name"), referred)
    drift: list[Drift] = []
    where = table.fullname
    for cols, (name, referred) in want.items():
        on = f"on ({', '.join(cols)})"
        if cols not in got:
            detail = f"{_named('foreign key', name)} {on} to {referred} is missing"
            drift.append(Drift(where, "missing_foreign_key", detail, None, referred))
        elif got[cols][1] != referred:
            detail = f"{_named('foreign key', got[cols][0])} {on} refers to {got[cols][1]}, expected {referred}"
            drift.append(Drift(where, "foreign_key", detail, None, referred, got[cols][1]))
    for cols in got.keys() - want.keys():
        name, referred = got[cols]
        detail = f"{_named('foreign key', name)} on ({', '.join(cols)}) to {referred} is not in the datakit"
        drift.append(Drift(where, "extra_foreign_key", detail, None, None, referred))
    return drift


def _compare_views(bronze: list[Table], inspector: Inspector, schema: str | None) -> list[Drift]:
    """Each bronze table's current-state view: there, with the table's columns in its order."""
    if not bronze:
        return []
    drift = []
    views = set(inspector.get_view_names(schema=schema))
    for table in bronze:
        name = current_name(table)
        where = f"{table.schema}.{name}" if table.schema else name
        if name not in views:
            detail = "current-state view is missing (deploy the datakit again)"
            drift.append(Drift(where, "missing_view", detail))
            continue
        want = [c.name for c in table.columns]
        got = [c["name"] for c in inspector.get_columns(name, schema=schema)]
        if got != want:
            detail = f"current-state view has columns {', '.join(got)}; the table has {', '.join(want)} (deploy again)"
            drift.append(Drift(where, "view_columns", detail, None, ", ".join(want), ", ".join(got)))
    return drift


def validate_deployment(
    tables: Tables, target: Target, report_extra_tables: bool = True, *, ignore_extra_tables: bool = False
) -> ValidationResult:
    """Compare the live database at ``target`` with the datakit's tables.

    ``ignore_extra_tables`` (or ``report_extra_tables=False``): tables of the datakit's schemas
    that the datakit does not have are not drift. For a schema the datakit shares with others
    (dbt's seeds and staging beside the marts, another team's tables).
    """
    report_extra_tables = report_extra_tables and not ignore_extra_tables
    table_list = as_tables(tables)
    # a temporal table's history table is part of the contract (framework.kits.temporal)
    table_list += [t.info["temporal_history"] for t in table_list if "temporal_history" in t.info]
    # so are bronze's batches tables and current-state views (framework.kits.current)
    bronze = bronze_tables(table_list)
    table_list += [batches_table(s) for s in sorted({t.schema for t in bronze}, key=lambda s: s or "")]
    with connected(target, table_list) as (engine, label):
        inspector = inspect(engine)
        result = ValidationResult(True, label)
        for schema in sorted({t.schema for t in table_list}, key=lambda s: s or ""):
            real = physical_schema(engine, schema)
            live = set(inspector.get_table_names(schema=real)) - partitions(engine, real)
            mine = [t for t in table_list if t.schema == schema]
            for table in mine:
                result.checked.append(table.fullname)
                if table.name not in live:
                    result.drift.append(Drift(table.fullname, "missing_table", "table is missing"))
                else:
                    result.drift.extend(_compare_table(table, inspector, real, engine.dialect))
                result.tested.extend(tested_foreign_keys(table, engine.dialect))
            present = [t for t in bronze if t.schema == schema and t.name in live]  # a missing table says it all
            result.drift.extend(_compare_views(present, inspector, real))
            if report_extra_tables:
                prefix = f"{schema}." if schema else ""
                for extra in sorted(live - {t.name for t in mine}):
                    result.drift.append(Drift(prefix + extra, "extra_table", "table is not in the datakit"))
        result.success = not result.drift
    return result
