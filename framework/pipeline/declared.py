"""Declared pipelines: a platform as data, in ``pyproject.toml`` or through an entry point.

    [tool.datakits.pipelines.jaffle]
    source = "kits/jaffle_source"      # the source datakit: a path (relative to this file) or an installed name
    bronze = "kits/jaffle_raw"         # optional: derived from the source (derive_bronze) when left out
    dbt_project = "build/jaffle_shop"  # optional: no dbt step without it
    dbt_steps = ["build"]              # optional: dbt selections built in order ("build": the whole project)
    layers = ["kits/jaffle_marts"]     # optional: contract datakits validated after dbt
    generator = "jaffle"               # optional: what `--source generate` runs (a datakits.generators name,
                                       #   or module:function)
    dags = "dags"                      # optional: the DAG folder (`datakits dags check` looks there)
    batches = "full"                   # optional: a batch is the whole table ("full", the default) or
                                       #   changed and new rows only ("incremental"): what <table>__current shows
    dbt_sources = "current"            # optional: point the project's dbt sources of bronze at the current state
                                       #   ("current") or at the tables, every batch ("history"), before dbt runs
    dbt_tasks = "node"                 # optional: in Airflow, a task per dbt node ("node") or per step ("step")
    dbt_retries = 2                    # optional: how often Airflow retries a dbt task (default 2)

A ``dbt_steps`` item is a dbt selection (the step is named after it: ``"marts"``) or a table
``{name = "silver", select = "silver_core customer_snapshot"}``; without ``select`` (or the item
``"build"``) the step builds the whole project. A table may add dbt's flags: ``exclude``,
``indirect_selection`` (``"eager"``, ``"cautious"``, ``"buildable"``, ``"empty"``), ``vars`` (a table)
and ``full_refresh`` (a boolean). A layer is named after its datakit, the source's
prefix taken off (``pagila_silver`` of ``pagila_source``: ``silver``); the summary shows one
column per layer, bronze first.

Where a pipeline is declared decides how its paths read, as ruff and pytest do: relative to the file
that declares it. The ``pyproject.toml`` looked at is the nearest one, from the working folder (or
the folder given) upward, that has a ``[tool.datakits]`` table. A package declares its pipelines
through the ``datakits.pipelines`` entry point: a mapping with the same keys, whose paths read
relative to the module that holds it (this project declares Pagila so: ``datakits.pipelines:PAGILA``).
A ``pyproject.toml`` declaration wins over an entry point of the same name, and says so in one line
(logged once per process: ``pipeline 'pagila' of <file> shadows the one of entry point ...``). An
unknown key, a value of the wrong kind or a missing ``source`` is one line naming the key and the file.
A pipeline's name is letters, digits, ``_``, ``.`` and ``-`` (no escape code or newline reaches a
terminal). An entry point that does not load, or whose value is not a valid declaration, is logged in
one line naming it and its distribution, and the others are used as if it were not there.

A ``generator`` is either a name registered under the ``datakits.generators`` entry point, or
``module:function`` where ``module`` is a module of the declaring project (a ``.py`` file or a package
in the folder of the declaring ``pyproject.toml``, or of the entry point's module): never a module from
elsewhere (``os:system`` is refused where it is declared). When run, ``function`` must be a Python
function taking ``(target, scale=..., seed=...)``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.metadata
import logging
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PipelineError
from ..kits.bronze import derive_bronze
from ..kits.current import BATCH_MODES, DEFAULT_BATCHES, BatchMode
from ..kits.discovery import Datakit, installed_datakits, load_datakit

__all__ = [
    "ENTRY_POINT_GROUP",
    "DbtSelection",
    "Pipeline",
    "declared_pipelines",
    "find_pyproject",
    "get_pipeline",
    "pipelines_from_pyproject",
]

ENTRY_POINT_GROUP = "datakits.pipelines"
KEYS = {
    "source", "bronze", "dbt_project", "dbt_steps", "layers", "generator", "dags",
    "batches", "dbt_sources", "dbt_tasks", "dbt_retries",
}  # fmt: skip
#: what a dbt_steps table may say besides name and select: dbt's own flags
STEP_KEYS = ("name", "select", "exclude", "indirect_selection", "vars", "full_refresh")
INDIRECT_SELECTION = ("eager", "cautious", "buildable", "empty")
#: where a pipeline's dbt sources of bronze point: the bronze tables (every batch) or their current state
DBT_SOURCES = ("history", "current")
#: how the DAG renders a dbt step: a task group with a task per model, seed and snapshot, or one task
DBT_TASKS = ("node", "step")
DEFAULT_DBT_TASKS = "node"
DEFAULT_DBT_RETRIES = 2
#: the DAG's own tasks: a dbt step may not take their names
TASKS = {"deploy", "tables", "load", "validate", "summary"}
REPOSITORY = Path(__file__).resolve().parents[2]
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_GENERATOR = re.compile(r"(?:[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*)?")

log = logging.getLogger(__name__)
_said: set[str] = set()


def _say_once(line: str) -> None:
    """Log ``line`` once per process (a warning: with no logging set up, one line on stderr)."""
    if line not in _said:
        _said.add(line)
        log.warning("%s", line)


@dataclass(frozen=True)
class DbtSelection:
    """One dbt step: ``dbt build --select <select>`` (the whole project when ``select`` is None), with
    dbt's ``--exclude``, ``--indirect-selection``, ``--vars`` and ``--full-refresh`` when given."""

    name: str
    select: str | None = None
    exclude: str | None = None
    indirect_selection: str | None = None
    vars: Mapping[str, Any] | None = field(default=None, hash=False)
    full_refresh: bool = False

    def flags(self) -> tuple[str, ...]:
        """The step's flags on dbt's command line (``--exclude ...``); ``select`` and ``vars`` go apart."""
        flags: list[str] = []
        if self.exclude:
            flags += ["--exclude", *self.exclude.split()]
        if self.indirect_selection:
            flags += ["--indirect-selection", self.indirect_selection]
        if self.full_refresh:
            flags.append("--full-refresh")
        return tuple(flags)


@dataclass(frozen=True)
class Pipeline:
    """One medallion pipeline: its source and bronze datakits, its dbt project and steps, its contract layers.

    Datakits are paths (absolute once declared) or installed names. ``project`` is the dbt project's
    folder: absolute, or relative to the working folder or the repository.
    """

    name: str
    source: str
    bronze: str | None = None  # None: derived from the source datakit
    project: str | None = None
    dbt_steps: tuple[DbtSelection, ...] = ()
    layers: tuple[str, ...] = ()
    generator: str | None = None
    dags: str | None = None
    batches: BatchMode = DEFAULT_BATCHES  # what a batch is: "full" (the whole table) or "incremental"
    dbt_sources: str | None = None  # "current" or "history": the pipeline points its dbt sources of bronze there
    generator_from: str | None = None  # the folder a module:function generator is imported from
    declared_in: str = "the library"
    dbt_tasks: str = DEFAULT_DBT_TASKS
    dbt_retries: int = DEFAULT_DBT_RETRIES
    _kits: dict[str, Datakit] = field(default_factory=dict, repr=False, compare=False, hash=False)

    # --- datakits ---------------------------------------------------------------------------------

    def kit(self, layer: str) -> Datakit:
        """The datakit of ``layer``: ``source``, ``bronze``, or a contract layer's name (``silver``)."""
        if layer not in self._kits:
            if layer == "source":
                kit: Datakit = _load(self.source)
            elif layer == "bronze":
                kit = _load(self.bronze) if self.bronze else derive_bronze(_load(self.source))
            else:
                names = self.layer_names()
                if layer not in names:
                    raise PipelineError(f"pipeline {self.name} has no layer {layer!r}; it has {', '.join(names)}")
                kit = _load(names[layer])
            self._kits[layer] = kit
        return self._kits[layer]

    def layer_names(self) -> dict[str, str]:
        """Each contract layer's name (its datakit's, the source's prefix taken off) -> its datakit."""
        prefix = _base(self.source).removesuffix("source")
        names: dict[str, str] = {}
        for kit in self.layers:
            base = _base(kit)
            short = base.removeprefix(prefix) if prefix and base.startswith(prefix) and base != prefix else base
            names[base if short in names or short in ("source", "bronze") else short] = kit
        return names

    def layer_kits(self) -> dict[str, Datakit]:
        """bronze, then each contract layer: what validate and the summary look at."""
        return {"bronze": self.kit("bronze"), **{name: self.kit(name) for name in self.layer_names()}}

    # --- dbt --------------------------------------------------------------------------------------

    def dbt_step(self, name: str) -> DbtSelection:
        for step in self.dbt_steps:
            if step.name == name:
                return step
        known = ", ".join(s.name for s in self.dbt_steps) or "none"
        raise PipelineError(f"pipeline {self.name} has no dbt step {name!r} (its steps: {known})", step="dbt")

    def project_path(self) -> Path:
        """The dbt project's folder; a :class:`PipelineError` when it is not there."""
        if self.project is None:
            raise PipelineError(f"pipeline {self.name} declares no dbt_project ({self.declared_in})", step="dbt")
        given = Path(self.project)
        places = [given] if given.is_absolute() else [Path.cwd() / given, REPOSITORY / given]
        for candidate in places:
            if (candidate / "dbt_project.yml").is_file():
                return candidate
        looked = " or ".join(str(p) for p in dict.fromkeys(places))
        raise PipelineError(
            f"no dbt project {self.project}: no dbt_project.yml in {looked}; give the project's folder (--project)",
            step="dbt",
        )

    def with_project(self, project: str | Path | None) -> Pipeline:
        """The same pipeline on another dbt project (``--project``)."""
        if project is None:
            return self
        return dataclasses.replace(self, project=str(Path(project).resolve()), _kits=self._kits)


@functools.cache
def _load_cached(name: str) -> Datakit:
    return load_datakit(name)


def _load(name: str) -> Datakit:
    return _load_cached(name)


def _base(kit: str) -> str:
    """A datakit's own name: ``kits/jaffle_source`` and ``jaffle_source.py`` are ``jaffle_source``."""
    return Path(kit).name.removesuffix(".py") or kit


# --- Reading a declaration ------------------------------------------------------------------------


def _kit_value(value: str, base: Path) -> str:
    """A path (relative to ``base``) becomes absolute; an installed datakit's name or a module name stays a name.

    ``kits/shop`` and ``shop.py`` are paths; a bare ``shop`` is a path when ``base/shop`` exists and no
    datakit is installed under that name.
    """
    candidate = base / value
    looks_like_path = "/" in value or "\\" in value or value.startswith(".") or value.endswith(".py")
    if looks_like_path or (candidate.exists() and value not in installed_datakits()):
        return str(candidate.resolve())
    return value


def _step_name(select: str) -> str:
    return re.sub(r"[^\w.-]+", "_", select.split()[0] if select.split() else select).strip("_") or "dbt"


def _steps(value: Any, where: str) -> tuple[DbtSelection, ...]:
    if not isinstance(value, list):
        raise PipelineError(f"{where}: dbt_steps must be a list of dbt selections")
    steps: list[DbtSelection] = []
    for item in value:
        if isinstance(item, str):
            step = DbtSelection("build") if item.strip() == "build" else DbtSelection(_step_name(item), item)
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            step = _step_table(item, where)
        else:
            raise PipelineError(f"{where}: a dbt_steps item is a selection or {{name = ..., select = ...}}: {item!r}")
        if step.name in TASKS or step.name in {s.name for s in steps}:
            raise PipelineError(f"{where}: dbt step name {step.name!r} is taken; give {{name = ..., select = ...}}")
        steps.append(step)
    return tuple(steps)


def _step_table(item: Mapping[str, Any], where: str) -> DbtSelection:
    """A ``{name = ..., select = ..., exclude = ..., ...}`` step; one line naming a wrong key or value."""
    name = str(item["name"])
    unknown = sorted(set(item) - set(STEP_KEYS))
    if unknown:
        keys = ", ".join(STEP_KEYS)
        raise PipelineError(f"{where}: dbt step {name!r}: unknown key {unknown[0]!r}; the keys are {keys}")
    for key in ("select", "exclude", "indirect_selection"):
        if key in item and not isinstance(item[key], str):
            raise PipelineError(f"{where}: dbt step {name!r}: {key} must be a string")
    if item.get("indirect_selection", "eager") not in INDIRECT_SELECTION:
        allowed = ", ".join(INDIRECT_SELECTION)
        raise PipelineError(f"{where}: dbt step {name!r}: indirect_selection must be one of {allowed}")
    if "vars" in item and not isinstance(item["vars"], Mapping):
        raise PipelineError(f"{where}: dbt step {name!r}: vars must be a table ({{key = value}})")
    if "full_refresh" in item and not isinstance(item["full_refresh"], bool):
        raise PipelineError(f"{where}: dbt step {name!r}: full_refresh must be true or false")
    return DbtSelection(
        name,
        item.get("select"),
        item.get("exclude"),
        item.get("indirect_selection"),
        dict(item["vars"]) if "vars" in item else None,
        bool(item.get("full_refresh", False)),
    )


def pipeline_from_mapping(name: str, table: Mapping[str, Any], base: Path, where: str) -> Pipeline:
    """A :class:`Pipeline` from a declaration's keys, its paths relative to ``base``; ``where`` names the place."""
    where = f"{where} [tool.datakits.pipelines.{_shown(str(name))}]" if where.endswith(".toml") else where
    if not isinstance(table, Mapping):
        raise PipelineError(f"{where}: a pipeline is a table of keys ({', '.join(sorted(KEYS))})")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise PipelineError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(KEYS))}")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PipelineError(f"{where}: pipeline name {name!r}: use letters, digits, _, . and - only")
    for key in ("source", "bronze", "dbt_project", "generator", "dags"):
        if key in table and not isinstance(table[key], str):
            raise PipelineError(f"{where}: {key} must be a string (a path or a name)")
    if "generator" in table:
        _check_generator(table["generator"], base, where)
    if "source" not in table:
        raise PipelineError(f'{where}: no source; name the source datakit (source = "kits/my_source")')
    layers = table.get("layers", [])
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise PipelineError(f"{where}: layers must be a list of datakits (paths or names)")
    steps = _steps(table.get("dbt_steps", ["build"] if "dbt_project" in table else []), where)
    if steps and "dbt_project" not in table:
        raise PipelineError(f'{where}: dbt_steps without a dbt_project; give dbt_project = "path/to/project"')
    project = str((base / table["dbt_project"]).resolve()) if "dbt_project" in table else None
    batches = table.get("batches", DEFAULT_BATCHES)
    if batches not in BATCH_MODES:
        raise PipelineError(f"{where}: batches must be one of {', '.join(BATCH_MODES)} (what one batch of a table is)")
    dbt_sources = table.get("dbt_sources")
    if dbt_sources is not None and dbt_sources not in DBT_SOURCES:
        raise PipelineError(f"{where}: dbt_sources must be one of {', '.join(DBT_SOURCES)}")
    if dbt_sources is not None and project is None:
        raise PipelineError(f'{where}: dbt_sources without a dbt_project; give dbt_project = "path/to/project"')
    dbt_tasks, dbt_retries = _dbt_task_keys(table, where)
    return Pipeline(
        name=name,
        source=_kit_value(table["source"], base),
        bronze=_kit_value(table["bronze"], base) if "bronze" in table else None,
        project=project,
        dbt_steps=steps,
        layers=tuple(_kit_value(x, base) for x in layers),
        generator=table.get("generator"),
        dags=str((base / table["dags"]).resolve()) if "dags" in table else None,
        batches=batches,
        dbt_sources=dbt_sources,
        declared_in=where,
        generator_from=str(base.resolve()) if ":" in table.get("generator", "") else None,
        dbt_tasks=dbt_tasks,
        dbt_retries=dbt_retries,
    )


def _check_generator(value: str, base: Path, where: str) -> None:
    """A generator is a ``datakits.generators`` name or ``module:function`` of a module in ``base``."""
    rule = "a name registered under datakits.generators, or module:function of a module in the project's folder"
    if not _GENERATOR.fullmatch(value):
        raise PipelineError(f"{where}: generator {value!r} is not {rule}")
    if ":" in value:
        module = Path(*value.split(":", 1)[0].split("."))
        if not ((base / module).with_suffix(".py").is_file() or (base / module / "__init__.py").is_file()):
            raise PipelineError(f"{where}: generator {value!r}: no module {module} in {base}; a generator is {rule}")


def _dbt_task_keys(table: Mapping[str, Any], where: str) -> tuple[str, int]:
    """``dbt_tasks`` (one of :data:`DBT_TASKS`) and ``dbt_retries`` (a whole number, 0 or more), checked."""
    tasks = table.get("dbt_tasks", DEFAULT_DBT_TASKS)
    if tasks not in DBT_TASKS:
        raise PipelineError(f"{where}: dbt_tasks = {tasks!r}; use one of {', '.join(map(repr, DBT_TASKS))}")
    retries = table.get("dbt_retries", DEFAULT_DBT_RETRIES)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise PipelineError(f"{where}: dbt_retries = {retries!r}; give a whole number, 0 or more (e.g. 2)")
    return str(tasks), retries


def find_pyproject(start: str | Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.datakits]`` table, from ``start`` (default: here) upward."""
    folder = Path(start or Path.cwd()).resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            tool = _read_toml(path).get("tool", {})
            if isinstance(tool, dict) and "datakits" in tool:
                return path
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PipelineError(f"{path}: cannot read it: {' '.join(str(exc).split())}") from None


def pipelines_from_pyproject(path: str | Path) -> dict[str, Pipeline]:
    """The pipelines a ``pyproject.toml`` declares under ``[tool.datakits.pipelines]``."""
    path = Path(path).resolve()
    tool = _read_toml(path).get("tool", {})
    if not isinstance(tool, dict):
        raise PipelineError(f"{path}: tool must be a table ([tool.datakits.pipelines.NAME])")
    tool = tool.get("datakits", {})
    if not isinstance(tool, dict):
        raise PipelineError(f"{path}: datakits in [tool] must be a table ([tool.datakits.pipelines.NAME])")
    unknown = sorted(set(tool) - {"pipelines"})
    if unknown:
        raise PipelineError(f"{path}: unknown key {unknown[0]!r} in [tool.datakits]; it holds pipelines")
    tables = tool.get("pipelines", {})
    if not isinstance(tables, dict):
        raise PipelineError(f"{path}: pipelines in [tool.datakits] must be a table ([tool.datakits.pipelines.NAME])")
    return {name: pipeline_from_mapping(name, table, path.parent, str(path)) for name, table in tables.items()}


def _shown(text: str) -> str:
    """``text`` as it is when plain, else its ``repr`` (no escape code or newline reaches a terminal)."""
    return text if text.isprintable() else repr(text)


def _entry_points() -> tuple[dict[str, Pipeline], dict[str, PipelineError]]:
    """The entry points' pipelines by name, and the broken ones' errors (each logged once, in one line)."""
    found: dict[str, Pipeline] = {}
    broken: dict[str, PipelineError] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "an unknown distribution"
        where = f"entry point {ENTRY_POINT_GROUP}:{_shown(ep.name)} ({_shown(ep.value)}) of {dist}"
        try:
            declared = ep.load()
            module = sys.modules[ep.module]
            base = Path(module.__file__ or ".").resolve().parent
            found[ep.name] = pipeline_from_mapping(ep.name, declared, base, where)
        except PipelineError as exc:
            broken[ep.name] = PipelineError(f"skipped {exc}")
        except Exception as exc:  # a package's declaration may fail to import in any way; name it
            detail = " ".join(str(exc).split())[:200]
            broken[ep.name] = PipelineError(f"skipped {where}: it does not load: {type(exc).__name__}: {detail}")
    for error in broken.values():
        _say_once(str(error))
    return found, broken


def declared_pipelines(start: str | Path | None = None) -> dict[str, Pipeline]:
    """Every declared pipeline by name: the entry points', then the nearest ``pyproject.toml``'s (which win).

    A broken entry point is left out (one line logged); a ``pyproject.toml`` pipeline of an entry point's
    name shadows it (one line logged)."""
    return _declared(start)[0]


def _declared(start: str | Path | None) -> tuple[dict[str, Pipeline], dict[str, PipelineError]]:
    found, broken = _entry_points()
    pyproject = find_pyproject(start)
    if pyproject is not None:
        for name, spec in pipelines_from_pyproject(pyproject).items():
            if name in found:
                _say_once(f"pipeline {name!r} of {pyproject} shadows the one of {found[name].declared_in}")
            found[name] = spec
            broken.pop(name, None)
    return found, broken


def get_pipeline(pipeline: str | Pipeline = "pagila", start: str | Path | None = None) -> Pipeline:
    """A declared pipeline by name (see :func:`declared_pipelines`), or the one given."""
    if isinstance(pipeline, Pipeline):
        return pipeline
    found, broken = _declared(start)
    if pipeline not in found:
        if pipeline in broken:
            raise broken[pipeline]
        known = ", ".join(sorted(found)) or "none declared"
        raise PipelineError(f"unknown pipeline {pipeline!r}; use one of {known}")
    return found[pipeline]
