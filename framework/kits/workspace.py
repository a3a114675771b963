"""One process's databases in a run: per target, a database of its own with the datakits deployed.

Where the engine can clone (PostgreSQL, SQLite files), the datakits are deployed once per run
into a template database, under a file lock in the run's work folder, and each process's
database is a copy of it; MySQL cannot clone, so each process deploys into its own database;
SQLite in memory is private to a process, which deploys its own template. A run of one process
(``shared=False``) deploys straight into its database and makes the template only when a test
asks for a fresh database. Each database that gets the datakits first-hand (the template, or a
process's own database where there is none) is then handed to the ``prepare`` callables: the
plugin fills it there (``pytest_datakit_fill_template``) and builds dbt projects into it. Then,
per test (``Workspace.test_database``):

    rollback  the default: one transaction, rolled back at the end (framework.kits.isolation)
    commit    the test commits for real; the tables are emptied after it
    fresh     a database of the test's own, cloned from the template and dropped after it; with a
              ``fresh_label`` the same name each time (``dk_<run>_t<i>_<process>_<label>``),
              so that tools that cache per database name (dbt's partial parsing) stay warm

Database names (``<run>`` is the run id and its tag): ``dk_<run>_t<i>_tpl`` (the template of the
run's i-th target), ``dk_<run>_t<i>_<process>`` (a process's database),
``dk_<run>_t<i>_<process>_f<n>`` (fresh).

With a :class:`TemplateReuse` (the plugin's ``--datakit-reuse``), the run's template is kept after
the run under a name that hashes what went into it (``framework.targets.runs.kept_template_name``:
the datakits' DDL, and the caller's fingerprint of the rest: the files dbt reads, the fill hook's
modules and the files it reads), and a later run whose hash is the same clones that kept template instead of deploying,
filling and building: nobody ever connects to a kept template, every run copies it. A new one
replaces the older kept templates of the same scope. Servers that end with the run (a process or
container target) keep nothing; the embedded server keeps its data folder for it (its
``data_dir`` option).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from ..engines import Server, engine_kind
from ..engines.generic.dberrors import driver_message
from ..errors import DatakitError, DeployError, TargetError
from ..targets.named import TargetConfig
from ..targets.runs import Database, Run, kept_template_name, kept_templates
from ..targets.sharing import ServerSource, once_per_run, run_notes
from .deploy import DeployResult, deploy_data_objects
from .discovery import Datakit
from .isolation import committed, deploy_in_transaction, rolled_back

ISOLATIONS = ("rollback", "commit", "fresh")
#: called with each database that gets the datakits first-hand, after the deploy
Prepare: TypeAlias = Callable[[TargetConfig, Database], None]


@dataclass(frozen=True)
class TemplateReuse:
    """Keep each target's template after the run; clone a kept one whose inputs are unchanged.

    ``scope`` names whose templates they are (a project's folder): a new kept template replaces
    the older ones of its scope and target. ``fingerprint`` hashes what the workspace cannot see
    (the files dbt reads, the fill hook's modules and the files it reads). ``create``: build anew (and
    keep that) even when a kept template matches. ``why``: what changed since the last kept template,
    said when one is built (``models/logs/x.sql changed``).
    """

    scope: str
    fingerprint: str
    create: bool = False
    why: str = ""


def _ddl(datakits: Sequence[Datakit], server: Server) -> str:
    """The datakits' DDL as the server's engine runs it: a changed column makes another template."""
    url = server.admin_url or server.database_url("x")  # SQLite has no admin database
    dialect = url.get_dialect()()
    parts = []
    for kit in datakits:
        for table in kit.tables:
            parts.append(str(CreateTable(table).compile(dialect=dialect)))
            parts += sorted(str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes)  # a set
    return "\n".join(parts)


def template_notes(workdir: Path, targets: Sequence[TargetConfig]) -> dict[str, str]:
    """What the run did for each target's template (built, kept, cloned from a kept one), by target name."""
    notes = run_notes(workdir)
    return {t.name: notes[f"t{i}_tpl"] for i, t in enumerate(targets) if f"t{i}_tpl" in notes}


@dataclass
class ProvisionedTarget:
    """A target as this process sees it: its database there, with the datakits deployed."""

    name: str
    config: TargetConfig
    database: Database

    @property
    def engine(self) -> str:
        """The engine family: ``sqlite``, ``postgresql`` or ``mysql``."""
        return self.config.engine

    @property
    def url(self) -> str:
        """The URL of this process's database, password hidden."""
        return self.database.safe_url


@dataclass
class TestDatabase:
    """What one test gets: a connection to its database, and a way to deploy more there."""

    __test__ = False  # not a pytest test class, despite the name

    connection: Connection
    database: Database
    isolation: str
    _deploy: Callable[[Sequence[Datakit]], list[DeployResult]] = field(repr=False)

    def deploy(self, *datakits: Datakit) -> list[DeployResult]:
        """Deploy more datakits into the test's database (see ``Workspace.test_database``)."""
        return self._deploy(datakits)


@dataclass
class _Slot:
    index: int
    config: TargetConfig
    run: Run | None = None
    template: Database | None = None
    database: Database | None = None
    engine: Engine | None = None
    tables: list[Table] = field(default_factory=list)
    deployed: set[str] = field(default_factory=set)
    error: DatakitError | None = None
    fresh: int = 0


class Workspace:
    """This process's databases on the run's targets, made on first use and dropped at ``close``."""

    def __init__(
        self,
        source: ServerSource,
        targets: Sequence[TargetConfig],
        datakits: Sequence[Datakit] = (),
        *,
        worker: str = "main",
        schemas: Iterable[str | None] = (),
        shared: bool = True,
        prepare: Sequence[Prepare] = (),
        reuse: TemplateReuse | None = None,
    ) -> None:
        self.source = source
        self.prepare = list(prepare)
        self.reuse = reuse
        self.notes: dict[str, str] = {}  # target -> what was done for its template
        self.datakits = list(datakits)
        self.worker = worker
        self.shared = shared  # other processes copy the same template; alone, it is made on first need
        self._slots = {t.name: _Slot(i, t) for i, t in enumerate(targets)}
        self._schemas: set[str] = {s for kit in self.datakits for s in kit.schemas if s}
        self.expect_schemas(schemas)

    def expect_schemas(self, schemas: Iterable[str | None]) -> None:
        """Schemas that datakits deployed later will use (SQLite and MySQL map them per engine)."""
        self._schemas |= {s for s in schemas if s}

    # --- per target ------------------------------------------------------------------------------

    def target(self, name: str) -> ProvisionedTarget:
        slot = self._ready(name)
        assert slot.database is not None
        return ProvisionedTarget(name, slot.config, slot.database)

    def engine(self, name: str) -> Engine:
        """The engine of this process's database on ``name``, the datakits' schemas mapped."""
        slot = self._ready(name)
        assert slot.engine is not None
        return slot.engine

    def ensure(self, name: str, datakits: Sequence[Datakit]) -> list[DeployResult]:
        """Deploy more datakits into this process's database on ``name`` (committed, once each)."""
        slot = self._ready(name)
        assert slot.engine is not None and slot.database is not None
        results = []
        for kit in datakits:
            if kit.name in slot.deployed:
                existing = sorted(t.fullname for t in kit.tables)
                results.append(DeployResult(slot.database.safe_url, existing=existing))
                continue
            self._check_schemas(slot, kit)
            results.append(_deploy(kit, slot.engine))
            slot.deployed.add(kit.name)
            slot.tables.extend(kit.tables)
        return results

    def _ready(self, name: str) -> _Slot:
        slot = self._slots[name]
        if slot.engine is None and slot.error is None:
            try:
                self._provision(slot)
            except DatakitError as exc:
                slot.error = exc
            except SQLAlchemyError as exc:
                slot.error = TargetError(f"{name}: {driver_message(exc)}", name)
        if slot.error is not None:
            raise slot.error
        return slot

    def _provision(self, slot: _Slot) -> None:
        server = self.source.server(slot.config)
        slot.run = Run(server, self.source.run_id, reap=False, keep=self.source.keep, hold=False)
        slot.template = self._template(slot, server) if self.shared else None
        label = f"t{slot.index}_{self.worker}"
        server.drop_database(slot.run.database_name(label))  # left by a crashed worker of this run
        slot.database = slot.run.create_database(label, template=slot.template)
        if slot.template is None:
            self._deploy_all(slot.config, slot.database)
        slot.deployed = {kit.name for kit in self.datakits}
        slot.tables = [table for kit in self.datakits for table in kit.tables]
        slot.engine = slot.database.engine(self._schemas)

    def _template(self, slot: _Slot, server: Server) -> Database | None:
        """The deployed template to copy, or None where the engine cannot clone (MySQL)."""
        assert slot.run is not None
        label = f"t{slot.index}_tpl"
        if not engine_kind(slot.config.engine).can_clone:
            return None
        if slot.config.per_process:  # private to this process: deploy our own
            template = slot.run.create_database(label)
            self._deploy_all(slot.config, template)
            return template
        name = slot.run.database_name(label)
        kept, why_not = self._kept_name(slot, server)

        def deploy_template() -> str | None:
            server.drop_database(name)  # half made by a process killed while it deployed
            reusing = kept is not None and self.reuse is not None and not self.reuse.create
            if reusing and kept is not None and self._clone_kept(server, name, kept, self._scope(slot)):
                return f"cloned the kept template {kept} (no deploy, no fill, no dbt build)"
            template = Database(server.create_database(name), name=name)
            try:
                self._deploy_all(slot.config, template)
            except DatakitError:
                raise
            except Exception as exc:  # a prepare callable (user code) failed: tell every process
                message = f"{slot.config.name}: preparing the template failed: {type(exc).__name__}: {exc}"
                raise DeployError(message) from exc
            built = f"built ({self._steps()})"
            if kept is None:
                return f"{built}; not kept: {why_not}" if why_not else None
            rebuilt = f" (rebuilt: {self.reuse.why})" if self.reuse is not None and self.reuse.why else ""
            return f"{built} and kept as {self._keep(slot, server, name, kept)}{rebuilt}"

        note = once_per_run(self.source, label, deploy_template, slot.config.name)
        if note:
            self.notes[slot.config.name] = note
        return Database(server.database_url(name), name=name)

    def _steps(self) -> str:
        return ", ".join(["deploy", *(getattr(p, "step", "prepare") for p in self.prepare)])

    def _scope(self, slot: _Slot) -> str:
        assert self.reuse is not None
        return f"{self.reuse.scope}|{slot.config.name}"

    def _kept_name(self, slot: _Slot, server: Server) -> tuple[str | None, str | None]:
        """The kept template's name for what goes into this target's template (or why none is kept)."""
        if self.reuse is None:
            return None, None
        if not (slot.config.outlives_run or slot.config.options.get("data_dir")):
            return None, f"the {slot.config.provisioner} server of {slot.config.name} ends with the run"
        content = "|".join([slot.config.name, slot.config.engine, _ddl(self.datakits, server), self.reuse.fingerprint])
        return kept_template_name(self._scope(slot), content), None

    @staticmethod
    def _clone_kept(server: Server, name: str, kept: str, scope: str, tries: int = 3) -> bool:
        """Clone the kept template ``kept`` into ``name``; False when there is none to clone.

        A concurrent ``--datakit-create`` run drops the kept template it replaces: one listed a
        moment ago may be gone when the copy starts (PostgreSQL: "template database ... does not
        exist"). Then this run builds its own; should another have been kept meanwhile, it is cloned.
        """
        for attempt in range(tries):
            if kept not in kept_templates(server, scope):
                return False
            try:
                server.create_database(name, template=kept)
                return True
            except SQLAlchemyError:
                if attempt == tries - 1:
                    raise  # listed each time, and yet it cannot be copied: not a race
        return False

    def _keep(self, slot: _Slot, server: Server, template: str, kept: str) -> str:
        """Copy the run's template to ``kept``; drop the older kept templates of the scope nobody copies."""
        for old in kept_templates(server, self._scope(slot)):
            if not server.in_use([old]):
                server.drop_database(old)
        try:
            server.create_database(kept, template=template)
        except Exception:  # a concurrent run kept the same template first: theirs will do
            if kept not in kept_templates(server, self._scope(slot)):
                raise
        return kept

    def _deploy_all(self, config: TargetConfig, database: Database) -> None:
        """Deploy the run's datakits into ``database``, then hand it to each ``prepare`` callable."""
        for kit in self.datakits:
            _deploy(kit, database)
        for prepare in self.prepare:
            prepare(config, database)

    def _check_schemas(self, slot: _Slot, kit: Datakit) -> None:
        missing = sorted({s for s in kit.schemas if s} - self._schemas)
        if missing and engine_kind(slot.config.engine).maps_schemas_per_engine:
            raise DeployError(
                f"datakit {kit.name!r} uses schema {missing[0]!r}, unknown when {slot.config.name}'s engine was made; "
                "name the datakit with --datakit or in a datakit(datakits=[...]) marker"
            )

    # --- per test --------------------------------------------------------------------------------

    @contextmanager
    def test_database(
        self, name: str, isolation: str = "rollback", datakits: Sequence[Datakit] = (), fresh_label: str | None = None
    ) -> Iterator[TestDatabase]:
        """The database of one test, kept apart from every other test by ``isolation``.

        ``TestDatabase.deploy`` creates tables inside the test's transaction where that is
        possible (rollback isolation on PostgreSQL and SQLite: they go with the rollback);
        elsewhere it deploys into the test's database for the rest of the run, committed.
        """
        if isolation not in ISOLATIONS:
            raise ValueError(f"isolation {isolation!r} is not one of {', '.join(ISOLATIONS)}")
        if isolation == "fresh":
            with self._fresh(name, datakits, fresh_label) as test:
                yield test
            return
        self.ensure(name, datakits)
        slot = self._slots[name]
        assert slot.engine is not None and slot.database is not None
        opened = rolled_back if isolation == "rollback" else committed
        with opened(slot.engine, slot.tables) as connection:

            def deploy(kits: Sequence[Datakit]) -> list[DeployResult]:
                if isolation == "rollback" and engine_kind(slot.config.engine).transactional_ddl:
                    return [deploy_in_transaction(kit, connection) for kit in kits]
                return self.ensure(name, kits)

            yield TestDatabase(connection, slot.database, isolation, deploy)

    @contextmanager
    def _fresh(self, name: str, datakits: Sequence[Datakit], label: str | None = None) -> Iterator[TestDatabase]:
        slot = self._ready(name)
        assert slot.run is not None
        if slot.template is None:  # made on first need when this process is the run's only one
            slot.template = self._template(slot, slot.run.server)
        slot.fresh += 1
        if label:  # the same name each time: the last test's database goes first, if it was kept
            label = f"t{slot.index}_{self.worker}_{label}"
            slot.run.server.drop_database(slot.run.database_name(label))
        else:
            label = f"t{slot.index}_{self.worker}_f{slot.fresh}"
        database = slot.run.create_database(label, template=slot.template)
        engine: Engine | None = None
        try:
            if slot.template is None:
                self._deploy_all(slot.config, database)
            engine = database.engine(self._schemas)
            kits = list(datakits)
            for kit in kits:
                self._check_schemas(slot, kit)
                _deploy(kit, engine)
            with committed(engine) as connection:

                def deploy(more: Sequence[Datakit]) -> list[DeployResult]:
                    assert engine is not None
                    for kit in more:
                        self._check_schemas(slot, kit)
                    return [_deploy(kit, engine) for kit in more]

                yield TestDatabase(connection, database, "fresh", deploy)
        finally:
            if engine is not None:
                engine.dispose()
            if not self.source.keep:
                slot.run.drop(database)

    # --- the end ---------------------------------------------------------------------------------

    def databases(self) -> dict[str, Database]:
        """This process's database on each target it provisioned."""
        return {name: slot.database for name, slot in self._slots.items() if slot.database is not None}

    def errors(self) -> dict[str, str]:
        """The targets this process could not provision, with the reason."""
        return {name: str(slot.error) for name, slot in self._slots.items() if slot.error is not None}

    def close(self) -> None:
        """Dispose of the engines and drop this process's databases (unless the run keeps them)."""
        failures: list[Exception] = []
        for slot in self._slots.values():  # every target gets its turn, whatever the others do
            if slot.engine is not None:
                slot.engine.dispose()
                slot.engine = None
            run, slot.run = slot.run, None
            try:
                if run is not None:
                    run.close()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


def _deploy(kit: Datakit, target: Database | Engine) -> DeployResult:
    return deploy_data_objects(kit, target)
