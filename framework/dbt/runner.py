"""Run dbt against a :class:`~framework.targets.runs.Database`: ``run_dbt(project, database, ("build",))``.

The profile is made from the database's URL (the embedded server's Unix socket folder as
``host``; the password passed through an environment variable, never written or printed) in a
*state folder*: ``<state>/profiles``, ``<state>/target``, ``<state>/logs``. A state folder is keyed
by what dbt's manifest depends on (:func:`manifest_key`: the project, dbt's version, the adapter,
the profile's shape with the database name, which dbt writes into every node). In process, the
project is not parsed per database: one parse is kept and each run gets a copy naming its own
database (:mod:`framework.dbt.parsing`; the parse's state folder is keyed without a database). State folders
are private (0700, files 0600); under the default root (:func:`state_root`) the
:data:`MAX_STATES` most recently used of each project are kept and older ones removed (and the folders of
projects that are gone).

dbt runs in this process through ``dbtRunner``, one invocation at a time (dbt is not thread-safe;
sequential calls are fine), or with ``subprocess=True`` in a child process, so that several
databases can be built at once. In process the results come back as objects (dbt writes no
``manifest.json`` or ``run_results.json``, which costs time on every call); from a child process
they are read from ``run_results.json``.
dbt's console output is off (``log=True`` turns it on); its log goes to ``<state>/logs``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy.engine import URL

from ..engines import engine_kind
from ..engines.urls import engine_of, safe_url, to_url, with_driver
from ..errors import DbtError
from ..targets.named import TargetConfig, list_targets
from ..targets.resolve import resolve_target
from ..targets.runs import Database
from .inputs import ProjectInputs, project_inputs
from .parsing import (
    MANIFEST_COMMANDS,
    PARSE_URL,
    PLACEHOLDER_PASSWORD,
    baked_in,
    key_hash,
    parse_key,
    reuses_parse,
    run_copy,
)

__all__ = ["DbtError", "DbtNode", "DbtResult", "dbt_parse_dir", "dbt_state_dir", "postgres_targets", "project_dir", "run_dbt"]

PASSWORD_ENV = "DATAKITS_DBT_PASSWORD"
PROFILE_TARGET = "datakits"
FAILED = ("error", "fail", "runtime error")
_LOCK = threading.Lock()  # one dbtRunner invocation at a time in this process
Progress = Callable[["DbtNode"], None]


@dataclass(frozen=True)
class DbtNode:
    """One node dbt ran: a model, snapshot, seed, data test or unit test."""

    unique_id: str
    status: str  # success, error, skipped, pass, fail, warn, no-op
    seconds: float = 0.0
    rows_affected: int | None = None
    message: str | None = None  # dbt's message, on one line
    detail: str | None = field(default=None, repr=False, compare=False)  # dbt's message as it gave it
    compiled_sql: str | None = field(default=None, repr=False, compare=False)  # a test's query: its failing rows

    @property
    def resource_type(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.unique_id.split(".")[-1] if self.resource_type != "test" else self.unique_id.split(".")[2]

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def builds(self) -> bool:
        """Whether the node writes rows (a model, seed or snapshot): a test's rows are not data."""
        return self.resource_type in ("model", "seed", "snapshot")

    def describe(self) -> str:
        rows = f" ({self.rows_affected:,} rows)" if self.rows_affected is not None and self.builds else ""
        return f"{self.resource_type} {self.name}: {self.status}{rows}"


@dataclass
class DbtResult:
    """What one dbt invocation did, node by node."""

    command: str
    database: str  # its URL, password hidden
    nodes: list[DbtNode] = field(default_factory=list)
    seconds: float = 0.0
    target_path: Path | None = None

    @property
    def success(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[DbtNode]:
        return [n for n in self.nodes if n.failed]

    def of_type(self, resource_type: str) -> list[DbtNode]:
        return [n for n in self.nodes if n.resource_type == resource_type]

    def node(self, name: str) -> DbtNode:
        """The node named ``name`` (a model, snapshot or test name, or a unique id)."""
        for n in self.nodes:
            if name in (n.unique_id, n.name):
                return n
        raise KeyError(f"no dbt node named {name!r} in this result")

    def counts(self) -> dict[str, dict[str, int]]:
        """resource type -> status -> how many."""
        found: dict[str, dict[str, int]] = {}
        for n in self.nodes:
            kind = found.setdefault(n.resource_type, {})
            kind[n.status] = kind.get(n.status, 0) + 1
        return found

    def summary(self) -> str:
        parts = []
        for kind, statuses in sorted(self.counts().items()):
            total = sum(statuses.values())
            detail = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
            parts.append(f"{total} {kind}{'s' if total != 1 else ''} ({detail})")
        body = "; ".join(parts) or "nothing selected"
        return f"dbt {self.command} on {self.database}: {body} in {self.seconds:.2f}s"


def project_dir(project: str | Path) -> Path:
    """The dbt project's folder, checked to hold a ``dbt_project.yml``."""
    path = Path(project).resolve()
    if not (path / "dbt_project.yml").is_file():
        raise DbtError(f"dbt project {path} does not exist (no dbt_project.yml there); give the project's folder")
    return path


def postgres_targets() -> list[str]:
    """The named targets dbt can run on here (dbt-postgres)."""
    return [t.name for t in list_targets() if engine_kind(t.engine).dbt_adapter]


def _check_postgres(database: Database | TargetConfig | URL | str) -> URL:
    if isinstance(database, TargetConfig) or (isinstance(database, str) and "://" not in database):
        database = resolve_target(database).url  # a named target: this process's database there
    url = with_driver(to_url(database.url if isinstance(database, Database) else database))
    try:
        engine = engine_of(url)
    except ValueError as exc:
        raise DbtError(str(exc)) from None
    if engine_kind(engine).dbt_adapter is None:
        raise DbtError(
            f"dbt here runs on PostgreSQL targets ({', '.join(postgres_targets())} or a postgresql:// URL); "
            f"{safe_url(url)} is {engine}"
        )
    return url


def _query(url: URL, key: str) -> str | None:
    """A value of the URL's query string (``?password=``), the first when given twice."""
    value = url.query.get(key)
    if isinstance(value, tuple):
        value = value[0] if value else None
    return value or None


def _password(url: URL) -> str | None:
    """The password, wherever the URL holds it: ``user:password@`` or ``?password=``."""
    return url.password or _query(url, "password")


def _profile(url: URL, threads: int) -> dict[str, Any]:
    """dbt's profile for a PostgreSQL URL (dbt-postgres: the one adapter installed)."""
    kind = engine_kind(engine_of(url))
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    output: dict[str, Any] = {
        "type": kind.dbt_adapter,
        "host": str(host),
        "port": int(url.port or kind.default_port or 0),
        "user": url.username or _query(url, "user") or "postgres",
        "password": "{{ env_var('" + PASSWORD_ENV + "', '') }}",
        "dbname": url.database or "postgres",
        "schema": "public",
        "threads": threads,
        "connect_timeout": 10,
    }
    return output


STATE_ROOT_ENV = "DATAKITS_DBT_STATE"
#: state folders kept per project under the default root; its least recently used beyond this are removed
MAX_STATES = 8
KEY_FILE = "key.json"
USED_FILE = ".used"


def state_root() -> Path:
    """Where the state folders go by default: ``$DATAKITS_DBT_STATE``, else ``<temp>/datakits-dbt-<uid>``."""
    configured = os.environ.get(STATE_ROOT_ENV, "").strip()
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"datakits-dbt-{os.getuid()}"


@functools.cache  # asked on every run; the installed dbt does not change under a running process
def _dbt_version() -> str:
    """dbt-core's version, and the adapter's (their macros are parsed with the project's)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("dbt-core", "dbt-adapters", "dbt-postgres"):
        try:
            found.append(version(name))
        except PackageNotFoundError:
            found.append("none")
    return found[0] if found[1:] == ["none", "none"] else "/".join(found)


def manifest_key(project: Path, url: URL, threads: int = 4) -> dict[str, Any]:
    """What a dbt manifest depends on beyond the project's files (partial parsing follows those):
    the project, dbt's version, the adapter and the profile's shape, the database name among it
    (dbt writes it into every node). Never the password."""
    host = url.host or url.query.get("host") or "localhost"
    return {
        "project": str(project.resolve()),
        "dbt": _dbt_version(),
        "adapter": engine_kind(engine_of(url)).dbt_adapter,
        "host": str(host[0] if isinstance(host, tuple) else host),
        "port": url.port,
        "user": url.username,
        "database": url.database,
        "schema": "public",
        "threads": threads,
    }


def dbt_state_dir(project: Path, url: URL, base: Path | None = None, threads: int = 4) -> Path:
    """The folder that holds one project's profile, target and logs for one manifest key.

    ``<root>/<project>-<hash of its path>/<database>-<hash of manifest_key>``: a manifest is never
    used where one of the things it depends on differs, and the same key finds the same warm state.
    """
    root = base or state_root()
    project_key = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:8]
    key = json.dumps(manifest_key(project, url, threads), sort_keys=True, default=str)
    return root / f"{project.name}-{project_key}" / f"{url.database}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _private_dir(path: Path) -> None:
    """Make ``path`` (and its missing parents) readable by this user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def make_private(state: Path) -> None:
    """Folders 0700, files 0600 under ``state``: dbt's compiled SQL and logs are the user's alone."""
    for folder, dirs, files in os.walk(state):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(folder, name), 0o600)


def _gone(state: Path) -> bool:
    """Whether the project a state folder was made for is no longer there."""
    try:
        project = json.loads((state / KEY_FILE).read_text()).get("project")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(project, str) and not (Path(project) / "dbt_project.yml").exists()


def _remove_state(state: Path) -> bool:
    lock = FileLock(state / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False  # a dbt of another process runs there now
    try:
        shutil.rmtree(state, ignore_errors=True)
    finally:
        lock.release()
    return True


def prune_states(root: Path, keep: int = MAX_STATES) -> list[Path]:
    """Remove, for each project under ``root``, its least recently used state folders beyond ``keep``, and the
    folders of projects that are gone (never one in use): one project's runs never evict another's."""
    removed = []
    for folder in root.glob("*"):
        states = [p for p in folder.glob("*") if p.is_dir() and (p / KEY_FILE).exists()]
        states.sort(key=lambda p: (p / USED_FILE).stat().st_mtime if (p / USED_FILE).exists() else 0.0, reverse=True)
        for number, state in enumerate(states):
            if (number >= keep or _gone(state)) and _remove_state(state):
                removed.append(state)
        with contextlib.suppress(OSError):
            folder.rmdir()  # a project's folder left empty
    return removed


def _project_name(project: Path) -> str:
    import yaml

    try:
        data = yaml.safe_load((project / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DbtError(f"{project}/dbt_project.yml cannot be read: {' '.join(str(exc).split())}") from None
    return str(data.get("profile") or data.get("name") or project.name)


def _write_profile(state: Path, profile_name: str, url: URL, threads: int, folder: str = "profiles") -> Path:
    import yaml

    profiles = state / folder
    profiles.mkdir(parents=True, exist_ok=True)
    profile = {"target": PROFILE_TARGET, "outputs": {PROFILE_TARGET: _profile(url, threads)}}
    text = yaml.safe_dump({profile_name: profile}, sort_keys=False)
    path = profiles / "profiles.yml"
    if not path.exists() or path.read_text(encoding="utf-8") != text:  # unchanged keeps partial parsing warm
        path.write_text(text, encoding="utf-8")
    return profiles


def _cli_args(
    args: Sequence[str],
    project: Path,
    state: Path,
    profiles: Path,
    select: str | Sequence[str] | None,
    vars: Mapping[str, Any] | None,
    log: bool,
) -> list[str]:
    cli = [*args, "--project-dir", str(project), "--profiles-dir", str(profiles)]
    cli += ["--target-path", str(state / "target"), "--log-path", str(state / "logs")]
    cli += ["--log-level", "info" if log else "none", "--log-level-file", "info", "--no-use-colors"]
    if select:
        # a few nodes: dbt lists the relations of their schemas only, not of every schema in the project (without a
        # cache at all, a rerun can take a table that is there for one that is not: the cache knows what the run made)
        cli += ["--cache-selected-only", "--select", *([select] if isinstance(select, str) else list(select))]
    if vars:
        cli += ["--vars", json.dumps(dict(vars), default=str)]
    return cli


def _environment(password: str | None) -> dict[str, str]:
    """What dbt's environment gets: the password for the profile, and no usage tracking."""
    return {PASSWORD_ENV: password or "", "DO_NOT_TRACK": "1"}


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(_condense(str(text)).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


#: dbt-postgres names a column's type by psycopg2's type caster (``LONGINTEGER`` for bigint):
#: drift is told in the database's own names, as ``validate`` does
_DB_TYPE_NAMES = {
    "LONGINTEGER": "BIGINT",
    "INTEGER": "INTEGER",
    "FLOAT": "DOUBLE PRECISION",
    "DECIMAL": "NUMERIC",
    "STRING": "TEXT",
    "UNICODE": "TEXT",
    "BOOLEAN": "BOOLEAN",
    "DATETIME": "TIMESTAMP",
    "DATETIMETZ": "TIMESTAMP WITH TIME ZONE",
    "DATE": "DATE",
    "TIME": "TIME",
    "INTERVAL": "INTERVAL",
    "BINARY": "BYTEA",
    "ROWID": "OID",
    "JSON": "JSON",
    "JSONB": "JSONB",
    "INTEGERARRAY": "INTEGER[]",
    "LONGINTEGERARRAY": "BIGINT[]",
    "STRINGARRAY": "TEXT[]",
}


def db_type_name(name: str) -> str:
    """A type as the database names it, from dbt's contract table (``LONGINTEGER`` -> ``BIGINT``)."""
    return _DB_TYPE_NAMES.get(name.strip().upper(), name.strip().upper())


def _condense(message: str) -> str:
    """dbt's message without its macro call stack, a contract's mismatch table as a sentence."""
    kept: list[str] = []
    header: list[str] | None = None
    mismatches: list[str] = []
    for raw in message.splitlines():
        line = raw.strip()
        if line.startswith("> ") or line.startswith("Please ensure the name, data_type"):
            continue
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if header is None:
                header = cells
            elif not all(set(c) <= {"-"} for c in cells):
                row = dict(zip(header, cells, strict=False))
                model = db_type_name(row["definition_type"]) if row.get("definition_type") else "missing"
                contract = db_type_name(row["contract_type"]) if row.get("contract_type") else "missing"
                mismatches.append(
                    f"{row.get('column_name')}: {model} in the model, {contract} in the contract "
                    f"({row.get('mismatch_reason')})"
                )
            continue
        if mismatches:
            kept.append("; ".join(mismatches))
            mismatches = []
        kept.append(line)
    if mismatches:
        kept.append("; ".join(mismatches))
    return " ".join(kept)


def _node_finished(progress: Progress) -> Callable[[Any], None]:
    """A dbt event callback that reports each finished node to ``progress``."""

    def callback(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        try:
            done = event.data.run_result
            node = _node(
                event.data.node_info.unique_id, done.status, done.execution_time, done.adapter_response, done.message
            )
        except Exception:  # an event of another shape: no progress line, never a failed run
            return
        progress(node)

    return callback


def _node(
    unique_id: str, status: object, seconds: object, response: Any, message: object, compiled: object = None
) -> DbtNode:
    rows = dict(response or {}).get("rows_affected")
    return DbtNode(
        unique_id=unique_id,
        status=str(getattr(status, "value", status)),
        seconds=float(seconds or 0.0),  # type: ignore[arg-type]
        rows_affected=int(rows) if isinstance(rows, int | float) and rows >= 0 else None,
        message=_one_line(str(message)) if message else None,
        detail=str(message) if message else None,
        compiled_sql=str(compiled) if compiled else None,
    )


def _check_psycopg2() -> None:
    """psycopg2 imported a second time in a process lacks ``psycopg2.errors``, which dbt-postgres needs."""
    module = sys.modules.get("psycopg2")
    if module is not None and not hasattr(module, "errors"):
        raise DbtError(
            "psycopg2 was imported a second time in this process (pytest's pytester drops the modules a test "
            "imported; psycopg2's C extension does not load twice), so dbt cannot run here: import psycopg2 "
            "before such tests (in a conftest.py), or run_dbt(..., subprocess=True)"
        )


def _in_process(
    cli: list[str],
    password: str | None,
    progress: Progress | None = None,
    manifest: Callable[[], Any] | None = None,
) -> tuple[list[DbtNode] | None, str | None]:
    """Run dbt here: the nodes it ran, and dbt's error when it could not run them at all.

    ``manifest`` gives a parsed manifest (:func:`_kept_manifest`), or None for dbt to parse."""
    with _LOCK, _environ(_environment(password)), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dbt's own dependencies warn on import; not ours to fix
        try:
            from dbt.cli.main import dbtRunner
        except ImportError:
            raise DbtError("dbt is not installed: pip install 'pytest-datakits[dbt]'") from None
        _check_psycopg2()
        callbacks = [_node_finished(progress)] if progress is not None else []
        parsed = manifest() if manifest is not None else None
        # the results come back as objects: no manifest.json and run_results.json to write
        result = dbtRunner(manifest=parsed, callbacks=callbacks).invoke([*cli, "--no-write-json"])
    if isinstance(result.exception, KeyboardInterrupt):  # Ctrl-C, SIGTERM: dbt catches it; it is ours
        raise KeyboardInterrupt(str(result.exception))
    ran = getattr(result.result, "results", None)
    nodes = None
    if isinstance(ran, list):
        nodes = [
            _node(
                r.node.unique_id,
                r.status,
                r.execution_time,
                r.adapter_response,
                r.message,
                getattr(r.node, "compiled_code", None),
            )
            for r in ran
        ]
    return nodes, _one_line(str(result.exception)) if result.exception is not None else None


@dataclass(frozen=True)
class _Kept:
    """A project's manifest kept in this process as parsed with the parse profile, and what it depends on;
    or, with ``manifest`` None, why the project is parsed per database for these inputs."""

    inputs: ProjectInputs
    environment: tuple[tuple[str, str | None], ...]
    recorded: frozenset[str]  # the variables dbt recorded reading while it parsed
    manifest: Any
    why: str | None = None


_KEPT: OrderedDict[str, _Kept] = OrderedDict()  # by the hash of its parse key, the most recently used last
#: kept parses in a process (a manifest is a few MB): the least recently used beyond this are dropped
MAX_KEPT = 8
#: the projects parsed per database, and why (each said once in the log)
PER_DATABASE: dict[str, str] = {}
_log = logging.getLogger("framework.dbt")


def _parse_key(project: Path, url: URL, vars: Mapping[str, Any] | None, threads: int = 4) -> dict[str, Any]:
    return parse_key(project, _dbt_version(), engine_kind(engine_of(url)).dbt_adapter, vars, threads)


def dbt_parse_dir(project: Path, url: URL, vars: Mapping[str, Any] | None = None, threads: int = 4) -> Path:
    """Where a project's kept parse lives: ``<root>/<project>-<hash>/parse-<hash of parse_key>``, for any database."""
    key = _parse_key(project, url, vars, threads)
    project_key = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:8]
    return state_root() / f"{project.name}-{project_key}" / f"parse-{key_hash(key)}"


def _dbt_names() -> frozenset[str]:
    """The ``DBT_*`` variables set now: dbt's own flags (and its custom env) shape a parse too."""
    return frozenset(name for name in os.environ if name.startswith("DBT_"))


def _unsure(inputs: ProjectInputs) -> str | None:
    """Why the project's text alone says to parse per database, or None."""
    if inputs.computed_env:
        return f"{inputs.computed_env[0]} calls env_var with a computed name (which variables it reads cannot be known)"
    if inputs.reads_connection:
        return f"{inputs.reads_connection[0]} reads the connection (target's database, host, user...) in its Jinja"
    return None


def _kept(
    project: Path,
    url: URL,
    vars: Mapping[str, Any] | None,
    state_dir: Path | None = None,
    parse_dir: Path | None = None,
    threads: int = 4,
) -> _Kept | None:
    """The project's kept parse, parsed now where nothing is kept or what it depends on changed; None where
    dbt must parse for each database itself (see :mod:`.parsing`). Called with :data:`_LOCK` held.

    A parse goes to ``parse_dir`` when given; else to the caller's ``state_dir`` when there is one (every
    file dbt writes goes where the caller said); else to the shared folder of :func:`dbt_parse_dir`,
    where the next process finds it warm."""
    key = _parse_key(project, url, vars, threads)
    name = key_hash(key)
    kept = _KEPT.get(name)
    inputs = project_inputs(project)
    shared = parse_dir is not None or state_dir is None  # a folder of the parse's own, not the run's
    folder = parse_dir or state_dir or dbt_parse_dir(project, url, vars, threads)
    if (
        kept is None
        or kept.inputs != inputs
        or kept.environment != inputs.environment(kept.recorded | _dbt_names())
    ):
        why = _unsure(inputs)
        if why is not None:
            kept = _Kept(inputs, inputs.environment(_dbt_names()), frozenset(), None, why)
        else:
            kept = _parse(project, url, vars, key, inputs, folder, shared, threads)
            if kept is None:
                return None
        _KEPT[name] = kept
        while len(_KEPT) > MAX_KEPT:
            _KEPT.popitem(last=False)
    _KEPT.move_to_end(name)
    if kept.why is not None:
        if PER_DATABASE.get(str(project)) != kept.why:
            PER_DATABASE[str(project)] = kept.why
            _log.info("dbt project %s is parsed per database: %s", project, kept.why)
        return None
    if shared:
        with contextlib.suppress(OSError):  # used now: the state folders' pruning keeps the most recently used
            (folder / USED_FILE).touch()
    return kept


def _kept_manifest(
    project: Path,
    url: URL,
    vars: Mapping[str, Any] | None,
    state_dir: Path | None = None,
    parse_dir: Path | None = None,
    threads: int = 4,
) -> Any | None:
    """A copy of the project's kept parse naming ``url``'s database, or None for dbt to parse (see :func:`_kept`)."""
    kept = _kept(project, url, vars, state_dir, parse_dir, threads)
    return run_copy(kept.manifest, str(url.database)) if kept is not None else None


def prepare_dbt(project: str | Path, database: Database | TargetConfig | URL | str) -> None:
    """Import dbt and parse ``project`` ahead of its first run here (the pipeline does it while it loads).

    Never raises: what is wrong (no dbt, a project that does not parse) is the run's to say."""
    with contextlib.suppress(Exception):
        path = project_dir(project)
        url = _check_postgres(database)
        if not reuses_parse():
            return
        with _LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_psycopg2()
            _kept(path, url, None)


def _parse(
    project: Path,
    url: URL,
    vars: Mapping[str, Any] | None,
    key: Mapping[str, Any],
    inputs: ProjectInputs,
    state: Path,
    shared: bool,
    threads: int = 4,
) -> _Kept | None:
    """Parse ``project`` with the parse profile into ``state``: the shared parse folder (locked here, keyed),
    or the caller's state folder (its run holds the lock; the parse profile goes beside the run's).

    A manifest that holds a placeholder of the parse profile where a run cannot rename it (:func:`baked_in`)
    is not kept: the returned :class:`_Kept` says why, and the project is parsed per database."""
    from dbt.cli.main import dbtRunner

    parse_url = PARSE_URL.set(drivername=url.drivername)
    with contextlib.ExitStack() as stack:
        if shared:
            _private_dir(state_root())
            _private_dir(state)
            stack.enter_context(FileLock(state / ".lock"))
            (state / KEY_FILE).write_text(json.dumps(key, indent=1, default=str))
            (state / USED_FILE).touch()
        stack.enter_context(_environ({PASSWORD_ENV: PLACEHOLDER_PASSWORD}))  # no real password reaches a kept parse
        profiles = _write_profile(
            state, _project_name(project), parse_url, threads, "profiles" if shared else "parse-profile"
        )
        cli = _cli_args(("parse",), project, state, profiles, None, vars, False)
        result = dbtRunner().invoke([*cli, "--no-write-json"])
        make_private(state)
    if not result.success or result.result is None:
        return None
    manifest = result.result
    # every variable dbt read while parsing (the profile's password variable is ours, set per run)
    recorded = frozenset(getattr(manifest, "env_vars", None) or ()) - {PASSWORD_ENV}
    environment = inputs.environment(recorded | _dbt_names())
    where = baked_in(manifest)
    if where is not None:
        why = f"its parse wrote the connection into {where} (a run's copy cannot rename it there)"
        return _Kept(inputs, environment, recorded, None, why)
    return _Kept(inputs, environment, recorded, manifest)


def _dbt_command() -> list[str]:
    beside = Path(sys.executable).parent / "dbt"
    found = str(beside) if beside.exists() else shutil.which("dbt")
    return [found] if found else [sys.executable, "-c", "from dbt.cli.main import cli; cli()"]


def _in_subprocess(
    cli: list[str], password: str | None, progress: Progress | None = None
) -> tuple[list[DbtNode] | None, str | None]:
    """Run ``dbt`` in a child process: its nodes are read from run_results.json afterwards."""
    env = {**os.environ, **_environment(password)}
    level = cli.index("--log-level") + 1
    cli = [*cli[:level], "error", *cli[level + 1 :]]  # dbt's errors to stdout, for the message
    done = subprocess.run(
        [*_dbt_command(), *cli], env=env, capture_output=True, text=True, check=False, umask=0o077
    )
    if done.returncode == 2:  # dbt could not run (1 is failing nodes: they are in run_results.json)
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        return None, _one_line(" ".join(lines[-3:]) or f"dbt exited with status {done.returncode}")
    return None, None


def _read_results(path: Path) -> list[DbtNode]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        _node(
            item["unique_id"],
            item.get("status"),
            item.get("execution_time"),
            item.get("adapter_response"),
            item.get("message"),
            item.get("compiled_code"),
        )
        for item in data.get("results", [])
    ]


def failure_message(result: DbtResult) -> str:
    """One line naming each failing node and dbt's error for it."""
    failed = result.failed
    shown = "; ".join(f"{n.resource_type} {n.name} {n.status}: {n.message or 'no message'}" for n in failed[:5])
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    return f"dbt {result.command} on {result.database}: {len(failed)} node(s) failed: {shown}{more}"


def run_dbt(
    project: str | Path,
    database: Database | TargetConfig | URL | str,
    args: Sequence[str] = ("build",),
    *,
    select: str | Sequence[str] | None = None,
    vars: Mapping[str, Any] | None = None,
    subprocess: bool = False,
    log: bool = False,
    threads: int = 4,
    state_dir: str | Path | None = None,
    check: bool = True,
    progress: Progress | None = None,
    parse_dir: str | Path | None = None,
) -> DbtResult:
    """Run ``dbt <args>`` for ``project`` against ``database`` (a PostgreSQL database: a
    :class:`~framework.targets.runs.Database`, a URL, or a URL target).

    Raises :class:`DbtError` when dbt cannot run (a missing project, a model that does not
    compile, an unreachable database) and, with ``check`` (the default), when a node fails; the
    error's ``result`` holds the :class:`DbtResult`. ``state_dir`` is where the profile, target
    and logs go (default: a folder per project and manifest key under :func:`state_root`, of which
    the :data:`MAX_STATES` most recently used of each project are kept). State folders are private (0700, files 0600). ``progress``
    is called with each node as it finishes (in a child process: each node at the end).

    In process, the project's parse is kept for every database (:mod:`framework.dbt.parsing`); it is
    written to ``parse_dir`` when given, else to ``state_dir`` when given, else to the shared
    :func:`dbt_parse_dir` (warm for the next process).
    """
    project = project_dir(project)
    if isinstance(args, str):
        args = (args,)
    command = " ".join(args) or "build"
    url = _check_postgres(database)
    root = state_root() if state_dir is None else None
    state = Path(state_dir) if state_dir is not None else dbt_state_dir(project, url, root, threads)
    if root is not None:
        _private_dir(root)
    _private_dir(state)
    shown = safe_url(url)
    with FileLock(state / ".lock"):  # one dbt at a time per database folder, across processes too
        (state / KEY_FILE).write_text(json.dumps(manifest_key(project, url, threads), indent=1, default=str))
        (state / USED_FILE).touch()
        profiles = _write_profile(state, _project_name(project), url, threads)
        results_file = state / "target" / "run_results.json"
        results_file.unlink(missing_ok=True)
        cli = _cli_args(args, project, state, profiles, select, vars, log)
        started = time.perf_counter()
        if subprocess:
            nodes, problem = _in_subprocess(cli, _password(url), progress)
        else:
            kept = (args[0] if args else "build") in MANIFEST_COMMANDS and reuses_parse()
            given = Path(state_dir) if state_dir is not None else None
            parsed = Path(parse_dir) if parse_dir is not None else None
            manifest = (
                functools.partial(_kept_manifest, project, url, vars, given, parsed, threads) if kept else None
            )
            nodes, problem = _in_process(cli, _password(url), progress, manifest)
        seconds = time.perf_counter() - started
        found = nodes if nodes is not None else _read_results(results_file)
        result = DbtResult(command, shown, found, seconds, state / "target")
        if subprocess and progress is not None:
            for node in result.nodes:
                progress(node)
        make_private(state)
    if root is not None:
        prune_states(root)
    if problem is not None and not result.failed:
        raise DbtError(f"dbt {command} on {shown}: {_explain(problem, shown)}", result=result)
    if check and result.failed:
        failures = {n.unique_id: n.message or n.status for n in result.failed}
        raise DbtError(failure_message(result), failures, result)
    return result


def _explain(problem: str, shown: str) -> str:
    """dbt's message, with what to do when it is the database that did not answer."""
    lowered = problem.lower()
    if "could not connect" in lowered or "connection refused" in lowered or "could not translate host" in lowered:
        return f"cannot connect to {shown}: {problem}"
    return problem
