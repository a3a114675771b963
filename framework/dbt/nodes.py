"""A dbt selection as tasks: its models, seeds and snapshots in dependency order, from the project's kept parse.

    plan = plan_nodes(project, "silver_core customer_snapshot")
    for task in plan:              # in an order where each task's upstream comes first
        task.name, task.upstream       # "customer", ("model.pagila_warehouse.address",)
    task.select                    # "fqn:pagila_warehouse.silver_core.customer": this node alone

What a DAG renders a task per node from (``pipeline_dag(..., dbt_tasks="node")``), as astronomer-cosmos
does from a manifest: each task runs ``dbt build --select <node> --indirect-selection buildable``, so the
node is built and then its tests, those whose every other parent is upstream of it. The tests whose parents
are not all upstream of one of them (a relationship between two models built side by side) run together in
one more task, ``tests``, once their parents are built. Ephemeral models are not tasks (dbt inlines them): their parents count.

The nodes are read from the project's kept parse (:mod:`.parsing`, kept by the runner): planning parses a
project at most once per process, and the runs of its tasks in the same process parse nothing more. A plan
is kept on disk beside the parse, keyed by every input of the parse and every file's stamp, so that a
process that only renders the DAG (Airflow's DAG processor, every 30 s) finds it without parsing. dbt
selects the nodes itself (``dbt ls`` on the kept manifest), so every selection dbt takes works here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DbtError
from .inputs import ProjectInputs, project_inputs
from .parsing import PARSE_URL, PLACEHOLDER_DATABASE, key_hash, reuses_parse, run_copy
from .runner import (
    _LOCK,
    _check_psycopg2,
    _environ,
    _environment,
    _kept,
    _one_line,
    _parse_key,
    _private_dir,
    _project_name,
    _write_profile,
    dbt_parse_dir,
    project_dir,
)

__all__ = ["NodeTask", "plan_nodes"]

#: the nodes that become tasks of their own (a test is one only when no node's task can run it)
BUILT = ("model", "seed", "snapshot")
#: what each node task passes to ``dbt build``: the node, and those of its tests it can run alone
INDIRECT = ("--indirect-selection", "buildable")
#: the task of the tests no node's task can run
TESTS = "tests"


@dataclass(frozen=True)
class NodeTask:
    """One task of a dbt step: a model, seed or snapshot (with its tests), or the tests run after their parents."""

    unique_id: str
    name: str
    resource_type: str  # model, seed, snapshot, test (the ``tests`` task)
    select: str  # what ``dbt build --select`` takes for it
    upstream: tuple[str, ...] = ()  # the unique ids of the tasks of the same plan it waits for


#: by (project, selection, vars): the kept manifest it was planned from, and the plan
_PLANS: dict[tuple[str, str | None, str], tuple[Any, list[NodeTask]]] = {}


def plan_nodes(project: str | Path, select: str | None = None, vars: Mapping[str, Any] | None = None) -> list[NodeTask]:
    """The tasks of ``dbt build --select <select>`` (the whole project when None), upstream first.

    Raises :class:`DbtError` when the project does not parse or the selection is not dbt's."""
    path = project_dir(project)
    url = PARSE_URL
    stored = _stored_plan(path, select, vars)
    if stored is not None:
        return stored
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dbt's own dependencies warn on import
        try:
            from dbt.cli.main import dbtRunner
        except ImportError:
            raise DbtError("dbt is not installed: pip install 'pytest-datakits[dbt]'") from None
        _check_psycopg2()
        kept = _kept(path, url, vars) if reuses_parse() else None
        if kept is None:
            raise DbtError(
                f"dbt project {path} is parsed per database (its files read the connection, or "
                "DATAKITS_DBT_PARSE=per-database): render its steps with dbt_tasks = \"step\""
            )
        key = (str(path), select, json.dumps(dict(vars or {}), sort_keys=True, default=str))
        planned = _PLANS.get(key)
        if planned is not None and planned[0] is kept.manifest:  # planned from this very parse
            return planned[1]
        manifest = run_copy(kept.manifest, PLACEHOLDER_DATABASE)
        folder = dbt_parse_dir(path, url, vars)
        _private_dir(folder)
        profiles = _write_profile(folder, _project_name(path), url, 1, "plan-profile")
        cli = ["ls", "--select", select or "*", "--output", "json", "--output-keys", "unique_id"]
        cli += ["--resource-types", *BUILT, "test", "unit_test", "--project-dir", str(path)]
        cli += ["--profiles-dir", str(profiles), "--target-path", str(folder / "target")]
        cli += ["--log-path", str(folder / "logs"), "--log-level", "none", "--quiet"]
        if vars:
            cli += ["--vars", json.dumps(dict(vars), default=str)]
        with _environ(_environment(None)):
            result = dbtRunner(manifest=manifest).invoke(cli)
    if result.exception is not None or not result.success:
        problem = _one_line(str(result.exception or "dbt ls failed"))
        raise DbtError(f"listing the nodes of {select or 'the whole project'} in dbt project {path}: {problem}")
    lines: list[Any] = list(result.result) if isinstance(result.result, list) else []
    selected = [str(json.loads(line)["unique_id"] if isinstance(line, str) else line["unique_id"]) for line in lines]
    plan = _plan(kept.manifest, selected)
    _PLANS[key] = (kept.manifest, plan)
    _store_plan(path, select, vars, kept.inputs, plan)
    return plan


def _plan_file(path: Path, select: str | None, vars: Mapping[str, Any] | None, files: ProjectInputs) -> Path:
    """Where a plan is kept on disk: keyed by everything the parse is (:func:`parse_key`), every file dbt reads
    (by content), the environment variables the project reads, and the selection."""
    key = _parse_key(path, PARSE_URL, vars)
    whole = {"parse": key, "files": dict(files.files), "env": files.environment(), "select": select}
    return dbt_parse_dir(path, PARSE_URL, vars) / f"plan-{key_hash(whole)}.json"


def _stored_plan(path: Path, select: str | None, vars: Mapping[str, Any] | None) -> list[NodeTask] | None:
    """The plan a process made before from the same files (a DAG file is parsed in every task's process and
    every 30 s by the DAG processor: none of those parses dbt again), or None."""
    if not reuses_parse():
        return None
    files = project_inputs(path)
    if files.reads_connection or files.computed_env:  # parsed per database: no plan is kept
        return None
    try:
        items = json.loads(_plan_file(path, select, vars, files).read_text(encoding="utf-8"))
        return [NodeTask(**{**item, "upstream": tuple(item["upstream"])}) for item in items]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _store_plan(
    path: Path, select: str | None, vars: Mapping[str, Any] | None, files: ProjectInputs, plan: list[NodeTask]
) -> None:
    target = _plan_file(path, select, vars, files)
    with contextlib.suppress(OSError):  # a plan not kept is made again next time
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_text(json.dumps([dataclasses.asdict(task) for task in plan]), encoding="utf-8")
        partial.chmod(0o600)
        os.replace(partial, target)


def _parents(manifest: Any, unique_id: str) -> list[str]:
    node = manifest.nodes.get(unique_id)
    return list(node.depends_on.nodes) if node is not None and node.depends_on else []


def _plan(manifest: Any, selected: list[str]) -> list[NodeTask]:
    """The tasks of the ``selected`` nodes of ``manifest``: each built node, then the tests no node task runs."""
    nodes = manifest.nodes
    built = {
        uid
        for uid in selected
        if uid.split(".", 1)[0] in BUILT and getattr(nodes[uid].config, "materialized", None) != "ephemeral"
    }
    nearest: dict[str, frozenset[str]] = {}

    def upstream(uid: str) -> frozenset[str]:
        """The built nodes of the plan nearest above ``uid``, through every node outside the plan."""
        if uid not in nearest:
            nearest[uid] = frozenset()  # a guard: dbt's graph has no cycle
            found: set[str] = set()
            for parent in _parents(manifest, uid):
                found |= {parent} if parent in built else upstream(parent)
            nearest[uid] = frozenset(found)
        return nearest[uid]

    ancestors: dict[str, frozenset[str]] = {}

    def above(uid: str) -> frozenset[str]:
        """Every node above ``uid`` in the whole project."""
        if uid not in ancestors:
            ancestors[uid] = frozenset()
            found: set[str] = set()
            for parent in _parents(manifest, uid):
                found |= {parent} | above(parent)
            ancestors[uid] = frozenset(found)
        return ancestors[uid]

    order = _topological(sorted(built), upstream)
    tasks = [_task(nodes[uid], tuple(sorted(upstream(uid)))) for uid in order]
    apart: list[str] = []
    waits: set[str] = set()
    for uid in selected:
        if uid.split(".", 1)[0] != "test":
            continue
        parents = [p for p in _parents(manifest, uid) if p.split(".", 1)[0] in BUILT]
        if any(p in built and set(parents) <= {p} | above(p) for p in parents):
            continue  # the task of one of its parents runs it (``buildable``)
        apart.append("fqn:" + ".".join(nodes[uid].fqn))
        waits |= {p for p in parents if p in built} | {q for p in parents if p not in built for q in upstream(p)}
    if apart:  # one task for them all (a relationship per pair of models would double the tasks)
        name = TESTS if TESTS not in {t.name for t in tasks} else f"{TESTS}_of_step"
        tasks.append(NodeTask(name, name, "test", " ".join(apart), tuple(sorted(waits))))
    return tasks


def _topological(names: list[str], upstream: Any) -> list[str]:
    """``names`` ordered so that each comes after its upstream, otherwise in the order given (stable)."""
    done: list[str] = []
    placed: set[str] = set()
    waiting = list(names)
    while waiting:
        ready = [n for n in waiting if upstream(n) <= placed]
        if not ready:  # cannot happen with dbt's graph; keep every node rather than loop
            ready = waiting[:1]
        for name in ready:
            done.append(name)
            placed.add(name)
        waiting = [n for n in waiting if n not in placed]
    return done


def _task(node: Any, upstream: tuple[str, ...]) -> NodeTask:
    kind = node.resource_type.value if hasattr(node.resource_type, "value") else str(node.resource_type)
    return NodeTask(node.unique_id, node.name, kind, "fqn:" + ".".join(node.fqn), upstream)
