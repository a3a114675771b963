"""Write a datakit from a live database: ``datakits reflect URL --out PATH``.

The classes come from sqlacodegen's SQLModel generator (the ``reflect`` extra). It gets the
columns, types, keys, uniques, indexes and foreign keys right; :class:`DatakitGenerator` changes
only what a datakit needs otherwise:

- every table with a primary key becomes a class, association tables too (sqlacodegen writes a
  bare ``Table`` for a table made of two foreign keys, which a datakit does not see);
- the tables derive from a base with a registry (so a MetaData) of their own, not from ``SQLModel``
  itself: two kits with a ``customer`` table each can be loaded in one process;
- no relationships and no joined inheritance: a datakit is the tables' contract, nothing more;
- columns in the database's own order (sqlacodegen puts the NOT NULL ones first);
- a PostgreSQL domain renders without the ``metadata=MetaData()`` that sqlacodegen writes but does
  not import, and is created where the kit is deployed (sqlacodegen writes ``create_type=False``);
- every name is data, never code: a class, attribute or enum member is an ASCII identifier derived
  from the name (the real name is kept in ``__tablename__``, the column's name, ``Enum(name=...)``),
  and text (names, comments, defaults, the docstrings) reaches the source only through ``repr()``.
  The source is then parsed and refused unless it is only imports and classes whose every name is
  one it imports or defines (:func:`check_inert`): a kit that imports runs nothing of the database's.

And around it: a PostgreSQL table's partitions are the partitioned table's, not tables of their
own; MySQL's index for each foreign key is MySQL's, not the kit's; a table without a primary key
cannot be a SQLModel class, so it is left out and named; a bronze schema's ``dk_batches`` (what a
deploy adds beside bronze tables) is left out unless named. The database's default schema is the
kit's default schema (no ``schema=``), so the kit deploys on any engine; other schemas keep their
names (on MySQL and SQLite a kit's schema ``s`` lives in the database ``<db>__s``, see
:mod:`framework.engines.connect`, and is read from there).
"""

from __future__ import annotations

import ast
import copy
import keyword
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import DOMAIN
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SADeprecationWarning

from ..engines import ENGINES, engine_kind
from ..engines.connect import check_connection, make_engine, physical_schema
from ..engines.urls import safe_url, to_url
from ..errors import DatakitError, ProvisionerUnavailable
from .current import BATCHES
from .validate import foreign_key_index, partitions

__all__ = ["ReflectResult", "reflect_datakit", "render_datakit"]

BASE_CLASS = "DatakitModel"


@dataclass
class ReflectResult:
    """What a reflect wrote: the package folder, the tables in it, and the tables left out (why)."""

    path: Path
    source: str
    tables: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _generator_class() -> Any:
    try:
        from sqlacodegen.generators import LiteralImport, SQLModelGenerator
        from sqlacodegen.models import ColumnAttribute, ModelClass
        from sqlacodegen.utils import render_callable
    except ImportError:
        raise ProvisionerUnavailable(
            "datakits reflect needs sqlacodegen: pip install -e '.[reflect]' (from a clone of pytest-datakits)"
        ) from None

    class DatakitGenerator(SQLModelGenerator):
        """sqlacodegen's SQLModel generator, with what a datakit needs (see the module docstring)."""

        def __init__(self, metadata: MetaData, bind: Engine, options: Sequence[str]) -> None:
            # no synthetic enums: a CHECK (c IN (...)) stays a string column with its check, as deployed
            super().__init__(metadata, bind, [*options, "nojoined", "nosyntheticenums"], base_class_name=BASE_CLASS)

        def generate_base(self) -> None:
            super().generate_base()
            self.base.literal_imports.append(LiteralImport("sqlalchemy.orm", "registry"))
            self.base.declarations = [
                f"class {BASE_CLASS}(SQLModel, registry=registry()):",
                f'{self.indentation}"""The tables of this kit, in a MetaData of their own: kits may share names."""',
            ]

        def render_module_variables(self, models: list[Any]) -> str:
            return "\n".join(self.base.declarations)

        def generate_models(self) -> list[Any]:
            models = []
            for table in self.metadata.sorted_tables:
                model = ModelClass(table)
                model.columns.extend(ColumnAttribute(model, column) for column in table.columns)
                models.append(model)
            self.collect_imports(models)
            self._portable: dict[Any, Any] = {}
            if self.bind.dialect.name in ("mysql", "mariadb"):
                for model in models:
                    for attribute in model.columns:
                        generic = portable_type(attribute.column.type)
                        if generic is not None:
                            self._portable[attribute.column] = generic
                            self.add_import(generic)
            names = {name for namespace in self.imports.values() for name in namespace} | _RESERVED
            self._name_enums(names)
            for model in models:
                model.name = _free(identifier(model.table.name, "T", camel=True), names)
                names.add(model.name)
                local: set[str] = set(_RESERVED)
                for attribute in model.columns:
                    attribute.name = _free(identifier(attribute.column.name, "c"), names | local)
                    local.add(attribute.name)
            return models

        def _enum_name_to_class_name(self, enum_name: str) -> str:
            return identifier(enum_name, "E", camel=True)

        def _create_enum_class(self, table_name: str, column_name: str, values: list[str]) -> str:
            return str(super()._create_enum_class(identifier(table_name, "E"), identifier(column_name, "c"), values))

        def _name_enums(self, taken: set[str]) -> None:
            """Give each enum class a free identifier (not an import's name, nor another class's)."""
            renamed: dict[str, str] = {}
            for old in sorted(self.enum_values):
                renamed[old] = _free(identifier(old, "E", camel=True), taken)
                taken.add(renamed[old])
            self.enum_values = {renamed[k]: v for k, v in self.enum_values.items()}
            self.enum_classes = {key: renamed[name] for key, name in self.enum_classes.items()}

        def render_enum_classes(self) -> str:
            """Each enum a ``str`` enum whose members are identifiers made from the values (values by repr)."""
            if not self.enum_values:
                return ""
            self.add_module_import("enum")
            classes = []
            for name, values in sorted(self.enum_values.items()):
                members: list[str] = []
                taken = {"NAME", "VALUE"}
                for value in values:
                    member = _free(identifier(value, "V").upper(), taken)
                    taken.add(member)
                    members.append(f"{self.indentation}{member} = {value!r}")
                classes.append(f"class {name}(str, enum.Enum):\n" + "\n".join(members or [f"{self.indentation}pass"]))
            return "\n\n\n".join(classes)

        def render_class(self, model: Any) -> str:
            sections = [self.render_class_variables(model)]
            sections.append("\n".join(self.render_column_attribute(c) for c in model.columns))
            body = "\n\n".join(_indent(s, self.indentation) for s in sections if s)
            return f"{self.render_class_declaration(model)}\n{body}"

        def render_column_type(self, column: Any) -> str:
            if isinstance(column.type, DOMAIN):
                return self._render_domain(column.type)
            generic = getattr(self, "_portable", {}).get(column)
            if generic is not None:  # MySQL's own type on MySQL, a generic one elsewhere (PostgreSQL's tests)
                mysql_type = self._render_type(column)
                column.type, original = generic, column.type
                try:
                    elsewhere = self._render_type(column)
                finally:
                    column.type = original
                elsewhere += "" if elsewhere.endswith(")") else "()"  # sqlacodegen writes a bare class for no arguments
                return f"{elsewhere}.with_variant({mysql_type}, 'mysql', 'mariadb')"
            return self._render_type(column)

        def _render_type(self, column: Any) -> str:
            with warnings.catch_warnings():  # it reads every argument of a type, SQLAlchemy's deprecated ones too
                warnings.simplefilter("ignore", SADeprecationWarning)
                rendered = str(super().render_column_type(column))
            return rendered.replace(", metadata=MetaData()", "")

        def _render_domain(self, domain: DOMAIN) -> str:
            """``DOMAIN(name, type, ...)`` by keyword (sqlacodegen passes its keyword-only ones by position),
            created where the kit is deployed; PostgreSQL's ``collation='default'`` is no collation."""
            data_type = domain.data_type
            if getattr(data_type, "collation", None) == "default":
                data_type = copy.copy(data_type)
                data_type.collation = None  # type: ignore[attr-defined]
            kwargs: dict[str, str] = {}
            if domain.collation not in (None, "default"):
                kwargs["collation"] = repr(domain.collation)
            if domain.default is not None:
                default = domain.default
                kwargs["default"] = self._render_column_type_value(getattr(default, "text", default))
            if domain.constraint_name is not None:
                kwargs["constraint_name"] = repr(domain.constraint_name)
            if domain.not_null:
                kwargs["not_null"] = "True"
            if domain.check is not None:
                self.add_literal_import("sqlalchemy", "text")
                kwargs["check"] = f"text({str(getattr(domain.check, 'text', domain.check))!r})"
            if domain.schema is not None:
                kwargs["schema"] = repr(domain.schema)
            return render_callable(
                "DOMAIN", repr(domain.name), self._render_column_type_value(data_type), kwargs=kwargs
            )

    return DatakitGenerator


#: MySQL's unsigned integers, widened to the generic type that holds their range
_UNSIGNED = {"TINYINT": SmallInteger, "SMALLINT": Integer, "MEDIUMINT": Integer, "INTEGER": BigInteger}


def portable_type(type_: Any) -> Any | None:
    """A generic type for a MySQL/MariaDB column type that another engine cannot take as it is, or None.

    A reflected MySQL kit keeps the source's exact type on MySQL and MariaDB (``with_variant``), and
    deploys elsewhere (the project's tests run on PostgreSQL) as the generic type: no charset or
    collation (``utf8mb3_general_ci`` is no PostgreSQL collation), an unsigned integer widened to hold
    its range, ``SET`` as text, ``TINYINT``/``MEDIUMINT``/``YEAR`` as integers.
    """
    mysql_own = type(type_).__module__.startswith("sqlalchemy.dialects.mysql")
    if not mysql_own and not getattr(type_, "collation", None):
        return None
    name = type(type_).__name__
    if getattr(type_, "unsigned", False) and name in _UNSIGNED:
        return _UNSIGNED[name]()
    if name in ("SET", "ENUM") and not isinstance(type_, Enum):
        return Text()
    if name == "YEAR":
        return SmallInteger()
    try:
        generic = type_.as_generic()
    except NotImplementedError:
        return Text() if isinstance(type_, String) else None
    if getattr(generic, "collation", None):
        generic = copy.copy(generic)
        generic.collation = None
    return generic


_NOT_ASCII_WORD = re.compile(r"[^0-9A-Za-z_]+")
#: names the generated module imports as modules, or that SQLModel/pydantic keep for themselves
_RESERVED = {"datetime", "decimal", "enum", "uuid", "ipaddress", "typing", "metadata", "registry", BASE_CLASS}


def identifier(name: str, prefix: str, *, camel: bool = False) -> str:
    """A plain ASCII Python identifier made from a database name (which stays data, elsewhere, in ``repr``).

    Anything but letters, digits and ``_`` becomes ``_``; a name that would start with a digit or
    ``_`` (pydantic keeps those private) gets ``prefix``; keywords and reserved names get a ``_``."""
    word = _NOT_ASCII_WORD.sub("_", name).strip("_") if camel else _NOT_ASCII_WORD.sub("_", name)
    if camel:
        word = "".join(part[:1].upper() + part[1:] for part in word.split("_") if part)
    if not word or not (word[0].isascii() and word[0].isalpha()):
        word = prefix + word
    if keyword.iskeyword(word) or word in _RESERVED or word.startswith("model_"):
        word += "_"
    return word


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate


def _indent(block: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in block.splitlines())


def _drop_foreign_key_indexes(table: Table, engine: str) -> None:
    """MySQL creates an index for each foreign key: the foreign key's, not the kit's."""
    fks = [
        (str(c.name) if c.name else None, tuple(col.name for col in c.columns))
        for c in table.constraints
        if isinstance(c, ForeignKeyConstraint)
    ]
    for index in list(table.indexes):
        cols = tuple(c.name for c in index.columns)
        if not index.unique and foreign_key_index(str(index.name), cols, fks, engine):
            table.indexes.discard(index)


_MYSQL_NAMES = """
SELECT TABLE_NAME, 'column', COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = :s
UNION ALL SELECT TABLE_NAME, 'index', INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = :s
UNION ALL SELECT TABLE_NAME, 'constraint', CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS
    WHERE TABLE_SCHEMA = :s
UNION ALL SELECT TABLE_NAME, 'referred table', REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE
    WHERE TABLE_SCHEMA = :s AND REFERENCED_TABLE_NAME IS NOT NULL
"""


def _unreadable(engine: Engine, schema: str | None) -> dict[str, str]:
    """MySQL: the tables SQLAlchemy cannot reflect whole, and why (table name -> reason).

    SQLAlchemy reads a MySQL table from ``SHOW CREATE TABLE`` line by line, so a line break in any
    name of a table (its own, a column's, an index's, a key's, a referred table's) loses that part
    with only a warning. Such a table is left out and named, never written half."""
    if engine.dialect.name != "mysql" or not schema:
        return {}
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for row in conn.execute(text(_MYSQL_NAMES), {"s": schema}):
            table, what, name = str(row[0]), str(row[1]), row[2]
            for value, kind in ((table, "table"), (name, what)):
                if value and ("\n" in value or "\r" in value) and table not in found:
                    found[table] = (
                        f"the {kind} name {value!r} has a line break, which SQLAlchemy's MySQL reflection "
                        "cannot read; rename it"
                    )
    return found


def _reflect(engine: Engine, schemas: Sequence[str | None], tables: Sequence[str] | None) -> tuple[MetaData, dict]:
    inspector = inspect(engine)
    default = inspector.default_schema_name
    metadata = MetaData()
    skipped: dict[str, str] = {}
    wanted = set(tables or ())
    for schema in schemas:
        logical = None if schema in (None, default) else schema
        real = physical_schema(engine, logical)
        if logical and real not in inspector.get_schema_names():
            raise DatakitError(f"schema {logical!r} is not in the database (looked for {real!r})")
        names = set(inspector.get_table_names(schema=real)) - partitions(engine, real)
        if wanted:
            names &= wanted
        else:  # a bronze schema's batch records are the deploy's, not the kit's (framework.kits.current)
            names.discard(BATCHES)
        unreadable = _unreadable(engine, real or default)
        for name in sorted(names):
            key = f"{logical}.{name}" if logical else name
            if name in unreadable:
                skipped[key] = unreadable[name]
            elif not inspector.get_pk_constraint(name, schema=real).get("constrained_columns"):
                skipped[key] = "no primary key"
        keep = sorted(n for n in names if (f"{logical}.{n}" if logical else n) not in skipped)
        if real == logical:
            metadata.reflect(engine, schema=real, only=keep, views=False)
            continue
        scratch = MetaData()  # a MySQL schema database <db>__<schema>: the kit calls it <schema>
        scratch.reflect(engine, schema=real, only=keep, views=False)
        for table in scratch.sorted_tables:
            if table.schema == real and logical:
                table.to_metadata(metadata, schema=logical)
            elif table.key not in metadata.tables:  # a table it refers to, elsewhere: as it is
                table.to_metadata(metadata)
    missing = wanted - {t.name for t in metadata.tables.values()} - {k.rsplit(".", 1)[-1] for k in skipped}
    if missing:
        raise DatakitError(f"no table {', '.join(sorted(missing))} in the schemas given; check --tables and --schema")
    if engine_kind(engine.dialect.name).adds_foreign_key_indexes:
        for table in metadata.tables.values():
            _drop_foreign_key_indexes(table, engine.dialect.name)
    return metadata, skipped


def render_datakit(url: str | URL, schemas: Iterable[str | None] = (None,), tables: Sequence[str] | None = None):
    """The Python source of a datakit's ``models`` module for the database at ``url``, and the tables."""
    generator_class = _generator_class()
    schema_list = list(schemas) or [None]
    engine = make_engine(url, [s for s in schema_list if s])
    try:
        check_connection(engine, safe_url(engine.url))
        metadata, skipped = _reflect(engine, schema_list, tables)
        if not metadata.tables:
            raise DatakitError(f"{safe_url(engine.url)}: no table with a primary key to reflect")
        source = generator_class(metadata, engine, []).generate()
        names = [t.fullname for t in metadata.sorted_tables]
    finally:
        engine.dispose()
    return source, names, skipped


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def reflect_datakit(
    url: str | URL,
    out: str | Path,
    schemas: Iterable[str | None] = (None,),
    tables: Sequence[str] | None = None,
    *,
    overwrite: bool = False,
) -> ReflectResult:
    """Write a datakit package at ``out`` (``__init__.py`` and ``models.py``) from the live database."""
    parsed = to_url(url)
    kind = ENGINES.get(parsed.get_backend_name())
    if not parsed.database and (kind is None or kind.has_servers):  # (an unknown engine: refused on connect)
        raise DatakitError(f"{safe_url(parsed)} names a server, not a database: give the database (…/NAME) to reflect")
    path = Path(out)
    if not _IDENTIFIER.match(path.name) or keyword.iskeyword(path.name):
        raise DatakitError(f"--out {str(path)!r}: the folder name is the kit's import name; use letters, digits, _")
    if path.exists() and not path.is_dir():
        raise DatakitError(f"--out {str(path)!r} is a file, not a folder; give a new folder for the kit")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise DatakitError(f"--out {str(path)!r} exists and is not empty; give a new folder or --force")
    source, names, skipped = render_datakit(url, schemas, tables)
    shown = safe_url(url)
    package = (
        f"{_docstring(f'Datakit {path.name}: {len(names)} tables reflected from {shown} by datakits reflect.')}\n\n"
    )
    package += '__datakit_modules__ = ["models"]\n'
    models = f"{_docstring(f'Reflected from {shown} by datakits reflect (sqlacodegen).')}\n\n{source}"
    for written in (package, models):
        check_inert(written)
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "__init__.py").write_text(package)
        (path / "models.py").write_text(models)
    except OSError as exc:
        raise DatakitError(
            f"--out {str(path)!r}: cannot write the kit there ({exc.strerror}); give a folder of yours"
        ) from None
    return ReflectResult(path, shown, names, skipped)


def _docstring(text: str) -> str:
    """A docstring holding ``text`` as data: a string literal by ``repr`` (quotes and line breaks escaped)."""
    return repr(text)


#: what the generated code may name without defining it: nothing but what it imports
_TYPES = {"int", "str", "float", "bool", "bytes", "dict", "list", "tuple", "set", "frozenset", "object"}
_STATEMENTS = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.Expr, ast.Assign, ast.AnnAssign, ast.Pass)


def check_inert(source: str) -> None:
    """Refuse generated source that could run anything of the database's.

    It must parse, and be only imports, classes, assignments and string constants, whose every
    name read is one the module imports or defines, a lambda's own parameter or a builtin type
    (``int``, ``list``): no other builtin (``open``, ``eval``, ``__import__``) is in reach,
    whatever a name in the database held."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise DatakitError(f"reflect wrote code that does not parse (line {exc.lineno}); please report it") from None
    bound: set[str] = set(_TYPES)  # builtin types, for annotations (``list[str]``)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.comprehension) and isinstance(node.target, ast.Name):
            bound.add(node.target.id)
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, _STATEMENTS):
            raise DatakitError(
                f"reflect wrote a {type(node).__name__} statement (line {node.lineno}); please report it"
            )
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            raise DatakitError(f"reflect wrote an expression statement (line {node.lineno}); please report it")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            raise DatakitError(f"reflect wrote code naming {node.id!r} (line {node.lineno}); please report it")
        if isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            raise DatakitError(f"reflect wrote code reaching {node.attr!r} (line {node.lineno}); please report it")
