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
  not import, and is created where the kit is deployed (sqlacodegen writes ``create_type=False``).

And around it: a PostgreSQL table's partitions are the partitioned table's, not tables of their
own; MySQL's index for each foreign key is MySQL's, not the kit's; a table without a primary key
cannot be a SQLModel class, so it is left out and named. The database's default schema is the
kit's default schema (no ``schema=``), so the kit deploys on any engine; other schemas keep their
names (on MySQL and SQLite a kit's schema ``s`` lives in the database ``<db>__s``, see
:mod:`framework.engines.connect`, and is read from there).
"""

from __future__ import annotations

import keyword
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKeyConstraint, MetaData, Table, inspect
from sqlalchemy.dialects.postgresql import DOMAIN
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SADeprecationWarning

from ..engines import ENGINES, engine_kind
from ..engines.connect import check_connection, make_engine, physical_schema
from ..engines.urls import safe_url, to_url
from ..errors import DatakitError, ProvisionerUnavailable
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
    except ImportError:
        raise ProvisionerUnavailable(
            "datakits reflect needs sqlacodegen: pip install -e '.[reflect]' (from a clone of pytest-datakits)"
        ) from None

    class DatakitGenerator(SQLModelGenerator):
        """sqlacodegen's SQLModel generator, with what a datakit needs (see the module docstring)."""

        def __init__(self, metadata: MetaData, bind: Engine, options: Sequence[str]) -> None:
            super().__init__(metadata, bind, [*options, "nojoined"], base_class_name=BASE_CLASS)

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
            names = {name for namespace in self.imports.values() for name in namespace} | {BASE_CLASS}
            for model in models:
                self.generate_model_name(model, names)
                names.add(model.name)
            return models

        def render_class(self, model: Any) -> str:
            sections = [self.render_class_variables(model)]
            sections.append("\n".join(self.render_column_attribute(c) for c in model.columns))
            body = "\n\n".join(_indent(s, self.indentation) for s in sections if s)
            return f"{self.render_class_declaration(model)}\n{body}"

        def render_column_type(self, column: Any) -> str:
            with warnings.catch_warnings():  # it reads every argument of a type, SQLAlchemy's deprecated ones too
                warnings.simplefilter("ignore", SADeprecationWarning)
                rendered = str(super().render_column_type(column))
            rendered = rendered.replace(", metadata=MetaData()", "")
            if isinstance(column.type, DOMAIN):  # create the domain where the kit is deployed
                rendered = rendered.replace(", create_type=False", "")
            return rendered

    return DatakitGenerator


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
        for name in sorted(names):
            if not inspector.get_pk_constraint(name, schema=real).get("constrained_columns"):
                skipped[f"{logical}.{name}" if logical else name] = "no primary key"
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
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise DatakitError(f"--out {str(path)!r} exists and is not empty; give a new folder or --force")
    source, names, skipped = render_datakit(url, schemas, tables)
    shown = safe_url(url)
    path.mkdir(parents=True, exist_ok=True)
    (path / "__init__.py").write_text(
        f'"""Datakit {path.name}: {len(names)} tables reflected from {shown} by ``datakits reflect``."""\n\n'
        '__datakit_modules__ = ["models"]\n'
    )
    (path / "models.py").write_text(f'"""Reflected from {shown} by ``datakits reflect`` (sqlacodegen)."""\n\n{source}')
    return ReflectResult(path, shown, names, skipped)
