"""Source text that ``datakits init --from`` writes from a reflected datakit's tables, by their column types.

- :func:`contract_kit_source`: the contract datakit of a layer dbt builds from bronze, one class per
  source table, in a schema of its own: the source's columns (names, types, nullability) and primary
  key, nothing dbt does not create (no foreign keys, uniques, checks, indexes or defaults: dbt
  rebuilds tables, so a key is a constraint of the contract and the rest are tests).
- :func:`staging_model_sql`: a dbt model selecting a bronze table's business columns, the latest
  version of each key (bronze keeps every batch).
- :func:`factories_source`: factory_boy factories of the source tables, one per table, each column's
  value made from the factory's sequence number by its type (distinct for every row, so keys and
  uniques hold), each foreign key filled from a row its factory creates first; ``create_rows``
  fills a session with a few rows per table.
"""

from __future__ import annotations

import builtins
import importlib
import keyword
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, ForeignKeyConstraint, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import sort_tables
from sqlalchemy.types import TypeEngine

from ..kits.discovery import Datakit

__all__ = ["contract_kit_source", "factories_source", "model_test_table", "staging_model_sql"]

#: where a SQLAlchemy type class is imported from in generated code, first match wins
_TYPE_MODULES = (
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.mysql",
    "sqlalchemy.dialects.sqlite",
    "sqlmodel.sql.sqltypes",
)
_QUOTE = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call,unused-ignore]


def _class_name(kit: Datakit, table: Table) -> str:
    for cls in kit.classes:
        if getattr(cls, "__table__", None) is table:
            return cls.__name__
    return "".join(part.capitalize() for part in re.split(r"\W+", table.name) if part) or "Table"


def _attribute(name: str) -> str:
    """A column name as a Python attribute (``class`` -> ``class_``)."""
    attribute = re.sub(r"\W", "_", name)
    attribute = f"_{attribute}" if attribute[:1].isdigit() else attribute
    return f"{attribute}_" if keyword.iskeyword(attribute) else attribute


# --- types ------------------------------------------------------------------------------------------


def _type_classes(type_: TypeEngine[Any]) -> Iterable[type]:
    """The type's class and those of the types it holds (an ARRAY's item type, a domain's data type)."""
    yield type(type_)
    for value in vars(type_).values():
        if isinstance(value, TypeEngine):
            yield from _type_classes(value)


def _import_of(cls: type) -> str:
    for module in _TYPE_MODULES:
        if getattr(importlib.import_module(module), cls.__name__, None) is cls:
            return module
    return cls.__module__


def _python_type(type_: TypeEngine[Any]) -> tuple[str, str | None]:
    """The annotation of a column of ``type_`` and the module it needs (None: a builtin)."""
    try:
        kind = type_.python_type
    except NotImplementedError:
        return "Any", "typing"
    if kind.__module__ == "builtins" and getattr(builtins, kind.__name__, None) is kind:
        return kind.__name__, None
    return f"{kind.__module__}.{kind.__qualname__}", kind.__module__


class _Imports:
    """The ``import`` lines a generated module needs."""

    def __init__(self) -> None:
        self.modules: set[str] = set()
        self.names: dict[str, set[str]] = {}

    def name(self, module: str, name: str) -> str:
        self.names.setdefault(module, set()).add(name)
        return name

    def lines(self) -> list[str]:
        plain = [f"import {m}" for m in sorted(self.modules)]
        named = [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(self.names.items())]
        return [*plain, *named]


def _column_code(column: Column[Any], imports: _Imports) -> str:
    for cls in _type_classes(column.type):
        imports.name(_import_of(cls), cls.__name__)
    annotation, module = _python_type(column.type)
    if module == "typing":
        imports.name("typing", "Any")
    elif module:
        imports.modules.add(module)
    args = [repr(column.name), repr(column.type)]
    if column.primary_key:
        args += ["primary_key=True", "autoincrement=False"]
    elif not column.nullable:
        args.append("nullable=False")
    column_code = f"Column({', '.join(args)})"
    if column.nullable and not column.primary_key:
        return f"{_attribute(column.name)}: {annotation} | None = Field(default=None, sa_column={column_code})"
    return f"{_attribute(column.name)}: {annotation} = Field(sa_column={column_code})"


def contract_kit_source(kit: Datakit, schema: str, doc: str) -> str:
    """A ``models.py``: each table of ``kit`` as dbt builds it in ``schema`` (columns, key; see the module doc)."""
    imports = _Imports()
    imports.name("sqlalchemy", "Column")
    imports.name("sqlalchemy.orm", "registry")
    imports.name("sqlmodel", "Field")
    imports.name("sqlmodel", "SQLModel")
    classes = []
    for table in kit.tables:
        lines = [
            f"class {_class_name(kit, table)}(DatakitModel, table=True):",
            f'    """{table.name} of the source: the latest version of each key in bronze."""',
            "",
            f"    __tablename__ = {table.name!r}",
            f"    __table_args__ = {{'schema': {schema!r}}}",
            "",
            *(f"    {_column_code(column, imports)}" for column in table.columns),
        ]
        classes.append("\n".join(lines))
    base = [
        "class DatakitModel(SQLModel, registry=registry()):",
        '    """The tables of this kit, in a MetaData of their own: kits may share names."""',
    ]
    body = "\n\n\n".join(["\n".join(base), *classes])
    return f'"""{doc}"""\n\n' + "\n".join(imports.lines()) + f"\n\n\n{body}\n"


# --- dbt models -------------------------------------------------------------------------------------


def staging_model_sql(table: Table, source: str) -> str:
    """The dbt model of ``table``'s bronze version (source ``source``): its latest row per key."""
    key = ", ".join(_QUOTE.quote(c.name) for c in table.primary_key.columns)
    columns = ",\n    ".join(_QUOTE.quote(c.name) for c in table.columns)
    return (
        f"-- {table.name} of the source: bronze keeps every batch, so the latest version of each key\n"
        f"-- (by dk_loaded_at, then dk_batch_id). Written by `datakits init --from`; yours to edit.\n"
        f"select distinct on ({key})\n"
        f"    {columns}\n"
        f"from {{{{ source({source!r}, {table.name!r}) }}}}\n"
        f"order by {key}, dk_loaded_at desc, dk_batch_id desc\n"
    )


# --- factories --------------------------------------------------------------------------------------

#: the value of a column of a Python type, from the sequence number ``n`` (distinct for every n)
_VALUES: list[tuple[str, str]] = [
    ("bool", "n % 2 == 0"),
    ("int", "n + 1"),
    ("float", "n + 0.5"),
    ("datetime.datetime", "datetime.datetime(2024, 1, 1{tz}) + datetime.timedelta(minutes=n)"),
    ("datetime.date", "datetime.date(2024, 1, 1) + datetime.timedelta(days=n % 3650)"),
    ("datetime.time", "datetime.time(n // 60 % 24, n % 60)"),
    ("datetime.timedelta", "datetime.timedelta(minutes=n + 1)"),
    ("uuid.UUID", "uuid.UUID(int=n + 1)"),
    ("bytes", "str(n).encode()"),
    ("dict", '{{"n": n}}'),
]


def _decimal_value(type_: Any) -> str:
    precision, scale = getattr(type_, "precision", None), getattr(type_, "scale", None) or 0
    digits = 3 if precision is None else max(0, min(precision - scale, 3))  # what fits before the point
    whole = f"n % {10**digits}" if digits else "0"
    return f'decimal.Decimal({whole}) + decimal.Decimal("1e-{scale}")' if scale else f"decimal.Decimal({whole})"


def _text_value(column: Column[Any]) -> str:
    length = getattr(column.type, "length", None)
    prefix = column.name[: max(0, length - 8)] if length else column.name
    return f'f"{prefix} {{n}}"[:{length}]' if length else f'f"{prefix} {{n}}"'


def _value(column: Column[Any]) -> str | None:
    """An expression of ``n`` for the column, or None where the type gives no value to make."""
    type_ = column.type
    enums = getattr(type_, "enums", None)
    if enums:
        return f"{list(enums)!r}[n % {len(enums)}]"
    item = getattr(type_, "item_type", None)
    if item is not None:  # an array
        inner = _value(Column(column.name, item))
        return f"[{inner}]" if inner else None
    annotation, _ = _python_type(type_)
    if annotation == "decimal.Decimal":
        return _decimal_value(type_)
    if annotation == "str":
        return _text_value(column)
    timezone = ", tzinfo=datetime.UTC" if getattr(type_, "timezone", False) else ""
    return next((v.format(tz=timezone) for python, v in _VALUES if python == annotation), None)


def _generated(column: Column[Any]) -> bool:
    """The database makes the value itself and refuses one given (GENERATED ALWAYS, a computed column)."""
    return column.computed is not None or bool(column.identity is not None and column.identity.always)


def model_test_table(kit: Datakit) -> tuple[str, str]:
    """The table (and its class) a test may build a row of: the first whose key the factory fills."""
    fillable = [t for t in kit.tables if not any(_generated(c) for c in t.primary_key.columns)]
    table = (fillable or kit.tables)[0]
    return table.name, _class_name(kit, table)


def _factory_lines(kit: Datakit, table: Table, earlier: set[str]) -> list[str]:
    name = _class_name(kit, table)
    lines = [
        f"class {name}Factory(SQLAlchemyModelFactory):",
        f'    """A row of {table.name}; a row of the table each foreign key names comes first."""',
        "",
        "    class Meta:",
        f"        model = {name}",
        "        sqlalchemy_session_factory = current_session  # the running test's session (or use_session's)",
        '        sqlalchemy_session_persistence = "flush"',
        "",
    ]
    params, filled = [], {}
    taken = {_attribute(c.name) for c in table.columns}
    for constraint in sorted(table.foreign_key_constraints, key=lambda c: [e.parent.name for e in c.elements]):
        referred = constraint.referred_table
        if referred.name not in earlier or referred is table:  # a cycle or itself: left empty (nullable) below
            continue
        param = f"{_attribute(referred.name)}_row"
        while param in taken:
            param += "_"
        taken.add(param)
        params.append(f"        {param} = factory.SubFactory({_class_name(kit, referred)}Factory)")
        for element in constraint.elements:
            filled[element.parent.name] = f'factory.SelfAttribute("{param}.{_attribute(element.column.name)}")'
    if params:
        lines += ["    class Params:", *params, ""]
    for column in table.columns:
        attribute = _attribute(column.name)
        if _generated(column):
            continue
        if column.name in filled:
            lines.append(f"    {attribute} = {filled[column.name]}")
        elif _foreign(column, table):
            lines.append(f"    {attribute} = None  # its foreign key is in a cycle: give it a row by hand")
        elif (value := _value(column)) is not None:
            lines.append(f"    {attribute} = factory.Sequence(lambda n: {value})")
        elif not column.nullable:
            lines.append(f"    {attribute} = factory.Sequence(lambda n: str(n))  # a type to fill by hand")
    return lines


def _foreign(column: Column[Any], table: Table) -> bool:
    return any(column in c.columns.values() for c in table.constraints if isinstance(c, ForeignKeyConstraint))


def factories_source(kit: Datakit, module: str, doc: str) -> str:
    """A ``factories.py`` for ``kit`` (its models importable as ``module``): see the module doc."""
    order = sort_tables(kit.tables)  # a parent's factory before its children's
    classes: list[str] = []
    earlier: set[str] = set()
    for table in order:
        classes.append("\n".join(_factory_lines(kit, table, earlier)))
        earlier.add(table.name)
    names = ", ".join(sorted({_class_name(kit, t) for t in order}))
    listing = ", ".join(f"{_class_name(kit, t)}Factory" for t in order)
    body = "\n\n\n".join(classes)
    head = [
        f'"""{doc}"""',
        "",
        *(f"import {m}" for m in ("datetime", "decimal", "uuid") if f"{m}." in body),
        "",
        "import factory",
        "from factory.alchemy import SQLAlchemyModelFactory",
        "from sqlalchemy.orm import Session",
        "",
        "from pytest_datakits import current_session, use_session",
        "",
        f"from {module} import {names}",
        "",
        f"__all__ = {['FACTORIES', 'create_rows', *[f'{_class_name(kit, t)}Factory' for t in order]]!r}",
    ]
    tail = [
        "#: every table's factory, parents first",
        f"FACTORIES = [{listing}]",
        "",
        "",
        "def create_rows(session: Session, count: int = 3, start: int = 10_000) -> None:",  # smallint holds it
        '    """``count`` rows per table into ``session`` (with the rows their foreign keys need), numbered from',
        '    ``start`` on: far from the numbers a test\'s own factories use, so the two never share a key."""',
        "    with use_session(session):",
        "        for factory_class in FACTORIES:",
        "            factory_class.reset_sequence(start)",
        "        for factory_class in FACTORIES:",
        "            factory_class.create_batch(count)",
        "    session.flush()",
    ]
    return "\n".join(head) + "\n\n\n" + body + "\n\n\n" + "\n".join(tail) + "\n"
