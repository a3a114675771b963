"""Errors raised by the deployment library.

Every error is a one-line message that says what was wrong and what to do next; none carries a
password. The CLI prints ``str(error)`` and exits non-zero; the pytest plugin turns them into
usage errors or test errors.

    DatakitError
    ├── DatakitNotFound          a path or name that does not lead to a datakit
    ├── DatakitImportError       a datakit module that fails to import
    ├── DatakitDefinitionError   no tables, a table without a primary key, a type the engine cannot hold
    ├── TargetError
    │   ├── UnknownTarget        a target name that is not registered
    │   ├── ProvisionerUnavailable  a missing extra, server binary or Docker engine
    │   ├── TargetUnreachable    a server that does not answer within the timeout
    │   └── AuthenticationFailed a wrong user or password
    ├── DeployError              DDL that the database refused
    ├── LoadError                a batch that did not load (the target is as it was before it)
    ├── DbtError                 a dbt project that is missing or broken, or a dbt run with failing nodes
    ├── PipelineError            a pipeline step that cannot run (no dbt project, a source without its tables, drift)
    ├── DagRunFailed             an Airflow DAG run (dag.test()) with a failed task: its id, error line, log tail
    └── StackError               the compose stack: no engine, a missing image, a service that is not healthy
"""

from __future__ import annotations


class DatakitError(Exception):
    """Base class of every error the library raises on purpose."""


class DatakitNotFound(DatakitError):
    """A path or name that does not lead to a datakit."""


class DatakitImportError(DatakitError):
    """A datakit module that fails to import."""

    def __init__(self, module: str, error: BaseException) -> None:
        self.module = module
        self.error = error
        detail = f"{type(error).__name__}: {error}".strip().splitlines()[0]
        super().__init__(f"datakit module {module!r} failed to import: {detail}")


class DatakitDefinitionError(DatakitError):
    """A datakit whose tables cannot be deployed as written."""


class TargetError(DatakitError):
    """A target that cannot be provisioned or reached."""

    def __init__(self, message: str, target: str | None = None) -> None:
        self.target = target
        super().__init__(message)


class UnknownTarget(TargetError):
    """A target name that is neither registered nor a SQLAlchemy URL."""


class ProvisionerUnavailable(TargetError):
    """A provisioner whose extra, binaries or engine are missing on this machine."""


class TargetUnreachable(TargetError):
    """A server that did not answer within the timeout."""


class AuthenticationFailed(TargetError):
    """A server that refused the user or password."""


class DeployError(DatakitError):
    """DDL that the database refused: ``target`` (password hidden) and the ``tables`` it was deploying."""

    def __init__(self, message: str, target: str | None = None, tables: list[str] | None = None) -> None:
        self.target = target
        self.tables = list(tables or [])
        super().__init__(message)


class LoadError(DatakitError):
    """A batch that did not load; the target table is as it was before the batch."""

    def __init__(
        self,
        message: str,
        table: str | None = None,
        batch_id: str | None = None,
        key: str | None = None,
        column: str | None = None,
    ) -> None:
        self.table = table
        self.batch_id = batch_id
        self.key = key
        self.column = column
        super().__init__(message)


class PipelineError(DatakitError):
    """A pipeline step that cannot run or whose output drifted; ``step`` names it."""

    def __init__(self, message: str, step: str | None = None) -> None:
        self.step = step
        super().__init__(message)


class DbtError(DatakitError):
    """A dbt project that cannot run, or a dbt invocation whose nodes failed (named, with dbt's error)."""

    def __init__(self, message: str, failures: dict[str, str] | None = None, result: object | None = None) -> None:
        self.failures = dict(failures or {})  # node unique id -> dbt's message
        self.result = result  # the DbtResult, when dbt ran
        super().__init__(message)


class DagRunFailed(DatakitError):
    """A DAG run with a failed task; ``result`` is the run's ``framework.airflow.dagtest.DagRunResult``."""

    def __init__(self, message: str, result: object | None = None) -> None:
        self.result = result
        super().__init__(message)


class StackError(DatakitError):
    """The local compose stack (``datakits stack``): no engine or image, a service that did not become healthy."""
