"""``datakits pipeline`` as users run it: the whole pipeline to the summary, and one line for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from framework import Database

SECRET = "pw-not-in-any-output-1414"


def pipeline(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "framework.cli", "pipeline", "pagila", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_summary(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.strip()}
    assert rows["fact_rental"] == ["16,044"]
    assert rows["rental"] == ["16,044", "16,044"]  # bronze, silver
    assert rows["dim_customer"] == ["599"]
    for step in ("deploy", "load", "dbt_silver", "dbt_gold", "validate"):
        assert step in rows
    assert "pipeline pagila done in" in done.stdout
    for table in ("rental", "payment", "customer"):
        assert any(line.startswith("load") and f" {table} " in line for line in done.stderr.splitlines())
    # a long dbt step shows its progress per node, as the loader does per table
    nodes = [line.split() for line in done.stderr.splitlines() if line.startswith("  ")]
    assert ["model", "fact_rental", "success"] in [node[:3] for node in nodes], done.stderr


def test_a_generated_source_to_gold_on_postgres_embedded() -> None:
    assert_summary(pipeline("--source", "generate", "--target", "postgres_embedded"))


def test_the_real_pagila_to_gold_on_postgres_local(pagila_database: Database) -> None:
    source = pagila_database.url.set(password=SECRET).render_as_string(hide_password=False)
    done = pipeline("--source", source, "--target", "postgres_local", "--batch-id", "cli-1", "--workers", "2")
    assert_summary(done)
    assert SECRET not in done.stdout + done.stderr
    assert "batch cli-1" in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--source", "pagila.example", "--target", "postgres_local"], "is neither a database URL"),
        (["--source", "generate:lots", "--target", "postgres_local"], "the scale must be a number above 0"),
        (["--source", f"postgresql://u:{SECRET}@127.0.0.1/x", "--target", "nowhere"], "unknown target 'nowhere'"),
        (["--source", "generate", "--target", "sqlite_memory"], "dbt steps run on PostgreSQL"),
        (["--source", "generate", "--target", "postgres_local", "--project", "/no/such/dbt"], "no dbt project"),
        (
            ["--source", f"postgresql://postgres:{SECRET}@127.0.0.1:5432/dk_no_such_db", "--target", "postgres_local"],
            'database "dk_no_such_db" does not exist',
        ),
    ],
    ids=["bad-source-url", "bad-scale", "unknown-target", "not-postgres", "no-dbt-project", "source-not-there"],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    done = pipeline(*args, timeout=120)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("datakits: ")]
    assert len(errors) == 1 and expected in errors[0], done.stderr


def test_keep_prints_every_kept_database() -> None:
    """`--keep` with a generated source keeps the source database too, and says where both are."""
    import sqlalchemy as sa

    done = pipeline("--source", "generate:0.02", "--target", "postgres_local", "--keep")
    assert done.returncode == 0, done.stderr
    kept = [
        line.split(": ", 1)[1].split(" (password hidden)")[0]
        for line in done.stdout.splitlines()
        if line.startswith(("kept:", "kept source:"))
    ]
    assert len(kept) == 2, done.stdout
    server = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            for url in kept:
                name = sa.make_url(url).database
                assert conn.scalar(sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}) == 1
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        server.dispose()
