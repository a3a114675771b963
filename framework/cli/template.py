"""The project template ``datakits init`` renders with copier, and ``datakits init --update``.

The template is a folder of real files shipped in the wheel (:data:`TEMPLATE`: ``templates/project``,
its ``copier.yml`` says how it is read). copier's update needs the version a project was made with,
as a git tag of the template; a wheel has only its own version. So each project keeps its template's
history: ``init`` lays the folder into a git repository, ``.datakits/template`` (git-ignored), tags it
with the toolkit's version, renders from there (``.copier-answers.yml`` records the answers, that path
and the tag) and keeps the repository in the project as one file, ``.datakits/template.bundle`` (a git
bundle). ``--update`` unpacks the bundle there again, adds the installed toolkit's template as a new
tagged commit, lets copier merge the difference between the two versions into the project three ways
(the user's edits stay), and writes the grown bundle back. No network, no template repository
anywhere else: the project carries what its updates need.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import DatakitError

__all__ = ["ANSWERS", "BUNDLE", "TEMPLATE", "WORKING", "git_commit_all", "render", "toolkit_version", "update"]

#: the template folder in the package
TEMPLATE = Path(__file__).resolve().parent / "templates" / "project"
#: in a project: the template's history (a git bundle) and copier's record of the answers
BUNDLE = ".datakits/template.bundle"
#: where the bundle is unpacked while copier reads it (git-ignored by the template's .gitignore)
WORKING = ".datakits/template"
ANSWERS = ".copier-answers.yml"
#: who commits in the template's own repository (never the user's)
_IDENTITY = ("-c", "user.name=datakits", "-c", "user.email=datakits@localhost", "-c", "commit.gpgsign=false")


def toolkit_version() -> str:
    """The installed toolkit's version: the tag its template gets."""
    try:
        return version("pytest-datakits")
    except PackageNotFoundError:
        return "0.0.0"


def _git(*args: str, cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise DatakitError("git is not installed: datakits init keeps its template's history with git") from None
    if done.returncode != 0:
        raise DatakitError(f"git {args[0]} failed in {cwd}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def _commit_template(repo: Path, template: Path, tag: str) -> None:
    """Make ``repo``'s tree the ``template`` folder, commit it and tag it ``tag`` (nothing new: no commit)."""
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(template, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "--allow-empty", "-m", f"pytest-datakits {tag}'s project template", cwd=repo)
    _git("tag", tag, cwd=repo)


@contextlib.contextmanager
def _quiet_copier() -> Any:
    """copier, imported when used; its warnings (a template's own notes) are not the user's business here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import copier

        yield copier


def render(
    root: Path,
    answers: dict[str, str],
    template: Path = TEMPLATE,
    tag: str | None = None,
    written: list[Path] | None = None,
) -> list[Path]:
    """Render ``template`` into ``root`` (new or empty) with ``answers``; the files it wrote.

    The template goes into a git repository of its own, ``root/.datakits/template`` (git-ignored),
    tagged ``tag`` (the toolkit's version); copier renders from there into a temporary folder, and each
    file is then moved into ``root``, noted in ``written`` first (so a failure half-way can take away
    exactly what was written). The repository is kept as ``root/.datakits/template.bundle`` (one file,
    committed with the project); ``.copier-answers.yml`` names the repository's path and the tag.
    """
    tag = tag or toolkit_version()
    written = [] if written is None else written
    repo = root / WORKING
    repo.mkdir(parents=True)
    try:
        _git("init", "-q", cwd=repo)
        _commit_template(repo, template, tag)
        with tempfile.TemporaryDirectory(prefix="datakits-init-") as tmp:
            out = Path(tmp) / "project"
            with _quiet_copier() as copier, contextlib.chdir(root):  # the template's path in the answers is relative
                copier.run_copy(WORKING, str(out), data=answers, vcs_ref=tag, defaults=True, quiet=True)
            for made in sorted(p for p in out.rglob("*") if p.is_file()):
                target = root / made.relative_to(out)
                written.append(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(made, target)
        written.append(root / BUNDLE)
        _git("bundle", "create", "-q", str(root / BUNDLE), "--all", cwd=repo)
    finally:
        shutil.rmtree(repo, ignore_errors=True)
    return written


def git_commit_all(root: Path, message: str) -> bool:
    """Make ``root`` a git repository with everything in one commit (copier updates only a clean checkout).

    Inside another repository (a monorepo), nothing is done: the user commits. False when git is missing.
    """
    if shutil.which("git") is None:
        return False
    inside = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    if inside.returncode == 0:
        return True
    _git("init", "-q", cwd=root)
    _git("add", "-A", cwd=root)
    known = subprocess.run(["git", "config", "user.email"], cwd=root, capture_output=True, text=True).stdout.strip()
    identity = [] if known else list(_IDENTITY)
    done = subprocess.run(["git", *identity, "commit", "-q", "-m", message], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise DatakitError(f"git commit failed in {root}: {done.stderr.strip()}")
    return True


def update(root: Path, template: Path = TEMPLATE, tag: str | None = None) -> tuple[str, str]:
    """Bring the project at ``root`` to ``template`` (tagged ``tag``): (the old version, the new one).

    The template's history comes back from the project's bundle into ``.datakits/template``, the new
    template is committed there with its tag, and copier merges the change between the project's
    version and this one into the project, three ways: the user's edits stay; where both changed a
    line, inline conflict markers. The project must be a clean git checkout (commit first), as copier
    asks. The bundle is written back with the new version in it.
    """
    tag = tag or toolkit_version()
    answers, bundle, repo = root / ANSWERS, root / BUNDLE, root / WORKING
    if not answers.is_file() or not bundle.is_file():
        raise DatakitError(
            f"{root} has no {ANSWERS} and {BUNDLE}: only a project written by datakits init 0.2 or later updates"
        )
    recorded = [
        line.split(":", 1)[1].strip() for line in answers.read_text().splitlines() if line.startswith("_commit:")
    ]
    old = recorded[0] if recorded else ""
    if old == tag:
        return old, tag
    shutil.rmtree(repo, ignore_errors=True)
    try:
        _git("clone", "-q", bundle.name, repo.name, cwd=bundle.parent)
        if _git("tag", "--list", tag, cwd=repo).strip():
            raise DatakitError(f"{BUNDLE} already has a template {tag}, and the project is on {old}: nothing done")
        _commit_template(repo, template, tag)
        with _quiet_copier() as copier, contextlib.chdir(root):
            try:
                copier.run_update(".", vcs_ref=tag, defaults=True, overwrite=True, quiet=True, conflict="inline")
            except copier.errors.UserMessageError as exc:
                raise DatakitError(f"cannot update {root}: {exc}") from None
        _git("bundle", "create", "-q", str(bundle), "--all", cwd=repo)
    finally:
        shutil.rmtree(repo, ignore_errors=True)
    return old, tag
