"""``datakits stack build``: every image the stack needs, from the recipes the package carries, and the project's.

    build_images(project)   # datakits/postgres:15, mariadb:10.11, redis:7, airflow:3.3, then the project's image

The recipes are package data (``compose/images/<name>/``, shipped in the wheel as ``datakits/_platform``),
built ``FROM datakits/debian:bookworm``, the base that ``.ci/docker-images`` makes with debootstrap (root
and Debian's tools: a machine's setup, not the package's). Each image carries the label
``datakits.context``: a hash of everything its build reads (its recipe, the base image's id, the toolkit's
wheel, the project's files); an image whose label matches is not built again, so a second ``build`` with
nothing changed takes seconds.

The Airflow image installs the toolkit from a wheel made here, never from a checkout's folder: from the
installed distribution's own files (a wheel again), or, for an editable install, ``pip wheel`` of its
source. The project's image is ``FROM datakits/airflow:3.3`` with the project's files in ``/opt/project``
and its dependencies installed (its ``[project] dependencies`` but the toolkit, which the base holds).

A build that runs pip gets this machine's extra CA certificates (``/usr/local/share/ca-certificates``, a
TLS proxy's) and its pip index settings (``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, ``PIP_TRUSTED_HOST``,
``PIP_DEFAULT_TIMEOUT`` from the environment or pip's own configuration) as build arguments, read from the
machine when it builds: no host is named in the recipes.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import StackError
from .compose import COMPOSE_FILE
from .project import StackProject, compose_name

__all__ = ["BASE", "IMAGE_LABEL", "build_images", "pip_settings", "project_image", "toolkit_wheel"]

DISTRIBUTION = "pytest-datakits"
BASE = "datakits/debian:bookworm"
AIRFLOW = "datakits/airflow:3.3"
SERVERS = {"datakits/postgres:15": "postgres", "datakits/mariadb:10.11": "mariadb", "datakits/redis:7": "redis"}
IMAGE_LABEL = "datakits.context"
#: the toolkit's extras the Airflow image installs
EXTRAS = ("postgres", "mysql", "factories", "airflow", "celery", "dbt")
PIP_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT")
CA_FOLDER = Path("/usr/local/share/ca-certificates")
#: what a project's image leaves out of the project's folder
SKIPPED = {".git", ".venv", "venv", ".datakits", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "target"}
Progress = Callable[[str], None]


def recipes() -> Path:
    return COMPOSE_FILE.parent / "images"


def project_image(project: StackProject) -> str:
    """The tag of a project's Airflow image: ``datakits-project/<its folder's compose project name>``."""
    return f"datakits-project/{compose_name(project.folder)}:latest"


# -- what a build reads ----------------------------------------------------------------------------


def _hash_tree(folder: Path, extra: Iterable[str] = ()) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    for item in extra:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()[:16]


def pip_settings() -> dict[str, str]:
    """This machine's pip index settings that a build can use (URLs over the network, not local folders)."""
    found: dict[str, str] = {}
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listed = ""
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        name = "PIP_" + key.split(".", 1)[-1].replace("-", "_").upper()
        if name in PIP_SETTINGS:
            found[name] = value.strip().strip("'\"")
    found.update({name: os.environ[name] for name in PIP_SETTINGS if os.environ.get(name)})
    return {
        name: value
        for name, value in found.items()
        if name in ("PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT") or value.split("://")[0] in ("http", "https")
    }


def _stage_certificates(stage: Path) -> None:
    (stage / "ca-certificates").mkdir(exist_ok=True)
    for certificate in CA_FOLDER.rglob("*.crt") if CA_FOLDER.is_dir() else []:
        shutil.copy(certificate, stage / "ca-certificates" / certificate.name)


def _requirements() -> list[str]:
    """The toolkit's dependencies and those of the stack's extras, from its installed metadata."""
    from packaging.requirements import Requirement

    wanted: list[str] = []
    todo, seen = list(EXTRAS), set()
    required = [Requirement(text) for text in importlib.metadata.requires(DISTRIBUTION) or []]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for requirement in required:
            if requirement.marker is None or not requirement.marker.evaluate({"extra": extra}):
                continue
            if requirement.name == DISTRIBUTION:
                todo.extend(requirement.extras)
                continue
            line = requirement.name + (f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else "")
            wanted.append(line + str(requirement.specifier))
    base = [str(r).split(";")[0] for r in required if r.marker is None]
    return list(dict.fromkeys(base + wanted))


def toolkit_wheel(dest: Path) -> Path:
    """A wheel of the installed toolkit in ``dest``: ``pip wheel`` of an editable install's source, else the
    installed distribution's own files zipped as a wheel again."""
    dist = importlib.metadata.distribution(DISTRIBUTION)
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    metadata = Path(str(getattr(dist, "_path", "")))  # a source tree's egg-info, when that is what is imported
    dest.mkdir(parents=True, exist_ok=True)
    if direct.get("dir_info", {}).get("editable") or metadata.suffix == ".egg-info":
        source = unquote(urlparse(direct["url"]).path) if direct.get("url") else str(metadata.parent)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), source],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise StackError(f"pip wheel of {source} failed: {' '.join(done.stderr.split())[-300:]}")
        return next(dest.glob("*.whl"))
    return _rewheel(dist, dest)


def _rewheel(dist: importlib.metadata.Distribution, dest: Path) -> Path:
    """The files an installed wheel put into site-packages, as a wheel (its RECORD made again)."""
    name = re.sub(r"[-_.]+", "_", DISTRIBUTION)
    wheel = dest / f"{name}-{dist.version}-py3-none-any.whl"
    info = f"{name}-{dist.version}.dist-info"
    skipped = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    records = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in dist.files or []:
            relative = str(file)
            if relative.startswith("..") or "__pycache__" in relative or Path(relative).name in skipped:
                continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            archive.writestr(relative, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{relative},sha256={digest},{len(data)}")
        records.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return wheel


def _project_files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED and not d.endswith(".egg-info"))
        found += [Path(root, f) for f in sorted(files) if not f.endswith((".pyc", ".env"))]
    return found


def _project_requirements(folder: Path) -> list[str]:
    import tomllib

    data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = data.get("project", {}).get("dependencies", [])
    return [r for r in wanted if not re.match(rf"{re.escape(DISTRIBUTION)}\b", r.strip(), re.IGNORECASE)]


# -- docker build ----------------------------------------------------------------------------------


def _label(tag: str) -> str | None:
    done = subprocess.run(
        ["docker", "image", "inspect", "-f", '{{index .Config.Labels "' + IMAGE_LABEL + '"}}', tag],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _image_id(tag: str) -> str:
    done = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", tag], capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"no image {tag}: make it first (sudo bash .ci/docker-images makes {BASE} with debootstrap)")
    return done.stdout.strip()


def _build(tag: str, context: Path, want: str, progress: Progress, args: dict[str, str] | None = None) -> bool:
    """``docker build`` of ``context`` as ``tag`` unless its label says ``want`` already; True when built."""
    if _label(tag) == want:
        progress(f"{tag}: up to date")
        return False
    started = time.monotonic()
    command = ["docker", "build", "--network=host", "--label", f"{IMAGE_LABEL}={want}", "-t", tag]
    for name, value in (args or {}).items():
        command += ["--build-arg", f"{name}={value}"]
    environ = {**os.environ, "DOCKER_BUILDKIT": "0"}
    with subprocess.Popen(
        [*command, str(context)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ
    ) as child:
        tail: list[str] = []
        for line in child.stdout or []:
            tail = [*tail[-7:], line.rstrip()]
            if line.startswith("Step "):  # docker's own steps: a long build shows where it is
                progress(f"{tag}: {line.split(':', 1)[0].lower()} ({time.monotonic() - started:.0f} s)")
    if child.returncode != 0:
        raise StackError(f"docker build {tag} failed (exit {child.returncode}): {' | '.join(tail[-4:])}")
    progress(f"{tag}: built in {time.monotonic() - started:.1f} s")
    return True


def build_images(project: StackProject | None = None, progress: Progress = print) -> list[str]:
    """Build every image the stack needs (and ``project``'s when it declares pipelines); the tags built."""
    base = _image_id(BASE)
    built = []
    for tag, name in SERVERS.items():
        recipe = recipes() / name
        if _build(tag, recipe, _hash_tree(recipe, [base]), progress):
            built.append(tag)
    pip = pip_settings()
    with tempfile.TemporaryDirectory(prefix="datakits-airflow-") as airflow:
        stage = Path(airflow)
        shutil.copytree(recipes() / "airflow", stage, dirs_exist_ok=True)
        (stage / "requirements.txt").write_text("\n".join(_requirements()) + "\n")
        _stage_certificates(stage)
        progress(f"{AIRFLOW}: the toolkit's wheel")
        toolkit_wheel(stage / "wheel")
        if _build(AIRFLOW, stage, _hash_tree(stage, [base]), progress, pip):
            built.append(AIRFLOW)
    if project is not None:
        with tempfile.TemporaryDirectory(prefix="datakits-project-") as folder:
            stage = Path(folder)
            _stage_project(project.folder, stage)
            want = _hash_tree(stage, [_image_id(AIRFLOW)])
            if _build(project_image(project), stage, want, progress, pip):
                built.append(project_image(project))
    return built


PROJECT_DOCKERFILE = """# the project's Airflow image (datakits stack build): rebuilt when the project's files change
FROM datakits/airflow:3.3
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_DEFAULT_TIMEOUT
USER root
COPY requirements.txt /tmp/project-requirements.txt
RUN if [ -s /tmp/project-requirements.txt ]; then pip install -q -r /tmp/project-requirements.txt; fi \\
 && rm /tmp/project-requirements.txt
COPY project/ /opt/project/
RUN chmod -R g+rX /opt/project
USER airflow
"""


def _stage_project(folder: Path, stage: Path) -> None:
    stage.mkdir(parents=True, exist_ok=True)
    (stage / "Dockerfile").write_text(PROJECT_DOCKERFILE)
    (stage / "requirements.txt").write_text("".join(f"{r}\n" for r in _project_requirements(folder)))
    for path in _project_files(folder):
        target = stage / "project" / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
