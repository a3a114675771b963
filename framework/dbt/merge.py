"""The user's own dbt YAML, edited in place: what the datakit says is set there, nothing else moves.

A dbt project the toolkit did not write describes its models and sources in properties files of
its own (``models/schema.yml``), with descriptions, tests, ``meta`` and comments. dbt refuses a
second entry for the same model, so the datakit's columns, ``data_type``s, constraints and
``contract: {enforced: true}`` go *into* the entry that is already there: a round trip through
ruamel.yaml keeps every comment, key order, quoting and the file's indentation. Only what is
described nowhere goes to the generated file (``framework.dbt.generate``).

- ``described(project, "models")``: every entry under ``models:`` (or ``sources:``) of the
  project's own YAML files, by name, with its file (generated files are not the user's). The files
  are the ones dbt reads (``yaml_files``): every ``.yml``/``.yaml`` under the project's model, seed,
  snapshot, analysis, macro, test and function paths, a folder named ``logs`` or ``target`` there
  included, the project's own target, log and packages folders and ``.dbtignore``'s patterns left out.
- ``merge_model`` / ``merge_source``: set the datakit's part of one entry, in place (a node shared
  through an anchor is copied first, ``roundtrip.YamlFile.own``); a model's columns in the datakit's
  order, a ``relationships`` test matched by its target.
- ``same_meaning(a, b)``: two YAML texts that load to the same data (comments, quoting and key
  spelling aside), which is what ``--check`` compares.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DbtError
from .roundtrip import YamlFile, meaning, plain
from .writing import BOM, read_text

__all__ = [
    "GENERATED_MARK",
    "YamlFile",
    "described",
    "inert",
    "is_generated",
    "meaning",
    "merge_model",
    "merge_source",
    "same_meaning",
    "yaml_files",
]

#: the first line of a file the toolkit generated whole (``framework.dbt.generate``)
GENERATED_MARK = "# generated from the datakit "
SKIPPED_FILES = {"dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml", "selectors.yml"}
_ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
#: dbt's resource paths (each with its older name) and their defaults: dbt reads properties files in all
_SOURCE_PATHS = {
    "model-paths": ("source-paths", ["models"]),
    "seed-paths": ("data-paths", ["seeds"]),
    "snapshot-paths": (None, ["snapshots"]),
    "analysis-paths": (None, ["analyses"]),
    "macro-paths": (None, ["macros"]),
    "test-paths": (None, ["tests"]),
    "function-paths": (None, ["functions"]),
}
#: folders dbt writes into, never reads properties files from, and their defaults
_OUTPUT_PATHS = {"target-path": "target", "log-path": "logs", "packages-install-path": "dbt_packages"}
#: the files dbt reads as YAML in those paths (``dbt.parser.search.filesystem_search``)
_PROPERTIES = re.compile(fnmatch.translate("[!.#~]*.yml") + "|" + fnmatch.translate("[!.#~]*.yaml"), re.IGNORECASE)


def inert(text: str) -> str:
    """``text`` as dbt renders it back unchanged: Jinja in a name or description is never run.

    dbt renders the strings of properties files (names at parse time, descriptions later), so
    ``{{ env_var('DATAKITS_DBT_PASSWORD') }}`` in a column's description would put the password
    into dbt's manifest. Wrapped in ``{% raw %}``, it stays text.
    """
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text
    body = _ENDRAW.sub(lambda m: "{% endraw %}{{ " + repr(m.group(0)) + " }}{% raw %}", text)
    return "{% raw %}" + body + "{% endraw %}"


# --- the files dbt reads --------------------------------------------------------------------------


def _project_config(project: Path) -> dict[str, Any]:
    path = project / "dbt_project.yml"
    if not path.is_file():
        return {}
    try:
        found = meaning(read_text(path)[0])
    except DbtError:
        raise
    except Exception:  # dbt says what is wrong with its own file
        return {}
    return found if isinstance(found, dict) else {}


def _paths(value: Any, default: list[str]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return default


def source_paths(project: Path) -> list[Path]:
    """The folders dbt reads the project's files from (``model-paths``, ``seed-paths``, ...; their defaults)."""
    config = _project_config(project)
    found: list[Path] = []
    for key, (older, default) in _SOURCE_PATHS.items():
        value = config.get(key, config.get(older) if older else None)
        for relative in _paths(value, default):
            path = project / relative.rstrip("/")
            if path not in found:
                found.append(path)
    return found


def model_paths(project: Path) -> list[Path]:
    """The project's model folders (``model-paths``, default ``models``)."""
    config = _project_config(project)
    value = config.get("model-paths", config.get("source-paths"))
    return [project / relative.rstrip("/") for relative in _paths(value, ["models"])]


def _output_paths(project: Path) -> set[Path]:
    config = _project_config(project)
    found = set()
    for key, default in _OUTPUT_PATHS.items():
        value = config.get(key)
        found.add((project / (value if isinstance(value, str) else default)).resolve())
    return found


def _ignored(project: Path) -> Any:
    """``.dbtignore``'s patterns (``pathspec``, which dbt brings), or None."""
    path = project / ".dbtignore"
    if not path.is_file():
        return None
    try:
        import pathspec
    except ImportError:
        return None
    return pathspec.PathSpec.from_lines(pathspec.patterns.GitWildMatchPattern, read_text(path)[0].splitlines())


def yaml_files(project: Path) -> Iterator[Path]:
    """The project's properties files, as dbt finds them: every ``.yml``/``.yaml`` in its resource paths
    (folders named ``logs`` or ``target`` there included), but its own target, log and packages folders
    and what ``.dbtignore`` leaves out. A folder named ``x.yml`` is a folder, not a file, to dbt too."""
    outputs = _output_paths(project)
    ignored = _ignored(project)
    seen: set[Path] = set()
    for base in source_paths(project):
        if not base.is_dir():
            continue
        for current, folders, files in os.walk(base):
            here = Path(current)
            folders[:] = sorted(f for f in folders if (here / f).resolve() not in outputs)
            for name in sorted(files):
                path = here / name
                if not _PROPERTIES.match(name) or path in seen:
                    continue
                if here == project and name in SKIPPED_FILES:
                    continue
                if ignored is not None and ignored.match_file(os.path.relpath(path, project)):
                    continue
                seen.add(path)
                yield path


def is_generated(path: Path, command: str | None = None) -> bool:
    """Whether ``path`` is a file the toolkit generated whole (by ``datakits dbt <command>``)."""
    try:
        with path.open("rb") as handle:
            first = handle.readline().decode("utf-8", errors="replace").removeprefix(BOM)
    except OSError:
        return False
    return first.startswith(GENERATED_MARK) and (command is None or f"`datakits dbt {command}`" in first)


def described(project: Path, key: str, skip: set[Path] | None = None) -> dict[str, tuple[YamlFile, Any]]:
    """Every entry under ``key`` (``models`` or ``sources``) in the user's files: name -> (file, entry).

    A model described in two files is dbt's error to report; the first file wins here. Files
    generated by the toolkit are not the user's and are left out.
    """
    found: dict[str, tuple[YamlFile, Any]] = {}
    for path in yaml_files(project):
        if skip and path in skip:
            continue
        text, _ = read_text(path)  # a file dbt cannot read is one line here too
        if text.startswith(GENERATED_MARK) or f"{key}:" not in text:
            continue
        loaded = YamlFile.load(path)
        entries = loaded.data.get(key) if isinstance(loaded.data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                found.setdefault(entry["name"], (loaded, entry))
    return found


# --- merging one entry ----------------------------------------------------------------------------


def test_name(test: Any) -> str:
    """A data test's name as written: ``unique``, or the key of ``{relationships: {...}}``."""
    if isinstance(test, str):
        return test
    if hasattr(test, "keys"):
        keys = [k for k in test if k not in ("config", "name", "description")]
        return str(keys[0]) if keys else str(test.get("name"))
    return str(test)


def _spelled(value: Any) -> str:
    """``ref('customers')``, ``ref("customers")`` and ``ref( 'customers' )`` alike."""
    return re.sub(r"[\s'\"]", "", str(value))


def test_key(test: Any) -> tuple[str, ...]:
    """What makes a data test the same as another: its name; for ``relationships`` its target and field
    (``to: ref('stg_customers')`` is not a test of the foreign key to ``customers``)."""
    name = test_name(test)
    if name != "relationships" or not isinstance(test, dict):
        return (name,)
    found = test.get("relationships")
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    arguments = body["arguments"] if isinstance(body.get("arguments"), dict) else body
    return (name, _spelled(arguments.get("to")), _spelled(arguments.get("field")))


def _add_description(entry: Any, generated: dict[str, Any]) -> None:
    if generated.get("description") and not entry.get("description"):
        entry["description"] = generated["description"]


def _merge_tests(doc: YamlFile | None, column: Any, tests: list[Any]) -> None:
    """Add the generated key tests the column does not already have (a relationships test by its target)."""
    key = "data_tests" if "data_tests" in column or "tests" not in column else "tests"
    have = {test_key(t) for k in ("data_tests", "tests") for t in column.get(k) or []}
    missing = [t for t in tests if test_key(t) not in have]
    if not missing:
        return
    if column.get(key) is None:
        column[key] = missing
    else:
        _own(doc, column, key).extend(missing)


def _own(doc: YamlFile | None, parent: Any, key: Any) -> Any:
    return doc.own(parent, key) if doc is not None else parent[key]


def _merge_constraints(doc: YamlFile | None, entry: Any, generated: list[dict[str, Any]], kinds: set[str]) -> None:
    """Set the constraints of the types the datakit owns (``kinds``); others stay."""
    current = entry.get("constraints")
    kept = [c for c in current or [] if not (hasattr(c, "get") and c.get("type") in kinds)]
    wanted = kept + list(generated)
    if wanted:
        if plain(current or []) != plain(wanted):
            if current is None:
                entry["constraints"] = wanted
            else:
                _own(doc, entry, "constraints")[:] = wanted
    elif "constraints" in entry:
        if hasattr(entry, "_ok") and "constraints" not in entry._ok:  # from a merge key: not this entry's to drop
            entry["constraints"] = []
        else:
            del entry["constraints"]


def _set_after_name(entry: Any, key: str, value: Any) -> None:
    """Set ``key``; a new key goes right after ``name``, where a reader looks for it."""
    if key in entry or not hasattr(entry, "insert"):
        if entry.get(key) != value:
            entry[key] = value
        return
    keys = list(entry)
    entry.insert(keys.index("name") + 1 if "name" in keys else len(keys), key, value)


def _merge_column(doc: YamlFile | None, column: Any, generated: dict[str, Any], own_tests: bool) -> None:
    _set_after_name(column, "data_type", generated["data_type"])
    if generated.get("quote") and column.get("quote") is not True:
        column["quote"] = True
    _add_description(column, generated)
    if own_tests:
        _merge_constraints(doc, column, generated.get("constraints", []), {"not_null"})
        _merge_tests(doc, column, generated.get("data_tests", []))


def _names(items: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, item in enumerate(items or []):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            found.setdefault(item["name"], index)
    return found


def _order(current: list[Any], generated: list[dict[str, Any]], drop_others: bool) -> list[int | dict[str, Any]]:
    """The columns as they should be: an existing one by its index, a new one as the datakit's entry.

    A model's are the datakit's, in its order; a source keeps its own, and a new column goes after the
    datakit's column before it (before the next one, else last)."""
    at = _names(current)
    if drop_others:
        return [at.get(g["name"], g) for g in generated]
    order: list[int | dict[str, Any]] = list(range(len(current)))
    for position, column in enumerate(generated):
        if column["name"] in at:
            continue
        before = [g["name"] for g in generated[:position]]
        after = [g["name"] for g in generated[position + 1 :]]
        slot = len(order)
        for index in range(len(order) - 1, -1, -1):
            if _order_name(order[index], current) in before:
                slot = index + 1
                break
        else:
            following = [i for i, o in enumerate(order) if _order_name(o, current) in after]
            slot = following[0] if following else len(order)
        order.insert(slot, column)
    return order


def _order_name(item: int | dict[str, Any], current: list[Any]) -> Any:
    node = current[item] if isinstance(item, int) else item
    return node.get("name") if isinstance(node, dict) else None


def _rearrange(seq: Any, order: list[int | dict[str, Any]]) -> None:
    """Put ``seq``'s items in ``order`` (an index: that item; else a new one), its comments moving with them."""
    items = [seq[o] if isinstance(o, int) else o for o in order]
    comments = getattr(seq, "ca", None)
    moved = {}
    if comments is not None:
        moved = {new: comments.items[o] for new, o in enumerate(order) if isinstance(o, int) and o in comments.items}
    seq[:] = items
    if comments is not None:
        comments.items.clear()
        comments.items.update(moved)


def _merge_columns(
    doc: YamlFile | None, entry: Any, generated: list[dict[str, Any]], *, drop_others: bool, own_tests: bool
) -> None:
    if entry.get("columns") is None:
        entry["columns"] = []
    columns = _own(doc, entry, "columns")
    order = _order(list(columns), generated, drop_others)
    if order != list(range(len(columns))):
        _rearrange(columns, order)
    at = _names(columns)
    for column in generated:
        index = at[column["name"]]
        if columns[index] is not column:
            _merge_column(doc, _own(doc, columns, index), column, own_tests)


def merge_model(entry: Any, generated: dict[str, Any], doc: YamlFile | None = None) -> None:
    """Set a datakit's contract on a model's own entry: typed columns (only the datakit's, in its order,
    since an enforced contract needs every column and no other, and the table is built in their order),
    constraints, key tests it lacks, ``contract: {enforced: true}``. Descriptions, tests, meta and comments
    stay; a node shared through an anchor changes here only (``doc``: the entry's file)."""
    _add_description(entry, generated)
    config = entry.get("config")
    if config is None:
        entry["config"] = {"contract": {"enforced": True}}
    else:
        contract = config.get("contract") if isinstance(config, dict) else None
        if not (isinstance(contract, dict) and contract.get("enforced") is True):
            config = _own(doc, entry, "config")
            if isinstance(contract, dict):
                _own(doc, config, "contract")["enforced"] = True
            else:
                config["contract"] = {"enforced": True}
    _merge_constraints(doc, entry, generated.get("constraints", []), {"primary_key"})
    _merge_columns(doc, entry, generated["columns"], drop_others=True, own_tests=True)


def merge_source(entry: Any, generated: dict[str, Any], doc: YamlFile | None = None) -> None:
    """Set a datakit's schema and typed tables on a source's own entry; tables and columns the
    datakit does not have stay (a source may describe more than the datakit holds)."""
    _set_after_name(entry, "schema", generated["schema"])
    _add_description(entry, generated)
    if entry.get("tables") is None:
        entry["tables"] = []
    tables = _own(doc, entry, "tables")
    for table in generated["tables"]:
        at = _names(tables)
        if table["name"] in at:
            found = _own(doc, tables, at[table["name"]])
            _add_description(found, table)
            _merge_columns(doc, found, table["columns"], drop_others=False, own_tests=False)
        else:
            tables.append(table)


# --- meaning --------------------------------------------------------------------------------------


def same_meaning(a: str | None, b: str | None) -> bool:
    return meaning(a) == meaning(b)
