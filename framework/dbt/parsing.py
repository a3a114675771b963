"""A dbt project parsed once, then built on any warehouse database: the parse kept, its database names set per run.

dbt writes the profile's database name into every node (and into a model's and a source's
``relation_name``), and its partial parsing starts over whenever the profile changes: each new
warehouse database (every pipeline run, every test's database) cost a cold parse. Here a project is
parsed with a *parse profile* (:data:`PARSE_URL`): the real adapter, and a placeholder database, host,
port, user and password (``dbt parse`` reaches no database). The manifest is kept in the process as
parsed; each run gets a copy naming its own database (:func:`run_copy`), which the runner hands to
``dbtRunner(manifest=...)``: dbt then does not parse at all. The parse's own state folder
(``partial_parse.msgpack``) is keyed by what the parse depends on (:func:`parse_key`), never by a
database, so a new process finds partial parsing warm.

Safe by construction, not by reading the project's text: after each parse the manifest is searched
for the parse profile's placeholders (:func:`baked_in`) everywhere but the two fields a run's copy
renames (a node's ``database`` and ``relation_name``). A project that reads the connection at parse time
in any form (``target.dbname``, ``target.get('dbname')``, ``target['host']``,
``adapter.config.credentials.database``, through a macro of its own or of a package) leaves a
placeholder in a config, an alias, a description, a tag...: it is then parsed per database, as dbt
does. So is a project whose own files (not its packages) read the connection in their Jinja
(:attr:`~framework.dbt.inputs.ProjectInputs.reads_connection`: a condition on the database name leaves
no placeholder behind), one that calls ``env_var`` with a computed name (which variables it reads
cannot be known), and every project when ``DATAKITS_DBT_PARSE=per-database``.

A manifest is only reused while nothing it depends on changed: every file dbt reads for the project,
by content (:mod:`framework.dbt.inputs`: configured paths wherever they are, installed packages), the
values of the environment variables it reads (the ``env_var('NAME')`` calls in its Jinja and those
dbt recorded while parsing), the ``--vars``, dbt's and the adapter's versions.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

__all__ = [
    "PARSE_URL",
    "PLACEHOLDER",
    "PLACEHOLDER_DATABASE",
    "baked_in",
    "parse_key",
    "reuses_parse",
    "run_copy",
    "set_database",
]

#: in every value of the parse profile: a manifest that holds it elsewhere than where a run renames it baked one in
PLACEHOLDER = "datakits_parse_placeholder"
#: the database name a kept parse holds until a run names its own (no real database has it)
PLACEHOLDER_DATABASE = PLACEHOLDER
#: the parse profile's port: a number no real run uses here, looked for too
PLACEHOLDER_PORT = 54329
#: the parse profile's password (``dbt parse`` never connects; a model that reads it is parsed per database)
PLACEHOLDER_PASSWORD = f"{PLACEHOLDER}_password"
#: the parse profile's connection: ``dbt parse`` never connects to it
PARSE_URL: URL = make_url(
    f"postgresql+psycopg2://{PLACEHOLDER}_user@{PLACEHOLDER}_host.invalid:{PLACEHOLDER_PORT}/{PLACEHOLDER_DATABASE}"
)
#: ``per-database`` turns the kept parse off: each database gets a parse of its own, as dbt does
PARSE_ENV = "DATAKITS_DBT_PARSE"
#: the commands that take a parsed manifest (the others parse nothing or parse for themselves)
MANIFEST_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile", "ls", "list", "show"})


def reuses_parse() -> bool:
    """Whether kept parses are used (``DATAKITS_DBT_PARSE`` is not ``per-database``)."""
    return os.environ.get(PARSE_ENV, "").strip().lower() != "per-database"


def parse_key(
    project: Path, dbt_version: str, adapter: str | None, vars: Mapping[str, Any] | None, threads: int = 4
) -> dict[str, Any]:
    """What a parse with the parse profile depends on beyond the project's inputs (:mod:`.inputs`): never a database."""
    return {
        "project": str(project.resolve()),
        "dbt": dbt_version,
        "adapter": adapter,
        "vars": json.dumps(dict(vars or {}), sort_keys=True, default=str),
        "profile": PARSE_URL.render_as_string(hide_password=True),
        "threads": threads,
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


#: what a parse leaves in a manifest that is not rendered for the profile (raw text, checksums), and
#: what a run's copy renames (a node's ``database``, the database part of its ``relation_name``)
_RAW = frozenset({"files", "macros", "docs", "env_vars", "flat_graph", "state_check", "metadata"})
_NODE_COLLECTIONS = ("nodes", "sources", "functions", "semantic_models")


def _found(value: Any, path: str, seen: set[int]) -> str | None:
    """Where under ``value`` a placeholder is (a dotted path), or None."""
    if isinstance(value, str):
        return path if PLACEHOLDER in value or str(PLACEHOLDER_PORT) in value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return path if value == PLACEHOLDER_PORT else None
    if isinstance(value, float | bytes):
        return None
    if id(value) in seen:
        return None
    seen.add(id(value))
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = _found(key, path, seen) or _found(item, f"{path}.{key}", seen)
            if where:
                return where
        return None
    if isinstance(value, list | tuple | set | frozenset):
        for number, item in enumerate(value):
            where = _found(item, f"{path}[{number}]", seen)
            if where:
                return where
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _found_in_node(value, path, seen, renamed=False)
    return None


def _found_in_node(item: Any, path: str, seen: set[int], renamed: bool = True) -> str | None:
    """Like :func:`_found`; with ``renamed``, leaving out what :func:`_rename` renames in ``item``."""
    seen.add(id(item))
    for f in dataclasses.fields(item):
        value = getattr(item, f.name, None)
        if renamed and f.name == "database" and value == PLACEHOLDER_DATABASE:
            continue  # renamed by each run's copy
        if renamed and f.name == "relation_name" and isinstance(value, str):
            value = _renamed(value, PLACEHOLDER_DATABASE, "")
        if renamed and f.name == "node_relation" and value is not None:
            where = _found_in_node(value, f"{path}.{f.name}", seen)
        else:
            where = _found(value, f"{path}.{f.name}", seen)
        if where:
            return where
    return None


def baked_in(manifest: Any) -> str | None:
    """Where the parse profile's connection (its placeholders) was written into ``manifest`` outside what a
    run's copy renames: ``model.shop.top.config.alias``; None where nowhere. Such a manifest holds, in a
    config, name or description, a value of the profile a run's copy cannot change: parse per database."""
    seen: set[int] = set()
    for f in dataclasses.fields(manifest):
        if f.name in _RAW or f.name.startswith("_"):
            continue
        collection = getattr(manifest, f.name, None)
        if f.name in _NODE_COLLECTIONS or f.name == "disabled":
            items = collection.items() if isinstance(collection, Mapping) else ()
            for unique_id, node in items:
                for one in node if isinstance(node, list) else [node]:
                    where = _found_in_node(one, unique_id, seen) if dataclasses.is_dataclass(one) else None
                    if where:
                        return where
            continue
        where = _found(collection, f.name, seen)
        if where:
            return where
    return None
