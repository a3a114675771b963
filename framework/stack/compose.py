"""The compose stack as a thing to start, wait for and remove: ``compose/docker-compose.yml`` under a project name.

Two executors: the LocalExecutor (the default: every task a process beside the scheduler) or the CeleryExecutor
(compose profile ``celery``: a Redis broker and ``workers`` interchangeable ``airflow celery worker`` containers).

Runs whichever compose the machine has (``docker compose``, v2, else Debian's ``docker-compose`` 1.29;
``DATAKITS_COMPOSE`` chooses). Passwords live in an env file that is written once, at first use, and never
printed. Everything the stack makes carries the label ``datakits.stack`` and compose's project label, so the
stack's containers, networks and volumes can be counted and, after a killed run, removed: never anything else.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import secrets
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import StackError
from ..pipeline.declared import Pipeline, find_pyproject, pipelines_from_pyproject
from .project import LOGS, compose_name, make_state, stack_project


def _root() -> Path:
    """The folder holding ``compose/`` (beside ``dags/`` and ``dbt/``, which the stack mounts): the repository's
    in a checkout, else the copy an installed wheel carries as package data (``datakits/_platform``)."""
    repository = Path(__file__).resolve().parents[2]
    if (repository / "compose" / "docker-compose.yml").is_file():
        return repository
    spec = importlib.util.find_spec("datakits")
    packaged = Path(spec.origin).parent / "_platform" if spec is not None and spec.origin else repository
    return packaged if (packaged / "compose" / "docker-compose.yml").is_file() else repository


ROOT = _root()
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
LABEL = "datakits.stack"  # on every container, network and volume of the stack (see the compose file)
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
IMAGES = ("datakits/postgres:15", "datakits/mariadb:10.11", "datakits/airflow:3.3")
CELERY_IMAGES = ("datakits/redis:7",)
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}  # --executor NAME: Airflow's class
CELERY_PROFILE = "celery"  # the compose profile of the services only the CeleryExecutor needs
CELERY_SERVICES = ("redis", "airflow-worker")
WORKER = "airflow-worker"
DEFAULT_WORKERS = 2
BUILD = "build them with `datakits stack build` (nothing is pulled)"
ONE_SHOT = ("airflow-init",)  # services that run to completion instead of staying up
PORTS = {
    "DATAKITS_STACK_POSTGRES_PORT": 15432,
    "DATAKITS_STACK_MARIADB_PORT": 13306,
    "DATAKITS_STACK_AIRFLOW_PORT": 18080,
    "DATAKITS_STACK_REDIS_PORT": 16379,
}
SECRETS = (
    "POSTGRES_PASSWORD",
    "MARIADB_ROOT_PASSWORD",
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "REDIS_PASSWORD",  # the Celery broker's
    "AIRFLOW_API_SECRET_KEY",  # the API server's own (sessions), apart from the JWT secret
)
#: what `datakits stack config` shows as ``***``: the passwords and keys of the env file
MASKED = (*SECRETS, "AIRFLOW_FERNET_KEY")


def compose_command() -> list[str]:
    """``docker compose`` when the v2 plugin answers, else ``docker-compose``; ``DATAKITS_COMPOSE`` overrides."""
    chosen = os.environ.get("DATAKITS_COMPOSE")
    if chosen:
        return shlex.split(chosen)
    docker = shutil.which("docker")
    if docker and _ok([docker, "compose", "version"]):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    raise StackError("no compose found: install Docker's compose plugin or Debian's docker-compose (apt)")


def engine_reason() -> str | None:
    """None when a Docker engine answers the ``docker`` client, else why not."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker client on PATH"
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return "docker info did not answer in 20 s"
    if done.returncode != 0:
        return " ".join((done.stderr or done.stdout).split())[:200] or f"docker info exited {done.returncode}"
    return None


def write_env(path: Path, ports: dict[str, int] | None = None) -> bool:
    """Write the stack's env file (random passwords, the ports) unless it exists; True when written.

    A file written before a password was added to the stack (``REDIS_PASSWORD``) gets the missing ones appended."""
    if path.exists():
        missing = [name for name in SECRETS if name not in read_env(path)]
        if missing:
            with path.open("a") as file:
                file.write("".join(f"{name}={secrets.token_hex(16)}\n" for name in missing))
        return bool(missing)
    values = {name: secrets.token_hex(16) for name in SECRETS}
    values["AIRFLOW_FERNET_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    values.update({name: str(port) for name, port in {**PORTS, **(ports or {})}.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# written by `datakits stack up` at first use; git-ignored; keep it private\n"
    text += "".join(f"{name}={value}\n" for name, value in values.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    return True


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


@dataclass
class Service:
    """One container of the stack, as ``docker inspect`` tells it."""

    name: str
    state: str  # running, exited, ...
    health: str  # healthy, starting, unhealthy, or "" without a health check
    exit_code: int
    container: str = ""  # the container's id
    hostname: str = ""  # the container's host name: what Airflow records as a task instance's hostname

    @property
    def ready(self) -> bool:
        if self.name in ONE_SHOT:
            return self.state == "exited" and self.exit_code == 0
        return self.state == "running" and self.health in ("healthy", "")

    @property
    def failed(self) -> bool:
        if self.name in ONE_SHOT:
            return self.state == "exited" and self.exit_code != 0
        return self.health == "unhealthy" or self.state in ("exited", "dead")

    def describe(self) -> str:
        if self.name in ONE_SHOT and self.state == "exited":
            return f"{self.name}: exited {self.exit_code}"
        name = f"{self.name} {self.hostname}" if self.name == WORKER else self.name
        return f"{name}: {self.state}" + (f" ({self.health})" if self.health else "")


@dataclass
class Stack:
    """The stack of ``compose_file`` under compose project ``project``, its passwords in ``env_file``.

    Left out, ``project`` and ``env_file`` are the working folder's project's (:func:`.project.stack_project`:
    ``datakits-<folder>-<hash>`` and ``<project>/.datakits/stack/.env``); Airflow's task logs go to ``logs``
    beside the env file. ``executor`` (``local`` or ``celery``) and ``workers`` (Celery workers; default 2) are
    what ``up`` starts."""

    project: str = field(default_factory=lambda: stack_project().name)
    env_file: Path = field(default_factory=lambda: stack_project().env_file)
    home: Path | None = field(default_factory=lambda: stack_project().folder)  # whose pipelines run; None: Pagila's
    compose_file: Path = COMPOSE_FILE
    ports: dict[str, int] = field(default_factory=dict)  # written into a new env file
    executor: str = "local"
    workers: int | None = None

    def __post_init__(self) -> None:
        self.env_file = Path(self.env_file)
        if self.executor not in EXECUTORS:
            raise StackError(f"--executor must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        if self.executor == "local" and self.workers is not None:
            raise StackError("--workers needs --executor celery: the LocalExecutor runs the tasks beside the scheduler")
        if self.executor == "celery":
            self.workers = DEFAULT_WORKERS if self.workers is None else self.workers
            if self.workers < 1:
                raise StackError(f"--workers must be at least 1, not {self.workers}")

    # -- compose -------------------------------------------------------------------------------
    def compose(
        self,
        *args: str,
        timeout: float = 900,
        check: bool = True,
        celery: bool = True,
        env_file: Path | None = None,
        connections: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run compose on this stack; a failure is a StackError with compose's last lines.

        ``celery``: with the services of the ``celery`` profile (every command sees them; ``up`` only under Celery)."""
        command = [*compose_command(), "-p", self.project, "--env-file", str(env_file or self.env_file)]
        command += ["-f", str(self.compose_file), *args]
        environ = {**os.environ, "DOCKER_BUILDKIT": "0", "DATAKITS_STACK_EXECUTOR": EXECUTORS[self.executor]}
        environ["DATAKITS_STACK_LOGS"] = str(self.logs_dir)
        environ.update(self.project_environment())
        environ["DATAKITS_STACK_CONNECTIONS"] = str(connections or self.connections_file())
        environ.setdefault("AIRFLOW_UID", str(os.getuid()))  # Airflow's convention: the task logs are the user's
        for name in MASKED:  # the env file's, never the shell's
            environ.pop(name, None)
        environ.pop("COMPOSE_PROFILES", None)
        if celery:
            environ["COMPOSE_PROFILES"] = CELERY_PROFILE
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environ)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"compose {' '.join(args)} did not finish in {timeout:.0f} s") from exc
        if check and done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
            raise StackError(f"compose {' '.join(args)} failed (exit {done.returncode}): {tail}")
        return done

    def pipelines(self) -> dict[str, Pipeline]:
        """The pipelines ``home`` declares in its own ``pyproject.toml`` (none: the stack runs Pagila's DAG)."""
        pyproject = find_pyproject(self.home) if self.home is not None else None
        if pyproject is None or pyproject.parent != self.home:
            return {}
        return pipelines_from_pyproject(pyproject)

    def project_environment(self) -> dict[str, str]:
        """What compose gets for a project with pipelines: its image, its DAG folder in it, its databases."""
        pipelines = self.pipelines()
        if not pipelines or self.home is None:
            return {}
        folders = [Path(p.dags) for p in pipelines.values() if p.dags] or [self.home / "dags"]
        dags = PurePosixPath("/opt/project", *folders[0].relative_to(self.home).parts)
        return {
            "DATAKITS_STACK_AIRFLOW_IMAGE": f"datakits-project/{compose_name(self.home)}:latest",  # the folder's
            "DATAKITS_STACK_DAGS_FOLDER": str(dags),
            "DATAKITS_STACK_DATABASES": " ".join(f"{name}_source {name}_warehouse" for name in pipelines),
        }

    def connections_file(self, password: str | None = None, path: Path | None = None) -> Path:
        """The project's pipelines' connections for the Airflow containers (``AIRFLOW_CONN_<NAME>_SOURCE`` and
        ``_WAREHOUSE``: databases ``<name>_source`` and ``<name>_warehouse`` of the stack's PostgreSQL), in an
        env file beside the stack's (0600); empty without a project."""
        if password is None and self.env_file.exists():
            password = read_env(self.env_file).get("POSTGRES_PASSWORD")
        lines = ["# written by datakits stack: the connections of the project's pipelines\n"]
        address = os.environ.get("DATAKITS_STACK_POSTGRES_ADDR") or "postgres:5432"
        for name in self.pipelines():
            for role in ("source", "warehouse"):
                url = f"postgresql://datakits:{password or ''}@{address}/{name}_{role}"
                lines.append(f"AIRFLOW_CONN_{name.upper()}_{role.upper()}={url}\n")
        path = path or self.env_file.parent / "connections.env"
        if path.parent.is_dir():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write("".join(lines))
        return path

    @property
    def logs_dir(self) -> Path:
        """Airflow's task logs (mounted into the Airflow containers): ``logs/`` beside the env file."""
        return self.env_file.parent / LOGS

    def make_state(self) -> None:
        """The env file's folder (0700) and the logs folder; a project's ``.datakits/`` ignores itself in git."""
        make_state(self.env_file.parent)

    def config(self) -> str:
        """The compose configuration ``up`` would start (``compose config``), every password and key as ``***``.

        Starts nothing and writes nothing: compose reads an env file of the stack's values with the secrets
        replaced (a stack not up yet shows the default ports)."""
        values = read_env(self.env_file) if self.env_file.exists() else {}
        values.update({name: str(port) for name, port in {**PORTS, **self.ports}.items() if name not in values})
        values.update({name: "***" for name in MASKED})
        with tempfile.TemporaryDirectory(prefix="datakits-config-") as folder:
            masked = Path(folder) / ".env"
            masked.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
            scale = ["--scale", f"{WORKER}={self.workers}"] if self.executor == "celery" else []
            connections = self.connections_file("***", Path(folder) / "connections.env")
            done = self.compose(
                "config", env_file=masked, celery=self.executor == "celery", timeout=120, connections=connections
            )
        head = f"# compose project {self.project}; env file {self.env_file}; task logs in {self.logs_dir}\n"
        if scale:
            head += f"# {WORKER}: {self.workers} replicas (up --scale {WORKER}={self.workers})\n"
        return head + done.stdout

    def env(self) -> dict[str, str]:
        if not self.env_file.exists():
            raise StackError(f"{self.env_file} does not exist: run `datakits stack up` first")
        return read_env(self.env_file)

    def port(self, name: str) -> int:
        """The host port (on 127.0.0.1) of postgres, mariadb or airflow."""
        key = f"DATAKITS_STACK_{name.upper()}_PORT"
        return int(self.env().get(key, PORTS[key]))

    def check_ready_to_start(self) -> None:
        reason = engine_reason()
        if reason is not None:
            raise StackError(
                f"the stack needs a Docker engine and none answers ({reason}); start one (see docs/stack.md)"
            )
        images = IMAGES + (CELERY_IMAGES if self.executor == "celery" else ())
        own = self.project_environment().get("DATAKITS_STACK_AIRFLOW_IMAGE")
        images += (own,) if own else ()
        missing = [image for image in images if not _ok(["docker", "image", "inspect", image])]
        if missing:
            raise StackError(
                f"the stack needs the image(s) {', '.join(missing)}, which the engine does not have: {BUILD}"
            )

    def up(self, timeout: float = 900) -> float:
        """Start the stack (env file written at first use) and wait until every service is healthy; seconds."""
        self.check_ready_to_start()
        self.make_state()
        write_env(self.env_file, self.ports)
        started = time.monotonic()
        celery = self.executor == "celery"
        if not celery and any(service.name in CELERY_SERVICES for service in self.services()):
            # the stack ran on Celery before: its broker and workers go (up leaves services of other profiles be)
            self.compose("rm", "--stop", "--force", "-v", *CELERY_SERVICES, timeout=timeout)
        scale = ["--scale", f"{WORKER}={self.workers}"] if celery else []
        done = self.compose("up", "-d", "--no-build", *scale, timeout=timeout, check=False, celery=celery)
        if done.returncode != 0 and not self.resources()["containers"]:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
            raise StackError(f"compose up failed (exit {done.returncode}): {tail}")
        # a service that failed (airflow-init exiting non-zero, say) is told by wait_healthy, with its log
        self.wait_healthy(timeout=max(timeout - (time.monotonic() - started), 30))
        return time.monotonic() - started

    def down(self, volumes: bool = False, timeout: float = 300) -> None:
        """Stop and remove the stack's containers and network; with ``volumes``, its data too."""
        self.compose("down", "--remove-orphans", *(["-v"] if volumes else []), timeout=timeout)

    # -- state ---------------------------------------------------------------------------------
    def services(self) -> list[Service]:
        ids = self.resources()["containers"]
        if not ids:
            return []
        done = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, timeout=60)
        found = []
        for item in json.loads(done.stdout or "[]"):
            state = item["State"]
            found.append(
                Service(
                    name=item["Config"]["Labels"].get(SERVICE_LABEL, item["Name"].lstrip("/")),
                    state=state["Status"],
                    health=(state.get("Health") or {}).get("Status", ""),
                    exit_code=int(state.get("ExitCode", 0)),
                    container=item["Id"],
                    hostname=item["Config"].get("Hostname", ""),
                )
            )
        return sorted(found, key=lambda service: (service.name, service.hostname))

    def workers_running(self) -> list[Service]:
        """The Celery workers' containers that run (none under the LocalExecutor)."""
        return [service for service in self.services() if service.name == WORKER and service.state == "running"]

    def wait_healthy(self, timeout: float = 600, poll: float = 1.0) -> list[Service]:
        """Wait until every service is healthy (one-shot ones exited 0); a failed one stops the wait."""
        deadline = time.monotonic() + timeout
        services: list[Service] = []
        while time.monotonic() < deadline:
            services = self.services()
            failed = [service for service in services if service.failed]
            if failed:
                raise StackError(f"{failed[0].describe()}; its last lines: {self.logs(failed[0].name)}")
            if services and all(service.ready for service in services):
                return services
            time.sleep(poll)
        waiting = ", ".join(service.describe() for service in services if not service.ready) or "no container"
        raise StackError(f"the stack was not healthy after {timeout:.0f} s: {waiting}")

    def logs(self, service: str, lines: int = 5) -> str:
        done = self.compose("logs", "--no-color", "--tail", str(lines), service, check=False, timeout=60)
        return " | ".join(line.split("|", 1)[-1].strip() for line in done.stdout.strip().splitlines()[-lines:])

    def resources(self) -> dict[str, list[str]]:
        """The ids/names of the stack's containers (running or not), networks and volumes, by label."""
        filters = ["--filter", f"label={PROJECT_LABEL}={self.project}", "--filter", f"label={LABEL}"]
        found = {}
        for kind, command in (
            ("containers", ["docker", "ps", "-a", "-q", "--no-trunc", *filters]),
            ("networks", ["docker", "network", "ls", "-q", *filters]),
            ("volumes", ["docker", "volume", "ls", "-q", *filters]),
        ):
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise StackError(f"{' '.join(command[:3])} failed: {done.stderr.strip()[:200]}")
            found[kind] = done.stdout.split()
        return found

    def remove_leftovers(self, settle: float = 30) -> dict[str, list[str]]:
        """Remove what a killed run left of this project (only what carries both labels); what was removed.

        Works without the env file (compose itself would refuse without the passwords). Requests the
        killed compose had already sent may still create things for a moment: removes until nothing is
        left twice in a row, for at most ``settle`` seconds."""
        removed: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}
        deadline = time.monotonic() + settle
        quiet = 0
        while quiet < 2 and time.monotonic() < deadline:
            left = self.resources()
            if not any(left.values()):
                quiet += 1
                time.sleep(1)
                continue
            quiet = 0
            for kind, command in (
                ("containers", ["docker", "rm", "-f", "-v"]),
                ("networks", ["docker", "network", "rm"]),
                ("volumes", ["docker", "volume", "rm", "-f"]),
            ):
                if left[kind]:
                    subprocess.run([*command, *left[kind]], capture_output=True, text=True, timeout=300)
                    removed[kind] += [item for item in left[kind] if item not in removed[kind]]
        return removed


def _ok(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
