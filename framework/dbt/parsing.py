"""A dbt project parsed once, then built on any warehouse database: the parse kept, its database names set per run.

dbt writes the profile's database name into every node (and into a model's and a source's
``relation_name``), and its partial parsing starts over whenever the profile changes: each new
warehouse database (every pipeline run, every test's database) cost a cold parse. Here a project is
parsed with a *parse profile* (:data:`PARSE_URL`): the real adapter, a placeholder database, host
and user (``dbt parse`` reaches no database). The manifest is kept in the process as parsed; each run
gets a copy naming its own database (:func:`run_copy`), which the runner hands to
``dbtRunner(manifest=...)``: dbt then does not parse at all. The parse's own state folder
(``partial_parse.msgpack``) is keyed by what the parse depends on (:func:`parse_key`), never by a
database, so a new process finds partial parsing warm.

A manifest is only reused while nothing it depends on changed (:class:`ProjectFiles`): the project's
files (path, size, modification time), the environment variables its files read (``env_var(...)``),
the ``--vars``, dbt's version and the adapter. A project whose files read the connection at parse
time (``target.dbname``, ``target.host``, ``target.user``: a custom ``generate_database_name``, a
config naming the host) would bake the placeholder in: it is parsed per database, as dbt does
(:attr:`ProjectFiles.reads_connection`), and so is every project when ``DATAKITS_DBT_PARSE=per-database``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

__all__ = [
    "PARSE_URL",
    "PLACEHOLDER_DATABASE",
    "ProjectFiles",
    "parse_key",
    "reuses_parse",
    "run_copy",
    "scan_project",
    "set_database",
]

#: the database name a kept parse holds until a run names its own (no real database has it)
PLACEHOLDER_DATABASE = "datakits_parse_placeholder"
#: the parse profile's connection: ``dbt parse`` never connects to it
PARSE_URL: URL = make_url(f"postgresql+psycopg2://datakits@localhost:5432/{PLACEHOLDER_DATABASE}")
#: ``per-database`` turns the kept parse off: each database gets a parse of its own, as dbt does
PARSE_ENV = "DATAKITS_DBT_PARSE"
#: the commands that take a parsed manifest (the others parse nothing or parse for themselves)
MANIFEST_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile", "ls", "list", "show"})

_SKIPPED = {"target", "logs", "dbt_internal_packages", "__pycache__"}
_TEXT = {".sql", ".yml", ".yaml", ".py", ".csv", ".md", ".jinja", ".j2"}
_CONNECTION = re.compile(r"target\s*(?:\.\s*|\[\s*['\"])(?:dbname|database|host|port|user|pass|password|role)\b")
_ENV_VAR = re.compile(r"env_var\s*\(\s*['\"]([^'\"]+)['\"]")


@dataclass(frozen=True)
class ProjectFiles:
    """What a kept parse of a project depends on in its folder: each file's stamp, the variables it reads."""

    stamp: tuple[tuple[str, int, int], ...]  # (relative path, size, mtime in ns)
    env_names: frozenset[str]
    reads_connection: bool  # a file reads target.dbname/host/user/...: parse per database

    def environment(self) -> tuple[tuple[str, str | None], ...]:
        """The values, now, of the environment variables the project's files read."""
        return tuple((name, os.environ.get(name)) for name in sorted(self.env_names))


def _stamp(project: Path) -> tuple[tuple[str, int, int], ...]:
    found: list[tuple[str, int, int]] = []
    folders = [project]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=True):
                if entry.name not in _SKIPPED:
                    folders.append(Path(entry.path))
                continue
            info = entry.stat()
            found.append((os.path.relpath(entry.path, project), info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


def scan_project(project: Path, known: ProjectFiles | None = None) -> ProjectFiles:
    """The project's :class:`ProjectFiles`; the files are only read again when a stamp changed since ``known``."""
    stamp = _stamp(project)
    if known is not None and known.stamp == stamp:
        return known
    names: set[str] = set()
    reads = False
    for relative, _, _ in stamp:
        if Path(relative).suffix.lower() not in _TEXT:
            continue
        try:
            text = (project / relative).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        names.update(_ENV_VAR.findall(text))
        reads = reads or bool(_CONNECTION.search(text))
    return ProjectFiles(stamp, frozenset(names), reads)


def reuses_parse() -> bool:
    """Whether kept parses are used (``DATAKITS_DBT_PARSE`` is not ``per-database``)."""
    return os.environ.get(PARSE_ENV, "").strip().lower() != "per-database"


def parse_key(project: Path, dbt_version: str, adapter: str | None, vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a parse with the parse profile depends on beyond the project's files: never a database."""
    return {
        "project": str(project.resolve()),
        "dbt": dbt_version,
        "adapter": adapter,
        "vars": json.dumps(dict(vars or {}), sort_keys=True, default=str),
        "profile": PARSE_URL.render_as_string(hide_password=True),
    }


def key_hash(key: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _renamed(relation: str | None, old: str, new: str) -> str | None:
    if not relation or old not in relation:
        return relation
    quoted = '"' + old + '"'
    if relation.startswith(quoted + "."):
        return '"' + new.replace('"', '""') + '"' + relation[len(quoted) :]
    if relation.startswith(old + "."):
        return new + relation[len(old) :]
    return relation


def _rename(item: Any, old: str, new: str) -> None:
    if getattr(item, "database", None) == old:
        item.database = new
    if getattr(item, "relation_name", None):
        item.relation_name = _renamed(item.relation_name, old, new)
    relation = getattr(item, "node_relation", None)  # a semantic model's
    if relation is not None:
        _rename(relation, old, new)


def set_database(manifest: Any, old: str, new: str) -> None:
    """Rename database ``old`` to ``new`` in every node, source, function and semantic model of ``manifest``,
    and build its flat graph (the ``graph`` of dbt's Jinja context) from them.

    Only what names ``old`` changes: a node configured with a database of its own keeps it."""
    for collection in (manifest.nodes, manifest.sources, manifest.functions, manifest.semantic_models):
        for item in collection.values():
            _rename(item, old, new)
    for items in manifest.disabled.values():
        for item in items:
            _rename(item, old, new)
    manifest.build_flat_graph()  # the ``graph`` of the Jinja context: built from the nodes at parse time


#: what a run reads but never changes: shared by the copies, not copied
_SHARED = frozenset({"files", "macros", "docs"})


def run_copy(manifest: Any, database: str) -> Any:
    """A copy of a kept ``manifest`` for one run, naming ``database``: dbt changes the nodes a run compiles
    (compiled code, injected CTEs), so each run gets nodes of its own. The lookups dbt builds lazily start
    empty; the files, macros and docs are shared. (``copy.deepcopy`` of a Manifest shifts its fields: its
    ``__reduce_ex__`` leaves ``fixtures`` out of the positional arguments.)"""
    fields = {
        f.name: getattr(manifest, f.name) if f.name in _SHARED else copy.deepcopy(getattr(manifest, f.name))
        for f in dataclasses.fields(manifest)
        if f.init and not f.name.startswith("_") and f.name != "flat_graph"
    }
    copied = type(manifest)(**fields)
    set_database(copied, PLACEHOLDER_DATABASE, database)
    return copied
