"""A password is never printed, and reaches dbt wherever the URL holds it.

- An unencoded ``@`` in a password (``user:p@ss@host``) is the password's: the URL is read as
  :func:`urllib.parse.urlsplit` reads it (the user part ends at the last ``@``), so a driver's message
  about the host ("could not translate host name ...") shows no part of the password.
- A ``?password=`` URL: dbt's profile gets the password from the query string too (it used to fail with
  ``fe_sendauth: no password supplied`` on a server that asks for one).

The local PostgreSQL trusts 127.0.0.1, so it does not check a password: to prove the password reaches
dbt, a model selects ``adapter.config.credentials.password`` (dbt's own parsed profile) into a table of a
database owned by a role of its own with that password, and the test reads it back; the role's login is
real (``current_user``).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from framework import run_dbt
from framework.engines.generic.urls import to_url

MODEL = "select current_user::text as who, '{{ adapter.config.credentials.password }}'::text as password\n"


@pytest.fixture
def role(servers: Any) -> Iterator[tuple[str, str, str]]:
    """A login role with a password holding an ``@``, and a database it owns: (role, password, database)."""
    server, _ = servers.get("postgres_local")
    tag = secrets.token_hex(4)
    name, password, database = f"dk_guard_{tag}", f"Zq7@Wx9-{tag}", f"dk_guard_{tag}_db"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
        conn.execute(text(f"CREATE DATABASE {database} OWNER {name}"))
    try:
        yield name, password, database
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "secrets_project"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: secrets_project\nversion: '1.0'\nprofile: secrets_project\n")
    (root / "models" / "who.sql").write_text("{{ config(materialized='table') }}\n" + MODEL)
    return root


def _read_back(url: str) -> tuple[str, str]:
    engine = create_engine(to_url(url.replace("postgresql://", "postgresql+psycopg2://")))
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT who, password FROM public.who")).one()
            return str(row[0]), str(row[1])
    finally:
        engine.dispose()


@pytest.mark.parametrize("where", ["query", "unencoded-at"])
@pytest.mark.parametrize("subprocess_", [False, True], ids=["in-process", "subprocess"])
def test_dbt_gets_the_password_wherever_the_url_holds_it(
    role: tuple[str, str, str], project: Path, where: str, subprocess_: bool
) -> None:
    name, password, database = role
    if where == "query":
        url = f"postgresql://{name}@127.0.0.1:5432/{database}?password={quote(password, safe='')}"
    else:
        url = f"postgresql://{name}:{password}@127.0.0.1:5432/{database}"  # the @ not encoded
    result = run_dbt(project, url, ("build",), subprocess=subprocess_)
    assert [n.status for n in result.nodes] == ["success"]
    assert password not in repr(result) and password not in result.database
    assert _read_back(url) == (name, password)


def test_an_unencoded_at_in_a_password_prints_no_part_of_it() -> None:
    password = "sec@ret-Zq7"
    url = f"postgresql://someone:{password}@no-such-host.invalid:5432/db"
    done = subprocess.run(
        [sys.executable, "-m", "framework.cli", "deploy", "pagila_bronze", "--target", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    output = done.stdout + done.stderr
    for part in ("sec", "ret-Zq7", password):
        assert part not in output, output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datakits: ") and "no-such-host.invalid" in lines[0], output


def test_the_url_is_read_as_urlsplit_reads_it() -> None:
    from urllib.parse import urlsplit

    for text_ in (
        "postgresql://u:p@ss@127.0.0.1:5432/db",
        "postgresql://u:a@b@c@[::1]:5433/db?sslmode=disable",
        "mysql+pymysql://root:x@y@127.0.0.1:3306/test",
    ):
        parsed, reference = to_url(text_), urlsplit(text_)
        assert (parsed.username, parsed.password, parsed.host, parsed.port) == (
            reference.username,
            reference.password,
            reference.hostname,
            reference.port,
        )
