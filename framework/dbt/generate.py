"""dbt YAML from datakits: a source per datakit, and the model contracts of a layer's datakit.

A datakit is the contract of the layer dbt builds. From it come, never hand-copied:

- ``source_changes(kit, project)``: dbt ``sources:`` (one source per schema, always naming its
  schema: ``public`` for a datakit in the default schema; tables, columns, data types,
  descriptions from the classes' docstrings and the fields' descriptions).
- ``contract_changes(kit, project)``: each model's columns and ``data_type``,
  ``contract: {enforced: true}``, the primary key and not-null constraints, ``unique`` /
  ``not_null`` tests on a one-column key and a ``relationships`` test per foreign key.

Where the project already describes a model or source (any properties file of its own), that
entry is edited in place (``framework.dbt.merge``: descriptions, tests, meta, comments and key
order stay); what is described nowhere goes to a generated file (``_<folder>__models.yml`` per
model folder, ``models/_<datakit>__sources.yml``), written whole. A change is a
:class:`FileChange`; ``--check`` compares meaning (what the YAML loads to), not spelling.
Every generated string is inert for dbt's Jinja (``merge.inert``).

Data types are the PostgreSQL names of the columns' SQLAlchemy types (dbt runs on PostgreSQL here).
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from ..errors import DbtError
from ..kits.current import current_name, is_bronze
from ..kits.discovery import Datakit
from .merge import (
    YamlFile,
    described,
    inert,
    is_generated,
    merge_model,
    merge_source,
    model_paths,
    same_meaning,
    yaml_files,
)
from .runner import project_dir
from .writing import Spelling, read_text, write_files

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
        entry["description"] = inert(description)
    return entry


def kit_label(kit: Datakit) -> str:
    """The datakit's name however it was spelled (``kits/jaffle_marts/``, ``./kits/jaffle_marts``)."""
    return Path(str(kit.name).rstrip("/\\")).name.removesuffix(".py") or str(kit.name)


def _dump(data: dict[str, Any], header: str) -> str:
    try:
        import yaml  # comes with dbt: pip install 'pytest-datakits[dbt]'
    except ImportError:
        raise DbtError("writing dbt YAML needs PyYAML, which dbt brings: pip install 'pytest-datakits[dbt]'") from None
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)


# --- sources --------------------------------------------------------------------------------------


def source_name(kit: Datakit, schema: str | None, name: str | None = None) -> str:
    """A datakit's dbt source name: ``name`` or the datakit's name, with the schema when it has several."""
    base = name or kit_label(kit)
    return base if len(kit.schemas) == 1 else f"{base}_{schema or 'default'}"


#: the schema of a datakit's tables in the default schema, on PostgreSQL (where dbt runs here)
DEFAULT_SCHEMA = "public"


def sources_data(kit: Datakit, name: str | None = None, current: bool = False) -> list[dict[str, Any]]:
    """dbt's ``sources:`` entries for a datakit: one source per schema, every table and column typed.

    ``name``: the dbt source's name (default: the datakit's). ``current``: each bronze table's entry reads its
    current-state view (``identifier: <table>__current``, :mod:`framework.kits.current`), its name unchanged,
    so ``source('kit', 'orders')`` reads one row per key."""
    module_doc = inspect.getdoc(kit.modules[0]) if kit.modules else None
    sources = []
    for schema in sorted(kit.schemas, key=lambda s: s or ""):
        tables = []
        for table in (t for t in kit.tables if t.schema == schema):
            cls = _class_of(kit, table)
            columns = [
                _with_description(
                    {"name": inert(str(c.name)), "data_type": inert(data_type(table, c.name))},
                    _field_doc(cls, c.name),
                )
                for c in table.columns
            ]
            entry = _with_description({"name": inert(str(table.name))}, _doc(cls))
            if current and is_bronze(table):
                entry = {"name": entry.pop("name"), "identifier": inert(current_name(table)), **entry}
            tables.append({**entry, "columns": columns})
        # no schema key would make dbt read the source's name as its schema
        source: dict[str, Any] = {
            "name": inert(source_name(kit, schema, name)),
            "schema": inert(str(schema or DEFAULT_SCHEMA)),
        }
        _with_description(source, module_doc.split("\n\n")[0].replace("\n", " ") if module_doc else None)
        sources.append({**source, "tables": tables})
    return sources


def sources_yaml(
    kit: Datakit, sources: list[dict[str, Any]] | None = None, name: str | None = None, *, current: bool = False
) -> str:
    """The generated sources file of a datakit (or of some of its sources), whole; ``name``: the source's."""
    data = sources_data(kit, name, current) if sources is None else sources
    return _dump({"version": 2, "sources": data}, GENERATED.format(kit=kit_label(kit), command="sources"))


# --- contracts ------------------------------------------------------------------------------------


def _column_tests(table: Table, column: str) -> list[Any]:
    tests: list[Any] = []
    pk = [c.name for c in table.primary_key.columns]
    if pk == [column]:
        tests += ["unique", "not_null"]
    for fk in sorted(table.columns[column].foreign_keys, key=lambda f: f.target_fullname):
        target_table = fk.target_fullname.split(".")[-2]
        target_column = fk.target_fullname.split(".")[-1]
        to = f"ref('{target_table}')"  # dbt's own Jinja: the target model's name is checked by dbt
        tests.append({"relationships": {"arguments": {"to": to, "field": inert(target_column)}}})
    return tests


_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")


def _column_sql(name: str) -> str:
    """A column as dbt writes it into a constraint's DDL: quoted unless PostgreSQL would fold it the same."""
    return name if _PLAIN_NAME.fullmatch(name) else '"' + name.replace('"', '""') + '"'


def model_properties(kit: Datakit, table: Table) -> dict[str, Any]:
    """One model's properties: enforced contract, typed columns, constraints and key tests."""
    cls = _class_of(kit, table)
    columns = []
    for column in table.columns:
        entry = _with_description(
            {"name": inert(str(column.name)), "data_type": inert(data_type(table, column.name))},
            _field_doc(cls, column.name),
        )
        if not _PLAIN_NAME.fullmatch(str(column.name)):
            entry["quote"] = True  # dbt's contract DDL names the column as written
        if not column.nullable:
            entry["constraints"] = [{"type": "not_null"}]
        tests = _column_tests(table, column.name)
        if tests:
            entry["data_tests"] = tests
        columns.append(entry)
    model = _with_description({"name": inert(str(table.name))}, _doc(cls))
    model["config"] = {"contract": {"enforced": True}}
    pk = [c.name for c in table.primary_key.columns]
    if pk:
        model["constraints"] = [{"type": "primary_key", "columns": [inert(_column_sql(str(c))) for c in pk]}]
    model["columns"] = columns
    return model


def model_files(project: Path) -> dict[str, Path]:
    """Every model's SQL file in a dbt project (its ``model-paths``), by model name."""
    found: dict[str, Path] = {}
    for models in model_paths(project_dir(project)):
        for path in sorted(models.rglob("*.sql")) if models.is_dir() else []:
            found.setdefault(path.stem, path)
    return found


def contracts_path(folder: Path) -> Path:
    return folder / f"_{folder.name}__models.yml"


# --- changes to a project's files -----------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One properties file as it is (``current``) and as the datakit wants it (``new``; None: no file)."""

    path: Path
    current: str | None
    new: str | None
    spelling: Spelling = field(default_factory=Spelling)  # the file's BOM and line endings, kept

    @property
    def changed(self) -> bool:
        """Whether the file says something else than the datakit wants (comments and spelling aside)."""
        return not same_meaning(self.current, self.new)

    def diff(self, kit: str) -> str:
        lines = difflib.unified_diff(
            (self.current or "").splitlines(keepends=True),
            (self.new or "").splitlines(keepends=True),
            fromfile=f"{self.path} (project)",
            tofile=f"{self.path} (datakit {kit})",
            n=1,
        )
        return "".join(lines)

    def data(self) -> bytes | None:
        """The new file's bytes, spelled as the file was (None: no file)."""
        return None if self.new is None else self.spelling.encode(self.new)


def _read(path: Path) -> tuple[str | None, Spelling]:
    if not path.exists() and not path.is_symlink():
        return None, Spelling()
    return read_text(path)


def _change(path: Path, new: str | None) -> FileChange:
    current, spelling = _read(path)
    return FileChange(path, current, new, spelling)


def _entries(found: YamlFile, key: str) -> Any:
    """The list under ``key`` of a file to add entries to (made when missing); one line when it is not one."""
    from ruamel.yaml.comments import CommentedMap

    if not isinstance(found.data, CommentedMap):
        raise DbtError(f"{found.path} is not a dbt properties file (no mapping at its top); give another file")
    if found.data.get(key) is None:
        found.data[key] = []
    if not isinstance(found.data[key], list):
        raise DbtError(f"{found.path}: {key}: is not a list; fix it, then run the command again")
    return found.own(found.data, key)


def _generated_by(path: Path, kit: Datakit, command: str) -> bool:
    """A file this command generated from this datakit (another datakit's stays)."""
    if not is_generated(path, command):
        return False
    first = (_read(path)[0] or "").split("\n", 1)[0]
    return first.startswith(GENERATED.format(kit=kit_label(kit), command=command).split(" by ")[0] + " by")


def _edited(files: dict[Path, YamlFile]) -> list[FileChange]:
    return [FileChange(path, f.original, f.text(), f.spelling) for path, f in sorted(files.items())]


def contract_changes(kit: Datakit, project: str | Path) -> list[FileChange]:
    """The project's properties files as the datakit's model contracts want them."""
    project = project_dir(project)
    files = model_files(project)
    missing = [t.name for t in kit.tables if t.name not in files]
    if missing:
        raise DbtError(
            f"datakit {kit.name!r}: no model for table(s) {', '.join(missing)} in "
            f"{', '.join(str(p) for p in model_paths(project))}; "
            f"write models/<folder>/{missing[0]}.sql"
        )
    own = described(project, "models")
    edited: dict[Path, YamlFile] = {}
    generated: dict[Path, list[dict[str, Any]]] = {}
    for table in kit.tables:
        properties = model_properties(kit, table)
        if table.name in own:
            found, entry = own[table.name]
            merge_model(entry, properties, found)
            edited[found.path] = found
        else:
            generated.setdefault(contracts_path(files[table.name].parent), []).append(properties)
    changes = []
    header = GENERATED.format(kit=kit_label(kit), command="contracts")
    for path, models in sorted(generated.items()):
        if path.exists() and not is_generated(path):  # a file of the user's own under the generated name
            found = edited.get(path) or YamlFile.load(path)
            _entries(found, "models").extend(models)
            edited[path] = found
        else:
            changes.append(_change(path, _dump({"version": 2, "models": models}, header)))
    for folder in sorted({files[t.name].parent for t in kit.tables}):
        path = contracts_path(folder)
        if path not in generated and _generated_by(path, kit, "contracts"):
            changes.append(_change(path, None))  # every model there is described elsewhere now
    return sorted([*changes, *_edited(edited)], key=lambda c: c.path)


def sources_path(kit: Datakit, project: str | Path) -> Path:
    """The generated sources file of ``kit``: the one already generated from it anywhere in the project
    (``datakits init`` writes ``models/sources.yml``), else ``<model path>/_<datakit>__sources.yml``."""
    folder = project_dir(project)
    for path in yaml_files(folder):
        if _generated_by(path, kit, "sources"):
            return path
    return model_paths(folder)[0] / f"_{kit_label(kit)}__sources.yml"


def _point_tables(entry: Any, generated: dict[str, Any], kit: Datakit) -> None:
    """A source's own table entries read the current-state views where ``generated`` says so, and the
    tables where it does not (an ``identifier`` of the user's own, not a current-state view's, stays)."""
    views = {t.name: current_name(t) for t in kit.tables if is_bronze(t)}
    wanted = {t["name"]: t.get("identifier") for t in generated["tables"]}
    for table in entry.get("tables") or []:
        name = table.get("name") if hasattr(table, "get") else None
        if name not in wanted or name not in views:
            continue
        if wanted[name] is not None and table.get("identifier") != wanted[name]:
            if "identifier" in table:
                table["identifier"] = wanted[name]
            elif hasattr(table, "insert"):
                table.insert(list(table).index("name") + 1, "identifier", wanted[name])
            else:
                table["identifier"] = wanted[name]
        elif wanted[name] is None and table.get("identifier") == views[name]:
            del table["identifier"]


def source_changes(
    kit: Datakit,
    project: str | Path | None = None,
    output: str | Path | None = None,
    name: str | None = None,
    *,
    current: bool = False,
) -> list[FileChange]:
    """The files of a datakit's sources: the project's own entries edited, the rest in the generated file
    (``models/_<datakit>__sources.yml`` of ``project``, or ``output``); ``name``: the dbt source's name.
    ``current``: bronze tables are read through their current-state views (:func:`sources_data`)."""
    if project is None and output is None:
        raise DbtError("the sources' file needs a project or an output file")
    path = sources_path(kit, project) if project is not None else Path(str(output))
    own = described(project_dir(project), "sources") if project is not None else {}
    if (path.exists() or path.is_symlink()) and not is_generated(path) and project is None:
        loaded = YamlFile.load(path)  # FILE is the user's own: its sources are edited in place
        entries = _entries(loaded, "sources")
        own = {e["name"]: (loaded, e) for e in entries if hasattr(e, "get") and isinstance(e.get("name"), str)}
    edited: dict[Path, YamlFile] = {}
    rest = []
    for source in sources_data(kit, name, current):
        if source["name"] in own:
            found, entry = own[source["name"]]
            merge_source(entry, source, found)
            _point_tables(entry, source, kit)
            edited[found.path] = found
        else:
            rest.append(source)
    changes = []
    if rest and path.exists() and not is_generated(path):
        found = edited.get(path) or YamlFile.load(path)
        _entries(found, "sources").extend(rest)
        edited[path] = found
    elif rest:
        changes.append(_change(path, sources_yaml(kit, rest, current=current)))
    elif _generated_by(path, kit, "sources"):
        changes.append(_change(path, None))
    return sorted([*changes, *_edited(edited)], key=lambda c: c.path)


@dataclass(frozen=True)
class ContractDrift:
    """A properties file that does not say what the datakit does."""

    path: Path
    diff: str  # a unified diff, project -> datakit

    def __str__(self) -> str:
        return f"{self.path}: differs from the datakit\n{self.diff}"


def drift_of(kit: Datakit, changes: list[FileChange]) -> list[ContractDrift]:
    return [ContractDrift(c.path, c.diff(kit_label(kit))) for c in changes if c.changed]


def write_changes(changes: list[FileChange]) -> list[Path]:
    """Write the files whose meaning changes, each whole or none of them (``writing.write_files``); return
    them (spelling alone rewrites nothing)."""
    changed = [change for change in changes if change.changed]
    write_files([(change.path, change.data()) for change in changed])
    return [change.path for change in changed]


def check_contracts(kit: Datakit, project: str | Path) -> list[ContractDrift]:
    """Where the project's model YAML no longer says what the datakit does (empty when it does)."""
    return drift_of(kit, contract_changes(kit, project))


def write_contracts(kit: Datakit, project: str | Path) -> list[Path]:
    """Write the model contracts into the project; return the files that changed."""
    return write_changes(contract_changes(kit, project))
