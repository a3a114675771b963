"""``datakits init`` renders its template folder with copier; ``datakits init --update`` merges a newer one.

The slow test is the issue's: a project made with one version of the template, one of its tests
edited and committed by the user, then updated to a changed template (a version with one more test
file and a changed line): the edit stays, the change arrives, and the project's own ``pytest -n 2``
passes in a child process. The update reads the old version from the project's own
``.datakits/template.bundle``: no network, no repository of the toolkit.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from test_init import datakits, own_pytest

from framework.cli.template import ANSWERS, BUNDLE, TEMPLATE, toolkit_version, update

EDIT = "    # my own note, kept through updates\n"


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=me", "-c", "user.email=me@example.org", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def newer_template(tmp_path: Path) -> Path:
    """The template of a later version: one more test file, one changed line in an existing one."""
    template = tmp_path / "template-next"
    shutil.copytree(TEMPLATE, template)
    (template / "tests" / "test_added_later.py.jinja").write_text(
        '"""A test the template of a later version adds."""\n\n\ndef test_the_new_template_arrived() -> None:\n'
        '    assert "[[ name ]]" == "shop"\n'
    )
    readme = template / "README.md.jinja"
    readme.write_text(readme.read_text().replace("Run it:", "Run it (the template's later wording):"))
    return template


def made(tmp_path: Path) -> Path:
    done = datakits("init", "shop", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "shop"


def test_init_records_its_answers_and_the_templates_history(tmp_path: Path) -> None:
    project = made(tmp_path)
    answers = (project / ANSWERS).read_text()
    assert f"_commit: {toolkit_version()}" in answers and "name: shop" in answers and "flavour: example" in answers
    assert "_src_path: .datakits/template\n" in answers  # relative: the project can move
    assert (project / BUNDLE).is_file() and not (project / ".datakits" / "template").exists()
    assert git("status", "--porcelain", cwd=project) == ""  # one commit, everything in it
    tags = subprocess.run(["git", "bundle", "list-heads", BUNDLE], cwd=project, capture_output=True, text=True)
    assert f"refs/tags/{toolkit_version()}" in tags.stdout
    # dbt's own Jinja passes through copier's [[ ]] untouched
    assert (
        "{{ source('shop_bronze', 'customers') }}"
        in (project / "warehouse/models/marts/customer_orders.sql").read_text()
    )


def test_update_on_the_same_version_changes_nothing(tmp_path: Path) -> None:
    project = made(tmp_path)
    done = datakits("init", "--update", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"on the template of {toolkit_version()} already" in done.stdout
    assert git("status", "--porcelain", cwd=project) == ""


@pytest.mark.parametrize(
    ("setup", "says"),
    [("plain", "only a project written by datakits init 0.2 or later updates"), ("dirty", "dirty")],
)
def test_update_refuses_in_one_line(tmp_path: Path, setup: str, says: str) -> None:
    if setup == "plain":
        project = tmp_path
        (project / "mine.txt").write_text("keep")
    else:
        project = made(tmp_path)
        (project / "README.md").write_text("uncommitted")
    if setup == "dirty":  # copier merges only into a clean checkout; the toolkit's next version is needed
        with pytest.raises(Exception, match=says):
            update(project, newer_template(tmp_path), "99.0.0")
        assert (project / "README.md").read_text() == "uncommitted"
        return
    done = datakits("init", "--update", cwd=project)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr


@pytest.mark.slow
def test_update_keeps_the_users_edit_and_brings_the_templates_change(tmp_path: Path) -> None:
    started = time.perf_counter()
    project = made(tmp_path)
    source_test = project / "tests" / "test_source.py"
    lines = source_test.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("def test_bronze_holds_batch_b1"))
    lines.insert(at + 1, EDIT)
    source_test.write_text("".join(lines))
    git("commit", "-qam", "my edit", cwd=project)

    old, new = update(project, newer_template(tmp_path), "99.0.0")
    assert (old, new) == (toolkit_version(), "99.0.0")
    assert EDIT in source_test.read_text()  # the user's edit stays
    assert (project / "tests" / "test_added_later.py").read_text().endswith('assert "shop" == "shop"\n')
    assert "Run it (the template's later wording):" in (project / "README.md").read_text()
    assert "_commit: 99.0.0" in (project / ANSWERS).read_text()
    assert "<<<<<<<" not in source_test.read_text()
    heads = subprocess.run(["git", "bundle", "list-heads", BUNDLE], cwd=project, capture_output=True, text=True)
    assert f"refs/tags/{toolkit_version()}" in heads.stdout and "refs/tags/99.0.0" in heads.stdout
    own_pytest(project, 7, started, "datakits init, an edit, --update")  # 6 of the template's + the new one
