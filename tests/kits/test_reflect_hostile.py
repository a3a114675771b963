"""``datakits reflect`` writes names as data: hostile names in every position run nothing, on every engine.

A name reaches the generated kit as a class (a table, an enum), an attribute (a column), an enum
member, a docstring (the database's name), a comment and a default. Each position gets a name
built to escape it (a class header, a triple-quoted string, a quoted string with a backslash);
each payload would create a file in the working folder if it ran. The kit must import, create no
file, keep the real names, and validate clean against the database it came from. Also the
ordinary schemas that used to give kits that did not import: a text DOMAIN, a column whose name
starts with a digit, an enum whose name is not an identifier; and MySQL names SQLAlchemy cannot
read (a line break) are left out and named, never written half.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.pool import NullPool

from framework import Database, deploy_data_objects, load_datakit, validate_deployment
from framework.cli.main import main

#: a class header that runs code (needs a line break: PostgreSQL and SQLite names)
CLASS_NL = 'a:\n x="""#\nopen(\n"p","w")\nif 1:#'
#: a class header that runs code on one line (MySQL too)
CLASS_1 = 'a(object):pass;open("c","w");class B'
#: out of a triple-quoted docstring
DOC = 'x"""+open("q","w").name+"""'
#: out of a quoted string, through a backslash
QUOTE = "r'+open('r','w').name+'\\"
PAYLOAD_FILES = {"p", "c", "q", "r"}


def datakits(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _literal(value: str, backslashes: bool) -> str:
    if backslashes:
        value = value.replace("\\", "\\\\")
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def hostile_database(servers, target_name: str, tmp_path: Path) -> Iterator[str]:
    """A database whose very name is hostile (it reaches the kit's docstrings), dropped after."""
    suffix = secrets.token_hex(3)
    if target_name == "sqlite_file":
        yield URL.create("sqlite", database=str(tmp_path / f"{DOC}{suffix}.db")).render_as_string()
        return
    server = servers.get(target_name)[0]
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"{DOC}{suffix}"
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    try:
        yield server.admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
        admin.dispose()


def hostile_schema(url: str, engine_name: str) -> set[str]:
    """Tables, columns, an enum, comments, defaults, indexes and keys named to escape; their table names."""
    engine = create_engine(url, poolclass=NullPool)
    q = engine.dialect.identifier_preparer.quote
    mysql = engine_name == "mysql"

    def lit(value: str) -> str:
        return _literal(value, backslashes=mysql)

    first = CLASS_1 if mysql else CLASS_NL
    values = [DOC, "name", "1", "a b", "a-b", QUOTE, CLASS_1]
    enum_type = {
        "postgresql": q(first + "e"),
        "mysql": f"ENUM({', '.join(lit(v) for v in values)})",
        "sqlite": "VARCHAR(64)",
    }[engine_name]
    comment = f" COMMENT {lit(QUOTE)}" if mysql else ""
    statements = []
    if engine_name == "postgresql":
        statements.append(f"CREATE TYPE {enum_type} AS ENUM ({', '.join(lit(v) for v in values)})")
    statements += [
        f"CREATE TABLE {q(first)} ({q(first + 'k')} INTEGER NOT NULL PRIMARY KEY, "
        f"{q(DOC)} {enum_type} DEFAULT {lit(DOC)}{comment}, "
        f'"1st" VARCHAR(64) DEFAULT {lit(QUOTE)}, "_id" INTEGER, "class" INTEGER, "metadata" INTEGER, '
        f'"datetime" DATE, {q(QUOTE)} VARCHAR(64) DEFAULT {lit(first)}, '
        f'CONSTRAINT {q(DOC + "u")} UNIQUE ("1st", "_id"))'
        + (f" COMMENT {lit(DOC + chr(10) + first)}" if mysql else ""),
        f'CREATE INDEX {q(first + "i")} ON {q(first)} ("class", "metadata")',
        f"CREATE TABLE {q(DOC)} (id INTEGER NOT NULL PRIMARY KEY, r INTEGER, "
        f"CONSTRAINT {q('f' + first)} FOREIGN KEY (r) REFERENCES {q(first)} ({q(first + 'k')}))",
        f"CREATE TABLE {q(CLASS_1 + 'x')} ({q(QUOTE)} INTEGER NOT NULL PRIMARY KEY)",
    ]
    if engine_name == "postgresql":
        statements += [
            f"COMMENT ON TABLE {q(first)} IS {lit(DOC + chr(10) + QUOTE)}",
            f"COMMENT ON COLUMN {q(first)}.{q(DOC)} IS {lit(CLASS_NL)}",
        ]
    with engine.begin() as conn:
        if mysql:
            conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
        for statement in statements:
            conn.exec_driver_sql(statement.replace("%", "%%") if engine_name != "sqlite" else statement)
    engine.dispose()
    return {first, DOC, CLASS_1 + "x"}


@pytest.mark.parametrize(
    ("target_name", "engine_name"),
    [("postgres_local", "postgresql"), ("mysql_local", "mysql"), ("sqlite_file", "sqlite")],
)
def test_hostile_names_in_every_position_run_nothing(
    servers,
    target_name: str,
    engine_name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # each payload opens a file here, by a relative name
    kit = tmp_path / f"hostile_{engine_name}"
    with hostile_database(servers, target_name, tmp_path) as url:
        tables = hostile_schema(url, engine_name)
        status, out, err = datakits(capsys, "reflect", url, "--out", str(kit))
        assert status == 0, err
        assert "reflected 3 tables" in out, out
        assert not PAYLOAD_FILES & {p.name for p in cwd.iterdir()}
        loaded = load_datakit(kit)  # imports the kit: nothing of the database's runs
        assert not PAYLOAD_FILES & {p.name for p in cwd.iterdir()}
        assert {t.name for t in loaded.tables} == tables  # the real names, kept as data
        assert all(cls.__name__.isascii() and cls.__name__.isidentifier() for cls in loaded.classes)
        status, checked, err = datakits(capsys, "validate", str(kit), "--target", url)
        assert status == 0 and "no drift" in checked, checked + err
        assert not PAYLOAD_FILES & {p.name for p in cwd.iterdir()}
    # the real names are what deploys: a fresh database gets the very same tables
    if engine_name == "postgresql":
        run = servers.get(target_name)[1]
        fresh = run.create_database(f"hostile{secrets.token_hex(2)}")
        try:
            assert deploy_data_objects(loaded, fresh).success
            assert validate_deployment(loaded, fresh).success
        finally:
            run.drop(fresh)


@pytest.mark.parametrize("target_name", ["postgres_local"])
def test_ordinary_postgres_schemas_give_kits_that_import(
    database: Database, servers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a text DOMAIN (sqlacodegen passed its collation by position: TypeError), a column named
    # 2nd (pydantic takes _2nd for a private attribute), enums named my-enum and 1st kind
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(text("CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 10)"))
        conn.execute(text("CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CHECK (VALUE > 0)"))
        conn.execute(text("""CREATE TYPE "my-enum" AS ENUM ('a', 'b c')"""))
        conn.execute(text("""CREATE TYPE "1st kind" AS ENUM ('x')"""))
        conn.execute(
            text(
                """CREATE TABLE t (id integer PRIMARY KEY, s short_text, p positive, e "my-enum",
                k "1st kind", "2nd" integer NOT NULL, "_x" text)"""
            )
        )
    engine.dispose()
    url = database.url.render_as_string(hide_password=False)
    kit = tmp_path / "ordinary_pg"
    status, _, err = datakits(capsys, "reflect", url, "--out", str(kit))
    assert status == 0, err
    status, checked, err = datakits(capsys, "validate", str(kit), "--target", url)
    assert status == 0 and "no drift" in checked, checked + err
    loaded = load_datakit(kit)
    [table] = loaded.tables
    assert [c.name for c in table.columns] == ["id", "s", "p", "e", "k", "2nd", "_x"]
    run = servers.get("postgres_local")[1]
    fresh = run.create_database(f"ordinary{secrets.token_hex(2)}")
    try:  # the domains and enums are created where the kit deploys
        assert deploy_data_objects(loaded, fresh).success
        assert validate_deployment(loaded, fresh).success
    finally:
        run.drop(fresh)


@pytest.mark.parametrize("target_name", ["mysql_local"])
def test_a_mysql_name_with_a_line_break_is_left_out_and_named(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLAlchemy reads SHOW CREATE TABLE line by line: the column was dropped with only a warning
    engine = database.engine()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE kept (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE broken (id INTEGER PRIMARY KEY, `a\nb` INTEGER)")
        conn.exec_driver_sql("CREATE TABLE `x\ny` (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE refers (id INTEGER PRIMARY KEY, r INTEGER, FOREIGN KEY (r) REFERENCES `x\ny` (id))"
        )
    engine.dispose()
    url = database.url.render_as_string(hide_password=False)
    status, out, err = datakits(capsys, "reflect", url, "--out", str(tmp_path / "mysql_nl"))
    assert status == 0, err
    assert "reflected 1 tables" in out
    assert "left out broken: the column name 'a\\nb' has a line break" in out
    assert "left out 'x\\ny': the table name 'x\\ny' has a line break" in out
    assert "left out refers: the referred table name 'x\\ny' has a line break" in out  # its key would be lost
    assert [t.name for t in load_datakit(tmp_path / "mysql_nl").tables] == ["kept"]


def test_sqlite_hostile_file_name_is_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / f"{DOC}.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE item (item_id INTEGER PRIMARY KEY)")
    status, _, err = datakits(capsys, "reflect", f"sqlite:///{db}", "--out", str(tmp_path / "named"))
    assert status == 0, err
    source = (tmp_path / "named" / "models.py").read_text()
    assert source.startswith(repr(f"Reflected from sqlite:///{db} by datakits reflect (sqlacodegen)."))
