"""dbt's state folders: Jinja in generated YAML never runs (the password stays out of dbt's files),
the folders are private, keyed by what the manifest depends on, and bounded.
"""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from framework import Database, load_datakit, run_dbt
from framework.cli.main import main
from framework.dbt.runner import MAX_STATES, STATE_ROOT_ENV, dbt_state_dir, manifest_key

PASSWORD = "Pw-s3cret-9182"
JINJA = "{{ env_var('DATAKITS_DBT_PASSWORD') }}"

KIT = f'''
"""Notes: {JINJA} in the datakit's own words."""
from sqlalchemy import Column, Integer
from sqlmodel import Field, SQLModel


class JinjaNotes(SQLModel, table=True):
    """A note whose docstring says {JINJA}."""

    __tablename__ = "jinja_notes"
    id: int = Field(primary_key=True, description="{JINJA}")
    odd: int | None = Field(default=None, sa_column=Column("{JINJA}", Integer))
'''

PROJECT = {
    "dbt_project.yml": """
        name: inert
        version: "1.0.0"
        config-version: 2
        profile: inert
        flags:
          send_anonymous_usage_stats: false
    """,
    "models/jinja_notes.sql": """
        select 1 as id, 2 as "{{ '{{' }} env_var('DATAKITS_DBT_PASSWORD') {{ '}}' }}"
    """,
}


def _project(folder: Path) -> Path:
    for name, body in PROJECT.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    return folder


@pytest.fixture
def with_password(servers) -> Database:
    """A database on the local server, reached by a URL that carries a password (the server trusts)."""
    _, run = servers.get("postgres_local")
    database = run.create_database("dbt_inert")
    yield Database(database.url.set(password=PASSWORD), name=database.name)
    run.drop(database)


def test_jinja_in_names_and_descriptions_never_reaches_dbts_files(tmp_path: Path, with_password: Database) -> None:
    kit = tmp_path / "kits" / "jinja_notes_kit"
    kit.mkdir(parents=True)
    (kit / "__init__.py").write_text(KIT)
    project = _project(tmp_path / "inert")
    assert main(["dbt", "sources", str(kit), "--project", str(project)]) == 0
    assert main(["dbt", "contracts", str(kit), "--project", str(project)]) == 0
    assert JINJA in load_datakit(str(kit)).tables[0].columns.keys()
    for state, subprocess in ((tmp_path / "child", True), (tmp_path / "here", False)):
        result = run_dbt(project, with_password, ("build",), state_dir=state, subprocess=subprocess)
        assert result.counts()["model"] == {"success": 1}
        written = sorted(p.name for p in (state / "target").iterdir())
        assert "partial_parse.msgpack" in written
        if subprocess:
            assert {"manifest.json", "graph_summary.json"} <= set(written)
        for path in state.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), path
    manifest = (tmp_path / "child" / "target" / "manifest.json").read_text()
    assert JINJA.replace("'", "\\u0027") in manifest or JINJA in manifest  # kept as text, not run


def test_state_folders_are_private(tmp_path: Path, with_password: Database) -> None:
    project = _project(tmp_path / "inert")
    state = tmp_path / "state"
    run_dbt(project, with_password, ("parse",), state_dir=state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    found = list(state.rglob("*"))
    assert any(p.name == "partial_parse.msgpack" for p in found)
    for path in found:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_state_folders_are_keyed_by_what_the_manifest_depends_on(tmp_path: Path) -> None:
    project = _project(tmp_path / "inert")
    url = make_url("postgresql+psycopg2://postgres@127.0.0.1:5432/one")
    same = dbt_state_dir(project, url.set(password="another"), tmp_path)
    assert dbt_state_dir(project, url, tmp_path) == same  # the password is no part of it
    for other in (url.set(database="two"), url.set(port=5433), url.set(username="someone")):
        assert dbt_state_dir(project, other, tmp_path) != same
    assert dbt_state_dir(project, url, tmp_path, threads=1) != same
    assert set(manifest_key(project, url)) >= {"project", "dbt", "adapter", "host", "port", "user", "database"}


def test_after_20_runs_a_bounded_number_of_state_folders_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run on a fresh database used to leave a folder behind; the least recently used go now."""
    monkeypatch.setenv(STATE_ROOT_ENV, str(tmp_path / "states"))
    project = _project(tmp_path / "inert")
    for i in range(20):  # dbt parse never connects: 20 databases by name
        run_dbt(project, f"postgresql+psycopg2://postgres@127.0.0.1:5432/fresh_{i}", ("parse",))
    left = sorted(p.name.split("-")[0] for p in (tmp_path / "states").glob("*/*"))
    assert len(left) == MAX_STATES
    assert left == sorted(f"fresh_{i}" for i in range(20 - MAX_STATES, 20))  # the most recent ones
    assert stat.S_IMODE((tmp_path / "states").stat().st_mode) == 0o700


def test_another_projects_runs_never_evict_a_projects_state_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folders are kept per project (issue 31): more databases of one project than are kept leave another's
    alone, and
    the folders of a project that is gone go."""
    monkeypatch.setenv(STATE_ROOT_ENV, str(tmp_path / "states"))
    mine, other, gone = (_project(tmp_path / name / "inert") for name in ("mine", "other", "gone"))
    url = "postgresql+psycopg2://postgres@127.0.0.1:5432/{}"
    run_dbt(mine, url.format("mine_db"), ("parse",))
    run_dbt(gone, url.format("gone_db"), ("parse",))
    kept = dbt_state_dir(mine, make_url(url.format("mine_db")), tmp_path / "states")
    (gone / "dbt_project.yml").unlink()
    for i in range(MAX_STATES + 2):
        run_dbt(other, url.format(f"other_{i}"), ("parse",))
    assert (kept / "key.json").exists()  # the project's own, though more than are kept were used after it
    left = [p for p in (tmp_path / "states").glob("*/*") if p.is_dir()]
    assert sum(1 for p in left if p.parent.name.startswith("inert-") and p.name.startswith("other_")) == MAX_STATES
    assert not any(p.name.startswith("gone_db") for p in left)
