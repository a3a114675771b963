"""dbt YAML from datakits: a source per datakit, and the model contracts of a layer's datakit.

A datakit is the contract of the layer dbt builds. From it come, never hand-copied:

- ``sources_yaml(kit)``: dbt ``sources:`` (one source per schema; tables, columns, data types,
  descriptions from the classes' docstrings and the fields' descriptions).
- ``contract_files(kit, project)``: per model folder, a ``_<folder>__models.yml`` with each
  model's columns and ``data_type``, ``contract: {enforced: true}``, the primary key and
  not-null constraints, ``unique`` / ``not_null`` tests on a one-column key and a
  ``relationships`` test per foreign key. The file is generated whole: hand-written tests go in
  other files (dbt's ``tests/`` or a ``unit_tests:`` file).
- ``check_contracts(kit, project)``: the differences between those files and the project's.

Data types are the PostgreSQL names of the columns' SQLAlchemy types (dbt runs on PostgreSQL here).
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from .runner import project_dir
from ..kits.discovery import Datakit
from ..errors import DbtError

GENERATED = "# generated from the datakit {kit} by `datakits dbt {command}`: edit the datakit, not this file\n"
_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call,unused-ignore]


def data_type(table: Table, column: str) -> str:
    """The PostgreSQL type of a column, as dbt's ``data_type`` spells it (``numeric(5,2)``)."""
    type_ = table.columns[column].type
    try:
        name = type_.compile(dialect=_DIALECT)
    except Exception:  # a type PostgreSQL cannot hold: name it as SQLAlchemy does
        name = type(type_).__name__
    name = re.sub(r",\s+", ",", name.lower().replace('"', ""))
    return name.rsplit(".", 1)[-1] if "." in name and "(" not in name else name


def _class_of(kit: Datakit, table: Table) -> type | None:
    return next((cls for cls in kit.classes if getattr(cls, "__table__", None) is table), None)


def _doc(cls: type | None) -> str | None:
    """The class's own docstring, as one paragraph (not the one SQLModel or a base gives)."""
    if cls is None or not cls.__dict__.get("__doc__"):
        return None
    return " ".join(inspect.cleandoc(cls.__dict__["__doc__"]).split("\n\n")[0].split())


def _field_doc(cls: type | None, column: str) -> str | None:
    fields = getattr(cls, "model_fields", {}) if cls is not None else {}
    info = fields.get(column)
    return getattr(info, "description", None) or None


def _with_description(entry: dict[str, Any], description: str | None) -> dict[str, Any]:
    if description:
        entry["description"] = description
    return entry


def _dump(data: dict[str, Any], header: str) -> str:
    try:
        import yaml  # comes with dbt: pip install 'pytest-datakits[dbt]'
    except ImportError:
        raise DbtError("writing dbt YAML needs PyYAML, which dbt brings: pip install 'pytest-datakits[dbt]'") from None
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)


# --- sources --------------------------------------------------------------------------------------


def source_name(kit: Datakit, schema: str | None) -> str:
    """A datakit's dbt source name: the datakit's name, with the schema when it has several."""
    base = Path(kit.name).name.removesuffix(".py")
    return base if len(kit.schemas) == 1 else f"{base}_{schema or 'default'}"


def sources_yaml(kit: Datakit) -> str:
    """dbt's ``sources:`` for a datakit: one source per schema, every table and column typed."""
    module_doc = inspect.getdoc(kit.modules[0]) if kit.modules else None
    sources = []
    for schema in sorted(kit.schemas, key=lambda s: s or ""):
        tables = []
        for table in (t for t in kit.tables if t.schema == schema):
            cls = _class_of(kit, table)
            columns = [
                _with_description({"name": str(c.name), "data_type": data_type(table, c.name)}, _field_doc(cls, c.name))
                for c in table.columns
            ]
            tables.append({**_with_description({"name": str(table.name)}, _doc(cls)), "columns": columns})
        source: dict[str, Any] = {"name": source_name(kit, schema)}
        if schema:
            source["schema"] = str(schema)
        _with_description(source, module_doc.split("\n\n")[0].replace("\n", " ") if module_doc else None)
        sources.append({**source, "tables": tables})
    return _dump({"version": 2, "sources": sources}, GENERATED.format(kit=kit.name, command="sources"))


# --- contracts ------------------------------------------------------------------------------------


def _column_tests(table: Table, column: str) -> list[Any]:
    tests: list[Any] = []
    pk = [c.name for c in table.primary_key.columns]
    if pk == [column]:
        tests += ["unique", "not_null"]
    for fk in sorted(table.columns[column].foreign_keys, key=lambda f: f.target_fullname):
        target_table = fk.target_fullname.split(".")[-2]
        target_column = fk.target_fullname.split(".")[-1]
        tests.append({"relationships": {"arguments": {"to": f"ref('{target_table}')", "field": target_column}}})
    return tests


def model_properties(kit: Datakit, table: Table) -> dict[str, Any]:
    """One model's properties: enforced contract, typed columns, constraints and key tests."""
    cls = _class_of(kit, table)
    columns = []
    for column in table.columns:
        entry = _with_description(
            {"name": str(column.name), "data_type": data_type(table, column.name)}, _field_doc(cls, column.name)
        )
        if not column.nullable:
            entry["constraints"] = [{"type": "not_null"}]
        tests = _column_tests(table, column.name)
        if tests:
            entry["data_tests"] = tests
        columns.append(entry)
    model = _with_description({"name": str(table.name)}, _doc(cls))
    model["config"] = {"contract": {"enforced": True}}
    pk = [c.name for c in table.primary_key.columns]
    if pk:
        model["constraints"] = [{"type": "primary_key", "columns": [str(c) for c in pk]}]
    model["columns"] = columns
    return model


def model_files(project: Path) -> dict[str, Path]:
    """Every model's SQL file in a dbt project, by model name."""
    models = project_dir(project) / "models"
    return {path.stem: path for path in sorted(models.rglob("*.sql"))}


def contracts_path(folder: Path) -> Path:
    return folder / f"_{folder.name}__models.yml"


def contract_files(kit: Datakit, project: str | Path) -> dict[Path, str]:
    """The generated properties files of a datakit's models, by path, with their text."""
    project = Path(project)
    files = model_files(project)
    missing = [t.name for t in kit.tables if t.name not in files]
    if missing:
        raise DbtError(
            f"datakit {kit.name!r}: no model for table(s) {', '.join(missing)} in {project / 'models'}; "
            f"write models/<folder>/{missing[0]}.sql"
        )
    by_folder: dict[Path, list[dict[str, Any]]] = {}
    for table in kit.tables:
        by_folder.setdefault(contracts_path(files[table.name].parent), []).append(model_properties(kit, table))
    header = GENERATED.format(kit=kit.name, command="contracts")
    return {path: _dump({"version": 2, "models": models}, header) for path, models in sorted(by_folder.items())}


@dataclass(frozen=True)
class ContractDrift:
    """A generated properties file that the project does not have as generated."""

    path: Path
    diff: str  # a unified diff, project -> datakit

    def __str__(self) -> str:
        return f"{self.path}: differs from the datakit\n{self.diff}"


def check_contracts(kit: Datakit, project: str | Path) -> list[ContractDrift]:
    """Where the project's model YAML no longer matches the datakit (empty when it does)."""
    drift = []
    for path, text in contract_files(kit, project).items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            lines = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path} (project)",
                tofile=f"{path} (datakit {kit.name})",
                n=1,
            )
            drift.append(ContractDrift(path, "".join(lines)))
    return drift


def write_contracts(kit: Datakit, project: str | Path) -> list[Path]:
    """Write the generated properties files; return those that changed."""
    changed = []
    for path, text in contract_files(kit, project).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
