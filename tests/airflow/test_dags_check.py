"""``datakits dags check``: the repository's DAGs parse without error and without touching a database;
files that break, define no DAG, or connect at parse time are each named with the reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def dags_check(*args: str, cwd: Path = REPOSITORY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", "dags", "check", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_every_repository_dag_parses_cleanly() -> None:
    done = dags_check()
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if "pagila_pipeline.py" in line)
    assert line.startswith("ok ") and line.endswith("pagila_pipeline")
    print(f"parse time, measured here (the goal is under 2 s a file): {line}")  # a figure, not an assertion
    assert done.stdout.splitlines()[-1] == "1 DAG file(s), 0 failed"


def test_files_that_break_connect_or_define_nothing_fail_the_check(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import no_such_module_here\n")
    (tmp_path / "empty.py").write_text("VALUE = 1\n")
    (tmp_path / "_helpers.py").write_text("raise RuntimeError('never imported: a helper module')\n")
    (tmp_path / "touchy.py").write_text(
        "import sqlalchemy\n"
        "from airflow.sdk import dag, task\n"
        "sqlalchemy.create_engine('postgresql+psycopg2://postgres@127.0.0.1:5432/postgres').connect()\n"
        "@dag(schedule=None)\n"
        "def touchy():\n"
        "    task(lambda: 1, task_id='one')()\n"
        "touchy()\n"
    )
    done = dags_check(str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = {Path(line.split()[1]).name: line for line in done.stdout.splitlines() if line.startswith("FAILED")}
    assert set(lines) == {"broken.py", "empty.py", "touchy.py"}
    assert lines["broken.py"].endswith("ModuleNotFoundError: No module named 'no_such_module_here'")
    assert lines["empty.py"].endswith("defines no DAG")
    assert "touched a database at parse time (Engine.connect)" in lines["touchy.py"]


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    done = dags_check(str(tmp_path / "nowhere"))
    assert done.returncode == 2
    expected = f"datakits: no DAG folder {tmp_path / 'nowhere'}; give the folder that holds the DAG files"
    assert done.stderr.strip() == expected
